"""The period a supervision figure covers: a calendar year (``year=2025``) or any run of days (``from``/``to``), as
local calendar days in the registry's time zone, and the UTC window its stored timestamps are compared with.

A day belongs to the registry's time zone (config TIMEZONE, Asia/Shanghai): a decision at 00:30 on 1 January in
Guizhou is 16:30 UTC on 31 December and belongs to the new year; an inspection on 31 December at 23:30 belongs to the
old one. Periods never reach into the future: the current year ends today.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ..errors import RegistryError
from ..messages import msg

EARLIEST = date(1949, 1, 1)  # nothing in a fossil registry is dated before this; earlier "years" are typing errors


class InvalidPeriod(RegistryError):
    """A period that cannot be read or lies (partly) in the future: 400 with a message saying what to send."""

    status = 400
    title = "Invalid period"


def _utc(day: date, tz: str) -> str:
    """The UTC instant (store form) at which local ``day`` begins in ``tz``."""
    start = datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)
    return start.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_minus_hours(instant: str, hours: float) -> str:
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00")) - timedelta(hours=hours)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    tz: str
    year: int | None = None

    @property
    def start(self) -> str:
        """First UTC instant of the period (inclusive)."""
        return _utc(self.first_day, self.tz)

    @property
    def end(self) -> str:
        """First UTC instant after the period (exclusive): the next local midnight after its last day."""
        return _utc(self.last_day + timedelta(days=1), self.tz)

    def as_of(self, now: str) -> str:
        """The instant at which what is open (follow-ups, reports, proposals) is counted: the period's end, or now
        for a period that runs to today."""
        return min(self.end, now)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def to_json(self) -> dict:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat(), "year": self.year,
                "timezone": self.tz}

    def query(self) -> dict[str, str]:
        """The query arguments that name this period again (for links and exports)."""
        if self.year is not None:
            return {"year": str(self.year)}
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}


def _day(value: str, name: str, today: date) -> date:
    text = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise InvalidPeriod(msg("supervision.must_date_like_got", "{name} must be a date like {year}-01-01 (got "
                                "{value!r})", name=name, year=today.year, value=value[:40]), field=name)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidPeriod(msg("supervision.date_calendar_got", "{name} is not a date of the calendar (got "
                                "{value!r})", name=name, value=value[:40]), field=name) from None


def year_period(year: int, today: date, tz: str) -> Period:
    return Period(date(year, 1, 1), min(date(year, 12, 31), today), tz, year)


def parse_period(*, year: str | None, from_: str | None, to: str | None, today: date, tz: str) -> Period:
    """The period of ``?year=YYYY`` or ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (to defaults to today); neither: this year
    so far. InvalidPeriod (400) for a malformed value, from after to, or any day after ``today``."""
    year = (year or "").strip() or None
    from_ = (from_ or "").strip() or None
    to = (to or "").strip() or None
    if year is not None and (from_ or to):
        raise InvalidPeriod(msg("supervision.give_either_year_both", "give either year or from/to, not both"), field="year")
    if year is not None:
        if not re.fullmatch(r"\d{4}", year):
            raise InvalidPeriod(msg("supervision.year_must_year_like", "year must be a year like {year} (got "
                                    "{year2!r})", year=today.year, year2=year[:40]), field="year")
        number = int(year)
        if number > today.year:
            raise InvalidPeriod(msg("supervision.year_future_year", "year {number} is in the future (this year is "
                                    "{year})", number=number, year=today.year), field="year")
        if number < EARLIEST.year:
            raise InvalidPeriod(msg("supervision.year_must_later_got", "year must be {year} or later (got {number})",
                                    year=EARLIEST.year, number=number), field="year")
        return year_period(number, today, tz)
    if to is not None and from_ is None:
        raise InvalidPeriod(msg("supervision.give_well_yyyy_mm", "give from as well as to (from=YYYY-MM-DD)"), field="from")
    if from_ is None:
        return year_period(today.year, today, tz)
    first = _day(from_, "from", today)
    last = _day(to, "to", today) if to is not None else today
    if first > last:
        raise InvalidPeriod(msg("supervision.after", "from ({first}) is after to ({last})", first=first, last=last), field="from")
    if last > today:
        raise InvalidPeriod(msg("supervision.future_today", "to ({last}) is in the future (today is {today} in {tz})",
                                last=last, today=today, tz=tz), field="to")
    if first < EARLIEST:
        raise InvalidPeriod(msg("supervision.must_later_got", "from must be {earliest} or later (got {first})",
                                earliest=EARLIEST, first=first), field="from")
    return Period(first, last, tz, first.year if (first, last) == (date(first.year, 1, 1), date(first.year, 12, 31))
                  else None)
