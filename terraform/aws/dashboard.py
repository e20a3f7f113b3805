"""The pipeline's CloudWatch dashboard as code: intake, output, lag, freshness, the last exports and the
state of every on-call alarm, for one environment."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from monitor.conditions import NAMESPACE, SERVICE
from salesflow.config import Environment
from terraform.aws.monitor_alarms import EXPORTER_SERVICE, SUSPECT_WEEK
from terraform.stacks.common import resource_prefix

WIDTH = 12
HEIGHT = 6
WEEK = 7 * 86_400


def _metric(env: str, service: str, name: str, stat: str, period: int, label: str) -> list[Any]:
    return [NAMESPACE, name, "Environment", env, "service", service, {"stat": stat, "period": period,
            "label": label}]  # fmt: skip


def _widget(title: str, metrics: list[list[Any]], region: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": WIDTH,
        "height": HEIGHT,
        "properties": {"title": title, "region": region, "metrics": metrics, "view": "timeSeries",
                       "stat": "Maximum", **properties},
    }  # fmt: skip


class PipelineDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        *,
        alarms: Iterable[CloudwatchMetricAlarm],
    ) -> None:
        super().__init__(scope, id_)
        env, region = environment.name, environment.aws.region
        period = environment.monitor.every_minutes * 60

        def monitored(name: str, stat: str, label: str) -> list[Any]:
            return _metric(env, SERVICE, name, stat, period, label)

        def exported(name: str, label: str) -> list[Any]:
            return _metric(env, EXPORTER_SERVICE, name, "Maximum", WEEK, label)

        widgets = [
            _widget("Intake: records on the raw topic (per 5 min)",
                    [monitored("IntakeRecords", "Sum", "records received")], region),
            _widget("Output: the statement's offsets and the table's records", [
                monitored("StatementOffsets", "Maximum", "statement offsets (raw topic)"),
                monitored("TableRecords", "Maximum", "table records (current snapshot)"),
            ], region),
            _widget("Lag: Flink pending records and input watermark age", [
                monitored("PendingRecords", "Maximum", "pending records"),
                [*monitored("WatermarkAgeSeconds", "Maximum", "watermark age (s)")[:-1],
                 {"stat": "Maximum", "period": period, "label": "watermark age (s)", "yAxis": "right"}],
            ], region),
            _widget("Freshness: age of the table's current snapshot (s)",
                    [monitored("TableAgeSeconds", "Maximum", "table age (s)")], region),
            _widget("Last exports: lines, orders, suspect", [
                exported("ExportedLines", "lines"),
                exported("ExportedOrders", "orders"),
                exported(SUSPECT_WEEK, "suspect (1)"),
            ], region, view="bar", period=WEEK),
            {
                "type": "alarm",
                "width": WIDTH,
                "height": HEIGHT,
                "properties": {"title": "On-call alarms", "alarms": [alarm.arn for alarm in alarms]},
            },
        ]  # fmt: skip
        for index, widget in enumerate(widgets):
            widget["x"], widget["y"] = (index % 2) * WIDTH, (index // 2) * HEIGHT
        self.dashboard = CloudwatchDashboard(
            self,
            "pipeline_dashboard",
            dashboard_name=f"{resource_prefix(environment)}-pipeline",
            dashboard_body=json.dumps({"widgets": widgets}),
        )
