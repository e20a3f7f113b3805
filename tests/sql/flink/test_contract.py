"""The clean table the production DDL registers matches schemas/sales_order_line.avsc."""

from __future__ import annotations

from salesflow.config import Environment
from salesflow.contracts import SALES_ORDER_LINE, load_schema_json
from salesflow.events.records import json_to_datum
from salesflow.sql.avro_types import column_differences, record_columns
from salesflow.sql.harness import FlinkHarness, HarnessRun


def test_clean_table_columns_and_types_match_the_contract(harness: FlinkHarness, dev: Environment) -> None:
    registered = harness.registered_columns(dev, dev.confluent.topics.clean.name)
    contract = record_columns(load_schema_json(SALES_ORDER_LINE))
    assert column_differences(contract, registered) == []
    assert registered == contract


def test_the_sink_the_statement_wrote_has_the_contract_columns(generated_run: HarnessRun) -> None:
    assert generated_run.columns == record_columns(load_schema_json(SALES_ORDER_LINE))


def test_every_output_line_is_valid_against_the_contract(generated_run: HarnessRun) -> None:
    schema = load_schema_json(SALES_ORDER_LINE)
    names = [field["name"] for field in schema["fields"]]
    for row in generated_run.rows:
        assert list(row) == names
        json_to_datum(row, schema)  # raises on a missing field, a wrong type or a bad decimal
