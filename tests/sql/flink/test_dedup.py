"""Dedup (both variants), flattening and the output format, on the production statements in local Flink.

first_row keeps the first emission of each order; window keeps the first emission of each order in each
tumbling window, so a duplicate in a later window passes and the weekly exporter's (order_id,
line_number) dedup removes it: both end as exactly the lines of each order's first emission."""

from __future__ import annotations

from collections import Counter, defaultdict

import orjson
import pytest
from clean_lines_model import expected_clean_lines
from conftest import BASE_MS, PEPPER, OrderFactory, window_ms

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


def _counted(rows: list[dict]) -> Counter[bytes]:
    return Counter(orjson.dumps(row) for row in rows)


def test_generated_events_give_exactly_the_lines_of_each_first_emission(
    generated_run: HarnessRun,
    variant_env: Environment,
    small_events: tuple[list[KafkaRecord], GenerationStats],
) -> None:
    """first_row: the lines of each order's first emission; window: of its first emission in each
    window (compared row by row with the model)."""
    records, stats = small_events
    assert stats.duplicates >= 0.1 * stats.events  # the input really has duplicates
    expected = expected_clean_lines(records, PEPPER, window_ms(variant_env))
    assert len(generated_run.rows) == len(expected)
    assert _counted(generated_run.rows) == _counted(expected)
    assert generated_run.orders_out == {r.value["order_id"] for r in records}
    assert generated_run.input.records == len(records)


def test_one_line_set_per_order_after_the_exporter_dedup(
    generated_run: HarnessRun,
    variant_env: Environment,
    small_events: tuple[list[KafkaRecord], GenerationStats],
    exporter_dedup,
) -> None:
    """The window variant lets re-sends in a later window through; the exporter's dedup (run on exactly
    what Flink wrote) leaves one line set per order: the first emission's, as keep-first gives directly."""
    records, _stats = small_events
    sets = _line_sets(generated_run.rows)
    repeated = {order for order, numbers in sets.items() if len(numbers) != len(set(numbers))}
    if variant_env.confluent.flink.dedup == "first_row":
        assert repeated == set()
        exported = generated_run.rows  # nothing for the exporter to drop (a subprocess saved)
    else:
        assert len(repeated) > 20, "the generated re-sends should straddle windows"
        exported = exporter_dedup(generated_run.rows)
    assert _counted(exported) == _counted(expected_clean_lines(records, PEPPER))
    for order_id, numbers in _line_sets(exported).items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), order_id


def test_first_emission_wins_over_retries_resends_and_earlier_arrivals(
    harness: FlinkHarness, variant_env: Environment, order: OrderFactory, exporter_dedup
) -> None:
    """Within one window both variants keep the first emission; a re-send in the next window (SO-S)
    passes window dedup, and the exporter keeps the first one."""
    one_item = (("BOO-00001", 1, "12.50"),)
    window = variant_env.confluent.flink.dedup_window_seconds * 1000
    assert BASE_MS % window == 0 and window > 4 * MINUTE  # SO-A, SO-B and SO-C share the first window
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
        # S: emitted 1 s before the first window ends; re-sent 1 s into the next one, with other content.
        order("SO-S", BASE_MS + window - 1_000, event="s1", city="Köln"),
        order("SO-S", BASE_MS + window + 1_000, event="s2", city="Bonn", items=(("TOY-00003", 2, "1.00"),)),
    ]
    run = harness.run(variant_env, records, pepper=PEPPER)
    by_order = defaultdict(list)
    for row in run.rows:
        by_order[row["order_id"]].append(
            (row["line_number"], row["sku"], row["quantity"], row["line_amount"])
        )
    straddled = [(1, "BOO-00001", 1, "12.50")]
    if variant_env.confluent.flink.dedup == "window":
        straddled.append((1, "TOY-00003", 2, "2.00"))  # the re-send's window had no earlier emission
    assert {k: sorted(v) for k, v in by_order.items()} == {
        "SO-A": [(1, "BOO-00001", 1, "12.50"), (2, "GAR-00002", 2, "7.98")],
        "SO-B": [(1, "BOO-00001", 1, "12.50")],
        "SO-C": [(1, "SPO-00005", 3, "0.30")],
        "SO-S": sorted(straddled),
    }
    assert {row["customer_city"] for row in run.rows if row["order_id"] == "SO-B"} == {"Köln"}
    assert run.dropped_orders == set()
    if variant_env.confluent.flink.dedup == "window":
        exported = exporter_dedup(run.rows)
        assert [(row["sku"], row["customer_city"]) for row in exported if row["order_id"] == "SO-S"] == [
            ("BOO-00001", "Köln")
        ]


@pytest.mark.parametrize("field", ["order_time"])
def test_output_format_is_the_interchange_format(generated_run: HarnessRun, field: str) -> None:
    row = generated_run.rows[0]
    assert row[field].endswith("Z") and len(row[field]) == len("2026-11-02T00:38:06.557Z")
    assert isinstance(row["unit_price"], str) and isinstance(row["line_amount"], str)
    assert row["unit_price"].count(".") == 1 and len(row["unit_price"].split(".")[1]) == 2
