"""The pipeline monitor Lambda (``monitor/``): its role (its keys, its logs, its own metric history), log
group and code, run every few minutes by EventBridge Scheduler (``schedule.py``).

The code is the content-addressed zip ``make package`` built (``monitor/<sha256>.zip`` in the artifact
bucket); its settings (monitor/settings.py) are environment variables from the environment file and the
Confluent stack's outputs. What it publishes (EMF in its log stream) and the alarms on it:
``monitor/conditions.py`` and ``monitor_alarms.py``.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
)
from constructs import Construct

from monitor.conditions import NAMESPACE, SERVICE
from salesflow.config import Environment
from salesflow.sql.render import render_statements
from terraform.artifact import LAMBDA_RUNTIME, LambdaArtifact
from terraform.aws.encryption import ExporterKey
from terraform.aws.exporter_function import catalog_uri
from terraform.aws.iam import Statement, read_secret, service, statement
from terraform.confluent.monitor import monitor_role_name
from terraform.confluent.outputs import ConfluentOutputs, PlatformState
from terraform.stacks.common import resource_prefix, skip_checks

HANDLER = "monitor.handler.handler"


def monitor_function_name(environment: Environment) -> str:
    return f"{resource_prefix(environment)}-monitor"


def monitor_log_group_name(environment: Environment) -> str:
    return f"/aws/lambda/{monitor_function_name(environment)}"


def continuous_statement(environment: Environment) -> str:
    """The statement the monitor watches: the environment's one continuous INSERT."""
    return next(s.name for s in render_statements(environment, "confluent") if s.kind == "continuous")


class MonitorFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        artifact: LambdaArtifact,
        *,
        platform: PlatformState,
        key: ExporterKey,
        account_id: str,
    ) -> None:
        super().__init__(scope, id_)
        self.environment = environment
        settings = environment.monitor.lambda_
        log_group = monitor_log_group_name(environment)
        region = environment.aws.region
        key.allow(
            {
                "Sid": "CloudWatchLogsEncryptsTheMonitorLogGroup",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:aws:logs:{region}:{account_id}:log-group:{log_group}"
                        )
                    }
                },
            }
        )
        self.log_group = CloudwatchLogGroup(
            self,
            "monitor_logs",
            name=log_group,
            retention_in_days=settings.log_retention_days,
            kms_key_id=key.arn,
        )
        if settings.log_retention_days < 365:
            skip_checks(
                self.log_group,
                {
                    "CKV_AWS_338": f"monitor.lambda.log_retention_days is {settings.log_retention_days} in "
                    f"environments/{environment.name}.yaml: a deliberate, shorter retention"
                },
            )
        self.role = IamRole(
            self,
            "monitor_role",
            name=monitor_role_name(environment),
            description="salesflow monitor Lambda: reads its Confluent keys and its own metrics, writes logs",
            assume_role_policy=DataAwsIamPolicyDocument(
                self,
                "monitor_trust",
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
            self, "monitor_permissions", statement=self._permissions(platform)
        )
        IamRolePolicy(self, "monitor_role_policy", name="monitor", role=self.role.id, policy=permissions.json)
        self.function = self._function(artifact, platform)

    def _permissions(self, platform: PlatformState) -> list[Statement]:
        """The monitor role's statements, and nothing more (terraform/README.md lists them)."""
        region = self.environment.aws.region
        return [
            *read_secret(
                "MonitorKeys",
                platform.output(ConfluentOutputs.MONITOR_SECRET_ARN),
                platform.output(ConfluentOutputs.SECRETS_KMS_KEY_ARN),
                region,
            ),
            statement(
                "WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{self.log_group.arn}:*"]
            ),
            # Progress and rising lag compare with the monitor's own earlier datapoints (monitor/history.py).
            # GetMetricData has no resource-level permissions: "*" is the only resource it takes.
            statement("ReadOwnMetricHistory", ["cloudwatch:GetMetricData"], ["*"]),
        ]

    def _function(self, artifact: LambdaArtifact, platform: PlatformState) -> LambdaFunction:
        environment = self.environment
        monitor = environment.monitor
        confluent = environment.confluent
        function = LambdaFunction(
            self,
            "monitor",
            function_name=monitor_function_name(environment),
            description="salesflow: checks the statement, lag, Tableflow, freshness and intake",
            role=self.role.arn,
            handler=HANDLER,
            runtime=LAMBDA_RUNTIME,
            architectures=[monitor.lambda_.architecture],
            memory_size=monitor.lambda_.memory_mb,
            timeout=monitor.lambda_.timeout_seconds,
            # One run at a time: an overlapping run would compare against an unfinished one.
            reserved_concurrent_executions=1,
            s3_bucket=environment.aws.artifact_bucket,  # the bootstrap stack's bucket
            s3_key=artifact.s3_key,
            source_code_hash=artifact.source_code_hash,
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            environment=LambdaFunctionEnvironment(
                variables={
                    "SALESFLOW_ENV": environment.name,
                    "CONFLUENT_ORGANIZATION_ID": confluent.organization_id,
                    "CONFLUENT_ENVIRONMENT_ID": platform.environment_id,
                    "KAFKA_CLUSTER_ID": platform.kafka_cluster_id,
                    "COMPUTE_POOL_ID": platform.output(ConfluentOutputs.COMPUTE_POOL_ID),
                    "STATEMENT_NAME": continuous_statement(environment),
                    "RAW_TOPIC": confluent.topics.raw.name,
                    "CLEAN_TOPIC": confluent.topics.clean.name,
                    "FLINK_ENDPOINT": platform.output(ConfluentOutputs.FLINK_REST_ENDPOINT),
                    "CATALOG_URI": catalog_uri(environment, platform.environment_id),
                    "CREDENTIALS_SECRET_ID": platform.output(ConfluentOutputs.MONITOR_SECRET_ARN),
                    "STALLED_AFTER_MINUTES": str(monitor.stalled_after_minutes),
                    "PENDING_RISING_MINUTES": str(monitor.pending_rising_minutes),
                    "WATERMARK_MAX_AGE_MINUTES": str(monitor.watermark_max_age_minutes),
                    "TABLE_MAX_AGE_MINUTES": str(monitor.table_max_age_minutes),
                    "NO_INTAKE_MINUTES": str(monitor.no_intake_minutes or "off"),
                    "POWERTOOLS_SERVICE_NAME": SERVICE,
                    "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                }
            ),
            depends_on=[self.log_group],
        )
        skip_checks(
            function,
            {
                "CKV_AWS_50": "X-Ray needs permissions outside the monitor role; metrics and logs suffice",
                "CKV_AWS_116": "a failed run is not retried: the next comes in minutes, the heartbeat alarms",
                "CKV_AWS_117": "the monitor calls Confluent's public APIs; it needs no VPC",
                "CKV_AWS_173": "environment variables hold ids, names and ARNs only; keys: Secrets Manager",
                "CKV_AWS_272": "the zip is content-addressed (monitor/<sha256>.zip) + source_code_hash",
            },
        )
        return function
