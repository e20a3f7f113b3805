"""The monitor's memory across runs: its own earlier datapoints, read back from CloudWatch.

Progress needs an earlier observation (were the statement's offsets the same 10 minutes ago?). Every run
already publishes ``StatementOffsets`` for the dashboard, so the earlier observations are in CloudWatch: no
bucket, table or parameter to create, secure or clean up, and on-call sees on the dashboard exactly what the
check compared. A lost or late datapoint only makes the check wait (it reports "unknown" until one exists).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.conditions import NAMESPACE, SERVICE
from monitor.confluent import Point

OFFSETS = "StatementOffsets"


def dimensions(env: str) -> list[dict[str, str]]:
    """The dimensions every monitor metric carries (Powertools adds ``service``)."""
    return [{"Name": "Environment", "Value": env}, {"Name": "service", "Value": SERVICE}]


def published_points(cloudwatch: Any, env: str, metric: str, start: datetime, end: datetime) -> list[Point]:
    """Per-minute maxima of one of the monitor's metrics in [start, end), oldest first."""
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "history",
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dimensions(env)},
                    "Period": 60,
                    "Stat": "Maximum",
                },
                "ReturnData": True,
            }
        ],
        StartTime=start,
        EndTime=end,
    )
    points = []
    for result in answer.get("MetricDataResults", []):
        for at, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=True):
            points.append(Point(at.astimezone(UTC), float(value)))
    return sorted(points)
