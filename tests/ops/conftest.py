"""Fixtures of the cost tests: the session's one real synthesis (tests/conftest.py), split per environment,
and the price book. Tests edit deep copies of the JSON in memory to stand for pull requests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from infra_support import Synthesis

from salesflow.ops.cost.prices import PriceBook, Prices

FIXTURES = Path(__file__).resolve().parent / "fixtures"
Stacks = dict[str, dict[str, Any]]


@pytest.fixture(scope="session")
def prices() -> Prices:
    return Prices(PriceBook.load())


@pytest.fixture(scope="session")
def stacks_of(synthesis: Synthesis) -> Callable[[str], Stacks]:
    """A fresh deep copy of one environment's synthesized stacks (name -> cdk.tf.json)."""

    def stacks(env: str) -> Stacks:
        return copy.deepcopy(
            {name: doc for name, doc in synthesis.stacks.items() if name.startswith(f"{env}-")}
        )

    return stacks


@pytest.fixture(scope="session")
def price_list_path() -> Path:
    return FIXTURES / "confluent-price-list.json"
