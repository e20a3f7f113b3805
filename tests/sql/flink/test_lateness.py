"""A first emission up to the watermark delay late is kept; one beyond it is dropped (Flink >= 2.1)."""

from __future__ import annotations

from conftest import BASE_MS, PEPPER, OrderFactory

from salesflow.config import Environment
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
