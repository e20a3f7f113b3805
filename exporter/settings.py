"""Exporter settings from environment variables (Terraform sets them on the Lambda function)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from exporter.notice.settings import NoticeSettings, notice_settings_from_env
from exporter.weeks import WeekError, load_zone

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable and the fix."""


@dataclass(frozen=True)
class Settings:
    env: str
    catalog_type: Literal["rest", "sql"]
    catalog_uri: str
    catalog_warehouse: str | None
    catalog_credential_secret_id: str | None
    catalog_vended_credentials: bool
    table_namespace: str
    table_name: str
    export_bucket: str
    export_prefix: str
    sns_topic_arn: str | None
    week_time_zone: ZoneInfo
    reports: tuple[str, ...]
    max_workers: int
    s3_endpoint_url: str | None = None
    sns_endpoint_url: str | None = None
    notice: NoticeSettings = field(default_factory=NoticeSettings)  # SNS text, or NOTIFY=email
    # A week below this fraction of the previous exported weeks' median is suspect (exporter/judge.py).
    suspect_fraction: Decimal = Decimal("0.5")

    @property
    def table_identifier(self) -> tuple[str, str]:
        return (self.table_namespace, self.table_name)


def _required(environ: Mapping[str, str], name: str, hint: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is not set: {hint}")
    return value


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def settings_from_env(environ: Mapping[str, str] | None = None, require_topic: bool = True) -> Settings:
    """Read and validate every setting; the first problem raises a SettingsError naming the variable.

    ``require_topic=False`` (local command line only) makes SNS_TOPIC_ARN optional: no notification."""
    environ = os.environ if environ is None else environ
    catalog_type = _required(environ, "CATALOG_TYPE", "set it to 'rest' (Tableflow) or 'sql' (local)")
    if catalog_type not in ("rest", "sql"):
        raise SettingsError(f"CATALOG_TYPE must be 'rest' (Tableflow) or 'sql' (local), got {catalog_type!r}")
    catalog_uri = _required(
        environ,
        "CATALOG_URI",
        "the Tableflow REST catalog URL (https://tableflow.<region>.aws.confluent.cloud/iceberg/catalog/"
        "organizations/<org>/environments/<env-id>) or a SQLAlchemy URI such as sqlite:////tmp/catalog.db",
    )
    warehouse = _optional(environ, "CATALOG_WAREHOUSE")
    secret_id = _optional(environ, "CATALOG_CREDENTIAL_SECRET_ID")
    if catalog_type == "rest":
        if not catalog_uri.startswith("https://"):
            raise SettingsError(
                f"CATALOG_URI must be an https:// URL for CATALOG_TYPE=rest, got {catalog_uri!r}"
            )
        if secret_id is None:
            raise SettingsError(
                "environment variable CATALOG_CREDENTIAL_SECRET_ID is not set: name the Secrets Manager "
                "secret whose SecretString is the Tableflow API key as 'key:secret'"
            )
    elif warehouse is None:
        raise SettingsError(
            "environment variable CATALOG_WAREHOUSE is not set: CATALOG_TYPE=sql needs the warehouse "
            "location, e.g. file:///tmp/warehouse"
        )
    vended = environ.get("CATALOG_VENDED_CREDENTIALS", "false").strip().lower()
    if vended not in ("true", "false"):
        raise SettingsError(
            f"CATALOG_VENDED_CREDENTIALS must be 'true' (Tableflow managed storage) or 'false' "
            f"(own bucket), got {vended!r}"
        )
    bucket = _required(environ, "EXPORT_BUCKET", "the S3 bucket the CSV reports are written to")
    if not _BUCKET.match(bucket):
        raise SettingsError(f"EXPORT_BUCKET {bucket!r} is not a valid S3 bucket name")
    prefix = _required(environ, "EXPORT_PREFIX", "the key prefix of the reports, e.g. weekly").strip("/")
    if not _PREFIX.match(prefix):
        raise SettingsError(f"EXPORT_PREFIX {prefix!r} must be path segments of [A-Za-z0-9_.-], e.g. weekly")
    topic = (
        _required(environ, "SNS_TOPIC_ARN", "the SNS topic the analysts subscribe to")
        if require_topic
        else _optional(environ, "SNS_TOPIC_ARN")
    )
    if topic is not None and not _SNS_ARN.match(topic):
        raise SettingsError(
            f"SNS_TOPIC_ARN {topic!r} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"
        )
    try:
        zone = load_zone(environ.get("WEEK_TIME_ZONE", "UTC").strip() or "UTC")
    except WeekError as exc:
        raise SettingsError(f"WEEK_TIME_ZONE: {exc}") from None
    reports = tuple(
        name.strip()
        for name in _required(
            environ, "REPORTS", "comma-separated report names from exporter/reports.yaml"
        ).split(",")
        if name.strip()
    )
    for name in reports:
        if not _NAME.match(name):
            raise SettingsError(f"REPORTS: {name!r} is not a report name (lower_snake_case)")
    if len(set(reports)) != len(reports):
        raise SettingsError(f"REPORTS names a report twice: {','.join(reports)}")
    workers_text = environ.get("MAX_WORKERS", "4").strip()
    if not workers_text.isdigit() or not 1 <= int(workers_text) <= 16:
        raise SettingsError(f"MAX_WORKERS must be an integer from 1 to 16, got {workers_text!r}")
    fraction_text = environ.get("SUSPECT_FRACTION", "0.5").strip() or "0.5"
    try:
        fraction = Decimal(fraction_text)
    except ArithmeticError:
        fraction = Decimal(0)
    if not (fraction.is_finite() and Decimal(0) < fraction <= 1):
        raise SettingsError(
            f"SUSPECT_FRACTION must be a number above 0 and at most 1 (e.g. 0.5), got {fraction_text!r}"
        )
    try:
        notice = notice_settings_from_env(environ)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return Settings(
        env=_required(environ, "SALESFLOW_ENV", "the environment name, e.g. dev"),
        catalog_type=catalog_type,  # type: ignore[arg-type]
        catalog_uri=catalog_uri,
        catalog_warehouse=warehouse,
        catalog_credential_secret_id=secret_id,
        catalog_vended_credentials=vended == "true",
        table_namespace=_required(
            environ, "TABLE_NAMESPACE", "the Kafka cluster id (lkc-...), Tableflow's namespace"
        ),
        table_name=_required(environ, "TABLE_NAME", "the clean topic name, Tableflow's table name"),
        export_bucket=bucket,
        export_prefix=prefix,
        sns_topic_arn=topic,
        week_time_zone=zone,
        reports=reports,
        max_workers=int(workers_text),
        s3_endpoint_url=_optional(environ, "S3_ENDPOINT_URL"),
        sns_endpoint_url=_optional(environ, "SNS_ENDPOINT_URL"),
        notice=notice,
        suspect_fraction=fraction,
    )
