"""Distinct counts across slices (exporter.pairs): a week folded slice by slice, its pairs in several
partitions held in memory or spilled to (moto) S3, gives the whole week's report, for every kind of
non-additive metric the reports can declare."""

from __future__ import annotations

import itertools
import random
import uuid

import pyarrow as pa
import pytest

from exporter.aggregates import Aggregator
from exporter.pairs import PairStore, Spill
from exporter.reports import ColumnCodes, compute_aggregate, load_reports

REPORTS = """
reports:
  per_channel:
    description: Every non-additive metric, per a nullable group column.
    group_by: [channel]
    metrics:
      - {name: customers, op: count_distinct, column: customer_key}
      - {name: repeaters, op: count_repeat, column: customer_key, per: order_id}
      - {name: multi_sku, op: count_repeat, column: customer_key, per: sku}
      - {name: quantities, op: count_distinct, column: quantity}
      - {name: last_key, op: max, column: customer_key}
      - {name: orders, op: count_distinct, column: order_id}
  week:
    description: The same over the whole week, no group.
    metrics:
      - {name: customers, op: count_distinct, column: customer_key}
      - {name: repeaters, op: count_repeat, column: customer_key, per: order_id}
      - {name: skus, op: count_distinct, column: sku}
"""


def _week(orders: int = 600, seed: int = 7) -> list[pa.Table]:
    """Slices of a week: an order's lines in one slice; null customers, channels and skus among them."""
    rng = random.Random(seed)
    rows: dict[str, list] = {name: [] for name in ("order_id", "channel", "customer_key", "sku", "quantity")}
    for order in range(orders):
        customer = rng.choice([None, *(f"c{n:03d}" for n in range(120))])
        channel = rng.choice(["WEB", "STORE", None])
        for _ in range(rng.randint(1, 3)):
            rows["order_id"].append(f"o{order}")
            rows["channel"].append(channel)
            rows["customer_key"].append(customer)
            rows["sku"].append(rng.choice(["A", "B", "C", None]))
            rows["quantity"].append(rng.choice([1, 2, 3, None]))
    lines = pa.table(rows)
    cuts = sorted(rng.sample(range(1, orders), 6))
    starts = [rows["order_id"].index(f"o{cut}") for cut in cuts]
    bounds = [0, *starts, lines.num_rows]
    return [lines.slice(low, high - low) for low, high in itertools.pairwise(bounds)]


@pytest.fixture
def spill(aws):
    bucket = f"pairs-{uuid.uuid4().hex[:12]}"
    aws.create_bucket(bucket)
    return Spill(aws.client("s3"), bucket, "run/_spill")


# How a store holds the pairs: (spill to S3 or not, byte budget, the week's rows it is told, spilled?).
HOLDING = {
    "in memory": (False, 0, 0, False),
    "spilled over the budget": (True, 0, 0, True),
    # The first slice's pairs fit the budget, but the week's projected from them do not: every slice spills.
    "spilled by the projection": (True, 1 << 30, 1 << 40, True),
    "held within the budget": (True, 1 << 30, 0, False),
}


@pytest.mark.parametrize("partitions", [1, 3])
@pytest.mark.parametrize("holding", HOLDING)
def test_slices_fold_into_the_whole_week(tmp_path, spill, partitions, holding) -> None:
    path = tmp_path / "reports.yaml"
    path.write_text(REPORTS)
    specs = load_reports(path).values()
    slices = _week()
    to_s3, budget, week_rows, spilled = HOLDING[holding]
    whole = pa.concat_tables(slices)
    store = PairStore(partitions, spill if to_s3 else None, budget, week_rows or whole.num_rows)
    aggregators = [Aggregator(spec, store) for spec in specs]
    for rows in slices:
        codes = ColumnCodes(rows)
        for aggregator in aggregators:
            aggregator.add(rows, codes)
        store.end_slice(rows.num_rows)
    # One object per slice and value column (customer_key, quantity, sku) once spilled.
    assert len(spill.written) == (len(slices) * 3 if spilled else 0)
    for aggregator, spec in zip(aggregators, specs, strict=True):
        assert aggregator.result().to_pylist() == compute_aggregate(spec, whole).to_pylist(), spec.name
    if spilled:
        spill.delete()
        assert spill.s3.list_objects_v2(Bucket=spill.bucket).get("KeyCount") == 0


WIDE_GROUPS = """
reports:
  per_triple:
    description: Three group columns, their codes mixed into one key per row.
    group_by: [a, b, c]
    metrics:
      - {name: lines, op: count}
      - {name: customers, op: count_distinct, column: customer_key}
      - {name: repeaters, op: count_repeat, column: customer_key, per: order_id}
"""


# Distinct values per group column: 3 ** 3 mixes into an int32 key, 1_300 ** 3 (> 2 ** 31) into an int64 one.
@pytest.mark.parametrize("distinct", [3, 1_300])
def test_groups_of_several_columns_fold_into_the_whole_week(tmp_path, distinct) -> None:
    path = tmp_path / "reports.yaml"
    path.write_text(WIDE_GROUPS)
    (spec,) = load_reports(path).values()
    rng = random.Random(distinct)
    rows = 4_000
    values = [f"v{n:04d}" for n in range(distinct)]
    columns = {name: [rng.choice([*values, None]) for _ in range(rows)] for name in "abc"}
    for name, start in itertools.product("abc", range(0, rows, 2_000)):  # every value in every slice
        columns[name][start : start + len(values)] = rng.sample(values, len(values))
    columns["order_id"] = [f"o{row // 2}" for row in range(rows)]
    columns["customer_key"] = [f"c{rng.randrange(300)}" for _ in range(rows)]
    whole = pa.table(columns)
    store = PairStore(2, None, 0, rows)
    aggregator = Aggregator(spec, store)
    for start in range(0, rows, 2_000):  # (slices end on an order's bound: two lines per order)
        part = whole.slice(start, 2_000)
        aggregator.add(part, ColumnCodes(part))
        store.end_slice(part.num_rows)
    assert aggregator.result().to_pylist() == compute_aggregate(spec, whole).to_pylist()
