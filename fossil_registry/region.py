"""Where the registry's sites can be: its region (a lon/lat box from the configuration) and the area in which its
coordinate system, CGCS2000, applies. A place far outside is a mistake, not a judgement call."""
from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .geometry import GEOD, GeometryError, fmt
from .messages import msg

# Area of use of EPSG:4490 (CGCS2000), in which the registry stores everything (pyproj: CRS(4490).area_of_use).
CGCS2000_AREA = (73.62, 16.7, 134.77, 53.56)


def inside(bbox, x: float, y: float) -> bool:
    """Whether (x, y) lies in the box (min_x, min_y, max_x, max_y)."""
    return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]


def _all_inside(bbox, coords) -> bool:
    """Whether every (x, y) row of the array lies in the box (min_x, min_y, max_x, max_y)."""
    return bool(np.all((coords[:, 0] >= bbox[0]) & (coords[:, 0] <= bbox[2]) & (coords[:, 1] >= bbox[1])
                       & (coords[:, 1] <= bbox[3])))


def distance_to_region_m(geom: BaseGeometry, region) -> float:
    """Geodesic metres from the farthest vertex of ``geom`` to the region's box (0: all inside). The vertices are
    clipped to the box at once (numpy); only those outside are measured, in one call to the geodesic."""
    coords = shapely.get_coordinates(geom)
    nearest = np.clip(coords, (region[0], region[1]), (region[2], region[3]))
    outside = np.any(nearest != coords, axis=1)
    if not outside.any():
        return 0.0
    far, near = coords[outside], nearest[outside]
    _, _, distances = GEOD.inv(far[:, 0], far[:, 1], near[:, 0], near[:, 1])
    return float(np.max(distances))


def check_plausible(geom: BaseGeometry, region, region_name: str, *, what: str, max_distance_km: float) -> float:
    """Refuse (GeometryError) a geometry outside the area of use of CGCS2000 or more than ``max_distance_km`` from the
    registry's region: that is a mistake (a lost sign, swapped axes, metres read as degrees), not a judgement call,
    and the message says what was probably meant. Returns the distance from the region in metres (0 inside; a few km
    outside is for the caller to warn about)."""
    coords = shapely.get_coordinates(geom)
    if not len(coords):
        return 0.0
    x, y = (float(v) for v in coords[0])
    outside_crs = not _all_inside(CGCS2000_AREA, coords)
    distance = distance_to_region_m(geom, region)
    if not outside_crs and distance <= max_distance_km * 1000:
        return distance
    hints = []
    for fixed, meaning in (((-x, y), "the longitude's sign is wrong (east longitudes are positive)"),
                           ((x, -y), "the latitude's sign is wrong (north latitudes are positive)"),
                           ((y, x), "longitude and latitude are swapped")):
        if inside(region, *fixed):
            hints.append(f"{meaning}: read as ({fmt(fixed[0])}, {fmt(fixed[1])}) it lies in {region_name}")
    if not hints:
        hints.append("the coordinates were typed in another coordinate system (projected X/Y are metres, not "
                     "degrees: choose their CRS) or belong to another place")
    where = ("outside the area where the registry's coordinate system CGCS2000 applies (China, "
             f"{CGCS2000_AREA[0]:g}-{CGCS2000_AREA[2]:g}E, {CGCS2000_AREA[1]:g}-{CGCS2000_AREA[3]:g}N)"
             if outside_crs else f"{distance / 1000:,.0f} km from {region_name}")
    raise GeometryError(msg("region.so_site_registry_probably", "the {what} ({x}, {y}) is {where}, so it cannot be a "
                            "site of this registry. Probably {hints}", what=what, x=fmt(x), y=fmt(y), where=where,
                            hints='; or '.join(hints)), location=(round(x, 6), round(y, 6)))
