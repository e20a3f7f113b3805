"""The AWS stack (``<env>-aws``): the weekly exporter and everything it writes to or is watched by.

Buckets (exports, artifacts, access logs), the Lambda with its log group, role and failure queue,
the EventBridge Scheduler schedule, the SNS topics for analysts and on-call, and CloudWatch alarms.
The Tableflow catalog credential and its KMS key come from the Confluent stack's state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle, TerraformStack
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
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
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetDeadLetterConfig,
    SchedulerScheduleTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from salesflow.config import Environment
from terraform.artifact import LAMBDA_RUNTIME, ExporterArtifact
from terraform.stacks.common import (
    AWS,
    CONFLUENT,
    aws_provider,
    key_policy,
    output,
    remote_state,
    resource_prefix,
    skip_checks,
    stack_name,
    use_s3_backend,
)
from terraform.stacks.confluent_stack import ConfluentOutputs

HANDLER = "exporter.handler.handler"
# EventBridge Scheduler fills in the scheduled time; the exporter derives the ISO week from it.
SCHEDULE_INPUT = json.dumps({"scheduled_time": "<aws.scheduler.scheduled-time>"})
# Delivery retries of the schedule (throttling, service errors): up to 12 hours, then the DLQ.
SCHEDULE_RETRY_ATTEMPTS = 20
SCHEDULE_MAX_EVENT_AGE_SECONDS = 12 * 3600
# Lambda's own retries of a failed asynchronous run before the event goes to the failure queue.
LAMBDA_ASYNC_RETRIES = 2
LAMBDA_MAX_EVENT_AGE_SECONDS = 6 * 3600
DEAD_LETTER_RETENTION_SECONDS = 14 * 86400
NONCURRENT_EXPORT_VERSION_DAYS = 90
ACCESS_LOG_RETENTION_DAYS = 365
ABORT_MULTIPART_DAYS = 7
ONE_DAY = 86_400
# The "no export this week" alarm looks at 7 daily periods of successful runs.
WEEK_IN_DAYS = 7
NO_BUCKET_EVENTS = "nothing consumes object events; the exporter announces each export on SNS itself"


def catalog_uri(environment: Environment, environment_id: str) -> str:
    """Tableflow's Iceberg REST catalog: not a provider attribute, built from region, org and env ids."""
    cluster = environment.confluent.kafka_cluster
    return (
        f"https://tableflow.{cluster.region}.{cluster.cloud.lower()}.confluent.cloud/iceberg/catalog/"
        f"organizations/{environment.confluent.organization_id}/environments/{environment_id}"
    )


def _statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    effect: str = "Allow",
    principals: Sequence[DataAwsIamPolicyDocumentStatementPrincipals] | None = None,
    conditions: Sequence[DataAwsIamPolicyDocumentStatementCondition] | None = None,
) -> DataAwsIamPolicyDocumentStatement:
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect=effect,
        actions=list(actions),
        resources=list(resources) or None,
        principals=list(principals) if principals else None,
        condition=list(conditions) if conditions else None,
    )


def _service(name: str) -> DataAwsIamPolicyDocumentStatementPrincipals:
    return DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[name])


def _condition(test: str, variable: str, *values: str) -> DataAwsIamPolicyDocumentStatementCondition:
    return DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))


class AwsStack(TerraformStack):
    def __init__(self, scope: Construct, environment: Environment, artifact: ExporterArtifact) -> None:
        super().__init__(scope, stack_name(environment, AWS))
        self.environment = environment
        settings = environment.exporter.lambda_
        prefix = resource_prefix(environment)
        region = environment.aws.region
        use_s3_backend(self, environment, AWS)
        aws_provider(self, environment, AWS)
        platform = remote_state(self, environment, CONFLUENT)
        account = DataAwsCallerIdentity(self, "account")
        account_id = account.account_id
        function_name = f"{prefix}-exporter"
        log_group_name = f"/aws/lambda/{function_name}"

        # --- encryption key for exports, logs, artifacts and notifications ---------------------------
        policy = key_policy(
            account_id,
            [
                {
                    "Sid": "CloudWatchLogsEncryptsTheExporterLogGroup",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnEquals": {
                            "kms:EncryptionContext:aws:logs:arn": (
                                f"arn:aws:logs:{region}:{account_id}:log-group:{log_group_name}"
                            )
                        }
                    },
                },
                {
                    "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ],
        )
        key = KmsKey(
            self,
            "exporter_key",
            description=f"{prefix}: exports, artifacts, exporter logs and notifications",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy,
        )
        KmsAlias(self, "exporter_key_alias", name=f"alias/{prefix}-exporter", target_key_id=key.key_id)

        # --- buckets ---------------------------------------------------------------------------------
        log_bucket_name = f"{environment.aws.export.bucket}-access-logs"
        log_bucket = self._bucket(
            "access_log_bucket",
            log_bucket_name,
            kms_key_arn=None,  # S3 server access logs can only be delivered to SSE-S3 buckets
            extra_policy=[
                _statement(
                    "S3ServerAccessLogsDelivery",
                    ["s3:PutObject"],
                    [f"arn:aws:s3:::{log_bucket_name}/*"],
                    principals=[_service("logging.s3.amazonaws.com")],
                    conditions=[_condition("StringEquals", "aws:SourceAccount", account_id)],
                )
            ],
            rules=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=ACCESS_LOG_RETENTION_DAYS)],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=30)
                    ],
                )
            ],
            log_to=None,
        )
        skip_checks(
            log_bucket,
            {
                "CKV_AWS_144": "access logs stay in the region; cross-region replication is not required",
                "CKV2_AWS_62": NO_BUCKET_EVENTS,
                "CKV_AWS_145": "S3 server access logging delivers only to SSE-S3 (AES256) buckets",
            },
        )
        export = environment.aws.export
        export_bucket = self._bucket(
            "export_bucket",
            export.bucket,
            kms_key_arn=key.arn,
            rules=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-old-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=NONCURRENT_EXPORT_VERSION_DAYS
                        )
                    ],
                ),
                # A run killed by its timeout cannot clean up its staging copies: expire them.
                S3BucketLifecycleConfigurationRule(
                    id="expire-abandoned-staging",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=f"{export.prefix}/_staging/")],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=1)],
                ),
            ],
            log_to=(log_bucket, "exports/"),
        )
        skip_checks(
            export_bucket,
            {
                "CKV_AWS_144": "weekly CSVs are reproducible from the Iceberg table; no second-region copy",
                "CKV2_AWS_62": NO_BUCKET_EVENTS,
            },
        )
        artifact_bucket = self._bucket(
            "artifact_bucket",
            environment.aws.artifact_bucket,
            kms_key_arn=key.arn,
            rules=[],  # artifacts are never expired: a revert must find every earlier zip
            log_to=(log_bucket, "artifacts/"),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        skip_checks(
            artifact_bucket,
            {
                "CKV_AWS_144": "artifacts are rebuilt from git by `make package`; no second-region copy",
                "CKV2_AWS_62": NO_BUCKET_EVENTS,
            },
        )

        # --- notifications ---------------------------------------------------------------------------
        exports_topic = self._email_topic(
            "exports_topic", f"{prefix}-exports", "salesflow weekly exports", key.arn,
            "analyst", environment.exporter.analysts,
        )  # fmt: skip
        alarms_topic = self._email_topic(
            "alarms_topic", f"{prefix}-alarms", "salesflow exporter alarms", key.arn,
            "on_call", environment.exporter.alarm_emails,
        )  # fmt: skip

        # --- dead letters ------------------------------------------------------------------------------
        failures = SqsQueue(
            self,
            "exporter_failures",
            name=f"{prefix}-exporter-failures",
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
        )
        schedule_dlq = SqsQueue(
            self,
            "schedule_dead_letters",
            name=f"{prefix}-exporter-schedule-dlq",
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
        )

        # --- the function ------------------------------------------------------------------------------
        log_group = CloudwatchLogGroup(
            self,
            "exporter_logs",
            name=log_group_name,
            retention_in_days=settings.log_retention_days,
            kms_key_id=key.arn,
        )
        if settings.log_retention_days < 365:
            skip_checks(
                log_group,
                {
                    "CKV_AWS_338": f"exporter.lambda.log_retention_days is {settings.log_retention_days} in "
                    f"environments/{environment.name}.yaml: a deliberate, shorter retention"
                },
            )
        catalog_secret_arn = platform.get_string(ConfluentOutputs.EXPORTER_CATALOG_SECRET_ARN)
        byob = environment.confluent.tableflow.byob
        policy_statements = [
            _statement("ReadCatalogCredential", ["secretsmanager:GetSecretValue"], [catalog_secret_arn]),
            _statement(
                "DecryptCatalogCredential",
                ["kms:Decrypt"],
                [platform.get_string(ConfluentOutputs.SECRETS_KMS_KEY_ARN)],
                conditions=[
                    _condition("StringEquals", "kms:ViaService", f"secretsmanager.{region}.amazonaws.com")
                ],
            ),
            # Delete: the exporter removes its staging copies and, before republishing a week, the
            # old manifest (a manifest must only ever describe a complete export).
            _statement(
                "PutGetAndDeleteExports",
                ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                [f"{export_bucket.arn}/{export.prefix}/*"],
            ),
            _statement("PublishExportNotice", ["sns:Publish"], [exports_topic.arn]),
            _statement(
                "EncryptExportsAndNotices",
                ["kms:GenerateDataKey", "kms:Decrypt"],
                [key.arn],
                conditions=[
                    _condition(
                        "StringEquals",
                        "kms:ViaService",
                        f"s3.{region}.amazonaws.com",
                        f"sns.{region}.amazonaws.com",
                    )
                ],
            ),
            _statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group.arn}:*"]),
            # Lambda delivers a failed asynchronous run to the failure queue with the function's role.
            _statement("SendFailedRunsToQueue", ["sqs:SendMessage"], [failures.arn]),
        ]
        if byob is not None:
            policy_statements.append(
                _statement(
                    "ReadTableflowBucket",
                    ["s3:GetObject", "s3:ListBucket"],
                    [f"arn:aws:s3:::{byob.bucket}", f"arn:aws:s3:::{byob.bucket}/*"],
                )
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
                    _statement(
                        "LambdaAssumesRole",
                        ["sts:AssumeRole"],
                        [],
                        principals=[_service("lambda.amazonaws.com")],
                    )
                ],
            ).json,
        )
        permissions = DataAwsIamPolicyDocument(self, "exporter_permissions", statement=policy_statements)
        IamRolePolicy(self, "exporter_role_policy", name="exporter", role=role.id, policy=permissions.json)

        confluent = environment.confluent
        environment_id = confluent.environment.id or platform.get_string(ConfluentOutputs.ENVIRONMENT_ID)
        cluster_id = confluent.kafka_cluster.id or platform.get_string(ConfluentOutputs.KAFKA_CLUSTER_ID)
        function = LambdaFunction(
            self,
            "exporter",
            function_name=function_name,
            description="salesflow: weekly CSV reports from the Tableflow Iceberg table",
            role=role.arn,
            handler=HANDLER,
            runtime=LAMBDA_RUNTIME,
            architectures=[settings.architecture],
            memory_size=settings.memory_mb,
            timeout=settings.timeout_seconds,
            reserved_concurrent_executions=1,
            ephemeral_storage=LambdaFunctionEphemeralStorage(size=settings.ephemeral_storage_mb),
            s3_bucket=artifact_bucket.bucket,
            s3_key=artifact.s3_key,
            source_code_hash=artifact.source_code_hash,
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=log_group.name),
            environment=LambdaFunctionEnvironment(
                variables={
                    "SALESFLOW_ENV": environment.name,
                    "CATALOG_TYPE": "rest",
                    "CATALOG_URI": catalog_uri(environment, environment_id),
                    "CATALOG_CREDENTIAL_SECRET_ID": catalog_secret_arn,
                    "CATALOG_VENDED_CREDENTIALS": str(confluent.tableflow.storage == "managed").lower(),
                    "TABLE_NAMESPACE": cluster_id,
                    "TABLE_NAME": confluent.topics.clean.name,
                    "EXPORT_BUCKET": export.bucket,
                    "EXPORT_PREFIX": export.prefix,
                    "SNS_TOPIC_ARN": exports_topic.arn,
                    "WEEK_TIME_ZONE": environment.exporter.week_time_zone,
                    "REPORTS": ",".join(environment.exporter.reports),
                    "MAX_WORKERS": str(settings.max_workers),
                    "POWERTOOLS_SERVICE_NAME": "salesflow-exporter",
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                }
            ),
            depends_on=[log_group],
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
        LambdaFunctionEventInvokeConfig(
            self,
            "exporter_async",
            function_name=function.function_name,
            maximum_retry_attempts=LAMBDA_ASYNC_RETRIES,
            maximum_event_age_in_seconds=LAMBDA_MAX_EVENT_AGE_SECONDS,
            destination_config=LambdaFunctionEventInvokeConfigDestinationConfig(
                on_failure=LambdaFunctionEventInvokeConfigDestinationConfigOnFailure(destination=failures.arn)
            ),
        )

        # --- weekly schedule ---------------------------------------------------------------------------
        scheduler_role = IamRole(
            self,
            "scheduler_role",
            name=f"{prefix}-exporter-schedule",
            description="EventBridge Scheduler: invoke the exporter, dead-letter undeliverable runs",
            assume_role_policy=DataAwsIamPolicyDocument(
                self,
                "scheduler_trust",
                statement=[
                    _statement(
                        "SchedulerAssumesRole",
                        ["sts:AssumeRole"],
                        [],
                        principals=[_service("scheduler.amazonaws.com")],
                        conditions=[_condition("StringEquals", "aws:SourceAccount", account_id)],
                    )
                ],
            ).json,
        )
        IamRolePolicy(
            self,
            "scheduler_role_policy",
            name="invoke-exporter",
            role=scheduler_role.id,
            policy=DataAwsIamPolicyDocument(
                self,
                "scheduler_permissions",
                statement=[
                    _statement("InvokeExporter", ["lambda:InvokeFunction"], [function.arn]),
                    _statement("DeadLetterUndeliverableRuns", ["sqs:SendMessage"], [schedule_dlq.arn]),
                ],
            ).json,
        )
        schedule = environment.exporter.schedule
        weekly = SchedulerSchedule(
            self,
            "weekly_export",
            name=f"{prefix}-weekly-export",
            description="Export the previous ISO week",
            schedule_expression=f"cron({schedule.cron})",
            schedule_expression_timezone=schedule.time_zone,
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            state="ENABLED",
            target=SchedulerScheduleTarget(
                arn=function.arn,
                role_arn=scheduler_role.arn,
                input=SCHEDULE_INPUT,
                retry_policy=SchedulerScheduleTargetRetryPolicy(
                    maximum_retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=SCHEDULE_MAX_EVENT_AGE_SECONDS,
                ),
                dead_letter_config=SchedulerScheduleTargetDeadLetterConfig(arn=schedule_dlq.arn),
            ),
        )
        skip_checks(
            weekly,
            {
                "CKV_AWS_297": (
                    "the schedule's only payload is the fixed scheduled-time template; the AWS-owned "
                    "key protects it and a CMK would need extra grants for the scheduler"
                ),
            },
        )

        # --- alarms ------------------------------------------------------------------------------------
        notify = [alarms_topic.arn]
        CloudwatchMetricAlarm(
            self,
            "exporter_errors",
            alarm_name=f"{prefix}-exporter-errors",
            alarm_description="The exporter failed (each failed attempt counts)",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions={"FunctionName": function.function_name},
            statistic="Sum",
            period=3600,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=notify,
            ok_actions=notify,
        )
        for id_, queue, what in (
            ("exporter_failures_depth", failures, "a run failed after Lambda's retries"),
            ("schedule_dead_letters_depth", schedule_dlq, "the schedule could not deliver a run"),
        ):
            CloudwatchMetricAlarm(
                self,
                id_,
                alarm_name=f"{prefix}-{id_.replace('_', '-')}",
                alarm_description=f"Dead letters waiting: {what}",
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": queue.name},
                statistic="Maximum",
                period=300,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=notify,
                ok_actions=notify,
            )

        def lambda_metric(name: str) -> CloudwatchMetricAlarmMetricQueryMetric:
            return CloudwatchMetricAlarmMetricQueryMetric(
                namespace="AWS/Lambda",
                metric_name=name,
                dimensions={"FunctionName": function.function_name},
                stat="Sum",
                period=ONE_DAY,
            )

        CloudwatchMetricAlarm(
            self,
            "no_export_this_week",
            alarm_name=f"{prefix}-no-export-this-week",
            alarm_description="No successful exporter run in the last 7 days (the weekly export is missing)",
            metric_query=[
                CloudwatchMetricAlarmMetricQuery(id="runs", metric=lambda_metric("Invocations")),
                CloudwatchMetricAlarmMetricQuery(id="failures", metric=lambda_metric("Errors")),
                CloudwatchMetricAlarmMetricQuery(
                    id="successes",
                    expression="FILL(runs, 0) - FILL(failures, 0)",
                    label="Successful runs per day",
                    return_data=True,
                ),
            ],
            evaluation_periods=WEEK_IN_DAYS,
            datapoints_to_alarm=WEEK_IN_DAYS,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=notify,
            ok_actions=notify,
        )

        output(self, "exporter_function_name", function.function_name, "The exporter Lambda")
        output(self, "exports_topic_arn", exports_topic.arn, "SNS topic the analysts subscribe to")
        output(self, "alarms_topic_arn", alarms_topic.arn, "SNS topic of the exporter alarms")
        output(self, "artifact_bucket_name", artifact_bucket.bucket, "Upload make package's zip here")

    def _email_topic(
        self,
        id_: str,
        name: str,
        display_name: str,
        kms_key_arn: str,
        subscriber: str,
        addresses: Sequence[str],
    ) -> SnsTopic:
        """A KMS-encrypted SNS topic with one e-mail subscription per address (each must be confirmed)."""
        topic = SnsTopic(self, id_, name=name, kms_master_key_id=kms_key_arn, display_name=display_name)
        for index, address in enumerate(addresses):
            SnsTopicSubscription(
                self, f"{subscriber}_{index}", topic_arn=topic.arn, protocol="email", endpoint=address
            )
        return topic

    def _bucket(
        self,
        id_: str,
        name: str,
        *,
        kms_key_arn: str | None,
        rules: list[S3BucketLifecycleConfigurationRule],
        log_to: tuple[S3Bucket, str] | None,
        extra_policy: list[DataAwsIamPolicyDocumentStatement] | None = None,
        lifecycle: TerraformResourceLifecycle | None = None,
    ) -> S3Bucket:
        """A private, versioned, encrypted bucket that refuses plain HTTP."""
        bucket = S3Bucket(self, id_, bucket=name, force_destroy=False, lifecycle=lifecycle)
        S3BucketPublicAccessBlock(
            self,
            f"{id_}_public_access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            f"{id_}_ownership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketVersioningA(
            self,
            f"{id_}_versioning",
            bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        by_default = (
            S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
            )
            if kms_key_arn
            else S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="AES256"
            )
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            f"{id_}_encryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=by_default, bucket_key_enabled=bool(kms_key_arn)
                )
            ],
        )
        abort_uploads = S3BucketLifecycleConfigurationRule(
            id="abort-incomplete-uploads",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=ABORT_MULTIPART_DAYS
                )
            ],
        )
        S3BucketLifecycleConfiguration(
            self, f"{id_}_lifecycle", bucket=bucket.id, rule=[abort_uploads, *rules]
        )
        if log_to is not None:
            target, target_prefix = log_to
            S3BucketLoggingA(
                self, f"{id_}_logging", bucket=bucket.id, target_bucket=target.id, target_prefix=target_prefix
            )
        policy = DataAwsIamPolicyDocument(
            self,
            f"{id_}_policy_document",
            statement=[
                _statement(
                    "DenyPlainHttp",
                    ["s3:*"],
                    [bucket.arn, f"{bucket.arn}/*"],
                    effect="Deny",
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
                    conditions=[_condition("Bool", "aws:SecureTransport", "false")],
                ),
                *(extra_policy or []),
            ],
        )
        S3BucketPolicy(self, f"{id_}_policy", bucket=bucket.id, policy=policy.json)
        return bucket
