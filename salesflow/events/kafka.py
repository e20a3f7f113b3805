"""Produce interchange-format records to Kafka in the Confluent wire format (Avro + Schema Registry).

Credentials come from the environment, never from arguments or files: KAFKA_API_KEY/KAFKA_API_SECRET
(SASL/PLAIN over TLS) and SCHEMA_REGISTRY_API_KEY/SCHEMA_REGISTRY_API_SECRET. Without them the
client connects in plaintext (local brokers, the in-process mock cluster, ``mock://`` registries).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from salesflow.contracts import SALES_ORDER, load_schema_json
from salesflow.events.records import KafkaRecord, json_to_datum


class ProduceError(RuntimeError):
    """Kafka refused records; nothing is reported as sent that was not acknowledged."""


@dataclass(frozen=True)
class KafkaTarget:
    bootstrap_servers: str
    schema_registry_url: str
    topic: str
    auto_register_schema: bool = True
    extra: Mapping[str, Any] | None = None


def security_config(environ: Mapping[str, str]) -> dict[str, Any]:
    """SASL/PLAIN over TLS when KAFKA_API_KEY is set (Confluent Cloud); plaintext otherwise."""
    if not environ.get("KAFKA_API_KEY"):
        return {}
    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": environ["KAFKA_API_KEY"],
        "sasl.password": environ.get("KAFKA_API_SECRET", ""),
    }


def _client_config(target: KafkaTarget, environ: Mapping[str, str]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": target.bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 20,
        "compression.type": "zstd",
    }
    return config | security_config(environ) | dict(target.extra or {})


def registry_config(target: KafkaTarget, environ: Mapping[str, str]) -> dict[str, Any]:
    config: dict[str, Any] = {"url": target.schema_registry_url}
    if environ.get("SCHEMA_REGISTRY_API_KEY"):
        config["basic.auth.user.info"] = (
            f"{environ['SCHEMA_REGISTRY_API_KEY']}:{environ.get('SCHEMA_REGISTRY_API_SECRET', '')}"
        )
    return config


def produce(
    records: Iterable[KafkaRecord],
    target: KafkaTarget,
    *,
    environ: Mapping[str, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
    registry: Any = None,
) -> int:
    """Produce every record (key = order_id as a string, value = Avro, timestamp kept); return the count.

    ``registry`` overrides the Schema Registry client built from the target (tests share a mock one).
    """
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer

    environ = os.environ if environ is None else environ
    schema = load_schema_json(SALES_ORDER)
    registry = registry or SchemaRegistryClient.new_client(registry_config(target, environ))
    serializer = AvroSerializer(
        registry,
        json.dumps(schema),
        conf={
            "auto.register.schemas": target.auto_register_schema,
            "use.latest.version": not target.auto_register_schema,
        },
    )
    key_serializer = StringSerializer("utf_8")
    producer = Producer(_client_config(target, environ))
    context = SerializationContext(target.topic, MessageField.VALUE)
    failures: list[str] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(str(error))

    sent = 0
    for record in records:
        value = serializer(json_to_datum(record.value, schema), context)
        while True:
            try:
                producer.produce(
                    target.topic,
                    key=key_serializer(record.key),
                    value=value,
                    timestamp=record.timestamp,
                    on_delivery=delivered,
                )
                break
            except BufferError:
                producer.poll(0.5)
        sent += 1
        if sent % 10_000 == 0:
            producer.poll(0)
            if on_progress:
                on_progress(10_000)
    remaining = producer.flush(60)
    if remaining or failures:
        raise ProduceError(
            f"{len(failures) + remaining} of {sent} records were not acknowledged "
            f"by {target.bootstrap_servers} "
            f"(first error: {failures[0] if failures else 'flush timed out'}); re-run the same command: "
            "the generator is deterministic and the consumer deduplicates by order_id"
        )
    if on_progress:
        on_progress(sent % 10_000)
    return sent
