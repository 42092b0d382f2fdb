"""Field kits end to end: check out through the API, edit the kit with GDAL (ogrinfo SQL, ogr2ogr, pyogrio) and with
plain SQLite the way QGIS/QField write it (WAL journal, GDAL's triggers and gpkg_ogr_contents), check in, and read
the proposals the registry made: exactly one per changed site, on the kit's base version, with geodesic figures;
stale ones marked; nothing new on a second check-in."""
from __future__ import annotations

import io
import json
import sqlite3
import zipfile

import pyogrio
import pytest
import shapely
from pyproj import Geod
from shapely.affinity import scale, translate
from shapely.geometry import Point

from fossil_registry import revisions, sites, store
from fossil_registry.db import get_conn
from fossil_registry.registry import validate_geopackage

from .conftest import bearer
from .fieldkit_helpers import (checkin, checkout, counts, gdal_blob, ogr_append, ogr_sql, png, point_feature,
                               qgis_connection, zip_folder)

pytestmark = pytest.mark.both_backends

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid; independent of the app's helpers


def area_m2(geom) -> float:
    return abs(sum(GEOD.geometry_area_perimeter(p)[0] for p in geom.geoms))


def registry_site(app, code):
    with app.app_context():
        return sites.current(get_conn(), code)


def revision(app, rid):
    with app.app_context():
        return revisions.get(get_conn(), rid)


def revision_count(app) -> int:
    with app.app_context():
        return len(revisions.queue(get_conn(), limit=10_000))


# ------------------------------------------------------------------------------------------------------- check out
def test_a_kit_carries_the_chosen_sites_exactly_with_code_base_version_and_a_signed_manifest(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path, county="Guanling")
    assert sorted(p.name for p in folder.iterdir()) == ["DCIM", "README.txt", "fieldkit.gpkg", "fieldkit.qgz"]
    gpkg = folder / "fieldkit.gpkg"
    assert validate_geopackage(gpkg) == []  # GDAL's validator, strict
    assert open(gpkg, "rb").read(100)[18:20] == b"\x01\x01"  # rollback journal: one self-contained file
    layers = {name: kind for name, kind in pyogrio.list_layers(gpkg)}
    assert layers == {"site_locations": "Point", "site_boundaries": "MultiPolygon", "new_finds": "Point",
                      "survey_points": "Point", "section_lines": "LineString", "kit_manifest": None,
                      # geographic context, read-only (tests/test_county_context.py)
                      "context_counties": "MultiPolygon", "context_county_seats": "Point"}
    locations = pyogrio.read_dataframe(gpkg, layer="site_locations")
    assert sorted(locations.code) == ["GZ-0001", "GZ-0002", "GZ-0003", "GZ-0004"]
    for row in locations.itertuples():
        site = registry_site(app, row.code)
        assert row.geometry.equals_exact(site.location, 0)  # exact, the hidden GZ-0004 included: staff only
        assert row.base_version == site.version and row.name == site.properties["name"]
    assert registry_site(app, "GZ-0004").sensitivity == "hidden"
    boundaries = pyogrio.read_dataframe(gpkg, layer="site_boundaries")
    for row in boundaries.itertuples():
        assert row.geometry.equals_exact(registry_site(app, row.code).boundary, 0)
    assert len(pyogrio.read_dataframe(gpkg, layer="new_finds")) == 0
    assert len(pyogrio.read_dataframe(gpkg, layer="survey_points")) == 0
    manifest = dict(sqlite3.connect(gpkg).execute("SELECT key, value FROM kit_manifest").fetchall())
    assert manifest["kit_id"] == kit_id and manifest["issued_by"] == "fiona" and manifest["crs"] == "EPSG:4490"
    assert len(manifest["signature"]) == 64 and json.loads(manifest["area"]) == {"kind": "county", "county": "Guanling"}
    with app.app_context():
        conn = get_conn()
        audit = store.list_audit(conn, action="fieldkit.checkout")
        assert audit[0]["target"] == kit_id and audit[0]["actor"] == "fiona" and audit[0]["detail"]["sites"] == 4
        assert int(manifest["registry_stamp"]) == store.fieldkit.registry_stamp(conn)
    kit = client.get(f"/api/fieldkits/{kit_id}", headers=bearer("field")).get_json()
    assert kit["sites"] == {"GZ-0001": 1, "GZ-0002": 1, "GZ-0003": 1, "GZ-0004": 1} and kit["checkins"] == []
    assert "secret" not in json.dumps(kit)


def test_areas_by_box_and_by_site_codes_and_their_refusals(client, tmp_path):
    _, folder = checkout(client, tmp_path, bbox=[105.35, 25.85, 105.45, 25.95])
    assert sorted(pyogrio.read_dataframe(folder / "fieldkit.gpkg", layer="site_locations").code) == \
        ["GZ-0001", "GZ-0002"]
    _, folder = checkout(client, tmp_path, sites=["GZ-0010", "gz-0011"])
    assert sorted(pyogrio.read_dataframe(folder / "fieldkit.gpkg", layer="site_locations").code) == \
        ["GZ-0010", "GZ-0011"]
    for body, message in (({"sites": ["GZ-9999"]}, "no site with code GZ-9999"),
                          ({"county": "Nowhere"}, "no active site in a county"),
                          ({"bbox": [106, 26, 105, 27]}, "bbox must be"),
                          ({"county": "Guanling", "sites": ["GZ-0001"]}, "exactly one of"),
                          ({}, "exactly one of")):
        r = client.post("/api/fieldkits", json=body, headers=bearer("field"))
        assert r.status_code == 422 and message in r.get_json()["detail"], (body, r.get_json())
    assert client.post("/api/fieldkits", json={"county": "Guanling"}).status_code == 401


def test_the_kit_limit_is_enforced(client, app, tmp_path):
    app.config["FIELDKIT_MAX_SITES"] = 3
    r = client.post("/api/fieldkits", json={"county": "Guanling"}, headers=bearer("field"))
    assert r.status_code == 422 and "at most 3" in r.get_json()["detail"]


# ---------------------------------------------------------------------------------------------- edit with GDAL
def _edit_with_gdal(folder, tmp_path, moved):
    """A location moved, a boundary grown, an attribute changed, a new find: four changes, four tools."""
    gpkg = folder / "fieldkit.gpkg"
    ogr_sql(gpkg, f"UPDATE site_locations SET geom = AsGPB(SetSRID(MakePoint({moved[0]}, {moved[1]}), 4490)), "
                  "method = 'rtk', accuracy_m = 0.05, survey_date = '2026-03-14', surveyor = 'Li Wei', "
                  "note = 'RTK fix at the quarry face' WHERE code = 'GZ-0001'")
    ogr_sql(gpkg, "UPDATE site_locations SET age = 'Carnian, Late Triassic', formation = 'Wayao Member' "
                  "WHERE code = 'GZ-0003'")
    boundaries = pyogrio.read_dataframe(gpkg, layer="site_boundaries", fid_as_index=True)
    grown = boundaries.code == "GZ-0002"
    boundaries.loc[grown, "geometry"] = boundaries.loc[grown, "geometry"].apply(
        lambda g: scale(g, 1.2, 1.2, origin="centroid"))
    boundaries.loc[grown, "method"] = "handheld_gnss"
    pyogrio.write_dataframe(boundaries, gpkg, layer="site_boundaries")  # GDAL rewrites the whole layer
    ogr_append(gpkg, "new_finds", [point_feature(105.47, 25.86, name="岗乌新点", find_id="find-1", level="general",
                                                 period="Triassic", fossil_groups="ichthyosaurs",
                                                 method="handheld_gnss", accuracy_m=4.0)], tmp_path)


def test_four_edits_with_gdal_become_exactly_four_proposals_on_their_base_versions(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    before = {code: registry_site(app, code) for code in ("GZ-0001", "GZ-0002", "GZ-0003")}
    moved = (before["GZ-0001"].location.x + 0.0004, before["GZ-0001"].location.y + 0.0003)
    _edit_with_gdal(folder, tmp_path, moved)
    assert validate_geopackage(folder / "fieldkit.gpkg") == []

    r = checkin(client, kit_id, (folder / "fieldkit.gpkg").read_bytes())
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["counts"] == {"proposed": 4, "already_proposed": 0, "unchanged": 1, "missing": 0, "refused": 0,
                              "photos_not_used": 0}
    assert [u["site"] for u in body["unchanged"]] == ["GZ-0004"]
    by_site = {p["site"]: p for p in body["proposed"]}

    moved_rev = revision(app, by_site["GZ-0001"]["revision"])
    assert moved_rev.kind == "change" and moved_rev.base_version == 1 and moved_rev.author == "fiona"
    assert moved_rev.location.equals_exact(Point(*moved), 1e-12) and moved_rev.properties == {}
    assert moved_rev.method == "rtk" and moved_rev.accuracy_m == 0.05 and moved_rev.survey_date == "2026-03-14"
    assert "Li Wei" in moved_rev.reason and "RTK fix at the quarry face" in moved_rev.reason
    expected_shift = GEOD.inv(before["GZ-0001"].location.x, before["GZ-0001"].location.y, *moved)[2]
    assert moved_rev.metrics["location_shift_m"] == pytest.approx(expected_shift, abs=0.01)
    assert by_site["GZ-0001"]["stale"] is False

    grown = revision(app, by_site["GZ-0002"]["revision"])
    assert grown.boundary_action == "set" and grown.base_version == 1 and grown.method == "handheld_gnss"
    old_area = area_m2(before["GZ-0002"].boundary)
    assert grown.metrics["area_before_m2"] == pytest.approx(old_area, rel=1e-6)
    assert grown.metrics["area_after_m2"] == pytest.approx(old_area * 1.44, rel=1e-3)  # 1.2 x 1.2
    assert grown.metrics["area_change_pct"] == pytest.approx(44.0, abs=0.1)

    attrs = revision(app, by_site["GZ-0003"]["revision"])
    assert attrs.properties == {"age": "Carnian, Late Triassic", "formation": "Wayao Member"}
    assert attrs.location is None and attrs.boundary_action == "keep"

    (find,) = [p for p in body["proposed"] if p["site"] is None]
    new_site = revision(app, find["revision"])
    assert new_site.kind == "new_site" and new_site.properties["name"] == "岗乌新点"
    assert new_site.properties["sensitivity"] == "hidden"  # a new find stays off the public map
    assert new_site.location.equals_exact(Point(105.47, 25.86), 1e-12) and new_site.accuracy_m == 4.0

    # nothing was applied: the registry changes only when a second person approves
    assert all(registry_site(app, code).version == 1 for code in before)
    kit = client.get(f"/api/fieldkits/{kit_id}", headers=bearer("field")).get_json()
    assert [c["id"] for c in kit["checkins"]] == [body["id"]]
    with app.app_context():
        audit = store.list_audit(get_conn(), action="fieldkit.checkin")[0]
        assert audit["target"] == kit_id and sorted(audit["detail"]["revisions"]) == \
            sorted(p["revision"] for p in body["proposed"])


def test_checking_in_again_creates_nothing_new(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    site = registry_site(app, "GZ-0001")
    _edit_with_gdal(folder, tmp_path, (site.location.x + 0.0002, site.location.y))
    first = checkin(client, kit_id, (folder / "fieldkit.gpkg").read_bytes()).get_json()
    total = revision_count(app)
    again = checkin(client, kit_id, (folder / "fieldkit.gpkg").read_bytes())
    assert again.status_code == 200
    assert counts(again.get_json()) == {"proposed": 0, "already_proposed": 4, "unchanged": 1, "missing": 0,
                                        "refused": 0, "photos_not_used": 0}
    assert sorted(a["revision"] for a in again.get_json()["already_proposed"]) == \
        sorted(p["revision"] for p in first["proposed"])
    # the same edits as a zip of the folder (other bytes, same content): still nothing new
    zipped = checkin(client, kit_id, zip_folder(folder), "kit.zip").get_json()
    assert counts(zipped)["proposed"] == 0 and counts(zipped)["already_proposed"] == 4
    assert revision_count(app) == total
    # changed again while its proposal is open: refused with the way out, the others still "already proposed"
    ogr_sql(folder / "fieldkit.gpkg", "UPDATE site_locations SET age = 'Norian' WHERE code = 'GZ-0003'")
    changed = checkin(client, kit_id, (folder / "fieldkit.gpkg").read_bytes()).get_json()
    assert [r["site"] for r in changed["refused"]] == ["GZ-0003"]
    assert "still open" in changed["refused"][0]["reason"] and revision_count(app) == total


def test_a_site_that_moved_on_meanwhile_is_proposed_on_the_kit_version_and_shows_as_stale(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    with app.app_context():  # someone else's change is approved while the team is in the field
        sites.change_site(get_conn(), "GZ-0001", base_version=1, properties={"age": "Carnian"}, author="ada",
                          reason="literature update")
    site = registry_site(app, "GZ-0001")
    ogr_sql(folder / "fieldkit.gpkg", f"UPDATE site_locations SET geom = AsGPB(SetSRID(MakePoint("
                                      f"{site.location.x + 0.0003}, {site.location.y}), 4490)) WHERE code = 'GZ-0001'")
    body = checkin(client, kit_id, (folder / "fieldkit.gpkg").read_bytes()).get_json()
    (proposed,) = body["proposed"]
    assert proposed["stale"] is True and proposed["base_version"] == 1 and proposed["current_version"] == 2
    rev = revision(app, proposed["revision"])
    assert rev.base_version == 1 and "stale_base" in {w["code"] for w in rev.warnings}
    with app.app_context():  # never applied silently: approval is refused until it is rebased
        with pytest.raises(revisions.Conflict):
            revisions.decide(get_conn(), rev.id, "approve", reviewer="ellen", round_seen=rev.round)
    assert registry_site(app, "GZ-0001").location.equals_exact(site.location, 0)


def test_retirement_only_when_marked_and_a_deleted_feature_is_reported(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    gpkg = folder / "fieldkit.gpkg"
    ogr_sql(gpkg, "UPDATE site_locations SET retire = 1, condition = 'destroyed', note = 'quarried away' "
                  "WHERE code = 'GZ-0003'")
    ogr_sql(gpkg, "DELETE FROM site_locations WHERE code = 'GZ-0002'")
    ogr_sql(gpkg, "DELETE FROM site_boundaries WHERE code = 'GZ-0002'")
    body = checkin(client, kit_id, gpkg.read_bytes()).get_json()
    (retire,) = body["proposed"]
    rev = revision(app, retire["revision"])
    assert rev.site_code == "GZ-0003" and rev.kind == "retire" and rev.properties == {"status": "retired"}
    assert "condition destroyed" in rev.reason and "retires_site" in {w["code"] for w in rev.warnings}
    assert sorted((m["site"], m["what"]) for m in body["missing"]) == [("GZ-0002", "boundary"), ("GZ-0002", "location")]
    assert registry_site(app, "GZ-0002").properties["status"] == "active"


def test_a_feature_the_workflow_refuses_is_reported_and_the_others_are_proposed(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    gpkg = folder / "fieldkit.gpkg"
    ogr_sql(gpkg, "UPDATE site_locations SET period = 'Jurassic' WHERE code = 'GZ-0001'")
    ogr_sql(gpkg, "UPDATE site_locations SET fossil_groups = 'unicorns' WHERE code = 'GZ-0003'")
    ogr_sql(gpkg, "UPDATE site_locations SET method = 'divining rod', age = 'x' WHERE code = 'GZ-0004'")
    body = checkin(client, kit_id, gpkg.read_bytes()).get_json()
    assert [p["site"] for p in body["proposed"]] == ["GZ-0001"]
    reasons = {r["site"]: r["reason"] for r in body["refused"]}
    assert "unicorns" in reasons["GZ-0003"] and "method must be one of" in reasons["GZ-0004"]


# ------------------------------------------------------------------------------------ edit the way QGIS writes
def test_edits_written_like_qgis_with_plain_sqlite_wal_journal_and_photos(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    gpkg = folder / "fieldkit.gpkg"
    site = registry_site(app, "GZ-0003")
    (folder / "DCIM" / "site_locations_20260314101500000.png").write_bytes(png((200, 30, 30)))
    (folder / "DCIM" / "survey_points_20260314102000000.png").write_bytes(png((30, 200, 30)))
    (folder / "DCIM" / "new_finds_20260314103000000.png").write_bytes(png((30, 30, 200)))
    conn = qgis_connection(gpkg)  # stays open: its edits are in fieldkit.gpkg-wal
    moved = translate(site.location, 0.0002, -0.0001)
    conn.execute("UPDATE site_locations SET geom = ?, photo = ?, surveyor = ? WHERE code = 'GZ-0003'",
                 (gdal_blob(moved), "DCIM/site_locations_20260314101500000.png", "王芳"))
    conn.execute("INSERT INTO survey_points (geom, site_code, condition, photo, note) VALUES (?, ?, ?, ?, ?)",
                 (gdal_blob(translate(moved, 0.0001, 0)), "GZ-0003", "fair", "DCIM/survey_points_20260314102000000.png",
                  "outcrop face"))
    conn.execute("INSERT INTO new_finds (geom, find_id, name, photo) VALUES (?, ?, ?, ?)",
                 (gdal_blob(Point(105.52, 25.83)), "{6f1c-qgis}", "路边新点", "DCIM/new_finds_20260314103000000.png"))
    conn.execute("INSERT INTO survey_points (geom, site_code, photo) VALUES (?, ?, ?)",
                 (gdal_blob(Point(105.521, 25.831)), "GZ-0001", "DCIM/missing.jpg"))
    # GDAL's own feature counts, kept by its triggers, follow QGIS's inserts
    assert dict(conn.execute("SELECT table_name, feature_count FROM gpkg_ogr_contents"))["survey_points"] == 2
    assert (folder / "fieldkit.gpkg-wal").exists() and open(gpkg, "rb").read(100)[18:20] == b"\x02\x02"

    # the project is still open: the file alone would lose the edits, so it is refused, and so is a zip without -wal
    total = revision_count(app)
    bare = checkin(client, kit_id, gpkg.read_bytes())
    assert bare.status_code == 422 and bare.get_json()["problem"] == "journal_left_behind"
    assert "WAL mode" in bare.get_json()["detail"] and "zip" in bare.get_json()["detail"]
    no_wal = checkin(client, kit_id, zip_folder(folder, skip=("-wal",)), "kit.zip")
    assert no_wal.status_code == 422 and no_wal.get_json()["problem"] == "journal_left_behind"
    assert revision_count(app) == total

    # the folder zipped with its journal: SQLite replays the -wal, the photos come along
    body = checkin(client, kit_id, zip_folder(folder), "kit.zip").get_json()
    by_site = {p["site"]: p for p in body["proposed"]}
    assert set(by_site) == {"GZ-0003", None}
    rev = revision(app, by_site["GZ-0003"]["revision"])
    assert rev.location.equals_exact(moved, 1e-12) and "王芳" in rev.reason
    assert sorted(a["filename"] for a in rev.attachments) == ["site_locations_20260314101500000.png",
                                                            "survey_points_20260314102000000.png"]
    assert {a["content_type"] for a in rev.attachments} == {"image/png"}
    find = revision(app, by_site[None]["revision"])
    assert find.kind == "new_site" and [a["filename"] for a in find.attachments] == ["new_finds_20260314103000000.png"]
    assert [(p["photo"], p["reason"]) for p in body["photos_not_used"]] == \
        [("DCIM/missing.jpg", "the site is unchanged: photos of an unchanged site belong in an inspection")]

    # QGIS closed the project: the journal is folded and gone, the file stays marked WAL; the folder checks in
    conn.close()
    assert not (folder / "fieldkit.gpkg-wal").exists() and open(gpkg, "rb").read(100)[18:20] == b"\x02\x02"
    closed = checkin(client, kit_id, zip_folder(folder), "kit.zip").get_json()
    assert counts(closed)["proposed"] == 0 and counts(closed)["already_proposed"] == 2


# ------------------------------------------------------------------------------------------------ the project
def _project(folder):
    from xml.etree import ElementTree as ET
    with zipfile.ZipFile(folder / "fieldkit.qgz") as zf:
        (name,) = zf.namelist()
        assert name.endswith(".qgs")
        text = zf.read(name)
    assert text.startswith(b"<!DOCTYPE qgis")
    return ET.fromstring(text.split(b"\n", 1)[1])


def _value_map(field):
    """(label, stored value) of each entry of a QGIS value map."""
    return [(entry.get("name"), entry.get("value")) for item in field.find("editWidget/config/Option/Option[@name='map']")
            for entry in item]


def test_the_qgis_project_references_every_kit_layer_by_relative_path_with_forms_and_styles(client, tmp_path):
    _, folder = checkout(client, tmp_path)
    root = _project(folder)
    kit_layers = {name for name, kind in pyogrio.list_layers(folder / "fieldkit.gpkg") if kind is not None}
    maplayers = root.findall("projectlayers/maplayer")
    sources = {m.findtext("id"): m.findtext("datasource") for m in maplayers}
    assert sorted(sources.values()) == sorted(f"./fieldkit.gpkg|layername={name}" for name in kit_layers)
    assert {m.findtext("provider") for m in maplayers} == {"ogr"}
    tree = {e.get("id"): e.get("source") for e in root.iter("layer-tree-layer")}
    assert tree == sources
    top_first = [source.split("=")[-1] for source in tree.values()]   # the sites over the boundaries' fill
    assert top_first.index("site_locations") < top_first.index("site_boundaries")
    styles = list(root.iter("text-style"))  # the sites' labels and the county seats'
    assert styles and all(s.get("fontFamily") == "Noto Sans CJK SC" for s in styles)   # never empty (QGIS then drew a
    # TeX font's garbage)
    assert root.findtext("properties/Paths/Absolute") == "false"
    assert root.find("projectCrs/spatialrefsys/authid").text == "EPSG:4490"
    layers = {m.findtext("datasource").split("=")[-1]: m for m in maplayers}
    for name, layer in layers.items():
        assert layer.find("srs/spatialrefsys/authid").text == "EPSG:4490"
        fields = {f.get("name"): f for f in layer.findall("fieldConfiguration/field")}
        columns = set(pyogrio.read_info(folder / "fieldkit.gpkg", layer=name)["fields"]) | {"fid"}
        assert set(fields) == columns, name  # a widget for every column, no widget for a column that is not there
        editable = {e.get("name"): e.get("editable") for e in layer.findall("editable/field")}
        read_only = {"site_locations": ("code", "base_version"), "site_boundaries": ("code", "base_version", "name", "level"),
                     "new_finds": ("find_id",), "survey_points": (),
                     "section_lines": tuple(c for c in fields if c != "fid"),   # for reference only
                     "context_counties": ("code", "name"), "context_county_seats": ("code", "name", "label")}[name]
        assert [k for k, v in editable.items() if v == "0"] == ["fid", *read_only], name
        if "photo" in fields:
            widget = fields["photo"].find("editWidget")
            assert widget.get("type") == "ExternalResource"
            options = {o.get("name"): o.get("value") for o in widget.find("config/Option")}
            assert options["RelativeStorage"] == "1" and options["DocumentViewer"] == "1"
            naming = {o.get("name"): o.get("value") for o in layer.find("customproperties/Option")}
            assert "DCIM/" in json.loads(naming["QFieldSync/attachment_naming"])["photo"]
    locations = {f.get("name"): f for f in layers["site_locations"].findall("fieldConfiguration/field")}
    assert [v for _, v in _value_map(locations["level"])][:3] == list(sites.LEVELS)
    assert [v for _, v in _value_map(locations["period"])][:-1] == list(sites.PERIODS)
    assert [v for _, v in _value_map(locations["condition"])][:-1] == ["good", "fair", "poor", "damaged", "destroyed"]
    assert [v for _, v in _value_map(locations["method"])][:-1] == list(revisions.METHODS)
    renderer = layers["site_locations"].find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "level"
    assert [c.get("value") for c in renderer.iter("category")] == list(sites.LEVELS)
    assert layers["site_boundaries"].find("renderer-v2").get("attr") == "level"
    relation = {f.get("name"): f for f in layers["survey_points"].findall("fieldConfiguration/field")}["site_code"]
    target = {o.get("name"): o.get("value") for o in relation.find("editWidget/config/Option")}["Layer"]
    assert sources[target] == "./fieldkit.gpkg|layername=site_locations"


# ---------------------------------------------------------------------------------------------------- bad input
def test_a_geopackage_that_is_not_a_kit_is_refused(client, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    other = tmp_path / "other.gpkg"
    import geopandas as gpd
    gpd.GeoDataFrame({"code": ["GZ-0001"]}, geometry=[Point(105.4, 25.9)], crs=4490).to_file(other)
    r = checkin(client, kit_id, other.read_bytes(), "other.gpkg")
    assert r.status_code == 422 and "not a field kit of this registry" in r.get_json()["detail"]
    for data, message in ((b"just text", "neither a GeoPackage nor a zip"),
                          ((folder / "fieldkit.gpkg").read_bytes()[:9000], "malformed")):
        r = checkin(client, kit_id, data, "broken.gpkg")
        assert r.status_code == 422 and message in r.get_json()["detail"], r.get_json()


def test_a_kit_of_another_installation_is_refused(client, app, tmp_path):
    from fossil_registry import create_app
    from fossil_registry.registry import init_registry, registry_path

    elsewhere = tmp_path / "elsewhere"
    init_registry(registry_path(elsewhere), demo=True)
    other = create_app({"TESTING": True, "DATA_DIR": str(elsewhere), "SECRET_KEY": "x"})
    with other.app_context():
        from fossil_registry import fieldkit
        kit = fieldkit.check_out(get_conn(), fieldkit.parse_area({"county": "Guanling"}), actor="someone",
                                 settings=fieldkit.Settings.from_config(other.config))
    with zipfile.ZipFile(kit.file) as zf:
        data = zf.read(next(n for n in zf.namelist() if n.endswith(".gpkg")))
    r = client.post("/fieldkit/checkin")  # (anonymous: refused before anything is read)
    assert r.status_code == 401
    r = checkin(client, kit.kit_id, data)
    assert r.status_code == 422 and r.get_json()["problem"] == "other_installation"
    assert "another registry installation" in r.get_json()["detail"]


def test_an_edited_manifest_or_another_kits_url_is_refused(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    other_id, _ = checkout(client, tmp_path, sites=["GZ-0010"])
    gpkg = folder / "fieldkit.gpkg"
    r = checkin(client, other_id, gpkg.read_bytes())
    assert r.status_code == 422 and r.get_json()["problem"] == "other_kit"
    ogr_sql(gpkg, "UPDATE site_locations SET age = 'x' WHERE code = 'GZ-0001'")
    ogr_sql(gpkg, "UPDATE kit_manifest SET value = 'ada' WHERE key = 'issued_by'")
    total = revision_count(app)
    r = checkin(client, kit_id, gpkg.read_bytes())
    assert r.status_code == 422 and r.get_json()["problem"] == "manifest_edited" and revision_count(app) == total


def test_codes_changed_or_duplicated_and_base_versions_edited_refuse_the_whole_kit(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    gpkg = folder / "fieldkit.gpkg"
    ogr_sql(gpkg, "UPDATE site_locations SET age = 'a real change' WHERE code = 'GZ-0004'")
    ogr_sql(gpkg, "UPDATE site_locations SET code = 'GZ-0070' WHERE code = 'GZ-0001'")
    ogr_sql(gpkg, "UPDATE site_boundaries SET code = 'GZ-0003' WHERE code = 'GZ-0002'")
    ogr_sql(gpkg, "UPDATE site_locations SET base_version = 7 WHERE code = 'GZ-0002'")
    total = revision_count(app)
    r = checkin(client, kit_id, gpkg.read_bytes())
    assert r.status_code == 422 and revision_count(app) == total
    problems = r.get_json()["problems"]
    assert any(p.startswith("site_locations #1 (GZ-0070)") and "not one of the kit's sites" in p for p in problems)
    assert any("site_boundaries #3 (GZ-0003)" in p and "also site_boundaries #2 (GZ-0003)" in p for p in problems)
    assert any("site_locations #2 (GZ-0002): base version 7 was edited" in p for p in problems)
    assert "nothing was proposed" in r.get_json()["detail"]


def test_geometries_in_another_crs_are_refused_naming_the_feature(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    gpkg = folder / "fieldkit.gpkg"
    # a point collected in Web Mercator metres, appended without reprojection
    ogr_append(gpkg, "new_finds", [point_feature(11730000.0, 2983000.0, name="metres")], tmp_path)
    r = checkin(client, kit_id, gpkg.read_bytes())
    assert r.status_code == 422
    (problem,) = r.get_json()["problems"]
    assert problem.startswith("new_finds #1") and "not longitude/latitude" in problem
    ogr_sql(gpkg, "DELETE FROM new_finds")
    conn = qgis_connection(gpkg, wal=False)  # a blob that names another CRS
    conn.execute("UPDATE site_locations SET geom = ? WHERE code = 'GZ-0001'", (gdal_blob(Point(105.4, 25.9), 4326),))
    conn.close()
    r = checkin(client, kit_id, gpkg.read_bytes())
    assert r.status_code == 422 and r.get_json()["problems"] == \
        ["site_locations #1 (GZ-0001): the geometry is in EPSG:4326, not in the kit's EPSG:4490"]
    # a layer saved in another CRS
    conn = sqlite3.connect(gpkg)
    conn.execute("UPDATE gpkg_geometry_columns SET srs_id = 4326 WHERE table_name = 'site_boundaries'")
    conn.commit()
    conn.close()
    r = checkin(client, kit_id, gpkg.read_bytes())
    assert any(p.startswith("layer site_boundaries is in EPSG:4326") for p in r.get_json()["problems"])


def test_oversized_uploads_and_zip_bombs_are_refused(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    app.config["FIELDKIT_MAX_UPLOAD_BYTES"] = 200_000
    big = zip_folder(folder) + b"\0" * 250_000
    r = checkin(client, kit_id, big, "kit.zip")
    assert r.status_code == 413
    app.config["FIELDKIT_MAX_UPLOAD_BYTES"] = 32 * 1024 * 1024
    app.config["FIELDKIT_MAX_UNZIPPED_BYTES"] = 1024 * 1024
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(folder / "fieldkit.gpkg", "kit/fieldkit.gpkg")
        zf.writestr("kit/DCIM/zeros.jpg", b"\0" * (8 * 1024 * 1024))
    assert len(bomb.getvalue()) < 100_000
    r = checkin(client, kit_id, bomb.getvalue(), "kit.zip")
    assert r.status_code == 413 and "ZIP bomb" in r.get_json()["detail"]
    # a central directory that lies about the size: the bytes read do not match it
    liar = io.BytesIO()
    with zipfile.ZipFile(liar, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("kit/fieldkit.gpkg", (folder / "fieldkit.gpkg").read_bytes() + b"\0" * (4 * 1024 * 1024))
    data = bytearray(liar.getvalue())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (1000).to_bytes(4, "little")   # uncompressed size in the central directory
    r = checkin(client, kit_id, bytes(data), "kit.zip")
    assert r.status_code == 422 and "damaged or truncated" in r.get_json()["detail"], r.get_json()
    app.config["FIELDKIT_MAX_UNZIPPED_BYTES"] = 512 * 1024 * 1024
    traversal = io.BytesIO()
    with zipfile.ZipFile(traversal, "w") as zf:
        zf.writestr("../fieldkit.gpkg", (folder / "fieldkit.gpkg").read_bytes())
    r = checkin(client, kit_id, traversal.getvalue(), "kit.zip")
    assert r.status_code == 422 and "path traversal" in r.get_json()["detail"]


def test_photo_paths_cannot_leave_the_kit_folder(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    (tmp_path / "secret.png").write_bytes(png())
    ogr_sql(folder / "fieldkit.gpkg", "UPDATE site_locations SET age = 'x', photo = '../../secret.png' "
                                      "WHERE code = 'GZ-0001'")
    ogr_sql(folder / "fieldkit.gpkg", "UPDATE site_locations SET age = 'y', photo = '/etc/passwd' WHERE code = 'GZ-0003'")
    body = checkin(client, kit_id, zip_folder(folder), "kit.zip").get_json()
    assert counts(body)["proposed"] == 2
    reasons = {p["photo"]: p["reason"] for p in body["photos_not_used"]}
    assert "outside the kit folder" in reasons["../../secret.png"] and "absolute path" in reasons["/etc/passwd"]
    assert all(revision(app, p["revision"]).attachments == [] for p in body["proposed"])


def test_shareable_exports_withhold_the_kit_secrets(client, app, tmp_path):
    from fossil_registry.registry import export_registry
    kit_id, _ = checkout(client, tmp_path)
    export_registry(app.config["REGISTRY"], tmp_path / "export.gpkg")
    conn = sqlite3.connect(tmp_path / "export.gpkg")
    assert conn.execute("SELECT issued_by, secret FROM fieldkit_kits WHERE kit_id = ?", (kit_id,)).fetchone() == \
        ("fiona", "withheld")
    with app.app_context():  # the registry itself keeps it: the kit can still be checked in
        assert len(store.fieldkit.get_kit(get_conn(), kit_id)["secret"]) == 64


def test_an_unfinished_write_in_a_zipped_rollback_journal_is_rolled_back(client, app, tmp_path):
    kit_id, folder = checkout(client, tmp_path)
    gpkg = folder / "fieldkit.gpkg"
    conn = qgis_connection(gpkg, wal=False)
    conn.execute("UPDATE site_locations SET age = 'committed' WHERE code = 'GZ-0001'")
    conn.execute("PRAGMA cache_size = 1")  # the unfinished write spills into the file, its old pages into -journal
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO new_finds (geom, name, note) VALUES (?, ?, ?)",
                     [(gdal_blob(Point(105.5, 25.8)), f"unfinished {i}", "x" * 2000) for i in range(500)])
    assert (folder / "fieldkit.gpkg-journal").exists()
    data = zip_folder(folder)  # copied in the middle of the write, as a crashed app leaves it
    conn.execute("ROLLBACK")
    conn.close()
    body = checkin(client, kit_id, data, "kit.zip").get_json()
    assert [(p["site"], p["changes"]) for p in body["proposed"]] == [("GZ-0001", ["age"])]
