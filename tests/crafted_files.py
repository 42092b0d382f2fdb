"""Files crafted to cost the reader as much as their size allows, one or more per format (issue 22, item 1): what
tests/test_untrusted_files.py sends to the served app while it times other requests.

Two of them stall a reader without end (found by the outside review, and by looking for the next one):
* a GeoPackage whose gpkg_metadata, gpkg_metadata_reference or gpkg_data_columns is a view over a recursive query
  (GDAL reads these tables on its own; the layer pre-check never looked at them);
* a zipped Shapefile of 2.5 MB whose .shx points 20,000 times at one record of 200,000 points: GDAL reads 4 billion
  points (it ran for more than a minute and grew without bound in the server's process).
The others are the costliest files of their formats within the byte limits, made invalid at the very end, so that the
whole file is read before it is refused."""
from __future__ import annotations

import functools
import io
import json
import sqlite3
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from . import hostile_corpus as corpus

_COLUMNS = {
    "gpkg_metadata": "i AS id, 'dataset' AS md_scope, 'x' AS md_standard_uri, 'text/xml' AS mime_type, 'x' AS metadata",
    "gpkg_metadata_reference": "'geopackage' AS reference_scope, NULL AS table_name, NULL AS column_name, "
                               "NULL AS row_id_value, '2024-01-01T00:00:00Z' AS timestamp, i AS md_file_id, "
                               "NULL AS md_parent_id",
    "gpkg_data_columns": "'site' AS table_name, 'name' || i AS column_name, NULL AS name, NULL AS title, "
                         "NULL AS description, NULL AS mime_type, NULL AS constraint_name",
}
STALLING_TABLES = list(_COLUMNS)


@functools.cache  # bytes: made once per run, whichever tests send them
def gpkg_with_recursive_view(table: str) -> bytes:
    """A valid one-feature GeoPackage whose ``table`` is a view over a recursive query without end."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.gpkg"
        path.write_bytes(corpus.valid_gpkg())
        conn = sqlite3.connect(path)
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        if table == "gpkg_metadata_reference":
            conn.execute("CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER PRIMARY KEY, md_scope TEXT, "
                         "md_standard_uri TEXT, mime_type TEXT, metadata TEXT)")
        if table == "gpkg_metadata":  # GDAL reads the metadata that a reference names
            conn.execute("CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (reference_scope TEXT NOT NULL, "
                         "table_name TEXT, column_name TEXT, row_id_value INTEGER, timestamp DATETIME, "
                         "md_file_id INTEGER NOT NULL, md_parent_id INTEGER)")
            conn.execute("INSERT INTO gpkg_metadata_reference VALUES ('geopackage', NULL, NULL, NULL, "
                         "'2024-01-01T00:00:00Z', 5, NULL)")
        conn.execute(f"CREATE VIEW {table} AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
                     f"SELECT {_COLUMNS[table]} FROM r")
        conn.commit()
        conn.close()
        return path.read_bytes()


@functools.cache  # bytes: made once per run, whichever tests send them
def amplified_shapefile_zip(points: int = 200_000, entries: int = 20_000) -> bytes:
    """One MultiPoint record of ``points`` random points, indexed ``entries`` times by the .shx."""
    rng = np.random.default_rng(7)
    xy = np.column_stack([105.58 + rng.random(points) * 0.01, 25.90 + rng.random(points) * 0.01]).astype("<f8")
    bbox = struct.pack("<4d", 105.58, 25.90, 105.59, 25.91)
    content = struct.pack("<i", 8) + bbox + struct.pack("<i", points) + xy.tobytes()
    record = struct.pack(">2i", 1, len(content) // 2) + content

    def header(length_bytes: int) -> bytes:
        return struct.pack(">7i", 9994, 0, 0, 0, 0, 0, length_bytes // 2) + struct.pack("<2i", 1000, 8) + bbox + \
            struct.pack("<4d", 0, 0, 0, 0)

    shp = header(100 + len(record)) + record
    shx = header(100 + 8 * entries) + struct.pack(">2i", 50, len(content) // 2) * entries
    field = b"NAME" + b"\0" * 7 + b"C" + b"\0" * 4 + bytes([1]) + b"\0" * 15
    dbf = struct.pack("<BBBBIHH20x", 3, 124, 1, 1, entries, 65, 2) + field + b"\r" + b" a" * entries + b"\x1a"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (("x.shp", shp), ("x.shx", shx), ("x.dbf", dbf),
                           ("x.prj", 'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,'
                                     '298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')):
            zf.writestr(name, data)
    return out.getvalue()


def _ring(n: int) -> list[list[float]]:
    """``n`` points on a circle, rounded to 7 decimals (computed as arrays: one numpy call per point took ~17 s for
    the 300,000 of costly_geojson, longer than reading the file)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([np.round(105.585 + 0.004 * np.cos(t), 7), np.round(25.905 + 0.004 * np.sin(t), 7)]).tolist()


@functools.cache  # bytes: made once per run, whichever tests send them
def costly_geojson(vertices: int = 300_000) -> bytes:
    """A polygon of ``vertices`` vertices (about 8 MB) whose ring is left open at the very end."""
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "x"},
         "geometry": {"type": "Polygon", "coordinates": [_ring(vertices)]}}]}).encode()


@functools.cache  # bytes: made once per run, whichever tests send them
def costly_kml(vertices: int = 300_000) -> bytes:
    """The same open ring as KML."""
    return corpus._kml(" ".join(f"{x},{y}" for x, y in _ring(vertices)))


@functools.cache  # bytes: made once per run, whichever tests send them
def costly_gpx(points: int = 60_000) -> bytes:
    """A 5 MB-class patrol track whose last point has no longitude."""
    pts = "".join(f'<trkpt lat="{25.90 + i * 1e-6:.6f}" lon="{105.58 + i * 1e-6:.6f}"/>' for i in range(points))
    return corpus._gpx(pts + '<trkpt lat="25.9"/>')


@functools.cache  # bytes: made once per run, whichever tests send them
def costly_csv(rows: int = 20_500) -> bytes:
    """An import of 64 long columns whose last rows go past the 20,000 rows an import takes."""
    header = ",".join(["编号", "名称", "经度", "纬度"] + [f"备注{i}" for i in range(60)])
    body = "\n".join(f"GZ-{i:05d},点{i},{105 + i * 1e-5:.5f},{26 + i * 1e-5:.5f}," + ",".join(["说明" * 5] * 60)
                     for i in range(rows))
    return (header + "\n" + body + "\n").encode("utf-8")


@functools.cache  # bytes: made once per run, whichever tests send them
def costly_png(side: int = 7000) -> bytes:
    """A 49-megapixel PNG of one colour (about 150 KB: it compresses to nothing) cut off before its end."""
    out = io.BytesIO()
    Image.new("RGB", (side, side), (120, 110, 90)).save(out, "PNG")
    data = out.getvalue()
    return data[: len(data) - 40]
