"""Columns derived from the week's lines for the reports to group by (``reports.DERIVED_COLUMNS``).

``order_date`` is the calendar day of ``order_time`` in the week's time zone (``YYYY-MM-DD``). The
seven day boundaries are local midnights converted to UTC with the standard library (a DST day is 23
or 25 hours), and each line's day is the number of boundaries at or before its time: seven vector
comparisons, no time-zone database needed by Arrow.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from exporter.reports import DERIVED_COLUMNS, ReportSpec
from exporter.weeks import IsoWeek

DAYS_PER_WEEK = 7


def week_days(week: IsoWeek) -> list[str]:
    return [(week.monday() + timedelta(days=offset)).isoformat() for offset in range(DAYS_PER_WEEK)]


def order_dates(times: pa.ChunkedArray | pa.Array, week: IsoWeek, zone: ZoneInfo) -> pa.ChunkedArray:
    """The local day of each time of the week, dictionary-encoded over the week's seven days."""
    monday = week.monday()
    boundaries = [
        datetime.combine(monday + timedelta(days=offset), datetime.min.time(), tzinfo=zone)
        for offset in range(1, DAYS_PER_WEEK)
    ]
    chunks = times.chunks if isinstance(times, pa.ChunkedArray) else [times]
    days = pa.array(week_days(week))
    encoded = []
    for chunk in chunks:
        index = pa.nulls(len(chunk), pa.int8()).fill_null(0)
        for boundary in boundaries:
            later = pc.greater_equal(chunk, pa.scalar(boundary, chunk.type)).cast(pa.int8())
            index = pc.add(index, later)
        encoded.append(pa.DictionaryArray.from_arrays(index.cast(pa.int32()), days))
    return pa.chunked_array(encoded, pa.dictionary(pa.int32(), pa.string()))


def add_derived_columns(lines: pa.Table, specs: list[ReportSpec], week: IsoWeek, zone: ZoneInfo) -> pa.Table:
    """``lines`` plus every derived column a report groups by (nothing when none does)."""
    for name in sorted(set().union(*(spec.derived_columns for spec in specs))):
        source = DERIVED_COLUMNS[name]
        if name == "order_date" and name not in lines.column_names:
            lines = lines.append_column(name, order_dates(lines.column(source), week, zone))
    return lines
