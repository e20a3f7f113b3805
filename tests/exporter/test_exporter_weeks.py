"""Which week: the ISO week before the schedule time, bounds Monday to Monday in the zone (DST, week 53)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from exporter.weeks import IsoWeek, WeekError, week_before, week_from_event

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("scheduled", "zone", "expected"),
    [
        ("2026-11-23T05:00:00Z", "UTC", "2026-W47"),  # Monday 06:00 Berlin = 05:00Z
        ("2026-11-22T23:59:59.999Z", "UTC", "2026-W46"),  # still Sunday in UTC: week before W47
        ("2026-11-22T23:30:00Z", "Europe/Berlin", "2026-W47"),  # already Monday 00:30 in Berlin
        ("2027-01-04T06:00:00Z", "UTC", "2026-W53"),
        ("2027-01-11T06:00:00Z", "UTC", "2027-W01"),
        ("2026-01-05T06:00:00+01:00", "Europe/Berlin", "2026-W01"),
        ("2027-01-01T12:00:00Z", "UTC", "2026-W52"),  # Friday of 2026-W53 -> the week before
    ],
)
def test_week_before_the_scheduled_time(scheduled, zone, expected) -> None:
    assert str(week_from_event({"scheduled_time": scheduled}, ZoneInfo(zone))) == expected


def test_an_explicit_week_overrides_the_schedule() -> None:
    event = {"week": "2026-W10", "scheduled_time": "2026-11-23T05:00:00Z"}
    assert week_from_event(event, ZoneInfo("UTC")) == IsoWeek(2026, 10)


def test_week_53_bounds_and_neighbours() -> None:
    week = IsoWeek.parse("2026-W53")
    assert week.bounds(ZoneInfo("UTC")) == (
        datetime(2026, 12, 28, tzinfo=UTC),
        datetime(2027, 1, 4, tzinfo=UTC),
    )
    assert week.previous() == IsoWeek(2026, 52)
    assert IsoWeek(2027, 1).previous() == week
    with pytest.raises(WeekError, match="ISO year 2027 has weeks W01 to W52"):
        IsoWeek.parse("2027-W53")


def test_daylight_saving_weeks_are_167_and_169_hours() -> None:
    spring_start, spring_end = IsoWeek(2026, 13).bounds(BERLIN)  # clocks go forward on Sunday 29 March
    autumn_start, autumn_end = IsoWeek(2026, 43).bounds(BERLIN)  # clocks go back on Sunday 25 October
    assert spring_end - spring_start == timedelta(hours=167)
    assert autumn_end - autumn_start == timedelta(hours=169)
    assert autumn_start == datetime(2026, 10, 18, 22, tzinfo=UTC)  # Monday 00:00 CEST
    assert autumn_end == datetime(2026, 10, 25, 23, tzinfo=UTC)  # Monday 00:00 CET


def test_week_before_never_reads_the_clock() -> None:
    moment = datetime(2030, 6, 3, 6, tzinfo=UTC)
    assert str(week_before(moment, ZoneInfo("UTC"))) == "2030-W22"
