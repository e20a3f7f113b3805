"""reports.yaml is validated against the table schema; a new report is a YAML change; extra columns work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from exporter_testkit import ALL_REPORTS, csv_rows, make_line, new_table
from pyiceberg.types import StringType

from exporter.reports import REPORTS_FILE, ReportError, load_reports, validate_against_schema
from salesflow.twin.lakehouse import append_clean_lines, clean_lines_schema


def test_every_declared_report_is_valid_for_the_clean_table() -> None:
    specs = load_reports()
    assert set(ALL_REPORTS.split(",")) <= set(specs)
    for spec in specs.values():
        validate_against_schema(spec, clean_lines_schema())


def test_the_environments_select_only_declared_reports() -> None:
    from salesflow.config import environment_names, load_environment

    specs = load_reports()
    for name in environment_names():
        assert set(load_environment(name).exporter.reports) <= set(specs), name


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reports.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("r:\n  description: x\n  columns: [order_id, coupon]\n", "column 'coupon' is not in the table"),
        (
            "r:\n  description: x\n  group_by: [channel]\n  metrics:\n"
            "    - {name: s, op: sum, column: sku}\n",
            "sum needs a numeric column, 'sku' is string",
        ),
        (
            "r:\n  description: x\n  group_by: [channel]\n  metrics:\n"
            "    - {name: a, op: ratio, numerator: revenue, denominator: orders, scale: 2}\n",
            "numerator and denominator must name earlier count or sum metrics",
        ),
    ],
)
def test_a_report_that_does_not_fit_the_schema_is_rejected(tmp_path, body, message) -> None:
    [spec] = load_reports(_write(tmp_path, "reports:\n  " + body.replace("\n", "\n  "))).values()
    with pytest.raises(ReportError, match=message):
        validate_against_schema(spec, clean_lines_schema())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("reports:\n  r:\n    columns: [order_id]\n", "add a 'description'"),
        ("reports:\n  r:\n    description: x\n    columns: [order_id]\n    group_by: [sku]\n", "give either"),
        ("reports:\n  r:\n    description: x\n    group_by: [sku]\n    metrics: [{name: n, op: median}]\n",
         "op must be one of"),
        ("reports:\n  r:\n    description: x\n    colums: [order_id]\n", r"unknown field\(s\) \['colums'\]"),
        ("reports:\n  r:\n    description: x\n    columns: [order_id]\n    sort_by: [sku]\n",
         r"sort_by: \['sku'\] are not output columns"),
        ("reports:\n  r:\n    description: x\n    group_by: [sku]\n"
         "    metrics: [{name: a, op: ratio, numerator: x, denominator: y}]\n", "a ratio needs 'scale'"),
        ("[1, 2]\n", "expected a single top-level mapping"),
    ],
)  # fmt: skip
def test_a_malformed_report_file_is_rejected_naming_the_report(tmp_path, text, message) -> None:
    with pytest.raises(ReportError, match=message) as failure:
        load_reports(_write(tmp_path, text))
    assert str(tmp_path / "reports.yaml") in str(failure.value)


PROMO_REPORT = """
reports:
  promo_demand:
    description: Orders and revenue per promotion code (a column added to the table later).
    group_by: [promo_code, currency]
    metrics:
      - {name: orders, op: count_distinct, column: order_id}
      - {name: revenue, op: sum, column: line_amount}
"""


def test_a_new_nullable_column_and_a_report_over_it(lakehouse, target_for, tmp_path) -> None:
    """Tableflow evolves the table with a new optional column: old files lack it, new rows may be null."""
    old = [make_line(f"SO-P-{n}", f"2026-11-1{n}T10:00:00.000Z") for n in range(3)]
    table = new_table(lakehouse, old)
    target = target_for(lakehouse)
    target.export("2026-W46")
    before = target.objects("weekly/iso_week=2026-W46/order_lines.csv")

    with table.update_schema() as update:
        update.add_column("promo_code", StringType(), doc="Promotion code, if any")
    assert not table.schema().find_field("promo_code").required
    append_clean_lines(
        table,
        [
            make_line("SO-P-3", "2026-11-12T11:00:00.000Z", promo_code="BLACKFRIDAY", line_amount="5.00"),
            make_line("SO-P-4", "2026-11-12T12:00:00.000Z", promo_code=None),
        ],
    )
    path = tmp_path / "reports.yaml"
    path.write_text(REPORTS_FILE.read_text(encoding="utf-8") + PROMO_REPORT.split("reports:\n", 1)[1])
    result = target.export("2026-W46", env={"REPORTS": "order_lines,promo_demand"}, reports_file=path)
    objects = target.objects("weekly/iso_week=2026-W46/")
    promo = csv_rows(objects["weekly/iso_week=2026-W46/promo_demand.csv"])
    assert promo == [
        ["promo_code", "currency", "orders", "revenue"],
        ["BLACKFRIDAY", "EUR", "1", "5.00"],
        ["", "EUR", "4", "80.40"],  # the old files read the new column as null; nulls sort last
    ]
    lines = objects["weekly/iso_week=2026-W46/order_lines.csv"]
    assert lines.startswith(before["weekly/iso_week=2026-W46/order_lines.csv"]), "old rows unchanged"
    assert result.rows == {"order_lines": 5, "promo_demand": 2}
    assert (
        json.loads(objects["weekly/iso_week=2026-W46/manifest.json"])["reports"]["promo_demand"]["rows"] == 2
    )


def test_a_report_without_group_by_totals_the_week(tmp_path) -> None:
    import pyarrow as pa

    from exporter.reports import compute_aggregate

    path = _write(
        tmp_path,
        "reports:\n  totals:\n    description: Week totals.\n    metrics:\n"
        "      - {name: lines, op: count}\n      - {name: orders, op: count_distinct, column: order_id}\n"
        "      - {name: repeaters, op: count_repeat, column: customer_key, per: order_id}\n"
        "      - {name: lines_per_order, op: ratio, numerator: lines, denominator: orders, scale: 3}\n",
    )
    spec = load_reports(path)["totals"]
    validate_against_schema(spec, clean_lines_schema())
    lines = pa.table({"order_id": ["a", "a", "b", "c"], "customer_key": ["x", "x", "x", "y"]})
    assert compute_aggregate(spec, lines).to_pylist() == [
        {"lines": 4, "orders": 3, "repeaters": 1, "lines_per_order": __import__("decimal").Decimal("1.333")}
    ]


def test_order_date_is_the_local_day_across_a_dst_change() -> None:
    """Europe/Berlin leaves summer time on Sunday 2026-10-25: that day is 25 hours long."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    import pyarrow as pa

    from exporter.derived import order_dates
    from exporter.weeks import IsoWeek

    moments = [
        datetime(2026, 10, 18, 22, 0, tzinfo=UTC),  # Monday 2026-10-19 00:00 CEST
        datetime(2026, 10, 24, 21, 59, 59, tzinfo=UTC),  # Saturday 23:59:59 CEST
        datetime(2026, 10, 24, 22, 0, tzinfo=UTC),  # Sunday 00:00 CEST
        datetime(2026, 10, 25, 22, 59, 59, 999000, tzinfo=UTC),  # Sunday 23:59:59.999 CET
    ]
    times = pa.chunked_array([pa.array(moments[:2], pa.timestamp("us", tz="UTC")),
                              pa.array(moments[2:], pa.timestamp("us", tz="UTC"))])  # fmt: skip
    days = order_dates(times, IsoWeek(2026, 43), ZoneInfo("Europe/Berlin"))
    assert days.cast(pa.string()).to_pylist() == ["2026-10-19", "2026-10-24", "2026-10-25", "2026-10-25"]
    assert [moment.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat() for moment in moments] == [
        "2026-10-19",
        "2026-10-24",
        "2026-10-25",
        "2026-10-25",
    ]


def test_a_derived_column_can_only_be_grouped_by(tmp_path) -> None:
    path = _write(tmp_path, "reports:\n  r:\n    description: x\n    columns: [order_date, order_id]\n")
    [spec] = load_reports(path).values()
    with pytest.raises(ReportError, match="the derived column 'order_date' can only be grouped by"):
        validate_against_schema(spec, clean_lines_schema())


def test_the_excel_option_is_a_boolean(tmp_path) -> None:
    path = _write(
        tmp_path, "reports:\n  r:\n    description: x\n    columns: [order_id]\n    excel: yes-please\n"
    )
    with pytest.raises(ReportError, match=r"r'\.excel must be true"):
        load_reports(path)
    assert load_reports(_write(tmp_path, "reports:\n  r:\n    description: x\n    columns: [order_id]\n"))[
        "r"
    ].excel, "analyst-facing by default"
