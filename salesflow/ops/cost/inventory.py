"""What an environment's synthesized stacks declare, read from the Terraform JSON (``cdk.tf.json``).

Only facts the JSON states are read here: resource blocks and data sources, the cluster's type and
availability, statement texts, topics and their retention, regions. Continuous statements are told from
DDL the way the plan guard does (``salesflow.delivery.guard.statement_kind``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from salesflow.delivery.guard import statement_kind

DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000  # Kafka's (and Confluent's) default retention.ms
CLUSTER_TYPES = ("basic", "standard", "enterprise", "dedicated", "freight")
_AVAILABILITY = {"SINGLE_ZONE": "low", "LOW": "low", "MULTI_ZONE": "high", "HIGH": "high"}
_IDENTIFIER = re.compile(r"`([^`]+)`")
_CREATE_TABLE = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`([^`]+)`", re.I
)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+`([^`]+)`", re.I)
_RETENTION = re.compile(r"'kafka\.retention\.time'\s*=\s*'(\d+)\s*(ms|s|min|h|d)?'", re.I)
_UNIT_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


class InventoryError(ValueError):
    """The synthesized JSON lacks something the estimate needs; the message names it and the fix."""


@dataclass(frozen=True)
class Block:
    """One resource or data source block of a stack."""

    type: str
    name: str
    stack: str
    body: Mapping[str, Any]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass(frozen=True)
class Cluster:
    name: str
    type: str
    availability: str  # "low" or "high", as Confluent's price list spells it
    region: str
    cku: int | None
    adopted: bool


@dataclass(frozen=True)
class Statement:
    name: str
    text: str

    @property
    def continuous(self) -> bool:
        return statement_kind(self.text) == "continuous"

    @property
    def creates(self) -> str | None:
        """The table (topic and value schema) a ``CREATE TABLE`` statement creates."""
        match = _CREATE_TABLE.match(self.text)
        return match.group(1) if match else None

    @property
    def target(self) -> str | None:
        match = _INSERT_INTO.match(self.text)
        return match.group(1) if match else self.creates

    def reads(self, topics: set[str]) -> list[str]:
        """Known topics the statement names, other than the one it writes."""
        named = {name for name in _IDENTIFIER.findall(self.text) if name in topics}
        return sorted(named - {self.target})


@dataclass(frozen=True)
class Topic:
    name: str
    retention_days: Decimal
    declared_by: str


@dataclass(frozen=True)
class TableflowTopic:
    topic: str
    address: str
    own_bucket: str | None


class Inventory:
    """The blocks of one environment's stacks and the facts the estimate reads from them."""

    def __init__(self, stacks: Mapping[str, Mapping[str, Any]]) -> None:
        if not stacks:
            raise InventoryError("no synthesized stacks for this environment; run `make synth` first")
        self.resources = list(_blocks(stacks, "resource"))
        self.data = list(_blocks(stacks, "data"))
        self.stacks = stacks

    def of(self, *types: str) -> list[Block]:
        return [block for block in self.resources if block.type in types]

    def data_of(self, *types: str) -> list[Block]:
        return [block for block in self.data if block.type in types]

    def aws_region(self) -> str:
        for document in self.stacks.values():
            for provider in (document.get("provider") or {}).get("aws") or []:
                if provider.get("region"):
                    return provider["region"]
        raise InventoryError("no AWS provider region in the synthesized stacks")

    def cluster(self, configured_type: str, configured_availability: str) -> Cluster:
        """The Kafka cluster: the resource block when the stacks create it, the configuration when they
        adopt an existing one (a data source carries no type)."""
        created = self.of("confluent_kafka_cluster")
        if len(created) > 1:
            raise InventoryError(
                f"{len(created)} Kafka clusters in one environment; the estimate expects one"
            )
        if created:
            body = created[0].body
            kinds = [kind for kind in CLUSTER_TYPES if body.get(kind)]
            if len(kinds) != 1:
                raise InventoryError(f"{created[0].address}: expected one of {CLUSTER_TYPES} blocks")
            cku = (body[kinds[0]][0] or {}).get("cku") if kinds[0] == "dedicated" else None
            return Cluster(
                body.get("display_name", created[0].name),
                kinds[0],
                _AVAILABILITY.get(str(body.get("availability")), "low"),
                str(body.get("region")),
                int(cku) if cku is not None else None,
                adopted=False,
            )
        adopted = self.data_of("confluent_kafka_cluster")
        if not adopted:
            raise InventoryError("no confluent_kafka_cluster resource or data source in the stacks")
        region = next((block.body.get("region") for block in self.data_of("confluent_flink_region")), None)
        return Cluster(
            adopted[0].body.get("display_name", adopted[0].name),
            configured_type,
            _AVAILABILITY.get(configured_availability, "low"),
            str(region or self.aws_region()),
            None,
            adopted=True,
        )

    def statements(self) -> list[Statement]:
        return [
            Statement(block.body.get("statement_name") or block.name, str(block.body.get("statement") or ""))
            for block in self.of("confluent_flink_statement")
        ]

    def topics(self) -> list[Topic]:
        """Topics the stacks create: Terraform topic resources and Flink ``CREATE TABLE`` statements."""
        found = {}
        for block in self.of("confluent_kafka_topic"):
            retention = (block.body.get("config") or {}).get("retention.ms", DEFAULT_RETENTION_MS)
            found[block.body["topic_name"]] = Topic(
                block.body["topic_name"], _days(int(retention)), block.address
            )
        for statement in self.statements():
            if statement.creates and statement.creates not in found:
                match = _RETENTION.search(statement.text)
                retention = (
                    int(match.group(1)) * _UNIT_MS[(match.group(2) or "ms").lower()]
                    if match
                    else DEFAULT_RETENTION_MS
                )
                found[statement.creates] = Topic(statement.creates, _days(retention), statement.name)
        return sorted(found.values(), key=lambda topic: topic.name)

    def tableflow_topics(self) -> list[TableflowTopic]:
        topics = []
        for block in self.of("confluent_tableflow_topic"):
            byob = block.body.get("byob_aws") or []
            topics.append(
                TableflowTopic(
                    block.body["display_name"], block.address, byob[0]["bucket_name"] if byob else None
                )
            )
        return topics


def _days(retention_ms: int) -> Decimal:
    if retention_ms < 0:  # -1: infinite retention
        raise InventoryError("a topic with infinite retention (-1) cannot be estimated; set retention.ms")
    return Decimal(retention_ms) / Decimal(86_400_000)


def _blocks(stacks: Mapping[str, Mapping[str, Any]], kind: str) -> Iterator[Block]:
    for stack, document in sorted(stacks.items()):
        for type_, blocks in sorted((document.get(kind) or {}).items()):
            for name, body in sorted(blocks.items()):
                yield Block(type_, name, stack, body)
