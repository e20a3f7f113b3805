"""The REST catalog twin against the Iceberg REST OpenAPI document: every operation it serves, answered as the
spec says (the exporter's own runs check their exchanges the same way, conftest.py), and a checker that
catches an answer that breaks the spec."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest
import requests
from exporter_testkit import Target, make_line, new_table
from iceberg_rest_contract import RestContract
from pyiceberg.catalog import load_catalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

from exporter.catalog import catalog_properties
from exporter.settings import settings_from_env
from salesflow.twin.lakehouse import DEFAULT_NAMESPACE, DEFAULT_TABLE
from salesflow.twin.rest_catalog import Exchange, S3Lakehouse


@pytest.fixture(scope="module")
def twin_catalog(aws, rest_twin, tmp_path_factory):
    """A one-line table in moto S3 behind the twin, and the exporter's catalog properties for it."""
    lakehouse = S3Lakehouse(tmp_path_factory.mktemp("contract"), aws, f"tableflow-{uuid.uuid4().hex[:12]}")
    new_table(lakehouse, [make_line("SO-C-1", "2026-11-10T10:00:00.000Z")])
    target = Target(aws, lakehouse, rest_twin)
    return target, catalog_properties(settings_from_env(target.env), lambda _secret_id: rest_twin.credential)


@pytest.fixture
def exchanges(rest_twin, monkeypatch):
    """The twin's exchanges during one test (besides the session's contract check)."""
    for name, value in rest_twin.environ().items():
        monkeypatch.setenv(name, value)
    seen: list[Exchange] = []
    rest_twin.observers.append(seen.append)
    yield seen
    rest_twin.observers.remove(seen.append)


def test_every_operation_the_twin_serves_answers_as_the_spec_says(
    twin_catalog, rest_contract, exchanges, rest_twin
) -> None:
    target, properties = twin_catalog
    before = rest_contract.operations.copy()
    catalog = load_catalog("contract", **properties)  # GET config, POST token
    assert catalog.load_namespace_properties(DEFAULT_NAMESPACE) is not None
    assert catalog.namespace_exists(DEFAULT_NAMESPACE) and not catalog.namespace_exists("lkc-none")
    assert catalog.table_exists((DEFAULT_NAMESPACE, DEFAULT_TABLE))
    table = catalog.load_table((DEFAULT_NAMESPACE, DEFAULT_TABLE))  # vended credentials
    assert table.io.properties["s3.session-token"]
    with pytest.raises(NoSuchNamespaceError):
        catalog.load_namespace_properties("lkc-none")
    with pytest.raises(NoSuchTableError):
        catalog.load_table((DEFAULT_NAMESPACE, "no_such_topic"))
    assert not catalog.table_exists((DEFAULT_NAMESPACE, "no_such_topic"))
    uri, http = target.env["CATALOG_URI"], requests.Session()
    http.verify = rest_twin.environ()["REQUESTS_CA_BUNDLE"]
    form = {"grant_type": "client_credentials", "client_id": rest_twin.client_id, "scope": "catalog"}
    wrong = http.post(f"{uri}/v1/oauth/tokens", data={**form, "client_secret": "wrong"}, timeout=30)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    unscoped = {**form, "client_secret": rest_twin.client_secret, "scope": "other"}
    assert http.post(f"{uri}/v1/oauth/tokens", data=unscoped, timeout=30).status_code == 400
    stale = http.get(f"{uri}/v1/config", headers={"Authorization": "Bearer stale"}, timeout=30)
    assert stale.status_code == 401
    served = rest_contract.operations - before
    assert set(served) == {
        ("getConfig", 200), ("getToken", 200), ("getToken", 401), ("getToken", 400), ("getConfig", 401),
        ("loadNamespaceMetadata", 200), ("loadNamespaceMetadata", 404), ("namespaceExists", 204),
        ("namespaceExists", 404), ("tableExists", 204), ("tableExists", 404), ("loadTable", 200),
        ("loadTable", 404),
    }  # fmt: skip
    assert sum(served.values()) == len(exchanges), "every exchange was checked"
    assert any(e.headers.get("X-Iceberg-Access-Delegation") == "vended-credentials" for e in exchanges)
    # The autouse fixture fails this test if any of these exchanges broke the spec.


def _doctored(exchange: Exchange, change) -> Exchange:
    body = json.loads(exchange.response)
    change(body)
    return replace(exchange, response=json.dumps(body).encode())


def test_an_answer_that_breaks_the_spec_is_caught(twin_catalog, exchanges) -> None:
    _target, properties = twin_catalog
    load_catalog("contract", **properties).load_table((DEFAULT_NAMESPACE, DEFAULT_TABLE))
    real = {exchange.path.rsplit("/", 1)[-1]: exchange for exchange in exchanges}
    config, token, table = real["config"], real["tokens"], real[DEFAULT_TABLE]
    contract = RestContract()  # a checker of its own: the session's must stay clean
    for exchange in (config, token, table):
        contract(exchange)
    assert contract.problems == [] and len(contract.operations) == 3
    broken = {
        "config without overrides": _doctored(config, lambda body: body.pop("overrides")),
        "an endpoint the spec lacks": _doctored(
            config, lambda body: body.update(endpoints=["GET /v1/{prefix}/namespaces/{namespace}/stats"])
        ),
        "a token without its type": _doctored(token, lambda body: body.pop("token_type")),
        "a table without metadata": _doctored(table, lambda body: body.pop("metadata")),
        "metadata without a table uuid": _doctored(table, lambda body: body["metadata"].pop("table-uuid")),
        "an error code as text": replace(
            table,
            status=404,
            response=b'{"error": {"message": "gone", "type": "NoSuchTableException", "code": "404"}}',
        ),
        "a request for unknown snapshots": replace(table, query="snapshots=every"),
    }
    for case, exchange in broken.items():
        found = len(contract.problems)
        contract(exchange)
        assert len(contract.problems) == found + 1, case
