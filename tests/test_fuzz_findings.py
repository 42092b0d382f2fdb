"""What schemathesis found against the OpenAPI document (issue 15), one regression test each: server errors on
malformed input, and answers that contradicted the document. Each of these failed before its fix."""
from __future__ import annotations

import json

import pytest

from fossil_registry.db import get_conn

from .conftest import bearer
from .conftest import report_id

HUGE = "99999999999999999999999"  # beyond SQLite's 64-bit integers


def _rows(app) -> dict:
    with app.app_context():
        conn = get_conn()
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("revisions", "public_reports", "inspections", "audit_log", "impact_screenings")}


def _refused(r, status: int = 422) -> dict:
    assert r.status_code == status and r.mimetype == "application/problem+json", (r.status_code,
                                                                                r.get_data(as_text=True)[:300])
    return r.get_json()


@pytest.mark.parametrize("ring", [
    [[0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]],          # a position of one number
    "not a ring",
])
def test_malformed_polygon_coordinates_are_refused_not_a_server_error(app, client, ring):
    before = _rows(app)
    boundary = {"type": "Polygon", "coordinates": [ring]}
    for path in ("/api/revisions", "/api/sites/GZ-0003/revisions"):
        _refused(client.post(path, headers=bearer("field"), json={
            "reason": "fuzz", "base_version": 1, "properties": {"name": "x"}, "boundary": boundary}))
        collection = {"type": "GeometryCollection", "geometries": [{"type": "MultiPolygon", "coordinates": [[ring]]}]}
        _refused(client.post(path, headers=bearer("field"), json={
            "reason": "fuzz", "base_version": 1, "boundary_drawn": collection}))
    _refused(client.post("/api/impact", json={"footprint": boundary}))
    assert _rows(app) == before


def test_a_feature_collection_of_no_feature_objects_is_refused(app, client):
    before = _rows(app)
    body = {"reason": "fuzz", "base_version": 1,
            "boundary_drawn": {"type": "FeatureCollection", "features": [[None, None]]}}
    detail = _refused(client.post("/api/sites/GZ-0003/revisions", headers=bearer("field"), json=body))["detail"]
    assert "Feature" in detail
    assert _rows(app) == before


@pytest.mark.parametrize("path, body", [
    ("/api/followups/1/close", {"note": [None, None]}),
    ("/api/reports/1/accept", {"note": [None, None]}),
    ("/api/reports/1/accept", {"site": 12}),
    ("/api/reports/1/accept", {"followup": {"description": {"a": 1}}}),
    ("/api/reports/1/dismiss", {"reason": [None, None]}),
    ("/api/reports/1/dismiss", {"reason": 3}),
])
def test_text_fields_sent_as_other_json_are_refused(app, client, path, body):
    before = _rows(app)
    problem = _refused(client.post(path, headers=bearer("expert"), json=body))
    assert "text" in problem["detail"]
    assert _rows(app) == before


@pytest.mark.parametrize("footprint, width", [
    ({"type": "LineString", "coordinates": [[105.4, 25.9], [105.4, 25.9]]}, None),
    ({"type": "LineString", "coordinates": [[105.4, 25.9], [105.4, 25.9]]}, 30),
    ({"type": "MultiLineString", "coordinates": [[[False, 0], [0.0, 0.0]]]}, None),
    ({"type": "Polygon", "coordinates": [[[105.4, 25.9], [105.5, 25.9], [105.45, 25.9], [105.4, 25.9]]]}, None),
    ({"type": "Polygon", "coordinates": [[[105.4, 25.9], [105.4, 25.9], [105.4, 25.9], [105.4, 25.9]]]}, None),
])
@pytest.mark.parametrize("who", [None, "field"])
def test_footprints_without_extent_are_refused_not_screened_as_nothing(app, client, footprint, width, who):
    """A degenerate line crashed the densification (GEOS), a flat polygon was screened as an empty footprint whose
    bbox was [NaN, NaN, NaN, NaN] (not even JSON)."""
    before = _rows(app)
    r = client.post("/api/impact", json={"footprint": footprint, "width_m": width, "save": who is not None},
                    headers=bearer(who) if who else {})
    assert "NaN" not in r.get_data(as_text=True)
    _refused(r)
    assert _rows(app) == before


@pytest.mark.parametrize("url", [
    f"/api/inspections/{HUGE}", f"/api/revisions/{HUGE}", f"/api/reports/{HUGE}", f"/api/impact/cases/{HUGE}",
    f"/api/impact/screenings/{HUGE}/reproduce", f"/api/revisions/1/attachments/{HUGE}",
])
def test_ids_beyond_sqlite_integers_are_not_found(client, url):
    assert _refused(client.get(url, headers=bearer("admin")), 404)


@pytest.mark.parametrize("number", [HUGE, str(2**63)])
def test_ids_beyond_sqlite_integers_are_not_found_whatever_the_method(app, client, number):
    """A too large id of an operation that also has a GET answered POST with 405 (method not allowed), which the
    document does not list: the <int:> rule matched the path and refused only the number, after the method."""
    before = _rows(app)
    for url in (f"/api/impact/cases/{number}", f"/impact/cases/{number}"):
        r = client.post(url, headers=bearer("admin"), json={"version": 1, "stage": "approval"})
        assert r.status_code == 404, (url, r.status_code)
        assert client.get(url, headers=bearer("admin")).status_code == 404
    assert _rows(app) == before


@pytest.mark.parametrize("n", [0, 1, 9, 10, 99, 100, 123, 909, 2**63 - 1])
def test_the_id_pattern_matches_exactly_the_numbers_up_to_its_bound(n):
    import random
    import re

    from fossil_registry.http.requests import digits_at_most
    pattern, rng = re.compile(digits_at_most(n)), random.Random(n)
    numbers = [*range(1100), n - 1, n, n + 1, 2**63, 10**30, *(rng.randrange(10 * n + 10) for _ in range(2000))]
    for k in (k for k in numbers if k >= 0):
        assert bool(pattern.fullmatch(str(k))) == (k <= n) == bool(pattern.fullmatch(f"00{k}")), (n, k)


def test_ids_within_sqlite_integers_still_reach_their_endpoint(client):
    """The largest id is looked up (and not found by the endpoint, which says what it looked for)."""
    r = client.post(f"/api/impact/cases/{2**63 - 1}", headers=bearer("admin"), json={"version": 1})
    assert r.status_code == 404 and "case" in r.get_json()["detail"], r.get_json()
    r = client.post("/api/revisions", headers=bearer("field"), json={
        "reason": "a new find", "properties": {"name": "New site"}, "location": {"type": "Point",
                                                                               "coordinates": [106.6, 26.6]}})
    assert r.status_code == 201, r.get_data(as_text=True)
    number = r.get_json()["id"]
    assert client.get(f"/api/revisions/{number:020d}", headers=bearer("field")).get_json()["id"] == number


@pytest.mark.parametrize("url", [
    f"/api/revisions?offset={HUGE}", f"/api/revisions?limit=-{HUGE}", f"/api/sites/GZ-0001?version={HUGE}",
    f"/api/sites/GZ-0001/diff?from=1&to={HUGE}", f"/api/audit?limit={HUGE}",
])
def test_numbers_in_queries_beyond_sqlite_integers_are_refused(client, url):
    assert "too large" in _refused(client.get(url, headers=bearer("admin")))["detail"]


@pytest.mark.parametrize("path, body", [
    ("/api/sites/GZ-0001/restore", {"version": int(HUGE), "reason": "fuzz"}),
    ("/api/revisions/batch-decision", {"items": [{"id": int(HUGE), "round": 1}], "decision": "approve"}),
    ("/api/revisions/1/decision", {"decision": "approve", "round": int(HUGE)}),
    ("/api/reports/1/accept", {"inspection_id": int(HUGE)}),
    ("/api/sites/GZ-0001/inspections", {"date": "2024-01-01", "condition": "good", "resolves": [int(HUGE)]}),
])
def test_numbers_in_bodies_beyond_sqlite_integers_are_refused(app, client, path, body):
    before = _rows(app)
    _refused(client.post(path, headers=bearer("admin"), data=json.dumps(body), content_type="application/json"))
    assert _rows(app) == before


def test_numbers_are_whole_or_refused(client):
    """1.5 was read as 1 (a case version); "1.0" and true were refused elsewhere: one parser now."""
    from fossil_registry.errors import InvalidInput
    from fossil_registry.json_input import whole_number
    assert [whole_number(v, "n") for v in (3, 3.0, "3", " 3 ", None, "")] == [3, 3, 3, 3, None, None]
    for bad in (1.5, True, "1.5", "x", [1], {"a": 1}, float("nan"), float("inf"), 2**63):
        with pytest.raises(InvalidInput):
            whole_number(bad, "n")


def test_the_inbox_decisions_carry_their_detail_as_an_object(app, client):
    """The thread of a proposal gave an event's detail as an object, the inbox the same detail as JSON text."""
    r = client.post("/api/sites/GZ-0001/revisions", headers=bearer("field"),
                    json={"reason": "fuzz", "base_version": 1, "properties": {"age": "Carnian"}})
    assert r.status_code == 201, r.get_data(as_text=True)
    rev = r.get_json()
    r = client.post(f"/api/revisions/{rev['id']}/decision", headers=bearer("expert"),
                    json={"decision": "approve", "round": rev["round"]})
    assert r.status_code == 200, r.get_data(as_text=True)
    decision = client.get("/api/revisions/inbox", headers=bearer("field")).get_json()["recent_decisions"][0]
    assert decision["detail"] == {"round": 1, "site": "GZ-0001", "site_version": 2}


# Found by the long run (FUZZ_EXAMPLES=100, coverage phase): requests that break the document were accepted.
@pytest.mark.parametrize("observed", [{}, [], 0, False, 20250101, [2025, 1, 1]])
def test_a_report_date_that_is_no_date_is_refused_not_dropped(app, client, observed):
    """{} , [], 0 and false were taken for "no date" (and 20250101 for 2025-01-01): a report kept no date, or a
    date nobody sent, without a word."""
    before = _rows(app)
    problem = _refused(client.post("/api/reports", json={"kind": "find", "description": "Fish fossils in a road cut",
                                                        "coordinates": "26.58, 106.71", "observed_on": observed}))
    assert problem["field"] == "observed_on"
    assert _rows(app) == before


def test_an_empty_report_date_is_still_no_date(client):
    r = client.post("/api/reports", json={"kind": "find", "description": "Fish fossils in a road cut",
                                          "coordinates": "26.58, 106.71", "observed_on": ""})
    assert r.status_code == 201 and r.get_json()["observed_on"] is None, r.get_data(as_text=True)


@pytest.mark.parametrize("due", [{}, 0, False])
def test_a_followup_due_date_that_is_no_date_is_refused(app, client, due):
    r = client.post("/api/reports", json={"kind": "find", "description": "Fish fossils in a road cut",
                                          "coordinates": "26.58, 106.71"})
    assert r.status_code == 201
    before = _rows(app)
    problem = _refused(client.post(f"/api/reports/{report_id(client, r.get_json())}/accept", headers=bearer("expert"),
                                   json={"site": "GZ-0001", "followup": {"description": "look", "due": due}}))
    assert "date" in problem["detail"]
    assert _rows(app) == before


@pytest.mark.parametrize("status", ["", "all", "New"])
def test_a_report_status_filter_that_is_no_state_is_refused(client, status):
    """?status= listed every report, though the document (and ?status=all) say a state must be named."""
    problem = _refused(client.get(f"/api/reports?status={status}", headers=bearer("expert")))
    assert problem["field"] == "status"


@pytest.mark.parametrize("query, body", [("?format=AAA", {}), ("?format=", {}), ("", {"format": "gkpg"})])
def test_an_unknown_screening_format_is_refused_not_answered_in_json(app, client, query, body):
    """?format=gkpg (a typo) answered JSON as if no format had been asked for."""
    before = _rows(app)
    problem = _refused(client.post(f"/api/impact{query}", headers=bearer("field"), json={
        "footprint": {"type": "LineString", "coordinates": [[105.36, 25.87], [105.4, 25.9]]}, "width_m": 30,
        "save": True, **body}))
    assert problem["field"] == "format"
    assert _rows(app) == before


@pytest.mark.parametrize("body", [
    {"decision": "reject", "comment": "x" * 4001},
    {"decision": "approve", "comment": 5},
    {"decision": "approve", "comment": ["looks right"]},
    {"decision": "maybe"},
    {"decision": None},
])
def test_a_batch_decision_that_no_proposal_could_take_is_refused_whole(app, client, body):
    """A comment too long or not text, or no decision, was reported as the failure of each proposal (200), or not
    at all for a batch of proposals that failed for another reason first."""
    before = _rows(app)
    _refused(client.post("/api/revisions/batch-decision", headers=bearer("expert"),
                         json={"items": [{"id": 999999, "round": 1}], **body}))
    assert _rows(app) == before


@pytest.mark.parametrize("extra", [{"location": {}}, {"location": [106.7]}, {"lon": {}, "lat": 26.58},
                                   {"lon": True, "lat": 26.58}, {"coordinates": 5, "lon": 106.71, "lat": 26.58}])
def test_a_report_location_that_is_no_location_is_refused_even_beside_a_good_one(app, client, extra):
    """The first of the ways to give the location (typed coordinates, lon/lat, a GeoJSON Point) was used and the
    others were not looked at, malformed or not: {"coordinates": "26.58, 106.71", "location": {}} was accepted."""
    before = _rows(app)
    body = {"kind": "find", "description": "Fish fossils in a road cut", "coordinates": "26.58, 106.71", **extra}
    problem = _refused(client.post("/api/reports", json=body))
    assert problem.get("field") == "location" or "location" in problem["detail"], problem
    assert _rows(app) == before


def test_typed_coordinates_still_win_over_a_map_click(client):
    """The report form sends the map's lon/lat and the typed coordinates: the typed ones are what the reporter meant."""
    r = client.post("/api/reports", json={"kind": "find", "description": "Fish fossils in a road cut",
                                          "coordinates": "26.58, 106.71", "lon": 106.0, "lat": 26.0, "location": ""})
    assert r.status_code == 201 and r.get_json()["location"]["coordinates"] == [106.71, 26.58]


def test_a_screening_format_in_the_body_is_checked_beside_the_query(app, client):
    """?format=json with a body format of "AAA" was answered, the body's value unread."""
    before = _rows(app)
    problem = _refused(client.post("/api/impact?format=json", json={
        "footprint": {"type": "LineString", "coordinates": [[105.36, 25.87], [105.4, 25.9]]}, "width_m": 30,
        "format": "AAA"}))
    assert problem["field"] == "format"
    assert _rows(app) == before


@pytest.mark.parametrize("save", [False, True])
@pytest.mark.parametrize("title", [{}, [1], 5])
def test_a_screening_title_that_is_not_text_is_refused(app, client, save, title):
    """A title of {} was dropped without a word (the default title saved instead), and [1] with save answered 500."""
    before = _rows(app)
    problem = _refused(client.post("/api/impact", headers=bearer("field"), json={
        "footprint": {"type": "LineString", "coordinates": [[105.36, 25.87], [105.4, 25.9]]}, "width_m": 30,
        "title": title, "save": save}))
    assert problem["field"] == "title"
    assert _rows(app) == before


def test_the_document_takes_geojson_foreign_members_as_the_code_does(app, client):
    """RFC 7946 6.1 allows foreign members in a geometry; the code reads past them, the document refused them (a
    report located by such a Point was a 'schema-violating request accepted')."""
    from jsonschema import Draft4Validator

    from .test_openapi import _resolve
    doc = client.get("/ogcapi/api").get_json()
    point = {"type": "Point", "coordinates": [106.71, 26.58], "title": "road cut"}
    assert Draft4Validator(_resolve(doc, {"$ref": "#/components/schemas/Point"})).is_valid(point)
    assert not Draft4Validator(_resolve(doc, {"$ref": "#/components/schemas/Point"})).is_valid(
        {"type": "Point", "coordinates": "106.71, 26.58"})
    r = client.post("/api/reports", json={"kind": "find", "description": "Fish fossils in a road cut",
                                          "location": point})
    assert r.status_code == 201 and r.get_json()["location"]["coordinates"] == [106.71, 26.58]


@pytest.mark.parametrize("save", [{}, [], 1, "banana"])
def test_a_save_flag_that_is_no_flag_is_refused(app, client, save):
    """save: {} (or "banana") screened without saving, as if save had been false."""
    before = _rows(app)
    problem = _refused(client.post("/api/impact", headers=bearer("field"), json={
        "footprint": {"type": "LineString", "coordinates": [[105.36, 25.87], [105.4, 25.9]]}, "width_m": 30,
        "save": save}))
    assert problem["field"] == "save"
    assert _rows(app) == before


@pytest.mark.parametrize("save, saved", [(True, True), ("on", True), ("1", True), (False, False), ("", False)])
def test_save_flags_of_forms_and_json_still_work(app, client, save, saved):
    r = client.post("/api/impact", headers=bearer("field"), json={
        "footprint": {"type": "LineString", "coordinates": [[105.36, 25.87], [105.4, 25.9]]}, "width_m": 30,
        "save": save})
    assert r.status_code == (201 if saved else 200) and ("screening_id" in r.get_json()) == saved


@pytest.mark.parametrize("bbox", [[{}], [1, 2], [1, 2, 3, 4, 5], "0,0,1,1", [106, 26, True, 27], None])
def test_a_geojson_bbox_that_is_no_bbox_is_refused(app, client, bbox):
    """A bbox member of a GeoJSON geometry was never read: [{}] passed as part of a report's location."""
    before = _rows(app)
    point = {"type": "Point", "coordinates": [106.71, 26.58], "bbox": bbox}
    problem = _refused(client.post("/api/reports", json={"kind": "find", "description": "Fish fossils in a road cut",
                                                         "coordinates": "26.58, 106.71", "location": point}))
    assert "bbox" in problem["detail"]
    assert _rows(app) == before
    r = client.post("/api/reports", json={"kind": "find", "description": "Fish fossils in a road cut",
                                          "location": {**point, "bbox": [106.71, 26.58, 106.71, 26.58]}})
    assert r.status_code == 201, r.get_data(as_text=True)


# ------------------------------------------------------------------ sections, markers, rescue cases (merged later)
def _nameless_part(fields: dict[str, str]) -> tuple[bytes, str]:
    """A multipart body with an unknown field and a part without a name (Werkzeug reads it as the field None): the
    names of the unknown fields, sorted for the message, were None and text, which do not compare. Such a part is now
    refused by the request class for every endpoint (400, http.form_part_without_name: test_idempotency found two more
    views it broke), before any view reads the form."""
    boundary = "fuzzboundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="colour"\r\n\r\nred\r\n')
    parts.append(f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\n x\r\n--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("path, fields", [
    ("/api/sites/GZ-0003/markers", {"kind": "boundary_post", "point": "105.605, 25.902"}),
    ("/api/sections/GZS-0001/markers", {"kind": "signboard", "point": "108.4268, 26.7338"}),
    ("/api/rescues", {"source": "other", "reported_by": "a farmer", "point": "105.4, 25.9"}),
])
def test_a_multipart_part_without_a_name_is_refused_not_a_server_error(client, path, fields):
    body, content_type = _nameless_part(fields)
    problem = _refused(client.post(path, data=body, content_type=content_type, headers=bearer("expert")), 400)
    assert problem["code"] == "http.form_part_without_name"
    assert client.post(path, data=body.replace(b"form-data\r\n", b'form-data; name="x"\r\n'),
                       content_type=content_type, headers=bearer("expert")).status_code == 422  # named: unknown field


def test_a_rescue_event_with_a_nameless_part_is_refused(client):
    case = client.post("/api/rescues", headers=bearer("expert"), json={
        "source": "other", "reported_by": "a farmer", "point": [105.4, 25.9], "reported_at": "2026-01-10T09:00",
        "description": "bones in a field"})
    assert case.status_code == 201, case.get_json()
    body, content_type = _nameless_part({"kind": "note", "note": "seen"})
    _refused(client.post(f"/api/rescues/{case.get_json()['id']}/events", data=body, content_type=content_type,
                         headers=bearer("expert")), 400)
    assert client.get(f"/api/rescues/{case.get_json()['id']}", headers=bearer("expert")).get_json()["events"] == []


def test_an_empty_rescue_status_names_no_state(client):
    problem = _refused(client.get("/api/rescues?status=", headers=bearer("expert")))
    assert problem["field"] == "status"
    assert client.get("/api/rescues?status=open", headers=bearer("expert")).status_code == 200
    assert client.get("/api/rescues", headers=bearer("expert")).status_code == 200


def test_an_import_page_out_of_the_documented_range_is_refused(client):
    """limit above 1000 was brought into range and an unknown (or empty) outcome listed nothing or everything: the
    document says limit 0..1000, offset 0 or more and outcome one of the planned outcomes."""
    from .import_helpers import geojson, imported, point

    body = imported(client, geojson([({"name": "新点", "level": "general"}, point(107.98, 26.58))]), "new.geojson")
    url = f"/api/imports/{body['id']}"
    for query, field in (("limit=1001", "limit"), ("limit=-1", "limit"), ("limit=x", "limit"),
                         ("offset=-1", "offset"), ("outcome=", "outcome"), ("outcome=gone", "outcome")):
        assert _refused(client.get(f"{url}?{query}", headers=bearer("admin")))["field"] == field, query
    zh = _refused(client.get(f"{url}?outcome=gone", headers={**bearer("admin"), "Accept-Language": "zh"}))
    assert zh["detail"].startswith("outcome 必须是")
    for query in ("limit=0", "limit=1000", "offset=0", "offset=1", "outcome=new"):
        assert client.get(f"{url}?{query}", headers=bearer("admin")).status_code == 200, query
    assert [r["row"] for r in client.get(f"{url}?outcome=new", headers=bearer("admin")).get_json()["rows"]] == [1]
