"""Exactly-once lines: drop duplicate (order_id, line_number) rows of the week, keeping the earliest.

A Flink statement cutover may replay a window into the clean topic, so the same line can appear
twice. The kept row is the one with the earliest order_time; among equal times, the one that sorts
first by every other column, so the choice never depends on which file was read first.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from exporter.reports import ColumnCodes, sort_order

KEY = ("order_id", "line_number")
TIME = "order_time"


def drop_duplicate_lines(lines: pa.Table, codes: ColumnCodes | None = None) -> tuple[pa.Table, int]:
    """Return the deduplicated lines and how many rows were dropped."""
    if lines.num_rows == 0:
        return lines, 0
    order_codes = (codes or ColumnCodes(lines)).get(KEY[0])[0]
    # (order code, line number) packed into one int64: counting distinct integers is cheap.
    packed = pc.add(pc.multiply(order_codes.cast(pa.int64()), 1 << 32), lines.column(KEY[1]).cast(pa.int64()))
    if len(pc.unique(packed)) == lines.num_rows:  # the usual case: nothing to drop, no sort
        return lines, 0
    others = [name for name in lines.column_names if name not in (*KEY, TIME)]
    keys = [*KEY, TIME, *others]
    order = sort_order(lines, keys)
    ids = lines.column(KEY[0]).take(order).combine_chunks()
    numbers = lines.column(KEY[1]).take(order).combine_chunks()
    changed = pc.or_(
        pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1)),
        pc.not_equal(numbers.slice(1), numbers.slice(0, len(numbers) - 1)),
    )
    first_of_key = pa.concat_arrays([pa.array([True]), changed])
    kept = lines.take(order.filter(first_of_key))  # every report sorts its own output
    return kept, lines.num_rows - kept.num_rows
