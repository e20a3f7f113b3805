"""What goes into and comes out of the local Flink harness (no PyFlink needed here).

In: Kafka records in the interchange format (``salesflow.events.records``), validated against
``sales_order.avsc`` and flattened to one JSON object per record: the value's fields plus ``$rowtime``
(the record timestamp, which Confluent exposes as ``$rowtime``). Flink's filesystem source reads them.

Out: the JSON rows Flink's filesystem sink wrote, as clean lines: field names and order as the table
declares them, timestamps as ISO-8601 UTC strings ending in ``Z``, decimals as strings with the
column's scale. The harness also checks them against ``sales_order_line.avsc``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from salesflow.contracts import SALES_ORDER, load_schema_json
from salesflow.events.records import (
    KafkaRecord,
    RecordError,
    datum_to_json,
    format_epoch_ms,
    format_timestamp,
    json_to_datum,
    parse_timestamp,
)
from salesflow.sql.avro_types import Column

ROWTIME = "$rowtime"
_WORD = re.compile(r"\w+")
_DECIMAL = re.compile(r"DECIMAL\((\d+), (\d+)\)")


@dataclass
class InputSummary:
    records: int = 0  # records read from the input
    before_start: int = 0  # skipped: Kafka timestamp before the statement's startup timestamp
    order_ids: set[str] | None = None  # distinct order_id of the records fed to Flink
    itemless: set[str] | None = None  # orders fed only with emissions without items (no lines)

    @property
    def fed(self) -> int:
        return self.records - self.before_start


def flatten_records(
    records: Iterable[KafkaRecord],
    summary: InputSummary,
    start_from_ms: int | None = None,
    source: str = "input",
) -> Iterator[bytes]:
    """Validate each record's value and yield the JSON line the local raw table reads."""
    value_schema = load_schema_json(SALES_ORDER)
    summary.order_ids = set() if summary.order_ids is None else summary.order_ids
    summary.itemless = set() if summary.itemless is None else summary.itemless
    with_items: set[str] = set()
    for number, record in enumerate(records, start=1):
        summary.records += 1
        try:
            datum = json_to_datum(record.value, value_schema, where="value")
        except RecordError as exc:
            raise RecordError(
                f"{source}: record {number} (key {record.key!r}): {exc}; the value must follow "
                "schemas/sales_order.avsc"
            ) from None
        if start_from_ms is not None and record.timestamp < start_from_ms:
            summary.before_start += 1
            continue
        row = datum_to_json(datum, value_schema)  # normalised: ISO timestamps with ms, plain decimals
        row[ROWTIME] = format_epoch_ms(record.timestamp)
        summary.order_ids.add(row["order_id"])
        if row["items"]:
            with_items.add(row["order_id"])
        yield orjson.dumps(row) + b"\n"
    summary.itemless |= summary.order_ids - with_items


def read_sink_rows(directory: Path, columns: list[Column]) -> list[dict[str, Any]]:
    """Rows Flink's JSON filesystem sink wrote under ``directory``, in the order it wrote them."""
    rows = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith(".")):
        with path.open("rb") as handle:
            for line in handle:
                if line.strip():
                    rows.append(sink_row(json.loads(line, parse_float=Decimal), columns))
    return rows


def sink_row(raw: dict[str, Any], columns: list[Column]) -> dict[str, Any]:
    return {column.name: _output_value(raw.get(column.name), column.type) for column in columns}


def _output_value(value: Any, flink_type: str) -> Any:
    if value is None:
        return None
    decimal = _DECIMAL.fullmatch(flink_type)
    if decimal:
        scale = int(decimal.group(2))
        return format(Decimal(str(value)).quantize(Decimal(1).scaleb(-scale)), "f")
    if flink_type.startswith("TIMESTAMP_LTZ"):
        return format_timestamp(parse_timestamp(value))
    return value


def contains_token(text: str, value: str) -> bool:
    """``value`` occurs in ``text`` and is not part of a longer word or number (e.g. inside a hash)."""
    start = text.find(value)
    while start != -1:
        end = start + len(value)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (_is_word(before) and _is_word(value[0])) and not (_is_word(after) and _is_word(value[-1])):
            return True
        start = text.find(value, start + 1)
    return False


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def pii_leaks(output_text: str, pii: dict[str, set[str]]) -> list[str]:
    """Every PII value (by kind) that occurs in ``output_text`` as a whole token.

    Whole tokens, because a short value such as a postal code occurs by chance inside a 64-digit hash.
    A value is searched for only when each of its words is a word of the output (a fast pre-filter).
    """
    words = set(_WORD.findall(output_text))
    leaks = []
    for kind, values in sorted(pii.items()):
        for value in sorted(v for v in values if v):
            value_words = _WORD.findall(value)
            if all(word in words for word in value_words) and contains_token(output_text, value):
                leaks.append(f"{kind}: {value!r}")
    return leaks
