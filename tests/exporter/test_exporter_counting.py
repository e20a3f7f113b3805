"""Distinct counts by scattering codes (dedup check, orders) agree with pyarrow's hash count."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from exporter.dedup import drop_duplicate_lines
from exporter.reports import ColumnCodes, count_distinct_codes


@pytest.mark.parametrize(
    ("rows", "size", "nulls"), [(0, 0, 0), (1, 1, 0), (1000, 50, 0), (1000, 900, 30), (10, 10**6, 2)]
)
def test_count_distinct_codes_agrees_with_count_distinct(rows, size, nulls) -> None:
    rng = random.Random(rows + size)
    values = [rng.randrange(size) for _ in range(rows - nulls)] + [None] * nulls
    rng.shuffle(values)
    codes = pa.chunked_array([values[: rows // 2], values[rows // 2 :]], pa.int64())
    assert count_distinct_codes(codes, size) == pc.count_distinct(codes).as_py()


def _lines(order_ids: list[str], numbers: list[int]) -> pa.Table:
    times = pa.array(range(len(order_ids)), pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    return pa.table(
        {"order_id": order_ids, "line_number": pa.array(numbers, pa.int32()), "order_time": times}
    )


@pytest.mark.parametrize("second", [2, 5, 10**9])  # 10**9: a line-number span too wide to scatter
def test_a_duplicate_is_found_whatever_the_line_number_span(second) -> None:
    unique = _lines(["a", "a", "b"], [1, second, 1])
    assert drop_duplicate_lines(unique) == (unique, 0)
    doubled = _lines(["a", "a", "b", "a"], [1, second, 1, second])
    kept, dropped = drop_duplicate_lines(doubled)
    assert dropped == 1 and kept.num_rows == 3
    assert sorted(zip(kept["order_id"].to_pylist(), kept["line_number"].to_pylist(), strict=True)) == sorted(
        [("a", 1), ("a", second), ("b", 1)]
    )


def test_orders_count_only_the_codes_in_use() -> None:
    # A dictionary may hold values no remaining row uses (rows filtered out after decoding).
    ids = pa.DictionaryArray.from_arrays(pa.array([0, 2, 2], pa.int32()), pa.array(["x", "unused", "y"]))
    assert ColumnCodes(pa.table({"order_id": ids})).count_distinct("order_id") == 2
