"""Shared fixtures. Tests under tests/sql/flink run in the Flink environment (.venv-flink): see Makefile."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

from salesflow.events.generator import GenerationStats, GeneratorSettings, generate
from salesflow.events.records import KafkaRecord

REPO_ROOT = Path(__file__).resolve().parent.parent

# The Flink suite needs PyFlink, which only the Flink environment has; the main suite needs pyiceberg,
# which the Flink environment cannot have. Each environment collects its own half.
if importlib.util.find_spec("pyflink") is None:
    collect_ignore = ["sql/flink"]

# `make test` runs the suite on every core (pytest-xdist, --dist loadgroup). A group runs on one worker,
# so its module- and session-scoped fixtures are built once: each test module is its own group, and
# tests/terraform/ is one group (one synthesis, one checkov run). Groups are handed out longest first so
# that no long one starts last; the weights are CPU seconds measured on this machine type.
SHARED_GROUPS = ("tests/terraform/", "tests/exporter/test_analyst_")
GROUP_WEIGHTS = {
    "tests/delivery/test_terraform_stacks.py": 70,
    "tests/delivery/test_revert_determinism.py": 60,
    "tests/exporter/test_exporter_package.py": 60,
    "tests/terraform/": 55,
    "tests/twin/test_demo.py": 30,
    "tests/exporter/test_analyst_": 25,
    "tests/sql/test_sql_cli.py": 20,
    "tests/exporter/test_exporter_cli.py": 18,
    "tests/exporter/test_exporter_failures.py": 15,
}


def _group(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return next((shared for shared in SHARED_GROUPS if path.startswith(shared)), path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item.nodeid)))
    order = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda item: (-GROUP_WEIGHTS.get(_group(item.nodeid), 0), order[id(item)]))


@pytest.fixture(scope="session")
def small_settings() -> GeneratorSettings:
    return GeneratorSettings(
        start=datetime(2026, 11, 2, tzinfo=UTC),
        end=datetime(2026, 11, 23, tzinfo=UTC),
        events=3_000,
        seed=11,
        duplicate_share=0.2,
        late_share=0.05,
    )


@pytest.fixture(scope="session")
def small_events(small_settings: GeneratorSettings) -> tuple[list[KafkaRecord], GenerationStats]:
    stats = GenerationStats()
    return list(generate(small_settings, stats)), stats
