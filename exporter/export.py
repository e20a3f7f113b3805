"""One weekly export, end to end: read the week slice by slice, drop duplicates, stream the reports to
S3, publish, notify.

The week is read in time slices of a bounded number of rows (exporter.read.read_slices), so memory does
not grow with the week: each slice is deduplicated, appended to the listing's CSV (a multipart upload
into the staging prefix) and folded into the aggregates (exporter.aggregates), then dropped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyiceberg.table import Table

from exporter import __version__
from exporter.aggregates import Aggregator
from exporter.catalog import load_table, open_catalog
from exporter.csv_files import CsvWriter
from exporter.dedup import KEY, TIME, drop_duplicate_lines
from exporter.derived import add_derived_columns
from exporter.judge import emit, judge, previous_manifests
from exporter.judge import metrics_document as judge_metrics
from exporter.log import logger
from exporter.notice import send_email_notice, ses_client
from exporter.pairs import PAIR_BYTES, PAIR_ROWS, PairStore, Spill
from exporter.publish import (
    BOTO_CONFIG,
    COPY_THRESHOLD,
    ReportObject,
    Staging,
    console_link,
    manifest_bytes,
    notify,
    publish,
    week_prefix,
)
from exporter.read import SLICE_ROWS, plan_week, read_slices
from exporter.reports import (
    REPORTS_FILE,
    ColumnCodes,
    ReportSpec,
    compute_listing,
    load_reports,
    select_reports,
    validate_against_schema,
)
from exporter.s3_stream import DEFAULT_PART_SIZE
from exporter.settings import Settings
from exporter.weeks import IsoWeek

# Text columns are read dictionary-encoded (codes plus distinct values): a 1M-line week takes about 100 MB
# of Arrow memory instead of 170, and the reports group and count on the integer codes.
DICTIONARY_COLUMNS = (
    "order_id",
    "customer_key",
    "channel",
    "customer_city",
    "customer_country",
    "sku",
    "product_name",
    "category",
    "currency",
    "payment_method",
)


@dataclass(frozen=True)
class ExportResult:
    week: str
    window_utc: tuple[str, str]
    manifest_key: str | None
    snapshot_id: int | None
    orders: int
    lines: int
    duplicates_dropped: int
    rows: dict[str, int]
    keys: dict[str, str]
    message_id: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    suspect: str | None = None  # why the week's volume looks wrong (exporter/judge.py), or None


@dataclass(frozen=True)
class Clients:
    s3: Any
    sns: Any | None
    ses: Any | None = None  # NOTIFY=email only


def aws_clients(settings: Settings) -> Clients:
    import boto3

    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, config=BOTO_CONFIG)
    sns = boto3.client("sns", endpoint_url=settings.sns_endpoint_url, config=BOTO_CONFIG)
    ses = None
    if settings.notice.mode == "email":
        ses = ses_client(settings.notice, s3.meta.region_name, BOTO_CONFIG)
    return Clients(s3=s3, sns=sns, ses=ses)


def bound_worker_threads(max_workers: int) -> None:
    """PyIceberg sizes its own pool from PYICEBERG_MAX_WORKERS when it first creates it."""
    os.environ["PYICEBERG_MAX_WORKERS"] = str(max_workers)


@dataclass(frozen=True)
class Limits:
    """Sizes that bound an export's memory and shape its S3 calls (tests make them small)."""

    slice_rows: int = SLICE_ROWS  # rows read and processed at once
    pair_rows: int = PAIR_ROWS  # distinct-customer pairs counted at once (the week's are partitioned)
    pair_bytes: int = PAIR_BYTES  # distinct-customer pairs held in memory (more: spilled to S3)
    part_size: int = DEFAULT_PART_SIZE  # multipart upload part size of a streamed CSV
    copy_threshold: int = COPY_THRESHOLD  # server-side copies above this size are multipart copies


def run_export(
    settings: Settings,
    week: IsoWeek,
    clients: Clients | None = None,
    table: Table | None = None,
    run_id: str | None = None,
    reports_file: Path = REPORTS_FILE,
    limits: Limits = Limits(),
    emit_metrics: bool = False,
) -> ExportResult:
    """Export ``week`` to S3 and notify; on failure raise a clear error and leave nothing partial.
    ``emit_metrics`` (the Lambda): write the export's CloudWatch metrics (EMF) to stdout once published."""
    bound_worker_threads(settings.max_workers)
    specs = select_reports(load_reports(reports_file), settings.reports)
    if table is None:
        table = load_table(open_catalog(settings), settings)
    schema = table.schema()
    for spec in specs:
        validate_against_schema(spec, schema)
    start, end = week.bounds(settings.week_time_zone)
    columns = _scan_columns(specs, [f.name for f in schema.fields])
    logger.info(
        "reading week",
        extra={"week": str(week), "start": start.isoformat(), "end": end.isoformat(), "columns": columns},
    )
    plan = plan_week(
        table,
        start,
        end,
        columns,
        dictionary_columns=[name for name in DICTIONARY_COLUMNS if name in columns],
    )
    clients = clients or aws_clients(settings)
    staging = Staging(
        clients.s3, settings.export_bucket, settings.export_prefix, str(week), run_id or uuid.uuid4().hex,
        limits.part_size,
    )  # fmt: skip
    spill = Spill(clients.s3, settings.export_bucket, f"{staging.root}/_spill")
    try:
        with staging.errors():
            derive = partial(add_derived_columns, specs=specs, week=week, zone=settings.week_time_zone)
            written = _write_reports(specs, plan, settings.max_workers, staging, spill, limits, derive)
        folder = week_prefix(settings.export_prefix, str(week))
        objects = [
            ReportObject(
                spec.name, f"{folder}/{spec.name}.csv", written.objects[spec.name], written.rows[spec.name]
            )
            for spec in specs
        ]
        history = previous_manifests(clients.s3, settings.export_bucket, settings.export_prefix, week)
        verdict = judge(written.lines, written.orders, history, settings.suspect_fraction)
        manifest = build_manifest(
            settings, week, (start, end), plan.snapshot_id, len(plan.files), objects, specs,
            written.orders, written.lines, written.dropped, verdict.manifest_entry(),
        )  # fmt: skip
        manifest_key = publish(
            clients.s3,
            settings.export_bucket,
            settings.export_prefix,
            str(week),
            objects,
            manifest_bytes(manifest),
            limits.copy_threshold,
        )
    finally:
        spill.delete()
        staging.discard()
    logger.info("export published", extra={"manifest": f"s3://{settings.export_bucket}/{manifest_key}"})
    if verdict.suspect:
        logger.warning("suspect week exported", extra={"week": str(week), "reason": verdict.reason})
    if emit_metrics:
        emit(judge_metrics(settings.env, written.lines, written.orders, verdict))
    result = ExportResult(
        week=str(week),
        window_utc=(manifest["window"]["start_utc"], manifest["window"]["end_utc"]),
        manifest_key=manifest_key,
        snapshot_id=manifest["table"]["snapshot_id"],
        orders=written.orders,
        lines=manifest["lines"],
        duplicates_dropped=written.dropped,
        rows={item.report: item.rows for item in objects},
        keys={item.report: item.key for item in objects},
        manifest=manifest,
        suspect=verdict.reason,
    )
    if settings.notice.mode == "email":  # the analysts' HTML e-mail (exporter/notice/)
        region = getattr(getattr(clients.s3, "meta", None), "region_name", None)
        ses = clients.ses or ses_client(settings.notice, region, BOTO_CONFIG)
        sent = send_email_notice(settings, result, specs, clients.s3, ses)
        result = replace(result, message_id=sent.message_id)
        logger.info("analysts e-mailed", extra={"message_id": sent.message_id})
    elif clients.sns is not None and settings.sns_topic_arn:
        region = getattr(getattr(clients.s3, "meta", None), "region_name", None)
        subject, message = notification(settings, result, region)
        message_id = notify(clients.sns, settings.sns_topic_arn, subject, message)
        result = ExportResult(**{**result.__dict__, "message_id": message_id})
        logger.info("analysts notified", extra={"message_id": message_id})
    return result


def _scan_columns(specs: list[ReportSpec], table_columns: list[str]) -> list[str]:
    """The dedup key, the time column and what the reports read, in table order."""
    needed = {*KEY, TIME}
    for spec in specs:
        needed |= spec.input_columns
    return [name for name in table_columns if name in needed]


def _release_memory() -> None:
    """Hand freed Arrow memory back to the OS between slices (the allocator keeps it otherwise)."""
    pa.default_memory_pool().release_unused()


@dataclass
class Written:
    objects: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    lines: int = 0
    dropped: int = 0
    files_read: int = 0


def _write_reports(
    specs: list[ReportSpec],
    plan: Any,
    max_workers: int,
    staging: Staging,
    spill: Spill,
    limits: Limits,
    derive: Callable[[pa.Table], pa.Table],
) -> Written:
    """Every report from the week's slices: listings stream to staging as the slices come (in order_time
    order, so the concatenation is the week's sorted listing); aggregates fold each slice on a side thread
    while the listing's CSV of the same slice is rendered and the next slice is read (so at most two
    slices are alive), and are written at the end."""
    written = Written()
    pairs = PairStore(-(-plan.rows // limits.pair_rows), spill, limits.pair_bytes, plan.rows)
    aggregators = {spec.name: Aggregator(spec, pairs) for spec in specs if not spec.is_listing}
    listings = {
        spec.name: (
            stream := staging.stream(spec.name),
            CsvWriter(stream, plan.empty.select(list(spec.columns)).schema, bom=spec.excel),
        )
        for spec in specs
        if spec.is_listing
    }
    slices, folding = 0, []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aggregate") as side:
        for rows, files_read in read_slices(plan, max_workers, limits.slice_rows):
            slices += 1
            written.files_read += files_read
            rows = derive(rows)  # derived columns, e.g. order_date
            codes = ColumnCodes(rows)
            lines, dropped = drop_duplicate_lines(rows, codes)
            del rows
            if dropped:
                codes = ColumnCodes(lines)
            written.dropped += dropped
            written.lines += lines.num_rows
            written.orders += codes.count_distinct("order_id") if lines.num_rows else 0
            for future in folding:  # the slice before, folded while this one was read
                future.result()
            folding = [side.submit(aggregator.add, lines, codes) for aggregator in aggregators.values()]
            # (the side thread runs its tasks in order: the slice's pairs are filed once all are added)
            folding.append(side.submit(pairs.end_slice, lines.num_rows))
            for spec in specs:
                if spec.is_listing:
                    projected, order = compute_listing(spec, lines)
                    listings[spec.name][1].write(projected, order)
                    del projected, order
            del lines, codes
            _release_memory()
        for future in folding:
            future.result()
    logger.info(
        "week read",
        extra={
            "snapshot_id": plan.snapshot_id,
            "files": len(plan.files),
            "file_reads": written.files_read,
            "slices": slices,
            "lines": written.lines,
            "orders": written.orders,
            "duplicates_dropped": written.dropped,
            "pair_partitions": pairs.partitions,
            "pair_objects_spilled": len(spill.written),
        },
    )
    for spec in specs:
        if spec.is_listing:
            stream, writer = listings[spec.name]
            writer.close()
            rows = writer.rows
        else:
            stream = staging.stream(spec.name)
            table = aggregators.pop(spec.name).result()
            writer = CsvWriter(stream, table.schema, bom=spec.excel)
            writer.write(table)
            writer.close()
            rows = table.num_rows
        done = staging.finish(stream)
        written.objects[spec.name], written.rows[spec.name] = done, rows
        logger.info(
            "report written",
            extra={"report": spec.name, "rows": rows, "bytes": done.bytes, "sha256": done.sha256},
        )
    return written


def build_manifest(
    settings: Settings,
    week: IsoWeek,
    window: tuple[Any, Any],
    snapshot_id: int | None,
    files_scanned: int,
    objects: list[ReportObject],
    specs: list[ReportSpec],
    orders: int,
    line_count: int,
    dropped: int,
    suspect: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the export contains; no clock reading, so the same data (and the same earlier exports)
    give the same manifest. ``suspect``: the verdict of exporter/judge.py, None for a normal week."""
    by_name = {spec.name: spec for spec in specs}
    return {
        "week": str(week),
        "time_zone": settings.week_time_zone.key,
        "window": {"start_utc": _utc(window[0]), "end_utc": _utc(window[1])},
        "table": {
            "namespace": settings.table_namespace,
            "name": settings.table_name,
            "snapshot_id": snapshot_id,
            "data_files_scanned": files_scanned,
        },
        "orders": orders,
        "lines": line_count,
        "duplicates_dropped": dropped,
        "suspect": suspect,
        "reports": {
            item.report: {
                "key": item.key,
                "rows": item.rows,
                "bytes": item.staged.bytes,
                "sha256": item.staged.sha256,
                "description": by_name[item.report].description,
                **csv_encoding(by_name[item.report]),
            }
            for item in objects
        },
        "format": "CSV, RFC 4180 (CRLF, header row), UTF-8 (with a byte-order mark where a report's "
        "'excel' is true); times ISO-8601 UTC; decimals at their scale",
        "exporter_version": __version__,
    }


def csv_encoding(spec: ReportSpec) -> dict[str, Any]:
    """What the manifest says of a report's bytes: Excel-friendly (a UTF-8 byte-order mark) or plain UTF-8."""
    return {"excel": spec.excel, "encoding": "utf-8-sig" if spec.excel else "utf-8"}


def _utc(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def notification(settings: Settings, result: ExportResult, region: str | None) -> tuple[str, str]:
    """Subject and text of the analysts' e-mail: S3 locations, never presigned URLs (they expire)."""
    folder = week_prefix(settings.export_prefix, result.week)
    subject = f"salesflow {settings.env}: weekly sales export {result.week} ({result.orders} orders)"
    if result.suspect:
        subject = f"[CHECK BEFORE USE] {subject}"
    lines = [
        f"The sales export for ISO week {result.week} is ready.",
        f"Window: {result.window_utc[0]} to {result.window_utc[1]} (UTC; week bounds in "
        f"{settings.week_time_zone.key}).",
        f"{result.orders} orders, {result.lines or 0} order lines"
        + (f", {result.duplicates_dropped} duplicate lines dropped." if result.duplicates_dropped else "."),
        "",
        "Reports:",
    ]
    for report, key in result.keys.items():
        lines.append(f"  {report}: {result.rows[report]} rows  s3://{settings.export_bucket}/{key}")
    lines += [
        f"  manifest: s3://{settings.export_bucket}/{result.manifest_key}",
        "",
        f"Open in the S3 console: {console_link(settings.export_bucket, folder, region)}",
    ]
    if not result.orders:
        lines.insert(1, "The week had 0 orders: the CSV files contain only their header row.")
    if result.suspect:
        lines.insert(0, f"CHECK BEFORE USE: {result.suspect}.")
    return subject, "\n".join(lines) + "\n"
