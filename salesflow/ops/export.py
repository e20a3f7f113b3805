"""``salesflow export``: run the Lambda's exporter code locally or against the cloud (backfills).

Settings come from environments/<env>.yaml and are handed to the exporter as the same environment
variables Terraform sets on the Lambda function, so both paths validate and behave identically.
"""

from __future__ import annotations

import json
import os
import sys

import click

from salesflow.cli_options import environment_option, load_or_fail
from salesflow.config import Environment

SQL_SCHEMES = ("sqlite:", "postgresql:", "postgresql+", "mysql")
# Namespace of the table in a local SQL catalog when the environment has no Kafka cluster id yet.
LOCAL_NAMESPACE = "lkc-local"


def tableflow_catalog_uri(environment: Environment, environment_id: str | None = None) -> str | None:
    """The Tableflow Iceberg REST catalog URL, when the Confluent environment id is known (given, or
    adopted in the environment file)."""
    env_id = environment_id or environment.confluent.environment.id
    if env_id is None:
        return None
    region = environment.confluent.kafka_cluster.region
    org = environment.confluent.organization_id
    return f"https://tableflow.{region}.aws.confluent.cloud/iceberg/catalog/organizations/{org}/environments/{env_id}"


def exporter_environment(
    environment: Environment,
    catalog_uri: str | None,
    warehouse: str | None,
    credential_secret_id: str | None,
    namespace: str | None,
    bucket: str | None,
    s3_endpoint: str | None,
    sns_endpoint: str | None,
    sns_topic_arn: str | None,
) -> dict[str, str]:
    """The Lambda's environment variables for ``environment`` (what Terraform sets), with local overrides."""
    uri = catalog_uri or tableflow_catalog_uri(environment)
    if uri is None:
        raise click.UsageError(
            f"environments/{environment.name}.yaml has no confluent.environment.id, so the Tableflow catalog "
            "URL is unknown: pass --catalog-uri (a sqlite:/// URI for a local catalog)"
        )
    is_sql = uri.startswith(SQL_SCHEMES)
    table_namespace = namespace or environment.confluent.kafka_cluster.id
    if table_namespace is None:
        if not is_sql:
            raise click.UsageError(
                "the Kafka cluster id is unknown (kafka_cluster.id is null): pass --namespace lkc-..."
            )
        table_namespace = LOCAL_NAMESPACE
    variables = {
        "SALESFLOW_ENV": environment.name,
        "CATALOG_TYPE": "sql" if is_sql else "rest",
        "CATALOG_URI": uri,
        "CATALOG_WAREHOUSE": warehouse or "",
        "CATALOG_CREDENTIAL_SECRET_ID": credential_secret_id or "",
        "CATALOG_VENDED_CREDENTIALS": "true"
        if environment.confluent.tableflow.storage == "managed"
        else "false",
        "TABLE_NAMESPACE": table_namespace,
        "TABLE_NAME": environment.confluent.topics.clean.name,
        "EXPORT_BUCKET": bucket or environment.aws.export.bucket,
        "EXPORT_PREFIX": environment.aws.export.prefix,
        "SNS_TOPIC_ARN": sns_topic_arn or "",
        "WEEK_TIME_ZONE": environment.exporter.week_time_zone,
        "REPORTS": ",".join(environment.exporter.reports),
        "MAX_WORKERS": str(environment.exporter.lambda_.max_workers),
        "S3_ENDPOINT_URL": s3_endpoint or "",
        "SNS_ENDPOINT_URL": sns_endpoint or s3_endpoint or "",
        "NOTIFY": "sns",  # a local run notifies through SNS if given a topic; the demo sends the e-mail
    }
    return variables


def email_environment(
    environment: Environment,
    *,
    download_base_url: str,
    key_pair_id: str,
    signing_key_secret_id: str,
    configuration_set: str | None,
) -> dict[str, str]:
    """The Lambda's e-mail variables (``NOTIFY=email``) for ``environment``: what Terraform sets from the
    environment file and its CloudFront/SES resources (given here, since they exist only in the cloud)."""
    email, downloads = environment.exporter.email, environment.exporter.downloads
    if email is None or downloads is None:
        raise click.UsageError(
            f"environments/{environment.name}.yaml has no exporter.email/downloads blocks: no e-mail to send"
        )
    return {
        "NOTIFY": "email",
        "EMAIL_FROM": email.from_address,
        "EMAIL_TO": ",".join(environment.exporter.analysts),
        "EMAIL_CONFIGURATION_SET": configuration_set or "",
        "DOWNLOAD_BASE_URL": download_base_url,
        "DOWNLOAD_KEY_PAIR_ID": key_pair_id,
        "DOWNLOAD_SIGNING_KEY_SECRET_ID": signing_key_secret_id,
        "DOWNLOAD_LINK_DAYS": str(downloads.link_days),
    }


@click.command("export")
@environment_option("Environment to export.")
@click.option("--week", help="ISO week to export, e.g. 2026-W47 (a backfill).")
@click.option(
    "--scheduled-time", help="Export the ISO week before this ISO-8601 time (what the schedule does)."
)
@click.option(
    "--catalog-uri", help="Catalog URI: sqlite:////path/catalog.db locally; default: the env's Tableflow URL."
)
@click.option("--warehouse", help="Warehouse of a SQL catalog, e.g. file:///path/warehouse.")
@click.option(
    "--credential-secret-id", help="Secrets Manager secret with the Tableflow API key (REST catalog)."
)
@click.option("--namespace", help="Table namespace (Kafka cluster id); default: kafka_cluster.id of the env.")
@click.option("--bucket", help="Export bucket; default: aws.export.bucket of the env.")
@click.option("--s3-endpoint", help="S3 endpoint URL, e.g. a local moto server http://127.0.0.1:5000.")
@click.option("--sns-endpoint", help="SNS endpoint URL; default: --s3-endpoint.")
@click.option("--sns-topic-arn", help="Notify this SNS topic; without it no notification is sent.")
def export_command(
    env: str,
    week: str | None,
    scheduled_time: str | None,
    catalog_uri: str | None,
    warehouse: str | None,
    credential_secret_id: str | None,
    namespace: str | None,
    bucket: str | None,
    s3_endpoint: str | None,
    sns_endpoint: str | None,
    sns_topic_arn: str | None,
) -> None:
    """Export one ISO week of the clean table as CSV reports (the Lambda's code, run here). Example:

    salesflow export --env dev --week 2026-W47 --catalog-uri sqlite:////tmp/lh/catalog.db
    --warehouse file:///tmp/lh/warehouse --s3-endpoint http://127.0.0.1:5000
    """
    from exporter.export import run_export
    from exporter.log import logger
    from exporter.settings import settings_from_env
    from exporter.weeks import week_from_event

    logger.registered_handler.setStream(sys.stderr)  # JSON logs on stderr, the summary on stdout

    if bool(week) == bool(scheduled_time):
        raise click.UsageError("give exactly one of --week and --scheduled-time")
    environment = load_or_fail(env)
    variables = exporter_environment(
        environment,
        catalog_uri,
        warehouse,
        credential_secret_id,
        namespace,
        bucket,
        s3_endpoint,
        sns_endpoint,
        sns_topic_arn,
    )
    try:
        settings = settings_from_env({**os.environ, **variables}, require_topic=False)
        event = {"week": week} if week else {"scheduled_time": scheduled_time}
        result = run_export(settings, week_from_event(event, settings.week_time_zone))
    except Exception as exc:
        raise click.ClickException(f"export failed: {exc}") from None
    click.echo(
        json.dumps(
            {
                "week": result.week,
                "window_utc": list(result.window_utc),
                "orders": result.orders,
                "rows": result.rows,
                "duplicates_dropped": result.duplicates_dropped,
                "manifest": f"s3://{settings.export_bucket}/{result.manifest_key}",
                "notified": result.message_id is not None,
            },
            indent=2,
        )
    )
