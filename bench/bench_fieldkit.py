"""Cost of field kits on a registry of 2,000 sites: checking out a kit of all of them (GeoPackage + QGIS project + zip),
checking it in unchanged (every feature compared with its base version), with 200 changed sites (200 proposals), and
again (idempotent: nothing new); and clipping a ~19,000-tile MBTiles basemap (zoom 6-15) to a county and to the
whole area (where a 10,000-tile limit leaves the highest zoom level out). Prints figures; asserts nothing.
Run: .venv/bin/python bench/bench_fieldkit.py"""
from __future__ import annotations

import io
import random
import sqlite3
import tempfile
import time
import zipfile
from pathlib import Path

from PIL import Image
from shapely.geometry import MultiPolygon, Point, box

from fossil_registry import fieldkit, sites, store
from fossil_registry.fieldkit import basemap as basemaps

SITES = 2000
CHANGED = 200


def build(path: Path) -> None:
    store.create_registry(path)
    conn = store.connect(path)
    rng = random.Random(7)
    with store.transaction(conn):
        for i in range(1, SITES + 1):
            lon, lat = rng.uniform(104.0, 109.0), rng.uniform(25.0, 28.8)
            h = rng.uniform(0.002, 0.01)
            sites.create_site(conn, code=f"GZ-{i:04d}", properties={
                "name": f"化石点 {i}", "level": rng.choice(sites.LEVELS), "sensitivity": rng.choice(sites.SENSITIVITIES),
                "county": "Bench", "period": "Triassic"}, location=Point(lon, lat),
                boundary=MultiPolygon([box(lon - h, lat - h, lon + h, lat + h)]), author="bench", reason="bench")
    conn.close()


def gpkg_of(kit: fieldkit.Kit) -> bytes:
    with zipfile.ZipFile(kit.file) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith(".gpkg")))


def edited(data: bytes, tmp: Path) -> bytes:
    """CHANGED sites moved by ~10 m, written with plain SQLite and the kit's own blob encoding."""
    path = tmp / "edited.gpkg"
    path.write_bytes(data)
    conn = store.connect(path)  # registers the ST_* functions the kit's R-tree triggers call
    rows = conn.execute(f"SELECT fid, geom FROM site_locations ORDER BY fid LIMIT {CHANGED}").fetchall()
    with store.transaction(conn):
        for fid, blob in rows:
            p = store.decode_geometry(blob)
            conn.execute("UPDATE site_locations SET geom = ?, method = 'rtk', accuracy_m = 0.05 WHERE fid = ?",
                         (store.encode_geometry(Point(p.x + 0.0001, p.y)), fid))
    store.fold_wal(conn)
    conn.close()
    return path.read_bytes()


def mbtiles(path: Path, zooms=range(6, 16)) -> int:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 210, 190)).save(out, "PNG")
    tile = out.getvalue()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    conn.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", [("format", "png"), ("name", "bench")])
    count = 0
    for z in zooms:
        (x0, x1), (y0, y1) = basemaps.tile_range((105.0, 25.5, 106.5, 26.5), z)
        rows = [(z, x, 2 ** z - 1 - y, tile) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
        count += len(rows)
    conn.commit()
    conn.close()
    return count


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        registry = tmp / "data" / "sites" / "registry.gpkg"
        t0 = time.perf_counter()
        build(registry)
        print(f"registry of {SITES} sites built in {time.perf_counter() - t0:.1f} s")
        conn = store.connect(registry)
        settings = fieldkit.Settings.from_config({"DATA_DIR": str(tmp / "data"), "FIELDKIT_MAX_SITES": SITES})
        t0 = time.perf_counter()
        kit = fieldkit.check_out(conn, fieldkit.parse_area({"county": "Bench"}), actor="bench", settings=settings)
        took = time.perf_counter() - t0
        size = kit.file.seek(0, 2)
        kit.file.seek(0)
        print(f"check out {SITES} sites (gpkg + qgz + zip):   {took * 1000:8.0f} ms, zip {size / 1e6:.2f} MB")
        data = gpkg_of(kit)
        t0 = time.perf_counter()
        found = fieldkit.check_in(conn, "fieldkit.gpkg", data, actor="bench", settings=settings)
        print(f"check in unchanged ({len(found['summary']['unchanged'])} compared):      "
              f"{(time.perf_counter() - t0) * 1000:8.0f} ms")
        changed = edited(data, tmp)
        t0 = time.perf_counter()
        found = fieldkit.check_in(conn, "fieldkit.gpkg", changed, actor="bench", settings=settings)
        took = time.perf_counter() - t0
        n = len(found["summary"]["proposed"])
        print(f"check in {CHANGED} changed sites -> {n} proposals: {took * 1000:8.0f} ms "
              f"({took / max(n, 1) * 1000:.1f} ms per proposal)")
        t0 = time.perf_counter()
        found = fieldkit.check_in(conn, "fieldkit.gpkg", changed, actor="bench", settings=settings)
        print(f"check in the same again (0 new, {len(found['summary']['already_proposed'])} found): "
              f"{(time.perf_counter() - t0) * 1000:8.0f} ms")
        tiles = mbtiles(tmp / "basemap.mbtiles")
        t0 = time.perf_counter()
        clip = basemaps.clip(tmp / "basemap.mbtiles", (105.3, 25.7, 105.7, 26.0), tmp / "clip.mbtiles",
                             max_tiles=20000, margin_deg=0.02, label="bench")
        print(f"clip a {tiles}-tile basemap to a county:    {(time.perf_counter() - t0) * 1000:8.0f} ms -> "
              f"{clip.tiles} tiles, zooms {clip.zooms}, left out {list(clip.left_out)}, "
              f"{(tmp / 'clip.mbtiles').stat().st_size / 1e6:.1f} MB")
        t0 = time.perf_counter()
        clip = basemaps.clip(tmp / "basemap.mbtiles", (105.0, 25.5, 106.5, 26.5), tmp / "all.mbtiles",
                             max_tiles=10000, margin_deg=0.02, label="bench")
        print(f"clip it to its whole area (limit 10,000):    {(time.perf_counter() - t0) * 1000:8.0f} ms -> "
              f"{clip.tiles} tiles, zooms {clip.zooms}, left out {list(clip.left_out)}")
        conn.close()


if __name__ == "__main__":
    main()
