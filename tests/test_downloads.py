"""Downloads (/downloads, /api/downloads): every format read back by GDAL (pyogrio) with the CRS asked for, the right
count and attributes (Chinese intact); the public view for anonymous callers (no protected coordinate in any file, and
the same check finding them in staff files); the Shapefile's renamed fields and cut values; GeoPackages through GDAL's
validator, without private tables; bad requests (400/401/404 naming the parameter) leaving nothing behind; the cache
per registry state; the page; GDAL reading the served registry over HTTP."""
from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import requests
import shapely
from shapely.geometry import Point

from fossil_registry import create_app, downloads, public_view, sites, store
from fossil_registry.db import get_conn
from fossil_registry.registry import validate_geopackage

from .conftest import TOKENS, bearer
from .inspection_helpers import gpx_by_gdal
from .leaks import every_feature
from .served import served_registry  # noqa: F401  (pytest fixture)
from .test_public_leaks import _assert_no_leaks

API = "/api/downloads/"
CRS84 = pyproj.CRS("OGC:CRS84")
FORMATS = list(downloads.FORMATS)
TEXT_FORMATS = ("geojson", "kml", "csv")


def _current(app) -> list[sites.Site]:
    with app.app_context():
        return sorted(sites.list_current(get_conn()), key=lambda s: s.code)


def _public(app) -> list[public_view.PublicSite]:
    with app.app_context():
        return sorted(public_view.list_public(get_conn()), key=lambda p: p.code)


def _save(tmp_path, response, name: str):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    path = tmp_path / name
    path.write_bytes(response.data)
    return path


def _read(tmp_path, response, ext: str):
    """The download read back by GDAL, as a GeoDataFrame (KML and KMZ by GDAL's LIBKML driver, the default). GDAL
    reads a KMZ's placemarks, names and descriptions, but its typed attributes (ExtendedData) only from the KML
    inside: both are checked to agree."""
    path = _save(tmp_path, response, f"download.{ext}")
    frame, info = pyogrio.read_dataframe(path), pyogrio.read_info(path)
    if ext == "kmz":
        inside = pyogrio.read_dataframe(f"/vsizip/{path}/doc.kml")
        assert list(inside["Name"]) == list(frame["Name"]) and list(inside["description"]) == list(frame["description"])
        assert inside.geometry.geom_equals(frame.geometry).all()
        frame = inside
    return frame, info


def _crs_is(info_crs: str, asked: str) -> bool:
    """The file's CRS is the one asked for: the same EPSG code, or CRS84 (GDAL may call it EPSG:4326 lon/lat)."""
    if asked == "CRS84":
        return pyproj.CRS(info_crs).equals(CRS84, ignore_axis_order=True)
    return info_crs == asked


def _xy(geom_lonlat, asked: str) -> tuple[float, float]:
    if asked in ("CRS84", "EPSG:4490"):
        return geom_lonlat.x, geom_lonlat.y
    return pyproj.Transformer.from_crs("EPSG:4490", asked, always_xy=True).transform(geom_lonlat.x, geom_lonlat.y)


def _code_column(frame) -> str:
    return "code" if "code" in frame.columns else "id"


# ------------------------------------------------------------------------------------------------------ every format
@pytest.mark.parametrize("asked", ["EPSG:4490", "EPSG:4544", "CRS84"])
@pytest.mark.parametrize("ext", FORMATS)
def test_every_format_reads_back_with_the_crs_count_and_attributes(app, client, tmp_path, ext, asked):
    if ext in ("kml", "kmz") and asked != "CRS84":
        assert client.get(f"{API}sites.{ext}?crs={asked}").status_code == 400
        asked_query = ""
        asked = "CRS84"
    else:
        asked_query = f"?crs={asked}"
    everything = _current(app)
    r = client.get(f"{API}sites.{ext}{asked_query}", headers=bearer("field"))
    frame, info = _read(tmp_path, r, ext)
    assert _crs_is(info["crs"], asked), (ext, info["crs"])
    assert len(frame) == len(everything) == int(r.headers["X-Feature-Count"])
    columns = {c.lower(): c for c in frame.columns}
    code = columns.get("code")
    assert code is not None, frame.columns
    rows = {row[code]: row for _, row in frame.iterrows()}
    assert sorted(rows) == [s.code for s in everything]
    name = columns.get("name")
    for s in everything:
        row = rows[s.code]
        assert row[name] == s.properties["name"]                      # Chinese intact
        assert row["level"] == s.properties["level"]
        groups = row[columns.get("fossil_groups") or columns["fossil_grp"]]
        assert groups == ";".join(s.properties["fossil_groups"])
        x, y = _xy(s.location, asked)
        tolerance = 1e-6 if asked in ("CRS84", "EPSG:4490") else 0.01
        assert row.geometry.x == pytest.approx(x, abs=tolerance) and row.geometry.y == pytest.approx(y, abs=tolerance)
    some = next(s for s in everything if s.properties.get("description"))
    text = rows[some.code][columns.get("description") or columns["descr"]]
    if ext in ("kml", "kmz"):
        assert some.properties["description"] in text and "名称 name" in text   # the attributes in the balloon
    else:
        assert text == some.properties["description"]


@pytest.mark.parametrize("ext", FORMATS)
def test_boundaries_in_every_format(app, client, tmp_path, ext):
    bounded = [s for s in _current(app) if s.boundary is not None]
    asked = "CRS84" if ext in ("kml", "kmz") else "EPSG:4545"
    r = client.get(f"{API}boundaries.{ext}" + ("" if asked == "CRS84" else f"?crs={asked}"), headers=bearer("field"))
    frame, info = _read(tmp_path, r, ext)
    assert _crs_is(info["crs"], asked)
    assert len(frame) == len(bounded)
    if ext == "shp.zip":  # a Shapefile knows only polygons (of one or more parts)
        assert info["geometry_type"] == "Polygon" and set(frame.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    else:
        assert info["geometry_type"] in ("MultiPolygon", "Unknown") and set(frame.geometry.geom_type) == {"MultiPolygon"}
    by_code = dict(zip(frame["code"], frame.geometry))
    to_file = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4545" if asked != "CRS84" else "OGC:CRS84",
                                          always_xy=True)
    for s in bounded:
        expected = shapely.transform(s.boundary, lambda xy: np.column_stack(to_file.transform(xy[:, 0], xy[:, 1])))
        resolution = 1e-7 if asked == "CRS84" else 1e-3  # text formats round to ~1 cm / 1 mm
        assert by_code[s.code].hausdorff_distance(expected) <= resolution, s.code
        assert by_code[s.code].area == pytest.approx(expected.area, rel=1e-5)


def test_kml_names_placemarks_in_chinese_and_kmz_holds_the_same(client, app, tmp_path):
    r = client.get(f"{API}sites.kml")
    assert r.mimetype == "application/vnd.google-earth.kml+xml"
    text = r.data.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="utf-8" ?>')
    first = _public(app)[0]
    assert f"<name>{first.properties['name']}</name>" in text
    kmz = client.get(f"{API}sites.kmz")
    with zipfile.ZipFile(io.BytesIO(kmz.data)) as zf:
        assert zf.namelist() == ["doc.kml"]
        assert zf.read("doc.kml").decode("utf-8").count("<Placemark") == text.count("<Placemark") == len(_public(app))
    assert len(kmz.data) < len(r.data) / 3


def test_csv_is_utf8_with_bom_wkt_named_by_crs_and_formula_cells_neutralised(app, client, tmp_path):
    with app.app_context():
        sites.create_site(get_conn(), code="GZ-9001", properties={
            "name": "=HYPERLINK(\"http://evil.example\")", "level": "general", "sensitivity": "open",
            "period": "Triassic", "fossil_groups": ["crinoids"]}, location=Point(105.5, 25.9), boundary=None,
            author="tester", reason="csv test")
    r = client.get(f"{API}sites.csv?crs=EPSG:4544", headers=bearer("field"))
    assert r.mimetype == "text/csv" and r.data.startswith(b"\xef\xbb\xbf")
    header = r.data.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[-3:] == ["easting", "northing", "_WKT_EPSG_4544"]
    assert "'=HYPERLINK" in r.data.decode("utf-8")
    frame, info = _read(tmp_path, r, "csv")
    assert info["crs"] == "EPSG:4544" and frame.loc[frame["code"] == "GZ-9001", "name"].item().startswith("'=")
    lonlat = client.get(f"{API}boundaries.csv", headers=bearer("field")).data.decode("utf-8-sig")
    assert lonlat.splitlines()[0].endswith(",_WKT_EPSG_4490") and "MULTIPOLYGON" in lonlat


def test_flatgeobuf_has_a_spatial_index(client, tmp_path):
    path = _save(tmp_path, client.get(f"{API}boundaries.fgb"), "b.fgb")
    info = pyogrio.read_info(path)
    assert info["capabilities"]["fast_spatial_filter"] is True
    inside = pyogrio.read_dataframe(path, bbox=(105.3, 25.8, 105.5, 26.0))
    assert 0 < len(inside) < info["features"]


def test_filters_and_bbox_select_features(app, client, tmp_path):
    everything = _current(app)
    national = [s.code for s in everything if s.properties["level"] == "national"]
    frame, _ = _read(tmp_path, client.get(f"{API}sites.gpkg?level=national", headers=bearer("field")), "gpkg")
    assert sorted(frame["code"]) == national
    box = (105.3, 25.8, 105.6, 26.0)
    inside = [s.code for s in everything if box[0] <= s.location.x <= box[2] and box[1] <= s.location.y <= box[3]]
    assert inside
    frame, _ = _read(tmp_path, client.get(f"{API}sites.geojson?bbox={','.join(map(str, box))}",
                                          headers=bearer("field")), "geojson")
    assert sorted(frame["code"]) == inside
    # the same box in CGCS2000 latitude, longitude order (bbox-crs EPSG:4490)
    swapped = f"{box[1]},{box[0]},{box[3]},{box[2]}"
    frame, _ = _read(tmp_path, client.get(f"{API}sites.fgb?bbox={swapped}&bbox-crs=EPSG:4490",
                                          headers=bearer("field")), "fgb")
    assert sorted(frame["code"]) == inside


# ------------------------------------------------------------------------------------------------------ headers
def test_file_names_carry_the_day_and_a_chinese_name_on_chinese_pages(client):
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    r = client.get(f"{API}sites.gpkg?crs=EPSG:4545")
    assert r.headers["Content-Disposition"].startswith(
        f'attachment; filename="fossil-sites-public-epsg4545-{day}.gpkg"; filename*=UTF-8\'\'')
    assert r.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4545>"
    assert int(r.headers["Content-Length"]) == len(r.data)
    zh = client.get(f"{API}registry.gpkg?lang=zh", headers=bearer("field"))
    disposition = zh.headers["Content-Disposition"]
    assert f'filename="fossil-registry-{day}.gpkg"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"化石点登记册-{day}.gpkg"


def test_kept_downloads_answer_conditional_and_range_requests(client):
    r = client.get(f"{API}sites.fgb")
    etag = r.headers["ETag"]
    assert r.headers["Accept-Ranges"] == "bytes"
    assert client.get(f"{API}sites.fgb", headers={"If-None-Match": etag}).status_code == 304
    part = client.get(f"{API}sites.fgb", headers={"Range": "bytes=8-107"})
    assert part.status_code == 206 and part.data == r.data[8:108]
    assert "ETag" not in client.get(f"{API}sites.fgb?level=national").headers  # made for this request only


# ------------------------------------------------------------------------------------------------------ public view
def test_anonymous_downloads_are_exactly_the_public_view(app, client, tmp_path):
    shown = _public(app)
    frame, info = _read(tmp_path, client.get(f"{API}sites.gpkg"), "gpkg")
    assert info["crs"] == "EPSG:4490" and list(frame["code"]) == [p.code for p in shown]
    for (_, row), p in zip(frame.iterrows(), shown):
        assert row.geometry.equals_exact(p.location, 1e-9)
        assert bool(row["generalized"]) == p.generalized
        for key in ("description", "public_description"):  # a generalized site's internal description: empty
            assert (None if pd.isna(row[key]) else row[key]) == p.properties.get(key), (p.code, key)
        assert not p.generalized or pd.isna(row["description"])
    assert "updated_at" not in frame.columns and "sensitivity" not in pyogrio.read_dataframe(
        _save(tmp_path, client.get(f"{API}boundaries.gpkg"), "b.gpkg")).columns
    hidden = [s.code for s in _current(app) if s.sensitivity == "hidden"]
    assert hidden and not set(hidden) & set(frame["code"])
    bounded = pyogrio.read_dataframe(_save(tmp_path, client.get(f"{API}boundaries.shp.zip"), "b.shp.zip"))
    assert sorted(bounded["code"]) == sorted(p.code for p in shown if p.boundary is not None)


def _dump(tmp_path, response, ext: str) -> str:
    """Everything a download holds as text, coordinates in lon/lat to 6 decimals (~10 cm): what the leak check reads."""
    frame, info = _read(tmp_path, response, ext)
    if frame.crs is not None and frame.crs.to_epsg() not in (4490, 4326, None):
        frame = frame.to_crs("EPSG:4490")
    frame = frame.set_geometry(shapely.set_precision(frame.geometry.values, 1e-6))
    return frame.to_json(default=str)


def _binary_urls() -> list[tuple[str, str]]:
    out = []
    for layer in ("sites", "boundaries"):
        for ext in FORMATS:
            out.append((f"{API}{layer}.{ext}", ext))
            if ext not in ("kml", "kmz"):
                out.append((f"{API}{layer}.{ext}?crs=EPSG:4544", ext))
    return out


def test_no_anonymous_download_carries_a_protected_sites_true_location(app, client, tmp_path):
    with app.app_context():  # sites and sections: an open section's published line counts as public
        everything = every_feature(get_conn())
    bodies = [(url, 200, _dump(tmp_path, client.get(url), ext)) for url, ext in _binary_urls()]
    path = _save(tmp_path, client.get(f"{API}registry.gpkg"), "public.gpkg")
    layers = ["sites", "sections", "section_points", "boundaries", "markers"]  # every kind of feature (and its
    # points), the boundaries, the markers
    assert [name for name, _ in pyogrio.list_layers(path)] == [*layers, "about"]
    for layer in layers:
        bodies.append(("registry.gpkg", 200, pyogrio.read_dataframe(path, layer=layer).to_json(default=str)))
    secret = [s for s in everything if s.sensitivity != "open"]
    for s in secret[:6]:  # areas around the true locations select on the public geometry only
        x, y = s.location.x, s.location.y
        for ext in ("gpkg", "csv"):
            url = f"{API}sites.{ext}?bbox={x - 0.01},{y - 0.01},{x + 0.01},{y + 0.01}"
            r = client.get(url)
            bodies.append((url, 200, _dump(tmp_path, r, ext) if len(r.data) and r.status_code == 200 else ""))
    assert len(bodies) >= 38
    _assert_no_leaks(bodies, everything)


def test_the_leak_check_finds_the_true_locations_in_staff_downloads(app, client, tmp_path):
    everything = _current(app)
    for url, ext in (f"{API}sites.fgb", "fgb"), (f"{API}boundaries.shp.zip?crs=EPSG:4544", "shp.zip"):
        staff = [(url, 200, _dump(tmp_path, client.get(url, headers=bearer("field")), ext))]
        with pytest.raises(AssertionError):
            _assert_no_leaks(staff, everything)
        _assert_no_leaks([(url, 200, _dump(tmp_path, client.get(url), ext))], everything)


# ------------------------------------------------------------------------------------------------------ Shapefile
def test_shapefile_zip_says_which_field_names_were_shortened_and_which_values_cut(app, client, tmp_path):
    long_text = "关岭生物群的海百合化石层，" * 30  # ~1,170 bytes of UTF-8
    with app.app_context():
        sites.create_site(get_conn(), code="GZ-9002", properties={
            "name": "长描述化石点", "level": "general", "sensitivity": "open", "period": "Triassic",
            "fossil_groups": ["crinoids"], "description": long_text}, location=Point(105.5, 25.9), boundary=None,
            author="tester", reason="shapefile test")
    r = client.get(f"{API}sites.shp.zip", headers=bearer("field"))
    assert r.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        assert sorted(zf.namelist()) == ["README.txt", "sites.cpg", "sites.dbf", "sites.prj", "sites.shp",
                                         "sites.shx"]
        assert zf.read("sites.cpg").decode().strip() == "UTF-8"
        assert "CGCS2000" in zf.read("sites.prj").decode() or "China" in zf.read("sites.prj").decode()
        readme = zf.read("README.txt").decode("utf-8")
    assert "description -> descr" in readme and "fossil_groups -> fossil_grp" in readme
    assert "description (descr): 1" in readme
    assert r.headers["X-Shapefile-Cut"] == "description=1"
    renamed = dict(pair.split("=") for pair in r.headers["X-Shapefile-Renamed"].split(", "))
    listing = client.get("/api/downloads", headers=bearer("field")).get_json()
    sites_entry = next(la for la in listing["layers"] if la["id"] == "sites")
    assert sites_entry["shapefile_fields"] == renamed and renamed["sensitivity"] == "sensitiv"
    frame, _ = _read(tmp_path, r, "shp.zip")
    assert all(len(c) <= 10 for c in frame.columns)
    cut = frame.loc[frame["code"] == "GZ-9002", "descr"].item()
    assert long_text.startswith(cut) and 250 <= len(cut.encode()) <= 254
    whole, _ = _read(tmp_path, client.get(f"{API}sites.csv", headers=bearer("field")), "csv")
    assert whole.loc[whole["code"] == "GZ-9002", "description"].item() == long_text


def test_shapefile_names_are_unique_and_short():
    columns = ["description", "description_en", "descriptive_x", "descriptive_y", "fossil_groups", "name"]
    names = downloads.shapefile_names(columns)
    assert set(names) == {"description", "description_en", "descriptive_x", "descriptive_y", "fossil_groups"}
    assert len(set(names.values())) == len(names) and all(len(v) <= 10 for v in names.values())
    assert "name" not in names.values()


# ------------------------------------------------------------------------------------------------------ GeoPackages
@pytest.mark.parametrize("who", ["anonymous", "field"])
def test_geopackages_pass_gdals_validator_and_hold_no_private_table(client, tmp_path, who):
    headers = bearer(who) if who != "anonymous" else {}
    for url in (f"{API}sites.gpkg", f"{API}boundaries.gpkg?crs=EPSG:4497", f"{API}registry.gpkg"):
        path = _save(tmp_path, client.get(url, headers=headers), "check.gpkg")
        assert validate_geopackage(path) == [], url
        conn = store.connect(path, readonly=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
        assert not tables & set(store.private_tables()), url
    if who == "field":  # the whole registry for staff: the shareable export of what their API gives them (no audit
        assert {"site_locations", "site_versions", "inspections"} <= tables  # trail: test_file_rights.py)
        assert "audit_log" not in tables
    else:
        assert "site_versions" not in tables and "audit_log" not in tables


# ------------------------------------------------------------------------------------------------------ staff layers
def test_staff_download_inspections_and_patrol_tracks(app, client, tmp_path):
    site = _current(app)[0]
    x, y = site.location.x, site.location.y
    track = gpx_by_gdal(tmp_path, [(x, y), (x + 0.01, y + 0.005), (x + 0.02, y)])
    r = client.post(f"/api/sites/{site.code}/inspections", headers=bearer("expert"), content_type="multipart/form-data",
                    data={"date": "2024-05-01", "condition": "poor", "inspectors": "ellen, 王磊", "lon": str(x),
                          "lat": str(y), "track": (io.BytesIO(track), "patrol.gpx")})
    assert r.status_code == 201, r.get_json()
    for url in (f"{API}inspections.gpkg", f"{API}patrol-tracks.shp.zip"):
        assert client.get(url).status_code == 401
    frame, info = _read(tmp_path, client.get(f"{API}inspections.csv?crs=EPSG:4544", headers=bearer("field")), "csv")
    assert info["crs"] == "EPSG:4544" and len(frame) == 1
    assert frame["site"][0] == site.code and "王磊" in frame["inspectors"][0] and frame["condition"][0] == "poor"
    frame, info = _read(tmp_path, client.get(f"{API}patrol-tracks.gpkg", headers=bearer("field")), "gpkg")
    assert info["crs"] == "EPSG:4490" and list(frame.geometry.geom_type) == ["MultiLineString"]
    assert frame["site"][0] == site.code and frame["name"][0] == "patrol"  # the track name in the GPX
    listing = client.get("/api/downloads", headers=bearer("field")).get_json()
    assert [la["id"] for la in listing["layers"]] == ["sites", "sections", "section-points", "boundaries",
                                                      "markers", "inspections", "patrol-tracks", "registry"]
    assert listing["audience"] == "staff"
    anonymous = client.get("/api/downloads").get_json()
    assert [la["id"] for la in anonymous["layers"]] == ["sites", "sections", "section-points", "boundaries", "markers",
                                                        "registry"]
    assert anonymous["audience"] == "public" and "generalized" in anonymous["layers"][0]["fields"]


# ------------------------------------------------------------------------------------------------------ bad requests
@pytest.mark.parametrize("url, status, parameter", [
    ("nowhere.gpkg", 404, "layer"),
    ("sites.xlsx", 404, "format"),
    ("sites", 404, "format"),
    ("registry.csv", 404, "format"),
    ("sites.gpkg?crs=EPSG:3857", 400, "crs"),
    ("sites.kml?crs=EPSG:4544", 400, "crs"),
    ("sites.kmz?crs=EPSG:4490", 400, "crs"),
    ("sites.csv?crs=EPSG:4490&crs=EPSG:4544", 400, "crs"),
    ("sites.gpkg?bbox=105,25,104,26", 400, "bbox"),
    ("sites.gpkg?bbox=a,b,c,d", 400, "bbox"),
    ("sites.gpkg?bbox=105,25,106", 400, "bbox"),
    ("sites.gpkg?bbox-crs=EPSG:4490", 400, "bbox-crs"),
    ("sites.gpkg?limit=10", 400, "limit"),
    ("boundaries.fgb?county=x", 400, "county"),
    ("registry.gpkg?crs=EPSG:4544", 400, "crs"),
    ("registry.gpkg?bbox=105,25,106,26", 400, "bbox"),
])
def test_bad_requests_name_the_parameter_and_leave_nothing_behind(tmp_path, demo_data_dir, url, status, parameter):
    work = tmp_path / "work"
    work.mkdir()
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x",
                      "DOWNLOADS_TMP_DIR": str(work)})
    r = app.test_client().get(API + url)
    assert r.status_code == status and r.mimetype == "application/problem+json"
    assert r.get_json()["parameter"] == parameter, r.get_json()
    assert list(work.iterdir()) == [] and not (demo_data_dir / "cache").exists()


def test_a_failed_write_leaves_nothing_behind(tmp_path, demo_data_dir, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x",
                      "DOWNLOADS_TMP_DIR": str(work)})
    client = app.test_client()
    assert client.get(f"{API}sites.csv?level=national").status_code == 200
    assert list(work.iterdir()) == []  # sent files are gone from the work directory at once
    from fossil_registry.downloads import writers

    def half_written(table, wanted, directory, about):
        (directory / "download.gpkg").write_bytes(b"half a file")
        raise OSError("disk full")
    monkeypatch.setitem(writers.WRITERS, "gpkg", half_written)
    r = client.get(f"{API}sites.gpkg")
    assert r.status_code == 500 and r.mimetype == "application/problem+json" and "disk" not in r.get_data(as_text=True)
    assert list(work.iterdir()) == []
    assert not list((demo_data_dir / "cache" / "downloads").glob("*.gpkg"))


# ------------------------------------------------------------------------------------------------------ cache
def test_whole_layers_are_kept_per_registry_state_and_a_change_shows_at_once(app, client, demo_data_dir, tmp_path):
    cache = demo_data_dir / "cache" / "downloads"
    first = client.get(f"{API}sites.gpkg", headers=bearer("field"))
    assert len(list(cache.glob("*.gpkg"))) == 1
    again = client.get(f"{API}sites.gpkg", headers=bearer("field"))
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    client.get(f"{API}sites.gpkg?bbox=105,25,106,26", headers=bearer("field"))
    client.get(f"{API}registry.gpkg", headers=bearer("field"))  # the export: every table, never kept
    assert len(list(cache.glob("*.gpkg"))) == 1
    with app.app_context():
        conn = get_conn()
        old = sites.current(conn, "GZ-0001")
        moved = Point(old.location.x + 0.001, old.location.y)
        sites.change_site(conn, "GZ-0001", base_version=old.version, location=moved, author="alice", reason="RTK")
    after = client.get(f"{API}sites.gpkg", headers=bearer("field"))
    assert after.headers["ETag"] != first.headers["ETag"]
    frame, _ = _read(tmp_path, after, "gpkg")
    row = frame.loc[frame["code"] == "GZ-0001"]
    assert row.geometry.item().equals_exact(moved, 1e-9) and row["version"].item() == old.version + 1


def test_a_release_that_changes_the_public_rules_serves_no_file_kept_before_it(client, demo_data_dir, monkeypatch):
    """Kept files are keyed by the registry's public stamp, which a new release does not move: a release that changed
    what the public may read (issue 22: internal descriptions of generalized sites withheld) went on serving the files
    kept by the release before it. The key holds a digest of the code that writes them."""
    from fossil_registry.downloads import cache as kept

    first = client.get(f"{API}sites.geojson")
    monkeypatch.setattr(kept, "_CODE_DIGEST", "another-release")
    client.get(f"{API}sites.geojson")
    assert len(list((demo_data_dir / "cache" / "downloads").glob("*.geojson"))) == 2, "the old file was served"
    assert first.status_code == 200


def test_the_cache_keeps_to_its_size_least_recently_used_first(tmp_path):
    from fossil_registry.downloads.cache import Cache

    cache = Cache(tmp_path / "cache", max_bytes=2500)
    for i, name in enumerate(("a" * 40, "b" * 40, "c" * 40)):
        def build(i=i):
            built = tmp_path / f"built-{i}.bin"
            built.write_bytes(bytes(1000))
            return built, {"count": i}
        entry = cache.get_or_put(name, "bin", build)
        assert entry.count == i and entry.path.exists()
        if i == 1:
            assert cache.get("a" * 40, "bin") is not None  # a is now more recently used than b
    assert cache.get("b" * 40, "bin") is None and cache.get("a" * 40, "bin") is not None
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [f"{'a' * 40}.bin", f"{'a' * 40}.json", f"{'c' * 40}.bin", f"{'c' * 40}.json"])


# ------------------------------------------------------------------------------------------------------ page and API
def test_the_downloads_page_in_both_languages(client):
    zh = client.get("/downloads?lang=zh").get_data(as_text=True)
    assert "数据下载" in zh and "公开版" in zh and 'href="/downloads"' in zh  # the nav link
    for ext in FORMATS:
        assert f'href="/api/downloads/sites.{ext}"' in zh
    assert "/api/downloads/inspections" not in zh
    en = client.get("/downloads?lang=en", headers=bearer("field")).get_data(as_text=True)
    assert "exact locations" in en and 'href="/api/downloads/patrol-tracks.gpkg"' in en
    assert "fossil_grp" in en and "EPSG:4544" in en
    assert 'name="viewport"' in en and "css/downloads.css" in en


def test_the_form_downloads_and_says_what_is_wrong(client, tmp_path):
    r = client.get("/downloads/file?layer=boundaries&format=fgb&crs=EPSG:4544&bbox=105.3,25.8,105.6,26.0")
    frame, info = _read(tmp_path, r, "fgb")
    assert info["crs"] == "EPSG:4544" and len(frame) > 0
    r = client.get("/downloads/file?layer=sites&format=kml&crs=EPSG:4544")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and r.mimetype == "text/html" and 'id="downloads-error"' in page and "KML" in page
    assert client.get("/downloads/file?layer=inspections&format=csv").status_code == 401


def test_the_api_is_in_the_openapi_document(client):
    from openapi_spec_validator import validate

    doc = client.get("/ogcapi/api").get_json()
    validate(doc)
    operation = doc["paths"]["/api/downloads/{name}"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"name", "crs", "bbox", "bbox-crs", "level"}
    assert "application/geopackage+sqlite3" in operation["responses"]["200"]["content"]
    assert doc["paths"]["/api/downloads"]["get"]["operationId"] == "getDownloads"


# ------------------------------------------------------------------------------------------------------ GDAL over HTTP
def test_gdal_reads_the_served_downloads_over_http(served_registry):
    """QGIS and ogr2ogr open the download URLs directly: FlatGeobuf by range requests with a bbox, a zipped
    Shapefile through /vsizip/, staff with their API token."""
    url = f"{served_registry.url}{API}"
    inside = pyogrio.read_dataframe(f"/vsicurl/{url}boundaries.fgb", bbox=(105.3, 25.8, 105.5, 26.0))
    everything = pyogrio.read_dataframe(f"/vsicurl/{url}boundaries.fgb")
    assert 0 < len(inside) < len(everything)
    assert pyogrio.read_info(f"/vsicurl/{url}sites.gpkg")["crs"] == "EPSG:4490"
    assert pyogrio.read_info(f"/vsicurl/{url}sites.fgb?crs=EPSG:4544")["crs"] == "EPSG:4544"
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": TOKENS["field"]})
    try:
        inspections = pyogrio.read_dataframe(f"/vsizip//vsicurl/{url}inspections.shp.zip/inspections.shp")
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})
    assert len(inspections) > 0 and inspections.crs.to_epsg() == 4490
    listing = requests.get(f"{served_registry.url}/api/downloads").json()
    assert [la["id"] for la in listing["layers"]] == ["sites", "sections", "section-points", "boundaries", "markers",
                                                      "registry"]
    assert not re.search(r"inspections", json.dumps(listing["layers"]))
