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
