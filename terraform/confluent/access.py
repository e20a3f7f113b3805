"""Who may do what on Confluent: four service accounts and their least-privilege role bindings.

``manager`` is Terraform's data-plane identity (topics, schemas, subject rules, Tableflow), ``flink`` the
principal the statements run as, ``exporter`` the weekly export's reader of the Tableflow table,
``verifier`` the pull requests' ``salesflow sql verify`` (dry runs and EXPLAIN of the statements, which
plan but never run: it reads the pipeline's tables and writes nothing). terraform/README.md lists every
binding and why.
"""

from __future__ import annotations

from constructs import Construct

from salesflow.config import Environment
from terraform.confluent.platform import ConfluentPlatform
from terraform.confluent_provider import RoleBinding, ServiceAccount
from terraform.stacks.common import resource_prefix

# Flink statements use these prefixes for their transactional ids and consumer groups.
FLINK_INTERNAL_PREFIX = "_confluent-flink_*"


class Access(Construct):
    def __init__(self, scope: Construct, id_: str, environment: Environment, platform: ConfluentPlatform):
        super().__init__(scope, id_)
        prefix = resource_prefix(environment)
        self.manager = ServiceAccount(
            self,
            "manager",
            display_name=f"{prefix}-manager",
            description="salesflow Terraform: topics, schemas, subject rules and Tableflow",
        )
        self.flink = ServiceAccount(
            self,
            "flink",
            display_name=f"{prefix}-flink",
            description="salesflow Flink statements: reads the raw topic, writes the clean topic",
        )
        self.exporter = ServiceAccount(
            self,
            "exporter",
            display_name=f"{prefix}-exporter",
            description="salesflow weekly exporter: reads the clean topic's Tableflow table only",
        )
        self.verifier = ServiceAccount(
            self,
            "verifier",
            display_name=f"{prefix}-verifier",
            description="salesflow sql verify: dry runs of the statements before merge; reads, never writes",
        )
        topics = environment.confluent.topics
        self.manager_bindings = self._manager_bindings(environment, platform)
        self.flink_bindings = self._flink_bindings(topics.raw.name, topics.clean.name, platform)
        self.exporter_bindings = [
            # Tableflow's data-plane read (the Iceberg REST catalog) follows DeveloperRead on the topic.
            self._bind(
                "exporter_read_clean_topic",
                self.exporter,
                "DeveloperRead",
                platform.topic_crn(topics.clean.name),
            ),
        ]

        self.verifier_bindings = self._verifier_bindings(topics.raw.name, topics.clean.name, platform)

    def _bind(self, id_: str, account: ServiceAccount, role: str, crn: str) -> RoleBinding:
        return RoleBinding(self, id_, principal=account.principal, role_name=role, crn_pattern=crn)

    def _manager_bindings(self, environment: Environment, platform: ConfluentPlatform) -> list[RoleBinding]:
        topics = environment.confluent.topics
        bindings = [
            # Topics of the cluster and Tableflow on them (CloudClusterAdmin enables Tableflow).
            self._bind("manager_cluster_admin", self.manager, "CloudClusterAdmin", platform.cluster.rbac_crn),
            # Register schemas and set compatibility on the two subjects this repo owns.
            self._bind(
                "manager_raw_subject_owner",
                self.manager,
                "ResourceOwner",
                platform.subject_crn(f"{topics.raw.name}-value"),
            ),
            self._bind(
                "manager_clean_subject_owner",
                self.manager,
                "ResourceOwner",
                platform.subject_crn(f"{topics.clean.name}-value"),
            ),
        ]
        byob = environment.confluent.tableflow.byob
        if byob is not None:
            # Tableflow writes your bucket through this provider integration.
            integration = (
                f"{platform.environment.resource_name}/provider-integration={byob.provider_integration_id}"
            )
            bindings.append(
                self._bind("manager_provider_integration_assigner", self.manager, "Assigner", integration)
            )
        return bindings

    def _flink_bindings(self, raw: str, clean: str, platform: ConfluentPlatform) -> list[RoleBinding]:
        flink, bind = self.flink, self._bind
        internal = f"{platform.kafka_crn}/transactional-id={FLINK_INTERNAL_PREFIX}"
        return [
            bind("flink_developer", flink, "FlinkDeveloper", platform.environment.resource_name),
            bind("flink_read_raw_topic", flink, "DeveloperRead", platform.topic_crn(raw)),
            bind("flink_read_raw_subject", flink, "DeveloperRead", platform.subject_crn(f"{raw}-value")),
            # ALTER TABLE <raw> MODIFY WATERMARK changes the raw table's metadata, not its data.
            bind("flink_manage_raw_topic", flink, "DeveloperManage", platform.topic_crn(raw)),
            # CREATE TABLE <clean> creates the topic and registers its value schema; the INSERT writes it.
            bind("flink_manage_clean_topic", flink, "DeveloperManage", platform.topic_crn(clean)),
            bind("flink_write_clean_topic", flink, "DeveloperWrite", platform.topic_crn(clean)),
            bind("flink_read_clean_subject", flink, "DeveloperRead", platform.subject_crn(f"{clean}-value")),
            bind(
                "flink_write_clean_subject", flink, "DeveloperWrite", platform.subject_crn(f"{clean}-value")
            ),
            # Exactly-once writes use transactions; statements track progress in consumer groups.
            bind("flink_transactions_read", flink, "DeveloperRead", internal),
            bind("flink_transactions_write", flink, "DeveloperWrite", internal),
            bind(
                "flink_consumer_groups",
                flink,
                "DeveloperManage",
                f"{platform.kafka_crn}/group={FLINK_INTERNAL_PREFIX}",
            ),
        ]

    def _verifier_bindings(self, raw: str, clean: str, platform: ConfluentPlatform) -> list[RoleBinding]:
        """Statements need FlinkDeveloper (bound at the environment: the narrowest scope Confluent offers
        for it); planning reads the tables' topics and value subjects. No Write, no Manage, no consumer
        group or transactional id: a dry run or EXPLAIN starts no job."""
        verifier, bind = self.verifier, self._bind
        return [
            bind("verifier_flink_developer", verifier, "FlinkDeveloper", platform.environment.resource_name),
            bind("verifier_read_raw_topic", verifier, "DeveloperRead", platform.topic_crn(raw)),
            bind(
                "verifier_read_raw_subject", verifier, "DeveloperRead", platform.subject_crn(f"{raw}-value")
            ),
            bind("verifier_read_clean_topic", verifier, "DeveloperRead", platform.topic_crn(clean)),
            bind(
                "verifier_read_clean_subject",
                verifier,
                "DeveloperRead",
                platform.subject_crn(f"{clean}-value"),
            ),
        ]
