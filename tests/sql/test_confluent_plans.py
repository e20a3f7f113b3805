"""Reading Confluent's answers without the cloud: EXPLAIN text (both documented forms), result-schema
types against the contract's spelling, the INSERT's query, the unknown-table wording and throwaway
names."""

from __future__ import annotations

import pytest

from salesflow.cloud.flink_statements import DataType, ResultColumn
from salesflow.config import load_environment
from salesflow.contracts import SALES_ORDER_LINE, load_schema_json
from salesflow.sql.avro_types import record_columns
from salesflow.sql.confluent_plans import PlanError, explain_text, flink_type, parse_plan, result_columns
from salesflow.sql.render import render_statements
from salesflow.sql.verify import creates_table, insert_query, is_unknown_table, throwaway_name

EXPLICIT = """== Physical Plan ==

StreamSink [4]
  +- StreamCalc [3]
    +- StreamGroupAggregate [2]
      +- StreamTableSourceScan [1]

== Physical Details ==

[1] StreamTableSourceScan
Table: `env`.`db`.`orders`
Changelog mode: append
State size: low

[2] StreamGroupAggregate
Changelog mode: retract
Upsert key: (customer_id)
State size: medium

[4] StreamSink
Table: `env`.`db`.`totals`
Changelog mode: retract
State size: low
"""
# The other documented form: changelog modes are printed only where they are not append-only.
IMPLIED = """== Physical Plan ==
StreamPhysicalSink [3]
  +- StreamPhysicalCalc [2]
    +- StreamPhysicalTableSourceScan [1]
== Physical Details ==
[1] StreamPhysicalTableSourceScan
Table: `env`.`db`.`orders`
State size: low
[3] StreamPhysicalSink
Table: `env`.`db`.`clean`
"""


def test_explicit_modes_name_the_sink_and_every_state_size() -> None:
    plan = parse_plan(EXPLICIT)
    assert plan.sink is not None and plan.sink.label == "StreamSink [4]"
    assert plan.sink_changelog_mode() == ("retract", False)
    assert plan.state_sizes() == {
        "StreamTableSourceScan [1]": "low",
        "StreamGroupAggregate [2]": "medium",
        "StreamSink [4]": "low",
    }
    assert plan.largest_state() == "medium"


def test_a_sink_without_a_mode_is_append_only_when_no_operator_prints_one() -> None:
    assert parse_plan(IMPLIED).sink_changelog_mode() == ("append", True)
    retracting_inside = IMPLIED.replace(
        "[3] StreamPhysicalSink", "Changelog mode: retract\n[3] StreamPhysicalSink"
    )
    assert parse_plan(retracting_inside).sink_changelog_mode() == (None, False)


@pytest.mark.parametrize("text", ["", "== Physical Plan ==\nStreamSink [1]\n", "== Physical Details ==\n\n"])
def test_an_unreadable_plan_is_an_error_not_a_pass(text: str) -> None:
    with pytest.raises(PlanError):
        parse_plan(text)


def test_result_rows_become_plan_text_whatever_their_shape() -> None:
    rows = [
        {"op": 0, "row": ["== Physical Details ==\n[1] StreamSink"]},
        {"op": 0, "row": "Changelog mode: append"},
    ]
    assert parse_plan(explain_text(rows)).sink_changelog_mode() == ("append", False)


@pytest.mark.parametrize(
    ("data_type", "expected"),
    [
        ({"type": "VARCHAR", "nullable": False, "length": 2147483647}, "STRING"),
        ({"type": "VARCHAR", "nullable": False, "length": 10}, "VARCHAR(10)"),
        ({"type": "INTEGER", "nullable": False}, "INT"),
        ({"type": "DECIMAL", "nullable": False, "precision": 12, "scale": 2}, "DECIMAL(12, 2)"),
        ({"type": "TIMESTAMP_WITH_LOCAL_TIME_ZONE", "nullable": False, "precision": 3}, "TIMESTAMP_LTZ(3)"),
        ({"type": "TIMESTAMP_WITHOUT_TIME_ZONE", "nullable": True, "precision": 3}, "TIMESTAMP(3)"),
        (
            {"type": "ARRAY", "nullable": False, "element_type": {"type": "INTEGER", "nullable": False}},
            "ARRAY<INT NOT NULL>",
        ),
        (
            {
                "type": "ROW",
                "nullable": False,
                "fields": [{"name": "a", "field_type": {"type": "BIGINT", "nullable": True}}],
            },
            "ROW<`a` BIGINT>",
        ),
    ],
)
def test_result_schema_types_are_spelled_like_the_contracts(data_type: dict, expected: str) -> None:
    assert flink_type(DataType.model_validate(data_type)) == expected


def test_the_contract_round_trips_through_result_schema_types() -> None:
    contract = record_columns(load_schema_json(SALES_ORDER_LINE))
    roots = {"STRING": ("VARCHAR", {"length": 2147483647}), "INT": ("INTEGER", {})}
    columns = []
    for column in contract:
        if column.type in roots:
            root, extra = roots[column.type]
        elif column.type.startswith("DECIMAL"):
            precision, scale = column.type[8:-1].split(", ")
            root, extra = "DECIMAL", {"precision": int(precision), "scale": int(scale)}
        else:
            root, extra = "TIMESTAMP_WITH_LOCAL_TIME_ZONE", {"precision": 3}
        columns.append(
            ResultColumn(name=column.name, type={"type": root, "nullable": column.nullable, **extra})
        )
    assert result_columns(columns) == contract


def test_the_insert_query_is_split_off_and_the_clean_table_recognised() -> None:
    statements = render_statements(load_environment("dev"), "confluent")
    insert = next(s for s in statements if s.kind == "continuous")
    target, query = insert_query(insert.text)
    assert target == "sales_order_lines_clean"
    assert query.startswith("SELECT") and not query.endswith(";") and "CROSS JOIN UNNEST" in query
    assert insert_query("INSERT INTO `a`.`b` (x, y) WITH t AS (SELECT 1) SELECT * FROM t;")[0] == "a.b"
    assert insert_query("CREATE TABLE t (x INT);") is None
    assert [s.id for s in statements if creates_table(s, "sales_order_lines_clean")] == [
        "sales-order-lines-clean-table"
    ]


@pytest.mark.parametrize(
    ("detail", "unknown"),
    [
        (
            "Table (or view) 'sales_order_lines_clean' does not exist, may be on a private cluster, or you "
            "do not have permission to access it.",
            True,
        ),
        ("From line 1, column 13 to line 1, column 35: Object 'sales_order_lines_clean' not found", True),
        ("Table (or view) 'sales_orders_raw' does not exist, may be on a private cluster", False),
        ("SQL validation failed. Column 'sales_order_lines_clean' is ambiguous", False),
    ],
)
def test_the_unknown_table_wording_is_matched_for_the_clean_table_only(detail: str, unknown: bool) -> None:
    assert is_unknown_table(detail, "sales_order_lines_clean") is unknown


def test_throwaway_names_follow_confluents_rules() -> None:
    assert (
        throwaway_name("dev", "ABC1234", "sales-order-lines", "query")
        == "dev-verify-abc1234-sales-order-lines-query"
    )
    long = throwaway_name("a" * 31, "0123456789ab", "x_" * 60)
    assert len(long) <= 100 and long == long.lower() and not long.endswith("-")
    assert set(long) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
