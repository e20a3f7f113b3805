"""Every resource of the three stacks and its key properties, through cdktf.Testing's matchers."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from infra_support import FIXTURE_MANIFEST, REPO_ROOT

from salesflow.config import load_environment
from salesflow.sql.render import PEPPER_TERRAFORM_REFERENCE, render_statements

pytestmark = pytest.mark.slow

ENVIRONMENTS = ["dev", "prod"]


@pytest.fixture(scope="module")
def synthesized(environment_stacks: dict[str, Any]) -> dict[str, dict[str, str]]:
    """cdktf.Testing.synth of every stack: {env: {"confluent"|"flink"|"aws": json text}}."""
    from terraform.testing import synth_stack

    return {
        name: {
            "confluent": synth_stack(entry.confluent),
            "flink": synth_stack(entry.flink),
            "aws": synth_stack(entry.aws),
        }
        for name, entry in environment_stacks.items()
    }


def _resources(text: str, resource_type: str) -> dict[str, dict[str, Any]]:
    return json.loads(text)["resource"].get(resource_type, {})


# --- Confluent stack -------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_cluster_registry_and_pool(synthesized: dict, env: str) -> None:
    from terraform.testing import has_data_source, has_provider, has_resource

    settings = load_environment(env).confluent
    text = synthesized[env]["confluent"]
    cluster = settings.kafka_cluster
    assert has_provider(text, "confluent", {})
    # The bootstrap stack makes the environment; this stack reads it by name and forgets its old copy.
    assert has_data_source(text, "confluent_environment", {"display_name": settings.environment.display_name})
    assert "confluent_environment" not in json.loads(text)["resource"]
    assert json.loads(text)["removed"] == [
        {"from": "confluent_environment.environment", "lifecycle": {"destroy": False}}
    ]
    assert has_resource(
        text,
        "confluent_kafka_cluster",
        {
            "display_name": cluster.display_name,
            "availability": cluster.availability,
            "cloud": cluster.cloud,
            "region": cluster.region,
            cluster.type: [{}],
            "environment": [{"id": "${data.confluent_environment.environment.id}"}],
        },
    )
    assert has_data_source(
        text,
        "confluent_schema_registry_cluster",
        {"environment": [{"id": "${data.confluent_environment.environment.id}"}]},
    )
    assert has_data_source(text, "confluent_flink_region", {"cloud": cluster.cloud, "region": cluster.region})
    assert has_resource(
        text,
        "confluent_flink_compute_pool",
        {
            "display_name": settings.flink.compute_pool.display_name,
            "max_cfu": settings.flink.compute_pool.max_cfu,
        },
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_raw_topic_and_schemas_but_never_the_clean_topic(synthesized: dict, env: str) -> None:
    from terraform.testing import has_resource

    settings = load_environment(env).confluent
    text = synthesized[env]["confluent"]
    raw, clean = settings.topics.raw, settings.topics.clean
    assert has_resource(
        text,
        "confluent_kafka_topic",
        {
            "topic_name": raw.name,
            "partitions_count": raw.partitions,
            "config": {"cleanup.policy": "delete", "retention.ms": str(raw.retention_ms)},
            "credentials": [
                {
                    "key": "${confluent_api_key.manager_kafka_key.id}",
                    "secret": "${confluent_api_key.manager_kafka_key.secret}",
                }
            ],
        },
    )
    # CREATE TABLE creates the clean topic: a Terraform topic of that name would make it fail.
    assert [topic["topic_name"] for topic in _resources(text, "confluent_kafka_topic").values()] == [raw.name]
    for subject in (f"{raw.name}-value", f"{clean.name}-value"):
        assert has_resource(
            text,
            "confluent_subject_config",
            {"subject_name": subject, "compatibility_level": settings.schema_registry.compatibility},
        )
    contract = json.loads((REPO_ROOT / "schemas" / "sales_order.avsc").read_text(encoding="utf-8"))
    (schema,) = _resources(text, "confluent_schema").values()
    assert schema["subject_name"] == f"{raw.name}-value"
    assert schema["format"] == "AVRO"
    assert json.loads(schema["schema"]) == contract
    assert schema["depends_on"] == ["confluent_subject_config.raw_value_subject_config"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_least_privilege_role_bindings(synthesized: dict, env: str) -> None:
    settings = load_environment(env).confluent
    raw, clean = settings.topics.raw.name, settings.topics.clean.name
    kafka = (
        "${confluent_kafka_cluster.kafka_cluster.rbac_crn}/kafka=${confluent_kafka_cluster.kafka_cluster.id}"
    )
    registry = "${data.confluent_schema_registry_cluster.schema_registry.resource_name}"
    bindings = {
        (
            body["principal"].removeprefix("User:${confluent_service_account.").removesuffix(".id}"),
            body["role_name"],
            body["crn_pattern"],
        )
        for body in _resources(synthesized[env]["confluent"], "confluent_role_binding").values()
    }
    expected = {
        ("manager", "CloudClusterAdmin", "${confluent_kafka_cluster.kafka_cluster.rbac_crn}"),
        ("manager", "ResourceOwner", f"{registry}/subject={raw}-value"),
        ("manager", "ResourceOwner", f"{registry}/subject={clean}-value"),
        ("flink", "FlinkDeveloper", "${data.confluent_environment.environment.resource_name}"),
        ("flink", "DeveloperRead", f"{kafka}/topic={raw}"),
        ("flink", "DeveloperRead", f"{registry}/subject={raw}-value"),
        ("flink", "DeveloperManage", f"{kafka}/topic={raw}"),
        ("flink", "DeveloperManage", f"{kafka}/topic={clean}"),
        ("flink", "DeveloperWrite", f"{kafka}/topic={clean}"),
        ("flink", "DeveloperRead", f"{registry}/subject={clean}-value"),
        ("flink", "DeveloperWrite", f"{registry}/subject={clean}-value"),
        ("flink", "DeveloperRead", f"{kafka}/transactional-id=_confluent-flink_*"),
        ("flink", "DeveloperWrite", f"{kafka}/transactional-id=_confluent-flink_*"),
        ("flink", "DeveloperManage", f"{kafka}/group=_confluent-flink_*"),
        # The exporter: Tableflow's data-plane read of the clean topic, nothing else.
        ("exporter", "DeveloperRead", f"{kafka}/topic={clean}"),
        # The pull requests' dry runs: statements in the environment, read access to what they plan.
        ("verifier", "FlinkDeveloper", "${data.confluent_environment.environment.resource_name}"),
        ("verifier", "DeveloperRead", f"{kafka}/topic={raw}"),
        ("verifier", "DeveloperRead", f"{registry}/subject={raw}-value"),
        ("verifier", "DeveloperRead", f"{kafka}/topic={clean}"),
        ("verifier", "DeveloperRead", f"{registry}/subject={clean}-value"),
        # The smoke test: orders into the raw topic, lines out of the clean one, its own consumer group.
        ("smoke", "DeveloperWrite", f"{kafka}/topic={raw}"),
        ("smoke", "DeveloperRead", f"{registry}/subject={raw}-value"),
        ("smoke", "DeveloperRead", f"{kafka}/topic={clean}"),
        ("smoke", "DeveloperRead", f"{registry}/subject={clean}-value"),
        ("smoke", "DeveloperRead", f"{kafka}/group=salesflow-smoke-*"),
        # The monitor: metrics, a view of statements and Tableflow, the clean table through the catalog.
        ("monitor", "MetricsViewer", "${data.confluent_environment.environment.resource_name}"),
        ("monitor", "EnvironmentOperator", "${data.confluent_environment.environment.resource_name}"),
        ("monitor", "DeveloperRead", f"{kafka}/topic={clean}"),
    }
    if settings.tableflow.byob is not None:
        expected.add(
            (
                "manager",
                "Assigner",
                "${data.confluent_environment.environment.resource_name}/provider-integration="
                f"{settings.tableflow.byob.provider_integration_id}",
            )
        )
    assert bindings == expected
    # The Flink key never writes the raw topic and never touches the cluster as a whole.
    assert not any(
        who == "flink" and crn == f"{kafka}/topic={raw}" and role == "DeveloperWrite"
        for who, role, crn in bindings
    )
    # The verifier only reads: its PR-side key can change no data, topic or schema.
    assert {role for who, role, _ in bindings if who == "verifier"} == {"FlinkDeveloper", "DeveloperRead"}
    # The monitor reads and views; no role of it may write, manage or run anything.
    assert {role for who, role, _ in bindings if who == "monitor"} == {
        "MetricsViewer",
        "EnvironmentOperator",
        "DeveloperRead",
    }


def _assert_monitor_keys(text: str, keys: dict, env: str) -> None:
    """Three keys of the monitor's account (a Cloud key, the region's Flink key, a Tableflow key) in one
    JSON secret whose policy denies reading it to all but the monitor's role and the pipeline roles."""
    assert keys["monitor_cloud_key"].get("managed_resource") in (None, [])
    assert keys["monitor_flink_key"]["managed_resource"][0]["id"] == (
        "${data.confluent_flink_region.flink_region.id}"
    )
    assert keys["monitor_tableflow_key"]["managed_resource"][0]["kind"] == "Tableflow"
    assert {key["owner"][0]["id"] for name, key in keys.items() if name.startswith("monitor_")} == {
        "${confluent_service_account.monitor.id}"
    }
    value = _resources(text, "aws_secretsmanager_secret_version")["monitor_api_keys_value"]["secret_string"]
    for what in ("cloud", "flink", "tableflow"):
        assert f"confluent_api_key.monitor_{what}_key.secret" in value
    secret = _resources(text, "aws_secretsmanager_secret")["monitor_api_keys"]
    assert secret["name"] == f"salesflow/{env}/confluent/monitor-api-keys"
    policy = _resources(text, "aws_secretsmanager_secret_policy")["monitor_api_keys_policy"]
    assert policy["secret_arn"] == "${aws_secretsmanager_secret.monitor_api_keys.arn}"
    document = json.loads(text)["data"]["aws_iam_policy_document"]["monitor_api_keys_readers"]["statement"]
    (deny,) = document
    assert (deny["effect"], deny["actions"], deny["resources"]) == (
        "Deny",
        ["secretsmanager:GetSecretValue"],
        ["*"],
    )
    (only,) = deny["condition"]
    assert only["test"] == "ArnNotEquals" and only["variable"] == "aws:PrincipalArn"
    assert sorted(arn.rsplit("/", 1)[1] for arn in only["values"]) == [
        f"salesflow-{env}-github-deploy",
        f"salesflow-{env}-github-plan",
        f"salesflow-{env}-monitor",
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_api_keys_go_to_secrets_manager_and_never_to_outputs(synthesized: dict, env: str) -> None:
    from terraform.testing import has_resource

    text = synthesized[env]["confluent"]
    keys = _resources(text, "confluent_api_key")
    assert set(keys) == {
        "manager_kafka_key",
        "manager_schema_registry_key",
        "manager_tableflow_key",
        "flink_api_key",
        "flink_verify_api_key",
        "schema_verify_api_key",
        "exporter_tableflow_key",
        "smoke_kafka_key",
        "smoke_schema_registry_key",
        "monitor_cloud_key",
        "monitor_flink_key",
        "monitor_tableflow_key",
    }
    _assert_monitor_keys(text, keys, env)
    smoke = _resources(text, "aws_secretsmanager_secret_version")["smoke_credentials_value"]["secret_string"]
    assert smoke.startswith("${jsonencode({") and "confluent_api_key.smoke_kafka_key.secret" in smoke
    assert has_resource(
        text,
        "aws_secretsmanager_secret",
        {
            "name": f"salesflow/{env}/confluent/smoke-credentials",
            "kms_key_id": "${aws_kms_key.secrets_key.arn}",
        },
    )
    assert keys["flink_api_key"]["owner"][0]["id"] == "${confluent_service_account.flink.id}"
    assert keys["flink_verify_api_key"]["owner"][0]["id"] == "${confluent_service_account.verifier.id}"
    assert keys["flink_verify_api_key"]["managed_resource"][0]["id"] == (
        "${data.confluent_flink_region.flink_region.id}"
    )
    assert (
        keys["flink_api_key"]["managed_resource"][0]["id"] == "${data.confluent_flink_region.flink_region.id}"
    )
    assert keys["schema_verify_api_key"]["owner"][0]["id"] == "${confluent_service_account.verifier.id}"
    assert (
        keys["schema_verify_api_key"]["managed_resource"][0]["id"]
        == (keys["manager_schema_registry_key"]["managed_resource"][0]["id"])
    )
    for name in ("manager_tableflow_key", "exporter_tableflow_key"):
        scope = keys[name]["managed_resource"][0]
        assert (scope["id"], scope["api_version"], scope["kind"]) == (
            "tableflow",
            "tableflow/v1",
            "Tableflow",
        )
    for secret, key, purpose in (
        ("flink_api_key_secret", "flink_api_key", "flink-api-key"),
        ("tableflow_api_key_secret", "manager_tableflow_key", "tableflow-api-key"),
        ("exporter_catalog_secret", "exporter_tableflow_key", "exporter-tableflow-api-key"),
        ("flink_verify_api_key_secret", "flink_verify_api_key", "flink-verify-api-key"),
        ("schema_verify_api_key_secret", "schema_verify_api_key", "schema-verify-api-key"),
    ):
        assert has_resource(
            text,
            "aws_secretsmanager_secret",
            {"name": f"salesflow/{env}/confluent/{purpose}", "kms_key_id": "${aws_kms_key.secrets_key.arn}"},
        )
        assert has_resource(
            text,
            "aws_secretsmanager_secret_version",
            {
                "secret_id": f"${{aws_secretsmanager_secret.{secret}.id}}",
                "secret_string": f"${{confluent_api_key.{key}.id}}:${{confluent_api_key.{key}.secret}}",
            },
        )
    assert has_resource(text, "aws_kms_key", {"enable_key_rotation": True})
    outputs = json.loads(text)["output"]
    secret_reference = re.compile(r"confluent_api_key\.\w+\.secret\b|secret_string")
    assert outputs and not [
        name for name, output in outputs.items() if secret_reference.search(output["value"])
    ]


# --- Flink stack -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_statements_are_the_rendered_ones_in_order(synthesized: dict, env: str) -> None:
    from terraform.flink.statements import statement_logical_id
    from terraform.testing import has_resource

    environment = load_environment(env)
    text = synthesized[env]["flink"]
    statements = _resources(text, "confluent_flink_statement")
    rendered = render_statements(environment, "confluent")
    assert len(statements) == len(rendered)
    for statement in rendered:
        assert has_resource(
            text,
            "confluent_flink_statement",
            {
                "statement_name": statement.name,
                "statement": statement.text,
                "properties": statement.properties,
            },
        )
        body = statements[statement_logical_id(statement)]
        waits_for = [
            f"confluent_flink_statement.{statement_logical_id(other)}"
            for other in rendered
            if other.name in statement.depends_on
        ]
        assert body.get("depends_on", []) == waits_for
        # Everything else comes from the provider block (credentials never on the resource).
        assert set(body) <= {"statement_name", "statement", "properties", "depends_on", "lifecycle"}
    insert = next(statement for statement in rendered if statement.kind == "continuous")
    assert PEPPER_TERRAFORM_REFERENCE in insert.text


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_pepper_and_flink_credentials_come_from_secrets_manager(synthesized: dict, env: str) -> None:
    from terraform.testing import has_data_source, has_provider

    environment = load_environment(env)
    text = synthesized[env]["flink"]
    document = json.loads(text)
    assert document["data"]["aws_secretsmanager_secret_version"]["pii_pepper"] == {
        "secret_id": environment.confluent.pii.pepper_secret
    }
    assert has_data_source(
        text,
        "aws_secretsmanager_secret_version",
        {"secret_id": "${data.terraform_remote_state.confluent_stack.outputs.flink_api_key_secret_arn}"},
    )
    platform = "${data.terraform_remote_state.confluent_stack.outputs."
    flink_key = "data.aws_secretsmanager_secret_version.flink_api_key.secret_string"
    assert has_provider(
        text,
        "confluent",
        {
            "organization_id": environment.confluent.organization_id,
            "environment_id": f"{platform}environment_id}}",
            "flink_compute_pool_id": f"{platform}flink_compute_pool_id}}",
            "flink_principal_id": f"{platform}flink_principal_id}}",
            "flink_rest_endpoint": f"{platform}flink_rest_endpoint}}",
            "flink_api_key": f'${{element(split(":", {flink_key}), 0)}}',
            "flink_api_secret": f'${{element(split(":", {flink_key}), 1)}}',
        },
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_tableflow_on_the_clean_topic_after_create_table(synthesized: dict, env: str) -> None:
    environment = load_environment(env)
    tableflow = environment.confluent.tableflow
    (body,) = _resources(synthesized[env]["flink"], "confluent_tableflow_topic").values()
    assert body["display_name"] == environment.confluent.topics.clean.name
    assert body["table_formats"] == ["ICEBERG"]
    assert body["retention_ms"] == str(tableflow.retention_ms)
    assert body["depends_on"] == ["confluent_flink_statement.statement_sales_order_lines_clean_table_v2"]
    if tableflow.storage == "managed":
        assert body["managed_storage"] == [{}] and "byob_aws" not in body
    else:
        assert body["byob_aws"] == [
            {
                "bucket_name": tableflow.byob.bucket,
                "provider_integration_id": tableflow.byob.provider_integration_id,
            }
        ]
        assert "managed_storage" not in body


# --- AWS stack -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_buckets_are_private_encrypted_versioned_tls_only_and_logged(synthesized: dict, env: str) -> None:
    from terraform.testing import has_resource

    environment = load_environment(env)
    text = synthesized[env]["aws"]
    document = json.loads(text)
    buckets = {
        "export_bucket": environment.aws.export.bucket,
        "access_log_bucket": f"{environment.aws.export.bucket}-access-logs",
    }
    for logical, name in buckets.items():
        assert has_resource(text, "aws_s3_bucket", {"bucket": name, "force_destroy": False})
        ref = f"${{aws_s3_bucket.{logical}.id}}"
        assert has_resource(
            text,
            "aws_s3_bucket_public_access_block",
            {
                "bucket": ref,
                "block_public_acls": True,
                "block_public_policy": True,
                "ignore_public_acls": True,
                "restrict_public_buckets": True,
            },
        )
        assert has_resource(
            text,
            "aws_s3_bucket_versioning",
            {"bucket": ref, "versioning_configuration": {"status": "Enabled"}},
        )
        policy = document["data"]["aws_iam_policy_document"][f"{logical}_policy_document"]["statement"][0]
        assert policy["effect"] == "Deny"
        assert policy["condition"] == [
            {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
        ]
    for logical in ("export_bucket",):
        assert has_resource(
            text,
            "aws_s3_bucket_server_side_encryption_configuration",
            {
                "bucket": f"${{aws_s3_bucket.{logical}.id}}",
                "rule": [
                    {
                        "apply_server_side_encryption_by_default": {
                            "sse_algorithm": "aws:kms",
                            "kms_master_key_id": "${aws_kms_key.exporter_key.arn}",
                        },
                        "bucket_key_enabled": True,
                    }
                ],
            },
        )
        assert has_resource(
            text,
            "aws_s3_bucket_logging",
            {
                "bucket": f"${{aws_s3_bucket.{logical}.id}}",
                "target_bucket": "${aws_s3_bucket.access_log_bucket.id}",
            },
        )
    rules = _resources(text, "aws_s3_bucket_lifecycle_configuration")["export_bucket_lifecycle"]["rule"]
    assert {"noncurrent_days": 90} in [
        item for rule in rules for item in rule.get("noncurrent_version_expiration", [])
    ]
    # The exporter's staging copies (exporter/publish.py) expire if a run dies before cleaning up.
    (staging,) = [rule for rule in rules if rule["id"] == "expire-abandoned-staging"]
    assert staging["filter"] == [{"prefix": f"{environment.aws.export.prefix}/_staging/"}]
    assert staging["expiration"] == [{"days": 1}]
    # The artifact bucket is the bootstrap stack's now: this stack only forgets it, destroying nothing.
    assert "artifact_bucket" not in _resources(text, "aws_s3_bucket")
    assert {entry["from"] for entry in document["removed"]} == {
        "aws_s3_bucket.artifact_bucket",
        "aws_s3_bucket_public_access_block.artifact_bucket_public_access",
        "aws_s3_bucket_ownership_controls.artifact_bucket_ownership",
        "aws_s3_bucket_versioning.artifact_bucket_versioning",
        "aws_s3_bucket_server_side_encryption_configuration.artifact_bucket_encryption",
        "aws_s3_bucket_lifecycle_configuration.artifact_bucket_lifecycle",
        "aws_s3_bucket_logging.artifact_bucket_logging",
        "aws_s3_bucket_policy.artifact_bucket_policy",
    }
    assert all(entry["lifecycle"] == {"destroy": False} for entry in document["removed"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_lambda_runs_the_manifest_artifact_with_the_contract_environment(synthesized: dict, env: str) -> None:
    from terraform.testing import has_resource

    environment = load_environment(env)
    settings = environment.exporter.lambda_
    text = synthesized[env]["aws"]
    manifest = json.loads(FIXTURE_MANIFEST.read_text(encoding="utf-8"))
    platform = "${data.terraform_remote_state.confluent_stack.outputs."
    cluster = environment.confluent.kafka_cluster
    assert has_resource(
        text,
        "aws_lambda_function",
        {
            "function_name": f"salesflow-{env}-exporter",
            "handler": "exporter.handler.handler",
            "runtime": "python3.12",
            "architectures": [settings.architecture],
            "memory_size": settings.memory_mb,
            "timeout": settings.timeout_seconds,
            "reserved_concurrent_executions": 1,
            "ephemeral_storage": {"size": settings.ephemeral_storage_mb},
            "s3_bucket": environment.aws.artifact_bucket,
            "s3_key": manifest["s3_key"],
            "source_code_hash": base64.b64encode(bytes.fromhex(manifest["sha256"])).decode(),
            "role": "${aws_iam_role.exporter_role.arn}",
        },
    )
    function = _resources(text, "aws_lambda_function")["exporter"]
    assert function["environment"]["variables"] == {
        "SALESFLOW_ENV": env,
        "CATALOG_TYPE": "rest",
        "CATALOG_URI": (
            f"https://tableflow.{cluster.region}.aws.confluent.cloud/iceberg/catalog/organizations/"
            f"{environment.confluent.organization_id}/environments/{platform}environment_id}}"
        ),
        "CATALOG_CREDENTIAL_SECRET_ID": f"{platform}exporter_catalog_secret_arn}}",
        "CATALOG_VENDED_CREDENTIALS": "true"
        if environment.confluent.tableflow.storage == "managed"
        else "false",
        "TABLE_NAMESPACE": f"{platform}kafka_cluster_id}}",
        "TABLE_NAME": environment.confluent.topics.clean.name,
        "EXPORT_BUCKET": environment.aws.export.bucket,
        "EXPORT_PREFIX": environment.aws.export.prefix,
        "SNS_TOPIC_ARN": "${aws_sns_topic.exports_topic.arn}",
        "WEEK_TIME_ZONE": environment.exporter.week_time_zone,
        "REPORTS": ",".join(environment.exporter.reports),
        "MAX_WORKERS": str(settings.max_workers),
        "SUSPECT_FRACTION": str(environment.exporter.suspect_fraction),
        "POWERTOOLS_SERVICE_NAME": "salesflow-exporter",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # The analysts' e-mail (exporter.notify: email; tests/terraform/test_analyst_delivery.py).
        "NOTIFY": "email",
        "EMAIL_FROM": environment.exporter.email.from_address,
        "EMAIL_TO": ",".join(environment.exporter.analysts),
        "EMAIL_CONFIGURATION_SET": (
            "${aws_sesv2_configuration_set.analyst_email_configuration.configuration_set_name}"
        ),
        "DOWNLOAD_BASE_URL": "https://${aws_cloudfront_distribution.downloads.domain_name}",
        "DOWNLOAD_KEY_PAIR_ID": "${aws_cloudfront_public_key.download_public_key_k1.id}",
        "DOWNLOAD_SIGNING_KEY_SECRET_ID": "${aws_secretsmanager_secret.download_signing_key_k1_secret.arn}",
        "DOWNLOAD_LINK_DAYS": "7",
    }
    assert has_resource(
        text,
        "aws_cloudwatch_log_group",
        {"name": f"/aws/lambda/salesflow-{env}-exporter", "retention_in_days": settings.log_retention_days},
    )
    assert has_resource(
        text,
        "aws_lambda_function_event_invoke_config",
        {"destination_config": {"on_failure": {"destination": "${aws_sqs_queue.exporter_failures.arn}"}}},
    )


def _statements(document: dict, name: str) -> dict[str, dict[str, Any]]:
    return {
        statement["sid"]: statement
        for statement in document["data"]["aws_iam_policy_document"][name]["statement"]
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_exporter_role_has_exactly_the_listed_permissions(synthesized: dict, env: str) -> None:
    environment = load_environment(env)
    region = environment.aws.region
    document = json.loads(synthesized[env]["aws"])
    platform = "${data.terraform_remote_state.confluent_stack.outputs."
    granted = {
        sid: (tuple(statement["actions"]), tuple(statement["resources"]))
        for sid, statement in _statements(document, "exporter_permissions").items()
    }
    expected = {
        "ReadCatalogCredential": (
            ("secretsmanager:GetSecretValue",),
            (f"{platform}exporter_catalog_secret_arn}}",),
        ),
        "DecryptCatalogCredential": (("kms:Decrypt",), (f"{platform}secrets_kms_key_arn}}",)),
        "PutGetAndDeleteExports": (
            ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"),
            (f"${{aws_s3_bucket.export_bucket.arn}}/{environment.aws.export.prefix}/*",),
        ),
        "PublishExportNotice": (("sns:Publish",), ("${aws_sns_topic.exports_topic.arn}",)),
        "EncryptExportsAndNotices": (
            ("kms:GenerateDataKey", "kms:Decrypt"),
            ("${aws_kms_key.exporter_key.arn}",),
        ),
        "WriteOwnLogs": (
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            ("${aws_cloudwatch_log_group.exporter_logs.arn}:*",),
        ),
        "SendFailedRunsToQueue": (("sqs:SendMessage",), ("${aws_sqs_queue.exporter_failures.arn}",)),
        # exporter.notify: email (dev and prod): send through SES, read and decrypt the signing key.
        "SendAnalystEmail": (
            ("ses:SendRawEmail",),
            (
                "${aws_sesv2_email_identity.analyst_email_identity.arn}",
                "${aws_sesv2_configuration_set.analyst_email_configuration.arn}",
            ),
        ),
        "ReadDownloadSigningKey": (
            ("secretsmanager:GetSecretValue",),
            ("${aws_secretsmanager_secret.download_signing_key_k1_secret.arn}",),
        ),
        "DecryptDownloadSigningKey": (("kms:Decrypt",), ("${aws_kms_key.exporter_key.arn}",)),
    }
    byob = environment.confluent.tableflow.byob
    if byob is not None:
        expected["ReadTableflowBucket"] = (
            ("s3:GetObject", "s3:ListBucket"),
            (f"arn:aws:s3:::{byob.bucket}", f"arn:aws:s3:::{byob.bucket}/*"),
        )
    assert granted == expected
    statements = _statements(document, "exporter_permissions")
    assert statements["EncryptExportsAndNotices"]["condition"][0]["values"] == [
        f"s3.{region}.amazonaws.com",
        f"sns.{region}.amazonaws.com",
    ]
    for sid in ("DecryptCatalogCredential", "DecryptDownloadSigningKey"):
        assert statements[sid]["condition"][0]["values"] == [f"secretsmanager.{region}.amazonaws.com"]
    assert all(
        statement["effect"] == "Allow" and "*" not in statement["resources"]
        for statement in statements.values()
    )
    (role_policy,) = [
        body
        for body in document["resource"]["aws_iam_role_policy"].values()
        if body["role"] == "${aws_iam_role.exporter_role.id}"
    ]
    assert role_policy["policy"] == "${data.aws_iam_policy_document.exporter_permissions.json}"
    # No managed policy attachments widen the role.
    assert "aws_iam_role_policy_attachment" not in document["resource"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_weekly_schedule(synthesized: dict, env: str) -> None:
    from terraform.testing import has_resource

    schedule = load_environment(env).exporter.schedule
    text = synthesized[env]["aws"]
    assert has_resource(
        text,
        "aws_scheduler_schedule",
        {
            "schedule_expression": f"cron({schedule.cron})",
            "schedule_expression_timezone": schedule.time_zone,
            "flexible_time_window": {"mode": "OFF"},
            "target": {
                "arn": "${aws_lambda_function.exporter.arn}",
                "input": '{"scheduled_time": "<aws.scheduler.scheduled-time>"}',
                "dead_letter_config": {"arn": "${aws_sqs_queue.schedule_dead_letters.arn}"},
                "retry_policy": {"maximum_retry_attempts": 20, "maximum_event_age_in_seconds": 43200},
            },
        },
    )
    document = json.loads(text)
    granted = {
        sid: (statement["actions"], statement["resources"])
        for sid, statement in _statements(document, "scheduler_permissions").items()
    }
    assert granted == {
        "InvokeExporter": (["lambda:InvokeFunction"], ["${aws_lambda_function.exporter.arn}"]),
        "DeadLetterUndeliverableRuns": (["sqs:SendMessage"], ["${aws_sqs_queue.schedule_dead_letters.arn}"]),
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_notifications_and_alarms(synthesized: dict, env: str) -> None:
    from terraform.testing import has_resource

    environment = load_environment(env)
    text = synthesized[env]["aws"]
    for topic in ("exports", "alarms"):
        assert has_resource(
            text,
            "aws_sns_topic",
            {"name": f"salesflow-{env}-{topic}", "kms_master_key_id": "${aws_kms_key.exporter_key.arn}"},
        )
    # The analysts get the SES e-mail (notify: email): nobody is subscribed to the exports topic.
    assert environment.exporter.notify == "email"
    subscriptions = _resources(text, "aws_sns_topic_subscription").values()
    assert not [item for item in subscriptions if item["topic_arn"] == "${aws_sns_topic.exports_topic.arn}"]
    for address in environment.exporter.alarm_emails:
        assert has_resource(
            text,
            "aws_sns_topic_subscription",
            {"topic_arn": "${aws_sns_topic.alarms_topic.arn}", "protocol": "email", "endpoint": address},
        )
    alarms = _resources(text, "aws_cloudwatch_metric_alarm")
    # The exporter's; the monitor's and the suspect week's: tests/terraform/test_monitor_stack.py.
    assert {
        "exporter_errors",
        "exporter_failures_depth",
        "schedule_dead_letters_depth",
        "no_export_this_week",
    } <= set(alarms)
    assert all(alarm["alarm_actions"] == ["${aws_sns_topic.alarms_topic.arn}"] for alarm in alarms.values())
    assert alarms["exporter_errors"]["metric_name"] == "Errors"
    for name, queue in (
        ("exporter_failures_depth", "exporter_failures"),
        ("schedule_dead_letters_depth", "schedule_dead_letters"),
    ):
        assert alarms[name]["dimensions"] == {"QueueName": f"${{aws_sqs_queue.{queue}.name}}"}
        assert alarms[name]["metric_name"] == "ApproximateNumberOfMessagesVisible"
    weekly = alarms["no_export_this_week"]
    # 7 daily periods (the longest window CloudWatch evaluates) without a successful run; silence breaches.
    assert (weekly["evaluation_periods"], weekly["datapoints_to_alarm"], weekly["treat_missing_data"]) == (
        7,
        7,
        "breaching",
    )
    assert weekly["comparison_operator"] == "LessThanThreshold" and weekly["threshold"] == 1
    expression = next(query for query in weekly["metric_query"] if "expression" in query)
    assert expression["expression"] == "FILL(runs, 0) - FILL(failures, 0)"
    assert {query["metric"]["period"] for query in weekly["metric_query"] if "metric" in query} == {86400}
