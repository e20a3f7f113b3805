"""A week in many slices, distinct pairs spilled to S3, CSVs in many multipart parts, multipart copies:
the same bytes as DuckDB over the same Parquet files, and nothing partial when an upload fails."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import exporter_testkit as reference
import pytest
from botocore.config import Config
from exporter_testkit import ALL_REPORTS, UTF8_BOM, new_table
from test_exporter_failures import fail_requests

from exporter.export import Clients, Limits
from exporter.publish import PublishError
from exporter.weeks import IsoWeek
from salesflow.twin.lakehouse import append_clean_lines

REPO_ROOT = Path(__file__).resolve().parents[2]
KiB = 1024
# Small enough that the fixture week takes every path a large week takes: 4+ slices, pairs in several
# partitions spilled to S3 (every slice: no memory budget), a CSV in several parts (moto checks the
# minimum part size), multipart copies.
OPERATIONS = ("UploadPart", "UploadPartCopy", "GetObject")
# A week in a zone other than UTC: its bounds and daily_revenue's local days differ from the UTC ones.
ZONE = {"WEEK_TIME_ZONE": "Europe/Berlin"}
SMALL = Limits(slice_rows=400, pair_rows=300, pair_bytes=0, part_size=64 * KiB, copy_threshold=64 * KiB)


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("bench_exporter", REPO_ROOT / "bench" / "exporter.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto (in this process) enforces S3's minimum part size; scale it down with the parts."""
    import moto.s3.models

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", SMALL.part_size)


@pytest.fixture
def duplicated_table(lakehouse, generated_lines):
    """The generated lines plus a replay of 300 of W46's lines (same order_time, as a cutover replays)."""
    start, end = IsoWeek(2026, 46).bounds(ZoneInfo(ZONE["WEEK_TIME_ZONE"]))
    week = reference.week_lines(generated_lines, start, end)
    table = new_table(lakehouse, generated_lines, commit_rows=700)
    append_clean_lines(table, week[::5][:300], commit_rows=150)
    return table


def _duckdb_bodies(table, week: str, out: Path) -> dict[str, bytes]:
    """DuckDB's reports over local copies of the week's Parquet files (wherever the table keeps them)."""
    zone = ZONE["WEEK_TIME_ZONE"]
    start, end = IsoWeek.parse(week).bounds(ZoneInfo(zone))
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

    window = And(
        GreaterThanOrEqual("order_time", start.isoformat()),
        LessThan("order_time", end.isoformat()),
    )
    files = []
    for number, path in enumerate(sorted({task.file.file_path for task in table.scan(window).plan_files()})):
        local = out / f"data-{number:04d}.parquet"
        with table.io.new_input(path).open() as source:
            local.write_bytes(source.read())
        files.append(str(local))
    _bench().duckdb_reports(files, start.isoformat(), end.isoformat(), str(out), 2, zone)
    return {path.stem: path.read_bytes().split(b"\r\n", 1)[1] for path in out.glob("*.csv")}


@pytest.mark.slow
def test_sliced_spilled_multipart_export_equals_duckdb_byte_for_byte(
    duplicated_table, lakehouse, target_for, tmp_path, small_parts
) -> None:
    target = target_for(lakehouse)
    whole = target.export("2026-W46", env=ZONE)
    assert whole.duplicates_dropped == 300
    reference_bodies = _duckdb_bodies(duplicated_table, "2026-W46", tmp_path)
    assert set(whole.keys) == set(reference_bodies) == set(ALL_REPORTS.split(","))
    first = target.objects()
    for report, key in whole.keys.items():
        header, body = first[key].split(b"\r\n", 1)
        assert body == reference_bodies[report], report
        assert header.startswith(UTF8_BOM), f"{report}: reports.yaml says excel: true"
        assert header.removeprefix(UTF8_BOM).decode().replace('"', "").split(",")[:2] in (
            ["order_time", "order_id"], ["channel", "category"], ["channel", "currency"],
            ["orders", "customers"], ["order_date", "channel"],
        )  # fmt: skip

    clients = target.clients()
    s3 = clients.s3
    calls = {operation: fail_requests(s3, operation, failing=set()) for operation in OPERATIONS}
    sliced = target.export("2026-W46", clients=clients, limits=SMALL, env=ZONE)
    assert target.objects() == first, "slices, spill, parts and multipart copies change no byte"
    assert sliced.manifest == whole.manifest
    assert len(calls["UploadPart"]) >= 4 and len(calls["UploadPartCopy"]) >= 2
    assert len(calls["GetObject"]) >= 2, "distinct customers were spilled to S3 and read back"
    assert not [key for key in target.objects() if "_staging" in key], "staging and spill are removed"
    assert s3.list_multipart_uploads(Bucket=target.bucket).get("Uploads", []) == []
    body = first["weekly/iso_week=2026-W46/order_lines.csv"]
    assert sliced.manifest["reports"]["order_lines"]["sha256"] == hashlib.sha256(body).hexdigest()


def test_a_failed_part_aborts_the_upload_and_leaves_nothing(shared_target, small_parts) -> None:
    shared_target.export("2026-W46")
    complete = shared_target.objects()
    # Two tries per call instead of the exporter's five: the same failure, a shorter back-off.
    s3 = boto3.client(
        "s3",
        endpoint_url=shared_target.aws.endpoint_url,
        region_name=shared_target.aws.region,
        config=Config(retries={"mode": "standard", "max_attempts": 2}),
    )
    attempts = fail_requests(s3, "UploadPart", failing=set(range(2, 100)))
    with pytest.raises(PublishError, match=r"while staging .*order_lines\.csv.*InternalError"):
        shared_target.export("2026-W46", clients=Clients(s3, None), limits=SMALL)
    assert len(attempts) >= 1 + 2, "the first part went up, the second was tried again"
    assert shared_target.objects() == complete, "the previous export is untouched, nothing is staged"
    uploads = s3.list_multipart_uploads(Bucket=shared_target.bucket).get("Uploads", [])
    assert uploads == [], "the multipart upload was aborted"
