"""Lateness: first_row keeps a first emission up to the watermark delay late and drops one beyond it
(Flink >= 2.1); window dedup drops a first emission only once its window has fired."""

from __future__ import annotations

import pytest
from conftest import BASE_MS, PEPPER, OrderFactory

from salesflow.config import DEDUP_VARIANTS, Environment
from salesflow.sql.harness import FlinkHarness


def test_lateness_bound_is_the_configured_watermark_delay(
    harness: FlinkHarness, dev: Environment, order: OrderFactory
) -> None:
    delay = dev.confluent.flink.watermark_delay_seconds * 1000
    newest = BASE_MS + delay + 60_000  # arrives first: the watermark becomes newest - delay
    records = [
        order("SO-NEWEST", newest),
        order("SO-WITHIN-1S", newest - delay + 1_000),
        order("SO-AT-BOUND", newest - delay),
        order("SO-BEYOND-1MS", newest - delay - 1),
        order("SO-BEYOND-1S", newest - delay - 1_000),
        # A late first emission is lost, but a re-send that is not late is then the first one seen.
        order("SO-RESCUED", newest - delay - 5_000, event="first"),
        order("SO-RESCUED", newest - delay + 5_000, event="resend", city="Bonn"),
        # Not late, but without items: no line, and not counted as dropped.
        order("SO-NO-ITEMS", newest - 30_000, items=()),
    ]
    run = harness.run(dev, records, pepper=PEPPER)
    assert run.orders_out == {"SO-NEWEST", "SO-WITHIN-1S", "SO-AT-BOUND", "SO-RESCUED"}
    assert run.dropped_orders == {"SO-BEYOND-1MS", "SO-BEYOND-1S"}
    assert run.input.itemless == {"SO-NO-ITEMS"}
    assert [row["customer_city"] for row in run.rows if row["order_id"] == "SO-RESCUED"] == ["Bonn"]


def test_the_same_records_in_timestamp_order_are_all_kept(
    harness: FlinkHarness, dev: Environment, order: OrderFactory
) -> None:
    delay = dev.confluent.flink.watermark_delay_seconds * 1000
    newest = BASE_MS + delay + 60_000
    records = sorted(
        [order("SO-NEWEST", newest), order("SO-BEYOND-1S", newest - delay - 1_000)], key=lambda r: r.timestamp
    )
    assert harness.run(dev, records, pepper=PEPPER).dropped_orders == set()


# Arrival order; what each variant writes. Watermark = newest $rowtime - delay; E is a window end.
# first_row drops a first emission behind the watermark; window drops one whose window has already
# fired (its last millisecond is at or behind the watermark) and keeps one behind the watermark whose
# window is still open, which is up to one window longer.
_WINDOW_LATENESS = {
    # order: (offset from E, offset in delays, in windows) of its $rowtime, kept by first_row, by window
    "SO-NEWEST": ((-1, 1, 0), True, True),  # watermark E - 1: the window ending at E has fired
    "SO-CLOSED": ((-1, 0, 0), True, False),  # at the watermark, but in the fired window
    "SO-NEXT": ((0, 0, 0), True, True),  # first millisecond of the next window
    "SO-NEWEST-2": ((0, 1, 0.5), True, True),  # watermark E + half a window
    "SO-OPEN": ((1_000, 0, 0), False, True),  # far behind the watermark, its window still open
    "SO-BEYOND": ((0, 0, -1), False, False),  # a window that fired long ago
}


@pytest.mark.parametrize("variant", DEDUP_VARIANTS)
def test_window_dedup_drops_a_first_emission_only_once_its_window_fired(
    harness: FlinkHarness, dev: Environment, order: OrderFactory, variant: str
) -> None:
    environment = dev.with_dedup(variant)
    flink = environment.confluent.flink
    delay, window = flink.watermark_delay_seconds * 1000, flink.dedup_window_seconds * 1000
    end = BASE_MS + 2 * window
    records = [
        order(name, end + offset + delays * delay + int(windows * window))
        for name, ((offset, delays, windows), _first_row, _window) in _WINDOW_LATENESS.items()
    ]
    run = harness.run(environment, records, pepper=PEPPER)
    kept = {
        name
        for name, (_at, first_row, in_window) in _WINDOW_LATENESS.items()
        if (first_row if variant == "first_row" else in_window)
    }
    assert run.orders_out == kept
    assert run.dropped_orders == set(_WINDOW_LATENESS) - kept
