"""Data contracts in ``schemas/``: loading, field inventories and the evolution rule.

Evolution rule (see schemas/README.md): Schema Registry enforces BACKWARD on every subject (a new
schema must read data written with the previous one). On top of that the repo refuses to remove a
field, because the consumers here (the Flink statement, Tableflow's table, the exporter's reports)
read fields by name and BACKWARD alone would let a removal through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastavro

from salesflow.config import REPO_ROOT

SCHEMAS_DIR = REPO_ROOT / "schemas"
SALES_ORDER = "sales_order"
SALES_ORDER_LINE = "sales_order_line"

# Fields of the input contract that identify a person; none of them may reach the clean topic.
PII_FIELDS = ("customer_id", "email", "full_name", "phone", "street", "postal_code")


def schema_path(name: str) -> Path:
    return SCHEMAS_DIR / f"{name}.avsc"


@cache
def load_schema_json(name: str) -> dict[str, Any]:
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


@cache
def parsed_schema(name: str) -> dict[str, Any]:
    """The schema parsed by fastavro (for writers and readers)."""
    return fastavro.parse_schema(load_schema_json(name))


def field_names(schema: dict[str, Any]) -> set[str]:
    """Every field name in a schema, nested records included."""
    return {path.rsplit(".", 1)[-1] for path in field_paths(schema)}


@dataclass(frozen=True)
class EvolutionResult:
    compatible: bool
    reasons: tuple[str, ...]


def check_evolution(old: dict[str, Any], new: dict[str, Any]) -> EvolutionResult:
    """Is ``new`` an allowed successor of ``old``? BACKWARD (Avro resolution) and no removed field."""
    from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
    from avro.schema import parse

    reasons: list[str] = []
    result = ReaderWriterCompatibilityChecker().get_compatibility(
        reader=parse(json.dumps(new)), writer=parse(json.dumps(old))
    )
    if result.compatibility is not SchemaCompatibilityType.compatible:
        reasons += [f"not BACKWARD compatible: {message}" for message in sorted(result.messages)]
    removed = field_paths(old) - field_paths(new)
    reasons += [
        f"field {path!r} was removed; consumers read it by name (deprecate it instead)"
        for path in sorted(removed)
    ]
    return EvolutionResult(compatible=not reasons, reasons=tuple(reasons))


def field_paths(schema: Any, prefix: str = "") -> set[str]:
    """Dotted paths of every field (``customer.address.city``); array items add no segment."""
    paths: set[str] = set()
    if isinstance(schema, list):
        for branch in schema:
            paths |= field_paths(branch, prefix)
    elif isinstance(schema, dict):
        for field in schema.get("fields", []):
            path = f"{prefix}{field['name']}"
            paths.add(path)
            paths |= field_paths(field["type"], f"{path}.")
        if "items" in schema:
            paths |= field_paths(schema["items"], prefix)
        if isinstance(schema.get("type"), dict | list):
            paths |= field_paths(schema["type"], prefix)
    return paths


def type_shape(avro: Any) -> str:
    """An Avro type as a short string without names, docs or defaults: what a reader of the data
    depends on (``string``, ``long/timestamp-millis``, ``bytes/decimal(10,2)``, ``null|string``)."""
    if isinstance(avro, list):
        return "|".join(type_shape(branch) for branch in avro)
    if isinstance(avro, str):
        return avro
    kind, logical = avro["type"], avro.get("logicalType")
    if logical == "decimal":
        return f"{kind}/decimal({avro['precision']},{avro.get('scale', 0)})"
    if logical:
        return f"{kind}/{logical}"
    if kind == "record":
        return "record{" + ", ".join(f"{f['name']}: {type_shape(f['type'])}" for f in avro["fields"]) + "}"
    if kind == "array":
        return f"array<{type_shape(avro['items'])}>"
    if kind == "map":
        return f"map<{type_shape(avro['values'])}>"
    if kind == "enum":
        return "enum[" + ",".join(avro["symbols"]) + "]"
    if kind == "fixed":
        return f"fixed({avro['size']})"
    return type_shape(kind)


def shape_differences(contract: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """How a record schema's top-level fields differ from the contract's: names, order and types."""
    want = [(field["name"], type_shape(field["type"])) for field in contract["fields"]]
    got = [(field["name"], type_shape(field["type"])) for field in other.get("fields", [])]
    problems = []
    if [name for name, _ in want] != [name for name, _ in got]:
        problems.append(f"fields {[n for n, _ in got]}, contract {[n for n, _ in want]}")
    got_types = dict(got)
    problems += [
        f"field {name!r} is {got_types[name]}, contract {shape}"
        for name, shape in want
        if name in got_types and got_types[name] != shape
    ]
    return problems
