"""Confluent Cloud charges: the Kafka cluster, Kafka data (in, out, stored), Flink statements, Tableflow
topics and Schema Registry.

Assumptions the JSON cannot state: each continuous statement reads every known topic its SQL names, once;
Tableflow reads its topic without a Kafka egress charge (it is billed per GB processed instead); a topic's
daily bytes come from the usage model (raw records, clean lines; nothing for topics the model does not know).
"""

from __future__ import annotations

from decimal import Decimal

from salesflow.ops.cost.component import Component, Context
from salesflow.ops.cost.inventory import Cluster
from salesflow.ops.cost.prices import HOURS_PER_MONTH


def confluent_components(context: Context) -> list[Component]:
    configured = context.environment.confluent.kafka_cluster
    cluster = context.inventory.cluster(configured.type, configured.availability)
    return [
        *_cluster(context, cluster),
        *_flink(context, cluster),
        *_kafka_data(context, cluster),
        *_tableflow(context, cluster),
        *_schema_registry(context, cluster),
    ]


def _cluster(context: Context, cluster: Cluster) -> list[Component]:
    for block in [*context.inventory.of("confluent_kafka_cluster")]:
        context.handled.add(block.address)
    if cluster.type == "dedicated":
        units, unit_name = Decimal(cluster.cku or 1), "CKU"
    else:
        units, unit_name = Decimal(context.volumes.usage.ecku), "eCKU"
    price = context.prices.kafka(
        "confluent.kafka.ecku_hour", cluster.type, cluster.availability, cluster.region
    )
    adopted = ", adopted" if cluster.adopted else ""
    resource = (
        f"{cluster.name}: {cluster.type}, {cluster.availability} availability, {units} {unit_name}{adopted}"
    )
    return [Component.of("Kafka cluster", resource, units * HOURS_PER_MONTH, price)]


def _flink(context: Context, cluster: Cluster) -> list[Component]:
    components = []
    price = context.prices.price("confluent.flink.cfu_hour", cluster.region)
    cfus = context.volumes.usage.cfu_per_statement
    for block, statement in zip(
        context.inventory.of("confluent_flink_statement"), context.inventory.statements(), strict=True
    ):
        if statement.continuous:
            context.handled.add(block.address)
            components.append(Component.of("Flink statement", statement.name, cfus * HOURS_PER_MONTH, price))
        else:
            context.explain(block.address, "DDL statement: completes after submission, no running CFUs")
    return components


def _topic_names(context: Context) -> set[str]:
    volumes = context.volumes
    return {topic.name for topic in context.inventory.topics()} | {volumes.raw_topic, volumes.clean_topic}


def _kafka_data(context: Context, cluster: Cluster) -> list[Component]:
    volumes, prices = context.volumes, context.prices

    def price(key: str):
        return prices.kafka(key, cluster.type, cluster.availability, cluster.region)

    components = []
    for topic in context.inventory.topics():
        written = volumes.topic_gb_per_month(topic.name)
        if not written:
            continue
        components.append(
            Component.of("Kafka ingress", topic.name, written, price("confluent.kafka.write_gb"))
        )
        stored = volumes.topic_gb_stored(topic.name, topic.retention_days)
        resource = f"{topic.name} ({topic.retention_days.normalize():f} days retained)"
        components.append(
            Component.of("Kafka storage", resource, stored, price("confluent.kafka.storage_gb_month"))
        )
    known = _topic_names(context)
    for statement in context.inventory.statements():
        reads = statement.reads(known) if statement.continuous else []
        read = sum((volumes.topic_gb_per_month(topic) for topic in reads), Decimal(0))
        if read:
            resource = f"{statement.name} reads {', '.join(reads)}"
            components.append(Component.of("Kafka egress", resource, read, price("confluent.kafka.read_gb")))
    return components


def _tableflow(context: Context, cluster: Cluster) -> list[Component]:
    volumes, prices = context.volumes, context.prices
    components = []
    for table in context.inventory.tableflow_topics():
        context.handled.add(table.address)
        components += [
            Component.of(
                "Tableflow topic",
                table.topic,
                HOURS_PER_MONTH,
                prices.price("confluent.tableflow.topic_hour", cluster.region),
            ),
            Component.of(
                "Tableflow data processed",
                table.topic,
                volumes.topic_gb_per_month(table.topic),
                prices.price("confluent.tableflow.processed_gb", cluster.region),
            ),
        ]
        stored = volumes.table_gb_stored(table.topic)
        months = volumes.usage.table_history_months
        if table.own_bucket:
            region = context.inventory.aws_region()
            resource = f"s3://{table.own_bucket} ({table.topic}, {months} months)"
            storage = Component.of(
                "Tableflow storage, own bucket",
                resource,
                stored,
                prices.price("aws.s3.standard_gb_month", region),
            )
        else:
            resource = f"{table.topic} ({months} months)"
            price = prices.price("confluent.tableflow.managed_storage_gb_month", cluster.region)
            storage = Component.of("Tableflow storage, managed", resource, stored, price)
        components.append(storage)
    return components


def _schema_registry(context: Context, cluster: Cluster) -> list[Component]:
    """Schemas Terraform registers plus one value schema per ``CREATE TABLE`` statement."""
    registered = context.inventory.of("confluent_schema")
    for block in registered:
        context.handled.add(block.address)
    created = [statement for statement in context.inventory.statements() if statement.creates]
    schemas = len(registered) + len(created)
    if not schemas:
        return []
    price = context.prices.price("confluent.schema_registry.schema_hour", cluster.region)
    return [Component.of("Schema Registry", f"{schemas} schemas", schemas * HOURS_PER_MONTH, price)]
