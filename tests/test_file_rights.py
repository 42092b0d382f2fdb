"""Issue 22, item 2: a file gives each caller exactly what the API gives that caller, table by table and record by
record; a photo is served only to a caller who may read the record it belongs to.

One registry holds a record in every table (an inspection with a photo, a track, a threat, a follow-up and a marker
check; a public report with a photo; markers with photos on an open and on a hidden site; a rescue case with a photo; a
proposal with an attachment; a field kit; a saved screening and a project case; an import). Every role downloads the
whole registry (registry.gpkg) and each table in it is compared with what that role's API answers; every photo route
is asked for every photo by every role, and compared with whether that role's API gives the photo's record."""
from __future__ import annotations

import io
import json
import sqlite3
import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from shapely.geometry import MultiPolygon, box

from fossil_registry import create_app, registry, store

from .conftest import bearer, demo_copy
from .fieldkit_helpers import checkin, checkout, ogr_sql
from .import_helpers import geojson, imported
from .inspection_helpers import gpx_xml, jpeg

ROLES = (None, "field", "expert", "admin")  # None: anonymous
REPORT_POINT = (105.41370, 25.91730)
REPORT_TEXT = "slabs with bones behind the school"

# The tables of the GeoPackage itself and the registry's bookkeeping: in every staff file.
INFRASTRUCTURE = {"gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "registry_meta",
                  "registry_migrations"}
# Each table of the registry -> the API request that reads its records (formatted with the world's ids). A table that
# is neither here, nor infrastructure, nor private fails test_every_table_is_probed: say who reads it.
PROBES = {
    "site_locations": "/api/sites/GZ-0004/versions", "site_boundaries": "/api/sites/GZ-0004/versions",
    "site_versions": "/api/sites/GZ-0004/versions",
    "section_lines": "/api/sections/GZS-0001/versions", "section_boundaries": "/api/sections/GZS-0001/versions",
    "section_versions": "/api/sections/GZS-0001/versions",
    "protection_markers": "/api/sites/GZ-0004/markers", "marker_checks": "/api/inspections/{inspection}",
    "inspections": "/api/inspections/{inspection}", "inspection_threats": "/api/inspections/{inspection}",
    "patrol_tracks": "/api/inspections/{inspection}", "inspection_followups": "/api/sites/GZ-0004/timeline",
    "evidence_photos": None,  # record by record: compared photo by photo below
    "public_reports": "/api/reports",
    "revisions": "/api/revisions/{revision}", "revision_events": "/api/revisions/{revision}",
    "revision_attachments": "/api/revisions/{revision}",
    "fieldkit_kits": "/api/fieldkits", "fieldkit_items": "/api/fieldkits/{kit}",
    "fieldkit_checkins": "/api/fieldkits/{kit}",
    "impact_screenings": "/api/impact/screenings", "impact_results": "/api/impact/screenings/{screening}",
    "impact_cases": "/api/impact/cases", "impact_case_events": "/api/impact/cases/{case}",
    "imports": "/api/imports", "import_rows": "/api/imports/{import}",
    "rescue_cases": "/api/rescues", "rescue_events": "/api/rescues/{rescue}",
    "audit_log": "/api/audit",
}


def _headers(role: str | None) -> dict:
    return bearer(role) if role else {}


def _table_names(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {n for n, in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not n.startswith(("rtree_", "sqlite_"))}
    finally:
        con.close()


def _count(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        con.close()


def _photo_shas(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {s for s, in con.execute("SELECT sha256 FROM evidence_photos")}
    finally:
        con.close()


# ------------------------------------------------------------------------------------------------ the world
def _populate(client, now: datetime, tmp_path: Path) -> dict:
    ids: dict = {}
    day = now.strftime("%Y:%m:%d %H:%M:%S")
    # a public report with a photo (EXIF position), anonymous
    r = client.post("/api/reports", content_type="multipart/form-data", data={
        "kind": "find", "lon": str(REPORT_POINT[0]), "lat": str(REPORT_POINT[1]), "description": REPORT_TEXT,
        "contact": "reporter@example.cn",
        "photos": [(io.BytesIO(jpeg(lon=REPORT_POINT[0], lat=REPORT_POINT[1], taken=day, colour=(200, 0, 0))),
                    "report.jpg")]})
    assert r.status_code == 201, r.get_json()
    ids["receipt"] = r.get_json()["receipt"]
    [report] = client.get("/api/reports", headers=bearer("expert")).get_json()["reports"]
    ids["report"] = report["id"]
    # markers with a photo on an open site (GZ-0001) and on a hidden one (GZ-0004)
    for code, point, colour in (("GZ-0001", (105.372, 25.878), (0, 200, 0)), ("GZ-0004", (105.5, 25.79), (0, 0, 200))):
        r = client.post(f"/api/sites/{code}/markers", headers=bearer("expert"), content_type="multipart/form-data",
                        data={"kind": "monument", "lon": str(point[0]), "lat": str(point[1]),
                              "photos": (io.BytesIO(jpeg(lon=point[0], lat=point[1], taken=day, colour=colour)),
                                         "marker.jpg")})
        assert r.status_code == 201, r.get_json()
        ids[f"marker:{code}"] = r.get_json()["id"]
    # an inspection of a section with a photo, a track, a threat, a follow-up and a marker check
    section_markers = client.get("/api/sections/GZS-0001/markers", headers=bearer("field")).get_json()["markers"]
    record = {"date": now.date().isoformat(), "condition": "poor", "inspectors": ["王磊"],
              "threats": [{"threat": "vegetation", "severity": "low"}],
              "followup": {"description": "clear the shrubs", "due": (now.date() + timedelta(days=30)).isoformat()},
              "markers": [{"marker": section_markers[0]["id"], "condition": "present"}]}
    r = client.post("/api/sections/GZS-0001/inspections", headers=bearer("expert"), content_type="multipart/form-data",
                    data={"record": json.dumps(record),
                          "track": (io.BytesIO(gpx_xml([(106.40, 25.40), (106.401, 25.402)])), "patrol.gpx"),
                          "photos": (io.BytesIO(jpeg(taken=day, colour=(200, 200, 0))), "beds.jpg")})
    assert r.status_code == 201, r.get_json()
    ids["inspection"] = r.get_json()["id"]
    # a rescue case with a photo
    r = client.post("/api/rescues", headers=bearer("expert"), content_type="multipart/form-data", data={
        "data": json.dumps({"source": "construction", "reported_by": "road project section 3",
                            "point": [106.61, 25.55], "reported_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "description": "bones in a cutting"}),
        "photos": (io.BytesIO(jpeg(lon=106.61, lat=25.55, taken=day, colour=(0, 200, 200))), "cutting.jpg")})
    assert r.status_code == 201, r.get_json()
    ids["rescue"] = r.get_json()["id"]
    r = client.post(f"/api/rescues/{ids['rescue']}/events", headers=bearer("expert"),
                    json={"kind": "officials_on_site", "done_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert r.status_code == 201, r.get_json()
    # a proposal with an attachment
    r = client.post("/api/sites/GZ-0003/revisions", headers=bearer("field"), content_type="multipart/form-data",
                    data={"base_version": "1", "reason": "new outcrop photo", "location": "25.9025, 105.5855",
                          "attachments": (io.BytesIO(jpeg(colour=(90, 90, 90))), "outcrop.jpg")})
    assert r.status_code == 201, r.get_json()
    ids["revision"] = r.get_json()["id"]
    ids["attachment"] = r.get_json()["attachments"][0]["url"]
    # a field kit, a saved screening with a project case, an import
    ids["kit"], folder = checkout(client, tmp_path, county="Guanling", basemap=False)
    ogr_sql(folder / "fieldkit.gpkg", "UPDATE site_locations SET age = 'Norian' "
                                      "WHERE code = (SELECT min(code) FROM site_locations)")
    r = checkin(client, ids["kit"], (folder / "fieldkit.gpkg").read_bytes())
    assert r.status_code == 201, r.get_json()
    road = {"type": "LineString", "coordinates": [[105.30, 25.85], [105.40, 25.89], [105.50, 25.80]]}
    r = client.post("/api/impact", json={"footprint": road, "width_m": 30, "save": True, "title": "G320"},
                    headers=bearer("expert"))
    assert r.status_code in (200, 201), r.get_json()
    ids["screening"] = r.get_json()["screening_id"]
    r = client.post(f"/api/impact/screenings/{ids['screening']}/cases", headers=bearer("expert"),
                    json={"name": "Quarry extension"})
    assert r.status_code == 201, r.get_json()
    ids["case"] = r.get_json()["fid"]
    body = imported(client, geojson([({"code": "GZ-0013", "name": "剑河八郎苗板坡化石点"},
                                      MultiPolygon([box(108.37, 26.76, 108.40, 26.78)]))]), "sites.geojson")
    ids["import"] = body["id"]
    return ids


@pytest.fixture(scope="module")
def world(tmp_path_factory, demo_registry_template):
    data_dir = demo_copy(tmp_path_factory, demo_registry_template, "file-rights")
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "test-secret"})
    client = app.test_client()
    ids = _populate(client, datetime.now(timezone.utc) - timedelta(hours=2), data_dir.parent)
    photos = {}  # record -> (the API request that reads it, the sha256 of its photo)
    for name, url in (("report", f"/api/reports/{ids['report']}"),
                      ("inspection", f"/api/inspections/{ids['inspection']}"),
                      ("rescue", f"/api/rescues/{ids['rescue']}"),
                      ("marker:GZ-0001", "/api/sites/GZ-0001/markers"), ("marker:GZ-0004", "/api/sites/GZ-0004/markers")):
        answer = client.get(url, headers=bearer("admin")).get_json()
        found = answer["photos"] if "photos" in answer else next(
            m["photos"] for m in answer["markers"] if m["id"] == ids[name])
        [photo] = found
        photos[name] = (url, photo["sha256"])
    return SimpleNamespace(app=app, client=client, ids=ids, photos=photos, path=registry.registry_path(data_dir), tmp=data_dir.parent)


def _api_gives(world, role, url: str, needle: str | None = None) -> bool:
    r = world.client.get(url.format(**world.ids), headers=_headers(role))
    return r.status_code == 200 and (needle is None or needle in r.get_data(as_text=True))


def _download(world, role, name: str) -> Path:
    r = world.client.get("/api/downloads/registry.gpkg", headers=_headers(role))
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    path = world.tmp / name
    path.write_bytes(r.data)
    return path


# ------------------------------------------------------------------------------------------------ registry.gpkg
def test_every_table_is_probed(world):
    """Every table of the registry is infrastructure, private, or has the API request that reads it: a new table makes
    this test say that its rights must be decided (the download leaves it out until then)."""
    tables = _table_names(world.path)
    assert tables - INFRASTRUCTURE - set(store.private_tables()) == set(PROBES)
    for table in PROBES:
        assert _count(world.path, table) > 0, f"the world has no record in {table}: the comparison would be empty"


@pytest.mark.parametrize("role", ["field", "expert", "admin"])
def test_the_registry_download_gives_each_role_exactly_the_tables_and_records_its_api_gives(world, role):
    path = _download(world, role, f"registry-{role}.gpkg")
    tables = _table_names(path)
    expected = INFRASTRUCTURE | {t for t, url in PROBES.items() if url and _api_gives(world, role, url)}
    photos = {sha for url, sha in world.photos.values() if _api_gives(world, role, url, sha)}
    if photos:
        expected.add("evidence_photos")
    assert tables == expected, (sorted(tables - expected), sorted(expected - tables))
    for table in tables - {"evidence_photos", "registry_meta", "registry_migrations"} - INFRASTRUCTURE:
        assert _count(path, table) == _count(world.path, table), table  # every record the API lists
    assert _photo_shas(path) == photos
    assert registry.validate_geopackage(path) == []
    # what each role's API gives, so that the comparison above cannot pass on an empty world
    held = {"field": {"revisions", "rescue_cases", "impact_cases", "fieldkit_kits", "inspections"},
            "expert": {"public_reports"}, "admin": {"audit_log", "imports", "import_rows"}}
    for other, names in held.items():
        if ROLES.index(other) <= ROLES.index(role):
            assert names <= tables, (role, names - tables)
        else:
            assert not names & tables, (role, names & tables)
    assert (world.photos["report"][1] in photos) == (role != "field")


def test_field_accounts_find_no_audit_trail_reports_or_imports_in_the_registry_download(world):
    """The review's leak: a field token's registry.gpkg held the whole audit trail, the public reports' points and
    matched sites, and the import tables. Read as bytes: nothing of them survives in free pages either."""
    path = _download(world, "field", "registry-field-leak.gpkg")
    raw = path.read_bytes()
    assert not _table_names(path) & {"audit_log", "public_reports", "imports", "import_rows"}
    assert b"account.create" not in raw and b"token.issue" not in raw and b"sites.geojson" not in raw
    for value in REPORT_POINT:
        assert struct.pack("<d", value) not in raw, value
    assert world.photos["report"][1].encode() not in raw
    admin = _download(world, "admin", "registry-admin-leak.gpkg").read_bytes()
    assert b"account.create" in admin and struct.pack("<d", REPORT_POINT[0]) in admin  # the check can fail


def test_anonymous_callers_get_the_public_view_only(world):
    path = _download(world, None, "registry-public.gpkg")
    assert {t for t in _table_names(path) if not t.startswith("gpkg_")} == {"sites", "sections", "section_points",
                                                                            "boundaries", "markers", "about"}


def test_a_table_without_a_rule_is_left_out_of_every_download(app, client, tmp_path):
    """Deny by default: a table someone adds to the registry (registered as a GeoPackage layer) reaches no download
    until access.TABLES says who may read it; the file stays a valid GeoPackage."""
    con = sqlite3.connect(app.config["REGISTRY"])
    con.executescript("""
        CREATE TABLE survey_notes (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, note TEXT);
        INSERT INTO survey_notes (note) VALUES ('the owner keeps the slabs in his barn');
        INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('survey_notes', 'attributes', 'notes');
    """)
    con.close()
    r = client.get("/api/downloads/registry.gpkg", headers=bearer("admin"))
    path = tmp_path / "admin.gpkg"
    path.write_bytes(r.data)
    assert "survey_notes" not in _table_names(path) and b"his barn" not in r.data
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM gpkg_contents WHERE table_name = 'survey_notes'").fetchone()[0] == 0
    con.close()
    assert registry.validate_geopackage(path) == []


@pytest.mark.both_backends
def test_each_role_gets_its_own_share_of_the_registry_on_either_backend(app, client, tmp_path):
    """On PostGIS the export is the registry copied into a GeoPackage first, then narrowed alike."""
    for role, share in (("field", {"site_locations", "revisions"}), ("expert", {"public_reports"}),
                        ("admin", {"audit_log", "imports"})):
        r = client.get("/api/downloads/registry.gpkg", headers=bearer(role))
        assert r.status_code == 200
        path = tmp_path / f"{role}.gpkg"
        path.write_bytes(r.data)
        tables = _table_names(path)
        assert share <= tables and (role == "admin") == ("audit_log" in tables), (role, sorted(tables))
        assert (role == "field") == ("public_reports" not in tables)
        assert registry.validate_geopackage(path) == []


# ------------------------------------------------------------------------------------------------ photo routes
@pytest.mark.parametrize("role", ROLES)
def test_every_photo_route_serves_a_photo_only_to_who_may_read_its_record(world, role):
    client, ids, headers = world.client, world.ids, _headers(role)
    for record, (url, sha) in world.photos.items():
        gives = _api_gives(world, role, url, sha)
        for kind in ("original", "thumb", "display"):
            r = client.get(f"/photos/{sha}/{kind}", headers=headers)
            want = 401 if role is None else (200 if gives else 404)
            assert r.status_code == want, (record, kind, r.status_code)
        for marker in ("marker:GZ-0001", "marker:GZ-0004"):
            r = client.get(f"/markers/{ids[marker]}/photos/{sha}", headers=headers)
            assert r.status_code == (200 if record == marker and gives else 404), (record, marker, r.status_code)
        r = client.get(f"/report/{ids['receipt']}/photos/{sha}.jpg", headers=headers)
        assert r.status_code == (200 if record == "report" else 404), (record, r.status_code)  # the receipt's holder
    # the original of a reporter's photo carries its EXIF position: the review's case
    report_sha = world.photos["report"][1]
    original = client.get(f"/photos/{report_sha}/original", headers=headers)
    assert (original.status_code == 200) == (role in ("expert", "admin"))
    assert _api_gives(world, role, world.photos["marker:GZ-0001"][0], world.photos["marker:GZ-0001"][1])
    assert _api_gives(world, role, world.photos["marker:GZ-0004"][0], world.photos["marker:GZ-0004"][1]) == \
        (role is not None)
    # a proposal's attachment: for those who may read the proposal
    r = client.get(ids["attachment"], headers=headers)
    gives = _api_gives(world, role, "/api/revisions/{revision}")
    assert r.status_code == (200 if gives else 401 if role is None else 403)
    assert gives == (role is not None)
