"""What every stack shares: names, the S3 state backend, cross-stack state, protection and scan notes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from cdktf import (
    Aspects,
    DataTerraformRemoteStateS3,
    IAspect,
    S3Backend,
    TerraformDataSource,
    TerraformElement,
    TerraformOutput,
    TerraformResourceLifecycle,
    TerraformStack,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct, IConstruct

from salesflow.config import Environment

# Stack parts, in apply order: the Flink and AWS stacks read the Confluent stack's outputs.
CONFLUENT = "confluent"
FLINK = "flink"
AWS = "aws"
# Applied once by an administrator (make bootstrap), never by a pipeline: see stacks/bootstrap_stack.py.
BOOTSTRAP = "bootstrap"


class SalesflowStack(TerraformStack):
    """A stack whose Terraform addresses do not depend on how its code is grouped into constructs.

    Resources live in small named constructs (``terraform/aws/``, ``terraform/confluent/``, ...), but a
    Terraform address is the key of a resource's state: if it followed the construct tree, moving code
    between constructs would plan to destroy and re-create resources. So every element's logical id is
    its own construct id (unique in the stack, checked here) and its metadata path ``<stack>/<id>``.
    """

    def __init__(self, scope: Construct, name: str) -> None:
        super().__init__(scope, name)
        self._addresses: dict[str, str] = {}
        self.removed: list[str] = []

    def _allocate_logical_id(self, tf_element: TerraformElement) -> str:
        logical_id = tf_element.node.id
        path = tf_element.node.path
        if self._addresses.setdefault(logical_id, path) != path:
            raise ValueError(
                f"{self.node.id}: {path} and {self._addresses[logical_id]} would both be '{logical_id}'; "
                "give one of them another id"
            )
        return logical_id

    def to_terraform(self) -> Any:
        document = super().to_terraform()
        for section in ("resource", "data"):
            for blocks in (document.get(section) or {}).values():
                for block in blocks.values():
                    metadata = (block.get("//") or {}).get("metadata") or {}
                    if "path" in metadata:
                        metadata["path"] = f"{self.node.id}/{metadata['path'].rsplit('/', 1)[-1]}"
        return document


def stack_name(environment: Environment, part: str) -> str:
    """``<env>-<part>``: the directory under cdktf.out/stacks and the stack's state file name."""
    return f"{environment.name}-{part}"


def resource_prefix(environment: Environment) -> str:
    """Prefix of every named cloud object (service accounts, functions, queues, secrets)."""
    return f"salesflow-{environment.name}"


def state_key(environment: Environment, part: str) -> str:
    return f"{environment.aws.state_backend.key_prefix}/{part}.tfstate"


def _backend_settings(environment: Environment, part: str) -> dict[str, str]:
    backend = environment.aws.state_backend
    return {"bucket": backend.bucket, "key": state_key(environment, part), "region": backend.region}


def use_s3_backend(stack: TerraformStack, environment: Environment, part: str) -> None:
    """Remote state in S3 (encrypted, S3-native lock file): no local state path is ever synthesized."""
    S3Backend(stack, encrypt=True, **_backend_settings(environment, part))
    # cdktf 0.21's S3Backend predates use_lockfile (Terraform >= 1.10); it is plain backend config.
    stack.add_override("terraform.backend.s3.use_lockfile", True)


def remote_state(scope: Construct, environment: Environment, part: str) -> DataTerraformRemoteStateS3:
    """Outputs of another stack of the same environment, read from its S3 state."""
    return DataTerraformRemoteStateS3(scope, f"{part}_stack", **_backend_settings(environment, part))


def aws_provider(scope: Construct, environment: Environment, part: str) -> AwsProvider:
    return AwsProvider(
        scope,
        "aws",
        region=environment.aws.region,
        default_tags=[
            AwsProviderDefaultTags(
                tags={
                    "project": "salesflow",
                    "environment": environment.name,
                    "stack": stack_name(environment, part),
                    "managed-by": "terraform",
                }
            )
        ],
    )


def protection(environment: Environment) -> TerraformResourceLifecycle | None:
    """``prevent_destroy`` on long-lived objects when the environment file asks for it (prod does)."""
    if environment.prevent_destroy:
        return TerraformResourceLifecycle(prevent_destroy=True)
    return None


def output(scope: Construct, name: str, value: str, description: str) -> TerraformOutput:
    """A stack output under a stable name (never a secret: secrets travel through Secrets Manager)."""
    return TerraformOutput(scope, name, value=value, description=description, static_id=True)


def skip_checks(element: TerraformElement, justifications: Mapping[str, str]) -> None:
    """Record accepted checkov findings on a resource as ``checkov:skip=<ID>:<why>`` in its JSON comment.

    checkov's Terraform-JSON runner ignores inline skips, so tools/checkov/scan.py applies them, per
    resource; each needs a justification and ``make scan`` fails on a skip that matches no finding.
    """
    if isinstance(element, TerraformDataSource):
        # cdktf rewrites a data source's "//" comment at synth time: the skip would vanish silently.
        raise TypeError("checkov skips can only be recorded on resources, not on data sources")
    element.add_override(
        "//.checkov",
        [f"checkov:skip={check}:{reason}" for check, reason in sorted(justifications.items())],
    )


def key_policy(account_id: str, service_statements: Sequence[Mapping[str, Any]] = ()) -> str:
    """A KMS key policy: the account administers the key (and delegates use to IAM), plus services.

    Written inline rather than as an ``aws_iam_policy_document``: in a key policy ``"Resource": "*"``
    means "this key", which IAM-policy checks would misread as unconstrained access.
    """
    statements = [
        {
            "Sid": "AccountAdministersAndGrantsThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        *service_statements,
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2, sort_keys=True)


def forget(stack: TerraformStack, addresses: Sequence[str]) -> None:
    """``removed`` blocks (Terraform >= 1.7): drop resources from this stack's state without destroying
    them, when another stack took them over (a no-op once they are gone from the state)."""
    if not isinstance(stack, SalesflowStack):
        raise TypeError("removed blocks are kept by SalesflowStack")
    stack.removed += addresses
    stack.add_override(
        "removed", [{"from": address, "lifecycle": {"destroy": False}} for address in stack.removed]
    )


@jsii.implements(IAspect)
class _PermissionsBoundary:
    def __init__(self, arn: str) -> None:
        self.arn = arn

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, IamRole):
            node.permissions_boundary = self.arn


def bound_every_role(stack: TerraformStack, boundary_arn: str) -> None:
    """Every IAM role of the stack carries the bootstrap's workload boundary: the deploy role may only
    create roles that do (terraform/bootstrap/policies.py)."""
    Aspects.of(stack).add(_PermissionsBoundary(boundary_arn))
