"""Chart data from the figures: one small data model (categories along the axis, one series per stacked or grouped
part) drawn by ECharts on the dashboard (static/js/supervision-charts.js reads it from a JSON data block) and by
svg.py in the printable report. Labels come from the caller (``label(vocabulary, key)``: the web layer translates),
so this module holds no UI text; every label is data, never script or template source."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from ..vocab import Condition, Level, ScheduleStatus, Sensitivity, Severity, SurveyMethod, Threat
from .figures import AGE_CLASSES, BOUNDARY_SOURCES, WORK_KINDS

Label = Callable[[str, str], str]

# Colours of the registry's vocabularies are the vocabulary's (as on the maps); the figures' own groupings are drawn only
# here.
COLOURS: dict[str, dict[str, str]] = {
    "level": Level.colours(),
    "sensitivity": Sensitivity.colours(),
    "condition": Condition.colours(),
    "severity": Severity.colours(),
    "schedule": ScheduleStatus.colours(),
    "source": {**SurveyMethod.colours(), "not_stated": "#c8ccce", "no_boundary": "#ecf0f1"},
    "decision": {"approved": "#27ae60", "rejected": "#c0392b"},
    "report": {"received": "#e67e22", "triaged": "#1f5fbf"},
    "work": {"new": "#8e44ad", "damaged": "#c0392b", "revised": "#1f5fbf", "inspected": "#27ae60"},
    "monthly": {"inspections": "#27ae60", "approved": "#1f5fbf", "received": "#e67e22"},
    "age": {"lt7": "#27ae60", "lt30": "#f1c40f", "lt90": "#e67e22", "ge90": "#c0392b"},
}


def chart(chart_id: str, title: str, categories: Sequence[str], series: list[dict[str, Any]], *,
          kind: str = "stacked", horizontal: bool = False, links: Sequence[str | None] | None = None,
          unit: str = "") -> dict[str, Any]:
    """One chart: ``kind`` stacked (parts of a whole), grouped (side by side) or line."""
    return {"id": chart_id, "title": title, "kind": kind, "horizontal": horizontal, "categories": list(categories),
            "series": series, "links": list(links) if links else None, "unit": unit}


def _series(rows: Mapping[str, Mapping[str, int]], keys: Sequence[str], vocabulary: str, label: Label,
            categories: Sequence[str]) -> list[dict[str, Any]]:
    """One series per key (e.g. each condition) over the categories (e.g. years), leaving out all-zero series."""
    out = []
    for key in keys:
        data = [int(rows.get(c, {}).get(key, 0)) for c in categories]
        if any(data):
            out.append({"key": key, "name": label(vocabulary, key), "data": data,
                        "color": COLOURS.get(vocabulary, {}).get(key, "#888")})
    return out


def dashboard_charts(d: Mapping[str, Any], label: Label, link: Callable[..., str]) -> list[dict[str, Any]]:
    """The dashboard's charts; ``link(**filters)`` makes the URL of the list behind a bar (site list filters)."""
    levels = Level.values()
    level_names = [label("level", lv) for lv in levels]
    reg, trends = d["registry"], d["trends"]
    return [
        chart("sites", label("chart", "sites"), level_names,
              _series(reg["sensitivity"], Sensitivity.values(), "sensitivity", label, levels),
              links=[link(level=lv) for lv in levels]),
        chart("survey", label("chart", "survey"), level_names,
              _series(reg["boundary_sources"], BOUNDARY_SOURCES, "source", label, levels), horizontal=True),
        chart("schedule", label("chart", "schedule"), level_names,
              _series(d["schedule"], ScheduleStatus.values(), "schedule", label, levels),
              links=[link(level=lv, status="overdue") for lv in levels]),
        chart("conditions", label("chart", "conditions"), trends["years"],
              _series(trends["conditions_by_year"], Condition.values(), "condition", label, trends["years"])),
        chart("threats", label("chart", "threats"), [label("threat", t) for t in Threat],
              _series(trends["threats"], Severity.values(), "severity", label, Threat.values()), horizontal=True),
        chart("decisions", label("chart", "decisions"), trends["months"],
              _series(trends["decisions_by_month"], ("approved", "rejected"), "decision", label, trends["months"]),
              kind="grouped"),
        chart("reports", label("chart", "reports"), trends["months"],
              _series(trends["reports_by_month"], ("received", "triaged"), "report", label, trends["months"]),
              kind="line"),
        chart("waiting", label("chart", "waiting"), [label("age", a) for a in AGE_CLASSES],
              [{"key": "waiting", "name": label("chart", "waiting"), "data": [d["waiting_by_age"][a]
                                                                              for a in AGE_CLASSES],
                "color": COLOURS["decision"]["approved"]}], kind="grouped"),
    ]


def report_charts(r: Mapping[str, Any], label: Label) -> list[dict[str, Any]]:
    """The annual report's charts (drawn as SVG: they print, and WeasyPrint runs no scripts)."""
    months = r["months"]
    years = sorted(r["conditions"])
    by_level = {lv: {"sites": n} for lv, n in r["summary"]["sites_by_level"].items()}
    return [
        chart("monthly", label("chart", "monthly"), months,
              _series(r["monthly"], ("inspections", "approved", "received"), "monthly", label, months),
              kind="grouped"),
        chart("report-sites", label("chart", "sites_by_level"), [label("level", lv) for lv in Level],
              [{"key": "sites", "name": label("chart", "sites_by_level"),
                "data": [by_level.get(lv, {}).get("sites", 0) for lv in Level],
                "color": Level.NATIONAL.colour}], kind="grouped"),
        chart("report-conditions", label("chart", "conditions"), years,
              _series(r["conditions"], Condition.values(), "condition", label, years)),
        chart("report-threats", label("chart", "threats"), [label("threat", t) for t in Threat],
              _series(r["threats"], Severity.values(), "severity", label, Threat.values()), horizontal=True),
    ]


def work_legend(counts: Mapping[str, int], label: Label) -> list[dict[str, Any]]:
    return [{"key": k, "name": label("work", k), "count": counts.get(k, 0), "color": COLOURS["work"][k]}
            for k in WORK_KINDS]
