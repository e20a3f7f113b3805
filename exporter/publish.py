"""Publish an export to S3 so that a manifest always means a complete export, and notify via SNS.

1. Every CSV is uploaded under a run-specific staging prefix (a failure here leaves the week's
   previous export, manifest included, untouched).
2. The week's manifest is deleted: from here on the week counts as incomplete.
3. The staged CSVs are copied server-side to their final keys (same bytes as a previous run when
   the data did not change), then the new manifest is written last.
4. On any failure after step 1, the final CSVs this run wrote are deleted; staging is always removed.
A Lambda killed by its timeout cannot clean up: the week then has no manifest (incomplete, by
definition) and staging objects are left for the bucket's lifecycle rule on ``<prefix>/_staging/``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from exporter.csv_files import CsvFile

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=60)
TRANSFER = TransferConfig(
    multipart_threshold=64 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024, max_concurrency=4
)
CSV_CONTENT_TYPE = "text/csv; charset=utf-8; header=present"


class PublishError(RuntimeError):
    """Writing the export failed; nothing partial is left (the message names the key and the cause)."""


@dataclass(frozen=True)
class ReportObject:
    report: str
    file: CsvFile
    key: str


def week_prefix(prefix: str, week: str) -> str:
    return f"{prefix}/iso_week={week}"


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def publish(
    s3: Any,
    bucket: str,
    prefix: str,
    week: str,
    objects: Sequence[ReportObject],
    manifest: bytes,
    run_id: str,
) -> str:
    """Upload the reports and then the manifest; returns the manifest key."""
    staging = f"{prefix}/_staging/iso_week={week}/{run_id}"
    manifest_key = f"{week_prefix(prefix, week)}/manifest.json"
    staged: list[str] = []
    published: list[str] = []
    step = "staging"
    current = ""
    try:
        for item in objects:
            current = f"{staging}/{item.report}.csv"
            s3.upload_file(
                str(item.file.path),
                bucket,
                current,
                ExtraArgs={"ContentType": CSV_CONTENT_TYPE, "Metadata": {"sha256": item.file.sha256}},
                Config=TRANSFER,
            )
            staged.append(current)
        step, current = "retracting the previous manifest", manifest_key
        s3.delete_object(Bucket=bucket, Key=manifest_key)
        step = "publishing"
        for item, source in zip(objects, staged, strict=True):
            current = item.key
            published.append(item.key)
            s3.copy({"Bucket": bucket, "Key": source}, bucket, item.key, Config=TRANSFER)
        step, current = "writing the manifest", manifest_key
        s3.put_object(Bucket=bucket, Key=manifest_key, Body=manifest, ContentType="application/json")
    except (Boto3Error, BotoCoreError, ClientError, OSError) as exc:
        _delete(s3, bucket, published)
        raise PublishError(
            f"S3 export to s3://{bucket}/{week_prefix(prefix, week)}/ failed while {step} "
            f"(s3://{bucket}/{current}): {_describe(exc)}. No manifest was written and the report "
            "objects of this run were removed; fix the cause and re-run the week"
        ) from exc
    finally:
        _delete(s3, bucket, staged)
    return manifest_key


def _delete(s3: Any, bucket: str, keys: list[str]) -> None:
    for key in keys:
        try:
            s3.delete_object(Bucket=bucket, Key=key)
        except (BotoCoreError, ClientError):  # best effort: the manifest is what marks completeness
            continue


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def console_link(bucket: str, prefix: str, region: str | None) -> str:
    region_part = f"region={region}&" if region else ""
    return f"https://s3.console.aws.amazon.com/s3/buckets/{bucket}?{region_part}prefix={prefix}/"


def notify(sns: Any, topic_arn: str, subject: str, message: str) -> str:
    try:
        return sns.publish(TopicArn=topic_arn, Subject=subject[:100], Message=message)["MessageId"]
    except (BotoCoreError, ClientError) as exc:
        raise PublishError(
            f"the export is complete but the SNS notification to {topic_arn} failed: {_describe(exc)}; "
            "re-running the week rewrites the same objects and notifies again"
        ) from exc
