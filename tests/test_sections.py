"""Stratigraphic sections as registered features beside the sites: proposed from a GPX track and approved (the length
measured geodesically, checked against an independent meridian-arc integral), inspected like sites, shown through the
public view, read by GDAL from the GeoPackage, and every bad input refused with nothing half-saved."""
from __future__ import annotations

import dataclasses
import io
import re
import json
import math
from datetime import date, timedelta

import pyogrio
import pytest
from shapely.geometry import LineString, Point, shape

from fossil_registry import create_app, inspections, registry, sites, store
from fossil_registry.sections import SECTION
from fossil_registry.store import inspections as istore
from fossil_registry.store import migrations

from .backends import DB_REFUSAL
from .conftest import bearer, csrf_token, login
from .inspection_helpers import gpx_xml, jpeg

pytestmark = pytest.mark.both_backends

# GRS80 (CGCS2000's ellipsoid for every practical purpose, see geometry.py)
A, F = 6378137.0, 1 / 298.257222101
E2 = F * (2 - F)


def meridian_arc_m(lat1: float, lat2: float, steps: int = 2000) -> float:
    """Length of a meridian arc by Simpson's rule over the radius of curvature M(phi): independent of pyproj."""
    a, b = math.radians(lat1), math.radians(lat2)
    h = (b - a) / steps

    def m(phi):
        return A * (1 - E2) / (1 - E2 * math.sin(phi) ** 2) ** 1.5

    total = m(a) + m(b) + sum((4 if i % 2 else 2) * m(a + i * h) for i in range(1, steps))
    return abs(total * h / 3)


def _today(app) -> str:
    return inspections.local_today(app.config["TIMEZONE"]).isoformat()


def _count(app, table: str) -> int:
    conn = store.connect(app.config["REGISTRY"])
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def _decide(client, revision_id: int, who: str = "expert"):
    r = client.post(f"/api/revisions/{revision_id}/decision", json={"decision": "approve", "round": 1},
                    headers=bearer(who))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


# --------------------------------------------------------------------------------------------------------------------
def test_a_section_proposed_from_a_gpx_track_and_approved_with_its_geodesic_length(app, client):
    track = [(108.4012, 26.7000), (108.4012, 26.7040), (108.4012, 26.7100)]  # walked up a meridian
    fields = {"reason": "Section surveyed with handheld GNSS", "target": "line", "method": "handheld_gnss",
              "properties": json.dumps({"name": "剑河测试剖面", "name_en": "Jianhe test section", "county": "剑河县",
                                        "level": "provincial", "sensitivity": "open", "significance": "reference",
                                        "period": "Cambrian", "units": ["Kaili Formation"],
                                        "stratigraphic_boundaries": [{"name": "base of the Wuliuan Stage",
                                                                      "rank": "stage", "gssp": "candidate"}]})}
    r = client.post("/api/sections", data={**fields, "file": (io.BytesIO(gpx_xml(track)), "section.gpx")},
                    headers=bearer("field"), content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    proposal = r.get_json()
    assert proposal["feature"] == "section" and proposal["kind"] == "new_site" and proposal["status"] == "submitted"
    assert proposal["line"]["coordinates"] == [list(p) for p in track]
    assert proposal["input"]["line"]["format"] == "gpx"
    # the only warning: the public will see it (new features are hidden unless the proposal says otherwise)
    assert [w["code"] for w in proposal["warnings"] if w["code"] != "input"] == ["sensitivity_loosened"]
    expected = meridian_arc_m(26.70, 26.71)
    assert proposal["metrics"]["length_m_after"] == pytest.approx(expected, abs=0.06)
    # four eyes: the author cannot approve; another expert does
    assert client.post(f"/api/revisions/{proposal['id']}/decision", json={"decision": "approve", "round": 1},
                       headers=bearer("field")).status_code == 403
    decided = _decide(client, proposal["id"])
    code = decided["site_state"]["code"]
    assert code.startswith("GZS-") and decided["site_state"]["line"]["type"] == "LineString"
    body = client.get(f"/api/sections/{code}").get_json()  # anonymous: an open section, exactly
    assert body["properties"]["length_m"] == pytest.approx(expected, abs=0.06)
    assert body["location_precision"] == "exact" and body["version"] == 1
    assert body["properties"]["stratigraphic_boundaries"][0]["gssp"] == "candidate"
    # versioned like a site: a change of the line from a KML through the same workflow
    kml = ("<kml xmlns='http://www.opengis.net/kml/2.2'><Placemark><LineString><coordinates>108.4012,26.7000 "
           "108.4015,26.7050 108.4012,26.7110</coordinates></LineString></Placemark></kml>").encode()
    r = client.post(f"/api/sections/{code}/revisions", headers=bearer("field"), content_type="multipart/form-data",
                    data={"reason": "RTK resurvey", "base_version": "1", "target": "line",
                          "file": (io.BytesIO(kml), "resurvey.kml")})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["metrics"]["length_m_before"] == pytest.approx(expected, abs=0.06)
    _decide(client, r.get_json()["id"])
    versions = client.get(f"/api/sections/{code}/versions", headers=bearer("field")).get_json()["versions"]
    assert [v["version"] for v in versions] == [1, 2] and versions[1]["reviewer"] == "ellen"
    diff = client.get(f"/api/sections/{code}/diff?from=1&to=2", headers=bearer("field")).get_json()
    assert diff["location_changed"] and diff["metrics"]["length_m_after"] > diff["metrics"]["length_m_before"]
    # how far any part of the line moved (Hausdorff): its top, 0.001 degrees of latitude further north
    assert diff["metrics"]["location_shift_m"] == pytest.approx(meridian_arc_m(26.710, 26.711), abs=1.0)
    old = client.get(f"/api/sections/{code}?version=1", headers=bearer("field")).get_json()
    assert old["line"]["coordinates"] == [list(p) for p in track]
    # a site's code is no section, and a section's code no site
    assert client.get("/api/sections/GZ-0001").status_code == 404
    assert client.get(f"/api/sites/{code}").status_code == 404
    # staff too (schemathesis found staff got the section from /api/sites/<code>, against its documented schema)
    for path in (f"/api/sites/{code}", f"/api/sites/{code}/versions", f"/api/sites/{code}/diff?from=1&to=2"):
        r = client.get(path, headers=bearer("field"))
        assert r.status_code == 404 and r.mimetype == "application/problem+json", (path, r.status_code)
    assert client.get("/api/sections/GZ-0001", headers=bearer("field")).status_code == 404


def test_the_geopackage_holds_sections_as_a_line_layer_gis_users_open(app, client, backend, tmp_path):
    """The GeoPackage itself, or on PostGIS the GeoPackage its registry exports."""
    client.post("/api/sections/GZS-0005/revisions", headers=bearer("field"),
                json={"reason": "x", "base_version": 1, "properties": {"age": "PTB interval"}})
    path = app.config["REGISTRY"]
    if backend == "postgis":
        path = tmp_path / "export.gpkg"
        registry.export_registry(app.config["REGISTRY"], path)
    layers = dict(pyogrio.list_layers(path))
    assert layers["section_lines"] == "LineString" and layers["section_boundaries"] == "MultiPolygon"
    assert layers["protection_markers"] == "Point" and layers["rescue_cases"] == "Point"
    df = pyogrio.read_dataframe(path, layer="section_lines")
    assert len(df) == 16 and set(df["code"]) == {f"GZS-{i:04d}" for i in range(1, 17)}
    first = df[df["code"] == "GZS-0001"].iloc[0]
    assert first["length_m"] == pytest.approx(620.0, abs=0.5)  # the demo line: 620 m along its azimuth
    assert json.loads(first["stratigraphic_boundaries"])[0]["gssp"] == "ratified"
    assert registry.check_registry(path) == []  # integrity, R-trees, history, GDAL's strict validator
    assert registry.check_registry(app.config["REGISTRY"]) == []


def test_a_section_inspection_with_track_and_its_schedule(app, client):
    today = _today(app)
    track = gpx_xml([(106.4031, 25.4036), (106.4036, 25.4060), (106.4041, 25.4090)])
    record = {"date": today, "condition": "fair", "inspectors": ["王磊"],
              "threats": [{"threat": "vegetation", "severity": "low", "note": "shrubs on the upper beds"}],
              "findings": "The conodont beds are exposed; shrubs cover the top."}
    before = client.get("/api/inspections/due?all=1", headers=bearer("field")).get_json()
    naqing = next(d for d in before["sites"] if d["site"] == "GZS-0003")
    assert naqing["kind"] == "section" and naqing["last_inspected_on"] is None and naqing["status"] == "overdue"
    near, far = (jpeg(lon=lon, lat=25.4050, taken=today.replace("-", ":") + " 10:00:00") for lon in (106.4040, 106.4400))
    r = client.post("/api/sections/GZS-0003/inspections", headers=bearer("expert"),
                    data={"record": json.dumps(record), "track": (io.BytesIO(track), "patrol.gpx"),
                          "photos": [(io.BytesIO(near), "beds.jpg"), (io.BytesIO(far), "elsewhere.jpg")]},
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    rec = r.get_json()
    photos = {p["name"]: p for p in rec["photos"]}
    assert photos["beds.jpg"]["distance_m"] < 100 and not photos["beds.jpg"]["flagged"]  # measured to the line
    assert photos["elsewhere.jpg"]["flagged"] and "far_from_site" in photos["elsewhere.jpg"]["flags"]
    assert rec["site"] == "GZS-0003" and rec["condition"] == "fair" and rec["track"]["length_m"] > 500
    assert rec["threats"] == [{"threat": "vegetation", "severity": "low", "note": "shrubs on the upper beds"}]
    listed = client.get("/api/sections/GZS-0003/inspections", headers=bearer("field")).get_json()["inspections"]
    assert [i["id"] for i in listed] == [rec["id"]]
    after = client.get("/api/inspections/due?all=1", headers=bearer("field")).get_json()
    naqing = next(d for d in after["sites"] if d["site"] == "GZS-0003")
    assert naqing["status"] == "ok" and naqing["last_inspected_on"] == today and naqing["last_condition"] == "fair"
    assert naqing["interval_days"] == 365  # a national section, at the national interval
    # the timeline and the web form serve sections too
    login(client, "expert")
    assert "GZS-0003" in client.get("/sites/GZS-0003/timeline").get_data(as_text=True)
    page = client.get("/sections/GZS-0003/inspections/new").get_data(as_text=True)
    assert 'id="marker-checks"' in page  # the Naqing monument is listed for its check
    # a site's code is not a section; an unknown date order is refused
    assert client.post("/api/sections/GZ-0001/inspections", headers=bearer("expert"),
                       json={"date": today, "condition": "good"}).status_code == 404


def test_a_marker_found_missing_at_an_inspection_opens_a_follow_up(app, client):
    markers = client.get("/api/sections/GZS-0001/markers", headers=bearer("field")).get_json()["markers"]
    monument, sign = (next(m for m in markers if m["kind"] == k) for k in ("monument", "signboard"))
    today = _today(app)
    followups_before = _count(app, "inspection_followups")
    r = client.post("/api/sections/GZS-0001/inspections", headers=bearer("expert"), json={
        "date": today, "condition": "good", "markers": [
            {"marker": monument["id"], "condition": "missing", "note": "base plate left, stone gone"},
            {"marker": sign["id"], "condition": "present"}]})
    assert r.status_code == 201, r.get_json()
    rec = r.get_json()
    assert {m["marker"]: m["condition"] for m in rec["markers"]} == {monument["id"]: "missing", sign["id"]: "present"}
    [followup] = rec["followups"]
    assert followup["description"].startswith(f"Marker #{monument['id']} (monument) found missing: replace it")
    assert followup["due"] == (date.fromisoformat(today) + timedelta(days=30)).isoformat()
    assert followup["status"] == "open" and _count(app, "inspection_followups") == followups_before + 1
    after = {m["id"]: m for m in client.get("/api/sections/GZS-0001/markers").get_json()["markers"]}
    assert after[monument["id"]]["last_condition"] == "missing" and after[monument["id"]]["last_checked_on"] == today
    assert after[sign["id"]]["last_condition"] == "present"
    due = client.get("/api/inspections/due", headers=bearer("field")).get_json()["followups"]
    assert any(f["id"] == followup["id"] and f["site"] == "GZS-0001" for f in due)
    # a marker of another feature, or an unknown condition: refused, nothing saved
    other = client.get("/api/sites/GZ-0001/markers").get_json()["markers"][0]
    inspections_before = _count(app, "inspections")
    for checks in ([{"marker": other["id"], "condition": "present"}], [{"marker": sign["id"], "condition": "gone"}]):
        r = client.post("/api/sections/GZS-0001/inspections", headers=bearer("expert"),
                        json={"date": today, "condition": "good", "markers": checks})
        assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert _count(app, "inspections") == inspections_before and _count(app, "marker_checks") == 2


def test_markers_are_public_where_the_feature_is_open_and_listed_on_the_site_page(app, client):
    site_markers = client.get("/api/sites/GZ-0001/markers").get_json()["markers"]
    assert {m["kind"] for m in site_markers} == {"signboard", "fence"} and "created_by" not in site_markers[0]
    assert client.get("/api/sections/GZS-0012/markers").get_json()["markers"] == []   # generalized: none shown
    assert client.get("/api/sections/GZS-0016/markers").status_code == 404            # hidden: as unknown
    assert len(client.get("/api/sections/GZS-0016/markers", headers=bearer("field")).get_json()["markers"]) == 1
    page = client.get("/sites/GZ-0001").get_data(as_text=True)
    assert 'id="marker-table"' in page and "Guanling fossil site: protected area" in page and "add-marker" not in page
    assert "关岭化石群国家地质公园 保护区" in client.get("/sites/GZ-0001?lang=zh").get_data(as_text=True)
    assert 'id="markers"' not in client.get("/sites/GZ-0002").get_data(as_text=True)  # a generalized site
    public = client.get("/ogcapi/collections/markers/items?limit=1000").get_json()["features"]
    assert {f["properties"]["feature"] for f in public} <= {"GZ-0001", "GZ-0003", "GZS-0001", "GZS-0003", "GZS-0007",
                                                            "GZS-0008"}
    staff = client.get("/ogcapi/collections/markers/items?limit=1000", headers=bearer("field")).get_json()
    assert len(staff["features"]) == 10 > len(public)
    login(client, "expert")
    page = client.get("/sites/GZ-0001").get_data(as_text=True)
    assert 'id="add-marker"' in page


def test_recording_markers_and_the_warning_far_outside_the_boundary(demo_data_dir, demo_database):
    def make(limit):
        return create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x",
                           "MARKER_MAX_OUTSIDE_M": limit, **demo_database}).test_client()
    far = {"kind": "boundary_post", "point": [105.605, 25.902], "inscription": "界桩 07", "erected_on": "2024-05-01"}
    r = make(200).post("/api/sites/GZ-0003/markers", json=far, headers=bearer("expert"))
    assert r.status_code == 201
    assert len(r.get_json()["warnings"]) == 1 and "outside the protection boundary of GZ-0003" in r.get_json()["warnings"][0]
    r = make(5000).post("/api/sites/GZ-0003/markers", json=far, headers=bearer("expert"))
    assert r.status_code == 201 and r.get_json()["warnings"] == []
    client = make(200)
    count = _count_client(client, "protection_markers")
    for bad in ({**far, "kind": "statue"}, {**far, "point": None}, {**far, "erected_on": "2999-01-01"},
                {**far, "point": [-105.605, 25.902]}, {**far, "colour": "red"}):
        r = client.post("/api/sites/GZ-0003/markers", json=bad, headers=bearer("expert"))
        assert r.status_code == 422, bad
    assert _count_client(client, "protection_markers") == count
    assert client.post("/api/sites/GZ-0003/markers", json=far, headers=bearer("field")).status_code == 403


def _count_client(client, table: str) -> int:
    return _count(client.application, table)


# --------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line, message", [
    ({"type": "Point", "coordinates": [108.40, 26.70]}, "must be a line"),
    ({"type": "Polygon", "coordinates": [[[108.40, 26.70], [108.41, 26.70], [108.41, 26.71], [108.40, 26.70]]]},
     "must be a line"),
    ({"type": "LineString", "coordinates": [[108.40, 26.70], [108.40, 26.70]]}, "two distinct points"),
    ({"type": "LineString", "coordinates": [[108.40, 26.70], [108.41, 26.70], [108.405, 26.70]]},
     "crosses or runs over itself near (108.405, 26.7)"),  # walked there and half-way back
    ({"type": "LineString", "coordinates": [[108.40, 26.70], [108.41, 26.71], [108.41, 26.70], [108.40, 26.71]]},
     "crosses or runs over itself near (108.405, 26.705)"),
    ({"type": "LineString", "coordinates": [[108.40, 26.70], [108.41, 26.71], [108.40, 26.71], [108.40, 26.70]]},
     "closes on itself"),
    ({"type": "MultiLineString", "coordinates": [[[108.40, 26.70], [108.41, 26.70]], [[108.42, 26.70], [108.43, 26.70]]]},
     "2 separate lines"),
    ({"type": "LineString", "coordinates": [[26.70, 108.40], [26.71, 108.41]]}, "look swapped"),
    ({"type": "LineString", "coordinates": [[8.40, 46.70], [8.41, 46.71]]}, "cannot be a site of this registry"),
])
def test_a_section_line_that_is_not_a_usable_line_is_refused(app, client, line, message):
    before = _count(app, "revisions")
    r = client.post("/api/sections/GZS-0002/revisions", headers=bearer("field"),
                    json={"reason": "bad line", "base_version": 1, "line": line})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert message in r.get_json()["detail"], r.get_json()["detail"]
    if "near" in message:
        assert r.get_json()["location"] == [float(v) for v in message.split("near (")[1].rstrip(")").split(", ")]
    assert _count(app, "revisions") == before


def test_other_bad_section_input(app, client):
    before = _count(app, "revisions")
    cases = [
        ({"reason": "x", "base_version": 1, "location": {"type": "Point", "coordinates": [108.4, 26.7]}},
         "a section has a line, not a location"),
        ({"reason": "x", "base_version": 1, "properties": {"significance": "famous"}}, "significance must be one of"),
        ({"reason": "x", "base_version": 1, "properties": {"stratigraphic_boundaries": [{"rank": "stage"}]}},
         "needs a name"),
        ({"reason": "x", "base_version": 1, "properties": {"fossil_groups": ["trilobites"]}},
         "unknown section field(s): fossil_groups"),
        ({"reason": "x", "base_version": 1, "line": "26.70, 108.40"}, "at least 2 distinct points"),
    ]
    for body, message in cases:
        r = client.post("/api/sections/GZS-0002/revisions", headers=bearer("field"), json=body)
        assert r.status_code == 422 and message in r.get_json()["detail"], (body, r.get_json())
    r = client.post("/api/sections/GZS-0002/revisions", headers=bearer("field"), content_type="multipart/form-data",
                    data={"reason": "x", "base_version": "1", "target": "line",
                          "file": (io.BytesIO(gpx_xml([], waypoints=[(108.4, 26.7)])), "points.gpx")})
    assert r.status_code == 422 and "holds no line or track" in r.get_json()["detail"]
    r = client.post("/api/sections", headers=bearer("field"), json={
        "reason": "new", "properties": {"name": "无线剖面"}, "boundary": {"type": "Polygon", "coordinates": [[
            [108.40, 26.70], [108.41, 26.70], [108.41, 26.71], [108.40, 26.70]]]}})
    assert r.status_code == 422 and "needs its line" in r.get_json()["detail"]
    assert _count(app, "revisions") == before


def test_a_section_far_from_its_stated_county_is_flagged_for_the_reviewer(app, client):
    near = {"type": "LineString", "coordinates": [[108.40, 26.70], [108.401, 26.702]]}
    far = {"type": "LineString", "coordinates": [[106.40, 25.40], [106.401, 25.402]]}  # Luodian, ~250 km away
    codes = {}
    for name, line in (("near", near), ("far", far)):
        r = client.post("/api/sections", headers=bearer("field"), json={
            "reason": "new section", "line": line, "properties": {"name": f"{name}剖面", "county": "剑河县"}})
        assert r.status_code == 201, r.get_json()
        codes[name] = {w["code"]: w for w in r.get_json()["warnings"]}, r.get_json()["id"]
    assert "far_from_county" not in codes["near"][0]
    warning = codes["far"][0]["far_from_county"]
    assert warning["county"] == "剑河县" and 200_000 < warning["distance_m"] < 300_000
    # such a proposal is never approved blind in a batch
    r = client.post("/api/revisions/batch-decision", headers=bearer("expert"),
                    json={"items": [{"id": codes["far"][1], "round": 1}], "decision": "approve"})
    assert r.get_json()["failed"] == 1 and "far_from_county" in r.get_json()["results"][0]["detail"]
    r = client.post("/api/sections", headers=bearer("field"), json={
        "reason": "new", "line": near, "properties": {"name": "无名县剖面", "county": "无名县"}})
    assert "county_unchecked" in {w["code"] for w in r.get_json()["warnings"]}


def test_the_public_view_of_sections(app, client):
    lines = client.get("/ogcapi/collections/sections/items?limit=1000").get_json()["features"]
    points = client.get("/ogcapi/collections/section-points/items?limit=1000").get_json()["features"]
    by_code = {f["id"]: f for f in points}
    assert "GZS-0011" not in by_code and "GZS-0016" not in by_code  # hidden
    # the collection of lines holds only lines: a generalized section is not among them, only among the points
    assert {f["id"] for f in lines} == {c for c, f in by_code.items() if not f["properties"]["generalized"]}
    line = next(f for f in lines if f["id"] == "GZS-0001")
    assert line["geometry"]["type"] == "LineString" and "length_m" in line["properties"]
    assert shape(by_code["GZS-0001"]["geometry"]).distance(shape(line["geometry"])) < 1e-7  # on its line (7 decimals)
    generalized = by_code["GZS-0012"]
    assert generalized["geometry"]["type"] == "Point" and generalized["properties"]["generalized"] is True
    assert "length_m" not in generalized["properties"]
    conn = store.connect(app.config["REGISTRY"])
    try:
        true_line = sites.current(conn, "GZS-0012", kind=SECTION).location
    finally:
        conn.close()
    cell = shape(generalized["geometry"])
    assert cell.distance(true_line) < 0.08 and not cell.intersects(true_line)
    one = client.get("/api/sections/GZS-0012").get_json()
    assert one["line"] is None and one["location_precision"] == "0.1-degree grid cell centre"
    assert client.get("/api/sections/GZS-0011").status_code == 404
    staff = client.get("/ogcapi/collections/sections/items?limit=1000", headers=bearer("field")).get_json()
    assert len(staff["features"]) == 16 and all(f["geometry"]["type"] == "LineString" for f in staff["features"])
    layer = client.get("/map/sections.geojson?bbox=103.6,24.6,109.6,29.2&zoom=12").get_json()
    assert {f["id"] for f in layer["features"]} == set(by_code)
    assert {f["properties"]["precision"] for f in layer["features"]} == {"exact", "cell"}
    # the pages: list, a section's page (with its markers), the public map's own layer and legend entry
    listing = client.get("/sections").get_data(as_text=True)
    assert "乌溜-曾家岩" in listing and "贞丰龙场法郎组剖面" not in listing and "遵义牛蹄塘组剖面" not in listing
    page = client.get("/sections/GZS-0001").get_data(as_text=True)
    assert "乌溜阶及苗岭统底界" in page and 'id="marker-table"' in page
    assert 'id="section-ends"' not in page and client.get("/sections/GZS-0016").status_code == 404
    approx = client.get("/sections/GZS-0012").get_data(as_text=True)
    assert 'id="approximate-note"' in approx and 'id="section-length"' not in approx
    home = client.get("/").get_data(as_text=True)
    assert 'id="legend-section"' in home and "/map/sections.geojson" in home
    login(client, "field")
    staff_page = client.get("/sections/GZS-0016").get_data(as_text=True)
    assert 'id="section-ends"' in staff_page and "遵义牛蹄塘组剖面" in staff_page


def test_an_existing_registry_gains_sections_and_keeps_its_inspections(tmp_path, monkeypatch, backend, request):
    """The schema steps on a registry made before them: the inspections' foreign key to the sites is replaced by a
    trigger that accepts sections too (GeoPackage: the table rewritten in place; PostGIS: ALTER TABLE), existing rows
    untouched, the evidence photos' one-owner rule widened, GDAL still happy."""
    path = request.getfixturevalue("pg_cluster").new_database() if backend == "postgis" else tmp_path / "old.gpkg"
    old_steps = tuple(step for step in migrations.MIGRATIONS if step[0] in ("accounts", "sessions", "revisions",
                                                                             "inspections", "supervision",
                                                                             "fieldkits", "impact", "imports"))
    monkeypatch.setattr(migrations, "MIGRATIONS", old_steps)
    store.create_registry(path)
    conn = store.connect(path)
    old_layers = dataclasses.replace(store.SITES, columns=tuple(c for c in store.SITES.columns
                                                                if not c.startswith("public_") and c != "formation_en"))
    with store.transaction(conn):  # a site and its inspection, written as that registry's code wrote them
        point = Point(105.5, 25.9)
        store.write_site_row(conn, store.SiteRow("GZ-0001", {"name": "老点", "level": "general", "sensitivity": "open",
                                                             "fossil_groups": []}, point, None, 1, "2024-01-01T00:00:00.000Z", "x"),
                             area_km2=None, insert=True, layers=old_layers)
        store.append_version(conn, store.VersionRow("GZ-0001", 1, "create", "2024-01-01T00:00:00.000Z", "x", None, "r",
                                                    {"name": "老点"}, point, None, None))
        istore.insert_inspection(conn, code="GZ-0001", point=None, inspected_on="2024-05-01", inspectors="x",
                                 condition="good", threats_summary="", findings="", actions="", followup_needed=False,
                                 photo_count=0, flagged_photos=0, site_version=1, recorded_at="2024-05-01T08:00:00.000Z",
                                 recorded_by="x")
    record = inspections.parse_record({"date": "2024-05-01", "condition": "good", "inspectors": ["x"]})
    monkeypatch.undo()
    assert store.migrate(conn) == ["sections", "features_in_workflow", "markers", "rescues", "public_texts",
                                   "formation_names", "idempotency_keys", "read_model",
                                   "read_model_box_partitions", "read_model_substring_index",
                                   "read_model_boundary_zooms"]
    assert sites.current(conn, "GZ-0001").properties["public_description"] is None  # a column of its own, empty
    assert sites.current(conn, "GZ-0001").properties["formation_en"] is None
    line = LineString([(105.50, 25.90), (105.501, 25.902)])
    from fossil_registry.blobs import BlobStore
    sites.create_site(conn, properties={"name": "剖面", "level": "general", "sensitivity": "open",
                                        "established": "2020-01-01"}, location=line, boundary=None, author="x",
                      reason="r", kind=SECTION)
    inspections.record_inspection(conn, BlobStore(tmp_path), "GZS-0001", record, settings=inspections.Settings.defaults(),
                                  actor="x", today=date(2024, 6, 1))
    with pytest.raises(DB_REFUSAL, match="registered site or section"):
        conn.execute("INSERT INTO inspections (code, inspected_on, inspectors, condition, site_version, recorded_at, "
                     "recorded_by) VALUES ('GZ-9999', '2024-05-01', 'x', 'good', 1, 'now', 'x')")
    with pytest.raises(DB_REFUSAL):  # a photo of nothing: still refused by the widened CHECK
        conn.execute("INSERT INTO evidence_photos (sha256, media_type, extension, width, height, size_bytes, "
                     "created_at) VALUES ('0', 'image/jpeg', 'jpg', 1, 1, 1, 'now')")
    assert [r[0] for r in conn.execute("SELECT code FROM inspections ORDER BY fid")] == ["GZ-0001", "GZS-0001"]
    assert store.check_integrity(conn) == []
    conn.close()
    if backend == "postgis":
        request.getfixturevalue("pg_cluster").drop_database(path)
    else:
        assert registry.validate_geopackage(path) == []


def test_every_new_api_endpoint_is_described_in_the_openapi_document(app, client):
    from openapi_spec_validator import validate

    doc = client.get("/ogcapi/api").get_json()
    validate(doc)
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/sections", "/api/rescues")) and not rule.rule.endswith("/markers"):
            continue
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule)  # the document names parameters as Flask does
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"].get(path, {}), (path, method)
            checked += 1
    assert checked == 16
    assert "SectionState" in doc["components"]["schemas"] and "RescueCase" in doc["components"]["schemas"]


@pytest.mark.parametrize("payload", ["{{ 191*7 }}SSTI", "{% for i in [1] %}SSTI{{ 7*191 }}{% endfor %}"])
def test_user_text_of_sections_markers_and_rescues_is_shown_as_text(app, client, payload):
    text = f"{payload} {{{{ unclosed"
    conn = store.connect(app.config["REGISTRY"])
    try:
        section = sites.current(conn, "GZS-0001", kind=SECTION)
        sites.change_site(conn, "GZS-0001", base_version=section.version, author="ada", reason=text, kind=SECTION,
                          properties={"name": f"剖面 {text}", "name_en": f"Section {text}", "units": [text],
                                      "stratigraphic_boundaries": [{"name": text, "rank": "stage", "gssp": None}]})
    finally:
        conn.close()
    assert client.post("/api/sections/GZS-0001/markers", headers=bearer("expert"), json={
        "kind": "signboard", "point": [108.4268, 26.7338], "inscription": text, "inscription_en": text}).status_code == 201
    case = client.post("/api/rescues", headers=bearer("expert"), json={
        "source": "other", "reported_by": text, "point": [105.4, 25.9], "description": text,
        "reported_at": "2026-01-10T09:00"}).get_json()
    client.post(f"/api/rescues/{case['id']}/events", headers=bearer("expert"), json={"kind": "note", "note": text})
    pages = ["/sections", "/sections/GZS-0001", "/sections/GZS-0001?lang=zh", "/",
             "/map/sections.geojson?bbox=103.6,24.6,109.6,29.2&zoom=12"]
    for who in (None, "expert"):
        if who:
            login(client, who)
            pages += [f"/rescues/{case['id']}", "/rescues", "/sites/GZS-0001/timeline",
                      "/sections/GZS-0001/inspections/new"]
        for url in pages:
            r = client.get(url)
            body = r.get_data(as_text=True)
            assert r.status_code == 200, (url, r.status_code)
            assert "1337SSTI" not in body and "SSTI1337" not in body, url
            assert "unclosed" in body or url == "/", url


def test_a_section_line_from_a_csv_of_vertices_and_a_zipped_shapefile_in_gauss_kruger(app, client, tmp_path):
    import zipfile

    import geopandas as gpd
    from pyproj import Transformer

    csv = "序号,经度,纬度\n1,108.4000,26.7000\n2,108.4010,26.7030\n3,108.4015,26.7060\n".encode("utf-8")
    r = client.post("/api/sections/GZS-0002/revisions", headers=bearer("field"), content_type="multipart/form-data",
                    data={"reason": "line from the survey table", "base_version": "1", "target": "line",
                          "file": (io.BytesIO(csv), "section.csv")})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["line"]["coordinates"] == [[108.40, 26.70], [108.401, 26.703], [108.4015, 26.706]]
    from_csv = r.get_json()["metrics"]["length_m_after"]
    assert 670 < from_csv < 700
    # the same line surveyed in CGCS2000 Gauss-Kruger 3-degree CM 108E (EPSG:4545), as a zipped Shapefile with .prj
    to_gk = Transformer.from_crs(4490, 4545, always_xy=True)
    line = LineString([to_gk.transform(x, y) for x, y in [(108.40, 26.70), (108.401, 26.703), (108.4015, 26.706)]])
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(gpd.GeoDataFrame({"name": ["剖面线"]}, geometry=[line], crs="EPSG:4545"),
                            folder / "line.shp")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    r = client.post("/api/sections/GZS-0002/revisions", headers=bearer("field"), content_type="multipart/form-data",
                    data={"reason": "line from the GIS", "base_version": "1", "target": "line",
                          "file": (io.BytesIO(buf.getvalue()), "line.zip")})
    assert r.status_code == 201, r.get_json()
    got = r.get_json()
    assert got["input"]["line"]["source_crs"] == "EPSG:4545"
    assert LineString(got["line"]["coordinates"]).equals_exact(LineString([(108.40, 26.70), (108.401, 26.703),
                                                                           (108.4015, 26.706)]), 1e-7)
    assert got["metrics"]["length_m_after"] == pytest.approx(from_csv, abs=0.1)  # two ways in, one length


def test_the_web_revision_form_proposes_a_section_line(app, client):
    login(client, "field")
    token = csrf_token(client, "/revisions/new?site=GZS-0005")
    page = client.get("/revisions/new?site=GZS-0005").get_data(as_text=True)
    assert "GZS-0005" in page
    r = client.post("/revisions/new", data={"csrf_token": token, "site": "GZS-0005", "base_version": "1",
                                            "reason": "typed from the survey book", "name": "罗甸大江剖面（复测）",
                                            "location_text": "25.5480, 106.6120\n25.5450, 106.6135\n25.5420, 106.6150"})
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    rev = client.get(r.headers["Location"].replace("/revisions/", "/api/revisions/")).get_json()
    assert rev["feature"] == "section" and len(rev["line"]["coordinates"]) == 3
    assert rev["properties"] == {"name": "罗甸大江剖面（复测）"}
    r = client.post("/revisions/new", data={"csrf_token": token, "site": "GZS-0005", "base_version": "1",
                                            "reason": "GPS track", "target": "location",
                                            "file": (io.BytesIO(gpx_xml([(106.612, 25.548), (106.6135, 25.545)])),
                                                     "track.gpx")}, content_type="multipart/form-data")
    assert r.status_code == 303
    rev = client.get(r.headers["Location"].replace("/revisions/", "/api/revisions/")).get_json()
    assert rev["line"]["coordinates"] == [[106.612, 25.548], [106.6135, 25.545]] and rev["input"]["line"]["format"] == "gpx"
