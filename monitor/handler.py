"""AWS Lambda entry point (``monitor.handler.handler``), run by EventBridge Scheduler every few minutes.

Reads the monitor's Confluent keys from Secrets Manager (cached for a warm container, at most an hour, so a
rotated key is picked up), runs every check against the clock, writes the metrics document to stdout (Lambda
sends it to CloudWatch) and logs one line per check. A check that cannot be decided is a metric, never an
exception: the function fails only when its own settings or secret are wrong, and the heartbeat alarm
(``MonitorRuns``) catches that as it catches a monitor that stopped running.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from monitor.conditions import SERVICE
from monitor.confluent import ApiKeys
from monitor.emit import metrics_document, write
from monitor.observe import LiveSources, run_checks
from monitor.settings import settings_from_env

logger = Logger(service=SERVICE)
KEYS_TTL_SECONDS = 3600
_keys: dict[str, tuple[float, ApiKeys]] = {}


def _aws_client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def monitor_keys(secret_id: str) -> ApiKeys:
    cached = _keys.get(secret_id)
    if cached is not None and time.monotonic() - cached[0] < KEYS_TTL_SECONDS:
        return cached[1]
    text = _aws_client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    keys = ApiKeys.from_secret(text, secret_id)
    _keys[secret_id] = (time.monotonic(), keys)
    return keys


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    settings = settings_from_env()
    keys = monitor_keys(settings.credentials_secret_id)
    sources = LiveSources(settings.target, keys, _aws_client("cloudwatch"))
    run = run_checks(sources, settings.target, settings.thresholds, datetime.now(UTC))
    write(metrics_document(settings.target.env, run), sys.stdout)
    for result in run.results:
        logger.info(
            result.summary,
            extra={"check": result.condition.metric, "state": str(result.state), "env": settings.target.env},
        )
    return {
        "env": settings.target.env,
        "at": run.observation.at.isoformat(),
        "states": {result.condition.metric: str(result.state) for result in run.results},
        "exit_code": run.exit_code,
    }
