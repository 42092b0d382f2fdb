"""Build the illustrative Guizhou demo registry: site records from ``guizhou_sites.csv`` plus generated boundaries.

The localities are anchored on real Guizhou biotas (Guanling, Xingyi, Panxian, Kaili, Weng'an, Wenghui...) but the
records, coordinates, levels, dates and especially the boundaries are ILLUSTRATIVE, not official records.

Boundaries are irregular star-shaped polygons (12-40 vertices, smoothed random radii; some have a hole or a second part)
built in a local transverse Mercator around each site, scaled to the CSV's target area with the geodesic area, kept
clear of every other site, and checked with :func:`fossil_registry.geometry.validate_boundary`. Everything is driven by
``numpy.random.default_rng(seed)``: the same seed gives byte-identical output.

``python -m fossil_registry.demo.build --check`` builds the data set, checks it and prints a summary.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, Polygon, mapping
from shapely.ops import nearest_points
from shapely.strtree import STRtree

from ..geometry import (
    GeometryError,
    LocalMetres,
    geodesic_area_m2,
    local_metres,
    validate_boundary,
    validate_location,
    vertex_count,
)

SEED_CSV = Path(__file__).resolve().with_name("guizhou_sites.csv")
# the reason of the demo's first versions, as a Chinese office would write it; files carry both languages
DEMO_REASON = "演示数据，仅供示意，非官方记录"
DEMO_NOTICE = "Illustrative demo data, not official records / " + DEMO_REASON
DEFAULT_SEED = 20261121

#: (min lon, min lat, max lon, max lat) every demo location lies in.
GUIZHOU_BBOX = (103.6, 24.6, 109.6, 29.2)
#: Boundaries are built to within 0.5 % of the target area (the contract is 5 %).
AREA_TOLERANCE = 0.005
#: Minimum clearance in metres between boundaries of different sites, and between a boundary and other sites' locations.
GAP_M = 30.0
_GAP_DEG = GAP_M / 111_000.0 * 1.5  # generous: a degree of longitude is shorter than 111 km
COORD_DECIMALS = 7  # ~1 cm

CSV_COLUMNS = ("code", "name", "name_en", "county", "county_en", "level", "period", "age", "formation", "formation_en",
               "fossil_groups", "sensitivity", "lon", "lat", "boundary_km2", "description", "description_en",
               "established")
#: Keys of every record returned by :func:`demo_sites` (the schema fields of docs/site-schema.md).
SITE_FIELDS = ("code", "name", "name_en", "county", "county_en", "level", "period", "age", "formation", "formation_en",
               "fossil_groups",
               "sensitivity", "description", "description_en", "established", "status", "location", "boundary",
               "public_description", "public_description_en")
# The public descriptions of the generalized sites and sections (the only description the public reads of them)
PUBLIC_TEXTS_CSV = SEED_CSV.with_name("public_texts.csv")


def public_texts(path: str | Path = PUBLIC_TEXTS_CSV) -> dict[str, dict[str, str]]:
    """code -> {"public_description": ..., "public_description_en": ...} of the demo's protected features."""
    with open(path, newline="", encoding="utf-8") as fh:
        return {row.pop("code"): row for row in csv.DictReader(fh)}


def load_seed_rows(path: str | Path = SEED_CSV) -> list[dict[str, Any]]:
    """The CSV rows with typed values: lon/lat floats, boundary_km2 float or None, fossil_groups a list."""
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise ValueError(f"{path}: expected columns {','.join(CSV_COLUMNS)}")
        for raw in reader:
            row: dict[str, Any] = {k: (raw[k] or "").strip() for k in CSV_COLUMNS}
            row["lon"] = float(row["lon"])
            row["lat"] = float(row["lat"])
            row["boundary_km2"] = float(row["boundary_km2"]) if row["boundary_km2"] else None
            row["fossil_groups"] = [g.strip() for g in row["fossil_groups"].split(";") if g.strip()]
            rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------------------------------
# shape generation (local metric coordinates, the site location at the origin)
# ----------------------------------------------------------------------------------------------------------------------
def _radial_ring(rng: np.random.Generator, n: int, roughness: float) -> tuple[np.ndarray, np.ndarray]:
    """Angles and radii (mean ~1) of a star-shaped ring with smoothed random radii (a few low harmonics + noise)."""
    step = 2 * math.pi / n
    angles = rng.uniform(0, 2 * math.pi) + step * np.arange(n) + rng.uniform(-0.3, 0.3, n) * step
    radii = np.ones(n)
    for k in (1, 2, 3, 4, 5):
        radii += rng.uniform(0, roughness / k) * np.cos(k * angles + rng.uniform(0, 2 * math.pi))
    radii += rng.normal(0, 0.08, n)
    radii = (np.roll(radii, 1) + 2 * radii + np.roll(radii, -1)) / 4  # circular smoothing
    return angles, np.clip(radii, 0.35, 2.0)


def _ring_polygon(angles: np.ndarray, radii: np.ndarray, cx: float, cy: float, size: float = 1.0) -> Polygon:
    return Polygon(np.column_stack([cx + size * radii * np.cos(angles), cy + size * radii * np.sin(angles)]))


def _unit_shape(rng: np.random.Generator, away: np.ndarray | None, push: float) -> MultiPolygon | None:
    """An irregular boundary shape of arbitrary size containing the origin (the site location), or None.

    ``away`` is a unit vector pointing towards neighbours: the shape is then shifted to the other side of the location
    by ``push`` times its smallest radius.
    """
    n = int(rng.integers(12, 41))
    roughness = float(rng.uniform(0.3, 0.7))
    angles, radii = _radial_ring(rng, n, roughness)
    main = _ring_polygon(angles, radii, 0.0, 0.0)
    # outcrops follow the strike: stretch along a random direction (an affine map keeps the ring star-shaped)
    stretch = math.sqrt(float(rng.uniform(1.0, 3.0)))  # length/width ratio 1-3
    strike = float(rng.uniform(0, 180))
    main = affinity.rotate(affinity.scale(main, stretch, 1 / stretch, origin=(0, 0)), strike, origin=(0, 0))
    rmin = main.exterior.distance(Point(0.0, 0.0))
    rmax = math.sqrt(max(x * x + y * y for x, y in main.exterior.coords))
    if away is None:
        phi = rng.uniform(0, 2 * math.pi)
        shift = rng.uniform(0, 0.35) * rmin * np.array([math.cos(phi), math.sin(phi)])
    else:
        phi = math.atan2(-away[1], -away[0]) + rng.normal(0, 0.25)
        shift = push * rmin * np.array([math.cos(phi), math.sin(phi)])
    main = affinity.translate(main, float(shift[0]), float(shift[1]))
    origin = Point(0.0, 0.0)
    if not main.is_valid or main.exterior.distance(origin) < 0.05 * rmin or not main.contains(origin):
        return None

    parts = [main]
    variant = rng.random()
    if variant < 0.15:  # a hole (an excluded plot, a quarry pond...) away from the location
        psi = rng.uniform(0, 2 * math.pi)
        ha, hr = _radial_ring(rng, int(rng.integers(8, 15)), roughness=0.2)
        d = 0.5 * rmin  # the main ring contains the disc of radius rmin around its centre
        hole = _ring_polygon(ha, hr, float(shift[0] + d * math.cos(psi)), float(shift[1] + d * math.sin(psi)),
                             0.3 * rmin)
        if hole.is_valid and main.buffer(-0.05 * rmin).contains(hole) and hole.distance(origin) > 0.25 * rmin:
            parts = [Polygon(main.exterior.coords, [hole.exterior.coords])]
    elif variant < 0.3:  # a detached second part (an outlying exposure)
        psi = rng.uniform(0, 2 * math.pi)
        sa, sr = _radial_ring(rng, int(rng.integers(12, 21)), roughness=0.25)
        d = rmax + 0.5 + 0.3 * float(sr.max())
        second = _ring_polygon(sa, sr, float(shift[0] + d * math.cos(psi)), float(shift[1] + d * math.sin(psi)), 0.3)
        if second.is_valid and second.distance(main) > 0.1:
            parts.append(second)
    shape = MultiPolygon(parts)
    return shape if shape.is_valid else None


def _round_coords(geom):
    return shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))


def _to_lonlat_at_area(shape_m: MultiPolygon, frame: LocalMetres, target_m2: float) -> MultiPolygon | None:
    """Scale ``shape_m`` about the origin so its geodesic area (after projection to lon/lat) matches ``target_m2``."""
    scale = math.sqrt(target_m2 / shape_m.area)
    for _ in range(4):
        lonlat = _round_coords(frame.to_lonlat(affinity.scale(shape_m, scale, scale, origin=(0, 0))))
        area = geodesic_area_m2(lonlat)
        if abs(area / target_m2 - 1) <= AREA_TOLERANCE / 5:
            break
        scale *= math.sqrt(target_m2 / area)
    try:
        lonlat = validate_boundary(lonlat)
    except GeometryError:
        return None
    if abs(geodesic_area_m2(lonlat) / target_m2 - 1) > AREA_TOLERANCE:
        return None
    return lonlat


def _carve(shape_m: MultiPolygon, obstacles_m, target_m2: float) -> MultiPolygon | None:
    """Last resort: grow ``shape_m`` and cut the neighbours out of it until the part holding the location has the
    target area (bisection on the scale factor). Deterministic; None if even 8x the size cannot reach the target."""
    origin = Point(0.0, 0.0)

    def piece(scale: float) -> Polygon | None:
        grown = affinity.scale(shape_m, scale, scale, origin=(0, 0)).difference(obstacles_m)
        for part in shapely.get_parts(grown):
            if isinstance(part, Polygon) and part.contains(origin):
                return part
        return None

    lo = math.sqrt(target_m2 / shape_m.area)
    hi = 8 * lo
    top = piece(hi)
    if top is None or top.area < target_m2:
        return None
    best = None
    for _ in range(40):
        mid = (lo + hi) / 2
        p = piece(mid)
        area = 0.0 if p is None else p.area
        if area < target_m2:
            lo = mid
        else:
            hi, best = mid, p
        if best is not None and abs(best.area / target_m2 - 1) < AREA_TOLERANCE / 10:
            break
    return None if best is None else MultiPolygon([best])


def _conflicts(candidate, placed: list, placed_tree_geoms, other_points) -> list[int]:
    """Indexes (into ``placed``) of boundaries too close to ``candidate``; -1 if it reaches another site's location."""
    hits = []
    if placed:
        near = shapely.dwithin(placed_tree_geoms, candidate, _GAP_DEG)
        hits = [int(i) for i in np.flatnonzero(near)]
    if other_points is not None and len(other_points) and bool(shapely.dwithin(other_points, candidate,
                                                                                _GAP_DEG).any()):
        hits.append(-1)
    return hits


def _boundary_for(rng, location: Point, target_m2: float, placed: list[MultiPolygon], other_points) -> MultiPolygon:
    frame = local_metres(location)
    placed_arr = np.array(placed, dtype=object)
    away = None
    last_shape = None
    for attempt in range(24):
        shape_m = _unit_shape(rng, away, push=min(0.3 + 0.05 * attempt, 0.85))
        if shape_m is None:
            continue
        last_shape = shape_m
        candidate = _to_lonlat_at_area(shape_m, frame, target_m2)
        if candidate is None:
            continue
        hits = _conflicts(candidate, placed, placed_arr, other_points)
        if not hits:
            return candidate
        # push the next shape away from whatever it touched (direction in local metres)
        vec = np.zeros(2)
        coslat = math.cos(math.radians(location.y))
        for i in hits:
            target = placed[i] if i >= 0 else shapely.MultiPoint(list(other_points))
            nearest = nearest_points(location, target)[1]
            d = np.array([(nearest.x - location.x) * coslat, nearest.y - location.y])
            norm = float(np.hypot(*d))
            if norm > 0:
                vec += d / norm
        norm = float(np.hypot(*vec))
        away = vec / norm if norm > 0 else None

    # fallback: cut the neighbours (with clearance) out of a grown shape
    if last_shape is None:
        raise RuntimeError(f"could not generate a boundary around {location.wkt}")
    obstacles = [frame.to_metres(g).buffer(GAP_M * 2.5) for g in placed
                 if g.distance(location) < 0.2]
    if other_points is not None:
        obstacles += [frame.to_metres(p).buffer(GAP_M * 2.5) for p in other_points
                      if p.distance(location) < 0.2]
    obstacles_m = shapely.union_all(obstacles) if obstacles else Polygon()
    carved = _carve(last_shape, obstacles_m, target_m2)
    if carved is not None:
        candidate = _to_lonlat_at_area(carved, frame, target_m2)
        if candidate is not None and not _conflicts(candidate, placed, placed_arr, other_points):
            return candidate
    raise RuntimeError(f"could not fit a boundary of {target_m2 / 1e6:g} km² around {location.wkt} "
                       "without touching a neighbouring site")



# ----------------------------------------------------------------------------------------------------------------------
# the data set
# ----------------------------------------------------------------------------------------------------------------------
def demo_sites(seed: int = DEFAULT_SEED) -> list[dict]:
    """The illustrative demo registry: one dict per site with every schema field (docs/site-schema.md).

    ``fossil_groups`` is a list, ``status`` is 'active', ``established`` an ISO date string, ``location`` a shapely
    Point and ``boundary`` a valid MultiPolygon (exteriors counter-clockwise) or None. Reproducible: the same seed
    gives identical records and byte-identical WKB.
    """
    rng = np.random.default_rng(seed)
    rows = load_seed_rows()
    points = [validate_location(Point(r["lon"], r["lat"])) for r in rows]
    placed: list[MultiPolygon] = []
    sites = []
    published = public_texts()
    for i, (row, location) in enumerate(zip(rows, points)):
        boundary = None
        if row["boundary_km2"] is not None:
            others = np.array([p for j, p in enumerate(points) if j != i], dtype=object)
            boundary = _boundary_for(rng, location, row["boundary_km2"] * 1e6, placed, others)
            placed.append(boundary)
        site = {k: row[k] for k in SITE_FIELDS if k in row}
        site.update(status="active", location=location, boundary=boundary,
                    **published.get(row["code"], {"public_description": None, "public_description_en": None}))
        sites.append({k: site[k] for k in SITE_FIELDS})
    _check(sites, rows)
    return sites


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _check(sites: list[dict], rows: list[dict]) -> None:
    """Invariants of the data set; raises AssertionError naming the site at fault (also under ``python -O``)."""
    codes = [s["code"] for s in sites]
    _require(codes == [f"GZ-{i:04d}" for i in range(1, len(sites) + 1)], "codes must be GZ-0001.. in order")
    x0, y0, x1, y1 = GUIZHOU_BBOX
    boundaries, owners = [], []
    for s, row in zip(sites, rows):
        loc = s["location"]
        _require(x0 <= loc.x <= x1 and y0 <= loc.y <= y1, f"{s['code']} lies outside Guizhou")
        b = s["boundary"]
        if b is None:
            _require(row["boundary_km2"] is None, f"{s['code']} lost its boundary")
            continue
        _require(isinstance(b, MultiPolygon) and b.is_valid, f"{s['code']} boundary invalid")
        area_km2 = geodesic_area_m2(b) / 1e6
        _require(0.05 <= area_km2 <= 20, f"{s['code']} boundary area {area_km2:.3f} km² out of range")
        _require(abs(area_km2 / row["boundary_km2"] - 1) <= 0.05, f"{s['code']} boundary area off target")
        _require(b.contains(loc), f"{s['code']} boundary does not contain its location")
        boundaries.append(b)
        owners.append(s["code"])
    tree = STRtree(boundaries)
    for i, b in enumerate(boundaries):
        hits = [int(j) for j in tree.query(b, predicate="intersects") if int(j) != i]
        _require(not hits, f"{owners[i]} overlaps {', '.join(owners[j] for j in hits)}")


def summary(sites: list[dict]) -> str:
    with_b = [s for s in sites if s["boundary"] is not None]
    areas = [geodesic_area_m2(s["boundary"]) / 1e6 for s in with_b]
    verts = [vertex_count(s["boundary"]) for s in with_b]
    multi = sum(len(s["boundary"].geoms) > 1 for s in with_b)
    holes = sum(any(len(p.interiors) for p in s["boundary"].geoms) for s in with_b)
    lines = [
        DEMO_NOTICE,
        f"sites: {len(sites)}  with boundary: {len(with_b)}  without: {len(sites) - len(with_b)}",
        "level: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(s['level'] for s in sites).items())),
        "sensitivity: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(s['sensitivity'] for s in sites).items())),
        "period: " + ", ".join(f"{k} {v}" for k, v in Counter(s['period'] for s in sites).most_common()),
        f"boundary area: {min(areas):.3f} - {max(areas):.3f} km² (total {sum(areas):.1f} km²); "
        f"vertices {min(verts)}-{max(verts)}; two-part {multi}, with hole {holes}",
    ]
    return "\n".join(lines)


def _feature_collection(sites: list[dict]) -> dict:
    feats = []
    for s in sites:
        props = {k: s[k] for k in SITE_FIELDS if k not in ("location", "boundary")}
        geom = s["boundary"] if s["boundary"] is not None else s["location"]
        feats.append({"type": "Feature", "properties": props, "geometry": mapping(geom)})
    return {"type": "FeatureCollection", "name": "guizhou_demo_sites", "notice": DEMO_NOTICE, "features": feats}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fossil_registry.demo.build",
                                     description="Build and check the illustrative Guizhou demo registry.")
    parser.add_argument("--check", action="store_true", help="build, verify the invariants and print a summary")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--geojson", metavar="PATH", help="also write the sites (boundary or point) as GeoJSON")
    args = parser.parse_args(argv)
    try:
        sites = demo_sites(args.seed)
    except (AssertionError, RuntimeError) as exc:
        print(f"demo data check FAILED: {exc}", file=sys.stderr)
        return 1
    print(summary(sites))
    if args.geojson:
        Path(args.geojson).write_text(json.dumps(_feature_collection(sites), ensure_ascii=False, indent=1),
                                      encoding="utf-8")
        print(f"wrote {args.geojson}")
    if args.check:
        print("check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
