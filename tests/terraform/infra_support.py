"""Shared constants and helpers of the infrastructure tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_MANIFEST = FIXTURES / "artifact-arm64.json"
MARKER_PEPPER = "pepper-marker-7f3c9e-must-never-be-synthesized"
# Credentials a pipeline has in its environment while synthesizing: none may reach the output.
MARKER_CREDENTIALS = {
    "CONFLUENT_CLOUD_API_KEY": "CLOUDKEYMARKER7F3C9E",
    "CONFLUENT_CLOUD_API_SECRET": "cloud-secret-marker-7f3c9e",
    "FLINK_API_KEY": "FLINKKEYMARKER7F3C9E",
    "FLINK_API_SECRET": "flink-secret-marker-7f3c9e",
    "TABLEFLOW_API_SECRET": "tableflow-secret-marker-7f3c9e",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-marker-7f3c9e",
    "SALESFLOW_PII_PEPPER": MARKER_PEPPER,
}

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@dataclass(frozen=True)
class Synthesis:
    """One ``python terraform/main.py`` equivalent: the output directory and every stack's JSON."""

    outdir: Path
    stacks: dict[str, dict[str, Any]]

    def stack(self, name: str) -> dict[str, Any]:
        return self.stacks[name]

    def raw(self, name: str) -> str:
        return (self.outdir / "stacks" / name / "cdk.tf.json").read_text(encoding="utf-8")


def run_synth(outdir: Path) -> Synthesis:
    from terraform.app import synth

    files = synth(["dev", "prod"], outdir)
    return Synthesis(
        outdir=outdir,
        stacks={path.parent.name: json.loads(path.read_text(encoding="utf-8")) for path in files},
    )
