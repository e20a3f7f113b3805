"""Data volumes and run counts that follow from an environment's usage model (``usage:``).

A month is 730 hours (the convention both Confluent and AWS price hourly resources by) and a GB is 2^30
bytes (Confluent's billing unit; AWS storage is billed the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from salesflow.config import Environment, Usage
from salesflow.ops.cost.prices import HOURS_PER_MONTH

GB = Decimal(2**30)
MB_PER_GB = Decimal(1024)
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7


@dataclass(frozen=True)
class Volumes:
    """Per-month figures of one environment."""

    usage: Usage
    raw_topic: str
    clean_topic: str

    @classmethod
    def of(cls, environment: Environment) -> Volumes:
        topics = environment.confluent.topics
        return cls(environment.usage, topics.raw.name, topics.clean.name)

    @property
    def lines_per_day(self) -> Decimal:
        usage = self.usage
        return usage.events_per_day * (1 - usage.duplicate_share) * usage.lines_per_order

    def topic_bytes_per_day(self, topic: str) -> Decimal:
        """Bytes written to a topic per day: raw records, clean lines, nothing known for other topics."""
        if topic == self.raw_topic:
            return Decimal(self.usage.events_per_day * self.usage.bytes_per_event)
        if topic == self.clean_topic:
            return self.lines_per_day * self.usage.bytes_per_line
        return Decimal(0)

    def topic_gb_per_month(self, topic: str) -> Decimal:
        return self.topic_bytes_per_day(topic) * DAYS_PER_MONTH / GB

    def topic_gb_stored(self, topic: str, retention_days: Decimal) -> Decimal:
        """What a topic holds at steady state: a day's bytes times the days it retains them."""
        return self.topic_bytes_per_day(topic) * retention_days / GB

    def table_gb_stored(self, topic: str) -> Decimal:
        """An append-only Iceberg table after ``table_history_months`` of the topic's data."""
        usage = self.usage
        return self.topic_gb_per_month(topic) * usage.table_bytes_ratio * usage.table_history_months

    @property
    def export_gb_stored(self) -> Decimal:
        """Weekly CSVs kept for ``export_history_months`` (exports never expire)."""
        usage = self.usage
        week_bytes = self.lines_per_day * 7 * usage.csv_bytes_per_line
        return week_bytes * WEEKS_PER_MONTH * usage.export_history_months / GB
