"""The AWS stack (``<env>-aws``): the weekly exporter, the pipeline monitor and everything they write to or
are watched by.

It composes one construct per concern (``terraform/aws/``): the encryption key, the buckets (exports,
access logs), the notification topics (analysts, on-call), the analysts' download links (CloudFront,
signing keys) and e-mail sender (SES), the exporter function with its role, log group and failure
queue, its weekly schedule, and its alarms; the monitor function, its schedule every few minutes, its
alarms (one per condition) and the pipeline's dashboard. The Tableflow catalog credential and its KMS
key come from the Confluent stack's state. The artifact bucket is the bootstrap stack's (this stack
forgets its old copy of it without destroying anything), and every role carries the bootstrap's workload
boundary.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from constructs import Construct

from salesflow.config import Environment
from terraform.artifact import ExporterArtifact, LambdaArtifact
from terraform.aws.alarms import ExporterAlarms
from terraform.aws.buckets import ExporterBuckets, bucket_addresses
from terraform.aws.dashboard import PipelineDashboard
from terraform.aws.downloads import DownloadLinks
from terraform.aws.email import AnalystEmailSender, AnalystNotice
from terraform.aws.encryption import ExporterKey
from terraform.aws.exporter_function import ExporterFunction, log_group_name
from terraform.aws.monitor_alarms import MonitorAlarms
from terraform.aws.monitor_function import MonitorFunction
from terraform.aws.notifications import Notifications
from terraform.aws.schedule import MonitorSchedule, WeeklySchedule
from terraform.confluent.outputs import PlatformState
from terraform.stacks.common import (
    AWS,
    SalesflowStack,
    aws_provider,
    bound_every_role,
    forget,
    output,
    stack_name,
    use_s3_backend,
)


class AwsStack(SalesflowStack):
    def __init__(
        self,
        scope: Construct,
        environment: Environment,
        artifact: ExporterArtifact,
        monitor_artifact: LambdaArtifact,
    ) -> None:
        super().__init__(scope, stack_name(environment, AWS))
        self.environment = environment
        use_s3_backend(self, environment, AWS)
        aws_provider(self, environment, AWS)
        platform = PlatformState(self, environment)
        account_id = DataAwsCallerIdentity(self, "account").account_id
        bound_every_role(self, f"arn:aws:iam::{account_id}:policy/{environment.names.boundary_policy}")
        # The artifact bucket moved to <env>-bootstrap (which imports it): forget it, destroy nothing.
        forget(self, bucket_addresses("artifact_bucket"))

        key = ExporterKey(self, "encryption", environment, account_id, log_group_name(environment))
        buckets = ExporterBuckets(self, "buckets", environment, key.arn, account_id)
        topics = Notifications(self, "notifications", environment, key.arn)
        notice = self._analyst_notice(key, buckets, topics.alarms.arn, account_id)
        exporter = ExporterFunction(
            self,
            "exporter_function",
            environment,
            artifact,
            platform=platform,
            kms_key_arn=key.arn,
            buckets=buckets,
            exports_topic_arn=topics.exports.arn,
            notice=notice,
        )
        schedule = WeeklySchedule(self, "schedule", environment, exporter.function, account_id)
        ExporterAlarms(
            self,
            "alarms",
            environment,
            function=exporter.function,
            failures=exporter.failures,
            schedule_dead_letters=schedule.dead_letters,
            alarms_topic_arn=topics.alarms.arn,
        )
        monitor = MonitorFunction(
            self,
            "monitor_function",
            environment,
            monitor_artifact,
            platform=platform,
            key=key,
            account_id=account_id,
        )
        MonitorSchedule(self, "monitor_schedule", environment, monitor.function, account_id)
        alarms = MonitorAlarms(self, "monitor_alarms", environment, alarms_topic_arn=topics.alarms.arn)
        PipelineDashboard(self, "dashboard", environment, alarms=alarms.alarms.values())

        output(self, "exporter_function_name", exporter.function.function_name, "The exporter Lambda")
        output(self, "monitor_function_name", monitor.function.function_name, "The pipeline monitor Lambda")
        output(self, "exports_topic_arn", topics.exports.arn, "SNS topic the analysts subscribe to")
        output(self, "alarms_topic_arn", topics.alarms.arn, "SNS topic of the exporter alarms")
        output(
            self, "artifact_bucket_name", environment.aws.artifact_bucket, "Upload make package's zip here"
        )

    def _analyst_notice(
        self, key: ExporterKey, buckets: ExporterBuckets, on_call_topic_arn: str, account_id: str
    ) -> AnalystNotice | None:
        """Download links and the SES sender, each when its block is configured; the exporter e-mails
        the analysts when ``exporter.notify`` is ``email`` (which needs both)."""
        exporter = self.environment.exporter
        downloads = sender = None
        if exporter.downloads is not None:
            downloads = DownloadLinks(
                self, "downloads", self.environment, exporter.downloads, key=key, buckets=buckets
            )
            output(self, "download_base_url", downloads.base_url, "Where the analysts' download links point")
        if exporter.email is not None:
            sender = AnalystEmailSender(
                self, "analyst_email", self.environment, exporter.email, on_call_topic_arn
            )
            key.allow(sender.key_statement(account_id))
            output(
                self,
                "email_dkim_tokens",
                sender.dkim_tokens(),
                f"Publish <token>._domainkey.{exporter.email.sender_domain} CNAME <token>.dkim.amazonses.com",
            )
        if exporter.notify == "email" and downloads is not None and sender is not None:
            return AnalystNotice(self.environment, sender, downloads)
        return None
