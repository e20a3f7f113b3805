"""Every synthesized ``confluent_*`` block against the provider schema, and proof the check can fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from infra_support import REPO_ROOT, Synthesis

pytestmark = pytest.mark.slow

# The workplace's reference copy: beside the checkout, or at its usual place when CI clones elsewhere.
SHARED_SCHEMA = next(
    (
        path
        for path in (
            REPO_ROOT.parent / "shared" / "reference" / "confluent-provider-schema.json",
            Path("/work/shared/reference/confluent-provider-schema.json"),
        )
        if path.is_file()
    ),
    REPO_ROOT.parent / "shared" / "reference" / "confluent-provider-schema.json",
)


def _confluent_blocks(document: dict[str, Any]) -> list[str]:
    return [
        f"{section}.{type_name}.{name}"
        for section in ("resource", "data")
        for type_name, instances in document.get(section, {}).items()
        if type_name.startswith("confluent_")
        for name in instances
    ]


def test_every_synthesized_confluent_block_matches_the_provider_schema(synthesis: Synthesis) -> None:
    from terraform.confluent_provider.schema import validate_terraform_json

    checked: set[str] = set()
    for name, document in synthesis.stacks.items():
        errors = validate_terraform_json(document, name)
        assert errors == [], "\n".join(map(str, errors))
        checked |= {block.rsplit(".", 1)[0] for block in _confluent_blocks(document)}
    # The check covered every resource and data source type the stacks use.
    assert checked == {
        "data.confluent_environment",
        "data.confluent_flink_region",
        "data.confluent_organization",
        "data.confluent_schema_registry_cluster",
        "resource.confluent_api_key",
        "resource.confluent_environment",
        "resource.confluent_flink_compute_pool",
        "resource.confluent_flink_statement",
        "resource.confluent_kafka_cluster",
        "resource.confluent_kafka_topic",
        "resource.confluent_role_binding",
        "resource.confluent_schema",
        "resource.confluent_service_account",
        "resource.confluent_subject_config",
        "resource.confluent_tableflow_topic",
    }


def test_vendored_schema_is_the_shared_reference() -> None:
    from terraform.confluent_provider.schema import SCHEMA_FILE

    if not SHARED_SCHEMA.is_file():
        pytest.skip(f"{SHARED_SCHEMA} is not on this machine; the vendored copy is used as is")
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json.loads(
        SHARED_SCHEMA.read_text(encoding="utf-8")
    )


def test_adopted_environment_and_cluster_validate_as_data_sources(synth_environment: None) -> None:
    """The adopt-by-id path synthesizes data sources that also satisfy the schema."""
    from salesflow.config import Environment, load_environment
    from terraform.confluent_provider.schema import validate_terraform_json
    from terraform.stacks.confluent_stack import ConfluentStack
    from terraform.testing import new_app, synth_stack

    data = load_environment("dev").model_dump(by_alias=True)
    data["confluent"]["environment"]["id"] = "env-abc123"
    data["confluent"]["kafka_cluster"]["id"] = "lkc-abc123"
    adopted = Environment.model_validate(data)

    document = json.loads(synth_stack(ConfluentStack(new_app(), adopted)))
    assert "confluent_environment" not in document["resource"]
    assert "confluent_kafka_cluster" not in document["resource"]
    assert document["data"]["confluent_environment"]["environment"] == {"id": "env-abc123"}
    assert document["data"]["confluent_kafka_cluster"]["kafka_cluster"]["id"] == "lkc-abc123"
    assert validate_terraform_json(document, "adopted") == []


# --- deliberately broken constructs: the check must reject each ---------------------------------------


def _errors_of(build) -> list[str]:
    from terraform.confluent_provider.schema import validate_terraform_json
    from terraform.testing import synth_constructs

    return [str(error) for error in validate_terraform_json(synth_constructs(build), "broken")]


def _broken(resource_type: str, *, data: bool = False):
    from terraform.confluent_provider import ConfluentDataSource, ConfluentResource

    base = ConfluentDataSource if data else ConfluentResource
    return type("Broken", (base,), {"resource_type": resource_type})


def test_unknown_attribute_fails() -> None:
    topic = _broken("confluent_kafka_topic")
    errors = _errors_of(
        lambda scope: topic(
            scope, "topic", topic_name="t", partition_count=6, kafka_cluster=[{"id": "lkc-1"}]
        )
    )
    assert errors == [
        "broken: resource confluent_kafka_topic.topic.partition_count: unknown attribute; known: config, "
        "credentials, id, kafka_cluster, partitions_count, rest_endpoint, topic_name"
    ]


def test_missing_required_attribute_fails() -> None:
    topic = _broken("confluent_kafka_topic")
    errors = _errors_of(lambda scope: topic(scope, "topic", kafka_cluster=[{"id": "lkc-1"}]))
    assert errors == [
        "broken: resource confluent_kafka_topic.topic.topic_name: required attribute is missing"
    ]


def test_missing_required_block_fails() -> None:
    pool = _broken("confluent_flink_compute_pool")
    errors = _errors_of(
        lambda scope: pool(scope, "pool", display_name="p", cloud="AWS", region="eu-central-1")
    )
    assert errors == [
        "broken: resource confluent_flink_compute_pool.pool.environment: required block is missing"
    ]


def test_block_written_as_a_plain_value_fails() -> None:
    topic = _broken("confluent_kafka_topic")
    errors = _errors_of(lambda scope: topic(scope, "topic", topic_name="t", kafka_cluster="lkc-1"))
    assert len(errors) == 1
    assert "topic.kafka_cluster: block kafka_cluster must be an object or a list of objects" in errors[0]


def test_block_with_too_many_items_fails() -> None:
    pool = _broken("confluent_flink_compute_pool")
    errors = _errors_of(
        lambda scope: pool(
            scope,
            "pool",
            display_name="p",
            cloud="AWS",
            region="eu-central-1",
            environment=[{"id": "env-1"}, {"id": "env-2"}],
        )
    )
    assert errors == [
        "broken: resource confluent_flink_compute_pool.pool.environment: "
        "block environment takes 1..1 items, got 2"
    ]


def test_attribute_inside_a_block_is_checked_too() -> None:
    key = _broken("confluent_api_key")
    errors = _errors_of(
        lambda scope: key(scope, "key", owner=[{"id": "sa-1", "api_version": "iam/v2", "kind": "Robot"}])
    )
    assert errors == [
        "broken: resource confluent_api_key.key.owner[0].kind: 'Robot' is not one of ServiceAccount, User"
    ]


def test_exactly_one_storage_block_and_no_computed_only_attribute() -> None:
    tableflow = _broken("confluent_tableflow_topic")
    errors = _errors_of(
        lambda scope: tableflow(
            scope,
            "tableflow",
            display_name="t",
            environment=[{"id": "env-1"}],
            kafka_cluster=[{"id": "lkc-1"}],
            managed_storage=[{}],
            byob_aws=[{"bucket_name": "b", "provider_integration_id": "cspi-1"}],
            table_path="s3://elsewhere",
        )
    )
    assert sorted(errors) == [
        "broken: resource confluent_tableflow_topic.tableflow.table_path: computed-only attribute: "
        "the provider sets it, configuration must not",
        "broken: resource confluent_tableflow_topic.tableflow: exactly one of azure_data_lake_storage_gen_2, "
        "byob_aws, managed_storage is required, got ['byob_aws', 'managed_storage']",
    ]


def test_partial_flink_provider_group_and_unknown_types_fail() -> None:
    from terraform.confluent_provider import ConfluentProvider

    statement_source = _broken("confluent_flink_statement", data=True)

    def build(scope) -> None:
        ConfluentProvider(scope, "confluent", organization_id="org", flink_api_key="k", flink_api_secret="s")
        statement_source(scope, "statement", statement_name="x")

    errors = _errors_of(build)
    assert errors == [
        "broken: provider confluent: flink arguments are all-or-none: flink_api_key, flink_api_secret, "
        "organization_id set, environment_id, flink_compute_pool_id, flink_principal_id, flink_rest_endpoint "
        "missing (the provider rejects a partial group)",
        "broken: data confluent_flink_statement.statement: unknown data type 'confluent_flink_statement' "
        "(the provider has no such data source)",
    ]


def test_setting_a_resource_id_fails() -> None:
    account = _broken("confluent_service_account")
    errors = _errors_of(lambda scope: account(scope, "account", display_name="a", id="sa-123"))
    assert errors == [
        "broken: resource confluent_service_account.account.id: "
        "never set id on a resource (the provider assigns it)"
    ]


def test_typed_constructs_pass_where_broken_ones_fail() -> None:
    """The same shapes through the typed classes: zero errors (the check is not simply strict)."""
    from terraform.confluent_provider import Credentials, FlinkComputePool, IdRef, KafkaTopic

    def build(scope) -> None:
        FlinkComputePool(
            scope,
            "pool",
            display_name="p",
            cloud="AWS",
            region="eu-central-1",
            max_cfu=5,
            environment=IdRef("env-1"),
        )
        KafkaTopic(
            scope,
            "topic",
            kafka_cluster=IdRef("lkc-1"),
            topic_name="t",
            partitions_count=6,
            rest_endpoint="https://lkc-1.example",
            credentials=Credentials(key="KEY", secret="${var.kafka_secret}"),
        )

    assert _errors_of(build) == []


def test_schema_file_is_the_one_synth_checks_against() -> None:
    from terraform.confluent_provider.schema import SCHEMA_FILE, provider_version

    assert SCHEMA_FILE == REPO_ROOT / "terraform" / "confluent_provider" / "provider-schema.json"
    assert provider_version() == "2.83.0"
    assert Path(SCHEMA_FILE).is_file()
