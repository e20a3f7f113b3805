"""One Confluent test server for the whole folder (tests/cloud/ is one xdist group, see tests/conftest.py):
loading the OpenAPI documents and openapi-core costs about 2 s of CPU, paid once. The monitor's tests also
share one moto server (CloudWatch, Secrets Manager) and one real Iceberg table (``catalog_table``).

``confluent`` hands each test the server, reset, with the test credentials in the environment, and fails
the test if any request or response broke the contract.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cloud_support import ENVIRONMENT_ID, KAFKA_CLUSTER_ID, KEY, ORGANIZATION_ID, SECRET, Confluent
from confluent_server import (
    FLINK_DOCUMENT,
    METRICS_DOCUMENT,
    OPENAPI_DIR,
    SCHEMA_REGISTRY_DOCUMENT,
    TABLEFLOW_DOCUMENT,
    ConfluentTestServer,
    FlinkGateway,
    SchemaRegistryState,
    SpecDocument,
)
from monitor_apis import IcebergCatalog, MetricsState, TableflowState
from monitor_kit import CLEAN_TOPIC, table_lines
from pyiceberg.table import Table

from salesflow.twin.lakehouse import Lakehouse, append_clean_lines, create_clean_table
from salesflow.twin.local_aws import LocalAws, local_aws


@pytest.fixture(scope="session")
def confluent_session() -> Iterator[Confluent]:
    names = (FLINK_DOCUMENT, SCHEMA_REGISTRY_DOCUMENT, METRICS_DOCUMENT, TABLEFLOW_DOCUMENT)
    server = ConfluentTestServer([SpecDocument(OPENAPI_DIR / name) for name in names], KEY, SECRET).start()
    confluent = Confluent(
        server,
        FlinkGateway(server, ORGANIZATION_ID, ENVIRONMENT_ID),
        SchemaRegistryState(server),
        MetricsState(server),
        TableflowState(server, ENVIRONMENT_ID, KAFKA_CLUSTER_ID),
        IcebergCatalog(server, ORGANIZATION_ID, ENVIRONMENT_ID),
    )
    confluent.catalog.credentials = (KEY, SECRET)
    yield confluent
    server.stop()


@pytest.fixture
def confluent(confluent_session: Confluent, monkeypatch: pytest.MonkeyPatch) -> Iterator[Confluent]:
    confluent_session.server.reset()
    for state in (
        confluent_session.flink,
        confluent_session.registry,
        confluent_session.metrics,
        confluent_session.tableflow,
        confluent_session.catalog,
    ):
        state.reset()
    for variable, value in {
        "FLINK_API_KEY": KEY,
        "FLINK_API_SECRET": SECRET,
        "SCHEMA_REGISTRY_API_KEY": KEY,
        "SCHEMA_REGISTRY_API_SECRET": SECRET,
        "SCHEMA_REGISTRY_URL": confluent_session.url,
        "CONFLUENT_CLOUD_API_KEY": KEY,
        "CONFLUENT_CLOUD_API_SECRET": SECRET,
        "TABLEFLOW_API_KEY": KEY,
        "TABLEFLOW_API_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(variable, value)
    yield confluent_session
    assert confluent_session.server.problems == []


@pytest.fixture(scope="session")
def aws() -> Iterator[LocalAws]:
    """moto on 127.0.0.1 for the monitor's CloudWatch history and secret (one server for the folder)."""
    with local_aws() as server:
        yield server


@pytest.fixture(scope="session")
def catalog_table(tmp_path_factory: pytest.TempPathFactory) -> Table:
    """A real Iceberg table (the twin's SQL catalog) under Tableflow's identifier: 6 lines, 2 snapshots."""
    lakehouse = Lakehouse(tmp_path_factory.mktemp("tableflow"))
    table = create_clean_table(lakehouse.catalog(), namespace=KAFKA_CLUSTER_ID, name=CLEAN_TOPIC)
    append_clean_lines(table, table_lines(6), commit_rows=3)
    return table


@pytest.fixture
def aws_env(aws: LocalAws, monkeypatch: pytest.MonkeyPatch) -> LocalAws:
    """boto3 in this process talks to moto (CloudWatch, Secrets Manager included)."""
    for name, value in aws.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", aws.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws.endpoint_url)
    return aws
