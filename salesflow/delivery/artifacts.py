"""Publish the Lambda zips (the exporter's and the monitor's) to an environment's artifact bucket,
content-addressed.

``make package`` writes ``build/<deployable>/artifact-<arch>.json`` = ``{"file", "sha256", "s3_key", ...}``
with ``s3_key = <deployable>/<sha256>.zip``; the synthesized Lambda points at ``s3_key``. The deploy
pipeline builds the zips once and publishes them here before any apply. The key carries the zip's SHA-256,
so an object at that key is immutable: publishing again is a no-op, and an object whose checksum differs
is an error, never overwritten (a revert relies on old keys still holding exactly what they held).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from salesflow.config import REPO_ROOT

BUILD_ROOT = REPO_ROOT / "build"
BUILD_DIR = BUILD_ROOT / "exporter"
# The Lambdas this repository ships: each has its folder, its uv.lock group and its key prefix.
DEPLOYABLES = ("exporter", "monitor")


LAMBDA_RUNTIME = "python3.12"
# Lambda's limit for function code plus layers, unzipped (the zip itself comes from S3).
LAMBDA_UNZIPPED_LIMIT = 262_144_000


class ArtifactError(ValueError):
    """The artifact is missing, malformed or not as built; the message names the file and the fix."""


class LambdaArtifact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    architecture: Literal["arm64", "x86_64"]
    python: str
    unzipped_bytes: Annotated[int, Field(gt=0, le=LAMBDA_UNZIPPED_LIMIT)]
    zipped_bytes: Annotated[int, Field(gt=0)]
    s3_key: str

    @model_validator(mode="after")
    def _content_addressed(self) -> LambdaArtifact:
        if self.s3_key not in {f"{name}/{self.sha256}.zip" for name in DEPLOYABLES}:
            raise ValueError(
                f"s3_key {self.s3_key!r} does not carry the sha256: it must be "
                f"<deployable>/{self.sha256}.zip with a deployable of {', '.join(DEPLOYABLES)} (a key that "
                "is not content-addressed could be overwritten, and a revert would deploy other code)"
            )
        version = self.python.removeprefix("python").split(".")
        if f"python{'.'.join(version[:2])}" != LAMBDA_RUNTIME:
            raise ValueError(f"python is {self.python!r}; the Lambda runtime is {LAMBDA_RUNTIME}")
        return self

    @property
    def deployable(self) -> str:
        return self.s3_key.split("/", 1)[0]

    @property
    def source_code_hash(self) -> str:
        """What Lambda reports as ``CodeSha256``: base64 of the zip's SHA-256 digest (not hex)."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


# The exporter's artifact was the only one; the name stays for what reads it.
ExporterArtifact = LambdaArtifact


def load_manifest(path: Path, deployable: str | None = None) -> LambdaArtifact:
    """Read and validate a manifest ``make package`` wrote (synth and publishing share this contract);
    with ``deployable``, it must be that deployable's zip."""
    try:
        artifact = LambdaArtifact.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: not found; run `make package` first") from None
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ArtifactError(
            f"{path}: not a valid {deployable or 'Lambda'} manifest: {exc}; run `make package` again"
        ) from None
    if deployable is not None and artifact.deployable != deployable:
        raise ArtifactError(f"{path}: a {artifact.deployable} zip, not the {deployable}'s; check the path")
    return artifact


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
    """Keys of every artifact this build produced (what the pipeline will publish before applying):
    ``build_dir`` is the build root (``build/<deployable>/artifact-*.json``) or one deployable's folder."""
    manifests = [*build_dir.glob("artifact-*.json"), *build_dir.glob("*/artifact-*.json")]
    return sorted(read_artifact(path).s3_key for path in sorted(manifests))


def read_artifact(path: Path) -> Artifact:
    manifest = load_manifest(path)
    file = Path(manifest.file)
    if not file.is_absolute():
        candidates = [path.parent / file, REPO_ROOT / file, Path.cwd() / file]
        file = next((candidate for candidate in candidates if candidate.is_file()), candidates[0])
    return Artifact(path, file, manifest.sha256, manifest.s3_key)


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
