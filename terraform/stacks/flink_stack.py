"""The Flink stack (``<env>-flink``): the statements rendered from ``flink_statements/`` and Tableflow.

It is separate from the Confluent stack because the provider's Flink settings (all seven ``flink_*``
arguments, credentials included) belong in the provider block, and a provider block can only use
values known at plan time: the environment, compute pool, principal and Flink API key must exist
before this stack is planned. They come from the Confluent stack's state and from Secrets Manager, so
no credential is ever a Terraform variable, an output or part of the synthesized JSON.
"""

from __future__ import annotations

from cdktf import Fn, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_secret_version import (
    DataAwsSecretsmanagerSecretVersion,
)
from constructs import Construct

from salesflow.config import Environment
from salesflow.sql.render import PEPPER_TERRAFORM_REFERENCE, RenderedStatement, render_statements
from terraform.confluent import (
    ByobAws,
    ConfluentProvider,
    FlinkStatement,
    IdRef,
    ManagedStorage,
    Meta,
    TableflowTopic,
)
from terraform.stacks.common import (
    CONFLUENT,
    FLINK,
    aws_provider,
    protection,
    remote_state,
    stack_name,
    use_s3_backend,
)
from terraform.stacks.confluent_stack import ConfluentOutputs

# The INSERT statement's text refers to data.aws_secretsmanager_secret_version.<this>.secret_string.
PEPPER_DATA_SOURCE_ID = PEPPER_TERRAFORM_REFERENCE.split(".")[2]


def statement_logical_id(statement: RenderedStatement) -> str:
    """``statement_<id>_v<version>``: a new version is a new resource, the old one is removed."""
    return f"statement_{statement.id.replace('-', '_')}_v{statement.version}"


def _secret_part(secret: DataAwsSecretsmanagerSecretVersion, index: int) -> str:
    """Key (0) or secret (1) of a ``key:secret`` secret string."""
    return Fn.element(Fn.split(":", secret.secret_string), index)


class FlinkStack(TerraformStack):
    def __init__(self, scope: Construct, environment: Environment) -> None:
        super().__init__(scope, stack_name(environment, FLINK))
        self.environment = environment
        confluent = environment.confluent
        keep = protection(environment)
        use_s3_backend(self, environment, FLINK)
        aws_provider(self, environment, FLINK)
        platform = remote_state(self, environment, CONFLUENT)

        def platform_output(name: str) -> str:
            return platform.get_string(name)

        flink_key = DataAwsSecretsmanagerSecretVersion(
            self, "flink_api_key", secret_id=platform_output(ConfluentOutputs.FLINK_API_KEY_SECRET_ARN)
        )
        tableflow_key = DataAwsSecretsmanagerSecretVersion(
            self,
            "tableflow_api_key",
            secret_id=platform_output(ConfluentOutputs.TABLEFLOW_API_KEY_SECRET_ARN),
        )
        pepper = DataAwsSecretsmanagerSecretVersion(self, "pii_pepper", secret_id=confluent.pii.pepper_secret)
        pepper.override_logical_id(PEPPER_DATA_SOURCE_ID)

        environment_id = confluent.environment.id or platform_output(ConfluentOutputs.ENVIRONMENT_ID)
        cluster_id = confluent.kafka_cluster.id or platform_output(ConfluentOutputs.KAFKA_CLUSTER_ID)
        ConfluentProvider(
            self,
            "confluent",
            organization_id=confluent.organization_id,
            environment_id=environment_id,
            flink_compute_pool_id=platform_output(ConfluentOutputs.COMPUTE_POOL_ID),
            flink_principal_id=platform_output(ConfluentOutputs.FLINK_PRINCIPAL_ID),
            flink_rest_endpoint=platform_output(ConfluentOutputs.FLINK_REST_ENDPOINT),
            flink_api_key=_secret_part(flink_key, 0),
            flink_api_secret=_secret_part(flink_key, 1),
            tableflow_api_key=_secret_part(tableflow_key, 0),
            tableflow_api_secret=_secret_part(tableflow_key, 1),
        )

        # --- statements, in submission order ---------------------------------------------------------
        statements = render_statements(environment, "confluent")
        created: dict[str, FlinkStatement] = {}
        for statement in statements:
            meta: Meta = {}
            if statement.depends_on:
                meta["depends_on"] = [created[name] for name in statement.depends_on]
            if keep is not None:
                meta["lifecycle"] = keep
            created[statement.name] = FlinkStatement(
                self,
                statement_logical_id(statement),
                statement_name=statement.name,
                statement=statement.text,
                properties=statement.properties,
                meta=meta,
            )
        self.statements = created

        # --- Tableflow on the clean topic, once CREATE TABLE made it ---------------------------------
        clean = confluent.topics.clean.name
        creates_clean = [
            created[statement.name]
            for statement in statements
            if statement.kind == "ddl" and _creates_table(statement, clean)
        ]
        if not creates_clean:
            raise ValueError(
                f"flink_statements/: no DDL statement creates the clean table `{clean}`; Tableflow needs it"
            )
        tableflow = confluent.tableflow
        TableflowTopic(
            self,
            "clean_topic_tableflow",
            environment=IdRef(id=environment_id),
            kafka_cluster=IdRef(id=cluster_id),
            display_name=clean,
            table_formats=["ICEBERG"],
            retention_ms=str(tableflow.retention_ms),
            managed_storage=ManagedStorage() if tableflow.storage == "managed" else None,
            byob_aws=(
                ByobAws(
                    bucket_name=tableflow.byob.bucket,
                    provider_integration_id=tableflow.byob.provider_integration_id,
                )
                if tableflow.byob is not None
                else None
            ),
            meta={"depends_on": creates_clean, **({"lifecycle": keep} if keep is not None else {})},
        )


def _creates_table(statement: RenderedStatement, table: str) -> bool:
    head = " ".join(statement.text.split()[:3]).upper()
    return head.startswith("CREATE TABLE") and f"`{table.upper()}`" in head
