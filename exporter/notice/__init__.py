"""The analysts' notice of an export (issue 15): the HTML e-mail through SES, or the SNS text as before.

After the export is published: read its manifest's aggregate reports (and the previous week's) back from
S3, compute the week's figures (``exporter/week_summary.py``), sign a download link per file
(``exporter/links.py``), render the e-mail (``render.py``, ``templates/``) and send it through SES with
the aggregate CSVs attached (``message.py``). The order listing is only ever a link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from exporter.links import download_links, load_signer, read_secret_string
from exporter.notice.message import build_message
from exporter.notice.render import NoticeContext, RenderedNotice, render_notice
from exporter.notice.settings import NoticeSettings
from exporter.week_summary import (
    SUMMARY_REPORTS,
    figures_from_reports,
    published_figures,
    read_manifest,
    read_reports,
    suspect_reason,
)
from exporter.weeks import IsoWeek

# SES's raw-message limit is 10 MB after base64 (x 4/3): attachments stay well below it, or go as links.
ATTACHMENTS_BUDGET = 6 * 1024 * 1024


class NoticeError(RuntimeError):
    """The export is complete but the analysts could not be told; the message names the cause."""


@dataclass(frozen=True)
class SentNotice:
    message_id: str
    rendered: RenderedNotice
    raw: bytes


def send_email_notice(
    settings: Any,
    result: Any,
    specs: Sequence[Any],
    s3: Any,
    ses: Any,
    read_secret: Callable[[str], str] = read_secret_string,
    now: datetime | None = None,
) -> SentNotice:
    """Build and send the e-mail for a published export (``result`` of ``run_export``)."""
    notice: NoticeSettings = settings.notice
    assert notice.email is not None and notice.downloads is not None  # checked by the settings
    bucket, prefix, manifest = settings.export_bucket, settings.export_prefix, result.manifest
    aggregates = [spec.name for spec in specs if not spec.is_listing]
    published = read_reports(s3, bucket, manifest, (*SUMMARY_REPORTS, *aggregates))
    figures = figures_from_reports(manifest, published)
    previous_week = str(IsoWeek.parse(result.week).previous())
    before = read_manifest(s3, bucket, f"{prefix}/iso_week={previous_week}/manifest.json")
    previous = published_figures(s3, bucket, before) if before else None
    signer = load_signer(notice.downloads, read_secret)
    keys = {name: entry["key"] for name, entry in manifest["reports"].items()}
    links = download_links(notice.downloads, prefix, {**keys, "manifest": result.manifest_key}, signer, now)
    attachments, budget = {}, ATTACHMENTS_BUDGET
    for name in aggregates:
        if len(published[name]) <= budget:
            attachments[f"{name}.csv"] = published[name]
            budget -= len(published[name])
    context = NoticeContext(
        env=settings.env,
        time_zone=settings.week_time_zone.key,
        window_utc=result.window_utc,
        duplicates_dropped=result.duplicates_dropped,
        links=links,
        rows=dict(result.rows),
        attached=list(attachments),
        suspect=suspect_reason(manifest),
    )
    rendered = render_notice(figures, previous, previous_week, context)
    message = build_message(rendered, notice.email.sender, notice.email.recipients, attachments)
    raw = message.as_bytes()
    arguments: dict[str, Any] = {
        "Source": notice.email.sender,
        "Destinations": list(notice.email.recipients),
        "RawMessage": {"Data": raw},
    }
    if notice.email.configuration_set:
        arguments["ConfigurationSetName"] = notice.email.configuration_set
    try:
        message_id = ses.send_raw_email(**arguments)["MessageId"]
    except (BotoCoreError, ClientError) as exc:
        raise NoticeError(
            f"the export is complete but the e-mail from {notice.email.sender} through SES failed: "
            f"{_describe(exc)}; check the SES identity (verified, out of the sandbox or recipients "
            "verified) and re-run the week, which rewrites the same objects and sends again"
        ) from exc
    return SentNotice(message_id=message_id, rendered=rendered, raw=raw)


def ses_client(notice: NoticeSettings, region: str | None, config: Any) -> Any:
    import boto3

    endpoint = notice.email.ses_endpoint_url if notice.email else None
    return boto3.client("ses", endpoint_url=endpoint, region_name=region, config=config)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


__all__ = ["NoticeError", "NoticeSettings", "SentNotice", "send_email_notice", "ses_client"]
