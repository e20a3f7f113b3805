"""The exporter artifact the Lambda runs: read from the manifest ``make package`` writes.

``build/exporter/artifact-<arch>.json`` describes one zip::

    {"file", "sha256", "architecture", "python", "unzipped_bytes", "zipped_bytes",
     "s3_key": "exporter/<sha256>.zip"}

The zip lives in the artifact bucket under its content-addressed key, so the Lambda's code is fully
determined by the synthesized JSON and a ``git revert`` points the function back at the older zip
(the bucket is versioned and never deletes artifacts). ``SALESFLOW_EXPORTER_MANIFEST`` overrides the
path (tests use a fixture manifest).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from salesflow.config import REPO_ROOT

MANIFEST_VARIABLE = "SALESFLOW_EXPORTER_MANIFEST"
LAMBDA_RUNTIME = "python3.12"
# Lambda's limit for function code plus layers, unzipped (the zip itself comes from S3).
LAMBDA_UNZIPPED_LIMIT = 262_144_000


class ArtifactError(ValueError):
    """The exporter manifest is missing or does not fit this environment; the message says what to do."""


class ExporterArtifact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    architecture: Literal["arm64", "x86_64"]
    python: str
    unzipped_bytes: Annotated[int, Field(gt=0, le=LAMBDA_UNZIPPED_LIMIT)]
    zipped_bytes: Annotated[int, Field(gt=0)]
    s3_key: str

    @model_validator(mode="after")
    def _content_addressed(self) -> ExporterArtifact:
        if self.s3_key != f"exporter/{self.sha256}.zip":
            raise ValueError(f"s3_key must be exporter/<sha256>.zip, i.e. exporter/{self.sha256}.zip")
        version = self.python.removeprefix("python").split(".")
        if f"python{'.'.join(version[:2])}" != LAMBDA_RUNTIME:
            raise ValueError(f"python is {self.python!r}; the Lambda runtime is {LAMBDA_RUNTIME}")
        return self

    @property
    def source_code_hash(self) -> str:
        """What Lambda reports as ``CodeSha256``: base64 of the zip's SHA-256 digest (not hex)."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


def manifest_path(architecture: str) -> Path:
    override = os.environ.get(MANIFEST_VARIABLE)
    if override:
        return Path(override)
    return REPO_ROOT / "build" / "exporter" / f"artifact-{architecture}.json"


def load_exporter_artifact(architecture: str) -> ExporterArtifact:
    """The manifest for ``architecture``; fails with the command that produces it."""
    path = manifest_path(architecture)
    if not path.is_file():
        via = f" (from {MANIFEST_VARIABLE})" if os.environ.get(MANIFEST_VARIABLE) else ""
        raise ArtifactError(
            f"{path}{via}: no exporter manifest. Run `make package` first: synth points the Lambda at the "
            f"zip it builds (exporter/<sha256>.zip in the artifact bucket)."
        )
    try:
        artifact = ExporterArtifact.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ArtifactError(
            f"{path}: not a valid exporter manifest: {exc}; run `make package` again"
        ) from None
    if artifact.architecture != architecture:
        raise ArtifactError(
            f"{path}: built for {artifact.architecture}, but exporter.lambda.architecture is {architecture}; "
            "run `make package` for that architecture"
        )
    return artifact
