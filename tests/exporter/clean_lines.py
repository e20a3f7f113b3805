"""A pure-Python reference of the Flink statement, for exporter tests that need clean lines without Flink.

Keep-first dedup by record timestamp (then arrival order) per order_id, one line per item (1-based
line_number), customer_key = lower-hex SHA-256 of pepper + customer_id; only city and country stay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from salesflow.records import KafkaRecord

PEPPER = "test-pepper-not-a-secret"


def clean_lines(records: Iterable[KafkaRecord], pepper: str = PEPPER) -> list[dict[str, Any]]:
    first: dict[str, tuple[int, int, dict[str, Any]]] = {}
    for arrival, record in enumerate(records):
        seen = first.get(record.key)
        if seen is None or (record.timestamp, arrival) < seen[:2]:
            first[record.key] = (record.timestamp, arrival, record.value)
    lines = []
    for _timestamp, _arrival, order in sorted(first.values(), key=lambda item: item[:2]):
        customer = order["customer"]
        key = hashlib.sha256((pepper + customer["customer_id"]).encode()).hexdigest()
        for number, item in enumerate(order["items"], start=1):
            amount = (Decimal(item["unit_price"]) * item["quantity"]).quantize(Decimal("0.01"))
            lines.append(
                {
                    "order_id": order["order_id"],
                    "line_number": number,
                    "channel": order["channel"],
                    "order_time": order["order_time"],
                    "customer_key": key,
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
