"""Typed constructs for the ``confluentinc/confluent`` resources and data sources salesflow uses.

One class per Terraform type; keyword arguments carry the provider's attribute names, so the
provider documentation applies unchanged. Only the arguments salesflow needs are exposed; the schema
test (tests/terraform/test_confluent_schema.py) checks every synthesized one against the provider schema.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Literal

from constructs import Construct

from terraform.confluent_provider.base import Block, ConfluentDataSource, ConfluentResource, Meta

# --- blocks -----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class IdRef(Block):
    """``{ id = ... }``: how the provider refers to an environment, cluster, pool or principal."""

    id: str


@dataclasses.dataclass(frozen=True)
class Credentials(Block):
    """A resource-scoped API key (``key`` is the key id, ``secret`` a reference to its secret)."""

    key: str
    secret: str


@dataclasses.dataclass(frozen=True)
class StreamGovernance(Block):
    package: Literal["ESSENTIALS", "ADVANCED"]


@dataclasses.dataclass(frozen=True)
class ClusterType(Block):
    """Body of the cluster-type block (``basic {}``, ``standard {}``, ``enterprise {}``)."""


@dataclasses.dataclass(frozen=True)
class DedicatedCluster(Block):
    cku: int


@dataclasses.dataclass(frozen=True)
class ApiKeyOwner(Block):
    id: str
    api_version: str
    kind: str


@dataclasses.dataclass(frozen=True)
class ApiKeyManagedResource(Block):
    id: str
    api_version: str
    kind: str
    environment: IdRef | None = None


@dataclasses.dataclass(frozen=True)
class ManagedStorage(Block):
    """Tableflow stores the table in Confluent-managed storage (``managed_storage {}``)."""


@dataclasses.dataclass(frozen=True)
class ByobAws(Block):
    """Tableflow writes to your own S3 bucket through a provider integration."""

    bucket_name: str
    provider_integration_id: str


class ManagedResourceAttributes:
    """Computed attributes shared by clusters, registries and Flink regions (API-key scopes)."""

    def attribute(self, name: str) -> str:
        raise NotImplementedError

    @property
    def api_version(self) -> str:
        return self.attribute("api_version")

    @property
    def kind(self) -> str:
        return self.attribute("kind")

    @property
    def rest_endpoint(self) -> str:
        return self.attribute("rest_endpoint")

    def as_managed_resource(self, environment: IdRef) -> ApiKeyManagedResource:
        """This resource as the scope of an API key."""
        return ApiKeyManagedResource(
            id=self.attribute("id"), api_version=self.api_version, kind=self.kind, environment=environment
        )


# --- resources --------------------------------------------------------------------------------------


class Environment(ConfluentResource):
    """``confluent_environment``: the Confluent environment (also the Flink catalog)."""

    resource_type = "confluent_environment"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        display_name: str,
        stream_governance: StreamGovernance | None = None,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(
            scope, id_, meta=meta, display_name=display_name, stream_governance=stream_governance
        )

    @property
    def resource_name(self) -> str:
        """CRN of the environment (``crn://confluent.cloud/organization=.../environment=env-...``)."""
        return self.attribute("resource_name")


class KafkaCluster(ConfluentResource, ManagedResourceAttributes):
    """``confluent_kafka_cluster``: the Kafka cluster (also the Flink database).

    Exactly one of ``basic``, ``standard``, ``enterprise`` or ``dedicated`` gives the cluster type.
    """

    resource_type = "confluent_kafka_cluster"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        display_name: str,
        availability: str,
        cloud: str,
        region: str,
        environment: IdRef,
        basic: ClusterType | None = None,
        standard: ClusterType | None = None,
        enterprise: ClusterType | None = None,
        dedicated: DedicatedCluster | None = None,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            meta=meta,
            display_name=display_name,
            availability=availability,
            cloud=cloud,
            region=region,
            environment=environment,
            basic=basic,
            standard=standard,
            enterprise=enterprise,
            dedicated=dedicated,
        )

    @property
    def rbac_crn(self) -> str:
        """CRN for role bindings on the cluster (``.../cloud-cluster=lkc-...``)."""
        return self.attribute("rbac_crn")


class KafkaTopic(ConfluentResource):
    """``confluent_kafka_topic``: a topic, managed through the cluster's REST endpoint with a Kafka key."""

    resource_type = "confluent_kafka_topic"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        kafka_cluster: IdRef,
        topic_name: str,
        partitions_count: int,
        rest_endpoint: str,
        credentials: Credentials,
        config: Mapping[str, str] | None = None,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            meta=meta,
            kafka_cluster=kafka_cluster,
            topic_name=topic_name,
            partitions_count=partitions_count,
            rest_endpoint=rest_endpoint,
            credentials=credentials,
            config=dict(config) if config else None,
        )


class SubjectConfig(ConfluentResource):
    """``confluent_subject_config``: the compatibility rule of one Schema Registry subject."""

    resource_type = "confluent_subject_config"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        schema_registry_cluster: IdRef,
        rest_endpoint: str,
        credentials: Credentials,
        subject_name: str,
        compatibility_level: str,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            meta=meta,
            schema_registry_cluster=schema_registry_cluster,
            rest_endpoint=rest_endpoint,
            credentials=credentials,
            subject_name=subject_name,
            compatibility_level=compatibility_level,
        )


class Schema(ConfluentResource):
    """``confluent_schema``: a schema registered under a subject (a change registers a new version).

    Depend it on the subject's ``SubjectConfig`` so the compatibility rule exists before the first
    registration (the provider checks compatibility at plan time).
    """

    resource_type = "confluent_schema"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        schema_registry_cluster: IdRef,
        rest_endpoint: str,
        credentials: Credentials,
        subject_name: str,
        format: Literal["AVRO", "JSON", "PROTOBUF"],  # the provider's attribute name
        schema: str,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            meta=meta,
            schema_registry_cluster=schema_registry_cluster,
            rest_endpoint=rest_endpoint,
            credentials=credentials,
            subject_name=subject_name,
            format=format,
            schema=schema,
        )


class ServiceAccount(ConfluentResource):
    """``confluent_service_account``: a principal for workloads (Terraform, Flink, the exporter)."""

    resource_type = "confluent_service_account"

    def __init__(
        self, scope: Construct, id_: str, *, display_name: str, description: str, meta: Meta | None = None
    ) -> None:
        super().__init__(scope, id_, meta=meta, display_name=display_name, description=description)

    @property
    def api_version(self) -> str:
        return self.attribute("api_version")

    @property
    def kind(self) -> str:
        return self.attribute("kind")

    def owner(self) -> ApiKeyOwner:
        """This account as the owner of an API key."""
        return ApiKeyOwner(id=self.id, api_version=self.api_version, kind=self.kind)

    @property
    def principal(self) -> str:
        """This account as a role-binding principal (``User:sa-...``)."""
        return f"User:{self.id}"


class ApiKey(ConfluentResource):
    """``confluent_api_key``: a key owned by a service account, scoped to one managed resource (or, with
    no ``managed_resource``, a Cloud API key for Confluent's control plane).

    Its ``secret`` is sensitive: reference it only from Secrets Manager or ``credentials`` blocks,
    never from an output.
    """

    resource_type = "confluent_api_key"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        display_name: str,
        description: str,
        owner: ApiKeyOwner,
        managed_resource: ApiKeyManagedResource | None,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            meta=meta,
            display_name=display_name,
            description=description,
            owner=owner,
            managed_resource=managed_resource,
        )

    @property
    def secret(self) -> str:
        return self.attribute("secret")

    def credentials(self) -> Credentials:
        return Credentials(key=self.id, secret=self.secret)


class RoleBinding(ConfluentResource):
    """``confluent_role_binding``: one RBAC role for one principal on one CRN pattern."""

    resource_type = "confluent_role_binding"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        principal: str,
        role_name: str,
        crn_pattern: str,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(
            scope, id_, meta=meta, principal=principal, role_name=role_name, crn_pattern=crn_pattern
        )


class FlinkComputePool(ConfluentResource):
    """``confluent_flink_compute_pool``: the autoscaling pool the statements run in."""

    resource_type = "confluent_flink_compute_pool"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        display_name: str,
        cloud: str,
        region: str,
        max_cfu: int,
        environment: IdRef,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            meta=meta,
            display_name=display_name,
            cloud=cloud,
            region=region,
            max_cfu=max_cfu,
            environment=environment,
        )


class FlinkStatement(ConfluentResource):
    """``confluent_flink_statement``: one Flink SQL statement.

    ``statement`` forces replacement; ``statement_name`` and ``properties`` fail at apply when they
    change, so both are fixed per statement version. Organization, environment, compute pool,
    principal, REST endpoint and credentials come from the provider block (all seven ``flink_*``
    provider arguments set), which the provider documents as taking precedence over resource values.
    """

    resource_type = "confluent_flink_statement"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        statement_name: str,
        statement: str,
        properties: Mapping[str, str],
        meta: Meta | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            meta=meta,
            statement_name=statement_name,
            statement=statement,
            properties=dict(properties),
        )


class TableflowTopic(ConfluentResource):
    """``confluent_tableflow_topic``: materialises a topic as an Iceberg table.

    Exactly one storage block: ``managed_storage`` or ``byob_aws``. Credentials come from the
    provider's ``tableflow_api_key``/``tableflow_api_secret`` (a changed resource-level credentials
    block fails at apply).
    """

    resource_type = "confluent_tableflow_topic"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: IdRef,
        kafka_cluster: IdRef,
        display_name: str,
        table_formats: Sequence[str],
        retention_ms: str,
        managed_storage: ManagedStorage | None = None,
        byob_aws: ByobAws | None = None,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            meta=meta,
            environment=environment,
            kafka_cluster=kafka_cluster,
            display_name=display_name,
            table_formats=list(table_formats),
            retention_ms=retention_ms,
            managed_storage=managed_storage,
            byob_aws=byob_aws,
        )


# --- data sources -----------------------------------------------------------------------------------


class DataEnvironment(ConfluentDataSource):
    """``data.confluent_environment``: an existing environment, by id or by display name (exactly one)."""

    resource_type = "confluent_environment"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        id: str | None = None,
        display_name: str | None = None,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(scope, id_, meta=meta, id=id, display_name=display_name)

    @property
    def resource_name(self) -> str:
        return self.attribute("resource_name")


class DataOrganization(ConfluentDataSource):
    """``data.confluent_organization``: the organization of the provider's Cloud API key."""

    resource_type = "confluent_organization"

    def __init__(self, scope: Construct, id_: str, *, meta: Meta | None = None) -> None:
        super().__init__(scope, id_, meta=meta)

    @property
    def resource_name(self) -> str:
        """CRN of the organization (``crn://confluent.cloud/organization=...``): the scope of org roles."""
        return self.attribute("resource_name")


class DataKafkaCluster(ConfluentDataSource, ManagedResourceAttributes):
    """``data.confluent_kafka_cluster``: adopt an existing cluster by id."""

    resource_type = "confluent_kafka_cluster"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        id: str,  # the provider's attribute name
        environment: IdRef,
        meta: Meta | None = None,
    ) -> None:
        super().__init__(scope, id_, meta=meta, id=id, environment=environment)

    @property
    def rbac_crn(self) -> str:
        return self.attribute("rbac_crn")


class DataSchemaRegistryCluster(ConfluentDataSource, ManagedResourceAttributes):
    """``data.confluent_schema_registry_cluster``: the environment's single Schema Registry cluster."""

    resource_type = "confluent_schema_registry_cluster"

    def __init__(self, scope: Construct, id_: str, *, environment: IdRef, meta: Meta | None = None) -> None:
        super().__init__(scope, id_, meta=meta, environment=environment)

    @property
    def resource_name(self) -> str:
        """CRN of the registry (``.../schema-registry=lsrc-...``); append ``/subject=<name>`` to bind."""
        return self.attribute("resource_name")


class DataFlinkRegion(ConfluentDataSource, ManagedResourceAttributes):
    """``data.confluent_flink_region``: the Flink region (REST endpoint, API-key scope)."""

    resource_type = "confluent_flink_region"

    def __init__(
        self, scope: Construct, id_: str, *, cloud: str, region: str, meta: Meta | None = None
    ) -> None:
        super().__init__(scope, id_, meta=meta, cloud=cloud, region=region)
