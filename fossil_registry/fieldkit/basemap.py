"""The offline basemap: an MBTiles file of raster XYZ tiles (Web Mercator) that the operator is licensed to use
offline. The app serves its tiles itself (so the CSP stays 'self' and a machine with no internet has a real map), and a
field kit carries a copy clipped to its area. How an operator makes one: docs/fieldkit.md."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..store import mbtiles
from ..messages import msg

MIME_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
_MAGIC = ((b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpg"), (b"RIFF", "webp"))
MAX_LAT = 85.0511287798  # Web Mercator's limit


class BasemapError(ValueError):
    """The configured file is not a usable raster MBTiles basemap (raised at start-up, so it is fixed before use)."""


@dataclass(frozen=True)
class Basemap:
    path: Path
    format: str
    min_zoom: int
    max_zoom: int
    attribution: str
    name: str

    @property
    def mimetype(self) -> str:
        return MIME_TYPES[self.format]


def open_basemap(path: str | Path) -> Basemap:
    """The basemap's description; BasemapError if the file is missing or not raster MBTiles."""
    path = Path(path)
    try:
        return _described(str(path.resolve()), path.stat().st_mtime_ns)
    except OSError:
        raise BasemapError(msg("fieldkit.offline_basemap_does_exist", "OFFLINE_BASEMAP: {path} does not exist or "
                               "cannot be read", path=path)) from None


@lru_cache(maxsize=8)
def _described(path: str, _mtime: int) -> Basemap:
    try:
        meta, zooms, first = mbtiles.describe(path)
    except ValueError as exc:
        raise BasemapError(msg("fieldkit.offline_basemap", "OFFLINE_BASEMAP: {path} is {exc}", path=path, exc=exc)) from None
    if not zooms:
        raise BasemapError(msg("fieldkit.offline_basemap_holds_tiles", "OFFLINE_BASEMAP: {path} holds no tiles",
                               path=path))
    fmt = (meta.get("format") or "").lower() or next((f for magic, f in _MAGIC if first and first.startswith(magic)), "")
    if fmt not in MIME_TYPES:
        raise BasemapError(msg("fieldkit.offline_basemap_holds_tiles_2", "OFFLINE_BASEMAP: {path} holds {value} "
                               "tiles; the maps and QField need raster tiles (png, jpg or webp), not vector tiles",
                               path=path, value=fmt or 'unknown'))
    return Basemap(Path(path), "jpg" if fmt == "jpeg" else fmt, zooms[0], zooms[-1],
                   meta.get("attribution", ""), meta.get("name", Path(path).stem))


def tile(path: str | Path, zoom: int, x: int, y: int) -> tuple[bytes, str] | None:
    """The tile at XYZ (zoom, x, y) and its type, or None where the file has none."""
    basemap = open_basemap(path)
    if not (0 <= zoom <= 30 and 0 <= x < 2 ** zoom and 0 <= y < 2 ** zoom):
        return None
    conn = mbtiles.open_mbtiles(basemap.path)
    try:
        data = mbtiles.tile(conn, zoom, x, 2 ** zoom - 1 - y)  # MBTiles rows count from the south (TMS)
    finally:
        conn.close()
    return None if data is None else (data, basemap.mimetype)


def tile_range(bbox: tuple[float, float, float, float], zoom: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(first, last) XYZ column and row of the tiles covering bbox (min_lon, min_lat, max_lon, max_lat) at ``zoom``."""
    n = 2 ** zoom

    def column(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))

    def row(lat: float) -> int:
        lat = math.radians(max(-MAX_LAT, min(MAX_LAT, lat)))
        return min(n - 1, max(0, int((1.0 - math.asinh(math.tan(lat)) / math.pi) / 2.0 * n)))

    return (column(bbox[0]), column(bbox[2])), (row(bbox[3]), row(bbox[1]))


@dataclass(frozen=True)
class Clip:
    tiles: int
    zooms: tuple[int, int] | None     # (lowest, highest) zoom carried, None if no tile
    left_out: tuple[int, ...]         # zoom levels left out to stay under the tile limit


def clip(path: str | Path, bbox: tuple[float, float, float, float], dest: str | Path, *, max_tiles: int,
         margin_deg: float, label: str) -> Clip:
    """Copy the tiles of the basemap covering ``bbox`` grown by ``margin_deg`` into a new MBTiles file at ``dest``,
    zoom level by zoom level from the lowest, leaving out the levels that would exceed ``max_tiles``."""
    basemap = open_basemap(path)
    grown = (max(-180.0, bbox[0] - margin_deg), max(-MAX_LAT, bbox[1] - margin_deg),
             min(180.0, bbox[2] + margin_deg), min(MAX_LAT, bbox[3] + margin_deg))
    conn = mbtiles.open_mbtiles(basemap.path)
    ranges, total, left_out = [], 0, []
    try:
        for zoom in range(basemap.min_zoom, basemap.max_zoom + 1):
            columns, rows = tile_range(grown, zoom)
            tms_rows = (2 ** zoom - 1 - rows[1], 2 ** zoom - 1 - rows[0])
            count = mbtiles.count_tiles(conn, zoom, columns, tms_rows)
            if left_out or total + count > max_tiles:
                left_out.append(zoom)
                continue
            if count:
                ranges.append((zoom, columns, tms_rows))
                total += count
    finally:
        conn.close()
    zooms = (ranges[0][0], ranges[-1][0]) if ranges else None
    meta = {"name": f"{basemap.name} ({label})", "format": basemap.format, "type": "baselayer", "version": "1.3",
            "bounds": ",".join(f"{v:.6f}" for v in grown), "attribution": basemap.attribution,
            "description": f"clipped from {basemap.path.name} for {label}",
            "minzoom": str(zooms[0] if zooms else basemap.min_zoom), "maxzoom": str(zooms[1] if zooms else basemap.min_zoom),
            "center": f"{(grown[0] + grown[2]) / 2:.6f},{(grown[1] + grown[3]) / 2:.6f},{zooms[0] if zooms else 0}"}
    copied = mbtiles.write_clipped(basemap.path, dest, ranges, meta)
    return Clip(copied, zooms, tuple(left_out))
