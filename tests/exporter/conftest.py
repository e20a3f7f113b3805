"""Fixtures for the exporter: a real PyIceberg SQL-catalog table and moto in server mode on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from exporter_testkit import Target, clean_lines

from salesflow.events.generator import GenerationStats
from salesflow.events.records import KafkaRecord
from salesflow.twin.lakehouse import Lakehouse, append_clean_lines, create_clean_table
from salesflow.twin.local_aws import LocalAws, local_aws


@pytest.fixture(scope="session")
def aws() -> Iterator[LocalAws]:
    with local_aws() as server:
        yield server


@pytest.fixture(autouse=True)
def _aws_environment(aws: LocalAws, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in aws.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws.endpoint_url)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "salesflow-exporter-test")


@pytest.fixture(scope="session")
def generated_lines(small_events: tuple[list[KafkaRecord], GenerationStats]) -> list[dict[str, Any]]:
    """Clean lines of the root fixture's events (2026-11-02 to 2026-11-23: weeks W45 to W47)."""
    records, _stats = small_events
    return clean_lines(records)


@pytest.fixture(scope="session")
def shared_lakehouse(tmp_path_factory: pytest.TempPathFactory, generated_lines) -> Lakehouse:
    """A table the tests only read: the generated lines in commits of 500 (one snapshot each)."""
    lakehouse = Lakehouse(tmp_path_factory.mktemp("lakehouse"))
    table = create_clean_table(lakehouse.catalog())
    append_clean_lines(table, generated_lines, commit_rows=500)
    return lakehouse


@pytest.fixture
def lakehouse(tmp_path: Path) -> Lakehouse:
    """An empty catalog for a test that writes its own table."""
    return Lakehouse(tmp_path / "lakehouse")


@pytest.fixture
def target_for(aws: LocalAws) -> Callable[[Lakehouse], Target]:
    return lambda lakehouse: Target(aws, lakehouse)


@pytest.fixture
def shared_target(aws: LocalAws, shared_lakehouse: Lakehouse) -> Target:
    return Target(aws, shared_lakehouse)
