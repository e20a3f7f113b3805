"""The monitor against the contract-checking Confluent server, a real Iceberg table behind the REST catalog
twin, and CloudWatch in moto: each failure mode breaches exactly its own condition, a healthy pipeline none;
an API that fails makes its checks "unknown" and never hides the others; no credential or pepper leaks."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cloud_support import KEY, SECRET, Confluent
from confluent_server import Reply
from monitor_apis import METRICS_QUERY, TABLEFLOW_GET
from monitor_kit import EARLIER_RUN, KEYS, PEPPER, THRESHOLDS, Pipeline, Scenario

from monitor import conditions
from monitor.checks import State
from monitor.confluent import ApiKeys
from monitor.history import OFFSETS, dimensions, published_points
from monitor.http import Credentials
from monitor.observe import LiveSources, run_checks

DECIDED = {State.OK, State.BREACH}
SCENARIOS = {
    "FAILED": (
        Scenario(phase="FAILED", detail=f"Cannot cast '{PEPPER}' to INT", offsets=(9_000, 9_000)),
        conditions.STATEMENT_NOT_RUNNING,
    ),
    "DEGRADED": (
        Scenario(phase="DEGRADED", detail="The statement restarts: TaskManager lost", offsets=(9_000, 9_000)),
        conditions.STATEMENT_NOT_RUNNING,
    ),
    "pool exhausted": (Scenario(scaling="POOL_EXHAUSTED"), conditions.STATEMENT_POOL_EXHAUSTED),
    "critical warning": (
        Scenario(
            warnings=[
                {
                    "severity": "CRITICAL",
                    "reason": "UNBOUNDED_STATE",
                    "message": "state grows without bound",
                    "created_at": "2026-12-01T10:00:00Z",
                },
                {"severity": "LOW", "reason": "X", "message": "y", "created_at": "2026-12-01T10:00:00Z"},
            ]
        ),
        conditions.STATEMENT_CRITICAL_WARNING,
    ),
    "offsets stuck while intake continues": (
        # Pending records are reported, but flat: the job is not consuming (no rise to see yet).
        Scenario(offsets=(9_000, 9_000), pending=lambda minutes_ago: 40.0),
        conditions.STATEMENT_STALLED,
    ),
    "pending records rising": (
        Scenario(pending=lambda minutes_ago: 5_000.0 - 100 * minutes_ago),
        conditions.PENDING_RECORDS_RISING,
    ),
    "watermark stale": (Scenario(watermark_age_minutes=45), conditions.WATERMARK_STALE),
    "Tableflow FAILED": (
        Scenario(tableflow_phase="FAILED", tableflow_error="cannot write to storage"),
        conditions.TABLEFLOW_NOT_RUNNING,
    ),
    "Tableflow not enabled": (Scenario(tableflow_enabled=False), conditions.TABLEFLOW_NOT_RUNNING),
    "Tableflow suspended": (
        Scenario(tableflow_suspended=True, tableflow_error="record at offset 42 cannot be deserialized"),
        conditions.TABLEFLOW_SUSPENDED,
    ),
    "table stale": (Scenario(table_age_minutes=95), conditions.TABLE_STALE),
    "no intake": (
        Scenario(intake_per_minute=0, offsets=(9_000, 9_000), watermark_age_minutes=70),
        conditions.NO_INTAKE,
    ),
}


@pytest.fixture
def pipeline(confluent: Confluent, aws_env: Any, catalog_table: Any) -> Iterator[Pipeline]:
    yield Pipeline(confluent, aws_env.client("cloudwatch"), catalog_table)


def _breaches(run: Any) -> set[str]:
    return {result.condition.metric for result in run.of(State.BREACH)}


def _published(document: dict[str, Any]) -> dict[str, float]:
    names = [m["Name"] for d in document["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
    return {name: document[name][0] if isinstance(document[name], list) else document[name] for name in names}


def test_a_healthy_pipeline_breaches_nothing_and_decides_everything(pipeline: Pipeline) -> None:
    run = pipeline.run(Scenario())
    assert _breaches(run) == set()
    assert {result.state for result in run.results} <= DECIDED, [
        (r.condition.metric, r.summary) for r in run.results
    ]
    assert run.exit_code == 0
    published = _published(pipeline.documents[-1])
    assert {c.metric: published[c.metric] for c in conditions.CONDITIONS} == dict.fromkeys(
        (c.metric for c in conditions.CONDITIONS), 0.0
    )
    assert published[conditions.UNAVAILABLE] == 0 and published[conditions.RUNS] == 1
    snapshot = pipeline.table.current_snapshot()
    assert published["TableRecords"] == float(snapshot.summary["total-records"]) == 6
    assert published["StatementOffsets"] == 9_240
    assert published["IntakeRecords"] == 5 * 20
    assert 12 * 60 <= published["WatermarkAgeSeconds"] <= 15 * 60
    assert published["TableAgeSeconds"] == pytest.approx(8 * 60, abs=1)


@pytest.mark.parametrize("mode", sorted(SCENARIOS))
def test_each_failure_mode_breaches_exactly_its_own_condition(pipeline: Pipeline, mode: str) -> None:
    scenario, condition = SCENARIOS[mode]
    run = pipeline.run(scenario)
    assert _breaches(run) == {condition.metric}, [
        (r.condition.metric, r.state, r.summary) for r in run.results
    ]
    assert run.of(State.UNKNOWN) == []
    assert run.exit_code == 1
    published = _published(pipeline.documents[-1])
    assert {
        name for name in published if name in {c.metric for c in conditions.CONDITIONS} and published[name]
    } == {condition.metric}
    text = json.dumps(pipeline.documents) + " ".join(result.summary for result in run.results)
    assert PEPPER not in text


def test_the_summary_says_why(pipeline: Pipeline) -> None:
    run = pipeline.run(SCENARIOS["FAILED"][0])
    (failed,) = run.of(State.BREACH)
    assert failed.summary == "FAILED: Cannot cast '***' to INT"  # the pepper literal of the SQL is redacted
    stalled = pipeline.run(SCENARIOS["offsets stuck while intake continues"][0])
    (stuck,) = stalled.of(State.BREACH)
    assert stuck.summary.startswith("latest_offsets unchanged at 9000 since ")
    arrived = re.search(r"sales_orders_raw received (\d+) records$", stuck.summary)
    assert arrived and int(arrived[1]) >= 200  # 20 a minute since the earlier run


def test_the_earlier_observation_comes_back_from_cloudwatch(pipeline: Pipeline) -> None:
    """Progress compares with the previous run's StatementOffsets, read back through GetMetricData."""
    scenario = Scenario()
    at = pipeline.now(scenario)
    run = pipeline.run(scenario, earlier_run=True)
    assert run.exit_code == 0 and len(pipeline.documents) == 2
    points = published_points(
        pipeline.cloudwatch, pipeline.env, OFFSETS, at - timedelta(hours=1), at + timedelta(minutes=1)
    )
    assert [point.value for point in points] == [9_000.0, 9_240.0]
    assert dimensions(pipeline.env) == [
        {"Name": "Environment", "Value": pipeline.env},
        {"Name": "service", "Value": conditions.SERVICE},
    ]


def test_without_history_progress_is_unknown_not_healthy(pipeline: Pipeline) -> None:
    scenario = Scenario()
    at = pipeline.now(scenario)
    pipeline.prepare(scenario, at)
    run = pipeline.check(scenario, at, 9_240)
    unknown = {result.condition.metric: result.summary for result in run.of(State.UNKNOWN)}
    assert set(unknown) == {conditions.STATEMENT_STALLED.metric}
    assert "no observation from 10 min ago yet" in unknown["StatementStalled"]
    assert run.exit_code == 2
    assert _published(pipeline.documents[-1])[conditions.UNAVAILABLE] == 1


def test_a_failing_api_makes_its_checks_unknown_and_leaves_the_others_decided(
    pipeline: Pipeline, confluent: Confluent
) -> None:
    scenario = Scenario(tableflow_suspended=True, tableflow_error="bad record")
    at = pipeline.now(scenario)
    pipeline.prepare(scenario, at)
    pipeline.check(Scenario(), at - EARLIER_RUN, 9_000)
    confluent.server.inject(
        METRICS_QUERY, *[Reply(500, {"errors": [{"status": "500", "detail": "down"}]})] * 4
    )
    run = pipeline.check(scenario, at, 9_240)
    states = {result.condition.metric: result.state for result in run.results}
    assert states["TableflowSuspended"] is State.BREACH  # still decided
    assert states["StatementNotRunning"] is State.OK
    unknown = {result.condition.metric for result in run.of(State.UNKNOWN)}
    assert {"PendingRecordsRising", "NoIntake"} <= unknown
    assert all("HTTP 500" in result.summary for result in run.of(State.UNKNOWN))
    assert run.exit_code == 1  # a breach outranks what could not be checked


def test_a_wrong_key_is_unknown_everywhere_and_never_shown(pipeline: Pipeline, confluent: Confluent) -> None:
    wrong = Credentials("WRONGKEY999", "wrong/secret+value==")
    scenario = Scenario()
    at = pipeline.now(scenario)
    pipeline.prepare(scenario, at)
    pipeline.statement(scenario, 9_240)
    sources = LiveSources(pipeline.target(), ApiKeys(wrong, wrong, wrong), pipeline.cloudwatch)
    run = run_checks(sources, pipeline.target(), THRESHOLDS, at)
    decided = {result.condition.metric for result in run.results if result.state in DECIDED}
    assert decided == set()
    token = base64.b64encode(b"WRONGKEY999:wrong/secret+value==").decode()
    text = " ".join(result.summary for result in run.results)
    assert "HTTP 401" in text
    assert not [secret for secret in ("WRONGKEY999", "wrong/secret+value==", token) if secret in text]
    confluent.server.problems.clear()


def test_the_tableflow_request_and_metrics_queries_follow_the_contract(
    pipeline: Pipeline, confluent: Confluent
) -> None:
    pipeline.run(Scenario())
    (get, *_) = confluent.operations(TABLEFLOW_GET)
    assert get.path.endswith("/tableflow-topics/sales_order_lines_clean")
    metrics = {query["aggregations"][0]["metric"] for query in confluent.metrics.queries}
    assert metrics == {
        "io.confluent.flink/pending_records",
        "io.confluent.flink/current_input_watermark_milliseconds",
        "io.confluent.kafka.server/received_records",
    }
    assert confluent.server.problems == []


def test_an_unset_watermark_is_ignored(pipeline: Pipeline) -> None:
    run = pipeline.run(Scenario(watermark_age_minutes=None))
    states = {result.condition.metric: (result.state, result.summary) for result in run.results}
    assert states["WatermarkStale"] == (State.OK, "input watermark not set yet")
    assert "WatermarkAgeSeconds" not in _published(pipeline.documents[-1])


def test_a_missing_statement_is_not_running(pipeline: Pipeline, confluent: Confluent) -> None:
    scenario = Scenario()
    at = pipeline.now(scenario)
    pipeline.prepare(scenario, at)
    sources = LiveSources(pipeline.target(), KEYS, pipeline.cloudwatch)
    run = run_checks(sources, pipeline.target(), THRESHOLDS, at)
    assert _breaches(run) == {"StatementNotRunning"}
    assert run.results[0].summary == "statement dev-sales-order-lines-v1 does not exist"


def test_the_lambda_handler_reads_its_secret_runs_every_check_and_prints_the_metrics(
    pipeline: Pipeline, aws_env: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``monitor.handler.handler`` as Lambda runs it: settings from the environment, the keys from Secrets
    Manager (moto), the clock; the EMF line on stdout is what CloudWatch turns into the alarms' metrics."""
    from monitor import handler as monitor_handler

    target = pipeline.target()
    now = datetime.now(UTC)
    scenario = Scenario(table_age_minutes=(now - pipeline.snapshot_at).total_seconds() / 60)
    pipeline.prepare(scenario, now)
    pipeline.statement(scenario, 9_240)
    pipeline.remember(now - EARLIER_RUN, 9_000)
    secret = json.dumps(
        {"cloud": f"{KEY}:{SECRET}", "flink": f"{KEY}:{SECRET}", "tableflow": f"{KEY}:{SECRET}"}
    )
    secret_id = f"salesflow/{pipeline.env}/confluent/monitor-api-keys"
    aws_env.client("secretsmanager").create_secret(Name=secret_id, SecretString=secret)
    variables = {
        "SALESFLOW_ENV": target.env,
        "CONFLUENT_ORGANIZATION_ID": target.organization_id,
        "CONFLUENT_ENVIRONMENT_ID": target.environment_id,
        "KAFKA_CLUSTER_ID": target.kafka_cluster_id,
        "COMPUTE_POOL_ID": target.compute_pool_id,
        "STATEMENT_NAME": target.statement_name,
        "RAW_TOPIC": target.raw_topic,
        "CLEAN_TOPIC": target.clean_topic,
        "FLINK_ENDPOINT": target.flink_endpoint,
        "CATALOG_URI": target.catalog_uri,
        "CONFLUENT_CLOUD_ENDPOINT": target.cloud_endpoint,
        "CONFLUENT_METRICS_ENDPOINT": target.metrics_endpoint,
        "CREDENTIALS_SECRET_ID": secret_id,
        "STALLED_AFTER_MINUTES": "10",
        "PENDING_RISING_MINUTES": "10",
        "WATERMARK_MAX_AGE_MINUTES": "30",
        "TABLE_MAX_AGE_MINUTES": "60",
        "NO_INTAKE_MINUTES": "30",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    answer = monitor_handler.handler({"scheduled_time": "2026-12-01T10:00:00Z"}, FakeContext())
    assert answer["exit_code"] == 0, answer
    assert set(answer["states"].values()) == {"ok"}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (document,) = [line for line in lines if "_aws" in line]
    assert document["Environment"] == pipeline.env and document["service"] == conditions.SERVICE
    assert document[conditions.RUNS] == [1.0] and document[conditions.UNAVAILABLE] == [0.0]
    checks = [line for line in lines if line.get("check")]
    assert {line["check"] for line in checks} == {c.metric for c in conditions.CONDITIONS}
    assert KEY not in json.dumps(lines) and SECRET not in json.dumps(lines)


def test_the_monitor_and_the_exporter_read_the_same_snapshot_through_the_catalog(
    pipeline: Pipeline, confluent: Confluent, catalog_table: Any
) -> None:
    """The exporter's own catalog code (PyIceberg's RestCatalog via exporter.catalog, the same properties
    it gives the Lambda) and the monitor's plain HTTP read of the same REST catalog agree on the table's
    current snapshot, its time and its record count."""
    from exporter.catalog import load_table, open_catalog
    from exporter.settings import Settings
    from monitor.catalog import current_snapshot
    from monitor.http import pool_manager

    target = pipeline.target()
    confluent.catalog.serve(
        target.kafka_cluster_id, target.clean_topic, lambda: catalog_table.metadata_location
    )
    settings = Settings(
        env="dev",
        catalog_type="rest",
        catalog_uri=target.catalog_uri,
        catalog_warehouse=None,
        catalog_credential_secret_id="salesflow/dev/confluent/exporter-tableflow-api-key",
        catalog_vended_credentials=False,
        table_namespace=target.kafka_cluster_id,
        table_name=target.clean_topic,
        export_bucket="salesflow-exports-dev",
        export_prefix="weekly",
        sns_topic_arn=None,
        week_time_zone=UTC,  # type: ignore[arg-type]
        reports=("order_lines",),
        max_workers=1,
    )
    exporter_view = load_table(open_catalog(settings, read_secret=lambda _: f"{KEY}:{SECRET}"), settings)
    expected = exporter_view.current_snapshot()
    mine = current_snapshot(pool_manager(), target.catalog_uri, KEYS.tableflow, *target.table)
    assert mine is not None and expected is not None
    assert (mine.snapshot_id, mine.timestamp_ms, mine.total_records) == (
        expected.snapshot_id,
        expected.timestamp_ms,
        int(expected.summary["total-records"]),
    )
    assert len(catalog_table.snapshots()) == 2  # the current one of several, not just the only one
    tokens = [
        e for e in confluent.operations("mount /iceberg/catalog/") if e.path.endswith("/v1/oauth/tokens")
    ]
    expected_request = {"grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET}
    assert len(tokens) >= 2  # PyIceberg's and the monitor's: the same token request
    assert all(e.request == {**expected_request, "scope": "catalog"} for e in tokens)


class FakeContext:
    function_name = "salesflow-dev-monitor"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:salesflow-dev-monitor"
    aws_request_id = "7f1b2c3d-0000-4000-8000-000000000002"
