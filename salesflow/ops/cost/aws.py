"""AWS charges: Lambda functions, S3 buckets, Secrets Manager secrets, KMS keys, CloudWatch alarms and logs.

Every Lambda in the stacks is assumed to run ``usage.exports_per_month`` times for ``usage.export_seconds``
(capped by its timeout), and every log group to take ``usage.log_mb_per_export`` per run. Free tiers are not
applied: they belong to the account, not to one environment.
"""

from __future__ import annotations

from decimal import Decimal

from salesflow.ops.cost.component import Component, Context
from salesflow.ops.cost.volumes import MB_PER_GB

# Buckets whose contents the usage model knows, by the logical id the stacks give them.
_BUCKET_SIZES = {
    "export_bucket": lambda context: context.volumes.export_gb_stored,
    "artifact_bucket": lambda context: context.volumes.usage.artifact_bucket_gb,
    "access_log_bucket": lambda context: context.volumes.usage.access_log_bucket_gb,
}


def aws_components(context: Context) -> list[Component]:
    region = context.inventory.aws_region()
    return [
        *_lambdas(context, region),
        *_buckets(context, region),
        *_secrets(context, region),
        *_keys(context, region),
        *_alarms(context, region),
        *_logs(context, region),
    ]


def _lambdas(context: Context, region: str) -> list[Component]:
    usage = context.volumes.usage
    components = []
    for block in context.inventory.of("aws_lambda_function"):
        context.handled.add(block.address)
        body = block.body
        name = body.get("function_name") or block.name
        architecture = (body.get("architectures") or ["x86_64"])[0]
        seconds = min(usage.export_seconds, Decimal(body.get("timeout", 3)))
        memory_gb = Decimal(body.get("memory_size", 128)) / MB_PER_GB
        runs = usage.exports_per_month
        components += [
            Component.of("Lambda requests", name, runs, context.prices.price("aws.lambda.requests", region)),
            Component.of(
                "Lambda compute",
                f"{name} ({architecture}, {body.get('memory_size', 128)} MB)",
                memory_gb * seconds * runs,
                context.prices.price(f"aws.lambda.gb_second.{architecture}", region),
            ),
        ]
    return components


def _buckets(context: Context, region: str) -> list[Component]:
    price = context.prices.price("aws.s3.standard_gb_month", region)
    components = []
    for block in context.inventory.of("aws_s3_bucket"):
        context.handled.add(block.address)
        size = _BUCKET_SIZES.get(block.name, lambda context: context.volumes.usage.other_bucket_gb)(context)
        components.append(Component.of("S3 storage", block.body.get("bucket") or block.name, size, price))
    return components


def _secrets(context: Context, region: str) -> list[Component]:
    """Secrets the stacks create, and secrets created elsewhere that they read by name."""
    price = context.prices.price("aws.secretsmanager.secret_month", region)
    components = []
    for block in context.inventory.of("aws_secretsmanager_secret"):
        context.handled.add(block.address)
        components.append(
            Component.of("Secrets Manager", block.body.get("name") or block.name, Decimal(1), price)
        )
    external = {
        str(block.body.get("secret_id"))
        for block in context.inventory.data_of(
            "aws_secretsmanager_secret_version", "aws_secretsmanager_secret"
        )
        if "${" not in str(block.body.get("secret_id", "${"))
    }
    for secret in sorted(external):
        components.append(
            Component.of("Secrets Manager", f"{secret} (created outside this repository)", Decimal(1), price)
        )
    return components


def _keys(context: Context, region: str) -> list[Component]:
    price = context.prices.price("aws.kms.key_month", region)
    components = []
    for block in context.inventory.of("aws_kms_key"):
        context.handled.add(block.address)
        components.append(Component.of("KMS key", block.address, Decimal(1), price))
    return components


def _alarms(context: Context, region: str) -> list[Component]:
    """CloudWatch bills an alarm per metric it evaluates (a metric-math alarm counts each metric)."""
    price = context.prices.price("aws.cloudwatch.alarm_metric_month", region)
    components = []
    for block in context.inventory.of("aws_cloudwatch_metric_alarm"):
        context.handled.add(block.address)
        queries = block.body.get("metric_query") or []
        metrics = sum(1 for query in queries if query.get("metric")) if queries else 1
        name = block.body.get("alarm_name") or block.name
        components.append(Component.of("CloudWatch alarm", name, Decimal(metrics), price))
    return components


def _logs(context: Context, region: str) -> list[Component]:
    usage = context.volumes.usage
    price = context.prices.price("aws.cloudwatch.logs_ingested_gb", region)
    components = []
    for block in context.inventory.of("aws_cloudwatch_log_group"):
        context.handled.add(block.address)
        gb = usage.exports_per_month * usage.log_mb_per_export / MB_PER_GB
        components.append(Component.of("CloudWatch Logs", block.body.get("name") or block.name, gb, price))
    return components
