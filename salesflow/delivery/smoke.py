"""Smoke test of a deployed environment: orders in at the raw topic, clean lines out, within a bound.

``salesflow smoke --env dev`` produces a few generated orders *with duplicates* to the raw topic, then
reads the clean topic (Avro, Schema Registry) until every expected order line has arrived or the time
is up, and checks what the Flink statement wrote:

* completeness: every line of every order arrives (``line_number`` 1..n);
* dedup: each ``(order_id, line_number)`` arrives exactly once, however often the order was sent;
* content: sku, quantity, unit price and amount match the order;
* no PII: no e-mail, name, phone, street, postal code or customer id of the generated customers appears
  in any field, and ``customer_key`` is a peppered hash (not the bare SHA-256 of the customer id).

Smoke orders carry the order id ``SMOKE-<run>-<n>`` so they are unique per run (the statement keeps dedup
state for a day) and easy to recognise downstream. The statement's keep-first dedup holds a row until
the watermark passes it, so while waiting the smoke test keeps producing one small order every
``tick_interval`` seconds to move the watermark (window dedup holds it until the watermark passes its
window's end); the bound defaults to the environment's output latency (watermark delay, plus the dedup
window for window dedup) plus ten minutes. Credentials come only from the environment (see
``salesflow.events.kafka``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from salesflow.events.generator import GenerationStats, GeneratorSettings, generate
from salesflow.events.kafka import KafkaTarget, produce, registry_config, security_config
from salesflow.events.records import KafkaRecord

SMOKE_PREFIX = "SMOKE"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# PII values at least this long are also searched inside longer field values; shorter ones (postal
# codes) only as whole values, or they would match by chance inside hashes and amounts.
MIN_SUBSTRING_LENGTH = 6


class SmokeError(RuntimeError):
    """The smoke test could not run (unreachable cluster, missing topic); the message says what to fix."""


@dataclass(frozen=True)
class SmokeTarget:
    bootstrap_servers: str
    schema_registry_url: str
    raw_topic: str
    clean_topic: str
    # Production: Terraform registers the raw topic's schema and producers use the latest version.
    register_schema: bool = False


@dataclass(frozen=True)
class SmokeSettings:
    events: int = 12
    duplicate_share: float = 0.5
    timeout: float = 900.0
    settle: float = 20.0
    tick_interval: float = 30.0
    poll_interval: float = 0.5


@dataclass
class SmokeResult:
    run_id: str
    orders: int
    records_sent: int
    duplicates_sent: int
    ticks_sent: int = 0
    lines_seen: int = 0
    elapsed: float = 0.0
    missing: dict[str, list[int]] = field(default_factory=dict)
    duplicated: list[str] = field(default_factory=list)
    pii_leaks: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.pii_leaks or self.wrong)

    def summary(self) -> str:
        head = (
            f"smoke {self.run_id}: {self.orders} orders in {self.records_sent} records "
            f"({self.duplicates_sent} duplicates, {self.ticks_sent} watermark ticks); "
            f"{self.lines_seen} clean lines read in {self.elapsed:.1f} s"
        )
        problems = []
        if self.missing:
            missing_lines = sum(len(lines) for lines in self.missing.values())
            problems.append(
                f"{missing_lines} line(s) of {len(self.missing)} order(s) never arrived, e.g. "
                + ", ".join(f"{order} {lines}" for order, lines in list(self.missing.items())[:3])
            )
        if self.duplicated:
            problems.append(
                f"{len(self.duplicated)} duplicated line(s), e.g. {', '.join(self.duplicated[:3])}"
            )
        problems += [f"PII: {leak}" for leak in self.pii_leaks[:10]]
        problems += [f"content: {issue}" for issue in self.wrong[:10]]
        verdict = "PASSED" if self.ok else "FAILED"
        return "\n".join([f"{head}: {verdict}", *(f"  - {problem}" for problem in problems)])


def new_run_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{SMOKE_PREFIX}-{moment:%Y%m%d%H%M%S}-{secrets.token_hex(2)}"


def _seed(run_id: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{run_id}/{salt}".encode()).digest()[:4], "big")


def _rename(records: list[KafkaRecord], prefix: str) -> list[KafkaRecord]:
    """Give every order a run-unique id (duplicates keep sharing theirs)."""
    names: dict[str, str] = {}
    renamed = []
    for record in records:
        new_id = names.setdefault(record.key, f"{prefix}-{len(names) + 1:03d}")
        renamed.append(KafkaRecord(new_id, record.timestamp, dict(record.value, order_id=new_id)))
    return renamed


def smoke_orders(
    run_id: str, settings: SmokeSettings, stats: GenerationStats, now: datetime
) -> list[KafkaRecord]:
    """Generated orders of the last two minutes, with at least one duplicate, renamed for this run."""
    for attempt in range(20):
        trial = GenerationStats()
        generated = list(
            generate(
                GeneratorSettings(
                    start=now - timedelta(minutes=2),
                    end=now,
                    events=settings.events,
                    seed=_seed(run_id, f"orders-{attempt}"),
                    duplicate_share=settings.duplicate_share,
                    late_share=0.0,
                    max_lateness=timedelta(0),
                    resend_max_delay=timedelta(seconds=20),
                ),
                trial,
            )
        )
        if trial.duplicates:
            for kind, values in trial.pii.items():
                stats.pii[kind] |= values
            stats.orders, stats.retries, stats.resends = trial.orders, trial.retries, trial.resends
            return _rename(generated, run_id)
    raise SmokeError(f"no duplicate in {settings.events} generated events; raise --events or the share")


def _tick(run_id: str, number: int, stats: GenerationStats, now: datetime) -> KafkaRecord:
    record = next(
        generate(
            GeneratorSettings(
                start=now - timedelta(seconds=1),
                end=now,
                events=1,
                seed=_seed(run_id, f"tick-{number}"),
                duplicate_share=0.0,
                late_share=0.0,
            ),
            stats,
        )
    )
    order_id = f"{run_id}-T{number:03d}"
    return KafkaRecord(order_id, record.timestamp, dict(record.value, order_id=order_id))


def _consumer_config(target: SmokeTarget, environ: Mapping[str, str], run_id: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": target.bootstrap_servers,
        # Partitions are assigned explicitly and nothing is committed: the group id only names the client.
        "group.id": f"salesflow-smoke-{run_id}",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    } | security_config(environ)


def _assign_at_end(consumer: Any, topic: str) -> int:
    """Assign every partition of ``topic`` at its current end offset; return the partition count."""
    from confluent_kafka import TopicPartition

    metadata = consumer.list_topics(topic, timeout=15)
    described = metadata.topics.get(topic)
    if described is None or described.error is not None or not described.partitions:
        raise SmokeError(
            f"clean topic {topic!r} not found on the cluster ({getattr(described, 'error', None)}); "
            "is the Flink statement deployed and does the smoke principal have READ on it?"
        )
    assignments = []
    for partition in sorted(described.partitions):
        _low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=15)
        assignments.append(TopicPartition(topic, partition, high))
    consumer.assign(assignments)
    return len(assignments)


def _pii_index(stats: GenerationStats) -> tuple[dict[str, str], list[tuple[str, str]]]:
    exact: dict[str, str] = {}
    for kind, values in stats.pii.items():
        for value in values:
            exact.setdefault(value, kind)
    long_values = sorted(
        ((value, kind) for value, kind in exact.items() if len(value) >= MIN_SUBSTRING_LENGTH),
        key=lambda item: -len(item[0]),
    )
    return exact, long_values


def find_pii(
    line: Mapping[str, Any],
    exact: Mapping[str, str],
    long_values: list[tuple[str, str]],
    customer_ids: set[str],
) -> list[str]:
    """Which PII kinds appear in which fields of one clean line (values are never echoed)."""
    found = []
    for name, value in line.items():
        if not isinstance(value, str):
            continue
        if value in exact:
            found.append(f"field {name} holds a {exact[value]}")
            continue
        if name == "customer_key":
            if not _HEX64.match(value):
                found.append("field customer_key is not a lower-hex SHA-256")
            elif any(hashlib.sha256(cid.encode()).hexdigest() == value for cid in customer_ids):
                found.append("field customer_key is the unpeppered SHA-256 of the customer id (reversible)")
            continue
        hits = {kind for pii, kind in long_values if pii in value}
        found += [f"field {name} contains a {kind}" for kind in sorted(hits)]
    return found


def _check_content(line: Mapping[str, Any], order: Mapping[str, Any]) -> list[str]:
    number = line.get("line_number")
    items = order["items"]
    if not isinstance(number, int) or not 1 <= number <= len(items):
        return [f"{line.get('order_id')}: line_number {number!r} outside 1..{len(items)}"]
    item = items[number - 1]
    where = f"{line['order_id']} line {number}"
    problems = []
    if line.get("sku") != item["sku"]:
        problems.append(f"{where}: sku differs from the order's item {number}")
    if line.get("quantity") != item["quantity"]:
        problems.append(f"{where}: quantity differs from the order's item {number}")
    price = Decimal(item["unit_price"])
    if Decimal(str(line.get("unit_price"))) != price:
        problems.append(f"{where}: unit_price differs from the order's item {number}")
    if Decimal(str(line.get("line_amount"))) != price * item["quantity"]:
        problems.append(f"{where}: line_amount is not quantity * unit_price")
    return problems


@dataclass(frozen=True)
class SmokeCredentials:
    """Endpoints and keys of the smoke test's service account, as the Confluent stack stores them."""

    bootstrap_servers: str
    schema_registry_url: str
    environ: dict[str, str]  # KAFKA_API_KEY/SECRET, SCHEMA_REGISTRY_API_KEY/SECRET


CREDENTIAL_FIELDS = {
    "kafka_api_key": "KAFKA_API_KEY",
    "kafka_api_secret": "KAFKA_API_SECRET",
    "schema_registry_api_key": "SCHEMA_REGISTRY_API_KEY",
    "schema_registry_api_secret": "SCHEMA_REGISTRY_API_SECRET",
}


def credentials_from_secret(secrets_manager: Any, name: str) -> SmokeCredentials:
    """Read ``salesflow/<env>/confluent/smoke-credentials`` (terraform/confluent/smoke.py); never logged."""
    try:
        value = json.loads(secrets_manager.get_secret_value(SecretId=name)["SecretString"])
        return SmokeCredentials(
            value["bootstrap_servers"],
            value["schema_registry_url"],
            {variable: value[field] for field, variable in CREDENTIAL_FIELDS.items()},
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise SmokeError(f"secret {name} is not the smoke credentials JSON ({type(exc).__name__})") from None


def run_smoke(
    target: SmokeTarget,
    settings: SmokeSettings,
    *,
    environ: Mapping[str, str] | None = None,
    registry: Any = None,
    run_id: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    log: Callable[[str], None] = lambda _message: None,
) -> SmokeResult:
    """Produce smoke orders, read the clean topic until complete or timed out, and check the lines."""
    from confluent_kafka import Consumer, KafkaException
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    environ = os.environ if environ is None else environ
    run_id = run_id or new_run_id()
    started = clock()
    deadline = started + settings.timeout
    kafka_target = KafkaTarget(
        target.bootstrap_servers, target.schema_registry_url, target.raw_topic, target.register_schema
    )
    registry = registry or SchemaRegistryClient.new_client(registry_config(kafka_target, environ))
    stats = GenerationStats()
    records = smoke_orders(run_id, settings, stats, datetime.now(UTC))
    first_emission = {}
    for record in records:
        first_emission.setdefault(record.key, record.value)
    expected = {order: set(range(1, len(value["items"]) + 1)) for order, value in first_emission.items()}
    result = SmokeResult(run_id, len(expected), len(records), stats.duplicates)

    consumer = Consumer(_consumer_config(target, environ, run_id))
    try:
        try:
            partitions = _assign_at_end(consumer, target.clean_topic)
            log(f"reading {target.clean_topic} ({partitions} partitions) from its end")
            produce(records, kafka_target, environ=environ, registry=registry)
        except KafkaException as exc:
            raise SmokeError(f"Kafka at {target.bootstrap_servers}: {exc}") from None
        log(
            f"produced {len(records)} records ({stats.duplicates} duplicates) to {target.raw_topic} "
            f"as {run_id}-*"
        )
        deserialize = AvroDeserializer(registry)
        context = SerializationContext(target.clean_topic, MessageField.VALUE)
        seen: Counter[tuple[str, int]] = Counter()
        orders = dict(first_emission)
        exact, long_values = _pii_index(stats)
        customer_ids = set(stats.pii["customer_id"])
        next_tick, complete_at = clock() + settings.tick_interval, None
        while clock() < deadline:
            now = clock()
            if complete_at is not None and now >= complete_at + settings.settle:
                break
            if complete_at is None and now >= next_tick:
                result.ticks_sent += 1
                tick = _tick(run_id, result.ticks_sent, stats, datetime.now(UTC))
                orders[tick.key] = tick.value
                exact, long_values = _pii_index(stats)
                customer_ids = set(stats.pii["customer_id"])
                produce([tick], kafka_target, environ=environ, registry=registry)
                next_tick = now + settings.tick_interval
            message = consumer.poll(settings.poll_interval)
            if message is None:
                continue
            if message.error() is not None:
                log(f"consumer: {message.error()}")
                continue
            if message.value() is None:
                continue
            value = deserialize(message.value(), context)
            order_id = value.get("order_id") if isinstance(value, dict) else None
            if not isinstance(order_id, str) or not order_id.startswith(f"{run_id}-"):
                continue
            result.lines_seen += 1
            key = (order_id, value.get("line_number"))
            seen[key] += 1
            if seen[key] == 2:
                result.duplicated.append(f"{order_id} line {key[1]}")
            result.pii_leaks += [
                f"{order_id} line {key[1]}: {leak}"
                for leak in find_pii(value, exact, long_values, customer_ids)
            ]
            if order_id in orders:
                result.wrong += _check_content(value, orders[order_id])
            else:
                result.wrong.append(f"{order_id}: a line of an order that was never sent")
            if complete_at is None and all(
                (order, number) in seen for order, numbers in expected.items() for number in numbers
            ):
                complete_at = clock()
                log(f"every expected line arrived after {complete_at - started:.1f} s; settling")
    finally:
        consumer.close()
    result.missing = {
        order: sorted(number for number in numbers if (order, number) not in seen)
        for order, numbers in expected.items()
        if any((order, number) not in seen for number in numbers)
    }
    result.elapsed = clock() - started
    return result


def result_json(result: SmokeResult) -> str:
    return json.dumps(
        {
            "run_id": result.run_id,
            "ok": result.ok,
            "orders": result.orders,
            "records_sent": result.records_sent,
            "duplicates_sent": result.duplicates_sent,
            "ticks_sent": result.ticks_sent,
            "lines_seen": result.lines_seen,
            "elapsed_seconds": round(result.elapsed, 1),
            "missing": result.missing,
            "duplicated": result.duplicated,
            "pii_leaks": result.pii_leaks,
            "wrong": result.wrong,
        },
        indent=2,
    )
