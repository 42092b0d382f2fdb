"""Role matrix entries of impact screening (picked up by tests/test_auth.py): screening is open to everybody (the
public view for anonymous callers), saved screenings are for staff, project cases are decided by experts. Factories
save a fresh screening (and open a fresh case) through the domain for each request that needs one."""
from __future__ import annotations

import json

from fossil_registry import impact, store

ROAD = {"type": "LineString", "coordinates": [[105.30, 25.85], [105.45, 25.90]]}


def _conn(app):
    return store.connect(app.config["REGISTRY"])


def saved_screening(app) -> int:
    conn = _conn(app)
    try:
        settings = impact.Settings.from_config(app.config)
        footprint = impact.from_geojson(ROAD, settings, width_m=30)
        result = impact.screen(conn, footprint, settings, exact=True)
        return impact.save(conn, result, title="matrix road", actor="matrix").screening_id
    finally:
        conn.close()


def new_case(app) -> int:
    sid = saved_screening(app)
    conn = _conn(app)
    try:
        return impact.open_case(conn, sid, {"name": "matrix road"}, actor="matrix")["fid"]
    finally:
        conn.close()


def _drawn():
    return {"footprint_drawn": json.dumps(ROAD), "width_m": "30"}


WEB = {
    "impact.form": ("GET", "/impact", None, None),
    "impact.screen": ("POST", "/impact", _drawn, None),
    "impact.export": ("POST", "/impact/export", lambda: {"footprint": json.dumps(ROAD), "format": "json"}, None),
    "impact.screenings": ("GET", "/impact/screenings", None, "field"),
    "impact.screening_page": ("GET", lambda app: f"/impact/screenings/{saved_screening(app)}", None, "field"),
    "impact.screening_download": ("GET", lambda app: f"/impact/screenings/{saved_screening(app)}.gpkg", None,
                                  "field"),
    "impact.rerun": ("POST", lambda app: f"/impact/screenings/{saved_screening(app)}/rerun", dict, "field"),
    "impact.open_case": ("POST", lambda app: f"/impact/screenings/{saved_screening(app)}/case",
                         lambda: {"name": "matrix case", "stage": "planning"}, "expert"),
    "impact.cases": ("GET", "/impact/cases", None, "field"),
    "impact.case_page": ("GET", lambda app: f"/impact/cases/{new_case(app)}", None, "field"),
    "impact.update_case": ("POST", lambda app: f"/impact/cases/{new_case(app)}",
                           lambda: {"version": "1", "stage": "application"}, "expert"),
    "impact.rescreen_case": ("POST", lambda app: f"/impact/cases/{new_case(app)}/rescreen", lambda: {"version": "1"},
                             "expert"),
}

API = {
    "impact_api.screen": ("POST", "/api/impact", lambda: {"footprint": ROAD, "width_m": 30}, None),
    "impact_api.screenings": ("GET", "/api/impact/screenings", None, "field"),
    "impact_api.screening": ("GET", lambda app: f"/api/impact/screenings/{saved_screening(app)}", None, "field"),
    "impact_api.reproduce": ("GET", lambda app: f"/api/impact/screenings/{saved_screening(app)}/reproduce", None,
                             "field"),
    "impact_api.rerun": ("POST", lambda app: f"/api/impact/screenings/{saved_screening(app)}/rerun", dict, "field"),
    "impact_api.open_case": ("POST", lambda app: f"/api/impact/screenings/{saved_screening(app)}/cases",
                             lambda: {"name": "matrix case", "developer": "Matrix Roads Ltd"}, "expert"),
    "impact_api.cases": ("GET", "/api/impact/cases", None, "field"),
    "impact_api.case": ("GET", lambda app: f"/api/impact/cases/{new_case(app)}", None, "field"),
    "impact_api.update_case": ("POST", lambda app: f"/api/impact/cases/{new_case(app)}",
                               lambda: {"version": 1, "decision": "conditions", "conditions": ["monitoring"]},
                               "expert"),
    "impact_api.rescreen_case": ("POST", lambda app: f"/api/impact/cases/{new_case(app)}/rescreen",
                                 lambda: {"version": 1}, "expert"),
}
