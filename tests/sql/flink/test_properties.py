"""Statement properties reach local Flink; prod's statements run too; the cutover start works."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from conftest import BASE_MS, PEPPER, OrderFactory
from pyflink.java_gateway import get_gateway

from salesflow.config import Environment
from salesflow.sql.harness import FlinkHarness
from salesflow.sql.render import STATEMENTS_DIR, render_statements


def test_state_ttl_and_time_zone_are_mapped_to_flink(
    harness: FlinkHarness, dev: Environment, prod: Environment, order: OrderFactory
) -> None:
    records = [order("SO-T1", BASE_MS), order("SO-T2", BASE_MS + 1_000, customer="CUST-T-2")]
    dev_run = harness.run(dev, records, pepper=PEPPER)
    prod_run = harness.run(prod, records, pepper=PEPPER)
    for environment, run in ((dev, dev_run), (prod, prod_run)):
        insert = next(s for s in run.statements if s.kind == "continuous")
        assert insert.properties["sql.state-ttl"] == environment.confluent.flink.state_ttl
        assert run.state_ttl[insert.name] == timedelta(seconds=environment.confluent.flink.state_ttl_seconds)
        assert run.time_zone[insert.name] == environment.confluent.flink.time_zone
    assert dev_run.state_ttl != prod_run.state_ttl  # 1 d vs 7 d: the value really comes from the config
    # prod's statements (other catalog, database, buckets and TTL) give the same lines as dev's.
    assert prod_run.rows == dev_run.rows


def test_a_cutover_version_starts_from_its_timestamp(
    harness: FlinkHarness, dev: Environment, order: OrderFactory, tmp_path: Path
) -> None:
    start = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    statements_dir = tmp_path / "flink_statements"
    shutil.copytree(STATEMENTS_DIR, statements_dir)
    spec = yaml.safe_load((statements_dir / "statements.yaml").read_text(encoding="utf-8"))
    insert_spec = next(s for s in spec["statements"] if s["kind"] == "continuous")
    insert_spec["versions"]["dev"] = {"version": 2, "start_from": start.isoformat()}
    (statements_dir / "statements.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    statements = render_statements(dev, "local", pepper=PEPPER, statements_dir=statements_dir)
    start_ms = int(start.timestamp() * 1000)
    records = [
        order("SO-OLD", start_ms - 3_600_000, event="original"),  # the old version emitted this one
        order("SO-NEW", start_ms + 60_000),
        order("SO-OLD", start_ms + 600_000, event="resend"),  # ...and the new version re-emits it
    ]
    assert start_ms > BASE_MS
    run = harness.run(dev, records, statements=statements)
    assert run.input.before_start == 1
    assert run.orders_out == {"SO-OLD", "SO-NEW"}  # the bounded duplicate window of a cutover


def test_the_local_jvm_runs_with_the_harness_options(harness: FlinkHarness, dev: Environment) -> None:
    """The JVM PyFlink started for this session got the harness's options (C1 only, serial GC), or the
    caller's own JVM_ARGS."""
    harness.explain(dev, pepper=PEPPER)  # the JVM is up (started by this or an earlier test)
    jvm = get_gateway().jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    expected = os.environ["JVM_ARGS"].split()
    assert expected and set(expected) <= set(arguments)
