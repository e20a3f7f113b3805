"""The local twin: the whole pipeline end to end on this machine, offline, with real engines.

generate events -> production Flink statements (local Apache Flink) -> Iceberg table (appended in
commit-sized batches like Tableflow; files in moto S3) -> the exporter's Lambda handler, unchanged,
reading the table through an Iceberg REST catalog as Tableflow serves it (OAuth2 client credentials,
vended S3 credentials; ``catalog="sql"``: a SQLite SQL catalog with a local warehouse instead) and
writing to a real S3/SNS/SES HTTP endpoint (moto server on 127.0.0.1) -> CSVs and the analysts' e-mail
(``email.html``, ``email.txt``, as SES received it) copied to ./out/.

The e-mail's download links are signed with a key made for this run only (stored in moto's Secrets
Manager, as Terraform stores the real one) for a placeholder CloudFront domain that never resolves
(``DEMO_DOWNLOAD_URL``, RFC 2606 ``.invalid``): the links have the real shape but lead nowhere.

Everything lives under the work directory, which is cleared at the start of each run.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from salesflow.config import Environment
from salesflow.events.files import write_events
from salesflow.events.generator import GenerationStats, GeneratorSettings, finished_weeks, generate
from salesflow.events.records import format_timestamp
from salesflow.sql.local_io import pii_leaks

DEMO_PEPPER = "salesflow-demo-pepper"  # a local-only pepper: the demo's customer keys mean nothing elsewhere
DEMO_DOWNLOAD_URL = "https://downloads.salesflow-demo.invalid"  # stands in for the CloudFront domain
DEMO_KEY_PAIR_ID = "KDEMO0SALESFLOW"  # stands in for the CloudFront public key id
# Files and folders the demo owns inside the work directory (a re-run removes exactly these).
_OWNED = ("events.jsonl", "lines.jsonl", "lakehouse", "flink.log", "exporter.log")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
# A number standing alone in free text (not part of a phone "+49...", a postal code "90-123" or a word).
_MEASURE = re.compile(r"(?<![\w+\-])\d+(?:[.,]\d+)*(?![\w\-])")


@dataclass(frozen=True)
class DemoOptions:
    environment: Environment
    workdir: Path
    out_dir: Path
    events: int = 100_000
    seed: int = 42
    weeks: int = 3
    commit_rows: int = 5_000
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    catalog: str = "rest"  # rest: the REST catalog twin, table files in moto S3; sql: SQLite + local files
    # Called with every request the REST catalog twin answers (rest_catalog.Exchange): the tests check them
    # against the Iceberg REST OpenAPI document.
    catalog_observers: tuple[Callable[[Any], None], ...] = ()


@dataclass
class DemoResult:
    events: int = 0
    orders_in: int = 0
    duplicates_removed: int = 0
    late_dropped: int = 0
    lines_out: int = 0
    snapshots: int = 0
    week: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)
    s3_keys: list[str] = field(default_factory=list)
    notification: str = ""
    email_html: str = ""
    email_text: str = ""
    email_attachments: dict[str, bytes] = field(default_factory=dict, repr=False)
    pii_leaks: list[str] = field(default_factory=list)
    pii_values_checked: int = 0
    copied_to: Path | None = None
    catalog: str = ""  # what the exporter read the table through
    vended_credentials: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    first_emissions: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    lines: list[dict[str, Any]] = field(default_factory=list, repr=False)
    reports: dict[str, bytes] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class _LambdaContext:
    """The attributes Powertools reads from a Lambda context object."""

    aws_request_id: str = "salesflow-demo"
    function_name: str = "salesflow-exporter-demo"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:000000000000:function:salesflow-exporter-demo"


@contextlib.contextmanager
def _stage(name: str, result: DemoResult, echo: Callable[[str], None]) -> Iterator[None]:
    echo(f"==> {name}")
    started = time.monotonic()
    yield
    result.timings[name] = time.monotonic() - started


def run_demo(options: DemoOptions, echo: Callable[[str], None] = print) -> DemoResult:
    with contextlib.ExitStack() as stack:
        return _run_demo(options, echo, stack)


def _run_demo(options: DemoOptions, echo: Callable[[str], None], stack: contextlib.ExitStack) -> DemoResult:
    from salesflow.twin.local_aws import local_aws

    environment, workdir = options.environment, options.workdir
    result = DemoResult()
    _reset(workdir)
    start, end = finished_weeks(options.now, options.weeks)
    stats = GenerationStats()

    with _stage("generate", result, echo):
        settings = GeneratorSettings(start=start, end=end, events=options.events, seed=options.seed)
        records = list(generate(settings, stats))
        write_events(records, workdir / "events.jsonl")
        for record in records:
            first = result.first_emissions.get(record.key)
            if first is None or record.timestamp < first["timestamp"]:
                result.first_emissions[record.key] = {"timestamp": record.timestamp, "value": record.value}
        result.events, result.orders_in = len(records), len(result.first_emissions)
        echo(
            f"    {result.events} events for {result.orders_in} orders ({start:%Y-%m-%d} to {end:%Y-%m-%d}): "
            f"{stats.retries} retries, {stats.resends} re-sends, {stats.late} late, "
            f"{stats.customers} customers"
        )

    with _stage("flink", result, echo):
        _run_flink(environment, workdir, echo)
        result.lines = [orjson.loads(line) for line in (workdir / "lines.jsonl").read_bytes().splitlines()]
        orders_out = {line["order_id"] for line in result.lines}
        result.lines_out = len(result.lines)
        result.late_dropped = result.orders_in - len(orders_out)
        result.duplicates_removed = result.events - result.orders_in
        echo(f"    {result.lines_out} clean lines for {len(orders_out)} orders")

    with _stage("iceberg", result, echo):
        from salesflow.twin.lakehouse import Lakehouse, append_clean_lines, create_clean_table
        from salesflow.twin.rest_catalog import S3Lakehouse

        aws = stack.enter_context(local_aws(environment.aws.region))
        lakehouse: Any = (
            S3Lakehouse(workdir / "lakehouse", aws, f"tableflow-managed-{environment.name}")
            if options.catalog == "rest"
            else Lakehouse(workdir / "lakehouse")
        )
        table = create_clean_table(
            lakehouse.catalog(), _namespace(environment), environment.confluent.topics.clean.name
        )
        result.snapshots = len(append_clean_lines(table, result.lines, options.commit_rows))
        echo(f"    appended in {result.snapshots} commits of up to {options.commit_rows} lines")

    with _stage("export", result, echo):
        _run_exporter(options, lakehouse, aws, stack, end, result, echo)

    with _stage("pii check", result, echo):
        cells = {"lines.jsonl": _json_strings(result.lines)}
        cells |= {f"s3://{key}": _output_cells(key, data) for key, data in result.reports.items()}
        cells["sns message"] = _free_text_cells(result.notification)
        cells["e-mail"] = _free_text_cells(f"{result.email_text}\n{result.email_html}")
        cells |= {f"e-mail attachment {name}": _output_cells(name, data)
                  for name, data in result.email_attachments.items()}  # fmt: skip
        cells["iceberg data files"] = _iceberg_cells(table)
        result.pii_values_checked = sum(len(values) for values in stats.pii.values())
        result.pii_leaks = [
            f"{name}: {leak}"
            for name, found in cells.items()
            for leak in pii_leaks("\n".join(sorted(found)), stats.pii)
        ]
        searched = sum(len(found) for found in cells.values())
        echo(f"    searched {searched:,} distinct text values in {len(cells)} outputs")

    if options.catalog == "rest":
        _mirror_table_files(table, workdir / "lakehouse" / "warehouse")
    result.copied_to = _copy_reports(result, options.out_dir)
    if result.email_html:
        echo(f"    the analysts' e-mail: {result.copied_to / 'email.html'} and email.txt")
    return result


def _mirror_table_files(table: Any, folder: Path) -> None:
    """Copy the table's files from (moto) S3 to a local folder, for inspection once the demo's S3 is gone."""
    for task in table.scan().plan_files():
        path = task.file.file_path
        target = folder / path.split("/warehouse/", 1)[-1]
        target.parent.mkdir(parents=True, exist_ok=True)
        with table.io.new_input(path).open() as source:
            target.write_bytes(source.read())


def _reset(workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    for name in _OWNED:
        path = workdir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def _namespace(environment: Environment) -> str:
    from salesflow.twin.lakehouse import DEFAULT_NAMESPACE

    return environment.confluent.kafka_cluster.id or DEFAULT_NAMESPACE


def _run_flink(environment: Environment, workdir: Path, echo: Callable[[str], None]) -> None:
    """The production statements of the environment, in the local Flink (its own environment)."""
    command = [
        sys.executable, "-m", "salesflow.cli", "sql", "run", "--env", environment.name,
        "--input", str(workdir / "events.jsonl"), "--output", str(workdir / "lines.jsonl"),
    ]  # fmt: skip
    completed = subprocess.run(
        command,
        env={**os.environ, "SALESFLOW_PII_PEPPER": DEMO_PEPPER},
        capture_output=True,
        text=True,
        check=False,
    )
    (workdir / "flink.log").write_text(completed.stdout + completed.stderr, encoding="utf-8")
    if completed.returncode:
        raise RuntimeError(
            f"the Flink stage failed (log: {workdir / 'flink.log'}):\n{completed.stderr[-2000:]}"
        )
    summary = [line for line in completed.stderr.splitlines() if "records in" in line]
    if summary:
        echo(f"    flink: {summary[-1]}")


def _run_exporter(
    options: DemoOptions,
    lakehouse: Any,
    aws: Any,
    stack: contextlib.ExitStack,
    data_end: datetime,
    result: DemoResult,
    echo: Callable[[str], None],
) -> None:
    """Invoke the Lambda handler as EventBridge Scheduler would, the Monday after the data ends."""
    from zoneinfo import ZoneInfo

    from exporter.handler import handler
    from exporter.log import logger
    from exporter.weeks import week_from_event
    from salesflow.ops.export import exporter_environment
    from salesflow.twin.rest_catalog import RestCatalogTwin

    environment = options.environment
    bucket, prefix = environment.aws.export.bucket, environment.aws.export.prefix
    scheduled_time = format_timestamp(data_end + timedelta(hours=5))
    catalog_uri, warehouse, secret_id, twin = lakehouse.catalog_uri, lakehouse.warehouse, None, None
    if options.catalog == "rest":  # Tableflow's read path: the REST catalog, its API key in Secrets Manager
        twin = stack.enter_context(RestCatalogTwin(aws, observers=list(options.catalog_observers)))
        catalog_uri, warehouse = twin.register(lakehouse), None
        secret_id = twin.store_credential(f"salesflow/{environment.name}/tableflow-api-key")
    aws.create_bucket(bucket)
    topic = aws.create_topic(f"salesflow-{environment.name}-exports")
    inbox = aws.subscribe_inbox(topic)
    variables = exporter_environment(
        environment, catalog_uri, warehouse, secret_id, _namespace(environment), bucket,
        aws.endpoint_url, aws.endpoint_url, topic,
    ) | aws.environ() | {"AWS_ENDPOINT_URL_SECRETS_MANAGER": aws.endpoint_url}  # fmt: skip
    if twin is not None:
        variables |= twin.environ()
        echo(f"    Iceberg REST catalog {catalog_uri} (OAuth2 client credentials, vended S3 credentials)")
    if environment.exporter.notify == "email":
        variables |= _demo_email(environment, aws)
    # The week before was exported by last week's run: its figures are what the e-mail compares with.
    zone = ZoneInfo(environment.exporter.week_time_zone)
    earlier = str(week_from_event({"scheduled_time": scheduled_time}, zone).previous())
    echo(
        f"    S3/SNS/SES endpoint {aws.endpoint_url}; events {{'week': '{earlier}'}} (last week's run), "
        f"then {{'scheduled_time': '{scheduled_time}'}}"
    )
    log_path = options.workdir / "exporter.log"
    with log_path.open("w", encoding="utf-8") as log, _patched_environ(variables):
        previous = logger.registered_handler.setStream(log)
        try:
            handler({"week": earlier}, _LambdaContext())
            response = handler({"scheduled_time": scheduled_time}, _LambdaContext())
        finally:
            logger.registered_handler.setStream(previous)
    echo(f"    exporter logs (JSON, as CloudWatch would get them): {log_path}")
    result.week = response["week"]
    objects = aws.objects(bucket, f"{prefix}/iso_week={result.week}/")
    result.s3_keys = sorted(f"{bucket}/{key}" for key in objects)
    result.reports = {f"{bucket}/{key}": data for key, data in objects.items()}
    manifest_key = next(key for key in objects if key.endswith("manifest.json"))
    result.manifest = json.loads(objects[manifest_key])
    if environment.exporter.notify == "email":
        from exporter.notice.message import message_parts

        sent = aws.sent_emails()[-1]  # this week's (last week's run sent one too)
        result.email_text, result.email_html, result.email_attachments = message_parts(sent.raw)
    else:
        messages = inbox.messages(wait_seconds=1)[-1:]
        result.notification = "\n".join(f"{m.get('Subject', '')}\n{m.get('Message', '')}" for m in messages)
    if twin is not None:
        result.vended_credentials = twin.vended
        result.catalog = (
            f"Iceberg REST catalog {catalog_uri} (OAuth2 client credentials, {twin.vended} vended S3 "
            f"credential set(s) from STS; table files in s3://{lakehouse.bucket}/)"
        )
    else:
        result.catalog = f"SQL catalog {catalog_uri} (table files in {warehouse})"


def _demo_email(environment: Environment, aws: Any) -> dict[str, str]:
    """What Terraform provides in the cloud, made locally: a verified SES sender domain and a signing key
    in Secrets Manager (a new RSA key per run: the demo's links are only ever checked, never served)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from salesflow.ops.export import email_environment

    assert environment.exporter.email is not None
    aws.verify_sender_domain(environment.exporter.email.sender_domain)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    secret = aws.put_secret(f"salesflow/{environment.name}/exporter/download-signing-key-demo", pem)
    return email_environment(
        environment,
        download_base_url=DEMO_DOWNLOAD_URL,
        key_pair_id=DEMO_KEY_PAIR_ID,
        signing_key_secret_id=secret,
        configuration_set=f"salesflow-{environment.name}-analyst-email",
    )


@contextlib.contextmanager
def _patched_environ(variables: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# PII search: every distinct text value of every output. Numbers are measures (counts, amounts) and are
# left out, or a five-digit postal code would "leak" whenever a count happens to equal it.
def _output_cells(key: str, data: bytes) -> set[str]:
    text = data.decode("utf-8-sig")  # analyst-facing CSVs start with a byte-order mark
    if key.endswith(".json"):
        return _json_strings(json.loads(text))
    return {cell for row in csv.reader(io.StringIO(text)) for cell in row if not _NUMBER.fullmatch(cell)}


def _json_strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set(value) | {text for item in value.values() for text in _json_strings(item)}
    if isinstance(value, list):
        return {text for item in value for text in _json_strings(item)}
    return set()


def _free_text_cells(text: str) -> set[str]:
    return {_MEASURE.sub(" ", line) for line in text.splitlines()}


def _iceberg_cells(table: Any) -> set[str]:
    """Distinct values of every text column of every Parquet file the Iceberg table references."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    cells: set[str] = set()
    for task in table.scan().plan_files():
        with table.io.new_input(task.file.file_path).open() as source:
            data = pq.read_table(source)
        for column in data.columns:
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                cells.update(pc.unique(column).to_pylist())
    return cells


def _copy_reports(result: DemoResult, out_dir: Path) -> Path:
    target = out_dir / f"iso_week={result.week}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for key, data in result.reports.items():
        (target / key.rsplit("/", 1)[-1]).write_bytes(data)
    if result.email_html:
        (target / "email.html").write_text(result.email_html, encoding="utf-8")
        (target / "email.txt").write_text(result.email_text, encoding="utf-8")
    return target
