"""The exporter end to end: a real Iceberg table (SQL catalog) -> CSVs and manifest on moto S3 -> SNS."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime

import exporter_testkit as reference
import pytest
from exporter_testkit import FakeContext, Target, export_environment, make_line, new_table

from exporter.export import ExportResult
from exporter.weeks import IsoWeek
from salesflow.twin.lakehouse import append_clean_lines

W46 = IsoWeek(2026, 46)


def rows_of(data: bytes) -> list[list[str]]:
    assert data.startswith(reference.UTF8_BOM) and not data[3:].startswith(reference.UTF8_BOM)
    return reference.csv_rows(data)


@pytest.fixture(scope="module")
def week_46(catalog, aws, shared_lakehouse, rest_twin) -> tuple[Target, ExportResult, dict[str, bytes], list]:
    """One export of W46 from the shared table per catalog, as it left the bucket and the inbox; the tests
    below read it (the rerun test exports again into its bucket). Module-scoped, so it sets the environment
    the autouse fixture would (that one starts later, with each test)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in export_environment(aws, rest_twin, catalog).items():
            patch.setenv(name, value)
        target = Target(aws, shared_lakehouse, rest_twin)
        result = target.export("2026-W46")
        return target, result, target.objects(), target.inbox.messages()


def test_week_export_matches_an_independent_computation(week_46, generated_lines) -> None:
    shared_target, result, published, _messages = week_46
    objects = {key: body for key, body in published.items() if key.startswith("weekly/iso_week=2026-W46/")}
    assert sorted(objects) == [
        "weekly/iso_week=2026-W46/customer_behavior.csv",
        "weekly/iso_week=2026-W46/daily_revenue.csv",
        "weekly/iso_week=2026-W46/manifest.json",
        "weekly/iso_week=2026-W46/order_lines.csv",
        "weekly/iso_week=2026-W46/product_demand.csv",
        "weekly/iso_week=2026-W46/week_totals.csv",
    ]
    start, end = W46.bounds(datetime.now(UTC).tzinfo)  # UTC
    expected_lines = reference.week_lines(generated_lines, start, end)
    assert len(expected_lines) > 1000
    order_lines = rows_of(objects["weekly/iso_week=2026-W46/order_lines.csv"])
    assert order_lines[0] == reference.ORDER_LINE_COLUMNS
    assert order_lines[1:] == reference.order_lines(expected_lines)
    demand = rows_of(objects["weekly/iso_week=2026-W46/product_demand.csv"])
    assert demand[0] == ["channel", "category", "sku", "currency", "product_name", "orders", "units",
                         "revenue", "customers"]  # fmt: skip
    assert demand[1:] == reference.product_demand(expected_lines)
    behavior = rows_of(objects["weekly/iso_week=2026-W46/customer_behavior.csv"])
    assert behavior[1:] == reference.customer_behavior(expected_lines)
    assert any(int(row[4]) > 0 for row in behavior[1:]), "the fixture has repeat customers"
    totals = rows_of(objects["weekly/iso_week=2026-W46/week_totals.csv"])
    assert totals == [["orders", "customers", "repeat_customers", "order_lines", "units"],
                      *reference.week_totals(expected_lines)]  # fmt: skip
    daily = rows_of(objects["weekly/iso_week=2026-W46/daily_revenue.csv"])
    assert daily[0] == ["order_date", "channel", "currency", "orders", "order_lines", "revenue"]
    assert daily[1:] == reference.daily_revenue(expected_lines, UTC)
    assert {row[0] for row in daily[1:]} == {f"2026-11-{day:02d}" for day in range(9, 16)}

    raw = objects["weekly/iso_week=2026-W46/order_lines.csv"]
    assert raw.count(b"\r\n") == len(order_lines) and b"\n" not in raw.replace(b"\r\n", b"")
    manifest = json.loads(objects["weekly/iso_week=2026-W46/manifest.json"])
    assert manifest["week"] == "2026-W46"
    assert manifest["window"] == {"start_utc": "2026-11-09T00:00:00Z", "end_utc": "2026-11-16T00:00:00Z"}
    assert manifest["table"]["snapshot_id"] == result.snapshot_id is not None
    assert manifest["orders"] == len({line["order_id"] for line in expected_lines}) == result.orders
    assert manifest["duplicates_dropped"] == 0
    for name, entry in manifest["reports"].items():
        body = objects[entry["key"]]
        assert (entry["excel"], entry["encoding"]) == (True, "utf-8-sig")
        assert entry["sha256"] == hashlib.sha256(body).hexdigest()
        assert entry["rows"] == len(rows_of(body)) - 1 == result.rows[name]
    # Partition pruning: the week reads its own days' files, not the whole table.
    assert 0 < manifest["table"]["data_files_scanned"] < len(list(_all_files(shared_target)))


def _all_files(target):
    return target.lakehouse.catalog().load_table(("lkc-local", "sales_order_lines_clean")).scan().plan_files()


def test_notification_names_week_counts_and_locations(week_46) -> None:
    shared_target, result, _published, messages = week_46
    [message] = messages
    assert message["Subject"] == f"salesflow dev: weekly sales export 2026-W46 ({result.orders} orders)"
    text = message["Message"]
    for report, key in result.keys.items():
        assert f"{report}: {result.rows[report]} rows  s3://{shared_target.bucket}/{key}" in text
    assert f"s3://{shared_target.bucket}/weekly/iso_week=2026-W46/manifest.json" in text
    assert (
        f"https://s3.console.aws.amazon.com/s3/buckets/{shared_target.bucket}?region=eu-central-1&"
        "prefix=weekly/iso_week=2026-W46/" in text
    )
    assert "X-Amz-Signature" not in text and "Expires=" not in text  # no presigned URL


def test_rerun_writes_identical_bytes(week_46) -> None:
    shared_target, _result, first, _messages = week_46
    shared_target.export("2026-W46")
    assert shared_target.objects() == first
    assert not any("_staging" in key for key in first)


def test_empty_week_gives_header_only_csvs_and_says_0_orders(shared_target) -> None:
    result = shared_target.export("2026-W30")
    objects = shared_target.objects("weekly/iso_week=2026-W30/")
    assert rows_of(objects["weekly/iso_week=2026-W30/order_lines.csv"]) == [reference.ORDER_LINE_COLUMNS]
    for name in ("product_demand", "customer_behavior", "daily_revenue"):
        assert len(rows_of(objects[f"weekly/iso_week=2026-W30/{name}.csv"])) == 1
    assert rows_of(objects["weekly/iso_week=2026-W30/week_totals.csv"])[1] == ["0", "0", "0", "0", ""]
    manifest = json.loads(objects["weekly/iso_week=2026-W30/manifest.json"])
    assert manifest["orders"] == 0
    assert {name: entry["rows"] for name, entry in manifest["reports"].items()} == {
        "order_lines": 0, "product_demand": 0, "customer_behavior": 0, "daily_revenue": 0, "week_totals": 1,
    }  # fmt: skip
    assert result.orders == 0
    [message] = shared_target.inbox.messages()
    assert "(0 orders)" in message["Subject"] and "0 orders" in message["Message"]


def test_duplicate_lines_are_dropped_keeping_the_earliest(lakehouse, target_for, generated_lines) -> None:
    start, end = W46.bounds(datetime.now(UTC).tzinfo)
    week = reference.week_lines(generated_lines, start, end)
    table = new_table(lakehouse, generated_lines)
    target = target_for(lakehouse)
    target.export("2026-W46")
    before = target.objects("weekly/iso_week=2026-W46/")
    # A statement cutover replays 40 lines; 5 more replays carry a later time and another payment method.
    replay = week[100:140]
    later = [dict(line, order_time=week[-1]["order_time"], payment_method="CASH") for line in week[200:205]]
    append_clean_lines(table, replay + later)
    result = target.export("2026-W46")
    after = target.objects("weekly/iso_week=2026-W46/")
    assert result.duplicates_dropped == 45
    manifest = json.loads(after.pop("weekly/iso_week=2026-W46/manifest.json"))
    assert manifest["duplicates_dropped"] == 45
    before.pop("weekly/iso_week=2026-W46/manifest.json")
    assert after == before, "the reports are exactly those of the week without the replay"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # order_time (UTC) -> ISO week it belongs to in the zone
        ("UTC", {"2026-11-15T22:59:59.999Z": "2026-W46", "2026-11-15T23:00:00.000Z": "2026-W46",
                 "2026-11-15T23:59:59.999Z": "2026-W46", "2026-11-16T00:00:00.000Z": "2026-W47"}),
        ("Europe/Berlin", {"2026-11-15T22:59:59.999Z": "2026-W46", "2026-11-15T23:00:00.000Z": "2026-W47",
                           "2026-11-15T23:59:59.999Z": "2026-W47", "2026-11-16T00:00:00.000Z": "2026-W47"}),
    ],
)  # fmt: skip
def test_week_boundaries_sunday_last_millisecond_vs_monday_midnight(
    lakehouse, target_for, zone, expected
) -> None:
    # 22:59:59.999Z is Sunday 23:59:59.999 in Berlin (CET), 23:00:00.000Z is Monday 00:00 there.
    lines = [make_line(f"SO-B-{index}", moment) for index, moment in enumerate(expected)]
    new_table(lakehouse, lines)
    target = target_for(lakehouse)
    seen = {}
    for week in ("2026-W46", "2026-W47"):
        target.export(week, env={"WEEK_TIME_ZONE": zone})
        body = target.objects(f"weekly/iso_week={week}/order_lines.csv")[
            f"weekly/iso_week={week}/order_lines.csv"
        ]
        for row in rows_of(body)[1:]:
            seen[row[0]] = week
    assert seen == expected


def test_iso_week_53_from_the_schedule_time(lakehouse, target_for, monkeypatch) -> None:
    lines = [
        make_line("SO-53-1", "2026-12-27T23:59:59.999Z"),  # Sunday of W52
        make_line("SO-53-2", "2026-12-28T00:00:00.000Z"),  # Monday of W53
        make_line("SO-53-3", "2027-01-03T23:59:59.999Z"),  # Sunday of W53, in the next calendar year
        make_line("SO-53-4", "2027-01-04T00:00:00.000Z"),  # Monday of 2027-W01
    ]
    new_table(lakehouse, lines)
    target = target_for(lakehouse)
    from exporter.handler import handler

    for name, value in target.env.items():
        monkeypatch.setenv(name, value)
    result = handler({"scheduled_time": "2027-01-04T06:00:00Z"}, FakeContext())
    assert result["week"] == "2026-W53"
    assert result["window_utc"] == ["2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z"]
    body = target.objects()["weekly/iso_week=2026-W53/order_lines.csv"]
    assert [row[1] for row in rows_of(body)[1:]] == ["SO-53-2", "SO-53-3"]


def test_handler_logs_structured_json_and_returns_the_result(shared_target, monkeypatch) -> None:
    from exporter.handler import handler
    from exporter.log import logger

    for name, value in shared_target.env.items():
        monkeypatch.setenv(name, value)
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    try:
        result = handler({"scheduled_time": "2026-11-23T05:00:00Z"}, FakeContext())
    finally:
        logger.registered_handler.setStream(previous)
    assert result["week"] == "2026-W47"
    assert result["manifest"] == f"s3://{shared_target.bucket}/weekly/iso_week=2026-W47/manifest.json"
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    messages = [record["message"] for record in records]
    assert "export published" in messages and "analysts notified" in messages
    assert len({record["service"] for record in records}) == 1
    assert all({"level", "timestamp", "location"} <= set(record) for record in records)
    assert any(record.get("function_request_id") == FakeContext.aws_request_id for record in records)
