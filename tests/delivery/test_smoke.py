"""`salesflow smoke` against librdkafka's in-process mock cluster and a `mock://` Schema Registry.

Nothing runs Flink here: a small thread plays the statement's part, reading the raw topic and writing
clean lines (Avro, registered in the same registry). Correct, it must make the smoke test pass; each
deliberate fault (no dedup, a PII field leaking, an unpeppered customer key, no output at all) must
make it fail, within its time bound.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from salesflow.cli import main
from salesflow.config import load_environment
from salesflow.contracts import SALES_ORDER, SALES_ORDER_LINE, load_schema_json
from salesflow.delivery.smoke import SmokeSettings, SmokeTarget, run_smoke

RAW, CLEAN = "sales_orders_raw", "sales_order_lines_clean"
PEPPER = "smoke-test-pepper"


class FakeStatement(threading.Thread):
    """Reads raw orders and writes clean lines the way the Flink statement should (or, by mode, not)."""

    def __init__(self, bootstrap: str, registry: SchemaRegistryClient, mode: str) -> None:
        super().__init__(daemon=True)
        self.bootstrap, self.registry, self.mode = bootstrap, registry, mode
        self.stopping = threading.Event()
        self.orders_seen = 0

    def run(self) -> None:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "fake-flink"})
        partitions = consumer.list_topics(RAW, timeout=10).topics[RAW].partitions
        consumer.assign([TopicPartition(RAW, partition, OFFSET_BEGINNING) for partition in partitions])
        producer = Producer({"bootstrap.servers": self.bootstrap})
        read = AvroDeserializer(self.registry)
        write = AvroSerializer(self.registry, json.dumps(load_schema_json(SALES_ORDER_LINE)))
        raw_context = SerializationContext(RAW, MessageField.VALUE)
        clean_context = SerializationContext(CLEAN, MessageField.VALUE)
        emitted: set[str] = set()
        while not self.stopping.is_set():
            message = consumer.poll(0.1)
            if message is None or message.error() is not None or message.value() is None:
                continue
            order = read(message.value(), raw_context)
            self.orders_seen += 1
            if self.mode == "silent" or (order["order_id"] in emitted and self.mode != "no-dedup"):
                continue
            emitted.add(order["order_id"])
            for number, item in enumerate(order["items"], start=1):
                line = self.line(order, number, item)
                producer.produce(CLEAN, key=order["order_id"].encode(), value=write(line, clean_context))
            producer.flush(5)
        consumer.close()

    def line(self, order: dict, number: int, item: dict) -> dict:
        customer = order["customer"]
        key = hashlib.sha256((PEPPER + customer["customer_id"]).encode()).hexdigest()
        line = {
            "order_id": order["order_id"],
            "line_number": number,
            "channel": order["channel"],
            "order_time": order["order_time"],
            "customer_key": key,
            "customer_city": customer["address"]["city"],
            "customer_country": customer["address"]["country"],
            "sku": item["sku"],
            "product_name": item["product_name"],
            "category": item["category"],
            "quantity": item["quantity"],
            "unit_price": item["unit_price"],
            "line_amount": item["unit_price"] * item["quantity"],
            "currency": order["currency"],
            "payment_method": order["payment_method"],
        }
        if self.mode == "leak-email":
            line["product_name"] = f"{item['product_name']} for {customer['email']}"
        if self.mode == "unpeppered":
            line["customer_key"] = hashlib.sha256(customer["customer_id"].encode()).hexdigest()
        if self.mode == "wrong-amount":
            line["line_amount"] = item["unit_price"] * item["quantity"] + Decimal("0.01")
        return line


@pytest.fixture
def cluster(mock_cluster: str) -> str:
    """Both topics exist before the test (the mock cluster has no CreateTopics: a first record, empty
    like a tombstone, auto-creates each with the mock's default partition count)."""
    producer = Producer({"bootstrap.servers": mock_cluster})
    for topic in (RAW, CLEAN):
        producer.produce(topic, key=b"setup", value=None)
    assert producer.flush(10) == 0
    return mock_cluster


@pytest.fixture
def registry() -> SchemaRegistryClient:
    """One mock registry shared by the smoke test and the fake statement (mock clients share no state)."""
    client = SchemaRegistryClient.new_client({"url": "mock://salesflow-smoke"})
    # Terraform registers the raw value schema in production; the smoke test only uses the latest.
    client.register_schema(f"{RAW}-value", Schema(json.dumps(load_schema_json(SALES_ORDER)), "AVRO"))
    return client


def _smoke(cluster: str, registry: SchemaRegistryClient, mode: str, timeout: float = 30.0):
    statement = FakeStatement(cluster, registry, mode)
    statement.start()
    messages: list[str] = []
    try:
        result = run_smoke(
            SmokeTarget(cluster, "mock://salesflow-smoke", RAW, CLEAN),
            SmokeSettings(events=12, timeout=timeout, settle=1.5, tick_interval=0.4, poll_interval=0.1),
            environ={},
            registry=registry,
            log=messages.append,
        )
    finally:
        statement.stopping.set()
        statement.join(10)
    return result, statement, messages


@pytest.mark.slow
def test_a_correct_statement_passes(cluster: str, registry: SchemaRegistryClient) -> None:
    started = time.monotonic()
    result, statement, messages = _smoke(cluster, registry, "correct")
    assert result.ok, result.summary()
    assert result.duplicates_sent >= 1, "the smoke orders must include duplicates"
    assert result.orders + result.duplicates_sent == result.records_sent
    assert statement.orders_seen >= result.records_sent
    assert result.lines_seen >= result.orders
    assert result.run_id.startswith("SMOKE-")
    assert any("every expected line arrived" in message for message in messages)
    assert time.monotonic() - started < 30
    assert "PASSED" in result.summary()


@pytest.mark.slow
def test_duplicated_lines_fail(cluster: str, registry: SchemaRegistryClient) -> None:
    result, _, _ = _smoke(cluster, registry, "no-dedup")
    assert not result.ok
    assert result.duplicated and not result.missing and not result.pii_leaks
    assert "duplicated line" in result.summary() and "FAILED" in result.summary()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "message"),
    [("leak-email", "field product_name contains a email"), ("unpeppered", "unpeppered SHA-256")],
)
def test_pii_in_the_clean_topic_fails(
    cluster: str, registry: SchemaRegistryClient, mode: str, message: str
) -> None:
    result, _, _ = _smoke(cluster, registry, mode)
    assert not result.ok
    assert any(message in leak for leak in result.pii_leaks), result.pii_leaks
    # The report names the field and the kind of PII, never the value itself.
    assert "@" not in result.summary()


@pytest.mark.slow
def test_wrong_line_content_fails(cluster: str, registry: SchemaRegistryClient) -> None:
    result, _, _ = _smoke(cluster, registry, "wrong-amount")
    assert not result.ok
    assert any("line_amount is not quantity * unit_price" in issue for issue in result.wrong)


@pytest.mark.slow
def test_no_output_fails_within_the_time_bound(cluster: str, registry: SchemaRegistryClient) -> None:
    started = time.monotonic()
    result, statement, _ = _smoke(cluster, registry, "silent", timeout=4.0)
    elapsed = time.monotonic() - started
    assert not result.ok
    assert set(result.missing) == {f"{result.run_id}-{n:03d}" for n in range(1, result.orders + 1)}
    assert result.ticks_sent >= 3, "while waiting, ticks keep the watermark moving"
    assert statement.orders_seen >= result.records_sent
    assert elapsed < 15, f"bounded by its timeout (4 s), took {elapsed:.1f} s"


def test_smoke_needs_a_cluster_and_a_registry() -> None:
    result = CliRunner().invoke(main, ["smoke", "--env", "dev"], env={"KAFKA_BOOTSTRAP_SERVERS": ""})
    assert result.exit_code == 1
    assert "KAFKA_BOOTSTRAP_SERVERS" in result.output and "KAFKA_API_KEY" in result.output


@pytest.mark.slow
def test_smoke_command_bounds_itself_by_the_watermark_delay(mock_cluster: str) -> None:
    """Without --timeout the bound is dev's watermark delay (10 min) + 600 s; a missing clean topic is
    reported as such, not as a timeout."""
    result = CliRunner().invoke(
        main,
        ["smoke", "--env", "dev", "--register-schema"],
        env={
            "KAFKA_BOOTSTRAP_SERVERS": mock_cluster,
            "SCHEMA_REGISTRY_URL": "mock://salesflow-cli",
            "KAFKA_API_KEY": "",
        },
    )
    assert result.exit_code == 1
    assert "up to 1200 s" in result.stderr
    assert f"clean topic {CLEAN!r} not found" in result.output


def test_window_dedup_adds_its_window_to_the_smoke_bound() -> None:
    dev = load_environment("dev")
    assert dev.confluent.flink.output_latency_seconds == 600  # first_row: the watermark delay
    assert dev.with_dedup("window").confluent.flink.output_latency_seconds == 600 + 600


def test_run_id_is_unique_and_dated() -> None:
    from salesflow.delivery.smoke import new_run_id

    first, second = new_run_id(datetime(2026, 11, 26, 8, 30, tzinfo=UTC)), new_run_id()
    assert first.startswith("SMOKE-20261126083000-")
    assert first != second


def test_credentials_come_from_the_smoke_secret(s3_endpoint: str) -> None:
    """The secret the Confluent stack writes (terraform/confluent/smoke.py), read through Secrets Manager."""
    import boto3

    from salesflow.delivery.smoke import SmokeError, credentials_from_secret

    client = boto3.client("secretsmanager", region_name="eu-central-1")
    value = {
        "bootstrap_servers": "pkc-1.eu-central-1.aws.confluent.cloud:9092",
        "schema_registry_url": "https://psrc-1.eu-central-1.aws.confluent.cloud",
        "kafka_api_key": "SMOKEKEY",
        "kafka_api_secret": "smoke-secret",
        "schema_registry_api_key": "SRKEY",
        "schema_registry_api_secret": "sr-secret",
    }
    client.create_secret(Name="salesflow/dev/confluent/smoke-credentials", SecretString=json.dumps(value))
    found = credentials_from_secret(client, "salesflow/dev/confluent/smoke-credentials")
    assert found.bootstrap_servers == value["bootstrap_servers"]
    assert found.environ == {
        "KAFKA_API_KEY": "SMOKEKEY",
        "KAFKA_API_SECRET": "smoke-secret",
        "SCHEMA_REGISTRY_API_KEY": "SRKEY",
        "SCHEMA_REGISTRY_API_SECRET": "sr-secret",
    }
    client.create_secret(Name="broken", SecretString='{"bootstrap_servers": "x"}')
    with pytest.raises(SmokeError, match="not the smoke credentials JSON") as error:
        credentials_from_secret(client, "broken")
    assert "smoke-secret" not in str(error.value)
