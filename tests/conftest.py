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
