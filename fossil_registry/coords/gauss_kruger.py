"""Gauss-Kruger zones as used in Chinese survey practice: the 3- and 6-degree zones of a longitude with their CGCS2000
EPSG codes, CGCS2000 lon/lat to X (northing) / Y (easting), and what a zone number typed in front of an easting means
when a surveyor's coordinates are read.
"""
from __future__ import annotations

import math

from .base import CoordinateError, _check_lat, _check_lon, _num
from .crs import CRSInfo, _central_meridian, _false_easting, from_cgcs2000, resolve_crs
from ..messages import msg


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
        raise CoordinateError(msg("coords.longitude_outside_china_s", "longitude {lon} is outside China's 3-degree "
                                  "Gauss-Kruger zones (73.5-136.5E)", lon=_num(lon)),
                              "longitude")
    easting, northing = (float(v) for v in from_cgcs2000(lon, lat, z["epsg3"]))
    return {"epsg": z["epsg3"], "epsg_prefixed": z["epsg3_prefixed"], "zone": z["zone3"], "cm": z["cm3"],
            "x_northing": northing, "y_easting": easting, "y_easting_prefixed": z["zone3"] * 1_000_000 + easting}


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
        raise CoordinateError(msg("coords.easting_starts_which_chinese", "easting {easting} starts with {zone}, "
                                  "which is not a Chinese Gauss-Kruger zone (13-23 for 6-degree, 25-45 for 3-degree "
                                  "zones)", easting=_num(easting), zone=zone), "easting")
    return zone, cm, easting - zone * 1_000_000


def _plausible_easting(v: float) -> bool:
    if 100_000 <= v < 900_000:
        return True
    try:
        z = _gk_zone_of_prefix(v)
    except CoordinateError:
        return False
    return z is not None and 100_000 <= z[2] < 900_000


def _read_gauss_kruger(northing: float, easting: float, info: CRSInfo | None,
                       warns: list[str]) -> tuple[float, float, CRSInfo]:
    """Typed Gauss-Kruger X/Y -> (northing, easting, CRS): swapped X/Y put right, the zone prefix of the easting
    matched against the CRS (or, without a CRS, choosing the CGCS2000 zone it names)."""
    if not _plausible_easting(easting) and _plausible_easting(northing) and 1_000_000 <= easting < 10_000_000:
        northing, easting = easting, northing
        warns.append(msg("coords.x_y_looked_swapped", "X and Y looked swapped (in Chinese survey practice X is the "
                         "northing and Y the easting); read as X={northing} Y={easting}", northing=_num(northing),
                         easting=_num(easting)))
    prefix = _gk_zone_of_prefix(easting)
    if info is None:
        if prefix is None:
            raise CoordinateError(
                msg("coords.projected_coordinates_x_y", "projected coordinates X={northing} Y={easting} need a "
                    "coordinate system: the easting has no zone number in front, so the zone cannot be known. Choose "
                    "the CRS (e.g. EPSG:4544 or EPSG:4545 for CGCS2000 3-degree CM 105E/108E, EPSG:4507 for 6-degree "
                    "CM 105E) or type the easting with its zone number (e.g. 36363594.53)", northing=_num(northing),
                    easting=_num(easting)), "crs")
        zone, cm, _ = prefix
        info = resolve_crs(4513 + zone - 25 if zone >= 25 else 4491 + zone - 13)
        width = "3-degree" if zone >= 25 else "6-degree"
        warns.append(msg("coords.coordinate_system_given_easting", "no coordinate system given: the easting's zone "
                         "number {zone} means {width} Gauss-Kruger zone {zone} (central meridian {cm}E); assumed "
                         "CGCS2000 ({key}). If the survey used Xian 1980 or Beijing 1954, choose that coordinate "
                         "system instead", zone=zone, width=width, cm=cm, key=info.key))
        return northing, easting, info
    return northing, _match_zone(easting, prefix, info, warns), info


def _match_zone(easting: float, prefix: tuple[int, int, float] | None, info: CRSInfo, warns: list[str]) -> float:
    """The easting as ``info`` expects it: its zone prefix checked against the CRS, then added or removed."""
    crs_cm = _central_meridian(info.crs)
    if prefix is not None:
        zone, cm, bare = prefix
        if crs_cm is None or abs(crs_cm - cm) > 1e-9:
            raise CoordinateError(
                msg("coords.easting_starts_zone_central", "the easting {easting} starts with zone {zone} (central "
                    "meridian {cm}E) but {key} ({label}) has central meridian {value}E", easting=_num(easting),
                    zone=zone, cm=cm, key=info.key, label=info.label,
                    value=_num(crs_cm) if crs_cm is not None else '?'), "easting")
        if info.zone_prefixed:
            fe_zone = int(_false_easting(info.crs) // 1_000_000)
            if fe_zone != zone:
                raise CoordinateError(msg("coords.easting_starts_zone_but", "the easting {easting} starts with zone "
                                          "{zone} but {key} uses zone {fe_zone}", easting=_num(easting), zone=zone,
                                          key=info.key, fe_zone=fe_zone), "easting")
        else:
            easting = bare
            warns.append(msg("coords.removed_zone_number_easting", "removed the zone number {zone} from the easting "
                             "({key} has no zone prefix)", zone=zone, key=info.key))
    elif info.zone_prefixed:
        zone = int(_false_easting(info.crs) // 1_000_000)
        easting += zone * 1_000_000
        warns.append(msg("coords.easting_had_zone_number", "the easting had no zone number; added zone {zone} as "
                         "{key} expects", zone=zone, key=info.key))
    return easting
