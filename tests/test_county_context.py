"""Geographic context on the maps (county_context.py, maps.make_map(context=...), static/js/map-context.js, the kit's
context layers, the annual report's map): the province's counties from the installed npm package, converted from
GCJ-02 to CGCS2000 and placed where they really are; outlines only for staff, labelled seats for everyone; Tianditu
in its CGCS2000 tile matrix only with a key."""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import zipfile


import pytest
from pyproj import Geod
from shapely.geometry import Point, box

from fossil_registry import county_context, maps
from fossil_registry.coords import gcj02_to_wgs84
from fossil_registry.fieldkit import context_layers, qgis_project
from fossil_registry.fieldkit.qgis_project import project_xml

from .conftest import login
from .fieldkit_helpers import checkout

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid is GRS80 to 0.1 mm
# 关岭布依族苗族自治县's seat (关索街道), WGS84 = CGCS2000 at metre level: 25°56′45″N 105°36′57″E (Wikipedia's
# infobox of the county, rounded to the arc second, ~30 m)
GUANLING_SEAT = (105.6158, 25.9458)


def metres(a, b) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


@pytest.fixture(scope="module")
def guizhou() -> county_context.ProvinceContext:
    return county_context.build(county_context.default_source(), "贵州省")


def test_the_province_has_its_88_counties_each_seat_inside_its_outline(guizhou):
    assert len(guizhou.counties) == 88 and len({c.code for c in guizhou.counties}) == 88
    assert all(c.code.startswith("52") and c.outline.is_valid and not c.outline.is_empty for c in guizhou.counties)
    assert all(c.outline.covers(Point(*c.seat)) for c in guizhou.counties)
    west, south, east, north = guizhou.bounds()   # the configured REGION_BBOX is (103.6, 24.6, 109.6, 29.2)
    assert 103.5 < west < 103.7 and 24.5 < south < 24.7 and 109.5 < east < 109.7 and 29.1 < north < 29.3
    assert county_context.short_name("关岭布依族苗族自治县") == "关岭"
    assert county_context.short_name("威宁彝族回族苗族自治县") == "威宁" and county_context.short_name("六枝特区") == "六枝特区"


def test_guanling_is_where_it_really_is_after_the_datum_conversion(guizhou):
    guanling = next(c for c in guizhou.counties if c.code == "520424")
    assert guanling.name == "关岭布依族苗族自治县" and guanling.prefecture == "安顺市"
    converted = metres(guanling.seat, GUANLING_SEAT)
    assert converted < 300, converted
    # the package's own (GCJ-02) position is ~450 m off: the conversion is what puts it in place
    raw = gcj02_to_wgs84(*guanling.seat)   # a second conversion moves it as far again, the other way round
    assert metres(raw, guanling.seat) > 350
    # the sites of the Guanling biota (PBDB 98908, 25.9 N 105.6 E) lie in the county
    assert guizhou.county_at(105.6, 25.9).code == "520424"


def test_the_layer_is_built_once_into_the_cache_and_read_back(tmp_path, guizhou, caplog):
    config = {"COUNTY_CONTEXT_CACHE": str(tmp_path), "REGION_NAME_ZH": "贵州省",
              "COUNTY_CONTEXT_SOURCE": str(tmp_path / "no-such-source")}
    assert county_context.cache_path(config) == tmp_path / "贵州-counties.geojson"
    county_context._write(guizhou, county_context.cache_path(config))
    loaded = county_context.load(config)   # from the cache file: the source folder does not exist
    assert loaded is not None and [c.code for c in loaded.counties] == [c.code for c in guizhou.counties]
    assert [c.seat for c in loaded.counties] == [tuple(round(v, 5) for v in c.seat) for c in guizhou.counties]
    nowhere = {"COUNTY_CONTEXT_CACHE": str(tmp_path / "other"), "REGION_NAME_ZH": "贵州省",
               "COUNTY_CONTEXT_SOURCE": str(tmp_path)}
    assert county_context.load(nowhere) is None and "without county context" in caplog.text
    assert county_context.cache_path({"REGION_NAME_ZH": "贵州省"}).parts[-3:] == ("build", "context",
                                                                                "贵州-counties.geojson")


def test_web_layers_are_small_and_keep_neighbours_together(guizhou):
    outlines = county_context.web_outlines(guizhou)
    assert len(json.dumps(outlines)) < 200_000 and len(outlines["features"]) == 88
    assert all(f["properties"] == {} for f in outlines["features"])
    seats = county_context.web_seats(guizhou)
    assert {f["properties"]["label"] for f in seats["features"]} >= {"关岭", "西秀区", "六枝特区"}


# ------------------------------------------------------------------------------------------------ web maps
def _context_block(html: str) -> dict | None:
    found = re.search(r'<script[^>]*type="application/json" class="map-context"[^>]*>(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None


def test_public_pages_carry_seats_only_and_the_operator_hint_staff_pages_outlines(client):
    public = client.get("/?lang=zh").get_data(as_text=True)
    block = _context_block(public)
    assert block["seats"] == "/map/county-seats.geojson" and block["outlines"] is None
    hint = re.search(r'<meta name="basemap-hint" content="([^"]+)">', public).group(1)
    assert block["hint"] is True and "FLASK_TIANDITU_KEY" in hint and "天地图" in hint
    assert "county-outlines" not in public
    for url in ("/report", "/impact"):
        page = client.get(url).get_data(as_text=True)
        assert "county-outlines" not in page and _context_block(page)["outlines"] is None, url
    seats = client.get("/map/county-seats.geojson")
    assert seats.status_code == 200 and seats.mimetype == "application/geo+json"
    assert len(seats.get_json()["features"]) == 88 and "public" in seats.headers["Cache-Control"]
    assert all(f["geometry"]["type"] == "Point" for f in seats.get_json()["features"])
    assert client.get("/context/county-outlines.geojson").status_code == 401   # no boundaries for the public
    login(client, "field")
    proposal = client.get("/revisions/new").get_data(as_text=True)
    assert _context_block(proposal)["outlines"] == "/context/county-outlines.geojson"
    outlines = client.get("/context/county-outlines.geojson")
    assert outlines.status_code == 200 and len(outlines.get_json()["features"]) == 88
    assert "public" not in outlines.headers["Cache-Control"]   # staff answers are never stored (security.py)
    # the public map stays a public page for staff too: seats, no outlines
    assert _context_block(client.get("/").get_data(as_text=True))["outlines"] is None


def test_tianditu_layers_in_the_cgcs2000_matrix_only_with_a_key():
    plain = maps.render(maps.make_map(), nonce="n").script
    assert "tianditu.gov.cn" not in plain and "TILEMATRIX" not in plain
    tdt = maps.render(maps.make_map(basemap="tianditu", tianditu_key="k3y"), nonce="n")
    script = str(tdt.script).replace("\\u0026", "&")   # folium writes the URL as JSON
    for layer in ("vec", "cva"):
        assert f"/{layer}_c/wmts?" in script and f"LAYER={layer}&" in script
    assert "TILEMATRIXSET=c" in script and "tk=k3y" in script and "_w/wmts" not in script
    assert "L.CRS.EPSG4326" in script and '"zoomOffset": 1' in script
    # over Tianditu (its annotation names the places) public pages draw no seats of their own and need no hint
    assert _context_block(script) is None
    staff = str(maps.render(maps.make_map(basemap="tianditu", tianditu_key="k3y", context=maps.STAFF_CONTEXT),
                            nonce="n").script)
    assert _context_block(staff)["outlines"] and _context_block(staff)["hint"] is False
    with pytest.raises(ValueError):
        maps.make_map(context="provinces")


# ------------------------------------------------------------------------------------------------ field kits
def test_a_kit_carries_the_counties_around_it_as_layers_under_the_sites(client, tmp_path):
    kit_id, folder = checkout(client, tmp_path, county="Guanling")
    gpkg = folder / "fieldkit.gpkg"
    conn = sqlite3.connect(gpkg)
    names = dict(conn.execute(f'SELECT code, name FROM "{context_layers.COUNTY_OUTLINES}"').fetchall())
    seats = conn.execute(f'SELECT count(*) FROM "{context_layers.COUNTY_SEATS}"').fetchone()[0]
    contents = {r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents")}
    conn.close()
    assert names["520424"] == "关岭布依族苗族自治县" and 3 <= len(names) < 30 and seats == len(names)
    assert {context_layers.COUNTY_OUTLINES, context_layers.COUNTY_SEATS} <= contents
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(gpkg), context_layers.COUNTY_OUTLINES], capture_output=True,
                          text=True, check=True).stdout
    assert "Multi Polygon" in info and "EPSG" in info and f"Feature Count: {len(names)}" in info
    with zipfile.ZipFile(next(folder.glob("*.qgz"))) as zf:
        qgs = zf.read("fieldkit.qgs").decode()
    order = re.findall(r'<layer id="([^"]+)"', qgs.split("<layerorder>")[1])
    # the layer order lists the top first: every kit layer above the context, the outlines at the bottom
    assert order[-2:] == [f"{context_layers.COUNTY_SEATS}_{kit_id[:8]}", f"{context_layers.COUNTY_OUTLINES}_{kit_id[:8]}"]
    assert 'fieldName="label"' in qgs and qgis_project.LABEL_FONT in qgs


def test_a_kit_without_context_has_no_context_layers():
    qgs = project_xml(title="t", kit_id="abcdef0123", bbox=(105.5, 25.8, 105.7, 26.0), basemap=False).decode()
    assert context_layers.COUNTY_OUTLINES not in qgs
    with_context = project_xml(title="t", kit_id="abcdef0123", bbox=(105.5, 25.8, 105.7, 26.0), basemap=False,
                               context=True).decode()
    assert with_context.count("<maplayer") == qgs.count("<maplayer") + 2


def test_kit_rows_are_the_counties_meeting_the_area(tmp_path, guizhou):
    from fossil_registry.store import kitfile
    path = tmp_path / "k.gpkg"
    kitfile.create_kit_file(path, context_layers.tables())
    n = context_layers.write_rows(path, guizhou, (105.55, 25.85, 105.65, 25.95))
    area = box(105.55, 25.85, 105.65, 25.95).buffer(context_layers.MARGIN_DEG, join_style="mitre")
    assert n == sum(c.outline.intersects(area) for c in guizhou.counties) and n < 88
