"""The repository's GitHub environments ``<env>-plan`` and ``<env>``, with what the workflows read.

Through the ``integrations/github`` provider (prebuilt cdktf binding, pinned); its token comes from
``GITHUB_TOKEN`` in the administrator's shell (a provider argument never reaches state or the JSON).
``<env>`` deploys from ``main`` only and waits for the reviewers of the environment file; ``<env>-plan``
is open to every branch of the repository (pull-request plans; fork PRs get no secrets). Secrets are the
Confluent Cloud API keys of ``confluent_access.py``: GitHub encrypts them, and their values also sit in
this stack's state (encrypted, readable by administrators only). ``bootstrap.manage_github: false``
leaves GitHub out entirely; docs/runbook.md lists what to set by hand then.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktf import Fn
from cdktf_cdktf_provider_github.actions_environment_secret import ActionsEnvironmentSecret
from cdktf_cdktf_provider_github.actions_environment_variable import ActionsEnvironmentVariable
from cdktf_cdktf_provider_github.data_github_team import DataGithubTeam
from cdktf_cdktf_provider_github.data_github_user import DataGithubUser
from cdktf_cdktf_provider_github.provider import GithubProvider
from cdktf_cdktf_provider_github.repository_environment import (
    RepositoryEnvironment,
    RepositoryEnvironmentDeploymentBranchPolicy,
    RepositoryEnvironmentReviewers,
)
from cdktf_cdktf_provider_github.repository_environment_deployment_policy import (
    RepositoryEnvironmentDeploymentPolicy,
)
from constructs import Construct

from salesflow.config import Environment
from terraform.aws.exporter_function import function_name
from terraform.confluent_provider import ApiKey

DEPLOY_BRANCH = "main"


def variables(environment: Environment, role_arns: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Variables of each GitHub environment, as the workflows read them (``vars.*``)."""
    plan_env, deploy_env = environment.names.github_environments
    region = {"AWS_REGION": environment.aws.region}
    return {
        plan_env: {"AWS_ROLE_ARN": role_arns["plan"], **region},
        deploy_env: {
            "AWS_ROLE_ARN": role_arns["deploy"],
            "AWS_BACKFILL_ROLE_ARN": role_arns["backfill"],
            "AWS_SMOKE_ROLE_ARN": role_arns["smoke"],
            "EXPORTER_FUNCTION_NAME": function_name(environment),
            **region,
        },
    }


class GitHubEnvironments(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        role_arns: Mapping[str, str],
        keys: Mapping[str, ApiKey],
    ) -> None:
        super().__init__(scope, id_)
        owner, repository = environment.bootstrap.github_repository.split("/")
        GithubProvider(self, "github", owner=owner)
        plan_env, deploy_env = environment.names.github_environments
        created = {
            plan_env: RepositoryEnvironment(
                self, "github_plan_environment", repository=repository, environment=plan_env
            ),
            deploy_env: self._deploy_environment(environment, repository, deploy_env),
        }
        key_of = {plan_env: keys["plan"], deploy_env: keys["deploy"]}
        # Logical ids name the kind of environment, not the environment: they are the same in every one.
        kind_of = {plan_env: "plan", deploy_env: "deploy"}
        for name, values in variables(environment, role_arns).items():
            where = created[name].environment
            slug = kind_of[name]
            for variable, value in sorted(values.items()):
                ActionsEnvironmentVariable(
                    self,
                    f"github_{slug}_{variable.lower()}",
                    repository=repository,
                    environment=where,
                    variable_name=variable,
                    value=value,
                )
            key = key_of[name]
            for secret, value in (
                ("CONFLUENT_CLOUD_API_KEY", key.id),
                ("CONFLUENT_CLOUD_API_SECRET", key.secret),
            ):
                ActionsEnvironmentSecret(
                    self,
                    f"github_{slug}_{secret.lower()}",
                    repository=repository,
                    environment=where,
                    secret_name=secret,
                    plaintext_value=value,
                )

    def _deploy_environment(
        self, environment: Environment, repository: str, name: str
    ) -> RepositoryEnvironment:
        reviewers = environment.bootstrap.reviewers
        users = [
            Fn.tonumber(
                DataGithubUser(self, f"github_reviewer_{login.lower().replace('-', '_')}", username=login).id
            )
            for login in reviewers.users
        ]
        teams = [
            Fn.tonumber(DataGithubTeam(self, f"github_team_{slug.replace('-', '_')}", slug=slug).id)
            for slug in reviewers.teams
        ]
        created = RepositoryEnvironment(
            self,
            "github_deploy_environment",
            repository=repository,
            environment=name,
            prevent_self_review=bool(users or teams),
            reviewers=[RepositoryEnvironmentReviewers(users=users or None, teams=teams or None)]
            if users or teams
            else None,
            deployment_branch_policy=RepositoryEnvironmentDeploymentBranchPolicy(
                protected_branches=False, custom_branch_policies=True
            ),
        )
        RepositoryEnvironmentDeploymentPolicy(
            self,
            "github_deploy_branch",
            repository=repository,
            environment=created.environment,
            branch_pattern=DEPLOY_BRANCH,
        )
        return created
