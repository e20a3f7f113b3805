"""A run as one CloudWatch Embedded Metric Format document (Powertools Metrics): a 0/1 metric per decided
condition, ``ChecksUnavailable``, the heartbeat ``MonitorRuns`` and the observed values, all with the
dimensions ``Environment`` and ``service``. Lambda writes it to the log group; CloudWatch extracts the
metrics.
"""

from __future__ import annotations

import json
from typing import IO, Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from monitor.checks import State
from monitor.conditions import NAMESPACE, OBSERVATIONS, RUNS, SERVICE, UNAVAILABLE
from monitor.observe import Run


def metrics_document(env: str, run: Run) -> dict[str, Any]:
    metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    metrics.add_dimension("Environment", env)
    for result in run.results:
        if result.state in (State.OK, State.BREACH):
            metrics.add_metric(result.condition.metric, MetricUnit.Count, int(result.state is State.BREACH))
    metrics.add_metric(UNAVAILABLE, MetricUnit.Count, len(run.of(State.UNKNOWN)))
    metrics.add_metric(RUNS, MetricUnit.Count, 1)
    for name, value in run.values.items():
        metrics.add_metric(name, MetricUnit(OBSERVATIONS[name]), value)
    metrics.set_timestamp(run.observation.at)
    return metrics.serialize_metric_set()


def write(document: dict[str, Any], stream: IO[str]) -> None:
    """One line of JSON: what CloudWatch Logs turns into metrics."""
    stream.write(json.dumps(document, separators=(",", ":")) + "\n")
    stream.flush()
