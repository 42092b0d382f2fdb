"""Coordinate reference systems: identifying them (EPSG codes, Chinese names and aliases, WKT and ESRI .prj text) and
converting coordinates and geometries between them and CGCS2000 (EPSG:4490) with PROJ.

Xian 1980 and Beijing 1954 are reached through an explicit 7-parameter Helmert pipeline (:class:`Helmert7`), never
through PROJ's ballpark no-op; GCJ-02/BD-09 are delegated to :mod:`.offsets`.

Axis order: every array function takes and returns x, y = easting/longitude, northing/latitude (PROJ's
``always_xy``).
"""
from __future__ import annotations

import math
import re
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError

from .base import CoordinateError, DatumShiftWarning, UnknownCRSError, _arrays, _out
from .offsets import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from ..messages import Label, msg


@dataclass(frozen=True)
class CRSInfo:
    key: str                # 'EPSG:4490', 'EPSG:4545', 'GCJ02', 'BD09' or 'WKT'
    label: str
    kind: str               # 'geographic' | 'projected' | 'offset'
    crs: pyproj.CRS | None  # None for GCJ02/BD09
    needs_datum_shift: bool
    zone_prefixed: bool


@dataclass
class Helmert7:
    """A named 7-parameter transformation from a local datum (Xian 1980, Beijing 1954) to CGCS2000."""
    name: str
    tx: float
    ty: float
    tz: float     # metres
    rx: float
    ry: float
    rz: float     # arc-seconds
    s: float      # ppm
    convention: str = "coordinate_frame"  # or 'position_vector'

    def __post_init__(self):
        if self.convention not in ("coordinate_frame", "position_vector"):
            raise ValueError(f"Helmert convention must be 'coordinate_frame' or 'position_vector', "
                             f"not {self.convention!r}")
        for attr in ("tx", "ty", "tz", "rx", "ry", "rz", "s"):
            if not math.isfinite(float(getattr(self, attr))):
                raise ValueError(f"Helmert parameter {attr} must be a finite number")


# --------------------------------------------------------------------------------------------------------------------
# CRS resolution
# --------------------------------------------------------------------------------------------------------------------

# The names of the CRSs a person reads, in both languages: PROJ's English names with their Chinese (zones, meridians).
_NAME_PARTS_ZH = ((r"China Geodetic Coordinate System 2000", "2000国家大地坐标系"),
                  (r"3-degree Gauss-Kruger zone (\d+)", r"3度带高斯-克吕格投影 第\1带"),
                  (r"3-degree Gauss-Kruger CM (\d+)E", r"3度带高斯-克吕格投影 中央经线\1°E"),
                  (r"Gauss-Kruger zone (\d+)", r"6度带高斯-克吕格投影 第\1带"),
                  (r"Gauss-Kruger CM (\d+)E", r"6度带高斯-克吕格投影 中央经线\1°E"),
                  (r"longitude, latitude", "经度、纬度"), (r"latitude, longitude", "纬度、经度"),
                  (r"Xian 1980", "西安1980"), (r"Beijing 1954", "北京1954"), (r"New Beijing", "新北京54"))


def crs_name(key: str, english: str) -> Label:
    """A CRS's name in the reader's language: PROJ's (or the service's) English name, and its Chinese."""
    chinese = english
    for pattern, replacement in _NAME_PARTS_ZH:
        chinese = re.sub(pattern, replacement, chinese)
    chinese = re.sub(r" \((.*)\)$", r"（\1）", chinese)
    return Label(f"crs.{key}", english, chinese)


GCJ02 = CRSInfo("GCJ02", Label("crs.GCJ02", "GCJ-02 (Amap/Gaode and Tencent web maps)", "GCJ-02（高德、腾讯地图）"),
                "offset", None, False, False)
BD09 = CRSInfo("BD09", Label("crs.BD09", "BD-09 (Baidu Maps)", "BD-09（百度地图）"), "offset", None, False, False)

_ALIASES = {
    "CGCS2000": 4490, "CGCS": 4490, "CHINA2000": 4490, "国家2000": 4490, "2000国家大地坐标系": 4490,
    "WGS84": 4326, "WGS1984": 4326, "GPS": 4326,
    "XIAN80": 4610, "XIAN1980": 4610, "西安80": 4610, "西安1980": 4610,
    "BEIJING54": 4214, "BEIJING1954": 4214, "北京54": 4214, "北京1954": 4214,
    "GCJ02": GCJ02, "GCJ": GCJ02, "MARS": GCJ02, "AMAP": GCJ02, "GAODE": GCJ02, "火星坐标": GCJ02,
    "BD09": BD09, "BD09LL": BD09, "BAIDU": BD09, "百度坐标": BD09,
}
# Geodetic CRSs whose datum PROJ can only reach with a ballpark no-op (EPSG datums 6610 Xian 1980, 6214 Beijing
# 1954, 1045 New Beijing); pyproj does not expose datum codes, so names are matched as a fallback for .prj files.
_LOCAL_DATUM_GEOGCRS = {4610, 4214, 4555}
_LOCAL_DATUM_NAMES = ("xian1980", "beijing1954", "newbeijing")

_CGCS2000 = pyproj.CRS.from_epsg(4490)


def _short(value, limit: int = 60) -> str:
    text = str(value).strip().replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _horizontal(crs: pyproj.CRS) -> pyproj.CRS:
    if crs.is_bound:
        crs = crs.source_crs  # a .prj TOWGS84 is dropped: Xian/Beijing still require an explicit Helmert7
    if crs.is_compound:
        crs = crs.sub_crs_list[0]
        if crs.is_bound:
            crs = crs.source_crs
    return crs


def _needs_datum_shift(crs: pyproj.CRS) -> bool:
    geod = crs.geodetic_crs
    if geod is None:
        return False
    if geod.to_epsg(min_confidence=100) in _LOCAL_DATUM_GEOGCRS:
        return True
    name = re.sub(r"[^a-z0-9]", "", (geod.datum.name or "").lower())
    return any(n in name for n in _LOCAL_DATUM_NAMES)


def _conversion_param(crs: pyproj.CRS, *names: str) -> float | None:
    op = crs.coordinate_operation
    if op is None:
        return None
    wanted = {n.lower() for n in names}
    for p in op.params:
        if p.name.lower().replace("_", " ") in wanted:
            return float(p.value)
    return None


def _false_easting(crs: pyproj.CRS) -> float | None:
    return _conversion_param(crs, "false easting")


def _central_meridian(crs: pyproj.CRS) -> float | None:
    return _conversion_param(crs, "longitude of natural origin", "central meridian", "longitude of origin")


def _is_gauss_kruger(info: CRSInfo) -> bool:
    if info.kind != "projected":
        return False
    method = (info.crs.coordinate_operation.method_name or "").lower()
    return "transverse mercator" in method or "gauss" in method


def _info_from_crs(crs: pyproj.CRS, spec) -> CRSInfo:
    crs = _horizontal(crs)
    if not (crs.is_geographic or crs.is_projected):
        raise UnknownCRSError(msg("coords.horizontal_latitude_longitude_map", "'{spec}' is not a horizontal "
                                  "(latitude/longitude or map) coordinate system", spec=_short(spec)))
    code = crs.to_epsg(min_confidence=70)
    if code is not None:
        key = f"EPSG:{code}"
        crs = pyproj.CRS.from_epsg(code)
    else:
        key = "WKT"
    kind = "projected" if crs.is_projected else "geographic"
    fe = _false_easting(crs) if kind == "projected" else None
    return CRSInfo(key=key, label=crs_name(key, crs.name), kind=kind, crs=crs, needs_datum_shift=_needs_datum_shift(crs),
                   zone_prefixed=bool(fe is not None and fe >= 1_000_000))


@lru_cache(maxsize=256)
def _resolve_text(text: str) -> CRSInfo:
    if not text:
        return _info_from_crs(_CGCS2000, text)
    m = re.fullmatch(r"(?:EPSG\s*:\s*)?(\d+)", text, flags=re.IGNORECASE)
    if m:
        try:
            return _info_from_crs(pyproj.CRS.from_epsg(int(m.group(1))), text)
        except CRSError:
            raise UnknownCRSError(msg("coords.unknown_coordinate_system_there", "unknown coordinate system '{text}': "
                                      "there is no EPSG code {value}", text=text, value=m.group(1))) from None
    alias = _ALIASES.get(re.sub(r"[\s_\-/.]", "", text).upper())
    if isinstance(alias, CRSInfo):
        return alias
    if alias is not None:
        return _info_from_crs(pyproj.CRS.from_epsg(alias), text)
    try:
        crs = pyproj.CRS.from_user_input(text)  # WKT (incl. ESRI .prj), PROJ strings, URNs, names
    except CRSError:
        raise UnknownCRSError(
            msg("coords.unknown_coordinate_system_use", "unknown coordinate system '{text}': use an EPSG code such "
                "as EPSG:4490 or EPSG:4545, GCJ02, BD09, or paste the text of the .prj file", text=_short(text))) from None
    return _info_from_crs(crs, text)


def resolve_crs(spec) -> CRSInfo:
    """Identify a CRS from an EPSG code, a name/alias, WKT or ESRI .prj text.  None or '' means CGCS2000."""
    if isinstance(spec, CRSInfo):
        return spec
    if spec is None:
        return _resolve_text("")
    if isinstance(spec, pyproj.CRS):
        return _info_from_crs(spec, spec.name)
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return _resolve_text(str(int(spec)))
    if not isinstance(spec, str):
        raise UnknownCRSError(msg("coords.unknown_coordinate_system", "unknown coordinate system {spec!r}", spec=spec))
    return _resolve_text(spec.strip())


# --------------------------------------------------------------------------------------------------------------------
# PROJ transformations
# --------------------------------------------------------------------------------------------------------------------

_local = threading.local()


def _cached(key, factory):
    # Transformers are cached per thread (the app runs under a multi-threaded WSGI server).
    cache = getattr(_local, "transformers", None)
    if cache is None:
        cache = _local.transformers = {}
    obj = cache.get(key)
    if obj is None:
        if len(cache) >= 64:
            cache.clear()
        obj = cache[key] = factory()
    return obj


def _crs_key(info: CRSInfo) -> str:
    return info.key if info.key != "WKT" else info.crs.to_wkt()


def _transformer(src: CRSInfo, dst: CRSInfo) -> pyproj.Transformer:
    return _cached(("crs", _crs_key(src), _crs_key(dst)),
                   lambda: pyproj.Transformer.from_crs(src.crs, dst.crs, always_xy=True))


def _ellipsoid_args(crs: pyproj.CRS) -> str:
    ell = crs.ellipsoid
    if ell.inverse_flattening and math.isfinite(ell.inverse_flattening):
        return f"+a={ell.semi_major_metre!r} +rf={ell.inverse_flattening!r}"
    return f"+a={ell.semi_major_metre!r} +b={ell.semi_minor_metre!r}"


def _helmert_pipeline(info: CRSInfo, h: Helmert7) -> str:
    src = info.crs
    ell = _ellipsoid_args(src)
    if info.kind == "projected":
        if any(a.unit_name not in ("metre", "meter") for a in src.axis_info):
            raise CoordinateError(msg("coords.only_metre_based_projections", "{label}: only metre-based projections "
                                      "are supported", label=info.label), "crs")
        # The conversion's PROJ string is itself a pipeline (axisswap, unitconvert, projection, axisswap); keep
        # only the projection step, with the ellipsoid stated explicitly.
        steps = [s.strip() for s in src.coordinate_operation.to_proj4().split("+step")]
        proj_steps = [s for s in steps if s.startswith("+proj=") and not s.startswith(("+proj=axisswap",
                                                                                     "+proj=unitconvert",
                                                                                     "+proj=pipeline"))]
        if len(proj_steps) != 1:
            raise CoordinateError(msg("coords.build_datum_transformation_projection", "{label}: cannot build a datum "
                                      "transformation for this projection", label=info.label), "crs")
        params = [t for t in proj_steps[0].split()
                  if not t.startswith(("+ellps=", "+a=", "+b=", "+rf=", "+f=", "+R=", "+towgs84=", "+datum="))]
        first = f"+step +inv {' '.join(params)} {ell}"
    else:
        first = "+step +proj=unitconvert +xy_in=deg +xy_out=rad"
    return " ".join([
        "+proj=pipeline",
        first,
        f"+step +proj=cart {ell}",
        f"+step +proj=helmert +x={h.tx!r} +y={h.ty!r} +z={h.tz!r} +rx={h.rx!r} +ry={h.ry!r} +rz={h.rz!r} "
        f"+s={h.s!r} +convention={h.convention}",
        f"+step +inv +proj=cart {_ellipsoid_args(_CGCS2000)}",
        "+step +proj=unitconvert +xy_in=rad +xy_out=deg",
    ])


def _pipeline_transformer(info: CRSInfo, h: Helmert7) -> pyproj.Transformer:
    pipeline = _helmert_pipeline(info, h)
    return _cached(("pipeline", pipeline), lambda: pyproj.Transformer.from_pipeline(pipeline))


def _run(t: pyproj.Transformer, x: np.ndarray, y: np.ndarray, direction="FORWARD"):
    ox, oy = t.transform(x.ravel(), y.ravel(), direction=direction)
    return np.asarray(ox, dtype=float).reshape(x.shape), np.asarray(oy, dtype=float).reshape(y.shape)


def _check_finite(x, y, ox, oy, what: str):
    bad = np.isfinite(x) & np.isfinite(y) & ~(np.isfinite(ox) & np.isfinite(oy))
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        raise CoordinateError(msg("coords.could_convert_point_outside", "could not convert ({value:.10g}, "
                                  "{value2:.10g}) {what}: the point is outside the area where that coordinate system "
                                  "is defined", value=x.ravel()[i], value2=y.ravel()[i], what=what))


def _datum_shift_required(info: CRSInfo) -> CoordinateError:
    return CoordinateError(
        msg("coords.uses_local_datum_xian", "{label} uses a local datum (Xian 1980 / Beijing 1954). PROJ only knows "
            "a 'ballpark' no-op for it, but the true difference from CGCS2000 is tens of metres up to about 200 m, "
            "so an explicit 7-parameter (Helmert) transformation from the survey bureau is required", label=info.label), "crs")


def _check_helmert_applies(info: CRSInfo, helmert: Helmert7 | None):
    if helmert is not None and not info.needs_datum_shift:
        raise CoordinateError(msg("coords.datum_transformation_given_but", "a datum transformation ({name}) was "
                                  "given but {label} does not use the Xian 1980 or Beijing 1954 datum",
                                  name=helmert.name, label=info.label), "crs")


def _to_cgcs(xs, ys, info: CRSInfo, helmert: Helmert7 | None):
    x, y = _arrays(xs, ys)
    _check_helmert_applies(info, helmert)
    if info.key == "GCJ02":
        lon, lat = gcj02_to_wgs84(x, y)
    elif info.key == "BD09":
        lon, lat = bd09_to_wgs84(x, y)
    elif info.needs_datum_shift:
        if helmert is None:
            raise _datum_shift_required(info)
        lon, lat = _run(_pipeline_transformer(info, helmert), x, y)
    elif info.key == "EPSG:4490":
        lon, lat = x, y
    else:
        lon, lat = _run(_transformer(info, _resolve_text("")), x, y)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    _check_finite(x, y, lon, lat, f"from {info.label} to CGCS2000")
    return lon, lat


def _from_cgcs(lons, lats, info: CRSInfo, helmert: Helmert7 | None):
    lon, lat = _arrays(lons, lats)
    _check_helmert_applies(info, helmert)
    if info.key == "GCJ02":
        x, y = wgs84_to_gcj02(lon, lat)
    elif info.key == "BD09":
        x, y = wgs84_to_bd09(lon, lat)
    elif info.needs_datum_shift:
        if helmert is None:
            raise _datum_shift_required(info)
        x, y = _run(_pipeline_transformer(info, helmert), lon, lat, direction="INVERSE")
    elif info.key == "EPSG:4490":
        x, y = lon, lat
    else:
        x, y = _run(_transformer(_resolve_text(""), info), lon, lat)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    _check_finite(lon, lat, x, y, f"from CGCS2000 to {info.label}")
    return x, y


def _warn_datum_shift(info: CRSInfo, helmert: Helmert7):
    warnings.warn(_datum_shift_note(info, helmert), DatumShiftWarning, stacklevel=3)


def _datum_shift_note(info: CRSInfo, helmert: Helmert7) -> str:
    return (f"converted from {info.label} to CGCS2000 with the transformation '{helmert.name}'; "
            f"the result is only as good as those parameters")


def to_cgcs2000(xs, ys, crs, *, helmert: Helmert7 | None = None):
    """Convert x/y (easting/longitude, northing/latitude) in ``crs`` to CGCS2000 lon, lat arrays.

    Xian 1980 / Beijing 1954 based CRSs need ``helmert``; using it emits a :class:`DatumShiftWarning`.
    """
    info = resolve_crs(crs)
    lon, lat = _to_cgcs(xs, ys, info, helmert)
    if helmert is not None:
        _warn_datum_shift(info, helmert)
    return _out(lon), _out(lat)


def from_cgcs2000(lons, lats, crs, *, helmert: Helmert7 | None = None):
    """Convert CGCS2000 lon/lat to x/y in ``crs`` (always_xy order)."""
    info = resolve_crs(crs)
    x, y = _from_cgcs(lons, lats, info, helmert)
    if helmert is not None:
        _warn_datum_shift(info, helmert)
    return _out(x), _out(y)


def _transform_xy(x, y, src: CRSInfo, dst: CRSInfo, helmert):
    if src.key == dst.key and src.key != "WKT":
        return _arrays(x, y)
    if src.crs is not None and dst.crs is not None and src.needs_datum_shift == dst.needs_datum_shift:
        if src.needs_datum_shift and not src.crs.geodetic_crs.equals(dst.crs.geodetic_crs):
            raise CoordinateError(msg("coords.converting_between_two_different", "converting between two different "
                                      "local datums needs two transformations: convert to CGCS2000 first"), "crs")
        if helmert is not None and not src.needs_datum_shift:
            raise CoordinateError(msg("coords.datum_transformation_given_but_2", "a datum transformation ({name}) "
                                      "was given but neither coordinate system uses the Xian 1980 or Beijing 1954 "
                                      "datum", name=helmert.name), "crs")
        if _crs_key(src) == _crs_key(dst):
            return _arrays(x, y)
        x, y = _arrays(x, y)
        ox, oy = _run(_transformer(src, dst), x, y)  # same datum (or PROJ-known datums): direct
        _check_finite(x, y, ox, oy, f"from {src.label} to {dst.label}")
        return ox, oy
    lon, lat = _to_cgcs(x, y, src, helmert if src.needs_datum_shift else None)
    return _from_cgcs(lon, lat, dst, helmert if dst.needs_datum_shift else None)


def transform_geometry(geom, crs_from, crs_to="EPSG:4490", *, helmert: Helmert7 | None = None):
    """Transform a shapely geometry (or array of geometries) between CRSs; the result is 2D."""
    src, dst = resolve_crs(crs_from), resolve_crs(crs_to)
    if helmert is not None and not (src.needs_datum_shift or dst.needs_datum_shift):
        raise CoordinateError(msg("coords.datum_transformation_given_but_2", "a datum transformation ({name}) was "
                                  "given but neither coordinate system uses the Xian 1980 or Beijing 1954 datum",
                                  name=helmert.name), "crs")

    def func(coords: np.ndarray) -> np.ndarray:
        if len(coords) == 0:
            return coords
        x, y = _transform_xy(coords[:, 0], coords[:, 1], src, dst, helmert)
        return np.column_stack([x, y])

    result = shapely.transform(geom, func, include_z=False)
    if helmert is not None:
        _warn_datum_shift(src if src.needs_datum_shift else dst, helmert)
    return result
