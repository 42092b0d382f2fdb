"""The patrol schedule: every active site is due for inspection ``interval`` days (by protection level,
configurable) after its last inspection, or after it came into existence if it was never inspected."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from shapely.geometry import Point, mapping

from .. import sites
from ..store import inspections as istore
from .records import site_existed_since
from .settings import Settings, local_today


@dataclass
class Due:
    """A site's or section's (``kind``) place in the schedule; ``location``: the site's location, the middle of a
    section's line."""

    code: str
    name: str
    name_en: str | None
    county: str | None
    level: str
    sensitivity: str
    location: Point
    interval_days: int
    last_inspected_on: date | None
    last_condition: str | None
    baseline_on: date
    due_on: date
    days_overdue: int           # > 0 overdue by that many days; <= 0 due in -days_overdue days
    status: str                 # overdue | upcoming | ok
    open_followups: int = 0
    kind: str = "site"

    def to_json(self) -> dict[str, Any]:
        return {"site": self.code, "kind": self.kind, "name": self.name, "name_en": self.name_en, "county": self.county,
                "level": self.level, "interval_days": self.interval_days,
                "last_inspected_on": self.last_inspected_on.isoformat() if self.last_inspected_on else None,
                "last_condition": self.last_condition, "due_on": self.due_on.isoformat(),
                "days_overdue": self.days_overdue, "status": self.status, "open_followups": self.open_followups,
                "location": mapping(self.location)}


def schedule(conn, settings: Settings, today: date | None = None, *, kinds=None) -> list[Due]:
    """Every active site and section (or those of ``kinds``) with its next inspection due date, most overdue first.
    Sections are inspected at the interval of their protection level, as sites are."""
    today = today or local_today(settings.timezone)
    last = istore.last_inspections(conn)
    followups = Counter(f["code"] for f in istore.list_followups(conn, status="open"))
    first_created = {}
    out = []
    for site in [s for kind in (kinds or sites.kinds()) for s in sites.list_current(conn, kind=kind)]:
        level = site.properties.get("level")
        interval = int(settings.intervals[level])
        previous = last.get(site.code)
        if previous:
            baseline = date.fromisoformat(previous["inspected_on"])
        else:
            if site.code not in first_created:
                first_created[site.code] = site_existed_since(conn, site, settings.timezone)
            baseline = first_created[site.code]
        due = baseline + timedelta(days=interval)
        overdue = (today - due).days
        status = "overdue" if overdue > 0 else ("upcoming" if -overdue <= settings.upcoming_days else "ok")
        out.append(Due(code=site.code, name=site.properties.get("name") or "", name_en=site.properties.get("name_en"),
                       county=site.properties.get("county"), level=level, sensitivity=site.sensitivity,
                       location=sites.anchor_point(site.location), interval_days=interval,
                       last_inspected_on=baseline if previous else None,
                       last_condition=previous["condition"] if previous else None, baseline_on=baseline, due_on=due,
                       days_overdue=overdue, status=status, open_followups=followups.get(site.code, 0),
                       kind=site.kind.name))
    out.sort(key=lambda d: (-d.days_overdue, d.code))
    return out
