"""Fixtures of the local Flink suite (runs in .venv-flink: `make test-flink`).

One FlinkHarness, hence one JVM, serves the whole session; each run gets its own TableEnvironment.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from salesflow.config import Environment, load_environment
from salesflow.events.generator import GenerationStats
from salesflow.events.records import KafkaRecord, format_epoch_ms
from salesflow.sql.harness import FlinkHarness, HarnessRun

PEPPER = "test-pepper-ä'1"  # a quote and a non-ASCII letter: both must survive the SQL literal
BASE_MS = int(datetime(2026, 11, 10, 8, 0, tzinfo=UTC).timestamp() * 1000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/sql/flink/" in item.nodeid:
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
