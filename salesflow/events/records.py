"""The repo's interchange format for Kafka records: JSON lines.

One record per line: ``{"key": "<order_id>", "timestamp": <epoch ms>, "value": {...}}``. The value
follows an Avro contract with timestamps as ISO-8601 UTC strings (``2026-11-16T09:30:12.345Z``) and
decimals as strings. ``json_to_datum``/``datum_to_json`` convert a value to and from the Python
objects fastavro and confluent-kafka's AvroSerializer expect, driven by the schema itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

import orjson


class RecordError(ValueError):
    """A record does not follow the interchange format; the message names the file, line and field."""


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    key: str
    timestamp: int
    value: dict[str, Any]

    def to_json_line(self) -> bytes:
        return orjson.dumps({"key": self.key, "timestamp": self.timestamp, "value": self.value}) + b"\n"


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``: the only timestamp spelling in JSON lines."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_epoch_ms(epoch_ms: int) -> str:
    return format_timestamp(datetime.fromtimestamp(epoch_ms / 1000, tz=UTC))


def parse_timestamp(text: str) -> datetime:
    if not isinstance(text, str) or not text.endswith("Z"):
        raise ValueError(f"expected an ISO-8601 UTC timestamp ending in 'Z', got {text!r}")
    return datetime.fromisoformat(text[:-1] + "+00:00")


def read_records(path: Path) -> Iterator[KafkaRecord]:
    """Read JSON lines, failing with the file and line number on the first malformed record."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
                record = KafkaRecord(key=obj["key"], timestamp=obj["timestamp"], value=obj["value"])
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                raise RecordError(
                    f"{path}:{number}: not a Kafka record line "
                    f'{{"key": ..., "timestamp": <epoch ms>, "value": {{...}}}} ({exc})'
                ) from None
            if (
                not isinstance(record.key, str)
                or not isinstance(record.timestamp, int)
                or isinstance(record.timestamp, bool)
            ):
                raise RecordError(
                    f"{path}:{number}: 'key' must be a string and 'timestamp' an integer (epoch ms)"
                )
            if not isinstance(record.value, dict):
                raise RecordError(f"{path}:{number}: 'value' must be a JSON object")
            yield record


def write_records(records: Iterable[KafkaRecord], handle: BinaryIO) -> int:
    count = 0
    for record in records:
        handle.write(record.to_json_line())
        count += 1
    return count


def json_to_datum(value: Any, schema: Any, where: str = "value") -> Any:
    """Convert a JSON-form value to the Python objects Avro writers expect (datetime, Decimal)."""
    try:
        return _to_datum(value, schema, where)
    except (ValueError, InvalidOperation, TypeError) as exc:
        raise RecordError(str(exc)) from None


def datum_to_json(datum: Any, schema: Any) -> Any:
    """Convert an Avro datum (as fastavro reads it) to its JSON-lines form."""
    if isinstance(schema, list):
        if datum is None:
            return None
        return datum_to_json(datum, next(branch for branch in schema if branch != "null"))
    if isinstance(schema, dict):
        kind, logical = schema["type"], schema.get("logicalType")
        if logical in {"timestamp-millis", "timestamp-micros"}:
            return format_timestamp(datum)
        if logical == "decimal":
            return format(datum, "f")
        if logical == "uuid":
            return str(datum)
        if kind == "record":
            return {
                field["name"]: datum_to_json(datum[field["name"]], field["type"])
                for field in schema["fields"]
            }
        if kind == "array":
            return [datum_to_json(item, schema["items"]) for item in datum]
        if kind == "map":
            return {key: datum_to_json(item, schema["values"]) for key, item in datum.items()}
        if kind == "enum":
            return datum
        return datum_to_json(datum, kind)
    return datum


def _to_datum(value: Any, schema: Any, where: str) -> Any:
    if isinstance(schema, list):
        if value is None:
            if "null" not in schema:
                raise ValueError(f"{where}: null is not allowed")
            return None
        branches = [branch for branch in schema if branch != "null"]
        return _to_datum(value, branches[0], where)
    if isinstance(schema, str):
        return _primitive(value, schema, where)
    kind, logical = schema["type"], schema.get("logicalType")
    if logical in {"timestamp-millis", "timestamp-micros"}:
        return parse_timestamp(value)
    if logical == "decimal":
        if not isinstance(value, str):
            raise ValueError(f"{where}: decimals are strings in JSON lines, got {value!r}")
        number = Decimal(value)
        if -number.as_tuple().exponent > schema.get("scale", 0):
            raise ValueError(f"{where}: {value!r} has more than {schema.get('scale', 0)} decimal places")
        return number
    if logical == "uuid":
        return str(uuid.UUID(value))
    if kind == "record":
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
        out = {}
        for field in schema["fields"]:
            name = field["name"]
            if name not in value and "default" not in field:
                raise ValueError(f"{where}.{name}: missing required field")
            out[name] = _to_datum(value.get(name, field.get("default")), field["type"], f"{where}.{name}")
        return out
    if kind == "array":
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected an array, got {type(value).__name__}")
        return [_to_datum(item, schema["items"], f"{where}[{index}]") for index, item in enumerate(value)]
    if kind == "enum":
        if value not in schema["symbols"]:
            raise ValueError(f"{where}: {value!r} is not one of {', '.join(schema['symbols'])}")
        return value
    return _primitive(value, kind, where)


_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "int": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
}


def _primitive(value: Any, kind: str, where: str) -> Any:
    expected = _PRIMITIVES.get(kind)
    if expected is None:
        return value
    if not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool)):
        raise ValueError(f"{where}: expected {kind}, got {value!r}")
    return value
