"""Role matrix entries for inspections, follow-ups and public reports (picked up by tests/test_auth.py)."""
from __future__ import annotations

from pathlib import Path

from fossil_registry import inspections, reports, store
from fossil_registry.blobs import BlobStore


def _conn(app):
    return store.connect(app.config["REGISTRY"])


def _new_report(app) -> int:
    conn = _conn(app)
    try:
        settings = reports.ReportSettings.from_config(app.config)
        data = reports.parse_report({"kind": "damage", "lon": "105.372", "lat": "25.878",
                                     "description": "Fresh digging next to the marked quarry face"}, settings)
        return reports.submit_report(conn, BlobStore(app.config["DATA_DIR"]), data,
                                     settings=settings)["fid"]
    finally:
        conn.close()


def _new_followup(app) -> int:
    conn = _conn(app)
    try:
        today = inspections.local_today(app.config["TIMEZONE"]).isoformat()
        record = inspections.parse_record({"date": today, "condition": "poor", "inspectors": ["matrix"],
                                           "followup": {"description": "fence the slope", "due": "2099-01-01"}})
        rec = inspections.record_inspection(conn, BlobStore(app.config["DATA_DIR"]), "GZ-0001",
                                            record, settings=inspections.Settings.from_config(app.config),
                                            actor="matrix")
        return rec["followups"][0]["fid"]
    finally:
        conn.close()


def _report(body):
    return {"kind": "find", "lon": "105.40", "lat": "25.90", "description": "Bones showing in a new road cut",
            **body}


WEB = {
    "inspections.dashboard": ("GET", "/inspections", None, "field"),
    "inspections.timeline": ("GET", "/sites/GZ-0001/timeline", None, "field"),
    "inspections.new": ("GET", "/sites/GZ-0001/inspections/new", None, "expert"),
    "inspections.create": ("POST", "/sites/GZ-0001/inspections",
                           lambda: {"date": "2024-06-01", "condition": "good", "inspectors": "matrix"}, "expert"),
    "inspections.close_followup": ("POST", lambda app: f"/followups/{_new_followup(app)}/close",
                                   lambda: {"note": "fence built"}, "expert"),
    "reports.submit": ("POST", "/report", lambda: _report({"contact": "138 0000 0000"}), None),
    "reports.queue": ("GET", "/reports", None, "expert"),
    "reports.accept": ("POST", lambda app: f"/reports/{_new_report(app)}/accept", lambda: {"mode": "followup"},
                       "expert"),
    "reports.dismiss": ("POST", lambda app: f"/reports/{_new_report(app)}/dismiss", lambda: {"reason": "duplicate"},
                        "expert"),
}

API = {
    "inspections_api.create": ("POST", "/api/sites/GZ-0001/inspections",
                               lambda: {"date": "2024-06-01", "condition": "fair"}, "expert"),
    "inspections_api.list_for_site": ("GET", "/api/sites/GZ-0001/inspections", None, "field"),
    "inspections_api.due": ("GET", "/api/inspections/due", None, "field"),
    "inspections_api.timeline": ("GET", "/api/sites/GZ-0001/timeline", None, "field"),
    "inspections_api.close_followup": ("POST", lambda app: f"/api/followups/{_new_followup(app)}/close",
                                       lambda: {"note": "fence built"}, "expert"),
    "reports_api.submit": ("POST", "/api/reports", lambda: _report({}), None),
    "reports_api.queue": ("GET", "/api/reports", None, "expert"),
    "reports_api.accept": ("POST", lambda app: f"/api/reports/{_new_report(app)}/accept", lambda: {}, "expert"),
    "reports_api.dismiss": ("POST", lambda app: f"/api/reports/{_new_report(app)}/dismiss",
                            lambda: {"reason": "duplicate"}, "expert"),
}
