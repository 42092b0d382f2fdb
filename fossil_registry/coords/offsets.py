"""GCJ-02 and BD-09: the offset coordinates of Chinese phone map apps (Amap/Gaode and Tencent use GCJ-02, Baidu uses
BD-09), to and from WGS84 (= CGCS2000 at metre level), with an iterative inverse for GCJ-02.

Hand-written: these offset systems are not in PROJ and no maintained PyPI package implements them.
"""
from __future__ import annotations

import math

import numpy as np

from .base import _arrays, _out

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
