"""`salesflow export` and `python -m exporter` run the same code as the Lambda."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from salesflow.cli import main
from salesflow.config import load_environment
from salesflow.ops.export import tableflow_catalog_uri


def test_salesflow_export_writes_the_week(shared_target, shared_lakehouse) -> None:
    catalog = (
        ["--catalog-uri", shared_lakehouse.catalog_uri, "--warehouse", shared_lakehouse.warehouse]
        if shared_target.catalog == "sql"
        else ["--catalog-uri", shared_target.env["CATALOG_URI"], "--namespace", "lkc-local",
              "--credential-secret-id", shared_target.env["CATALOG_CREDENTIAL_SECRET_ID"]]
    )  # fmt: skip
    result = CliRunner().invoke(
        main,
        [
            "export", "--env", "dev", "--week", "2026-W46", *catalog,
            "--bucket", shared_target.bucket, "--s3-endpoint", shared_target.aws.endpoint_url,
            "--sns-topic-arn", shared_target.topic_arn,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["manifest"] == f"s3://{shared_target.bucket}/weekly/iso_week=2026-W46/manifest.json"
    assert summary["notified"] is True and summary["rows"]["order_lines"] > 1000
    assert len(shared_target.inbox.messages()) == 1


def test_salesflow_export_errors_are_clear(shared_lakehouse) -> None:
    runner = CliRunner()
    missing_uri = runner.invoke(main, ["export", "--env", "dev", "--week", "2026-W46"])
    assert missing_uri.exit_code == 2 and "pass --catalog-uri" in missing_uri.output
    bad_week = runner.invoke(
        main,
        ["export", "--env", "dev", "--week", "2026-47", "--catalog-uri", shared_lakehouse.catalog_uri,
         "--warehouse", shared_lakehouse.warehouse],
    )  # fmt: skip
    assert bad_week.exit_code == 1 and "malformed week '2026-47'" in bad_week.output


def test_tableflow_url_is_built_from_the_environment() -> None:
    environment = load_environment("dev")
    assert tableflow_catalog_uri(environment) is None  # the dev environment is created, id unknown
    adopted = environment.model_copy(
        update={"confluent": environment.confluent.model_copy(update={
            "environment": environment.confluent.environment.model_copy(update={"id": "env-abc123"})})}
    )  # fmt: skip
    assert tableflow_catalog_uri(adopted) == (
        "https://tableflow.eu-central-1.aws.confluent.cloud/iceberg/catalog/organizations/"
        "00000000-0000-4000-8000-000000000001/environments/env-abc123"
    )


def test_python_dash_m_exporter(shared_target) -> None:
    env = {**os.environ, **shared_target.env}
    command = [sys.executable, "-m", "exporter", "--week", "2026-W47"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["manifest"] == "weekly/iso_week=2026-W47/manifest.json"


def test_python_dash_m_exporter_fails_on_bad_settings_before_any_catalog(aws) -> None:
    """Settings are checked before a catalog is opened: one run (no catalog involved) says what is wrong."""
    env = {**os.environ, **aws.environ(), "SALESFLOW_ENV": "dev", "CATALOG_TYPE": "sql",
           "CATALOG_URI": "sqlite:////nonexistent/catalog.db", "CATALOG_WAREHOUSE": "file:///nonexistent",
           "TABLE_NAMESPACE": "lkc-local", "TABLE_NAME": "sales_order_lines_clean",
           "EXPORT_BUCKET": "exports", "EXPORT_PREFIX": "weekly", "REPORTS": "order_lines",
           "SNS_TOPIC_ARN": "arn:aws:sns:eu-central-1:123456789012:exports", "MAX_WORKERS": "99"}  # fmt: skip
    failed = subprocess.run(
        [sys.executable, "-m", "exporter", "--week", "2026-W47"], env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert failed.returncode == 1 and "MAX_WORKERS must be an integer from 1 to 16" in failed.stderr
