"""Tableflow on the clean topic: the Iceberg table the exporter reads, on Confluent's storage or yours."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from salesflow.config import Environment
from terraform.confluent_provider import ByobAws, FlinkStatement, IdRef, ManagedStorage, TableflowTopic, meta


class CleanTopicTableflow(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        *,
        environment_id: str,
        cluster_id: str,
        created_by: list[FlinkStatement],
        keep: TerraformResourceLifecycle | None,
    ) -> None:
        super().__init__(scope, id_)
        clean = environment.confluent.topics.clean.name
        if not created_by:
            raise ValueError(
                f"flink_statements/: no DDL statement creates the clean table `{clean}`; Tableflow needs it"
            )
        tableflow = environment.confluent.tableflow
        byob = tableflow.byob
        TableflowTopic(
            self,
            "clean_topic_tableflow",
            environment=IdRef(id=environment_id),
            kafka_cluster=IdRef(id=cluster_id),
            display_name=clean,
            table_formats=["ICEBERG"],
            retention_ms=str(tableflow.retention_ms),
            managed_storage=ManagedStorage() if tableflow.storage == "managed" else None,
            byob_aws=(
                ByobAws(bucket_name=byob.bucket, provider_integration_id=byob.provider_integration_id)
                if byob is not None
                else None
            ),
            meta=meta(depends_on=created_by, lifecycle=keep),
        )
