"""Fixtures for the exporter: a real PyIceberg SQL-catalog table and moto in server mode on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from analyst_kit import SENDER_DOMAIN, EmailRun, new_signing_key, private_pem
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


@pytest.fixture(scope="session")
def email_run(aws: LocalAws, shared_lakehouse: Lakehouse) -> Iterator[tuple]:
    """Weeks 2026-W45 and W46 exported in e-mail mode (W45 is W46's previous week): (run, first, second,
    (started, finished)) with first/second = (ExportResult, SentEmail). tests/exporter/test_analyst_*.py
    share it (one xdist group, tests/conftest.py)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in aws.environ().items():
            patch.setenv(name, value)
        key = new_signing_key()
        secret_id = aws.put_secret(f"salesflow/test/download-signing-key-{id(key)}", private_pem(key))
        aws.verify_sender_domain(SENDER_DOMAIN)
        run = EmailRun(aws, Target(aws, shared_lakehouse), key, secret_id)
        started = datetime.now(UTC)
        first = run.export("2026-W45")
        second = run.export("2026-W46")
        finished = datetime.now(UTC)
        yield run, first, second, (started, finished)
