"""The revision workflow through its JSON API and domain functions: proposals in every input form, validation with
readable reasons, the four-eyes rule, reasons for declines, resubmission, conflicts and rebasing, batch approval,
restoration, and an approval that fails half-way leaving nothing behind."""
from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from PIL import Image
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon, box, mapping, shape

from fossil_registry import coords, registry, revisions, sites, store
from fossil_registry.db import get_conn
from fossil_registry.store import revisions as rstore

from .conftest import bearer
from .conftest import login as login_page
from .backends import DB_REFUSAL, dump, fail_inserts, stop_failing

pytestmark = pytest.mark.both_backends

GEOD = Geod(ellps="GRS80")  # independent of the app's own helpers


def dist(a, b) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def area(geom) -> float:
    return abs(sum(GEOD.geometry_area_perimeter(p)[0] for p in getattr(geom, "geoms", [geom])))


def square(lon, lat, half=0.002) -> dict:
    return mapping(box(lon - half, lat - half, lon + half, lat + half))


def api(client, who, method, url, **kwargs):
    return client.open(url, method=method, headers=bearer(who), **kwargs)


def current(client, code):
    return client.get(f"/api/sites/{code}", headers=bearer("field")).get_json()


def propose(client, code="GZ-0003", who="field", expect=201, **body):
    body.setdefault("reason", "RTK resurvey 2026-03")
    body.setdefault("base_version", current(client, code)["version"])
    r = api(client, who, "POST", f"/api/sites/{code}/revisions", json=body)
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def decide(client, rid, decision="approve", who="expert", comment=None, expect=200):
    """A reviewer opens the proposal, then decides on the round they saw."""
    seen = api(client, who, "GET", f"/api/revisions/{rid}").get_json()["round"]
    r = api(client, who, "POST", f"/api/revisions/{rid}/decision",
            json={"decision": decision, "comment": comment, "round": seen})
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def counts(app) -> dict:
    with app.app_context():
        conn = get_conn()
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("revisions", "revision_events", "revision_attachments", "audit_log", "site_versions")}


# ------------------------------------------------------------------------------------------------ proposing
def test_location_proposal_returns_the_revision_with_geodesic_metrics(app, client):
    before = current(client, "GZ-0003")
    new = [105.5862, 25.9031]
    r = api(client, "field", "POST", "/api/sites/GZ-0003/revisions",
            json={"base_version": 1, "location": {"type": "Point", "coordinates": new}, "reason": "RTK resurvey",
                  "method": "rtk", "accuracy_m": 0.03, "survey_date": "2026-03-14"})
    assert r.status_code == 201 and r.headers["Location"] == f"/api/revisions/{r.get_json()['id']}"
    body = r.get_json()
    assert (body["status"], body["site"], body["base_version"], body["author"]) == ("submitted", "GZ-0003", 1, "fiona")
    assert body["method"] == "rtk" and body["accuracy_m"] == 0.03 and body["survey_date"] == "2026-03-14"
    expected = dist(before["location"]["coordinates"], new)
    assert body["metrics"]["location_shift_m"] == pytest.approx(expected, abs=0.01)
    assert body["warnings"] == [] and body["thread"][0]["event"] == "submitted"
    # nothing reaches the registry before review
    assert current(client, "GZ-0003")["version"] == 1
    with app.app_context():
        entry = store.list_audit(get_conn(), action="revision.submit")[0]
        assert entry["actor"] == "fiona" and entry["target"] == "GZ-0003" and entry["detail"]["revision_id"] == body["id"]


def test_boundary_upload_as_multipart_kml(app, client, tmp_path):
    outline = box(105.579, 25.894, 105.592, 25.906)
    path = tmp_path / "walk.kml"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"name": ["东界"]}, geometry=[outline], crs="EPSG:4326"), path,
                            driver="KML")
    r = api(client, "field", "POST", "/api/sites/GZ-0003/revisions", content_type="multipart/form-data",
            data={"file": (io.BytesIO(path.read_bytes()), "walk.kml"), "target": "boundary", "base_version": "1",
                  "reason": "walked the boundary with a handheld GPS", "method": "handheld_gnss", "accuracy_m": "4"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["input"]["boundary"]["format"] == "kml" and body["input"]["boundary"]["filename"] == "walk.kml"
    assert shape(body["boundary"]).equals(MultiPolygon([outline]))
    m = body["metrics"]
    old = shape(current(client, "GZ-0003")["boundary"])
    assert m["area_after_m2"] == pytest.approx(area(outline), rel=1e-6)
    assert m["area_before_m2"] == pytest.approx(area(old), rel=1e-6)
    assert m["area_change_pct"] == pytest.approx((area(outline) - area(old)) / area(old) * 100, abs=0.01)
    assert m["vertices_before"] == len(old.geoms[0].exterior.coords) - 1 and m["vertices_after"] == 4
    assert m["hausdorff_m"] > 0 and m["centroid_shift_m"] > 0 and m["area_added_m2"] >= 0


def test_projected_and_gcj02_input_is_stored_in_cgcs2000(client):
    # Guiyang reference point in CGCS2000 3-degree GK (CM 108E): easting 363594.53, northing 2949581.59
    body = propose(client, "GZ-0003", location={"type": "Point", "coordinates": [363594.53, 2949581.59]},
                   crs="EPSG:4545")
    lon, lat = body["location"]["coordinates"]
    assert dist((lon, lat), (106.63, 26.65)) < 0.05
    assert any(w["code"] == "far_from_current" for w in body["warnings"])  # moved ~130 km: said so
    # GCJ-02 from a phone map: the offset in Guizhou is 480-570 m, and is removed
    true = (105.5855, 25.9025)
    gcj = coords.wgs84_to_gcj02(*true)
    assert 480 < dist(true, gcj) < 570
    body = propose(client, "GZ-0003", location={"type": "Point", "coordinates": list(map(float, gcj))}, crs="GCJ02",
                   method="phone_map")
    assert dist(body["location"]["coordinates"], true) < 0.5
    assert body["input"]["location"]["source_crs"] == "GCJ02"
    assert not any(w["code"] == "phone_map_offset" for w in body["warnings"])


def test_typed_coordinates_through_the_api(client):
    body = propose(client, "GZ-0003", location="北纬25°54′09″ 东经105°35′07″")
    lon, lat = body["location"]["coordinates"]
    assert lon == pytest.approx(105 + 35 / 60 + 7 / 3600) and lat == pytest.approx(25 + 54 / 60 + 9 / 3600)


def test_new_site_proposal_gets_its_code_on_approval(app, client):
    r = api(client, "field", "POST", "/api/revisions", json={
        "properties": {"name": "关岭新发现海生爬行类点", "fossil_groups": ["marine_reptiles"], "period": "Triassic"},
        "location": {"type": "Point", "coordinates": [105.45, 25.80]}, "boundary": square(105.45, 25.80, 0.001),
        "reason": "quarry exposed a marine reptile skeleton", "method": "handheld_gnss", "accuracy_m": 5})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["site"] is None and body["base_version"] is None and body["kind"] == "new_site"
    assert body["properties"]["sensitivity"] == "hidden" and body["properties"]["level"] == "general"
    assert any(w["code"] == "defaults" for w in body["warnings"])
    with app.app_context():
        highest = max(s.code for s in sites.list_current(get_conn(), include_retired=True))
    approved = decide(client, body["id"])
    code = approved["site"]
    assert code == f"GZ-{int(highest[3:]) + 1:04d}" and approved["site_version"] == 1
    assert approved["status"] == "approved" and current(client, code)["properties"]["name"] == "关岭新发现海生爬行类点"
    with app.app_context():
        v1 = sites.history(get_conn(), code)[0]
        assert (v1.author, v1.reviewer, v1.revision_id, v1.reason) == (
            "fiona", "ellen", body["id"], "quarry exposed a marine reptile skeleton")
    # a new site needs a name
    r = api(client, "field", "POST", "/api/revisions", json={"properties": {"age": "x"}, "reason": "r",
                                                              "location": {"type": "Point", "coordinates": [106, 26]}})
    assert r.status_code == 422 and "needs a name" in r.get_json()["detail"]


# ------------------------------------------------------------------------------------------------ validation
BOWTIE = {"type": "Polygon", "coordinates": [[[105.580, 25.895], [105.590, 25.905], [105.590, 25.895],
                                               [105.580, 25.905], [105.580, 25.895]]]}


def test_self_intersection_says_where_and_the_repair_must_be_accepted(app, client):
    before = counts(app)
    r = api(client, "field", "POST", "/api/sites/GZ-0003/revisions",
            json={"base_version": 1, "boundary": BOWTIE, "reason": "drawn on the phone"})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert "self-intersects at 105.585 25.9" in problem["detail"] and "accept_repair" in problem["detail"]
    assert problem["location"] == [105.585, 25.9]
    repair = shape(problem["repair"])
    assert repair.is_valid and repair.area == pytest.approx(shape(BOWTIE).buffer(0).area + 0.5 * 0.01 * 0.005, rel=0.5)
    assert counts(app) == before  # refused: nothing saved
    body = propose(client, "GZ-0003", boundary=BOWTIE, accept_repair=True)
    assert shape(body["boundary"]).equals(repair)
    assert body["warnings"][0]["code"] == "repaired" and "self-intersects" in body["warnings"][0]["message"]


@pytest.mark.parametrize("body, status, message", [
    ({"location": {"type": "Point", "coordinates": [25.902, 105.585]}}, 422, "longitude and latitude look swapped"),
    ({"location": {"type": "Point", "coordinates": [200.0, 95.0]}}, 422, "outside the longitude/latitude range"),
    ({"location": {"type": "Point", "coordinates": [585000.0, 2865000.0]}}, 422, "look like projected metres"),
    ({"boundary": {"type": "Polygon", "coordinates": [[[105.58, 25.89], [105.59, 25.89], [105.59, 25.90]]]}}, 422,
     "is not closed"),
    ({"boundary": {"type": "Polygon", "coordinates": [[[25.89, 105.58], [25.89, 105.59], [25.90, 105.59],
                                                       [25.89, 105.58]]]}}, 422, "look swapped"),
    ({"location": {"type": "Point", "coordinates": [105.585, 25.902]}}, 422, "changes nothing"),
    ({"location": {"type": "Point", "coordinates": [105.586, 25.902]}, "reason": " "}, 422, "needs a reason"),
    ({"location": {"type": "Point", "coordinates": [105.586, 25.902]}, "crs": "EPSG:999999"}, 422,
     "no EPSG code 999999"),
    ({"location": {"type": "Point", "coordinates": [105.586, 25.902]}, "method": "guess"}, 422, "method must be one of"),
    ({"location": {"type": "Point", "coordinates": [105.586, 25.902]}, "survey_date": "2999-01-01"}, 422,
     "in the future"),
    ({"location": {"type": "Point", "coordinates": [105.586, 25.902]}, "base_version": 7}, 422, "has no version 7"),
    ({"location": {"type": "LineString", "coordinates": [[105.586, 25.902], [105.587, 25.903]]}}, 422,
     "must be a Point"),
])
def test_errors_refuse_with_readable_reasons(app, client, body, status, message):
    before = counts(app)
    payload = {"base_version": 1, "reason": "resurvey", **body}
    r = api(client, "field", "POST", "/api/sites/GZ-0003/revisions", json=payload)
    assert r.status_code == status and message in r.get_json()["detail"], r.get_json()
    assert counts(app) == before


def test_warnings_are_returned_with_the_proposal(client):
    gz2 = shape(current(client, "GZ-0002")["boundary"])
    gz1 = shape(current(client, "GZ-0001")["boundary"])
    grown = gz1.union(box(105.392, 25.892, 105.398, 25.898))  # reaches into GZ-0002's boundary
    far = (105.372 + 0.03, 25.878)  # about 3 km east: also outside the grown boundary
    body = propose(client, "GZ-0001", boundary=mapping(grown), location={"type": "Point", "coordinates": list(far)},
                   method="phone_map", accuracy_m=5000)
    w = {x["code"]: x for x in body["warnings"]}
    overlap = w["overlaps_site"]
    assert overlap["site"] == "GZ-0002" and "overlaps site GZ-0002" in overlap["message"]
    assert overlap["overlap_m2"] == pytest.approx(area(grown.intersection(gz2)), rel=1e-3)
    shift = dist((105.372, 25.878), far)
    assert w["far_from_current"]["distance_m"] == pytest.approx(shift, abs=0.1)
    assert f"moves {shift:,.0f} m (geodesic)" in w["far_from_current"]["message"]
    assert w["location_outside_boundary"]["distance_m"] > 0
    assert "less than the stated accuracy of 5000 m" in w["below_accuracy"]["message"]
    assert "GCJ-02 or BD-09" in w["phone_map_offset"]["message"]
    # outside the province (a new site in Yunnan) and inside another site's boundary
    r = api(client, "field", "POST", "/api/revisions", json={
        "properties": {"name": "滇东点"}, "location": {"type": "Point", "coordinates": [102.7, 25.0]}, "reason": "r"})
    assert any(x["code"] == "outside_region" and "outside Guizhou" in x["message"] for x in r.get_json()["warnings"])
    r = api(client, "field", "POST", "/api/revisions", json={
        "properties": {"name": "重复点?"}, "location": {"type": "Point", "coordinates": [105.372, 25.879]},
        "reason": "r"})
    assert any(x["code"] == "inside_site" and x["site"] == "GZ-0001" for x in r.get_json()["warnings"])


def test_submission_on_an_old_version_and_a_boundary_only_new_site_are_flagged(client):
    first = propose(client, "GZ-0003", location={"type": "Point", "coordinates": [105.5851, 25.9021]})
    decide(client, first["id"])
    late = propose(client, "GZ-0003", base_version=1, properties={"age": "Carnian"})  # surveyed offline on v1
    stale = next(w for w in late["warnings"] if w["code"] == "stale_base")
    assert stale["current_version"] == 2 and "must be rebased" in stale["message"]
    r = api(client, "field", "POST", "/api/revisions", json={
        "properties": {"name": "只有边界的新点"}, "boundary": square(106.3, 26.3, 0.001), "reason": "outline only"})
    body = r.get_json()
    derived = next(w for w in body["warnings"] if w["code"] == "location_derived")
    assert shape(body["boundary"]).contains(shape(body["location"])) and derived["location"] == body["location"][
        "coordinates"]


def test_hundreds_of_thousands_of_vertices_need_consent_to_simplify(app, client):
    n = 200_000  # a GPS logger's raw perimeter
    ring = [(105.585 + 0.006 * math.cos(2 * math.pi * i / n) + 2e-7 * (i % 7),
             25.900 + 0.006 * math.sin(2 * math.pi * i / n)) for i in range(n)]
    boundary = json.dumps({"type": "Polygon", "coordinates": [ring + [ring[0]]]})
    before = counts(app)

    def send(extra: str):  # serialised once: the body is 8 MB
        return client.post("/api/sites/GZ-0003/revisions", headers=bearer("field"), content_type="application/json",
                           data='{"base_version": 1, "reason": "GPS log at 10 Hz"%s, "boundary": %s}' % (extra, boundary))
    r = send("")
    assert r.status_code == 422 and "200,000 vertices; the limit is 20,000" in r.get_json()["detail"]
    assert "accept_simplify" in r.get_json()["detail"] and counts(app) == before
    r = send(', "accept_simplify": true')
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["metrics"]["vertices_after"] <= 20_000
    w = next(x for x in body["warnings"] if x["code"] == "simplified")
    assert w["vertices_before"] == 200_000 and 0 < w["tolerance_m"] < 1
    assert body["metrics"]["area_after_m2"] == pytest.approx(area(Polygon(ring)), rel=1e-4)


# ------------------------------------------------------------------------------------------------ review
def test_four_eyes_nobody_approves_their_own_proposal(app, client):
    own = propose(client, "GZ-0003", who="expert", location={"type": "Point", "coordinates": [105.5851, 25.9021]})
    r = decide(client, own["id"], who="expert", expect=403)
    assert "nobody reviews their own proposal" in r["detail"]
    decide(client, own["id"], who="field", expect=403)  # field staff never decide
    approved = decide(client, own["id"], who="expert2", comment="checked against the 2025 orthophoto")
    assert approved["status"] == "approved" and approved["reviewer"] == "enzo" and approved["site_version"] == 2
    assert approved["decision_comment"] == "checked against the 2025 orthophoto"
    site = current(client, "GZ-0003")
    assert site["version"] == 2 and site["location"]["coordinates"] == [105.5851, 25.9021]
    # (no requests inside an app context: they would share its g, and with it the signed-in user)
    other = propose(client, "GZ-0003", who="expert", location={"type": "Point", "coordinates": [105.5852, 25.9022]})
    with app.app_context():
        v2 = sites.history(get_conn(), "GZ-0003")[1]
        assert (v2.author, v2.reviewer, v2.reason, v2.revision_id) == ("ellen", "enzo", "RTK resurvey 2026-03", own["id"])
        # the database itself refuses a self-approval, whatever the code above it does
        with pytest.raises(DB_REFUSAL):
            with store.transaction(get_conn()):
                rstore.update_revision(get_conn(), other["id"], status="approved", reviewer="ellen",
                                       applied_version=3)


def test_declines_need_reasons_and_authors_see_them(client):
    rid = propose(client, "GZ-0003", location={"type": "Point", "coordinates": [105.5853, 25.9023]})["id"]
    for decision in ("reject", "request_changes"):
        r = decide(client, rid, decision, comment="  ", expect=422)
        assert "needs a reason" in r["detail"]
    r = decide(client, rid, "bogus", expect=422)
    assert "decision must be one of" in r["detail"]
    body = decide(client, rid, "reject", comment="the point is on the road, not the outcrop")
    assert body["status"] == "rejected" and body["decision_comment"] == "the point is on the road, not the outcrop"
    decide(client, rid, "approve", expect=409)  # decided once, for good
    inbox = client.get("/api/revisions/inbox", headers=bearer("field")).get_json()
    latest = inbox["recent_decisions"][0]
    assert (latest["revision_id"], latest["event"], latest["comment"], latest["actor"]) == (
        rid, "rejected", "the point is on the road, not the outcrop", "ellen")
    assert inbox["mine"]["rejected"] == 1
    expert_inbox = client.get("/api/revisions/inbox", headers=bearer("expert")).get_json()
    assert "awaiting_review" in expert_inbox and "awaiting_review" not in inbox


def test_request_changes_then_amend_and_resubmit_keeps_the_thread(app, client):
    first = propose(client, "GZ-0003", location={"type": "Point", "coordinates": [105.5854, 25.9024]})
    rid = first["id"]
    decide(client, rid, "request_changes", comment="state the accuracy and the survey date")
    inbox = client.get("/api/revisions/inbox", headers=bearer("field")).get_json()
    assert inbox["changes_requested"][0]["decision_comment"] == "state the accuracy and the survey date"
    # only the author amends
    r = api(client, "field2", "POST", f"/api/revisions/{rid}/amend", json={"accuracy_m": 1})
    assert r.status_code == 403
    decide(client, rid, "approve", expect=409)  # waiting for the author
    r = api(client, "field", "POST", f"/api/revisions/{rid}/amend",
            json={"accuracy_m": 0.02, "survey_date": "2026-03-20", "method": "rtk",
                  "location": {"type": "Point", "coordinates": [105.5856, 25.9026]}, "comment": "added, and re-measured"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "submitted" and body["round"] == 2 and body["accuracy_m"] == 0.02
    assert body["location"]["coordinates"] == [105.5856, 25.9026] and body["reason"] == first["reason"]
    events = [e["event"] for e in body["thread"]]
    assert events == ["submitted", "changes_requested", "resubmitted"]
    resubmitted = body["thread"][-1]
    assert resubmitted["comment"] == "added, and re-measured"
    assert resubmitted["detail"]["previous"]["location"]["coordinates"] == [105.5854, 25.9024]  # nothing lost
    approved = decide(client, rid)
    assert approved["status"] == "approved" and current(client, "GZ-0003")["location"]["coordinates"] == [105.5856,
                                                                                                          25.9026]


def test_stale_base_is_refused_with_409_and_can_be_rebased(app, client):
    code = "GZ-0003"
    # A moves only the boundary; B changes only an attribute: different parts, still a conflict (never merged)
    a = propose(client, code, boundary=square(105.585, 25.900, 0.004))
    b = propose(client, code, properties={"age": "Late Triassic (Carnian), Xiaowa Fm. lower member"})
    decide(client, a["id"])
    r = api(client, "expert", "POST", f"/api/revisions/{b['id']}/decision", json={"decision": "approve", "round": 1})
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert problem["base_version"] == 1 and problem["current_version"] == 2 and problem["changed"] == ["boundary"]
    assert "rebase" in problem["detail"]
    assert current(client, code)["version"] == 2  # B did not overwrite A
    view = client.get(f"/api/revisions/{b['id']}", headers=bearer("expert")).get_json()
    assert view["stale"] is True and view["current_version"] == 2
    tw = view["conflict"]
    assert (tw["base_version"], tw["current_version"]) == (1, 2)
    assert tw["geometry"]["boundary"]["changed_since_base"] and not tw["geometry"]["boundary"]["proposed_change"]
    age = next(f for f in tw["fields"] if f["field"] == "age")
    assert age["proposed_change"] and not age["changed_since_base"] and not age["conflict"]
    assert shape(tw["geometry"]["boundary"]["current"]).equals(shape(square(105.585, 25.900, 0.004)))
    # rebase: new base, re-validated, figures against the current version; then it can be approved
    r = api(client, "expert", "POST", f"/api/revisions/{b['id']}/rebase")
    assert r.status_code == 200, r.get_json()
    rebased = r.get_json()
    assert rebased["base_version"] == 2 and rebased["thread"][-1]["event"] == "rebased"
    assert rebased["thread"][-1]["detail"]["from"] == 1 and rebased["thread"][-1]["detail"]["to"] == 2
    r = api(client, "expert", "POST", f"/api/revisions/{b['id']}/rebase")
    assert r.status_code == 422 and "already based on the current version" in r.get_json()["detail"]
    approved = decide(client, b["id"])
    assert approved["site_version"] == 3
    final = current(client, code)
    assert shape(final["boundary"]).equals(shape(square(105.585, 25.900, 0.004)))  # A's boundary kept
    assert final["properties"]["age"].endswith("lower member")


def test_conflicting_location_changes_are_shown_three_ways(client):
    a = propose(client, "GZ-0003", location={"type": "Point", "coordinates": [105.5861, 25.9021]})
    b = propose(client, "GZ-0003", location={"type": "Point", "coordinates": [105.5842, 25.9015]})
    decide(client, a["id"])
    tw = client.get(f"/api/revisions/{b['id']}", headers=bearer("expert")).get_json()["conflict"]
    loc = tw["geometry"]["location"]
    assert loc["conflict"] and loc["base"]["coordinates"] == [105.585, 25.902]
    assert loc["current"]["coordinates"] == [105.5861, 25.9021] and loc["proposed"]["coordinates"] == [105.5842, 25.9015]
    assert tw["metrics"]["current_to_proposed"]["location_shift_m"] == pytest.approx(
        dist((105.5861, 25.9021), (105.5842, 25.9015)), abs=0.01)
    # sending it back instead of rebasing
    sent = decide(client, b["id"], "request_changes", comment="GZ-0003 was moved meanwhile: check which point is right")
    assert sent["status"] == "changes_requested"


def test_batch_approval_reports_each_outcome(app, client):
    ids = [propose(client, code, location={"type": "Point", "coordinates": [lon + 0.0003, lat]})["id"]
           for code, lon, lat in (("GZ-0003", 105.585, 25.902), ("GZ-0001", 105.372, 25.878),
                                  ("GZ-0010", 104.69, 25.555))]
    stale = propose(client, "GZ-0003", properties={"formation": "Zhuganpo Formation"})["id"]
    own = propose(client, "GZ-0001", who="expert", properties={"formation": "Xiaowa Fm."})["id"]
    r = api(client, "expert", "POST", "/api/revisions/batch-decision",
            json={"items": [{"id": i, "round": 1} for i in ids + [stale, own]], "decision": "approve",
                  "comment": "batch: RTK campaign 2026"})
    assert r.status_code == 200
    body = r.get_json()
    results = {x["id"]: x for x in body["results"]}
    assert body["approved"] == 3 and body["failed"] == 2
    assert all(results[i]["ok"] and results[i]["site_version"] == 2 for i in ids)
    assert results[stale]["http_status"] == 409 and results[own]["http_status"] == 403
    for code in ("GZ-0003", "GZ-0001", "GZ-0010"):
        assert current(client, code)["version"] == 2
    with app.app_context():
        assert sites.history(get_conn(), "GZ-0010")[1].reviewer == "ellen"


def test_restore_is_a_proposal_a_second_person_approves(app, client):
    original = current(client, "GZ-0003")
    rid = propose(client, "GZ-0003", location={"type": "Point", "coordinates": [105.59, 25.91]},
                  boundary=square(105.59, 25.91), properties={"name": "改错的名称"})["id"]
    decide(client, rid)
    assert current(client, "GZ-0003")["properties"]["name"] == "改错的名称"
    r = api(client, "expert", "POST", "/api/sites/GZ-0003/restore", json={"version": 1, "reason": "wrong site"})
    assert r.status_code == 403  # admins only
    r = api(client, "admin", "POST", "/api/sites/GZ-0003/restore", json={"version": 1})
    assert r.status_code == 422 and "needs a reason" in r.get_json()["detail"]
    r = api(client, "admin", "POST", "/api/sites/GZ-0003/restore",
            json={"version": 1, "reason": "v2 was applied to the wrong site"})
    assert r.status_code == 201
    restore = r.get_json()
    assert (restore["kind"], restore["restore_version"], restore["base_version"]) == ("restore", 1, 2)
    decide(client, restore["id"], who="admin", expect=403)  # four eyes for restorations too
    approved = decide(client, restore["id"], who="expert")
    assert approved["site_version"] == 3
    now = current(client, "GZ-0003")
    assert now["location"] == original["location"] and shape(now["boundary"]).equals(shape(original["boundary"]))
    assert now["properties"] == original["properties"]
    with app.app_context():
        v3 = sites.history(get_conn(), "GZ-0003")[2]
        assert (v3.operation, v3.author, v3.reviewer) == ("restore", "ada", "ellen")


def test_retire_and_boundary_removal(client):
    body = propose(client, "GZ-0003", retire=True, reason="the outcrop was quarried away (photos attached)")
    assert body["kind"] == "retire" and body["properties"] == {"status": "retired"}
    decide(client, body["id"])
    assert current(client, "GZ-0003")["properties"]["status"] == "retired"
    body = propose(client, "GZ-0001", remove_boundary=True, reason="boundary under revision by the county")
    assert body["boundary_action"] == "remove" and body["metrics"]["area_after_m2"] is None
    decide(client, body["id"])
    assert current(client, "GZ-0001")["boundary"] is None


def test_withdraw_is_for_the_author(client):
    rid = propose(client, "GZ-0003", location={"type": "Point", "coordinates": [105.5857, 25.9027]})["id"]
    r = api(client, "expert", "POST", f"/api/revisions/{rid}/withdraw")
    assert r.status_code == 403
    r = api(client, "field", "POST", f"/api/revisions/{rid}/withdraw", json={"comment": "wrong site"})
    assert r.status_code == 200 and r.get_json()["status"] == "withdrawn"
    decide(client, rid, expect=409)


def test_list_filters(client):
    a = propose(client, "GZ-0003", location={"type": "Point", "coordinates": [105.5858, 25.9028]})["id"]
    b = propose(client, "GZ-0001", who="expert", properties={"age": "Carnian"})["id"]
    decide(client, a, "reject", who="expert", comment="no")

    def ids(query, who="field"):
        return [x["id"] for x in client.get(f"/api/revisions?{query}", headers=bearer(who)).get_json()["revisions"]]
    assert ids("status=rejected") == [a] and ids("status=submitted") == [b]
    assert ids("site=GZ-0001") == [b] and ids("author=fiona") == [a] and ids("mine=1") == [a]
    assert ids("kind=change&author=ellen") == [b] and ids("awaiting=1", who="expert") == []
    r = client.get("/api/revisions?status=nonsense", headers=bearer("field"))
    assert r.status_code == 422 and "status must be one of" in r.get_json()["detail"]


# ------------------------------------------------------------------------------------------------ atomicity and files
def test_failed_approval_leaves_no_partial_version(app, client):
    rid = propose(client, "GZ-0003", location={"type": "Point", "coordinates": [105.5859, 25.9029]})["id"]
    with app.app_context():
        conn = get_conn()
        for table, message, when in (
                # fails AFTER the site's new version, its R-tree entry and its own audit record were written
                ("audit_log", "audit unavailable", "NEW.action = 'revision.approve'"),
                ("revision_events", "disk full", "NEW.event = 'approved'")):
            before = dump(conn)
            before_rev = dump_revisions(conn)
            fail_inserts(conn, "fail_decision", table, message, when=when)
            with pytest.raises(DB_REFUSAL):
                revisions.decide(conn, rid, "approve", reviewer="ellen", round_seen=1)
            stop_failing(conn, "fail_decision", table)
            assert dump(conn) == before and dump_revisions(conn) == before_rev
            assert sites.current(conn, "GZ-0003").version == 1 and store.check_integrity(conn) == []
        rev, applied = revisions.decide(conn, rid, "approve", reviewer="ellen", round_seen=1)
        assert applied.version == 2 and rev.status == "approved"


def dump_revisions(conn) -> dict:
    return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")]
            for t in ("revisions", "revision_events", "revision_attachments")}


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(buf, "JPEG")
    return buf.getvalue()


def test_attachments_are_content_addressed_and_served(app, client):
    photo = _jpeg()
    r = api(client, "field", "POST", "/api/sites/GZ-0003/revisions", content_type="multipart/form-data", data={
        "base_version": "1", "reason": "new outcrop photo", "location": "25.9025, 105.5855",
        "attachments": [(io.BytesIO(photo), "outcrop.jpg"), (io.BytesIO(b"%PDF-1.4 field notes"), "notes.pdf")]})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    import hashlib
    sha = hashlib.sha256(photo).hexdigest()
    stored = Path(app.config["DATA_DIR"]) / "attachments" / sha[:2] / sha
    assert stored.read_bytes() == photo
    att = {a["filename"]: a for a in body["attachments"]}
    assert att["outcrop.jpg"]["content_type"] == "image/jpeg" and att["notes.pdf"]["content_type"] == "application/pdf"
    got = client.get(att["outcrop.jpg"]["url"], headers=bearer("expert"))
    assert got.status_code == 200 and got.data == photo and got.mimetype == "image/jpeg"
    got = client.get(att["notes.pdf"]["url"], headers=bearer("expert"))
    assert "attachment" in got.headers["Content-Disposition"]
    assert client.get(att["notes.pdf"]["url"]).status_code == 401


def test_bad_upload_leaves_the_registry_and_data_dir_unchanged(app, client):
    before = counts(app)
    folder = Path(app.config["DATA_DIR"]) / "attachments"
    xxe = b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]><kml><Placemark>' \
          b'<name>&x;</name><Point><coordinates>105.58,25.9</coordinates></Point></Placemark></kml>'
    r = api(client, "field", "POST", "/api/sites/GZ-0003/revisions", content_type="multipart/form-data", data={
        "base_version": "1", "reason": "r", "target": "location", "file": (io.BytesIO(xxe), "evil.kml"),
        "attachments": [(io.BytesIO(_jpeg()), "ok.jpg")]})
    assert r.status_code == 422 and "DTD or XML entities" in r.get_json()["detail"]
    r = api(client, "field", "POST", "/api/sites/GZ-0003/revisions", content_type="multipart/form-data", data={
        "base_version": "1", "reason": "r", "location": "25.9025, 105.5855",
        "attachments": [(io.BytesIO(_jpeg()[:100]), "broken.jpg")]})
    assert r.status_code == 422 and "broken.jpg: not a readable image" in r.get_json()["detail"]
    # a failure after the files were written removes them again
    with app.app_context():
        conn = get_conn()
        fail_inserts(conn, "no_insert", "revisions", "x")
        draft = revisions.Draft(reason="r", location=Point(105.5855, 25.9025), base_version=1,
                                attachments=[("fresh.jpg", _jpeg() + b"unique")])
        with pytest.raises(DB_REFUSAL):
            revisions.propose(conn, draft, author="fiona", site_code="GZ-0003",
                              policy=revisions.Policy.from_config(app.config))
        stop_failing(conn, "no_insert", "revisions")
    assert counts(app) == before
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))
    r = api(client, "field", "POST", "/api/sites/GZ-0003/revisions", data="not json", content_type="text/plain")
    assert r.status_code == 422


def test_registry_stays_a_valid_geopackage(app, client, tmp_path):
    rid = propose(client, "GZ-0003", boundary=square(105.585, 25.900, 0.003))["id"]
    decide(client, rid)
    new = api(client, "field", "POST", "/api/revisions", json={
        "properties": {"name": "新点"}, "location": {"type": "Point", "coordinates": [106.0, 26.0]}, "reason": "r"})
    decide(client, new.get_json()["id"])
    with app.app_context():
        conn = get_conn()
        assert store.check_integrity(conn) == []
        store.backup_to(conn, tmp_path / "copy.gpkg", shareable=False)
    assert registry.validate_geopackage(tmp_path / "copy.gpkg") == []
    assert registry.check_registry(app.config["REGISTRY"]) == []


def test_decision_like_calls_refuse_a_body_that_is_not_an_object(app, client):
    from .matrix_revisions import fresh_revision
    rid = fresh_revision(app, author="fiona")
    for url, who in ((f"/api/revisions/{rid}/withdraw", "field"), (f"/api/revisions/{rid}/comments", "field"),
                     (f"/api/revisions/{rid}/decision", "expert"), ("/api/sites/GZ-0001/restore", "admin")):
        r = client.post(url, json=[1], headers=bearer(who))
        assert r.status_code == 422 and r.mimetype == "application/problem+json", (url, r.status_code)
    assert client.get(f"/api/revisions/{rid}", headers=bearer("field")).get_json()["status"] == "submitted"


# ------------------------------------------------------------------------------------------------ rounds (four eyes)
def test_a_decision_applies_exactly_the_round_its_reviewer_saw(app, client):
    """Issue 9, finding 2: the expert opens a harmless proposal, the author amends it (makes the site public and moves
    it), the expert's approval made on what they saw must not apply the amended content."""
    code = "GZ-0002"
    before = current(client, code)
    harmless = propose(client, code, properties={"formation": "Falang Formation"})
    seen = api(client, "expert", "GET", f"/api/revisions/{harmless['id']}").get_json()
    assert seen["round"] == 1
    lon, lat = before["location"]["coordinates"]
    r = api(client, "field", "POST", f"/api/revisions/{harmless['id']}/amend",
            json={"properties": {"sensitivity": "open"}, "location": {"type": "Point", "coordinates": [lon + 0.01, lat]}})
    assert r.status_code == 200 and r.get_json()["round"] == 2 and r.get_json()["status"] == "submitted"
    r = api(client, "expert", "POST", f"/api/revisions/{harmless['id']}/decision",
            json={"decision": "approve", "round": seen["round"]})
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert "changed since you opened it" in body["detail"] and (body["round_seen"], body["round_now"]) == (1, 2)
    assert current(client, code) == before  # nothing applied
    # a decision that names no round is refused, never guessed
    for bad in ({"decision": "approve"}, {"decision": "approve", "round": None}, {"decision": "approve", "round": ""}):
        r = api(client, "expert", "POST", f"/api/revisions/{harmless['id']}/decision", json=bad)
        assert r.status_code == 428 and "round" in r.get_json()["detail"]
    r = api(client, "expert", "POST", f"/api/revisions/{harmless['id']}/decision",
            json={"decision": "approve", "round": "two"})
    assert r.status_code == 422
    assert current(client, code) == before
    # the expert looks again and decides on what is there now
    approved = decide(client, harmless["id"])
    assert approved["status"] == "approved" and current(client, code)["properties"]["sensitivity"] == "open"


def test_rebase_starts_a_new_round_and_batch_decisions_carry_rounds(app, client):
    code = "GZ-0003"
    a = propose(client, code, properties={"formation": "Zhuganpo Formation"})
    b = propose(client, code, properties={"age": "Carnian"})
    decide(client, a["id"])
    r = api(client, "expert", "POST", f"/api/revisions/{b['id']}/rebase")
    assert r.status_code == 200 and r.get_json()["round"] == 2
    # the queue was loaded before the rebase: round 1 is refused, round 2 goes through
    r = api(client, "expert", "POST", "/api/revisions/batch-decision",
            json={"items": [{"id": b["id"], "round": 1}], "decision": "approve"})
    assert r.get_json()["results"][0]["http_status"] == 409 and r.get_json()["approved"] == 0
    r = api(client, "expert", "POST", "/api/revisions/batch-decision", json={"ids": [b["id"]], "decision": "approve"})
    assert r.status_code == 428
    r = api(client, "expert", "POST", "/api/revisions/batch-decision",
            json={"items": [{"id": b["id"], "round": 2}], "decision": "approve"})
    assert r.get_json()["approved"] == 1 and current(client, code)["version"] == 3


def test_batch_approval_refuses_proposals_with_warnings(app, client):
    code = "GZ-0003"
    lon, lat = current(client, code)["location"]["coordinates"]
    far = propose(client, code, location={"type": "Point", "coordinates": [lon + 0.05, lat]})  # ~5 km: a warning
    assert any(w["code"] == "far_from_current" for w in far["warnings"])
    r = api(client, "expert", "POST", "/api/revisions/batch-decision",
            json={"items": [{"id": far["id"], "round": 1}], "decision": "approve"})
    result = r.get_json()["results"][0]
    assert not result["ok"] and "far_from_current" in result["detail"] and current(client, code)["version"] == 1
    assert decide(client, far["id"])["status"] == "approved"  # decided on its own, after a look


# ------------------------------------------------------------------------------------------------ files and races
def test_an_acknowledged_attachment_is_never_lost_to_a_failed_request(app):
    """Issue 9, finding 4, as the reviewers found it: an amendment carrying attachment X fails with 409 because the
    proposal is withdrawn at the same moment, while a new proposal carries the same bytes X. A failed request used to
    delete the content-addressed file the other one had just committed a reference to (3 times in 60)."""
    import threading

    def post(results, key, *args, **kwargs):
        results[key] = app.test_client().open(*args, **kwargs)

    lost = []
    for attempt in range(40):
        data = _jpeg() + f"race {attempt}".encode()  # X: new bytes each round
        target = api(app.test_client(), "field", "POST", "/api/sites/GZ-0003/revisions",
                     json={"base_version": 1, "reason": "to be withdrawn", "properties": {"age": f"a{attempt}"}})
        rid = target.get_json()["id"]
        results: dict = {}
        threads = [
            threading.Thread(target=post, args=(results, "amend", f"/api/revisions/{rid}/amend"), kwargs=dict(
                method="POST", headers=bearer("field"), content_type="multipart/form-data",
                data={"attachments": [(io.BytesIO(data), "x.jpg")]})),
            threading.Thread(target=post, args=(results, "withdraw", f"/api/revisions/{rid}/withdraw"),
                             kwargs=dict(method="POST", headers=bearer("field"), json={})),
            threading.Thread(target=post, args=(results, "new", "/api/sites/GZ-0001/revisions"), kwargs=dict(
                method="POST", headers=bearer("field2"), content_type="multipart/form-data",
                data={"base_version": "1", "reason": "same photo", "properties": json.dumps({"age": f"b{attempt}"}),
                      "attachments": [(io.BytesIO(data), "x.jpg")]}))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results["new"].status_code == 201, results["new"].get_json()
        for a in results["new"].get_json()["attachments"]:
            if app.test_client().get(a["url"], headers=bearer("expert")).status_code != 200:
                lost.append(attempt)
    assert lost == []
    runner = app.test_cli_runner()
    check = runner.invoke(args=["registry", "check"])
    assert check.exit_code == 0, check.output


def test_files_are_placed_by_the_transaction_and_only_sweep_removes_them(app, tmp_path):
    from fossil_registry import registry
    from fossil_registry.blobs import BlobStore

    data_dir = Path(app.config["DATA_DIR"])
    files = BlobStore(data_dir)
    x = _jpeg() + b"protocol"
    sha = __import__("hashlib").sha256(x).hexdigest()
    policy = revisions.Policy.from_config(app.config)
    with app.app_context():
        conn = get_conn()
        # fails before the files are placed: only its own temporary files existed, and they are gone
        fail_inserts(conn, "no_insert", "revisions", "x")
        draft = revisions.Draft(reason="r", location=Point(105.5855, 25.9025), base_version=1,
                                attachments=[("x.jpg", x)])
        with pytest.raises(DB_REFUSAL):
            revisions.propose(conn, draft, author="fiona", site_code="GZ-0003", policy=policy)
        stop_failing(conn, "no_insert", "revisions")
        assert not files.path("attachments", sha).exists() and not any((data_dir / ".tmp-blobs").iterdir())
        # fails after they were placed (at COMMIT): the file stays (it may be another write's), unreferenced
        with files.batch() as batch:
            batch.add("attachments", sha, x)
            with pytest.raises(RuntimeError):
                with store.transaction(conn):
                    batch.place()
                    raise RuntimeError("the commit failed")
        assert files.path("attachments", sha).read_bytes() == x
        assert registry.check_files(conn, data_dir) == ([], [files.path("attachments", sha)])
        # a write referencing the same bytes now: the sweep keeps what is referenced
        rev = revisions.propose(conn, revisions.Draft(reason="r", location=Point(105.5855, 25.9025), base_version=1,
                                                      attachments=[("x.jpg", x)]),
                                author="fiona", site_code="GZ-0003", policy=policy)
        assert registry.sweep_files(conn, data_dir) == [] and files.path("attachments", sha).exists()
        assert rev.attachments[0]["sha256"] == sha


@pytest.mark.parametrize("lonlat, hint", [
    ((-73.98, 40.75), "outside the area where the registry's coordinate system CGCS2000 applies"),
    ((-105.4021, 25.9023), "the longitude's sign is wrong"),
    ((105.4021, -25.9023), "the latitude's sign is wrong"),
    ((116.40, 39.90), "km from Guizhou"),  # Beijing: inside China, 1,700 km away
])
def test_a_location_on_another_continent_or_far_from_the_region_is_refused(app, client, lonlat, hint):
    """Issue 9, finding 13: a Guizhou site proposed at (-73.98, 40.75) was accepted with warnings."""
    before = counts(app)
    r = api(client, "field", "POST", "/api/sites/GZ-0003/revisions",
            json={"base_version": 1, "reason": "typo", "location": {"type": "Point", "coordinates": list(lonlat)}})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert hint in r.get_json()["detail"] and "cannot be a site of this registry" in r.get_json()["detail"]
    r = api(client, "field", "POST", "/api/sites/GZ-0003/revisions",
            json={"base_version": 1, "reason": "typo", "boundary": square(*lonlat, 0.002)})
    assert r.status_code == 422 and hint in r.get_json()["detail"]
    r = api(client, "field", "POST", "/api/revisions",
            json={"reason": "new find", "properties": {"name": "x"}, "location": f"{lonlat[0]}, {lonlat[1]}"})
    assert r.status_code == 422
    assert counts(app) == before


def test_a_location_just_outside_the_region_is_a_warning_for_the_reviewer(app, client):
    body = propose(client, "GZ-0010", location={"type": "Point", "coordinates": [103.45, 25.5]})  # ~15 km west
    assert "outside_region" in {w["code"] for w in body["warnings"]}


@pytest.mark.parametrize("change, code", [
    ({"properties": {"sensitivity": "open"}}, "sensitivity_loosened"),
    ({"properties": {"level": "general"}}, "level_lowered"),
    ({"retire": True}, "retires_site"),
    ({"remove_boundary": True}, "boundary_removed"),
    ({"properties": {"public_description_en": "Outcrop at N25 deg 54 min 7.2 sec"}}, "numbers_in_text"),
])
def test_weakening_protection_is_never_approved_in_a_batch(app, client, change, code):
    """Review follow-up: a field user proposed 'typo fix' making a hidden site open, the queue showed nothing and a
    batch approval published its exact location."""
    site = "GZ-0001" if code == "boundary_removed" else "GZ-0021"
    with app.app_context():
        conn = get_conn()
        s = sites.current(conn, site)
        props = {"sensitivity": "hidden", "level": "provincial"} if code != "numbers_in_text" else {}
        if any(s.properties.get(k) != v for k, v in props.items()):
            sites.change_site(conn, site, base_version=s.version, author="ada", reason="setup", properties=props)
        assert code != "boundary_removed" or sites.current(conn, site).boundary is not None
    body = propose(client, site, reason="typo fix", **change)
    assert code in {w["code"] for w in body["warnings"]}
    r = api(client, "expert", "POST", "/api/revisions/batch-decision",
            json={"items": [{"id": body["id"], "round": body["round"]}], "decision": "approve"})
    assert r.get_json()["approved"] == 0 and code in r.get_json()["results"][0]["detail"]
    page = login_page(app.test_client(), "expert").get("/review").get_data(as_text=True)
    row = re.search(rf'<tr id="rev-{body["id"]}".*?</tr>', page, re.S).group(0)
    assert 'name="items"' not in row and "⚠" in row
    if code == "sensitivity_loosened":  # the field and the value by their names (issue 25)
        assert "location sensitivity → location public" in row
        zh = login_page(app.test_client(), "expert").get("/review?lang=zh").get_data(as_text=True)
        assert "位置敏感性 → 位置公开" in re.search(rf'<tr id="rev-{body["id"]}".*?</tr>', zh, re.S).group(0)


ISSUE_22_POSITIONS = ["东经壹佰零肆度肆拾柒分肆拾贰秒，北纬贰拾伍度陆分肆拾捌秒", "北纬二十五°五十四′七″", "一〇五°二四′",
                      "Northing 2866 km 123.4 m"]


@pytest.mark.parametrize("text", ISSUE_22_POSITIONS)
def test_a_position_in_a_protected_sites_public_text_keeps_the_proposal_out_of_a_batch(app, client, text):
    """Issue 22, item 3: these texts drew no warning and a batch approval accepted them. Public text of a generalized
    site (what anonymous callers read of it) that looks like it carries a position warns the reviewer; the batch
    refuses it; the review page labels the field as public text."""
    body = propose(client, "GZ-0002", reason="text", properties={"public_description": f"化石点位于{text}附近"})
    warned = next(w for w in body["warnings"] if w["code"] == "numbers_in_text")
    assert warned["fields"] == ["public_description"]
    r = api(client, "expert", "POST", "/api/revisions/batch-decision",
            json={"items": [{"id": body["id"], "round": body["round"]}], "decision": "approve"})
    assert r.get_json()["approved"] == 0 and "numbers_in_text" in r.get_json()["results"][0]["detail"]
    page = login_page(app.test_client(), "expert").get(f"/revisions/{body['id']}").get_data(as_text=True)
    row = re.search(r'<tr data-field="public_description"[^>]*>.*?</tr>', page, re.S).group(0)
    assert 'data-audience="public"' in row and "public text" in row


@pytest.mark.parametrize("text", ["东经一百零四度四十七分 written out in words: one hundred four degrees forty-seven minutes",
                                  "///index.home.raft", "Ⅰ〇Ⅳ.ⅦⅨⅤ", "l04.795, 2S.113"])
def test_any_public_text_written_for_a_protected_site_keeps_the_proposal_out_of_a_batch(client, text):
    """The outside review found notations the number filter misses (number words, what3words, Roman numerals, letter
    look-alikes): a batch approval accepted them. The rule is now a whitelist: whatever public text of a protected
    site a proposal writes, a reviewer reads it on its own."""
    body = propose(client, "GZ-0002", reason="text", properties={"public_description_en": text})
    codes = {w["code"] for w in body["warnings"]}
    assert codes & {"numbers_in_text", "public_text_written"}, body["warnings"]
    r = api(client, "expert", "POST", "/api/revisions/batch-decision",
            json={"items": [{"id": body["id"], "round": body["round"]}], "decision": "approve"})
    assert r.get_json()["approved"] == 0


def test_public_text_of_an_open_site_draws_no_such_warning(client):
    body = propose(client, "GZ-0001", reason="text", properties={"public_description_en": "///index.home.raft"})
    assert "public_text_written" not in {w["code"] for w in body["warnings"]}


def test_a_position_in_the_internal_description_is_for_staff_and_draws_no_warning(app, client):
    """The internal description of a protected site is staff only (never published), so surveyors may note positions
    there; the review page says who reads it. An open site's description is public text (its location is public)."""
    body = propose(client, "GZ-0002", reason="notes", properties={"description": ISSUE_22_POSITIONS[0],
                                                                   "description_en": ISSUE_22_POSITIONS[3]})
    assert "numbers_in_text" not in {w["code"] for w in body["warnings"]}
    page = login_page(app.test_client(), "expert").get(f"/revisions/{body['id']}").get_data(as_text=True)
    row = re.search(r'<tr data-field="description"[^>]*>.*?</tr>', page, re.S).group(0)
    assert 'data-audience="staff"' in row and "staff only" in row
    body = propose(client, "GZ-0001", reason="notes", properties={"description": "露头清楚"})
    page = login_page(app.test_client(), "expert").get(f"/revisions/{body['id']}").get_data(as_text=True)
    assert 'data-audience="public"' in re.search(r'<tr data-field="description"[^>]*>', page).group(0)


def test_protecting_an_open_site_checks_the_texts_it_already_has(app, client):
    """Made generalized, an open site's public texts become what the public reads of a protected site: a position in
    them warns, though the proposal does not write them."""
    with app.app_context():
        conn = get_conn()
        s = sites.current(conn, "GZ-0001")
        sites.change_site(conn, "GZ-0001", base_version=s.version, author="ada", reason="setup",
                          properties={"public_description": ISSUE_22_POSITIONS[1]})
    body = propose(client, "GZ-0001", reason="protect", properties={"sensitivity": "generalized"})
    assert "public_description" in next(w for w in body["warnings"] if w["code"] == "numbers_in_text")["fields"]


def test_a_new_site_proposal_lists_only_the_fields_it_has(app):
    """The review queue's "Changes" column: a new site names the fields it fills, not every empty one."""
    with app.app_context():
        rev = revisions.propose(get_conn(), revisions.Draft(
            reason="quarry exposed a skeleton", location=Point(105.45, 25.80),
            properties={"name": "关岭新发现点", "fossil_groups": ["marine_reptiles"], "period": "Triassic"}),
            author="fiona", site_code=None)
    assert rev.row.kind == "new_site"
    assert {"location", "name", "fossil_groups", "period", "level → general", "sensitivity → hidden"} <= set(rev.changes)
    assert not any(c.startswith(("description", "name_en", "county", "age", "formation")) for c in rev.changes), \
        rev.changes
