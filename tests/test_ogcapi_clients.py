"""Real GIS clients read the served registry as an OGC API - Features service: GDAL's OAPIF driver through pyogrio and
OWSLib's Features, with paging across several pages, bbox and CRS; the features are checked against the GeoPackage
(the public view for anonymous callers, the exact data with a staff token)."""
from __future__ import annotations

from contextlib import contextmanager

import pyogrio
import pyproj
import pytest
import requests
from owslib.ogcapi.features import Features
from shapely.geometry import shape

from fossil_registry import public_view, sites, store
from fossil_registry.coords import to_gauss_kruger
from fossil_registry.sections import SECTION

from .conftest import TOKENS
from .inspection_helpers import gpx_xml
from .served import served_registry  # noqa: F401  (pytest fixture)

PAGE = 9  # smaller than the registry: every read below crosses several pages


def _registry(served) -> tuple[list[sites.Site], list[public_view.PublicSite]]:
    conn = store.connect(served.registry)
    try:
        return sites.list_current(conn), public_view.list_public(conn)
    finally:
        conn.close()


@contextmanager
def _gdal_token(token: str | None):
    """GDAL sends ``Authorization: Bearer <token>`` (GDAL_HTTP_AUTH=BEARER) while the block runs."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER" if token else None, "GDAL_HTTP_BEARER": token,
                                     "GDAL_HTTP_TIMEOUT": "30"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})


def _read(served, layer: str, **kwargs):
    return pyogrio.read_dataframe(f"OAPIF:{served.url}/ogcapi", layer=layer, PAGE_SIZE=str(PAGE), **kwargs)


def test_gdal_lists_the_collections_anonymous_and_staff(served_registry):
    with _gdal_token(None):
        assert [name for name, _ in pyogrio.list_layers(f"OAPIF:{served_registry.url}/ogcapi")] == [
            "sites", "boundaries", "sections", "section-points", "markers"]
    with _gdal_token(TOKENS["field"]):
        names = [name for name, _ in pyogrio.list_layers(f"OAPIF:{served_registry.url}/ogcapi")]
    assert names == ["sites", "boundaries", "sections", "section-points", "markers", "inspections", "patrol-tracks"]


def test_gdal_types_every_anonymous_collection_by_its_one_geometry_type(served_registry):
    """Issue 25: the anonymous sections mixed lines and cell-centre points, and GDAL typed the layer "Unknown"."""
    with _gdal_token(None):
        for name, declared in (("sections", "LineString"), ("section-points", "Point"), ("sites", "Point")):
            frame = _read(served_registry, name)
            assert len(frame) and set(frame.geometry.geom_type) == {declared}, name
            assert pyogrio.read_info(f"OAPIF:{served_registry.url}/ogcapi", layer=name)["geometry_type"] == declared


def test_gdal_reads_the_public_view_across_pages(served_registry):
    _, public = _registry(served_registry)
    assert len(public) > 3 * PAGE
    with _gdal_token(None):
        df = _read(served_registry, "sites")
    assert df.crs.to_epsg() == 4490  # GDAL takes the storageCrs the collection announces
    assert sorted(df["code"]) == sorted(p.code for p in public)
    expected = {p.code: p for p in public}
    for code, geom, name in zip(df["code"], df.geometry, df["name"]):
        assert geom.equals_exact(expected[code].location, 1e-7), code
        assert name == expected[code].properties["name"]  # Chinese intact
    assert any("化石" in n for n in df["name"])


def test_gdal_with_a_staff_token_reads_exact_locations_and_bbox(served_registry):
    everything, _ = _registry(served_registry)
    exact = {s.code: s for s in everything}
    with _gdal_token(TOKENS["field"]):
        df = _read(served_registry, "sites")
        box = (105.0, 25.5, 106.5, 26.5)
        inside = _read(served_registry, "sites", bbox=box)
    assert sorted(df["code"]) == sorted(exact)
    for code, geom in zip(df["code"], df.geometry):
        assert geom.equals_exact(exact[code].location, 1e-7), code
    expected = sorted(c for c, s in exact.items() if box[0] <= s.location.x <= box[2] and box[1] <= s.location.y <= box[3])
    assert 0 < len(expected) < len(exact) and sorted(inside["code"]) == expected


def test_gdal_reads_a_gauss_kruger_zone(served_registry):
    everything, _ = _registry(served_registry)
    site = next(s for s in everything if s.code == "GZ-0001")
    gk = to_gauss_kruger(site.location.x, site.location.y)
    with _gdal_token(TOKENS["field"]):
        df = _read(served_registry, "sites", CRS=f"EPSG:{gk['epsg']}")
    assert df.crs.equals(pyproj.CRS.from_epsg(gk["epsg"]))  # (pyproj names it by the equal 6-degree zone 18 CRS)
    geom = df.geometry[list(df["code"]).index("GZ-0001")]
    # GeoPandas holds x = easting, y = northing (GDAL's traditional GIS order), whatever the CRS's axis order
    assert (geom.x, geom.y) == pytest.approx((gk["y_easting"], gk["x_northing"]), abs=0.01)
    assert len(df) == len(everything)


def test_gdal_reads_boundaries_and_staff_collections(served_registry):
    everything, _ = _registry(served_registry)
    site = next(s for s in everything if s.code == "GZ-0001")
    x, y = site.location.x, site.location.y
    walked = [(x, y), (x + 0.004, y + 0.002), (x + 0.008, y)]
    recorded = requests.post(f"{served_registry.url}/api/sites/GZ-0001/inspections",
                             headers={"Authorization": f"Bearer {TOKENS['expert']}"},
                             data={"date": "2026-05-01", "condition": "good", "inspectors": "ellen",
                                   "lon": str(x), "lat": str(y)},
                             files={"track": ("patrol.gpx", gpx_xml(walked), "application/gpx+xml")}, timeout=30)
    assert recorded.status_code == 201, recorded.text
    inspection_id = recorded.json()["id"]
    with _gdal_token(TOKENS["field"]):
        boundaries = _read(served_registry, "boundaries")
        inspections = _read(served_registry, "inspections")
        tracks = _read(served_registry, "patrol-tracks")
    with_boundary = {s.code: s for s in everything if s.boundary is not None}
    assert sorted(boundaries["code"]) == sorted(with_boundary)
    for code, geom in zip(boundaries["code"], boundaries.geometry):
        assert geom.equals_exact(with_boundary[code].boundary, 1e-6), code
    conn = store.connect(served_registry.registry)
    try:  # sections are inspected too (their yearly survey): the inspections collection holds both kinds
        features = {s.code for s in everything} | {s.code for s in sites.list_current(conn, kind=SECTION)}
    finally:
        conn.close()
    assert len(inspections) > PAGE and set(inspections["site"]) <= features
    assert any(code.startswith("GZS-") for code in inspections["site"])
    mine = inspections[inspections["id"] == inspection_id]
    assert mine.geometry.iloc[0].equals_exact(site.location, 1e-7) and mine["condition"].iloc[0] == "good"
    track = tracks[tracks["inspection_id"] == inspection_id]
    assert len(track) == 1 and track["site"].iloc[0] == "GZ-0001"
    assert [v for line in getattr(track.geometry.iloc[0], "geoms", [track.geometry.iloc[0]])
            for p in line.coords for v in p[:2]] == pytest.approx([v for p in walked for v in p], abs=1e-7)


def test_owslib_features_pages_with_next_links_and_bbox(served_registry):
    _, public = _registry(served_registry)
    api = Features(served_registry.url + "/ogcapi")
    assert {c["id"] for c in api.collections()["collections"]} == {"sites", "boundaries", "sections", "section-points",
                                                                  "markers"}
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    assert set(api.collection_queryables("sites")["properties"]) >= {"level", "period", "county"}
    codes, cursor, pages = [], None, 0
    while True:
        extra = {"cursor": cursor} if cursor else {}
        page = api.collection_items("sites", limit=PAGE, **extra)
        codes += [f["id"] for f in page["features"]]
        pages += 1
        nxt = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        if not nxt:
            break
        cursor = requests.utils.urlparse(nxt).query.split("cursor=")[1].split("&")[0]
    assert codes == sorted(p.code for p in public) and pages == -(-len(public) // PAGE)
    box = [105.0, 25.5, 106.5, 26.5]
    inside = api.collection_items("sites", bbox=box, limit=1000)
    expected = sorted(p.code for p in public if box[0] <= p.location.x <= box[2] and box[1] <= p.location.y <= box[3])
    assert [f["id"] for f in inside["features"]] == expected
    one = api.collection_item("sites", expected[0])
    assert shape(one["geometry"]).equals_exact(next(p for p in public if p.code == expected[0]).location, 1e-7)


def test_owslib_staff_token_and_crs(served_registry):
    everything, _ = _registry(served_registry)
    api = Features(served_registry.url + "/ogcapi", headers={"Authorization": f"Bearer {TOKENS['expert']}"})
    assert {c["id"] for c in api.collections()["collections"]} == {"sites", "boundaries", "sections", "section-points",
                                                                  "markers", "inspections", "patrol-tracks"}
    page = api.collection_items("sites", limit=1000, crs="http://www.opengis.net/def/crs/EPSG/0/4490")
    exact = {s.code: s for s in everything}
    assert len(page["features"]) == len(exact)
    for f in page["features"]:
        lat, lon = f["geometry"]["coordinates"]
        assert (lon, lat) == pytest.approx((exact[f["id"]].location.x, exact[f["id"]].location.y), abs=1e-7)
