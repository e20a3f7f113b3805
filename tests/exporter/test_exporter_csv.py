"""CSV files: RFC 4180 with CRLF, quoted text, exact decimals and times, the same bytes however written."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from exporter import csv_files
from exporter.csv_files import write_csv


def test_format_of_every_column_kind(tmp_path) -> None:
    table = pa.table(
        {
            "order_time": pa.array(
                [datetime(2026, 11, 16, 9, 30, 12, 345000, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")
            ),
            "text": pa.array(['Rue de l\'Église, 3 "bis"', "東京"]).dictionary_encode(),
            "amount": pa.array([Decimal("12.30"), Decimal("-0.05")], pa.decimal128(12, 2)),
            "count": pa.array([7, None], pa.int64()),
        }
    )
    written = write_csv(table, tmp_path / "x.csv")
    body = (tmp_path / "x.csv").read_bytes()
    assert (
        body
        == (
            '"order_time","text","amount","count"\r\n'
            '"2026-11-16T09:30:12.345Z","Rue de l\'Église, 3 ""bis""",12.30,7\r\n'
            ',"東京",-0.05,\r\n'
        ).encode()
    )
    assert written.rows == 2 and written.bytes == len(body)
    assert written.sha256 == hashlib.sha256(body).hexdigest()
    assert list(csv.reader(io.StringIO(body.decode(), newline="")))[1][1] == 'Rue de l\'Église, 3 "bis"'


def test_threads_and_slices_do_not_change_the_bytes(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(csv_files, "SLICE_ROWS", 1000)
    rows = 25_500
    start = datetime(2026, 11, 9, tzinfo=UTC)
    table = pa.table(
        {
            "order_time": pa.array([start + timedelta(milliseconds=7 * i) for i in range(rows)],
                                   pa.timestamp("us", tz="UTC")),
            "order_id": [f"SO-{i:08d}" for i in range(rows)],
            "amount": pa.array([Decimal(i) / 100 for i in range(rows)], pa.decimal128(12, 2)),
        }
    )  # fmt: skip
    order = pc.sort_indices(table, sort_keys=[("order_id", "descending")])
    one = write_csv(table, tmp_path / "one.csv", order, threads=1)
    four = write_csv(table, tmp_path / "four.csv", order, threads=4)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "four.csv").read_bytes()
    assert one == four.__class__(tmp_path / "one.csv", four.rows, four.bytes, four.sha256)
    lines = (tmp_path / "four.csv").read_bytes().split(b"\r\n")
    assert lines[0] == b'"order_time","order_id","amount"' and lines[-1] == b""
    assert len(lines) == rows + 2 and lines.count(lines[0]) == 1, "one header, no row lost or repeated"
    assert lines[1].startswith(b'"2026-11-09T00:02:58.493Z","SO-00025499",254.99')


def test_an_empty_table_gives_a_header_only_file(tmp_path) -> None:
    empty_times = pa.array([], pa.timestamp("us", tz="UTC"))
    table = pa.table({"order_time": empty_times, "n": pa.array([], pa.int64())})
    written = write_csv(table, tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_bytes() == b'"order_time","n"\r\n'
    assert written.rows == 0


def test_a_byte_order_mark_is_a_prefix_and_nothing_else(tmp_path) -> None:
    table = pa.table({"city": pa.array(["Köln", "Kraków"]).dictionary_encode(), "n": pa.array([1, 2])})
    plain = write_csv(table, tmp_path / "plain.csv")
    excel = write_csv(table, tmp_path / "excel.csv", bom=True)
    body = (tmp_path / "excel.csv").read_bytes()
    assert body == csv_files.UTF8_BOM + (tmp_path / "plain.csv").read_bytes()
    assert body.decode("utf-8-sig").startswith('"city","n"\r\n"Köln",1')
    assert (excel.rows, excel.bytes) == (plain.rows, plain.bytes + 3)
    assert excel.sha256 == hashlib.sha256(body).hexdigest()
    assert write_csv(table, tmp_path / "again.csv", bom=True).sha256 == excel.sha256, "reproducible"
    empty = write_csv(table.slice(0, 0), tmp_path / "empty.csv", bom=True)
    assert (tmp_path / "empty.csv").read_bytes() == csv_files.UTF8_BOM + b'"city","n"\r\n'
    assert empty.bytes == 3 + len(b'"city","n"\r\n')
