"""The Avro contracts parse with fastavro and Apache avro, keep PII out of the output, evolve safely."""

from __future__ import annotations

import copy
import json
import subprocess

import avro.schema
import fastavro
import pytest

from salesflow.config import REPO_ROOT
from salesflow.contracts import (
    PII_FIELDS,
    SALES_ORDER,
    SALES_ORDER_LINE,
    check_evolution,
    field_names,
    load_schema_json,
    schema_path,
)


@pytest.mark.parametrize("name", [SALES_ORDER, SALES_ORDER_LINE])
def test_schema_parses_with_fastavro_and_apache_avro(name: str) -> None:
    schema = load_schema_json(name)
    parsed = fastavro.parse_schema(schema)
    assert parsed["name"].startswith("io.salesflow.sales.")
    apache = avro.schema.parse(schema_path(name).read_text(encoding="utf-8"))
    assert apache.fullname == parsed["name"]


def test_input_contract_has_the_agreed_shape() -> None:
    schema = load_schema_json(SALES_ORDER)
    top = {field["name"]: field["type"] for field in schema["fields"]}
    assert list(top) == [
        "event_id",
        "order_id",
        "channel",
        "order_time",
        "customer",
        "items",
        "currency",
        "payment_method",
        "order_total",
    ]
    assert top["channel"]["symbols"] == ["WEB", "MOBILE_APP", "MARKETPLACE", "STORE"]
    assert top["order_time"]["logicalType"] == "timestamp-millis"
    item = top["items"]["items"]
    prices = {field["name"]: field["type"] for field in item["fields"]}
    assert (prices["unit_price"]["precision"], prices["unit_price"]["scale"]) == (10, 2)
    assert (top["order_total"]["precision"], top["order_total"]["scale"]) == (12, 2)
    assert set(PII_FIELDS) <= field_names(schema)


def test_output_contract_contains_no_pii_field() -> None:
    names = field_names(load_schema_json(SALES_ORDER_LINE))
    assert names.isdisjoint(PII_FIELDS)
    assert {"customer_key", "customer_city", "customer_country", "line_number", "line_amount"} <= names


def test_adding_an_optional_field_is_an_allowed_evolution() -> None:
    old = load_schema_json(SALES_ORDER_LINE)
    new = copy.deepcopy(old)
    new["fields"].append({"name": "discount_code", "type": ["null", "string"], "default": None})
    result = check_evolution(old, new)
    assert result.compatible, result.reasons


def test_changing_a_type_is_rejected() -> None:
    old = load_schema_json(SALES_ORDER_LINE)
    new = copy.deepcopy(old)
    next(field for field in new["fields"] if field["name"] == "quantity")["type"] = "string"
    result = check_evolution(old, new)
    assert not result.compatible
    assert any("not BACKWARD compatible" in reason for reason in result.reasons)


def test_adding_a_required_field_is_rejected() -> None:
    old = load_schema_json(SALES_ORDER)
    new = copy.deepcopy(old)
    new["fields"].append({"name": "coupon", "type": "string"})
    assert not check_evolution(old, new).compatible


def test_removing_a_required_field_is_rejected_by_the_repo_rule() -> None:
    old = load_schema_json(SALES_ORDER)
    new = copy.deepcopy(old)
    new["fields"] = [field for field in new["fields"] if field["name"] != "currency"]
    result = check_evolution(old, new)
    assert not result.compatible
    assert result.reasons == (
        "field 'currency' was removed; consumers read it by name (deprecate it instead)",
    )


def test_removing_a_nested_field_is_rejected() -> None:
    old = load_schema_json(SALES_ORDER)
    new = copy.deepcopy(old)
    customer = next(field for field in new["fields"] if field["name"] == "customer")["type"]
    address = next(field for field in customer["fields"] if field["name"] == "address")["type"]
    address["fields"] = [field for field in address["fields"] if field["name"] != "city"]
    assert "field 'customer.address.city' was removed" in check_evolution(old, new).reasons[0]


@pytest.mark.parametrize("name", [SALES_ORDER, SALES_ORDER_LINE])
def test_every_committed_version_evolves_into_the_current_one(name: str) -> None:
    """Transitive check over git history: each earlier committed schema -> the working copy."""
    relative = f"schemas/{name}.avsc"
    log = subprocess.run(
        ["git", "log", "--format=%H", "--", relative],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    current = load_schema_json(name)
    for commit in log.stdout.split():
        shown = subprocess.run(
            ["git", "show", f"{commit}:{relative}"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
        result = check_evolution(json.loads(shown.stdout), current)
        assert result.compatible, f"{relative} at {commit[:10]}: {result.reasons}"
