"""Every time a person reads is in the registry's zone (FLASK_TIMEZONE, Asia/Shanghai) and says so where it matters;
the API keeps ISO 8601 with its offset. Records are written with the registry's clock stopped at a known UTC instant
(07:16 UTC = 15:16 in Beijing), then every kind of page that shows them is read in both languages."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from fossil_registry import inspections, local_time, reports, rescues, revisions, sites, store
from fossil_registry.blobs import BlobStore

from .conftest import bearer, login

INSTANT = "2026-12-07T07:16:00.000Z"       # what the store records
LOCAL = "2026-12-07 15:16"                  # what a person in Guizhou reads
UTC_TEXT = re.compile(r"\b07:16\b|\bUTC\b")


def test_local_time_converts_and_names_the_zone():
    assert local_time.local_text(INSTANT, "Asia/Shanghai") == LOCAL
    assert local_time.local_text("2026-12-31T16:30:00.000Z", "Asia/Shanghai") == "2027-01-01 00:30"
    assert local_time.local_day("2026-12-31T16:30:00.000Z", "Asia/Shanghai") == "2027-01-01"
    assert local_time.local_text("2026-12-07", "Asia/Shanghai") == "2026-12-07"  # a calendar day stays as it is
    assert local_time.local_text(None, "Asia/Shanghai") == ""
    assert local_time.with_offset(INSTANT, "Asia/Shanghai") == "2026-12-07 15:16 (UTC+8)"
    assert local_time.with_offset(INSTANT, "Asia/Kolkata") == "2026-12-07 12:46 (UTC+5:30)"
    assert local_time.zone_name("Asia/Shanghai").zh == "北京时间"
    assert local_time.zone_name("America/St_Johns") == "UTC-3:30"  # winter: no daylight saving in December


@pytest.fixture
def stopped(app, monkeypatch):
    """The demo registry with one record of each kind a person reads a time of, all written at INSTANT."""
    monkeypatch.setattr(store, "utc_now", lambda: INSTANT)
    conn = store.connect(app.config["REGISTRY"])
    blobs = BlobStore(app.config["DATA_DIR"])
    try:
        base = sites.current(conn, "GZ-0001").version
        draft = revisions.parse_draft({"base_version": base, "reason": "RTK resurvey", "method": "rtk",
                                       "accuracy_m": 0.05, "location": {"type": "Point", "coordinates": [105.5003, 25.9002]}})
        approved = revisions.propose(conn, draft, author="fiona", site_code="GZ-0001")
        revisions.decide(conn, approved.id, "approve", reviewer="ellen", round_seen=approved.round)
        draft = revisions.parse_draft({"base_version": base + 1, "reason": "second look", "method": "rtk", "accuracy_m": 0.05,
                                       "location": {"type": "Point", "coordinates": [105.5006, 25.9004]}})
        waiting = revisions.propose(conn, draft, author="fiona", site_code="GZ-0001")
        settings = reports.ReportSettings.from_config(app.config)
        report = reports.submit_report(conn, blobs, reports.parse_report(
            {"kind": "damage", "lon": "105.372", "lat": "25.878", "description": "采石场剖面旁边有新的挖掘痕迹"}, settings),
            settings=settings)
        case = rescues.open_case(conn, blobs, {
            "source": "construction", "reported_by": "施工单位", "reported_at": "2026-12-07T15:16",  # local
            "point": [105.61, 25.52], "description": "施工中发现化石"},
            settings=rescues.Settings.from_config(app.config), actor="ellen")
        record = inspections.record_inspection(
            conn, blobs, "GZ-0001", inspections.parse_record({"date": "2026-12-07", "condition": "good",
                                                              "inspectors": ["罗应华"]}),
            settings=inspections.Settings.from_config(app.config), actor="ellen",
            today=datetime(2026, 12, 7).date())
    finally:
        conn.close()
    return {"revision": waiting.id, "report": report["fid"], "case": case["fid"], "inspection": record["fid"]}


def _pages(ids) -> list[str]:
    return ["/revisions", f"/revisions/{ids['revision']}", "/sites/GZ-0001/history", "/sites/GZ-0001",
            "/reports", f"/reports/{ids['report']}", "/rescues", f"/rescues/{ids['case']}",
            f"/inspections/{ids['inspection']}", "/sites/GZ-0001/timeline", "/admin/audit"]


def _text(html: str) -> str:
    """What a person reads: the page without its scripts, styles and tags."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_shows_the_registry_time_zone(app, stopped, lang):
    client = login(app.test_client(), "admin")
    for path in _pages(stopped):
        r = client.get(f"{path}?lang={lang}")
        assert r.status_code == 200, path
        text = _text(r.get_data(as_text=True))
        if path != "/sites/GZ-0001/timeline":  # the timeline lists days (2026-12-07), in the zone too
            assert LOCAL in text, path
        assert not UTC_TEXT.search(text), (path, UTC_TEXT.search(text).group(0))
    history = _text(client.get(f"/sites/GZ-0001/history?lang={lang}").get_data(as_text=True))
    assert ("时间（北京时间）" if lang == "zh" else "Time (Beijing time)") in history
    case = _text(client.get(f"/rescues/{stopped['case']}?lang={lang}").get_data(as_text=True))
    assert "2026-12-08 15:16" in case  # officials on site within 24 hours, in local time
    assert ("北京时间" if lang == "zh" else "Beijing time") in case


def test_no_staff_page_says_utc(app):
    client = login(app.test_client(), "admin")
    for path in ("/revisions", "/review", "/admin/audit", "/reports", "/rescues", "/inspections", "/fieldkit",
                 "/imports", "/impact/screenings", "/impact/cases", "/account", "/supervision"):
        r = client.get(f"{path}?lang=zh")
        assert r.status_code == 200, path
        assert "UTC" not in _text(r.get_data(as_text=True)), path


def test_the_api_keeps_iso_8601_with_its_offset(app, client, stopped):
    body = client.get(f"/api/revisions/{stopped['revision']}", headers=bearer("admin")).get_json()
    stamp = body.get("created_at") or body["revision"]["created_at"]
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")) == datetime(2026, 12, 7, 7, 16, tzinfo=timezone.utc)


def test_the_audit_csv_gives_local_times_with_their_offset(app, stopped):
    import csv
    import io

    client = login(app.test_client(), "admin")
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/audit.csv").get_data(as_text=True).lstrip("\ufeff"))))
    api = client.get("/api/audit", headers=bearer("admin")).get_json()["entries"]
    assert rows and len(rows) == len(api)
    for row, entry in zip(rows, api):
        assert row["at"].endswith("+08:00")
        assert datetime.fromisoformat(row["at"]) == datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
    assert any(row["at"] == "2026-12-07T15:16:00.000+08:00" for row in rows)
