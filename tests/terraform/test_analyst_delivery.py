"""The analysts' delivery in the AWS stack: CloudFront with origin access control and signed URLs only,
signing keys made by Terraform (private half in Secrets Manager, never in the JSON), the SES sender with
DKIM and bounces to on-call, and the switch back to the SNS text per environment."""

from __future__ import annotations

import json
from typing import Any

import pytest

from salesflow.config import Downloads, load_environment

pytestmark = pytest.mark.slow

ENVIRONMENTS = ["dev", "prod"]


@pytest.fixture(scope="module")
def aws_documents(environment_stacks: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from terraform.testing import synth_stack

    return {name: json.loads(synth_stack(entry.aws)) for name, entry in environment_stacks.items()}


def _aws_stack_for(environment) -> dict[str, Any]:
    """The AWS stack of a variant of an environment file (built in a throw-away app)."""
    from terraform.artifact import load_exporter_artifact, load_monitor_artifact
    from terraform.stacks.aws_stack import AwsStack
    from terraform.testing import new_app, synth_stack

    stack = AwsStack(
        new_app(),
        environment,
        load_exporter_artifact(environment.exporter.lambda_.architecture),
        load_monitor_artifact(environment.monitor.lambda_.architecture),
    )
    return json.loads(synth_stack(stack))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cloudfront_serves_published_weeks_to_signed_urls_only(aws_documents, env) -> None:
    environment = load_environment(env)
    document = aws_documents[env]
    resources = document["resource"]
    (distribution,) = resources["aws_cloudfront_distribution"].values()
    (origin,) = distribution["origin"]
    assert origin["domain_name"] == "${aws_s3_bucket.export_bucket.bucket_regional_domain_name}"
    assert (
        origin["origin_access_control_id"]
        == "${aws_cloudfront_origin_access_control.downloads_origin_access.id}"
    )
    assert origin["origin_path"] == f"/{environment.aws.export.prefix}"
    behaviour = distribution["default_cache_behavior"]
    assert behaviour["viewer_protocol_policy"] == "https-only"
    assert behaviour["allowed_methods"] == ["GET", "HEAD"]
    assert behaviour["trusted_key_groups"] == ["${aws_cloudfront_key_group.downloads_key_group.id}"]
    assert behaviour["cache_policy_id"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    headers = resources["aws_cloudfront_response_headers_policy"]["downloads_headers"]
    assert headers["custom_headers_config"]["items"] == [
        {"header": "Cache-Control", "value": "private, no-store", "override": True}
    ]
    assert (
        distribution["logging_config"]["bucket"] == "${aws_s3_bucket.download_log_bucket.bucket_domain_name}"
    )
    access = resources["aws_cloudfront_origin_access_control"]["downloads_origin_access"]
    assert (access["signing_behavior"], access["signing_protocol"]) == ("always", "sigv4")
    policy = {
        statement["sid"]: statement
        for statement in document["data"]["aws_iam_policy_document"]["export_bucket_policy_document"][
            "statement"
        ]
    }
    reader = policy["CloudFrontReadsPublishedWeeks"]
    assert reader["actions"] == ["s3:GetObject"]
    assert reader["resources"] == [
        f"${{aws_s3_bucket.export_bucket.arn}}/{environment.aws.export.prefix}/iso_week=*"
    ]
    assert reader["principals"] == [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}]
    assert reader["condition"] == [
        {
            "test": "StringEquals",
            "variable": "AWS:SourceArn",
            "values": ["${aws_cloudfront_distribution.downloads.arn}"],
        }
    ]
    key_policy = json.loads(resources["aws_kms_key"]["exporter_key"]["policy"])
    statements = {statement["Sid"]: statement for statement in key_policy["Statement"]}
    assert statements["CloudFrontDecryptsDownloads"]["Action"] == "kms:Decrypt"
    assert statements["CloudFrontDecryptsDownloads"]["Condition"] == {
        "StringEquals": {"AWS:SourceArn": "${aws_cloudfront_distribution.downloads.arn}"}
    }
    assert document["output"]["download_base_url"]["value"] == (
        "https://${aws_cloudfront_distribution.downloads.domain_name}"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_signing_keys_are_made_by_terraform_and_never_synthesized(aws_documents, env) -> None:
    document = aws_documents[env]
    resources = document["resource"]
    assert resources["tls_private_key"] == {"download_signing_key_k1": {"algorithm": "RSA", "rsa_bits": 2048}}
    assert document["terraform"]["required_providers"]["tls"]["source"] == "hashicorp/tls"
    secret = resources["aws_secretsmanager_secret"]["download_signing_key_k1_secret"]
    assert secret["name"] == f"salesflow/{env}/exporter/download-signing-key-k1"
    assert secret["kms_key_id"] == "${aws_kms_key.exporter_key.arn}"
    assert resources["aws_secretsmanager_secret_version"]["download_signing_key_k1_value"][
        "secret_string"
    ] == ("${tls_private_key.download_signing_key_k1.private_key_pem}")
    assert resources["aws_cloudfront_public_key"]["download_public_key_k1"]["encoded_key"] == (
        "${tls_private_key.download_signing_key_k1.public_key_pem}"
    )
    assert resources["aws_cloudfront_key_group"]["downloads_key_group"]["items"] == [
        "${aws_cloudfront_public_key.download_public_key_k1.id}"
    ]
    assert "PRIVATE KEY" not in json.dumps(document) and "PUBLIC KEY" not in json.dumps(document)


def test_rotation_two_keys_in_the_group_the_exporter_signs_with_the_active_one() -> None:
    environment = load_environment("prod")
    rotating = environment.model_copy(
        update={
            "exporter": environment.exporter.model_copy(
                update={"downloads": Downloads(signing_keys=["k1", "k2"], active_key="k2", link_days=14)}
            )
        }
    )
    document = _aws_stack_for(rotating)
    resources = document["resource"]
    assert set(resources["tls_private_key"]) == {"download_signing_key_k1", "download_signing_key_k2"}
    assert resources["aws_cloudfront_key_group"]["downloads_key_group"]["items"] == [
        "${aws_cloudfront_public_key.download_public_key_k1.id}",
        "${aws_cloudfront_public_key.download_public_key_k2.id}",
    ]
    variables = resources["aws_lambda_function"]["exporter"]["environment"]["variables"]
    assert variables["DOWNLOAD_KEY_PAIR_ID"] == "${aws_cloudfront_public_key.download_public_key_k2.id}"
    assert variables["DOWNLOAD_SIGNING_KEY_SECRET_ID"] == (
        "${aws_secretsmanager_secret.download_signing_key_k2_secret.arn}"
    )
    assert variables["DOWNLOAD_LINK_DAYS"] == "14"
    permissions = {
        statement["sid"]: statement["resources"]
        for statement in document["data"]["aws_iam_policy_document"]["exporter_permissions"]["statement"]
    }
    assert permissions["ReadDownloadSigningKey"] == [
        "${aws_secretsmanager_secret.download_signing_key_k2_secret.arn}"
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_ses_sender_with_dkim_and_bounces_to_on_call(aws_documents, env) -> None:
    environment = load_environment(env)
    document = aws_documents[env]
    resources = document["resource"]
    identity = resources["aws_sesv2_email_identity"]["analyst_email_identity"]
    assert identity["email_identity"] == environment.exporter.email.sender_domain
    assert identity["dkim_signing_attributes"] == {"next_signing_key_length": "RSA_2048_BIT"}
    configuration = resources["aws_sesv2_configuration_set"]["analyst_email_configuration"]
    assert configuration["configuration_set_name"] == f"salesflow-{env}-analyst-email"
    assert identity["configuration_set_name"] == (
        "${aws_sesv2_configuration_set.analyst_email_configuration.configuration_set_name}"
    )
    assert configuration["delivery_options"] == {"tls_policy": "REQUIRE"}
    assert configuration["suppression_options"] == {"suppressed_reasons": ["BOUNCE", "COMPLAINT"]}
    feedback = resources["aws_sesv2_configuration_set_event_destination"]["analyst_email_feedback"]
    destination = feedback["event_destination"]
    assert destination["sns_destination"] == {"topic_arn": "${aws_sns_topic.alarms_topic.arn}"}
    assert {"BOUNCE", "COMPLAINT"} <= set(destination["matching_event_types"]) and destination["enabled"]
    key_policy = json.loads(resources["aws_kms_key"]["exporter_key"]["policy"])
    (ses,) = [
        statement
        for statement in key_policy["Statement"]
        if statement["Principal"] == {"Service": "ses.amazonaws.com"}
    ]
    assert ses["Condition"]["ArnLike"] == {
        "aws:SourceArn": "${aws_sesv2_configuration_set.analyst_email_configuration.arn}"
    }
    assert "dkim_signing_attributes[0].tokens" in document["output"]["email_dkim_tokens"]["value"]


def test_notify_sns_switches_back_to_the_text_message() -> None:
    environment = load_environment("dev")
    texting = environment.model_copy(
        update={
            "exporter": environment.exporter.model_copy(
                update={"notify": "sns", "email": None, "downloads": None}
            )
        }
    )
    document = _aws_stack_for(texting)
    resources = document["resource"]
    assert not {"aws_cloudfront_distribution", "aws_sesv2_email_identity", "tls_private_key"} & set(resources)
    variables = resources["aws_lambda_function"]["exporter"]["environment"]["variables"]
    assert variables["NOTIFY"] == "sns" and not any(
        name.startswith(("EMAIL_", "DOWNLOAD_")) for name in variables
    )
    sids = {
        statement["sid"]
        for statement in document["data"]["aws_iam_policy_document"]["exporter_permissions"]["statement"]
    }
    assert not {"SendAnalystEmail", "ReadDownloadSigningKey", "DecryptDownloadSigningKey"} & sids
    subscribers = [
        item["endpoint"]
        for item in resources["aws_sns_topic_subscription"].values()
        if item["topic_arn"] == "${aws_sns_topic.exports_topic.arn}"
    ]
    assert subscribers == environment.exporter.analysts
