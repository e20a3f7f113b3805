"""The monitor in the AWS stack: its function runs the manifest's zip with settings the monitor itself
accepts, its role holds exactly its permissions, a schedule runs it every few minutes, each condition has its
alarm to on-call, and the dashboard shows what the monitor publishes."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from infra_support import FIXTURES, REPO_ROOT, Synthesis

from monitor.conditions import CONDITIONS, NAMESPACE, NO_INTAKE, OBSERVATIONS, RUNS, SERVICE, UNAVAILABLE
from monitor.settings import settings_from_env
from salesflow.config import load_environment

pytestmark = pytest.mark.slow

ENVIRONMENTS = ["dev", "prod"]
REMOTE = re.compile(r"\$\{data\.terraform_remote_state\.confluent_stack\.outputs\.(\w+)\}")
# What the Confluent stack's state would hold (for the monitor's own validation of its settings).
OUTPUTS = {
    "environment_id": "env-abc123",
    "kafka_cluster_id": "lkc-abc123",
    "flink_compute_pool_id": "lfcp-abc123",
    "flink_rest_endpoint": "https://flink.eu-central-1.aws.confluent.cloud",
    "monitor_secret_arn": "arn:aws:secretsmanager:eu-central-1:111122223333:secret:salesflow/x-AbCdEf",
}


def _aws(synthesis: Synthesis, env: str) -> dict[str, Any]:
    return synthesis.stack(f"{env}-aws")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_function_runs_the_monitor_zip_with_settings_the_monitor_accepts(
    synthesis: Synthesis, env: str
) -> None:
    environment = load_environment(env)
    function = _aws(synthesis, env)["resource"]["aws_lambda_function"]["monitor"]
    manifest = json.loads((FIXTURES / "monitor-artifact-arm64.json").read_text(encoding="utf-8"))
    assert (function["s3_key"], function["source_code_hash"]) == (
        manifest["s3_key"],
        base64.b64encode(bytes.fromhex(manifest["sha256"])).decode(),
    )
    assert function["s3_bucket"] == environment.aws.artifact_bucket
    assert function["handler"] == "monitor.handler.handler" and function["runtime"] == "python3.12"
    assert function["role"] == "${aws_iam_role.monitor_role.arn}"
    assert function["reserved_concurrent_executions"] == 1
    variables = {
        name: REMOTE.sub(lambda match: OUTPUTS[match.group(1)], value)
        for name, value in function["environment"]["variables"].items()
    }
    settings = settings_from_env(variables)
    monitor = environment.monitor
    assert settings.target.statement_name == f"{env}-sales-order-lines-v1"
    assert settings.target.clean_topic == environment.confluent.topics.clean.name
    assert settings.credentials_secret_id == OUTPUTS["monitor_secret_arn"]
    thresholds = settings.thresholds
    assert (thresholds.stalled_after_minutes, thresholds.table_max_age_minutes) == (
        monitor.stalled_after_minutes,
        monitor.table_max_age_minutes,
    )
    assert thresholds.no_intake_minutes == monitor.no_intake_minutes
    assert (variables["POWERTOOLS_SERVICE_NAME"], variables["POWERTOOLS_METRICS_NAMESPACE"]) == (
        SERVICE,
        NAMESPACE,
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_monitor_role_reads_only_its_keys_logs_and_metrics(synthesis: Synthesis, env: str) -> None:
    document = _aws(synthesis, env)
    statements = document["data"]["aws_iam_policy_document"]["monitor_permissions"]["statement"]
    granted = {item["sid"]: (item["actions"], item["resources"]) for item in statements}
    outputs = "${data.terraform_remote_state.confluent_stack.outputs."
    assert granted == {
        "ReadMonitorKeys": (["secretsmanager:GetSecretValue"], [f"{outputs}monitor_secret_arn}}"]),
        "DecryptMonitorKeys": (["kms:Decrypt"], [f"{outputs}secrets_kms_key_arn}}"]),
        "WriteOwnLogs": (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            ["${aws_cloudwatch_log_group.monitor_logs.arn}:*"],
        ),
        "ReadOwnMetricHistory": (["cloudwatch:GetMetricData"], ["*"]),
    }
    role = document["resource"]["aws_iam_role"]["monitor_role"]
    assert role["name"] == f"salesflow-{env}-monitor"
    logs = document["resource"]["aws_cloudwatch_log_group"]["monitor_logs"]
    assert logs["name"] == f"/aws/lambda/salesflow-{env}-monitor"
    assert logs["kms_key_id"] == "${aws_kms_key.exporter_key.arn}"
    policy = json.loads(document["resource"]["aws_kms_key"]["exporter_key"]["policy"])
    (allowed,) = [s for s in policy["Statement"] if s["Sid"] == "CloudWatchLogsEncryptsTheMonitorLogGroup"]
    context = allowed["Condition"]["StringEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert context.endswith(f":log-group:/aws/lambda/salesflow-{env}-monitor")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_scheduler_runs_the_monitor_every_few_minutes(synthesis: Synthesis, env: str) -> None:
    document = _aws(synthesis, env)
    schedule = document["resource"]["aws_scheduler_schedule"]["monitor_checks"]
    assert schedule["schedule_expression"] == f"rate({load_environment(env).monitor.every_minutes} minutes)"
    assert schedule["target"]["arn"] == "${aws_lambda_function.monitor.arn}"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    statements = document["data"]["aws_iam_policy_document"]["monitor_scheduler_permissions"]["statement"]
    assert [(s["actions"], s["resources"]) for s in statements] == [
        (["lambda:InvokeFunction"], ["${aws_lambda_function.monitor.arn}"])
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_condition_has_its_alarm_to_on_call(synthesis: Synthesis, env: str) -> None:
    environment = load_environment(env)
    alarms = _aws(synthesis, env)["resource"]["aws_cloudwatch_metric_alarm"]
    by_metric = {body["metric_name"]: body for body in alarms.values() if body.get("namespace") == NAMESPACE}
    watched = {c.metric for c in CONDITIONS if c is not NO_INTAKE or environment.monitor.no_intake_minutes}
    assert set(by_metric) == watched | {RUNS, UNAVAILABLE, "SuspectWeek"}
    period = environment.monitor.every_minutes * 60
    for metric in watched:
        alarm = by_metric[metric]
        assert alarm["dimensions"] == {"Environment": env, "service": SERVICE}
        # One breaching run alarms: the condition's own window is the monitor's to decide.
        assert (alarm["period"], alarm["evaluation_periods"], alarm["threshold"]) == (period, 1, 1)
        assert alarm["treat_missing_data"] == "notBreaching"
        assert alarm["alarm_actions"] == alarm["ok_actions"] == ["${aws_sns_topic.alarms_topic.arn}"]
    heartbeat = by_metric[RUNS]
    assert (heartbeat["comparison_operator"], heartbeat["treat_missing_data"]) == (
        "LessThanThreshold",
        "breaching",
    )
    suspect = by_metric["SuspectWeek"]
    assert suspect["dimensions"] == {"Environment": env, "service": "salesflow-exporter"}
    # On-call, never the analysts' topic.
    assert not [a for a in alarms.values() if "exports_topic" in json.dumps(a.get("alarm_actions"))]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_dashboard_shows_what_the_monitor_and_exporter_publish(synthesis: Synthesis, env: str) -> None:
    document = _aws(synthesis, env)
    dashboard = document["resource"]["aws_cloudwatch_dashboard"]["pipeline_dashboard"]
    assert dashboard["dashboard_name"] == f"salesflow-{env}-pipeline"
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    shown = {
        (metric[1], metric[5])
        for widget in widgets
        if widget["type"] == "metric"
        for metric in widget["properties"]["metrics"]
    }
    assert {(name, SERVICE) for name in OBSERVATIONS} <= shown
    assert {("ExportedLines", "salesflow-exporter"), ("SuspectWeek", "salesflow-exporter")} <= shown
    (alarm_widget,) = [widget for widget in widgets if widget["type"] == "alarm"]
    listed = {arn.split(".")[1] for arn in alarm_widget["properties"]["alarms"]}
    monitored = {
        name
        for name, body in document["resource"]["aws_cloudwatch_metric_alarm"].items()
        if body.get("namespace") == NAMESPACE
    }
    assert listed == monitored


def test_every_on_call_alarm_has_its_runbook_section(synthesis: Synthesis) -> None:
    """The alarm's description links docs/runbook.md#<metric>; that heading exists (what it means, what to
    look at, what to do)."""
    runbook = (REPO_ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^### (\w+)\n(.*?)(?=^#)", runbook + "\n#", flags=re.M | re.S))
    alarms = _aws(synthesis, "prod")["resource"]["aws_cloudwatch_metric_alarm"].values()
    ours = [alarm["alarm_description"] for alarm in alarms if alarm.get("namespace") == NAMESPACE]
    assert len(ours) == len(CONDITIONS) + 3
    # Every alarm of the stack, the exporter's own (errors, dead letters, no export) included.
    linked = [re.search(r"docs/runbook\.md#(\w+)", alarm["alarm_description"]) for alarm in alarms]
    assert all(linked), [alarm["alarm_description"] for alarm in alarms]
    for anchor in (match.group(1) for match in linked):
        (heading,) = [name for name in sections if name.lower() == anchor]
        assert all(part in sections[heading] for part in ("**Means:**", "**Look at:**", "**Do:**")), heading
