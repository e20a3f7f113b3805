"""Download links an analyst can click: CloudFront in front of the private export bucket.

* Origin access control: CloudFront signs its requests to S3 (SigV4); the bucket policy lets the
  distribution (``AWS:SourceArn``) read published weeks only (``<prefix>/iso_week=*``, never staging),
  and the exporter key's policy lets it decrypt them (SSE-KMS).
* Signed URLs only: the default behaviour trusts one key group; a request without a valid signature
  (canned policy, expiry) is refused at the edge. Nothing is cached at the edge (managed
  ``CachingDisabled``: the signature's query string never reaches S3) nor by the browser (``Cache-Control:
  private, no-store``), with HSTS, ``nosniff``, ``DENY`` framing and no referrer.
* Signing keys: one ``tls_private_key`` (RSA 2048) per name in ``exporter.downloads.signing_keys``;
  its public half becomes an ``aws_cloudfront_public_key`` in the key group, its private half a Secrets
  Manager secret encrypted with the exporter key, which the exporter reads to sign. The private key is
  therefore in the Terraform state (encrypted S3 state, as the Confluent API keys already are) and never
  in the repository or the synthesized JSON. Rotation: terraform/README.md.
* Access logs (standard logging) go to their own bucket, which keeps ACLs for CloudFront's log delivery.
"""

from __future__ import annotations

from typing import Any

import jsii
from cdktf import TerraformProvider, TerraformProviderGeneratorMetadata, TerraformResource
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionLoggingConfig,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.cloudfront_key_group import CloudfrontKeyGroup
from cdktf_cdktf_provider_aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from cdktf_cdktf_provider_aws.cloudfront_public_key import CloudfrontPublicKey
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicyCustomHeadersConfig,
    CloudfrontResponseHeadersPolicyCustomHeadersConfigItems,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
)
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from salesflow.config import Downloads, Environment
from terraform.aws.buckets import ExporterBuckets, SecureBucket
from terraform.aws.encryption import ExporterKey
from terraform.aws.iam import condition, service, statement
from terraform.stacks.common import resource_prefix, skip_checks

TLS_PROVIDER_VERSION = "~> 4.1"
ORIGIN_ID = "exports"
# The AWS-managed CachingDisabled cache policy (same id in every account).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ONE_YEAR_SECONDS = 31_536_000
DOWNLOAD_LOG_RETENTION_DAYS = 365
NO_EDGE_FIREWALL = (
    "every request needs a CloudFront-signed URL (key group) and only GET/HEAD reach a private bucket; "
    "a WAF web ACL (about $5/month plus rules) would guard nothing more"
)
DEFAULT_CERTIFICATE = (
    "the default *.cloudfront.net certificate (TLS only, https-only viewers); a custom domain needs an ACM "
    "certificate in us-east-1 and DNS outside this repo"
)


def _tls_metadata() -> TerraformProviderGeneratorMetadata:
    return TerraformProviderGeneratorMetadata(
        provider_name="tls", provider_version_constraint=TLS_PROVIDER_VERSION
    )


class TlsProvider(TerraformProvider):
    """hashicorp/tls: key pairs created by Terraform (no provider arguments)."""

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type="tls",
            terraform_generator_metadata=_tls_metadata(),
            terraform_provider_source="hashicorp/tls",
        )

    @jsii.member(jsii_name="synthesizeAttributes")
    def _synthesize_attributes(self) -> dict[str, Any]:
        return {}


class TlsPrivateKey(TerraformResource):
    """``tls_private_key``: an RSA key pair; ``private_key_pem`` is sensitive and lives in state only."""

    def __init__(self, scope: Construct, id_: str, *, rsa_bits: int = 2048) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type="tls_private_key",
            terraform_generator_metadata=_tls_metadata(),
        )
        self._arguments = {"algorithm": "RSA", "rsa_bits": rsa_bits}

    @jsii.member(jsii_name="synthesizeAttributes")
    def _synthesize_attributes(self) -> dict[str, Any]:
        return self._arguments

    @property
    def private_key_pem(self) -> str:
        return self.get_string_attribute("private_key_pem")

    @property
    def public_key_pem(self) -> str:
        return self.get_string_attribute("public_key_pem")


def signing_key_secret_name(environment: Environment, key: str) -> str:
    return f"salesflow/{environment.name}/exporter/download-signing-key-{key}"


class DownloadLinks(Construct):
    """The signing keys (``download_signing_key_<name>`` and its secret and public key), the key group
    ``downloads_key_group``, ``downloads_origin_access``, ``download_log_bucket`` and the distribution
    ``downloads``; grants the distribution read access to the published weeks and their key."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        downloads: Downloads,
        *,
        key: ExporterKey,
        buckets: ExporterBuckets,
    ) -> None:
        super().__init__(scope, id_)
        self.environment = environment
        self.prefix = resource_prefix(environment)
        TlsProvider(self, "tls")
        public_keys, self.secrets = {}, {}
        for name in downloads.signing_keys:
            public_keys[name], self.secrets[name] = self._signing_key(name, key.arn)
        self.active_public_key = public_keys[downloads.active_key]
        self.active_secret = self.secrets[downloads.active_key]
        key_group = CloudfrontKeyGroup(
            self,
            "downloads_key_group",
            name=f"{self.prefix}-downloads",
            comment="Keys whose signed URLs the download distribution accepts (exporter.downloads)",
            items=[public_keys[name].id for name in downloads.signing_keys],
        )
        self.log_bucket = self._log_bucket(buckets)
        self.distribution = self._distribution(buckets, key_group.id)
        export_prefix = environment.aws.export.prefix
        reader = condition("StringEquals", "AWS:SourceArn", self.distribution.arn)
        buckets.exports.allow(
            statement(
                "CloudFrontReadsPublishedWeeks",
                ["s3:GetObject"],
                [f"{buckets.exports.arn}/{export_prefix}/iso_week=*"],
                principals=[service("cloudfront.amazonaws.com")],
                conditions=[reader],
            )
        )
        key.allow(
            {
                "Sid": "CloudFrontDecryptsDownloads",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution.arn}},
            }
        )

    def _signing_key(self, name: str, kms_key_arn: str) -> tuple[CloudfrontPublicKey, SecretsmanagerSecret]:
        pair = TlsPrivateKey(self, f"download_signing_key_{name}")
        secret = SecretsmanagerSecret(
            self,
            f"download_signing_key_{name}_secret",
            name=signing_key_secret_name(self.environment, name),
            description=f"Private key {name} that signs the analysts' download links (PEM)",
            kms_key_id=kms_key_arn,
            recovery_window_in_days=7,
        )
        skip_checks(
            secret,
            {
                "CKV2_AWS_57": "rotated by adding a key to exporter.downloads.signing_keys "
                "(terraform/README.md); a rotation Lambda cannot update CloudFront's key group"
            },
        )
        SecretsmanagerSecretVersion(
            self,
            f"download_signing_key_{name}_value",
            secret_id=secret.id,
            secret_string=pair.private_key_pem,
        )
        public_key = CloudfrontPublicKey(
            self,
            f"download_public_key_{name}",
            name=f"{self.prefix}-downloads-{name}",
            comment=f"Verifies download links signed with key {name}",
            encoded_key=pair.public_key_pem,
        )
        return public_key, secret

    def _log_bucket(self, buckets: ExporterBuckets) -> SecureBucket:
        name = f"{self.environment.aws.export.bucket}-download-logs"
        bucket = SecureBucket(
            self,
            "download_log_bucket",
            name,
            kms_key_arn=None,  # CloudFront standard logging cannot write to SSE-KMS buckets
            object_ownership="BucketOwnerPreferred",  # CloudFront standard logging delivers through ACLs
            rules=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-download-logs",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[
                        S3BucketLifecycleConfigurationRuleExpiration(days=DOWNLOAD_LOG_RETENTION_DAYS)
                    ],
                )
            ],
            log_to=(buckets.access_logs.bucket, "download-logs/"),
        )
        skip_checks(
            bucket.ownership,
            {"CKV2_AWS_65": "CloudFront standard logging delivers through the bucket ACL (awslogsdelivery)"},
        )
        bucket.accept_findings(
            {
                "CKV_AWS_144": "download logs stay in the region; no second-region copy",
                "CKV_AWS_145": "CloudFront standard logging can only deliver to SSE-S3 buckets",
                "CKV2_AWS_62": "nothing consumes object events of the download logs",
            }
        )
        return bucket

    def _distribution(self, buckets: ExporterBuckets, key_group_id: str) -> CloudfrontDistribution:
        access = CloudfrontOriginAccessControl(
            self,
            "downloads_origin_access",
            name=f"{self.prefix}-exports",
            description="CloudFront signs its requests to the export bucket",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
        )
        distribution = CloudfrontDistribution(
            self,
            "downloads",
            enabled=True,
            comment=f"{self.prefix}: signed downloads of the weekly exports",
            price_class="PriceClass_100",
            http_version="http2and3",
            is_ipv6_enabled=True,
            origin=[
                CloudfrontDistributionOrigin(
                    domain_name=buckets.exports.bucket.bucket_regional_domain_name,
                    origin_id=ORIGIN_ID,
                    origin_access_control_id=access.id,
                    origin_path=f"/{self.environment.aws.export.prefix}",
                )
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="https-only",
                allowed_methods=["GET", "HEAD"],
                cached_methods=["GET", "HEAD"],
                cache_policy_id=CACHING_DISABLED,
                response_headers_policy_id=self._headers().id,
                trusted_key_groups=[key_group_id],
                compress=False,
            ),
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            viewer_certificate=CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True),
            logging_config=CloudfrontDistributionLoggingConfig(
                bucket=self.log_bucket.bucket.bucket_domain_name, prefix="downloads/", include_cookies=False
            ),
        )
        skip_checks(
            distribution,
            {
                "CKV_AWS_68": NO_EDGE_FIREWALL,
                "CKV2_AWS_47": "no WAF web ACL is attached (see CKV_AWS_68); the origin is S3, not Java",
                "CKV_AWS_174": DEFAULT_CERTIFICATE,
                "CKV2_AWS_42": DEFAULT_CERTIFICATE,
                "CKV_AWS_310": "one private bucket origin: a failover origin would need a replica bucket",
                "CKV_AWS_305": "links name objects; '/' has no object and is refused without a signature",
                "CKV_AWS_374": "analysts travel: signed, expiring URLs gate access, not the country",
            },
        )
        return distribution

    def _headers(self) -> CloudfrontResponseHeadersPolicy:
        security = CloudfrontResponseHeadersPolicySecurityHeadersConfig
        return CloudfrontResponseHeadersPolicy(
            self,
            "downloads_headers",
            name=f"{self.prefix}-downloads",
            comment="Private downloads: never cached by browsers, HSTS, no sniffing, no framing, no referrer",
            custom_headers_config=CloudfrontResponseHeadersPolicyCustomHeadersConfig(
                items=[
                    CloudfrontResponseHeadersPolicyCustomHeadersConfigItems(
                        header="Cache-Control", value="private, no-store", override=True
                    )
                ]
            ),
            security_headers_config=security(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=ONE_YEAR_SECONDS,
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(
                    override=True
                ),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                    frame_option="DENY", override=True
                ),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy="no-referrer", override=True
                ),
            ),
        )

    @property
    def base_url(self) -> str:
        return f"https://{self.distribution.domain_name}"

    @property
    def key_pair_id(self) -> str:
        return self.active_public_key.id
