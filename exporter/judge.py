"""Judge the week being exported against the weeks exported before it (issue 16).

The baseline is the median of ``lines`` and ``orders`` over the manifests of the previous
``HISTORY_WEEKS`` exported weeks (a week without a manifest was never completely exported and is skipped;
at most ``LOOKBACK_WEEKS`` are read). A week that is empty, or whose lines or orders fall below
``fraction`` x the median, is still exported, but its manifest carries ``suspect`` with the reason, the
analysts' message says so in its first line, and the ``SuspectWeek`` metric pages on-call. Without any
earlier export there is no baseline, and only an empty week is suspect.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import median
from typing import IO, Any

from exporter.publish import week_prefix
from exporter.week_summary import read_manifest
from exporter.weeks import IsoWeek

HISTORY_WEEKS = 4
LOOKBACK_WEEKS = 8
# CloudWatch metrics of each export (EMF), read by the SuspectWeek alarm and the pipeline dashboard.
NAMESPACE = "salesflow"
SERVICE = "salesflow-exporter"
SUSPECT_WEEK = "SuspectWeek"


@dataclass(frozen=True)
class Verdict:
    reason: str | None  # None: the week looks normal
    weeks: tuple[str, ...] = ()  # the baseline's weeks, newest first
    median_lines: Decimal | None = None
    median_orders: Decimal | None = None

    @property
    def suspect(self) -> bool:
        return self.reason is not None

    def manifest_entry(self) -> dict[str, Any] | None:
        """The manifest's ``suspect`` value: None, or the reason and the baseline it was judged by."""
        if self.reason is None:
            return None
        return {
            "reason": self.reason,
            "baseline_weeks": list(self.weeks),
            "median_lines": _plain(self.median_lines),
            "median_orders": _plain(self.median_orders),
        }


def previous_manifests(s3: Any, bucket: str, prefix: str, week: IsoWeek) -> list[dict[str, Any]]:
    """Manifests of the up to ``HISTORY_WEEKS`` exported weeks before ``week``, newest first."""
    found: list[dict[str, Any]] = []
    earlier = week
    for _ in range(LOOKBACK_WEEKS):
        earlier = earlier.previous()
        manifest = read_manifest(s3, bucket, f"{week_prefix(prefix, str(earlier))}/manifest.json")
        if manifest is not None:
            found.append(manifest)
            if len(found) == HISTORY_WEEKS:
                break
    return found


def judge(lines: int, orders: int, history: Sequence[Mapping[str, Any]], fraction: Decimal) -> Verdict:
    """Is this week's volume suspect against ``history`` (manifests, newest first)?"""
    weeks = tuple(str(manifest["week"]) for manifest in history)
    if not history:
        reason = "the week is empty: no orders at all" if not orders else None
        return Verdict(reason)
    median_lines = Decimal(str(median(int(m["lines"]) for m in history)))
    median_orders = Decimal(str(median(int(m["orders"]) for m in history)))
    baseline = (
        f"the median of the {len(weeks)} previous exported weeks ({', '.join(weeks)}) is "
        f"{_plain(median_lines)} lines and {_plain(median_orders)} orders"
    )
    low = [
        f"{value} {name}"
        for name, value, middle in (("lines", lines, median_lines), ("orders", orders, median_orders))
        if value < fraction * middle
    ]
    if not orders:
        reason = f"the week is empty: no orders at all, while {baseline}"
    elif low:
        reason = f"only {' and '.join(low)}: below {fraction:.0%} of normal, {baseline}"
    else:
        reason = None
    return Verdict(reason, weeks, median_lines, median_orders)


def metrics_document(env: str, lines: int, orders: int, verdict: Verdict) -> dict[str, Any]:
    """The export's CloudWatch Embedded Metric Format document (Powertools Metrics)."""
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    metrics.add_dimension("Environment", env)
    metrics.add_metric("ExportedLines", MetricUnit.Count, lines)
    metrics.add_metric("ExportedOrders", MetricUnit.Count, orders)
    metrics.add_metric(SUSPECT_WEEK, MetricUnit.Count, int(verdict.suspect))
    return metrics.serialize_metric_set()


def emit(document: Mapping[str, Any], stream: IO[str] | None = None) -> None:
    """One JSON line on stdout: Lambda ships it to CloudWatch Logs, which extracts the metrics."""
    stream = stream or sys.stdout
    stream.write(json.dumps(document, separators=(",", ":")) + "\n")
    stream.flush()


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")
