"""What the pipeline monitor (``monitor/``) reads Confluent with: its own service account, view-only roles,
three keys and one Secrets Manager secret that only the monitor's role may read.

The account may read metrics (MetricsViewer), see the environment's statements and Tableflow topics
without changing them (EnvironmentOperator, view-only) and read the clean topic's table through the
Iceberg REST catalog (DeveloperRead on the topic, as the exporter). The secret
``salesflow/<env>/confluent/monitor-api-keys`` holds ``{"cloud", "flink", "tableflow"}``, each
``key:secret`` (monitor/confluent.py); its resource policy denies reading it to every principal but the
monitor's role and the two pipeline roles that refresh this stack.
"""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_policy import SecretsmanagerSecretPolicy
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from salesflow.config import Environment
from terraform.aws.iam import anyone, condition, statement
from terraform.confluent.platform import ConfluentPlatform
from terraform.confluent.secrets import ROTATION_BY_REPLACE, secret_name
from terraform.confluent_provider import ApiKey, ApiKeyManagedResource, RoleBinding, ServiceAccount, meta
from terraform.stacks.common import resource_prefix, skip_checks

MONITOR_SECRET = "monitor-api-keys"  # noqa: S105 - a secret's name, not a secret


def monitor_role_name(environment: Environment) -> str:
    """The monitor Lambda's role (the AWS stack creates it; this stack names it in the secret's policy)."""
    return f"{resource_prefix(environment)}-monitor"


class MonitorCredentials(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        platform: ConfluentPlatform,
        kms_key_arn: str,
        account_id: str,
    ) -> None:
        super().__init__(scope, id_)
        prefix = resource_prefix(environment)
        account = ServiceAccount(
            self,
            "monitor",
            display_name=f"{prefix}-monitor",
            description="salesflow monitor: reads metrics, statement and Tableflow status; changes nothing",
        )
        clean = environment.confluent.topics.clean.name
        grants = [
            ("monitor_metrics_viewer", "MetricsViewer", platform.environment.resource_name),
            ("monitor_environment_operator", "EnvironmentOperator", platform.environment.resource_name),
            ("monitor_read_clean_topic", "DeveloperRead", platform.topic_crn(clean)),
        ]
        bindings = [
            RoleBinding(self, name, principal=account.principal, role_name=role, crn_pattern=crn)
            for name, role, crn in grants
        ]
        env_ref = platform.environment_ref
        scopes = {
            "cloud": None,  # a Cloud API key: Metrics API and Tableflow topics
            "flink": platform.flink_region.as_managed_resource(env_ref),
            "tableflow": ApiKeyManagedResource(
                id="tableflow", api_version="tableflow/v1", kind="Tableflow", environment=env_ref
            ),
        }
        keys = {
            what: ApiKey(
                self,
                f"monitor_{what}_key",
                display_name=f"{prefix}-monitor-{what}-key",
                description=f"salesflow monitor: {what} key (read-only checks every few minutes)",
                owner=account.owner(),
                managed_resource=managed,
                meta=meta(depends_on=bindings),
            )
            for what, managed in scopes.items()
        }
        self.secret = SecretsmanagerSecret(
            self,
            "monitor_api_keys",
            name=secret_name(environment, MONITOR_SECRET),
            description="salesflow monitor: its Cloud, Flink and Tableflow keys (JSON of key:secret)",
            kms_key_id=kms_key_arn,
        )
        skip_checks(self.secret, {"CKV2_AWS_57": ROTATION_BY_REPLACE})
        SecretsmanagerSecretVersion(
            self,
            "monitor_api_keys_value",
            secret_id=self.secret.id,
            secret_string=Fn.jsonencode({what: f"{key.id}:{key.secret}" for what, key in keys.items()}),
        )
        readers = [
            f"arn:aws:iam::{account_id}:role/{name}"
            for name in (
                monitor_role_name(environment),
                environment.names.role("deploy"),
                environment.names.role("plan"),
            )
        ]
        SecretsmanagerSecretPolicy(
            self,
            "monitor_api_keys_policy",
            secret_arn=self.secret.arn,
            policy=DataAwsIamPolicyDocument(
                self,
                "monitor_api_keys_readers",
                statement=[
                    statement(
                        "OnlyTheMonitorReadsItsKeys",
                        ["secretsmanager:GetSecretValue"],
                        ["*"],
                        effect="Deny",
                        principals=[anyone()],
                        conditions=[condition("ArnNotEquals", "aws:PrincipalArn", *readers)],
                    )
                ],
            ).json,
        )
