"""One Confluent test server for the whole folder (tests/cloud/ is one xdist group, see tests/conftest.py):
loading the OpenAPI documents and openapi-core costs about 2 s of CPU, paid once.

``confluent`` hands each test the server, reset, with the test credentials in the environment, and fails
the test if any request or response broke the contract.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cloud_support import ENVIRONMENT_ID, KEY, ORGANIZATION_ID, SECRET, Confluent
from confluent_server import (
    FLINK_DOCUMENT,
    OPENAPI_DIR,
    SCHEMA_REGISTRY_DOCUMENT,
    ConfluentTestServer,
    FlinkGateway,
    SchemaRegistryState,
    SpecDocument,
)


@pytest.fixture(scope="session")
def confluent_session() -> Iterator[Confluent]:
    documents = [
        SpecDocument(OPENAPI_DIR / FLINK_DOCUMENT),
        SpecDocument(OPENAPI_DIR / SCHEMA_REGISTRY_DOCUMENT),
    ]
    server = ConfluentTestServer(documents, KEY, SECRET).start()
    confluent = Confluent(
        server, FlinkGateway(server, ORGANIZATION_ID, ENVIRONMENT_ID), SchemaRegistryState(server)
    )
    yield confluent
    server.stop()


@pytest.fixture
def confluent(confluent_session: Confluent, monkeypatch: pytest.MonkeyPatch) -> Iterator[Confluent]:
    confluent_session.server.reset()
    confluent_session.flink.reset()
    confluent_session.registry.reset()
    for variable, value in {
        "FLINK_API_KEY": KEY,
        "FLINK_API_SECRET": SECRET,
        "SCHEMA_REGISTRY_API_KEY": KEY,
        "SCHEMA_REGISTRY_API_SECRET": SECRET,
        "SCHEMA_REGISTRY_URL": confluent_session.url,
    }.items():
        monkeypatch.setenv(variable, value)
    yield confluent_session
    assert confluent_session.server.problems == []
