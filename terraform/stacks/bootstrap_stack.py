"""The bootstrap stack (``<env>-bootstrap``): everything the first deploy needs, applied once by an
administrator with ``make bootstrap ENV=<env>`` and never by a pipeline.

It composes one construct per concern (``terraform/bootstrap/``): its KMS key, the state, artifact and
access-log buckets, GitHub's OIDC provider, the pipeline roles with the workload boundary, the PII
pepper, Terraform's identities on Confluent and, unless switched off, the GitHub environments. Its
state starts local and moves into the state bucket it creates (salesflow/delivery/bootstrap.py); the
pipeline roles can never read it. Terraform >= 1.11 (ephemeral values, write-only arguments).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from constructs import Construct

from salesflow.config import Environment
from terraform.bootstrap.confluent_access import ConfluentAccess
from terraform.bootstrap.github import GitHubEnvironments
from terraform.bootstrap.identities import GitHubOidcProvider, PipelineRoles
from terraform.bootstrap.pepper import PepperSecret
from terraform.bootstrap.scope import Scope
from terraform.bootstrap.storage import BootstrapBuckets, BootstrapKey
from terraform.confluent_provider import ConfluentProvider
from terraform.stacks.common import (
    BOOTSTRAP,
    SalesflowStack,
    aws_provider,
    output,
    stack_name,
    use_s3_backend,
)

REQUIRED_TERRAFORM = ">= 1.11"


class BootstrapStack(SalesflowStack):
    def __init__(self, scope: Construct, environment: Environment) -> None:
        super().__init__(scope, stack_name(environment, BOOTSTRAP))
        self.environment = environment
        use_s3_backend(self, environment, BOOTSTRAP)
        self.add_override("terraform.required_version", REQUIRED_TERRAFORM)
        aws_provider(self, environment, BOOTSTRAP)
        # The administrator's OrganizationAdmin Cloud API key, from the shell, during bootstrap only.
        ConfluentProvider(self, "confluent")
        where = Scope(environment, DataAwsCallerIdentity(self, "account").account_id)

        key = BootstrapKey(self, "encryption", where)
        oidc = GitHubOidcProvider(self, "github_oidc_provider", environment.bootstrap.oidc_provider)
        pipeline = PipelineRoles(self, "roles", where, oidc.arn)
        role_arns = {purpose: role.arn for purpose, role in pipeline.roles.items()}
        buckets = BootstrapBuckets(self, "buckets", where, key.arn, list(role_arns.values()))
        pepper = PepperSecret(self, "pepper", environment, key.arn)
        confluent = ConfluentAccess(self, "confluent_access", environment, key.arn)
        if environment.bootstrap.manage_github:
            GitHubEnvironments(
                self,
                "github",
                environment,
                role_arns,
                {"deploy": confluent.terraform_key, "plan": confluent.plan_key},
            )

        output(self, "state_bucket", buckets.state.name, "Terraform state of every stack of this environment")
        output(
            self, "artifact_bucket", buckets.artifacts.name, "Exporter zips (make package, publish-artifact)"
        )
        output(self, "pepper_secret_arn", pepper.arn, "The PII pepper (value in Secrets Manager only)")
        output(self, "confluent_environment_id", confluent.environment_id, "Confluent environment (env-...)")
        output(
            self, "boundary_policy_arn", pipeline.boundary.arn, "Boundary of every role the pipeline creates"
        )
        for purpose, arn in sorted(role_arns.items()):
            output(self, f"{purpose}_role_arn", arn, f"GitHub Actions {purpose} role")
