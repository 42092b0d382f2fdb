"""Is a section near the county it names? The registry holds no county boundaries (a public map in China may not draw
its own administrative boundaries, and the official ones are not open data): a county is where the registry's own
sites and sections that name it lie. A section line further than the configured distance from every one of them is
flagged for the reviewer; a county no registered feature names yet cannot be checked, and the reviewer is told so."""
from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from ..inspections import distance_m
from ..store import sections as section_store


@dataclass(frozen=True)
class CountyCheck:
    county: str
    features: int                  # registered features naming the county (the feature itself left out)
    distance_m: float | None       # from the line to the nearest of them (None: none to compare with)


def county_check(conn, line: BaseGeometry, county: str | None, county_en: str | None, *,
                 code: str | None = None) -> CountyCheck | None:
    """How far ``line`` is from the registered features of its stated county (None when it names no county)."""
    names = [n.strip() for n in (county, county_en) if isinstance(n, str) and n.strip()]
    if not names:
        return None
    points = section_store.county_anchors(conn, names, exclude=code)
    if not points:
        return CountyCheck(names[0], 0, None)
    return CountyCheck(names[0], len(points), min(distance_m(p, line) for p in points))
