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

import os
from pathlib import Path

from salesflow.config import REPO_ROOT
from salesflow.delivery.artifacts import LAMBDA_RUNTIME, ArtifactError, ExporterArtifact, load_manifest

__all__ = [
    "LAMBDA_RUNTIME",
    "MANIFEST_VARIABLE",
    "ArtifactError",
    "ExporterArtifact",
    "load_exporter_artifact",
]

MANIFEST_VARIABLE = "SALESFLOW_EXPORTER_MANIFEST"


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
    artifact = load_manifest(path)
    if artifact.architecture != architecture:
        raise ArtifactError(
            f"{path}: built for {artifact.architecture}, but exporter.lambda.architecture is {architecture}; "
            "run `make package` for that architecture"
        )
    return artifact
