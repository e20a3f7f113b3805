"""AWS charges: Lambda functions, S3 buckets, Secrets Manager secrets, KMS keys, CloudWatch alarms and logs.

Every Lambda in the stacks is assumed to run ``usage.exports_per_month`` times for ``usage.export_seconds``
(capped by its timeout), and every log group to take ``usage.log_mb_per_export`` per run. Free tiers are not
applied: they belong to the account, not to one environment.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from salesflow.ops.cost.component import Component, Context
from salesflow.ops.cost.inventory import Block
from salesflow.ops.cost.prices import Price
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
        name = _name("function_name")(block)
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


def _each(
    context: Context,
    resource_type: str,
    component: str,
    price: Price,
    resource: Callable[[Block], str],
    quantity: Callable[[Block], Decimal],
) -> list[Component]:
    """One component per block of ``resource_type``."""
    components = []
    for block in context.inventory.of(resource_type):
        context.handled.add(block.address)
        components.append(Component.of(component, resource(block), quantity(block), price))
    return components


def _name(*keys: str) -> Callable[[Block], str]:
    return lambda block: next((str(block.body[key]) for key in keys if block.body.get(key)), block.name)


def _one(_block: Block) -> Decimal:
    return Decimal(1)


def _buckets(context: Context, region: str) -> list[Component]:
    other = context.volumes.usage.other_bucket_gb
    return _each(
        context,
        "aws_s3_bucket",
        "S3 storage",
        context.prices.price("aws.s3.standard_gb_month", region),
        _name("bucket"),
        lambda block: _BUCKET_SIZES[block.name](context) if block.name in _BUCKET_SIZES else other,
    )


def _secrets(context: Context, region: str) -> list[Component]:
    """Secrets the stacks create, and secrets created elsewhere that they read by name (once each)."""
    price = context.prices.price("aws.secretsmanager.secret_month", region)
    created = _each(context, "aws_secretsmanager_secret", "Secrets Manager", price, _name("name"), _one)
    external = {
        str(block.body.get("secret_id"))
        for block in context.inventory.data_of(
            "aws_secretsmanager_secret_version", "aws_secretsmanager_secret"
        )
        if "${" not in str(block.body.get("secret_id", "${"))
    }
    made_here = {component.resource for component in created}  # e.g. the pepper, made by <env>-bootstrap
    return created + [
        Component.of("Secrets Manager", f"{secret} (created outside this repository)", Decimal(1), price)
        for secret in sorted(external - made_here)
    ]


def _keys(context: Context, region: str) -> list[Component]:
    price = context.prices.price("aws.kms.key_month", region)
    return _each(context, "aws_kms_key", "KMS key", price, lambda block: block.address, _one)


def _alarm_metrics(block: Block) -> Decimal:
    """CloudWatch bills an alarm per metric it evaluates (a metric-math alarm counts each metric)."""
    queries = block.body.get("metric_query") or []
    return Decimal(sum(1 for query in queries if query.get("metric")) if queries else 1)


def _alarms(context: Context, region: str) -> list[Component]:
    price = context.prices.price("aws.cloudwatch.alarm_metric_month", region)
    return _each(
        context, "aws_cloudwatch_metric_alarm", "CloudWatch alarm", price, _name("alarm_name"), _alarm_metrics
    )


def _logs(context: Context, region: str) -> list[Component]:
    usage = context.volumes.usage
    gb = usage.exports_per_month * usage.log_mb_per_export / MB_PER_GB
    price = context.prices.price("aws.cloudwatch.logs_ingested_gb", region)
    return _each(context, "aws_cloudwatch_log_group", "CloudWatch Logs", price, _name("name"), lambda _: gb)
