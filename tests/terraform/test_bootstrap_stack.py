"""``<env>-bootstrap``: what it declares, what it never holds, and how it adopts what already exists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from infra_support import Synthesis

from salesflow.config import Environment, load_environment

pytestmark = pytest.mark.slow

ENVIRONMENTS = ["dev", "prod"]
BUCKET_PARTS = {
    "aws_s3_bucket": "",
    "aws_s3_bucket_public_access_block": "_public_access",
    "aws_s3_bucket_ownership_controls": "_ownership",
    "aws_s3_bucket_versioning": "_versioning",
    "aws_s3_bucket_server_side_encryption_configuration": "_encryption",
    "aws_s3_bucket_lifecycle_configuration": "_lifecycle",
    "aws_s3_bucket_logging": "_logging",
    "aws_s3_bucket_policy": "_policy",
}


def _resources(document: dict[str, Any], kind: str) -> dict[str, Any]:
    return document["resource"].get(kind, {})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_state_and_artifact_buckets_are_private_versioned_encrypted_tls_only_and_kept(
    synthesis: Synthesis, env: str
) -> None:
    environment = load_environment(env)
    document = synthesis.stack(f"{env}-bootstrap")
    buckets = _resources(document, "aws_s3_bucket")
    assert {name: body["bucket"] for name, body in buckets.items()} == {
        "state_bucket": environment.aws.state_backend.bucket,
        "artifact_bucket": environment.aws.artifact_bucket,
        "bootstrap_access_logs": f"{environment.aws.state_backend.bucket}-access-logs",
    }
    for name in buckets:
        assert _resources(document, "aws_s3_bucket_public_access_block")[f"{name}_public_access"][
            "restrict_public_buckets"
        ]
        versioning = _resources(document, "aws_s3_bucket_versioning")[f"{name}_versioning"]
        assert versioning["versioning_configuration"] == {"status": "Enabled"}
        (deny_http, *_) = document["data"]["aws_iam_policy_document"][f"{name}_policy_document"]["statement"]
        assert (
            deny_http["effect"] == "Deny" and deny_http["condition"][0]["variable"] == "aws:SecureTransport"
        )
    assert buckets["state_bucket"]["lifecycle"] == {"prevent_destroy": True}
    assert buckets["artifact_bucket"]["lifecycle"] == {"prevent_destroy": True}
    rules = _resources(document, "aws_s3_bucket_lifecycle_configuration")["state_bucket_lifecycle"]["rule"]
    assert {"noncurrent_days": 90} in [
        r for rule in rules for r in rule.get("noncurrent_version_expiration", [])
    ]
    encryption = _resources(document, "aws_s3_bucket_server_side_encryption_configuration")
    artifact_sse = encryption["artifact_bucket_encryption"]["rule"][0][
        "apply_server_side_encryption_by_default"
    ]
    assert artifact_sse == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": "${aws_kms_key.bootstrap_key.arn}",
    }
    # The S3 backend's encrypt = true writes SSE-S3 objects: the bucket's default matches it.
    state_sse = encryption["state_bucket_encryption"]["rule"][0]["apply_server_side_encryption_by_default"]
    assert state_sse == {"sse_algorithm": "AES256"}
    logging = _resources(document, "aws_s3_bucket_logging")
    assert {name: body["target_bucket"] for name, body in logging.items()} == {
        "state_bucket_logging": "${aws_s3_bucket.bootstrap_access_logs.id}",
        "artifact_bucket_logging": "${aws_s3_bucket.bootstrap_access_logs.id}",
    }
    # No adoption in the example environments: nothing is imported.
    assert "import" not in document


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_pepper_is_generated_by_aws_and_written_only_write_once(synthesis: Synthesis, env: str) -> None:
    environment = load_environment(env)
    document = synthesis.stack(f"{env}-bootstrap")
    assert document["ephemeral"] == {
        "aws_secretsmanager_random_password": {
            "pii_pepper_value": {"password_length": 64, "exclude_punctuation": True}
        }
    }
    secret = _resources(document, "aws_secretsmanager_secret")["pii_pepper"]
    assert secret["name"] == environment.confluent.pii.pepper_secret
    assert secret["kms_key_id"] == "${aws_kms_key.bootstrap_key.arn}"
    version = {
        key: value
        for key, value in _resources(document, "aws_secretsmanager_secret_version")[
            "pii_pepper_value"
        ].items()
        if key != "//"
    }
    # Write-only: Terraform keeps neither the ephemeral value nor secret_string_wo in plan or state.
    assert version == {
        "secret_id": "${aws_secretsmanager_secret.pii_pepper.id}",
        "secret_string_wo": (
            "${ephemeral.aws_secretsmanager_random_password.pii_pepper_value.random_password}"
        ),
        "secret_string_wo_version": 1,
    }
    assert document["terraform"]["required_version"] == ">= 1.11"
    assert not [name for name in document.get("output", {}) if "pepper" in name and "arn" not in name]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_confluent_environment_and_terraform_service_accounts(synthesis: Synthesis, env: str) -> None:
    environment = load_environment(env)
    document = synthesis.stack(f"{env}-bootstrap")
    (created,) = _resources(document, "confluent_environment").values()
    assert created["display_name"] == environment.confluent.environment.display_name
    assert created["lifecycle"] == {"prevent_destroy": True}
    accounts = {body["display_name"] for body in _resources(document, "confluent_service_account").values()}
    assert accounts == {f"salesflow-{env}-terraform", f"salesflow-{env}-terraform-plan"}
    bindings = {
        (body["principal"].split(".")[1], body["role_name"], body["crn_pattern"])
        for body in _resources(document, "confluent_role_binding").values()
    }
    environment_crn = "${confluent_environment.environment.resource_name}"
    assert bindings == {
        ("terraform_account", "EnvironmentAdmin", environment_crn),
        ("terraform_account", "AccountAdmin", "${data.confluent_organization.organization.resource_name}"),
        ("terraform_plan_account", "EnvironmentOperator", environment_crn),
    }
    keys = _resources(document, "confluent_api_key")
    # Cloud API keys: no managed_resource; each waits for its account's role bindings.
    assert all("managed_resource" not in key for key in keys.values())
    assert (
        keys["terraform_cloud_key"]["owner"][0]["id"] == "${confluent_service_account.terraform_account.id}"
    )
    secrets = {body["name"] for body in _resources(document, "aws_secretsmanager_secret").values()}
    assert {f"salesflow/{env}/bootstrap/confluent-deploy-cloud-api-key"} <= secrets
    # The administrator's key is the provider's, from the shell: nothing in the JSON.
    assert document["provider"]["confluent"] == [{}]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_github_environments_variables_and_secrets(synthesis: Synthesis, env: str) -> None:
    environment = load_environment(env)
    document = synthesis.stack(f"{env}-bootstrap")
    assert document["provider"]["github"] == [{"owner": "example-org"}]
    environments = _resources(document, "github_repository_environment")
    assert {body["environment"] for body in environments.values()} == {f"{env}-plan", env}
    deploy = environments["github_deploy_environment"]
    assert deploy["deployment_branch_policy"] == {"custom_branch_policies": True, "protected_branches": False}
    (branch,) = _resources(document, "github_repository_environment_deployment_policy").values()
    assert branch["branch_pattern"] == "main"
    reviewers = environment.bootstrap.reviewers
    if reviewers.users or reviewers.teams:
        assert deploy["prevent_self_review"] is True
        assert len(deploy["reviewers"][0]["users"]) == len(reviewers.users)
        assert {body["username"] for body in document["data"]["github_user"].values()} == set(reviewers.users)
        assert {body["slug"] for body in document["data"]["github_team"].values()} == set(reviewers.teams)
    else:
        assert "reviewers" not in deploy
    variables: dict[str, dict[str, str]] = {}
    for body in _resources(document, "github_actions_environment_variable").values():
        where = body["environment"].split(".")[1]
        variables.setdefault(where, {})[body["variable_name"]] = body["value"]
    assert variables["github_plan_environment"] == {
        "AWS_ROLE_ARN": "${aws_iam_role.plan_role.arn}",
        "AWS_REGION": environment.aws.region,
    }
    assert variables["github_deploy_environment"] == {
        "AWS_ROLE_ARN": "${aws_iam_role.deploy_role.arn}",
        "AWS_BACKFILL_ROLE_ARN": "${aws_iam_role.backfill_role.arn}",
        "AWS_SMOKE_ROLE_ARN": "${aws_iam_role.smoke_role.arn}",
        "EXPORTER_FUNCTION_NAME": f"salesflow-{env}-exporter",
        "AWS_REGION": environment.aws.region,
    }
    secrets = {
        (body["environment"].split(".")[1], body["secret_name"]): body["plaintext_value"]
        for body in _resources(document, "github_actions_environment_secret").values()
    }
    assert secrets == {
        (
            "github_plan_environment",
            "CONFLUENT_CLOUD_API_KEY",
        ): "${confluent_api_key.terraform_plan_cloud_key.id}",
        ("github_plan_environment", "CONFLUENT_CLOUD_API_SECRET"): (
            "${confluent_api_key.terraform_plan_cloud_key.secret}"
        ),
        (
            "github_deploy_environment",
            "CONFLUENT_CLOUD_API_KEY",
        ): "${confluent_api_key.terraform_cloud_key.id}",
        (
            "github_deploy_environment",
            "CONFLUENT_CLOUD_API_SECRET",
        ): "${confluent_api_key.terraform_cloud_key.secret}",
    }


def _adopting(environment: Environment) -> Environment:
    data = environment.model_dump(by_alias=True)
    data["confluent"]["environment"]["id"] = "env-abc123"
    data["bootstrap"] |= {
        "manage_github": False,
        "oidc_provider": "existing",
        "adopt": {
            "state_bucket": True,
            "artifact_bucket": True,
            "pepper_secret_arn": (
                "arn:aws:secretsmanager:eu-central-1:111122223333:secret:salesflow/dev/pii-pepper-AbCdEf"
            ),
        },
    }
    return Environment.model_validate(data)


def test_an_existing_environment_is_adopted_with_import_blocks_and_keeps_its_pepper(
    synth_environment: None,
) -> None:
    from terraform.testing import synth_bootstrap

    environment = _adopting(load_environment("dev"))
    document = synth_bootstrap(environment)
    imports = {(entry["to"], entry["id"]) for entry in document["import"]}
    for bucket, name in (
        ("state_bucket", "salesflow-tfstate-dev"),
        ("artifact_bucket", "salesflow-artifacts-dev"),
    ):
        for kind, suffix in BUCKET_PARTS.items():
            assert (f"{kind}.{bucket}{suffix}", name) in imports
    assert (
        "aws_secretsmanager_secret.pii_pepper",
        environment.bootstrap.adopt.pepper_secret_arn,
    ) in imports
    assert len(imports) == 2 * len(BUCKET_PARTS) + 1
    # An adopted pepper keeps its value: no version, no generated password.
    assert "pii_pepper_value" not in document["resource"].get("aws_secretsmanager_secret_version", {})
    assert "ephemeral" not in document
    # The environment and the account's OIDC provider are read, never managed; GitHub is left alone.
    assert document["data"]["confluent_environment"]["environment"]["id"] == "env-abc123"
    assert "confluent_environment" not in document["resource"]
    assert "github_oidc" in document["data"]["aws_iam_openid_connect_provider"]
    assert "aws_iam_openid_connect_provider" not in document["resource"]
    assert not [kind for kind in document["resource"] if kind.startswith("github_")]
    assert "github" not in document["provider"]
    assert json.dumps(document).count("${data.aws_iam_openid_connect_provider.github_oidc.arn}") == 4
