"""Dedup keep-first, flattening and the output format, on the production statement in local Flink."""

from __future__ import annotations

from collections import Counter, defaultdict

import orjson
import pytest
from clean_lines_model import expected_clean_lines
from conftest import BASE_MS, PEPPER, OrderFactory

from salesflow.config import Environment
from salesflow.events.generator import GenerationStats
from salesflow.events.records import KafkaRecord
from salesflow.sql.harness import FlinkHarness, HarnessRun

MINUTE = 60_000


def _line_sets(rows: list[dict]) -> dict[str, list[int]]:
    sets: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        sets[row["order_id"]].append(row["line_number"])
    return sets


def test_generated_events_give_exactly_the_lines_of_each_first_emission(
    generated_run: HarnessRun, small_events: tuple[list[KafkaRecord], GenerationStats]
) -> None:
    records, stats = small_events
    assert stats.duplicates >= 0.1 * stats.events  # the input really has duplicates
    expected = expected_clean_lines(records, PEPPER)
    assert len(generated_run.rows) == len(expected)
    assert Counter(orjson.dumps(r) for r in generated_run.rows) == Counter(orjson.dumps(r) for r in expected)
    assert generated_run.orders_out == {r.value["order_id"] for r in records}
    assert generated_run.input.records == len(records)


def test_one_line_set_per_order(generated_run: HarnessRun) -> None:
    for order_id, numbers in _line_sets(generated_run.rows).items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), order_id


def test_first_emission_wins_over_retries_resends_and_earlier_arrivals(
    harness: FlinkHarness, dev: Environment, order: OrderFactory
) -> None:
    one_item = (("BOO-00001", 1, "12.50"),)
    records = [
        # A: the original, a producer retry (same event_id) and a re-send with other content.
        order("SO-A", BASE_MS, event="a1", items=(("BOO-00001", 1, "12.50"), ("GAR-00002", 2, "3.99"))),
        order("SO-A", BASE_MS + 150, event="a1", items=(("BOO-00001", 1, "12.50"), ("GAR-00002", 2, "3.99"))),
        # B: its re-send arrives first; the original (earlier $rowtime, within the watermark delay) later.
        order("SO-B", BASE_MS + 2 * MINUTE, event="b2", city="Bonn", items=(("TOY-00003", 9, "1.00"),)),
        order("SO-A", BASE_MS + 3 * MINUTE, event="a2", city="Berlin", items=(("HOM-00004", 7, "99.99"),)),
        order("SO-B", BASE_MS + MINUTE, event="b1", city="Köln", items=one_item),
        # C: emitted once.
        order("SO-C", BASE_MS + 4 * MINUTE, items=(("SPO-00005", 3, "0.10"),)),
    ]
    run = harness.run(dev, records, pepper=PEPPER)
    by_order = defaultdict(list)
    for row in run.rows:
        by_order[row["order_id"]].append(
            (row["line_number"], row["sku"], row["quantity"], row["line_amount"])
        )
    assert {k: sorted(v) for k, v in by_order.items()} == {
        "SO-A": [(1, "BOO-00001", 1, "12.50"), (2, "GAR-00002", 2, "7.98")],
        "SO-B": [(1, "BOO-00001", 1, "12.50")],
        "SO-C": [(1, "SPO-00005", 3, "0.30")],
    }
    assert {row["customer_city"] for row in run.rows if row["order_id"] == "SO-B"} == {"Köln"}
    assert run.dropped_orders == set()


@pytest.mark.parametrize("field", ["order_time"])
def test_output_format_is_the_interchange_format(generated_run: HarnessRun, field: str) -> None:
    row = generated_run.rows[0]
    assert row[field].endswith("Z") and len(row[field]) == len("2026-11-02T00:38:06.557Z")
    assert isinstance(row["unit_price"], str) and isinstance(row["line_amount"], str)
    assert row["unit_price"].count(".") == 1 and len(row["unit_price"].split(".")[1]) == 2
