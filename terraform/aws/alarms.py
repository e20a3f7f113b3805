"""The exporter's CloudWatch alarms, each to the on-call topic: failed runs, dead letters, no export."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from salesflow.config import Environment
from terraform.stacks.common import resource_prefix

ONE_DAY = 86_400
# The "no export this week" alarm looks at 7 daily periods of successful runs.
WEEK_IN_DAYS = 7


def breach_alarm(
    scope: Construct,
    id_: str,
    *,
    name: str,
    description: str,
    notify: list[str],
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    statistic: str,
    period: int,
    runs: int = 1,
    datapoints: int | None = None,
    comparison: str = "GreaterThanOrEqualToThreshold",
    missing: str = "notBreaching",
) -> CloudwatchMetricAlarm:
    """An on-call alarm on one metric that breaches at 1 (a failure, a dead letter, a condition's
    breach) for ``runs`` periods; alarm and recovery both notify."""
    return CloudwatchMetricAlarm(
        scope,
        id_,
        alarm_name=name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric,
        dimensions=dimensions,
        statistic=statistic,
        period=period,
        evaluation_periods=runs,
        datapoints_to_alarm=datapoints,
        threshold=1,
        comparison_operator=comparison,
        treat_missing_data=missing,
        alarm_actions=notify,
        ok_actions=notify,
    )


class ExporterAlarms(Construct):
    """``exporter_errors`` (a failed attempt within the hour), ``exporter_failures_depth`` and
    ``schedule_dead_letters_depth`` (a dead letter waits), ``no_export_this_week`` (no successful run
    on 7 consecutive days). Alarm and recovery both notify."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        environment: Environment,
        *,
        function: LambdaFunction,
        failures: SqsQueue,
        schedule_dead_letters: SqsQueue,
        alarms_topic_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self.prefix = resource_prefix(environment)
        self.notify = [alarms_topic_arn]
        breach_alarm(
            self,
            "exporter_errors",
            name=f"{self.prefix}-exporter-errors",
            description=(
                "The exporter failed (each failed attempt counts). Runbook: docs/runbook.md#exportererrors"
            ),
            notify=self.notify,
            namespace="AWS/Lambda",
            metric="Errors",
            dimensions={"FunctionName": function.function_name},
            statistic="Sum",
            period=3600,
        )
        self._dead_letters(
            "exporter_failures_depth", failures, "a run failed after Lambda's retries", "exporterfailures"
        )
        self._dead_letters(
            "schedule_dead_letters_depth",
            schedule_dead_letters,
            "the schedule could not deliver a run",
            "scheduledeadletters",
        )
        self._no_export_this_week(function)

    def _dead_letters(self, id_: str, queue: SqsQueue, what: str, anchor: str) -> None:
        breach_alarm(
            self,
            id_,
            name=f"{self.prefix}-{id_.replace('_', '-')}",
            description=f"Dead letters waiting: {what}. Runbook: docs/runbook.md#{anchor}",
            notify=self.notify,
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue.name},
            statistic="Maximum",
            period=300,
        )

    def _no_export_this_week(self, function: LambdaFunction) -> None:
        def daily_sum(name: str) -> CloudwatchMetricAlarmMetricQueryMetric:
            return CloudwatchMetricAlarmMetricQueryMetric(
                namespace="AWS/Lambda",
                metric_name=name,
                dimensions={"FunctionName": function.function_name},
                stat="Sum",
                period=ONE_DAY,
            )

        CloudwatchMetricAlarm(
            self,
            "no_export_this_week",
            alarm_name=f"{self.prefix}-no-export-this-week",
            alarm_description=(
                "No successful exporter run in the last 7 days (the weekly export is missing). "
                "Runbook: docs/runbook.md#noexportthisweek"
            ),
            metric_query=[
                CloudwatchMetricAlarmMetricQuery(id="runs", metric=daily_sum("Invocations")),
                CloudwatchMetricAlarmMetricQuery(id="failures", metric=daily_sum("Errors")),
                CloudwatchMetricAlarmMetricQuery(
                    id="successes",
                    expression="FILL(runs, 0) - FILL(failures, 0)",
                    label="Successful runs per day",
                    return_data=True,
                ),
            ],
            evaluation_periods=WEEK_IN_DAYS,
            datapoints_to_alarm=WEEK_IN_DAYS,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=self.notify,
            ok_actions=self.notify,
        )
