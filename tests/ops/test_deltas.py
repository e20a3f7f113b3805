"""Pull-request-like changes, made on a copy of the synthesized JSON the way a changed construct would
synthesize, give the deltas computed by hand, and the Markdown for the sticky comment shows them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from salesflow.config import load_environment
from salesflow.ops.cost.baseline import Baseline
from salesflow.ops.cost.estimate import estimate
from salesflow.ops.cost.prices import Prices
from salesflow.ops.cost.render import Report, markdown

D = Decimal


def _cluster(stacks: dict, env: str) -> dict:
    return stacks[f"{env}-confluent"]["resource"]["confluent_kafka_cluster"]["kafka_cluster"]


def cluster_to_basic(stacks: dict) -> None:
    cluster = _cluster(stacks, "dev")
    del cluster["standard"]
    cluster["basic"] = [{}]


def cluster_to_enterprise_high(stacks: dict) -> None:
    cluster = _cluster(stacks, "dev")
    del cluster["standard"]
    cluster["enterprise"] = [{}]
    cluster["availability"] = "HIGH"


def add_statement(stacks: dict) -> None:
    """A second continuous statement reading the raw topic into a new table (a new version-1 statement)."""
    statements = stacks["dev-flink"]["resource"]["confluent_flink_statement"]
    statements["statement_orders_by_channel_v1"] = {
        "statement_name": "dev-orders-by-channel-v1",
        "statement": "INSERT INTO `orders_by_channel`\nSELECT `channel`, COUNT(*)\nFROM `sales_orders_raw`\n"
        "GROUP BY `channel`;",
        "properties": {"sql.current-catalog": "salesflow-dev", "sql.current-database": "sales-dev"},
    }


def tableflow_on_raw_topic(stacks: dict) -> None:
    """Tableflow enabled on the raw topic as well, on managed storage."""
    topics = stacks["dev-flink"]["resource"]["confluent_tableflow_topic"]
    topics["raw_topic_tableflow"] = dict(topics["clean_topic_tableflow"], display_name="sales_orders_raw")


STANDARD = ("Kafka cluster", "sales-dev: standard, low availability, 1 eCKU")

# raw topic: 5,000 x 300 B x 30.41667 d / 2^30 = 0.042492 GB a month.
CHANGES = {
    # 730 eCKU-h free on Basic (the first eCKU) instead of 730 x 0.75.
    "cluster standard -> basic": (
        cluster_to_basic,
        D("-547.500000"),
        {("Kafka cluster", "sales-dev: basic, low availability, 1 eCKU (730 eCKU-hour free)")},
        {STANDARD},
    ),
    # 730 x (2.25 - 0.75)
    "cluster standard -> enterprise HIGH": (
        cluster_to_enterprise_high,
        D("1095.000000"),
        {("Kafka cluster", "sales-dev: enterprise, high availability, 1 eCKU")},
        {STANDARD},
    ),
    # 730 CFU-h x 0.21 + reading the raw topic 0.042492 GB x 0.05 (its output topic has no known volume)
    "one more continuous statement": (
        add_statement,
        D("153.300000") + D("0.002125"),
        {
            ("Flink statement", "dev-orders-by-channel-v1"),
            ("Kafka egress", "dev-orders-by-channel-v1 reads sales_orders_raw"),
        },
        set(),
    ),
    # 730 topic-h x 0.10 + 0.042492 GB x 0.04 + managed storage 0.042492 x 0.3 x 3 months = 0.038243 x 0.023
    "Tableflow on a second topic": (
        tableflow_on_raw_topic,
        D("73.000000") + D("0.001700") + D("0.000880"),
        {
            ("Tableflow topic", "sales_orders_raw"),
            ("Tableflow data processed", "sales_orders_raw"),
            ("Tableflow storage, managed", "sales_orders_raw (3 months)"),
        },
        set(),
    ),
}


@pytest.mark.parametrize(("change", "delta", "changed", "removed"), CHANGES.values(), ids=list(CHANGES))
def test_a_change_costs_what_was_computed_by_hand(
    change: Callable, delta: Decimal, changed: set, removed: set, stacks_of: Callable, prices: Prices
) -> None:
    environment = load_environment("dev")
    base = estimate(environment, stacks_of("dev"), prices)
    stacks = stacks_of("dev")
    change(stacks)
    head = estimate(environment, stacks, prices)
    assert head.total - base.total == delta
    before = {c.key: c.monthly for c in base.components}
    after = {c.key: c.monthly for c in head.components}
    assert {key for key, monthly in after.items() if before.get(key) != monthly} == changed
    assert before.keys() - after.keys() == removed


def test_the_comment_shows_the_delta_and_the_changed_components(stacks_of: Callable, prices: Prices) -> None:
    environment = load_environment("dev")
    base = Baseline("main", "0123456789ab", estimate(environment, stacks_of("dev"), prices))
    stacks = stacks_of("dev")
    add_statement(stacks)
    text = markdown(Report(estimate(environment, stacks, prices), base))
    assert text.startswith("### Cost: dev\n")
    # 792.175726 + 730 x 0.21 + 0.042492 GB x 0.05 = 945.477851
    assert "Estimated **$945.48 a month** (USD list prices)." in text
    assert "Against `main` (`0123456789ab`): **+$153.30 a month** (base $792.18)." in text
    assert "| Flink statement | dev-orders-by-channel-v1 | $0.00 | $153.30 | +$153.30 |" in text
    assert (
        "| Kafka egress | dev-orders-by-channel-v1 reads sales_orders_raw | $0.00 | $0.00 | +$0.00 |" in text
    )
    assert "rests on unconfirmed prices (marked †" in text


def test_an_unchanged_pull_request_says_so(stacks_of: Callable, prices: Prices) -> None:
    environment = load_environment("prod")
    current = estimate(environment, stacks_of("prod"), prices)
    text = markdown(Report(current, Baseline("main", "0123456789ab", current)))
    assert "**+$0.00 a month**" in text
    assert "No component changes its monthly cost." in text
