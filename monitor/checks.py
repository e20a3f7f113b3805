"""Each condition decided from one observation: pure functions, no I/O, no clock.

An ``Observation`` is what one run read (``observe.py``): the statement, the Tableflow topic, the table's
current snapshot, per-minute series of the Metrics API and the monitor's own earlier ``StatementOffsets``.
A source that failed is an ``Unavailable``: the checks that need it say "unknown" and the others still decide.

A symptom whose cause is already a breach is ``skipped`` rather than raised twice: a statement that is not
RUNNING makes no progress and builds no lag, so on-call gets the cause's alarm, not five. Only inputs the
condition needs are looked at, so each failure mode breaches exactly its own condition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

from monitor import conditions as c
from monitor.catalog import Snapshot
from monitor.confluent import Point
from monitor.settings import Thresholds

RUNNING = "RUNNING"
# A string literal of the statement at least this long is redacted wherever Confluent quotes it back (the
# INSERT carries the PII pepper as a literal; an error detail may quote the SQL).
REDACT_LITERALS_FROM = 8


class State(StrEnum):
    OK = "ok"
    BREACH = "breach"
    UNKNOWN = "unknown"  # could not decide: an API failed or data is missing
    SKIPPED = "skipped"  # not applicable now (its cause is a breach of its own, or not watched here)


@dataclass(frozen=True)
class Unavailable:
    reason: str


@dataclass(frozen=True)
class Result:
    condition: c.Condition
    state: State
    summary: str


@dataclass(frozen=True)
class Observation:
    at: datetime
    statement_name: str
    raw_topic: str
    clean_topic: str
    statement: dict[str, Any] | Unavailable | None
    tableflow_topic: dict[str, Any] | Unavailable | None
    snapshot: Snapshot | Unavailable | None
    pending: Sequence[Point] | Unavailable
    watermark: Sequence[Point] | Unavailable
    intake: Sequence[Point] | Unavailable  # per-minute records received by the raw topic
    offsets_history: Sequence[Point] | Unavailable  # earlier runs' StatementOffsets


def received(intake: Sequence[Point], start: datetime, end: datetime) -> float:
    """Records the raw topic received in [start, end), by the minute."""
    return sum(point.value for point in intake if start <= point.at < end)


def offsets_total(statement: dict[str, Any], topic: str) -> int | None:
    """Sum of ``status.latest_offsets`` of ``topic`` ("partition:0,offset:100;partition:1,offset:200")."""
    latest = (statement.get("status") or {}).get("latest_offsets") or {}
    text = latest.get(topic)
    if text is None and len(latest) == 1:
        text = next(iter(latest.values()))
    if text is None:
        return None
    total = 0
    for partition in filter(None, (part.strip() for part in str(text).split(";"))):
        fields = dict(item.split(":", 1) for item in partition.split(",") if ":" in item)
        total += int(fields["offset"])
    return total


def watermark_age(observation: Observation) -> timedelta | Unavailable | None:
    """Age of the latest set input watermark (Long.MIN_VALUE, i.e. negative, means not set yet: ignored)."""
    points = observation.watermark
    if isinstance(points, Unavailable):
        return points
    set_points = [point for point in points if point.value >= 0]
    if not set_points:
        return None
    return observation.at - datetime.fromtimestamp(set_points[-1].value / 1000, tz=UTC)


def redact_literals(text: str, statement: dict[str, Any]) -> str:
    sql = str((statement.get("spec") or {}).get("statement") or "")
    for literal in sorted(set(re.findall(r"'((?:[^']|'')*)'", sql)), key=len, reverse=True):
        if len(literal) >= REDACT_LITERALS_FROM:
            text = text.replace(literal, "***").replace(literal.replace("''", "'"), "***")
    return text


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.0f} min"


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M UTC")


class _Evaluation:
    """One observation against the thresholds; ``results`` in the order of ``conditions.CONDITIONS``."""

    def __init__(self, observation: Observation, thresholds: Thresholds) -> None:
        self.o = observation
        self.t = thresholds
        self.results: dict[str, Result] = {}

    def run(self) -> list[Result]:
        checks: dict[c.Condition, Callable[[], tuple[State, str]]] = {
            c.STATEMENT_NOT_RUNNING: self.statement_not_running,
            c.STATEMENT_POOL_EXHAUSTED: self.pool_exhausted,
            c.STATEMENT_CRITICAL_WARNING: self.critical_warning,
            c.STATEMENT_STALLED: self.stalled,
            c.PENDING_RECORDS_RISING: self.pending_rising,
            c.WATERMARK_STALE: self.watermark_stale,
            c.TABLEFLOW_NOT_RUNNING: self.tableflow_not_running,
            c.TABLEFLOW_SUSPENDED: self.tableflow_suspended,
            c.TABLE_STALE: self.table_stale,
            c.NO_INTAKE: self.no_intake,
        }
        for condition in c.CONDITIONS:
            state, summary = checks[condition]()
            self.results[condition.metric] = Result(condition, state, summary)
        return list(self.results.values())

    def breached(self, condition: c.Condition) -> bool:
        return self.results[condition.metric].state is State.BREACH

    # -- the statement ------------------------------------------------------------------------------------

    def _status(self) -> dict[str, Any]:
        statement = self.o.statement
        return (statement.get("status") or {}) if isinstance(statement, dict) else {}

    def _detail(self, text: str) -> str:
        statement = self.o.statement
        return redact_literals(text, statement) if isinstance(statement, dict) else text

    def statement_not_running(self) -> tuple[State, str]:
        statement = self.o.statement
        if isinstance(statement, Unavailable):
            return State.UNKNOWN, statement.reason
        if statement is None:
            return State.BREACH, f"statement {self.o.statement_name} does not exist"
        status = self._status()
        phase = str(status.get("phase") or "no phase")
        detail = self._detail(str(status.get("detail") or "")).strip()
        summary = f"{phase}: {detail}" if detail else phase
        return (State.OK if phase == RUNNING else State.BREACH), summary

    def _exists(self) -> tuple[State, str] | None:
        """The verdict when there is no statement to look at (None: there is one)."""
        statement = self.o.statement
        if isinstance(statement, Unavailable):
            return State.UNKNOWN, statement.reason
        if statement is None:
            return State.SKIPPED, "no statement (StatementNotRunning)"
        return None

    def _running(self) -> tuple[State, str] | None:
        """The verdict of a progress check while the statement is not RUNNING (None: it is)."""
        if (missing := self._exists()) is not None:
            return missing
        if self.breached(c.STATEMENT_NOT_RUNNING):
            return State.SKIPPED, "the statement is not RUNNING (StatementNotRunning)"
        return None

    def pool_exhausted(self) -> tuple[State, str]:
        if (missing := self._exists()) is not None:
            return missing
        state = str((self._status().get("scaling_status") or {}).get("scaling_state") or "OK")
        if state == "POOL_EXHAUSTED":
            return State.BREACH, "scaling_status POOL_EXHAUSTED: the compute pool has no CFU left for it"
        return State.OK, f"scaling_status {state}"

    def critical_warning(self) -> tuple[State, str]:
        if (missing := self._exists()) is not None:
            return missing
        warnings = [w for w in self._status().get("warnings") or [] if isinstance(w, dict)]
        critical = [w for w in warnings if str(w.get("severity")).upper() == "CRITICAL"]
        if critical:
            text = "; ".join(f"{w.get('reason', '?')}: {w.get('message', '')}".strip() for w in critical)
            return State.BREACH, self._detail(text)
        return State.OK, f"{len(warnings)} warning(s), none CRITICAL"

    def stalled(self) -> tuple[State, str]:
        if (not_running := self._running()) is not None:
            return not_running
        assert isinstance(self.o.statement, dict)
        try:
            total = offsets_total(self.o.statement, self.o.raw_topic)
        except (KeyError, ValueError):
            return State.UNKNOWN, f"status.latest_offsets of {self.o.raw_topic} not understood"
        if total is None:
            return State.UNKNOWN, f"no status.latest_offsets for {self.o.raw_topic} yet"
        history = self.o.offsets_history
        if isinstance(history, Unavailable):
            return State.UNKNOWN, history.reason
        cutoff = self.o.at - timedelta(minutes=self.t.stalled_after_minutes)
        earlier = [point for point in history if point.at <= cutoff]
        if not earlier:
            return State.UNKNOWN, (
                f"no observation from {self.t.stalled_after_minutes} min ago yet ({len(history)} newer)"
            )
        reference = earlier[-1]
        if float(total) != reference.value:
            return State.OK, f"offsets at {total}, {reference.value:.0f} at {_hhmm(reference.at)}"
        if isinstance(self.o.intake, Unavailable):
            return State.UNKNOWN, self.o.intake.reason
        arrived = received(self.o.intake, reference.at, self.o.at)
        if arrived > 0:
            return State.BREACH, (
                f"latest_offsets unchanged at {total} since {_hhmm(reference.at)} while {self.o.raw_topic} "
                f"received {arrived:.0f} records"
            )
        return State.OK, f"offsets unchanged since {_hhmm(reference.at)}, and no record arrived"

    def pending_rising(self) -> tuple[State, str]:
        if (not_running := self._running()) is not None:
            return not_running
        points = self.o.pending
        if isinstance(points, Unavailable):
            return State.UNKNOWN, points.reason
        if not points:
            return State.UNKNOWN, "no pending_records data for the statement"
        last = points[-1]
        span = timedelta(minutes=self.t.pending_rising_minutes)
        earlier = [point for point in points if point.at <= last.at - span]
        if not earlier:
            return State.OK, f"{last.value:.0f} pending (less than {_minutes(span)} of data)"
        window = [earlier[-1], *(point for point in points if point.at > earlier[-1].at)]
        middle = [point for point in window if point.at <= window[0].at + span / 2][-1]
        never_fell = all(b.value >= a.value for a, b in pairwise(window))
        if never_fell and window[0].value < middle.value < last.value:  # rose in both halves
            return State.BREACH, (
                f"pending records rose from {window[0].value:.0f} to {last.value:.0f} over "
                f"{_minutes(last.at - window[0].at)} without falling"
            )
        return State.OK, f"{last.value:.0f} pending"

    def watermark_stale(self) -> tuple[State, str]:
        if (not_running := self._running()) is not None:
            return not_running
        age = watermark_age(self.o)
        if isinstance(age, Unavailable):
            return State.UNKNOWN, age.reason
        if age is None:
            return State.OK, "input watermark not set yet"
        if age < -timedelta(hours=1):
            return State.UNKNOWN, "the input watermark reads as the future: more than one series summed?"
        limit = timedelta(minutes=self.t.watermark_max_age_minutes)
        if age <= limit:
            return State.OK, f"input watermark {_minutes(age)} old"
        if isinstance(self.o.intake, Unavailable):
            return State.UNKNOWN, self.o.intake.reason
        arrived = received(self.o.intake, self.o.at - limit, self.o.at)
        if arrived > 0:
            return State.BREACH, (
                f"input watermark {_minutes(age)} old (limit {_minutes(limit)}) while {arrived:.0f} "
                f"records arrived in the last {_minutes(limit)}"
            )
        return State.OK, f"input watermark {_minutes(age)} old, and no record arrived to move it"

    # -- Tableflow and the table --------------------------------------------------------------------------

    def _tableflow(self) -> tuple[dict[str, Any] | None, tuple[State, str] | None]:
        topic = self.o.tableflow_topic
        if isinstance(topic, Unavailable):
            return None, (State.UNKNOWN, topic.reason)
        return topic, None

    def tableflow_not_running(self) -> tuple[State, str]:
        topic, verdict = self._tableflow()
        if verdict is not None:
            return verdict
        if topic is None:
            return State.BREACH, f"Tableflow is not enabled on {self.o.clean_topic}"
        spec, status = topic.get("spec") or {}, topic.get("status") or {}
        phase = str(status.get("phase") or "no phase")
        error = str(status.get("error_message") or "").strip()
        summary = f"{phase}: {error}" if error else phase
        if spec.get("suspended"):
            return State.SKIPPED, f"{summary} (suspended: TableflowSuspended)"
        return (State.OK if phase == RUNNING else State.BREACH), summary

    def tableflow_suspended(self) -> tuple[State, str]:
        topic, verdict = self._tableflow()
        if verdict is not None:
            return verdict
        if topic is None:
            return State.SKIPPED, "Tableflow is not enabled (TableflowNotRunning)"
        if (topic.get("spec") or {}).get("suspended"):
            error = str((topic.get("status") or {}).get("error_message") or "no error message").strip()
            return State.BREACH, f"materialisation suspended: {error}"
        return State.OK, "not suspended"

    def table_stale(self) -> tuple[State, str]:
        for cause in (c.TABLEFLOW_NOT_RUNNING, c.TABLEFLOW_SUSPENDED, c.STATEMENT_NOT_RUNNING):
            if self.breached(cause):
                return State.SKIPPED, f"explained by {cause.metric}"
        snapshot = self.o.snapshot
        if isinstance(snapshot, Unavailable):
            return State.UNKNOWN, snapshot.reason
        limit = timedelta(minutes=self.t.table_max_age_minutes)
        since = self.o.at - self.t.lookback
        if snapshot is not None:
            taken = datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC)
            age = self.o.at - taken
            if age <= limit:
                return State.OK, f"current snapshot {_minutes(age)} old"
            since, what = max(since, taken), f"current snapshot {_minutes(age)} old (limit {_minutes(limit)})"
        else:
            what = "the table has no snapshot"
        if isinstance(self.o.intake, Unavailable):
            return State.UNKNOWN, self.o.intake.reason
        due = received(self.o.intake, since, self.o.at - limit)
        if due > 0:
            return State.BREACH, (
                f"{what}; {due:.0f} records arrived on {self.o.raw_topic} after it and more than "
                f"{_minutes(limit)} ago"
            )
        return State.OK, f"{what}, but no record is due in it"

    def no_intake(self) -> tuple[State, str]:
        minutes = self.t.no_intake_minutes
        if minutes is None:
            return State.SKIPPED, "intake is not watched in this environment"
        if isinstance(self.o.intake, Unavailable):
            return State.UNKNOWN, self.o.intake.reason
        arrived = received(self.o.intake, self.o.at - timedelta(minutes=minutes), self.o.at)
        if arrived > 0:
            return State.OK, f"{arrived:.0f} records in the last {minutes} min"
        return State.BREACH, f"no record on {self.o.raw_topic} in the last {minutes} min"


def evaluate(observation: Observation, thresholds: Thresholds) -> list[Result]:
    """Every condition of ``conditions.CONDITIONS``, in that order."""
    return _Evaluation(observation, thresholds).run()


def observed_values(observation: Observation) -> dict[str, float]:
    """What the dashboard charts (``conditions.OBSERVATIONS``), for the sources that answered."""
    o = observation
    values: dict[str, float] = {}
    if not isinstance(o.intake, Unavailable):
        end = o.at.replace(second=0, microsecond=0) - timedelta(minutes=5)
        values["IntakeRecords"] = received(o.intake, end - timedelta(minutes=5), end)
    if isinstance(o.statement, dict):
        try:
            total = offsets_total(o.statement, o.raw_topic)
        except (KeyError, ValueError):
            total = None
        if total is not None:
            values["StatementOffsets"] = float(total)
    if not isinstance(o.pending, Unavailable) and o.pending:
        values["PendingRecords"] = o.pending[-1].value
    age = watermark_age(o)
    if isinstance(age, timedelta):
        values["WatermarkAgeSeconds"] = max(age.total_seconds(), 0.0)
    if isinstance(o.snapshot, Snapshot):
        taken = datetime.fromtimestamp(o.snapshot.timestamp_ms / 1000, tz=UTC)
        values["TableAgeSeconds"] = max((o.at - taken).total_seconds(), 0.0)
        if o.snapshot.total_records is not None:
            values["TableRecords"] = float(o.snapshot.total_records)
    return values
