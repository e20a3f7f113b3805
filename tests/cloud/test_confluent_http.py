"""The Confluent REST clients against the contract-checking test server: retries (429 with Retry-After,
5xx), paging, and errors and logs that never hold a credential."""

from __future__ import annotations

import base64
import logging
import time
from pathlib import Path

import pytest
from cloud_support import COMPUTE_POOL_ID, ENVIRONMENT_ID, KEY, ORGANIZATION_ID, SECRET, Confluent
from confluent_server import FLINK_DOCUMENT, OPENAPI_DIR, SCHEMA_REGISTRY_DOCUMENT, Outcome, Reply, failure

from salesflow.cloud.confluent_http import (
    ApiCredentials,
    ConfluentApiError,
    ConfluentHttp,
    CredentialsMissing,
    check_endpoint,
    retry_policy,
)
from salesflow.cloud.flink_statements import FlinkStatements, StatementExists, StatementTimeout
from salesflow.cloud.schema_registry import SchemaRegistry

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_OPENAPI = next(
    (
        path
        for path in (
            REPO_ROOT.parent / "shared" / "reference" / "confluent-openapi",
            Path("/work/shared/reference/confluent-openapi"),
        )
        if path.is_dir()
    ),
    REPO_ROOT.parent / "shared" / "reference" / "confluent-openapi",
)
FAST_RETRIES = retry_policy(backoff_factor=0.01)


def _flink(confluent: Confluent, key: str = KEY, secret: str = SECRET) -> FlinkStatements:
    http = ConfluentHttp("Flink SQL API", confluent.url, ApiCredentials(key, secret), retry=FAST_RETRIES)
    return FlinkStatements(http, ORGANIZATION_ID, ENVIRONMENT_ID)


def _leaks(text: str, key: str = KEY, secret: str = SECRET) -> list[str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return [value for value in (key, secret, token) if value in text]


@pytest.mark.parametrize("document", [FLINK_DOCUMENT, SCHEMA_REGISTRY_DOCUMENT])
def test_vendored_openapi_documents_are_the_shared_reference(document: str) -> None:
    if not SHARED_OPENAPI.is_dir():
        pytest.skip(f"{SHARED_OPENAPI} is not on this machine; the vendored copies are used as they are")
    assert (OPENAPI_DIR / document).read_bytes() == (SHARED_OPENAPI / document).read_bytes()


def test_a_statement_is_created_polled_read_page_by_page_and_deleted(confluent: Confluent) -> None:
    rows = [{"op": 0, "row": [f"line {i}"]} for i in range(5)]
    confluent.flink.planner = lambda name, text, properties: Outcome(
        phases=("PENDING", "RUNNING", "COMPLETED"), pages=[rows[:2], rows[2:4], rows[4:]]
    )
    flink = _flink(confluent)
    created = flink.create(
        "t-1", "SELECT 1;", properties={"sql.dry-run": "true"}, compute_pool_id=COMPUTE_POOL_ID
    )
    assert created.phase == "PENDING"
    final = flink.wait("t-1", timeout=5, poll_interval=0.01)
    assert final.phase == "COMPLETED"
    assert len(confluent.operations("getSqlv1Statement")) == 2  # created PENDING, then RUNNING, COMPLETED
    assert list(flink.results("t-1")) == rows
    assert len(confluent.operations("getSqlv1StatementResult")) == 3  # metadata.next followed twice
    assert flink.delete("t-1") is True
    assert flink.delete("t-1") is False  # 404: nothing left
    assert flink.get("t-1") is None
    request = confluent.operations("createSqlv1Statement")[0].request
    assert request == {
        "name": "t-1",
        "spec": {
            "statement": "SELECT 1;",
            "properties": {"sql.dry-run": "true"},
            "compute_pool_id": COMPUTE_POOL_ID,
        },
    }


def test_a_wrong_key_fails_with_401_and_the_error_holds_no_credential(
    confluent: Confluent, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_key, wrong_secret = "WRONGKEY123", "wrong/secret+value=="
    flink = _flink(confluent, wrong_key, wrong_secret)
    with caplog.at_level(logging.DEBUG), pytest.raises(ConfluentApiError) as raised:
        flink.create("t-401", "SELECT 1;", properties={})
    error = raised.value
    assert error.status == 401
    assert "HTTP 401" in str(error) and "Valid authentication credentials must be provided" in str(error)
    shown = f"{error}\n{error!r}\n{error.args}\n" + "\n".join(
        record.getMessage() for record in caplog.records
    )
    assert _leaks(shown, wrong_key, wrong_secret) == []
    assert error.__cause__ is None
    assert len(confluent.operations("createSqlv1Statement")) == 1  # a 401 is not retried


def test_no_credential_in_the_message_of_a_connection_error(confluent: Confluent) -> None:
    http = ConfluentHttp(
        "Flink SQL API", "http://127.0.0.1:9", ApiCredentials(KEY, SECRET), retry=retry_policy(0)
    )
    with pytest.raises(ConfluentApiError) as raised:
        http.request("GET", "/sql/v1/anything")
    assert raised.value.status is None
    assert _leaks(f"{raised.value}\n{raised.value!r}") == []
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_429_is_retried_after_its_retry_after_even_for_a_create(confluent: Confluent) -> None:
    confluent.server.inject("createSqlv1Statement", Reply(429, None, {"Retry-After": "1"}))
    flink = _flink(confluent)
    flink.create("t-429", "SELECT 1;", properties={})
    first, second = confluent.operations("createSqlv1Statement")
    assert (first.status, second.status) == (429, 201)
    assert second.at - first.at >= 0.95  # honoured Retry-After: 1, not the 0.01 s backoff


def test_5xx_is_retried_for_reads_but_a_create_is_never_sent_twice(confluent: Confluent) -> None:
    flink = _flink(confluent)
    flink.create("t-5xx", "SELECT 1;", properties={})
    confluent.server.inject(
        "getSqlv1Statement", Reply(500, failure(500, "Oops")), Reply(500, failure(500, "Oops"))
    )
    assert flink.get("t-5xx") is not None
    assert [e.status for e in confluent.operations("getSqlv1Statement")] == [500, 500, 200]

    confluent.server.inject("createSqlv1Statement", Reply(500, failure(500, "Oops", "backend down")))
    with pytest.raises(ConfluentApiError, match=r"HTTP 500.*backend down"):
        flink.create("t-5xx-2", "SELECT 1;", properties={})
    assert [e.status for e in confluent.operations("createSqlv1Statement")] == [201, 500]


def test_exhausted_retries_report_the_rate_limit(confluent: Confluent) -> None:
    confluent.server.inject("getSqlv1Statement", *[Reply(429, None, {"Retry-After": "0"})] * 3)
    http = ConfluentHttp(
        "Flink SQL API", confluent.url, ApiCredentials(KEY, SECRET), retry=retry_policy(2, 0.01)
    )
    with pytest.raises(ConfluentApiError, match=r"HTTP 429.*rate limited; retries exhausted") as raised:
        FlinkStatements(http, ORGANIZATION_ID, ENVIRONMENT_ID).get("t-any")
    assert raised.value.status == 429


def test_a_taken_name_is_a_typed_conflict(confluent: Confluent) -> None:
    confluent.flink.preload("t-taken")
    with pytest.raises(StatementExists):
        _flink(confluent).create("t-taken", "SELECT 1;", properties={})


def test_a_wait_is_bounded(confluent: Confluent) -> None:
    confluent.flink.planner = lambda name, text, properties: Outcome(phases=("PENDING",))
    flink = _flink(confluent)
    flink.create("t-slow", "SELECT 1;", properties={})
    started = time.monotonic()
    with pytest.raises(StatementTimeout, match="still PENDING after") as raised:
        flink.wait("t-slow", timeout=0.3, poll_interval=0.05)
    assert time.monotonic() - started < 2
    assert raised.value.last is not None and raised.value.last.phase == "PENDING"


def test_a_next_link_to_another_host_is_not_followed(confluent: Confluent) -> None:
    confluent.flink.planner = lambda name, text, properties: Outcome(pages=[[{"op": 0, "row": ["a"]}], []])
    confluent.flink.next_link_base = "https://elsewhere.example.com"
    flink = _flink(confluent)
    flink.create("t-next", "SELECT 1;", properties={})
    with pytest.raises(ConfluentApiError, match="on another host; not followed"):
        list(flink.results("t-next"))
    assert len(confluent.operations("getSqlv1StatementResult")) == 1


def test_credentials_come_from_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLINK_API_SECRET", raising=False)
    monkeypatch.setenv("FLINK_API_KEY", KEY)
    with pytest.raises(CredentialsMissing, match="set FLINK_API_SECRET"):
        FlinkStatements.connect(
            "https://flink.eu-central-1.aws.confluent.cloud", ORGANIZATION_ID, ENVIRONMENT_ID
        )
    assert KEY not in repr(ApiCredentials(KEY, SECRET)) and SECRET not in repr(ApiCredentials(KEY, SECRET))


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://flink.eu-central-1.aws.confluent.cloud", True),
        ("http://127.0.0.1:8080", True),
        ("http://flink.eu-central-1.aws.confluent.cloud", False),
        ("ftp://example.com", False),
    ],
)
def test_credentials_travel_over_https_except_to_loopback(url: str, ok: bool) -> None:
    if ok:
        assert check_endpoint(url + "/") == url
    else:
        with pytest.raises(ConfluentApiError):
            check_endpoint(url)


def test_schema_registry_compatibility_latest_and_first_version(confluent: Confluent) -> None:
    confluent.registry.register_schema("orders-value", '{"type": "string"}', version=3)
    confluent.registry.compatibility["orders-value"] = (False, ["READER_FIELD_MISSING_DEFAULT_VALUE: x"])
    registry = SchemaRegistry.connect(confluent.url)
    result = registry.check_compatibility("orders-value", '{"type": "int"}')
    assert result is not None and not result.is_compatible
    assert result.messages == ["READER_FIELD_MISSING_DEFAULT_VALUE: x"]
    assert registry.check_compatibility("new-value", '{"type": "int"}') is None  # 40401: first version
    latest = registry.latest("orders-value")
    assert latest is not None and (latest.version, latest.schema_text) == (3, '{"type": "string"}')
    assert registry.latest("new-value") is None
    (check,) = confluent.operations("testCompatibilityBySubjectName")[:1]
    assert check.request == {"schema": '{"type": "int"}'}


def test_the_server_rejects_a_request_that_breaks_the_contract(confluent: Confluent) -> None:
    """The server is a real check: a create without ``spec`` is refused and recorded."""
    http = ConfluentHttp("Flink SQL API", confluent.url, ApiCredentials(KEY, SECRET), retry=FAST_RETRIES)
    path = f"/sql/v1/organizations/{ORGANIZATION_ID}/environments/{ENVIRONMENT_ID}/statements"
    with pytest.raises(ConfluentApiError, match="HTTP 400"):
        http.request("POST", path, json={"name": "t-bad"}, expect=(201,))
    assert len(confluent.server.problems) == 1 and "spec" in confluent.server.problems[0]
    confluent.server.problems.clear()


def test_the_server_checks_its_own_responses(confluent: Confluent) -> None:
    """A response the contract does not allow (a statement without ``status``) is recorded."""
    confluent.server.inject("getSqlv1Statement", Reply(200, {"name": "x", "spec": {"statement": "SELECT 1"}}))
    http = ConfluentHttp("Flink SQL API", confluent.url, ApiCredentials(KEY, SECRET), retry=FAST_RETRIES)
    http.request("GET", f"/sql/v1/organizations/{ORGANIZATION_ID}/environments/{ENVIRONMENT_ID}/statements/x")
    assert any("response breaks" in problem for problem in confluent.server.problems)
    confluent.server.problems.clear()
