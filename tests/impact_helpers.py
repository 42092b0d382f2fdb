"""Independent figures for the impact screening tests: pyproj.Geod (GRS80, i.e. CGCS2000) on densely densified
geometries, projected with pyproj directly (not through fossil_registry.coords or geometry.local_metres)."""
from __future__ import annotations

import numpy as np
import pyproj
import shapely
from shapely import STRtree
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

GEOD = pyproj.Geod(ellps="GRS80")


def to_lonlat(geom: BaseGeometry, crs: str, step: float) -> BaseGeometry:
    """``geom`` given in ``crs``, its edges densified there every ``step`` units (straight in the CRS it was drawn in),
    in CGCS2000 lon/lat."""
    t = pyproj.Transformer.from_crs(crs, "EPSG:4490", always_xy=True)
    dense = shapely.segmentize(geom, step)
    return shapely.transform(dense, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def from_lonlat(geom: BaseGeometry, crs: str) -> BaseGeometry:
    t = pyproj.Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    return shapely.transform(geom, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def min_distance_m(a: BaseGeometry, b: BaseGeometry, step_deg: float = 1e-5) -> float:
    """Brute-force minimum geodesic distance between two lon/lat geometries (not intersecting): every pair of
    vertices of their outlines densified every ``step_deg`` degrees (about a metre), near the closest approach."""
    pa = shapely.get_coordinates(shapely.segmentize(a.boundary if isinstance(a, Polygon) or a.geom_type ==
                                                    "MultiPolygon" else a, step_deg))
    pb = shapely.get_coordinates(shapely.segmentize(b.boundary if b.geom_type in ("Polygon", "MultiPolygon") else b,
                                                    step_deg))
    # a rough planar pass (degrees scaled at the latitude) keeps the exact pass to the points near the closest pair
    k = np.cos(np.radians(pa[:, 1].mean()))
    qa, qb = shapely.points(pa * [k, 1]), shapely.points(pb * [k, 1])
    to_b = STRtree(qb).query_nearest(qa, return_distance=True, all_matches=False)[1]
    to_a = STRtree(qa).query_nearest(qb, return_distance=True, all_matches=False)[1]
    rough = to_b.min()
    slack = rough * 0.01 + 3e-5  # the rough pass is within 1 % of the geodesic figure; 3e-5 degrees is ~3 m
    near_a, near_b = pa[to_b <= rough + slack], pb[to_a <= rough + slack]
    lon1, lon2 = np.meshgrid(near_a[:, 0], near_b[:, 0])
    lat1, lat2 = np.meshgrid(near_a[:, 1], near_b[:, 1])
    return float(GEOD.inv(lon1.ravel(), lat1.ravel(), lon2.ravel(), lat2.ravel())[2].min())


def overlap_m2(a: BaseGeometry, b: BaseGeometry, step_deg: float = 1e-5) -> float:
    """Geodesic area of the intersection of two lon/lat polygons, both densified every ``step_deg`` degrees (so that
    their straight lon/lat edges follow the geodesics)."""
    shared = shapely.intersection(shapely.segmentize(a, step_deg), shapely.segmentize(b, step_deg))
    return abs(GEOD.geometry_area_perimeter(shared)[0]) if not shared.is_empty else 0.0


def corridor(line_lonlat: BaseGeometry, width_m: float) -> BaseGeometry:
    """A corridor of ``width_m`` around a lon/lat line, built in an azimuthal equidistant projection centred on it
    (another projection than the registry's transverse Mercator), densified there every metre."""
    c = line_lonlat.centroid
    aeqd = f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +ellps=GRS80 +units=m"
    fwd = pyproj.Transformer.from_crs("EPSG:4490", aeqd, always_xy=True)
    line = shapely.transform(line_lonlat, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
    area = line.buffer(width_m / 2, cap_style="flat", join_style="round", quad_segs=64)
    return to_lonlat(area, aeqd, 5.0)
