"""The exporter's KMS key: exports, artifacts, exporter logs and both SNS topics are encrypted with it."""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from salesflow.config import Environment
from terraform.stacks.common import key_policy, resource_prefix


class ExporterKey(Construct):
    """A rotating customer-managed key whose policy lets CloudWatch Logs (the exporter's log group only)
    and CloudWatch alarms (publishing to the encrypted topics) use it."""

    def __init__(
        self, scope: Construct, id_: str, environment: Environment, account_id: str, log_group_name: str
    ) -> None:
        super().__init__(scope, id_)
        prefix = resource_prefix(environment)
        region = environment.aws.region
        self.account_id = account_id
        self.statements: list[dict[str, Any]] = [
            {
                "Sid": "CloudWatchLogsEncryptsTheExporterLogGroup",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                # No kms:Describe*: DescribeKey carries no encryption context, so under this
                # condition it was never granted (the policy linter flags it).
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                "Resource": "*",
                # The context value is a string (an ARN): StringEquals is its typed operator.
                "Condition": {
                    "StringEquals": {
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
        ]
        self.key = KmsKey(
            self,
            "exporter_key",
            description=f"{prefix}: exports, artifacts, exporter logs and notifications",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy(account_id, self.statements),
        )
        KmsAlias(self, "exporter_key_alias", name=f"alias/{prefix}-exporter", target_key_id=self.key.key_id)

    def allow(self, service_statement: dict[str, Any]) -> None:
        """Let another service use the key (e.g. CloudFront reading exports, SES publishing to on-call)."""
        self.statements.append(service_statement)
        self.key.policy = key_policy(self.account_id, self.statements)

    @property
    def arn(self) -> str:
        return self.key.arn
