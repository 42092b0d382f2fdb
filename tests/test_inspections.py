"""Inspection records with patrol tracks and photo evidence, the schedule, follow-ups and the site timeline."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pyogrio
import pytest
import shapely
from PIL import ExifTags, Image
from shapely.geometry import MultiLineString, Point

from fossil_registry import create_app, inspections, registry, sites, store
from fossil_registry.db import get_conn
from fossil_registry.errors import InvalidInput
from fossil_registry.geometry import GEOD
from fossil_registry.formats import parse_gpx
from fossil_registry.blobs import BlobStore
from fossil_registry.photos import TooLarge, Upload, check_photo, read_photo
from fossil_registry.web.inspections import CSV_COLUMNS

from fossil_registry.store.dialect import is_pg

from .backends import DB_REFUSAL, fail_inserts, stop_failing
from .conftest import bearer, login, make_site
from .inspection_helpers import broken_exif_jpeg, gpx_by_gdal, gpx_xml, has_gps_exif, jpeg, photo_files
from .conftest import report_id

pytestmark = pytest.mark.both_backends


def _site(app, code="GZ-0001") -> sites.Site:
    with app.app_context():
        return sites.current(get_conn(), code)


def _count(app, table: str) -> int:
    with app.app_context():
        return get_conn().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _files(files: dict) -> dict:
    """Multipart field values for the Flask test client: {name: bytes | [(bytes, filename)]}."""
    out = {}
    for name, value in files.items():
        if isinstance(value, list):
            out[name] = [(io.BytesIO(b), fn) for b, fn in value]
        else:
            out[name] = value
    return out


# ------------------------------------------------------------------------------------------------ a full record
def test_record_with_patrol_track_and_photos(app, client, tmp_path):
    site = _site(app)
    inside = site.boundary.representative_point()
    x, y = inside.x, inside.y
    line = [(x, y), (x + 0.01, y + 0.005), (x + 0.02, y)]
    track = gpx_by_gdal(tmp_path, line)
    good = jpeg(lon=x, lat=y, taken="2024:05:01 10:15:00")
    far = jpeg(lon=x + 0.2, lat=y, taken="2024:05:01 11:00:00", colour=(10, 200, 10))
    late = jpeg(lon=x, lat=y, taken="2024:04:30 17:30:00", offset="+00:00", colour=(200, 10, 10))  # 1 May in China
    other_day = jpeg(lon=x, lat=y, taken="2024:05:03 09:00:00", colour=(10, 10, 200))
    form = {"date": "2024-05-01", "condition": "poor", "inspectors": "ellen, 王磊", "threat_quarrying": "high",
            "threat_quarrying_note": "new bench cut at the north edge", "threat_erosion_landslide": "low",
            "findings": "Fresh quarry face 20 m from the crinoid beds.", "actions": "Told the quarry to stop.",
            "followup_description": "County bureau to close the quarry", "followup_due": "2024-06-01",
            "lon": str(x), "lat": str(y), "track": (io.BytesIO(track), "patrol.gpx"),
            "photos": [(io.BytesIO(b), n) for b, n in ((good, "good.jpg"), (far, "far.jpg"), (late, "late.jpg"),
                                                        (other_day, "other-day.jpg"))]}
    r = client.post("/api/sites/GZ-0001/inspections", data=form, headers=bearer("expert"),
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["site"], body["date"], body["condition"]) == ("GZ-0001", "2024-05-01", "poor")
    assert isinstance(body["id"], int) and r.headers["Location"].endswith(f"/api/inspections/{body['id']}")
    assert body["inspectors"] == ["ellen", "王磊"] and body["recorded_by"] == "ellen"
    assert body["threats"] == [{"threat": "quarrying", "severity": "high", "note": "new bench cut at the north edge"},
                               {"threat": "erosion_landslide", "severity": "low", "note": None}]
    assert body["point"] == {"type": "Point", "coordinates": [x, y]}
    # the track: GDAL's GPX parsed back, geodesic length on the CGCS2000/GRS80 ellipsoid
    expected_length = GEOD.line_length([p[0] for p in line], [p[1] for p in line])
    assert body["track"]["point_count"] == 3 and body["track"]["name"] == "patrol"
    assert body["track"]["length_m"] == pytest.approx(expected_length, abs=0.1)
    assert body["track"]["geometry"]["type"] == "MultiLineString"
    # photos: checked against the site's boundary and the inspection date
    by_name = {p["name"]: p for p in body["photos"]}
    assert by_name["good.jpg"]["flags"] == [] and by_name["good.jpg"]["distance_m"] == 0.0
    assert by_name["late.jpg"]["flags"] == []  # 17:30 UTC on 30 April is 01:30 on 1 May in Beijing time
    assert by_name["far.jpg"]["flags"] == ["far_from_site"] and by_name["far.jpg"]["flagged"]
    # independent check: the smallest geodesic distance to the densified boundary outline, by brute force
    outline = shapely.get_coordinates(shapely.segmentize(site.boundary.boundary, 0.0002))
    to_boundary = min(GEOD.inv(x + 0.2, y, lon, lat)[2] for lon, lat in outline)
    assert by_name["far.jpg"]["distance_m"] == pytest.approx(to_boundary, rel=1e-3)
    assert "km from site GZ-0001" in by_name["far.jpg"]["message"]
    assert by_name["other-day.jpg"]["flags"] == ["other_date"]
    assert "taken on 2024-05-03, not on 2024-05-01" in by_name["other-day.jpg"]["message"]
    assert body["flagged_photos"] == 2 and body["photo_count"] == 4
    assert [f["due"] for f in body["followups"]] == ["2024-06-01"] and body["followups"][0]["status"] == "open"

    # content-addressed files: the original unchanged (evidence, EXIF kept), thumbnails and display copies bare
    photos_root = Path(app.config["DATA_DIR"]) / "photos"
    for data in (good, far, late, other_day):
        sha = hashlib.sha256(data).hexdigest()
        original = photos_root / "originals" / sha[:2] / f"{sha}.jpg"
        assert original.read_bytes() == data
        for kind in ("thumbs", "display"):
            assert not has_gps_exif((photos_root / kind / sha[:2] / f"{sha}.jpg").read_bytes())
    assert not (photos_root / ".tmp").exists() or not any((photos_root / ".tmp").iterdir())
    staff = client.get(by_name["far.jpg"]["url"], headers=bearer("field"))
    assert staff.status_code == 200 and staff.data == far and has_gps_exif(staff.data)
    assert client.get(by_name["far.jpg"]["url"]).status_code == 401  # never to anonymous callers

    # the GeoPackage: patrol_tracks is a registered MultiLineString layer with its R-tree; GDAL's validator passes
    with app.app_context():
        conn = get_conn()
        assert store.check_integrity(conn) == []
        index = "rtree_patrol_tracks_geom" if not is_pg(conn) else "patrol_tracks WHERE geom && ST_MakeEnvelope(0, 0, 180, 90, 4490)"
        assert conn.execute(f"SELECT count(*) FROM {index}").fetchone()[0] == 1  # found through the spatial index
        audit = store.list_audit(conn, action="inspection.record")[0]
        assert audit["actor"] == "ellen" and audit["detail"]["photos"] == 4 and audit["detail"]["flagged"] == 2
        snapshot = tmp_path / "snapshot.gpkg"
        store.backup_to(conn, snapshot, shareable=False)
    assert registry.validate_geopackage(snapshot) == []
    tracks = pyogrio.read_dataframe(snapshot, layer="patrol_tracks")
    assert tracks.crs.to_epsg() == 4490 and len(tracks) == 1
    assert tracks.geometry[0].equals_exact(MultiLineString([line]), 1e-9)
    assert tracks["inspection_id"][0] == body["id"] and tracks["length_m"][0] == body["track"]["length_m"]
    points = pyogrio.read_dataframe(snapshot, layer="inspections")
    assert points.geometry[0].equals(Point(x, y)) and points["condition"][0] == "poor"
    # read back through the API
    listed = client.get("/api/sites/GZ-0001/inspections", headers=bearer("field")).get_json()["inspections"]
    assert [i["id"] for i in listed] == [body["id"]] and listed[0]["photos"][1]["flags"] == ["far_from_site"]


def test_web_form_shows_flagged_photos_to_the_inspector(app, client):
    site = _site(app)
    x, y = site.boundary.representative_point().coords[0]
    login(client, "expert")
    page = client.get("/sites/GZ-0001/inspections/new")
    assert page.status_code == 200 and b"/static/vendor/leaflet/leaflet.js" in page.data
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    far = jpeg(lon=x - 0.1, lat=y, taken="2024:05:01 10:00:00")
    r = client.post("/sites/GZ-0001/inspections", content_type="multipart/form-data", follow_redirects=True,
                    data={"csrf_token": token, "date": "2024-05-01", "condition": "good", "inspectors": "ellen",
                          "photos": [(io.BytesIO(far), "far.jpg")]})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "1 photo(s) flagged" in html and "taken far from the site" in html
    assert re.search(r"taken \d+\.\d\d km from site GZ-0001 \(more than 500 m\)", html)
    # bad input re-renders the form with the reason, 422, and saves nothing
    r = client.post("/sites/GZ-0001/inspections", content_type="multipart/form-data",
                    data={"csrf_token": token, "date": "2024-05-01", "condition": "ruined"})
    assert r.status_code == 422 and "condition must be one of good, fair, poor, damaged, destroyed" in r.get_data(as_text=True)
    assert _count(app, "inspections") == 1


def test_photo_distance_threshold_is_configurable(demo_data_dir, demo_database):
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), **demo_database, "SECRET_KEY": "x",
                      "PHOTO_MAX_DISTANCE_M": 5000})
    site = _site(app)
    east = site.boundary.bounds[2]
    y = site.boundary.representative_point().y
    near = jpeg(lon=east + 0.03, lat=y, taken="2024:05:01 10:00:00")   # about 3 km outside
    far = jpeg(lon=east + 0.06, lat=y, taken="2024:05:01 10:00:00", colour=(1, 2, 3))  # about 6 km outside
    with app.app_context():
        rec = inspections.record_inspection(
            get_conn(), BlobStore(demo_data_dir), "GZ-0001",
            inspections.parse_record({"date": "2024-05-01", "condition": "good", "inspectors": ["ellen"]}),
            settings=inspections.Settings.from_config(app.config), actor="ellen",
            photos=[Upload("near.jpg", near), Upload("far.jpg", far)])
    flags = {p["original_name"]: p["flags"] for p in rec["photos"]}
    assert flags == {"near.jpg": [], "far.jpg": ["far_from_site"]}


# ------------------------------------------------------------------------------------------------ bad input
@pytest.fixture
def small_app(demo_data_dir, demo_database):
    return create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), **demo_database, "SECRET_KEY": "x",
                       "PHOTO_MAX_BYTES": 20_000, "MAX_CONTENT_LENGTH": 200_000, "GPX_MAX_POINTS": 50})


def test_bad_input_is_refused_clearly_and_nothing_is_saved(small_app):
    client = small_app.test_client()
    today = inspections.local_today(small_app.config["TIMEZONE"])
    url, auth = "/api/sites/GZ-0001/inspections", bearer("expert")
    json_cases = [
        ({"date": (today + timedelta(days=1)).isoformat(), "condition": "good"}, 422, "is in the future"),
        ({"date": "2004-09-15", "condition": "good"}, 422, "before site GZ-0001 existed (established 2004-09-16)"),
        ({"date": "2024-13-01", "condition": "good"}, 422, "date must be a date like 2025-05-01"),
        ({"date": "2024-05-01", "condition": "ruined"}, 422, "condition must be one of good, fair, poor"),
        ({"date": "2024-05-01", "condition": "good", "threats": [{"threat": "meteorite", "severity": "high"}]},
         422, "unknown threat 'meteorite'"),
        ({"date": "2024-05-01", "condition": "good", "threats": {"quarrying": "extreme"}}, 422,
         "severity of quarrying must be one of low, medium, high"),
        ({"date": "2024-05-01", "condition": "good", "threats": {"other": "low"}}, 422, "needs a note"),
        ({"date": "2024-05-01", "condition": "good", "followup": {"description": "x", "due": "2024-04-01"}}, 422,
         "before the inspection"),
        ({"date": "2024-05-01", "condition": "good", "point": [205.0, 25.0]}, 422, "outside the longitude/latitude"),
        ({"date": "2024-05-01", "condition": "good", "colour": "red"}, 422, "unknown field(s)"),
    ]
    for body, status, message in json_cases:
        r = client.post(url, json=body, headers=auth)
        assert r.status_code == status and r.mimetype == "application/problem+json", (body, r.get_json())
        assert message in r.get_json()["detail"], (body, r.get_json())
    entity = (b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
              b'<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&b;</name></trk></gpx>')
    many_points = gpx_xml([(105.37 + i * 1e-4, 25.87) for i in range(60)])
    big_photo = jpeg(size=(400, 300), colour=(5, 5, 5))
    big_photo = big_photo + b"\x00" * (25_000 - len(big_photo))  # trailing bytes: still a valid JPEG, but too big
    multipart_cases = [
        ({"track": (io.BytesIO(gpx_xml(waypoints=[(105.37, 25.87)])), "w.gpx")}, 422, "has no track"),
        ({"track": (io.BytesIO(gpx_xml([(105.37, 25.87)])), "one.gpx")}, 422, "has no track"),
        ({"track": (io.BytesIO(entity), "bomb.gpx")}, 422, "DTD or entity declarations"),
        ({"track": (io.BytesIO(b"PK\x03\x04 not xml"), "track.kmz")}, 422, "is not well-formed XML"),
        ({"track": (io.BytesIO(many_points), "long.gpx")}, 413, "more than 50 track points"),
        ({"photos": [(io.BytesIO(jpeg()), "ok.jpg"), (io.BytesIO(b"%PDF-1.4 not an image"), "scan.pdf")]}, 422,
         "photo 'scan.pdf' is not a photo this registry accepts"),
        ({"photos": [(io.BytesIO(broken_exif_jpeg()), "broken.jpg")]}, 422, "its EXIF metadata is damaged"),
        ({"photos": [(io.BytesIO(jpeg()[:400]), "cut.jpg")]}, 422, "is damaged: the image data cannot be read"),
        ({"photos": [(io.BytesIO(big_photo), "big.jpg")]}, 413, "the limit is 0 MiB per photo"),
        ({"photos": [(io.BytesIO(jpeg()), "a.jpg"), (io.BytesIO(jpeg()), "b.jpg")]}, 422, "uploaded twice"),
    ]
    for files, status, message in multipart_cases:
        r = client.post(url, data={"date": "2024-05-01", "condition": "good", **files}, headers=auth,
                        content_type="multipart/form-data")
        assert r.status_code == status, (message, r.get_json())
        assert message in r.get_json()["detail"], (message, r.get_json())
    r = client.post(url, data={"date": "2024-05-01", "condition": "good",
                               "photos": [(io.BytesIO(b"\xff" * 250_000), "huge.jpg")]},
                    headers=auth, content_type="multipart/form-data")
    assert r.status_code == 413 and r.mimetype == "application/problem+json"
    r = client.post("/api/sites/GZ-9999/inspections", json={"date": "2024-05-01", "condition": "good"}, headers=auth)
    assert r.status_code == 404
    assert _count(small_app, "inspections") == 0 and _count(small_app, "patrol_tracks") == 0
    assert _count(small_app, "evidence_photos") == 0 and _count(small_app, "inspection_followups") == 0
    assert photo_files(Path(small_app.config["DATA_DIR"])) == []


def test_site_without_established_date_exists_from_its_first_version(app):
    with app.app_context():
        conn = get_conn()
        make_site(conn, code="GZ-0900")
        s = inspections.Settings.from_config(app.config)
        today = inspections.local_today(s.timezone)
        store_ = BlobStore(app.config["DATA_DIR"])
        with pytest.raises(InvalidInput, match=f"before site GZ-0900 existed \\(established {today}\\)"):
            inspections.record_inspection(conn, store_, "GZ-0900", inspections.parse_record(
                {"date": (today - timedelta(days=1)).isoformat(), "condition": "good", "inspectors": ["x"]}),
                settings=s, actor="ellen")
        rec = inspections.record_inspection(conn, store_, "GZ-0900", inspections.parse_record(
            {"date": today.isoformat(), "condition": "good", "inspectors": ["x"]}), settings=s, actor="ellen")
        assert rec["inspected_on"] == today.isoformat()


# ------------------------------------------------------------------------------------------------ all or nothing
def test_a_failure_in_the_middle_leaves_no_rows_and_no_files(app, tmp_path):
    data_dir = Path(app.config["DATA_DIR"])
    photo_store = BlobStore(data_dir)
    site = _site(app)
    x, y = site.boundary.representative_point().coords[0]
    uploads = [Upload("a.jpg", jpeg(lon=x, lat=y, taken="2024:05:01 10:00:00")),
               Upload("b.jpg", jpeg(lon=x, lat=y, taken="2024:05:01 10:05:00", colour=(9, 9, 9)))]
    track = Upload("t.gpx", gpx_xml([(x, y), (x + 0.001, y + 0.001)]))
    record = inspections.parse_record({"date": "2024-05-01", "condition": "damaged", "inspectors": ["ellen"],
                                       "threats": {"vandalism": "high"},
                                       "followup": {"description": "report to police", "due": "2024-05-10"}})
    settings = inspections.Settings.from_config(app.config)
    # a temporary file of a write that crashed long ago
    (data_dir / ".tmp-blobs").mkdir(parents=True)
    stale = data_dir / ".tmp-blobs" / "dead.originals.x"
    stale.write_bytes(b"left over")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    with app.app_context():
        conn = get_conn()
        # the database fails at the very end of the transaction, after the photo files were written to temporaries
        fail_inserts(conn, "fail_audit", "audit_log", "disk I/O error (simulated by a real trigger)",
                     when="NEW.action = 'inspection.record'")
        with pytest.raises(DB_REFUSAL, match="disk I/O error"):
            inspections.record_inspection(conn, photo_store, "GZ-0001", record, settings=settings, actor="ellen",
                                          track=track, photos=uploads)
        assert photo_files(data_dir) == []  # no originals, thumbnails, display copies or temporaries
        for table in ("inspections", "inspection_threats", "patrol_tracks", "evidence_photos", "inspection_followups"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        stop_failing(conn, "fail_audit", "audit_log")
        rec = inspections.record_inspection(conn, photo_store, "GZ-0001", record, settings=settings, actor="ellen",
                                            track=track, photos=uploads)
    assert rec["photo_count"] == 2 and rec["track"]["point_count"] == 2
    files = photo_files(data_dir)
    assert len(files) == 6 and not any(".tmp" in f.parts for f in files)
    assert {f.stem for f in files} == {hashlib.sha256(u.data).hexdigest() for u in uploads}
    stray = data_dir / "photos" / "thumbs" / "00" / ("0" * 64 + ".jpg")
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"stray")
    with app.app_context():
        assert registry.check_files(get_conn(), data_dir) == ([], [stray])  # unreferenced: listed, not a problem
        assert set(registry.sweep_files(get_conn(), data_dir)) == {stray, stale}
        assert stale.exists() is False and len(photo_files(data_dir)) == 6
    files[0].unlink()
    original = next(f for f in files if "originals" in f.parts)
    original.write_bytes(b"tampered")
    with app.app_context():
        problems = registry.check_files(get_conn(), data_dir)[0]
    assert len(problems) == 2 and any("display" in p and "the file is missing" in p for p in problems)
    assert any("originals" in p and "does not match its name" in p for p in problems)
    check = app.test_cli_runner().invoke(args=["registry", "check"])  # the operator's check sees it too
    assert check.exit_code == 1 and "the file is missing" in check.output and "does not match" in check.output


def test_inspection_records_are_append_only(app):
    with app.app_context():
        conn = get_conn()
        rec = inspections.record_inspection(
            conn, BlobStore(app.config["DATA_DIR"]), "GZ-0001",
            inspections.parse_record({"date": "2024-05-01", "condition": "good", "inspectors": ["ellen"],
                                      "threats": {"vegetation": "low"}}),
            settings=inspections.Settings.from_config(app.config), actor="ellen")
        for sql in (f"UPDATE inspections SET condition = 'destroyed' WHERE fid = {rec['fid']}",
                    "DELETE FROM inspections", "UPDATE inspection_threats SET severity = 'high'"):
            with pytest.raises(DB_REFUSAL, match="append-only"):
                conn.execute(sql)


# ------------------------------------------------------------------------------------------------ schedule
def _record(conn, app, code: str, day: date, **extra):
    return inspections.record_inspection(
        conn, BlobStore(app.config["DATA_DIR"]), code,
        inspections.parse_record({"date": day.isoformat(), "condition": "fair", "inspectors": ["ellen"], **extra}),
        settings=inspections.Settings.from_config(app.config), actor="ellen", today=day)


def test_overdue_follows_interval_and_level_changes(app):
    today = date(2025, 6, 1)
    with app.app_context():
        conn = get_conn()
        _record(conn, app, "GZ-0001", date(2024, 12, 1))  # national site, inspected 182 days before "today"

        def due(config_intervals=None):
            config = dict(app.config)
            if config_intervals is not None:
                config["INSPECTION_INTERVAL_DAYS"] = config_intervals
            return {d.code: d for d in inspections.schedule(conn, inspections.Settings.from_config(config), today)}

        d = due()["GZ-0001"]
        assert (d.interval_days, d.due_on, d.days_overdue, d.status) == (365, date(2025, 12, 1), -183, "ok")
        assert d.last_inspected_on == date(2024, 12, 1) and d.last_condition == "fair"
        d = due({"national": 180})["GZ-0001"]
        assert (d.due_on, d.days_overdue, d.status) == (date(2025, 5, 30), 2, "overdue")
        d = due({"national": 200})["GZ-0001"]
        assert (d.due_on, d.status) == (date(2025, 6, 19), "upcoming")
        # never inspected: counted from the date the site was established (GZ-0004, general, 2024-06-12)
        d = due()["GZ-0004"]
        assert (d.last_inspected_on, d.baseline_on, d.due_on, d.status) == (None, date(2024, 6, 12),
                                                                             date(2027, 6, 12), "ok")
        assert due({"general": 300})["GZ-0004"].days_overdue == (today - date(2025, 4, 8)).days
        # a site's protection level changes: its interval changes with it
        site = sites.current(conn, "GZ-0001")
        sites.change_site(conn, "GZ-0001", base_version=site.version, properties={"level": "general"},
                          author="ada", reason="downgraded after review")
        d = due({"national": 180})["GZ-0001"]
        assert (d.level, d.interval_days, d.status) == ("general", 1095, "ok")
        # overdue list is ordered most overdue first
        order = [x.days_overdue for x in inspections.schedule(conn, inspections.Settings.defaults(), today)]
        assert order == sorted(order, reverse=True)


def test_interval_configuration_from_the_environment(demo_data_dir, demo_database, monkeypatch):
    monkeypatch.setenv("FLASK_INSPECTION_INTERVAL_DAYS", '{"national": 30}')
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), **demo_database, "SECRET_KEY": "x"})
    today = inspections.local_today(app.config["TIMEZONE"])
    with app.app_context():
        _record(get_conn(), app, "GZ-0001", today - timedelta(days=40))
    body = app.test_client().get("/api/inspections/due", headers=bearer("field")).get_json()
    assert body["intervals"] == {"national": 30, "provincial": 730, "general": 1095}
    gz1 = next(s for s in body["sites"] if s["site"] == "GZ-0001")
    assert (gz1["status"], gz1["days_overdue"], gz1["interval_days"]) == ("overdue", 10, 30)
    monkeypatch.setenv("FLASK_INSPECTION_INTERVAL_DAYS", '{"national": 0}')
    with pytest.raises(ValueError, match="INSPECTION_INTERVAL_DAYS"):
        create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), **demo_database, "SECRET_KEY": "x"})


def test_dashboard_table_map_and_csv(app, client):
    today = inspections.local_today(app.config["TIMEZONE"])
    with app.app_context():
        conn = get_conn()
        _record(conn, app, "GZ-0001", today - timedelta(days=10),
                followup={"description": "repair the fence", "due": (today + timedelta(days=5)).isoformat()})
        expected = inspections.schedule(conn, inspections.Settings.from_config(app.config))
    login(client, "field")
    page = client.get("/inspections")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    overdue = sum(1 for d in expected if d.status == "overdue")
    assert f"{overdue} overdue" in html and "repair the fence" in html
    assert "/static/vendor/leaflet/leaflet.js" in html and re.search(r'<script nonce="[^"]+">', html)
    assert "unpkg.com" not in html and "cdn.jsdelivr" not in html
    r = client.get("/inspections.csv")
    assert r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert [row["site"] for row in rows] == [d.code for d in expected]
    gz1 = next(row for row in rows if row["site"] == "GZ-0001")
    assert (gz1["last_inspected_on"], gz1["status"], gz1["open_followups"]) == (
        (today - timedelta(days=10)).isoformat(), "ok", "1")
    only = list(csv.DictReader(io.StringIO(client.get("/inspections.csv?status=overdue").get_data(as_text=True))))
    assert len(only) == overdue and all(row["status"] == "overdue" for row in only)
    zh = client.get("/inspections?lang=zh").get_data(as_text=True)
    assert "巡查计划" in zh and f"{overdue} 处逾期" in zh
    api = client.get("/api/inspections/due", headers=bearer("field")).get_json()
    assert api["counts"]["overdue"] == overdue
    assert [f["description"] for f in api["followups"]] == ["repair the fence"]


# ------------------------------------------------------------------------------------------------ follow-ups
def test_follow_ups_open_close_and_resolve(app, client):
    with app.app_context():
        conn = get_conn()
        first = _record(conn, app, "GZ-0001", date(2024, 5, 1),
                        followup={"description": "fence the slope", "due": "2024-06-01"})
        other = _record(conn, app, "GZ-0003", date(2024, 5, 1),
                        followup={"description": "clear the drain", "due": "2024-06-01"})
        fid, other_fid = first["followups"][0]["fid"], other["followups"][0]["fid"]
        with pytest.raises(InvalidInput, match="belongs to site GZ-0003"):
            _record(conn, app, "GZ-0001", date(2024, 6, 2), resolves=[other_fid])
        second = _record(conn, app, "GZ-0001", date(2024, 6, 2), resolves=[fid])
    r = client.post(f"/api/followups/{fid}/close", json={"note": "again"}, headers=bearer("expert"))
    assert r.status_code == 409 and "already closed" in r.get_json()["detail"]
    assert client.post("/api/followups/999/close", json={"note": "x"}, headers=bearer("expert")).status_code == 404
    assert client.post(f"/api/followups/{other_fid}/close", json={}, headers=bearer("expert")).status_code == 422
    r = client.post(f"/api/followups/{other_fid}/close", json={"note": "drain cleared"}, headers=bearer("expert"))
    assert r.status_code == 200 and r.get_json()["status"] == "closed" and r.get_json()["closed_by"] == "ellen"
    rec = client.get(f"/api/inspections/{first['fid']}", headers=bearer("field")).get_json()
    assert rec["followups"][0]["status"] == "closed"
    assert rec["followups"][0]["closed_by_inspection"] == second["fid"]
    assert client.get("/api/inspections/due", headers=bearer("field")).get_json()["followups"] == []


# ------------------------------------------------------------------------------------------------ timeline
def test_site_timeline_puts_everything_in_order(app, client):
    from fossil_registry import reports
    with app.app_context():
        conn = get_conn()
        _record(conn, app, "GZ-0001", date(2023, 3, 1))
        _record(conn, app, "GZ-0001", date(2024, 5, 1), threats={"quarrying": "high"},
                followup={"description": "stop the quarry", "due": "2024-06-01"})
        site = sites.current(conn, "GZ-0001")
        sites.change_site(conn, "GZ-0001", base_version=site.version, properties={"age": "Carnian"},
                          author="ellen", reason="age refined")
        s = reports.ReportSettings.from_config(app.config)
        reports.submit_report(conn, BlobStore(app.config["DATA_DIR"]),
                              reports.parse_report({"kind": "damage", "lon": site.location.x, "lat": site.location.y,
                                                    "description": "Digging at the crinoid beds"}, s), settings=s)
    body = client.get("/api/sites/GZ-0001/timeline", headers=bearer("field")).get_json()
    kinds = [e["kind"] for e in body["events"]]
    assert kinds[:3] == ["inspection", "inspection", "followup"]
    assert {"version", "report"} <= set(kinds)
    dates = [e["date"] for e in body["events"]]
    assert dates == sorted(dates)
    assert [(c["date"], c["condition"]) for c in body["conditions"]] == [("2023-03-01", "fair"), ("2024-05-01", "fair")]
    login(client, "field")
    html = client.get("/sites/GZ-0001/timeline").get_data(as_text=True)
    assert "Condition over time" in html and "<svg" in html and "age refined" in html
    assert "Digging at the crinoid beds" not in html and "stop the quarry" in html  # reporters' texts: triage only
    expert = login(app.test_client(), "expert")
    assert "Digging at the crinoid beds" in expert.get("/sites/GZ-0001/timeline").get_data(as_text=True)
    assert html.index("2023-03-01") < html.index("2024-05-01")
    newest = client.get("/sites/GZ-0001/timeline?order=desc").get_data(as_text=True)
    assert newest.index('datetime="2024-05-01"') < newest.index('datetime="2023-03-01"')
    assert client.get("/sites/GZ-9999/timeline").status_code == 404


# ------------------------------------------------------------------------------------------------ units
def test_gpx_parser_reads_segments_times_and_refuses_what_is_not_a_track():
    t = parse_gpx(gpx_xml([(105.0, 26.0), (105.001, 26.0)], [(105.002, 26.0), (105.003, 26.001)]))
    assert len(t.geom.geoms) == 2 and t.point_count == 4
    assert t.started_at == "2024-05-01T02:00:00.000Z" and t.ended_at == "2024-05-01T02:03:00.000Z"
    assert t.length_m == pytest.approx(sum(GEOD.line_length(*zip(*g.coords)) for g in t.geom.geoms), abs=0.1)
    no_namespace = b'<gpx><trk><trkseg><trkpt lat="26" lon="105"/><trkpt lat="26.1" lon="105"/></trkseg></trk></gpx>'
    assert parse_gpx(no_namespace).length_m == pytest.approx(GEOD.inv(105, 26, 105, 26.1)[2], abs=0.1)
    with pytest.raises(InvalidInput, match="track point 1 has no numeric lat/lon"):
        parse_gpx(b'<gpx><trk><trkseg><trkpt lat="x" lon="105"/></trkseg></trk></gpx>')
    with pytest.raises(InvalidInput, match="outside the longitude/latitude range"):
        parse_gpx(b'<gpx><trk><trkseg><trkpt lat="95" lon="105"/></trkseg></trk></gpx>')
    with pytest.raises(InvalidInput, match="only routes"):
        parse_gpx(b'<gpx><rte><rtept lat="26" lon="105"/><rtept lat="26.1" lon="105"/></rte></gpx>')


def test_exif_reading_hemispheres_offsets_and_dates():
    photo = read_photo(Upload("w.jpg", jpeg(lon=-70.25, lat=-33.5, taken="2024:05:01 23:30:00", offset="-04:00")),
                       max_bytes=10**6, max_pixels=10**7)
    assert photo.gps == pytest.approx((-70.25, -33.5), abs=1e-6)
    check_photo(photo, distance_m=10.0, max_distance_m=500, expected_date=date(2024, 5, 2), tz="Asia/Shanghai")
    assert photo.flags == []  # 23:30 at -04:00 is 11:30 on 2 May in Beijing
    check_photo(photo, distance_m=10.0, max_distance_m=500, expected_date=date(2024, 5, 1), tz="Asia/Shanghai")
    assert photo.flags == ["other_date"]
    bare = read_photo(Upload("bare.png", jpeg(fmt="PNG")), max_bytes=10**6, max_pixels=10**7)
    check_photo(bare, distance_m=None, max_distance_m=500, expected_date=date(2024, 5, 1), tz="Asia/Shanghai")
    assert (bare.media_type, bare.gps, bare.taken_at, bare.flags) == ("image/png", None, None, ["no_gps", "no_date"])
    turned = Image.open(io.BytesIO(jpeg(size=(96, 64))))
    exif = turned.getexif()
    exif[ExifTags.Base.Orientation] = 6  # camera held upright: pixels stored sideways
    buf = io.BytesIO()
    turned.save(buf, "JPEG", exif=exif)
    upright = read_photo(Upload("turned.jpg", buf.getvalue()), max_bytes=10**6, max_pixels=10**7)
    assert (upright.width, upright.height) == (64, 96)
    assert Image.open(io.BytesIO(upright.thumb)).size == (64, 96) and not has_gps_exif(upright.thumb)
    with pytest.raises(InvalidInput, match="is not a date"):
        read_photo(Upload("clock.jpg", jpeg(taken="0000:00:00 00:00:00")), max_bytes=10**6, max_pixels=10**7)
    with pytest.raises(TooLarge, match="megapixels"):
        read_photo(Upload("wide.jpg", jpeg(size=(2000, 1000))), max_bytes=10**6, max_pixels=1_000_000)


def test_geodesic_distance_to_a_site():
    from shapely.geometry import MultiPolygon, box
    square = MultiPolygon([box(105.0, 26.0, 105.01, 26.01)])
    assert inspections.distance_m((105.005, 26.005), square) == 0.0
    assert inspections.distance_m((105.02, 26.005), square) == pytest.approx(
        GEOD.inv(105.02, 26.005, 105.01, 26.005)[2], rel=1e-6)
    assert inspections.distance_m((105.005, 26.02), square) == pytest.approx(
        GEOD.inv(105.005, 26.02, 105.005, 26.01)[2], abs=0.05)  # edges are straight in lon/lat: 1 cm apart
    assert inspections.distance_m((105.1, 26.0), Point(105.0, 26.0)) == pytest.approx(GEOD.inv(105.1, 26, 105, 26)[2])


def test_an_inspection_point_on_another_continent_is_refused(app, client):
    r = client.post("/api/sites/GZ-0001/inspections", headers=bearer("expert"),
                    json={"date": "2024-05-01", "condition": "good", "point": [-105.61, 25.94]})
    assert r.status_code == 422 and "the longitude's sign is wrong" in r.get_json()["detail"]
    assert _count(app, "inspections") == 0


def test_a_patrol_track_on_another_continent_is_refused(app, client):
    track = gpx_xml([(2.35, 48.85), (2.36, 48.86), (2.37, 48.85)])
    r = client.post("/api/sites/GZ-0001/inspections", headers=bearer("expert"), content_type="multipart/form-data",
                    data={"record": json.dumps({"date": "2024-05-01", "condition": "good"}),
                          "track": (io.BytesIO(track), "paris.gpx")})
    assert r.status_code == 422 and "patrol track" in r.get_json()["detail"]
    assert _count(app, "inspections") == 0 and _count(app, "patrol_tracks") == 0


def test_field_staff_see_no_reporters_texts_on_a_timeline(app, client):
    site = _site(app)
    r = client.post("/api/reports", json={"kind": "damage", "lon": site.location.x, "lat": site.location.y,
                                          "description": "Call me on 13800138000, slabs broken"})
    assert r.status_code == 201
    code = client.get(f"/api/reports/{report_id(client, r.get_json())}", headers=bearer("expert")).get_json()["site"]
    assert code == site.code
    field = client.get(f"/api/sites/{code}/timeline", headers=bearer("field")).get_data(as_text=True)
    expert = client.get(f"/api/sites/{code}/timeline", headers=bearer("expert")).get_data(as_text=True)
    assert "13800138000" not in field and "13800138000" in expert
