"""Impact screening through the API, and what anonymous planners see: the public view of a result (generalized and
hidden sites as "within N km; contact the museum", nothing that depends on where in its public cell a site lies, no
protected coordinate in any answer), the rate limit, and staff's exact results."""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from shapely.geometry import LineString, MultiPolygon, Point, box, mapping

from fossil_registry import create_app, sites
from fossil_registry.db import get_conn

from .conftest import bearer, csrf_token
from .impact_helpers import GEOD, from_lonlat
from .leaks import leaked_numbers, true_coordinates

# a road through GZ-0001 (open), 300 m from GZ-0002 (generalized), 430 m from GZ-0004 (hidden), 1.5 km from GZ-0003
ROAD = {"type": "LineString", "coordinates": [[105.30, 25.85], [105.40, 25.89], [105.50, 25.80], [105.58, 25.88]]}


@pytest.fixture
def app(demo_data_dir):
    """The demo registry with room for the many anonymous screenings of these tests (the limit has its own test)."""
    return create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "test-secret",
                       "IMPACT_LIMIT": "10000 per hour"})


def _everything(app) -> list[sites.Site]:
    with app.app_context():
        return sites.list_current(get_conn())


def _footprints_around(s: sites.Site) -> list[dict]:
    """A borehole 300 m away, a road passing 120 m away (with its width) and a pit over the site."""
    x, y = s.location.x, s.location.y
    near = GEOD.fwd(x, y, 37, 300)[:2]
    a, b = GEOD.fwd(x, y, 300, 2500)[:2], GEOD.fwd(x, y, 120, 2500)[:2]
    road = LineString([a, b]).parallel_offset(0.0012)
    pit = box(x - 0.00313579, y - 0.00171828, x + 0.00432193, y + 0.00291731)  # digits no site has
    return [{"footprint": mapping(Point(near))}, {"footprint": mapping(road), "width_m": 25},
            {"footprint": mapping(pit), "buffers_m": [0, 150, 1000, 3000]}]


def _assert_public(bodies: list[str], everything: list[sites.Site]) -> None:
    blob = " ".join(set(re.findall(r"-?\d+\.\d{3,}", "\n".join(bodies))))
    public_values = frozenset(v for s in everything if s.sensitivity == "open" for v in
                              true_coordinates(s.location) + (true_coordinates(s.boundary) if s.boundary else []))
    for s in everything:
        if s.sensitivity == "open":
            continue
        secret = true_coordinates(s.location) + (true_coordinates(s.boundary) if s.boundary is not None else [])
        assert not leaked_numbers(blob, secret, public_values), s.code
        if s.sensitivity == "hidden":
            for body in bodies:
                assert s.code not in body and s.properties["name"] not in body, s.code


def test_no_anonymous_answer_carries_a_protected_sites_position(app, client):
    everything = _everything(app)
    protected = [s for s in everything if s.sensitivity != "open"]
    assert sum(s.sensitivity == "hidden" for s in protected) >= 2
    token = csrf_token(client, "/impact")
    bodies, notices = [], 0
    for s in protected:
        for body in _footprints_around(s):
            r = client.post("/api/impact", json=body)
            assert r.status_code == 200, r.get_data(as_text=True)
            answer = r.get_json()
            assert answer["view"] == "public"
            notices += sum(a["risk"] == "consult" for a in answer["affected"])
            answer.pop("screened_at")  # its seconds ("27.557Z") look like a coordinate to the leak check
            bodies.append(json.dumps(answer, ensure_ascii=False))
        page = client.post("/impact", data={"csrf_token": token, "footprint": json.dumps(body["footprint"]),
                                            "buffers_m": "0,150,1000,3000"})
        assert page.status_code == 200
        bodies.append(page.get_data(as_text=True))
    assert notices >= 2 * len(protected)  # every protected site was reported, as a notice
    _assert_public(bodies, everything)


def test_the_leak_check_finds_staff_figures(app, client):
    """The same requests with a staff token carry the protected positions (nearest points), and the check says so."""
    everything = _everything(app)
    hidden = next(s for s in everything if s.sensitivity == "hidden")
    r = client.post("/api/impact", json=_footprints_around(hidden)[0], headers=bearer("field"))
    answer = r.get_json()
    answer.pop("screened_at")
    with pytest.raises(AssertionError):
        _assert_public([json.dumps(answer, ensure_ascii=False)], everything)


def _anonymous(client, body=None) -> dict:
    r = client.post("/api/impact", json=body or {"footprint": ROAD, "width_m": 30})
    assert r.status_code == 200
    answer = r.get_json()
    answer.pop("registry_version")
    answer.pop("screened_at")
    return answer


def test_the_public_answer_depends_only_on_public_cells(app, client):
    """Moving a generalized site within its 0.1-degree cell and a hidden one within its coarse cell changes nothing an
    anonymous planner sees, whatever footprints they try: repeated screenings cannot narrow a position down."""
    probes = [{"footprint": ROAD, "width_m": 30}, {"footprint": mapping(Point(105.501, 25.792))},
              {"footprint": mapping(Point(105.405, 25.905)), "buffers_m": [0, 50]}]
    before = [_anonymous(client, p) for p in probes]
    staff_before = client.post("/api/impact", json=probes[1], headers=bearer("field")).get_json()
    with app.app_context():
        conn = get_conn()
        for code, lon, lat in (("GZ-0002", 105.47, 25.96), ("GZ-0004", 105.73, 25.98)):
            s = sites.current(conn, code)
            sites.change_site(conn, code, base_version=s.version, author="ada", reason="test: moved within its cell",
                              location=Point(lon, lat),
                              boundary=MultiPolygon([box(lon - 0.002, lat - 0.002, lon + 0.002, lat + 0.002)]))
    assert [_anonymous(client, p) for p in probes] == before
    staff_after = client.post("/api/impact", json=probes[1], headers=bearer("field")).get_json()
    assert staff_after["affected"] != staff_before["affected"]  # staff do see the move


def test_the_public_entries(client):
    answer = client.post("/api/impact", json={"footprint": ROAD, "width_m": 30},
                         headers={"Accept-Language": "zh"}).get_json()
    assert isinstance(answer["registry_version"], int) and answer["registry_version"] > 0
    found = {a["code"]: a for a in answer["affected"]}
    for a in answer["affected"]:
        assert {"code", "intersects", "distance_m", "overlap_m2", "ring_m", "risk"} <= set(a)
    exact = found["GZ-0001"]  # open: exact figures
    assert exact["intersects"] is True and exact["overlap_m2"] > 0 and exact["risk"] == "very_high"
    generalized = found["GZ-0002"]
    assert generalized["risk"] == "consult" and generalized["distance_m"] is None and generalized["ring_m"] is None
    assert generalized["overlap_m2"] is None and generalized["intersects"] is None
    assert generalized["location"] == [105.45, 25.95]  # the public cell centre, as on the public map
    assert "公里" in generalized["notice"] and str(generalized["within_km"]) in generalized["notice"]
    hidden = found[None]
    assert hidden["hidden"] is True and hidden["within_km"] >= 1 and "name" not in hidden
    assert set(answer["risk_classes"]) == {"very_high", "high", "medium", "low", "consult"}


def test_staff_get_exact_figures_for_every_site(client):
    answer = client.post("/api/impact", json={"footprint": ROAD, "width_m": 30}, headers=bearer("field")).get_json()
    assert answer["view"] == "exact"
    found = {a["code"]: a for a in answer["affected"]}
    assert found["GZ-0004"]["sensitivity"] == "hidden" and found["GZ-0004"]["distance_m"] >= 0
    assert found["GZ-0002"]["risk"] in ("very_high", "high", "medium", "low")
    assert None not in found


def test_anonymous_screening_is_rate_limited(demo_data_dir):
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x",
                      "IMPACT_LIMIT": "2 per hour"})
    client = app.test_client()
    body = {"footprint": ROAD}
    assert [client.post("/api/impact", json=body).status_code for _ in range(2)] == [200, 200]
    r = client.post("/api/impact", json=body)
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    assert "Too many screenings" in r.get_json()["detail"]
    token = csrf_token(client, "/impact")  # the form shares the budget
    assert client.post("/impact", data={"csrf_token": token, "footprint": json.dumps(ROAD)}).status_code == 429
    assert all(client.post("/api/impact", json=body, headers=bearer("field")).status_code == 200 for _ in range(3))


def test_saving_is_for_staff(client):
    r = client.post("/api/impact", json={"footprint": ROAD, "save": True})
    assert r.status_code == 401
    r = client.post("/api/impact", json={"footprint": ROAD, "save": True, "title": "G320 section 3"},
                    headers=bearer("field"))
    assert r.status_code == 201
    body = r.get_json()
    assert body["screening_id"] >= 1 and body["title"] == "G320 section 3" and "/impact/screenings/" in body["url"]


def test_bad_requests_change_nothing_and_say_why(client):
    for body, status, words in (({"crs": "EPSG:4545"}, 422, "no footprint"),
                                ({"footprint": ROAD, "buffers_m": [0, 99999]}, 422, "between 0"),
                                ({"footprint": ROAD, "width_m": "wide"}, 422, "width_m"),
                                ({"footprint": {"type": "Point", "coordinates": [25.9, 105.4]}}, 422, "swapped"),
                                ({"footprint": ROAD, "crs": "EPSG:99999999"}, 422, "coordinate system")):
        r = client.post("/api/impact", json=body)
        assert r.status_code == status and r.mimetype == "application/problem+json", body
        assert words in r.get_json()["detail"], r.get_json()
    r = client.post("/api/impact", data="not json", content_type="text/plain")
    assert r.status_code == 422


def _shapefile_zip(geom, crs: str) -> bytes:
    import tempfile
    from pathlib import Path

    import geopandas as gpd

    with tempfile.TemporaryDirectory() as tmp:
        gpd.GeoDataFrame({"name": ["plan"]}, geometry=[geom], crs=crs).to_file(Path(tmp) / "plan.shp")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for f in Path(tmp).iterdir():
                zf.write(f, f.name)
        return buf.getvalue()


def test_a_file_upload_and_geojson_in_the_same_crs_agree(client):
    plan = from_lonlat(LineString([(105.30, 25.85), (105.56, 25.80)]), "EPSG:4544")
    as_json = client.post("/api/impact", json={"footprint": mapping(plan), "crs": "EPSG:4544", "width_m": 30},
                          headers=bearer("field")).get_json()
    r = client.post("/api/impact", data={"file": (io.BytesIO(_shapefile_zip(plan, "EPSG:4544")), "plan.zip"),
                                         "width_m": "30", "buffers_m": "0,200,500,1000,5000"},
                    headers=bearer("field"), content_type="multipart/form-data")
    assert r.status_code == 200, r.get_data(as_text=True)
    as_file = r.get_json()
    assert as_file["source"]["format"] == "shapefile" and as_file["source"]["source_crs"] == "EPSG:4544"
    assert [(a["code"], a["ring_m"], a["risk"]) for a in as_file["affected"]] == \
        [(a["code"], a["ring_m"], a["risk"]) for a in as_json["affected"]]
    for a, b in zip(as_file["affected"], as_json["affected"]):
        assert a["distance_m"] == pytest.approx(b["distance_m"], abs=0.01)
        assert a["overlap_m2"] == pytest.approx(b["overlap_m2"], abs=0.5)


def test_the_public_geopackage(app, client, tmp_path):
    import pyogrio

    r = client.post("/api/impact?format=gpkg", json={"footprint": ROAD, "width_m": 30})
    assert r.status_code == 200 and r.mimetype == "application/geopackage+sqlite3"
    path = tmp_path / "screening.gpkg"
    path.write_bytes(r.data)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"screening", "footprint", "rings", "affected_sites", "affected_boundaries"} <= layers
    meta = pyogrio.read_dataframe(path, layer="screening")
    assert meta["view"][0] == "public" and json.loads(meta["rings_m"][0]) == [0, 200, 500, 1000, 5000]
    assert meta["hidden_site_within_km"][0] >= 1
    points = pyogrio.read_dataframe(path, layer="affected_sites")
    # the road passes a stratigraphic section too (every kind of feature is screened)
    assert set(points["code"]) == {"GZ-0001", "GZ-0002", "GZ-0003", "GZS-0007"} and points.crs.to_epsg() == 4490
    boundaries = pyogrio.read_dataframe(path, layer="affected_boundaries")
    assert set(boundaries["code"]) == {"GZ-0001", "GZ-0003", "GZS-0007"}  # open features only
    rings = pyogrio.read_dataframe(path, layer="rings")
    assert list(rings["ring_m"]) == [200, 500, 1000, 5000]
    dump = "\n".join(pyogrio.read_dataframe(path, layer=layer).to_json() for layer in layers if layer != "screening")
    _assert_public([dump, meta.drop(columns=["screened_at"]).to_json()], _everything(app))


def test_the_form_says_what_is_wrong_and_keeps_what_was_drawn(client):
    token = csrf_token(client, "/impact")
    r = client.post("/impact", data={"csrf_token": token, "width_m": "30"})
    assert r.status_code == 422 and "no footprint was given" in r.get_data(as_text=True)
    drawn = json.dumps({"type": "Point", "coordinates": [25.9, 105.4]})
    r = client.post("/impact", data={"csrf_token": token, "footprint_drawn": drawn, "width_m": "30"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "swapped" in page and 'id="form-error"' in page
    assert "25.9, 105.4" in page.replace("&#34;", '"').replace("[", "").replace("]", "")  # the drawing is kept
    r = client.post("/impact", content_type="multipart/form-data",
                    data={"csrf_token": token, "crs": "other", "crs_other": "EPSG:4545",
                          "file": (io.BytesIO(b"not a shapefile"), "plan.zip")})
    assert r.status_code == 422 and "plan.zip" in r.get_data(as_text=True)
