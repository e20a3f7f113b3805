"""The monitor's Lambda zip: the same builder, only its own dependencies, importable with python3.12."""

from __future__ import annotations

import json
import zipfile

import pytest

from exporter import package


@pytest.mark.slow
def test_the_monitor_zip_is_pure_python_within_budget_and_imports(tmp_path) -> None:
    """One build (the builder's determinism is proven by the exporter's two builds): its closure is pure
    Python, so the arm64 zip the function runs imports itself under python3.12 on any host."""
    python = package.find_python312()
    arm = package.build("arm64", tmp_path / "arm", python, deployable=package.MONITOR)
    assert arm.path.name == f"salesflow-monitor-arm64-{arm.sha256}.zip"
    manifest = json.loads((tmp_path / "arm" / "artifact-arm64.json").read_text())
    assert manifest["s3_key"] == f"monitor/{arm.sha256}.zip"
    assert arm.unzipped_bytes <= package.MONITOR.budget
    with zipfile.ZipFile(arm.path) as archive:
        names = archive.namelist()
    assert "monitor/handler.py" in names and "monitor/conditions.py" in names
    assert not package.has_native_code(arm.path)
    tops = {name.split("/")[0] for name in names}
    assert not tops & {"exporter", "salesflow", "pyarrow", "pyiceberg", "requests", "jinja2", "cryptography"}
    assert not [name for name in names if name.startswith("aws_lambda_powertools/utilities/idempotency/")]
    smoke = json.loads(package.smoke_test(arm, python))
    assert smoke["python"].startswith("3.12")


def test_the_monitor_requirements_are_its_own_group() -> None:
    names = {line.split("==")[0].lower() for line in package.exported_requirements(package.MONITOR)}
    assert {"boto3", "botocore", "aws-lambda-powertools", "urllib3"} <= names
    assert not names & {"pyiceberg", "pyarrow", "jinja2", "cryptography", "pyyaml", "requests"}


def test_the_monitor_never_imports_salesflow_or_the_exporter() -> None:
    import ast

    for path in sorted(package.MONITOR.source.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not [name for name in names if name.split(".")[0] in ("salesflow", "exporter")], path.name
