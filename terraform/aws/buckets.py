"""The AWS stack's buckets: weekly exports and their access logs (the artifact bucket is the bootstrap's).

Every bucket is a ``SecureBucket``: private, versioned, encrypted, refusing plain HTTP, aborting
incomplete uploads, with its own lifecycle rules and (except the log bucket) access logging.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from salesflow.config import Environment
from terraform.aws.iam import Statement, anyone, condition, service, statement
from terraform.stacks.common import skip_checks

NONCURRENT_EXPORT_VERSION_DAYS = 90
ACCESS_LOG_RETENTION_DAYS = 365
ABORT_MULTIPART_DAYS = 7
NO_BUCKET_EVENTS = "nothing consumes object events; the exporter announces each export on SNS itself"
Rule = S3BucketLifecycleConfigurationRule
# A SecureBucket's resources: logical id suffix -> Terraform type (each is imported by the bucket's name).
BUCKET_PARTS = {
    "": "aws_s3_bucket",
    "_public_access": "aws_s3_bucket_public_access_block",
    "_ownership": "aws_s3_bucket_ownership_controls",
    "_versioning": "aws_s3_bucket_versioning",
    "_encryption": "aws_s3_bucket_server_side_encryption_configuration",
    "_lifecycle": "aws_s3_bucket_lifecycle_configuration",
    "_logging": "aws_s3_bucket_logging",
    "_policy": "aws_s3_bucket_policy",
}


def bucket_addresses(id_: str) -> list[str]:
    """Terraform addresses of the SecureBucket ``id_`` (with access logging)."""
    return [f"{kind}.{id_}{suffix}" for suffix, kind in BUCKET_PARTS.items()]


def everything() -> list[S3BucketLifecycleConfigurationRuleFilter]:
    return [S3BucketLifecycleConfigurationRuleFilter(prefix="")]


class SecureBucket(Construct):
    """A private, versioned, encrypted bucket that refuses plain HTTP. Its resources are named
    ``<id>``, ``<id>_public_access``, ``<id>_versioning`` and so on."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        name: str,
        *,
        kms_key_arn: str | None,
        rules: Sequence[Rule],
        log_to: tuple[S3Bucket, str] | None,
        extra_policy: Sequence[Statement] = (),
        lifecycle: TerraformResourceLifecycle | None = None,
        object_ownership: str = "BucketOwnerEnforced",
    ) -> None:
        super().__init__(scope, id_)
        bucket = S3Bucket(self, id_, bucket=name, force_destroy=False, lifecycle=lifecycle)
        self.bucket = bucket
        self._id = id_
        S3BucketPublicAccessBlock(
            self,
            f"{id_}_public_access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        self.ownership = S3BucketOwnershipControls(
            self,
            f"{id_}_ownership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership=object_ownership),
        )
        S3BucketVersioningA(
            self,
            f"{id_}_versioning",
            bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        encryption = (
            {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn}
            if kms_key_arn
            else {"sse_algorithm": "AES256"}
        )
        by_default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            **encryption
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            f"{id_}_encryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=by_default, bucket_key_enabled=bool(kms_key_arn)
                )
            ],
        )
        abort_uploads = Rule(
            id="abort-incomplete-uploads",
            status="Enabled",
            filter=everything(),
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=ABORT_MULTIPART_DAYS
                )
            ],
        )
        S3BucketLifecycleConfiguration(
            self, f"{id_}_lifecycle", bucket=bucket.id, rule=[abort_uploads, *rules]
        )
        if log_to is not None:
            target, target_prefix = log_to
            S3BucketLoggingA(
                self, f"{id_}_logging", bucket=bucket.id, target_bucket=target.id, target_prefix=target_prefix
            )
        deny_plain_http = statement(
            "DenyPlainHttp",
            ["s3:*"],
            [bucket.arn, f"{bucket.arn}/*"],
            effect="Deny",
            principals=[anyone()],
            conditions=[condition("Bool", "aws:SecureTransport", "false")],
        )
        self._statements = [deny_plain_http, *extra_policy]
        self._policy = DataAwsIamPolicyDocument(self, f"{id_}_policy_document", statement=self._statements)
        S3BucketPolicy(self, f"{id_}_policy", bucket=bucket.id, policy=self._policy.json)

    def allow(self, *statements: Statement) -> None:
        """Add statements to the bucket policy (for a reader created after the bucket, e.g. CloudFront)."""
        self._statements.extend(statements)
        self._policy.put_statement(self._statements)

    def part(self, suffix: str) -> TerraformResource:
        """The bucket (``""``) or one of its settings (``"_versioning"``, ``"_policy"``, ...)."""
        found = self.node.find_child(f"{self._id}{suffix}")
        assert isinstance(found, TerraformResource), f"{self._id}{suffix} is not a resource"
        return found

    @property
    def arn(self) -> str:
        return self.bucket.arn

    @property
    def name(self) -> str:
        return self.bucket.bucket

    def accept_findings(self, justifications: dict[str, str]) -> None:
        skip_checks(self.bucket, justifications)


def access_log_bucket(scope: Construct, id_: str, name: str, account_id: str) -> SecureBucket:
    """A bucket for S3 server access logs (SSE-S3: the only encryption log delivery supports); logs
    expire after a year."""
    bucket = SecureBucket(
        scope,
        id_,
        name,
        kms_key_arn=None,
        extra_policy=[
            statement(
                "S3ServerAccessLogsDelivery",
                ["s3:PutObject"],
                [f"arn:aws:s3:::{name}/*"],
                principals=[service("logging.s3.amazonaws.com")],
                conditions=[condition("StringEquals", "aws:SourceAccount", account_id)],
            )
        ],
        rules=[
            Rule(
                id="expire-access-logs",
                status="Enabled",
                filter=everything(),
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=ACCESS_LOG_RETENTION_DAYS)],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=30)
                ],
            )
        ],
        log_to=None,
    )
    bucket.accept_findings(
        {
            "CKV_AWS_144": "access logs stay in the region; cross-region replication is not required",
            "CKV2_AWS_62": NO_BUCKET_EVENTS,
            "CKV_AWS_145": "S3 server access logging delivers only to SSE-S3 (AES256) buckets",
        }
    )
    return bucket


class ExporterBuckets(Construct):
    """Exports (SSE-KMS, old versions and abandoned staging copies expire) and their access logs (SSE-S3).
    The artifact bucket belongs to the bootstrap stack (terraform/bootstrap/storage.py)."""

    def __init__(
        self, scope: Construct, id_: str, environment: Environment, kms_key_arn: str, account_id: str
    ):
        super().__init__(scope, id_)
        self.access_logs = access_log_bucket(
            self, "access_log_bucket", f"{environment.aws.export.bucket}-access-logs", account_id
        )
        self.exports = self._export_bucket(environment, kms_key_arn)

    def _export_bucket(self, environment: Environment, kms_key_arn: str) -> SecureBucket:
        export = environment.aws.export
        bucket = SecureBucket(
            self,
            "export_bucket",
            export.bucket,
            kms_key_arn=kms_key_arn,
            rules=[
                Rule(
                    id="expire-old-versions",
                    status="Enabled",
                    filter=everything(),
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=NONCURRENT_EXPORT_VERSION_DAYS
                        )
                    ],
                ),
                # A run killed by its timeout cannot clean up its staging copies: expire them.
                Rule(
                    id="expire-abandoned-staging",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=f"{export.prefix}/_staging/")],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=1)],
                ),
            ],
            log_to=(self.access_logs.bucket, "exports/"),
        )
        bucket.accept_findings(
            {
                "CKV_AWS_144": "weekly CSVs are reproducible from the Iceberg table; no second-region copy",
                "CKV2_AWS_62": NO_BUCKET_EVENTS,
            }
        )
        return bucket
