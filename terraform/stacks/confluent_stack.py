"""The Confluent stack (``<env>-confluent``): the platform the Flink statements and the exporter stand on.

It composes one construct per concern (``terraform/confluent/``): the platform (environment, cluster,
registry, Flink region and pool), service accounts with least-privilege role bindings, their API keys,
the raw topic, the schemas and subject rules, the Secrets Manager secrets that hand the keys to the
Flink stack and the exporter, the smoke test's account and credentials, and the monitor's. Its outputs
are what those stacks read.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from constructs import Construct

from salesflow.config import Environment
from terraform.confluent.access import Access
from terraform.confluent.api_keys import ApiKeys
from terraform.confluent.monitor import MonitorCredentials
from terraform.confluent.outputs import ConfluentOutputs
from terraform.confluent.platform import ConfluentPlatform
from terraform.confluent.schemas import SchemaSubjects
from terraform.confluent.secrets import KeySecrets
from terraform.confluent.smoke import SmokeCredentials
from terraform.confluent.topics import RawTopic
from terraform.confluent_provider import ConfluentProvider
from terraform.stacks.common import (
    CONFLUENT,
    SalesflowStack,
    aws_provider,
    output,
    protection,
    stack_name,
    use_s3_backend,
)


class ConfluentStack(SalesflowStack):
    def __init__(self, scope: Construct, environment: Environment) -> None:
        super().__init__(scope, stack_name(environment, CONFLUENT))
        self.environment = environment
        keep = protection(environment)
        use_s3_backend(self, environment, CONFLUENT)
        aws_provider(self, environment, CONFLUENT)
        # Cloud API key from CONFLUENT_CLOUD_API_KEY / CONFLUENT_CLOUD_API_SECRET at plan time.
        ConfluentProvider(self, "confluent")

        platform = ConfluentPlatform(self, "platform", environment, keep)
        access = Access(self, "access", environment, platform)
        keys = ApiKeys(self, "api_keys", environment, platform, access)
        RawTopic(self, "topics", environment, platform, keys.manager_kafka.credentials(), keep)
        SchemaSubjects(
            self, "schemas", environment, platform, keys.manager_schema_registry.credentials(), keep
        )
        account_id = DataAwsCallerIdentity(self, "account").account_id
        secrets = KeySecrets(self, "secrets", environment, account_id, keys)
        SmokeCredentials(self, "smoke", environment, platform, secrets.kms_key.arn)
        monitor = MonitorCredentials(self, "monitor", environment, platform, secrets.kms_key.arn, account_id)

        names = ConfluentOutputs
        output(self, names.ENVIRONMENT_ID, platform.environment.id, "Confluent environment id (env-...)")
        output(
            self,
            names.KAFKA_CLUSTER_ID,
            platform.cluster.id,
            "Kafka cluster id (lkc-...); the Tableflow namespace",
        )
        output(self, names.COMPUTE_POOL_ID, platform.compute_pool.id, "Flink compute pool id (lfcp-...)")
        output(
            self, names.FLINK_PRINCIPAL_ID, access.flink.id, "Service account the statements run as (sa-...)"
        )
        output(
            self,
            names.FLINK_REST_ENDPOINT,
            platform.flink_region.rest_endpoint,
            "Flink REST endpoint of the region",
        )
        output(self, names.FLINK_API_KEY_SECRET_ARN, secrets.flink.arn, "Secret holding the Flink key:secret")
        output(
            self,
            names.TABLEFLOW_API_KEY_SECRET_ARN,
            secrets.tableflow.arn,
            "Secret holding Terraform's Tableflow key:secret",
        )
        output(
            self,
            names.EXPORTER_CATALOG_SECRET_ARN,
            secrets.exporter_catalog.arn,
            "Secret holding the exporter's Tableflow key:secret (Iceberg REST catalog credential)",
        )
        output(
            self,
            names.FLINK_VERIFY_API_KEY_SECRET_ARN,
            secrets.flink_verify.arn,
            "Secret holding the pull requests' Flink dry-run key:secret (salesflow sql verify)",
        )
        output(
            self,
            names.SCHEMA_VERIFY_API_KEY_SECRET_ARN,
            secrets.schema_verify.arn,
            "Secret holding the pull requests' Schema Registry key:secret (salesflow schema verify)",
        )
        output(
            self,
            names.MONITOR_SECRET_ARN,
            monitor.secret.arn,
            "Secret holding the monitor's Cloud, Flink and Tableflow keys (JSON; the monitor role reads it)",
        )
        output(self, names.SCHEMA_REGISTRY_URL, platform.registry.rest_endpoint, "Schema Registry endpoint")
        output(self, names.SECRETS_KMS_KEY_ARN, secrets.kms_key.arn, "KMS key encrypting those secrets")
