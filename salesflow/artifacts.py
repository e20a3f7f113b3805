"""Publish the exporter's Lambda zip to an environment's artifact bucket, content-addressed.

``make package`` writes ``build/exporter/artifact-<arch>.json`` = ``{"file", "sha256", "s3_key", ...}``;
the synthesized Lambda points at ``s3_key``. The deploy pipeline builds the zip once and publishes it
here before any apply. The key carries the zip's SHA-256, so an object at that key is immutable:
publishing again is a no-op, and an object whose checksum differs is an error, never overwritten
(a revert relies on old keys still holding exactly what they held).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salesflow.config import REPO_ROOT

BUILD_DIR = REPO_ROOT / "build" / "exporter"


class ArtifactError(ValueError):
    """The artifact cannot be published as built; the message names the file or object and the fix."""


@dataclass(frozen=True)
class Artifact:
    manifest: Path
    file: Path
    sha256: str
    s3_key: str


@dataclass(frozen=True)
class Published:
    bucket: str
    key: str
    uploaded: bool


def manifest_path(build_dir: Path, architecture: str) -> Path:
    return build_dir / f"artifact-{architecture}.json"


def built_keys(build_dir: Path) -> list[str]:
    """Keys of every artifact this build produced (what the pipeline will publish before applying)."""
    return sorted(read_artifact(path).s3_key for path in sorted(build_dir.glob("artifact-*.json")))


def read_artifact(path: Path) -> Artifact:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: not found; run `make package` first") from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path}: not valid JSON ({exc}); run `make package` again") from None
    missing = [key for key in ("file", "sha256", "s3_key") if not isinstance(data.get(key), str)]
    if missing:
        raise ArtifactError(f"{path}: missing {', '.join(missing)}; run `make package` again")
    digest = data["sha256"].lower()
    if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
        raise ArtifactError(f"{path}: sha256 {data['sha256']!r} is not 64 hex digits")
    if digest not in data["s3_key"]:
        raise ArtifactError(
            f"{path}: s3_key {data['s3_key']!r} does not carry the sha256; a key that is not "
            "content-addressed could be overwritten, and a revert would deploy other code"
        )
    file = Path(data["file"])
    if not file.is_absolute():
        candidates = [path.parent / file, REPO_ROOT / file, Path.cwd() / file]
        file = next((candidate for candidate in candidates if candidate.is_file()), candidates[0])
    return Artifact(path, file, digest, data["s3_key"])


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stored_sha256(head: dict[str, Any]) -> str | None:
    if head.get("ChecksumSHA256") and head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT":
        return base64.b64decode(head["ChecksumSHA256"]).hex()
    return (head.get("Metadata") or {}).get("sha256")


def publish(artifact: Artifact, bucket: str, s3: Any) -> Published:
    """Upload the zip to ``bucket`` at its key unless the same bytes are already there."""
    if not artifact.file.is_file():
        raise ArtifactError(f"{artifact.manifest}: {artifact.file} does not exist; run `make package` again")
    actual = _file_sha256(artifact.file)
    if actual != artifact.sha256:
        raise ArtifactError(
            f"{artifact.file}: SHA-256 is {actual}, the manifest says {artifact.sha256}; the zip changed "
            "after `make package`: build again"
        )
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=artifact.s3_key, ChecksumMode="ENABLED")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchKey", "NotFound"}:
            raise ArtifactError(f"s3://{bucket}/{artifact.s3_key}: cannot read it ({exc})") from None
        head = None
    if head is not None:
        stored = _stored_sha256(head)
        if stored != artifact.sha256:
            raise ArtifactError(
                f"s3://{bucket}/{artifact.s3_key} already exists with SHA-256 {stored or 'unknown'}, not "
                f"{artifact.sha256}; a content-addressed object is never overwritten: investigate how it "
                "got there"
            )
        return Published(bucket, artifact.s3_key, uploaded=False)
    checksum = base64.b64encode(bytes.fromhex(artifact.sha256)).decode("ascii")
    with artifact.file.open("rb") as body:
        s3.put_object(
            Bucket=bucket,
            Key=artifact.s3_key,
            Body=body,
            # S3 recomputes the SHA-256 and rejects the upload if it differs: no corrupt artifact lands.
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
            ContentType="application/zip",
            Metadata={"sha256": artifact.sha256},
        )
    return Published(bucket, artifact.s3_key, uploaded=True)


def s3_artifact_exists(s3: Any):
    """A guard callback: does ``s3://bucket/key`` (optionally at a version) exist?"""
    from botocore.exceptions import ClientError

    def exists(bucket: str, key: str, version: str | None) -> bool:
        arguments = {"Bucket": bucket, "Key": key} | ({"VersionId": version} if version else {})
        try:
            s3.head_object(**arguments)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}:
                return False
            raise ArtifactError(f"s3://{bucket}/{key}: cannot check it ({exc})") from None
        return True

    return exists
