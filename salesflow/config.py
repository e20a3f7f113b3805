"""Environment configuration: the single source of truth read by SQL rendering, synth and the exporter.

One YAML file per environment lives in ``environments/``. Secrets never live there: only the
*names* of secrets (AWS Secrets Manager) appear, and unknown keys are rejected so a value cannot be
slipped in under a new field.
"""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

REPO_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS_DIR = REPO_ROOT / "environments"

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")]
TopicName = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")]
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
AwsRegion = Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]
SecretName = Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
DurationText = Annotated[str, Field(pattern=r"^[1-9][0-9]* (ms|s|min|h|d)$")]
DomainName = Annotated[str, Field(pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")]
KeyName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]

_DURATION_SECONDS = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}


class ConfigError(ValueError):
    """A configuration file is missing or invalid; the message names the file, the field and the fix."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfluentEnvironment(Strict):
    display_name: Name
    id: Annotated[str, Field(pattern=r"^env-[a-z0-9]+$")] | None = None

    @property
    def adopt(self) -> bool:
        return self.id is not None


class KafkaCluster(Strict):
    display_name: Name
    id: Annotated[str, Field(pattern=r"^lkc-[a-z0-9]+$")] | None = None
    cloud: Literal["AWS", "GCP", "AZURE"]
    region: str
    type: Literal["basic", "standard", "enterprise", "dedicated"]
    availability: Literal["SINGLE_ZONE", "MULTI_ZONE", "LOW", "HIGH"]
    cku: Annotated[int, Field(ge=1)] | None = None

    @property
    def adopt(self) -> bool:
        return self.id is not None

    @model_validator(mode="after")
    def _cku_only_for_dedicated(self) -> KafkaCluster:
        if self.type == "dedicated" and self.cku is None:
            raise ValueError("type 'dedicated' needs cku (number of CKUs, >= 1)")
        if self.type != "dedicated" and self.cku is not None:
            raise ValueError(f"cku applies to type 'dedicated' only; remove it for type '{self.type}'")
        return self


class SchemaRegistry(Strict):
    compatibility: Literal["BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"]


class Topic(Strict):
    name: TopicName
    partitions: Annotated[int, Field(ge=1, le=1024)]
    retention_ms: Annotated[int, Field(ge=3_600_000)]


class Topics(Strict):
    raw: Topic
    clean: Topic


class ComputePool(Strict):
    display_name: Name
    max_cfu: Literal[5, 10, 20, 30, 40, 50]


DedupVariant = Literal["first_row", "window"]
DEDUP_VARIANTS: tuple[DedupVariant, ...] = ("first_row", "window")
# The weekly export runs hours after its week ends; the statement's output latency must stay well below.
MAX_OUTPUT_LATENCY_SECONDS = 6 * 3600


class Flink(Strict):
    compute_pool: ComputePool
    state_ttl: DurationText
    watermark_delay: DurationText
    time_zone: str
    # first_row: keep-first per order_id; window: keep-first per order_id within tumbling windows of
    # dedup_window on $rowtime (flink_statements/README.md compares them).
    dedup: DedupVariant = "first_row"
    dedup_window: DurationText = "10 min"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _check_zone(value)

    @property
    def watermark_delay_seconds(self) -> int:
        return duration_seconds(self.watermark_delay)

    @property
    def state_ttl_seconds(self) -> int:
        return duration_seconds(self.state_ttl)

    @property
    def dedup_window_seconds(self) -> int:
        return duration_seconds(self.dedup_window)

    @property
    def output_latency_seconds(self) -> int:
        """How long after its record time an order's lines reach the clean topic, at most: the watermark
        delay, plus the window for window dedup (a window's lines leave when the watermark passes its end)."""
        window = self.dedup_window_seconds if self.dedup == "window" else 0
        return self.watermark_delay_seconds + window

    @model_validator(mode="after")
    def _ttl_outlives_watermark(self) -> Flink:
        if self.state_ttl_seconds <= self.watermark_delay_seconds:
            raise ValueError(
                "state_ttl must be longer than watermark_delay, or dedup state expires too early"
            )
        return self

    @model_validator(mode="after")
    def _dedup_window_fits(self) -> Flink:
        if self.dedup_window_seconds < 60:
            raise ValueError(
                "dedup_window must be at least 1 min: producer retries that straddle a shorter window's "
                "end pass as duplicates"
            )
        if self.watermark_delay_seconds + self.dedup_window_seconds > MAX_OUTPUT_LATENCY_SECONDS:
            raise ValueError(
                "dedup_window + watermark_delay must stay within 6 h (the window variant's output "
                "latency): the weekly export must find the last orders of its week"
            )
        return self


class Pii(Strict):
    pepper_secret: SecretName


class ByobStorage(Strict):
    bucket: BucketName
    provider_integration_id: Annotated[str, Field(pattern=r"^cspi-[a-z0-9]+$")]


class Tableflow(Strict):
    storage: Literal["managed", "byob"]
    byob: ByobStorage | None = None
    retention_ms: Annotated[int, Field(ge=86_400_000)]

    @model_validator(mode="after")
    def _byob_needs_bucket(self) -> Tableflow:
        if self.storage == "byob" and self.byob is None:
            raise ValueError("storage 'byob' needs a byob block with bucket and provider_integration_id")
        if self.storage == "managed" and self.byob is not None:
            raise ValueError("storage 'managed' takes no byob block; remove it or set storage: byob")
        return self


class Confluent(Strict):
    organization_id: Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")]
    environment: ConfluentEnvironment
    kafka_cluster: KafkaCluster
    schema_registry: SchemaRegistry
    topics: Topics
    flink: Flink
    pii: Pii
    tableflow: Tableflow


class StateBackend(Strict):
    bucket: BucketName
    key_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9/_.-]+$")]
    region: AwsRegion


class ExportTarget(Strict):
    bucket: BucketName
    prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")]


class Aws(Strict):
    region: AwsRegion
    state_backend: StateBackend
    artifact_bucket: BucketName
    export: ExportTarget


class Schedule(Strict):
    cron: str
    time_zone: str

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("cron")
    @classmethod
    def _eventbridge_cron(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 6:
            raise ValueError(
                "EventBridge cron needs 6 fields 'minutes hours day-of-month month day-of-week year', "
                "e.g. '0 6 ? * MON *'"
            )
        day_of_month, day_of_week = fields[2], fields[4]
        if (day_of_month == "?") == (day_of_week == "?"):
            raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
        if fields[1] == "2" or re.fullmatch(r"2-\d+|\d+-2", fields[1]):
            raise ValueError("avoid 02:00-03:00 local time: a daylight-saving gap skips the run")
        return value


class LambdaSettings(Strict):
    memory_mb: Annotated[int, Field(ge=128, le=10240)]
    timeout_seconds: Annotated[int, Field(ge=30, le=900)]
    architecture: Literal["arm64", "x86_64"]
    max_workers: Annotated[int, Field(ge=1, le=16)]
    ephemeral_storage_mb: Annotated[int, Field(ge=512, le=10240)]
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827]


class AnalystEmail(Strict):
    """The analysts' e-mail: sent through SES from a domain identity (Easy DKIM) to ``exporter.analysts``."""

    sender_domain: DomainName
    from_address: Email

    @model_validator(mode="after")
    def _sender_on_the_domain(self) -> AnalystEmail:
        if self.from_address.rsplit("@", 1)[1].lower() != self.sender_domain:
            raise ValueError(f"from_address must be an address at sender_domain {self.sender_domain!r}")
        return self


class Downloads(Strict):
    """Signed HTTPS download links (CloudFront in front of the export bucket)."""

    link_days: Annotated[int, Field(ge=1, le=90)] = 7
    # CloudFront key group members; Terraform creates each key pair (private key: Secrets Manager).
    signing_keys: Annotated[list[KeyName], Field(min_length=1, max_length=5)]
    active_key: KeyName

    @model_validator(mode="after")
    def _active_key_is_listed(self) -> Downloads:
        if len(set(self.signing_keys)) != len(self.signing_keys):
            raise ValueError("signing_keys must be unique")
        if self.active_key not in self.signing_keys:
            raise ValueError(
                f"active_key {self.active_key!r} must be one of signing_keys {self.signing_keys}"
            )
        return self


class Exporter(Strict):
    schedule: Schedule
    week_time_zone: str
    analysts: Annotated[list[Email], Field(min_length=1)]
    alarm_emails: Annotated[list[Email], Field(min_length=1)]
    reports: Annotated[list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]], Field(min_length=1)]
    lambda_: LambdaSettings = Field(alias="lambda")
    # A week whose lines or orders fall below this fraction of the median of the previous 4 exported
    # weeks (or that is empty) is exported but marked suspect (exporter/judge.py).
    suspect_fraction: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.5")
    notify: Literal["email", "sns"]
    email: AnalystEmail | None = None
    downloads: Downloads | None = None

    @model_validator(mode="after")
    def _email_needs_its_settings(self) -> Exporter:
        if self.notify == "email" and (self.email is None or self.downloads is None):
            raise ValueError(
                "notify 'email' needs the exporter.email and exporter.downloads blocks (or notify: sns)"
            )
        return self

    @field_validator("week_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("reports")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("report names must be unique")
        return value


class MonitorLambda(Strict):
    memory_mb: Annotated[int, Field(ge=128, le=1024)]
    timeout_seconds: Annotated[int, Field(ge=30, le=300)]
    architecture: Literal["arm64", "x86_64"]
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827]


class Monitor(Strict):
    """The pipeline monitor (``monitor/``): how often it runs and when each condition counts as a breach.
    The conditions and their alarms are listed in ``monitor/conditions.py`` and docs/runbook.md."""

    every_minutes: Annotated[int, Field(ge=1, le=15)]
    stalled_after_minutes: Annotated[int, Field(ge=5, le=120)]
    pending_rising_minutes: Annotated[int, Field(ge=5, le=120)]
    watermark_max_age_minutes: Annotated[int, Field(ge=5, le=1440)]
    table_max_age_minutes: Annotated[int, Field(ge=15, le=1440)]
    no_intake_minutes: Annotated[int, Field(ge=10, le=1440)] | None
    lambda_: MonitorLambda = Field(alias="lambda")

    @model_validator(mode="after")
    def _history_spans_a_run(self) -> Monitor:
        if self.stalled_after_minutes < self.every_minutes:
            raise ValueError(
                "stalled_after_minutes must be at least every_minutes: progress compares the statement's "
                "offsets with an earlier run's"
            )
        return self


class Usage(Strict):
    """How much traffic an environment carries: the cost estimate (``salesflow cost``) derives data volumes,
    GB-based charges and run counts from it. Defaults and their reasons are documented in the YAML."""

    events_per_day: Annotated[int, Field(ge=0)]
    duplicate_share: Annotated[Decimal, Field(ge=0, lt=1)]
    lines_per_order: Annotated[Decimal, Field(gt=0)]
    bytes_per_event: Annotated[int, Field(ge=1)]
    bytes_per_line: Annotated[int, Field(ge=1)]
    ecku: Annotated[int, Field(ge=1)]
    cfu_per_statement: Annotated[Decimal, Field(ge=1)]
    table_bytes_ratio: Annotated[Decimal, Field(gt=0, le=1)]
    table_history_months: Annotated[int, Field(ge=1)]
    exports_per_month: Annotated[Decimal, Field(ge=0)]
    export_seconds: Annotated[Decimal, Field(gt=0)]
    # The monitor: seconds and CloudWatch Logs MB per run (it runs every monitor.every_minutes).
    monitor_seconds: Annotated[Decimal, Field(gt=0)]
    log_mb_per_monitor_run: Annotated[Decimal, Field(ge=0)]
    csv_bytes_per_line: Annotated[int, Field(ge=1)]
    export_history_months: Annotated[int, Field(ge=1)]
    log_mb_per_export: Annotated[Decimal, Field(ge=0)]
    artifact_bucket_gb: Annotated[Decimal, Field(ge=0)]
    access_log_bucket_gb: Annotated[Decimal, Field(ge=0)]
    other_bucket_gb: Annotated[Decimal, Field(ge=0)]


GitHubLogin = Annotated[str, Field(pattern=r"^[A-Za-z0-9](-?[A-Za-z0-9]){0,38}$")]
TeamSlug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")]
# GitHub allows at most six required reviewers (users and teams together) per environment.
MAX_GITHUB_REVIEWERS = 6


class Reviewers(Strict):
    users: list[GitHubLogin] = []
    teams: list[TeamSlug] = []


class Adopt(Strict):
    state_bucket: bool = False
    artifact_bucket: bool = False
    # Secrets Manager imports a secret by ARN (its name plus six random characters).
    pepper_secret_arn: (
        Annotated[
            str,
            Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$"),
        ]
        | None
    ) = None


class Bootstrap(Strict):
    github_repository: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")]
    manage_github: bool
    reviewers: Reviewers
    oidc_provider: Literal["create", "existing"]
    adopt: Adopt

    @model_validator(mode="after")
    def _reviewers_fit_github(self) -> Bootstrap:
        if len(self.reviewers.users) + len(self.reviewers.teams) > MAX_GITHUB_REVIEWERS:
            raise ValueError(
                f"GitHub takes at most {MAX_GITHUB_REVIEWERS} reviewers (users and teams together)"
            )
        return self


class Environment(Strict):
    name: Name
    prevent_destroy: bool
    confluent: Confluent
    aws: Aws
    exporter: Exporter
    monitor: Monitor
    usage: Usage
    bootstrap: Bootstrap

    @model_validator(mode="after")
    def _monitor_outwaits_the_watermark(self) -> Environment:
        delay_minutes = self.confluent.flink.watermark_delay_seconds / 60
        monitor = self.monitor
        for name in ("watermark_max_age_minutes", "table_max_age_minutes"):
            if getattr(monitor, name) <= delay_minutes:
                raise ValueError(
                    f"monitor.{name} must exceed confluent.flink.watermark_delay ({delay_minutes:g} min): "
                    "output lags the input by the watermark delay when all is well"
                )
        return self

    @property
    def flink_catalog(self) -> str:
        """Flink catalog = Confluent environment."""
        return self.confluent.environment.display_name

    def with_dedup(self, variant: DedupVariant) -> Environment:
        """This environment with ``confluent.flink.dedup`` set to ``variant`` (to render, lint, lock and
        run both variants whatever the environment selects)."""
        flink = self.confluent.flink.model_copy(update={"dedup": variant})
        confluent = self.confluent.model_copy(update={"flink": flink})
        return self.model_copy(update={"confluent": confluent})

    @property
    def flink_database(self) -> str:
        """Flink database = Kafka cluster."""
        return self.confluent.kafka_cluster.display_name

    @property
    def names(self) -> BootstrapNames:
        """Names of what the bootstrap stack creates (synth and ``salesflow doctor`` share them)."""
        return BootstrapNames(self)


class BootstrapNames:
    """What ``<env>-bootstrap`` names: roles, the boundary, its key, secrets and the GitHub environments.

    Everything under ``salesflow-<env>-`` is the repository's name prefix; the bootstrap's own roles are
    ``salesflow-<env>-github-*`` and the deploy role may never touch them.
    """

    ROLES = ("plan", "deploy", "backfill", "smoke")

    def __init__(self, environment: Environment) -> None:
        self._environment = environment
        self.prefix = f"salesflow-{environment.name}"
        self.boundary_policy = f"{self.prefix}-workload-boundary"
        self.read_policy = f"{self.prefix}-pipeline-read"
        # What deploy manages for the analysts' delivery (CloudFront, SES): beside the role's inline policy,
        # which IAM caps at 10,240 characters per role.
        self.delivery_policy = f"{self.prefix}-pipeline-deploy-delivery"
        self.key_alias = f"alias/{self.prefix}-bootstrap"
        self.access_log_bucket = f"{environment.aws.state_backend.bucket}-access-logs"
        self.confluent_terraform_account = f"{self.prefix}-terraform"
        self.confluent_plan_account = f"{self.prefix}-terraform-plan"
        # Secrets Manager: the Terraform service accounts' Cloud API keys (key:secret), readable by an
        # administrator only (the GitHub part of bootstrap hands them to the workflows).
        self.bootstrap_secret_prefix = f"salesflow/{environment.name}/bootstrap/"
        self.github_environments = (f"{environment.name}-plan", environment.name)

    def role(self, purpose: str) -> str:
        """``salesflow-<env>-github-<purpose>`` for plan, deploy, backfill and smoke."""
        if purpose not in self.ROLES:
            raise ValueError(f"no bootstrap role {purpose!r}; known: {', '.join(self.ROLES)}")
        return f"{self.prefix}-github-{purpose}"

    @property
    def bootstrap_role_pattern(self) -> str:
        return f"{self.prefix}-github-*"

    def confluent_key_secret(self, purpose: Literal["deploy", "plan"]) -> str:
        """Where the Cloud API key of Confluent's Terraform (deploy) or plan service account is kept."""
        return f"{self.bootstrap_secret_prefix}confluent-{purpose}-cloud-api-key"

    @property
    def state_key(self) -> str:
        return f"{self.environment_backend.key_prefix}/bootstrap.tfstate"

    @property
    def environment_backend(self) -> StateBackend:
        return self._environment.aws.state_backend

    def github_subjects(self, purpose: str) -> tuple[str, ...]:
        """Exact OIDC ``sub`` claims a role trusts: the plan role pull requests and ``<env>-plan``
        jobs, every other role jobs of the ``<env>`` environment only."""
        repository = self._environment.bootstrap.github_repository
        name = self._environment.name
        if purpose == "plan":
            return (f"repo:{repository}:pull_request", f"repo:{repository}:environment:{name}-plan")
        self.role(purpose)
        return (f"repo:{repository}:environment:{name}",)


def duration_seconds(text: str) -> int:
    amount, unit = text.split()
    return int(int(amount) * _DURATION_SECONDS[unit])


def _check_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown IANA time zone {value!r}; use a name like 'UTC' or 'Europe/Berlin'"
        ) from None
    return value


def environment_names(directory: Path = ENVIRONMENTS_DIR) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.yaml"))


def environment_path(name: str, directory: Path = ENVIRONMENTS_DIR) -> Path:
    return directory / f"{name}.yaml"


def load_environment(name_or_path: str | Path, directory: Path = ENVIRONMENTS_DIR) -> Environment:
    """Load and validate ``environments/<name>.yaml`` (or an explicit path)."""
    path = Path(name_or_path)
    if path.suffix not in {".yaml", ".yml"}:
        path = environment_path(str(name_or_path), directory)
    if not path.is_file():
        known = ", ".join(environment_names(directory)) or "none"
        raise ConfigError(f"{path}: no such environment file; known environments: {known}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        environment = Environment.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    if environment.name != path.stem:
        raise ConfigError(
            f"{path}: field 'name' is {environment.name!r}; it must equal the file name {path.stem!r}"
        )
    return environment


def _describe(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} invalid field(s)"]
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field; remove it (secrets never live in environment files)"
        elif error["type"] == "string_pattern_mismatch":
            message = f"does not match {error['ctx']['pattern']}"
        elif error["type"] == "literal_error":
            message = f"allowed values: {error['ctx']['expected']}"
        got = error.get("input")
        suffix = (
            ""
            if error["type"] in {"missing", "extra_forbidden"} or isinstance(got, dict)
            else f" (got {got!r})"
        )
        lines.append(f"  {field}: {message}{suffix}")
    return "\n".join(lines)
