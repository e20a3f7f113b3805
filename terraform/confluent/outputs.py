"""What the Flink and AWS stacks read of the Confluent stack: its outputs, by name, from its S3 state."""

from __future__ import annotations

from constructs import Construct

from salesflow.config import Environment
from terraform.stacks.common import CONFLUENT, remote_state


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
    FLINK_VERIFY_API_KEY_SECRET_ARN = "flink_verify_api_key_secret_arn"  # noqa: S105
    SCHEMA_VERIFY_API_KEY_SECRET_ARN = "schema_verify_api_key_secret_arn"  # noqa: S105
    SCHEMA_REGISTRY_URL = "schema_registry_url"
    MONITOR_SECRET_ARN = "monitor_secret_arn"  # noqa: S105
    SECRETS_KMS_KEY_ARN = "secrets_kms_key_arn"


class PlatformState:
    """The Confluent stack's outputs (``data.terraform_remote_state.confluent_stack``); an environment or
    cluster adopted by id in the environment file is a literal instead of an output."""

    def __init__(self, scope: Construct, environment: Environment) -> None:
        self._state = remote_state(scope, environment, CONFLUENT)
        self._confluent = environment.confluent

    def output(self, name: str) -> str:
        return self._state.get_string(name)

    @property
    def environment_id(self) -> str:
        return self._confluent.environment.id or self.output(ConfluentOutputs.ENVIRONMENT_ID)

    @property
    def kafka_cluster_id(self) -> str:
        return self._confluent.kafka_cluster.id or self.output(ConfluentOutputs.KAFKA_CLUSTER_ID)
