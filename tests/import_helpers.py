"""Files of sites as surveyors and GIS offices have them, written with GDAL (pyogrio) or by hand, and the calls the
import tests make again and again."""
from __future__ import annotations

import io
import tempfile
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
from pyproj import Transformer
from shapely.geometry import Point

from .conftest import bearer


def gk108(lon: float, lat: float) -> tuple[float, float]:
    """CGCS2000 3-degree Gauss-Kruger, central meridian 108E, no zone prefix (EPSG:4545): easting, northing."""
    return Transformer.from_crs(4490, 4545, always_xy=True).transform(lon, lat)


def shapefile_zip(records: list[dict], points: list, *, crs: str | None = "EPSG:4545", encoding: str = "GBK",
                  cpg: bool = True, prj: bool = True, stem: str = "sites") -> bytes:
    """A zipped Shapefile written by GDAL; without .cpg / .prj when asked (a .dbf then has no language driver)."""
    with tempfile.TemporaryDirectory() as tmp:
        df = gpd.GeoDataFrame(records, geometry=points, crs=crs)
        pyogrio.write_dataframe(df, Path(tmp) / f"{stem}.shp", encoding=encoding)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for path in sorted(Path(tmp).iterdir()):
                if (path.suffix == ".cpg" and not cpg) or (path.suffix == ".prj" and not prj):
                    continue
                zf.write(path, path.name)
        return buf.getvalue()


def geopackage(layers: dict[str, tuple[list[dict], list]], crs: str = "EPSG:4490") -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "survey.gpkg"
        for name, (records, geoms) in layers.items():
            pyogrio.write_dataframe(gpd.GeoDataFrame(records, geometry=geoms, crs=crs), path, layer=name)
        return path.read_bytes()


def geojson(features: list[tuple[dict, object]]) -> bytes:
    import json

    from shapely.geometry import mapping
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": mapping(g) if g is not None else None}
        for p, g in features]}, ensure_ascii=False).encode()


def upload(client, data: bytes, filename: str, who: str = "admin", **options):
    return client.post("/api/imports", headers=bearer(who),
                       data={"file": (io.BytesIO(data), filename), **{k: str(v) for k, v in options.items()}},
                       content_type="multipart/form-data")


def wait(client, import_id: int, who: str = "admin", timeout: float = 180, seen: list | None = None) -> dict:
    """Poll the import until its background job has finished (ready, done or failed); ``seen`` collects the
    (state, done, total) answers on the way."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/imports/{import_id}?limit=0", headers=bearer(who)).get_json()
        if seen is not None:
            seen.append((body["state"], body["progress"]["done"], body["progress"]["total"]))
        if body["state"] not in ("analysing", "proposing"):
            return client.get(f"/api/imports/{import_id}?limit=1000", headers=bearer(who)).get_json()
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def imported(client, data: bytes, filename: str, **options) -> dict:
    """Upload and wait for the analysis."""
    r = upload(client, data, filename, **options)
    assert r.status_code == 202, r.get_json()
    return wait(client, r.get_json()["id"])


def confirm(client, body: dict, reason: str = "2025 survey campaign", **extra) -> dict:
    r = client.post(f"/api/imports/{body['id']}/confirm", headers=bearer("admin"),
                    json={"generation": body["generation"], "reason": reason, **extra})
    assert r.status_code == 202, r.get_json()
    return wait(client, body["id"])


def by_row(body: dict) -> dict[int, dict]:
    return {r["row"]: r for r in body["rows"]}


def point(lon: float, lat: float) -> Point:
    return Point(lon, lat)
