"""Inspection settings, read from the app configuration (defaults: config.py), and dates in the registry's time
zone."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from .. import config
from ..vocab import Level


@dataclass(frozen=True)
class Settings:
    """Inspection settings, read from the app configuration (defaults: config.py)."""

    intervals: Mapping[str, int]     # days between inspections, by protection level
    upcoming_days: int
    photo_max_distance_m: float
    photo_date_tolerance_days: int
    timezone: str
    photo_max_bytes: int
    photo_max_pixels: int
    max_photos: int
    gpx_max_bytes: int
    gpx_max_points: int
    region_bbox: tuple[float, float, float, float]
    region_name: str
    region_max_distance_km: float
    marker_followup_days: int        # a damaged or missing protection marker: follow-up due this many days later

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Settings":
        c = config.settings(config_)
        intervals = dict(config.INSPECTION_INTERVAL_DAYS)
        given = c["INSPECTION_INTERVAL_DAYS"] or {}
        if not isinstance(given, Mapping):
            raise ValueError("INSPECTION_INTERVAL_DAYS must map protection levels to days, e.g. "
                             + json.dumps(config.INSPECTION_INTERVAL_DAYS))
        for level, days in given.items():
            if level not in Level.values() or not isinstance(days, int) or isinstance(days, bool) or days < 1:
                raise ValueError(f"INSPECTION_INTERVAL_DAYS: {level!r}: {days!r} must be a protection level "
                                 f"({', '.join(Level.values())}) and a whole number of days >= 1")
            intervals[level] = days

        def get(key, kind):
            try:
                return kind(c[key])
            except (TypeError, ValueError):
                raise ValueError(f"{key} must be a number (got {c[key]!r})") from None

        return cls(intervals=intervals, upcoming_days=get("INSPECTION_UPCOMING_DAYS", int),
                   photo_max_distance_m=get("PHOTO_MAX_DISTANCE_M", float),
                   photo_date_tolerance_days=get("PHOTO_DATE_TOLERANCE_DAYS", int), timezone=c["TIMEZONE"],
                   photo_max_bytes=get("PHOTO_MAX_BYTES", int), photo_max_pixels=get("PHOTO_MAX_PIXELS", int),
                   max_photos=get("INSPECTION_MAX_PHOTOS", int), gpx_max_bytes=get("GPX_MAX_BYTES", int),
                   gpx_max_points=get("GPX_MAX_POINTS", int), region_bbox=tuple(c["REGION_BBOX"]),
                   region_name=c["REGION_NAME"], region_max_distance_km=get("REGION_MAX_DISTANCE_KM", float),
                   marker_followup_days=get("MARKER_FOLLOWUP_DAYS", int))

    @classmethod
    def defaults(cls) -> "Settings":
        return cls.from_config({})


def local_today(tz: str) -> date:
    return datetime.now(ZoneInfo(tz)).date()


def local_date(timestamp: str, tz: str) -> date:
    """The calendar date, in the registry's time zone, of a stored UTC timestamp."""
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(ZoneInfo(tz)).date()
