"""The monitor's test kit: a pipeline state on the contract-checking Confluent server (statement, Metrics API
series, Tableflow topic, the Iceberg table served by the REST catalog twin) and CloudWatch in moto, and a
two-run scenario: an earlier run whose metrics document goes into CloudWatch the way Lambda's log ingestion
puts it there, then the run under test, which reads that history back.

Everything is relative to the table's real snapshot time: ``Scenario.table_age_minutes`` after it is "now".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cloud_support import COMPUTE_POOL_ID, ENVIRONMENT_ID, KAFKA_CLUSTER_ID, KEY, ORGANIZATION_ID, SECRET

from monitor.conditions import NAMESPACE
from monitor.confluent import INPUT_WATERMARK, PENDING_RECORDS, RECEIVED_RECORDS, ApiKeys
from monitor.emit import metrics_document
from monitor.history import OFFSETS, dimensions
from monitor.http import Credentials, pool_manager
from monitor.observe import LiveSources, Run, run_checks
from monitor.settings import Target, Thresholds

STATEMENT = "dev-sales-order-lines-v1"
RAW_TOPIC = "sales_orders_raw"
CLEAN_TOPIC = "sales_order_lines_clean"
PEPPER = "pepper-literal-7f3c9e-never-in-a-log"  # what Terraform resolves into the INSERT's text
# The continuous statement's text as Confluent returns it (never run here), with the pepper as a literal.
STATEMENT_TEXT = (
    "INSERT INTO `sales_order_lines_clean` SELECT order_id, "  # noqa: S608
    f"SHA2(CONCAT('{PEPPER}', customer_id), 256) AS customer_key FROM `sales_orders_raw`;"
)
THRESHOLDS = Thresholds(
    stalled_after_minutes=10,
    pending_rising_minutes=10,
    watermark_max_age_minutes=30,
    table_max_age_minutes=60,
    no_intake_minutes=30,
)
EARLIER_RUN = timedelta(minutes=12)  # the run whose StatementOffsets the run under test compares with
METRICS_LAG = timedelta(minutes=2)  # the newest minute the Metrics API has data for
KEYS = ApiKeys(Credentials(KEY, SECRET), Credentials(KEY, SECRET), Credentials(KEY, SECRET))


def table_lines(count: int) -> list[dict[str, Any]]:
    return [
        {
            "order_id": f"SO-{number:04d}",
            "line_number": 1,
            "channel": "WEB",
            "order_time": f"2026-11-16T0{number % 10}:00:00.000Z",
            "customer_key": "0" * 63 + "1",
            "customer_city": "Berlin",
            "customer_country": "DE",
            "sku": "BOO-00001",
            "product_name": "Classic Novel",
            "category": "Books",
            "quantity": 1,
            "unit_price": "10.05",
            "line_amount": "10.05",
            "currency": "EUR",
            "payment_method": "CARD",
        }
        for number in range(count)
    ]


@dataclass
class Scenario:
    """A pipeline at a moment. Defaults: healthy (records arriving, offsets advancing, small steady lag)."""

    phase: str = "RUNNING"
    detail: str | None = None
    scaling: str = "OK"
    warnings: list[dict[str, str]] = field(default_factory=list)
    offsets: tuple[int, int] = (9_000, 9_240)  # (earlier run, this run)
    intake_per_minute: float = 20.0
    pending: Callable[[int], float] = lambda minutes_ago: 3.0
    watermark_age_minutes: float | None = 12.0  # None: Long.MIN_VALUE (not set yet)
    tableflow_phase: str = "RUNNING"
    tableflow_suspended: bool = False
    tableflow_error: str = ""
    tableflow_enabled: bool = True
    table_age_minutes: float = 8.0  # "now" is this long after the table's current snapshot


def offsets_text(total: int) -> str:
    """Two partitions, as Confluent writes status.latest_offsets."""
    return f"partition:0,offset:{total // 2};partition:1,offset:{total - total // 2}"


def publish_emf(cloudwatch: Any, document: dict[str, Any]) -> None:
    """What CloudWatch does with an Embedded Metric Format log line: every declared metric, with every
    declared dimension set, at the document's timestamp."""
    meta = document["_aws"]
    at = datetime.fromtimestamp(meta["Timestamp"] / 1000, tz=UTC)
    for directive in meta["CloudWatchMetrics"]:
        for names in directive["Dimensions"]:
            dimensions = [{"Name": name, "Value": str(document[name])} for name in names]
            data = []
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    data.append(
                        {
                            "MetricName": metric["Name"],
                            "Dimensions": dimensions,
                            "Timestamp": at,
                            "Value": float(value),
                            "Unit": metric.get("Unit", "None"),
                        }
                    )
            cloudwatch.put_metric_data(Namespace=directive["Namespace"], MetricData=data)


class Pipeline:
    """One test's pipeline: its own environment name, so CloudWatch history never leaks between tests."""

    def __init__(self, confluent: Any, cloudwatch: Any, table: Any) -> None:
        self.confluent = confluent
        self.cloudwatch = cloudwatch
        self.table = table
        self.env = f"t{uuid.uuid4().hex[:10]}"
        snapshot = table.current_snapshot()
        self.snapshot_at = datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC)
        self.documents: list[dict[str, Any]] = []

    def target(self) -> Target:
        url = self.confluent.url
        return Target(
            env=self.env,
            organization_id=ORGANIZATION_ID,
            environment_id=ENVIRONMENT_ID,
            kafka_cluster_id=KAFKA_CLUSTER_ID,
            compute_pool_id=COMPUTE_POOL_ID,
            statement_name=STATEMENT,
            raw_topic=RAW_TOPIC,
            clean_topic=CLEAN_TOPIC,
            flink_endpoint=url,
            catalog_uri=f"{url}{self.confluent.catalog.path}",
            cloud_endpoint=url,
            metrics_endpoint=url,
        )

    def now(self, scenario: Scenario) -> datetime:
        return self.snapshot_at + timedelta(minutes=scenario.table_age_minutes)

    def prepare(self, scenario: Scenario, at: datetime) -> None:
        """Serve ``scenario`` around ``at``: series over the last 6 hours, the statement with its offsets."""
        c = self.confluent
        c.catalog.serve(KAFKA_CLUSTER_ID, CLEAN_TOPIC, lambda: self.table.metadata_location)
        minutes = [at - METRICS_LAG - timedelta(minutes=m) for m in range(360)]
        whole = [moment.replace(second=0, microsecond=0) for moment in minutes]
        intake = {"resource.kafka.id": KAFKA_CLUSTER_ID, "metric.topic": RAW_TOPIC}
        c.metrics.set(RECEIVED_RECORDS, intake, [(m, scenario.intake_per_minute) for m in whole])
        flink = {"resource.compute_pool.id": COMPUTE_POOL_ID, "resource.flink_statement.name": STATEMENT}
        c.metrics.set(PENDING_RECORDS, flink, [(m, scenario.pending(i)) for i, m in enumerate(whole[:40])])
        age = scenario.watermark_age_minutes
        marks = [
            (m, -(2**63) if age is None else (m - timedelta(minutes=age)).timestamp() * 1000)
            for m in whole[:15]
        ]
        c.metrics.set(INPUT_WATERMARK, flink, marks)
        if scenario.tableflow_enabled:
            c.tableflow.enable(
                CLEAN_TOPIC, scenario.tableflow_phase, scenario.tableflow_suspended, scenario.tableflow_error
            )

    def statement(self, scenario: Scenario, total: int) -> None:
        status = {
            "scaling_status": {"scaling_state": scenario.scaling},
            "warnings": scenario.warnings,
            "latest_offsets": {RAW_TOPIC: offsets_text(total)},
            "latest_offsets_timestamp": "2026-12-01T10:00:00Z",
        }
        self.confluent.flink.preload(STATEMENT, STATEMENT_TEXT, scenario.phase, scenario.detail, status)

    def check(self, scenario: Scenario, at: datetime, total: int) -> Run:
        self.statement(scenario, total)
        sources = LiveSources(self.target(), KEYS, self.cloudwatch, pool_manager(retries=0))
        run = run_checks(sources, self.target(), THRESHOLDS, at)
        document = metrics_document(self.env, run)
        self.documents.append(document)
        publish_emf(self.cloudwatch, document)
        return run

    def remember(self, at: datetime, offsets: int) -> None:
        """What an earlier run published for progress: its StatementOffsets (test_monitor.py runs the full
        round trip once; the scenarios start from its result)."""
        self.cloudwatch.put_metric_data(
            Namespace=NAMESPACE,
            MetricData=[
                {
                    "MetricName": OFFSETS,
                    "Dimensions": dimensions(self.env),
                    "Timestamp": at,
                    "Value": float(offsets),
                    "Unit": "Count",
                }
            ],
        )

    def run(self, scenario: Scenario, earlier_run: bool = False) -> Run:
        """The run under test, ``EARLIER_RUN`` after one that published ``scenario.offsets[0]`` (a real
        earlier run through the APIs with ``earlier_run``)."""
        at = self.now(scenario)
        self.prepare(scenario, at)
        if earlier_run:
            self.check(Scenario(), at - EARLIER_RUN, scenario.offsets[0])
        else:
            self.remember(at - EARLIER_RUN, scenario.offsets[0])
        return self.check(scenario, at, scenario.offsets[1])
