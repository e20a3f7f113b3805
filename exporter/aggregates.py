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
    sorted_report,
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
        assert self.spill is not None
        column = rows.column(by).combine_chunks()
        if not pa.types.is_dictionary(column.type):
            part = _partition_of(column, self.partitions)
            for number in range(self.partitions):
                chosen = rows.filter(pc.equal(part, number))
                if chosen.num_rows:
                    self.spill.put((name, number), chosen)
            return
        # Partition the dictionary, not the rows' strings: each partition keeps only its own entries.
        entry_part = _partition_of(column.dictionary, self.partitions)
        part = pc.fill_null(entry_part.take(column.indices), 0)
        for number in range(self.partitions):
            chosen = rows.filter(pc.equal(part, number))
            if not chosen.num_rows:
                continue
            entries = pc.indices_nonzero(pc.equal(entry_part, number))
            position = pc.inverse_permutation(entries.cast(pa.int64()), max_index=len(column.dictionary) - 1)
            old = chosen.column(by).combine_chunks()
            compact = pa.DictionaryArray.from_arrays(
                position.take(old.indices).cast(pa.int32()), column.dictionary.take(entries)
            )
            self.spill.put((name, number), chosen.set_column(chosen.schema.get_field_index(by), by, compact))

    def tables(self, name: str) -> Iterator[pa.Table]:
        """Each partition's rows as one table (partitions without rows are skipped)."""
        for number in range(self.partitions):
            parts = (
                self._held.pop((name, number), [])
                if self.spill is None
                else list(self.spill.take((name, number)))
            )
            if parts:
                yield pa.concat_tables(parts, promote_options="permissive")


@dataclass
class Spill:
    """Arrow IPC objects (LZ4) under an S3 prefix: one per (name, partition) and slice."""

    s3: Any
    bucket: str
    prefix: str
    keys: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)

    def put(self, where: tuple[str, int], rows: pa.Table) -> None:
        sink = io.BytesIO()
        options = pa.ipc.IpcWriteOptions(compression="lz4")
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
    suffixes = pc.dictionary_encode(pc.utf8_slice_codeunits(pc.fill_null(text, ""), start=-2))
    if isinstance(suffixes, pa.ChunkedArray):
        suffixes = suffixes.combine_chunks()
    numbers = pa.array(
        [zlib.crc32(value.encode("utf-8")) % partitions for value in suffixes.dictionary.to_pylist()],
        pa.int32(),
    )
    return numbers.take(suffixes.indices)


def _codes(codes: ColumnCodes, name: str, ordered: bool) -> tuple[pa.Array, pa.Array]:
    """A column as int64 codes into ``values``, null as the code ``len(values)`` (decoded back to null)."""
    column, values = codes.get(name, ordered)
    if values is None:  # not text: encode it here (a slice's distinct values)
        encoded = pc.dictionary_encode(column).combine_chunks()
        column, values = pa.chunked_array([encoded.indices]), encoded.dictionary
    flat = pc.fill_null(column.combine_chunks().cast(pa.int64()), len(values))
    return flat, pa.concat_arrays([values, pa.nulls(1, values.type)])


def _dense(keys: pa.Array) -> tuple[pa.Array, int]:
    """Renumber int64 keys 0..n-1 (n distinct), so a wide key can be combined with more codes."""
    encoded = pc.dictionary_encode(keys)
    return encoded.indices.cast(pa.int64()), len(encoded.dictionary)


# Combined codes stay below this, so a product of spans never overflows int64.
_WIDEST = 1 << 62


class Aggregator:
    """One aggregate report over the slices of a week: ``add`` each slice, then ``result``."""

    def __init__(self, spec: ReportSpec, pairs: PairStore) -> None:
        self.spec = spec
        self.pairs = pairs
        self.group = list(spec.group_by)
        self.ordered = {metric.column for metric in spec.metrics if metric.op in {"min", "max"}}
        self.partials: list[pa.Table] = []
        self.empty_lines: pa.Table | None = None
        self.groups: dict[tuple[Any, ...], int] = {}  # group values -> a week-wide group id

    def _flow(self, metric: Metric) -> Metric | None:
        """The metric whose (group, value) pairs serve ``metric`` (None: merged from partial values).

        A repeat count per orders holds every (group, value) pair of its column, so a distinct count of
        the same column reads the same pairs instead of collecting its own."""
        if metric.op not in {"count_distinct", "count_repeat"} or self._merged(metric):
            return None
        if metric.op == "count_distinct":
            for other in self.spec.metrics:
                if other.op == "count_repeat" and other.column == metric.column and other.per in SLICE_LOCAL:
                    return other
        return metric

    def _pair_name(self, metric: Metric) -> str:
        return f"{self.spec.name}.{metric.name}"

    def add(self, lines: pa.Table, codes: ColumnCodes) -> None:
        if self.empty_lines is None:
            self.empty_lines = lines.slice(0, 0)
        if lines.num_rows == 0:
            return
        spec, group, ordered = self.spec, self.group, self.ordered
        inputs = sorted(spec.used_columns)
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
        flows = [metric for metric in spec.metrics if self._flow(metric) is metric]
        if flows:
            self._add_pairs(flows, lines.num_rows, codes)

    def _merged(self, metric: Metric) -> bool:
        """Whether the metric merges by adding (or min/max of) the slices' partial values."""
        if metric.op == "count_distinct":
            return metric.column in SLICE_LOCAL
        return metric.op == "count" or metric.op in COLUMN_OPS

    def _add_pairs(self, metrics: list[Metric], rows: int, codes: ColumnCodes) -> None:
        """The slice's distinct (group, value) pairs as (group id, value[, n | per]) rows: ``n`` counts a
        pair's distinct ``per`` values when those never span slices, else the (group, value, per) triples."""
        group_key, spans = pa.repeat(pa.scalar(0, pa.int64()), rows), []
        for name in self.group:
            column, values = _codes(codes, name, name in self.ordered)
            group_key = pc.add(pc.multiply(group_key, len(values)), column)
            spans.append(len(values))
        if _span(spans) >= _WIDEST:  # too many group values to mix into one int64: number the rows' groups
            group_key, spans = _dense(group_key)[0], []
        for metric in metrics:
            value, values = _codes(codes, metric.column or "", metric.column in self.ordered)
            found = pa.table({"g": group_key, "v": value})
            if metric.op == "count_distinct":  # a null value is not counted
                found = found.filter(pc.less(value, len(values) - 1))
                pairs = found.group_by(["g", "v"], use_threads=False).aggregate([])
                extra = {}
            else:  # count_repeat: a null value is a value; a null per is not counted
                found = found.append_column("p", codes.get(metric.per or "")[0])
                if metric.per in SLICE_LOCAL:  # distinct orders per pair add up across slices
                    pairs = found.group_by(["g", "v"], use_threads=False).aggregate([("p", "count_distinct")])
                    extra = {"n": pairs.column("p_count_distinct")}
                else:
                    pairs = found.filter(pc.is_valid(found.column("p")))
                    pairs = pairs.group_by(["g", "v", "p"], use_threads=False).aggregate([])
                    per_values = codes.get(metric.per or "")[1]
                    per = pairs.column("p")
                    extra = {
                        "per": per if per_values is None else _as_dictionary(per, per_values, nulls=False)
                    }
            table = {
                "group": self._group_ids(pairs.column("g").combine_chunks(), group_key, spans, codes),
                "value": _as_dictionary(pairs.column("v").combine_chunks(), values),
                **extra,
            }
            self.pairs.add(self._pair_name(metric), pa.table(table), "value")

    def _group_ids(
        self, keys: pa.Array, row_keys: pa.Array, spans: list[int], codes: ColumnCodes
    ) -> pa.Array:
        """Week-wide ids of slice group keys: a group's values get the same id in every slice."""
        distinct = pc.unique(keys)
        if spans:  # the key mixes the group columns' codes: split it back
            parts, rest = [], distinct
            for span in reversed(spans):
                quotient = pc.divide(rest, span)
                parts.append(pc.subtract(rest, pc.multiply(quotient, span)))
                rest = quotient
            decoded = [
                _codes(codes, name, name in self.ordered)[1].take(part)
                for name, part in zip(self.group, reversed(parts), strict=True)
            ]
        else:  # numbered keys (or no group): read the values at a row of each group
            rows = pc.index_in(distinct, value_set=row_keys)
            decoded = [
                _decode(
                    codes, name, name in self.ordered, codes.get(name, name in self.ordered)[0].take(rows)
                )
                for name in self.group
            ]
        ids = [self.groups.setdefault(key, len(self.groups)) for key in _row_keys(decoded, len(distinct))]
        return pa.array(ids, pa.int32()).take(pc.index_in(keys, value_set=distinct))

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
        counted: dict[str, dict[int, int]] = {}
        for flow in spec.metrics:
            if self._flow(flow) is flow:
                served = [metric for metric in spec.metrics if self._flow(metric) is flow]
                counted |= self._count_pairs(flow, served)
        row_keys = _row_keys([merged.column(name) for name in group], merged.num_rows)
        for metric in spec.metrics:
            if self._merged(metric):
                columns[metric.name] = merged.column(metric.name)
            elif metric.op in {"count_distinct", "count_repeat"}:
                found = counted[metric.name]
                ids = [self.groups.get(key, -1) if group else 0 for key in row_keys]
                columns[metric.name] = pa.array([found.get(gid, 0) for gid in ids], pa.int64())
            elif metric.op == "ratio":
                columns[metric.name] = _ratio(
                    columns[metric.numerator], columns[metric.denominator], metric.scale
                )
        return sorted_report(spec, columns)

    def _count_pairs(self, flow: Metric, metrics: list[Metric]) -> dict[str, dict[int, int]]:
        """Per metric served by ``flow``'s pairs, per group id: distinct values (count_distinct) or values
        seen with more than one ``per`` (count_repeat).

        Rows of one slice are distinct already; rows of several slices are made distinct by one hash
        of (group, value[, per]) per partition."""
        found: dict[str, dict[int, int]] = {metric.name: {} for metric in metrics}
        for rows in self.pairs.tables(self._pair_name(flow)):
            single = rows.column("value").num_chunks == 1
            groups = rows.column("group").combine_chunks().cast(pa.int64())
            value = None if single else _week_codes(rows.column("value"))
            for metric in metrics:
                if metric.op == "count_distinct":
                    # (is_valid on the chunks: combining dictionary chunks would unify their dictionaries)
                    valid = None if metric is flow else pc.is_valid(rows.column("value")).combine_chunks()
                    kept = groups if valid is None else groups.filter(valid)
                    if single:
                        owners = kept
                    else:
                        assert value is not None
                        owners = self._distinct_groups(kept, value if valid is None else value.filter(valid))
                elif "n" in rows.column_names:
                    if single:
                        owners = groups.filter(pc.greater(rows.column("n").combine_chunks(), 1))
                    else:
                        assert value is not None
                        span = int(pc.max(value).as_py() or 0) + 1
                        totals = pa.table(
                            {"k": pc.add(pc.multiply(groups, span), value), "n": rows.column("n")}
                        )
                        summed = totals.group_by("k", use_threads=False).aggregate([("n", "sum")])
                        repeated = summed.filter(pc.greater(summed.column("n_sum"), 1)).column("k")
                        owners = pc.divide(repeated.combine_chunks(), span)
                else:
                    codes = value if value is not None else _week_codes(rows.column("value"))
                    span = int(pc.max(codes).as_py() or 0) + 1
                    per = rows.column("per")
                    per = _week_codes(per) if pa.types.is_dictionary(per.type) else per
                    triples = pa.table({"k": pc.add(pc.multiply(groups, span), codes), "p": per})
                    if not single:
                        triples = triples.group_by(["k", "p"], use_threads=False).aggregate([])
                    counts = triples.group_by("k", use_threads=False).aggregate([([], "count_all")])
                    repeated = counts.filter(pc.greater(counts.column("count_all"), 1)).column("k")
                    owners = pc.divide(repeated.combine_chunks(), span)
                totals_of = found[metric.name]
                for entry in pc.value_counts(owners).to_pylist():
                    totals_of[entry["values"]] = totals_of.get(entry["values"], 0) + entry["counts"]
        return found

    @staticmethod
    def _distinct_groups(groups: pa.Array, codes: pa.Array) -> pa.Array:
        """The group of each distinct (group, value code) pair."""
        span = int(pc.max(codes).as_py() or 0) + 1
        return pc.divide(pc.unique(pc.add(pc.multiply(groups, span), codes)), span)


def _as_dictionary(codes: pa.Array, values: pa.Array, nulls: bool = True) -> pa.DictionaryArray:
    """Codes as a dictionary array; with ``nulls`` (codes from ``_codes``) the last code becomes a null,
    so no dictionary holds a null (dictionaries with nulls cannot be unified)."""
    indices = codes.cast(pa.int32())
    if not nulls:
        return pa.DictionaryArray.from_arrays(indices, values)
    null_code = len(values) - 1
    indices = pc.if_else(pc.equal(indices, null_code), pa.scalar(None, pa.int32()), indices)
    return pa.DictionaryArray.from_arrays(indices, values.slice(0, null_code))


def _span(spans: list[int]) -> int:
    total = 1
    for span in spans:
        total *= span
    return total


def _week_codes(column: pa.ChunkedArray) -> pa.Array:
    """int64 codes of a dictionary column whose chunks come from different slices, one code per distinct
    value (null too) across the chunks: the dictionaries are unified, the rows are never hashed."""
    if column.num_chunks > 1:
        column = pa.table({"c": column}).unify_dictionaries().column("c")
    size = len(column.chunk(0).dictionary) if column.num_chunks else 0
    indices = pa.chunked_array([chunk.indices for chunk in column.chunks], pa.int32()).combine_chunks()
    return pc.fill_null(indices.cast(pa.int64()), size)
