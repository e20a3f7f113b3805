"""A local Tableflow twin: a PyIceberg SQL catalog (SQLite) with a local warehouse, holding the clean table.

The table is created from the clean-topic contract (schemas/sales_order_line.avsc) the way Tableflow
materialises it: Avro timestamp-millis -> timestamptz, decimal(p, s) -> decimal(p, s). It is
partitioned by day(order_time) so a weekly read prunes whole days. Lines are appended in
commit-sized batches (one snapshot per batch) like a streaming writer's commits.

Lines are dicts in the JSON-lines form of the contract: ISO-8601 UTC strings for timestamps and
strings for decimals (e.g. ``{"order_time": "2026-11-16T09:30:12.345Z", "unit_price": "19.99", ...}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import DayTransform
from pyiceberg.types import (
    DecimalType,
    IcebergType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from salesflow.contracts import SALES_ORDER_LINE, load_schema_json
from salesflow.ops.export import LOCAL_NAMESPACE

CATALOG_NAME = "salesflow"  # the name the exporter opens a SQL catalog with
DEFAULT_NAMESPACE = LOCAL_NAMESPACE  # the exporter addresses a local SQL catalog's table under it
DEFAULT_TABLE = "sales_order_lines_clean"
DEFAULT_COMMIT_ROWS = 50_000


@dataclass(frozen=True)
class Lakehouse:
    """Where the local catalog lives: ``<root>/catalog.db`` and ``<root>/warehouse``."""

    root: Path

    @property
    def catalog_uri(self) -> str:
        return f"sqlite:///{(self.root / 'catalog.db').resolve()}"

    @property
    def warehouse(self) -> str:
        return (self.root / "warehouse").resolve().as_uri()

    def catalog(self, name: str = CATALOG_NAME) -> SqlCatalog:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "warehouse").mkdir(exist_ok=True)
        return SqlCatalog(name, uri=self.catalog_uri, warehouse=self.warehouse)


def _iceberg_type(avro_type: Any, field: str) -> IcebergType:
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical == "timestamp-millis":
            return TimestamptzType()
        if logical == "decimal":
            return DecimalType(avro_type["precision"], avro_type.get("scale", 0))
        avro_type = avro_type["type"]
    simple = {"string": StringType(), "int": IntegerType(), "long": LongType()}
    if avro_type not in simple:
        raise ValueError(f"{SALES_ORDER_LINE}: field {field!r} has type {avro_type!r}, not mapped to Iceberg")
    return simple[avro_type]


def clean_lines_schema(extra_fields: Sequence[NestedField] = ()) -> Schema:
    """The Iceberg schema of the clean table, from the Avro contract (plus optional extra columns)."""
    fields = []
    for index, field in enumerate(load_schema_json(SALES_ORDER_LINE)["fields"], start=1):
        kind = field["type"]
        nullable = isinstance(kind, list)
        if nullable:
            kind = next(branch for branch in kind if branch != "null")
        fields.append(
            NestedField(index, field["name"], _iceberg_type(kind, field["name"]), required=not nullable)
        )
    next_id = len(fields) + 1
    for offset, extra in enumerate(extra_fields):
        fields.append(NestedField(next_id + offset, extra.name, extra.field_type, required=extra.required))
    return Schema(*fields)


def create_clean_table(
    catalog: SqlCatalog,
    namespace: str = DEFAULT_NAMESPACE,
    name: str = DEFAULT_TABLE,
    extra_fields: Sequence[NestedField] = (),
    replace: bool = False,
) -> Table:
    """Create the clean table partitioned by day(order_time); ``replace`` drops an existing one first."""
    schema = clean_lines_schema(extra_fields)
    time_field = schema.find_field("order_time")
    spec = PartitionSpec(
        PartitionField(
            source_id=time_field.field_id, field_id=1000, transform=DayTransform(), name="order_day"
        )
    )
    catalog.create_namespace_if_not_exists(namespace)
    if replace and catalog.table_exists((namespace, name)):
        catalog.drop_table((namespace, name))
    return catalog.create_table((namespace, name), schema=schema, partition_spec=spec)


def lines_to_arrow(lines: Iterable[dict[str, Any]], schema: Schema) -> pa.Table:
    """Convert JSON-form lines to an Arrow table of the Iceberg schema (fails naming the bad field)."""
    arrow_schema = schema_to_pyarrow(schema)
    rows = list(lines)
    columns = {}
    for field in schema.fields:
        values = [row.get(field.name) for row in rows]
        if isinstance(field.field_type, TimestamptzType):
            values = [None if value is None else _parse_utc(value, field.name) for value in values]
        elif isinstance(field.field_type, DecimalType):
            values = [None if value is None else Decimal(value) for value in values]
        columns[field.name] = values
    return pa.Table.from_pydict(columns, schema=arrow_schema)


def _parse_utc(text: str, field: str) -> datetime:
    if not isinstance(text, str) or not text.endswith("Z"):
        raise ValueError(f"{field}: expected an ISO-8601 UTC timestamp ending in 'Z', got {text!r}")
    return datetime.fromisoformat(text[:-1] + "+00:00")


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def append_clean_lines(
    table: Table, lines: Iterable[dict[str, Any]], commit_rows: int = DEFAULT_COMMIT_ROWS
) -> list[int]:
    """Append lines in commits of ``commit_rows`` (in the given order); returns the new snapshot ids."""
    snapshots = []
    for batch in _batches(lines, commit_rows):
        table.append(lines_to_arrow(batch, table.schema()))
        snapshots.append(table.current_snapshot().snapshot_id)
    return snapshots
