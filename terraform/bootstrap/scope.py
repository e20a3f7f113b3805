"""ARNs of one environment's AWS objects, built from names: the bootstrap's policies are written with them.

Names come from ``environments/<env>.yaml`` and ``Environment.names``; everything the deploy pipeline
creates is named ``salesflow-<env>-...`` (buckets excepted: their names are configured). The account id
is ``data.aws_caller_identity``'s, so the policies never hold an account number.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesflow.config import BootstrapNames, Environment


@dataclass(frozen=True)
class Scope:
    environment: Environment
    account_id: str

    @property
    def names(self) -> BootstrapNames:
        return self.environment.names

    @property
    def region(self) -> str:
        return self.environment.aws.region

    @property
    def prefix(self) -> str:
        return self.names.prefix

    def arn(self, service: str, resource: str) -> str:
        """A regional ARN of this account (``arn:aws:<service>:<region>:<account>:<resource>``)."""
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    def iam(self, resource: str) -> str:
        return f"arn:aws:iam::{self.account_id}:{resource}"

    @staticmethod
    def bucket(name: str) -> str:
        return f"arn:aws:s3:::{name}"

    # --- objects of the bootstrap stack -------------------------------------------------------------

    @property
    def state_bucket(self) -> str:
        return self.bucket(self.environment.aws.state_backend.bucket)

    @property
    def state_prefix(self) -> str:
        """``arn:aws:s3:::<state bucket>/<key prefix>``: the environment's state objects live below it."""
        return f"{self.state_bucket}/{self.environment.aws.state_backend.key_prefix}"

    @property
    def bootstrap_state(self) -> str:
        """The bootstrap stack's own state (and its lock file): an administrator's only."""
        return f"{self.state_bucket}/{self.names.state_key}*"

    @property
    def artifact_bucket(self) -> str:
        return self.bucket(self.environment.aws.artifact_bucket)

    @property
    def access_log_bucket(self) -> str:
        return self.bucket(self.names.access_log_bucket)

    @property
    def boundary(self) -> str:
        return self.iam(f"policy/{self.names.boundary_policy}")

    @property
    def bootstrap_policies(self) -> str:
        """Managed policies are the bootstrap's only (boundary, the pipelines' read and delivery policies)."""
        return self.iam(f"policy/{self.prefix}-*")

    @property
    def bootstrap_roles(self) -> str:
        return self.iam(f"role/{self.names.bootstrap_role_pattern}")

    def role(self, purpose: str) -> str:
        return self.iam(f"role/{self.names.role(purpose)}")

    @property
    def oidc_provider(self) -> str:
        return self.iam("oidc-provider/token.actions.githubusercontent.com")

    @property
    def pepper_secret(self) -> str:
        # Secrets Manager appends six random characters to a secret's name in its ARN.
        return self.arn("secretsmanager", f"secret:{self.environment.confluent.pii.pepper_secret}-??????")

    @property
    def bootstrap_secrets(self) -> str:
        return self.arn("secretsmanager", f"secret:{self.names.bootstrap_secret_prefix}*")

    # --- objects the deploy pipeline manages ----------------------------------------------------------

    @property
    def managed_buckets(self) -> list[str]:
        """Buckets of the AWS stack: the exports, their access logs and the download links' logs."""
        export = self.environment.aws.export.bucket
        return [
            self.bucket(export),
            self.bucket(f"{export}-access-logs"),
            self.bucket(f"{export}-download-logs"),
        ]

    @property
    def confluent_secrets(self) -> str:
        """API keys the Confluent stack hands on (``salesflow/<env>/confluent/...``)."""
        return self.arn("secretsmanager", f"secret:salesflow/{self.environment.name}/confluent/*")

    @property
    def exporter_secrets(self) -> str:
        """Secrets the AWS stack makes for the exporter (``salesflow/<env>/exporter/...``: signing keys)."""
        return self.arn("secretsmanager", f"secret:salesflow/{self.environment.name}/exporter/*")

    def cloudfront(self, kind: str) -> str:
        """CloudFront objects of this account (a global service: no region in the ARN)."""
        return f"arn:aws:cloudfront::{self.account_id}:{kind}/*"

    @property
    def email_identity(self) -> list[str]:
        """The analysts' SES sender identity (the configured domain), when the environment has one."""
        email = self.environment.exporter.email
        return [self.arn("ses", f"identity/{email.sender_domain}")] if email is not None else []

    @property
    def configuration_sets(self) -> str:
        return self.arn("ses", f"configuration-set/{self.prefix}-*")

    def named(self, service: str, kind: str = "") -> str:
        """``arn:aws:<service>:<region>:<account>:<kind><prefix>-*``: an object under the name prefix."""
        return self.arn(service, f"{kind}{self.prefix}-*")

    @property
    def functions(self) -> str:
        return self.named("lambda", "function:")

    @property
    def log_groups(self) -> str:
        return self.arn("logs", f"log-group:/aws/lambda/{self.prefix}-*")

    @property
    def schedules(self) -> str:
        return self.arn("scheduler", f"schedule/default/{self.prefix}-*")

    @property
    def alarms(self) -> str:
        return self.named("cloudwatch", "alarm:")

    @property
    def dashboards(self) -> str:
        """Dashboards are global: their ARN has no region."""
        return f"arn:aws:cloudwatch::{self.account_id}:dashboard/{self.prefix}-*"

    @property
    def workload_roles(self) -> str:
        """Roles the deploy pipeline creates (``salesflow-<env>-*``; the bootstrap's roles are denied)."""
        return self.iam(f"role/{self.prefix}-*")

    @property
    def keys(self) -> str:
        return self.arn("kms", "key/*")

    @property
    def aliases(self) -> str:
        return self.arn("kms", f"alias/{self.prefix}-*")

    @property
    def bootstrap_alias(self) -> str:
        return self.arn("kms", self.names.key_alias)
