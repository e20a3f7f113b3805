"""The Confluent stack (``<env>-confluent``): the platform the Flink statements and the exporter stand on.

Environment and Kafka cluster (created, or adopted by id), the Schema Registry cluster, the raw topic
and its value schema, subject compatibility rules, the Flink compute pool, three service accounts with
least-privilege role bindings, their API keys, and the Secrets Manager secrets that hand those keys
to the Flink stack and the exporter. The clean topic is *not* here: Flink's CREATE TABLE creates it
(a topic created by Terraform would make CREATE TABLE fail, since every topic is already a table).
"""

from __future__ import annotations

import json

from cdktf import ITerraformDependable, TerraformResourceLifecycle, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from salesflow.config import REPO_ROOT, Environment
from terraform.confluent import (
    ApiKey,
    ApiKeyManagedResource,
    ClusterType,
    ConfluentProvider,
    DataEnvironment,
    DataFlinkRegion,
    DataKafkaCluster,
    DataSchemaRegistryCluster,
    DedicatedCluster,
    FlinkComputePool,
    IdRef,
    KafkaCluster,
    KafkaTopic,
    Meta,
    RoleBinding,
    Schema,
    ServiceAccount,
    StreamGovernance,
    SubjectConfig,
)
from terraform.confluent import (
    Environment as ConfluentEnvironment,
)
from terraform.stacks.common import (
    CONFLUENT,
    aws_provider,
    key_policy,
    output,
    protection,
    resource_prefix,
    skip_checks,
    stack_name,
    use_s3_backend,
)

RAW_VALUE_SCHEMA = REPO_ROOT / "schemas" / "sales_order.avsc"
# Flink statements use these prefixes for their transactional ids and consumer groups.
FLINK_INTERNAL_PREFIX = "_confluent-flink_*"


class ConfluentOutputs:
    """Output names of the Confluent stack that the Flink and AWS stacks read from its state."""

    ENVIRONMENT_ID = "environment_id"
    KAFKA_CLUSTER_ID = "kafka_cluster_id"
    COMPUTE_POOL_ID = "flink_compute_pool_id"
    FLINK_PRINCIPAL_ID = "flink_principal_id"
    FLINK_REST_ENDPOINT = "flink_rest_endpoint"
    # ARNs of Secrets Manager secrets (output names, not secrets).
    FLINK_API_KEY_SECRET_ARN = "flink_api_key_secret_arn"  # noqa: S105
    TABLEFLOW_API_KEY_SECRET_ARN = "tableflow_api_key_secret_arn"  # noqa: S105
    EXPORTER_CATALOG_SECRET_ARN = "exporter_catalog_secret_arn"  # noqa: S105
    SECRETS_KMS_KEY_ARN = "secrets_kms_key_arn"


def _meta(
    *,
    depends_on: list[ITerraformDependable] | None = None,
    lifecycle: TerraformResourceLifecycle | None = None,
) -> Meta:
    meta: Meta = {}
    if depends_on:
        meta["depends_on"] = depends_on
    if lifecycle is not None:
        meta["lifecycle"] = lifecycle
    return meta


def secret_name(environment: Environment, purpose: str) -> str:
    """``salesflow/<env>/confluent/<purpose>``: where an API key's ``key:secret`` is kept."""
    return f"salesflow/{environment.name}/confluent/{purpose}"


class ConfluentStack(TerraformStack):
    def __init__(self, scope: Construct, environment: Environment) -> None:
        super().__init__(scope, stack_name(environment, CONFLUENT))
        self.environment = environment
        confluent = environment.confluent
        prefix = resource_prefix(environment)
        keep = protection(environment)
        use_s3_backend(self, environment, CONFLUENT)
        aws_provider(self, environment, CONFLUENT)
        # Cloud API key from CONFLUENT_CLOUD_API_KEY / CONFLUENT_CLOUD_API_SECRET at plan time.
        ConfluentProvider(self, "confluent")

        # --- environment, cluster, registry, Flink region and pool ---------------------------------
        if confluent.environment.id is not None:
            environment_ = DataEnvironment(self, "environment", id=confluent.environment.id)
        else:
            environment_ = ConfluentEnvironment(
                self,
                "environment",
                display_name=confluent.environment.display_name,
                stream_governance=StreamGovernance(package="ESSENTIALS"),
                meta=_meta(lifecycle=keep),
            )
        env_ref = IdRef(id=environment_.id)

        cluster_settings = confluent.kafka_cluster
        if cluster_settings.id is not None:
            cluster = DataKafkaCluster(self, "kafka_cluster", id=cluster_settings.id, environment=env_ref)
        else:
            kind = cluster_settings.type
            cluster = KafkaCluster(
                self,
                "kafka_cluster",
                display_name=cluster_settings.display_name,
                availability=cluster_settings.availability,
                cloud=cluster_settings.cloud,
                region=cluster_settings.region,
                environment=env_ref,
                basic=ClusterType() if kind == "basic" else None,
                standard=ClusterType() if kind == "standard" else None,
                enterprise=ClusterType() if kind == "enterprise" else None,
                dedicated=DedicatedCluster(cku=cluster_settings.cku) if kind == "dedicated" else None,
                meta=_meta(lifecycle=keep),
            )
        cluster_ref = IdRef(id=cluster.id)
        registry = DataSchemaRegistryCluster(
            self, "schema_registry", environment=env_ref, meta=_meta(depends_on=[cluster])
        )
        registry_ref = IdRef(id=registry.id)
        flink_region = DataFlinkRegion(
            self, "flink_region", cloud=cluster_settings.cloud, region=cluster_settings.region
        )
        pool = FlinkComputePool(
            self,
            "flink_compute_pool",
            display_name=confluent.flink.compute_pool.display_name,
            cloud=cluster_settings.cloud,
            region=cluster_settings.region,
            max_cfu=confluent.flink.compute_pool.max_cfu,
            environment=env_ref,
        )

        # --- who may do what -------------------------------------------------------------------------
        raw, clean = confluent.topics.raw.name, confluent.topics.clean.name
        raw_subject, clean_subject = f"{raw}-value", f"{clean}-value"
        kafka_crn = f"{cluster.rbac_crn}/kafka={cluster.id}"

        def topic(name: str) -> str:
            return f"{kafka_crn}/topic={name}"

        def subject(name: str) -> str:
            return f"{registry.resource_name}/subject={name}"

        manager = ServiceAccount(
            self,
            "manager",
            display_name=f"{prefix}-manager",
            description="salesflow Terraform: topics, schemas, subject rules and Tableflow",
        )
        flink = ServiceAccount(
            self,
            "flink",
            display_name=f"{prefix}-flink",
            description="salesflow Flink statements: reads the raw topic, writes the clean topic",
        )
        exporter = ServiceAccount(
            self,
            "exporter",
            display_name=f"{prefix}-exporter",
            description="salesflow weekly exporter: reads the clean topic's Tableflow table only",
        )

        def bind(id_: str, account: ServiceAccount, role: str, crn: str) -> RoleBinding:
            return RoleBinding(self, id_, principal=account.principal, role_name=role, crn_pattern=crn)

        manager_bindings = [
            # Topics of the cluster and Tableflow on them (CloudClusterAdmin enables Tableflow).
            bind("manager_cluster_admin", manager, "CloudClusterAdmin", cluster.rbac_crn),
            # Register schemas and set compatibility on the two subjects this repo owns.
            bind("manager_raw_subject_owner", manager, "ResourceOwner", subject(raw_subject)),
            bind("manager_clean_subject_owner", manager, "ResourceOwner", subject(clean_subject)),
        ]
        byob = confluent.tableflow.byob
        if byob is not None:
            # Tableflow writes your bucket through this provider integration.
            manager_bindings.append(
                bind(
                    "manager_provider_integration_assigner",
                    manager,
                    "Assigner",
                    f"{environment_.resource_name}/provider-integration={byob.provider_integration_id}",
                )
            )
        flink_bindings = [
            bind("flink_developer", flink, "FlinkDeveloper", environment_.resource_name),
            bind("flink_read_raw_topic", flink, "DeveloperRead", topic(raw)),
            bind("flink_read_raw_subject", flink, "DeveloperRead", subject(raw_subject)),
            # ALTER TABLE <raw> MODIFY WATERMARK changes the raw table's metadata, not its data.
            bind("flink_manage_raw_topic", flink, "DeveloperManage", topic(raw)),
            # CREATE TABLE <clean> creates the topic and registers its value schema; the INSERT writes it.
            bind("flink_manage_clean_topic", flink, "DeveloperManage", topic(clean)),
            bind("flink_write_clean_topic", flink, "DeveloperWrite", topic(clean)),
            bind("flink_read_clean_subject", flink, "DeveloperRead", subject(clean_subject)),
            bind("flink_write_clean_subject", flink, "DeveloperWrite", subject(clean_subject)),
            # Exactly-once writes use transactions; statements track progress in consumer groups.
            bind(
                "flink_transactions_read",
                flink,
                "DeveloperRead",
                f"{kafka_crn}/transactional-id={FLINK_INTERNAL_PREFIX}",
            ),
            bind(
                "flink_transactions_write",
                flink,
                "DeveloperWrite",
                f"{kafka_crn}/transactional-id={FLINK_INTERNAL_PREFIX}",
            ),
            bind(
                "flink_consumer_groups",
                flink,
                "DeveloperManage",
                f"{kafka_crn}/group={FLINK_INTERNAL_PREFIX}",
            ),
        ]
        exporter_bindings = [
            # Tableflow's data-plane read (the Iceberg REST catalog) follows DeveloperRead on the topic.
            bind("exporter_read_clean_topic", exporter, "DeveloperRead", topic(clean)),
        ]

        # --- API keys (secrets only ever referenced, never output) ----------------------------------
        def api_key(
            id_: str,
            account: ServiceAccount,
            scope_: ApiKeyManagedResource,
            what: str,
            after: list[RoleBinding],
        ) -> ApiKey:
            return ApiKey(
                self,
                id_,
                display_name=f"{prefix}-{id_.replace('_', '-')}",
                description=what,
                owner=account.owner(),
                managed_resource=scope_,
                meta=_meta(depends_on=list(after)),
            )

        tableflow_scope = ApiKeyManagedResource(
            id="tableflow", api_version="tableflow/v1", kind="Tableflow", environment=env_ref
        )
        manager_kafka_key = api_key(
            "manager_kafka_key",
            manager,
            cluster.as_managed_resource(env_ref),
            "Terraform: topics",
            manager_bindings,
        )
        manager_registry_key = api_key(
            "manager_schema_registry_key",
            manager,
            registry.as_managed_resource(env_ref),
            "Terraform: schemas and subject rules",
            manager_bindings,
        )
        manager_tableflow_key = api_key(
            "manager_tableflow_key", manager, tableflow_scope, "Terraform: Tableflow topics", manager_bindings
        )
        flink_key = api_key(
            "flink_api_key",
            flink,
            flink_region.as_managed_resource(env_ref),
            "Terraform submits the Flink statements with this key (flink_* provider arguments)",
            flink_bindings,
        )
        exporter_key = api_key(
            "exporter_tableflow_key",
            exporter,
            tableflow_scope,
            "Exporter Lambda: OAuth client credentials of the Tableflow Iceberg REST catalog",
            exporter_bindings,
        )

        # --- topic, subjects, schema -----------------------------------------------------------------
        raw_settings = confluent.topics.raw
        KafkaTopic(
            self,
            "raw_topic",
            kafka_cluster=cluster_ref,
            topic_name=raw,
            partitions_count=raw_settings.partitions,
            rest_endpoint=cluster.rest_endpoint,
            credentials=manager_kafka_key.credentials(),
            config={"cleanup.policy": "delete", "retention.ms": str(raw_settings.retention_ms)},
            meta=_meta(lifecycle=keep),
        )
        compatibility = confluent.schema_registry.compatibility
        raw_subject_config = SubjectConfig(
            self,
            "raw_value_subject_config",
            schema_registry_cluster=registry_ref,
            rest_endpoint=registry.rest_endpoint,
            credentials=manager_registry_key.credentials(),
            subject_name=raw_subject,
            compatibility_level=compatibility,
            meta=_meta(lifecycle=keep),
        )
        SubjectConfig(
            self,
            "clean_value_subject_config",
            schema_registry_cluster=registry_ref,
            rest_endpoint=registry.rest_endpoint,
            credentials=manager_registry_key.credentials(),
            subject_name=clean_subject,
            compatibility_level=compatibility,
            meta=_meta(lifecycle=keep),
        )
        Schema(
            self,
            "raw_value_schema",
            schema_registry_cluster=registry_ref,
            rest_endpoint=registry.rest_endpoint,
            credentials=manager_registry_key.credentials(),
            subject_name=raw_subject,
            format="AVRO",
            # The contract itself, compacted: the plan shows a schema change as a diff of this string.
            schema=json.dumps(
                json.loads(RAW_VALUE_SCHEMA.read_text(encoding="utf-8")), separators=(",", ":")
            ),
            meta=_meta(depends_on=[raw_subject_config], lifecycle=keep),
        )

        # --- hand the keys over through Secrets Manager ----------------------------------------------
        account = DataAwsCallerIdentity(self, "account")
        secrets_key = KmsKey(
            self,
            "secrets_key",
            description=f"{prefix}: Confluent API keys in Secrets Manager",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy(account.account_id),
        )
        KmsAlias(
            self,
            "secrets_key_alias",
            name=f"alias/{prefix}-confluent-secrets",
            target_key_id=secrets_key.key_id,
        )

        def store(id_: str, purpose: str, key: ApiKey, what: str) -> SecretsmanagerSecret:
            secret = SecretsmanagerSecret(
                self,
                id_,
                name=secret_name(environment, purpose),
                description=f"{what} (key:secret of {purpose}; rotate by replacing the confluent_api_key)",
                kms_key_id=secrets_key.arn,
            )
            skip_checks(
                secret,
                {
                    "CKV2_AWS_57": (
                        "Confluent API keys cannot be rotated by a Secrets Manager Lambda; rotate with "
                        "`terraform apply -replace` on the confluent_api_key (see terraform/README.md)"
                    ),
                },
            )
            SecretsmanagerSecretVersion(
                self, f"{id_}_value", secret_id=secret.id, secret_string=f"{key.id}:{key.secret}"
            )
            return secret

        flink_secret = store(
            "flink_api_key_secret", "flink-api-key", flink_key, "Flink API key of the statements"
        )
        tableflow_secret = store(
            "tableflow_api_key_secret",
            "tableflow-api-key",
            manager_tableflow_key,
            "Tableflow API key of Terraform",
        )
        exporter_secret = store(
            "exporter_catalog_secret",
            "exporter-tableflow-api-key",
            exporter_key,
            "Tableflow API key of the exporter (Iceberg REST catalog credential)",
        )

        # --- what the other stacks read --------------------------------------------------------------
        names = ConfluentOutputs
        output(self, names.ENVIRONMENT_ID, environment_.id, "Confluent environment id (env-...)")
        output(
            self, names.KAFKA_CLUSTER_ID, cluster.id, "Kafka cluster id (lkc-...); the Tableflow namespace"
        )
        output(self, names.COMPUTE_POOL_ID, pool.id, "Flink compute pool id (lfcp-...)")
        output(self, names.FLINK_PRINCIPAL_ID, flink.id, "Service account the statements run as (sa-...)")
        output(
            self, names.FLINK_REST_ENDPOINT, flink_region.rest_endpoint, "Flink REST endpoint of the region"
        )
        output(self, names.FLINK_API_KEY_SECRET_ARN, flink_secret.arn, "Secret holding the Flink key:secret")
        output(
            self,
            names.TABLEFLOW_API_KEY_SECRET_ARN,
            tableflow_secret.arn,
            "Secret holding Terraform's Tableflow key:secret",
        )
        output(
            self,
            names.EXPORTER_CATALOG_SECRET_ARN,
            exporter_secret.arn,
            "Secret holding the exporter's Tableflow key:secret (Iceberg REST catalog credential)",
        )
        output(self, names.SECRETS_KMS_KEY_ARN, secrets_key.arn, "KMS key encrypting those secrets")
