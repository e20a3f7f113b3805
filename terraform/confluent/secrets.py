"""How API keys reach the Flink stack and the exporter: Secrets Manager secrets ``key:secret``, encrypted
with their own KMS key. No key is ever a Terraform output or variable."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from salesflow.config import Environment
from terraform.confluent.api_keys import ApiKeys
from terraform.confluent_provider import ApiKey
from terraform.stacks.common import key_policy, resource_prefix, skip_checks

ROTATION_BY_REPLACE = (
    "Confluent API keys cannot be rotated by a Secrets Manager Lambda; rotate with "
    "`terraform apply -replace` on the confluent_api_key (see terraform/README.md)"
)


def secret_name(environment: Environment, purpose: str) -> str:
    """``salesflow/<env>/confluent/<purpose>``: where an API key's ``key:secret`` is kept."""
    return f"salesflow/{environment.name}/confluent/{purpose}"


class KeySecrets(Construct):
    """``flink_api_key_secret`` (the Flink stack's provider credentials), ``tableflow_api_key_secret``
    (Terraform's Tableflow key), ``exporter_catalog_secret`` (the exporter's catalog credential) and
    ``flink_verify_api_key_secret`` (the pull requests' dry runs; copied to the GitHub ``<env>-plan``
    environment)."""

    def __init__(
        self, scope: Construct, id_: str, environment: Environment, account_id: str, keys: ApiKeys
    ) -> None:
        super().__init__(scope, id_)
        self.environment = environment
        prefix = resource_prefix(environment)
        self.kms_key = KmsKey(
            self,
            "secrets_key",
            description=f"{prefix}: Confluent API keys in Secrets Manager",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy(account_id),
        )
        KmsAlias(
            self,
            "secrets_key_alias",
            name=f"alias/{prefix}-confluent-secrets",
            target_key_id=self.kms_key.key_id,
        )
        self.flink = self._store(
            "flink_api_key_secret", "flink-api-key", keys.flink, "Flink API key of the statements"
        )
        self.tableflow = self._store(
            "tableflow_api_key_secret",
            "tableflow-api-key",
            keys.manager_tableflow,
            "Tableflow API key of Terraform",
        )
        self.flink_verify = self._store(
            "flink_verify_api_key_secret",
            "flink-verify-api-key",
            keys.flink_verify,
            "Flink API key of the pre-merge dry runs (salesflow sql verify)",
        )
        self.exporter_catalog = self._store(
            "exporter_catalog_secret",
            "exporter-tableflow-api-key",
            keys.exporter_tableflow,
            "Tableflow API key of the exporter (Iceberg REST catalog credential)",
        )

    def _store(self, id_: str, purpose: str, key: ApiKey, what: str) -> SecretsmanagerSecret:
        secret = SecretsmanagerSecret(
            self,
            id_,
            name=secret_name(self.environment, purpose),
            description=f"{what} (key:secret of {purpose}; rotate by replacing the confluent_api_key)",
            kms_key_id=self.kms_key.arn,
        )
        skip_checks(secret, {"CKV2_AWS_57": ROTATION_BY_REPLACE})
        SecretsmanagerSecretVersion(
            self, f"{id_}_value", secret_id=secret.id, secret_string=f"{key.id}:{key.secret}"
        )
        return secret
