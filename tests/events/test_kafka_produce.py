"""Producing to Kafka in the Confluent wire format, against librdkafka's in-process mock cluster."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from salesflow.contracts import SALES_ORDER, load_schema_json
from salesflow.events.generator import GeneratorSettings, generate
from salesflow.events.kafka import KafkaTarget, produce
from salesflow.events.records import datum_to_json


@pytest.fixture
def mock_cluster() -> str:
    """Start a mock cluster inside a librdkafka client and return its bootstrap address."""
    holder = Producer({"bootstrap.servers": "unused:9092", "test.mock.num.brokers": 1})
    broker = next(iter(holder.list_topics(timeout=10).brokers.values()))
    yield f"{broker.host}:{broker.port}"
    holder.flush(1)


def _consume(bootstrap: str, topic: str, count: int) -> list:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "t", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    messages, deadline = [], time.monotonic() + 30
    while len(messages) < count and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            messages.append(message)
    consumer.close()
    return messages


@pytest.mark.slow
def test_records_arrive_in_confluent_wire_format_with_key_and_timestamp(mock_cluster: str) -> None:
    settings = GeneratorSettings(
        start=datetime(2026, 11, 2, tzinfo=UTC), end=datetime(2026, 11, 3, tzinfo=UTC), events=200, seed=9
    )
    records = list(generate(settings))
    target = KafkaTarget(mock_cluster, "mock://salesflow-test", "sales_orders_raw")
    registry = SchemaRegistryClient.new_client({"url": target.schema_registry_url})
    assert produce(records, target, environ={}, registry=registry) == 200

    messages = _consume(mock_cluster, "sales_orders_raw", 200)
    assert len(messages) == 200
    registered = registry.get_latest_version("sales_orders_raw-value")
    assert json.loads(registered.schema.schema_str)["name"] == "SalesOrder"
    deserializer = AvroDeserializer(registry)
    schema = load_schema_json(SALES_ORDER)
    by_event = {(record.value["event_id"], record.timestamp): record for record in records}
    for message in messages:
        assert message.value()[0] == 0, "Confluent wire format starts with magic byte 0"
        assert int.from_bytes(message.value()[1:5], "big") == registered.schema_id
        value = deserializer(message.value(), SerializationContext("sales_orders_raw", MessageField.VALUE))
        _, timestamp = message.timestamp()
        original = by_event[(str(value["event_id"]), timestamp)]
        assert message.key().decode() == original.key
        assert datum_to_json(value, schema) == original.value
