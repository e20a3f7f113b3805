"""IAM policy statements as data: one statement builder, service principals and conditions."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)

Statement = DataAwsIamPolicyDocumentStatement


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    effect: str = "Allow",
    principals: Sequence[DataAwsIamPolicyDocumentStatementPrincipals] | None = None,
    conditions: Sequence[DataAwsIamPolicyDocumentStatementCondition] | None = None,
) -> Statement:
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect=effect,
        actions=list(actions),
        resources=list(resources) or None,
        principals=list(principals) if principals else None,
        condition=list(conditions) if conditions else None,
    )


def service(name: str) -> DataAwsIamPolicyDocumentStatementPrincipals:
    return DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[name])


def anyone() -> DataAwsIamPolicyDocumentStatementPrincipals:
    return DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])


def federated(provider_arn: str) -> DataAwsIamPolicyDocumentStatementPrincipals:
    """An OIDC identity provider as principal (``sts:AssumeRoleWithWebIdentity``)."""
    return DataAwsIamPolicyDocumentStatementPrincipals(type="Federated", identifiers=[provider_arn])


def roles(*arns: str) -> DataAwsIamPolicyDocumentStatementPrincipals:
    return DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=list(arns))


def condition(test: str, variable: str, *values: str) -> DataAwsIamPolicyDocumentStatementCondition:
    return DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))


def read_secret(what: str, secret_arn: str, kms_key_arn: str, region: str) -> list[Statement]:
    """``Read<what>`` (GetSecretValue on one secret) and ``Decrypt<what>`` (its key, only through Secrets
    Manager)."""
    return [
        statement(f"Read{what}", ["secretsmanager:GetSecretValue"], [secret_arn]),
        statement(
            f"Decrypt{what}",
            ["kms:Decrypt"],
            [kms_key_arn],
            conditions=[
                condition("StringEquals", "kms:ViaService", f"secretsmanager.{region}.amazonaws.com")
            ],
        ),
    ]
