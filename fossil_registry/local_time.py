"""Times as people read them: a stored UTC timestamp (``YYYY-MM-DDTHH:MM:SS.mmmZ``) in the registry's time zone
(config TIMEZONE, Asia/Shanghai), and the zone's name. The API and files read by programs keep ISO 8601 with its offset;
everything a person reads (pages, printable reports, CSV tables for people, field-kit labels) goes through here."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from .messages import Label

# Zones that keep Beijing time (UTC+8, no daylight saving since 1991): named as a Chinese office says it.
BEIJING_TIME_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"})
BEIJING_TIME = Label("time_zone.beijing", "Beijing time", "北京时间")


def local_moment(timestamp: str | datetime, tz: str) -> datetime:
    """The instant ``timestamp`` (stored ISO 8601 UTC text, or an aware datetime; naive means UTC) in ``tz``."""
    moment = timestamp if isinstance(timestamp, datetime) else datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(tz))


def local_text(timestamp: str | datetime | None, tz: str, *, seconds: bool = False) -> str:
    """``2026-12-07 15:16`` (with ``:SS`` when ``seconds``) in ``tz``; empty for no timestamp. A bare date (no time
    of day) is a calendar day already and is returned as it is."""
    if timestamp is None or timestamp == "":
        return ""
    if isinstance(timestamp, str) and len(timestamp) == 10:
        return timestamp
    return local_moment(timestamp, tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_day(timestamp: str | datetime | None, tz: str) -> str:
    """The calendar day, in ``tz``, of a timestamp (``2026-12-07``); empty for none."""
    if timestamp is None or timestamp == "":
        return ""
    if isinstance(timestamp, str) and len(timestamp) == 10:
        return timestamp
    return local_moment(timestamp, tz).date().isoformat()


def utc_offset(tz: str, at: date | datetime | None = None) -> str:
    """``UTC+8``, ``UTC-3:30``: the zone's offset (now, or on ``at``)."""
    when = at if isinstance(at, datetime) else datetime.now(timezone.utc)
    offset = when.astimezone(ZoneInfo(tz)).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def zone_name(tz: str) -> Label | str:
    """What the page says the zone is: Beijing time (北京时间) for China's zone, otherwise its UTC offset."""
    return BEIJING_TIME if tz in BEIJING_TIME_ZONES else utc_offset(tz)


def with_offset(timestamp: str | datetime, tz: str) -> str:
    """``2026-12-07 15:16 (UTC+8)``: a time in ``tz`` that names its offset, for files read far from the registry."""
    at = local_moment(timestamp, tz)
    return f"{at:%Y-%m-%d %H:%M} ({utc_offset(tz, at)})"
