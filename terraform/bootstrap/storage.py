"""What must exist before any other stack: the state bucket, the artifact bucket, their access logs and
the bootstrap's KMS key (artifacts, the pepper, the Terraform service accounts' keys).

The artifact bucket keeps the logical ids it had in the AWS stack (``artifact_bucket``,
``artifact_bucket_public_access``, ...), so an environment deployed before bootstrap existed moves it
here with import blocks (``bootstrap.adopt.artifact_bucket``) while the AWS stack forgets it with
``removed`` blocks: nothing is destroyed and no object moves.
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from constructs import Construct

from terraform.aws.buckets import (
    BUCKET_PARTS,
    NO_BUCKET_EVENTS,
    Rule,
    SecureBucket,
    access_log_bucket,
    everything,
)
from terraform.aws.iam import Statement, roles, statement
from terraform.bootstrap.scope import Scope
from terraform.stacks.common import key_policy

NONCURRENT_STATE_VERSION_DAYS = 90
KEEP = TerraformResourceLifecycle(prevent_destroy=True)


class BootstrapKey(Construct):
    """A rotating customer-managed key, administered by the account (IAM decides who uses it)."""

    def __init__(self, scope: Construct, id_: str, where: Scope) -> None:
        super().__init__(scope, id_)
        self.key = KmsKey(
            self,
            "bootstrap_key",
            description=f"{where.prefix}: artifacts, the PII pepper and the Terraform service accounts' keys",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy(where.account_id),
            lifecycle=KEEP,
        )
        KmsAlias(self, "bootstrap_key_alias", name=where.names.key_alias, target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn


class BootstrapBuckets(Construct):
    """``state_bucket`` (SSE-S3: the S3 backend's ``encrypt = true`` writes SSE-S3 objects), the
    ``artifact_bucket`` (SSE-KMS with the bootstrap key, never expired) and ``bootstrap_access_logs``."""

    def __init__(
        self, scope: Construct, id_: str, where: Scope, key_arn: str, pipeline_roles: list[str]
    ) -> None:
        super().__init__(scope, id_)
        environment = where.environment
        self.access_logs = access_log_bucket(
            self, "bootstrap_access_logs", where.names.access_log_bucket, where.account_id
        )
        self.state = SecureBucket(
            self,
            "state_bucket",
            environment.aws.state_backend.bucket,
            kms_key_arn=None,
            rules=[
                Rule(
                    id="expire-old-state-versions",
                    status="Enabled",
                    filter=everything(),
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=NONCURRENT_STATE_VERSION_DAYS
                        )
                    ],
                )
            ],
            log_to=(self.access_logs.bucket, "state/"),
            extra_policy=_bootstrap_state_is_closed(where, pipeline_roles),
            lifecycle=KEEP,
        )
        self.state.accept_findings(
            {
                "CKV_AWS_144": "state is versioned in place; a second-region copy is not required",
                "CKV2_AWS_62": "nothing consumes state-object events",
                "CKV_AWS_145": (
                    "the S3 backend's encrypt = true writes SSE-S3 objects; SSE-KMS would need kms_key_id in "
                    "every stack's backend, an ARN unknown before this stack exists"
                ),
            }
        )
        self.artifacts = SecureBucket(
            self,
            "artifact_bucket",
            environment.aws.artifact_bucket,
            kms_key_arn=key_arn,
            rules=[],  # artifacts are never expired: a revert must find every earlier zip
            log_to=(self.access_logs.bucket, "artifacts/"),
            lifecycle=KEEP,
        )
        self.artifacts.accept_findings(
            {
                "CKV_AWS_144": "artifacts are rebuilt from git by `make package`; no second-region copy",
                "CKV2_AWS_62": NO_BUCKET_EVENTS,
            }
        )
        adopt = environment.bootstrap.adopt
        if adopt.state_bucket:
            _import_bucket(self.state, environment.aws.state_backend.bucket)
        if adopt.artifact_bucket:
            _import_bucket(self.artifacts, environment.aws.artifact_bucket)


def _import_bucket(bucket: SecureBucket, name: str) -> None:
    """Take an existing bucket and its settings under this stack (every part is imported by name).

    An environment made before bootstrap existed has no bootstrap access-log bucket: the logging setting
    is imported as it is and the first apply points it here.
    """
    for part in BUCKET_PARTS:
        bucket.part(part).import_from(name)


def _bootstrap_state_is_closed(where: Scope, pipeline_roles: list[str]) -> list[Statement]:
    """The bootstrap's state holds the Terraform service accounts' keys: no pipeline role may touch it,
    whatever an identity policy says."""
    return [
        statement(
            "PipelineRolesNeverReadTheBootstrapState",
            ["s3:*"],
            [where.bootstrap_state],
            effect="Deny",
            principals=[roles(*pipeline_roles)],
        )
    ]
