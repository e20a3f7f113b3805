"""Aggregate reports computed slice by slice and merged exactly, in memory that does not grow with the week.

Slices are cut on order_time (exporter.read.read_slices), and every line of an order shares the order's
order_time, so an order never spans two slices. Counts, sums, minima, maxima and distinct orders are
therefore merged by adding (or taking the min/max of) the slices' partial results per group.

A distinct count of any other column (customers) is not additive: a customer orders in several
slices. For those metrics each slice contributes its distinct (group, value) pairs to a PairStore,
partitioned by a hash of the value; a value's pairs all land in one partition, so counting the distinct
pairs partition by partition and adding the counts is exact. Partitions are held in memory for a small
week and spilled to S3 (the run's staging prefix) for a large one, one partition read back at a time.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from exporter.reports import (
    COLUMN_OPS,
    ColumnCodes,
    Metric,
    ReportSpec,
    _decode,
    _ratio,
    _row_keys,
    compute_aggregate,
    sort_order,
)

# Columns whose values never span two slices: every line of an order shares its order_time.
SLICE_LOCAL = frozenset({"order_id"})
# Distinct pairs per partition: a partition is read back and grouped at once, so this bounds its memory.
PAIR_ROWS = 1 << 20
_MERGE = {"count": "sum", "sum": "sum", "count_distinct": "sum", "min": "min", "max": "max"}


class PairStore:
    """Distinct (group, value) rows of non-additive metrics, hash-partitioned by value.

    ``spill`` (None: keep in memory) puts a partition's rows of one slice as one S3 object and gets
    them back when the partition is counted."""

    def __init__(self, partitions: int, spill: Spill | None = None) -> None:
        self.partitions = max(1, partitions)
        self.spill = spill if self.partitions > 1 else None
        self._held: dict[tuple[str, int], list[pa.Table]] = {}

    def add(self, name: str, rows: pa.Table, by: str) -> None:
        if rows.num_rows == 0:
            return
        if self.partitions == 1:
            self._held.setdefault((name, 0), []).append(rows)
            return
        part = _partition_of(rows.column(by), self.partitions)
        for number in range(self.partitions):
            chosen = rows.filter(pc.equal(part, number))
            if chosen.num_rows:
                assert self.spill is not None
                self.spill.put((name, number), chosen)

    def tables(self, name: str) -> Iterator[pa.Table]:
        """Each partition's rows as one table (partitions without rows are skipped)."""
        for number in range(self.partitions):
            parts = (
                self._held.pop((name, number), [])
                if self.spill is None
                else list(self.spill.take((name, number)))
            )
            if parts:
                yield pa.concat_tables(parts, promote_options="permissive").combine_chunks()


@dataclass
class Spill:
    """Arrow IPC objects (zstd) under an S3 prefix: one per (name, partition) and slice."""

    s3: Any
    bucket: str
    prefix: str
    keys: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)

    def put(self, where: tuple[str, int], rows: pa.Table) -> None:
        sink = io.BytesIO()
        options = pa.ipc.IpcWriteOptions(compression="zstd")
        with pa.ipc.new_stream(sink, rows.schema, options=options) as writer:
            writer.write_table(rows)
        key = f"{self.prefix}/{where[0]}/p{where[1]:04d}/{len(self.written):06d}.arrow"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=sink.getvalue())
        self.keys.setdefault(where, []).append(key)
        self.written.append(key)

    def take(self, where: tuple[str, int]) -> Iterator[pa.Table]:
        for key in self.keys.pop(where, []):
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            yield pa.ipc.open_stream(body).read_all()

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


def _partition_of(column: pa.ChunkedArray | pa.Array, partitions: int) -> pa.Array:
    """A partition number per row from a hash (CRC-32) of the value's last characters; null -> 0."""
    text = pc.cast(column, pa.string()) if not pa.types.is_string(column.type) else column
    suffixes = pc.dictionary_encode(pc.utf8_slice_codeunits(pc.fill_null(text, ""), start=-4))
    if isinstance(suffixes, pa.ChunkedArray):
        suffixes = suffixes.combine_chunks()
    numbers = pa.array(
        [zlib.crc32(value.encode("utf-8")) % partitions for value in suffixes.dictionary.to_pylist()],
        pa.int32(),
    )
    return numbers.take(suffixes.indices)


class Aggregator:
    """One aggregate report over the slices of a week: ``add`` each slice, then ``result``."""

    def __init__(self, spec: ReportSpec, pairs: PairStore) -> None:
        self.spec = spec
        self.pairs = pairs
        self.group = list(spec.group_by)
        self.ordered = {metric.column for metric in spec.metrics if metric.op in {"min", "max"}}
        self.partials: list[pa.Table] = []
        self.empty_lines: pa.Table | None = None

    def _pair_name(self, metric: Metric) -> str:
        return f"{self.spec.name}.{metric.name}"

    def add(self, lines: pa.Table, codes: ColumnCodes) -> None:
        if self.empty_lines is None:
            self.empty_lines = lines.slice(0, 0)
        if lines.num_rows == 0:
            return
        spec, group, ordered = self.spec, self.group, self.ordered
        inputs = sorted(spec.input_columns)
        if inputs:
            coded = pa.table({name: codes.get(name, name in ordered)[0] for name in inputs})
        else:
            coded = pa.table({"_": pa.nulls(lines.num_rows, pa.int8())})
        merged = [metric for metric in spec.metrics if self._merged(metric)]
        aggregations: list[tuple[Any, str]] = [
            ([], "count_all") if metric.op == "count" else (metric.column, metric.op) for metric in merged
        ]
        grouped = coded.group_by(group, use_threads=False).aggregate(aggregations)
        columns: dict[str, Any] = {
            name: _decode(codes, name, name in ordered, grouped.column(name)) for name in group
        }
        for index, metric in enumerate(merged):
            result = grouped.column(len(group) + index)
            if metric.op in {"min", "max"}:
                result = _decode(codes, metric.column, True, result)
            columns[metric.name] = result
        self.partials.append(pa.table(columns))
        if len(self.partials) >= 16:
            self.partials = [self._merge(self.partials)]
        for metric in spec.metrics:
            if metric.op == "count_distinct" and not self._merged(metric):
                self._add_pairs(metric, coded, codes, [metric.column], [])
            elif metric.op == "count_repeat":
                self._add_repeats(metric, coded, codes)

    def _merged(self, metric: Metric) -> bool:
        """Whether the metric merges by adding (or min/max of) the slices' partial values."""
        if metric.op == "count_distinct":
            return metric.column in SLICE_LOCAL
        return metric.op == "count" or metric.op in COLUMN_OPS

    def _add_pairs(
        self, metric: Metric, coded: pa.Table, codes: ColumnCodes, keys: list[str], counts: list[Any]
    ) -> None:
        rows = coded.group_by([*self.group, *keys], use_threads=False).aggregate(counts)
        if metric.op == "count_distinct":
            rows = rows.filter(pc.is_valid(rows.column(metric.column)))
        decoded = {
            name: _decode(codes, name, name in self.ordered, rows.column(name))
            for name in [*self.group, *keys]
        }
        for name in rows.column_names[len(self.group) + len(keys) :]:
            decoded[name] = rows.column(name)
        self.pairs.add(self._pair_name(metric), pa.table(decoded), metric.column or "")

    def _add_repeats(self, metric: Metric, coded: pa.Table, codes: ColumnCodes) -> None:
        if metric.per in SLICE_LOCAL:  # orders per (group, value) in this slice add up across slices
            self._add_pairs(metric, coded, codes, [metric.column or ""], [(metric.per, "count_distinct")])
        else:
            per = coded.filter(pc.is_valid(coded.column(metric.per)))
            self._add_pairs(metric, per, codes, [metric.column or "", metric.per or ""], [])

    def _merge(self, partials: list[pa.Table]) -> pa.Table:
        table = pa.concat_tables(partials, promote_options="permissive")
        merged = [metric for metric in self.spec.metrics if self._merged(metric)]
        grouped = table.group_by(self.group, use_threads=False).aggregate(
            [(metric.name, _MERGE[metric.op]) for metric in merged]
        )
        columns = {name: grouped.column(name) for name in self.group}
        for index, metric in enumerate(merged):
            columns[metric.name] = grouped.column(len(self.group) + index)
        return pa.table(columns)

    def result(self) -> pa.Table:
        """The report's rows, sorted, as ``compute_aggregate`` would give them for the whole week."""
        spec, group = self.spec, self.group
        if not self.partials:  # an empty week: the same (typed, empty) table as for no lines at all
            empty = self.empty_lines if self.empty_lines is not None else pa.table({})
            return compute_aggregate(spec, empty)
        merged = self._merge(self.partials)
        self.partials = []
        columns: dict[str, Any] = {name: merged.column(name) for name in group}
        row_keys = _row_keys([merged.column(name) for name in group], merged.num_rows)
        for metric in spec.metrics:
            if self._merged(metric):
                columns[metric.name] = merged.column(metric.name)
            elif metric.op in {"count_distinct", "count_repeat"}:
                found = self._count_pairs(metric)
                columns[metric.name] = pa.array([found.get(key, 0) for key in row_keys], pa.int64())
            elif metric.op == "ratio":
                columns[metric.name] = _ratio(
                    columns[metric.numerator], columns[metric.denominator], metric.scale
                )
        table = pa.table({name: columns[name] for name in spec.output_columns})
        keys = list(dict.fromkeys(spec.sort_by + tuple(group)))
        return table.take(sort_order(table, keys)) if keys else table

    def _count_pairs(self, metric: Metric) -> dict[tuple[Any, ...], int]:
        """Per group: distinct values (count_distinct) or values seen with more than one ``per``."""
        group, found = self.group, {}
        for rows in self.pairs.tables(self._pair_name(metric)):
            value = metric.column or ""
            if metric.op == "count_distinct":
                distinct = rows.group_by([*group, value], use_threads=False).aggregate([])
                counted = distinct.group_by(group, use_threads=False).aggregate([([], "count_all")])
            else:
                if metric.per in SLICE_LOCAL:
                    totals = rows.group_by([*group, value], use_threads=False).aggregate(
                        [(f"{metric.per}_count_distinct", "sum")]
                    )
                else:
                    triples = rows.group_by([*group, value, metric.per or ""], use_threads=False).aggregate(
                        []
                    )
                    totals = triples.group_by([*group, value], use_threads=False).aggregate(
                        [([], "count_all")]
                    )
                repeated = totals.filter(pc.greater(totals.column(totals.num_columns - 1), 1))
                counted = repeated.group_by(group, use_threads=False).aggregate([([], "count_all")])
            keys = _row_keys([counted.column(name) for name in group], counted.num_rows)
            for key, count in zip(keys, counted.column("count_all").to_pylist(), strict=True):
                found[key] = found.get(key, 0) + count
        return found
