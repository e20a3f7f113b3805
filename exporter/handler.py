"""AWS Lambda entry point (``exporter.handler.handler``): a thin shell over ``run_export``.

Event: ``{"scheduled_time": "<aws.scheduler.scheduled-time>"}`` from EventBridge Scheduler exports
the ISO week before that time; ``{"week": "2026-W47"}`` exports that week (backfill). The clock is
never read, so a retry or a replay exports the same week. Any failure raises, so the invocation
fails and the Scheduler's retry policy applies; nothing partial is left in S3.

Idempotency: re-running a week rewrites the same keys with the same bytes, so a duplicate delivery is
harmless without Powertools Idempotency (which would need a DynamoDB table); keep the function's
reserved concurrency at 1 so two deliveries never interleave.
"""

from __future__ import annotations

from typing import Any

from exporter.export import run_export
from exporter.log import logger
from exporter.settings import settings_from_env
from exporter.weeks import week_from_event


@logger.inject_lambda_context(log_event=True, clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        settings = settings_from_env()
        week = week_from_event(event, settings.week_time_zone)
        logger.append_keys(week=str(week), env=settings.env)
        result = run_export(
            settings, week, run_id=getattr(context, "aws_request_id", None), emit_metrics=True
        )
    except Exception as exc:
        logger.exception("export failed", extra={"error": type(exc).__name__})
        raise
    return {
        "week": result.week,
        "window_utc": list(result.window_utc),
        "manifest": f"s3://{settings.export_bucket}/{result.manifest_key}",
        "orders": result.orders,
        "rows": result.rows,
        "duplicates_dropped": result.duplicates_dropped,
        "snapshot_id": result.snapshot_id,
        "suspect": result.suspect,
    }
