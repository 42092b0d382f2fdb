"""Public reports of finds or damage: submission (web and API), triage, privacy of the reporter and of photo GPS, rate
and size limits."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from fossil_registry import create_app, public_view, registry, reports, sites, store
from fossil_registry.db import get_conn

from .conftest import bearer, csrf_token, login
from .inspection_helpers import has_gps_exif, jpeg, photo_files
from .leaks import every_feature, leaked_numbers, published_values, true_coordinates
from .conftest import report_id

pytestmark = pytest.mark.both_backends

CONTACT = "Li Wei 13800138000 liwei@example.cn"


def _leaks(body: bytes | str, *secrets: str) -> list[str]:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return [s for s in secrets if s in text]


def _gps_texts(lon: float, lat: float) -> list[str]:
    """How a photo's GPS position could show up in an answer: decimals precise to ~10 m or better."""
    return [f"{v:.{n}f}" for v in (lon, lat) for n in (4, 5, 6)]


@pytest.fixture
def loose_app(demo_data_dir, demo_database):
    """No rate limit in the way of a test that submits several reports."""
    return create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), **demo_database, "SECRET_KEY": "x",
                       "REPORT_LIMIT": "1000 per hour"})


def test_public_report_flow_with_triage(loose_app):
    app = loose_app
    with app.app_context():
        site = sites.current(get_conn(), "GZ-0001")
    x, y = site.boundary.representative_point().coords[0]
    photo_lon, photo_lat = x + 0.00123, y - 0.00045  # where the reporter stood: never shown to the public
    photo = jpeg(lon=photo_lon, lat=photo_lat, taken="2024:05:01 16:20:00", size=(320, 240))
    anonymous = app.test_client()
    form = anonymous.get("/report?site=GZ-0001")
    assert form.status_code == 200 and b"/static/vendor/leaflet/leaflet.js" in form.data
    assert "您要报告什么？" in app.test_client().get("/report?lang=zh").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.get_data(as_text=True)).group(1)
    r = anonymous.post("/report", content_type="multipart/form-data", data={
        "csrf_token": token, "kind": "damage", "coordinates": f"{y:.6f}, {x:.6f}",  # typed lat first: parsed right
        "description": "Excavator digging into the fossil beds beside the road.", "observed_on": "2024-05-01",
        "contact": CONTACT, "photos": [(io.BytesIO(photo), "IMG_0001.jpg")]})
    assert r.status_code == 303, r.get_data(as_text=True)
    receipt_url = r.headers["Location"]
    page = anonymous.get(receipt_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "your report was received" in html
    # the confirmation echoes neither the contact, nor the photo's GPS, nor the site it was matched to
    assert not _leaks(html, CONTACT, "13800138000", "liwei@", *_gps_texts(photo_lon, photo_lat))
    assert "GZ-0001" not in html and "Excavator" not in html
    photo_url = re.search(r'<img src="([^"]+)"', html).group(1)
    served = anonymous.get(photo_url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert not has_gps_exif(served.data)  # re-encoded from pixels: no EXIF block at all
    assert Image.open(io.BytesIO(served.data)).getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert b"Exif" not in served.data and b"GPS" not in served.data and b"TestCam" not in served.data
    assert Image.open(io.BytesIO(served.data)).size == (320, 240)

    with app.app_context():
        conn = get_conn()
        report = reports.list_reports(conn)[0]
        assert (report["site_code"], report["site_distance_m"], report["status"]) == ("GZ-0001", 0.0, "new")
        assert report["point"].x == pytest.approx(x, abs=1e-6) and report["point"].y == pytest.approx(y, abs=1e-6)
        version_before = sites.current(conn, "GZ-0001").version
        audit = store.list_audit(conn, action="report.submit")[0]
        assert audit["actor"] == "anonymous" and CONTACT not in str(audit)
    # staff see the contact, the photo's GPS and its check against the reported place
    expert = app.test_client()
    login(expert, "expert")
    queue = expert.get("/reports").get_data(as_text=True)
    assert f'/reports/{report["fid"]}' in queue and "GZ-0001" in queue
    detail = expert.get(f'/reports/{report["fid"]}').get_data(as_text=True)
    assert CONTACT in detail and f"{photo_lon:.5f}" in detail
    api = expert.get(f'/api/reports/{report["fid"]}', headers=bearer("expert")).get_json()
    assert api["contact"] == CONTACT and api["photos"][0]["gps"] == pytest.approx([photo_lon, photo_lat], abs=1e-6)
    assert api["photos"][0]["flags"] == [] and 0 < api["photos"][0]["distance_m"] < 200
    # accept: a follow-up for the site; the site itself does not change
    token = csrf_token(expert, f'/reports/{report["fid"]}')
    r = expert.post(f'/reports/{report["fid"]}/accept', data={
        "csrf_token": token, "site": "GZ-0001", "mode": "followup", "followup_description": "Stop the excavator",
        "due": "2099-01-01"})
    assert r.status_code == 303
    with app.app_context():
        conn = get_conn()
        decided = reports.get_report(conn, report["fid"], with_contact=False)
        assert (decided["status"], decided["decided_by"]) == ("accepted", "ellen")
        from fossil_registry.store import inspections as istore
        followup = istore.get_followup(conn, decided["followup_id"])
        assert (followup["code"], followup["description"], followup["due_on"], followup["report_id"]) == (
            "GZ-0001", "Stop the excavator", "2099-01-01", report["fid"])
        assert sites.current(conn, "GZ-0001").version == version_before
    # the reporter's receipt shows the new status, still without private data
    html = anonymous.get(receipt_url).get_data(as_text=True)
    assert "accepted: experts follow it up" in html and not _leaks(html, CONTACT, "Stop the excavator")
    # decided once
    r = expert.post(f'/reports/{report["fid"]}/dismiss', data={"csrf_token": token, "reason": "dup"})
    assert r.status_code == 409 and "already accepted" in r.get_data(as_text=True)


def test_public_api_report_then_dismissal(loose_app):
    app = loose_app
    client = app.test_client()
    photo = jpeg(lon=105.41234, lat=25.90567, taken="2024:05:01 12:00:00")
    # no session, no CSRF token, no account: any client may report
    r = client.post("/api/reports", content_type="multipart/form-data", data={
        "kind": "find", "lon": "105.4100", "lat": "25.9050", "contact": CONTACT,
        "description": "Fish fossils in slabs dumped by a road crew.", "photos": [(io.BytesIO(photo), "fish.jpg")]})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert set(body) == {"reference", "receipt", "kind", "status", "submitted_at", "observed_on", "location",
                         "photos", "receipt_url"}
    assert not _leaks(r.data, CONTACT, "13800138000", *_gps_texts(105.41234, 25.90567))
    assert "GZ-0002" not in r.get_data(as_text=True)  # the generalized site it lies near is not named
    assert not has_gps_exif(client.get(body["photos"][0]["url"]).data)
    # JSON, typed coordinates in degrees-minutes-seconds
    r = client.post("/api/reports", json={"kind": "damage", "coordinates": "105°22'19\"E, 25°52'41\"N",
                                          "description": "Somebody is breaking slabs with a hammer."})
    assert r.status_code == 201
    assert r.get_json()["location"]["coordinates"] == pytest.approx([105.371944, 25.878056], abs=1e-5)
    second = report_id(client, r.get_json())
    # triage API
    triage = bearer("expert")
    assert client.get("/api/reports", headers=bearer("field")).status_code == 403
    queue = client.get("/api/reports?status=new", headers=triage).get_json()
    assert [x["id"] for x in queue["reports"]] == [second, report_id(client, body)] and queue["counts"]["new"] == 2
    r = client.post(f"/api/reports/{second}/dismiss", json={}, headers=triage)
    assert r.status_code == 422 and "reason" in r.get_json()["detail"]
    r = client.post(f"/api/reports/{second}/dismiss", json={"reason": "same as report 1"}, headers=triage)
    assert r.status_code == 200 and r.get_json()["status"] == "dismissed"
    assert r.get_json()["decision_note"] == "same as report 1"
    r = client.post(f"/api/reports/{second}/accept", json={}, headers=triage)
    assert r.status_code == 409
    assert client.post("/api/reports/999/dismiss", json={"reason": "x"}, headers=triage).status_code == 404


def test_accepting_links_a_report_to_an_inspection_of_the_same_site(loose_app):
    from fossil_registry import inspections
    from fossil_registry.blobs import BlobStore
    app = loose_app
    client = app.test_client()
    with app.app_context():
        conn = get_conn()
        rec = inspections.record_inspection(
            conn, BlobStore(app.config["DATA_DIR"]), "GZ-0003",
            inspections.parse_record({"date": "2024-05-01", "condition": "damaged", "inspectors": ["ellen"]}),
            settings=inspections.Settings.from_config(app.config), actor="ellen")
    ref = client.post("/api/reports", json={"kind": "damage", "lon": 105.372, "lat": 25.878,
                                            "description": "Fresh digging holes in the slope."}).get_json()
    ref = report_id(client, ref)
    triage = bearer("expert")
    r = client.post(f"/api/reports/{ref}/accept", json={"site": "GZ-0001", "inspection_id": rec["fid"]}, headers=triage)
    assert r.status_code == 422 and "is of site GZ-0003, not GZ-0001" in r.get_json()["detail"]
    r = client.post(f"/api/reports/{ref}/accept", json={"inspection_id": rec["fid"]}, headers=triage)
    assert r.status_code == 200
    body = r.get_json()
    assert (body["status"], body["site"], body["inspection_id"], body["followup_id"]) == (
        "accepted", "GZ-0003", rec["fid"], None)
    timeline = client.get("/api/sites/GZ-0003/timeline", headers=bearer("field")).get_json()
    assert any(e["kind"] == "report" and e["id"] == ref for e in timeline["events"])


def test_reports_far_from_every_site_and_near_hidden_sites(loose_app):
    app = loose_app
    with app.app_context():
        conn = get_conn()
        hidden = sites.current(conn, "GZ-0004")
        assert hidden.sensitivity == "hidden"
        s = reports.ReportSettings.from_config(app.config)
        assert reports.find_site(conn, hidden.location, s.site_radius_m) == ("GZ-0004", 0.0)
        assert reports.find_site(conn, type(hidden.location)(109.5, 29.1), s.site_radius_m) == (None, None)
    client = app.test_client()
    r = client.post("/api/reports", json={"kind": "find", "lon": hidden.location.x, "lat": hidden.location.y,
                                          "description": "Loose trilobites on the path."})
    assert r.status_code == 201 and "GZ-0004" not in r.get_data(as_text=True)
    receipt = client.get(r.get_json()["receipt_url"]).get_data(as_text=True)
    assert "GZ-0004" not in receipt and hidden.properties["name"] not in receipt
    staff = client.get(f'/api/reports/{report_id(client, r.get_json())}', headers=bearer("expert")).get_json()
    assert staff["site"] == "GZ-0004"
    # the report form's map shows only what public_view allows: no hidden site, no true location of a protected one
    with app.app_context():
        everything = sites.list_current(get_conn())
    pages = client.get("/report").get_data(as_text=True) + client.get("/report?site=GZ-0002").get_data(as_text=True)
    def shown(text):  # folium writes the layer's GeoJSON with ASCII escapes
        return text in pages or json.dumps(text)[1:-1] in pages

    assert not shown("GZ-0001") and shown(sites_named(everything, "open")[0])  # names only, not codes
    with loose_app.app_context():
        public_values = published_values(every_feature(get_conn()))
    for s in everything:
        if s.sensitivity != "open":
            assert not leaked_numbers(pages, true_coordinates(s.location), public_values), s.code
        if s.sensitivity == "hidden":
            assert not shown(s.properties["name"])


def sites_named(everything, sensitivity):
    return [s.properties["name"] for s in everything if s.sensitivity == sensitivity]


def test_bad_reports_are_refused_and_nothing_is_kept(demo_data_dir, demo_database):
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), **demo_database, "SECRET_KEY": "x", "REPORT_MAX_BYTES": 60_000,
                      "REPORT_MAX_PHOTOS": 2, "REPORT_LIMIT": "1000 per hour"})
    client = app.test_client()
    ok = {"kind": "find", "lon": "105.4", "lat": "25.9", "description": "Ammonites in a new road cut."}
    cases = [
        ({**ok, "kind": "rumour"}, 422, "kind must be one of find, damage"),
        ({**ok, "description": "bones"}, 422, "at least 10 characters"),
        ({**ok, "lon": None, "lat": None}, 422, "give the location"),
        ({**ok, "lon": "25.9", "lat": "105.4"}, 422, "look swapped"),
        ({**ok, "lon": "116.4", "lat": "39.9"}, 422, "outside Guizhou"),
        ({**ok, "observed_on": "2999-01-01"}, 422, "is in the future"),
        ({**ok, "contact": "x" * 201}, 422, "contact is too long"),
    ]
    for body, status, message in cases:
        r = client.post("/api/reports", json=body)
        assert r.status_code == status and message in r.get_json()["detail"], (body, r.get_json())
    r = client.post("/api/reports", content_type="multipart/form-data",
                    data={**ok, "photos": [(io.BytesIO(jpeg(colour=(i, i, i))), f"{i}.jpg") for i in range(3)]})
    assert r.status_code == 413 and "the limit is 2" in r.get_json()["detail"]
    r = client.post("/api/reports", content_type="multipart/form-data",
                    data={**ok, "photos": [(io.BytesIO(b"GIF89a" + b"\x00" * 100), "x.gif")]})
    assert r.status_code == 422 and "is not a photo this registry accepts" in r.get_json()["detail"]
    r = client.post("/api/reports", content_type="multipart/form-data",
                    data={**ok, "photos": [(io.BytesIO(b"\xff" * 70_000), "big.jpg")]})
    assert r.status_code == 413  # the whole request is over REPORT_MAX_BYTES: refused before it is read
    # the web form re-renders with the reason (and keeps what was typed, but never echoes a contact elsewhere)
    token = csrf_token(client, "/report")
    r = client.post("/report", data={**{k: v for k, v in ok.items() if v}, "description": "short",
                                     "csrf_token": token})
    assert r.status_code == 422 and "at least 10 characters" in r.get_data(as_text=True)
    with app.app_context():
        assert reports.list_reports(get_conn()) == []
    assert photo_files(demo_data_dir) == []


def test_reports_are_rate_limited_per_client_and_staff_sessions_do_not_lift_it_on_the_api(demo_data_dir, demo_database):
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), **demo_database, "SECRET_KEY": "x",
                      "REPORT_LIMIT": "2 per hour"})
    client = app.test_client()
    body = {"kind": "find", "lon": "105.4", "lat": "25.9", "description": "Crinoid stems in the wall."}
    addr = {"REMOTE_ADDR": "203.0.113.5"}
    token = csrf_token(client, "/report")
    codes = [client.post("/api/reports", json=body, environ_base=addr).status_code,
             client.post("/report", data={**body, "csrf_token": token}, environ_base=addr).status_code,
             client.post("/api/reports", json=body, environ_base=addr).status_code]
    assert codes == [201, 303, 429]  # one budget for the form and the API
    r = client.post("/api/reports", json=body, environ_base=addr)
    assert r.mimetype == "application/problem+json" and "Too many reports" in r.get_json()["detail"]
    assert client.post("/api/reports", json=body, environ_base={"REMOTE_ADDR": "203.0.113.6"}).status_code == 201
    # signed-in staff using the web form are not limited...
    staff = app.test_client()
    login(staff, "expert")
    token = csrf_token(staff, "/report")
    assert staff.post("/report", data={**body, "csrf_token": token}, environ_base=addr).status_code == 303
    # ...but the public API ignores session cookies: the caller is anonymous there, and limited
    r = staff.post("/api/reports", json=body, environ_base=addr)
    assert r.status_code == 429
    # with an API token the caller is known (and not limited)
    r = staff.post("/api/reports", json=body, environ_base=addr, headers=bearer("expert"))
    assert r.status_code == 201
    with app.app_context():
        by = sorted(r["submitted_by"] for r in reports.list_reports(get_conn()))
    assert by == ["anonymous", "anonymous", "anonymous", "ellen", "ellen"]


def test_contact_data_is_private_and_left_out_of_exports(loose_app, tmp_path):
    app = loose_app
    client = app.test_client()
    ref = client.post("/api/reports", json={"kind": "find", "lon": 105.4, "lat": 25.9, "contact": CONTACT,
                                            "description": "Fossil wood in the river bank."}).get_json()
    ref = report_id(client, ref)
    assert "report_contacts" in store.private_tables()
    for url in ("/reports", f"/reports/{ref}", f"/api/reports/{ref}", "/api/reports"):
        r = client.get(url)
        assert r.status_code == 401 and CONTACT not in r.get_data(as_text=True), url
    r = client.get(f"/api/reports/{ref}", headers=bearer("field"))
    assert r.status_code == 403
    out = tmp_path / "export.gpkg"
    registry.export_registry(app.config["REGISTRY"], out)  # shareable by default: nothing private to forget
    assert CONTACT.encode() not in out.read_bytes()
    assert registry.validate_geopackage(out) == []
    import sqlite3
    exported = sqlite3.connect(out)
    tables = {r[0] for r in exported.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "report_contacts" not in tables and "public_reports" in tables
    exported.close()
    receipt = public_view.report_receipt(reports.get_report(store.connect(app.config["REGISTRY"]), ref,
                                                            with_contact=True))
    assert "contact" not in receipt and "description" not in receipt and "site_code" not in receipt


PAYLOAD = "x`);document.title='pwned';<img src=x onerror=alert(1)>${1+1}"  # no '/': uploads keep the base name


def _overlay_texts(page: str) -> list[str]:
    blocks = re.findall(r'<script[^>]*type="application/json" class="map-overlays"[^>]*>(.*?)</script>', page, re.S)
    return [f["properties"]["text"] for b in blocks for layer in json.loads(b)["layers"] for f in layer["features"]]


def _code(page: str) -> str:
    """Every executable script of a page (not the JSON data blocks)."""
    return "\n".join(re.findall(r"<script(?![^>]*application/json)[^>]*>(.*?)</script>", page, re.S))


def test_user_text_in_map_tooltips_cannot_break_out_of_the_script(loose_app):
    """A reporter controls the file names of uploaded photos; staff see them as tooltips on the triage map. They reach
    the map as JSON data (shown with textContent), never inside a script."""
    app = loose_app
    client = app.test_client()
    photo = jpeg(lon=105.41234, lat=25.90567, taken="2024:05:01 12:00:00")
    r = client.post("/api/reports", content_type="multipart/form-data", data={
        "kind": "find", "lon": "105.4100", "lat": "25.9050", "description": "Fish fossils in slabs by the road.",
        "photos": [(io.BytesIO(photo), PAYLOAD + ".jpg")]})
    assert r.status_code == 201, r.get_json()
    expert = login(app.test_client(), "expert")
    page = expert.get(f'/reports/{report_id(client, r.get_json())}').get_data(as_text=True)
    assert PAYLOAD + ".jpg" in _overlay_texts(page)  # the photo is on the map, its name verbatim as data
    for raw in ("`);document.title", "<img src=x", "${1+1}"):
        assert raw not in _code(page), raw


def test_site_names_in_dashboard_tooltips_are_escaped(loose_app):
    app = loose_app
    with app.app_context():
        conn = get_conn()
        site = sites.current(conn, "GZ-0001")
        sites.change_site(conn, "GZ-0001", base_version=site.version, properties={"name": PAYLOAD}, author="ada",
                          reason="test: hostile name")
    expert = login(app.test_client(), "expert")
    page = expert.get("/inspections").get_data(as_text=True)
    assert any(t.startswith("GZ-0001 " + PAYLOAD) for t in _overlay_texts(page))
    assert "`);document.title" not in _code(page) and "<img src=x" not in _code(page)
