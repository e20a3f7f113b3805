"""Exporter test kit: a pure-Python reference of the Flink statement, independent expected reports,
and one test's S3/SNS target. Plain helpers (fixtures live in conftest.py)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from clean_lines_model import expected_clean_lines

from exporter.export import ExportResult, aws_clients, run_export
from exporter.settings import settings_from_env
from exporter.weeks import IsoWeek
from salesflow.events.records import KafkaRecord
from salesflow.twin.lakehouse import (
    DEFAULT_NAMESPACE,
    DEFAULT_TABLE,
    append_clean_lines,
    create_clean_table,
)
from salesflow.twin.local_aws import LocalAws, SnsInbox
from salesflow.twin.rest_catalog import S3Lakehouse

ALL_REPORTS = "order_lines,product_demand,customer_behavior,week_totals,daily_revenue"
UTF8_BOM = b"\xef\xbb\xbf"


PEPPER = "test-pepper-not-a-secret"


def clean_lines(records: Iterable[KafkaRecord], pepper: str = PEPPER) -> list[dict[str, Any]]:
    return expected_clean_lines(records, pepper)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def week_lines(lines: list[dict[str, Any]], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Lines in [start, end), duplicates of (order_id, line_number) dropped keeping the earliest."""
    kept: dict[tuple[str, int], dict[str, Any]] = {}
    for line in lines:
        if not start <= _instant(line["order_time"]) < end:
            continue
        key = (line["order_id"], line["line_number"])
        if key not in kept or _instant(line["order_time"]) < _instant(kept[key]["order_time"]):
            kept[key] = line
    return sorted(kept.values(), key=lambda item: (item["order_time"], item["order_id"], item["line_number"]))


ORDER_LINE_COLUMNS = [
    "order_time", "order_id", "line_number", "channel", "customer_key", "customer_city", "customer_country",
    "sku", "product_name", "category", "quantity", "unit_price", "line_amount", "currency", "payment_method",
]  # fmt: skip


def order_lines(lines: list[dict[str, Any]]) -> list[list[str]]:
    return [[str(line[column]) for column in ORDER_LINE_COLUMNS] for line in lines]


def product_demand(lines: list[dict[str, Any]]) -> list[list[str]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        groups[(line["channel"], line["category"], line["sku"], line["currency"])].append(line)
    rows = []
    for key in sorted(groups):
        members = groups[key]
        rows.append(
            [
                *key,
                max(line["product_name"] for line in members),
                str(len({line["order_id"] for line in members})),
                str(sum(line["quantity"] for line in members)),
                str(sum(Decimal(line["line_amount"]) for line in members)),
                str(len({line["customer_key"] for line in members})),
            ]
        )
    return rows


def customer_behavior(lines: list[dict[str, Any]]) -> list[list[str]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        groups[(line["channel"], line["currency"])].append(line)
    rows = []
    cent = Decimal("0.01")
    for key in sorted(groups):
        members = groups[key]
        orders = {line["order_id"] for line in members}
        per_customer: dict[str, set[str]] = defaultdict(set)
        for line in members:
            per_customer[line["customer_key"]].add(line["order_id"])
        revenue = sum(Decimal(line["line_amount"]) for line in members)
        rows.append(
            [
                *key,
                str(len(orders)),
                str(len(per_customer)),
                str(sum(1 for placed in per_customer.values() if len(placed) > 1)),
                str(len(members)),
                str(sum(line["quantity"] for line in members)),
                str(revenue),
                str((revenue / len(orders)).quantize(cent, rounding=ROUND_HALF_EVEN)),
                str((Decimal(len(members)) / len(orders)).quantize(cent, rounding=ROUND_HALF_EVEN)),
            ]
        )
    return rows


def week_totals(lines: list[dict[str, Any]]) -> list[list[str]]:
    per_customer: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        per_customer[line["customer_key"]].add(line["order_id"])
    units = sum(line["quantity"] for line in lines)
    return [
        [
            str(len({line["order_id"] for line in lines})),
            str(len(per_customer)),
            str(sum(1 for placed in per_customer.values() if len(placed) > 1)),
            str(len(lines)),
            str(units) if lines else "",
        ]
    ]


def daily_revenue(lines: list[dict[str, Any]], zone: Any) -> list[list[str]]:
    """Per local day (``zone``), channel and currency: orders, lines, revenue."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        day = _instant(line["order_time"]).astimezone(zone).date().isoformat()
        groups[(day, line["channel"], line["currency"])].append(line)
    return [
        [
            *key,
            str(len({line["order_id"] for line in groups[key]})),
            str(len(groups[key])),
            str(sum(Decimal(line["line_amount"]) for line in groups[key])),
        ]
        for key in sorted(groups)
    ]


def csv_rows(data: bytes) -> list[list[str]]:
    """Rows of a report CSV (its byte-order mark, if any, is not part of the first cell)."""
    import csv
    import io

    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def export_environment(aws: LocalAws, rest_twin: Any, catalog: str | None) -> dict[str, str]:
    """The environment a test's export runs in: the local AWS twin's endpoints and credentials, trust in
    the REST catalog twin's certificate (catalog "rest"), the Lambda's service name."""
    twin = rest_twin.environ() if catalog == "rest" else {}
    return aws.environ() | twin | {"POWERTOOLS_SERVICE_NAME": "salesflow-exporter-test"}


class Target:
    """One test's bucket, SNS topic and inbox, and the environment the Lambda would get: the SQL catalog for
    a Lakehouse, the REST catalog twin (OAuth2, vended credentials) for an S3Lakehouse."""

    def __init__(self, aws: LocalAws, lakehouse: Any, rest_twin: Any = None) -> None:
        suffix = uuid.uuid4().hex[:10]
        self.aws = aws
        self.lakehouse = lakehouse
        self.catalog = "rest" if isinstance(lakehouse, S3Lakehouse) else "sql"
        self.bucket = f"exports-{suffix}"
        aws.create_bucket(self.bucket)
        self.topic_arn = aws.create_topic(f"exports-{suffix}")
        self.inbox: SnsInbox = aws.subscribe_inbox(self.topic_arn)
        self.env = {
            "SALESFLOW_ENV": "dev",
            "CATALOG_TYPE": "sql",
            "CATALOG_URI": lakehouse.catalog_uri,
            "CATALOG_WAREHOUSE": lakehouse.warehouse,
            "TABLE_NAMESPACE": DEFAULT_NAMESPACE,
            "TABLE_NAME": DEFAULT_TABLE,
            "EXPORT_BUCKET": self.bucket,
            "EXPORT_PREFIX": "weekly",
            "SNS_TOPIC_ARN": self.topic_arn,
            "WEEK_TIME_ZONE": "UTC",
            "REPORTS": ALL_REPORTS,
            "MAX_WORKERS": "2",
            "S3_ENDPOINT_URL": aws.endpoint_url,
            "SNS_ENDPOINT_URL": aws.endpoint_url,
        }
        if self.catalog == "rest":
            del self.env["CATALOG_WAREHOUSE"]
            self.env |= {
                "CATALOG_TYPE": "rest",
                "CATALOG_URI": rest_twin.register(lakehouse),
                "CATALOG_CREDENTIAL_SECRET_ID": rest_twin.store_credential("salesflow/test/tableflow-key"),
                "CATALOG_VENDED_CREDENTIALS": "true",
            }

    def export(self, week: str, clients: Any = None, **overrides: Any) -> ExportResult:
        settings = settings_from_env({**self.env, **overrides.pop("env", {})})
        return run_export(settings, IsoWeek.parse(week), clients=clients, **overrides)

    def clients(self, **env: str) -> Any:
        return aws_clients(settings_from_env({**self.env, **env}))

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        return self.aws.objects(self.bucket, prefix)


def new_table(lakehouse: Any, lines: list[dict[str, Any]], commit_rows: int = 1000, **kwargs: Any):
    table = create_clean_table(lakehouse.catalog(), **kwargs)
    if lines:
        append_clean_lines(table, lines, commit_rows=commit_rows)
    return table


def make_line(order_id: str, order_time: str, line_number: int = 1, **overrides: Any) -> dict[str, Any]:
    line = {
        "order_id": order_id,
        "line_number": line_number,
        "channel": "WEB",
        "order_time": order_time,
        "customer_key": "0" * 63 + "1",
        "customer_city": "Berlin",
        "customer_country": "DE",
        "sku": "BOO-00001",
        "product_name": "Classic Novel",
        "category": "Books",
        "quantity": 2,
        "unit_price": "10.05",
        "line_amount": "20.10",
        "currency": "EUR",
        "payment_method": "CARD",
    }
    line.update(overrides)
    return line


class FakeContext:
    function_name = "salesflow-dev-exporter"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:salesflow-dev-exporter"
    aws_request_id = "7f1b2c3d-0000-4000-8000-000000000001"
