"""Role matrix entries for supervision (picked up by tests/test_auth.py): every page, answer and export is for staff
(supervision.read: field and up); anonymous callers get 401. Nothing here changes state."""
from __future__ import annotations

WEB = {
    "supervision.dashboard": ("GET", "/supervision", None, "field"),
    "supervision.sites": ("GET", "/supervision/sites?level=national", None, "field"),
    "supervision.annual_report": ("GET", "/supervision/annual-report", None, "field"),
}
API = {
    "supervision_api.summary": ("GET", "/api/supervision/summary", None, "field"),
    "supervision_api.charts": ("GET", "/api/supervision/charts", None, "field"),
    "supervision_api.report_charts": ("GET", "/api/supervision/report-charts", None, "field"),
    "supervision_api.table_csv": ("GET", "/api/supervision/counties.csv", None, "field"),
}
