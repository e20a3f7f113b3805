"""``make scan``: checkov on the synthesized stacks, inline skips applied per resource and printed."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from infra_support import REPO_ROOT, Synthesis

SCAN_SCRIPT = REPO_ROOT / "tools" / "checkov" / "scan.py"
CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"


def _load_scan():
    spec = importlib.util.spec_from_file_location("salesflow_checkov_scan", SCAN_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


scan = _load_scan()


def _checkov() -> Path:
    if not CHECKOV.is_file():
        pytest.fail(f"{CHECKOV} is missing: run `make setup` (it installs the pinned checkov)")
    return CHECKOV


@pytest.mark.slow
def test_every_skip_has_a_justification_and_is_printed(
    synthesis: Synthesis, capsys: pytest.CaptureFixture
) -> None:
    skips = []
    for name, document in sorted(synthesis.stacks.items()):
        found, problems = scan.collect_skips(document, name)
        assert problems == []
        skips += found
    with capsys.disabled():
        print(f"\ncheckov skips in the synthesized stacks ({len(skips)}):")
        for skip in skips:
            print(f"  {skip.stack}/{skip.address}: {skip.check}: {skip.justification}")
    assert skips
    readme = (REPO_ROOT / "terraform" / "README.md").read_text(encoding="utf-8")
    undocumented = sorted({skip.check for skip in skips if skip.check not in readme})
    assert undocumented == [], "terraform/README.md must explain every skipped check"


def _document(resources: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resources}


def _report(*failed: tuple[str, str, str], passed: int = 3) -> list[dict[str, Any]]:
    return [
        {
            "check_type": "terraform_json",
            "results": {
                "passed_checks": [{}] * passed,
                "failed_checks": [
                    {
                        "check_id": check,
                        "check_name": f"name of {check}",
                        "resource": resource,
                        "file_path": f"/{stack}/cdk.tf.json",
                    }
                    for stack, resource, check in failed
                ],
                "parsing_errors": [],
            },
        }
    ]


def _stacks(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> Path:
    for stack, document in documents.items():
        (tmp_path / stack).mkdir()
        (tmp_path / stack / "cdk.tf.json").write_text(json.dumps(document), encoding="utf-8")
    return tmp_path


def test_a_skip_excuses_its_check_on_its_resource_only(tmp_path: Path) -> None:
    justified = {"//": {"checkov": ["checkov:skip=CKV_AWS_144:logs stay in one region on purpose"]}}
    stacks = _stacks(
        tmp_path,
        {"dev-aws": _document({"aws_s3_bucket": {"logs": justified, "exports": {}}})},
    )
    result = scan.evaluate(
        stacks,
        _report(
            ("dev-aws", "aws_s3_bucket.logs", "CKV_AWS_144"),
            ("dev-aws", "aws_s3_bucket.exports", "CKV_AWS_144"),
        ),
    )
    assert [(finding.resource, finding.check) for finding in result.skipped] == [
        ("aws_s3_bucket.logs", "CKV_AWS_144")
    ]
    assert [(finding.resource, finding.check) for finding in result.failed] == [
        ("aws_s3_bucket.exports", "CKV_AWS_144")
    ]
    assert not result.ok
    assert "FAILED  CKV_AWS_144 on dev-aws/aws_s3_bucket.exports" in scan.render(result)


def test_python_checks_name_resources_by_block_and_name(tmp_path: Path) -> None:
    justified = {"//": {"checkov": ["checkov:skip=CKV_AWS_50:X-Ray is off by design, see the README"]}}
    stacks = _stacks(tmp_path, {"dev-aws": _document({"aws_lambda_function": {"exporter": justified}})})
    result = scan.evaluate(stacks, _report(("dev-aws", "resource.exporter", "CKV_AWS_50")))
    assert result.ok
    assert [finding.resource for finding in result.skipped] == ["aws_lambda_function.exporter"]


def test_unused_and_unjustified_skips_fail_the_scan(tmp_path: Path) -> None:
    stacks = _stacks(
        tmp_path,
        {
            "dev-aws": _document(
                {
                    "aws_sqs_queue": {
                        "queue": {
                            "//": {"checkov": ["checkov:skip=CKV_AWS_27:encrypted by SQS-managed keys"]}
                        },
                        "other": {"//": {"checkov": ["checkov:skip=CKV_AWS_27:"]}},
                    }
                }
            )
        },
    )
    result = scan.evaluate(stacks, _report())
    assert [(skip.address, skip.check) for skip in result.unused_skips] == [
        ("aws_sqs_queue.queue", "CKV_AWS_27")
    ]
    assert len(result.invalid_skips) == 1 and "aws_sqs_queue.other" in result.invalid_skips[0]
    assert not result.ok


@pytest.fixture(scope="module")
def checkov_workspace(synthesis: Synthesis, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One checkov run (its start-up costs more than its checks) over three sets of stacks side by side:

    * ``real``: the synthesized stacks;
    * ``insecure``: dev-aws without the export bucket's public access block and encryption;
    * ``broken``: prod-aws with one justification dropped from the Lambda.
    Each test evaluates the report of its own set, exactly what checkov says of those files.
    """
    root = tmp_path_factory.mktemp("checkov")
    shutil.copytree(synthesis.outdir / "stacks", root / "real")
    insecure = json.loads(json.dumps(synthesis.stack("dev-aws")))
    resources = insecure["resource"]
    del resources["aws_s3_bucket_public_access_block"]["export_bucket_public_access"]
    del resources["aws_s3_bucket_server_side_encryption_configuration"]["export_bucket_encryption"]
    (root / "insecure" / "dev-aws").mkdir(parents=True)
    (root / "insecure" / "dev-aws" / "cdk.tf.json").write_text(json.dumps(insecure), encoding="utf-8")
    shutil.copytree(synthesis.outdir / "stacks" / "prod-aws", root / "broken" / "prod-aws")
    document = json.loads((root / "broken" / "prod-aws" / "cdk.tf.json").read_text(encoding="utf-8"))
    document["resource"]["aws_lambda_function"]["exporter"]["//"]["checkov"].pop()  # drop one justification
    (root / "broken" / "prod-aws" / "cdk.tf.json").write_text(json.dumps(document), encoding="utf-8")
    return {"root": root, "reports": scan.run_checkov(root, _checkov())}


def _reports_of(workspace: dict[str, Any], part: str) -> list[dict[str, Any]]:
    """The checkov report restricted to the files under ``<workspace>/<part>/``."""

    def mine(check: dict[str, Any]) -> bool:
        return Path(check["file_path"]).parts[1:2] == (part,)

    reports = []
    for report in workspace["reports"]:
        results = report.get("results") or {}
        reports.append(
            {
                **report,
                "results": {
                    **results,
                    "passed_checks": [c for c in results.get("passed_checks", []) if mine(c)],
                    "failed_checks": [c for c in results.get("failed_checks", []) if mine(c)],
                },
            }
        )
    return reports


@pytest.mark.slow
def test_checkov_finds_no_unexcused_failure_in_the_synthesized_stacks(
    checkov_workspace: dict[str, Any], capsys: pytest.CaptureFixture
) -> None:
    stacks = checkov_workspace["root"] / "real"
    result = scan.evaluate(stacks, _reports_of(checkov_workspace, "real"))
    with capsys.disabled():
        print("\n" + scan.render(result).splitlines()[0])
    assert result.failed == [] and result.unused_skips == [] and result.parsing_errors == []
    assert result.ok
    assert result.passed > 300


@pytest.mark.slow
def test_checkov_fails_a_deliberately_insecure_stack(checkov_workspace: dict[str, Any]) -> None:
    """Remove the export bucket's public access block and encryption: the scan must fail on both."""
    stacks = checkov_workspace["root"] / "insecure"
    result = scan.evaluate(stacks, _reports_of(checkov_workspace, "insecure"))
    failed = {(finding.resource, finding.check) for finding in result.failed}
    assert ("aws_s3_bucket.export_bucket", "CKV2_AWS_6") in failed  # no public access block
    assert ("aws_s3_bucket.export_bucket", "CKV_AWS_145") in failed  # not KMS-encrypted
    assert not result.ok


@pytest.mark.slow
def test_scan_script_exit_codes(
    checkov_workspace: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert scan.main([str(empty)]) == 2
    # checkov's own report of exactly these files (from the one run above) stands in for a second run.
    monkeypatch.setattr(
        scan, "run_checkov", lambda _stacks, _checkov: _reports_of(checkov_workspace, "broken")
    )
    assert scan.main([str(checkov_workspace["root"] / "broken")]) == 1
    monkeypatch.setattr(scan, "run_checkov", lambda _stacks, _checkov: _reports_of(checkov_workspace, "real"))
    assert scan.main([str(checkov_workspace["root"] / "real")]) == 0
