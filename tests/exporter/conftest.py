"""Fixtures for the exporter: a real PyIceberg table behind each of the exporter's two catalogs, and moto in
server mode on 127.0.0.1.

Every test that reads a table runs twice (``catalog``): through the SQL catalog on SQLite with a local
warehouse (quick local runs), and through the Iceberg REST catalog twin over HTTPS with OAuth2 client
credentials and vended S3 credentials, the table's files in moto S3 (Tableflow's production path). One
moto server and one REST server serve the whole session; every request the REST server answers is checked
against the Iceberg REST OpenAPI document (tests/iceberg_rest_contract.py), and a test during which an
exchange broke it fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from analyst_kit import SENDER_DOMAIN, EmailRun, new_signing_key, private_pem
from exporter_testkit import Target, clean_lines, export_environment
from iceberg_rest_contract import RestContract

from salesflow.events.generator import GenerationStats
from salesflow.events.records import KafkaRecord
from salesflow.twin.lakehouse import Lakehouse, append_clean_lines, create_clean_table
from salesflow.twin.local_aws import LocalAws, local_aws
from salesflow.twin.rest_catalog import RestCatalogTwin, S3Lakehouse

CATALOGS = ("sql", "rest")


@pytest.fixture(scope="session")
def aws() -> Iterator[LocalAws]:
    with local_aws() as server:
        yield server


@pytest.fixture(scope="session")
def rest_contract() -> RestContract:
    return RestContract()


@pytest.fixture(scope="session")
def rest_twin(aws: LocalAws, rest_contract: RestContract) -> Iterator[RestCatalogTwin]:
    with RestCatalogTwin(aws, observers=[rest_contract]) as twin:
        yield twin


@pytest.fixture(autouse=True)
def _aws_environment(
    aws: LocalAws,
    rest_twin: RestCatalogTwin,
    rest_contract: RestContract,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[None]:
    catalog = request.getfixturevalue("catalog") if "catalog" in request.fixturenames else None
    for name, value in export_environment(aws, rest_twin, catalog).items():
        monkeypatch.setenv(name, value)
    yield
    # Problems not yet reported (session fixtures' exchanges included) fail the test that just ran.
    assert rest_contract.unreported() == [], "the REST catalog twin broke the Iceberg REST spec"


@pytest.fixture(scope="session", params=CATALOGS)
def catalog(request: pytest.FixtureRequest) -> str:
    """Which catalog the exporter reads through: 'sql' or 'rest'."""
    return request.param


@pytest.fixture(scope="session")
def per_catalog() -> dict[tuple[str, str], Any]:
    """What a session builds once per catalog. pytest tears a fixture that depends on the parametrized
    ``catalog`` down whenever the parameter changes, which happens at every test module a worker starts
    (each module runs its sql tests, then its rest ones): the fixtures below keep what they built here."""
    return {}


def _lakehouse(kind: str, root: Path, aws: LocalAws) -> Any:
    if kind == "sql":
        return Lakehouse(root)
    return S3Lakehouse(root, aws, f"tableflow-{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def generated_lines(small_events: tuple[list[KafkaRecord], GenerationStats]) -> list[dict[str, Any]]:
    """Clean lines of the root fixture's events (2026-11-02 to 2026-11-23: weeks W45 to W47)."""
    records, _stats = small_events
    return clean_lines(records)


@pytest.fixture(scope="session")
def shared_lakehouse(
    catalog: str, tmp_path_factory: pytest.TempPathFactory, generated_lines, aws: LocalAws, per_catalog
) -> Lakehouse | S3Lakehouse:
    """A table the tests only read: the generated lines in commits of 500 (one snapshot each)."""
    if ("shared_lakehouse", catalog) not in per_catalog:
        lakehouse = _lakehouse(catalog, tmp_path_factory.mktemp(f"lakehouse-{catalog}"), aws)
        table = create_clean_table(lakehouse.catalog())
        append_clean_lines(table, generated_lines, commit_rows=500)
        per_catalog["shared_lakehouse", catalog] = lakehouse
    return per_catalog["shared_lakehouse", catalog]


@pytest.fixture
def lakehouse(catalog: str, tmp_path: Path, aws: LocalAws) -> Lakehouse | S3Lakehouse:
    """An empty catalog for a test that writes its own table."""
    return _lakehouse(catalog, tmp_path / "lakehouse", aws)


@pytest.fixture
def target_for(aws: LocalAws, rest_twin: RestCatalogTwin) -> Callable[[Any], Target]:
    return lambda lakehouse: Target(aws, lakehouse, rest_twin)


@pytest.fixture
def shared_target(aws: LocalAws, shared_lakehouse, rest_twin: RestCatalogTwin) -> Target:
    return Target(aws, shared_lakehouse, rest_twin)


@pytest.fixture(scope="session")
def email_run(
    aws: LocalAws,
    rest_twin: RestCatalogTwin,
    catalog: str,
    shared_lakehouse: Lakehouse | S3Lakehouse,
    per_catalog,
) -> tuple:
    """Weeks 2026-W45 and W46 exported in e-mail mode (W45 is W46's previous week): (run, first, second,
    (started, finished)) with first/second = (ExportResult, SentEmail). tests/exporter/test_analyst_*.py
    share it (one xdist group, tests/conftest.py)."""
    if ("email_run", catalog) not in per_catalog:
        per_catalog["email_run", catalog] = _email_run(aws, rest_twin, catalog, shared_lakehouse)
    return per_catalog["email_run", catalog]


def _email_run(aws: LocalAws, rest_twin: RestCatalogTwin, catalog: str, shared_lakehouse: Any) -> tuple:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in export_environment(aws, rest_twin, catalog).items():
            patch.setenv(name, value)
        key = new_signing_key()
        secret_id = aws.put_secret(f"salesflow/test/download-signing-key-{id(key)}", private_pem(key))
        aws.verify_sender_domain(SENDER_DOMAIN)
        run = EmailRun(aws, Target(aws, shared_lakehouse, rest_twin), key, secret_id)
        started = datetime.now(UTC)
        first = run.export("2026-W45")
        second = run.export("2026-W46")
        finished = datetime.now(UTC)
    return run, first, second, (started, finished)
