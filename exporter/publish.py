"""Publish an export to S3 so that a manifest always means a complete export, and notify via SNS.

1. Every CSV streams into a run-specific staging prefix as it is produced (a multipart upload, never
   a local file; see exporter.s3_stream). A failure here aborts the uploads and removes what was staged,
   leaving the week's previous export, manifest included, untouched.
2. The week's manifest is deleted: from here on the week counts as incomplete.
3. The staged CSVs are copied server-side to their final keys (same bytes as a previous run when
   the data did not change; a multipart copy above ``copy_threshold``, as S3 requires beyond 5 GB),
   then the new manifest is written last.
4. On any failure after step 1, the final CSVs this run wrote are deleted; staging is always removed.
A Lambda killed by its timeout cannot clean up: the week then has no manifest (incomplete, by
definition); staging objects are left for the bucket's lifecycle rule on ``<prefix>/_staging/`` and
incomplete multipart uploads for its abort-incomplete-multipart rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from exporter.s3_stream import DEFAULT_PART_SIZE, S3Stream, StreamedObject

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=60)
# Server-side copies above this size are multipart copies (UploadPartCopy, parts copied in parallel);
# S3 refuses a single CopyObject beyond 5 GB.
COPY_THRESHOLD = 64 * 1024 * 1024
CSV_CONTENT_TYPE = "text/csv; charset=utf-8; header=present"
S3_ERRORS = (Boto3Error, BotoCoreError, ClientError)


class PublishError(RuntimeError):
    """Writing the export failed; nothing partial is left (the message names the key and the cause)."""


@dataclass(frozen=True)
class ReportObject:
    report: str
    key: str  # the published key
    staged: StreamedObject
    rows: int


def week_prefix(prefix: str, week: str) -> str:
    return f"{prefix}/iso_week={week}"


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


class Staging:
    """The run's staging prefix: report CSVs stream there; ``discard`` removes all of it (and aborts)."""

    def __init__(
        self, s3: Any, bucket: str, prefix: str, week: str, run_id: str, part_size: int = DEFAULT_PART_SIZE
    ) -> None:
        self.s3, self.bucket, self.prefix, self.week = s3, bucket, prefix, week
        self.root = f"{prefix}/_staging/iso_week={week}/{run_id}"
        self.part_size = part_size
        self.open: list[S3Stream] = []
        self.staged: list[str] = []
        self.current = self.root

    def stream(self, report: str) -> S3Stream:
        self.current = f"{self.root}/{report}.csv"
        stream = S3Stream(self.s3, self.bucket, self.current, CSV_CONTENT_TYPE, self.part_size)
        self.open.append(stream)
        return stream

    def finish(self, stream: S3Stream) -> StreamedObject:
        self.current = stream.key
        done = stream.finish()
        self.open.remove(stream)
        self.staged.append(stream.key)
        return done

    @contextmanager
    def errors(self, key: str | None = None) -> Iterator[None]:
        """S3 errors while staging become a PublishError naming the key (nothing was published yet)."""
        if key is not None:
            self.current = key
        try:
            yield
        except S3_ERRORS as exc:
            raise PublishError(
                f"S3 export to s3://{self.bucket}/{week_prefix(self.prefix, self.week)}/ failed while "
                f"staging (s3://{self.bucket}/{self.current}): {_describe(exc)}. No manifest was written and "
                "the report objects of this run were removed; fix the cause and re-run the week"
            ) from exc

    def discard(self) -> None:
        for stream in self.open:
            stream.abort()
        self.open.clear()
        _delete(self.s3, self.bucket, self.staged)
        self.staged.clear()


def publish(
    s3: Any,
    bucket: str,
    prefix: str,
    week: str,
    objects: Sequence[ReportObject],
    manifest: bytes,
    copy_threshold: int = COPY_THRESHOLD,
) -> str:
    """Move the staged reports to their keys, then write the manifest; returns the manifest key."""
    manifest_key = f"{week_prefix(prefix, week)}/manifest.json"
    transfer = TransferConfig(
        multipart_threshold=copy_threshold,
        multipart_chunksize=max(copy_threshold // 4, 5 * 1024 * 1024),
        max_concurrency=4,
    )
    published: list[str] = []
    step, current = "retracting the previous manifest", manifest_key
    try:
        s3.delete_object(Bucket=bucket, Key=manifest_key)
        step = "publishing"
        for item in objects:
            current = item.key
            published.append(item.key)
            s3.copy(
                {"Bucket": bucket, "Key": item.staged.key},
                bucket,
                item.key,
                ExtraArgs={
                    "ContentType": CSV_CONTENT_TYPE,
                    "Metadata": {"sha256": item.staged.sha256},
                    "MetadataDirective": "REPLACE",
                },
                Config=transfer,
            )
        step, current = "writing the manifest", manifest_key
        s3.put_object(Bucket=bucket, Key=manifest_key, Body=manifest, ContentType="application/json")
    except (*S3_ERRORS, OSError) as exc:
        _delete(s3, bucket, published)
        raise PublishError(
            f"S3 export to s3://{bucket}/{week_prefix(prefix, week)}/ failed while {step} "
            f"(s3://{bucket}/{current}): {_describe(exc)}. No manifest was written and the report "
            "objects of this run were removed; fix the cause and re-run the week"
        ) from exc
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
