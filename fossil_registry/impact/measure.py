"""The geodesic measurements of a screening: for each candidate geometry, whether the footprint intersects it, the
overlap area in m² and the minimum distance in metres.

How (docs/impact.md, "Accuracy"): footprint and candidates go into one transverse Mercator centred on the footprint
(geometry.local_metres), where shapely finds, in one vectorised pass, the candidates within reach, those that
intersect, the intersection polygons and the pair of nearest points. The figures are then taken on the ellipsoid:
the distance is the geodesic (pyproj.Geod, GRS80 = CGCS2000) between the two nearest points brought back to lon/lat,
and the overlap is the geodesic area of the intersection brought back to lon/lat. The projection only chooses *which*
points are nearest; its scale error (below 1e-4 within 125 km of the centre) changes the choice by a second-order
amount, so distances agree with a brute-force geodesic search to centimetres."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..geometry import GEOD, geodesic_area_m2, local_metres


@dataclass(frozen=True)
class Measure:
    index: int                                  # position in the list of candidate geometries
    intersects: bool
    distance_m: float                           # 0 when intersecting
    overlap_m2: float                           # area shared with the footprint's area (polygonal candidates only)
    nearest: tuple[tuple[float, float], tuple[float, float]] | None  # (on the candidate, on the footprint), lon/lat


def measure(footprint: BaseGeometry, area: BaseGeometry | None, candidates: list[BaseGeometry],
            reach_m: float) -> list[Measure]:
    """The candidates (lon/lat geometries) within ``reach_m`` metres of the footprint, measured; ``area`` is the
    footprint's polygonal part (None if it has none), against which overlaps are measured."""
    if not candidates:
        return []
    frame = local_metres(footprint)
    fp = frame.to_metres(footprint)
    shapely.prepare(fp)
    geoms = frame.to_metres(np.asarray(candidates, dtype=object))
    planar = shapely.distance(fp, geoms)
    # planar and geodesic distances differ by the projection's scale error: look a little further, decide below
    near = np.nonzero(planar <= reach_m * 1.001 + 1.0)[0]
    if not len(near):
        return []
    hits = shapely.intersects(fp, geoms[near])
    area_m = frame.to_metres(area) if area is not None else None
    out = []
    for i, hit in zip(near, hits):
        target = geoms[i]
        if hit:
            overlap = 0.0
            if area_m is not None and target.geom_type in ("Polygon", "MultiPolygon"):
                shared = shapely.intersection(area_m, target)
                overlap = geodesic_area_m2(frame.to_lonlat(shared)) if not shared.is_empty else 0.0
            out.append(Measure(int(i), True, 0.0, overlap, None))
            continue
        line = shapely.shortest_line(target, fp)
        (x1, y1), (x2, y2) = frame.to_lonlat(line).coords
        distance = float(GEOD.inv(x1, y1, x2, y2)[2])
        if distance <= reach_m:
            out.append(Measure(int(i), False, distance, 0.0, ((x1, y1), (x2, y2))))
    return out
