"""What the supervision pages (web/supervision.py) and API (api/supervision.py) share: the period of a request, the
settings, the translated labels of the figures' vocabularies and the chart data built with them."""
from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import supervision
from ..db import get_conn
from ..i18n import translate
from ..vocab import Condition, Level, ScheduleStatus, Sensitivity, Severity, SurveyMethod, Threat, Vocabulary

# The figures' vocabularies that are the registry's own (fossil_registry.vocab), by the name the charts give them.
VOCABULARIES: dict[str, type[Vocabulary]] = {"level": Level, "sensitivity": Sensitivity, "condition": Condition,
                                             "severity": Severity, "threat": Threat, "source": SurveyMethod,
                                             "schedule": ScheduleStatus}
# The figures' own vocabularies (and the boundary sources that are no survey method).
LABELS: dict[str, dict[str, Any]] = {
    "source": {"not_stated": _l("imported or method not stated"), "no_boundary": _l("no boundary")},
    "accuracy": {"le1": _l("1 m or better"), "le5": _l("1–5 m"), "le30": _l("5–30 m"), "gt30": _l("over 30 m"),
                 "unknown": _l("not stated")},
    "decision": {"approved": _l("approved"), "rejected": _l("rejected")},
    "report": {"received": _l("received"), "triaged": _l("triaged")},
    "age": {"lt7": _l("under 7 days"), "lt30": _l("7–30 days"), "lt90": _l("30–90 days"), "ge90": _l("90 days or more")},
    "work": {"new": _l("new site registered"), "damaged": _l("damage found"), "revised": _l("site revised"),
             "inspected": _l("inspected")},
    "monthly": {"inspections": _l("inspections"), "approved": _l("proposals approved"),
                "received": _l("public reports received")},
    "chart": {"sites": _l("Sites by protection level and public sensitivity"),
              "survey": _l("Where the current boundaries come from"),
              "schedule": _l("Inspection schedule by protection level"),
              "conditions": _l("Condition of the sites inspected, by year"),
              "threats": _l("Threats recorded, by kind and severity"),
              "decisions": _l("Proposals decided per month"),
              "reports": _l("Public reports per month"),
              "waiting": _l("Proposals waiting for review, by age"),
              "monthly": _l("Work per month"),
              "sites_by_level": _l("Sites by protection level")},
}

# The summary's figures as the annual report lists them (SUMMARY_FIELDS; the period comes first in the report).
FIGURE_LABELS: dict[str, Any] = {
    "sites_total": _l("Active sites at the end of the period"),
    "sites_revised": _l("Sites revised (a new version, counted once per site)"),
    "sites_geometry_revised": _l("of which coordinates or boundary revised"),
    "new_sites": _l("New sites registered"),
    "sites_imported": _l("Sites imported from earlier records"),
    "revisions_submitted": _l("Proposals submitted"),
    "revisions_approved": _l("Proposals approved"),
    "revisions_rejected": _l("Proposals rejected"),
    "revisions_withdrawn": _l("Proposals withdrawn by their authors"),
    "revisions_waiting": _l("Proposals waiting for review at the end"),
    "median_decision_days": _l("Median days from proposal to decision"),
    "inspections": _l("Inspections"),
    "sites_inspected": _l("Sites inspected"),
    "key_sites_inspected": _l("Key sites (national and province level) inspected"),
    "sites_damaged": _l("Sites found damaged or destroyed"),
    "inspections_with_threats": _l("Inspections that recorded threats"),
    "reports_received": _l("Public reports received"),
    "reports_triaged": _l("Public reports triaged"),
    "reports_open_over_24h": _l("Public reports open for more than 24 hours at the end"),
    "median_triage_hours": _l("Median hours from report to triage"),
    "followups_created": _l("Follow-ups opened"),
    "followups_closed": _l("Follow-ups closed"),
    "followups_open": _l("Follow-ups open at the end (carried over)"),
    "overdue": _l("Sites overdue for inspection at the end"),
    "upcoming": _l("Sites due for inspection soon after the end"),
    "never_inspected": _l("Sites never inspected by the end"),
    "rescue_cases": _l("Rescue cases of reported finds"),
    "rescue_cases_open": _l("of which still open"),
    "rescue_on_site_met": _l("Officials on site within 24 hours: met"),
    "rescue_on_site_missed": _l("Officials on site within 24 hours: missed"),
    "rescue_on_site_open": _l("Officials on site within 24 hours: still running"),
    "rescue_opinion_met": _l("Opinion within 7 days: met"),
    "rescue_opinion_missed": _l("Opinion within 7 days: missed"),
    "rescue_opinion_open": _l("Opinion within 7 days: still running"),
    "specimens_rescued": _l("Fossil specimens rescued"),
    "samples_collected": _l("Samples collected"),
}


def label(vocabulary: str, key: str) -> str:
    """The translated label of ``key`` in one of the figures' vocabularies (VOCABULARIES, LABELS), the key itself if
    it has none."""
    found = LABELS.get(vocabulary, {}).get(key)
    if found is None and vocabulary in VOCABULARIES:
        found = getattr(VOCABULARIES[vocabulary].get(key), "label", None)
    return str(translate(found)) if found is not None else str(key)


def settings() -> supervision.Settings:
    return supervision.Settings.from_config(current_app.config)


def request_period(s: supervision.Settings | None = None) -> supervision.Period:
    """The period of ``?year=YYYY`` or ``?from=...&to=...`` (this year so far when neither): 400 when malformed."""
    s = s or settings()
    return supervision.parse_period(year=request.args.get("year"), from_=request.args.get("from"),
                                    to=request.args.get("to"), today=supervision.today_in(s), tz=s.timezone)


def list_link(**filters) -> str:
    """The list behind a dashboard figure (web page of the sites matching ``filters``)."""
    return url_for("supervision.sites", **{k: v for k, v in filters.items() if v not in (None, "")})


def dashboard_data() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the dashboard's figures, its charts) for today."""
    s = settings()
    figures = supervision.dashboard(get_conn(), s, supervision.today_in(s))
    return figures, supervision.charts.dashboard_charts(figures, label, list_link)


def report_data(period: supervision.Period, *, max_rows: int | None = -1) -> dict[str, Any]:
    return supervision.annual_report(get_conn(), period, settings(), max_rows=max_rows)


def report_title(period: supervision.Period, language: str) -> str:
    """The report's title in the request's language (the region's name in that language)."""
    s = settings()
    region = s.region_name_zh if language == "zh" else s.region_name
    if period.year is not None:
        return _("%(region)s fossil protection work report %(year)d", region=region, year=period.year)
    return _("%(region)s fossil protection work report %(start)s to %(end)s", region=region,
             start=period.first_day.isoformat(), end=period.last_day.isoformat())
