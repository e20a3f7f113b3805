"""HTTPS download links an analyst can click: CloudFront signed URLs (canned policy) for exported objects.

The export bucket stays private; a CloudFront distribution reads it through origin access control and
serves only requests signed with a key of its trusted key group (terraform/aws/downloads.py). The link
is signed here with the RSA private key from Secrets Manager (botocore's ``CloudFrontSigner``, RSA-SHA1
as CloudFront requires), so it stays valid for the configured days, unlike an S3 presigned URL made
with the Lambda role's session credentials. The key is read once per run and never logged.

    https://<distribution>/<key below the export prefix>?Expires=<epoch>&Signature=<...>&Key-Pair-Id=<id>
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

SecretReader = Callable[[str], str]
_BASE_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?$")


class LinkError(RuntimeError):
    """Links cannot be signed; the message names the setting or secret and the fix."""


@dataclass(frozen=True)
class DownloadSettings:
    base_url: str  # https://d1234.cloudfront.net (no trailing slash)
    key_pair_id: str  # the CloudFront public key id of the active key
    signing_key_secret_id: str  # Secrets Manager secret: the private key PEM
    days: int  # how long a link stays valid


@dataclass(frozen=True)
class Link:
    name: str
    url: str
    expires: datetime


class LinkSigner:
    def __init__(self, key_pair_id: str, private_key_pem: str) -> None:
        from botocore.signers import CloudFrontSigner
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        try:
            key = serialization.load_pem_private_key(private_key_pem.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise LinkError("the download signing key is not an unencrypted PEM private key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise LinkError("the download signing key must be an RSA key (CloudFront signs with RSA-SHA1)")

        def sign(message: bytes) -> bytes:
            return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - CloudFront's algorithm

        self._signer = CloudFrontSigner(key_pair_id, sign)

    def sign(self, url: str, expires: datetime) -> str:
        return self._signer.generate_presigned_url(url, date_less_than=expires)


def object_url(base_url: str, prefix: str, key: str) -> str:
    """The distribution's URL of an S3 key (its origin path is the export prefix)."""
    relative = key.removeprefix(f"{prefix}/")
    return f"{base_url.rstrip('/')}/{quote(relative, safe='/=-_.~')}"


def read_secret_string(secret_id: str) -> str:  # pragma: no cover - exercised against moto in tests
    import boto3

    return boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]


def load_signer(settings: DownloadSettings, read_secret: SecretReader = read_secret_string) -> LinkSigner:
    try:
        pem = read_secret(settings.signing_key_secret_id)
    except Exception as exc:
        raise LinkError(
            f"cannot read the download signing key from Secrets Manager secret "
            f"{settings.signing_key_secret_id!r} ({type(exc).__name__}); check that it exists and the "
            "Lambda role may GetSecretValue"
        ) from None
    return LinkSigner(settings.key_pair_id, pem)


def download_links(
    settings: DownloadSettings,
    prefix: str,
    keys: dict[str, str],
    signer: LinkSigner,
    now: datetime | None = None,
) -> dict[str, Link]:
    """A signed link per name (report or manifest) -> S3 key, valid ``settings.days`` from ``now``."""
    expires = (now or datetime.now(UTC)).replace(microsecond=0) + timedelta(days=settings.days)
    return {
        name: Link(name, signer.sign(object_url(settings.base_url, prefix, key), expires), expires)
        for name, key in keys.items()
    }


def check_base_url(value: str) -> str:
    if not _BASE_URL.match(value):
        raise LinkError(f"DOWNLOAD_BASE_URL must be https://<host> without a path, got {value!r}")
    return value
