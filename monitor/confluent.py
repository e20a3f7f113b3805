"""What the monitor reads from Confluent Cloud: the continuous statement (Flink SQL API ``sql/v1``), time
series of the Metrics API (``/v2/metrics/cloud/query``) and the clean topic's Tableflow status
(``tableflow/v1``). The contracts are Confluent's OpenAPI documents (tests/cloud/openapi/); responses are read
as plain JSON, unknown fields ignored.

Three keys, one per API family: a Cloud API key (Metrics API, MetricsViewer; Tableflow topics), a Flink key of
the region (statements) and a Tableflow key (the Iceberg REST catalog, ``catalog.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import quote

import urllib3

from monitor.http import ApiError, Credentials, JsonClient
from monitor.settings import Target

# Metric names (platform facts; confirm once with GET /v2/metrics/cloud/descriptors/metrics).
PENDING_RECORDS = "io.confluent.flink/pending_records"
INPUT_WATERMARK = "io.confluent.flink/current_input_watermark_milliseconds"
RECEIVED_RECORDS = "io.confluent.kafka.server/received_records"


class Point(NamedTuple):
    at: datetime
    value: float


@dataclass(frozen=True)
class ApiKeys:
    cloud: Credentials  # Metrics API and Tableflow topics
    flink: Credentials  # statements (a Flink key of the region)
    tableflow: Credentials  # the Iceberg REST catalog (OAuth client credentials)

    @classmethod
    def from_secret(cls, text: str, secret_id: str) -> ApiKeys:
        """The monitor's secret: JSON ``{"cloud": "k:s", "flink": "k:s", "tableflow": "k:s"}``."""
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if not isinstance(document, dict) or not {"cloud", "flink", "tableflow"} <= set(document):
            raise ValueError(
                f"secret {secret_id} must be JSON with the keys cloud, flink and tableflow, each 'key:secret'"
            )
        return cls(
            *(
                Credentials.parse(str(document[name]), f"{secret_id}: {name}")
                for name in ("cloud", "flink", "tableflow")
            )
        )

    def secrets(self) -> tuple[str, ...]:
        return self.cloud.secrets() + self.flink.secrets() + self.tableflow.secrets()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class ConfluentReader:
    """Read-only calls for one ``Target``."""

    def __init__(self, target: Target, keys: ApiKeys, pool: urllib3.PoolManager) -> None:
        self.target = target
        self._flink = JsonClient(
            "Flink SQL API", target.flink_endpoint, pool, keys.flink.basic(), keys.flink.secrets()
        )
        self._metrics = JsonClient(
            "Metrics API", target.metrics_endpoint, pool, keys.cloud.basic(), keys.cloud.secrets()
        )
        self._cloud = JsonClient(
            "Tableflow API", target.cloud_endpoint, pool, keys.cloud.basic(), keys.cloud.secrets()
        )

    def statement(self) -> dict[str, Any] | None:
        """The continuous statement, or None when it does not exist (any more)."""
        t = self.target
        path = (
            f"/sql/v1/organizations/{quote(t.organization_id, safe='')}/environments/"
            f"{quote(t.environment_id, safe='')}/statements/{quote(t.statement_name, safe='')}"
        )
        status, body = self._flink.call("GET", path, allow=(404,))
        return None if status == 404 else _object(body, "statement")

    def tableflow_topic(self) -> dict[str, Any] | None:
        """Tableflow on the clean topic, or None when it is not enabled."""
        t = self.target
        status, body = self._cloud.call(
            "GET",
            f"/tableflow/v1/tableflow-topics/{quote(t.clean_topic, safe='')}",
            params={"environment": t.environment_id, "spec.kafka_cluster": t.kafka_cluster_id},
            allow=(404,),
        )
        return None if status == 404 else _object(body, "Tableflow topic")

    def series(self, metric: str, filters: Mapping[str, str], start: datetime, end: datetime) -> list[Point]:
        """Per-minute points of ``metric`` (summed over the filtered resource) in [start, end), oldest
        first."""
        query = {
            "aggregations": [{"metric": metric, "agg": "SUM"}],
            "filter": {
                "op": "AND",
                "filters": [{"field": field, "op": "EQ", "value": value} for field, value in filters.items()],
            },
            "granularity": "PT1M",
            "intervals": [f"{iso(start)}/{iso(end)}"],
            "limit": 1000,
        }
        _, body = self._metrics.call("POST", "/v2/metrics/cloud/query", body=query)
        data = _object(body, "Metrics API answer").get("data")
        if not isinstance(data, list):
            raise ApiError(f"Metrics API: {metric}: the answer has no data list")
        points = [Point(parse_time(item["timestamp"]), float(item["value"])) for item in data]
        return sorted(points)

    def flink_series(self, metric: str, start: datetime, end: datetime) -> list[Point]:
        filters = {
            "resource.compute_pool.id": self.target.compute_pool_id,
            "resource.flink_statement.name": self.target.statement_name,
        }
        return self.series(metric, filters, start, end)

    def intake_series(self, start: datetime, end: datetime) -> list[Point]:
        filters = {"resource.kafka.id": self.target.kafka_cluster_id, "metric.topic": self.target.raw_topic}
        return self.series(RECEIVED_RECORDS, filters, start, end)


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(f"the {what} is not a JSON object")
    return body
