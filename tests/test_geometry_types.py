"""One geometry type per collection and download layer, for every audience (docs/ogcapi.md): every OGC collection's
features are of the type its schema declares, every download layer's file declares that type and holds nothing else,
for anonymous callers, field staff, experts and administrators alike. The anonymous sections (where a generalized
section used to come as a point among lines, so that GDAL typed the layer "Unknown" and a Shapefile stopped at the
first point) convert to a Shapefile with GDAL's own ogr2ogr."""
from __future__ import annotations

import subprocess
from collections import Counter

import pyogrio
import pytest

from fossil_registry import create_app, downloads, inspections, ogcapi
from fossil_registry.blobs import BlobStore
from fossil_registry.db import get_conn
from fossil_registry.photos import Upload

from .conftest import bearer, demo_copy
from .inspection_helpers import gpx_xml

AUDIENCES = ("anonymous", "field", "expert", "admin")
# what GDAL names the GeoJSON types in a GeoPackage's gpkg_geometry_columns and in read_info
GDAL_NAME = {"Point": "Point", "LineString": "LineString", "MultiPolygon": "MultiPolygon",
             "MultiLineString": "MultiLineString"}


@pytest.fixture(scope="module")
def client(tmp_path_factory, demo_registry_template):
    data_dir = demo_copy(tmp_path_factory, demo_registry_template, "geometry-types")
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "test-secret"})
    with app.app_context():  # an inspection with a point and a patrol track, so that the staff layers have features
        record = inspections.parse_record({"date": "2024-05-01", "condition": "good", "inspectors": ["ellen"],
                                           "point": [105.37, 25.87]})
        inspections.record_inspection(get_conn(), BlobStore(data_dir), "GZ-0001", record, actor="ellen",
                                      settings=inspections.Settings.from_config(app.config),
                                      track=Upload("t.gpx", gpx_xml([(105.37, 25.87), (105.371, 25.871)])))
    return app.test_client()


def _headers(who: str) -> dict[str, str]:
    return {} if who == "anonymous" else bearer(who)


def _visible(who: str) -> list[ogcapi.Collection]:
    return [c for c in ogcapi.COLLECTIONS.values() if who != "anonymous" or not c.staff_only]


@pytest.mark.parametrize("who", AUDIENCES)
def test_every_collection_has_the_one_geometry_type_it_declares(client, who):
    listed = {c["id"] for c in client.get("/ogcapi/collections", headers=_headers(who)).get_json()["collections"]}
    assert listed == {c.id for c in _visible(who)}
    for collection in _visible(who):
        schema = client.get(f"/ogcapi/collections/{collection.id}/schema", headers=_headers(who)).get_json()
        assert schema["properties"]["geometry"]["format"] == f"geometry-{collection.geometry.lower()}"
        features = client.get(f"/ogcapi/collections/{collection.id}/items?limit=10000",
                              headers=_headers(who)).get_json()["features"]
        found = Counter(f["geometry"]["type"] for f in features)
        assert set(found) == {collection.geometry}, (collection.id, who, found)   # and not empty: the test can fail


def test_the_public_sees_a_generalized_section_only_among_the_points(client):
    lines = client.get("/ogcapi/collections/sections/items?limit=10000").get_json()["features"]
    points = client.get("/ogcapi/collections/section-points/items?limit=10000").get_json()["features"]
    generalized = {f["id"] for f in points if f["properties"]["generalized"]}
    assert generalized and not generalized & {f["id"] for f in lines}
    assert {f["id"] for f in lines} | generalized == {f["id"] for f in points}
    staff = client.get("/ogcapi/collections/section-points/items?limit=10000", headers=bearer("field")).get_json()
    assert len(staff["features"]) > len(points)   # staff: every section (hidden ones too), each as the middle of its line


@pytest.mark.parametrize("who", AUDIENCES)
def test_every_download_layer_declares_its_one_geometry_type(client, tmp_path, who):
    layers = [la for la in downloads.LAYERS.values() if la.collection is not None
              and (who != "anonymous" or not la.staff_only)]
    for layer in layers:
        r = client.get(f"/api/downloads/{layer.id}.gpkg", headers=_headers(who))
        assert r.status_code == 200, (layer.id, who)
        path = tmp_path / f"{layer.id}-{who}.gpkg"
        path.write_bytes(r.data)
        (name, declared), = pyogrio.list_layers(path)
        assert declared == GDAL_NAME[layer.geometry], (layer.id, who)
        frame = pyogrio.read_dataframe(path)
        assert len(frame) and set(frame.geometry.geom_type) == {layer.geometry}, (layer.id, who)


@pytest.mark.parametrize("ext", ["shp.zip", "geojson", "fgb", "csv", "kml"])
def test_the_public_sections_in_every_format_are_of_one_type(client, tmp_path, ext):
    for layer in ("sections", "section-points"):
        path = tmp_path / f"{layer}.{ext}"
        path.write_bytes(client.get(f"/api/downloads/{layer}.{ext}").data)
        source = f"/vsizip/{path}" if ext == "shp.zip" else str(path)
        listed = pyogrio.list_layers(source)
        assert len(listed) == 1   # one file, one layer: no second Shapefile of the points
        frame = pyogrio.read_dataframe(source)
        assert set(frame.geometry.geom_type) == {downloads.LAYERS[layer].geometry}, (layer, ext)


def test_the_public_registry_geopackage_has_one_type_per_layer(client, tmp_path):
    path = tmp_path / "public.gpkg"
    path.write_bytes(client.get("/api/downloads/registry.gpkg").data)
    by_table = {la.table: la for la in downloads.LAYERS.values() if la.collection is not None}
    listed = dict(pyogrio.list_layers(path))
    assert {"sections", "section_points"} <= set(listed)
    for name, declared in listed.items():
        if name == "about":
            continue
        assert declared == GDAL_NAME[by_table[name].geometry]
        frame = pyogrio.read_dataframe(path, layer=name)
        assert set(frame.geometry.geom_type) <= {by_table[name].geometry}


def test_ogr2ogr_converts_the_anonymous_sections_to_a_shapefile(client, tmp_path):
    """What the issue's user ran: the anonymous collection's items converted with GDAL's ogr2ogr to a Shapefile."""
    for collection in ("sections", "section-points"):
        items = tmp_path / f"{collection}.geojson"
        r = client.get(f"/ogcapi/collections/{collection}/items?limit=10000")
        items.write_bytes(r.data)
        out = tmp_path / f"{collection}-shp"
        # lists of names (a section's units) as text, as GDAL's own message advises for a Shapefile; UTF-8 .dbf
        done = subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-lco", "ENCODING=UTF-8", "-mapFieldType",
                               "StringList=String", str(out), str(items)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr
        info = subprocess.run(["ogrinfo", "-so", "-al", str(out)], capture_output=True, text=True, timeout=60).stdout
        expected = {"sections": "Line String", "section-points": "Point"}[collection]
        assert f"Geometry: {expected}" in info
        assert f"Feature Count: {len(r.get_json()['features'])}" in info


def test_the_downloads_page_names_every_layer_in_the_pages_language(client):
    """The point layer (and every kind's layer) is named in Chinese on a Chinese page: the catalogue's title_zh."""
    zh = client.get("/downloads?lang=zh").get_data(as_text=True)
    for layer in downloads.LAYERS.values():
        if not layer.staff_only and layer.collection is not None:
            assert layer.title_zh in zh and f">{layer.title}<" not in zh, layer.id
    assert "Stratigraphic sections as points" in client.get("/downloads?lang=en").get_data(as_text=True)
