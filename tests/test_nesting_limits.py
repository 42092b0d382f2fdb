"""Deeply nested JSON, GeoJSON and XML get a 4xx problem answer and change nothing, never a RecursionError (issue 9,
finding 7: a 500 reachable anonymously on /api/reports, revision bodies and .geojson uploads)."""
from __future__ import annotations

import io
import json

import pytest

from fossil_registry.db import get_conn
from fossil_registry.json_input import MAX_DEPTH

from .conftest import bearer

DEEP = "[" * 100_000 + "]" * 100_000              # beyond Python's recursion limit: the parser itself fails
MODERATE = "[" * (MAX_DEPTH + 8) + "]" * (MAX_DEPTH + 8)  # parses, but deeper than any valid input
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000


def _rows(app) -> dict:
    with app.app_context():
        conn = get_conn()
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("revisions", "public_reports", "inspections", "audit_log", "site_versions",
                          "impact_screenings", "impact_cases", "section_versions", "protection_markers",
                          "rescue_cases", "rescue_events")}


ENDPOINTS = [  # (path, who) of every endpoint that reads a JSON body
    ("/api/reports", None), ("/api/sites/GZ-0003/revisions", "field"), ("/api/revisions", "field"),
    ("/api/revisions/1/decision", "expert"), ("/api/revisions/batch-decision", "expert"),
    ("/api/revisions/1/amend", "field"), ("/api/revisions/1/comments", "field"), ("/api/revisions/1/withdraw", "field"),
    ("/api/sites/GZ-0001/restore", "admin"), ("/api/sites/GZ-0001/inspections", "expert"),
    ("/api/followups/1/close", "expert"), ("/api/reports/1/accept", "expert"), ("/api/reports/1/dismiss", "expert"),
    ("/api/impact", None), ("/api/impact", "field"), ("/api/impact/screenings/1/cases", "expert"),
    ("/api/impact/cases/1", "expert"), ("/api/impact/cases/1/rescreen", "expert"),
    ("/api/imports/1/mapping", "admin"), ("/api/imports/1/confirm", "admin"),
    ("/api/sections", "field"), ("/api/sections/GZS-0002/revisions", "field"),
    ("/api/sections/GZS-0002/inspections", "expert"), ("/api/sites/GZ-0001/markers", "expert"),
    ("/api/sections/GZS-0001/markers", "expert"), ("/api/rescues", "expert"), ("/api/rescues/1/events", "expert"),
]


@pytest.mark.parametrize("body", [DEEP, MODERATE, DEEP_OBJECT], ids=["deep", "moderate", "object"])
@pytest.mark.parametrize("path, who", ENDPOINTS)
def test_deeply_nested_request_bodies_are_refused(app, client, path, who, body):
    before = _rows(app)
    r = client.post(path, data=body, content_type="application/json", headers=bearer(who) if who else {})
    assert r.status_code == 400, (path, r.status_code)
    assert r.mimetype == "application/problem+json" and "nested" in r.get_json()["detail"]
    assert _rows(app) == before


@pytest.mark.parametrize("field", ["location", "boundary", "properties"])
def test_deeply_nested_json_in_form_fields_is_refused(app, client, field):
    before = _rows(app)
    value = json.dumps({"type": "Point", "coordinates": json.loads(MODERATE)}) if field != "properties" else DEEP_OBJECT
    r = client.post("/api/sites/GZ-0003/revisions", headers=bearer("field"), content_type="multipart/form-data",
                    data={"base_version": "1", "reason": "r", field: value})
    assert 400 <= r.status_code < 500 and r.mimetype == "application/problem+json", r.get_data(as_text=True)[:300]
    assert _rows(app) == before


def test_deeply_nested_inspection_record_part_is_refused(app, client):
    r = client.post("/api/sites/GZ-0001/inspections", headers=bearer("expert"), content_type="multipart/form-data",
                    data={"record": DEEP})
    assert r.status_code == 400 and "nested" in r.get_json()["detail"]


@pytest.mark.parametrize("name, data", [
    ("deep.geojson", DEEP.encode()),
    ("deep2.geojson", json.dumps({"type": "Feature", "properties": {},
                                  "geometry": {"type": "GeometryCollection", "geometries": []}})
     .replace('"geometries": []', '"geometries": ' + MODERATE).encode()),
    ("deep.kml", b"<kml><Placemark>" + b"<MultiGeometry>" * 5000 + b"<Point><coordinates>105.58,25.9</coordinates>"
     b"</Point>" + b"</MultiGeometry>" * 5000 + b"</Placemark></kml>"),
])
def test_deeply_nested_uploads_are_refused(app, client, name, data):
    before = _rows(app)
    r = client.post("/api/sites/GZ-0003/revisions", headers=bearer("field"), content_type="multipart/form-data",
                    data={"base_version": "1", "reason": "r", "target": "location", "file": (io.BytesIO(data), name)})
    assert 400 <= r.status_code < 500 and r.mimetype == "application/problem+json", r.get_data(as_text=True)[:300]
    assert "nested" in r.get_json()["detail"] or "deep" in r.get_json()["detail"]
    assert _rows(app) == before


@pytest.mark.parametrize("path, field", [("/api/impact", "footprint"), ("/impact", "footprint_drawn")])
def test_deeply_nested_footprints_in_form_fields_are_refused(app, client, path, field):
    from .conftest import csrf_token

    before = _rows(app)
    data = {field: json.dumps({"type": "LineString", "coordinates": json.loads(MODERATE)})}
    if path == "/impact":
        data["csrf_token"] = csrf_token(client, "/impact")
    r = client.post(path, content_type="multipart/form-data", data=data)
    assert r.status_code == 400 and "nested" in r.get_data(as_text=True), r.get_data(as_text=True)[:300]
    assert _rows(app) == before
