"""Who Terraform is on Confluent: the environment it works in and its two service accounts.

Made with an OrganizationAdmin Cloud API key that only the administrator running ``make bootstrap`` has
(``CONFLUENT_CLOUD_API_KEY``/``CONFLUENT_CLOUD_API_SECRET`` in the shell; a provider argument is never
stored in state or in the JSON). After bootstrap nothing uses that key again:

* the **environment** is made here (or adopted by id from the environment file), so the pipeline needs
  no organization-wide right to create one; the Confluent stack reads it;
* ``salesflow-<env>-terraform`` (the deploy pipeline) is **EnvironmentAdmin** on that environment
  (clusters, Schema Registry, Flink compute pools, Tableflow, role bindings and resource API keys inside
  it) and **AccountAdmin** on the organization (the Confluent stack creates its service accounts and reads
  them back on every plan: describing a service account takes OrganizationAdmin, AccountAdmin or
  ResourceOwner on it);
* ``salesflow-<env>-terraform-plan`` (pull-request and drift plans) is **EnvironmentOperator** on the
  environment: it can look, not change.

Each gets a Cloud API key (no ``managed_resource``), kept in Secrets Manager under
``salesflow/<env>/bootstrap/`` and handed to GitHub by ``github.py``. terraform/README.md gives sources.
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from salesflow.config import Environment
from terraform.confluent.secrets import ROTATION_BY_REPLACE
from terraform.confluent_provider import (
    ApiKey,
    DataEnvironment,
    DataOrganization,
    RoleBinding,
    ServiceAccount,
    StreamGovernance,
    meta,
)
from terraform.confluent_provider import Environment as ConfluentEnvironment
from terraform.stacks.common import skip_checks

# Role of each service account, and the scope it applies to ("environment" or "organization").
TERRAFORM_ROLES = (("EnvironmentAdmin", "environment"), ("AccountAdmin", "organization"))
PLAN_ROLES = (("EnvironmentOperator", "environment"),)


class ConfluentAccess(Construct):
    def __init__(self, scope: Construct, id_: str, environment: Environment, key_arn: str) -> None:
        super().__init__(scope, id_)
        self.environment = environment
        self._key_arn = key_arn
        settings = environment.confluent.environment
        if settings.id is not None:
            self.confluent_environment = DataEnvironment(self, "environment", id=settings.id)
        else:
            self.confluent_environment = ConfluentEnvironment(
                self,
                "environment",
                display_name=settings.display_name,
                stream_governance=StreamGovernance(package="ESSENTIALS"),
                meta=meta(lifecycle=TerraformResourceLifecycle(prevent_destroy=True)),
            )
        self._organization = DataOrganization(self, "organization")
        names = environment.names
        self.terraform_key = self._account(
            "terraform",
            names.confluent_terraform_account,
            "salesflow Terraform (deploy pipeline): the Confluent and Flink stacks",
            TERRAFORM_ROLES,
        )
        self.plan_key = self._account(
            "terraform_plan",
            names.confluent_plan_account,
            "salesflow Terraform plans (pull requests, drift): read-only",
            PLAN_ROLES,
        )
        self.terraform_secret = self._store("deploy", self.terraform_key)
        self.plan_secret = self._store("plan", self.plan_key)

    def _account(self, id_: str, name: str, what: str, grants: tuple[tuple[str, str], ...]) -> ApiKey:
        account = ServiceAccount(self, f"{id_}_account", display_name=name, description=what)
        crns = {
            "environment": self.confluent_environment.attribute("resource_name"),
            "organization": self._organization.resource_name,
        }
        bindings = [
            RoleBinding(
                self,
                f"{id_}_{role.lower()}",
                principal=account.principal,
                role_name=role,
                crn_pattern=crns[where],
            )
            for role, where in grants
        ]
        return ApiKey(
            self,
            f"{id_}_cloud_key",
            display_name=f"{name}-cloud-api-key",
            description=f"Cloud API key of {name} (rotate: terraform apply -replace in <env>-bootstrap)",
            owner=account.owner(),
            managed_resource=None,
            meta=meta(depends_on=bindings),
        )

    def _store(self, purpose: str, key: ApiKey) -> SecretsmanagerSecret:
        secret = SecretsmanagerSecret(
            self,
            f"confluent_{purpose}_key_secret",
            name=self.environment.names.confluent_key_secret(purpose),
            description=f"Confluent Cloud API key (key:secret) of the {purpose} pipeline (administrators)",
            kms_key_id=self._key_arn,
        )
        skip_checks(secret, {"CKV2_AWS_57": ROTATION_BY_REPLACE})
        SecretsmanagerSecretVersion(
            self,
            f"confluent_{purpose}_key_value",
            secret_id=secret.id,
            secret_string=f"{key.id}:{key.secret}",
        )
        return secret

    @property
    def environment_id(self) -> str:
        return self.confluent_environment.id
