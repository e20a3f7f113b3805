"""The state-loss guard against hand-made `terraform show -json` plans, one per class, and a clean one.

The fixtures follow the JSON Terraform 1.11 writes (real_terraform_data.json was produced by
`terraform show -json` with the built-in terraform_data resource); the provider facts behind each class
are in shared/reference/confluent-provider-schema.json (update_behavior, force_new).

ddl_recreate.json is a real `terraform show -json` of Terraform 1.11.4 too: dev's rendered statements
were applied through a stand-in of the confluent provider whose read, like the real one
(resource_flink_statement.go: 404 -> d.SetId("")), returns nothing for a statement that is gone; then
both completed DDL statements were deleted remotely, as Confluent does after ~30 days, and the plan was
made. Refresh drops them from state: `resource_drift` shows each as a delete, `resource_changes` as a
create of the same address, and `prior_state` (the refreshed state) holds only the INSERT.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from salesflow.cli import main
from salesflow.delivery import guard, guard_report, plan_compare

KEY = "exporter/" + "b" * 64 + ".zip"

# fixture -> {(class, address, action, blocking)}
EXPECTED = {
    "clean": set(),
    "statement_replace": {
        ("flink-statement-replace", "confluent_flink_statement.sales_order_lines", "replace", True),
    },
    "statement_cutover": {
        ("flink-statement-replace", "confluent_flink_statement.sales_order_lines_v1", "delete", True),
        ("flink-statement-replace", "confluent_flink_statement.clean_table", "replace", False),
    },
    "statement_in_place": {
        ("flink-statement-in-place", "confluent_flink_statement.ttl", "update", True),
        ("flink-statement-in-place", "confluent_flink_statement.renamed", "update", True),
        ("flink-statement-in-place", "confluent_flink_statement.rekeyed", "update", True),
        ("flink-statement-in-place", "confluent_flink_statement.stopping", "update", True),
    },
    "topic_recreate": {("topic-recreate", "confluent_kafka_topic.clean", "replace", True)},
    "schema_subject_delete": {("schema-subject-change", "confluent_schema.clean_value", "delete", True)},
    "schema_incompatible": {("schema-subject-change", "confluent_schema.clean_value", "update", True)},
    "tableflow_disable": {("tableflow-disable", "confluent_tableflow_topic.clean", "delete", True)},
    "bucket_replace": {("bucket-replace", "aws_s3_bucket.exports", "replace", True)},
    "lambda_artifact_missing": {("lambda-artifact-missing", "aws_lambda_function.exporter", "update", True)},
    "real_terraform_data": set(),
    "ddl_recreate": {
        (
            "flink-ddl-recreate",
            "confluent_flink_statement.statement_sales_order_lines_clean_table_v2",
            "create",
            False,
        ),
        (
            "flink-ddl-recreate",
            "confluent_flink_statement.statement_sales_orders_raw_watermark_v1",
            "create",
            False,
        ),
    },
}
CLEAN_TABLE = "confluent_flink_statement.statement_sales_order_lines_clean_table_v2"


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["guard", *args], env=env or {"SALESFLOW_GUARD_LABELS": ""})


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_class_is_flagged(name: str, load_plan) -> None:
    report = guard.classify(load_plan(name), label=name)
    found = {(f.cls, f.address, f.action, f.blocking) for f in report.findings}
    assert found == EXPECTED[name]


def test_every_class_has_a_fixture_blocking_or_a_notice_by_its_category() -> None:
    flagged = {cls for expected in EXPECTED.values() for cls, *_rest, blocking in expected if blocking}
    noticed = {cls for expected in EXPECTED.values() for cls, *_rest, blocking in expected if not blocking}
    notices = {name for name, cls in guard.CLASSES.items() if cls.category == guard.NOTICE}
    recreate_fails = {"flink-ddl-recreate-fails"}  # a mutation of ddl_recreate: see below
    assert flagged | recreate_fails == set(guard.CLASSES) - notices
    assert notices <= noticed


def test_the_ddl_recreate_fixture_is_the_plan_terraform_makes_after_the_cleanup(load_plan) -> None:
    plan = load_plan("ddl_recreate")
    drift = {entry["address"]: entry["change"]["actions"] for entry in plan["resource_drift"]}
    changes = {entry["address"]: entry["change"]["actions"] for entry in plan["resource_changes"]}
    prior = {resource["address"] for resource in plan["prior_state"]["values"]["root_module"]["resources"]}
    gone = {CLEAN_TABLE, "confluent_flink_statement.statement_sales_orders_raw_watermark_v1"}
    assert drift == {address: ["delete"] for address in gone}
    assert {address for address, actions in changes.items() if actions == ["create"]} == gone
    assert prior == {"confluent_flink_statement.statement_sales_order_lines_v1"}  # the refreshed state
    assert guard.vanished_addresses(plan) == gone


def test_ddl_recreate_is_a_notice_only_while_the_ddl_is_idempotent(load_plan) -> None:
    plan = load_plan("ddl_recreate")
    change = next(rc for rc in plan["resource_changes"] if rc["address"] == CLEAN_TABLE)["change"]
    assert change["after"]["statement"].startswith("CREATE TABLE IF NOT EXISTS ")
    report = guard.classify(plan, label="dev-flink")
    assert guard.only_notices([report], report.findings)
    notice = next(f for f in report.findings if f.address == CLEAN_TABLE)
    assert "deleted after about 30 days" in notice.why and "nothing to do" in notice.why
    # The v1 text, without IF NOT EXISTS, would fail on the existing topic: blocking.
    change["after"]["statement"] = change["after"]["statement"].replace("IF NOT EXISTS ", "", 1)
    report = guard.classify(plan, label="dev-flink")
    failing = next(f for f in report.findings if f.address == CLEAN_TABLE)
    assert (failing.cls, failing.blocking) == ("flink-ddl-recreate-fails", True)
    assert "fails at apply" in failing.why
    assert not guard.only_notices([report], report.findings)


def test_a_create_that_is_not_a_recreate_or_not_a_ddl_is_no_notice(load_plan) -> None:
    plan = load_plan("ddl_recreate")
    # The same creates without the drift: new statements (a first apply, a new version), no finding.
    fresh = dict(plan, resource_drift=[])
    assert guard.classify(fresh).findings == []
    assert not guard.only_notices([guard.classify(fresh)], [])
    # A continuous statement that vanished (e.g. a failed one Confluent cleaned up) is re-created from
    # its startup offsets: as today, no notice, so the drift still opens an issue.
    insert = next(
        rc
        for rc in plan["resource_changes"]
        if rc["type"] == "confluent_flink_statement" and rc["change"]["actions"] == ["no-op"]
    )
    insert["change"]["actions"] = ["create"]
    plan["resource_drift"].append({**insert, "change": {**insert["change"], "actions": ["delete"]}})
    report = guard.classify(plan, label="dev-flink")
    assert {f.address for f in report.findings} == {
        CLEAN_TABLE,
        "confluent_flink_statement.statement_sales_orders_raw_watermark_v1",
    }
    assert not guard.only_notices([report], report.findings)


@pytest.mark.parametrize(
    ("text", "idempotent"),
    [
        ("CREATE TABLE IF NOT EXISTS `t` (`a` INT);", True),
        ("-- why\ncreate table if not exists t (a INT)", True),
        ("CREATE TABLE `t` (`a` INT);", False),
        ("ALTER TABLE `raw` MODIFY WATERMARK FOR `$rowtime` AS `$rowtime` - INTERVAL '1' MINUTE;", True),
        ("ALTER TABLE `c`.`d`.`raw` SET ('scan.startup.mode' = 'earliest-offset');", True),
        ("ALTER TABLE `raw` ADD (`x` AS 1);", False),
        ("CREATE TABLE IF NOT EXISTS t2 AS SELECT * FROM t", False),  # continuous, not DDL
        (None, False),
    ],
)
def test_idempotent_ddl(text: str | None, idempotent: bool) -> None:
    assert guard.idempotent_ddl(text) is idempotent


def test_guard_json_says_only_notices(plans_dir: Path, tmp_path: Path) -> None:
    result = _run("--plan", str(plans_dir / "ddl_recreate.json"), "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    assert "no (notice)" in result.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["blocking"], report["only_notices"]) == (False, True)
    mixed = _run(
        "--plan",
        str(plans_dir / "ddl_recreate.json"),
        "--plan",
        str(plans_dir / "clean.json"),
        "--json",
        str(tmp_path / "m.json"),
    )
    assert mixed.exit_code == 0, mixed.output
    assert json.loads((tmp_path / "m.json").read_text())["only_notices"] is False  # clean.json changes things


def test_statement_findings_explain_the_provider_fact(load_plan) -> None:
    [replaced] = guard.classify(load_plan("statement_replace")).findings
    assert "dev-sales-order-lines-v1" in replaced.why and "force-new: statement" in replaced.why
    assert "cannot carry offsets over" in replaced.why
    in_place = guard.classify(load_plan("statement_in_place")).findings
    whys = {finding.address: finding.why for finding in in_place}
    assert "properties changed in place" in whys["confluent_flink_statement.ttl"]
    assert "statement_name changed in place" in whys["confluent_flink_statement.renamed"]
    assert "credentials changed in place" in whys["confluent_flink_statement.rekeyed"]
    stopping = [f.why for f in in_place if f.address == "confluent_flink_statement.stopping"]
    assert any("stopped together with other changes (properties)" in why for why in stopping)


def test_topic_and_schema_findings_name_the_cause(load_plan) -> None:
    [topic] = guard.classify(load_plan("topic_recreate")).findings
    assert "partitions_count decreases 6 -> 3" in topic.why
    [schema] = guard.classify(load_plan("schema_incompatible")).findings
    assert "not BACKWARD compatible" in schema.why
    assert "field 'quantity' removed" in schema.why


def test_clean_plan_exits_zero_and_says_so() -> None:
    result = _run("--plan", str(Path(__file__).parent / "fixtures/plans/clean.json"))
    assert result.exit_code == 0, result.output
    assert "clean: 1 to create, 6 to update, 0 to replace, 0 to delete" in result.stdout
    assert "No findings" in result.stdout


def test_blocking_finding_exits_one_with_a_readable_table(plans_dir: Path) -> None:
    result = _run("--plan", str(plans_dir / "topic_recreate.json"))
    assert result.exit_code == 1
    header = result.stdout.splitlines()[1]
    for column in ("CLASS", "ADDRESS", "ACTION", "WHY", "BLOCKING"):
        assert column in header
    row = next(line for line in result.stdout.splitlines() if line.startswith("topic-recreate"))
    assert "confluent_kafka_topic.clean" in row and "replace" in row and row.rstrip().endswith("YES")
    assert "blocking finding" in result.stderr


def test_allow_flag_lets_only_its_class_pass(plans_dir: Path) -> None:
    plans = [
        "--plan",
        str(plans_dir / "topic_recreate.json"),
        "--plan",
        str(plans_dir / "bucket_replace.json"),
    ]
    only_topic = _run(*plans, "--allow", "topic-recreate")
    assert only_topic.exit_code == 1
    assert "allowed (--allow topic-recreate)" in only_topic.stdout
    both = _run(*plans, "--allow", "topic-recreate", "--allow", "bucket-replace")
    assert both.exit_code == 0, both.output


def test_allow_state_loss_label_from_the_environment(plans_dir: Path) -> None:
    labels = {"SALESFLOW_GUARD_LABELS": json.dumps(["documentation", "allow-state-loss"])}
    loss = _run("--plan", str(plans_dir / "statement_replace.json"), env=labels)
    assert loss.exit_code == 0, loss.output
    assert "allowed (label allow-state-loss)" in loss.stdout
    # A class that fails at apply is not state loss: the umbrella label does not let it through.
    failing = _run("--plan", str(plans_dir / "statement_in_place.json"), env=labels)
    assert failing.exit_code == 1
    specific = _run(
        "--plan",
        str(plans_dir / "lambda_artifact_missing.json"),
        env={"SALESFLOW_GUARD_LABELS": "allow-lambda-artifact-missing"},
    )
    assert specific.exit_code == 0, specific.output


def test_allow_label_option_and_unknown_labels(plans_dir: Path) -> None:
    result = _run(
        "--plan", str(plans_dir / "tableflow_disable.json"), "--allow-label", "allow-tableflow-disable"
    )
    assert result.exit_code == 0, result.output
    typo = _run(
        "--plan", str(plans_dir / "tableflow_disable.json"), "--allow-label", "allow-tablefow-disable"
    )
    assert typo.exit_code == 1
    assert "allows nothing" in typo.stderr
    unknown = _run("--plan", str(plans_dir / "tableflow_disable.json"), "--allow", "everything")
    assert unknown.exit_code == 2
    assert "unknown class" in unknown.stderr


def test_report_only_never_fails(plans_dir: Path) -> None:
    result = _run("--plan", str(plans_dir / "topic_recreate.json"), "--report-only")
    assert result.exit_code == 0
    assert "YES" in result.stdout


def test_unreadable_plan_is_an_input_error(tmp_path: Path) -> None:
    binary = tmp_path / "tfplan"
    binary.write_bytes(b"PK\x03\x04 not json")
    result = _run("--plan", str(binary))
    assert result.exit_code == 2
    assert str(binary) in result.stderr and "terraform show -json" in result.stderr
    missing = _run("--plan", str(tmp_path / "absent.json"))
    assert missing.exit_code == 2 and "no such plan file" in missing.stderr
    errored = tmp_path / "errored.json"
    errored.write_text(json.dumps({"format_version": "1.2", "errored": True, "resource_changes": []}))
    assert _run("--plan", str(errored)).exit_code == 2


def test_sensitive_values_never_leave_the_guard(plans_dir: Path, tmp_path: Path, sensitive_values) -> None:
    plans = sorted(plans_dir.glob("*.json"))
    assert any(value in path.read_text() for path in plans for value in sensitive_values), (
        "the fixtures must carry the sensitive values, or this test proves nothing"
    )
    args = [arg for path in plans for arg in ("--plan", str(path))]
    result = _run(*args, "--markdown", str(tmp_path / "r.md"), "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 1
    outputs = [
        result.stdout,
        result.stderr,
        (tmp_path / "r.md").read_text(),
        (tmp_path / "r.json").read_text(),
    ]
    for output in outputs:
        for value in sensitive_values:
            assert value not in output


def test_markdown_report_for_the_pr_comment(plans_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "dev.md"
    result = _run(
        "--plan",
        str(plans_dir / "statement_cutover.json"),
        "--plan",
        str(plans_dir / "clean.json"),
        "--markdown",
        str(report),
        "--title",
        "Plan: dev",
    )
    assert result.exit_code == 1
    text = report.read_text()
    assert text.startswith("### Plan: dev\n")
    assert "**Blocked**" in text
    assert "| statement_cutover | 1 | 0 | 1 | 1 |" in text
    assert "| clean | 1 | 6 | 0 | 0 |" in text
    assert "`allow-flink-statement-replace`" in text
    assert "- `aws_sns_topic.exports`: create" in text


def test_markdown_is_shortened_to_the_comment_limit(load_plan, tmp_path: Path) -> None:
    plan = load_plan("topic_recreate")
    template = plan["resource_changes"][0]
    for number in range(3000):
        plan["resource_changes"].append(
            {
                "address": f"aws_cloudwatch_metric_alarm.alarm_{number:05d}",
                "mode": "managed",
                "type": "aws_cloudwatch_metric_alarm",
                "change": {"actions": ["create"], "before": None, "after": {}, "after_unknown": {}},
            }
        )
    reports = [guard.classify(plan, label="big")]
    findings = [f for report in reports for f in report.findings]
    full = guard_report.render_markdown(reports, findings, title="Plan: prod")
    assert len(full) > 60_000
    short = guard_report.render_markdown(reports, findings, title="Plan: prod", limit=60_000)
    assert len(short) <= 60_000
    assert template["address"] in short and "topic-recreate" in short
    assert "job summary" in short
    (tmp_path / "big.json").write_text(json.dumps(plan))
    result = _run(
        "--plan",
        str(tmp_path / "big.json"),
        "--markdown",
        str(tmp_path / "full.md"),
        "--comment",
        str(tmp_path / "comment.md"),
    )
    assert result.exit_code == 1
    assert (tmp_path / "full.md").read_text() == full.replace("Plan: prod", "Terraform plan")
    assert len((tmp_path / "comment.md").read_text()) <= 60_000


def test_lambda_artifact_is_looked_up_in_s3(load_plan, s3) -> None:
    plan = load_plan("lambda_artifact_key")
    s3.create_bucket(
        Bucket="salesflow-artifacts-dev", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    from salesflow.delivery.artifacts import s3_artifact_exists

    exists = s3_artifact_exists(s3)
    [missing] = guard.classify(plan, artifact_exists=exists).findings
    assert missing.cls == "lambda-artifact-missing" and missing.blocking
    assert f"s3://salesflow-artifacts-dev/{KEY}" in missing.why
    # The pipeline builds and publishes this key before applying: not missing.
    assert guard.classify(plan, artifact_exists=exists, built_keys=[KEY]).findings == []
    s3.put_object(Bucket="salesflow-artifacts-dev", Key=KEY, Body=b"zip")
    assert guard.classify(plan, artifact_exists=exists).findings == []


def test_lambda_artifact_check_through_the_cli(plans_dir: Path, s3, tmp_path: Path) -> None:
    s3.create_bucket(
        Bucket="salesflow-artifacts-dev", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    plan = str(plans_dir / "lambda_artifact_key.json")
    env = {key: os.environ[key] for key in os.environ if key.startswith("AWS_")} | {
        "SALESFLOW_GUARD_LABELS": ""
    }
    missing = CliRunner().invoke(main, ["guard", "--plan", plan, "--check-artifacts"], env=env)
    assert missing.exit_code == 1, missing.output
    build = tmp_path / "build"
    build.mkdir()
    (build / "artifact-arm64.json").write_text(
        json.dumps(
            {
                "file": "exporter-arm64.zip",
                "sha256": "b" * 64,
                "s3_key": KEY,
                "architecture": "arm64",
                "python": "3.12",
                "unzipped_bytes": 3,
                "zipped_bytes": 1,
            }
        )
    )
    built = CliRunner().invoke(
        main, ["guard", "--plan", plan, "--check-artifacts", "--built-artifacts", str(build)], env=env
    )
    assert built.exit_code == 0, built.output


@pytest.mark.parametrize(
    ("level", "blocking"),
    [("BACKWARD", True), ("FORWARD", None), ("FULL", True), ("NONE", False)],
)
def test_schema_check_follows_the_subject_compatibility(level: str, blocking: bool | None, load_plan) -> None:
    """Adding a field without a default breaks BACKWARD (new readers of old data) but not FORWARD;
    NONE is reported as a notice (the registry accepts anything)."""
    plan = load_plan("clean")
    change = next(rc for rc in plan["resource_changes"] if rc["type"] == "confluent_schema")
    schema = json.loads(change["change"]["before"]["schema"])
    schema["fields"].append({"name": "warehouse", "type": "string"})
    change["change"]["after"]["schema"] = json.dumps(schema)
    plan["planned_values"]["root_module"]["resources"][0]["values"]["compatibility_level"] = level
    findings = guard.classify(plan).findings
    if blocking is None:
        assert findings == []
        return
    [finding] = findings
    assert finding.cls == "schema-subject-change"
    assert finding.blocking is blocking
    if blocking:
        assert "not BACKWARD compatible" in finding.why


def test_schema_known_only_at_apply_is_a_notice(load_plan) -> None:
    plan = load_plan("schema_incompatible")
    change = plan["resource_changes"][0]["change"]
    del change["after"]["schema"]
    change["after_unknown"]["schema"] = True
    [finding] = guard.classify(plan).findings
    assert not finding.blocking and "known only at apply" in finding.why


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("INSERT INTO `t` SELECT * FROM `s`;", "continuous"),
        ("-- header\n/* block */\n  insert into t select 1", "continuous"),
        ("EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; END;", "continuous"),
        ("CREATE TABLE t2 AS SELECT * FROM t", "continuous"),
        ("CREATE TABLE `t` (`a` INT) WITH ('changelog.mode' = 'append');", "ddl"),
        ("-- watermark\nALTER TABLE `raw` MODIFY WATERMARK FOR `$rowtime` AS `$rowtime`;", "ddl"),
        (None, "continuous"),
    ],
)
def test_statement_kind(text: str | None, kind: str) -> None:
    assert guard.statement_kind(text) == kind


def test_plan_compare_sees_changed_plans_and_ignores_masked_values(load_plan, tmp_path: Path) -> None:
    shown = load_plan("statement_cutover")
    same = json.loads(json.dumps(shown))
    assert plan_compare.compare_plans(shown, same) == []
    # A different sensitive value looks the same as Terraform shows it ("(sensitive value)").
    same["resource_changes"][0]["change"]["after"]["statement"] = "INSERT INTO x SELECT 'other pepper'"
    assert plan_compare.compare_plans(shown, same) == []
    changed = json.loads(json.dumps(shown))
    changed["resource_changes"][0]["change"]["after"]["statement_name"] = "dev-sales-order-lines-v3"
    assert plan_compare.compare_plans(shown, changed) == [
        "confluent_flink_statement.sales_order_lines_v2: planned differently"
    ]
    (tmp_path / "shown.json").write_text(json.dumps(shown))
    (tmp_path / "fresh.json").write_text(json.dumps(changed))
    result = CliRunner().invoke(
        main,
        ["plan-compare", "--shown", str(tmp_path / "shown.json"), "--fresh", str(tmp_path / "fresh.json")],
    )
    assert result.exit_code == 1 and "planned differently" in result.stdout
    result = CliRunner().invoke(
        main,
        ["plan-compare", "--shown", str(tmp_path / "shown.json"), "--fresh", str(tmp_path / "shown.json")],
    )
    assert result.exit_code == 0, result.output
