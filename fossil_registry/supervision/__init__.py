"""Supervision: the province dashboard and the annual work report, generated from the registry's own records. Pure
domain code (no Flask): every figure is counted in SQL (store/supervision.py), for any period of local calendar days
(period.py); figures.py assembles them, charts.py turns them into chart data (ECharts on the dashboard) and svg.py into
server-side SVG charts and maps (the printable report and its PDF, pdf.py); exports.py makes the CSV tables."""
from __future__ import annotations

from .figures import (ACCURACY_CLASSES, AGE_CLASSES, BOUNDARY_SOURCES, SCHEDULE_STATUSES, SUMMARY_FIELDS, SURVEYED,
                      WORK_KINDS, Settings, annual_report, dashboard, first_year, months_back, registry_figures,
                      schedule_by_level, site_list, summary, today_in, trend_figures)
from .period import EARLIEST, InvalidPeriod, Period, parse_period, year_period
from . import charts, exports, pdf, svg

__all__ = ["charts", "exports", "pdf", "svg", "ACCURACY_CLASSES", "AGE_CLASSES", "BOUNDARY_SOURCES", "EARLIEST", "InvalidPeriod", "Period",
           "SCHEDULE_STATUSES", "SUMMARY_FIELDS", "SURVEYED", "Settings", "WORK_KINDS", "annual_report", "dashboard",
           "first_year", "months_back", "parse_period", "registry_figures", "schedule_by_level", "site_list",
           "summary", "today_in", "trend_figures", "year_period"]
