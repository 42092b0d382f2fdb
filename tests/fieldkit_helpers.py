"""Helpers of the field-kit tests: check a kit out through the API, edit it the ways QGIS, QField and GDAL do, zip the
kit folder, check it in. Edits go through GDAL's own tools (``ogrinfo -sql`` with GDAL's SQL functions, ``ogr2ogr
-append``, pyogrio) or through plain SQLite with the functions GDAL registers, never through the app's code."""
from __future__ import annotations

import io
import json
import sqlite3
import struct
import subprocess
import zipfile
from pathlib import Path

import shapely
from PIL import Image

from .conftest import bearer


def checkout(client, tmp_path: Path, who: str = "field", **area) -> tuple[str, Path]:
    """(kit id, the unzipped kit folder) of a kit checked out through the API."""
    r = client.post("/api/fieldkits", json=area or {"county": "Guanling"}, headers=bearer(who))
    assert r.status_code == 201, r.get_json()
    kit_id = r.headers["X-Fieldkit-Id"]
    target = tmp_path / f"kit-{kit_id[:8]}"
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        zf.extractall(target)
    (folder,) = [p for p in target.iterdir() if p.is_dir()]
    return kit_id, folder


def checkin(client, kit_id: str, data: bytes, filename: str = "fieldkit.gpkg", who: str = "field"):
    return client.post(f"/api/fieldkits/{kit_id}/checkin", headers=bearer(who),
                       data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def ogr_sql(gpkg: Path, sql: str) -> None:
    """An edit through GDAL's GeoPackage driver (its SQL functions, its triggers, its way of writing the file)."""
    done = subprocess.run(["ogrinfo", str(gpkg), "-sql", sql], capture_output=True, text=True)
    assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr


def ogr_append(gpkg: Path, layer: str, features: list[dict], tmp_path: Path, *extra: str) -> None:
    """Features appended with ogr2ogr, as a surveyor would add points collected elsewhere."""
    source = tmp_path / f"{layer}-append.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    done = subprocess.run(["ogr2ogr", "-update", "-append", "-nln", layer, *extra, str(gpkg), str(source)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def point_feature(lon: float, lat: float, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def gdal_blob(geom, srs_id: int = 4490) -> bytes:
    """A GeoPackage geometry blob the way GDAL writes one (little-endian, with an XY envelope)."""
    minx, miny, maxx, maxy = geom.bounds
    return b"GP\x00\x03" + struct.pack("<i4d", srs_id, minx, maxx, miny, maxy) + shapely.to_wkb(geom, flavor="iso")


def qgis_connection(gpkg: Path, *, wal: bool = True) -> sqlite3.Connection:
    """Plain SQLite as QGIS/QField use it through GDAL: WAL journal, GDAL's ST_* functions for the R-tree triggers."""
    conn = sqlite3.connect(str(gpkg), isolation_level=None)

    def bound(i):
        def fn(blob):
            if blob is None:
                return None
            minx, miny, maxx, maxy = shapely.from_wkb(bytes(blob[40:] if blob[3] & 0b1110 else blob[8:])).bounds
            return (minx, maxx, miny, maxy)[i]
        return fn

    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, bound(i))
    conn.create_function("ST_IsEmpty", 1, lambda blob: None if blob is None else int(bool(blob[3] & 0b1_0000)))
    conn.execute(f"PRAGMA journal_mode = {'WAL' if wal else 'DELETE'}")
    return conn


def png(colour=(120, 80, 40), size=(32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def zip_folder(folder: Path, *, skip: tuple[str, ...] = ()) -> bytes:
    """The kit folder zipped as a file manager does (one top folder), leaving out names ending with ``skip``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.endswith(skip):
                zf.write(path, f"{folder.name}/{path.relative_to(folder)}")
    return out.getvalue()


def counts(body: dict) -> dict[str, int]:
    return {k: len(body[k]) for k in ("proposed", "already_proposed", "unchanged", "missing", "refused",
                                      "photos_not_used")}
