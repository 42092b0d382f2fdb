"""Coordinate reference systems of the feature service (OGC API - Features Part 2, CRS by reference).

Offered: CRS84 (the default, longitude/latitude), EPSG:4490 (CGCS2000, the storage CRS; axis order latitude,
longitude as EPSG defines it) and the CGCS2000 Gauss-Krüger zones that cover the registry's region, 3-degree and
6-degree, with and without the zone number in front of the easting (axis order northing, easting, as EPSG defines them).
Every answer is in the authority's axis order of the CRS asked for; bbox-crs is read the same way."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj

from ..coords import gauss_kruger_zone
from ..errors import InvalidInput
from ..messages import msg

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
STORAGE_EPSG = 4490


class BadParameter(InvalidInput):
    """A query parameter the service cannot use (400, naming the parameter)."""

    status = 400
    title = "Bad request"


@dataclass(frozen=True)
class ServiceCRS:
    uri: str
    epsg: int | None          # None: CRS84
    label: str
    xy_order: bool            # True: coordinates are (x=lon/easting, y=lat/northing) as in GeoJSON; False: swapped



@lru_cache(maxsize=16)
def _pyproj(epsg: int) -> pyproj.CRS:
    return pyproj.CRS.from_epsg(epsg)


def offered(region: tuple[float, float, float, float]) -> list[ServiceCRS]:
    """The CRSs of the service for a region: CRS84, EPSG:4490, then the Gauss-Krüger zones across the region."""
    return list(_offered(tuple(region)))


@lru_cache(maxsize=8)
def _offered(region: tuple[float, float, float, float]) -> tuple[ServiceCRS, ...]:
    out = [ServiceCRS(CRS84, None, "WGS 84 / CGCS2000 longitude, latitude (CRS84)", True),
           ServiceCRS(EPSG_URI.format(code=STORAGE_EPSG), STORAGE_EPSG, "CGCS2000 latitude, longitude", False)]
    codes: list[int] = []
    lon = region[0]
    while lon <= region[2] + 1e-9:
        zone = gauss_kruger_zone(min(lon, region[2]))
        codes += [zone["epsg3"], zone["epsg3_prefixed"], zone["epsg6"], zone["epsg6_prefixed"]]
        lon += 1.5
    zone = gauss_kruger_zone(region[2])
    codes += [zone["epsg3"], zone["epsg3_prefixed"], zone["epsg6"], zone["epsg6_prefixed"]]
    for code in sorted(set(codes)):
        out.append(ServiceCRS(EPSG_URI.format(code=code), code, _pyproj(code).name, False))
    return tuple(out)


def resolve(value: str | None, region, *, parameter: str) -> ServiceCRS:
    """The offered CRS a parameter names (a URI, or EPSG:n / CRS84 as a shorthand); 400 naming it otherwise."""
    services = offered(region)
    if value is None or value == "":
        return services[0]
    text = value.strip().strip("[]")
    if text.upper() in ("CRS84", "OGC:CRS84"):
        text = CRS84
    if text.upper().startswith("EPSG:"):
        text = EPSG_URI.format(code=text.split(":", 1)[1])
    for crs in services:
        if crs.uri == text:
            return crs
    raise BadParameter(msg("ogcapi.offered_use_one", "{parameter}: {value!r} is not offered; use one of {value2}",
                           parameter=parameter, value=value[:120], value2=', '.join(c.uri for c in services)),
                       parameter=parameter)


@lru_cache(maxsize=32)
def _from_lonlat(epsg: int) -> pyproj.Transformer:
    """CGCS2000 lon/lat (x, y) -> the CRS in its authority's axis order."""
    return pyproj.Transformer.from_crs(_lonlat(), _pyproj(epsg), always_xy=False)


@lru_cache(maxsize=1)
def _lonlat() -> pyproj.CRS:
    return pyproj.CRS.from_user_input("OGC:CRS84")


def to_crs(xs: np.ndarray, ys: np.ndarray, crs: ServiceCRS) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (lon, lat in CGCS2000) as the CRS writes them: (first axis, second axis)."""
    if crs.epsg is None:
        return xs, ys
    if crs.epsg == STORAGE_EPSG:
        return ys, xs  # latitude, longitude: the same datum, swapped axes
    first, second = _from_lonlat(crs.epsg).transform(xs, ys)
    return np.asarray(first), np.asarray(second)


def bbox_to_lonlat(bbox: tuple[float, ...], crs: ServiceCRS) -> tuple[float, float, float, float]:
    """A bbox given in ``crs`` (its axis order) as a lon/lat box covering it (densified edges, so a Gauss-Krüger box
    is covered whole)."""
    if len(bbox) == 6:  # with heights: minx, miny, minz, maxx, maxy, maxz
        bbox = (bbox[0], bbox[1], bbox[3], bbox[4])
    a0, b0, a1, b1 = bbox
    if crs.epsg is None:
        return a0, b0, a1, b1
    if crs.epsg == STORAGE_EPSG:
        return b0, a0, b1, a1
    transformer = _from_lonlat(crs.epsg)
    first = np.concatenate([np.linspace(a0, a1, 21), np.full(21, a1), np.linspace(a1, a0, 21), np.full(21, a0)])
    second = np.concatenate([np.full(21, b0), np.linspace(b0, b1, 21), np.full(21, b1), np.linspace(b1, b0, 21)])
    lon, lat = transformer.transform(first, second, direction="INVERSE")
    lon, lat = np.asarray(lon), np.asarray(lat)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise BadParameter(msg("ogcapi.bbox_box_lies_outside", "bbox: the box lies outside the area of its CRS"), parameter="bbox")
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def area_of_use(crs: ServiceCRS) -> tuple[float, float, float, float]:
    if crs.epsg is None:
        return (-180.0, -90.0, 180.0, 90.0)
    return tuple(_pyproj(crs.epsg).area_of_use.bounds)
