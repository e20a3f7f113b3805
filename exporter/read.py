"""Read one week of the clean table: a row filter on order_time, only the needed columns, bounded workers.

PyIceberg's ``to_arrow_batch_reader`` hands every planned file to its thread pool at once
(``Executor.map``), so a consumer slower than the readers lets decoded files pile up. Here the same
``ArrowScan`` reads one file per task with at most ``max_workers`` files in flight, in plan order.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.conversions import from_bytes
from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression, GreaterThanOrEqual, LessThan
from pyiceberg.io.pyarrow import ArrowScan, schema_to_pyarrow
from pyiceberg.table import FileScanTask, Table

TIME_COLUMN = "order_time"


class _DictionaryNotice(logging.Filter):
    """PyIceberg warns once per file that a dictionary-encoded read has no Iceberg type; that is intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "does not have a dictionary type" not in record.getMessage()


logging.getLogger("pyiceberg.io.pyarrow").addFilter(_DictionaryNotice())


@dataclass(frozen=True)
class WeekRead:
    rows: pa.Table
    snapshot_id: int | None
    files_scanned: int
    files_in_table: int | None = None


def iso_utc(moment: datetime) -> str:
    """The ISO-8601 literal PyIceberg binds to a timestamptz column."""
    return moment.isoformat(timespec="microseconds")


def read_week(
    table: Table,
    start: datetime,
    end: datetime,
    columns: Sequence[str],
    max_workers: int,
    dictionary_columns: Sequence[str] = (),
) -> WeekRead:
    """Rows with ``start <= order_time < end`` (UTC instants), projected to ``columns``, all at once
    (``read_slices`` reads them a bounded slice at a time)."""
    plan = plan_week(table, start, end, columns, dictionary_columns)
    rows = pa.concat_tables(rows for rows, _ in read_slices(plan, max_workers, plan.rows + 1))
    return WeekRead(rows, plan.snapshot_id, len(plan.files))


def _contiguous(batches: list[pa.RecordBatch], pool: Executor) -> pa.Table:
    """The batches (the list is emptied) as a table of one chunk per column.

    Concatenating dictionary chunks unifies their dictionaries (one per column for the week, so kernels
    can group by the codes), which is cheaper than ``unify_dictionaries``; later sorts, takes and
    group-bys on single-chunk columns skip the per-call chunk handling (a ``take`` of a slice from a
    28-chunk column costs as much as one of the whole column). Columns are concatenated on the pool
    (Arrow releases the GIL) and each column's chunks are dropped once it is done, so only the columns
    in progress are held twice."""
    schema = batches[0].schema
    pending = [[batch.column(index) for batch in batches] for index in range(len(schema))]
    batches.clear()  # from here on, each column's chunks are referenced only by ``pending``

    def concatenate(index: int) -> pa.Array:
        chunks, pending[index] = pending[index], []
        column = pa.concat_arrays(chunks)
        return _used_entries(column) if pa.types.is_dictionary(column.type) else column

    return pa.Table.from_arrays(list(pool.map(concatenate, range(len(schema)))), schema=schema)


def _used_entries(column: pa.DictionaryArray) -> pa.DictionaryArray:
    """The column with only the dictionary entries its rows use (a file's dictionary also holds the values
    of rows the row filter dropped or a later slice reads), in linear time: no hashing."""
    size = len(column.dictionary)
    if size == 0:
        return column
    seen = pc.inverse_permutation(column.indices, max_index=size - 1, output_type=pa.int32())
    used = pc.is_valid(seen)
    if seen.null_count == 0:
        return column
    position = pc.subtract(pc.cumulative_sum(used.cast(pa.int32())), 1)  # old entry -> new entry
    indices = position.take(column.indices).cast(column.type.index_type)
    return pa.DictionaryArray.from_arrays(indices, column.dictionary.filter(used))


def _with_dictionaries(schema: pa.Schema, columns: Sequence[str]) -> pa.Schema:
    wanted = set(columns)
    return pa.schema(
        [
            field.with_type(pa.dictionary(pa.int32(), field.type)) if field.name in wanted else field
            for field in schema
        ]
    )


def _bounded(
    pool: Executor,
    read: Callable[[FileScanTask], list[pa.RecordBatch]],
    tasks: list[FileScanTask],
    max_workers: int,
) -> Iterator[pa.RecordBatch]:
    """``read`` of every task on the pool, at most ``max_workers`` in flight, batches in plan order."""
    pending: deque[Future[list[pa.RecordBatch]]] = deque()
    remaining = iter(tasks)
    for task in remaining:
        pending.append(pool.submit(read, task))
        if len(pending) >= max_workers:
            break
    while pending:
        batches = pending.popleft().result()
        next_task = next(remaining, None)
        if next_task is not None:
            pending.append(pool.submit(read, next_task))
        yield from batches


# --- the week in time slices (bounded memory) -------------------------------------------------------------

# Rows per slice: a slice is read, deduplicated, sorted and aggregated at once, so it bounds the memory of
# an export whatever the week's size. A data file spanning several slices is read once and its rows of
# later slices wait in memory, if it holds at most CARRY_SLICES slices' rows; a larger file is read once
# per slice it spans (each read keeps only that slice's rows), which costs read time but never memory.
SLICE_ROWS = 1 << 18
CARRY_SLICES = 4


@dataclass(frozen=True)
class PlannedFile:
    task: FileScanTask
    low: int  # order_time bounds of the file's rows inside the window, microseconds since the epoch
    high: int  # inclusive
    rows: int
    inside_window: bool  # the statistics put every row of the file inside the window


@dataclass(frozen=True)
class WeekPlan:
    """The week's data files with their order_time ranges (from the manifests' column statistics)."""

    snapshot_id: int | None
    files: list[PlannedFile]
    start: int  # the window [start, end) in microseconds
    end: int
    empty: pa.Table  # the projected schema as an empty table (dictionary columns included)
    scan: Callable[[BooleanExpression], ArrowScan]

    @property
    def rows(self) -> int:
        """Upper bound of the week's rows (files straddling the window bounds count whole)."""
        return sum(planned.rows for planned in self.files)


def _micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def plan_week(
    table: Table,
    start: datetime,
    end: datetime,
    columns: Sequence[str],
    dictionary_columns: Sequence[str] = (),
) -> WeekPlan:
    """Plan the week's files once; a file without order_time statistics is taken to span the window."""
    row_filter = And(
        GreaterThanOrEqual(TIME_COLUMN, iso_utc(start)),
        LessThan(TIME_COLUMN, iso_utc(end)),
    )
    scan = table.scan(row_filter=row_filter, selected_fields=tuple(columns))
    snapshot = scan.snapshot()
    projected = scan.projection()
    empty = schema_to_pyarrow(projected).empty_table()
    if dictionary_columns:
        empty = empty.cast(_with_dictionaries(empty.schema, dictionary_columns))
    low_end, high_end = _micros(start), _micros(end) - 1
    time_field = scan.table_metadata.schema().find_field(TIME_COLUMN)
    files = []
    for task in scan.plan_files() if snapshot is not None else []:
        lower = task.file.lower_bounds or {}
        upper = task.file.upper_bounds or {}
        low, high, inside = low_end, high_end, False
        if time_field.field_id in lower and time_field.field_id in upper:
            first = from_bytes(time_field.field_type, lower[time_field.field_id])
            last = from_bytes(time_field.field_type, upper[time_field.field_id])
            low, high, inside = max(low, first), min(high, last), low_end <= first and last <= high_end
        files.append(PlannedFile(task, low, max(low, high), task.file.record_count, inside))
    files.sort(key=lambda planned: (planned.low, planned.high, planned.task.file.file_path))

    def arrow_scan(expression: BooleanExpression) -> ArrowScan:
        return ArrowScan(
            scan.table_metadata,
            scan.io,
            projected,
            expression,
            scan.case_sensitive,
            dictionary_columns=tuple(dictionary_columns),
        )

    return WeekPlan(
        snapshot.snapshot_id if snapshot is not None else None,
        files,
        low_end,
        high_end + 1,
        empty,
        arrow_scan,
    )


def slice_bounds(plan: WeekPlan, slice_rows: int = SLICE_ROWS) -> list[tuple[int, int]]:
    """Cut the window into time ranges [a, b) of about ``slice_rows`` rows each.

    Each file's rows are taken as spread evenly over its order_time range; cuts fall on file bounds when
    they can (a file inside one slice is read once), and a range denser than ``slice_rows`` is cut evenly.
    """
    if not plan.files:
        return [(plan.start, plan.end)]
    points = sorted({plan.start, plan.end} | {f.low for f in plan.files} | {f.high + 1 for f in plan.files})
    points = [point for point in points if plan.start <= point <= plan.end]
    cuts, carried = [plan.start], 0.0
    for begin, finish in itertools.pairwise(points):
        rows = sum(
            f.rows * (min(finish, f.high + 1) - max(begin, f.low)) / (f.high + 1 - f.low)
            for f in plan.files
            if f.low < finish and f.high + 1 > begin
        )
        if carried and carried + rows > slice_rows:
            cuts.append(begin)
            carried = 0.0
        pieces = max(1, math.ceil(rows / slice_rows))
        if pieces > 1:  # a dense range: even cuts inside it
            step = (finish - begin) / pieces
            cuts.extend(int(begin + step * index) for index in range(1, pieces))
            carried = rows / pieces
        else:
            carried += rows
    cuts.append(plan.end)
    return [(low, high) for low, high in itertools.pairwise(sorted(set(cuts))) if high > low]


def read_slices(
    plan: WeekPlan, max_workers: int, slice_rows: int = SLICE_ROWS
) -> Iterator[tuple[pa.Table, int]]:
    """The window's rows as (table, files read) per time slice, in order_time order; slices never share
    an order_time, so rows that share one (an order's lines, a line's duplicates) meet in one slice.

    A file that spans several slices is read once, at the first, when it holds at most ``CARRY_SLICES``
    slices' rows: its rows of later slices wait in memory (bounded by the file) until their slice. A
    larger one is read once per slice it spans, keeping that slice's rows."""
    bounds = slice_bounds(plan, slice_rows)
    time_type = plan.empty.schema.field(TIME_COLUMN).type
    carried: dict[str, list[pa.RecordBatch]] = {}  # a file's rows of later slices
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="iceberg-read") as pool:
        for low, high in bounds:
            files = [f for f in plan.files if f.low < high and f.high >= low]
            inside, cut, onward = (
                plan.scan(AlwaysTrue()),
                plan.scan(_window(low, high, time_type)),
                plan.scan(_window(low, plan.end, time_type)),
            )
            limit = pa.scalar(_moment(high), time_type)
            reads = [0]

            def read(
                planned: PlannedFile,
                low: int = low,
                high: int = high,
                scans: tuple[ArrowScan, ArrowScan, ArrowScan] = (inside, cut, onward),
                limit: pa.Scalar = limit,
                reads: list[int] = reads,
            ) -> list[pa.RecordBatch]:
                path = planned.task.file.file_path
                if path in carried:
                    return _keep_later(carried, path, carried.pop(path), limit)
                reads[0] += 1
                if planned.inside_window and low <= planned.low and planned.high < high:
                    return _read(scans[0], planned)  # the whole file is in this slice
                if planned.high >= high and planned.rows <= CARRY_SLICES * slice_rows:
                    return _keep_later(carried, path, _read(scans[2], planned), limit)
                return _read(scans[1], planned)

            batches = list(_bounded(pool, read, files, max_workers))
            yield (_contiguous(batches, pool) if batches else plan.empty), reads[0]


def _read(scan: ArrowScan, planned: PlannedFile) -> list[pa.RecordBatch]:
    return [batch for batch in scan.to_record_batches([planned.task]) if batch.num_rows]


def _keep_later(
    carried: dict[str, list[pa.RecordBatch]], path: str, batches: list[pa.RecordBatch], limit: pa.Scalar
) -> list[pa.RecordBatch]:
    """The batches' rows before ``limit`` (order_time); the others are carried for the next slices. The
    list is emptied as it is split, so a batch is held once (not as itself and its two parts) at a time."""
    now, later = [], []
    batches.reverse()
    while batches:
        batch = batches.pop()
        before = pc.less(batch.column(TIME_COLUMN), limit)
        now.append(batch.filter(before))
        later.append(batch.filter(pc.invert(before)))
    later = [batch for batch in later if batch.num_rows]
    if later:
        carried[path] = later
    return [batch for batch in now if batch.num_rows]


def _window(low: int, high: int, kind: pa.DataType) -> BooleanExpression:
    return And(
        GreaterThanOrEqual(TIME_COLUMN, _literal(low, kind)), LessThan(TIME_COLUMN, _literal(high, kind))
    )


def _moment(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _literal(micros: int, kind: pa.DataType) -> str:
    return iso_utc(_moment(micros))
