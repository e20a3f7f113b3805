"""A pure-Python model of the Flink statement: the independent expectation that the Flink, exporter and
demo tests compare real output against.

Keep the first emission of each order by record timestamp (`$rowtime`), one line per item numbered from
1, customer_key = lower-hex SHA-256 of pepper + customer_id, line_amount = quantity * unit_price.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from salesflow.events.records import KafkaRecord


def customer_key(pepper: str, customer_id: str) -> str:
    return hashlib.sha256((pepper + customer_id).encode("utf-8")).hexdigest()


def first_emissions(records: Iterable[KafkaRecord], window_ms: int | None = None) -> list[KafkaRecord]:
    """The earliest emission of each order (with ``window_ms``: of each order in each tumbling window of
    that size, aligned to the epoch in UTC, as window dedup keeps), in timestamp order. Flink's choice
    among emissions with the same timestamp is undefined, so such an input is refused, not modelled."""
    first: dict[tuple[str, int], KafkaRecord] = {}
    for record in records:
        key = (record.key, record.timestamp // window_ms if window_ms else 0)
        current = first.get(key)
        assert current is None or current.timestamp != record.timestamp, (
            f"ambiguous first emission: {record.key}"
        )
        if current is None or record.timestamp < current.timestamp:
            first[key] = record
    return sorted(first.values(), key=lambda record: record.timestamp)


def expected_clean_lines(
    records: Iterable[KafkaRecord], pepper: str, window_ms: int | None = None
) -> list[dict[str, Any]]:
    """The clean lines the statement must write for ``records`` (JSON-lines form of the contract); with
    ``window_ms``, those of the window variant (no record late enough to miss its window)."""
    lines = []
    for record in first_emissions(records, window_ms):
        order = record.value
        customer = order["customer"]
        for number, item in enumerate(order["items"], start=1):
            amount = (Decimal(item["unit_price"]) * item["quantity"]).quantize(Decimal("0.01"))
            lines.append(
                {
                    "order_id": order["order_id"],
                    "line_number": number,
                    "channel": order["channel"],
                    "order_time": order["order_time"],
                    "customer_key": customer_key(pepper, customer["customer_id"]),
                    "customer_city": customer["address"]["city"],
                    "customer_country": customer["address"]["country"],
                    "sku": item["sku"],
                    "product_name": item["product_name"],
                    "category": item["category"],
                    "quantity": item["quantity"],
                    "unit_price": item["unit_price"],
                    "line_amount": str(amount),
                    "currency": order["currency"],
                    "payment_method": order["payment_method"],
                }
            )
    return lines
