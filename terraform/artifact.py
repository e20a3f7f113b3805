"""The Lambda artifacts the functions run: read from the manifests ``make package`` writes.

``build/<deployable>/artifact-<arch>.json`` describes one zip of the exporter or the monitor::

    {"file", "sha256", "architecture", "python", "unzipped_bytes", "zipped_bytes",
     "s3_key": "<deployable>/<sha256>.zip"}

The zip lives in the artifact bucket under its content-addressed key, so a Lambda's code is fully
determined by the synthesized JSON and a ``git revert`` points the function back at the older zip
(the bucket is versioned and never deletes artifacts). ``SALESFLOW_EXPORTER_MANIFEST`` and
``SALESFLOW_MONITOR_MANIFEST`` override the paths (tests use fixture manifests); without the latter, an
exporter override brings the monitor's manifest from the same folder (``monitor-artifact-<arch>.json``), so
one variable points synth at a folder of fixtures.
"""

from __future__ import annotations

import os
from pathlib import Path

from salesflow.config import REPO_ROOT
from salesflow.delivery.artifacts import (
    LAMBDA_RUNTIME,
    ArtifactError,
    ExporterArtifact,
    LambdaArtifact,
    load_manifest,
)

__all__ = [
    "LAMBDA_RUNTIME",
    "MANIFEST_VARIABLE",
    "MONITOR_MANIFEST_VARIABLE",
    "ArtifactError",
    "ExporterArtifact",
    "LambdaArtifact",
    "load_exporter_artifact",
    "load_monitor_artifact",
]

MANIFEST_VARIABLE = "SALESFLOW_EXPORTER_MANIFEST"
MONITOR_MANIFEST_VARIABLE = "SALESFLOW_MONITOR_MANIFEST"
_VARIABLES = {"exporter": MANIFEST_VARIABLE, "monitor": MONITOR_MANIFEST_VARIABLE}
_SETTINGS = {"exporter": "exporter.lambda.architecture", "monitor": "monitor.lambda.architecture"}


def manifest_path(architecture: str, deployable: str = "exporter") -> Path:
    override = os.environ.get(_VARIABLES[deployable])
    if override:
        return Path(override)
    beside = os.environ.get(MANIFEST_VARIABLE)
    if deployable != "exporter" and beside:
        return Path(beside).with_name(f"{deployable}-artifact-{architecture}.json")
    return REPO_ROOT / "build" / deployable / f"artifact-{architecture}.json"


def load_artifact(deployable: str, architecture: str) -> LambdaArtifact:
    """The manifest of ``deployable`` for ``architecture``; fails with the command that produces it."""
    path = manifest_path(architecture, deployable)
    variable = _VARIABLES[deployable]
    if not path.is_file():
        via = f" (from {variable})" if os.environ.get(variable) else ""
        if not via and deployable != "exporter" and os.environ.get(MANIFEST_VARIABLE):
            via = f" (beside {MANIFEST_VARIABLE})"
        raise ArtifactError(
            f"{path}{via}: no {deployable} manifest. Run `make package` first: synth points the Lambda at "
            f"the zip it builds ({deployable}/<sha256>.zip in the artifact bucket)."
        )
    artifact = load_manifest(path, deployable)
    if artifact.architecture != architecture:
        raise ArtifactError(
            f"{path}: built for {artifact.architecture}, but {_SETTINGS[deployable]} is {architecture}; "
            "run `make package` for that architecture"
        )
    return artifact


def load_exporter_artifact(architecture: str) -> LambdaArtifact:
    return load_artifact("exporter", architecture)


def load_monitor_artifact(architecture: str) -> LambdaArtifact:
    return load_artifact("monitor", architecture)
