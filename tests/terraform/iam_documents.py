"""The synthesized IAM documents as real IAM JSON, for checks and for the policy linter.

A stack holds its policies as ``data.aws_iam_policy_document`` blocks (and KMS key policies as JSON
strings). Terraform renders them at plan time; here each block becomes the IAM JSON Terraform would
render, with every reference resolved to an ARN of the right service and name (account 111122223333).
A reference this module does not know fails loudly, so a new kind of reference cannot slip past.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ACCOUNT = "111122223333"
REGION = "eu-central-1"
REFERENCE = re.compile(r"\$\{([^}]*)\}")

# Terraform type -> how its ``arn`` looks, given the resource's name attribute.
ARN_OF = {
    "aws_kms_key": lambda name: f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0000-{name}",
    "aws_s3_bucket": lambda name: f"arn:aws:s3:::{name}",
    "aws_iam_role": lambda name: f"arn:aws:iam::{ACCOUNT}:role/{name}",
    "aws_iam_policy": lambda name: f"arn:aws:iam::{ACCOUNT}:policy/{name}",
    "aws_iam_openid_connect_provider": lambda _: (
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    ),
    "aws_sns_topic": lambda name: f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
    "aws_sqs_queue": lambda name: f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
    "aws_lambda_function": lambda name: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
    "aws_cloudwatch_log_group": lambda name: f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}",
    "aws_secretsmanager_secret": lambda name: (
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf"
    ),
    # Key policies name the downloads distribution (AWS:SourceArn); distributions are global.
    "aws_cloudfront_distribution": lambda name: f"arn:aws:cloudfront::{ACCOUNT}:distribution/{name}",
    "aws_sesv2_email_identity": lambda name: f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{name}",
    "aws_sesv2_configuration_set": lambda name: f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/{name}",
}
NAME_ATTRIBUTE = {
    "aws_s3_bucket": "bucket",
    "aws_lambda_function": "function_name",
    "aws_kms_key": None,
    "aws_sesv2_email_identity": "email_identity",
    "aws_sesv2_configuration_set": "configuration_set_name",
}
# Outputs of the Confluent stack that policies refer to, by environment.
REMOTE_OUTPUTS = {
    "exporter_catalog_secret_arn": lambda env: ARN_OF["aws_secretsmanager_secret"](
        f"salesflow/{env}/confluent/exporter-tableflow-api-key"
    ),
    "monitor_secret_arn": lambda env: ARN_OF["aws_secretsmanager_secret"](
        f"salesflow/{env}/confluent/monitor-api-keys"
    ),
    "secrets_kms_key_arn": lambda _: ARN_OF["aws_kms_key"]("secrets_key"),
}


@dataclass(frozen=True)
class PolicyDocument:
    stack: str
    name: str  # data source name, or "<key>.policy" for a KMS key policy
    document: dict[str, Any]

    @property
    def statements(self) -> list[dict[str, Any]]:
        return self.document["Statement"]

    def text(self) -> str:
        return json.dumps(self.document, indent=2, sort_keys=True)


def _resolve(expression: str, stack: dict[str, Any]) -> str:
    parts = expression.split(".")
    if parts[:2] == ["data", "aws_caller_identity"]:
        return ACCOUNT
    if parts[:3] == ["data", "terraform_remote_state", "confluent_stack"] and parts[-1] in REMOTE_OUTPUTS:
        environment = stack["terraform"]["backend"]["s3"]["key"].split("/")[-2]
        return REMOTE_OUTPUTS[parts[-1]](environment)
    kind, name, attribute = (
        (parts[1], parts[2], parts[3]) if parts[0] == "data" else (parts[0], parts[1], parts[2])
    )
    if kind in ARN_OF and attribute == "arn":
        body = stack.get("resource", {}).get(kind, {}).get(name) or {}
        named = body.get(NAME_ATTRIBUTE.get(kind, "name") or "", name) if isinstance(body, dict) else name
        return ARN_OF[kind](named if isinstance(named, str) and "${" not in named else name)
    raise AssertionError(f"iam_documents.py cannot resolve ${{{expression}}}: add its kind to ARN_OF")


def resolve(value: Any, stack: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return REFERENCE.sub(lambda match: _resolve(match.group(1), stack), value)
    if isinstance(value, list):
        return [resolve(item, stack) for item in value]
    return value


def _one_or_many(values: list[Any]) -> Any:
    """aws_iam_policy_document renders a one-item list as a plain string."""
    return values[0] if len(values) == 1 else values


def _statement(block: dict[str, Any], stack: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": block.get("effect", "Allow")}
    if block.get("sid"):
        out["Sid"] = block["sid"]
    for key, name in (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource")):
        if block.get(key):
            out[name] = _one_or_many(resolve(list(block[key]), stack))
    for principal in block.get("principals") or []:
        identifiers = resolve(list(principal["identifiers"]), stack)
        if principal["type"] == "*":
            out["Principal"] = "*"
        else:
            out.setdefault("Principal", {})[principal["type"]] = _one_or_many(identifiers)
    for item in block.get("condition") or []:
        tests = out.setdefault("Condition", {}).setdefault(item["test"], {})
        tests[item["variable"]] = _one_or_many(resolve(list(item["values"]), stack))
    return out


def documents(stacks: dict[str, dict[str, Any]]) -> Iterator[PolicyDocument]:
    """Every policy document of every stack: ``aws_iam_policy_document`` blocks and KMS key policies."""
    for stack_name, stack in sorted(stacks.items()):
        for name, body in sorted(stack.get("data", {}).get("aws_iam_policy_document", {}).items()):
            statements = [_statement(block, stack) for block in body["statement"]]
            yield PolicyDocument(stack_name, name, {"Version": "2012-10-17", "Statement": statements})
        for name, body in sorted(stack.get("resource", {}).get("aws_kms_key", {}).items()):
            yield PolicyDocument(stack_name, f"{name}.policy", json.loads(resolve(body["policy"], stack)))


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement.get("Action", [])
    return [value] if isinstance(value, str) else value


def resources(statement: dict[str, Any]) -> list[str]:
    value = statement.get("Resource", [])
    return [value] if isinstance(value, str) else value
