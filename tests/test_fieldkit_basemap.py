"""The offline basemap: a tiny MBTiles file made here with sqlite3 and Pillow, served by the app at its own tile URL
(the CSP stays 'self'), drawn under the maps with BASEMAP = "offline", and clipped into field kits; no basemap by
default."""
from __future__ import annotations

import io
import math
import sqlite3
import subprocess
import zipfile

import pytest
from PIL import Image

from fossil_registry import create_app
from fossil_registry.fieldkit import BasemapError

from .conftest import bearer

GUANLING = (105.30, 25.70, 105.70, 26.00)
FAR_AWAY = (116.30, 39.85, 116.50, 40.00)  # Beijing: never in a Guizhou kit


def xyz_range(bbox, z):
    """Standard slippy-map tile indices (independent of the app's code)."""
    def x(lon):
        return int((lon + 180) / 360 * 2 ** z)

    def y(lat):
        r = math.radians(lat)
        return int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2 ** z)
    return range(x(bbox[0]), x(bbox[2]) + 1), range(y(bbox[3]), y(bbox[1]) + 1)


def tile_bounds(z, x, y):
    def lon(xx):
        return xx / 2 ** z * 360 - 180

    def lat(yy):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * yy / 2 ** z))))
    return lon(x), lat(y + 1), lon(x + 1), lat(y)


def png_tile(z, x, y) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (z * 20 % 256, x % 256, y % 256)).save(out, "PNG")
    return out.getvalue()


def make_mbtiles(path, zooms=range(6, 11), fmt="png", **meta) -> dict:
    """An MBTiles file covering Guanling and Beijing at ``zooms``; returns {(z, x, y_xyz): bytes}."""
    tiles = {}
    for z in zooms:
        for bbox in (GUANLING, FAR_AWAY):
            xs, ys = xyz_range(bbox, z)
            for x in xs:
                for y in ys:
                    tiles[(z, x, y)] = png_tile(z, x, y)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    meta = {"name": "test survey imagery", "format": fmt, "minzoom": str(min(zooms)), "maxzoom": str(max(zooms)),
            "attribution": "Test survey bureau", **meta}
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                     [(z, x, 2 ** z - 1 - y, data) for (z, x, y), data in tiles.items()])  # TMS rows
    conn.commit()
    conn.close()
    return tiles


@pytest.fixture
def basemap(tmp_path):
    path = tmp_path / "survey.mbtiles"
    return path, make_mbtiles(path)


def _app(demo_data_dir, **config):
    return create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x", **config})


def test_the_app_serves_the_tiles_itself(demo_data_dir, basemap):
    path, tiles = basemap
    client = _app(demo_data_dir, OFFLINE_BASEMAP=str(path)).test_client()
    (z, x, y), data = next((k, v) for k, v in tiles.items() if k[0] == 9)
    assert 2 ** z - 1 - y != y  # the XYZ row differs from the stored TMS row
    r = client.get(f"/basemap/tiles/{z}/{x}/{y}")  # anonymous: tiles are no secret
    assert r.status_code == 200 and r.mimetype == "image/png" and r.data == data
    assert "public" in r.headers["Cache-Control"]
    assert client.get(f"/basemap/tiles/{z}/{x}/{y}", headers=bearer("field")).headers["Cache-Control"] == "no-store"
    for missing in (f"/basemap/tiles/{z}/{x + 50}/{y}", "/basemap/tiles/3/1/1", "/basemap/tiles/2/9/9"):
        r = client.get(missing)
        assert r.status_code == 404 and r.data == b""
    default = _app(demo_data_dir).test_client()
    assert default.get(f"/basemap/tiles/{z}/{x}/{y}").status_code == 404  # no basemap unless configured


def test_basemap_offline_draws_them_under_the_maps_and_the_csp_stays_self(demo_data_dir, tmp_path):
    path = tmp_path / "attributed.mbtiles"
    make_mbtiles(path, zooms=range(6, 10), attribution="© Survey bureau {{ 7*7 }} <b>x</b>")
    client = _app(demo_data_dir, OFFLINE_BASEMAP=str(path), BASEMAP="offline").test_client()
    r = client.get("/")
    page = r.get_data(as_text=True)
    assert '"/basemap/tiles/{z}/{x}/{y}"' in page and '"maxNativeZoom": 9' in page
    # the file's attribution is shown as inert text: braces and markup as HTML entities (JSON-escaped in the page)
    assert r"Survey bureau \u0026#123;\u0026#123; 7*7 \u0026#125;\u0026#125; \u0026lt;b\u0026gt;x" in page
    assert "Survey bureau 49" not in page and "<b>x</b>" not in page
    img_src = next(d for d in r.headers["Content-Security-Policy"].split("; ") if d.startswith("img-src"))
    assert img_src == "img-src 'self' data: blob:"
    plain = _app(demo_data_dir).test_client().get("/").get_data(as_text=True)
    assert "/basemap/tiles" not in plain  # the default stays: no basemap


def test_misconfigured_basemaps_stop_the_app_at_start(demo_data_dir, tmp_path):
    with pytest.raises(ValueError, match="OFFLINE_BASEMAP"):
        _app(demo_data_dir, BASEMAP="offline")
    with pytest.raises(BasemapError, match="does not exist"):
        _app(demo_data_dir, OFFLINE_BASEMAP=str(tmp_path / "nowhere.mbtiles"))
    vector = tmp_path / "vector.mbtiles"
    make_mbtiles(vector, zooms=range(6, 7), fmt="pbf")
    with pytest.raises(BasemapError, match="raster tiles"):
        _app(demo_data_dir, OFFLINE_BASEMAP=str(vector))
    text = tmp_path / "text.mbtiles"
    text.write_text("not a database")
    with pytest.raises(BasemapError, match="not an MBTiles file"):
        _app(demo_data_dir, OFFLINE_BASEMAP=str(text))


def _kit_zip(client, **body) -> zipfile.ZipFile:
    r = client.post("/api/fieldkits", json={"county": "Guanling", **body}, headers=bearer("field"))
    assert r.status_code == 201, r.get_json()
    return zipfile.ZipFile(io.BytesIO(r.data))


def test_a_kit_carries_the_basemap_clipped_to_its_area(demo_data_dir, basemap, tmp_path):
    path, tiles = basemap
    client = _app(demo_data_dir, OFFLINE_BASEMAP=str(path)).test_client()
    zf = _kit_zip(client)
    folder = zf.namelist()[0].split("/")[0]
    zf.extractall(tmp_path / "kit")
    clipped = tmp_path / "kit" / folder / "basemap.mbtiles"
    conn = sqlite3.connect(clipped)
    got = {(z, x, 2 ** z - 1 - row): bytes(data) for z, x, row, data in conn.execute("SELECT * FROM tiles")}
    meta = dict(conn.execute("SELECT name, value FROM metadata"))
    conn.close()
    bounds = [float(v) for v in meta["bounds"].split(",")]
    assert meta["format"] == "png" and meta["attribution"] == "Test survey bureau"
    assert (meta["minzoom"], meta["maxzoom"]) == ("6", "10")
    expected = {k for k in tiles if _intersects(tile_bounds(*k), bounds)}
    assert set(got) == expected and all(got[k] == tiles[k] for k in got)
    assert not any(_intersects(tile_bounds(*k), FAR_AWAY) for k in got)  # Beijing stayed home
    assert bounds[0] < 105.372 < bounds[2] and bounds[1] < 25.79 < bounds[3]  # the kit's sites are inside
    info = subprocess.run(["gdalinfo", str(clipped)], capture_output=True, text=True)
    assert info.returncode == 0 and "Driver: MBTiles" in info.stdout
    with zipfile.ZipFile(tmp_path / "kit" / folder / "fieldkit.qgz") as qgz:
        qgs = qgz.read(qgz.namelist()[0]).decode()
    assert "<datasource>./basemap.mbtiles</datasource>" in qgs and "<provider>gdal</provider>" in qgs
    assert "<authid>EPSG:3857</authid>" in qgs.split("<projectlayers>")[0]  # drawn in the basemap's CRS


def _intersects(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_zoom_levels_beyond_the_tile_limit_are_left_out_and_a_kit_can_go_without(demo_data_dir, basemap, app):
    path, tiles = basemap
    application = _app(demo_data_dir, OFFLINE_BASEMAP=str(path), FIELDKIT_BASEMAP_MAX_TILES=8)
    client = application.test_client()
    zf = _kit_zip(client)
    name = next(n for n in zf.namelist() if n.endswith("basemap.mbtiles"))
    data = zf.read(name)
    target = application.config["DATA_DIR"] + "/clipped.mbtiles"
    open(target, "wb").write(data)
    conn = sqlite3.connect(target)
    zooms = [z for (z,) in conn.execute("SELECT DISTINCT zoom_level FROM tiles ORDER BY 1")]
    assert 0 < conn.execute("SELECT count(*) FROM tiles").fetchone()[0] <= 8
    conn.close()
    assert zooms == list(range(6, 6 + len(zooms))) and max(zooms) < 10  # the lowest levels, the highest left out
    zf = _kit_zip(client, basemap=False)
    assert not any(n.endswith(".mbtiles") for n in zf.namelist())
    assert "basemap.mbtiles" not in zf.read(next(n for n in zf.namelist() if n.endswith(".qgz"))).decode("latin-1")
