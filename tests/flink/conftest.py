"""Fixtures of the local Flink suite (runs in .venv-flink: `make test-flink`).

One FlinkHarness, hence one JVM, serves the whole session; each run gets its own TableEnvironment.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from salesflow.config import Environment, load_environment
from salesflow.generator import GenerationStats
from salesflow.records import KafkaRecord, format_epoch_ms
from salesflow.sql.harness import FlinkHarness, HarnessRun

PEPPER = "test-pepper-ä'1"  # a quote and a non-ASCII letter: both must survive the SQL literal
BASE_MS = int(datetime(2026, 11, 10, 8, 0, tzinfo=UTC).timestamp() * 1000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/flink/" in item.nodeid:
            item.add_marker(pytest.mark.flink)


@pytest.fixture(scope="session")
def harness() -> FlinkHarness:
    return FlinkHarness()


@pytest.fixture(scope="session")
def dev() -> Environment:
    return load_environment("dev")


@pytest.fixture(scope="session")
def prod() -> Environment:
    return load_environment("prod")


@pytest.fixture(scope="session")
def generated_run(
    harness: FlinkHarness, dev: Environment, small_events: tuple[list[KafkaRecord], GenerationStats]
) -> HarnessRun:
    records, _stats = small_events
    return harness.run(dev, records, pepper=PEPPER)


def customer_key(pepper: str, customer_id: str) -> str:
    """Computed independently of Flink: lower-hex SHA-256 of pepper followed by customer_id."""
    return hashlib.sha256((pepper + customer_id).encode("utf-8")).hexdigest()


def expected_lines(records: list[KafkaRecord], pepper: str) -> list[dict[str, Any]]:
    """A Python model of the statement: first emission by timestamp per order, one row per item."""
    first: dict[str, KafkaRecord] = {}
    for record in records:
        order_id = record.value["order_id"]
        current = first.get(order_id)
        assert current is None or current.timestamp != record.timestamp, "ambiguous first emission"
        if current is None or record.timestamp < current.timestamp:
            first[order_id] = record
    lines = []
    for record in first.values():
        order = record.value
        for number, item in enumerate(order["items"], start=1):
            amount = Decimal(item["unit_price"]) * item["quantity"]
            lines.append(
                {
                    "order_id": order["order_id"],
                    "line_number": number,
                    "channel": order["channel"],
                    "order_time": order["order_time"],
                    "customer_key": customer_key(pepper, order["customer"]["customer_id"]),
                    "customer_city": order["customer"]["address"]["city"],
                    "customer_country": order["customer"]["address"]["country"],
                    "sku": item["sku"],
                    "product_name": item["product_name"],
                    "category": item["category"],
                    "quantity": item["quantity"],
                    "unit_price": item["unit_price"],
                    "line_amount": str(amount.quantize(Decimal("0.01"))),
                    "currency": order["currency"],
                    "payment_method": order["payment_method"],
                }
            )
    return lines


OrderFactory = Callable[..., KafkaRecord]


@pytest.fixture
def order() -> OrderFactory:
    """Build one emission of an order (a Kafka record) with readable defaults."""

    def build(
        order_id: str,
        timestamp: int,
        *,
        event: str | None = None,
        customer: str = "CUST-T-0001",
        city: str = "Köln",
        items: tuple[tuple[str, int, str], ...] = (("BOO-00001", 1, "12.50"),),
        email: str = "ann.probe@example.test",
        full_name: str = "Ann Probe-Zoë",
        phone: str | None = "+49301234567",
        street: str = "Probestraße 7",
        postal_code: str = "50667",
    ) -> KafkaRecord:
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{order_id}/{event or timestamp}"))
        value = {
            "event_id": event_id,
            "order_id": order_id,
            "channel": "WEB",
            "order_time": format_epoch_ms(timestamp - 1_000),
            "customer": {
                "customer_id": customer,
                "email": email,
                "full_name": full_name,
                "phone": phone,
                "address": {"street": street, "city": city, "postal_code": postal_code, "country": "DE"},
            },
            "items": [
                {
                    "sku": sku,
                    "product_name": f"Probe {sku}",
                    "category": "Books",
                    "quantity": qty,
                    "unit_price": price,
                }
                for sku, qty, price in items
            ],
            "currency": "EUR",
            "payment_method": "CARD",
            "order_total": str(sum(Decimal(price) * qty for _sku, qty, price in items)),
        }
        return KafkaRecord(order_id, timestamp, value)

    return build
