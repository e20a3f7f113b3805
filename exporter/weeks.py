"""ISO weeks and their bounds in an IANA time zone (standard library only; the clock is never read)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    """The event does not say which week to export; the message names the field and the fix."""


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __post_init__(self) -> None:
        weeks_in_year = date(self.year, 12, 28).isocalendar().week  # 52 or 53
        if not 1 <= self.week <= weeks_in_year:
            raise WeekError(f"{self} does not exist: ISO year {self.year} has weeks W01 to W{weeks_in_year}")

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = _WEEK.match(text) if isinstance(text, str) else None
        if match is None:
            raise WeekError(f"malformed week {text!r}: use the ISO form YYYY-Www, e.g. 2026-W47")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def previous(self) -> IsoWeek:
        return IsoWeek.containing(self.monday() - timedelta(days=7))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[Monday 00:00, next Monday 00:00) in ``zone``, returned in UTC (a DST week is 167 or 169 h)."""
        start = datetime.combine(self.monday(), datetime.min.time(), tzinfo=zone)
        end = datetime.combine(self.monday() + timedelta(days=7), datetime.min.time(), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WeekError(
            f"unknown IANA time zone {name!r}; use a name like 'UTC' or 'Europe/Berlin'"
        ) from None


def week_before(moment: datetime, zone: ZoneInfo) -> IsoWeek:
    """The ISO week before the one that contains ``moment`` in ``zone``."""
    return IsoWeek.containing(moment.astimezone(zone).date()).previous()


def week_from_event(event: Any, zone: ZoneInfo) -> IsoWeek:
    """``{"week": "2026-W47"}`` (backfill) or ``{"scheduled_time": "<ISO-8601>"}`` (EventBridge Scheduler)."""
    if not isinstance(event, dict):
        raise WeekError(
            f"the event must be a JSON object with 'scheduled_time' or 'week', got {type(event).__name__}"
        )
    if event.get("week") is not None:
        return IsoWeek.parse(event["week"])
    scheduled = event.get("scheduled_time")
    if scheduled is None:
        raise WeekError(
            "the event has neither 'week' nor 'scheduled_time': the schedule's target input must be "
            '{"scheduled_time": "<aws.scheduler.scheduled-time>"}; a backfill passes {"week": "2026-W47"}'
        )
    return week_before(parse_instant(scheduled, "scheduled_time"), zone)


def parse_instant(text: Any, field: str) -> datetime:
    if not isinstance(text, str):
        raise WeekError(f"'{field}' must be an ISO-8601 string, got {text!r}")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise WeekError(f"'{field}' is not an ISO-8601 time: {text!r} (e.g. 2026-11-23T06:00:00Z)") from None
    if moment.tzinfo is None:
        raise WeekError(f"'{field}' has no UTC offset: {text!r}; EventBridge sends e.g. 2026-11-23T06:00:00Z")
    return moment
