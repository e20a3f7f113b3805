"""No PII leaves the statement; customer_key is the peppered SHA-256 of customer_id."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import orjson
from clean_lines_model import customer_key
from conftest import BASE_MS, PEPPER, OrderFactory

from salesflow.config import Environment
from salesflow.events.generator import GenerationStats
from salesflow.events.records import KafkaRecord
from salesflow.sql.harness import FlinkHarness, HarnessRun
from salesflow.sql.local_io import pii_leaks
from salesflow.sql.render import render_statements


def _output_text(run: HarnessRun) -> str:
    """The output exactly as `salesflow sql run` writes it."""
    return b"".join(orjson.dumps(row) + b"\n" for row in run.rows).decode("utf-8")


def test_no_pii_value_of_the_input_appears_in_the_output(
    generated_run: HarnessRun, small_events: tuple[list[KafkaRecord], GenerationStats]
) -> None:
    _records, stats = small_events
    assert all(
        stats.pii[kind] for kind in ("customer_id", "email", "full_name", "phone", "street", "postal_code")
    )
    assert pii_leaks(_output_text(generated_run), stats.pii) == []


def test_the_pii_search_finds_a_leaking_statement(
    harness: FlinkHarness, dev: Environment, order: OrderFactory
) -> None:
    statements = render_statements(dev, "local", pepper=PEPPER)
    insert = next(s for s in statements if s.kind == "continuous")
    leaky = replace(
        insert,
        text=insert.text.replace("`r`.`customer`.`address`.`city` AS", "`r`.`customer`.`email` AS"),
    )
    assert leaky.text != insert.text
    run = harness.run(
        dev, [order("SO-L", BASE_MS)], statements=[leaky if s is insert else s for s in statements]
    )
    pii = {"email": {"ann.probe@example.test"}, "postal_code": {"50667"}}
    assert pii_leaks(_output_text(run), pii) == ["email: 'ann.probe@example.test'"]


def test_customer_key_is_sha256_of_pepper_and_customer_id(
    generated_run: HarnessRun, small_events: tuple[list[KafkaRecord], GenerationStats]
) -> None:
    records, _stats = small_events
    customer_of = {r.value["order_id"]: r.value["customer"]["customer_id"] for r in records}
    keys_by_customer = defaultdict(set)
    for row in generated_run.rows:
        customer = customer_of[row["order_id"]]
        assert row["customer_key"] == customer_key(PEPPER, customer)
        keys_by_customer[customer].add(row["customer_key"])
    assert all(len(keys) == 1 for keys in keys_by_customer.values())  # stable per customer
    repeat_customers = [c for c in keys_by_customer if sum(1 for o in customer_of.values() if o == c) > 1]
    assert repeat_customers, "the input should have customers with several orders"
    assert len({next(iter(k)) for k in keys_by_customer.values()}) == len(keys_by_customer)  # distinct


def test_another_pepper_gives_other_keys(
    harness: FlinkHarness, dev: Environment, order: OrderFactory
) -> None:
    records = [
        order("SO-P1", BASE_MS, customer="CUST-P-1"),
        order("SO-P2", BASE_MS + 1_000, customer="CUST-P-1"),
        order("SO-P3", BASE_MS + 2_000, customer="CUST-P-2"),
    ]
    first = harness.run(dev, records, pepper=PEPPER)
    second = harness.run(dev, records, pepper="another-pepper")
    keys_first = {row["order_id"]: row["customer_key"] for row in first.rows}
    keys_second = {row["order_id"]: row["customer_key"] for row in second.rows}
    assert keys_first["SO-P1"] == keys_first["SO-P2"] != keys_first["SO-P3"]
    assert keys_second["SO-P1"] == customer_key("another-pepper", "CUST-P-1")
    assert all(keys_first[o] != keys_second[o] for o in keys_first)
