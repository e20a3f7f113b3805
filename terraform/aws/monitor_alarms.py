"""On-call alarms on the monitor's metrics (one per condition of ``monitor/conditions.py``), on the monitor
itself (it stopped running; it cannot check) and on the exporter's suspect week. docs/runbook.md has a
section per alarm, headed by its metric name.

A condition metric is 1 (breach) or 0 per run; the condition's own time window (stalled for 15 minutes,
rising for 10, ...) is decided by the monitor, so one breaching run alarms. A run that cannot decide a
check publishes nothing for it (missing data is not breaching) and counts in ``ChecksUnavailable``.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from exporter.judge import SERVICE as EXPORTER_SERVICE  # the exporter's metrics, once per export
from exporter.judge import SUSPECT_WEEK
from monitor.conditions import CONDITIONS, NAMESPACE, NO_INTAKE, RUNS, SERVICE, UNAVAILABLE
from salesflow.config import Environment
from terraform.aws.alarms import breach_alarm
from terraform.stacks.common import resource_prefix

__all__ = ["EXPORTER_SERVICE", "SUSPECT_WEEK", "MonitorAlarms"]
# Runs of the monitor in a row that must be missing (or unable to check) before on-call hears of it.
MISSED_RUNS = 2
UNAVAILABLE_RUNS = 3


def kebab(metric: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in metric).lstrip("-")


class MonitorAlarms(Construct):
    """``monitor_<metric>`` per condition (``NoIntake`` only where ``monitor.no_intake_minutes`` is set),
    ``monitor_runs`` (heartbeat), ``monitor_checks_unavailable`` and ``exporter_suspect_week``; alarm
    and recovery both notify the on-call topic."""

    def __init__(
        self, scope: Construct, id_: str, environment: Environment, *, alarms_topic_arn: str
    ) -> None:
        super().__init__(scope, id_)
        self.environment = environment
        self.prefix = resource_prefix(environment)
        self.notify = [alarms_topic_arn]
        self.period = environment.monitor.every_minutes * 60
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        for condition in CONDITIONS:
            if condition is NO_INTAKE and environment.monitor.no_intake_minutes is None:
                continue
            self._alarm(condition.metric, condition.alarm, "Maximum", "GreaterThanOrEqualToThreshold", 1)
        self._alarm(
            RUNS,
            f"The monitor did not run (or failed before publishing) {MISSED_RUNS} times in a row: "
            "nothing watches the pipeline",
            "Sum",
            "LessThanThreshold",
            MISSED_RUNS,
            missing="breaching",
        )
        self._alarm(
            UNAVAILABLE,
            f"The monitor could not decide some checks {UNAVAILABLE_RUNS} runs in a row (an API failed or "
            "its key was refused): those conditions are unwatched",
            "Maximum",
            "GreaterThanOrEqualToThreshold",
            UNAVAILABLE_RUNS,
        )
        self._suspect_week()

    def _alarm(
        self,
        metric: str,
        description: str,
        statistic: str,
        comparison: str,
        runs: int,
        missing: str = "notBreaching",
    ) -> None:
        """``runs`` consecutive periods of one monitor run each; the threshold is 1 run's breach."""
        name = kebab(metric).removeprefix("monitor-")
        self.alarms[metric] = breach_alarm(
            self,
            f"monitor_{name.replace('-', '_')}",
            name=f"{self.prefix}-monitor-{name}",
            description=f"{description}. Runbook: docs/runbook.md#{metric.lower()}",
            notify=self.notify,
            namespace=NAMESPACE,
            metric=metric,
            dimensions={"Environment": self.environment.name, "service": SERVICE},
            statistic=statistic,
            period=self.period,
            runs=runs,
            datapoints=runs,
            comparison=comparison,
            missing=missing,
        )

    def _suspect_week(self) -> None:
        self.alarms[SUSPECT_WEEK] = breach_alarm(
            self,
            "exporter_suspect_week",
            name=f"{self.prefix}-exporter-suspect-week",
            description=(
                "The exported week has far fewer lines or orders than the previous weeks' median, or none: "
                f"exported and marked suspect. Runbook: docs/runbook.md#{SUSPECT_WEEK.lower()}"
            ),
            notify=self.notify,
            namespace=NAMESPACE,
            metric=SUSPECT_WEEK,
            dimensions={"Environment": self.environment.name, "service": EXPORTER_SERVICE},
            statistic="Maximum",
            period=300,
        )
