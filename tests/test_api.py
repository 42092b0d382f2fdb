"""The read API over the demo registry."""
from __future__ import annotations

import pytest

from shapely.geometry import Point, shape

from fossil_registry import sites
from fossil_registry.db import get_conn

from .conftest import bearer

pytestmark = pytest.mark.both_backends


def test_sites_is_a_geojson_feature_collection(client):
    r = client.get("/api/sites", headers=bearer("field"))
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.get_json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) >= 60
    f = fc["features"][0]
    assert f["id"] == f["properties"]["code"] == "GZ-0001"
    assert f["geometry"]["type"] == "Point"
    for key in ("code", "name", "name_en", "level", "sensitivity", "version"):
        assert key in f["properties"]
    lon, lat = f["geometry"]["coordinates"]
    assert 103.6 <= lon <= 109.6 and 24.6 <= lat <= 29.2  # lon/lat order


def test_bbox_limits_the_collection(client):
    everything = client.get("/api/sites", headers=bearer("field")).get_json()["features"]
    bbox = (105.0, 25.5, 106.0, 26.5)
    inside = client.get("/api/sites?bbox=" + ",".join(map(str, bbox)), headers=bearer("field")).get_json()["features"]
    expected = {f["id"] for f in everything
                if bbox[0] <= f["geometry"]["coordinates"][0] <= bbox[2] and bbox[1] <= f["geometry"]["coordinates"][1] <= bbox[3]}
    assert {f["id"] for f in inside} == expected and 0 < len(expected) < len(everything)


def test_site_detail_current_version_and_as_of(app, client):
    h = bearer("expert")
    detail = client.get("/api/sites/GZ-0001", headers=h).get_json()
    assert detail["code"] == "GZ-0001" and detail["version"] == 1
    assert detail["location"]["type"] == "Point"
    assert detail["boundary"] is None or detail["boundary"]["type"] == "MultiPolygon"
    with app.app_context():
        conn = get_conn()
        old = sites.current(conn, "GZ-0001")
        moved = Point(old.location.x + 0.001, old.location.y)
        sites.change_site(conn, "GZ-0001", base_version=1, location=moved, author="alice", reason="RTK resurvey")
    now = client.get("/api/sites/GZ-0001", headers=h).get_json()
    assert now["version"] == 2 and shape(now["location"]).equals(moved)
    v1 = client.get("/api/sites/GZ-0001?version=1", headers=h).get_json()
    assert v1["version"] == 1 and shape(v1["location"]).equals(old.location)
    before = client.get("/api/sites/GZ-0001?as_of=" + detail["updated_at"], headers=h).get_json()
    assert before["version"] == 1
    versions = client.get("/api/sites/GZ-0001/versions", headers=h).get_json()["versions"]
    assert [(v["version"], v["author"], v["reason"]) for v in versions][1] == (2, "alice", "RTK resurvey")
    d = client.get("/api/sites/GZ-0001/diff?from=1&to=2", headers=h).get_json()
    assert d["location_changed"] and 99 < d["metrics"]["location_shift_m"] < 102


def test_errors_are_problem_json(client):
    r = client.get("/api/sites/GZ-9999")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == 404 and "GZ-9999" in body["detail"]
    for url, fragment in (("/api/sites/GZ-0001?version=abc", "whole number"),
                          ("/api/sites/GZ-0001?version=99", "no version 99"),
                          ("/api/sites/GZ-0001?as_of=yesterday", "ISO-8601"),
                          ("/api/sites?bbox=1,2,3", "bbox must be"),
                          ("/api/sites/GZ-0001/diff?from=1", "from=N&to=M")):
        r = client.get(url, headers=bearer("expert"))
        assert r.status_code in (400, 404, 422) and r.mimetype == "application/problem+json", url
        assert fragment in r.get_json()["detail"], url
    r = client.get("/api/nowhere")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
