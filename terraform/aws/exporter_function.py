"""The exporter Lambda: its role (exactly what a weekly export needs), log group, failure queue and code.

The code is the content-addressed zip ``make package`` built (``exporter/<sha256>.zip`` in the artifact
bucket); its settings are environment variables derived from the environment file and the Confluent
stack's outputs.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionEphemeralStorage,
    LambdaFunctionLoggingConfig,
)
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import (
    LambdaFunctionEventInvokeConfig,
    LambdaFunctionEventInvokeConfigDestinationConfig,
    LambdaFunctionEventInvokeConfigDestinationConfigOnFailure,
)
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from salesflow.config import Environment
from terraform.artifact import LAMBDA_RUNTIME, ExporterArtifact
from terraform.aws.buckets import ExporterBuckets
from terraform.aws.email import AnalystNotice
from terraform.aws.iam import Statement, condition, read_secret, service, statement
from terraform.confluent.outputs import ConfluentOutputs, PlatformState
from terraform.stacks.common import resource_prefix, skip_checks

HANDLER = "exporter.handler.handler"
# Lambda's own retries of a failed asynchronous run before the event goes to the failure queue.
LAMBDA_ASYNC_RETRIES = 2
LAMBDA_MAX_EVENT_AGE_SECONDS = 6 * 3600
DEAD_LETTER_RETENTION_SECONDS = 14 * 86400


def function_name(environment: Environment) -> str:
    return f"{resource_prefix(environment)}-exporter"


def log_group_name(environment: Environment) -> str:
    return f"/aws/lambda/{function_name(environment)}"


def catalog_uri(environment: Environment, environment_id: str) -> str:
    """Tableflow's Iceberg REST catalog: not a provider attribute, built from region, org and env ids."""
    cluster = environment.confluent.kafka_cluster
    return (
        f"https://tableflow.{cluster.region}.{cluster.cloud.lower()}.confluent.cloud/iceberg/catalog/"
        f"organizations/{environment.confluent.organization_id}/environments/{environment_id}"
    )


def dead_letter_queue(scope: Construct, id_: str, name: str) -> SqsQueue:
    """An SSE-SQS queue that keeps undeliverable or failed runs for 14 days."""
    return SqsQueue(
        scope,
        id_,
        name=name,
        message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
        sqs_managed_sse_enabled=True,
    )


class ExporterFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        artifact: ExporterArtifact,
        *,
        platform: PlatformState,
        kms_key_arn: str,
        buckets: ExporterBuckets,
        exports_topic_arn: str,
        notice: AnalystNotice | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.environment = environment
        self.notice = notice  # the analysts' e-mail (exporter.notify: email); None: the SNS text
        settings = environment.exporter.lambda_
        prefix = resource_prefix(environment)
        self.failures = dead_letter_queue(self, "exporter_failures", f"{prefix}-exporter-failures")
        self.log_group = CloudwatchLogGroup(
            self,
            "exporter_logs",
            name=log_group_name(environment),
            retention_in_days=settings.log_retention_days,
            kms_key_id=kms_key_arn,
        )
        if settings.log_retention_days < 365:
            skip_checks(
                self.log_group,
                {
                    "CKV_AWS_338": f"exporter.lambda.log_retention_days is {settings.log_retention_days} in "
                    f"environments/{environment.name}.yaml: a deliberate, shorter retention"
                },
            )
        role = IamRole(
            self,
            "exporter_role",
            name=f"{prefix}-exporter",
            description="salesflow exporter Lambda: exactly what the weekly export needs",
            assume_role_policy=DataAwsIamPolicyDocument(
                self,
                "exporter_trust",
                statement=[
                    statement(
                        "LambdaAssumesRole",
                        ["sts:AssumeRole"],
                        [],
                        principals=[service("lambda.amazonaws.com")],
                    )
                ],
            ).json,
        )
        permissions = DataAwsIamPolicyDocument(
            self,
            "exporter_permissions",
            statement=self._permissions(platform, kms_key_arn, buckets, exports_topic_arn),
        )
        IamRolePolicy(self, "exporter_role_policy", name="exporter", role=role.id, policy=permissions.json)
        self.function = self._function(artifact, role, platform, buckets, exports_topic_arn)
        LambdaFunctionEventInvokeConfig(
            self,
            "exporter_async",
            function_name=self.function.function_name,
            maximum_retry_attempts=LAMBDA_ASYNC_RETRIES,
            maximum_event_age_in_seconds=LAMBDA_MAX_EVENT_AGE_SECONDS,
            destination_config=LambdaFunctionEventInvokeConfigDestinationConfig(
                on_failure=LambdaFunctionEventInvokeConfigDestinationConfigOnFailure(
                    destination=self.failures.arn
                )
            ),
        )

    def _permissions(
        self, platform: PlatformState, kms_key_arn: str, buckets: ExporterBuckets, exports_topic_arn: str
    ) -> list[Statement]:
        """The exporter role's statements, and nothing more (terraform/README.md lists them)."""
        region = self.environment.aws.region
        export_prefix = self.environment.aws.export.prefix
        statements = [
            *read_secret(
                "CatalogCredential",
                platform.output(ConfluentOutputs.EXPORTER_CATALOG_SECRET_ARN),
                platform.output(ConfluentOutputs.SECRETS_KMS_KEY_ARN),
                region,
            ),
            # Delete: the exporter removes its staging copies and, before republishing a week, the
            # old manifest (a manifest must only ever describe a complete export).
            statement(
                "PutGetAndDeleteExports",
                ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                [f"{buckets.exports.arn}/{export_prefix}/*"],
            ),
            statement("PublishExportNotice", ["sns:Publish"], [exports_topic_arn]),
            statement(
                "EncryptExportsAndNotices",
                ["kms:GenerateDataKey", "kms:Decrypt"],
                [kms_key_arn],
                conditions=[
                    condition(
                        "StringEquals",
                        "kms:ViaService",
                        f"s3.{region}.amazonaws.com",
                        f"sns.{region}.amazonaws.com",
                    )
                ],
            ),
            statement(
                "WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{self.log_group.arn}:*"]
            ),
            # Lambda delivers a failed asynchronous run to the failure queue with the function's role.
            statement("SendFailedRunsToQueue", ["sqs:SendMessage"], [self.failures.arn]),
        ]
        if self.notice is not None:
            statements += self.notice.permissions(kms_key_arn)
        byob = self.environment.confluent.tableflow.byob
        if byob is not None:
            statements.append(
                statement(
                    "ReadTableflowBucket",
                    ["s3:GetObject", "s3:ListBucket"],
                    [f"arn:aws:s3:::{byob.bucket}", f"arn:aws:s3:::{byob.bucket}/*"],
                )
            )
        return statements

    def _function(
        self,
        artifact: ExporterArtifact,
        role: IamRole,
        platform: PlatformState,
        buckets: ExporterBuckets,
        exports_topic_arn: str,
    ) -> LambdaFunction:
        environment = self.environment
        settings = environment.exporter.lambda_
        confluent = environment.confluent
        function = LambdaFunction(
            self,
            "exporter",
            function_name=function_name(environment),
            description="salesflow: weekly CSV reports from the Tableflow Iceberg table",
            role=role.arn,
            handler=HANDLER,
            runtime=LAMBDA_RUNTIME,
            architectures=[settings.architecture],
            memory_size=settings.memory_mb,
            timeout=settings.timeout_seconds,
            reserved_concurrent_executions=1,
            ephemeral_storage=LambdaFunctionEphemeralStorage(size=settings.ephemeral_storage_mb),
            s3_bucket=environment.aws.artifact_bucket,  # the bootstrap stack's bucket
            s3_key=artifact.s3_key,
            source_code_hash=artifact.source_code_hash,
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            environment=LambdaFunctionEnvironment(
                variables={
                    "SALESFLOW_ENV": environment.name,
                    "CATALOG_TYPE": "rest",
                    "CATALOG_URI": catalog_uri(environment, platform.environment_id),
                    "CATALOG_CREDENTIAL_SECRET_ID": platform.output(
                        ConfluentOutputs.EXPORTER_CATALOG_SECRET_ARN
                    ),
                    "CATALOG_VENDED_CREDENTIALS": str(confluent.tableflow.storage == "managed").lower(),
                    "TABLE_NAMESPACE": platform.kafka_cluster_id,
                    "TABLE_NAME": confluent.topics.clean.name,
                    "EXPORT_BUCKET": environment.aws.export.bucket,
                    "EXPORT_PREFIX": environment.aws.export.prefix,
                    "SNS_TOPIC_ARN": exports_topic_arn,
                    "WEEK_TIME_ZONE": environment.exporter.week_time_zone,
                    "REPORTS": ",".join(environment.exporter.reports),
                    "MAX_WORKERS": str(settings.max_workers),
                    "SUSPECT_FRACTION": str(environment.exporter.suspect_fraction),
                    "POWERTOOLS_SERVICE_NAME": "salesflow-exporter",
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                    **(self.notice.variables() if self.notice else {"NOTIFY": "sns"}),
                }
            ),
            depends_on=[self.log_group],
        )
        skip_checks(
            function,
            {
                "CKV_AWS_50": "X-Ray needs permissions outside the exporter role; logs and alarms suffice",
                "CKV_AWS_116": "failed asynchronous runs go to an on-failure destination (SQS), not a DLQ",
                "CKV_AWS_117": "the exporter calls Confluent's public Tableflow endpoint; it needs no VPC",
                "CKV_AWS_173": "environment variables hold names and ARNs only; secrets: Secrets Manager",
                "CKV_AWS_272": "the zip is content-addressed (exporter/<sha256>.zip) + source_code_hash",
            },
        )
        return function
