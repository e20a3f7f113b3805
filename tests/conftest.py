"""Shared fixtures. Tests under tests/flink run in the Flink environment (.venv-flink): see the Makefile."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from salesflow.generator import GenerationStats, GeneratorSettings, generate
from salesflow.records import KafkaRecord

REPO_ROOT = Path(__file__).resolve().parent.parent
# infra_support (tests/infra) synthesizes; tests/infra and tests/ops share its one synthesis per session.
sys.path.insert(0, str(REPO_ROOT / "tests" / "infra"))
from infra_support import FIXTURE_MANIFEST, MARKER_CREDENTIALS, Synthesis, run_synth  # noqa: E402

# The Flink suite needs PyFlink, which only the Flink environment has; the main suite needs pyiceberg,
# which the Flink environment cannot have. Each environment collects its own half.
if importlib.util.find_spec("pyflink") is None:
    collect_ignore = ["flink"]


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


@pytest.fixture(scope="session")
def synth_environment() -> Iterator[None]:
    """Fixture manifest, marker pepper and marker credentials for the whole session."""
    values = {"SALESFLOW_EXPORTER_MANIFEST": str(FIXTURE_MANIFEST), **MARKER_CREDENTIALS}
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def synthesis(synth_environment: None, tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """One real synthesis of every environment (terraform/main.py's equivalent), shared by the session."""
    return run_synth(tmp_path_factory.mktemp("synth") / "cdktf.out")
