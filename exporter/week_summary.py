"""The week at a glance, computed from what the export published: its manifest and small aggregate CSVs.

Nothing here reads the Iceberg table. Headline figures: orders and order lines (manifest), customers
and repeat customers (``week_totals``: customers are counted once across channels and currencies),
revenue per currency (``customer_behavior``, summed over channels: an order has one currency and one
channel, so the sums are exact). The chart: revenue per day, channel and currency (``daily_revenue``).
Top products: ``product_demand`` summed over channels and currencies, ranked by units. The previous
week is read the same way from its own manifest, so "change" compares like with like; a figure whose
report a week lacks is ``None`` (shown as "n/a"), never a guess.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

# The aggregate reports the summary reads (any that a week lacks leaves its figures unknown).
SUMMARY_REPORTS = ("week_totals", "customer_behavior", "daily_revenue", "product_demand")
TOP_PRODUCTS = 5


class SummaryError(RuntimeError):
    """A published report does not match its manifest; the message names the key."""


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    units: int
    orders: int
    revenue: dict[str, Decimal]


@dataclass(frozen=True)
class WeekFigures:
    week: str
    orders: int
    lines: int
    customers: int | None = None
    repeat_customers: int | None = None
    revenue: dict[str, Decimal] = field(default_factory=dict)  # currency -> revenue
    orders_by_currency: dict[str, int] = field(default_factory=dict)
    # currency -> day (YYYY-MM-DD) -> channel -> revenue
    daily: dict[str, dict[str, dict[str, Decimal]]] = field(default_factory=dict)
    top_products: list[Product] = field(default_factory=list)

    def figure(self, name: str) -> int | None:
        return getattr(self, name)


def rows(data: bytes) -> list[dict[str, str]]:
    """A report CSV as dicts (a UTF-8 byte-order mark, if any, is skipped)."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def figures_from_reports(manifest: Mapping[str, Any], reports: Mapping[str, bytes]) -> WeekFigures:
    totals = rows(reports["week_totals"])[0] if "week_totals" in reports else {}
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows(reports["customer_behavior"]) if "customer_behavior" in reports else []:
        revenue[row["currency"]] += Decimal(row["revenue"] or "0")
    daily: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    orders_by_currency: dict[str, int] = defaultdict(int)
    for row in rows(reports["daily_revenue"]) if "daily_revenue" in reports else []:
        daily[row["currency"]][row["order_date"]][row["channel"]] = Decimal(row["revenue"] or "0")
        orders_by_currency[row["currency"]] += int(row["orders"])
    return WeekFigures(
        week=str(manifest["week"]),
        orders=int(manifest["orders"]),
        lines=int(manifest["lines"]),
        customers=_int(totals.get("customers")),
        repeat_customers=_int(totals.get("repeat_customers")),
        revenue=dict(sorted(revenue.items())),
        orders_by_currency=dict(orders_by_currency),
        daily={currency: dict(days) for currency, days in sorted(daily.items())},
        top_products=top_products(rows(reports["product_demand"])) if "product_demand" in reports else [],
    )


def top_products(demand: list[dict[str, str]], count: int = TOP_PRODUCTS) -> list[Product]:
    """Products by units sold over every channel and currency (ties: by SKU)."""
    units: dict[str, int] = defaultdict(int)
    orders: dict[str, int] = defaultdict(int)
    revenue: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    names: dict[str, tuple[str, str]] = {}
    for row in demand:
        sku = row["sku"]
        units[sku] += int(row["units"] or 0)
        orders[sku] += int(row["orders"] or 0)
        revenue[sku][row["currency"]] += Decimal(row["revenue"] or "0")
        names[sku] = max(names.get(sku, ("", "")), (row["product_name"], row["category"]))
    ranked = sorted(units, key=lambda sku: (-units[sku], sku))[:count]
    return [
        Product(
            sku, names[sku][0], names[sku][1], units[sku], orders[sku], dict(sorted(revenue[sku].items()))
        )
        for sku in ranked
    ]


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


# --- reading a published week --------------------------------------------------------------------------


def read_manifest(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """The manifest at ``key``, or None when that week was never (completely) exported."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    return json.loads(body)


def read_reports(
    s3: Any, bucket: str, manifest: Mapping[str, Any], names: Iterable[str] = SUMMARY_REPORTS
) -> dict[str, bytes]:
    """Reports of a published week (those it has), checked against the manifest's SHA-256."""
    found = {}
    for name in dict.fromkeys(names):
        entry = manifest.get("reports", {}).get(name)
        if entry is None:
            continue
        data = s3.get_object(Bucket=bucket, Key=entry["key"])["Body"].read()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise SummaryError(
                f"s3://{bucket}/{entry['key']} does not match the SHA-256 in its manifest: the week "
                "was re-exported while the notice was being built; re-run the week"
            )
        found[name] = data
    return found


def published_figures(s3: Any, bucket: str, manifest: Mapping[str, Any]) -> WeekFigures:
    return figures_from_reports(manifest, read_reports(s3, bucket, manifest))


def suspect_reason(manifest: Mapping[str, Any]) -> str | None:
    """The monitoring rule's warning (issue 16's ``suspect`` flag), if the manifest carries one."""
    flag = manifest.get("suspect")
    if not flag:
        return None
    reason = flag.get("reason") if isinstance(flag, Mapping) else None
    reason = reason or manifest.get("suspect_reason")
    return str(reason) if reason else "the monitoring rule marked this week's volume as abnormal"
