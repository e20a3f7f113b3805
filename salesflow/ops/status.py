"""``salesflow status --env ENV``: the monitor's checks (``monitor/``) from a laptop or CI, as one table.

The same code as the Lambda: ``monitor.observe.run_checks`` with the same target and thresholds, built here
from environments/<env>.yaml instead of the Lambda's environment variables. Credentials: the monitor's secret
(``--credentials-secret``, read with the caller's AWS credentials) or, by default, the environment variables
``CONFLUENT_CLOUD_API_KEY``/``_SECRET`` (Metrics API, Tableflow), ``FLINK_API_KEY``/``_SECRET`` (statements)
and ``TABLEFLOW_API_KEY``/``_SECRET`` (the Iceberg catalog). Progress compares the statement's offsets with
the monitor's own earlier datapoints in CloudWatch: without AWS credentials that check is "unknown".

Exit codes: 0 healthy, 1 a condition breached, 2 something could not be checked (and nothing breached).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

import click

from salesflow.cli_options import environment_option, load_or_fail
from salesflow.config import Environment

CANNOT_CHECK = 2
_KEY_VARIABLES = {
    "cloud": ("CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET"),
    "flink": ("FLINK_API_KEY", "FLINK_API_SECRET"),
    "tableflow": ("TABLEFLOW_API_KEY", "TABLEFLOW_API_SECRET"),
}


class StatusError(click.ClickException):
    """Cannot even start checking: exit 2 with the reason."""

    exit_code = CANNOT_CHECK


def continuous_statement(environment: Environment) -> str:
    from salesflow.sql.render import render_statements

    return next(s.name for s in render_statements(environment, "confluent") if s.kind == "continuous")


def thresholds_of(environment: Environment) -> Any:
    from monitor.settings import Thresholds

    m = environment.monitor
    return Thresholds(
        stalled_after_minutes=m.stalled_after_minutes,
        pending_rising_minutes=m.pending_rising_minutes,
        watermark_max_age_minutes=m.watermark_max_age_minutes,
        table_max_age_minutes=m.table_max_age_minutes,
        no_intake_minutes=m.no_intake_minutes,
    )


def target_of(environment: Environment, ids: dict[str, str | None], endpoints: dict[str, str | None]) -> Any:
    """The monitor's Target for ``environment``: ids from the options, else the ids the file adopts."""
    from monitor.settings import CLOUD_ENDPOINT, METRICS_ENDPOINT, Target
    from salesflow.cloud.flink_statements import flink_endpoint
    from salesflow.ops.export import tableflow_catalog_uri

    confluent = environment.confluent
    environment_id = ids["environment_id"] or confluent.environment.id
    cluster_id = ids["kafka_cluster_id"] or confluent.kafka_cluster.id
    missing = [
        option
        for option, value in (
            ("--environment-id (CONFLUENT_ENVIRONMENT_ID)", environment_id),
            ("--kafka-cluster-id (KAFKA_CLUSTER_ID)", cluster_id),
            ("--compute-pool-id (COMPUTE_POOL_ID)", ids["compute_pool_id"]),
        )
        if not value
    ]
    if missing:
        raise StatusError(
            f"environments/{environment.name}.yaml does not name these ids (the Confluent stack's outputs): "
            f"pass {', '.join(missing)}"
        )
    assert environment_id and cluster_id and ids["compute_pool_id"]
    cluster = confluent.kafka_cluster
    return Target(
        env=environment.name,
        organization_id=confluent.organization_id,
        environment_id=environment_id,
        kafka_cluster_id=cluster_id,
        compute_pool_id=ids["compute_pool_id"],
        statement_name=continuous_statement(environment),
        raw_topic=confluent.topics.raw.name,
        clean_topic=confluent.topics.clean.name,
        flink_endpoint=endpoints["flink"] or flink_endpoint(cluster.cloud, cluster.region),
        catalog_uri=endpoints["catalog"] or tableflow_catalog_uri(environment, environment_id) or "",
        cloud_endpoint=endpoints["cloud"] or CLOUD_ENDPOINT,
        metrics_endpoint=endpoints["metrics"] or METRICS_ENDPOINT,
    )


def monitor_keys(secret_id: str | None, region: str) -> Any:
    from monitor.confluent import ApiKeys
    from monitor.http import Credentials

    if secret_id:
        from salesflow.cloud.aws import aws_client

        try:
            text = aws_client("secretsmanager", region).get_secret_value(SecretId=secret_id)["SecretString"]
            return ApiKeys.from_secret(text, secret_id)
        except Exception as exc:
            raise StatusError(f"cannot read the monitor's keys from {secret_id}: {exc}") from None
    missing = [name for pair in _KEY_VARIABLES.values() for name in pair if not os.environ.get(name)]
    if missing:
        raise StatusError(
            f"set {', '.join(missing)} (or pass --credentials-secret with the monitor's secret)"
        )
    return ApiKeys(
        **{
            purpose: Credentials(os.environ[key], os.environ[secret])
            for purpose, (key, secret) in _KEY_VARIABLES.items()
        }
    )


def _cloudwatch(region: str) -> Any:
    try:
        from salesflow.cloud.aws import aws_client

        return aws_client("cloudwatch", region)
    except Exception:  # no AWS configuration: the progress check says so
        return None


def render_table(run: Any, env: str) -> None:
    from rich.console import Console
    from rich.table import Table

    styles = {"ok": "green", "breach": "bold red", "unknown": "yellow", "skipped": "dim"}
    table = Table(title=f"salesflow status: {env} at {run.observation.at:%Y-%m-%d %H:%M:%S} UTC")
    for column in ("Check", "State", "Details"):
        table.add_column(column, overflow="fold")
    for result in run.results:
        state = str(result.state)
        table.add_row(result.condition.title, f"[{styles[state]}]{state}[/]", result.summary)
    verdict = {0: "healthy", 1: "UNHEALTHY", 2: "cannot check everything"}[run.exit_code]
    console = Console(width=max(Console().width, 120), soft_wrap=False)
    console.print(table)
    console.print(f"{env}: {verdict}")


def run_json(run: Any, env: str) -> str:
    return json.dumps(
        {
            "environment": env,
            "at": run.observation.at.isoformat(),
            "healthy": run.exit_code == 0,
            "exit_code": run.exit_code,
            "checks": [
                {
                    "check": result.condition.metric,
                    "title": result.condition.title,
                    "state": str(result.state),
                    "details": result.summary,
                }
                for result in run.results
            ],
            "observed": run.values,
        },
        indent=2,
    )


@click.command("status")
@environment_option("Environment to check (environments/<env>.yaml: ids, topics, thresholds).")
@click.option(
    "--environment-id", envvar="CONFLUENT_ENVIRONMENT_ID", help="Confluent environment id (env-...)."
)
@click.option("--kafka-cluster-id", envvar="KAFKA_CLUSTER_ID", help="Kafka cluster id (lkc-...).")
@click.option("--compute-pool-id", envvar="COMPUTE_POOL_ID", help="Flink compute pool id (lfcp-...).")
@click.option(
    "--credentials-secret",
    help="Read the monitor's Confluent keys from this Secrets Manager secret (salesflow/<env>/confluent/"
    "monitor-api-keys) instead of the *_API_KEY/_SECRET variables.",
)
@click.option("--flink-endpoint", help="Flink REST endpoint; default: the cluster's cloud and region.")
@click.option(
    "--metrics-endpoint", help="Metrics API endpoint; default: https://api.telemetry.confluent.cloud."
)
@click.option("--cloud-endpoint", help="Confluent Cloud API endpoint; default: https://api.confluent.cloud.")
@click.option("--catalog-uri", help="Tableflow's Iceberg REST catalog URL; default: built as the exporter's.")
@click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def status_command(
    env: str,
    environment_id: str | None,
    kafka_cluster_id: str | None,
    compute_pool_id: str | None,
    credentials_secret: str | None,
    flink_endpoint: str | None,
    metrics_endpoint: str | None,
    cloud_endpoint: str | None,
    catalog_uri: str | None,
    output_format: str,
) -> None:
    """Run the pipeline monitor's checks now: the statement (phase, scaling, warnings, progress), Flink's
    lag and watermark, Tableflow, the table's freshness and the raw topic's intake. Exit 0 healthy, 1
    unhealthy, 2 cannot check."""
    from monitor.observe import LiveSources, run_checks

    environment = load_or_fail(env)
    ids = {
        "environment_id": environment_id,
        "kafka_cluster_id": kafka_cluster_id,
        "compute_pool_id": compute_pool_id,
    }
    endpoints = {
        "flink": flink_endpoint,
        "metrics": metrics_endpoint,
        "cloud": cloud_endpoint,
        "catalog": catalog_uri,
    }
    target = target_of(environment, ids, endpoints)
    keys = monitor_keys(credentials_secret, environment.aws.region)
    sources = LiveSources(target, keys, _cloudwatch(environment.aws.region))
    run = run_checks(sources, target, thresholds_of(environment), datetime.now(UTC))
    if output_format == "json":
        click.echo(run_json(run, env))
    else:
        render_table(run, env)
    sys.exit(run.exit_code)
