"""One API key per service account and scope. Keys are created after their account's role bindings;
their secrets are only ever referenced (handed on through Secrets Manager), never output."""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from salesflow.config import Environment
from terraform.confluent.access import Access
from terraform.confluent.platform import ConfluentPlatform
from terraform.confluent_provider import ApiKey, ApiKeyManagedResource, RoleBinding, ServiceAccount, meta
from terraform.stacks.common import resource_prefix


class ApiKeys(Construct):
    """``manager_kafka_key``, ``manager_schema_registry_key``, ``manager_tableflow_key`` (Terraform),
    ``flink_api_key`` (the statements), ``exporter_tableflow_key`` (the exporter's catalog credential),
    ``flink_verify_api_key`` and ``schema_verify_api_key`` (the pull requests' ``salesflow sql verify`` and
    ``salesflow schema verify``)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        platform: ConfluentPlatform,
        access: Access,
    ) -> None:
        super().__init__(scope, id_)
        self.prefix = resource_prefix(environment)
        env_ref = platform.environment_ref
        tableflow = ApiKeyManagedResource(
            id="tableflow", api_version="tableflow/v1", kind="Tableflow", environment=env_ref
        )
        manager, after_manager = access.manager, access.manager_bindings
        self.manager_kafka = self._key(
            "manager_kafka_key",
            manager,
            platform.cluster.as_managed_resource(env_ref),
            "Terraform: topics",
            after_manager,
        )
        self.manager_schema_registry = self._key(
            "manager_schema_registry_key",
            manager,
            platform.registry.as_managed_resource(env_ref),
            "Terraform: schemas and subject rules",
            after_manager,
        )
        self.manager_tableflow = self._key(
            "manager_tableflow_key", manager, tableflow, "Terraform: Tableflow topics", after_manager
        )
        self.flink = self._key(
            "flink_api_key",
            access.flink,
            platform.flink_region.as_managed_resource(env_ref),
            "Terraform submits the Flink statements with this key (flink_* provider arguments)",
            access.flink_bindings,
        )
        self.flink_verify = self._key(
            "flink_verify_api_key",
            access.verifier,
            platform.flink_region.as_managed_resource(env_ref),
            "salesflow sql verify in pull requests: dry runs and EXPLAIN of the statements",
            access.verifier_bindings,
        )
        self.schema_verify = self._key(
            "schema_verify_api_key",
            access.verifier,
            platform.registry.as_managed_resource(env_ref),
            "salesflow schema verify in pull requests: compatibility checks, reads of the two value subjects",
            access.verifier_bindings,
        )
        self.exporter_tableflow = self._key(
            "exporter_tableflow_key",
            access.exporter,
            tableflow,
            "Exporter Lambda: OAuth client credentials of the Tableflow Iceberg REST catalog",
            access.exporter_bindings,
        )

    def _key(
        self,
        id_: str,
        account: ServiceAccount,
        scope: ApiKeyManagedResource,
        what: str,
        after: Sequence[RoleBinding],
    ) -> ApiKey:
        return ApiKey(
            self,
            id_,
            display_name=f"{self.prefix}-{id_.replace('_', '-')}",
            description=what,
            owner=account.owner(),
            managed_resource=scope,
            meta=meta(depends_on=list(after)),
        )
