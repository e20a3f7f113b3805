"""Read one week of the clean table: a row filter on order_time, only the needed columns, bounded workers.

PyIceberg's ``to_arrow_batch_reader`` hands every planned file to its thread pool at once
(``Executor.map``), so a consumer slower than the readers lets decoded files pile up. Here the same
``ArrowScan`` reads one file per task with at most ``max_workers`` files in flight, in plan order.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
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
    """Rows with ``start <= order_time < end`` (UTC instants), projected to ``columns``."""
    row_filter = And(
        GreaterThanOrEqual(TIME_COLUMN, iso_utc(start)),
        LessThan(TIME_COLUMN, iso_utc(end)),
    )
    scan = table.scan(row_filter=row_filter, selected_fields=tuple(columns))
    snapshot = scan.snapshot()
    projected = scan.projection()
    target = schema_to_pyarrow(projected)
    if snapshot is None:  # a table without any commit yet
        return WeekRead(target.empty_table(), None, 0)
    tasks = list(scan.plan_files())

    def arrow_scan(row_filter: BooleanExpression) -> ArrowScan:
        return ArrowScan(
            scan.table_metadata,
            scan.io,
            projected,
            row_filter,
            scan.case_sensitive,
            dictionary_columns=tuple(dictionary_columns),
        )

    # A file whose partition (a day of order_time) lies inside the window has the residual AlwaysTrue:
    # every row matches, so it is read without evaluating the filter row by row (and copying the rows).
    filtered, whole = arrow_scan(scan.row_filter), arrow_scan(AlwaysTrue())

    def read(task: FileScanTask) -> list[pa.RecordBatch]:
        chosen = whole if task.residual == AlwaysTrue() else filtered
        return [batch for batch in chosen.to_record_batches([task]) if batch.num_rows]

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="iceberg-read") as pool:
        batches = list(_bounded(pool, read, tasks, max_workers))
        if not batches:
            rows = target.empty_table()
            if dictionary_columns:
                rows = rows.cast(_with_dictionaries(target, dictionary_columns))
            return WeekRead(rows, snapshot.snapshot_id, len(tasks))
        return WeekRead(_contiguous(batches, pool), snapshot.snapshot_id, len(tasks))


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
        return pa.concat_arrays(chunks)

    return pa.Table.from_arrays(list(pool.map(concatenate, range(len(schema)))), schema=schema)


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
