"""Reading proposal geometries from files written by GDAL (pyogrio/geopandas) and pandas, in every CRS family, and
refusing broken or hostile input with a message that names the problem."""
from __future__ import annotations

import io
import random
import sqlite3
import struct
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from fossil_registry import coords, formats, revisions
from fossil_registry.errors import InvalidInput
from fossil_registry.geometry import geodesic_distance_m

# pytest resets warning filters per test; formats.py silences these GDAL remarks in the app itself
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:pyogrio")

# A site outline in Guizhou (CGCS2000 lon/lat) and a point inside it.
OUTLINE = Polygon([(106.20, 26.40), (106.212, 26.401), (106.214, 26.409), (106.205, 26.412), (106.199, 26.406)])
INSIDE = Point(106.206, 26.405)


def _write(tmp_path, gdf, name, **kwargs) -> bytes:
    path = tmp_path / name
    pyogrio.write_dataframe(gdf, path, **kwargs)
    return path.read_bytes()


def _frame(geom, crs="EPSG:4326", **props):
    return gpd.GeoDataFrame({k: [v] for k, v in (props or {"name": "测试"}).items()}, geometry=[geom], crs=crs)


def _to(crs: str, geom):
    t = Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _max_offset_m(a, b) -> float:
    """Largest distance between corresponding vertices (rings normalised: shapefiles store them clockwise)."""
    ca, cb = shapely.get_coordinates(shapely.normalize(a)), shapely.get_coordinates(shapely.normalize(b))
    assert len(ca) == len(cb)
    return max(geodesic_distance_m(tuple(p), tuple(q)) for p, q in zip(ca, cb))


# ------------------------------------------------------------------------------------------------ every format
def test_geojson_written_by_gdal(tmp_path):
    data = _write(tmp_path, _frame(OUTLINE), "outline.geojson", driver="GeoJSON")
    read = formats.read_geometry("outline.geojson", data, "boundary")
    assert read.format == "geojson" and read.source_crs == "EPSG:4326" and read.feature == "测试"
    assert _max_offset_m(read.geometry, OUTLINE) < 1e-6  # WGS84 -> CGCS2000 is the identity at this level


def test_geojson_with_a_projected_crs_member_is_read_in_that_crs(tmp_path):
    projected = _to("EPSG:4545", OUTLINE)  # CGCS2000 Gauss-Kruger 3-degree, CM 108E
    data = _write(tmp_path, _frame(projected, "EPSG:4545"), "gk.geojson", driver="GeoJSON")
    assert b'"crs"' in data
    read = formats.read_geometry("gk.geojson", data, "boundary", crs="GCJ02")  # the file's own CRS wins
    assert read.source_crs == "EPSG:4545"
    assert any("declares its coordinate system" in n for n in read.notes)
    assert _max_offset_m(read.geometry, OUTLINE) < 0.01


def test_kml_written_by_gdal_ignores_altitude(tmp_path):
    ring = [(x, y, 1200.0 + i) for i, (x, y) in enumerate(list(OUTLINE.exterior.coords)[:-1])]
    with_z = Polygon(ring + [ring[0]])
    data = _write(tmp_path, _frame(with_z), "site.kml", driver="KML")
    assert b",1200" in data  # GDAL wrote the altitude
    read = formats.read_geometry("site.kml", data, "boundary")
    assert read.format == "kml" and not read.geometry.has_z
    assert _max_offset_m(read.geometry, OUTLINE) < 1e-6


def test_kmz_is_a_zipped_kml(tmp_path):
    kml = _write(tmp_path, _frame(INSIDE), "doc.kml", driver="KML")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", kml)
        zf.writestr("files/icon.png", b"\x89PNG not really")
    read = formats.read_geometry("ovital.kmz", buf.getvalue(), "location")
    assert read.format == "kmz" and read.geometry.equals_exact(INSIDE, 1e-9)


def test_gpx_walked_perimeter_becomes_a_closed_boundary(tmp_path):
    ring = list(OUTLINE.exterior.coords)[:-1]
    walk = ring + [(ring[0][0] + 0.0001, ring[0][1] + 0.0001)]  # ends ~15 m from the start
    data = _write(tmp_path, _frame(LineString(walk), name="perimeter walk"), "walk.gpx", driver="GPX",
                  layer_options={"FORCE_GPX_TRACK": "YES"})
    assert b"<trkpt" in data
    read = formats.read_geometry("walk.gpx", data, "boundary")
    assert read.geometry.geom_type == "Polygon" and read.geometry.is_valid
    coords_ = list(read.geometry.exterior.coords)
    assert coords_[0] == coords_[-1] and len(coords_) == len(walk) + 1
    assert any("closed into a boundary" in n for n in read.notes)


def test_gpx_track_whose_ends_are_far_apart_is_refused_with_the_gap(tmp_path):
    walk = list(OUTLINE.exterior.coords)[:-2]  # stops short of the start: a gap of several hundred metres
    data = _write(tmp_path, _frame(LineString(walk)), "open.gpx", driver="GPX", layer_options={"FORCE_GPX_TRACK": "YES"})
    gap = geodesic_distance_m(walk[0], walk[-1])
    with pytest.raises(InvalidInput, match=rf"ends are {gap:,.0f} m apart \(more than 50 m\)"):
        formats.read_geometry("open.gpx", data, "boundary")


def test_gpx_waypoint_becomes_the_location(tmp_path):
    data = _write(tmp_path, _frame(INSIDE, name="新测点"), "wpt.gpx", driver="GPX")
    read = formats.read_geometry("wpt.gpx", data, "location")
    assert read.geometry.equals_exact(INSIDE, 1e-9) and read.feature == "新测点"


def test_zipped_shapefile_with_gbk_cpg_and_prj(tmp_path):
    projected = _to("EPSG:4544", OUTLINE)  # Gauss-Kruger 3-degree CM 105E, no zone prefix
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(_frame(projected, "EPSG:4544", 名称="关岭化石群"), folder / "boundary.shp", encoding="GBK")
    assert (folder / "boundary.cpg").read_text().strip() == "GBK"
    assert "关岭化石群".encode("gbk") in (folder / "boundary.dbf").read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"export/{f.name}")
    read = formats.read_geometry("boundary.zip", buf.getvalue(), "boundary")
    assert read.format == "shapefile" and read.source_crs == "EPSG:4544"
    assert read.feature == "关岭化石群"  # the GBK attribute decoded through the .cpg
    assert _max_offset_m(read.geometry, OUTLINE) < 0.01


def test_shapefile_without_prj_needs_a_chosen_crs(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(_frame(_to("EPSG:4545", OUTLINE), "EPSG:4545"), folder / "b.shp")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in folder.iterdir():
            if f.suffix != ".prj":
                zf.write(f, f.name)
    with pytest.raises(InvalidInput, match="does not say which coordinate system"):
        formats.read_geometry("b.zip", buf.getvalue(), "boundary")
    read = formats.read_geometry("b.zip", buf.getvalue(), "boundary", crs="EPSG:4545")
    assert _max_offset_m(read.geometry, OUTLINE) < 0.01


def test_geopackage_in_a_prefixed_gauss_kruger_zone(tmp_path):
    projected = _to("EPSG:4524", OUTLINE)  # 3-degree zone 36, easting with the zone number in front
    assert shapely.get_coordinates(projected)[0][0] > 36_000_000
    data = _write(tmp_path, _frame(projected, "EPSG:4524"), "survey.gpkg", driver="GPKG", layer="outline")
    read = formats.read_geometry("survey.gpkg", data, "boundary")
    assert read.format == "gpkg" and read.source_crs == "EPSG:4524"
    assert _max_offset_m(read.geometry, OUTLINE) < 0.01


def test_csv_of_dms_vertices_with_chinese_headers_written_by_pandas():
    ring = list(OUTLINE.exterior.coords)[:-1]
    df = pd.DataFrame({"点号": range(1, len(ring) + 1),
                       "经度": [coords.format_dms(x, "E", "W", decimals=4) for x, _ in ring],
                       "纬度": [coords.format_dms(y, "N", "S", decimals=4) for _, y in ring]})
    data = df.to_csv(index=False).encode("utf-8-sig")
    read = formats.read_geometry("vertices.csv", data, "boundary")
    assert read.format == "csv" and read.geometry.geom_type == "Polygon"
    assert _max_offset_m(read.geometry, OUTLINE) < 0.01  # DMS to 1e-4 arc-second


def test_csv_of_gauss_kruger_xy_uses_the_survey_convention_and_zone_prefix():
    projected = shapely.get_coordinates(_to("EPSG:4524", OUTLINE))[:-1]
    # Chinese survey practice: X is the northing, Y the easting (here with zone 36 in front)
    df = pd.DataFrame({"X": projected[:, 1].round(3), "Y": projected[:, 0].round(3)})
    read = formats.read_geometry("jiezhi.csv", df.to_csv(index=False).encode("gbk"), "boundary")
    assert read.source_crs == "EPSG:4524"
    assert _max_offset_m(read.geometry, OUTLINE) < 0.01


def test_csv_single_row_is_a_location_and_lon_lat_in_gcj02():
    gcj_lon, gcj_lat = coords.wgs84_to_gcj02(INSIDE.x, INSIDE.y)
    df = pd.DataFrame({"lng": [gcj_lon], "lat": [gcj_lat]})
    read = formats.read_geometry("amap.csv", df.to_csv(index=False).encode(), "location", crs="GCJ02")
    assert geodesic_distance_m(read.geometry, INSIDE) < 0.5


def test_csv_without_coordinate_columns_names_the_accepted_headers():
    data = pd.DataFrame({"a": [1], "b": [2]}).to_csv(index=False).encode()
    with pytest.raises(InvalidInput, match="cannot find the coordinate columns.*经度"):
        formats.read_geometry("x.csv", data, "location")


# ------------------------------------------------------------------------------------------------ CRS families
GCJ_VECTOR = ((116.404, 39.915), (116.41024449916938, 39.91640428150164))      # WGS84 -> GCJ-02 (lng, lat)
# BD-09 -> WGS84 published vector; produced by a variant formula, so the published BD-09 formula lands ~10.5 m away
# (see tests/test_coords.py::test_bd09_to_wgs84_reference_vector)
BD_VECTOR = ((120.00877901149691, 29.196131605295484), (120.019809, 29.199786))
MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(106.63, 26.65)


@pytest.mark.parametrize("crs, given, expected, tolerance_m", [
    ("EPSG:4490", (106.63, 26.65), (106.63, 26.65), 1e-6),
    ("WGS84", (106.63, 26.65), (106.63, 26.65), 1e-6),
    ("EPSG:4545", (363594.53, 2949581.59), (106.63, 26.65), 0.05),       # reference point: Guiyang, CM 108E
    ("EPSG:4524", (36363594.53, 2949581.59), (106.63, 26.65), 0.05),     # the same with the zone prefix
    ("GCJ02", GCJ_VECTOR[1], GCJ_VECTOR[0], 0.5),                         # published test vector
    ("BD09", BD_VECTOR[1], BD_VECTOR[0], 12.0),
    ("EPSG:3857", MERCATOR, (106.63, 26.65), 0.01),                       # "any EPSG code"
])
def test_every_crs_family_reaches_cgcs2000(crs, given, expected, tolerance_m):
    draft = revisions.parse_draft({"location": {"type": "Point", "coordinates": list(given)}, "crs": crs})
    assert geodesic_distance_m(draft.location, expected) < tolerance_m
    assert draft.input["location"]["source_crs"] in (crs, coords.resolve_crs(crs).key)


def test_typed_coordinates_in_every_notation():
    for text in ("26.65, 106.63", "106.63 26.65", "26°39'00\"N 106°37'48\"E", "北纬26°39′ 东经106°37.8′",
                 "X=2949581.59 Y=36363594.53"):
        draft = revisions.parse_draft({"location": text})
        assert geodesic_distance_m(draft.location, (106.63, 26.65)) < 1.0, text
    boundary = revisions.parse_draft({"boundary": "106.20 26.40\n106.21 26.40\n106.21 26.41"}).boundary
    assert boundary.geom_type == "Polygon" and list(boundary.exterior.coords)[0] == (106.20, 26.40)


def test_xian80_input_is_refused_without_a_local_transformation(tmp_path):
    data = _write(tmp_path, _frame(_to("EPSG:2381", OUTLINE), "EPSG:2381"), "x80.gpkg", driver="GPKG")
    with pytest.raises(InvalidInput, match="Xian 1980 or Beijing 1954"):
        formats.read_geometry("x80.gpkg", data, "boundary")


# ------------------------------------------------------------------------------------------------ bad and hostile input
def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


XXE_KML = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&xxe;</name>
<Point><coordinates>106.2,26.4</coordinates></Point></Placemark></kml>"""
LAUGHS_GPX = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="26.4" lon="106.2"><name>&e;</name></wpt></gpx>"""


@pytest.mark.parametrize("name, data, message", [
    ("evil.kml", XXE_KML, "declares a DTD or XML entities"),
    ("laughs.gpx", LAUGHS_GPX, "declares a DTD or XML entities"),
    ("empty.geojson", b'{"type": "FeatureCollection", "features": []}', "the FeatureCollection is empty"),
    ("cut.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geom', "not a readable GeoJSON"),
    ("photo.geojson", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a readable GeoJSON"),
    ("cut.kml", b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Point><coord',
     "malformed or truncated"),
    ("notes.kml", b"<html><body>hello</body></html>", "not a KML file"),
    ("nothing.gpx", b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"></gpx>', "holds no geometries"),
    ("empty.csv", b"", "the file is empty"),
    ("board.shp", b"\x00\x00\x27\x0a", "upload the .shp together"),
    ("data.bin", b"\x00\x01\x02\x03 binary", "unrecognised file type"),
    ("trav.zip", _zip({"../../etc/cron.d/evil.shp": b"x", "ok.dbf": b"x"}), "points outside the archive"),
    ("abs.zip", _zip({"/tmp/evil.kml": b"<kml/>"}), "points outside the archive"),
    ("mixed.zip", _zip({"readme.txt": b"hello"}), "neither a shapefile"),
    ("cut.zip", _zip({"doc.kml": random.Random(1).randbytes(20000)})[:5000], "not a readable ZIP archive"),
    ("plain.gpkg", b"SQLite format 3\x00" + b"\x00" * 84, "not a readable GeoPackage"),
])
def test_bad_files_are_refused_naming_the_problem(name, data, message):
    with pytest.raises(InvalidInput) as err:
        formats.read_geometry(name, data, "location")
    assert message in err.value.detail and 400 <= err.value.status < 500
    assert err.value.detail.startswith(name)


def test_deep_nesting_is_refused_by_the_one_xml_reader_for_both_gpx_readers():
    deep = (b'<gpx><extensions>' + b"<a>" * 100 + b"</a>" * 100 + b'</extensions><trk><trkseg>'
            b'<trkpt lat="26.4" lon="106.2"/><trkpt lat="26.5" lon="106.2"/></trkseg></trk></gpx>')
    with pytest.raises(InvalidInput, match="deep.gpx: the GPX file nests elements more than 64 levels deep"):
        formats.read_geometry("deep.gpx", deep, "boundary")
    with pytest.raises(InvalidInput, match="GPX file 'deep.gpx' nests elements more than 64 levels deep") as err:
        formats.parse_gpx(deep, filename="deep.gpx")  # the inspections' patrol track
    assert err.value.extra == {"field": "track"} and err.value.status == 422


def test_zip_bomb_is_refused_from_the_central_directory():
    bomb = _zip({"doc.kml": b"\x00" * (80 * 1024 * 1024)})  # 80 MiB of zeros, ~80 KB compressed
    assert len(bomb) < 200_000
    with pytest.raises(formats.UploadTooLarge, match="decompresses to more than 64 MiB") as err:
        formats.read_geometry("bomb.kmz", bomb, "location")
    assert err.value.status == 413


def test_zip_member_that_lies_about_its_size_is_caught_while_reading():
    payload = b"<kml>" + b" " * 3_000_000 + b"</kml>"
    data = bytearray(_zip({"doc.kml": payload}))
    # rewrite the declared uncompressed size (local header at offset 22, central directory at +24) to 1 KB
    struct.pack_into("<I", data, 22, 1024)
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 1024)
    with pytest.raises(InvalidInput, match="damaged or truncated") as err:  # zipfile stops at 1 KB; the CRC fails
        formats.read_geometry("liar.kmz", bytes(data), "location")
    assert err.value.status == 422


def test_too_many_zip_entries_and_oversized_files_are_refused():
    many = _zip({f"f{i}.txt": b"x" for i in range(150)})
    with pytest.raises(InvalidInput, match="150 entries; the limit is 100"):
        formats.read_geometry("many.zip", many, "boundary")
    with pytest.raises(formats.UploadTooLarge, match="limited to 0 MiB|geometry files are limited"):
        formats.read_source("big.geojson", b"{" + b" " * 5000 + b"}", formats.Limits(max_file_bytes=1000))


def test_gpkg_without_geometry_layers(tmp_path):
    path = tmp_path / "table.gpkg"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (a TEXT)")
    conn.execute("INSERT INTO notes VALUES ('x')")
    conn.commit()
    conn.close()
    with pytest.raises(InvalidInput, match="no layer with geometries|not a readable GeoPackage"):
        formats.read_geometry("table.gpkg", path.read_bytes(), "boundary")


def test_several_candidates_are_never_merged(tmp_path):
    other = shapely.affinity.translate(OUTLINE, 0.05, 0)
    gdf = gpd.GeoDataFrame({"name": ["东区", "西区"]}, geometry=[OUTLINE, other], crs="EPSG:4326")
    data = _write(tmp_path, gdf, "two.geojson", driver="GeoJSON")
    with pytest.raises(InvalidInput, match=r"holds 2 polygons \(1: 东区; 2: 西区\).*never merges"):
        formats.read_geometry("two.geojson", data, "boundary")
    read = formats.read_geometry("two.geojson", data, "boundary", feature=2)
    assert read.feature == "西区" and _max_offset_m(read.geometry, other) < 1e-6


def test_point_file_for_a_boundary_target_says_what_it_holds(tmp_path):
    data = _write(tmp_path, _frame(INSIDE), "p.geojson", driver="GeoJSON")
    with pytest.raises(InvalidInput, match=r"no polygon or track for the boundary \(it holds: point\)"):
        formats.read_geometry("p.geojson", data, "boundary")


def test_unclosed_geojson_ring_is_reported_where_it_is_open():
    doc = b'{"type": "Polygon", "coordinates": [[[106.2, 26.4], [106.21, 26.4], [106.21, 26.41]]]}'
    with pytest.raises(InvalidInput, match="not closed: it starts at 106.2 26.4 but ends at 106.21 26.41"):
        formats.read_geometry("open.geojson", doc, "boundary")


def test_too_many_points_in_a_file_are_refused_before_processing():
    ring = "".join(f"{106.2 + i * 1e-7},26.4 " for i in range(2000))
    kml = f'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><LineString><coordinates>{ring}' \
          '</coordinates></LineString></Placemark></kml>'.encode()
    with pytest.raises(formats.UploadTooLarge, match="more than 1,000 vertices"):
        formats.read_source("huge.kml", kml, formats.Limits(max_points=1000))


def test_multipolygon_from_gdal_is_kept_whole(tmp_path):
    two = MultiPolygon([OUTLINE, shapely.affinity.translate(OUTLINE, 0.03, 0)])
    data = _write(tmp_path, _frame(two), "parts.gpkg", driver="GPKG")
    read = formats.read_geometry("parts.gpkg", data, "boundary")
    assert read.geometry.geom_type == "MultiPolygon" and len(read.geometry.geoms) == 2
