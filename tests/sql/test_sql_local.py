"""Pieces of the local harness that need no Flink: property mapping, Avro types, plans, I/O."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from salesflow.contracts import SALES_ORDER, SALES_ORDER_LINE, load_schema_json
from salesflow.events.records import KafkaRecord, RecordError
from salesflow.sql.avro_types import Column, column_differences, flink_type, record_columns
from salesflow.sql.local_io import InputSummary, contains_token, flatten_records, pii_leaks, sink_row
from salesflow.sql.plans import NotInsertOnlyError, check_insert_only, sink_inputs
from salesflow.sql.properties import CONFLUENT_DEFAULTS, PropertyError, local_settings


def test_properties_map_to_flink_options_catalog_and_database() -> None:
    settings = local_settings(
        "dev-x-v1",
        {
            "sql.state-ttl": "1 d",
            "sql.local-time-zone": "Europe/Berlin",
            "sql.current-catalog": "salesflow-dev",
            "sql.current-database": "sales-dev",
        },
    )
    assert settings.table_options == {"table.exec.state.ttl": "1 d", "table.local-time-zone": "Europe/Berlin"}
    assert (settings.catalog, settings.database, settings.start_from_ms) == (
        "salesflow-dev",
        "sales-dev",
        None,
    )
    assert local_settings("dev-x-v1", {}).table_options == CONFLUENT_DEFAULTS


def test_an_unknown_property_is_an_error_naming_where_to_map_it() -> None:
    with pytest.raises(PropertyError, match=r"dev-x-v1: .*'sql.tables.initial-offset-from'.*properties.py"):
        local_settings("dev-x-v1", {"sql.tables.initial-offset-from": "dev-x-v0"})


def test_startup_properties() -> None:
    timestamp = {
        "sql.tables.scan.startup.mode": "timestamp",
        "sql.tables.scan.startup.timestamp-millis": "42",
    }
    assert local_settings("s", timestamp).start_from_ms == 42
    with pytest.raises(PropertyError, match="cannot be reproduced"):
        local_settings("s", {"sql.tables.scan.startup.mode": "latest-offset"})
    with pytest.raises(PropertyError, match="epoch milliseconds"):
        local_settings("s", {"sql.tables.scan.startup.mode": "timestamp"})


def test_avro_types_map_like_confluent() -> None:
    assert flink_type({"type": "long", "logicalType": "timestamp-millis"}) == ("TIMESTAMP_LTZ(3)", False)
    assert flink_type({"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}) == (
        "DECIMAL(10, 2)",
        False,
    )
    assert flink_type({"type": "enum", "name": "E", "symbols": ["A"]}) == ("STRING", False)
    assert flink_type(["null", "string"]) == ("STRING", True)
    columns = {c.name: c for c in record_columns(load_schema_json(SALES_ORDER))}
    assert columns["customer"].type.startswith("ROW<`customer_id` STRING NOT NULL")
    assert "`phone` STRING," in columns["customer"].type  # nullable: no NOT NULL
    assert columns["items"].type.startswith("ARRAY<ROW<`sku` STRING NOT NULL")


def test_a_contract_drift_is_reported() -> None:
    contract = load_schema_json(SALES_ORDER_LINE)
    drifted = copy.deepcopy(contract)
    drifted["fields"][11]["type"]["scale"] = 3  # unit_price
    drifted["fields"].append({"name": "extra", "type": "string"})
    problems = column_differences(record_columns(contract), record_columns(drifted))
    assert problems == [
        "column 'extra' is not in the contract",
        "column 'unit_price': contract says `unit_price` DECIMAL(10, 2) NOT NULL, table has "
        "`unit_price` DECIMAL(10, 3) NOT NULL",
    ]


_PLAN = """== Optimized Physical Plan ==
Sink(table=[c.d.t], fields=[a], changelogMode=[NONE])
+- Calc(select=[a], changelogMode=[{mode}])
   +- TableSourceScan(table=[[c, d, s]], fields=[a], changelogMode=[I])

== Optimized Execution Plan ==
"""


def test_plan_check_accepts_inserts_and_rejects_updates() -> None:
    check_insert_only(_PLAN.format(mode="I"))
    assert sink_inputs(_PLAN.format(mode="I,UB,UA"))[0].changelog_mode == "I,UB,UA"
    with pytest.raises(NotInsertOnlyError, match=r"c.d.t receives changelogMode=\[I,UB,UA\]"):
        check_insert_only(_PLAN.format(mode="I,UB,UA"))
    with pytest.raises(ValueError, match="Optimized Physical Plan"):
        check_insert_only("== Abstract Syntax Tree ==\n")


def test_flatten_validates_and_adds_rowtime(small_events) -> None:
    records, _stats = small_events
    summary = InputSummary()
    lines = list(flatten_records(records[:5], summary, start_from_ms=records[2].timestamp))
    assert summary.records == 5 and summary.before_start == sum(
        r.timestamp < records[2].timestamp for r in records[:5]
    )
    assert b'"$rowtime":"' in lines[0]
    broken = KafkaRecord("k", 1, dict(records[0].value, channel="FAX"))
    with pytest.raises(RecordError, match=r"events.jsonl: record 1 .*value.channel.*sales_order.avsc"):
        list(flatten_records([broken], InputSummary(), source="events.jsonl"))


def test_sink_rows_become_interchange_values() -> None:
    columns = [
        Column("t", "TIMESTAMP_LTZ(3)", False),
        Column("d", "DECIMAL(12, 2)", False),
        Column("n", "INT", False),
    ]
    row = sink_row({"n": 3, "d": Decimal("7.5"), "t": "2026-11-02T00:38:06.5Z"}, columns)
    assert row == {"t": "2026-11-02T00:38:06.500Z", "d": "7.50", "n": 3}
    assert list(row) == ["t", "d", "n"]


def test_pii_search_matches_whole_tokens_only() -> None:
    assert contains_token('{"city":"Köln 50667"}', "50667")
    assert not contains_token('{"customer_key":"ab506679f"}', "50667")
    pii = {"postal_code": {"50667"}, "email": {"a@b.example"}, "phone": {"+4930123"}}
    assert pii_leaks('{"k":"ff50667","x":"mail a@b.example"}', pii) == ["email: 'a@b.example'"]
    assert pii_leaks('{"k":"x+4930123"}', pii) == ["phone: '+4930123'"]
