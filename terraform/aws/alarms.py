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
        CloudwatchMetricAlarm(
            self,
            "exporter_errors",
            alarm_name=f"{self.prefix}-exporter-errors",
            alarm_description=(
                "The exporter failed (each failed attempt counts). Runbook: docs/runbook.md#exportererrors"
            ),
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions={"FunctionName": function.function_name},
            statistic="Sum",
            period=3600,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=self.notify,
            ok_actions=self.notify,
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
        CloudwatchMetricAlarm(
            self,
            id_,
            alarm_name=f"{self.prefix}-{id_.replace('_', '-')}",
            alarm_description=f"Dead letters waiting: {what}. Runbook: docs/runbook.md#{anchor}",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue.name},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=self.notify,
            ok_actions=self.notify,
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
