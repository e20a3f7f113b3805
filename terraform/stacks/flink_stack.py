"""The Flink stack (``<env>-flink``): the statements rendered from ``flink_statements/`` and Tableflow.

It is separate from the Confluent stack because the provider's Flink settings (all seven ``flink_*``
arguments, credentials included) belong in the provider block, and a provider block can only use
values known at plan time: the environment, compute pool, principal and Flink API key must exist
before this stack is planned. They come from the Confluent stack's state and from Secrets Manager, so
no credential is ever a Terraform variable, an output or part of the synthesized JSON.
"""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_secret_version import (
    DataAwsSecretsmanagerSecretVersion,
)
from constructs import Construct

from salesflow.config import Environment
from salesflow.sql.render import PEPPER_TERRAFORM_REFERENCE
from terraform.confluent.outputs import ConfluentOutputs, PlatformState
from terraform.confluent_provider import ConfluentProvider
from terraform.flink.statements import FlinkStatements
from terraform.flink.tableflow import CleanTopicTableflow
from terraform.stacks.common import (
    FLINK,
    SalesflowStack,
    aws_provider,
    protection,
    stack_name,
    use_s3_backend,
)

# The INSERT statement's text refers to data.aws_secretsmanager_secret_version.<this>.secret_string.
PEPPER_DATA_SOURCE_ID = PEPPER_TERRAFORM_REFERENCE.split(".")[2]


def _secret_part(secret: DataAwsSecretsmanagerSecretVersion, index: int) -> str:
    """Key (0) or secret (1) of a ``key:secret`` secret string."""
    return Fn.element(Fn.split(":", secret.secret_string), index)


class FlinkStack(SalesflowStack):
    def __init__(self, scope: Construct, environment: Environment) -> None:
        super().__init__(scope, stack_name(environment, FLINK))
        self.environment = environment
        confluent = environment.confluent
        keep = protection(environment)
        use_s3_backend(self, environment, FLINK)
        aws_provider(self, environment, FLINK)
        platform = PlatformState(self, environment)

        flink_key = DataAwsSecretsmanagerSecretVersion(
            self, "flink_api_key", secret_id=platform.output(ConfluentOutputs.FLINK_API_KEY_SECRET_ARN)
        )
        tableflow_key = DataAwsSecretsmanagerSecretVersion(
            self,
            "tableflow_api_key",
            secret_id=platform.output(ConfluentOutputs.TABLEFLOW_API_KEY_SECRET_ARN),
        )
        pepper = DataAwsSecretsmanagerSecretVersion(self, "pii_pepper", secret_id=confluent.pii.pepper_secret)
        pepper.override_logical_id(PEPPER_DATA_SOURCE_ID)
        ConfluentProvider(
            self,
            "confluent",
            organization_id=confluent.organization_id,
            environment_id=platform.environment_id,
            flink_compute_pool_id=platform.output(ConfluentOutputs.COMPUTE_POOL_ID),
            flink_principal_id=platform.output(ConfluentOutputs.FLINK_PRINCIPAL_ID),
            flink_rest_endpoint=platform.output(ConfluentOutputs.FLINK_REST_ENDPOINT),
            flink_api_key=_secret_part(flink_key, 0),
            flink_api_secret=_secret_part(flink_key, 1),
            tableflow_api_key=_secret_part(tableflow_key, 0),
            tableflow_api_secret=_secret_part(tableflow_key, 1),
        )

        statements = FlinkStatements(self, "statements", environment, keep)
        self.statements = statements.by_name
        CleanTopicTableflow(
            self,
            "tableflow",
            environment,
            environment_id=platform.environment_id,
            cluster_id=platform.kafka_cluster_id,
            created_by=statements.creating_table(confluent.topics.clean.name),
            keep=keep,
        )
