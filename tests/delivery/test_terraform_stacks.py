""".github/scripts/terraform-stacks.sh end to end: real Terraform, real S3 state (moto server).

The stacks here use only Terraform's built-in resources (terraform_data, terraform_remote_state), so
nothing is downloaded, with the S3 backend pointed at moto. Two stacks depend on each other the way the
Confluent and AWS stacks do (the downstream one reads the upstream one's outputs from its state). The
script, the `salesflow stacks/guard/plan-compare` commands and `aws s3 cp` run exactly as in the
workflows. It needs the terraform, aws and jq executables; they are on this machine type (the workflows
install Terraform with hashicorp/setup-terraform).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from salesflow.config import load_environment
from salesflow.sql.render import PEPPER_TERRAFORM_REFERENCE, render_statements

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / ".github" / "scripts" / "terraform-stacks.sh"
MISSING = [tool for tool in ("terraform", "aws", "jq") if shutil.which(tool) is None]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)} on PATH"),
]


class Repo:
    """A synthesized output dir with an upstream and a downstream dev stack, state in moto's S3."""

    def __init__(self, root: Path, endpoint: str, s3: Any) -> None:
        self.root, self.endpoint, self.s3 = root, endpoint, s3
        self.synth = root / "cdktf.out"
        cli_config = root / "terraformrc"
        cli_config.write_text("")
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key.startswith(("AWS_", "PATH", "HOME", "LANG", "PYTHON"))
        } | {
            "SALESFLOW": str(Path(sys.executable).parent / "salesflow"),
            "SALESFLOW_SYNTH_DIR": str(self.synth),
            "SALESFLOW_GUARD_LABELS": "",
            "BUILD_DIR": str(root / "build"),
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "GITHUB_RUN_ID": "4242",
            "GITHUB_RUN_ATTEMPT": "1",
        }
        s3.create_bucket(
            Bucket="salesflow-tfstate-dev", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )

    def backend(self, key: str) -> dict[str, Any]:
        return {
            "bucket": "salesflow-tfstate-dev",
            "key": key,
            "region": "eu-central-1",
            "endpoints": {"s3": self.endpoint},
            "use_path_style": True,
            "use_lockfile": True,
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
        }

    def write(self, topic: str, readers: int = 1, broken: bool = False) -> None:
        upstream = {
            "terraform": {"backend": {"s3": self.backend("salesflow/dev/upstream.tfstate")}},
            "resource": {"terraform_data": {"topic": {"input": topic}}},
            "output": {"topic": {"value": "${terraform_data.topic.output}"}},
        }
        readers_config = {
            f"reader_{number}": {"input": "${data.terraform_remote_state.up.outputs.topic}"}
            for number in range(readers)
        }
        if broken:
            readers_config["reader_0"] = {"input": "${var.undeclared}"}
        downstream = {
            "terraform": {"backend": {"s3": self.backend("salesflow/dev/downstream.tfstate")}},
            "data": {
                "terraform_remote_state": {
                    "up": {"backend": "s3", "config": self.backend("salesflow/dev/upstream.tfstate")}
                }
            },
            "resource": {"terraform_data": readers_config},
        }
        manifest: dict[str, Any] = {"version": "0.21.0", "stacks": {}}
        for name, config, dependencies in (
            ("dev-upstream", upstream, []),
            ("dev-downstream", downstream, ["dev-upstream"]),
        ):
            directory = self.synth / "stacks" / name
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "cdk.tf.json").write_text(json.dumps(config, indent=2))
            manifest["stacks"][name] = {
                "name": name,
                "dependencies": dependencies,
                "workingDirectory": f"stacks/{name}",
                "synthesizedStackPath": f"stacks/{name}/cdk.tf.json",
            }
        (self.synth / "manifest.json").write_text(json.dumps(manifest))

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT), *args],
            cwd=REPO,
            env=self.env | extra,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def state(self, stack: str) -> dict[str, Any]:
        body = self.s3.get_object(Bucket="salesflow-tfstate-dev", Key=f"salesflow/dev/{stack}.tfstate")[
            "Body"
        ]
        return json.loads(body.read())

    def inputs(self, stack: str) -> dict[str, Any]:
        return {
            resource["name"]: resource["instances"][0]["attributes"]["input"]["value"]
            for resource in self.state(stack)["resources"]
            if resource["type"] == "terraform_data"
        }


STACKS = ("upstream", "downstream")
FIRST_APPLY: dict[str, bytes] = {}  # state key -> the state the first apply of "v1" left (made once)


@pytest.fixture
def repo(tmp_path: Path, s3_endpoint: str, s3: Any) -> Repo:
    """Both stacks applied at "v1". The first test to ask applies them with the script; later tests start
    from the states that apply left (Terraform reads nothing else), which saves an apply per test."""
    repo = Repo(tmp_path, s3_endpoint, s3)
    repo.write("v1")
    keys = [f"salesflow/dev/{stack}.tfstate" for stack in STACKS]
    if not FIRST_APPLY:
        applied = repo.run("apply", "dev", str(tmp_path / "first"))
        assert applied.returncode == 0, applied.stdout + applied.stderr
        FIRST_APPLY.update(
            {key: s3.get_object(Bucket="salesflow-tfstate-dev", Key=key)["Body"].read() for key in keys}
        )
    else:
        for key in keys:
            s3.put_object(Bucket="salesflow-tfstate-dev", Key=key, Body=FIRST_APPLY[key])
    return repo


def test_apply_plans_guards_and_applies_each_stack_in_dependency_order(repo: Repo, tmp_path: Path) -> None:
    assert repo.inputs("upstream") == {"topic": "v1"}
    assert repo.inputs("downstream") == {"reader_0": "v1"}
    result = repo.run("apply", "dev", str(tmp_path / "again"))
    assert result.returncode == 0, result.stderr
    order = [line for line in result.stdout.splitlines() if line.startswith("::group::terraform apply")]
    assert order == ["::group::terraform apply (dev-upstream)", "::group::terraform apply (dev-downstream)"]
    assert "No findings" in result.stdout


def test_drift_plan_reports_clean_then_drift_without_failing(repo: Repo, tmp_path: Path) -> None:
    clean = repo.run("plan", "dev", str(tmp_path / "clean"), "--drift")
    assert clean.returncode == 0, clean.stderr
    assert (tmp_path / "clean" / "status").read_text().strip() == "clean"
    repo.write("v2")
    drift = repo.run("plan", "dev", str(tmp_path / "drift"), "--drift")
    assert drift.returncode == 0, drift.stderr
    assert (tmp_path / "drift" / "status").read_text().strip() == "drift"
    # The status comes from the guard's JSON: a change with no notice explaining it is drift.
    guard_report = json.loads((tmp_path / "drift" / "guard.json").read_text())
    assert (guard_report["only_notices"], guard_report["plans"][0]["counts"]) == (False, {"update": 1})
    report = (tmp_path / "drift" / "comment.md").read_text()
    assert report.startswith("### Plan: dev") and "| dev-upstream | 0 | 1 | 0 | 0 |" in report
    # A PR plan never applies and never takes the state lock.
    assert repo.inputs("upstream") == {"topic": "v1"}


def test_a_failing_plan_is_reported_and_fails(repo: Repo, tmp_path: Path) -> None:
    repo.write("v1", broken=True)
    result = repo.run("plan", "dev", str(tmp_path / "broken"))
    assert result.returncode == 1
    report = (tmp_path / "broken" / "comment.md").read_text()
    assert "**terraform plan failed** for: dev-downstream" in report
    assert "| dev-upstream | 0 | 0 | 0 | 0 |" in report


SAVED: dict[str, Any] = {}  # the plan job's output for two readers over the first apply (made once)
PLANS_PREFIX = "salesflow/dev/plans/4242-1/"


@pytest.fixture
def saved_plan(repo: Repo, tmp_path: Path) -> str:
    """The stacks at two readers, planned and saved by the script's plan job: its saved.json. The first
    test to ask runs the job; later ones get the same saved plans back into the state bucket (as the job
    left them: the plans hold the first apply's state, which the repo fixture restores)."""
    repo.write("v1", readers=2)
    if not SAVED:
        saved = repo.run("save", "dev", str(tmp_path / "plan"))
        assert saved.returncode == 0, saved.stdout + saved.stderr
        listed = repo.s3.list_objects_v2(Bucket="salesflow-tfstate-dev", Prefix=PLANS_PREFIX)["Contents"]
        SAVED["saved.json"] = (tmp_path / "plan" / "saved.json").read_text()
        SAVED["objects"] = {
            item["Key"]: repo.s3.get_object(Bucket="salesflow-tfstate-dev", Key=item["Key"])["Body"].read()
            for item in listed
        }
    else:
        for key, body in SAVED["objects"].items():
            repo.s3.put_object(Bucket="salesflow-tfstate-dev", Key=key, Body=body)
    return SAVED["saved.json"]


def test_the_reviewed_plan_is_applied_after_approval(repo: Repo, saved_plan: str, tmp_path: Path) -> None:
    digests = saved_plan
    location = json.loads(digests)["location"]
    assert location == "s3://salesflow-tfstate-dev/salesflow/dev/plans/4242-1"
    stored = repo.s3.list_objects_v2(Bucket="salesflow-tfstate-dev", Prefix=PLANS_PREFIX)
    assert sorted(item["Key"].rsplit("/", 1)[1] for item in stored["Contents"]) == [
        "dev-downstream.tfplan",
        "dev-upstream.tfplan",
    ]
    assert repo.inputs("downstream") == {"reader_0": "v1"}, "saving a plan applies nothing"
    applied = repo.run("apply-saved", "dev", str(tmp_path / "apply"), PLAN_DIGESTS=digests)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "The fresh plan makes exactly the changes that were shown." in applied.stdout
    assert repo.inputs("downstream") == {"reader_0": "v1", "reader_1": "v1"}


def test_a_saved_plan_that_is_not_the_reviewed_one_is_refused(
    repo: Repo, saved_plan: str, tmp_path: Path
) -> None:
    digests = json.loads(saved_plan)
    digests["digests"]["dev-upstream"] = "0" * 64
    refused = repo.run("apply-saved", "dev", str(tmp_path / "apply"), PLAN_DIGESTS=json.dumps(digests))
    assert refused.returncode == 1
    assert "saved plan of dev-upstream has SHA-256" in refused.stderr
    digests["location"] = "s3://somewhere-else/plans/1-1"
    elsewhere = repo.run("apply-saved", "dev", str(tmp_path / "apply2"), PLAN_DIGESTS=json.dumps(digests))
    assert elsewhere.returncode == 1 and "this environment's state bucket" in elsewhere.stderr
    assert repo.run("apply-saved", "dev", str(tmp_path / "apply3")).returncode == 1
    assert repo.inputs("downstream") == {"reader_0": "v1"}


def test_a_plan_made_stale_by_an_upstream_apply_is_not_applied(repo: Repo, tmp_path: Path) -> None:
    """The downstream stack's reviewed plan was made before the upstream output changed: after the
    upstream apply, a fresh downstream plan differs, so the saved one must not be applied."""
    repo.write("v2")
    assert repo.run("save", "dev", str(tmp_path / "plan")).returncode == 0
    digests = (tmp_path / "plan" / "saved.json").read_text()
    result = repo.run("apply-saved", "dev", str(tmp_path / "apply"), PLAN_DIGESTS=digests)
    assert result.returncode == 1
    assert "terraform_data.reader_0: planned differently" in result.stdout
    assert repo.inputs("upstream") == {"topic": "v2"}
    assert repo.inputs("downstream") == {"reader_0": "v1"}, "the stale plan was not applied"


def _flink_stack(repo: Repo) -> dict[str, Any]:
    """dev's rendered statements as the flink stack declares them; the pepper is a sensitive variable
    here instead of the Secrets Manager data source (as in the plan, its value is sensitive)."""
    from terraform.flink.statements import statement_logical_id  # imports cdktf: only here

    rendered = render_statements(load_environment("dev"))
    ids = {statement.name: statement_logical_id(statement) for statement in rendered}
    statements = {
        ids[statement.name]: {
            "statement_name": statement.name,
            "statement": statement.text.replace(PEPPER_TERRAFORM_REFERENCE, "var.pii_pepper"),
            "properties": statement.properties,
            "depends_on": [f"confluent_flink_statement.{ids[name]}" for name in statement.depends_on],
        }
        for statement in rendered
    }
    return {
        "terraform": {
            "backend": {"s3": repo.backend("salesflow/dev/flink.tfstate")},
            "required_providers": {"confluent": {"source": "confluentinc/confluent", "version": "2.83.0"}},
        },
        "variable": {
            "pii_pepper": {
                "type": "string",
                "sensitive": True,
                "default": "fixture-pepper-never-printed-7f3a",
            }
        },
        "resource": {"confluent_flink_statement": statements},
    }


def test_drift_of_ddl_statements_confluent_cleaned_up_is_a_notice(
    tmp_path: Path, s3_endpoint: str, s3: Any, plans_dir: Path
) -> None:
    """Real Terraform with a stand-in of the confluent provider (tests/delivery/confluent_standin.py):
    after Confluent deleted the completed DDL statements, the drift plan only re-creates them: status
    `notice` (no issue), and the plan is shaped as the guard's fixture (whose unit tests cover the
    variations: a non-idempotent DDL, a vanished INSERT)."""
    from confluent_standin import install

    repo = Repo(tmp_path, s3_endpoint, s3)
    (tmp_path / "terraformrc").write_text(install(tmp_path))
    store = tmp_path / "statements"
    store.mkdir()
    repo.env["STANDIN_STORE"] = str(store)
    directory = repo.synth / "stacks" / "dev-flink"
    directory.mkdir(parents=True)
    (directory / "cdk.tf.json").write_text(json.dumps(_flink_stack(repo), indent=2))
    manifest = {
        "version": "0.21.0",
        "stacks": {
            "dev-flink": {
                "name": "dev-flink",
                "dependencies": [],
                "workingDirectory": "stacks/dev-flink",
                "synthesizedStackPath": "stacks/dev-flink/cdk.tf.json",
            }
        },
    }
    (repo.synth / "manifest.json").write_text(json.dumps(manifest))
    applied = repo.run("apply", "dev", str(tmp_path / "apply"))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    ddl = ["dev-sales-order-lines-clean-table-v2", "dev-sales-orders-raw-watermark-v1"]
    assert sorted(path.stem for path in store.iterdir()) == sorted([*ddl, "dev-sales-order-lines-v1"])

    for name in ddl:  # Confluent's cleanup, ~30 days after the DDL statements completed
        (store / f"{name}.json").unlink()
    notice = repo.run("plan", "dev", str(tmp_path / "notice"), "--drift")
    assert notice.returncode == 0, notice.stdout + notice.stderr
    assert (tmp_path / "notice" / "status").read_text().strip() == "notice"
    assert json.loads((tmp_path / "notice" / "guard.json").read_text())["only_notices"] is True
    assert "flink-ddl-recreate" in (tmp_path / "notice" / "comment.md").read_text()
    plan = json.loads((tmp_path / "notice" / "dev-flink.plan.json").read_text())
    fixture = json.loads((plans_dir / "ddl_recreate.json").read_text())
    for section in ("resource_drift", "resource_changes"):
        shape = [(entry["address"], entry["change"]["actions"]) for entry in plan[section]]
        assert shape == [(entry["address"], entry["change"]["actions"]) for entry in fixture[section]]
