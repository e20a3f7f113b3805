"""Failures leave nothing partial: S3 errors mid-export, bad settings, malformed weeks, catalog problems."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.awsrequest import AWSResponse
from exporter_testkit import make_line, new_table

from exporter.catalog import CatalogError, catalog_properties, open_catalog
from exporter.handler import handler
from exporter.publish import PublishError
from exporter.reports import ReportError
from exporter.settings import SettingsError, settings_from_env
from exporter.weeks import WeekError


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: object):
        yield self.data


# S3's transient errors: a 500 InternalError (botocore's standard mode backs off from 50 ms) and a
# throttling 503 SlowDown (it backs off from 1 s, up to ~15 s over five tries: kept for a short failure).
INTERNAL_ERROR = (500, "InternalError")
SLOW_DOWN = (503, "SlowDown")


def fail_requests(
    client, operation: str, failing: set[int], error: tuple[int, str] = INTERNAL_ERROR
) -> list[int]:
    """Answer the given attempts (1-based, counting retries) of ``operation`` with an S3 error."""
    attempts: list[int] = []
    status, code = error

    def before_send(request, **_kwargs):
        attempts.append(len(attempts) + 1)
        if attempts[-1] in failing:
            body = f"<Error><Code>{code}</Code><Message>injected by the test</Message></Error>".encode()
            return AWSResponse(request.url, status, {}, _Body(body))
        return None

    client.meta.events.register(f"before-send.s3.{operation}", before_send)
    return attempts


def test_copy_failure_leaves_no_manifest_and_no_reports_then_a_retry_succeeds(shared_target) -> None:
    clients = shared_target.clients()
    attempts = fail_requests(clients.s3, "CopyObject", failing=set(range(2, 100)))  # 2nd copy, every retry
    with pytest.raises(PublishError, match=r"failed while publishing .*product_demand\.csv.*InternalError"):
        shared_target.export("2026-W46", clients=clients)
    assert len(attempts) >= 1 + 5, "the first copy succeeded, the second was retried (standard mode: 5 tries)"
    assert shared_target.objects() == {}, "no manifest, no report, no staging object is left"
    assert shared_target.inbox.messages() == []

    result = shared_target.export("2026-W46")
    objects = shared_target.objects()
    assert sorted(objects) == sorted([*result.keys.values(), "weekly/iso_week=2026-W46/manifest.json"])
    assert len(shared_target.inbox.messages()) == 1


def test_manifest_failure_removes_the_reports_this_run_published(shared_target) -> None:
    clients = shared_target.clients()
    # PutObject: 5 staged CSVs (attempts 1-5), then the manifest (6 and its retries).
    fail_requests(clients.s3, "PutObject", failing=set(range(6, 100)))
    with pytest.raises(PublishError, match="writing the manifest"):
        shared_target.export("2026-W46", clients=clients)
    assert shared_target.objects() == {}


def test_failure_while_staging_keeps_the_previous_complete_export(shared_target) -> None:
    shared_target.export("2026-W46")
    complete = shared_target.objects()
    clients = shared_target.clients()
    fail_requests(clients.s3, "PutObject", failing=set(range(2, 100)))
    with pytest.raises(PublishError, match="while staging"):
        shared_target.export("2026-W46", clients=clients)
    assert shared_target.objects() == complete, "the earlier export and its manifest are untouched"


def test_a_transient_s3_error_is_retried(shared_target) -> None:
    clients = shared_target.clients()
    attempts = fail_requests(clients.s3, "PutObject", failing={1, 4}, error=SLOW_DOWN)
    shared_target.export("2026-W46", clients=clients)
    assert len(attempts) == 8  # 5 CSVs + manifest + 2 retries
    assert "weekly/iso_week=2026-W46/manifest.json" in shared_target.objects()


def test_a_missing_bucket_is_a_clear_error_and_writes_nothing(shared_target) -> None:
    with pytest.raises(PublishError, match="NoSuchBucket"):
        shared_target.export("2026-W46", env={"EXPORT_BUCKET": "no-such-bucket-here"})


REQUIRED = [
    "SALESFLOW_ENV", "CATALOG_TYPE", "CATALOG_URI", "CATALOG_WAREHOUSE", "TABLE_NAMESPACE", "TABLE_NAME",
    "EXPORT_BUCKET", "EXPORT_PREFIX", "SNS_TOPIC_ARN", "REPORTS",
]  # fmt: skip
# What each catalog needs besides: a SQL catalog its warehouse, the REST catalog the API key's secret.
CATALOG_NEEDS = {"sql": "CATALOG_WAREHOUSE", "rest": "CATALOG_CREDENTIAL_SECRET_ID"}


@pytest.mark.parametrize("name", REQUIRED)
def test_each_missing_setting_is_named(shared_target, name) -> None:
    env = dict(shared_target.env)
    name = CATALOG_NEEDS[shared_target.catalog] if name == "CATALOG_WAREHOUSE" else name
    del env[name]
    with pytest.raises(SettingsError, match=f"environment variable {name} is not set"):
        settings_from_env(env)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CATALOG_TYPE", "hive", "CATALOG_TYPE must be 'rest'"),
        ("MAX_WORKERS", "0", "MAX_WORKERS must be an integer from 1 to 16"),
        ("MAX_WORKERS", "four", "MAX_WORKERS must be an integer"),
        ("WEEK_TIME_ZONE", "Mars/Olympus", "WEEK_TIME_ZONE: unknown IANA time zone 'Mars/Olympus'"),
        ("EXPORT_BUCKET", "Bad_Bucket", "EXPORT_BUCKET 'Bad_Bucket' is not a valid S3 bucket name"),
        ("EXPORT_PREFIX", "weekly//x", "EXPORT_PREFIX"),
        ("SNS_TOPIC_ARN", "exports", "SNS_TOPIC_ARN 'exports' is not an SNS topic ARN"),
        ("CATALOG_VENDED_CREDENTIALS", "yes", "CATALOG_VENDED_CREDENTIALS must be 'true'"),
        ("REPORTS", "order_lines,order_lines", "REPORTS names a report twice"),
        ("REPORTS", "Order-Lines", "REPORTS: 'Order-Lines' is not a report name"),
    ],
)
def test_invalid_settings_are_named(shared_target, name, value, message) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        settings_from_env({**shared_target.env, name: value})


def test_rest_catalog_needs_https_and_a_credential_secret(shared_target) -> None:
    env = {**shared_target.env, "CATALOG_TYPE": "rest", "CATALOG_URI": "http://tableflow.example/iceberg"}
    env.pop("CATALOG_CREDENTIAL_SECRET_ID", None)
    with pytest.raises(SettingsError, match="CATALOG_URI must be an https:// URL"):
        settings_from_env(env)
    env["CATALOG_URI"] = (
        "https://tableflow.eu-central-1.aws.confluent.cloud/iceberg/catalog/organizations/o/environments/e"
    )
    with pytest.raises(SettingsError, match="CATALOG_CREDENTIAL_SECRET_ID is not set"):
        settings_from_env(env)


def test_unknown_report_lists_the_defined_ones(shared_target) -> None:
    with pytest.raises(ReportError, match=r"unknown report\(s\) \['sales_forecast'\].*customer_behavior"):
        shared_target.export("2026-W46", env={"REPORTS": "order_lines,sales_forecast"})


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"week": "2026-47"}, "malformed week '2026-47': use the ISO form YYYY-Www"),
        ({"week": "2025-W53"}, "2025-W53 does not exist: ISO year 2025 has weeks W01 to W52"),
        ({"week": "2026-W00"}, "2026-W00 does not exist"),
        ({"scheduled_time": "last monday"}, "'scheduled_time' is not an ISO-8601 time"),
        ({"scheduled_time": "2026-11-23T06:00:00"}, "'scheduled_time' has no UTC offset"),
        ({}, "the event has neither 'week' nor 'scheduled_time'"),
        ("2026-W47", "the event must be a JSON object"),
    ],
)
def test_malformed_events_fail_the_invocation_with_a_clear_error(shared_target, monkeypatch, event, message):
    from exporter_testkit import FakeContext

    for name, value in shared_target.env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(WeekError, match=message.replace("(", r"\(")):
        handler(event, FakeContext())
    assert shared_target.objects() == {}


def test_missing_table_names_namespace_and_table(lakehouse, target_for) -> None:
    lakehouse.catalog()  # an empty catalog
    target = target_for(lakehouse)
    with pytest.raises(
        CatalogError, match=r"table lkc-local\.sales_order_lines_clean does not exist.*TABLE_NAMESPACE"
    ):
        target.export("2026-W46")


def test_unreadable_catalog_is_a_catalog_error(shared_target, tmp_path) -> None:
    uri = {
        "sql": f"sqlite:///{tmp_path}/no/such/dir/catalog.db",
        "rest": "https://127.0.0.1:9/iceberg/catalog/organizations/o/environments/nothing-listens-here",
    }[shared_target.catalog]
    with pytest.raises(CatalogError, match=f"cannot open the {shared_target.catalog} catalog"):
        shared_target.export("2026-W46", env={"CATALOG_URI": uri})


def test_a_wrong_api_key_is_refused_by_the_token_endpoint(aws, shared_target) -> None:
    """The REST twin answers a wrong client secret with the spec's OAuth error; the SQL catalog has no key."""
    secret_id = f"salesflow/test/wrong-key-{uuid.uuid4().hex[:8]}"
    aws.client("secretsmanager").create_secret(Name=secret_id, SecretString="TFLOWKEY0000TWIN:not-the-secret")
    env = {**shared_target.env, "CATALOG_TYPE": "rest", "CATALOG_CREDENTIAL_SECRET_ID": secret_id}
    if shared_target.catalog == "sql":
        env["CATALOG_URI"] = "https://127.0.0.1:9/iceberg/catalog/organizations/o/environments/e"
    with pytest.raises(CatalogError, match="cannot open the rest catalog") as failure:
        shared_target.export("2026-W46", env=env)
    assert "not-the-secret" not in str(failure.value)
    if shared_target.catalog == "rest":
        assert "invalid_client" in str(failure.value) or "Unauthorized" in str(failure.value)


def test_rest_catalog_properties_from_secrets_manager(aws, shared_target) -> None:
    secrets = aws.client("secretsmanager")
    secret_id = f"salesflow/test/properties-key-{uuid.uuid4().hex[:8]}"
    secrets.create_secret(Name=secret_id, SecretString="TFKEY123:s3cr3t+/value")
    env = {
        **shared_target.env,
        "CATALOG_TYPE": "rest",
        "CATALOG_URI": "https://127.0.0.1:9/iceberg/catalog/organizations/o/environments/env-1",
        "CATALOG_CREDENTIAL_SECRET_ID": secret_id,
        "CATALOG_VENDED_CREDENTIALS": "true",
    }
    settings = settings_from_env(env)
    properties = catalog_properties(settings)  # reads the secret over HTTP from moto
    assert properties == {
        "type": "rest",
        "uri": env["CATALOG_URI"],
        "credential": "TFKEY123:s3cr3t+/value",
        "scope": "catalog",
        "oauth2-server-uri": env["CATALOG_URI"] + "/v1/oauth/tokens",
        "header.X-Iceberg-Access-Delegation": "vended-credentials",
    }
    own_bucket = catalog_properties(settings_from_env({**env, "CATALOG_VENDED_CREDENTIALS": "false"}))
    assert "header.X-Iceberg-Access-Delegation" not in own_bucket
    # Nothing listens there: the error names the catalog, never the secret.
    with pytest.raises(CatalogError, match="cannot open the rest catalog") as failure:
        open_catalog(settings)
    assert "s3cr3t" not in str(failure.value)


def test_a_malformed_or_missing_secret_is_a_catalog_error(aws, shared_target) -> None:
    no_colon = f"salesflow/test/no-colon-{uuid.uuid4().hex[:8]}"
    aws.client("secretsmanager").create_secret(Name=no_colon, SecretString="justakey")
    env = {
        **shared_target.env,
        "CATALOG_TYPE": "rest",
        "CATALOG_URI": "https://127.0.0.1:9/iceberg",
        "CATALOG_CREDENTIAL_SECRET_ID": no_colon,
    }
    with pytest.raises(CatalogError, match="must hold the Tableflow API key as 'key:secret'"):
        catalog_properties(settings_from_env(env))
    env["CATALOG_CREDENTIAL_SECRET_ID"] = "salesflow/test/absent"
    with pytest.raises(CatalogError, match=r"cannot read the Tableflow API key .*absent"):
        catalog_properties(settings_from_env(env))


def test_handler_reports_a_failure_as_an_exception(lakehouse, target_for, monkeypatch) -> None:
    new_table(lakehouse, [make_line("SO-1", "2026-11-10T10:00:00.000Z")])
    target = target_for(lakehouse)
    for name, value in {**target.env, "EXPORT_BUCKET": "no-such-bucket-here"}.items():
        monkeypatch.setenv(name, value)
    from exporter_testkit import FakeContext

    with pytest.raises(PublishError):
        handler({"week": "2026-W46"}, FakeContext())
    assert json.dumps(target.objects()) == "{}"
