"""Saved screenings and project cases: the staff report (registry version, time, rule table; JSON and GeoPackage
downloads), reproducing a screening at its registry version, running it again, project cases with their decisions
and history, the cases on the affected sites' timelines, and the flag a changed boundary raises."""
from __future__ import annotations

import json
import re

import pytest
from shapely.geometry import MultiPolygon, box

from fossil_registry import impact, registry, sites, store
from fossil_registry.db import get_conn

from .conftest import bearer, csrf_token, login

pytestmark = pytest.mark.both_backends

ROAD = {"type": "LineString", "coordinates": [[105.30, 25.85], [105.40, 25.89], [105.50, 25.80], [105.58, 25.88]]}


def _screen_on_the_web(client, title="G320 realignment") -> int:
    token = csrf_token(client, "/impact")
    r = client.post("/impact", data={"csrf_token": token, "footprint_drawn": json.dumps(ROAD), "width_m": "30",
                                     "title": title, "buffers_m": "0, 200, 500, 1000, 5000"})
    assert r.status_code == 303, r.get_data(as_text=True)
    return int(re.search(r"/impact/screenings/(\d+)$", r.headers["Location"]).group(1))


def _move_boundary(app, code: str, dx: float, dy: float) -> None:
    with app.app_context():
        conn = get_conn()
        s = sites.current(conn, code)
        moved = MultiPolygon([box(b.bounds[0] + dx, b.bounds[1] + dy, b.bounds[2] + dx, b.bounds[3] + dy)
                              for b in s.boundary.geoms])
        sites.change_site(conn, code, base_version=s.version, author="ada", reason="test: resurveyed boundary",
                          boundary=moved)


def test_a_staff_screening_is_saved_and_reported(app, client):
    login(client, "field")
    sid = _screen_on_the_web(client)
    page = client.get(f"/impact/screenings/{sid}").get_data(as_text=True)
    with app.app_context():
        version = store.impact.registry_version(get_conn())
    assert f'<span id="registry-version">{version}</span>' in page
    assert "G320 realignment" in page and 'id="rules"' in page and "GZ-0004" in page  # exact: the hidden site too
    assert "(Beijing time)" in page or "(北京时间)" in page  # the screening time in the registry's zone, named
    listing = client.get("/impact/screenings").get_data(as_text=True)
    assert f"/impact/screenings/{sid}" in listing
    data = client.get(f"/impact/screenings/{sid}.json")
    assert data.mimetype == "application/json" and "attachment" in data.headers["Content-Disposition"]
    body = json.loads(data.get_data(as_text=True))
    assert body["registry_version"] == version and body["screening_id"] == sid and body["view"] == "exact"
    assert body["rules"][0] == {"ring_m": 0, "national": "very_high", "provincial": "very_high", "general": "high"}
    # every kind of feature is screened: the road passes the section GZS-0007 too
    assert {a["code"] for a in body["affected"]} == {"GZ-0001", "GZ-0002", "GZ-0003", "GZ-0004", "GZS-0007"}
    assert {a["feature"] for a in body["affected"]} == {"site", "section"}
    with app.app_context():
        audit = store.list_audit(get_conn(), action="impact.screen")
    assert audit[0]["target"] == f"screening {sid}" and audit[0]["actor"] == "fiona"


def test_the_geopackage_download(app, client, tmp_path):
    import pyogrio

    login(client, "field")
    sid = _screen_on_the_web(client)
    r = client.get(f"/impact/screenings/{sid}.gpkg")
    assert r.mimetype == "application/geopackage+sqlite3"
    path = tmp_path / "s.gpkg"
    path.write_bytes(r.data)
    sites_layer = pyogrio.read_dataframe(path, layer="affected_sites")
    assert sites_layer.crs.to_epsg() == 4490
    row = sites_layer.set_index("code").loc["GZ-0001"]
    assert bool(row["intersects"]) and row["overlap_m2"] > 0 and row["risk"] == "very_high"
    nearest = pyogrio.read_dataframe(path, layer="nearest")
    assert set(nearest["code"]) - {"GZS-0007"} == {"GZ-0002", "GZ-0003", "GZ-0004"}
    assert registry.validate_geopackage(path) == []


def test_reproduce_rerun_and_the_registry_file_stay_sound(app, client):
    login(client, "field")
    sid = _screen_on_the_web(client)
    _move_boundary(app, "GZ-0003", -0.004, -0.008)  # towards the end of the road
    page = client.get(f"/impact/screenings/{sid}?reproduce=1").get_data(as_text=True)
    assert 'id="reproduction" class="flash success"' in page  # the old registry state gives the saved figures
    api = client.get(f"/api/impact/screenings/{sid}/reproduce", headers=bearer("field")).get_json()
    assert api["identical"] and api["sites"] == 5  # four sites and the section GZS-0007
    token = csrf_token(client, f"/impact/screenings/{sid}")
    r = client.post(f"/impact/screenings/{sid}/rerun", data={"csrf_token": token})
    new_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        conn = get_conn()
        old = impact.get_saved(conn, sid, impact.Settings.from_config(app.config))
        new = impact.get_saved(conn, new_id, impact.Settings.from_config(app.config))
        assert new.rerun_of == sid and new.registry_version > old.registry_version
        before = {a["code"]: a for a in old.affected}["GZ-0003"]
        after = {a["code"]: a for a in new.affected}["GZ-0003"]
        assert after["distance_m"] < before["distance_m"] - 300 and after["version"] == before["version"] + 1
        with pytest.raises(Exception, match="append-only"):
            conn.execute("UPDATE impact_screenings SET title = 'changed' WHERE fid = ?", (sid,))
        assert store.check_integrity(conn) == []
    assert registry.check_registry(app.config["REGISTRY"]) == []  # (PostGIS: its export passes GDAL's validator)


def test_a_project_case_from_opening_to_decision(app, client):
    login(client, "expert")
    sid = _screen_on_the_web(client)
    token = csrf_token(client, f"/impact/screenings/{sid}")
    r = client.post(f"/impact/screenings/{sid}/case", data={"csrf_token": token, "name": "G320 realignment",
                                                            "developer": "Guizhou Roads Ltd", "stage": "application",
                                                            "reference": "黔发改交通〔2025〕12号"})
    assert r.status_code == 303
    case_id = int(r.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/impact/cases/{case_id}").get_data(as_text=True)
    assert "Guizhou Roads Ltd" in page and 'id="case-current"' in page
    # conditions need the decision that carries them, and the decision "with conditions" needs some
    bad = client.post(f"/impact/cases/{case_id}", data={"csrf_token": token, "version": "1",
                                                         "decision": "conditions", "conditions_sent": "1"})
    assert bad.status_code == 422 and "at least one condition" in bad.get_data(as_text=True)
    ok = client.post(f"/impact/cases/{case_id}", data={"csrf_token": token, "version": "1", "decision": "conditions",
                                                        "conditions_sent": "1",
                                                        "conditions": ["monitoring", "stop_and_report"],
                                                        "conditions_note": "Monitoring by the provincial museum",
                                                        "note": "Meeting with the developer on 3 March"})
    assert ok.status_code == 303
    stale = client.post(f"/impact/cases/{case_id}", data={"csrf_token": token, "version": "1", "stage": "completed"})
    assert stale.status_code == 409
    case = client.get(f"/api/impact/cases/{case_id}", headers=bearer("expert")).get_json()
    assert case["version"] == 2 and case["decision"] == "conditions"
    assert case["conditions"] == ["monitoring", "stop_and_report"]
    assert [e["kind"] for e in case["events"]] == ["opened", "updated"]
    assert case["events"][1]["note"] == "Meeting with the developer on 3 March"
    with app.app_context():
        actions = [a["action"] for a in store.list_audit(get_conn(), action="impact.case")]
    assert actions == ["impact.case.update", "impact.case.open"]


def test_cases_on_the_timelines_of_the_affected_sites(app, client):
    login(client, "expert")
    sid = _screen_on_the_web(client)
    r = client.post(f"/api/impact/screenings/{sid}/cases", headers=bearer("expert"),
                    json={"name": "Quarry extension", "developer": "Xinpu Stone Co."})
    case_id = r.get_json()["fid"]
    timeline = client.get("/sites/GZ-0001/timeline").get_data(as_text=True)
    assert f"/impact/cases/{case_id}" in timeline and "Quarry extension" in timeline
    assert "the footprint intersects the site" in timeline
    api = client.get("/api/sites/GZ-0004/timeline", headers=bearer("field")).get_json()
    cases = [e for e in api["events"] if e["kind"] == "impact_case"]
    assert cases and cases[0]["risk"] == "low" and cases[0]["ring_m"] == 500
    far = client.get("/api/sites/GZ-0040/timeline", headers=bearer("field")).get_json()
    assert not [e for e in far["events"] if e["kind"] == "impact_case"]


def test_a_changed_boundary_flags_the_case_until_it_is_rescreened(app, client):
    login(client, "expert")
    sid = _screen_on_the_web(client)
    case = client.post(f"/api/impact/screenings/{sid}/cases", headers=bearer("expert"),
                       json={"name": "Road"}).get_json()
    assert case["flagged"] is False
    _move_boundary(app, "GZ-0003", -0.006, -0.014)  # now over the end of the road
    _move_boundary(app, "GZ-0040", 0.001, 0)        # far away: not this case's business
    case = client.get(f"/api/impact/cases/{case['fid']}", headers=bearer("field")).get_json()
    assert case["flagged"] is True
    assert [(c["code"], c["changes"]) for c in case["changes"]] == [("GZ-0003", ["boundary"])]
    change = case["changes"][0]
    assert change["then"]["ring_m"] == 5000 and change["now"]["intersects"] is True
    assert change["now"]["risk"] == "very_high"
    listing = client.get("/impact/cases").get_data(as_text=True)
    assert f'<tr class="flagged" data-case="{case["fid"]}">' in listing
    page = client.get(f"/impact/cases/{case['fid']}").get_data(as_text=True)
    assert 'id="case-flag"' in page and 'id="rescreen"' in page
    token = csrf_token(client, f"/impact/cases/{case['fid']}")
    r = client.post(f"/impact/cases/{case['fid']}/rescreen", data={"csrf_token": token, "version": "1"})
    assert r.status_code == 303
    case = client.get(f"/api/impact/cases/{case['fid']}", headers=bearer("field")).get_json()
    assert case["flagged"] is False and case["screening_id"] != sid and case["highest_risk"] == "very_high"
    assert [e["kind"] for e in case["events"]] == ["opened", "rescreened"]


def test_new_sites_and_level_changes_flag_too(app, client):
    login(client, "expert")
    sid = _screen_on_the_web(client)
    case = client.post(f"/api/impact/screenings/{sid}/cases", headers=bearer("expert"),
                       json={"name": "Road"}).get_json()
    with app.app_context():
        conn = get_conn()
        sites.create_site(conn, properties={"name": "新发现点", "level": "general", "sensitivity": "hidden"},
                          location=box(105.449, 25.849, 105.451, 25.851).centroid, boundary=None, author="ada",
                          reason="found during the survey")
        s = sites.current(conn, "GZ-0002")
        sites.change_site(conn, "GZ-0002", base_version=s.version, author="ada", reason="upgraded",
                          properties={"level": "national"})
        sites.change_site(conn, "GZ-0001", base_version=1, author="ada", reason="typo",
                          properties={"name_en": "Wolonggang"})  # a name change cannot alter the figures
    found = client.get(f"/api/impact/cases/{case['fid']}", headers=bearer("field")).get_json()["changes"]
    kinds = {c["code"]: c["changes"] for c in found}
    assert kinds.pop("GZ-0002") == ["level"] and list(kinds.values()) == [["new"]]


def test_user_text_is_shown_as_text_on_reports_cases_and_timelines(app, client):
    """Site names, titles, developers and notes with template syntax reach the report's map only as Overlay data and
    the pages only escaped: nothing is evaluated."""
    hostile = "{{ 7*7 }}{% if true %}yes{% endif %}<b>x</b>"
    with app.app_context():
        conn = get_conn()
        s = sites.current(conn, "GZ-0001")
        sites.change_site(conn, "GZ-0001", base_version=s.version, author="ada", reason="test",
                          properties={"name": hostile})
    login(client, "expert")
    sid = _screen_on_the_web(client, title=hostile)
    case = client.post(f"/api/impact/screenings/{sid}/cases", headers=bearer("expert"),
                       json={"name": hostile, "developer": hostile, "note": hostile}).get_json()
    for url in (f"/impact/screenings/{sid}", "/impact/screenings", f"/impact/cases/{case['fid']}", "/impact/cases",
                "/sites/GZ-0001/timeline"):
        page = client.get(url).get_data(as_text=True)
        assert "49yes" not in page and "{{ 7*7 }}{% if true %}yes{% endif %}" in page, url
        assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page, url
