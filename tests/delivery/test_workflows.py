"""Checks on the delivery workflows themselves: zizmor offline with no findings, shellcheck on every
shell step, and the rules of issue 6 read from the parsed YAML (pins, permissions, credentials,
concurrency, the prod gate, and that every Make target and CLI command they call exists)."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from salesflow.cli import main

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = REPO / ".github" / "workflows"
SCRIPTS = sorted((REPO / ".github" / "scripts").glob("*.sh"))
BIN = Path(sys.executable).parent
WORKFLOW_FILES = sorted(WORKFLOW_DIR.glob("*.yml"))
PINNED_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@(?P<sha>[0-9a-f]{40})"
    r"\s+#\s+v\d+\.\d+\.\d+\s*$"
)
APPLY_COMMANDS = ("terraform-stacks.sh apply", "terraform-stacks.sh save", "terraform-stacks.sh apply-saved")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    if True in data:
        data["on"] = data.pop(True)
    return data


WORKFLOWS = {path.name: _load(path) for path in WORKFLOW_FILES}
TEXTS = {path.name: path.read_text(encoding="utf-8") for path in WORKFLOW_FILES}


def _jobs(workflows: dict[str, Any] = WORKFLOWS) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            yield name, job_id, job


def _steps(workflows: dict[str, Any] = WORKFLOWS) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, job_id, job in _jobs(workflows):
        for step in job.get("steps", []):
            yield name, job_id, step


def _uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in job.get("steps", []) if "uses" in step]


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job.get("steps", []))


# ----------------------------------------------------------------------------------- rules
# Each rule returns its violations; test_rules_hold runs them on the real workflows and
# test_rules_catch_violations on deliberately broken copies, so no rule passes vacuously.


def rule_actions_pinned(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    problems, pins = [], {}
    for name, text in texts.items():
        for number, line in enumerate(text.splitlines(), start=1):
            if re.match(r"^\s*(-\s+)?uses:", line):
                match = PINNED_USES.match(line)
                if not match:
                    problems.append(f"{name}:{number}: not owner/repo@<40-hex sha> # vX.Y.Z: {line.strip()}")
                else:
                    pins.setdefault(match["action"], set()).add(match["sha"])
    problems += [f"{action} pinned to several commits" for action, shas in pins.items() if len(shas) > 1]
    problems += ["archived action" for action in pins if action == "hashicorp/terraform-cdk-action"]
    return problems


def rule_safe_triggers(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    return [
        f"{name}: {trigger}"
        for name, workflow in workflows.items()
        for trigger in {"pull_request_target", "workflow_run"} & set(workflow["on"])
    ]


def rule_permissions_declared(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    problems = [
        f"{name}: top level must be `permissions: {{}}`"
        for name, w in workflows.items()
        if w.get("permissions") != {}
    ]
    for name, job_id, job in _jobs(workflows):
        permissions = job.get("permissions")
        if not isinstance(permissions, dict) or not permissions:
            problems.append(f"{name}/{job_id}: no job permissions")
        elif not set(permissions.values()) <= {"read", "write"}:
            problems.append(f"{name}/{job_id}: {permissions}")
    return problems


def rule_least_privilege(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    allowed = {("pr.yml", "comment"): {"pull-requests"}, ("drift.yml", "report"): {"issues"}}
    problems = []
    for name, job_id, job in _jobs(workflows):
        permissions, uses, where = job.get("permissions") or {}, _uses(job), f"{name}/{job_id}"
        if (permissions.get("contents") == "read") != ("actions/checkout" in uses):
            problems.append(f"{where}: contents: read exactly when the job checks out the repository")
        if (permissions.get("id-token") == "write") != ("aws-actions/configure-aws-credentials" in uses):
            problems.append(f"{where}: id-token: write exactly when the job assumes an AWS role")
        writes = {scope for scope, level in permissions.items() if level == "write"} - {"id-token"}
        if writes != allowed.get((name, job_id), set()):
            problems.append(f"{where}: write scopes {sorted(writes)}")
    return problems


def rule_checkout_without_credentials(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    return [
        f"{name}/{job_id}: persist-credentials: false"
        for name, job_id, step in _steps(workflows)
        if "actions/checkout" in step.get("uses", "")
        and step.get("with", {}).get("persist-credentials") is not False
    ]


def rule_no_expressions_in_shell(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    return [
        f"{name}/{job_id}: ${{{{ }}}} in run:"
        for name, job_id, step in _steps(workflows)
        if "${{" in step.get("run", "")
    ]


def rule_secrets_via_environment(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    problems = []
    for name, job_id, job in _jobs(workflows):
        for key in ("env", "with", "if", "environment", "concurrency", "outputs"):
            if "secrets." in json.dumps(job.get(key, "")):
                problems.append(f"{name}/{job_id}: secrets at job {key}")
        uses_secrets = False
        for step in job.get("steps", []):
            problems += [
                f"{name}/{job_id}: secrets in step {key}"
                for key, value in step.items()
                if key != "env" and "secrets." in json.dumps(value)
            ]
            uses_secrets |= "secrets." in json.dumps(step.get("env", {}))
        if uses_secrets and not job.get("environment"):
            problems.append(f"{name}/{job_id}: secrets outside a GitHub environment")
    return problems


def rule_aws_by_oidc(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    problems = []
    for name, job_id, step in _steps(workflows):
        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials"):
            options = step.get("with", {})
            if not str(options.get("role-to-assume", "")).startswith("${{ vars."):
                problems.append(f"{name}/{job_id}: role-to-assume from the environment's vars")
            if {"aws-access-key-id", "aws-secret-access-key"} & set(options):
                problems.append(f"{name}/{job_id}: static AWS keys")
            if not workflows[name]["jobs"][job_id].get("environment"):
                problems.append(f"{name}/{job_id}: AWS role outside an environment")
    return problems


def rule_apply_concurrency(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    problems, groups = [], {}
    for name, job_id, job in _jobs(workflows):
        if not any(command in _runs(job) for command in APPLY_COMMANDS):
            continue
        concurrency, where = job.get("concurrency"), f"{name}/{job_id}"
        if not isinstance(concurrency, dict):
            problems.append(f"{where}: applies need a concurrency group")
            continue
        if concurrency.get("cancel-in-progress") is not False:
            problems.append(f"{where}: cancel-in-progress must be false")
        environment = "prod" if "prod" in str(job.get("environment")) else "dev"
        if environment not in str(concurrency.get("group")):
            problems.append(f"{where}: group must name its environment")
        groups.setdefault(environment, set()).add(concurrency.get("group"))
    if set(groups) != {"dev", "prod"}:
        problems.append(f"apply jobs for dev and prod expected, found {sorted(groups)}")
    problems += [f"{env}: several groups {names}" for env, names in groups.items() if len(names) > 1]
    if groups.get("dev") and groups.get("dev") == groups.get("prod"):
        problems.append("dev and prod share a group")
    return problems


def rule_prod_gate(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    problems = []
    for name, job_id, job in _jobs(workflows):
        runs = _runs(job)
        if re.search(r"terraform-stacks\.sh (apply|apply-saved) prod", runs):
            if job.get("environment") != "prod":
                problems.append(f"{name}/{job_id}: applies prod outside `environment: prod`")
            if "apply-saved" not in runs:
                problems.append(f"{name}/{job_id}: prod applies the reviewed (saved) plan only")
            digests = [
                s.get("env", {}).get("PLAN_DIGESTS")
                for s in job.get("steps", [])
                if "apply-saved" in s.get("run", "")
            ]
            if digests != ["${{ needs.prod-plan.outputs.saved }}"]:
                problems.append(f"{name}/{job_id}: the saved plan must come from the prod-plan job")
    return problems


def rule_timeouts(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    return [
        f"{n}/{j}: timeout-minutes"
        for n, j, job in _jobs(workflows)
        if not isinstance(job.get("timeout-minutes"), int)
    ]


def rule_locked_installs(workflows: dict[str, Any], texts: dict[str, str]) -> list[str]:
    return [
        f"{name}/{job_id}: {line.strip()}"
        for name, job_id, job in _jobs(workflows)
        for line in _runs(job).splitlines()
        if "uv sync" in line and "--locked" not in line
    ]


RULES = [
    rule_actions_pinned,
    rule_safe_triggers,
    rule_permissions_declared,
    rule_least_privilege,
    rule_checkout_without_credentials,
    rule_no_expressions_in_shell,
    rule_secrets_via_environment,
    rule_aws_by_oidc,
    rule_apply_concurrency,
    rule_prod_gate,
    rule_timeouts,
    rule_locked_installs,
]


def _job(workflows: dict[str, Any], name: str, job_id: str) -> dict[str, Any]:
    return workflows[name]["jobs"][job_id]


def _step(workflows: dict[str, Any], name: str, job_id: str, needle: str) -> dict[str, Any]:
    return next(step for step in _job(workflows, name, job_id)["steps"] if needle in json.dumps(step))


# (rule, how to break the workflows) — every rule must catch its breakage.
BREAKAGES = [
    (rule_actions_pinned, lambda w, t: t.update({"pr.yml": t["pr.yml"].replace("# v7.0.1", "", 1)})),
    (
        rule_actions_pinned,
        lambda w, t: t.update(
            {
                "pr.yml": t["pr.yml"].replace(
                    "@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", "@v7 # v7.0.1", 1
                )
            }
        ),
    ),
    (rule_safe_triggers, lambda w, t: w["pr.yml"]["on"].update({"pull_request_target": {}})),
    (rule_permissions_declared, lambda w, t: w["drift.yml"].update({"permissions": {"contents": "read"}})),
    (rule_permissions_declared, lambda w, t: _job(w, "backfill.yml", "backfill").pop("permissions")),
    (
        rule_least_privilege,
        lambda w, t: _job(w, "deploy.yml", "dev")["permissions"].update({"contents": "write"}),
    ),
    (
        rule_least_privilege,
        lambda w, t: _job(w, "pr.yml", "checks")["permissions"].update({"id-token": "write"}),
    ),
    (
        rule_least_privilege,
        lambda w, t: _job(w, "pr.yml", "plan")["permissions"].update({"pull-requests": "write"}),
    ),
    (
        rule_checkout_without_credentials,
        lambda w, t: _step(w, "pr.yml", "checks", "actions/checkout")["with"].pop("persist-credentials"),
    ),
    (
        rule_no_expressions_in_shell,
        lambda w, t: _step(w, "backfill.yml", "backfill", "lambda invoke").update(
            {"run": "echo ${{ inputs.week }}"}
        ),
    ),
    (
        rule_secrets_via_environment,
        lambda w, t: _step(w, "pr.yml", "plan", "terraform-stacks").update(
            {"run": "echo ${{ secrets.KAFKA_API_KEY }}"}
        ),
    ),
    (rule_secrets_via_environment, lambda w, t: _job(w, "pr.yml", "plan").pop("environment")),
    (
        rule_aws_by_oidc,
        lambda w, t: _step(w, "deploy.yml", "prod", "configure-aws")["with"].update(
            {"aws-access-key-id": "x"}
        ),
    ),
    (rule_apply_concurrency, lambda w, t: _job(w, "deploy.yml", "prod").pop("concurrency")),
    (
        rule_apply_concurrency,
        lambda w, t: _job(w, "deploy.yml", "dev")["concurrency"].update({"cancel-in-progress": True}),
    ),
    (
        rule_apply_concurrency,
        lambda w, t: _job(w, "deploy.yml", "prod")["concurrency"].update({"group": "salesflow-apply-dev"}),
    ),
    (rule_prod_gate, lambda w, t: _job(w, "deploy.yml", "prod").update({"environment": "prod-plan"})),
    (
        rule_prod_gate,
        lambda w, t: _step(w, "deploy.yml", "prod", "apply-saved")["env"].update({"PLAN_DIGESTS": ""}),
    ),
    (rule_timeouts, lambda w, t: _job(w, "drift.yml", "report").pop("timeout-minutes")),
    (
        rule_locked_installs,
        lambda w, t: _step(w, "deploy.yml", "dev", "uv sync").update({"run": "uv sync --group dev"}),
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_rules_hold(rule) -> None:
    assert rule(WORKFLOWS, TEXTS) == []


@pytest.mark.parametrize(("rule", "breakage"), BREAKAGES, ids=lambda item: getattr(item, "__name__", ""))
def test_rules_catch_violations(rule, breakage) -> None:
    workflows, texts = copy.deepcopy(WORKFLOWS), dict(TEXTS)
    breakage(workflows, texts)
    assert rule(workflows, texts), f"{rule.__name__} missed a deliberate violation"


def test_every_rule_is_proven_to_fail() -> None:
    assert {rule for rule, _ in BREAKAGES} == set(RULES)


def test_prod_is_applied_behind_its_environment_with_the_plan_that_was_shown() -> None:
    jobs = WORKFLOWS["deploy.yml"]["jobs"]
    assert [job_id for job_id, job in jobs.items() if "apply-saved prod" in _runs(job)] == ["prod"]
    assert jobs["prod"]["environment"] == "prod"
    assert jobs["prod"]["needs"] == "prod-plan"
    assert "save prod" in _runs(jobs["prod-plan"])
    # Dev first, with its smoke test, then prod; the artifact is built once.
    assert jobs["prod-plan"]["needs"] == "dev"
    assert "salesflow smoke --env dev" in _runs(jobs["dev"])
    assert [job_id for job_id, job in jobs.items() if "make package" in _runs(job)] == ["build"]


def test_the_cloud_key_is_the_only_confluent_secret_of_every_terraform_step() -> None:
    """The Terraform service account's Cloud API key (bootstrap sets it per GitHub environment); every
    other Confluent credential comes from state or Secrets Manager. A KAFKA_/SCHEMA_REGISTRY_/FLINK_/
    TABLEFLOW_ variable would fill the provider's all-or-none groups half and fail the plan."""
    names = {"CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET"}
    terraform_steps = [(n, j, s) for n, j, s in _steps() if "terraform-stacks.sh" in s.get("run", "")]
    assert len(terraform_steps) == 5
    for name, job_id, step in terraform_steps:
        env = step.get("env", {})
        assert names <= set(env), f"{name}/{job_id}: missing {names - set(env)}"
        assert all(env[key] == f"${{{{ secrets.{key} }}}}" for key in names), f"{name}/{job_id}"
        stray = [key for key in env if key.endswith(("_API_KEY", "_API_SECRET")) and key not in names]
        assert stray == [], f"{name}/{job_id}"


def test_the_smoke_test_runs_as_the_smoke_role_with_credentials_from_secrets_manager() -> None:
    steps = WORKFLOWS["deploy.yml"]["jobs"]["dev"]["steps"]
    names = [step.get("name", step.get("uses", "")) for step in steps]
    smoke = names.index("Smoke test dev")
    assume = steps[smoke - 1]
    assert assume["uses"].startswith("aws-actions/configure-aws-credentials@")
    assert assume["with"]["role-to-assume"] == "${{ vars.AWS_SMOKE_ROLE_ARN }}"
    assert steps[smoke]["run"].endswith("--credentials-secret salesflow/dev/confluent/smoke-credentials")
    assert "env" not in steps[smoke]


def test_pr_plans_every_environment_and_comments_once_per_environment() -> None:
    jobs = WORKFLOWS["pr.yml"]["jobs"]
    assert jobs["plan"]["strategy"]["matrix"]["environment"] == ["dev", "prod"]
    assert jobs["comment"]["strategy"]["matrix"]["environment"] == ["dev", "prod"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in jobs["plan"]["if"]
    assert "terraform-stacks.sh plan" in _runs(jobs["plan"])
    comment_env = next(step["env"] for step in jobs["comment"]["steps"] if "run" in step)
    assert comment_env["MARKER"] == "<!-- salesflow-plan:${{ matrix.environment }} -->"
    labels = next(
        step["env"] for step in jobs["plan"]["steps"] if "terraform-stacks.sh" in step.get("run", "")
    )
    assert labels["SALESFLOW_GUARD_LABELS"] == "${{ toJSON(github.event.pull_request.labels.*.name) }}"
    for stage in ("make lint", "make lint-workflows", "make test", "make synth", "make scan"):
        assert stage in _runs(jobs["checks"]), stage


def test_drift_plans_with_detailed_exitcode_and_only_its_report_job_writes_issues() -> None:
    jobs = WORKFLOWS["drift.yml"]["jobs"]
    assert "--drift" in _runs(jobs["plan"])
    script = (REPO / ".github" / "scripts" / "terraform-stacks.sh").read_text()
    assert "-detailed-exitcode" in script
    assert "gh issue create" in _runs(jobs["report"]) and "gh issue close" in _runs(jobs["report"])


_FAKE_GH = """#!/usr/bin/env bash
# Records each call; `issue list` answers with $FAKE_ISSUE (the open drift issue's number, or nothing).
echo "$*" >>"$GH_CALLS"
if [ "$1 $2" = "issue list" ]; then
  [ -z "${FAKE_ISSUE:-}" ] || echo "$FAKE_ISSUE"
fi
"""


@pytest.mark.parametrize(
    ("status", "existing", "expected"),
    [
        ("drift", "", "issue create"),
        ("drift", "7", "issue comment 7"),
        ("error", "", "issue create"),
        ("notice", "", None),  # only DDL re-created after Confluent's cleanup: nobody needs to act
        ("notice", "7", "issue close 7"),
        ("clean", "7", "issue close 7"),
        ("clean", "", None),
    ],
)
def test_drift_report_opens_an_issue_only_for_drift_that_needs_someone(
    tmp_path: Path, status: str, existing: str, expected: str | None
) -> None:
    """Runs the report job's own script (from the YAML) against a recording stand-in for `gh`."""
    step = next(s for s in WORKFLOWS["drift.yml"]["jobs"]["report"]["steps"] if "run" in s)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "gh").write_text(_FAKE_GH)
    (tmp_path / "bin" / "gh").chmod(0o755)
    (tmp_path / "result").mkdir()
    (tmp_path / "result" / "status").write_text(f"{status}\n")
    (tmp_path / "result" / "report.md").write_text("### Plan: dev\n")
    calls = tmp_path / "calls"
    run = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        env={
            "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
            "GH_CALLS": str(calls),
            "FAKE_ISSUE": existing,
            "TITLE": "Drift: dev differs from main",
            "RUN_URL": "https://example.invalid/run/1",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    writes = [line for line in calls.read_text().splitlines() if not line.startswith("issue list")]
    if expected is None:
        assert writes == []
    else:
        assert len(writes) == 1 and writes[0].startswith(expected), writes


def test_backfill_validates_its_inputs_before_invoking_the_exporter() -> None:
    workflow = WORKFLOWS["backfill.yml"]
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == ["dev", "prod"]
    steps = workflow["jobs"]["backfill"]["steps"]
    names = [step.get("name", step.get("uses", "")) for step in steps]
    assert names.index("Validate the inputs") < names.index("Invoke the exporter")
    validate = steps[names.index("Validate the inputs")]
    assert validate["env"]["WEEK"] == "${{ inputs.week }}"
    assert "aws lambda invoke" in steps[names.index("Invoke the exporter")]["run"]


@pytest.mark.parametrize(
    ("week", "ok"),
    [
        ("2026-W40", True),
        ("2020-W53", True),  # 2020 has 53 ISO weeks
        ("2025-W53", False),  # 2025 has 52
        ("2026-W00", False),
        ("2026-W5", False),
        ("2026-47", False),
        ("2026-W01; rm -rf /", False),
        ("9999-W01", False),
    ],
)
def test_backfill_week_validation(week: str, ok: bool) -> None:
    """Runs the workflow's own validation script (extracted from the YAML) on sample inputs."""
    step = next(
        s
        for s in WORKFLOWS["backfill.yml"]["jobs"]["backfill"]["steps"]
        if s.get("name") == "Validate the inputs"
    )
    run = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        env={"PATH": "/usr/bin:/bin", "TARGET_ENVIRONMENT": "prod", "WEEK": week},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (run.returncode == 0) is ok, run.stdout + run.stderr


def _shell_steps() -> list[tuple[str, str]]:
    return [
        (f"{name}/{job_id}/{step.get('name', '?')}", step["run"])
        for name, job_id, step in _steps()
        if "run" in step
    ]


def test_shellcheck_every_shell_step_and_script(tmp_path: Path) -> None:
    files = []
    for index, (where, script) in enumerate(_shell_steps()):
        path = tmp_path / f"step{index:02d}.sh"
        # GitHub runs `bash --noprofile --norc -eo pipefail {0}`.
        path.write_text(f"#!/usr/bin/env bash\nset -eo pipefail\n# {where}\n{script}")
        files.append(path)
    files += SCRIPTS
    run = subprocess.run(
        [BIN / "shellcheck", "--severity=style", "--format=gcc", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout


def test_shellcheck_would_catch_an_unquoted_variable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nrm -rf $DIR/build\n")
    run = subprocess.run([BIN / "shellcheck", str(bad)], capture_output=True, text=True, check=False)
    assert run.returncode != 0 and "SC2086" in run.stdout


def _make_targets() -> set[str]:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", makefile, flags=re.MULTILINE))


def _called_make_targets() -> set[str]:
    texts = [_runs(job) for _, _, job in _jobs()] + [script.read_text() for script in SCRIPTS]
    return {target for text in texts for target in re.findall(r"\bmake\s+([a-z][a-z0-9-]*)", text)}


def test_workflows_call_make_targets() -> None:
    assert {"lint", "lint-workflows", "test", "package", "synth", "scan"} <= _called_make_targets()


@pytest.mark.parametrize("target", sorted(_called_make_targets()))
def test_called_make_target_exists(target: str) -> None:
    assert target in _make_targets(), f"the workflows run `make {target}`; the Makefile has no such target"


def test_called_salesflow_commands_exist() -> None:
    texts = [_runs(job) for _, _, job in _jobs()] + [script.read_text() for script in SCRIPTS]
    called = {
        name for text in texts for name in re.findall(r"(?:salesflow|\$SALESFLOW\"?)\s+([a-z][a-z-]+)", text)
    }
    assert {"guard", "stacks", "smoke", "publish-artifact", "plan-compare", "config"} <= called
    assert called <= set(main.commands), called - set(main.commands)


def test_tool_versions_match_the_repository() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    uv_version = re.search(r"^UV_VERSION := (\S+)", makefile, flags=re.MULTILINE)[1]
    for name, workflow in WORKFLOWS.items():
        if "UV_VERSION" in workflow.get("env", {}):
            assert workflow["env"]["UV_VERSION"] == uv_version, name
    versions = {workflow["env"]["TERRAFORM_VERSION"] for workflow in WORKFLOWS.values() if "env" in workflow}
    assert len(versions) == 1, versions


def test_the_four_workflows_exist() -> None:
    assert set(WORKFLOWS) == {"pr.yml", "deploy.yml", "drift.yml", "backfill.yml"}
    assert set(WORKFLOWS["pr.yml"]["on"]) == {"pull_request"}
    assert set(WORKFLOWS["deploy.yml"]["on"]) == {"push"}
    assert WORKFLOWS["deploy.yml"]["on"]["push"]["branches"] == ["main"]
    assert "schedule" in WORKFLOWS["drift.yml"]["on"]
    assert set(WORKFLOWS["backfill.yml"]["on"]) == {"workflow_dispatch"}


def test_zizmor_offline_reports_no_findings() -> None:
    run = subprocess.run(
        [BIN / "zizmor", "--offline", "--persona=pedantic", "--format=json", str(WORKFLOW_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(run.stdout)
    assert findings == [], [finding["ident"] for finding in findings]
    assert run.returncode == 0, run.stderr


def test_zizmor_would_catch_a_broken_workflow(tmp_path: Path) -> None:
    """The audit is real: a dangerous trigger, an unpinned action, persisted credentials and an
    injected PR title are all found."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request_target\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    run = subprocess.run(
        [BIN / "zizmor", "--offline", "--format=json", str(bad.parent)],
        capture_output=True,
        text=True,
        check=False,
    )
    found = {finding["ident"] for finding in json.loads(run.stdout)}
    assert {"unpinned-uses", "artipacked", "template-injection", "dangerous-triggers"} <= found
    assert run.returncode != 0


# ---------------------------------------------------------------------------------- cost (issue 13)


def _run_step(step: dict[str, Any], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_pr_estimates_the_cost_against_the_base_commit_and_hands_it_to_the_plan_jobs() -> None:
    checks = WORKFLOWS["pr.yml"]["jobs"]["checks"]
    assert _step(WORKFLOWS, "pr.yml", "checks", "actions/checkout")["with"]["fetch-depth"] == 0
    cost = _step(WORKFLOWS, "pr.yml", "checks", "salesflow cost")
    assert cost["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert '--base-ref "$BASE_SHA" --format markdown' in cost["run"]
    names = [step.get("name", step.get("uses", "")) for step in checks["steps"]]
    assert names.index("Synthesize Terraform") < names.index(cost["name"]) < len(names) - 1
    assert "build/cost/*.md" in checks["steps"][-1]["with"]["path"]
    plan = WORKFLOWS["pr.yml"]["jobs"]["plan"]["steps"]
    names = [step.get("name", step.get("uses", "")) for step in plan]
    add = plan[names.index("Add the cost estimate to the comment")]
    assert names.index("Plan and guard") < names.index(add["name"]) < names.index("Job summary")
    assert add["if"] == "${{ !cancelled() }}"
    assert add["env"]["SALESFLOW_ENV"] == "${{ matrix.environment }}"


def test_a_failed_estimate_goes_into_the_comment_instead_of_failing_the_checks(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    for name in ("dev", "prod"):
        (tmp_path / "environments" / f"{name}.yaml").write_text(f"name: {name}\n")
    salesflow = tmp_path / ".venv" / "bin" / "salesflow"
    salesflow.parent.mkdir(parents=True)
    salesflow.write_text(
        '#!/usr/bin/env bash\n[ "$3" = prod ] && { echo "Error: no price for dedicated" >&2; exit 1; }\n'
        'echo "### Cost: $3"; echo "args: $*"\n'
    )
    salesflow.chmod(0o755)
    run = _run_step(_step(WORKFLOWS, "pr.yml", "checks", "salesflow cost"), tmp_path, BASE_SHA="abc123")
    assert run.returncode == 0, run.stderr
    dev = (tmp_path / "build" / "cost" / "dev.md").read_text()
    assert dev == "### Cost: dev\nargs: cost --env dev --base-ref abc123 --format markdown\n"
    prod = (tmp_path / "build" / "cost" / "prod.md").read_text()
    assert prod.startswith("### Cost: prod\n\nThe estimate failed")
    assert "Error: no price for dedicated" in prod


@pytest.mark.parametrize(
    ("comment_chars", "has_estimate", "expected_tail"),
    [
        (100, True, "| Component | Resource |\n"),
        (63_950, True, "**+$153.30 a month**\n\nThe full estimate is in the job summary.\n"),
        (100, False, "No estimate: the checks job did not produce one.\n"),
    ],
    ids=["appended", "headline-only-near-the-limit", "missing"],
)
def test_the_plan_job_adds_the_estimate_to_the_sticky_comment(
    tmp_path: Path, comment_chars: int, has_estimate: bool, expected_tail: str
) -> None:
    runner_temp = tmp_path / "runner"
    (runner_temp / "plan").mkdir(parents=True)
    (runner_temp / "plan" / "comment.md").write_text("x" * comment_chars + "\n")
    if has_estimate:
        (tmp_path / "build" / "cost").mkdir(parents=True)
        (tmp_path / "build" / "cost" / "dev.md").write_text(
            "### Cost: dev\n\nEstimated **$931.27 a month**.\n**+$153.30 a month**\n\n"
            "| Component | Resource |\n"
        )
    step = _step(WORKFLOWS, "pr.yml", "plan", "Add the cost estimate")
    run = _run_step(step, tmp_path, RUNNER_TEMP=str(runner_temp), SALESFLOW_ENV="dev")
    assert run.returncode == 0, run.stderr
    comment = (runner_temp / "plan" / "comment.md").read_text()
    assert comment.startswith("x" * comment_chars + "\n\n### Cost: dev\n")
    assert comment.endswith(expected_tail)
    assert len(comment) < 65_536 - 200  # room for the marker and the run link
    assert "### Cost: dev" in (runner_temp / "plan" / "report.md").read_text()


def test_pr_asks_confluent_in_each_plan_job_when_what_it_plans_changes() -> None:
    steps = WORKFLOWS["pr.yml"]["jobs"]["plan"]["steps"]
    names = [step.get("name", step.get("uses", "")) for step in steps]
    paths = next(step for step in steps if step.get("id") == "paths")
    assert "flink_statements schemas environments" in paths["run"]
    verify = steps[names.index("Ask Confluent (sql verify, schema verify)")]
    assert verify["if"] == "${{ !cancelled() && steps.paths.outputs.verify == 'true' }}"
    assert "confluent-verify.sh" in verify["run"]
    # The verifier's own narrow key, not the plan's Flink key.
    assert verify["env"]["FLINK_API_KEY"] == "${{ secrets.FLINK_VERIFY_API_KEY }}"
    assert verify["env"]["FLINK_API_SECRET"] == "${{ secrets.FLINK_VERIFY_API_SECRET }}"
    # After the plan (it initialises the stacks), before the report leaves the job for the sticky comment.
    plan = next(i for i, step in enumerate(steps) if "terraform-stacks.sh plan" in step.get("run", ""))
    upload = next(i for i, step in enumerate(steps) if "upload-artifact" in step.get("uses", ""))
    assert plan < names.index("Ask Confluent (sql verify, schema verify)") < upload
    checkout = next(step for step in steps if "actions/checkout" in step.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 2
    script = (REPO / ".github" / "scripts" / "confluent-verify.sh").read_text()
    assert '"$SALESFLOW" sql verify' in script and '"$SALESFLOW" schema verify' in script
    assert "verify-first-deploy" in script


@pytest.mark.parametrize(
    ("changed", "verify"),
    [("flink_statements/x.sql.j2", "true"), ("schemas/a.avsc", "true"), ("environments/dev.yaml", "true"),
     ("README.md", "false"), ("exporter/handler.py", "false")],
)  # fmt: skip
def test_the_paths_step_sees_what_the_pull_request_changes(tmp_path: Path, changed: str, verify: str) -> None:
    """Runs the step's own script on a PR-shaped merge commit (parent 1 = the base branch)."""
    step = next(s for s in WORKFLOWS["pr.yml"]["jobs"]["plan"]["steps"] if s.get("id") == "paths")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    run = lambda *args: subprocess.run([*git, *args], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    (tmp_path / "README.md").write_text("base\n")
    run("add", "-A")
    run("commit", "-qm", "base")
    run("checkout", "-qb", "feature")
    (tmp_path / changed).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / changed).write_text("changed\n")
    run("add", "-A")
    run("commit", "-qm", "change")
    run("checkout", "-q", "main")
    (tmp_path / "other.txt").write_text("main moved on\n")
    run("add", "-A")
    run("commit", "-qm", "main")
    run("merge", "-q", "--no-ff", "-m", "merge", "feature")
    output = tmp_path / "github_output"
    subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output)},
        check=True,
    )
    assert output.read_text() == f"verify={verify}\n"
