"""What ``salesflow smoke`` runs as after a deploy: its own service account, the least it needs, and its
keys with the endpoints in one Secrets Manager secret that only the smoke role (bootstrap) may read.

The account writes the raw topic and reads the clean one (and their value subjects, for Avro); its
consumer group is ``salesflow-smoke-<run>``. The secret ``salesflow/<env>/confluent/smoke-credentials``
holds ``{bootstrap_servers, schema_registry_url, kafka_api_key, kafka_api_secret,
schema_registry_api_key, schema_registry_api_secret}``: no GitHub secret or variable carries them.
"""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from salesflow.config import Environment
from terraform.confluent.platform import ConfluentPlatform
from terraform.confluent.secrets import ROTATION_BY_REPLACE, secret_name
from terraform.confluent_provider import ApiKey, RoleBinding, ServiceAccount, meta
from terraform.stacks.common import resource_prefix, skip_checks

SMOKE_GROUP_PREFIX = "salesflow-smoke-*"
SMOKE_SECRET = "smoke-credentials"  # noqa: S105 - a secret's name, not a secret


class SmokeCredentials(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        platform: ConfluentPlatform,
        kms_key_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        prefix = resource_prefix(environment)
        topics = environment.confluent.topics
        account = ServiceAccount(
            self,
            "smoke",
            display_name=f"{prefix}-smoke",
            description="salesflow smoke test: writes the raw topic, reads the clean topic",
        )
        grants = [
            ("smoke_write_raw_topic", "DeveloperWrite", platform.topic_crn(topics.raw.name)),
            ("smoke_read_raw_subject", "DeveloperRead", platform.subject_crn(f"{topics.raw.name}-value")),
            ("smoke_read_clean_topic", "DeveloperRead", platform.topic_crn(topics.clean.name)),
            ("smoke_read_clean_subject", "DeveloperRead", platform.subject_crn(f"{topics.clean.name}-value")),
            ("smoke_consumer_group", "DeveloperRead", f"{platform.kafka_crn}/group={SMOKE_GROUP_PREFIX}"),
        ]
        bindings = [
            RoleBinding(self, name, principal=account.principal, role_name=role, crn_pattern=crn)
            for name, role, crn in grants
        ]
        env_ref = platform.environment_ref
        kafka, registry = (
            ApiKey(
                self,
                f"smoke_{what}_key",
                display_name=f"{prefix}-smoke-{what.replace('_', '-')}-key",
                description=f"salesflow smoke test: {what.replace('_', ' ')}",
                owner=account.owner(),
                managed_resource=scope_.as_managed_resource(env_ref),
                meta=meta(depends_on=bindings),
            )
            for what, scope_ in (("kafka", platform.cluster), ("schema_registry", platform.registry))
        )
        secret = SecretsmanagerSecret(
            self,
            "smoke_credentials",
            name=secret_name(environment, SMOKE_SECRET),
            description="salesflow smoke test: Kafka and Schema Registry endpoints and keys (JSON)",
            kms_key_id=kms_key_arn,
        )
        skip_checks(secret, {"CKV2_AWS_57": ROTATION_BY_REPLACE})
        endpoint = platform.cluster.attribute("bootstrap_endpoint")
        SecretsmanagerSecretVersion(
            self,
            "smoke_credentials_value",
            secret_id=secret.id,
            secret_string=Fn.jsonencode(
                {
                    "bootstrap_servers": Fn.replace(endpoint, "SASL_SSL://", ""),
                    "schema_registry_url": platform.registry.rest_endpoint,
                    "kafka_api_key": kafka.id,
                    "kafka_api_secret": kafka.secret,
                    "schema_registry_api_key": registry.id,
                    "schema_registry_api_secret": registry.secret,
                }
            ),
        )
