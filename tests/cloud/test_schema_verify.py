"""``salesflow schema verify`` against the contract-checking test server: compatible, incompatible with
the registry's own messages, first version, and the clean subject Flink registered against the contract."""

from __future__ import annotations

import copy
import json
from typing import Any

from click.testing import CliRunner
from cloud_support import Confluent
from confluent_server import Reply

from salesflow.cli import main
from salesflow.contracts import SALES_ORDER, SALES_ORDER_LINE, load_schema_json

RAW, CLEAN = "sales_orders_raw-value", "sales_order_lines_clean-value"


def flink_registered_clean_schema() -> dict[str, Any]:
    """What Flink registers for the clean DDL: its own record name, no docs, the same field types."""
    contract = load_schema_json(SALES_ORDER_LINE)
    fields = [{"name": field["name"], "type": field["type"]} for field in contract["fields"]]
    return {
        "type": "record",
        "name": "sales_order_lines_clean_value",
        "namespace": "org.apache.flink",
        "fields": fields,
    }


def schema_verify(confluent: Confluent, *extra: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        main, ["schema", "verify", "--env", "dev", "--url", confluent.url, "--format", "json", *extra]
    )
    return result.exit_code, json.loads(result.output) if result.output.startswith("{") else result.output


def verdicts(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(check["subject"], check["check"], check["verdict"]) for check in document["checks"]]


def test_compatible_contracts_and_the_registered_clean_schema_pass(confluent: Confluent) -> None:
    confluent.registry.register_schema(RAW, json.dumps(load_schema_json(SALES_ORDER)), version=2)
    confluent.registry.register_schema(CLEAN, json.dumps(flink_registered_clean_schema()), version=1)
    code, document = schema_verify(confluent)
    assert code == 0, document
    assert verdicts(document) == [
        (RAW, "compatibility", "compatible"),
        (CLEAN, "compatibility", "compatible"),
        (CLEAN, "contract", "matches the contract (v1)"),
    ]
    sent = {e.path.split("/")[3]: e.request for e in confluent.operations("testCompatibilityBySubjectName")}
    assert json.loads(sent[RAW]["schema"]) == load_schema_json(SALES_ORDER)
    assert all(
        e.path.endswith("/versions/latest") for e in confluent.operations("testCompatibilityBySubjectName")
    )


def test_an_incompatible_schema_fails_with_the_registrys_messages(confluent: Confluent, tmp_path) -> None:
    confluent.registry.register_schema(RAW, json.dumps(load_schema_json(SALES_ORDER)))
    message = "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'channel' ...'}"
    confluent.registry.compatibility[RAW] = (False, [message])
    markdown = tmp_path / "schema.md"
    code, document = schema_verify(confluent, "--markdown", str(markdown))
    assert code == 1
    raw = document["checks"][0]
    assert (raw["verdict"], raw["ok"], raw["messages"]) == ("incompatible", False, [message])
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in markdown.read_text() and "(FAIL)" in markdown.read_text()


def test_subjects_without_a_version_are_first_versions(confluent: Confluent) -> None:
    code, document = schema_verify(confluent)
    assert code == 0, document
    assert verdicts(document) == [
        (RAW, "compatibility", "first version"),
        (CLEAN, "compatibility", "first version"),
        (CLEAN, "contract", "not registered yet"),
    ]


def test_a_clean_subject_that_drifted_from_the_contract_fails(confluent: Confluent) -> None:
    drifted = flink_registered_clean_schema()
    drifted["fields"][12] = {
        "name": "line_amount",
        "type": {"type": "bytes", "logicalType": "decimal", "precision": 14, "scale": 2},
    }
    drifted["fields"].append({"name": "extra", "type": ["null", "string"], "default": None})
    confluent.registry.register_schema(CLEAN, json.dumps(drifted), version=4)
    code, document = schema_verify(confluent)
    assert code == 1
    contract = document["checks"][-1]
    assert contract["verdict"] == "differs from the contract (v4)"
    assert "field 'line_amount' is bytes/decimal(14,2), contract bytes/decimal(12,2)" in contract["messages"]
    assert any("'extra'" in message for message in contract["messages"])


def test_a_refused_key_is_a_clear_error(confluent: Confluent) -> None:
    confluent.server.inject(
        "testCompatibilityBySubjectName", Reply(401, {"error_code": 401, "message": "Unauthorized"})
    )
    result = CliRunner().invoke(main, ["schema", "verify", "--env", "dev", "--url", confluent.url])
    assert result.exit_code == 1
    assert (
        "Schema Registry: POST /compatibility/subjects/sales_orders_raw-value/versions/latest: HTTP 401"
        in result.output
    )
    assert "s3cr3t" not in result.output


def test_the_contract_comparison_ignores_names_and_docs_only() -> None:
    from salesflow.contracts import shape_differences

    contract = load_schema_json(SALES_ORDER_LINE)
    assert shape_differences(contract, flink_registered_clean_schema()) == []
    reordered = copy.deepcopy(flink_registered_clean_schema())
    reordered["fields"][0], reordered["fields"][1] = reordered["fields"][1], reordered["fields"][0]
    assert shape_differences(contract, reordered)
