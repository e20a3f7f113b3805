"""The Confluent platform: environment (= Flink catalog), Kafka cluster (= Flink database), the
environment's Schema Registry, the Flink region and the compute pool the statements run in.

The environment belongs to the bootstrap stack (made there, or adopted by id): it is read here by id or
by display name; an older state's copy of it is forgotten, never destroyed. The cluster is created, or
adopted by id (``id:`` in the environment file) and then only read, never changed or destroyed.
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle, TerraformStack
from constructs import Construct

from salesflow.config import Environment
from terraform.confluent_provider import (
    ClusterType,
    DataEnvironment,
    DataFlinkRegion,
    DataKafkaCluster,
    DataSchemaRegistryCluster,
    DedicatedCluster,
    FlinkComputePool,
    IdRef,
    KafkaCluster,
    meta,
)
from terraform.stacks.common import forget


class ConfluentPlatform(Construct):
    def __init__(
        self, scope: Construct, id_: str, environment: Environment, keep: TerraformResourceLifecycle | None
    ) -> None:
        super().__init__(scope, id_)
        confluent = environment.confluent
        settings = confluent.environment
        self.environment = DataEnvironment(
            self,
            "environment",
            id=settings.id,
            display_name=settings.display_name if settings.id is None else None,
        )
        # Made by this stack before the bootstrap stack took the environment over.
        forget(TerraformStack.of(self), ["confluent_environment.environment"])
        self.environment_ref = IdRef(id=self.environment.id)
        self.cluster = self._cluster(environment, keep)
        self.cluster_ref = IdRef(id=self.cluster.id)
        self.registry = DataSchemaRegistryCluster(
            self, "schema_registry", environment=self.environment_ref, meta=meta(depends_on=[self.cluster])
        )
        self.registry_ref = IdRef(id=self.registry.id)
        settings = confluent.kafka_cluster
        self.flink_region = DataFlinkRegion(
            self, "flink_region", cloud=settings.cloud, region=settings.region
        )
        self.compute_pool = FlinkComputePool(
            self,
            "flink_compute_pool",
            display_name=confluent.flink.compute_pool.display_name,
            cloud=settings.cloud,
            region=settings.region,
            max_cfu=confluent.flink.compute_pool.max_cfu,
            environment=self.environment_ref,
        )

    def _cluster(
        self, environment: Environment, keep: TerraformResourceLifecycle | None
    ) -> KafkaCluster | DataKafkaCluster:
        settings = environment.confluent.kafka_cluster
        if settings.id is not None:
            return DataKafkaCluster(self, "kafka_cluster", id=settings.id, environment=self.environment_ref)
        kind = settings.type
        return KafkaCluster(
            self,
            "kafka_cluster",
            display_name=settings.display_name,
            availability=settings.availability,
            cloud=settings.cloud,
            region=settings.region,
            environment=self.environment_ref,
            basic=ClusterType() if kind == "basic" else None,
            standard=ClusterType() if kind == "standard" else None,
            enterprise=ClusterType() if kind == "enterprise" else None,
            dedicated=DedicatedCluster(cku=settings.cku) if kind == "dedicated" else None,
            meta=meta(lifecycle=keep),
        )

    def topic_crn(self, topic: str) -> str:
        return f"{self.kafka_crn}/topic={topic}"

    def subject_crn(self, subject: str) -> str:
        return f"{self.registry.resource_name}/subject={subject}"

    @property
    def kafka_crn(self) -> str:
        return f"{self.cluster.rbac_crn}/kafka={self.cluster.id}"
