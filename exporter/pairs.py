"""Exact distinct counts across the slices of a week, in bounded memory (exporter.aggregates' customers).

A distinct count of customers does not add up across slices: a customer orders in several. Each slice
contributes its distinct (group, value) pairs instead, split into partitions by a hash of the value, so all
pairs of one value land in one partition whatever the slice: counting partition by partition and adding
the counts is exact.

Per slice, value column and partition, the partition's distinct values are stored once (every metric
counting that column shares them) and each metric's pairs as int32 (week-wide group id, index into those
values). Counting a partition hashes each slice's values once to give them partition-wide ids; from then
on a pair is one int64 (group * span + id), and the pairs of all slices are merged by hashing integers.
Slices are held in memory up to a byte budget; beyond it the held slices are spilled to S3 (the run's
staging prefix), one object per slice and column, and each partition is read back with a ranged GET. A
week whose pairs, projected from its first slices, will not fit the budget spills every slice as it ends:
they would go to S3 anyway, and holding them until the budget is reached only raises the peak memory.
"""

from __future__ import annotations

import io
import threading
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# Pair rows per partition (about): COUNT_THREADS partitions are counted at once, so this bounds the counting's
# memory (bench weeks of 1M-16M lines: two of 2^19 counted at once peak 5-50 MB above one of 2^20 alone, two
# of 2^20 ~115 MB more); a spilled week is read back with one ranged GET per slice and partition.
PAIR_ROWS = 1 << 19
# Bytes of pairs held in memory; beyond them the held slices go to S3.
PAIR_BYTES = 64 << 20
# Partitions fetched while the ones before are counted (ranged GETs, one per slice).
FETCH_THREADS = 8
# Partitions counted at once: a week's count runs after its last slice, with the cores otherwise idle.
COUNT_THREADS = 2


@dataclass(frozen=True)
class Flow:
    """One set of (group, value) pairs and the metrics it answers, by their full names.

    ``distinct`` metrics count a group's distinct non-null values; ``repeat`` metrics count its values
    seen with more than one distinct ``per`` value (a null value is a value there, a null ``per`` is not).
    Pair rows are (group int32, code int32) plus, for ``repeat``: ``n`` (int8: 0, 1 or 2 = "more than
    one" distinct ``per`` values in the slice) when ``per`` never spans slices (``per_local``), else
    ``per`` itself (every distinct one)."""

    name: str
    column: str
    distinct: tuple[str, ...] = ()
    repeat: tuple[str, ...] = ()
    per_local: bool = True


@dataclass
class Spill:
    """Objects under an S3 prefix, read back by byte range."""

    s3: Any
    bucket: str
    prefix: str
    written: list[str] = field(default_factory=list)

    def put(self, body: bytes) -> str:
        key = f"{self.prefix}/{len(self.written):06d}.arrow"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        self.written.append(key)
        return key

    def get(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of the object."""
        answer = self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}")
        return answer["Body"].read()

    def delete(self) -> None:
        """Remove every spilled object (best effort: the staging prefix expires by lifecycle anyway)."""
        for start in range(0, len(self.written), 1000):
            batch = self.written[start : start + 1000]
            try:
                self.s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
            except Exception:  # noqa: S112 - leftovers expire with the staging prefix
                continue
        self.written.clear()


# A partition's values and each flow's rows (codes into those values).
Partition = tuple[pa.Array, dict[str, pa.Table]]


@dataclass
class Piece:
    """One slice's pairs of one value column, in partition order: partition p's values are
    ``values[value_at[p]:value_at[p + 1]]`` and a flow's rows ``rows[name][row_at[name][p]:...]`` (their
    codes index the whole ``values``). Once spilled: the object's key and, per partition, the byte range
    of each of its IPC streams (the values first)."""

    values: pa.Array | None
    value_at: list[int]
    rows: dict[str, pa.Table]
    row_at: dict[str, list[int]]
    spilled: tuple[str, list[list[tuple[str, int, int]]]] | None = None

    @classmethod
    def of(cls, values: pa.Array, rows: dict[str, pa.Table], partitions: int) -> Piece:
        """The slice's ``values`` and flow rows, sorted by the partition of each value."""
        if partitions == 1:
            row_at = {name: [0, table.num_rows] for name, table in rows.items()}
            return cls(values, [0, len(values)], rows, row_at)
        entry_part = _partition_of(values, partitions)
        order = pc.sort_indices(entry_part).cast(pa.int64())
        rank = pc.inverse_permutation(order, output_type=pa.int32())  # old code -> place in sorted values
        bounds = pa.array(range(partitions + 1), pa.int32())
        value_at = pc.search_sorted(entry_part.take(order), bounds).to_pylist()
        sorted_rows, row_at = {}, {}
        for name, table in rows.items():
            part = entry_part.take(table.column("code"))
            row_order = pc.sort_indices(part)
            code = rank.take(table.column("code").take(row_order))
            sorted_rows[name] = _with_codes(table.take(row_order), code)
            row_at[name] = pc.search_sorted(part.take(row_order), bounds).to_pylist()
        return cls(values.take(order), value_at, sorted_rows, row_at)

    @property
    def nbytes(self) -> int:
        if self.values is None:
            return 0
        return self.values.nbytes + sum(table.nbytes for table in self.rows.values())

    def partition(self, number: int) -> Partition:
        """Partition ``number`` from memory, codes counted from its first value."""
        assert self.values is not None
        low, high = self.value_at[number], self.value_at[number + 1]
        rows = {}
        for name, table in self.rows.items():
            first, last = self.row_at[name][number], self.row_at[name][number + 1]
            part = table.slice(first, last - first)
            rows[name] = _with_codes(part, pc.subtract(part.column("code"), pa.scalar(low, pa.int32())))
        return self.values.slice(low, high - low), rows

    def spill_to(self, spill: Spill) -> None:
        """Write every partition as IPC streams into one object and drop the arrays."""
        sink, frames = io.BytesIO(), []
        for number in range(len(self.value_at) - 1):
            values, rows = self.partition(number)
            streams = [("", pa.table({"value": values})), *sorted(rows.items())]
            frame = []
            if len(values) or any(table.num_rows for _, table in streams):
                for name, table in streams:
                    start = sink.tell()
                    _write_ipc(sink, table)
                    frame.append((name, start, sink.tell()))
            frames.append(frame)
        self.spilled = (spill.put(sink.getvalue()), frames)
        self.values, self.rows = None, {}

    def load(self, number: int, spill: Spill | None) -> Partition | None:
        """Partition ``number`` from memory or S3 (None: the slice had no pairs there)."""
        if self.spilled is None:
            return self.partition(number)
        assert spill is not None
        key, frames = self.spilled
        frame = frames[number]
        if not frame:
            return None
        first = frame[0][1]
        body = pa.py_buffer(spill.get(key, first, frame[-1][2]))
        tables = {
            name: pa.ipc.open_stream(body.slice(start - first, end - start)).read_all()
            for name, start, end in frame
        }
        return tables.pop("").column("value").combine_chunks(), tables


class PairStore:
    """Every flow's pairs of the week's slices, then every registered metric's count per group id."""

    def __init__(
        self, partitions: int = 1, spill: Spill | None = None, budget: int = PAIR_BYTES, week_rows: int = 0
    ) -> None:
        self.partitions = max(1, partitions)
        self.spill = spill
        self.budget = budget
        self.week_rows = week_rows  # the week's lines (an upper bound), to project its pairs' bytes
        self._filed = [0, 0]  # bytes of pairs and lines of the slices filed so far
        self.flows: dict[str, Flow] = {}
        self._slice: dict[str, tuple[pa.Array, dict[str, pa.Table]]] = {}
        self._pieces: dict[str, list[Piece]] = {}
        self._counts: dict[str, dict[int, int]] | None = None
        self._lock = threading.Lock()

    def register(self, flow: Flow) -> None:
        self.flows[flow.name] = flow

    def add(self, flow: str, rows: pa.Table, values: pa.Array) -> None:
        """A flow's pairs of the current slice; ``values`` (the column's values of the slice, the same
        array for every flow of a column) decode their codes."""
        with self._lock:
            column = self.flows[flow].column
            self._slice.setdefault(column, (values, {}))[1][flow] = rows

    def end_slice(self, lines: int = 0) -> None:
        """File the current slice of ``lines`` lines (once every flow has added it); spill what is held
        beyond the budget, or all of it if the week's pairs, projected from the slices so far, exceed it."""
        for column, (values, rows) in self._slice.items():
            piece = Piece.of(values, rows, self.partitions)
            self._pieces.setdefault(column, []).append(piece)
            self._filed[0] += piece.nbytes
        self._slice = {}
        self._filed[1] += lines
        held = [piece for pieces in self._pieces.values() for piece in pieces if piece.values is not None]
        projected = self._filed[0] * self.week_rows // max(1, self._filed[1])
        if self.spill is not None and max(projected, sum(piece.nbytes for piece in held)) > self.budget:
            for piece in held:
                piece.spill_to(self.spill)

    def counts(self, metric: str) -> dict[int, int]:
        """A registered metric's count per group id (all of them are counted on the first call)."""
        with self._lock:
            if self._counts is None:
                self._counts = self._count()
        return self._counts[metric]

    def _count(self) -> dict[str, dict[int, int]]:
        """Count every partition, ``COUNT_THREADS`` at a time (Arrow's kernels release the GIL), and add
        the partitions' counts up as they finish."""
        found = _no_counts(self.flows.values())
        pieces_of, self._pieces = self._pieces, {}
        pa.default_memory_pool().release_unused()  # (trim: the slices' freed memory, before the count's)
        with ThreadPoolExecutor(max_workers=COUNT_THREADS, thread_name_prefix="count") as counters:
            for column, pieces in pieces_of.items():
                flows = [flow for flow in self.flows.values() if flow.column == column]
                counting: deque[Future[dict[str, dict[int, int]]]] = deque()
                for parts in self._partitions(pieces):
                    counting.append(
                        counters.submit(_count_partition, [part for part in parts if part is not None], flows)
                    )
                    while len(counting) >= COUNT_THREADS:  # (bounded: the next one is fetched meanwhile)
                        _add_counted(found, counting.popleft())
                while counting:
                    _add_counted(found, counting.popleft())
        return found

    def _partitions(self, pieces: list[Piece]) -> Iterator[list[Partition | None]]:
        """Each partition of every slice; the next partition is fetched while one is counted."""
        with ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="pairs") as pool:
            ahead = [pool.submit(piece.load, 0, self.spill) for piece in pieces]
            for number in range(self.partitions):
                current = [future.result() for future in ahead]
                if number + 1 < self.partitions:
                    ahead = [pool.submit(piece.load, number + 1, self.spill) for piece in pieces]
                yield current


def _count_partition(parts: list[Partition], flows: list[Flow]) -> dict[str, dict[int, int]]:
    """One partition's counts (all slices' pairs): per metric, per group id."""
    found = _no_counts(flows)
    if not parts:
        return found
    values = pa.chunked_array([values for values, _ in parts], parts[0][0].type)
    encoded = pc.dictionary_encode(values, null_encoding="encode")  # one id per distinct value (null too)
    if not encoded.num_chunks:
        return found
    dictionary = encoded.chunk(0).dictionary
    span = len(dictionary)
    null_id = pc.index(pc.is_null(dictionary), True).as_py() if dictionary.null_count else None
    ids = pa.concat_arrays([chunk.indices for chunk in encoded.chunks])  # (empty chunks were dropped)
    starts = [0]
    for part_values, _ in parts:
        starts.append(starts[-1] + len(part_values))
    for flow in flows:
        keys, counted, extras = [], [], []  # counted: the keys of non-null values (distinct counts)
        for (_, rows), start, end in zip(parts, starts, starts[1:], strict=False):
            table = rows.get(flow.name)
            if table is None or not table.num_rows:
                continue
            table = table.combine_chunks()  # (Arrays below, never ChunkedArrays)
            value_id = ids.slice(start, end - start).take(table.column("code").chunk(0))
            group = table.column("group").chunk(0).cast(pa.int64())
            key = pc.add(pc.multiply(group, span), value_id.cast(pa.int64()))
            if flow.repeat:
                keys.append(key)
                extras.append(table.column(2).chunk(0) if table.num_columns > 2 else None)
            if flow.distinct:
                counted.append(key if null_id is None else key.filter(pc.not_equal(value_id, null_id)))
            del table, value_id, group, key
        single = len(keys or counted) == 1  # one slice's pairs are distinct already
        if counted:  # (null values only come with a repeat flow's pairs)
            distinct = pa.chunked_array(counted, pa.int64())
            del counted
            distinct = distinct if single else pc.unique(distinct)
            for metric in flow.distinct:
                _add_owners(found[metric], distinct, span)
            del distinct
        if keys:
            repeated = _repeated(pa.chunked_array(keys, pa.int64()), extras, flow, single)
            del keys, extras
            for metric in flow.repeat:
                _add_owners(found[metric], repeated, span)
    return found


def _no_counts(flows: Iterable[Flow]) -> dict[str, dict[int, int]]:
    """An empty count per group id for every metric of ``flows``."""
    return {metric: {} for flow in flows for metric in (*flow.distinct, *flow.repeat)}


def _add_counted(totals: dict[str, dict[int, int]], counted: Future[dict[str, dict[int, int]]]) -> None:
    """Add one partition's counts to ``totals``, then trim what counting it freed: malloc keeps freed
    blocks below its mmap threshold otherwise, and they pile up over a week's partitions (16M-line bench
    week: the count's peak RSS 438 -> 399 MB)."""
    for metric, by_group in counted.result().items():
        total = totals[metric]
        for group, count in by_group.items():
            total[group] = total.get(group, 0) + count
    pa.default_memory_pool().release_unused()


def _repeated(key: pa.ChunkedArray, extras: list[Any], flow: Flow, single: bool) -> pa.ChunkedArray:
    """The pair keys whose value was seen with more than one distinct ``per`` value."""
    if flow.per_local:  # per-slice counts of distinct per values (capped at 2) add up
        n = pa.concat_arrays(extras)
        if single:
            return key.filter(pc.greater(n, 1))
        summed = (
            pa.table({"k": key, "n": n.cast(pa.int32())})
            .group_by("k", use_threads=False)
            .aggregate([("n", "sum")])
        )
        return summed.column("k").filter(pc.greater(summed.column("n_sum"), 1))
    codes = pc.dictionary_encode(pa.concat_arrays(extras)).indices
    triples = pa.table({"k": key, "p": codes})
    if not single:
        triples = triples.group_by(["k", "p"], use_threads=False).aggregate([])
    counts = triples.group_by("k", use_threads=False).aggregate([([], "count_all")])
    return counts.column("k").filter(pc.greater(counts.column("count_all"), 1))


def _add_owners(totals: dict[int, int], keys: pa.Array | pa.ChunkedArray, span: int) -> None:
    """Count the distinct pair ``keys`` of each group (key // span) into ``totals``."""
    owners = pc.value_counts(pc.divide(keys, span))
    for group, count in zip(
        owners.field("values").to_pylist(), owners.field("counts").to_pylist(), strict=True
    ):
        totals[group] = totals.get(group, 0) + count


def _partition_of(values: pa.Array, partitions: int) -> pa.Array:
    """A partition number per value from a hash (CRC-32) of its last characters; null -> 0."""
    text = pc.cast(values, pa.string()) if not pa.types.is_string(values.type) else values
    suffixes = pc.dictionary_encode(pc.utf8_slice_codeunits(pc.fill_null(text, ""), start=-3))
    numbers = pa.array(
        [zlib.crc32(value.encode("utf-8")) % partitions for value in suffixes.dictionary.to_pylist()],
        pa.int32(),
    )
    return numbers.take(suffixes.indices)


def _with_codes(table: pa.Table, codes: Any) -> pa.Table:
    return table.set_column(table.schema.get_field_index("code"), "code", codes)


def _write_ipc(sink: io.BytesIO, table: pa.Table) -> None:
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
        writer.write_table(table)
