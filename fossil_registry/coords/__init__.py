"""Coordinate handling for the fossil-site registry.

Sites are stored in EPSG:4490 (CGCS2000, longitude/latitude).  This package turns whatever a field surveyor or a
curator types (decimal degrees, DMS, Chinese 度分秒, Gauss-Kruger X/Y with or without the zone prefix, Amap/Baidu
coordinates) into CGCS2000, and converts between CGCS2000 and the other systems used in Chinese practice.

One home for each concern:

- :mod:`.base`: the errors, the home region (:data:`GUIZHOU_BBOX`), range checks and scalar/array plumbing;
- :mod:`.crs`: identifying CRSs and PROJ transformations, incl. the Helmert 7-parameter pipeline for Xian 1980 and
  Beijing 1954;
- :mod:`.offsets`: GCJ-02/BD-09, the offsets of Chinese phone map apps (hand-written: PROJ has no such transformation);
- :mod:`.gauss_kruger`: zones, lon/lat to X/Y, the zone number in front of an easting;
- :mod:`.text`: parsing typed angles and coordinate pairs, writing DMS;
- :mod:`.find`: finding coordinates in free text for the public view's redaction.

Axis order: every array function takes and returns x, y = easting/longitude, northing/latitude (PROJ's
``always_xy``).  Only the *text* parser follows the Chinese survey habit that X is the northing.

No Flask here: this is a pure domain package.  Callers use ``from fossil_registry import coords`` and the names below.
"""
from __future__ import annotations

from .base import GUIZHOU_BBOX, CoordinateError, DatumShiftWarning, UnknownCRSError
from .crs import CRSInfo, Helmert7, crs_name, from_cgcs2000, resolve_crs, to_cgcs2000, transform_geometry
from .gauss_kruger import gauss_kruger_zone, to_gauss_kruger
from .offsets import bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from .text import ParsedPoint, format_dms, parse_angle, parse_coordinate

__all__ = [
    "CoordinateError", "UnknownCRSError", "DatumShiftWarning", "CRSInfo", "Helmert7", "ParsedPoint", "crs_name",
    "GUIZHOU_BBOX", "resolve_crs", "to_cgcs2000", "from_cgcs2000", "transform_geometry",
    "wgs84_to_gcj02", "gcj02_to_wgs84", "gcj02_to_bd09", "bd09_to_gcj02", "wgs84_to_bd09", "bd09_to_wgs84",
    "parse_angle", "parse_coordinate", "gauss_kruger_zone", "to_gauss_kruger", "format_dms",
]
