"""Shared fixtures. Tests under tests/sql/flink run in the Flink environment (.venv-flink): see Makefile."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from salesflow.events.generator import GenerationStats, GeneratorSettings, generate
from salesflow.events.records import KafkaRecord

REPO_ROOT = Path(__file__).resolve().parent.parent
# infra_support (tests/terraform) synthesizes; tests/terraform and tests/ops share its one synthesis.
sys.path.insert(0, str(REPO_ROOT / "tests" / "terraform"))
from infra_support import FIXTURE_MANIFEST, MARKER_CREDENTIALS, Synthesis, run_synth  # noqa: E402

# The Flink suite needs PyFlink, which only the Flink environment has; the main suite needs pyiceberg,
# which the Flink environment cannot have. Each environment collects its own half.
if importlib.util.find_spec("pyflink") is None:
    collect_ignore = ["sql/flink"]

# `make test` runs the suite on every core (pytest-xdist). A group of tests runs on one worker, so its
# module- and session-scoped fixtures are built once: each test module is its own group, and the tests of
# the synthesized stacks (tests/terraform/, tests/ops/) are one group: one synthesis, one checkov run;
# tests/cloud/ is one group: one Confluent test server; the analysts' e-mail tests share one e-mail run.
# Groups are handed out heaviest first so that no long one starts last; the weights are seconds measured on
# this machine type (CPU, or wall time for a group that mostly waits). A group that mostly waits goes first:
# while the Flink suite runs beside the two workers, a waiting worker leaves its core to the others; later,
# it would leave a core idle. (A scheduler of our own rather than xdist's `xdist_group` marks: with pytest 9
# those marks no longer reach xdist's scheduler.)
SHARED_GROUPS = {
    "tests/terraform/": "synthesized stacks",
    "tests/ops/": "synthesized stacks",
    "tests/cloud/": "tests/cloud/",
    "tests/exporter/test_analyst_": "tests/exporter/test_analyst_",
}
GROUP_WEIGHTS = {
    "tests/delivery/test_smoke.py": 100,  # ~2 s of CPU, ~30 s of waiting for the mock Kafka cluster
    "tests/twin/test_demo.py": 95,  # a local Flink JVM and the exporter: ~1/3 of its ~35 s is waiting
    "tests/sql/test_sql_cli.py": 90,  # a local Flink JVM in a subprocess: ~1/2 of its ~20 s is waiting
    "synthesized stacks": 78,
    "tests/delivery/test_terraform_stacks.py": 55,
    "tests/delivery/test_revert_determinism.py": 36,
    "tests/exporter/test_exporter_package.py": 32,
    "tests/exporter/test_exporter_run.py": 28,
    "tests/exporter/test_exporter_failures.py": 24,
    "tests/exporter/test_exporter_streaming.py": 21,
    "tests/exporter/test_analyst_": 19,
    "tests/exporter/test_monitor_package.py": 17,
    "tests/cloud/": 16,
    "tests/exporter/test_exporter_cli.py": 14,
    "tests/sql/test_sql_lint.py": 11,
    "tests/exporter/test_exporter_pii.py": 7,
    "tests/delivery/test_bootstrap.py": 6,
    "tests/events/test_generator.py": 6,
}


def xdist_scope(nodeid: str) -> str:
    """The xdist work unit of a test: its module, or the shared group its folder belongs to."""
    path = nodeid.split("::", 1)[0]
    return next((group for prefix, group in SHARED_GROUPS.items() if path.startswith(prefix)), path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    order = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda item: (-GROUP_WEIGHTS.get(xdist_scope(item.nodeid), 0), order[id(item)]))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's load-scope scheduler with our groups as scopes, in collection order (heaviest first)."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    config.option.loadscopereorder = False
    return GroupScheduling(config, log)


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
