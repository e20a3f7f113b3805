"""One run of the checks: read every source, decide every condition (``checks.py``), and the values the
dashboard charts. A source that fails becomes ``Unavailable`` with a redacted reason, so one broken API never
hides the other checks. ``salesflow status`` runs exactly this with its own credentials."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import urllib3

from monitor import history
from monitor.catalog import Snapshot, current_snapshot
from monitor.checks import Observation, Result, State, Unavailable, evaluate, observed_values
from monitor.confluent import INPUT_WATERMARK, PENDING_RECORDS, ApiKeys, ConfluentReader, Point
from monitor.http import ApiError, pool_manager
from monitor.settings import Target, Thresholds

logger = logging.getLogger("monitor")
T = TypeVar("T")
# The Metrics API's data lags 2-5 minutes: series are read this much past the windows that use them.
SERIES_MARGIN = timedelta(minutes=10)


class LiveSources:
    """The real sources: Confluent's APIs with the monitor's keys, and CloudWatch for its own history."""

    def __init__(
        self, target: Target, keys: ApiKeys, cloudwatch: Any, pool: urllib3.PoolManager | None = None
    ) -> None:
        self.target = target
        self.keys = keys
        self.pool = pool or pool_manager()
        self.confluent = ConfluentReader(target, keys, self.pool)
        self.cloudwatch = cloudwatch

    def statement(self) -> dict[str, Any] | None:
        return self.confluent.statement()

    def tableflow_topic(self) -> dict[str, Any] | None:
        return self.confluent.tableflow_topic()

    def snapshot(self) -> Snapshot | None:
        namespace, table = self.target.table
        return current_snapshot(self.pool, self.target.catalog_uri, self.keys.tableflow, namespace, table)

    def flink_series(self, metric: str, start: datetime, end: datetime) -> list[Point]:
        return self.confluent.flink_series(metric, start, end)

    def intake_series(self, start: datetime, end: datetime) -> list[Point]:
        return self.confluent.intake_series(start, end)

    def offsets_history(self, start: datetime, end: datetime) -> list[Point]:
        if self.cloudwatch is None:
            raise ApiError("CloudWatch: no client for the monitor's history (AWS credentials and region?)")
        return history.published_points(self.cloudwatch, self.target.env, history.OFFSETS, start, end)


def _read(what: str, read: Callable[[], T]) -> T | Unavailable:
    try:
        return read()
    except ApiError as exc:
        reason = str(exc)
    except Exception as exc:  # one source's failure must never stop the other checks
        reason = f"{what}: {type(exc).__name__}: {str(exc)[:300]}"
    logger.warning("source unavailable: %s", reason)
    return Unavailable(reason)


def observe(sources: Any, target: Target, thresholds: Thresholds, at: datetime) -> Observation:
    lookback = thresholds.lookback
    pending_from = at - timedelta(minutes=thresholds.pending_rising_minutes) - SERIES_MARGIN
    history_from = at - timedelta(minutes=thresholds.stalled_after_minutes) - SERIES_MARGIN
    return Observation(
        at=at,
        statement_name=target.statement_name,
        raw_topic=target.raw_topic,
        clean_topic=target.clean_topic,
        statement=_read("statement", sources.statement),
        tableflow_topic=_read("Tableflow topic", sources.tableflow_topic),
        snapshot=_read("table snapshot", sources.snapshot),
        pending=_read("pending records", lambda: sources.flink_series(PENDING_RECORDS, pending_from, at)),
        watermark=_read(
            "input watermark", lambda: sources.flink_series(INPUT_WATERMARK, at - SERIES_MARGIN, at)
        ),
        intake=_read("intake", lambda: sources.intake_series(at - lookback, at)),
        offsets_history=_read("history", lambda: sources.offsets_history(history_from, at)),
    )


@dataclass(frozen=True)
class Run:
    observation: Observation
    results: list[Result]
    values: dict[str, float]

    def of(self, state: State) -> list[Result]:
        return [result for result in self.results if result.state is state]

    @property
    def exit_code(self) -> int:
        """0 healthy, 1 a condition breached, 2 something could not be checked (and nothing breached)."""
        if self.of(State.BREACH):
            return 1
        return 2 if self.of(State.UNKNOWN) else 0


def run_checks(sources: Any, target: Target, thresholds: Thresholds, at: datetime) -> Run:
    observation = observe(sources, target, thresholds, at)
    return Run(observation, evaluate(observation, thresholds), observed_values(observation))
