"""The summary tables as CSV rows (the blueprints answer them with http.responses.csv_download: UTF-8 with BOM,
formula cells neutralised). Column names are stable English keys, for scripts and spreadsheets alike."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from ..errors import NotFound
from ..inspections import SEVERITIES, THREATS, local_date
from ..vocab import Level
from .figures import KEY_LEVELS, SUMMARY_FIELDS
from ..messages import msg

TABLES = ("summary", "levels", "counties", "monthly", "threats", "key_inspections", "new_sites", "damage",
          "followups")


def _summary(r: Mapping[str, Any], tz: str):
    s = r["summary"]
    rows = [["from", s["period"]["from"]], ["to", s["period"]["to"]], ["timezone", s["period"]["timezone"]]]
    rows += [[k, s[k]] for k in SUMMARY_FIELDS]
    rows += [[f"sites_{level}", n] for level, n in s["sites_by_level"].items()]
    return ("figure", "value"), rows


def _levels(r, tz):
    s = r["summary"]["sites_by_level"]
    return (("level", "sites", "overdue", "upcoming", "never_inspected"),
            [[lv, s.get(lv, 0), r["schedule"][lv]["overdue"], r["schedule"][lv]["upcoming"],
              r["schedule"][lv]["never_inspected"]] for lv in Level.values()])


def _counties(r, tz):
    return (("county", "county_en", "sites", "overdue", "never_inspected", *KEY_LEVELS),
            [[c["county"], c["county_en"], c["sites"], c["overdue"], c["never_inspected"],
              *(c[lv] for lv in KEY_LEVELS)] for c in r["counties"]])


def _monthly(r, tz):
    keys = ("inspections", "approved", "rejected", "received", "triaged")
    return ("month",) + keys, [[m] + [r["monthly"][m][k] for k in keys] for m in r["months"]]


def _threats(r, tz):
    return ("threat",) + SEVERITIES, [[t] + [r["threats"][t][s] for s in SEVERITIES] for t in THREATS]


def _inspections(rows: Iterable[Mapping[str, Any]]):
    return (("date", "site", "name", "name_en", "level", "county", "inspectors", "condition", "threats", "actions"),
            [[i["inspected_on"], i["code"], i["name"], i["name_en"], i["level"], i["county"], i["inspectors"],
              i["condition"], i["threats"], i["actions"]] for i in rows])


def _new_sites(r, tz):
    return (("date", "site", "name", "name_en", "level", "county", "author", "reviewer"),
            [[local_date(n["created_at"], tz).isoformat(), n["code"], n["name"], n["name_en"], n["level"],
              n["county"], n["author"], n["reviewer"]] for n in r["tables"]["new_sites"]["rows"]])


def _followups(r, tz):
    return (("site", "name", "description", "due", "created", "inspection_id", "report_id"),
            [[f["code"], f["name"], f["description"], f["due_on"], local_date(f["created_at"], tz).isoformat(),
              f["inspection_id"], f["report_id"]] for f in r["tables"]["followups"]["rows"]])


_BUILDERS = {
    "summary": _summary, "levels": _levels, "counties": _counties, "monthly": _monthly, "threats": _threats,
    "key_inspections": lambda r, tz: _inspections(r["tables"]["key_inspections"]["rows"]),
    "new_sites": _new_sites,
    "damage": lambda r, tz: _inspections(r["tables"]["damage"]["rows"]),
    "followups": _followups,
}


def table(name: str, report: Mapping[str, Any], tz: str) -> tuple[Sequence[str], list[list[Any]]]:
    """(columns, rows) of one table of an annual report (supervision.annual_report with max_rows=None)."""
    if name not in _BUILDERS:
        raise NotFound(msg("supervision.table_tables", "no table {name!r}; the tables are {tables}", name=name,
                           tables=', '.join(TABLES)))
    return _BUILDERS[name](report, tz)
