"""``make scan``: checkov on every synthesized stack, with per-resource inline skips.

checkov 3's Terraform-JSON runner scans ``cdk.tf.json`` files but ignores inline suppressions, and
its CLI ``--skip-check`` is global. Stacks therefore record accepted findings in the resource's JSON
comment (``"//": {"checkov": ["checkov:skip=<CHECK>:<justification>"]}``, written by
``terraform/stacks/common.py:skip_checks``) and this script applies them to that resource only:

* a failed check without a matching skip fails the scan;
* a skip without a justification, or one that matches no failed check, fails the scan too, so skips
  cannot outlive the finding they excuse.

checkov 3.3.30's Terraform-JSON parser fails on blocks that hold no resource: ``removed``, ``import`` and
``ephemeral`` (lists, or values it expects as objects) and ``terraform.required_version``. checkov scans a
copy of the stacks without them (``scannable_copy``); every resource and data source is scanned as is.

Standard library only; runs checkov from the isolated environment (``.venv-checkov``).
Usage: ``python tools/checkov/scan.py STACKS_DIR [--checkov PATH] [--json REPORT]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Top-level blocks without resources that checkov's JSON parser cannot read (see the module docstring).
UNPARSED_BLOCKS = ("removed", "import", "ephemeral")
SKIP = re.compile(r"^checkov:skip=(?P<check>CKV2?_[A-Z0-9]+_\d+):(?P<why>.*)$")
DEFAULT_CHECKOV = Path(__file__).resolve().parents[2] / ".venv-checkov" / "bin" / "checkov"


@dataclass(frozen=True)
class Skip:
    stack: str
    block: str  # "resource" or "data"
    address: str  # "<type>.<name>"
    check: str
    justification: str


@dataclass(frozen=True)
class Finding:
    stack: str
    check: str
    name: str
    resource: str
    justification: str | None = None


@dataclass
class ScanResult:
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    skipped: list[Finding] = field(default_factory=list)
    unused_skips: list[Skip] = field(default_factory=list)
    invalid_skips: list[str] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.unused_skips or self.invalid_skips or self.parsing_errors)


def collect_skips(document: dict[str, Any], stack: str) -> tuple[list[Skip], list[str]]:
    """Inline skips of one ``cdk.tf.json``; malformed ones are returned as problems."""
    skips: list[Skip] = []
    problems: list[str] = []
    for block in ("resource", "data"):
        for type_name, instances in document.get(block, {}).items():
            for name, body in instances.items():
                for entry in body.get("//", {}).get("checkov", []):
                    match = SKIP.match(entry)
                    address = f"{type_name}.{name}"
                    if not match or len(match.group("why").strip()) < 10:
                        problems.append(
                            f"{stack}: {block} {address}: '{entry}' needs 'checkov:skip=<ID>:<why>'"
                        )
                        continue
                    skips.append(
                        Skip(stack, block, address, match.group("check"), match.group("why").strip())
                    )
    return skips, problems


def _owners(document: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Block name -> [(block kind, type.name)]: checkov names some findings only by block name."""
    owners: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for block in ("resource", "data"):
        for type_name, instances in document.get(block, {}).items():
            for name in instances:
                owners[name].append((block, f"{type_name}.{name}"))
    return owners


def _address(resource: str, owners: dict[str, list[tuple[str, str]]]) -> tuple[str, str] | None:
    """checkov's ``resource.<name>``/``data.<name>``/``<type>.<name>`` -> (block, ``type.name``)."""
    head, _, name = resource.partition(".")
    if head in {"resource", "data"}:
        candidates = [owner for owner in owners.get(name, []) if owner[0] == head]
        return candidates[0] if len(candidates) == 1 else None
    for block, address in owners.get(name, []):
        if address == resource:
            return block, address
    return None


def scannable_copy(stacks_dir: Path, target: Path) -> None:
    """Every ``cdk.tf.json`` under ``stacks_dir`` at the same relative path under ``target``, minus the
    blocks checkov's parser cannot read (``UNPARSED_BLOCKS``, ``terraform.required_version``)."""
    for path in sorted(stacks_dir.rglob("cdk.tf.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for block in UNPARSED_BLOCKS:
            document.pop(block, None)
        (document.get("terraform") or {}).pop("required_version", None)
        copy = target / path.relative_to(stacks_dir)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(json.dumps(document), encoding="utf-8")


def run_checkov(stacks_dir: Path, checkov: Path) -> list[dict[str, Any]]:
    environment = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"}
    scanned = Path(tempfile.mkdtemp(prefix="salesflow-checkov-"))
    try:
        scannable_copy(stacks_dir, scanned)
        completed = subprocess.run(
            [
                str(checkov),
                "-d",
                str(scanned),
                "--framework",
                "terraform_json",
                "--skip-download",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
            cwd=scanned,
        )
    finally:
        shutil.rmtree(scanned, ignore_errors=True)
    if completed.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
    report = json.loads(completed.stdout)
    return report if isinstance(report, list) else [report]


def evaluate(stacks_dir: Path, reports: list[dict[str, Any]]) -> ScanResult:
    """Apply the inline skips of every stack to checkov's findings."""
    result = ScanResult()
    documents = {
        path.parent.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(stacks_dir.glob("*/cdk.tf.json"))
    }
    skips: dict[tuple[str, str, str], Skip] = {}
    for stack, document in documents.items():
        found, problems = collect_skips(document, stack)
        result.invalid_skips += problems
        skips.update({(skip.stack, skip.address, skip.check): skip for skip in found})
    used: set[tuple[str, str, str]] = set()
    for report in reports:
        if not report.get("results"):
            continue
        result.passed += len(report["results"].get("passed_checks", []))
        result.parsing_errors += report["results"].get("parsing_errors", [])
        for check in report["results"].get("failed_checks", []):
            stack = Path(check["file_path"]).parent.name
            owner = _address(check["resource"], _owners(documents.get(stack, {})))
            address = owner[1] if owner else check["resource"]
            key = (stack, address, check["check_id"])
            if key in skips:
                used.add(key)
                result.skipped.append(
                    Finding(stack, check["check_id"], check["check_name"], address, skips[key].justification)
                )
            else:
                result.failed.append(Finding(stack, check["check_id"], check["check_name"], address))
    result.unused_skips = [skip for key, skip in sorted(skips.items()) if key not in used]
    return result


def render(result: ScanResult) -> str:
    lines = [
        f"checkov: {result.passed} passed, {len(result.failed)} failed, "
        f"{len(result.skipped)} skipped with justification"
    ]
    for finding in sorted(result.skipped, key=lambda item: (item.stack, item.resource, item.check)):
        lines.append(
            f"  skipped {finding.check} on {finding.stack}/{finding.resource}: {finding.justification}"
        )
    for finding in sorted(result.failed, key=lambda item: (item.stack, item.resource, item.check)):
        lines.append(f"  FAILED  {finding.check} on {finding.stack}/{finding.resource}: {finding.name}")
    for skip in result.unused_skips:
        lines.append(
            f"  UNUSED  skip {skip.check} on {skip.stack}/{skip.address}: no such finding; remove the skip"
        )
    lines += [f"  INVALID {problem}" for problem in result.invalid_skips]
    lines += [f"  PARSE ERROR {error}" for error in result.parsing_errors]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="checkov with per-resource inline skips")
    parser.add_argument("stacks_dir", type=Path)
    parser.add_argument("--checkov", type=Path, default=DEFAULT_CHECKOV)
    parser.add_argument("--json", type=Path, help="also write the result as JSON")
    arguments = parser.parse_args(argv)
    if not any(arguments.stacks_dir.glob("*/cdk.tf.json")):
        print(f"{arguments.stacks_dir}: no */cdk.tf.json; run `make synth` first", file=sys.stderr)
        return 2
    result = evaluate(arguments.stacks_dir, run_checkov(arguments.stacks_dir, arguments.checkov))
    print(render(result))
    if arguments.json:
        arguments.json.write_text(json.dumps(asdict(result), indent=2), encoding="utf-8")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
