"""What the monitor watches: one CloudWatch metric and one alarm per condition.

Dependency-free on purpose: ``terraform/aws/monitor_alarms.py`` declares an alarm for each entry and
``tests/`` checks that docs/runbook.md has a section for each, so a name never drifts between the code that
publishes a metric, the alarm that watches it and the page on-call reads.

Every metric lives in namespace ``salesflow`` with the dimensions ``Environment`` and ``service`` (Powertools
adds ``service``). A condition metric is 1 (breach) or 0; a check that cannot be decided publishes nothing and
counts in ``ChecksUnavailable`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "salesflow"
SERVICE = "salesflow-monitor"
# Published once per run: the heartbeat of the monitor itself.
RUNS = "MonitorRuns"
# Checks a run could not decide (an API failed, history is missing): its own alarm after three runs.
UNAVAILABLE = "ChecksUnavailable"


@dataclass(frozen=True)
class Condition:
    metric: str  # CloudWatch metric name, also the runbook heading
    title: str
    alarm: str  # what the alarm means (its description)


STATEMENT_NOT_RUNNING = Condition(
    "StatementNotRunning",
    "Statement not running",
    "The continuous Flink statement is not RUNNING (FAILED, DEGRADED, STOPPED, PENDING or gone)",
)
STATEMENT_POOL_EXHAUSTED = Condition(
    "StatementPoolExhausted",
    "Compute pool exhausted",
    "The statement needs more CFUs than its compute pool has (scaling_status POOL_EXHAUSTED)",
)
STATEMENT_CRITICAL_WARNING = Condition(
    "StatementCriticalWarning",
    "Critical statement warning",
    "Confluent reports a CRITICAL warning on the statement: it will degrade if nothing is done",
)
STATEMENT_STALLED = Condition(
    "StatementStalled",
    "Statement makes no progress",
    "The statement's latest_offsets stopped advancing while the raw topic receives records",
)
PENDING_RECORDS_RISING = Condition(
    "PendingRecordsRising",
    "Pending records rising",
    "Flink's pending_records (its lag behind the raw topic) keeps rising: the statement falls behind",
)
WATERMARK_STALE = Condition(
    "WatermarkStale",
    "Input watermark stale",
    "The statement's input watermark lags far behind while records arrive: deduplicated lines stay held",
)
TABLEFLOW_NOT_RUNNING = Condition(
    "TableflowNotRunning",
    "Tableflow not running",
    "Tableflow on the clean topic is not RUNNING (FAILED, PENDING, or not enabled)",
)
TABLEFLOW_SUSPENDED = Condition(
    "TableflowSuspended",
    "Tableflow suspended",
    "Tableflow suspended materialisation of the clean topic (a bad record or a schema change)",
)
TABLE_STALE = Condition(
    "TableStale",
    "Table stale",
    "The Iceberg table's current snapshot is older than allowed while older records are missing from it",
)
NO_INTAKE = Condition(
    "NoIntake",
    "No intake",
    "The raw topic received no record for longer than allowed: the sales channels stopped producing",
)

CONDITIONS = (
    STATEMENT_NOT_RUNNING,
    STATEMENT_POOL_EXHAUSTED,
    STATEMENT_CRITICAL_WARNING,
    STATEMENT_STALLED,
    PENDING_RECORDS_RISING,
    WATERMARK_STALE,
    TABLEFLOW_NOT_RUNNING,
    TABLEFLOW_SUSPENDED,
    TABLE_STALE,
    NO_INTAKE,
)

# What each run observes, for the dashboard (name -> CloudWatch unit).
OBSERVATIONS = {
    "IntakeRecords": "Count",  # records the raw topic received in the 5 minutes ending 5 minutes ago
    "StatementOffsets": "Count",  # sum of the statement's latest_offsets on the raw topic (also: history)
    "PendingRecords": "Count",
    "WatermarkAgeSeconds": "Seconds",
    "TableAgeSeconds": "Seconds",
    "TableRecords": "Count",  # total-records of the table's current snapshot
}
