"""Exactly-once lines: drop duplicate (order_id, line_number) rows of the week, keeping the earliest.

A Flink statement cutover may replay a window into the clean topic, so the same line can appear
twice. The kept row is the one with the earliest order_time; among equal times, the one that sorts
first by every other column, so the choice never depends on which file was read first.

The export deduplicates each time slice of the week (exporter.read.read_slices). A replayed line
repeats its order_time (it comes from the same order event), and slices never share an order_time,
so all copies of a line meet in one slice. Copies of a line with *different* order_times (no replay
produces them) are deduplicated only when they fall into the same slice.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from exporter.reports import ColumnCodes, count_distinct_codes, sort_order

KEY = ("order_id", "line_number")
TIME = "order_time"


def drop_duplicate_lines(lines: pa.Table, codes: ColumnCodes | None = None) -> tuple[pa.Table, int]:
    """Return the deduplicated lines and how many rows were dropped."""
    if lines.num_rows == 0:
        return lines, 0
    if _keys_unique(lines, codes or ColumnCodes(lines)):
        return lines, 0  # the usual case: nothing to drop, no sort
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


def _keys_unique(lines: pa.Table, codes: ColumnCodes) -> bool:
    """Whether no two lines share (order_id, line_number), counted on one integer per line:
    order code * span + (line number - lowest). Both are required by the contract; a null in either
    would not be counted, so such a table would take the sorting path."""
    order_codes, order_ids = codes.get(KEY[0])
    numbers = lines.column(KEY[1])
    low, high = (value.as_py() for value in pc.min_max(numbers).values())
    if order_ids is None or low is None:  # order ids that are not text, or no line numbers
        return False
    span = high - low + 1
    keys = pc.add(pc.multiply(order_codes.cast(pa.int64()), span), pc.subtract(numbers.cast(pa.int64()), low))
    return count_distinct_codes(keys, len(order_ids) * span) == lines.num_rows
