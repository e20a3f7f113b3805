"""The monitor's settings: what it watches (``Target``), when a condition breaches (``Thresholds``) and where
its Confluent keys are. Terraform sets them as the Lambda's environment variables from environments/<env>.yaml
and the Confluent stack's outputs; ``salesflow status`` builds the same objects from the environment file."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

CLOUD_ENDPOINT = "https://api.confluent.cloud"
METRICS_ENDPOINT = "https://api.telemetry.confluent.cloud"
_ID = re.compile(r"^[A-Za-z0-9_.:/-]+$")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable and the fix."""


@dataclass(frozen=True)
class Target:
    """The pipeline of one environment: the continuous statement, its topics and the table."""

    env: str
    organization_id: str
    environment_id: str
    kafka_cluster_id: str
    compute_pool_id: str
    statement_name: str
    raw_topic: str
    clean_topic: str
    flink_endpoint: str
    catalog_uri: str  # Tableflow's Iceberg REST catalog, as the exporter's CATALOG_URI
    cloud_endpoint: str = CLOUD_ENDPOINT
    metrics_endpoint: str = METRICS_ENDPOINT

    @property
    def table(self) -> tuple[str, str]:
        """Tableflow's identifier of the clean topic's table: (Kafka cluster id, topic name)."""
        return (self.kafka_cluster_id, self.clean_topic)


@dataclass(frozen=True)
class Thresholds:
    stalled_after_minutes: int
    pending_rising_minutes: int
    watermark_max_age_minutes: int
    table_max_age_minutes: int
    no_intake_minutes: int | None  # None: intake is not watched

    @property
    def lookback(self) -> timedelta:
        """How far back the raw topic's intake is read: enough for every window that uses it (the table's
        freshness looks at most this far back), at most 6 hours (the Metrics API's limit at PT1M)."""
        minutes = max(
            self.no_intake_minutes or 0,
            self.watermark_max_age_minutes,
            self.stalled_after_minutes + 15,
            self.table_max_age_minutes + 60,
        )
        return timedelta(minutes=min(minutes, 360))


@dataclass(frozen=True)
class Settings:
    target: Target
    thresholds: Thresholds
    credentials_secret_id: str


def _required(environ: Mapping[str, str], name: str, hint: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is not set: {hint}")
    if not _ID.match(value):
        raise SettingsError(f"environment variable {name} has unexpected characters: {value!r}")
    return value


def _minutes(environ: Mapping[str, str], name: str, *, optional: bool = False) -> int | None:
    text = environ.get(name, "").strip().lower()
    if optional and text in ("", "off", "none"):
        return None
    if not text.isdigit() or int(text) < 1:
        allowed = " or 'off'" if optional else ""
        raise SettingsError(f"{name} must be a whole number of minutes{allowed}, got {text!r}")
    return int(text)


def thresholds_from_env(environ: Mapping[str, str]) -> Thresholds:
    return Thresholds(
        stalled_after_minutes=_minutes(environ, "STALLED_AFTER_MINUTES") or 0,
        pending_rising_minutes=_minutes(environ, "PENDING_RISING_MINUTES") or 0,
        watermark_max_age_minutes=_minutes(environ, "WATERMARK_MAX_AGE_MINUTES") or 0,
        table_max_age_minutes=_minutes(environ, "TABLE_MAX_AGE_MINUTES") or 0,
        no_intake_minutes=_minutes(environ, "NO_INTAKE_MINUTES", optional=True),
    )


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; the first problem raises a SettingsError naming the variable."""
    environ = os.environ if environ is None else environ

    def required(name: str, hint: str) -> str:
        return _required(environ, name, hint)

    target = Target(
        env=required("SALESFLOW_ENV", "the environment name, e.g. dev"),
        organization_id=required("CONFLUENT_ORGANIZATION_ID", "the Confluent organization id (UUID)"),
        environment_id=required("CONFLUENT_ENVIRONMENT_ID", "the Confluent environment id (env-...)"),
        kafka_cluster_id=required("KAFKA_CLUSTER_ID", "the Kafka cluster id (lkc-...), Tableflow namespace"),
        compute_pool_id=required("COMPUTE_POOL_ID", "the Flink compute pool id (lfcp-...)"),
        statement_name=required("STATEMENT_NAME", "the continuous statement, e.g. dev-sales-order-lines-v1"),
        raw_topic=required("RAW_TOPIC", "the topic the sales channels produce to"),
        clean_topic=required("CLEAN_TOPIC", "the clean topic, Tableflow's table name"),
        flink_endpoint=required("FLINK_ENDPOINT", "https://flink.<region>.<cloud>.confluent.cloud"),
        catalog_uri=required(
            "CATALOG_URI",
            "the Tableflow REST catalog URL (https://tableflow.<region>.aws.confluent.cloud/iceberg/catalog/"
            "organizations/<org>/environments/<env-id>), as the exporter's",
        ),
        cloud_endpoint=environ.get("CONFLUENT_CLOUD_ENDPOINT", "").strip() or CLOUD_ENDPOINT,
        metrics_endpoint=environ.get("CONFLUENT_METRICS_ENDPOINT", "").strip() or METRICS_ENDPOINT,
    )
    return Settings(
        target=target,
        thresholds=thresholds_from_env(environ),
        credentials_secret_id=required(
            "CREDENTIALS_SECRET_ID",
            "the Secrets Manager secret holding the monitor's Confluent keys as JSON "
            '{"cloud": "key:secret", "flink": "key:secret", "tableflow": "key:secret"}',
        ),
    )
