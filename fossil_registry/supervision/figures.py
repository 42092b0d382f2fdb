"""The figures of supervision, counted from the registry's own records (all counting is SQL in store/supervision.py):

* ``summary``: one period's figures (GET /api/supervision/summary, the annual report's first table);
* ``dashboard``: the province now, this year so far, and the trends of the last months and years;
* ``annual_report``: a period's figures with its tables (key-site inspections, new sites, damage found, follow-ups
  carried into the next period), the year's work on a map, and the monthly figures;
* ``site_list``: the sites behind a figure (by level, sensitivity, county, schedule status).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from .. import config, features, rescues, store
from ..inspections import CONDITIONS, SEVERITIES, THREATS, local_date, local_today, schedule
from ..inspections import Settings as InspectionSettings
from ..revisions import METHODS
from ..store import supervision as sstore
from ..vocab import Level, ScheduleStatus, Sensitivity, SurveyMethod
from .period import Period, utc_minus_hours, year_period

SCHEDULE_STATUSES = ScheduleStatus.values()
# the boundary survey campaign: measured in the field with GNSS
SURVEYED = (SurveyMethod.RTK.value, SurveyMethod.HANDHELD_GNSS.value)
BOUNDARY_SOURCES = METHODS + ("not_stated", "no_boundary")
# The key sites' protection levels (counted per county besides all sites).
KEY_LEVELS = (Level.NATIONAL.value, Level.PROVINCIAL.value)
ACCURACY_CLASSES = ("le1", "le5", "le30", "gt30", "unknown")
AGE_CLASSES = ("lt7", "lt30", "lt90", "ge90")
WORK_KINDS = ("new", "damaged", "revised", "inspected")
# The fields of GET /api/supervision/summary, in this order (docs/supervision.md says what each one counts).
SUMMARY_FIELDS = (
    "sites_total", "sites_revised", "sites_geometry_revised", "new_sites", "sites_imported",
    "revisions_submitted", "revisions_approved", "revisions_rejected", "revisions_withdrawn", "revisions_waiting",
    "median_decision_days", "inspections", "sites_inspected", "key_sites_inspected", "sites_damaged",
    "inspections_with_threats", "reports_received", "reports_triaged", "reports_open_over_24h", "median_triage_hours",
    "followups_created", "followups_closed", "followups_open", "overdue", "upcoming", "never_inspected",
    "rescue_cases", "rescue_cases_open", "rescue_on_site_met", "rescue_on_site_missed", "rescue_on_site_open",
    "rescue_opinion_met", "rescue_opinion_missed", "rescue_opinion_open", "specimens_rescued", "samples_collected",
)


@dataclass(frozen=True)
class Settings:
    """Supervision settings, read from the app configuration (defaults: config.py)."""

    timezone: str
    intervals: Mapping[str, int]
    upcoming_days: int
    response_hours: float
    trend_years: int
    max_rows: int
    max_markers: int
    region_name: str
    region_name_zh: str
    region_bbox: tuple[float, float, float, float]
    rescue: rescues.Settings                  # the legal clock of rescue cases
    inspection: InspectionSettings            # the schedule of the stratigraphic sections

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Settings":
        c = config.settings(config_)
        inspection = InspectionSettings.from_config(config_)
        return cls(timezone=c["TIMEZONE"], intervals=dict(inspection.intervals),
                   upcoming_days=inspection.upcoming_days, response_hours=float(c["REPORT_RESPONSE_HOURS"]),
                   trend_years=int(c["SUPERVISION_TREND_YEARS"]), max_rows=int(c["SUPERVISION_REPORT_MAX_ROWS"]),
                   max_markers=int(c["SUPERVISION_MAP_MAX_MARKERS"]), region_name=c["REGION_NAME"],
                   region_name_zh=c["REGION_NAME_ZH"], region_bbox=tuple(c["REGION_BBOX"]),
                   rescue=rescues.Settings.from_config(config_), inspection=inspection)

    @classmethod
    def defaults(cls) -> "Settings":
        return cls.from_config({})


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _schedule_args(settings: Settings, as_of: str, day: date) -> dict[str, Any]:
    return {"as_of": as_of, "day": day.isoformat(), "intervals": settings.intervals,
            "upcoming_days": settings.upcoming_days}


def schedule_groups(conn, settings: Settings, as_of: str, day: date) -> list[dict[str, Any]]:
    """The sites active at ``as_of`` and their schedule on ``day`` (the rule of inspections.schedule: interval by level
    after the last inspection, or after the site came into existence), counted by county, level, status and whether
    never inspected: one SQL query that the figures below share."""
    sstore.use_time_zone(conn, settings.timezone)
    return sstore.schedule_groups(conn, **_schedule_args(settings, as_of, day))


def by_level(groups: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """{level: {overdue, upcoming, ok, never_inspected, sites}}."""
    out = {level: {**{s: 0 for s in SCHEDULE_STATUSES}, "never_inspected": 0, "sites": 0} for level in Level.values()}
    for g in groups:
        row = out.setdefault(g["level"], {**{s: 0 for s in SCHEDULE_STATUSES}, "never_inspected": 0, "sites": 0})
        row[g["status"]] += g["sites"]
        row["sites"] += g["sites"]
        if g["never"]:
            row["never_inspected"] += g["sites"]
    return out


def by_county(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per county, most sites first: sites, overdue, never inspected, its key sites of each of KEY_LEVELS, and the
    mean position of its sites (where to draw it)."""
    counties: dict[str, dict[str, Any]] = {}
    for g in groups:
        c = counties.setdefault(g["county"], {"county": g["county"], "county_en": None, "sites": 0, "overdue": 0,
                                              "never_inspected": 0, **dict.fromkeys(KEY_LEVELS, 0),
                                              "_lon": 0.0, "_lat": 0.0, "_placed": 0})
        c["county_en"] = c["county_en"] or g["county_en"]
        c["sites"] += g["sites"]
        c["overdue"] += g["sites"] if g["status"] == ScheduleStatus.OVERDUE else 0
        c["never_inspected"] += g["sites"] if g["never"] else 0
        if g["level"] in KEY_LEVELS:
            c[g["level"]] += g["sites"]
        c["_lon"] += g["lon_sum"] or 0.0
        c["_lat"] += g["lat_sum"] or 0.0
        c["_placed"] += g["placed"]
    out = []
    for c in counties.values():
        placed = c.pop("_placed")
        lon, lat = c.pop("_lon"), c.pop("_lat")
        c["lon"], c["lat"] = (lon / placed, lat / placed) if placed else (None, None)
        out.append(c)
    return sorted(out, key=lambda c: (-c["sites"], c["county"]))


def schedule_by_level(conn, settings: Settings, as_of: str, day: date) -> dict[str, dict[str, int]]:
    """{level: {overdue, upcoming, ok, never_inspected, sites}} of the sites active at ``as_of`` on ``day``."""
    return by_level(schedule_groups(conn, settings, as_of, day))


def _summary(conn, period: Period, settings: Settings, now: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    sstore.use_time_zone(conn, settings.timezone)
    as_of = period.as_of(now)
    counts = sstore.period_counts(conn, start=period.start, end=period.end, first_day=period.first_day.isoformat(),
                                  last_day=period.last_day.isoformat(), as_of=as_of,
                                  late_before=utc_minus_hours(as_of, settings.response_hours))
    groups = schedule_groups(conn, settings, as_of, period.last_day)
    levels = by_level(groups)
    figures = {
        **counts,
        "sites_total": sum(row["sites"] for row in levels.values()),
        "median_decision_days": _round(sstore.median_decision_days(conn, start=period.start, end=period.end)),
        "median_triage_hours": _round(sstore.median_triage_hours(conn, start=period.start, end=period.end)),
        "overdue": sum(row["overdue"] for row in levels.values()),
        "upcoming": sum(row["upcoming"] for row in levels.values()),
        "never_inspected": sum(row["never_inspected"] for row in levels.values()),
        **rescue_figures(conn, period, settings, as_of),
    }
    return ({"period": period.to_json(), **{k: figures[k] for k in SUMMARY_FIELDS},
             "sites_by_level": {level: levels[level]["sites"] for level in Level.values()}}, groups)


def rescue_figures(conn, period: Period, settings: Settings, as_of: str) -> dict[str, int]:
    """Rescue cases reported in the period and their legal clock at its end (rescues.figures)."""
    r = rescues.figures(conn, settings.rescue, period.start, period.end, now=as_of)
    return {"rescue_cases": r["cases"], "rescue_cases_open": r["open"],
            **{f"rescue_{d}_{k}": r[d][k] for d in ("on_site", "opinion") for k in ("met", "missed", "open")},
            "specimens_rescued": r["specimens"], "samples_collected": r["samples"]}


def summary(conn, period: Period, settings: Settings, now: str | None = None) -> dict[str, Any]:
    """One period's figures (SUMMARY_FIELDS), plus the period itself and the active sites by level. What is open
    (follow-ups, waiting proposals, late reports) and the schedule (overdue, upcoming, never inspected) are counted at
    the period's end, or now for a period that runs to today."""
    return _summary(conn, period, settings, now or store.utc_now())[0]


# --------------------------------------------------------------------------------------------------------------------
# The dashboard
# --------------------------------------------------------------------------------------------------------------------
def _months(first: date, last: date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def months_back(today: date, count: int, tz: str) -> Period:
    """The last ``count`` calendar months, this one included (to today)."""
    y, m = today.year, today.month - (count - 1)
    while m < 1:
        y, m = y - 1, m + 12
    return Period(date(y, m, 1), today, tz)


def _nested(rows, first: tuple[str, ...], second: tuple[str, ...]) -> dict[str, dict[str, int]]:
    out = {a: {b: 0 for b in second} for a in first}
    for a, b, count in rows:
        out.setdefault(a, {x: 0 for x in second})
        out[a][b] = out[a].get(b, 0) + count
    return out


def registry_figures(conn) -> dict[str, Any]:
    """Active sites by sensitivity and level, and the boundary survey campaign (source and stated accuracy of each
    site's current boundary, by level)."""
    sources = sstore.boundary_sources(conn)
    by_method = _nested([(lvl, method, n) for lvl, method, _acc, n in sources], Level.values(), BOUNDARY_SOURCES)
    accuracy = _nested([(lvl, acc, n) for lvl, method, acc, n in sources if method != "no_boundary"], Level.values(),
                       ACCURACY_CLASSES)
    with_boundary = {lvl: sum(n for m, n in row.items() if m != "no_boundary") for lvl, row in by_method.items()}
    surveyed = {lvl: sum(row[m] for m in SURVEYED) for lvl, row in by_method.items()}
    return {
        "sensitivity": _nested([(lvl, s, n) for lvl, s, n in sstore.current_sites_by(conn, "sensitivity")],
                               Level.values(), Sensitivity.values()),
        "boundary_sources": by_method,
        "boundary_accuracy": accuracy,
        "survey_progress": {lvl: {"with_boundary": with_boundary[lvl], "surveyed": surveyed[lvl],
                                  "share": round(surveyed[lvl] / with_boundary[lvl], 3) if with_boundary[lvl] else None}
                            for lvl in by_method},
    }


def trend_figures(conn, settings: Settings, today: date) -> dict[str, Any]:
    """The last twelve months (decisions and public reports per month, threats by kind and severity) and the last
    ``trend_years`` years (site conditions)."""
    sstore.use_time_zone(conn, settings.timezone)
    months = months_back(today, 12, settings.timezone)
    years = Period(date(today.year - settings.trend_years + 1, 1, 1), today, settings.timezone)
    first, last = months.first_day.isoformat(), months.last_day.isoformat()
    labels = _months(months.first_day, months.last_day)
    return {
        "months": labels,
        "decisions_by_month": _nested(sstore.decisions_by_month(conn, start=months.start, end=months.end),
                                      tuple(labels), ("approved", "rejected")),
        "reports_by_month": _nested(sstore.reports_by_month(conn, start=months.start, end=months.end),
                                    tuple(labels), ("received", "triaged")),
        "median_decision_days": _round(sstore.median_decision_days(conn, start=months.start, end=months.end)),
        "median_triage_hours": _round(sstore.median_triage_hours(conn, start=months.start, end=months.end)),
        "threats": _nested(sstore.threats_by_kind(conn, first_day=first, last_day=last), THREATS, SEVERITIES),
        "threat_points": sstore.threat_points(conn, first_day=first, last_day=last, limit=settings.max_markers),
        "years": [str(y) for y in range(years.first_day.year, today.year + 1)],
        "conditions_by_year": _nested(
            sstore.conditions_by_year(conn, first_day=years.first_day.isoformat(), last_day=last),
            tuple(str(y) for y in range(years.first_day.year, today.year + 1)), CONDITIONS),
        "trend_period": months.to_json(),
    }


def dashboard(conn, settings: Settings, today: date, now: str | None = None) -> dict[str, Any]:
    """The province at a glance: this year so far (summary), the registry, the schedule by level, conditions,
    proposals waiting and their age, public reports, counties, and the trends."""
    now = now or store.utc_now()
    this_year = year_period(today.year, today, settings.timezone)
    figures, groups = _summary(conn, this_year, settings, now)  # the schedule of today: the year runs to today
    ages = dict(sstore.waiting_proposals_by_age(conn, now=now))
    return {
        "summary": figures,
        "registry": registry_figures(conn),
        "schedule": by_level(groups),
        "conditions_now": {c: n for c, n in sstore.latest_conditions(conn, day=today.isoformat()).items()},
        "waiting_by_age": {k: ages.get(k, 0) for k in AGE_CLASSES},
        "counties": by_county(groups),
        "trends": trend_figures(conn, settings, today),
        **other_kinds_schedules(conn, settings, today),
        "today": today.isoformat(),
    }


def other_kinds_schedules(conn, settings: Settings, today: date) -> dict[str, dict[str, int]]:
    """The inspection schedule of every registered kind besides the sites (whose schedule is the dashboard's own,
    counted in SQL over their tables), by the kind's collection: {"sections": {...}}."""
    return {kind.collection: schedule_figures(conn, settings, today, kind) for kind in features.kinds()
            if kind is not features.SITE}


def schedule_figures(conn, settings: Settings, today: date, kind: features.FeatureKind) -> dict[str, int]:
    """One kind's inspection schedule (a section's: they are few, inspections.schedule counts them)."""
    due = schedule(conn, settings.inspection, today, kinds=(kind,))
    return {"total": len(due), **{k: sum(1 for d in due if d.status == k) for k in SCHEDULE_STATUSES},
            "never_inspected": sum(1 for d in due if d.last_inspected_on is None)}


# --------------------------------------------------------------------------------------------------------------------
# The annual work report and the lists behind the figures
# --------------------------------------------------------------------------------------------------------------------
def annual_report(conn, period: Period, settings: Settings, now: str | None = None, *,
                  max_rows: int | None = -1) -> dict[str, Any]:
    """A period's figures, tables and work map. Tables are cut at ``max_rows`` (default: the settings' limit; None:
    everything, for the CSV exports); each table says how many rows it has in all."""
    now = now or store.utc_now()
    limit = settings.max_rows if max_rows == -1 else max_rows
    figures, groups = _summary(conn, period, settings, now)
    days = {"first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat()}
    as_of = period.as_of(now)
    tables = {
        "key_inspections": sstore.inspections_in_period(conn, **days, key_only=True, limit=limit),
        "new_sites": sstore.new_sites_in_period(conn, start=period.start, end=period.end, limit=limit),
        "damage": sstore.inspections_in_period(conn, **days, damage_only=True, limit=limit),
        "followups": sstore.open_followups_at(conn, as_of=as_of, limit=limit),
    }
    for row in tables["new_sites"][1]:
        row["day"] = local_date(row["created_at"], settings.timezone).isoformat()
    work_total, work = sstore.work_points(conn, start=period.start, end=period.end, **days,
                                          limit=settings.max_markers)
    return {
        "summary": figures,
        "tables": {name: {"total": total, "rows": rows} for name, (total, rows) in tables.items()},
        "work": {"total": work_total, "points": work,
                 "counts": {k: sum(1 for p in work if p["kind"] == k) for k in WORK_KINDS}},
        "months": _months(period.first_day, period.last_day),
        "monthly": monthly_figures(conn, period),
        "threats": _nested(sstore.threats_by_kind(conn, **days), THREATS, SEVERITIES),
        "conditions": _nested(sstore.conditions_by_year(conn, **days), tuple(sorted(
            {str(y) for y in range(period.first_day.year, period.last_day.year + 1)})), CONDITIONS),
        "counties": by_county(groups),
        "schedule": by_level(groups),
    }


def monthly_figures(conn, period: Period) -> dict[str, dict[str, int]]:
    """{month: {inspections, approved, rejected, received, triaged}} over the period's months."""
    months = _months(period.first_day, period.last_day)
    out = {m: {"inspections": 0, "approved": 0, "rejected": 0, "received": 0, "triaged": 0} for m in months}
    rows = list(sstore.inspections_by_month(conn, first_day=period.first_day.isoformat(),
                                            last_day=period.last_day.isoformat()))
    rows += sstore.decisions_by_month(conn, start=period.start, end=period.end)
    rows += sstore.reports_by_month(conn, start=period.start, end=period.end)
    for month, what, count in rows:
        if month in out:
            out[month][what] += count
    return out


def site_list(conn, settings: Settings, today: date, *, level: str | None = None, sensitivity: str | None = None,
              county: str | None = None, status: str | None = None, never: bool = False,
              limit: int = 500) -> dict[str, Any]:
    """The active sites behind a dashboard figure, with their inspection schedule; unknown filter values are refused
    by the caller (web/supervision.py reads them from closed vocabularies)."""
    sstore.use_time_zone(conn, settings.timezone)
    total, rows = sstore.list_scheduled_sites(conn, **_schedule_args(settings, store.utc_now(), today), level=level,
                                              sensitivity=sensitivity, county=county, status=status, never=never,
                                              limit=limit)
    return {"total": total, "rows": rows}


def first_year(conn, settings: Settings, today: date) -> int:
    """The first year the registry holds any record for (this year for an empty registry): the report's year list."""
    first = sstore.first_activity_day(conn)
    return today.year if first is None else min(local_date(first, settings.timezone).year, today.year)


def today_in(settings: Settings) -> date:
    """Today in the registry's time zone."""
    return local_today(settings.timezone)


__all__ = ["ACCURACY_CLASSES", "AGE_CLASSES", "BOUNDARY_SOURCES", "SCHEDULE_STATUSES", "SUMMARY_FIELDS", "SURVEYED",
           "Settings", "WORK_KINDS", "annual_report", "dashboard", "first_year", "months_back", "monthly_figures",
           "registry_figures", "schedule_by_level", "site_list", "summary", "today_in", "trend_figures"]
