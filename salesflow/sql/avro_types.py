"""Avro schemas as Flink SQL columns, the way Confluent Cloud maps a Schema Registry subject to a table.

Rules (Confluent "Data type mappings" for Avro): ``timestamp-millis`` -> ``TIMESTAMP_LTZ(3)``,
``timestamp-micros`` -> ``TIMESTAMP_LTZ(6)``, ``local-timestamp-millis`` -> ``TIMESTAMP(3)``,
``decimal(p, s)`` -> ``DECIMAL(p, s)``, ``enum`` -> ``STRING``, ``uuid`` -> ``STRING``, a record ->
``ROW<...>``, an array -> ``ARRAY<...>``. Every type is ``NOT NULL`` unless the Avro type is a union
with ``null``. Types are spelled as Flink's ``DESCRIBE`` prints them, so column lists compare as text.

The local harness builds the raw table from ``sales_order.avsc`` with this module, and the schema
contract test compares the clean table Flink registered against ``sales_order_line.avsc`` with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class AvroMappingError(ValueError):
    """An Avro type has no Flink mapping here; the message names the field."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Flink type without nullability, e.g. "DECIMAL(10, 2)"
    nullable: bool

    def ddl(self) -> str:
        return f"`{self.name}` {self.type}{'' if self.nullable else ' NOT NULL'}"


_PRIMITIVES = {
    "string": "STRING",
    "int": "INT",
    "long": "BIGINT",
    "boolean": "BOOLEAN",
    "float": "FLOAT",
    "double": "DOUBLE",
    "bytes": "BYTES",
}
_LOGICAL = {
    "timestamp-millis": "TIMESTAMP_LTZ(3)",
    "timestamp-micros": "TIMESTAMP_LTZ(6)",
    "local-timestamp-millis": "TIMESTAMP(3)",
    "local-timestamp-micros": "TIMESTAMP(6)",
    "date": "DATE",
    "time-millis": "TIME(3)",
    "uuid": "STRING",
}


def record_columns(schema: dict[str, Any]) -> list[Column]:
    """The top-level columns of an Avro record schema."""
    if schema.get("type") != "record":
        raise AvroMappingError(f"{schema.get('name', 'schema')}: expected an Avro record at the top level")
    return [_column(field, where=field["name"]) for field in schema["fields"]]


def flink_type(schema: Any, where: str = "value") -> tuple[str, bool]:
    """(Flink type, nullable) of an Avro type."""
    if isinstance(schema, list):
        branches = [branch for branch in schema if branch != "null"]
        if len(branches) != 1:
            raise AvroMappingError(f"{where}: only unions of null and one type map to a Flink column")
        return flink_type(branches[0], where)[0], "null" in schema
    if isinstance(schema, str):
        if schema not in _PRIMITIVES:
            raise AvroMappingError(f"{where}: Avro type {schema!r} has no Flink mapping here")
        return _PRIMITIVES[schema], False
    kind, logical = schema["type"], schema.get("logicalType")
    if logical == "decimal":
        return f"DECIMAL({schema['precision']}, {schema.get('scale', 0)})", False
    if logical in _LOGICAL:
        return _LOGICAL[logical], False
    if kind == "enum":
        return "STRING", False
    if kind == "fixed":
        return f"BINARY({schema['size']})", False
    if kind == "record":
        fields = ", ".join(_column(field, f"{where}.{field['name']}").ddl() for field in schema["fields"])
        return f"ROW<{fields}>", False
    if kind == "array":
        return f"ARRAY<{_nested(schema['items'], f'{where}[]')}>", False
    if kind == "map":
        return f"MAP<STRING NOT NULL, {_nested(schema['values'], f'{where}{{}}')}>", False
    return flink_type(kind, where)


def _column(field: dict[str, Any], where: str) -> Column:
    type_, nullable = flink_type(field["type"], where)
    return Column(field["name"], type_, nullable)


def _nested(schema: Any, where: str) -> str:
    type_, nullable = flink_type(schema, where)
    return type_ if nullable else f"{type_} NOT NULL"


def columns_ddl(columns: list[Column], indent: str = "    ") -> str:
    return (",\n" + indent).join(column.ddl() for column in columns)


def column_differences(expected: list[Column], actual: list[Column]) -> list[str]:
    """Human-readable differences between two column lists (name, order, type, nullability)."""
    problems = []
    expected_by_name = {column.name: column for column in expected}
    actual_by_name = {column.name: column for column in actual}
    for name in expected_by_name.keys() - actual_by_name.keys():
        problems.append(f"column {name!r} is missing")
    for name in actual_by_name.keys() - expected_by_name.keys():
        problems.append(f"column {name!r} is not in the contract")
    for name in expected_by_name.keys() & actual_by_name.keys():
        want, got = expected_by_name[name], actual_by_name[name]
        if (want.type, want.nullable) != (got.type, got.nullable):
            problems.append(f"column {name!r}: contract says {want.ddl()}, table has {got.ddl()}")
    if not problems and [c.name for c in expected] != [c.name for c in actual]:
        problems.append(
            f"column order differs: contract {[c.name for c in expected]}, table {[c.name for c in actual]}"
        )
    return sorted(problems)
