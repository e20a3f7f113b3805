"""The what-ifs answer on the same model: each one's difference is computed here by hand."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from salesflow.config import load_environment
from salesflow.ops.cost.estimate import estimate
from salesflow.ops.cost.prices import Prices
from salesflow.ops.cost.render import Report, markdown, table
from salesflow.ops.cost.whatif import what_ifs

D = Decimal


WHAT_IFS = {
    "dev": {
        # Basic: the first eCKU is free, 730 x 0.75 saved.
        "The Kafka cluster on Basic (single zone)": D("-547.500000"),
        # The 0.047417 GB table at S3 eu-central-1 (0.0245) instead of managed (0.023): 0.001162 - 0.001091
        "Tableflow in your own bucket (s3://salesflow-tableflow-dev)": D("0.000071"),
        # 730 CFU-h x 0.21 + reading the raw topic, 0.042492 GB x 0.05
        "One more continuous statement": D("153.302125"),
    },
    "prod": {
        # Enterprise HIGH 730 x 2.25 -> Basic, first eCKU free.
        "The Kafka cluster on Basic (single zone)": D("-1642.500000"),
        # prod's table is in its own bucket already: 15.173553 GB x (0.023 - 0.0245) = 0.348992 - 0.371752
        "Tableflow on Confluent managed storage": D("-0.022760"),
        # 730 x 0.21 + 1.699664 GB x 0.05
        "One more continuous statement": D("153.384983"),
    },
}


@pytest.mark.parametrize("env", sorted(WHAT_IFS))
def test_the_what_ifs_cost_what_was_computed_by_hand(env: str, stacks_of: Callable, prices: Prices) -> None:
    environment = load_environment(env)
    stacks = stacks_of(env)
    current = estimate(environment, stacks, prices)
    answers = {answer.question: answer.delta for answer in what_ifs(environment, stacks, prices, current)}
    assert answers == WHAT_IFS[env]
    assert stacks == stacks_of(env), "a what-if must not edit the stacks it was given"


def test_the_what_ifs_are_a_section_of_the_table_and_the_comment(stacks_of: Callable, prices: Prices) -> None:
    environment = load_environment("dev")
    stacks = stacks_of("dev")
    current = estimate(environment, stacks, prices)
    report = Report(current, None, tuple(what_ifs(environment, stacks, prices, current)))
    assert "What if\n  The Kafka cluster on Basic (single zone)" in table(report)
    assert "-$547.50 a month" in table(report)
    assert "| One more continuous statement | $945.48 | +$153.30 |" in markdown(report)  # 792.18 + 153.30
