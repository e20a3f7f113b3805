"""The raw topic the sales channels produce to.

The clean topic is *not* declared here: Flink's ``CREATE TABLE`` creates it with its subjects, and a
topic Terraform created first would make that statement fail (every topic is already a table).
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from salesflow.config import Environment
from terraform.confluent.platform import ConfluentPlatform
from terraform.confluent_provider import Credentials, KafkaTopic, meta


class RawTopic(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        platform: ConfluentPlatform,
        credentials: Credentials,
        keep: TerraformResourceLifecycle | None,
    ) -> None:
        super().__init__(scope, id_)
        raw = environment.confluent.topics.raw
        self.topic = KafkaTopic(
            self,
            "raw_topic",
            kafka_cluster=platform.cluster_ref,
            topic_name=raw.name,
            partitions_count=raw.partitions,
            rest_endpoint=platform.cluster.rest_endpoint,
            credentials=credentials,
            config={"cleanup.policy": "delete", "retention.ms": str(raw.retention_ms)},
            meta=meta(lifecycle=keep),
        )
