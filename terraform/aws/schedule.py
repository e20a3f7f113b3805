"""The weekly run: an EventBridge Scheduler schedule in the configured IANA zone invokes the exporter."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetDeadLetterConfig,
    SchedulerScheduleTargetRetryPolicy,
)
from constructs import Construct

from salesflow.config import Environment
from terraform.aws.exporter_function import dead_letter_queue
from terraform.aws.iam import Statement, condition, service, statement
from terraform.stacks.common import resource_prefix, skip_checks

# EventBridge Scheduler fills in the scheduled time; the exporter derives the ISO week from it.
SCHEDULE_INPUT = json.dumps({"scheduled_time": "<aws.scheduler.scheduled-time>"})
# Delivery retries of the schedule (throttling, service errors): up to 12 hours, then the DLQ.
SCHEDULE_RETRY_ATTEMPTS = 20
SCHEDULE_MAX_EVENT_AGE_SECONDS = 12 * 3600


def scheduler_role(
    scope: Construct,
    id_: str,
    name: str,
    description: str,
    account_id: str,
    policy_name: str,
    statements: list[Statement],
) -> IamRole:
    """A role only EventBridge Scheduler of this account may assume, with ``statements`` as its one inline
    policy. Logical ids: ``<id_>_role``, ``<id_>_trust``, ``<id_>_role_policy``, ``<id_>_permissions``."""
    role = IamRole(
        scope,
        f"{id_}_role",
        name=name,
        description=description,
        assume_role_policy=DataAwsIamPolicyDocument(
            scope,
            f"{id_}_trust",
            statement=[
                statement(
                    "SchedulerAssumesRole",
                    ["sts:AssumeRole"],
                    [],
                    principals=[service("scheduler.amazonaws.com")],
                    conditions=[condition("StringEquals", "aws:SourceAccount", account_id)],
                )
            ],
        ).json,
    )
    IamRolePolicy(
        scope,
        f"{id_}_role_policy",
        name=policy_name,
        role=role.id,
        policy=DataAwsIamPolicyDocument(scope, f"{id_}_permissions", statement=statements).json,
    )
    return role


class WeeklySchedule(Construct):
    """``cron(...)`` in the environment's time zone, no flexible window, retries for 12 hours, then the
    dead-letter queue; the scheduler's role may invoke the exporter and dead-letter, nothing else."""

    def __init__(
        self, scope: Construct, id_: str, environment: Environment, function: LambdaFunction, account_id: str
    ) -> None:
        super().__init__(scope, id_)
        prefix = resource_prefix(environment)
        self.dead_letters = dead_letter_queue(
            self, "schedule_dead_letters", f"{prefix}-exporter-schedule-dlq"
        )
        role = scheduler_role(
            self,
            "scheduler",
            f"{prefix}-exporter-schedule",
            "EventBridge Scheduler: invoke the exporter, dead-letter undeliverable runs",
            account_id,
            "invoke-exporter",
            [
                statement("InvokeExporter", ["lambda:InvokeFunction"], [function.arn]),
                statement("DeadLetterUndeliverableRuns", ["sqs:SendMessage"], [self.dead_letters.arn]),
            ],
        )
        schedule = environment.exporter.schedule
        weekly = SchedulerSchedule(
            self,
            "weekly_export",
            name=f"{prefix}-weekly-export",
            description="Export the previous ISO week",
            schedule_expression=f"cron({schedule.cron})",
            schedule_expression_timezone=schedule.time_zone,
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            state="ENABLED",
            target=SchedulerScheduleTarget(
                arn=function.arn,
                role_arn=role.arn,
                input=SCHEDULE_INPUT,
                retry_policy=SchedulerScheduleTargetRetryPolicy(
                    maximum_retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=SCHEDULE_MAX_EVENT_AGE_SECONDS,
                ),
                dead_letter_config=SchedulerScheduleTargetDeadLetterConfig(arn=self.dead_letters.arn),
            ),
        )
        skip_checks(
            weekly,
            {
                "CKV_AWS_297": (
                    "the schedule's only payload is the fixed scheduled-time template; the AWS-owned "
                    "key protects it and a CMK would need extra grants for the scheduler"
                ),
            },
        )


class MonitorSchedule(Construct):
    """``rate(<monitor.every_minutes> minutes)``, no flexible window and no retries: a run that could not
    be delivered is replaced by the next one minutes later, and ``MonitorRuns`` alarms when runs stop.
    The scheduler's role may invoke the monitor, nothing else."""

    def __init__(
        self, scope: Construct, id_: str, environment: Environment, function: LambdaFunction, account_id: str
    ) -> None:
        super().__init__(scope, id_)
        prefix = resource_prefix(environment)
        every = environment.monitor.every_minutes
        role = scheduler_role(
            self,
            "monitor_scheduler",
            f"{prefix}-monitor-schedule",
            "EventBridge Scheduler: invoke the monitor",
            account_id,
            "invoke-monitor",
            [statement("InvokeMonitor", ["lambda:InvokeFunction"], [function.arn])],
        )
        checks = SchedulerSchedule(
            self,
            "monitor_checks",
            name=f"{prefix}-monitor",
            description="Run the pipeline monitor's checks",
            schedule_expression=f"rate({every} minute{'s' if every > 1 else ''})",
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            state="ENABLED",
            target=SchedulerScheduleTarget(
                arn=function.arn,
                role_arn=role.arn,
                retry_policy=SchedulerScheduleTargetRetryPolicy(
                    maximum_retry_attempts=0, maximum_event_age_in_seconds=every * 60
                ),
            ),
        )
        skip_checks(
            checks,
            {
                "CKV_AWS_297": (
                    "the schedule carries no payload; the AWS-owned key protects its settings and a CMK "
                    "would need extra grants for the scheduler"
                ),
            },
        )
