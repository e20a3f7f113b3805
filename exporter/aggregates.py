"""Aggregate reports computed slice by slice and merged exactly, in memory that does not grow with the week.

Slices are cut on order_time (exporter.read.read_slices), and every line of an order shares the order's
order_time, so an order never spans two slices. Counts, sums, minima, maxima and distinct orders are
therefore merged by adding (or taking the min/max of) the slices' partial results per group.

A distinct count of any other column (customers) is not additive: a customer orders in several
slices. For those metrics each slice contributes its distinct (group, value) pairs to a PairStore
(exporter.pairs), which counts them exactly across the slices, in partitions of bounded size.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from exporter.pairs import Flow, PairStore
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
_MERGE = {"count": "sum", "sum": "sum", "count_distinct": "sum", "min": "min", "max": "max"}
_LINES = "__lines"  # a partial's line count (not a report column)
# Combined codes stay below this, so a product of spans never overflows int64.
_WIDEST = 1 << 62
_NARROWEST = 1 << 31  # ... and below this, they fit int32


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
        self.flows = [metric for metric in spec.metrics if self._flow(metric) is metric]
        for flow in self.flows:
            served = [metric for metric in spec.metrics if self._flow(metric) is flow]
            pairs.register(
                Flow(
                    self._pair_name(flow),
                    flow.column or "",
                    distinct=tuple(self._pair_name(m) for m in served if m.op == "count_distinct"),
                    repeat=tuple(self._pair_name(m) for m in served if m.op == "count_repeat"),
                    per_local=flow.per in SLICE_LOCAL,
                )
            )

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
        if self.empty_lines is None:  # (the schema only: a slice of the lines would keep all their buffers)
            self.empty_lines = lines.schema.empty_table()
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
        # (and the lines: a report without group_by or merged metrics still has its one row)
        grouped = coded.group_by(group, use_threads=False).aggregate([*aggregations, ([], "count_all")])
        columns: dict[str, Any] = {
            name: _decode(codes, name, name in ordered, grouped.column(name)) for name in group
        }
        for index, metric in enumerate(merged):
            result = grouped.column(len(group) + index)
            if metric.op in {"min", "max"}:
                result = _decode(codes, metric.column, True, result)
            columns[metric.name] = result
        columns[_LINES] = grouped.column(len(group) + len(merged))
        self.partials.append(pa.table(columns))
        if len(self.partials) >= 16:
            self.partials = [self._merge(self.partials)]
        if self.flows:
            self._add_pairs(lines.num_rows, codes)

    def _merged(self, metric: Metric) -> bool:
        """Whether the metric merges by adding (or min/max of) the slices' partial values."""
        if metric.op == "count_distinct":
            return metric.column in SLICE_LOCAL
        return metric.op == "count" or metric.op in COLUMN_OPS

    def _add_pairs(self, rows: int, codes: ColumnCodes) -> None:
        """The slice's distinct (group id, value code) pairs of every flow, as one int64 key each
        (group * span + code) while they are made distinct."""
        group_ids = self._group_ids(rows, codes)
        for metric in self.flows:
            value, values = codes.flat(metric.column or "")  # plain codes: counting needs no value order
            span = len(values)
            key = pc.add(pc.multiply(group_ids, span), value.cast(pa.int64()))
            extra = {}
            if metric.op == "count_distinct":  # a null value is not counted
                key = pc.unique(key.filter(pc.less(value, span - 1)))
            elif metric.per in SLICE_LOCAL:  # 0, 1 or "2 or more" distinct per values (a null per: none)
                per = codes.get(metric.per or "")[0]
                found = pa.table({"k": key, "p": per}).group_by("k", use_threads=False)
                found = found.aggregate([("p", "min"), ("p", "max")])
                key, low, high = found.column("k"), found.column("p_min"), found.column("p_max")
                n = pc.if_else(pc.equal(low, high), 1, 2).cast(pa.int8())
                extra = {"n": pc.fill_null(n, 0)}
            else:  # every distinct (pair, per) with a per value
                per, per_values = codes.get(metric.per or "")
                found = pa.table({"k": key, "p": per}).filter(pc.is_valid(per))
                found = found.group_by(["k", "p"], use_threads=False).aggregate([])
                key, per = found.column("k"), found.column("p")
                extra = {"per": per if per_values is None else per_values.take(per)}
            key = key.combine_chunks() if isinstance(key, pa.ChunkedArray) else key
            group = pc.divide(key, span)
            code = pc.subtract(key, pc.multiply(group, span))
            table = pa.table({"group": group.cast(pa.int32()), "code": code.cast(pa.int32()), **extra})
            self.pairs.add(self._pair_name(metric), table, values)

    def _group_ids(self, rows: int, codes: ColumnCodes) -> pa.Array:
        """Each row's week-wide group id (int32): a group's values get the same id in every slice."""
        if not self.group:
            self.groups.setdefault((), 0)
            return pa.nulls(rows, pa.int32()).fill_null(0)
        columns = [codes.flat(name, name in self.ordered) for name in self.group]
        spans = [len(values) for _, values in columns]
        # (int32 when the mixed key fits: half the bytes of every per-row temporary, and less arithmetic)
        kind = pa.int32() if _span(spans) < _NARROWEST else pa.int64()
        group_key = columns[0][0].cast(kind)
        for (column, _), span in zip(columns[1:], spans[1:], strict=True):
            group_key = pc.add(pc.multiply(group_key, pa.scalar(span, kind)), column.cast(kind))
        if _span(spans) >= _WIDEST:  # too many group values to mix into one int64: number the rows' groups
            group_key, spans = pc.dictionary_encode(group_key).indices.cast(pa.int64()), []
        distinct, row_group = _distinct(group_key, _span(spans) if spans else None)
        if spans:  # the key mixes the group columns' codes: split it back
            parts, rest = [], distinct
            for span in reversed(spans):
                quotient = pc.divide(rest, span)
                parts.append(pc.subtract(rest, pc.multiply(quotient, span)))
                rest = quotient
            decoded = [
                codes.flat(name, name in self.ordered)[1].take(part)
                for name, part in zip(self.group, reversed(parts), strict=True)
            ]
        else:  # numbered keys: read the values at a row of each group
            first = pc.index_in(distinct, value_set=group_key)
            decoded = []
            for name in self.group:
                ordered = name in self.ordered
                decoded.append(_decode(codes, name, ordered, codes.get(name, ordered)[0].take(first)))
        ids = [self.groups.setdefault(key, len(self.groups)) for key in _row_keys(decoded, len(distinct))]
        return pa.array(ids, pa.int32()).take(row_group)

    def _merge(self, partials: list[pa.Table]) -> pa.Table:
        table = pa.concat_tables(partials, promote_options="permissive")
        merged = [metric for metric in self.spec.metrics if self._merged(metric)]
        grouped = table.group_by(self.group, use_threads=False).aggregate(
            [*((metric.name, _MERGE[metric.op]) for metric in merged), (_LINES, "sum")]
        )
        columns = {name: grouped.column(name) for name in self.group}
        for index, metric in enumerate(merged):
            columns[metric.name] = grouped.column(len(self.group) + index)
        columns[_LINES] = grouped.column(len(self.group) + len(merged))
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
                found = self.pairs.counts(self._pair_name(metric))
                ids = [self.groups.get(key, -1) if group else 0 for key in row_keys]
                columns[metric.name] = pa.array([found.get(gid, 0) for gid in ids], pa.int64())
            elif metric.op == "ratio":
                columns[metric.name] = _ratio(
                    columns[metric.numerator], columns[metric.denominator], metric.scale
                )
        return sorted_report(spec, columns)


def _distinct(keys: pa.Array, span: int | None) -> tuple[pa.Array, pa.Array]:
    """The distinct ``keys`` and, per row, the position of its key among them. Keys known to lie in
    ``[0, span)`` for a span not much wider than the rows are found by scattering the rows over the span
    (linear, no hash table: see reports.count_distinct_codes)."""
    if span is None or span > 4 * len(keys):
        encoded = pc.dictionary_encode(keys)
        return encoded.dictionary, encoded.indices
    seen = pc.is_valid(pc.inverse_permutation(keys, max_index=span - 1, output_type=pa.int32()))
    position = pc.subtract(pc.cumulative_sum(seen.cast(pa.int32())), 1)  # key -> place among the distinct
    return pc.indices_nonzero(seen).cast(pa.int64()), position.take(keys)


def _span(spans: list[int]) -> int:
    total = 1
    for span in spans:
        total *= span
    return total
