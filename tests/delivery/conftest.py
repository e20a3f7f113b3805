"""Fixtures of the delivery-pipeline tests: plan fixtures, a real S3 endpoint (moto in server mode on
127.0.0.1) and librdkafka's in-process mock Kafka cluster."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
PLANS = HERE / "fixtures" / "plans"
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
# Values the fixtures carry as sensitive attributes; no guard output may ever contain them.
SENSITIVE_VALUES = (
    "fixture-pepper-never-printed-7f3a",
    "fixture-api-secret-never-printed-91c2",
    "real-terraform-sensitive-pepper",
)


@pytest.fixture(scope="session")
def plans_dir() -> Path:
    return PLANS


@pytest.fixture(scope="session")
def load_plan() -> Any:
    def load(name: str) -> dict[str, Any]:
        return json.loads((PLANS / f"{name}.json").read_text(encoding="utf-8"))

    return load


@pytest.fixture(scope="session")
def sensitive_values() -> tuple[str, ...]:
    return SENSITIVE_VALUES


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so no real account can ever be reached from a test."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_REGION": "eu-central-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def moto_process() -> Iterator[str]:
    """moto's server in a process of its own on 127.0.0.1 (one per test worker). Its own process, because
    moto keeps its backends per process: resetting it between tests must not wipe the accounts that other
    suites' in-process moto servers (the exporter's, the demo's) hold in this worker."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "salesflow.twin.local_aws", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/moto-api/", timeout=2)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def s3_endpoint(aws_env: None, moto_process: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty moto account behind a real HTTP endpoint: boto3 talks real HTTP to it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_process)
    try:
        yield moto_process
    finally:
        # Forget this test's buckets, roles and secrets: only the delivery tests' moto process is reset.
        requests.post(f"{moto_process}/moto-api/reset", timeout=10).raise_for_status()


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", region_name="eu-central-1", endpoint_url=s3_endpoint)


@pytest.fixture
def mock_cluster() -> Iterator[str]:
    """librdkafka's in-process mock cluster (3 brokers); yields its bootstrap address."""
    from confluent_kafka import Producer

    holder = Producer({"bootstrap.servers": "unused:9092", "test.mock.num.brokers": 3})
    brokers = holder.list_topics(timeout=10).brokers.values()
    yield ",".join(f"{broker.host}:{broker.port}" for broker in brokers)
    holder.flush(1)
