"""Rescue cases: a find reported by the public becomes a case, the legal clock (officials on site within 24 hours, an
opinion within 7 days) is judged met, missed or running, specimens and samples are counted, and the find is proposed
as a new site through the four-eyes review. Nothing of a case is public; bad input changes nothing."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from fossil_registry import rescues, store

from .conftest import bearer, csrf_token, login
from .inspection_helpers import jpeg
from .conftest import report_id as report_id_of

pytestmark = pytest.mark.both_backends


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _count(app, table: str) -> int:
    conn = store.connect(app.config["REGISTRY"])
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def _event(client, case_id: int, who: str = "expert", **body):
    return client.post(f"/api/rescues/{case_id}/events", json=body, headers=bearer(who))


def test_a_public_report_becomes_a_rescue_case_and_a_new_site_proposal(app, client):
    now = datetime.now(timezone.utc)
    report = client.post("/api/reports", json={"kind": "find", "lon": "105.661", "lat": "25.507",
                                               "description": "Large bones in the wall of a limestone quarry"})
    assert report.status_code == 201
    report_id = report_id_of(client, report.get_json())
    r = client.post("/api/rescues", headers=bearer("expert"), json={
        "report_id": report_id, "reported_at": _iso(now - timedelta(hours=30)), "county": "贞丰县",
        "contact": "quarry manager 139 0000 0000"})
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    assert case["source"] == "public_report" and case["reported_by"] == f"public report #{report_id}"
    assert case["location"]["coordinates"] == [105.661, 25.507] and case["description"].startswith("Large bones")
    assert case["clock"]["on_site"]["status"] == "missed"  # 30 hours and nobody on site yet
    assert case["clock"]["opinion"]["status"] == "open" and case["contact"].startswith("quarry manager")
    cid = case["id"]
    # the report is triaged into the case
    triaged = client.get(f"/api/reports/{report_id}", headers=bearer("expert")).get_json()
    assert triaged["status"] == "accepted" and triaged["decision_note"] == f"rescue case #{cid}"
    # officials reached the site 20 hours after the report: met, although recorded later
    r = _event(client, cid, kind="officials_on_site", done_at=_iso(now - timedelta(hours=10)))
    assert r.status_code == 201 and r.get_json()["clock"]["on_site"]["status"] == "met"
    assert r.get_json()["clock"]["on_site"]["done_at"] == (now - timedelta(hours=10)).isoformat(
        timespec="seconds").replace("+00:00", ".000Z")
    photo = jpeg(lon=105.661, lat=25.507, taken=(now - timedelta(hours=9)).strftime("%Y:%m:%d %H:%M:%S"))
    r = client.post(f"/api/rescues/{cid}/events", headers=bearer("expert"), content_type="multipart/form-data", data={
        "kind": "specimens_rescued", "specimens": "2", "field_numbers": "ZF-2026-01, ZF-2026-02",
        "kept_at": "Guizhou Geological Museum", "done_at": _iso(now - timedelta(hours=8)),
        "photos": (io.BytesIO(photo), "block.jpg")})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["specimens"] == 2 and len(r.get_json()["photos"]) == 1
    assert _event(client, cid, kind="samples_collected", samples=300, kept_at="museum store 3",
                  field_numbers="ZF-S001 - ZF-S300", done_at=_iso(now - timedelta(hours=7))).status_code == 201
    assert _event(client, cid, kind="opinion_issued", done_at=_iso(now - timedelta(hours=1)),
                  note="protect as a new site").get_json()["clock"]["opinion"]["status"] == "met"
    # the outcome: proposed as a new site (a proposal like any other: hidden unless said otherwise, four eyes)
    r = _event(client, cid, kind="new_site_proposed", reason="marine reptile skeletons in the quarry wall",
               site={"properties": {"name": "贞丰采石场海生爬行类化石点", "county": "贞丰县", "period": "Triassic",
                                    "fossil_groups": ["marine_reptiles"]}})
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    assert case["status"] == "closed" and case["outcome"] == "new_site_proposed"
    assert case["proposal"]["status"] == "submitted" and case["proposal"]["site"] is None
    proposal = client.get(case["proposal"]["url"], headers=bearer("field")).get_json()
    assert proposal["location"]["coordinates"] == [105.661, 25.507] and proposal["author"] == "ellen"
    assert proposal["properties"]["sensitivity"] == "hidden" and proposal["reason"].startswith(f"rescue case #{cid}")
    assert client.post(f"/api/revisions/{proposal['id']}/decision", headers=bearer("expert"),
                       json={"decision": "approve", "round": 1}).status_code == 403  # not one's own
    decided = client.post(f"/api/revisions/{proposal['id']}/decision", headers=bearer("expert2"),
                          json={"decision": "approve", "round": 1}).get_json()
    code = decided["site_state"]["code"]
    case = client.get(f"/api/rescues/{cid}", headers=bearer("field")).get_json()
    assert case["proposal"] == {"id": proposal["id"], "status": "approved", "site": code,
                                "url": f"/api/revisions/{proposal['id']}"}
    assert case["specimens"] == 2 and case["samples"] == 300 and "contact" not in case  # field staff: no contact
    assert [e["kind"] for e in case["events"]] == ["officials_on_site", "specimens_rescued", "samples_collected",
                                                  "opinion_issued", "new_site_proposed"]
    # the new site is hidden: the public sees neither it nor the case
    assert client.get(f"/api/sites/{code}").status_code == 404
    assert client.get(f"/api/rescues/{cid}").status_code == 401
    # a closed case takes no second outcome
    r = _event(client, cid, kind="not_significant", note="second thoughts")
    assert r.status_code == 409


def test_the_legal_clock_met_missed_and_running_and_the_dashboard_counts_it(app, client):
    now = datetime.now(timezone.utc)
    made = []
    for hours_ago, on_site_after in ((30, 20), (80, 50), (2, None)):
        r = client.post("/api/rescues", headers=bearer("expert"), json={
            "source": "construction", "reported_by": "road project section 3", "point": [106.61, 25.55],
            "reported_at": _iso(now - timedelta(hours=hours_ago)), "description": "bones in a cutting"})
        cid = r.get_json()["id"]
        if on_site_after is not None:
            _event(client, cid, kind="officials_on_site",
                   done_at=_iso(now - timedelta(hours=hours_ago) + timedelta(hours=on_site_after)))
        made.append(cid)
    _event(client, made[1], kind="specimens_rescued", specimens=0, kept_at="nothing to keep", note="fragments only")
    clocks = [client.get(f"/api/rescues/{c}", headers=bearer("field")).get_json()["clock"] for c in made]
    assert [c["on_site"]["status"] for c in clocks] == ["met", "missed", "open"]
    assert [c["opinion"]["status"] for c in clocks] == ["open", "open", "open"]  # 7 days have not passed yet
    listing = client.get("/api/rescues", headers=bearer("field")).get_json()
    assert listing["figures"]["on_site"] == {"met": 1, "missed": 1, "open": 1}
    summary = client.get("/api/supervision/summary", headers=bearer("field")).get_json()
    this_year = [c for c in made if datetime.fromisoformat(
        client.get(f"/api/rescues/{c}", headers=bearer("field")).get_json()["reported_at"].replace("Z", "+00:00")
    ).astimezone(timezone(timedelta(hours=8))).year == now.astimezone(timezone(timedelta(hours=8))).year]
    assert summary["rescue_cases"] == len(this_year) and summary["rescue_cases_open"] == len(this_year)
    assert summary["specimens_rescued"] == 0
    login(client, "field")
    page = client.get("/supervision").get_data(as_text=True)
    assert 'id="fig-rescue_on_site"' in page and 'id="h-rescues"' in page
    listing_page = client.get("/rescues").get_data(as_text=True)
    assert listing_page.count('class="clock-missed"') >= 1 and 'class="clock-met"' in listing_page
    assert 'id="open-case"' not in listing_page  # field staff read, experts open cases


def test_bad_rescue_input_is_refused_and_nothing_is_half_saved(app, client):
    now = datetime.now(timezone.utc)
    good = {"source": "other", "reported_by": "a hiker", "point": [105.4, 25.9], "description": "a bone",
            "reported_at": _iso(now - timedelta(days=1))}
    cases_before = _count(app, "rescue_cases")
    for bad, field in (({**good, "reported_at": _iso(now + timedelta(days=2))}, "in the future"),
                       ({**good, "reported_at": "yesterday"}, "must be a date and time"),
                       ({**good, "point": None}, "where the find is"),
                       ({**good, "point": [8.5, 47.4]}, "cannot be a site of this registry"),
                       ({**good, "source": "rumour"}, "source must be one of"),
                       ({**good, "reported_by": ""}, "who reported"),
                       ({**good, "report_id": 9999}, "no public report 9999"),
                       ({**good, "secret": 1}, "unknown field")):
        r = client.post("/api/rescues", json=bad, headers=bearer("expert"))
        assert r.status_code in (404, 422) and field in r.get_json()["detail"], (bad, r.get_json())
    assert _count(app, "rescue_cases") == cases_before
    cid = client.post("/api/rescues", json=good, headers=bearer("expert")).get_json()["id"]
    events_before, revisions_before = _count(app, "rescue_events"), _count(app, "revisions")
    for bad, field in (({"kind": "specimens_rescued", "specimens": -2, "kept_at": "x"}, "cannot be negative"),
                       ({"kind": "samples_collected", "samples": 2.5, "kept_at": "x"}, "whole number"),
                       ({"kind": "samples_collected", "samples": 3}, "where the specimens or samples are kept"),
                       ({"kind": "specimens_rescued", "kept_at": "x"}, "give specimens"),
                       ({"kind": "note", "note": "x", "done_at": _iso(now + timedelta(hours=3))}, "in the future"),
                       ({"kind": "note", "note": "x", "done_at": _iso(now - timedelta(days=5))}, "before the find"),
                       ({"kind": "dug it up"}, "kind must be one of"),
                       ({"kind": "not_significant"}, "why the find is not significant"),
                       ({"kind": "new_site_proposed", "site": {"properties": {}}}, "needs a name"),
                       ({"kind": "new_site_proposed"}, "needs the site")):
        r = _event(client, cid, **bad)
        assert r.status_code == 422 and field in r.get_json()["detail"], (bad, r.get_json())
    assert _count(app, "rescue_events") == events_before and _count(app, "revisions") == revisions_before
    case = client.get(f"/api/rescues/{cid}", headers=bearer("expert")).get_json()
    assert case["status"] == "open" and case["events"] == [] and case["proposal"] is None
    # permissions: field staff read cases but do not record; the public gets nothing
    assert _event(client, cid, who="field", kind="note", note="x").status_code == 403
    assert client.get("/api/rescues").status_code == 401 and client.get("/rescues").status_code == 401


def test_the_web_pages_open_a_case_and_record_its_events(app, client):
    login(client, "expert")
    token = csrf_token(client, "/rescues")
    report = client.post("/api/reports", json={"kind": "find", "lon": "106.05", "lat": "25.78",
                                               "description": "Fish impressions in a fresh road cut"}).get_json()
    page = client.get(f"/reports/{report_id_of(client, report)}").get_data(as_text=True)
    assert 'id="open-rescue"' in page
    r = client.post("/rescues", data={"csrf_token": token, "report_id": str(report_id_of(client, report)),
                                      "source": "public_report", "reported_at": "2026-01-10T09:00"})
    assert r.status_code == 303
    case_url = r.headers["Location"]
    r = client.post(case_url + "/events", data={"csrf_token": token, "kind": "officials_on_site",
                                               "done_at": "2026-01-10T15:30"})
    assert r.status_code == 303
    page = client.get(case_url).get_data(as_text=True)
    assert 'id="clock-on-site" class="clock-met"' in page and "Fish impressions in a fresh road cut" in page
    r = client.post(case_url + "/events", data={"csrf_token": token, "kind": "specimens_rescued", "specimens": "-1",
                                               "kept_at": "x"})
    assert r.status_code == 303
    assert "cannot be negative" in client.get(case_url).get_data(as_text=True)
    r = client.post("/rescues", data={"csrf_token": token, "source": "other", "reported_by": "x",
                                      "reported_at": "2999-01-01T10:00", "point": "25.5, 105.6", "description": "y"})
    assert r.status_code == 422 and "in the future" in r.get_data(as_text=True)


def test_shareable_exports_keep_cases_but_not_who_reported_them(app, client, tmp_path):
    client.post("/api/rescues", headers=bearer("expert"), json={
        "source": "other", "reported_by": "Zhang San", "contact": "138 1234 5678", "point": [105.4, 25.9],
        "description": "a bone", "reported_at": "2026-01-10T09:00"})
    out = tmp_path / "shared.gpkg"
    conn = store.connect(app.config["REGISTRY"])
    try:
        store.backup_to(conn, out, shareable=True)
    finally:
        conn.close()
    shared = store.connect(out)
    try:
        assert shared.execute("SELECT count(*) FROM rescue_cases").fetchone()[0] == 1
        assert shared.execute("SELECT reported_by FROM rescue_cases").fetchone()[0] == "(withheld from shareable exports)"
        assert shared.execute("SELECT name FROM sqlite_master WHERE name = 'rescue_contacts'").fetchone() is None
    finally:
        shared.close()
    assert b"Zhang San" not in out.read_bytes() and b"138 1234 5678" not in out.read_bytes()


def test_the_clock_counted_in_sql_agrees_with_the_clock_of_each_case_at_the_deadlines(conn):
    """The figures count the legal clock in SQL (store.rescues.clock_counts: SQLite's strftime, PostgreSQL's interval
    arithmetic); each case judged on its own (rescues.clock) must agree, to the millisecond at the deadlines."""
    from shapely.geometry import Point

    from fossil_registry.store import rescues as rstore

    settings = rescues.Settings.defaults()  # 24 hours, 7 days
    reported = "2026-01-01T00:00:00.000Z"
    done = [("2026-01-02T00:00:00.000Z", "2026-01-08T00:00:00.000Z"),   # both exactly at the deadline: met
            ("2026-01-02T00:00:00.001Z", "2026-01-08T00:00:00.001Z"),   # a millisecond late: missed
            (None, None)]                                                # not done: missed or open, by as_of
    with store.transaction(conn):
        for on_site, opinion in done:
            cid = rstore.insert_case(conn, point=Point(105.4, 25.9), source="other", report_id=None,
                                     impact_case_id=None, reported_by="x", reported_at=reported, county=None,
                                     description="a find", opened_at=reported, opened_by="x")
            for kind, at in (("officials_on_site", on_site), ("opinion_issued", opinion)):
                if at:
                    rstore.insert_event(conn, case_id=cid, kind=kind, done_at=at, recorded_at=at, recorded_by="x",
                                        note=None, specimens=None, samples=None, field_numbers=None, kept_at=None,
                                        revision_id=None, photo_count=0)
    for as_of in ("2026-01-02T00:00:00.000Z", "2026-01-02T00:00:00.001Z", "2026-01-09T00:00:00.000Z"):
        counted = rstore.clock_counts(conn, start=None, end=None, as_of=as_of, on_site_hours=settings.on_site_hours,
                                      opinion_days=settings.opinion_days)
        judged = [rescues.clock(reported, on_site, opinion, settings, now=as_of) for on_site, opinion in done]
        for deadline in ("on_site", "opinion"):
            expected = {k: sum(c[deadline]["status"] == k for c in judged) for k in ("met", "missed", "open")}
            assert counted[deadline] == expected, (as_of, deadline)
        assert counted["cases"] == 3 and counted["open"] == 3 and counted["by_source"]["other"] == 3
    assert rescues.clock(reported, None, None, settings, now="2026-01-02T00:00:00.001Z")["on_site"]["status"] == \
        "missed"


def test_the_clock_follows_the_configured_deadlines():
    s = rescues.Settings.from_config({"RESCUE_ON_SITE_HOURS": 48, "RESCUE_OPINION_DAYS": 3})
    clock = rescues.clock("2026-01-01T00:00:00.000Z", "2026-01-02T12:00:00.000Z", None, s, now="2026-01-05T00:00:00.000Z")
    assert clock["on_site"] == {"due": "2026-01-03T00:00:00.000Z", "done_at": "2026-01-02T12:00:00.000Z",
                                "status": "met"}
    assert clock["opinion"] == {"due": "2026-01-04T00:00:00.000Z", "done_at": None, "status": "missed"}
    default = rescues.clock("2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.001Z", None, rescues.Settings.defaults(),
                            now="2026-01-02T00:00:00.001Z")
    assert default["on_site"]["status"] == "missed" and default["opinion"]["status"] == "open"


@pytest.mark.parametrize("value, expected", [("2026-03-01T08:00", "2026-03-01T00:00:00.000Z"),
                                             ("2026-03-01T08:00+08:00", "2026-03-01T00:00:00.000Z"),
                                             ("2026-03-01T00:00Z", "2026-03-01T00:00:00.000Z"),
                                             ("2026-03-01", "2026-03-01T04:00:00.000Z")])
def test_times_are_read_in_the_registrys_time_zone(value, expected):
    assert rescues.parse_instant(value, "reported_at", "Asia/Shanghai") == expected
