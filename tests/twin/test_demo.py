"""`salesflow demo` end to end on real engines: generator -> local Flink -> Iceberg -> Lambda handler -> S3.

The figures are checked independently: dedup against the generated first emissions, zero PII, and the
CSVs against a DuckDB query over the Iceberg table's own Parquet files for the same week.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pytest
from clean_lines_model import expected_clean_lines
from iceberg_rest_contract import RestContract

from salesflow.config import load_environment
from salesflow.events.records import KafkaRecord
from salesflow.sql.local_io import pii_leaks
from salesflow.twin.demo import (
    DEMO_DOWNLOAD_URL,
    DEMO_PEPPER,
    DemoOptions,
    DemoResult,
    _output_cells,
    run_demo,
)

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # a Wednesday: the exported week is 2026-W47


@pytest.fixture(scope="module")
def rest_contract() -> RestContract:
    return RestContract()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory, rest_contract) -> tuple[DemoResult, Path, Path]:
    workdir, out = tmp_path_factory.mktemp("work"), tmp_path_factory.mktemp("out")
    (workdir / "lakehouse").mkdir()
    (workdir / "lakehouse" / "left-over-from-last-run.txt").write_text("stale")
    options = DemoOptions(
        load_environment("dev"), workdir, out, events=4_000, seed=5, weeks=2, now=NOW, commit_rows=700,
        catalog_observers=(rest_contract,),
    )  # fmt: skip
    return run_demo(options, echo=lambda _line: None), workdir, out


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "analyst-facing reports carry a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _report(result: DemoResult, name: str) -> list[list[str]]:
    return _csv(next(data for key, data in result.reports.items() if key.endswith(f"/{name}.csv")))


def _duckdb(workdir: Path) -> duckdb.DuckDBPyConnection:
    files = sorted(str(path) for path in (workdir / "lakehouse" / "warehouse").rglob("*.parquet"))
    assert files
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.read_parquet(files).create_view("lines")
    connection.execute(
        "CREATE VIEW week AS SELECT * FROM lines WHERE order_time >= TIMESTAMPTZ '2026-11-16 00:00:00+00' "
        "AND order_time < TIMESTAMPTZ '2026-11-23 00:00:00+00'"
    )
    return connection


@pytest.mark.slow
def test_dedup_is_exact(demo_run) -> None:
    result, _, _ = demo_run
    assert result.events == 4_000
    assert result.duplicates_removed == result.events - result.orders_in > 400
    assert result.late_dropped == 0
    firsts = [
        KafkaRecord(key, first["timestamp"], first["value"]) for key, first in result.first_emissions.items()
    ]
    expected = expected_clean_lines(firsts, DEMO_PEPPER)
    assert result.lines_out == len(result.lines) == len(expected)
    assert Counter(orjson.dumps(line) for line in result.lines) == Counter(
        orjson.dumps(line) for line in expected
    )


@pytest.mark.slow
def test_no_pii_anywhere_and_the_scan_can_fail(demo_run) -> None:
    result, _, _ = demo_run
    assert result.pii_values_checked > 1_000
    assert result.pii_leaks == []
    email = "someone.planted@example.com"
    for key, data in result.reports.items():
        marker = b"MARKETPLACE" if b"MARKETPLACE" in data else b"orders"
        tampered = (
            data.replace(marker, email.encode(), 1)
            if key.endswith(".csv")
            else data.replace(result.week.encode(), email.encode(), 1)
        )
        assert tampered != data
        assert pii_leaks("\n".join(_output_cells(key, tampered)), {"email": {email}}) == [f"email: {email!r}"]


@pytest.mark.slow
def test_order_lines_csv_equals_duckdb_over_the_iceberg_files(demo_run) -> None:
    result, workdir, _ = demo_run
    assert result.week == "2026-W47"
    header, *rows = _report(result, "order_lines")
    expected = (
        _duckdb(workdir)
        .execute(
            "SELECT strftime(order_time, '%Y-%m-%dT%H:%M:%S.%gZ'), order_id, line_number, channel, "
            "customer_key, customer_city, customer_country, sku, product_name, category, quantity, "
            "unit_price, line_amount, currency, payment_method FROM week "
            "ORDER BY order_time, order_id, line_number"
        )
        .fetchall()
    )
    assert header[:3] == ["order_time", "order_id", "line_number"]
    assert len(rows) == len(expected) == result.manifest["lines"] > 100
    assert rows == [[str(value) for value in row] for row in expected]


@pytest.mark.slow
def test_aggregate_reports_equal_duckdb(demo_run) -> None:
    result, workdir, _ = demo_run
    connection = _duckdb(workdir)
    header, *rows = _report(result, "product_demand")
    expected = connection.execute(
        "SELECT channel, category, sku, currency, max(product_name), count(DISTINCT order_id), "
        "sum(quantity), sum(line_amount), count(DISTINCT customer_key) FROM week GROUP BY ALL "
        "ORDER BY channel, category, sku, currency"
    ).fetchall()
    assert header == [
        "channel",
        "category",
        "sku",
        "currency",
        "product_name",
        "orders",
        "units",
        "revenue",
        "customers",
    ]
    assert rows == [[str(value) for value in row] for row in expected]

    header, *rows = _report(result, "customer_behavior")
    expected = connection.execute(
        "WITH per_customer AS (SELECT channel, currency, customer_key, count(DISTINCT order_id) AS n "
        "FROM week GROUP BY ALL) "
        "SELECT w.channel, w.currency, count(DISTINCT order_id), count(DISTINCT w.customer_key), "
        "(SELECT count(*) FROM per_customer p "
        "WHERE p.channel = w.channel AND p.currency = w.currency AND n > 1), "
        "count(*), sum(quantity), sum(line_amount) FROM week w GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    assert [row[:8] for row in rows] == [[str(value) for value in row] for row in expected]
    assert sum(int(row[2]) for row in rows) == result.manifest["orders"]


@pytest.mark.slow
def test_outputs_land_where_the_summary_says(demo_run) -> None:
    result, workdir, out = demo_run
    assert not (workdir / "lakehouse" / "left-over-from-last-run.txt").exists(), "a run starts clean"
    assert result.copied_to == out / "iso_week=2026-W47"
    copied = sorted(path.name for path in result.copied_to.iterdir())
    assert copied == [
        "customer_behavior.csv", "daily_revenue.csv", "email.html", "email.txt",
        "manifest.json", "order_lines.csv", "product_demand.csv", "week_totals.csv",
    ]  # fmt: skip
    published = [name for name in copied if not name.startswith("email.")]
    assert result.s3_keys == [f"salesflow-exports-dev/weekly/iso_week=2026-W47/{name}" for name in published]
    assert result.snapshots == -(-result.lines_out // 700)
    assert (out / "iso_week=2026-W47" / "email.txt").read_text(encoding="utf-8") == result.email_text
    # The exporter read the table as in production: Tableflow's REST catalog, vended S3 credentials.
    assert result.catalog.startswith("Iceberg REST catalog https://127.0.0.1:")
    assert "s3://tableflow-managed-dev/" in result.catalog and result.vended_credentials >= 1
    assert set(result.timings) == {"generate", "flink", "iceberg", "export", "pii check"}


@pytest.mark.slow
def test_the_rest_catalog_answered_the_demo_as_the_iceberg_spec_says(demo_run, rest_contract) -> None:
    """The demo's read path (two Lambda runs through the REST twin), checked against the OpenAPI document."""
    assert rest_contract.problems == []
    served = {operation for operation, status in rest_contract.operations if status < 300}
    assert {"getConfig", "getToken", "loadTable"} <= served


@pytest.mark.slow
def test_the_analysts_email_has_the_figures_and_the_links(demo_run) -> None:
    result, _, out = demo_run
    manifest = result.manifest
    html = (out / "iso_week=2026-W47" / "email.html").read_text(encoding="utf-8")
    totals = _report(result, "week_totals")
    for body in (html, result.email_text):
        assert "Weekly sales 2026-W47" in body
        assert f"{manifest['orders']:,}" in body and f"{manifest['lines']:,}" in body
        assert f"{int(totals[1][1]):,}" in body and f"{int(totals[1][2]):,}" in body  # customers, repeat
        assert "2026-W46" in body and "No previous week" not in body  # last week's run exported W46
        for entry in manifest["reports"].values():
            assert f"{DEMO_DOWNLOAD_URL}/{entry['key'].removeprefix('weekly/')}?Expires=" in body
    assert html.count(f'href="{DEMO_DOWNLOAD_URL}/') == len(manifest["reports"]) + 1
    assert sorted(result.email_attachments) == [
        "customer_behavior.csv",
        "daily_revenue.csv",
        "product_demand.csv",
        "week_totals.csv",
    ]
    previous_orders = len(
        {line["order_id"] for line in result.lines if "2026-11-09" <= line["order_time"] < "2026-11-16"}
    )
    change = manifest["orders"] - previous_orders
    assert (
        f"was {previous_orders:,}, change {'+' if change > 0 else '-'}{abs(change):,} (" in result.email_text
    )
