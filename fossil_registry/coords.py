"""Coordinate handling for the fossil-site registry.

Sites are stored in EPSG:4490 (CGCS2000, longitude/latitude).  This module turns whatever a field surveyor or a
curator types (decimal degrees, DMS, Chinese 度分秒, Gauss-Kruger X/Y with or without the zone prefix, Amap/Baidu
coordinates) into CGCS2000, and converts between CGCS2000 and the other systems used in Chinese practice.

Axis order: every array function takes and returns x, y = easting/longitude, northing/latitude (PROJ's
``always_xy``).  Only the *text* parser follows the Chinese survey habit that X is the northing.

No Flask here: this is a pure domain module.
"""
from __future__ import annotations

import math
import re
import threading
import unicodedata
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError

__all__ = [
    "CoordinateError", "UnknownCRSError", "DatumShiftWarning", "CRSInfo", "Helmert7", "ParsedPoint",
    "GUIZHOU_BBOX", "resolve_crs", "to_cgcs2000", "from_cgcs2000", "transform_geometry",
    "wgs84_to_gcj02", "gcj02_to_wgs84", "gcj02_to_bd09", "bd09_to_gcj02", "wgs84_to_bd09", "bd09_to_wgs84",
    "parse_angle", "parse_coordinate", "gauss_kruger_zone", "to_gauss_kruger", "format_dms", "find_coordinates",
]

GUIZHOU_BBOX = (103.6, 24.6, 109.6, 29.2)  # (min_lon, min_lat, max_lon, max_lat)


# --------------------------------------------------------------------------------------------------------------------
# Errors and value types
# --------------------------------------------------------------------------------------------------------------------

class CoordinateError(ValueError):
    """Unparseable or impossible coordinate input.  ``str(e)`` is meant to be shown to the person who typed it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class UnknownCRSError(CoordinateError):
    """The coordinate reference system could not be identified."""

    def __init__(self, message: str, field: str | None = "crs"):
        super().__init__(message, field)


class DatumShiftWarning(UserWarning):
    """A Xian 1980 / Beijing 1954 conversion was done with user-supplied Helmert parameters."""


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


@dataclass
class ParsedPoint:
    lon: float
    lat: float
    crs: str
    warnings: list[str] = field(default_factory=list)
    source: str = ""


# --------------------------------------------------------------------------------------------------------------------
# CRS resolution
# --------------------------------------------------------------------------------------------------------------------

GCJ02 = CRSInfo("GCJ02", "GCJ-02 (Amap/Gaode and Tencent web maps)", "offset", None, False, False)
BD09 = CRSInfo("BD09", "BD-09 (Baidu Maps)", "offset", None, False, False)

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
        raise UnknownCRSError(f"'{_short(spec)}' is not a horizontal (latitude/longitude or map) coordinate system")
    code = crs.to_epsg(min_confidence=70)
    if code is not None:
        key = f"EPSG:{code}"
        crs = pyproj.CRS.from_epsg(code)
    else:
        key = "WKT"
    kind = "projected" if crs.is_projected else "geographic"
    fe = _false_easting(crs) if kind == "projected" else None
    return CRSInfo(key=key, label=crs.name, kind=kind, crs=crs, needs_datum_shift=_needs_datum_shift(crs),
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
            raise UnknownCRSError(f"unknown coordinate system '{text}': there is no EPSG code {m.group(1)}") from None
    alias = _ALIASES.get(re.sub(r"[\s_\-/.]", "", text).upper())
    if isinstance(alias, CRSInfo):
        return alias
    if alias is not None:
        return _info_from_crs(pyproj.CRS.from_epsg(alias), text)
    try:
        crs = pyproj.CRS.from_user_input(text)  # WKT (incl. ESRI .prj), PROJ strings, URNs, names
    except CRSError:
        raise UnknownCRSError(
            f"unknown coordinate system '{_short(text)}': use an EPSG code such as EPSG:4490 or EPSG:4545, "
            f"GCJ02, BD09, or paste the text of the .prj file") from None
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
        raise UnknownCRSError(f"unknown coordinate system {spec!r}")
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
            raise CoordinateError(f"{info.label}: only metre-based projections are supported", "crs")
        # The conversion's PROJ string is itself a pipeline (axisswap, unitconvert, projection, axisswap); keep
        # only the projection step, with the ellipsoid stated explicitly.
        steps = [s.strip() for s in src.coordinate_operation.to_proj4().split("+step")]
        proj_steps = [s for s in steps if s.startswith("+proj=") and not s.startswith(("+proj=axisswap",
                                                                                     "+proj=unitconvert",
                                                                                     "+proj=pipeline"))]
        if len(proj_steps) != 1:
            raise CoordinateError(f"{info.label}: cannot build a datum transformation for this projection", "crs")
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


def _arrays(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return x.copy(), y.copy()


def _out(a: np.ndarray):
    return a[()] if a.ndim == 0 else a  # scalar in -> numpy float64 out


def _run(t: pyproj.Transformer, x: np.ndarray, y: np.ndarray, direction="FORWARD"):
    ox, oy = t.transform(x.ravel(), y.ravel(), direction=direction)
    return np.asarray(ox, dtype=float).reshape(x.shape), np.asarray(oy, dtype=float).reshape(y.shape)


def _check_finite(x, y, ox, oy, what: str):
    bad = np.isfinite(x) & np.isfinite(y) & ~(np.isfinite(ox) & np.isfinite(oy))
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        raise CoordinateError(f"could not convert ({x.ravel()[i]:.10g}, {y.ravel()[i]:.10g}) {what}: "
                              f"the point is outside the area where that coordinate system is defined")


def _datum_shift_required(info: CRSInfo) -> CoordinateError:
    return CoordinateError(
        f"{info.label} uses a local datum (Xian 1980 / Beijing 1954). PROJ only knows a 'ballpark' no-op for it, "
        f"but the true difference from CGCS2000 is tens of metres up to about 200 m, so an explicit 7-parameter "
        f"(Helmert) transformation from the survey bureau is required", "crs")


def _to_cgcs(xs, ys, info: CRSInfo, helmert: Helmert7 | None):
    x, y = _arrays(xs, ys)
    if helmert is not None and not info.needs_datum_shift:
        raise CoordinateError(f"a datum transformation ({helmert.name}) was given but {info.label} "
                              f"does not use the Xian 1980 or Beijing 1954 datum", "crs")
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
    if helmert is not None and not info.needs_datum_shift:
        raise CoordinateError(f"a datum transformation ({helmert.name}) was given but {info.label} "
                              f"does not use the Xian 1980 or Beijing 1954 datum", "crs")
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
            raise CoordinateError("converting between two different local datums needs two transformations: "
                                  "convert to CGCS2000 first", "crs")
        if helmert is not None and not src.needs_datum_shift:
            raise CoordinateError(f"a datum transformation ({helmert.name}) was given but neither coordinate "
                                  f"system uses the Xian 1980 or Beijing 1954 datum", "crs")
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
        raise CoordinateError(f"a datum transformation ({helmert.name}) was given but neither coordinate system "
                              f"uses the Xian 1980 or Beijing 1954 datum", "crs")

    def func(coords: np.ndarray) -> np.ndarray:
        if len(coords) == 0:
            return coords
        x, y = _transform_xy(coords[:, 0], coords[:, 1], src, dst, helmert)
        return np.column_stack([x, y])

    result = shapely.transform(geom, func, include_z=False)
    if helmert is not None:
        _warn_datum_shift(src if src.needs_datum_shift else dst, helmert)
    return result


# --------------------------------------------------------------------------------------------------------------------
# GCJ-02 / BD-09
# --------------------------------------------------------------------------------------------------------------------
# Hand-written: these offset systems are not in PROJ and no maintained PyPI package implements them.

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = math.pi * 3000.0 / 180.0
_INVERSE_TOL = 1e-12   # degrees (~0.1 micrometre)
_INVERSE_MAX_ITER = 30


def _in_china(lon, lat):
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj_delta(lon, lat):
    pi = math.pi
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrtmagic * np.cos(radlat) * pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray):
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_wgs(glon: np.ndarray, glat: np.ndarray):
    # Fixed-point iteration w <- w - (f(w) - g): the offset varies slowly, so it converges to micrometres in a few
    # steps, whereas the one-step inverse g - delta(g) is off by 1-2 m.
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(_INVERSE_MAX_ITER):
        flon, flat = _wgs_to_gcj(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon -= elon
        wlat -= elat
        if not (np.any(np.abs(elon) > _INVERSE_TOL) or np.any(np.abs(elat) > _INVERSE_TOL)):
            break
    return wlon, wlat


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray):
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj(lon: np.ndarray, lat: np.ndarray):
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_gcj02(lon, lat):
    """WGS84 (= CGCS2000 at metre level) -> GCJ-02.  Outside China's box the input is returned unchanged."""
    return tuple(_out(a) for a in _wgs_to_gcj(*_arrays(lon, lat)))


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 -> WGS84, iterative inverse (sub-millimetre)."""
    return tuple(_out(a) for a in _gcj_to_wgs(*_arrays(lon, lat)))


def gcj02_to_bd09(lon, lat):
    return tuple(_out(a) for a in _gcj_to_bd(*_arrays(lon, lat)))


def bd09_to_gcj02(lon, lat):
    """BD-09 -> GCJ-02 with the published closed-form inverse (matches Baidu's own conversion tools)."""
    return tuple(_out(a) for a in _bd_to_gcj(*_arrays(lon, lat)))


def wgs84_to_bd09(lon, lat):
    return tuple(_out(a) for a in _gcj_to_bd(*_wgs_to_gcj(*_arrays(lon, lat))))


def bd09_to_wgs84(lon, lat):
    return tuple(_out(a) for a in _gcj_to_wgs(*_bd_to_gcj(*_arrays(lon, lat))))


# --------------------------------------------------------------------------------------------------------------------
# Gauss-Kruger helpers and formatting
# --------------------------------------------------------------------------------------------------------------------

def _check_lon(lon: float, name: str = "longitude"):
    if not (isinstance(lon, (int, float, np.floating, np.integer)) and math.isfinite(lon)):
        raise CoordinateError(f"{name} {lon!r} is not a number", name)
    if not -180.0 <= lon <= 180.0:
        raise CoordinateError(f"{name} {_num(lon)} is out of range (-180..180)", name)


def _check_lat(lat: float):
    if not (isinstance(lat, (int, float, np.floating, np.integer)) and math.isfinite(lat)):
        raise CoordinateError(f"latitude {lat!r} is not a number", "latitude")
    if not -90.0 <= lat <= 90.0:
        raise CoordinateError(f"latitude {_num(lat)} is out of range (-90..90)", "latitude")


def gauss_kruger_zone(lon: float) -> dict:
    """Gauss-Kruger 3- and 6-degree zones for a longitude, with the CGCS2000 EPSG codes (None outside China's
    zones: 3-degree 25-45, 6-degree 13-23)."""
    _check_lon(lon)
    zone3 = int(math.floor(lon / 3.0 + 0.5))
    zone6 = int(math.floor(lon / 6.0)) + 1
    ok3, ok6 = 25 <= zone3 <= 45, 13 <= zone6 <= 23
    return {
        "zone3": zone3, "cm3": 3 * zone3,
        "epsg3_prefixed": 4513 + zone3 - 25 if ok3 else None, "epsg3": 4534 + zone3 - 25 if ok3 else None,
        "zone6": zone6, "cm6": 6 * zone6 - 3,
        "epsg6_prefixed": 4491 + zone6 - 13 if ok6 else None, "epsg6": 4502 + zone6 - 13 if ok6 else None,
    }


def to_gauss_kruger(lon: float, lat: float) -> dict:
    """CGCS2000 lon/lat -> 3-degree Gauss-Kruger X (northing) and Y (easting, with and without zone prefix)."""
    _check_lon(lon)
    _check_lat(lat)
    z = gauss_kruger_zone(lon)
    if z["epsg3"] is None:
        raise CoordinateError(f"longitude {_num(lon)} is outside China's 3-degree Gauss-Kruger zones (73.5-136.5E)",
                              "longitude")
    easting, northing = (float(v) for v in from_cgcs2000(lon, lat, z["epsg3"]))
    return {"epsg": z["epsg3"], "epsg_prefixed": z["epsg3_prefixed"], "zone": z["zone3"], "cm": z["cm3"],
            "x_northing": northing, "y_easting": easting, "y_easting_prefixed": z["zone3"] * 1_000_000 + easting}


def format_dms(value: float, positive: str, negative: str, decimals: int = 2) -> str:
    """25.9034 -> 25°54′12.24″N (rounding carries into minutes and degrees)."""
    if not math.isfinite(value):
        raise CoordinateError(f"{value!r} is not a number")
    scale = 10 ** decimals
    units = round(abs(value) * 3600 * scale)
    deg, rem = divmod(units, 3600 * scale)
    minutes, sec_units = divmod(rem, 60 * scale)
    width = 3 + decimals if decimals else 2
    hemi = negative if value < 0 and units else positive
    return f"{deg}°{minutes:02d}′{sec_units / scale:0{width}.{decimals}f}″{hemi}"


def _num(v: float) -> str:
    return f"{v:.12g}"


def _deg(v: float, pos: str, neg: str) -> str:
    text = f"{abs(v):.6f}".rstrip("0").rstrip(".")
    return f"{text}{pos if v >= 0 else neg}"


def _lonlat_text(lon: float, lat: float) -> str:
    return f"{_deg(lon, 'E', 'W')} {_deg(lat, 'N', 'S')}"


# --------------------------------------------------------------------------------------------------------------------
# Text parsing
# --------------------------------------------------------------------------------------------------------------------

_BEFORE_NFKC = [("º", "°"), ("˚", "°"), ("〇", "0")]  # NFKC would turn º into 'o'
_CHINESE = [("北纬", " N "), ("南纬", " S "), ("东经", " E "), ("西经", " W "), ("纬度", " lat "), ("经度", " lon "),
            ("北", " N "), ("南", " S "), ("东", " E "), ("西", " W "), ("纬", " lat "), ("经", " lon "),
            ("度", "°"), ("分", "'"), ("秒", '"'), ("、", ",")]
_AFTER_NFKC = [("′′", '"'), ("″", '"'), ("′", "'"), ("‘", "'"), ("’", "'"), ("´", "'"), ("`", "'"),
               ("“", '"'), ("”", '"'), ("〃", '"'), ("''", '"'), ("−", "-"), ("–", "-"), ("—", "-")]


def _normalize(text: str) -> str:
    s = text
    for a, b in _BEFORE_NFKC:
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKC", s)  # full-width digits, letters and ，：；＝ become ASCII
    for a, b in _CHINESE + _AFTER_NFKC:
        s = s.replace(a, b)
    # 25d54m12.3s: 'd' after a number is a degree mark; 'm' only after degrees (otherwise it means metres);
    # a lowercase 's' right after the seconds number is a seconds mark (uppercase 'S' stays south).
    s = re.sub(r"(?<=[\d.])\s*[dD](?![A-Za-z])", "°", s)
    s = re.sub(r"(°\s*\d+(?:\.\d*)?)\s*[mM](?![A-Za-z])", r"\1'", s)
    s = re.sub(r"('\s*\d+(?:\.\d*)?)\s*s", r'\1"', s)
    return s.strip()


_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
_ANGLE_ITEM = re.compile(rf"\s*({_NUM})\s*([°'\":])?\s*")
_MARK_SLOT = {"°": 0, "'": 1, '"': 2}
_HEMI = {"N": ("lat", 1), "S": ("lat", -1), "E": ("lon", 1), "W": ("lon", -1)}
_AXIS_NAME = {"lat": "latitude", "lon": "longitude", None: "angle"}


@dataclass
class _Angle:
    value: float       # signed
    axis: str | None   # 'lat', 'lon' or None
    parts: int         # 1 = decimal degrees, 2 = degrees+minutes, 3 = DMS
    marked: bool       # had °, ', " marks or a hemisphere letter


def _parse_angle_norm(s: str, shown: str, field: str | None = None, *, validate: bool = True) -> _Angle:
    body = s.strip()
    if not body:
        raise CoordinateError("no angle was entered" if not shown else f"could not read '{shown}': no number",
                              field)
    hemi = None
    m = re.match(r"([NSEWnsew])(?![A-Za-z])\s*", body)
    if m:
        hemi, body = m.group(1).upper(), body[m.end():]
    m = re.search(r"(?<![A-Za-z])\s*([NSEWnsew])$", body)
    if m:
        if hemi:
            raise CoordinateError(f"could not read '{shown}': it has two hemisphere letters", field)
        hemi, body = m.group(1).upper(), body[: m.start()]
    sign = 1
    m = re.match(r"([+-])\s*", body)
    if m:
        if hemi and m.group(1) == "-":
            raise CoordinateError(f"could not read '{shown}': use either a minus sign or the hemisphere letter "
                                  f"{hemi}, not both", field)
        sign, body = (-1 if m.group(1) == "-" else 1), body[m.end():]
    slots: list[str | None] = [None, None, None]
    last, pos, marked = -1, 0, hemi is not None
    while pos < len(body):
        m = _ANGLE_ITEM.match(body, pos)
        if not m or m.end() == pos:
            bad = body[pos:].strip()[:1] or body[pos]
            raise CoordinateError(f"could not read '{shown}': unexpected '{bad}'", field)
        num, mark = m.groups()
        slot = _MARK_SLOT.get(mark, last + 1)
        if slot > 2:
            raise CoordinateError(f"could not read '{shown}': too many numbers for one angle", field)
        if slot <= last:
            raise CoordinateError(f"could not read '{shown}': expected degrees, minutes and seconds in that order",
                                  field)
        marked = marked or mark in _MARK_SLOT
        slots[slot], last, pos = num, slot, m.end()
    if slots[0] is None:
        raise CoordinateError(f"could not read '{shown}': the degrees are missing", field)
    deg = float(slots[0])
    minutes = float(slots[1]) if slots[1] is not None else 0.0
    seconds = float(slots[2]) if slots[2] is not None else 0.0
    axis = _HEMI[hemi][0] if hemi else None
    parts = 3 if slots[2] is not None else 2 if slots[1] is not None else 1
    if validate:
        if parts > 1 and not deg.is_integer():
            raise CoordinateError(f"could not read '{shown}': degrees with decimals cannot be followed by minutes",
                                  field)
        if parts > 2 and not minutes.is_integer():
            raise CoordinateError(f"could not read '{shown}': minutes with decimals cannot be followed by "
                                  f"seconds", field)
        if minutes >= 60:
            raise CoordinateError(f"could not read '{shown}': minutes must be below 60", field or "minutes")
        if seconds >= 60:
            raise CoordinateError(f"could not read '{shown}': seconds must be below 60", field or "seconds")
    value = sign * (deg + minutes / 60.0 + seconds / 3600.0)
    if hemi:
        value *= _HEMI[hemi][1]
    if validate:
        limit = 90.0 if axis == "lat" else 180.0
        if abs(value) > limit:
            raise CoordinateError(f"{_AXIS_NAME[axis]} {_num(value)} is out of range (-{limit:g}..{limit:g})",
                                  _AXIS_NAME[axis] if axis else field)
    return _Angle(value, axis, parts, marked)


def parse_angle(text: str) -> float:
    """Parse one angle (decimal, DMS, degrees + decimal minutes, Chinese 度分秒, hemisphere letters) to degrees."""
    if text is None or not str(text).strip():
        raise CoordinateError("no angle was entered")
    text = str(text)
    return _parse_angle_norm(_normalize(text), text.strip()).value


_TOKEN = re.compile(r"\s*([+-]?" + _NUM + r"|[°'\":]|[NSEWnsew](?![A-Za-z])|[,;/])")
_LABELS = re.compile(
    r"(?<![A-Za-z])(?:(?P<lat>latitude|lat|[Bφ](?=\s*[=:]))|(?P<lon>longitude|long|lng|lon|[Lλ](?=\s*[=:]))"
    r"|(?P<north>northing|N(?=\s*[=:]))|(?P<east>easting|E(?=\s*[=:]))|(?P<x>[Xx])|(?P<y>[Yy]))(?![A-Za-z])"
    r"\s*[=:]?\s*",
    re.IGNORECASE)


def _find_labels(s: str) -> dict[str, str] | None:
    matches = list(_LABELS.finditer(s))
    if not matches:
        return None
    if s[: matches[0].start()].strip(" ,;/"):
        raise CoordinateError(f"could not read '{s}': unexpected '{s[: matches[0].start()].strip()}' before "
                              f"'{matches[0].group(0).strip()}'")
    found: dict[str, str] = {}
    for i, m in enumerate(matches):
        kind = m.lastgroup
        end = matches[i + 1].start() if i + 1 < len(matches) else len(s)
        value = s[m.end(): end].strip().strip(",;/").strip()
        if kind in found:
            raise CoordinateError(f"could not read '{s}': '{m.group(0).strip(' =:')}' appears twice")
        if not value:
            raise CoordinateError(f"could not read '{s}': no value after '{m.group(0).strip(' =:')}'")
        found[kind] = value
    return found


def _tokens(s: str, shown: str):
    out, pos = [], 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m:
            rest = s[pos:].strip()
            if not rest:
                break
            raise CoordinateError(f"could not read '{shown}': unexpected '{rest[:1]}'")
        if m.group(1)[0] in "+-" and m.start(1) == pos and out and out[-1].group(1)[-1].isdigit():
            raise CoordinateError(f"could not read '{shown}': is '{m.group(1)[0]}' a sign or a separator? "
                                  f"Separate the two values with a comma or a space")
        out.append(m)
        pos = m.end()
    return out


def _split_pair(s: str, shown: str) -> tuple[str, str]:
    """Split a typed pair of angles into its two halves."""
    toks = _tokens(s, shown)
    seps = [t for t in toks if t.group(1) in ",;/"]
    if len(seps) > 1:
        raise CoordinateError(f"could not read '{shown}': expected two values separated by one comma")
    if seps:
        left, right = s[: seps[0].start(1)].strip(), s[seps[0].end():].strip()
        if not left or not right:
            raise CoordinateError(f"could not read '{shown}': expected two values (latitude and longitude)")
        return left, right
    candidates = [(s[: t.start(1)].strip(), s[t.start(1):].strip()) for t in toks[1:]]
    structural = []
    for left, right in candidates:
        try:
            a = _parse_angle_norm(left, left, validate=False)
            b = _parse_angle_norm(right, right, validate=False)
        except CoordinateError:
            continue
        structural.append((left, right, a.parts == b.parts))
    if not structural:
        n = sum(1 for t in toks if t.group(1)[-1].isdigit())
        if n < 2:
            raise CoordinateError(f"could not read '{shown}': expected two values (latitude and longitude)")
        raise CoordinateError(f"could not read '{shown}': could not tell where one value ends and the other "
                              f"begins; separate them with a comma")
    valid = []
    for left, right, same in structural:
        try:
            _parse_angle_norm(left, left)
            _parse_angle_norm(right, right)
        except CoordinateError:
            continue
        valid.append((left, right, same))
    pool = valid or structural
    if len(pool) > 1:
        pool = [c for c in pool if c[2]] or pool
    if len(pool) > 1:
        raise CoordinateError(f"could not read '{shown}': could not tell where one value ends and the other "
                              f"begins; separate them with a comma")
    return pool[0][0], pool[0][1]


def _in_region(lon: float, lat: float, region) -> bool:
    return region[0] <= lon <= region[2] and region[1] <= lat <= region[3]


def _region_text(region) -> str:
    name = "Guizhou" if tuple(region) == GUIZHOU_BBOX else "the expected area"
    return f"{name} ({region[0]:g}-{region[2]:g}E, {region[1]:g}-{region[3]:g}N)"


def _assign_lonlat(a: _Angle, b: _Angle, a_text: str, b_text: str, region, warns: list[str],
                   shown: str) -> tuple[float, float]:
    """Decide which of two angles (in typed order) is the longitude; default order is lon, lat (x, y)."""
    if a.axis and b.axis:
        if a.axis == b.axis:
            both = "latitudes (N/S)" if a.axis == "lat" else "longitudes (E/W)"
            raise CoordinateError(f"could not read '{shown}': both values are {both}; one must be a "
                                  f"{'longitude (E/W)' if a.axis == 'lat' else 'latitude (N/S)'}")
        return (a.value, b.value) if a.axis == "lon" else (b.value, a.value)
    if a.axis or b.axis:
        known, other = (a, b) if a.axis else (b, a)
        lon, lat = (known.value, other.value) if known.axis == "lon" else (other.value, known.value)
        if abs(lat) > 90:
            raise CoordinateError(f"latitude {_num(lat)} is out of range (-90..90)", "latitude")
        return lon, lat
    if abs(a.value) > 90 and abs(b.value) > 90:
        raise CoordinateError(f"could not read '{shown}': neither '{a_text}' nor '{b_text}' can be a latitude "
                              f"(-90..90)", "latitude")
    if abs(b.value) > 90:
        lat, lon = a.value, b.value
        warns.append(f"values looked swapped (latitude first); read as {_lonlat_text(lon, lat)}")
        return lon, lat
    if abs(a.value) > 90:
        return a.value, b.value
    # Both values could be either: let the region decide, else keep the x, y order.
    as_typed = region is not None and _in_region(a.value, b.value, region)
    swapped = region is not None and _in_region(b.value, a.value, region)
    if swapped and not as_typed:
        warns.append(f"order inferred: read as latitude {_num(a.value)}, longitude {_num(b.value)} "
                     f"({_lonlat_text(b.value, a.value)}) because only that order lies inside {_region_text(region)}")
        return b.value, a.value
    if not as_typed:
        warns.append(f"could not tell which value is the latitude; read as longitude, latitude "
                     f"({_lonlat_text(a.value, b.value)}) - add N/E letters or lat=/lon= labels to be sure")
    return a.value, b.value


def _parse_geographic(s: str, shown: str, labels: dict | None, region, warns: list[str]) -> tuple[float, float]:
    if labels is not None and ("lat" in labels or "lon" in labels or "north" in labels or "east" in labels):
        lat_text = labels.get("lat", labels.get("north"))
        lon_text = labels.get("lon", labels.get("east"))
        extra = set(labels) - {"lat", "lon", "north", "east"}
        if lat_text is None or lon_text is None or extra or len(labels) != 2:
            raise CoordinateError(f"could not read '{shown}': expected one latitude and one longitude")
        lat_a = _parse_angle_norm(lat_text, lat_text, "latitude")
        lon_a = _parse_angle_norm(lon_text, lon_text, "longitude")
        if lat_a.axis == "lon" or lon_a.axis == "lat":
            raise CoordinateError(f"could not read '{shown}': the hemisphere letters contradict the "
                                  f"latitude/longitude labels")
        if abs(lat_a.value) > 90:
            raise CoordinateError(f"latitude {_num(lat_a.value)} is out of range (-90..90)", "latitude")
        return lon_a.value, lat_a.value
    if labels is not None:  # X=/Y= with degrees: treated like an unlabelled pair in typed order
        if set(labels) != {"x", "y"}:
            raise CoordinateError(f"could not read '{shown}': expected one latitude and one longitude")
        a_text, b_text = labels["x"], labels["y"]
    else:
        a_text, b_text = _split_pair(s, shown)
    a = _parse_angle_norm(a_text, a_text)
    b = _parse_angle_norm(b_text, b_text)
    return _assign_lonlat(a, b, a_text, b_text, region, warns, shown)


_METRES = re.compile(rf"([+-]?{_NUM})\s*(?:m|米)?")


def _metres(text: str, what: str) -> float:
    m = _METRES.fullmatch(text.strip())
    if not m:
        raise CoordinateError(f"could not read '{text}' as {what} in metres", what)
    return float(m.group(1))


def _gk_zone_of_prefix(easting: float) -> tuple[int, int, float] | None:
    """For an 8-digit easting return (zone, central meridian, easting without prefix), None if not prefixed."""
    if easting < 10_000_000:
        return None
    zone = int(easting // 1_000_000)
    if 13 <= zone <= 23:
        cm = 6 * zone - 3
    elif 25 <= zone <= 45:
        cm = 3 * zone
    else:
        raise CoordinateError(f"easting {_num(easting)} starts with {zone}, which is not a Chinese Gauss-Kruger zone "
                              f"(13-23 for 6-degree, 25-45 for 3-degree zones)", "easting")
    return zone, cm, easting - zone * 1_000_000


def _plausible_easting(v: float) -> bool:
    if 100_000 <= v < 900_000:
        return True
    try:
        z = _gk_zone_of_prefix(v)
    except CoordinateError:
        return False
    return z is not None and 100_000 <= z[2] < 900_000


def _parse_projected(s: str, shown: str, labels: dict | None, info: CRSInfo | None, region, warns: list[str],
                     helmert) -> tuple[float, float, CRSInfo]:
    gk = info is None or _is_gauss_kruger(info)
    if labels is not None:
        if labels.keys() & {"lat", "lon"}:
            raise CoordinateError(f"could not read '{shown}': latitude/longitude labels but the values look like "
                                  f"metres")
        north_key = "north" if "north" in labels else ("x" if gk else "y")
        east_key = "east" if "east" in labels else ("y" if gk else "x")
        if set(labels) != {north_key, east_key}:
            raise CoordinateError(f"could not read '{shown}': expected X (northing) and Y (easting)")
        northing, easting = _metres(labels[north_key], "northing"), _metres(labels[east_key], "easting")
        labelled = True
    else:
        parts = re.split(r"\s*[,;/]\s*", s) if re.search(r"[,;/]", s) else s.split()
        parts = [p for p in parts if p.strip()]
        if len(parts) != 2:
            raise CoordinateError(f"could not read '{shown}': expected two numbers, X (northing) and Y (easting)")
        first, second = _metres(parts[0], "northing"), _metres(parts[1], "easting")
        # Chinese survey convention types X (northing) first; other projections are typed x (easting) first.
        northing, easting = (first, second) if gk else (second, first)
        labelled = False

    if gk:
        if not _plausible_easting(easting) and _plausible_easting(northing) and 1_000_000 <= easting < 10_000_000:
            northing, easting = easting, northing
            warns.append(f"X and Y looked swapped (in Chinese survey practice X is the northing and Y the easting); "
                         f"read as X={_num(northing)} Y={_num(easting)}")
        prefix = _gk_zone_of_prefix(easting)
        if info is None:
            if prefix is None:
                raise CoordinateError(
                    f"projected coordinates X={_num(northing)} Y={_num(easting)} need a coordinate system: the easting "
                    f"has no zone number in front, so the zone cannot be known. Choose the CRS (e.g. EPSG:4544 or "
                    f"EPSG:4545 for CGCS2000 3-degree CM 105E/108E, EPSG:4507 for 6-degree CM 105E) or type the "
                    f"easting with its zone number (e.g. 36363594.53)", "crs")
            zone, cm, _ = prefix
            info = resolve_crs(4513 + zone - 25 if zone >= 25 else 4491 + zone - 13)
            width = "3-degree" if zone >= 25 else "6-degree"
            warns.append(f"no coordinate system given: the easting's zone number {zone} means {width} Gauss-Kruger "
                         f"zone {zone} (central meridian {cm}E); assumed CGCS2000 ({info.key}). If the survey used "
                         f"Xian 1980 or Beijing 1954, choose that coordinate system instead")
        else:
            crs_cm = _central_meridian(info.crs)
            if prefix is not None:
                zone, cm, bare = prefix
                if crs_cm is None or abs(crs_cm - cm) > 1e-9:
                    raise CoordinateError(
                        f"the easting {_num(easting)} starts with zone {zone} (central meridian {cm}E) but "
                        f"{info.key} ({info.label}) has central meridian {_num(crs_cm) if crs_cm is not None else '?'}"
                        f"E", "easting")
                if info.zone_prefixed:
                    fe_zone = int(_false_easting(info.crs) // 1_000_000)
                    if fe_zone != zone:
                        raise CoordinateError(f"the easting {_num(easting)} starts with zone {zone} but {info.key} "
                                              f"uses zone {fe_zone}", "easting")
                else:
                    easting = bare
                    warns.append(f"removed the zone number {zone} from the easting ({info.key} has no zone prefix)")
            elif info.zone_prefixed:
                zone = int(_false_easting(info.crs) // 1_000_000)
                easting += zone * 1_000_000
                warns.append(f"the easting had no zone number; added zone {zone} as {info.key} expects")

    lon, lat = _to_cgcs(easting, northing, info, helmert)
    lon, lat = float(lon), float(lat)
    if not gk and not labelled and region is not None and not _in_region(lon, lat, region):
        try:
            slon, slat = (float(v) for v in _to_cgcs(northing, easting, info, helmert))
        except CoordinateError:
            slon = slat = None
        if slon is not None and _in_region(slon, slat, region):
            warns.append(f"x and y looked swapped; read as x={_num(northing)} y={_num(easting)}")
            lon, lat = slon, slat
    return lon, lat, info


def _looks_projected(s: str, labels: dict | None) -> bool | None:
    """True for metres, False for degrees, None if mixed."""
    texts = list(labels.values()) if labels else [s]
    if re.search(r"[°'\"NSEWnsew]", " ".join(texts)):
        return False
    numbers = [abs(float(n)) for n in re.findall(rf"[+-]?{_NUM}", " ".join(texts))]
    big = [n > 360 for n in numbers]
    if all(big) and numbers:
        return True
    if any(big):
        return None
    return False


def parse_coordinate(text: str, crs=None, *, region=GUIZHOU_BBOX, helmert: Helmert7 | None = None) -> ParsedPoint:
    """Parse a typed coordinate pair into a CGCS2000 point.

    Geographic input may be decimal or DMS in either order (hemisphere letters, labels, value ranges and the region
    decide which is which).  Projected input follows the Chinese convention X = northing, Y = easting; a zone
    prefix on the easting selects the CGCS2000 Gauss-Kruger zone when no CRS is given.  ``helmert`` is passed on
    for Xian 1980 / Beijing 1954 input.  Problems that can be fixed are reported in ``warnings``.
    """
    if text is None or not str(text).strip():
        raise CoordinateError("no coordinates were entered", "text")
    source = str(text)
    shown = source.strip()
    info = None if crs is None or (isinstance(crs, str) and not crs.strip()) else resolve_crs(crs)
    s = _normalize(source)
    labels = _find_labels(s)
    warns: list[str] = []

    projected = _looks_projected(s, labels)
    if projected is None:
        raise CoordinateError(f"could not read '{shown}': one value looks like degrees and the other like metres")
    if info is not None and info.kind == "projected" and not projected:
        raise CoordinateError(f"{info.key} ({info.label}) expects metres (X northing, Y easting) but '{shown}' looks "
                              f"like degrees; choose a geographic coordinate system such as EPSG:4490", "crs")
    if info is not None and info.kind != "projected" and projected:
        raise CoordinateError(f"'{shown}' looks like projected metres but {info.key} ({info.label}) is in degrees; "
                              f"choose the Gauss-Kruger zone / projected coordinate system", "crs")

    if projected:
        lon, lat, info = _parse_projected(s, shown, labels, info, region, warns, helmert)
    else:
        lon, lat = _parse_geographic(s, shown, labels, region, warns)
        _check_lon(lon)
        _check_lat(lat)
        if info is None:
            info = resolve_crs(None)
        if info.key != "EPSG:4490":
            src_lon, src_lat = lon, lat
            lon, lat = (float(v) for v in _to_cgcs(lon, lat, info, helmert))
            if info.kind == "offset":
                dist = _GEOD.inv(src_lon, src_lat, lon, lat)[2]
                warns.append(f"converted from {info.label} to CGCS2000 (moved {dist:.0f} m)")
    if helmert is not None:
        warns.append(_datum_shift_note(info, helmert))

    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise CoordinateError(f"could not convert '{shown}' to CGCS2000")
    _check_lon(lon)
    _check_lat(lat)
    if region is not None and not _in_region(lon, lat, region):
        msg = f"point {_lonlat_text(lon, lat)} is outside {_region_text(region)}"
        if _in_region(lat, lon, region):
            msg += "; looks like latitude and longitude are swapped"
        warns.append(msg)
    return ParsedPoint(lon=lon, lat=lat, crs=info.key, warnings=warns, source=source)


_GEOD = pyproj.Geod(ellps="GRS80")


# --------------------------------------------------------------------------------------------------------------------
# Finding coordinates in free text (for the public view's redaction)
# --------------------------------------------------------------------------------------------------------------------
# One-to-one character substitutions, so that positions in the normalized text are positions in the original: full-width
# digits and points (NFKC) and the many prime and degree signs of _normalize.
_MARK_CHARS = {"º": "°", "˚": "°", "′": "'", "‘": "'", "’": "'", "´": "'", "`": "'", "″": '"', "“": '"', "”": '"',
               "〃": '"', "〇": "0", "：": ":", "．": "."}
_CLUSTER_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
# Numbers joined by angle marks (° ' " : 度 分 秒, d m s) or spaces form one cluster: a DMS angle, or a typed pair.
_CLUSTER = re.compile(rf"(?:{_CLUSTER_NUM})(?:(?:\s*[°'\":度分秒dDmMsS]\s*|\s+)(?:{_CLUSTER_NUM}))*\s*[°'\"度分秒]?")
_UNIT_AFTER = re.compile(r"\s*(?:km|m|cm|mm|Ma|ka|kg|%|‰|m²|km²|ha|米|千米|公里|厘米|毫米|万年|亿年|公斤|平方米|公顷|亩|个|件|块|人)"
                         r"(?![A-Za-z])")
_WINDOW_MARGIN = 3.0   # degrees around the region in which a number may be a site's longitude or latitude


def _char_normalized(text: str) -> str:
    out = []
    for ch in text:
        ch = _MARK_CHARS.get(ch, ch)
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def _in_windows(value: float, region) -> bool:
    minx, miny, maxx, maxy = region
    m = _WINDOW_MARGIN
    return minx - m <= value <= maxx + m or miny - m <= value <= maxy + m


def _coordinate_like(cluster: str, numbers: list[str], followed_by_unit: bool, region) -> bool:
    values = [float(n.replace(",", "")) for n in numbers]
    integer_digits = [len(n.split(".")[0].replace(",", "")) for n in numbers]
    if any(d >= 6 for d in integer_digits):
        return True  # Gauss-Kruger X/Y or other metres (also phone numbers): never published for these sites
    if len(numbers) == 1 and followed_by_unit and not re.search(r"[°'\":度分秒]", cluster):
        return False  # a measure: 25.5 m, 2.4 km, 242 Ma
    try:  # what the coordinate toolkit reads here: a pair of coordinates, or one angle
        point = parse_coordinate(cluster, region=None)
        if _in_windows(point.lon, region) and _in_windows(point.lat, region):
            return True
    except (CoordinateError, ValueError):
        pass
    try:
        angle = _parse_angle_norm(cluster.strip(), cluster, validate=True)
        if _in_windows(abs(angle.value), region) and (angle.parts > 1 or "." in numbers[0]):
            return True
    except (CoordinateError, ValueError):
        pass
    if len(numbers) >= 2 and _in_windows(values[0], region):
        return True  # degrees followed by minutes (and seconds), however they are written
    return any("." in n and _in_windows(v, region) for n, v in zip(numbers, values))


def find_coordinates(text: str, region=GUIZHOU_BBOX) -> list[tuple[int, int]]:
    """Spans (start, end) of ``text`` that hold a coordinate, or part of one, in any notation this module parses:
    decimal degrees or DMS with or without marks, hemisphere letters or Chinese 度分秒 (full-width too), typed pairs,
    Gauss-Kruger X/Y in metres with or without the zone prefix. A number counts when it could be a longitude or
    latitude near ``region`` more precise than whole degrees, or when it has six or more digits before the point.
    Whole degrees alone, years, and measures with a unit (25.5 m, 242 Ma) are left in place."""
    if not text:
        return []
    norm = _char_normalized(text)
    spans = []
    for m in _CLUSTER.finditer(norm):
        cluster = m.group(0)
        numbers = re.findall(_CLUSTER_NUM, cluster)
        followed_by_unit = bool(_UNIT_AFTER.match(norm, m.end()))
        if _coordinate_like(cluster, numbers, followed_by_unit, region):
            start = m.start()
            end = m.end() - (len(cluster) - len(cluster.rstrip()))
            spans.append((start, end))
    return spans
