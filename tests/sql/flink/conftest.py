"""Fixtures of the local Flink suite (runs in .venv-flink: `make test-flink`).

One FlinkHarness, hence one JVM, serves the whole session; each run gets its own TableEnvironment.
Tests that take ``variant_env`` or ``generated_run`` run once per dedup variant (first_row, window); the
generated events go through Flink once per variant.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from salesflow.config import DEDUP_VARIANTS, REPO_ROOT, Environment, load_environment
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


@pytest.fixture(scope="session", params=DEDUP_VARIANTS)
def variant_env(request: pytest.FixtureRequest, dev: Environment) -> Environment:
    """dev with each dedup variant in turn (dev itself selects first_row)."""
    return dev.with_dedup(request.param)


@pytest.fixture(scope="session")
def generated_run(
    harness: FlinkHarness, variant_env: Environment, small_events: tuple[list[KafkaRecord], GenerationStats]
) -> HarnessRun:
    records, _stats = small_events
    return harness.run(variant_env, records, pepper=PEPPER)


def window_ms(environment: Environment) -> int | None:
    """The dedup window of the window variant, None for keep-first."""
    flink = environment.confluent.flink
    return flink.dedup_window_seconds * 1000 if flink.dedup == "window" else None


# The exporter needs pyiceberg, which this environment cannot have (PyFlink pins pyarrow<17): its dedup
# runs in the main environment, on exactly the rows Flink wrote.
_EXPORTER_DEDUP = """
import json, sys
import pyarrow as pa
from exporter.dedup import drop_duplicate_lines
rows = [json.loads(line) for line in sys.stdin]
table = pa.Table.from_pylist(rows)
table = table.set_column(
    table.schema.get_field_index("order_time"), "order_time",
    table.column("order_time").cast(pa.timestamp("ms", tz="UTC")),
)
kept, dropped = drop_duplicate_lines(table)
for row in kept.to_pylist():
    row["order_time"] = row["order_time"].isoformat(timespec="milliseconds").replace("+00:00", "Z")
    print(json.dumps(row))
"""


@pytest.fixture(scope="session")
def exporter_dedup() -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    """The weekly exporter's (order_id, line_number) dedup (exporter/dedup.py), applied to clean lines."""
    python = Path(REPO_ROOT) / ".venv" / "bin" / "python"
    if not python.is_file():
        pytest.fail(f"{python} is missing: run `make setup`")

    def dedup(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        completed = subprocess.run(
            [str(python), "-c", _EXPORTER_DEDUP],
            input="".join(json.dumps(row) + "\n" for row in rows),
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        return [json.loads(line) for line in completed.stdout.splitlines()]

    return dedup


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
