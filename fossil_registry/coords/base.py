"""What every part of the coordinate toolkit shares: the errors, the home region, the range checks of longitude and
latitude, and the plumbing that lets each function take scalars or arrays.

No Flask here: the whole coords package is pure domain code.
"""
from __future__ import annotations

import math

import numpy as np

from ..messages import Message, message_of, msg

GUIZHOU_BBOX = (103.6, 24.6, 109.6, 29.2)  # (min_lon, min_lat, max_lon, max_lat)


class CoordinateError(ValueError):
    """Unparseable or impossible coordinate input.  ``str(e)`` is meant to be shown to the person who typed it."""

    def __init__(self, message: Message | str, field: str | None = None):
        super().__init__(str(message))
        self.message = message_of(message)
        self.field = field


class UnknownCRSError(CoordinateError):
    """The coordinate reference system could not be identified."""

    def __init__(self, message: Message | str, field: str | None = "crs"):
        super().__init__(message, field)


class DatumShiftWarning(UserWarning):
    """A Xian 1980 / Beijing 1954 conversion was done with user-supplied Helmert parameters."""


def _arrays(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return x.copy(), y.copy()


def _out(a: np.ndarray):
    return a[()] if a.ndim == 0 else a  # scalar in -> numpy float64 out


def _check_lon(lon: float, name: str = "longitude"):
    if not (isinstance(lon, (int, float, np.floating, np.integer)) and math.isfinite(lon)):
        raise CoordinateError(msg("coords.number", "{name} {lon!r} is not a number", name=name, lon=lon), name)
    if not -180.0 <= lon <= 180.0:
        raise CoordinateError(msg("coords.out_range", "{name} {lon} is out of range (-180..180)", name=name,
                                  lon=_num(lon)), name)


def _check_lat(lat: float):
    if not (isinstance(lat, (int, float, np.floating, np.integer)) and math.isfinite(lat)):
        raise CoordinateError(msg("coords.latitude_number", "latitude {lat!r} is not a number", lat=lat), "latitude")
    if not -90.0 <= lat <= 90.0:
        raise CoordinateError(msg("coords.latitude_out_range", "latitude {lat} is out of range (-90..90)",
                                  lat=_num(lat)), "latitude")


def _num(v: float) -> str:
    return f"{v:.12g}"
