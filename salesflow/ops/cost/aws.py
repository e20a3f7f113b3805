"""AWS charges: Lambda functions, S3 buckets, Secrets Manager secrets, KMS keys, CloudWatch alarms, logs,
dashboards and custom metrics, and EventBridge Scheduler invocations of frequent schedules.

A Lambda that an EventBridge schedule runs at a fixed rate (``rate(N minutes)``: the monitor) runs that
often (730 h x 60 / N a month) for ``usage.monitor_seconds`` and logs ``usage.log_mb_per_monitor_run`` per
run; every other Lambda is assumed to run ``usage.exports_per_month`` times for ``usage.export_seconds``
(capped by its timeout) and log ``usage.log_mb_per_export`` per run. Custom metrics are the ``salesflow``
namespace's metrics the alarms and dashboards name (EMF publishes them; each is billed per month). Free
tiers are not applied: they belong to the account, not to one environment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal

from salesflow.ops.cost.component import Component, Context
from salesflow.ops.cost.inventory import Block
from salesflow.ops.cost.prices import HOURS_PER_MONTH, Price
from salesflow.ops.cost.volumes import MB_PER_GB

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
_FUNCTION_ARN = re.compile(r"^\$\{aws_lambda_function\.(\w+)\.arn\}$")
CUSTOM_NAMESPACE = "salesflow"

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
        *_dashboards(context, region),
        *_custom_metrics(context, region),
        *_frequent_schedules(context, region),
    ]


def rate_runs(expression: str) -> Decimal | None:
    """Runs a month of a ``rate(...)`` schedule (730 h); None for ``cron(...)`` or ``at(...)``."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    minutes = int(match.group(1)) * _MINUTES[match.group(2).removesuffix("s")]
    return (HOURS_PER_MONTH * 60 / minutes).quantize(Decimal("0.000001"))


def _rated_functions(context: Context) -> dict[str, Decimal]:
    """Functions (by logical id) that a rate schedule runs, with their runs a month."""
    rated = {}
    for block in context.inventory.of("aws_scheduler_schedule"):
        runs = rate_runs(str(block.body.get("schedule_expression", "")))
        target = _FUNCTION_ARN.match(str((block.body.get("target") or {}).get("arn", "")))
        if runs is not None and target is not None:
            rated[target.group(1)] = runs
    return rated


def _runs_and_log_mb(context: Context, function: Block) -> tuple[Decimal, Decimal, Decimal]:
    """(runs a month, seconds a run, log MB a run) of a function."""
    usage = context.volumes.usage
    runs = _rated_functions(context).get(function.name)
    if runs is not None:
        return runs, usage.monitor_seconds, usage.log_mb_per_monitor_run
    return usage.exports_per_month, usage.export_seconds, usage.log_mb_per_export


def _lambdas(context: Context, region: str) -> list[Component]:
    components = []
    for block in context.inventory.of("aws_lambda_function"):
        context.handled.add(block.address)
        body = block.body
        name = _name("function_name")(block)
        architecture = (body.get("architectures") or ["x86_64"])[0]
        runs, run_seconds, _ = _runs_and_log_mb(context, block)
        seconds = min(run_seconds, Decimal(body.get("timeout", 3)))
        memory_gb = Decimal(body.get("memory_size", 128)) / MB_PER_GB
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
    names = {str(block.body.get("name")) for block in context.inventory.of("aws_secretsmanager_secret")}
    external = {
        str(block.body.get("secret_id"))
        for block in context.inventory.data_of(
            "aws_secretsmanager_secret_version", "aws_secretsmanager_secret"
        )
        if "${" not in str(block.body.get("secret_id", "${"))
    } - names  # a secret another stack of the environment creates (the bootstrap's pepper) counts once
    return created + [
        Component.of("Secrets Manager", f"{secret} (created outside this repository)", Decimal(1), price)
        for secret in sorted(external)
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
    """Each Lambda's log group takes its runs x MB per run; any other log group an exporter run's."""
    functions = {
        f"/aws/lambda/{block.body.get('function_name')}": block
        for block in context.inventory.of("aws_lambda_function")
    }
    usage = context.volumes.usage

    def gb(block: Block) -> Decimal:
        function = functions.get(str(block.body.get("name")))
        if function is None:
            return usage.exports_per_month * usage.log_mb_per_export / MB_PER_GB
        runs, _, mb = _runs_and_log_mb(context, function)
        return runs * mb / MB_PER_GB

    price = context.prices.price("aws.cloudwatch.logs_ingested_gb", region)
    return _each(context, "aws_cloudwatch_log_group", "CloudWatch Logs", price, _name("name"), gb)


def _dashboards(context: Context, region: str) -> list[Component]:
    price = context.prices.price("aws.cloudwatch.dashboard_month", region)
    name = _name("dashboard_name")
    return _each(context, "aws_cloudwatch_dashboard", "CloudWatch dashboard", price, name, _one)


def _custom_metrics(context: Context, region: str) -> list[Component]:
    """The ``salesflow`` namespace's metrics (name and ``service``) that alarms or dashboards name."""
    named: set[tuple[str, str]] = set()
    for block in context.inventory.of("aws_cloudwatch_metric_alarm"):
        if block.body.get("namespace") == CUSTOM_NAMESPACE:
            service = (block.body.get("dimensions") or {}).get("service")
            named.add((str(block.body.get("metric_name")), str(service)))
    for block in context.inventory.of("aws_cloudwatch_dashboard"):
        for widget in json.loads(str(block.body.get("dashboard_body") or "{}")).get("widgets", []):
            for metric in (widget.get("properties") or {}).get("metrics", []):
                if metric and metric[0] == CUSTOM_NAMESPACE:
                    labels = dict(zip(metric[2:-1:2], metric[3:-1:2], strict=False))
                    named.add((str(metric[1]), str(labels.get("service"))))
    if not named:
        return []
    price = context.prices.price("aws.cloudwatch.custom_metric_month", region)
    services = ", ".join(sorted({service for _, service in named}))
    resource = f"{CUSTOM_NAMESPACE} namespace: {len(named)} metrics of {services} (EMF)"
    return [Component.of("CloudWatch custom metrics", resource, Decimal(len(named)), price)]


def _frequent_schedules(context: Context, region: str) -> list[Component]:
    """Invocations of rate schedules (a weekly cron's four are cents and explained as such)."""
    price = context.prices.price("aws.scheduler.invocation", region)
    components = []
    for block in context.inventory.of("aws_scheduler_schedule"):
        runs = rate_runs(str(block.body.get("schedule_expression", "")))
        if runs is not None:
            context.handled.add(block.address)
            components.append(Component.of("Scheduler invocations", _name("name")(block), runs, price))
    return components
