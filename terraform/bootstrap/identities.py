"""Who the workflows are in AWS: GitHub's OIDC provider, the workload boundary and the four roles.

Each role trusts GitHub's OIDC tokens of this repository only, with audience ``sts.amazonaws.com`` and
the exact subjects of ``Environment.names.github_subjects`` (no wildcard). Permissions are inline
policies written as ``aws_iam_policy_document`` data (``policies.py``), one per concern.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from terraform.aws.exporter_function import function_name
from terraform.aws.iam import Statement
from terraform.bootstrap import policies
from terraform.bootstrap.policies import AUDIENCE, GITHUB_ISSUER
from terraform.bootstrap.scope import Scope

# A workflow job is far shorter; one hour bounds a leaked session.
MAX_SESSION_SECONDS = 3600


class GitHubOidcProvider(Construct):
    """GitHub's OIDC issuer in the account: created here, or only read when the account has one."""

    def __init__(self, scope: Construct, id_: str, oidc_provider: str) -> None:
        super().__init__(scope, id_)
        url = f"https://{GITHUB_ISSUER}"
        if oidc_provider == "existing":
            self.arn = DataAwsIamOpenidConnectProvider(self, "github_oidc", url=url).arn
        else:
            # Account-wide and shared with any other repository's roles: never destroyed by a plan.
            self.arn = IamOpenidConnectProvider(
                self,
                "github_oidc",
                url=url,
                client_id_list=[AUDIENCE],
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            ).arn


class PipelineRoles(Construct):
    """``salesflow-<env>-github-{plan,deploy,backfill,smoke}``, the managed ``pipeline-read`` policy the
    plan and deploy roles share (what refreshing the stacks reads), and the workload boundary."""

    def __init__(self, scope: Construct, id_: str, where: Scope, provider_arn: str) -> None:
        super().__init__(scope, id_)
        names = where.names
        self.boundary = self._managed(
            "workload_boundary",
            names.boundary_policy,
            "salesflow: the most any role the deploy pipeline creates may ever do",
            policies.boundary(where),
        )
        read = self._managed(
            "pipeline_read",
            names.read_policy,
            "salesflow: what plans of the Confluent, Flink and AWS stacks read",
            policies.read(where),
        )
        exporter = function_name(where.environment)
        permissions: dict[str, Sequence[Statement]] = {
            "plan": policies.plan(where),
            "deploy": policies.deploy(where),
            "backfill": policies.backfill(where, exporter),
            "smoke": policies.smoke(where),
        }
        self.roles: dict[str, IamRole] = {}
        for purpose, statements in permissions.items():
            role = IamRole(
                self,
                f"{purpose}_role",
                name=names.role(purpose),
                description=f"salesflow {where.environment.name}: GitHub Actions {purpose} (OIDC)",
                max_session_duration=MAX_SESSION_SECONDS,
                assume_role_policy=self._document(
                    f"{purpose}_trust", policies.trust(where, purpose, provider_arn)
                ),
            )
            IamRolePolicy(
                self,
                f"{purpose}_role_policy",
                name=purpose,
                role=role.id,
                policy=self._document(f"{purpose}_permissions", statements),
            )
            if purpose in ("plan", "deploy"):
                IamRolePolicyAttachment(self, f"{purpose}_role_reads", role=role.name, policy_arn=read.arn)
            self.roles[purpose] = role

    def _managed(self, id_: str, name: str, description: str, statements: Sequence[Statement]) -> IamPolicy:
        return IamPolicy(
            self,
            id_,
            name=name,
            description=description,
            policy=self._document(f"{id_}_document", statements),
        )

    def _document(self, id_: str, statements: Sequence[Statement]) -> str:
        return DataAwsIamPolicyDocument(self, id_, statement=list(statements)).json
