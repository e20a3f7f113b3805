"""The exporter manifest: what synth takes from ``make package``, and the clear failure without it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from infra_support import FIXTURE_MANIFEST, REPO_ROOT

# terraform.artifact is imported by each test, not at collection: importing the terraform package loads the
# AWS provider's bindings (~7 s), which every xdist worker would pay while collecting.
MANIFEST_VARIABLE = "SALESFLOW_EXPORTER_MANIFEST"


def load_exporter_artifact(arch: str):
    from terraform.artifact import load_exporter_artifact

    return load_exporter_artifact(arch)


def _artifact_error() -> type[Exception]:
    from terraform.artifact import ArtifactError

    return ArtifactError


def _manifest(tmp_path: Path, **changes: object) -> Path:
    data = json.loads(FIXTURE_MANIFEST.read_text(encoding="utf-8")) | changes
    path = tmp_path / "artifact.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_manifest_variable_is_the_one_terraform_reads() -> None:
    from terraform.artifact import MANIFEST_VARIABLE as read_by_terraform

    assert read_by_terraform == MANIFEST_VARIABLE


def test_source_code_hash_is_what_lambda_reports_for_the_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "exporter.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("exporter/handler.py", "def handler(event, context):\n    return event\n")
    content = archive.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    path = _manifest(
        tmp_path,
        file=str(archive.name),
        sha256=digest,
        s3_key=f"exporter/{digest}.zip",
        zipped_bytes=len(content),
    )
    monkeypatch.setenv(MANIFEST_VARIABLE, str(path))
    artifact = load_exporter_artifact("arm64")
    # Lambda's CodeSha256: base64 of the raw SHA-256 digest of the zip (not the hex string).
    assert artifact.source_code_hash == base64.b64encode(hashlib.sha256(content).digest()).decode("ascii")
    assert artifact.s3_key == f"exporter/{digest}.zip"


def test_missing_manifest_says_to_run_make_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MANIFEST_VARIABLE, raising=False)
    monkeypatch.setattr("terraform.artifact.REPO_ROOT", tmp_path)
    with pytest.raises(_artifact_error()) as error:
        load_exporter_artifact("arm64")
    assert str(tmp_path / "build" / "exporter" / "artifact-arm64.json") in str(error.value)
    assert "make package" in str(error.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"architecture": "x86_64"}, "built for x86_64, but exporter.lambda.architecture is arm64"),
        ({"s3_key": "exporter/latest.zip"}, "does not carry the sha256: it must be <deployable>/"),
        (  # the monitor's zip given where the exporter's is expected
            {"s3_key": "monitor/c1ff2c3f77624837511feba60ad2e00780a8ca826ccafbe471262fc6fe0ff616.zip"},
            "a monitor zip, not the exporter's",
        ),
        ({"python": "3.11"}, "the Lambda runtime is python3.12"),
        ({"unzipped_bytes": 300_000_000}, "unzipped_bytes"),
        ({"sha256": "ABC"}, "sha256"),
    ],
)
def test_a_manifest_that_does_not_fit_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changes: dict, message: str
) -> None:
    path = _manifest(tmp_path, **changes)
    monkeypatch.setenv(MANIFEST_VARIABLE, str(path))
    with pytest.raises(_artifact_error()) as error:
        load_exporter_artifact("arm64")
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_synth_without_a_manifest_fails_clearly_and_keeps_the_previous_output(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    previous = outdir / "stacks" / "dev-aws" / "cdk.tf.json"
    previous.parent.mkdir(parents=True)
    previous.write_text('{"previous": true}', encoding="utf-8")
    environment = {**os.environ, MANIFEST_VARIABLE: str(tmp_path / "missing.json")}
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "terraform" / "main.py"), "--env", "dev", "--outdir", str(outdir)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert completed.returncode == 1
    assert "Run `make package` first" in completed.stderr
    assert f"{tmp_path / 'missing.json'} (from {MANIFEST_VARIABLE})" in completed.stderr
    assert previous.read_text(encoding="utf-8") == '{"previous": true}'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cdktf.out"]  # no staging left behind
