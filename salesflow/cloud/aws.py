"""boto3 clients for the pipelines' own AWS calls: standard retry mode with backoff, region explicit."""

from __future__ import annotations

from typing import Any

# Throttling and transient errors are retried with exponential backoff (boto3's "standard" mode).
MAX_ATTEMPTS = 8


def aws_client(service: str, region: str | None) -> Any:
    """A boto3 client for ``service``; endpoint and credentials follow boto3's usual chain."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, region_name=region, config=Config(retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"})
    )
