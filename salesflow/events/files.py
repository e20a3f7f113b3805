"""Event files on disk: JSON lines (the interchange format) or an Avro container of the same envelope.

Files are written to a temporary sibling and renamed into place, so a failed run never leaves a
partial file behind.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import fastavro

from salesflow.contracts import SALES_ORDER, load_schema_json
from salesflow.events.records import KafkaRecord, datum_to_json, json_to_datum, read_records

AVRO_MAGIC = b"Obj\x01"
_BATCH = 10_000


def envelope_schema() -> dict[str, Any]:
    """Avro schema of one Kafka record: key, timestamp (the record timestamp), value (sales_order.avsc)."""
    return {
        "type": "record",
        "name": "KafkaRecord",
        "namespace": "io.salesflow.interchange",
        "fields": [
            {"name": "key", "type": "string"},
            {"name": "timestamp", "type": "long", "doc": "Kafka record timestamp, epoch milliseconds."},
            {"name": "value", "type": load_schema_json(SALES_ORDER)},
        ],
    }


@contextmanager
def atomic_output(path: Path | None) -> Iterator[BinaryIO]:
    """Yield a binary handle; for a file, publish it only if the block completes."""
    if path is None or str(path) == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        umask = os.umask(0)
        os.umask(umask)
        Path(temp_name).chmod(0o666 & ~umask)
        Path(temp_name).replace(path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_events(
    records: Iterable[KafkaRecord],
    output: Path | None,
    output_format: str = "jsonl",
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write records as JSON lines or Avro; returns how many were written."""
    count = 0
    with atomic_output(output) as handle:
        if output_format == "jsonl":
            batch: list[bytes] = []
            for record in records:
                batch.append(record.to_json_line())
                if len(batch) == _BATCH:
                    handle.write(b"".join(batch))
                    count += len(batch)
                    batch.clear()
                    if on_progress:
                        on_progress(_BATCH)
            handle.write(b"".join(batch))
            count += len(batch)
            if on_progress:
                on_progress(len(batch))
        elif output_format == "avro":
            schema = envelope_schema()
            value_schema = schema["fields"][2]["type"]
            parsed = fastavro.parse_schema(schema)

            def datums() -> Iterator[dict[str, Any]]:
                nonlocal count
                for record in records:
                    count += 1
                    if on_progress and count % _BATCH == 0:
                        on_progress(_BATCH)
                    yield {
                        "key": record.key,
                        "timestamp": record.timestamp,
                        "value": json_to_datum(record.value, value_schema),
                    }

            fastavro.writer(handle, parsed, datums(), codec="deflate", sync_interval=1 << 20)
            if on_progress:
                on_progress(count % _BATCH)
        else:
            raise ValueError(f"unknown format {output_format!r}; use jsonl or avro")
    return count


def read_events(path: Path) -> Iterator[KafkaRecord]:
    """Read JSON lines or an Avro container (detected by its magic bytes)."""
    with path.open("rb") as probe:
        is_avro = probe.read(4) == AVRO_MAGIC
    if not is_avro:
        yield from read_records(path)
        return
    value_schema = envelope_schema()["fields"][2]["type"]
    with path.open("rb") as handle:
        for datum in fastavro.reader(handle):
            yield KafkaRecord(datum["key"], datum["timestamp"], datum_to_json(datum["value"], value_schema))
