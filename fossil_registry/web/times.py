"""Times in the pages, in the registry's time zone (fossil_registry.local_time): one filter for every page.

``{{ rev.created_at|local_time }}`` is ``2026-12-07 15:16``; ``|local_time(zone=True)`` adds the zone's name
(``2026-12-07 15:16 (北京时间)``), for a time that stands alone; a table's heading names the zone once with
``time_zone_name()``. ``|local_day`` is the calendar day of a timestamp."""
from __future__ import annotations

from flask import current_app

from .. import local_time
from ..i18n import translate


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def time_zone_name() -> str:
    """The registry's zone as the reader says it: 北京时间 / Beijing time, or its UTC offset."""
    return translate(local_time.zone_name(_tz()))


def local_time_filter(timestamp, zone: bool = False, seconds: bool = False) -> str:
    text = local_time.local_text(timestamp, _tz(), seconds=seconds)
    return f"{text} ({time_zone_name()})" if text and zone else text


def local_day_filter(timestamp) -> str:
    return local_time.local_day(timestamp, _tz())


def init_app(app) -> None:
    app.jinja_env.filters["local_time"] = local_time_filter
    app.jinja_env.filters["local_day"] = local_day_filter
    app.jinja_env.globals["time_zone_name"] = time_zone_name
