"""Site geometry: validity checks with readable reasons, and geodesic metrics.

Pure domain code (no web framework). Geometries are EPSG:4490 (CGCS2000) longitude/latitude in degrees, x = lon, y = lat.

Geodesic figures use ``pyproj.Geod(ellps="GRS80")``. CGCS2000's ellipsoid has GRS80's semi-major axis (6378137 m) and
defines the flattening as 1/298.257222101, while GRS80 derives it from J2 (1/298.257222100882...): the semi-minor axes
differ by about 1e-8 m, so figures computed on GRS80 are CGCS2000 figures for every practical purpose.

Error messages (``GeometryError``) are written for a field surveyor: they say what is wrong, where, and what to do.
Repairs are only ever *offered* (``GeometryError.repair``), never applied silently.

Somewhat over 600 lines, on purpose: the explanations of invalid boundaries (which ring, which vertex, what to do)
take room, and splitting validation from the metrics it shares its projection helpers with would scatter one concern.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    shape,
)
from shapely.geometry.base import BaseGeometry

from .messages import Message, message_of, msg

__all__ = [
    "GEOD",
    "MAX_VERTICES",
    "MIN_AREA_M2",
    "GeometryError",
    "validate_boundary",
    "validate_location",
    "geodesic_area_m2",
    "geodesic_perimeter_m",
    "geodesic_distance_m",
    "hausdorff_m",
    "centroid_shift_m",
    "vertex_count",
    "compare_geometries",
    "simplify_for_zoom",
    "simplify_many_for_zoom",
    "close_ring_if_near",
    "grid_cell_centre",
    "local_metric_crs",
]

# CGCS2000 ellipsoid: a = 6378137 m, 1/f = 298.257222101. GRS80 differs from it negligibly (semi-minor axes ~1e-8 m
# apart, see the module docstring), so pyproj's built-in GRS80 definition is used for geodesic areas and distances.
GEOD = Geod(ellps="GRS80")

#: Largest number of vertices accepted in one boundary (all rings of all parts, closing points not counted).
#: A walked GPS perimeter of a large site at 1 s logging has a few thousand points; 20,000 leaves ample room while
#: keeping validation, storage and map rendering fast. Bigger outlines should be simplified before upload.
MAX_VERTICES = 20_000

#: A boundary enclosing less than this is treated as degenerate (collapsed outline, digitising slip).
MIN_AREA_M2 = 1.0


class GeometryError(ValueError):
    """A geometry the registry cannot accept.

    ``str(e)`` is a plain message a field surveyor understands; ``.location`` is ``(lon, lat)`` of the problem or None;
    ``.repair`` is a suggested repaired geometry (``shapely.make_valid`` result, as a MultiPolygon) or None. The repair is
    offered to the user, never applied silently.
    """

    def __init__(self, message: Message | str, location: tuple[float, float] | None = None,
                 repair: MultiPolygon | None = None):
        super().__init__(str(message))
        self.message = message_of(message)
        self.location = location
        self.repair = repair


# ----------------------------------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------------------------------
def fmt(value: float, decimals: int = 6) -> str:
    """A coordinate for a message: rounded to ``decimals`` places, trailing zeros dropped (105.5212, not 105.521200)."""
    text = f"{round(float(value), decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _type_name(geom: Any) -> str:
    if isinstance(geom, BaseGeometry):
        return geom.geom_type
    if isinstance(geom, Mapping) and "type" in geom:
        return f"GeoJSON {geom['type']}"
    return type(geom).__name__


def _as_geometry(geom: Any, what: str) -> BaseGeometry:
    """shapely geometry from a shapely geometry, a GeoJSON-like mapping or an object with ``__geo_interface__``."""
    if isinstance(geom, BaseGeometry):
        return geom
    if isinstance(geom, Mapping) and "bbox" in geom:
        _check_bbox(geom["bbox"], what)
    if isinstance(geom, Mapping) or hasattr(geom, "__geo_interface__"):
        try:
            return shape(geom)
        except Exception as exc:  # malformed GeoJSON
            raise GeometryError(msg("geometry.could_read_geometry", "{what} could not be read as a geometry ({exc})",
                                    what=what, exc=exc)) from None
    raise GeometryError(msg("geometry.must_geometry_but_given", "{what} must be a geometry, but a {geom} was given",
                            what=what, geom=_type_name(geom)))


def _check_bbox(bbox: Any, what: str) -> None:
    """A GeoJSON bbox (RFC 7946 5) is read by no one here, but one that is malformed means the rest may be too."""
    if (not isinstance(bbox, (list, tuple)) or len(bbox) not in (4, 6)
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox)):
        raise GeometryError(msg('geometry.bbox_what_numbers_min', 'the bbox of the {what} must be 4 (or 6) numbers: [min lon, min lat, max lon, max lat] (got {str})', what=what, str=str(bbox)[:40]))


def _polygon_parts(geom: BaseGeometry) -> list[Polygon]:
    """Polygons of a Polygon / MultiPolygon / GeometryCollection (non-polygonal members ignored)."""
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if isinstance(geom, (MultiPolygon, GeometryCollection)):
        out: list[Polygon] = []
        for part in geom.geoms:
            out.extend(_polygon_parts(part))
        return out
    return []


def _to_multipolygon(geom: BaseGeometry | None) -> MultiPolygon | None:
    """Polygonal content of ``geom`` as an oriented MultiPolygon, or None when it has no area."""
    if geom is None:
        return None
    parts = [p for p in _polygon_parts(geom) if not p.is_empty and p.area > 0]
    if not parts:
        return None
    return shapely.orient_polygons(MultiPolygon(parts), exterior_cw=False)


def _rings(poly: Polygon) -> list[LinearRing]:
    return [poly.exterior, *poly.interiors]


def _as_point_coords(p: Any) -> tuple[float, float]:
    if isinstance(p, Point):
        if p.is_empty:
            raise GeometryError(msg("geometry.point_empty", "the point is empty"))
        return float(p.x), float(p.y)
    if isinstance(p, BaseGeometry) or isinstance(p, Mapping):
        return _as_point_coords(validate_location(p))
    if isinstance(p, Sequence) and len(p) >= 2:
        return float(p[0]), float(p[1])
    raise GeometryError(msg("geometry.expected_point_lon_lat", "expected a point or a (lon, lat) pair, but a {p} was "
                            "given", p=_type_name(p)))


def _centre(geom: BaseGeometry) -> tuple[float, float]:
    if geom.is_empty:
        raise GeometryError(msg("geometry.find_centre_empty_geometry", "cannot find the centre of an empty geometry"))
    c = geom.centroid
    if c.is_empty:  # e.g. a collection of empty parts
        c = geom.representative_point()
    return float(c.x), float(c.y)


# ----------------------------------------------------------------------------------------------------------------------
# local projection
# ----------------------------------------------------------------------------------------------------------------------
_TMERC = "+proj=tmerc +lat_0={lat0!r} +lon_0={lon0!r} +k=1 +x_0=0 +y_0=0 +ellps=GRS80"


@lru_cache(maxsize=256)
def _tmerc_crs(lon0: float, lat0: float) -> CRS:
    return CRS.from_proj4(_TMERC.format(lon0=lon0, lat0=lat0) + " +units=m +no_defs +type=crs")


@lru_cache(maxsize=512)
def _tmerc(lon0: float, lat0: float) -> Transformer:
    # A pipeline rather than Transformer.from_crs(lon/lat CRS, tmerc CRS): the same operation (degrees to radians,
    # transverse Mercator on GRS80, no datum change), built in ~0.5 ms instead of ~6 ms, because no CRS objects are made
    # and no operation is searched for. Every proposal's figures (centroid shift, Hausdorff) need one around its site,
    # so this decided how fast 5,000 proposals of a site import are checked and made.
    return Transformer.from_pipeline("+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step "
                                     + _TMERC.format(lon0=lon0, lat0=lat0))


def _centre_of(geom_or_centre: BaseGeometry | tuple[float, float]) -> tuple[float, float]:
    if isinstance(geom_or_centre, BaseGeometry):
        lon, lat = _centre(geom_or_centre)
    else:
        lon, lat = float(geom_or_centre[0]), float(geom_or_centre[1])
    # rounding the centre to ~0.1 m keeps the transformer cache effective without measurable effect on the metrics
    return round(lon, 6), round(lat, 6)


def _local(geom_or_centre: BaseGeometry | tuple[float, float]) -> Transformer:
    return _tmerc(*_centre_of(geom_or_centre))


def local_metric_crs(geom) -> pyproj.CRS:
    """A transverse Mercator CRS (GRS80/CGCS2000 ellipsoid, metres, scale 1) centred on the geometry's centroid.

    Within a few tens of kilometres of the centre its scale error is below 1e-5, so planar lengths and areas in it are
    geodesic figures to better than 0.01 %. ``geom`` may also be a ``(lon, lat)`` pair.
    """
    if not isinstance(geom, BaseGeometry):
        geom = Point(_as_point_coords(geom))
    return _tmerc_crs(*_centre_of(geom))


def _project(geom: BaseGeometry, transformer: Transformer, inverse: bool = False) -> BaseGeometry:
    direction = pyproj.enums.TransformDirection.INVERSE if inverse else pyproj.enums.TransformDirection.FORWARD

    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1], direction=direction)
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


@dataclass(frozen=True)
class LocalMetres:
    """A local transverse Mercator around a centre (local_metric_crs): planar work in metres, results in lon/lat.
    The one place where geometries go to metres and back."""

    crs: CRS
    transformer: Transformer

    def to_metres(self, geom: BaseGeometry) -> BaseGeometry:
        return _project(geom, self.transformer)

    def to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        return _project(geom, self.transformer, inverse=True)


def local_metres(geom_or_centre: BaseGeometry | tuple[float, float]) -> LocalMetres:
    centre = _centre_of(geom_or_centre)
    return LocalMetres(_tmerc_crs(*centre), _tmerc(*centre))


def in_metres(geom: BaseGeometry, fn, *, around: BaseGeometry | tuple[float, float] | None = None) -> BaseGeometry:
    """``fn`` applied to ``geom`` in metres (a local transverse Mercator centred on ``around`` or on the geometry),
    the result back in lon/lat: buffers, simplification and other planar operations with distances in metres."""
    frame = local_metres(geom if around is None else around)
    return frame.to_lonlat(fn(frame.to_metres(geom)))


def simplify_to_limit(geom: BaseGeometry, limit: int = MAX_VERTICES) -> tuple[BaseGeometry, float]:
    """Topology-preserving simplification in metres, tolerance doubled from 0.05 m until the outline has at most
    ``limit`` vertices. Returns (geometry, tolerance in m): no vertex of the original lies further than the tolerance
    from the simplified outline (Douglas-Peucker's guarantee), which is reported to the reviewer."""
    frame = local_metres(geom)
    projected = frame.to_metres(geom)
    tolerance = 0.05
    while True:
        simplified = projected.simplify(tolerance, preserve_topology=True)
        if vertex_count(simplified) <= limit or tolerance > 1e5:
            break
        tolerance *= 2
    out = frame.to_lonlat(simplified)
    if isinstance(geom, MultiPolygon) and isinstance(out, Polygon):
        out = MultiPolygon([out])
    return out, tolerance


# ----------------------------------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------------------------------
def _check_range(x: float, y: float, where: str, what: str) -> None:
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GeometryError(msg("geometry.missing_non_numeric_coordinate", "{what} has a missing or non-numeric "
                                "coordinate{value} ({x}, {y}); every point needs a longitude and a latitude in "
                                "decimal degrees", what=what, value=' at ' + where if where else '', x=x, y=y))
    if -180.0 <= x <= 180.0 and -90.0 <= y <= 90.0:
        return
    hint = "coordinates must be CGCS2000 longitude/latitude in decimal degrees"
    if -90.0 <= x <= 90.0 and -180.0 <= y <= 180.0:
        hint = "latitude and longitude look swapped - give longitude first, then latitude"
    elif abs(x) > 1000 or abs(y) > 1000:
        hint = "these look like projected metres (e.g. Gauss-Kruger); convert them to longitude/latitude first"
    where = f" {where}" if where else ""
    raise GeometryError(msg("geometry.lon_lat_outside_longitude", "{what}{where} (lon {x}, lat {y}) is outside the "
                            "longitude/latitude range (-180..180, -90..90): {hint}", what=what, where=where, x=fmt(x),
                            y=fmt(y), hint=hint), location=None)


def _is_position(value) -> bool:
    return (isinstance(value, (list, tuple)) and len(value) >= 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value[:2]))


def check_geojson_rings(mapping_: Mapping) -> None:
    """Ring closure can only be wrong in raw input: shapely closes rings itself. Check GeoJSON before converting."""
    gtype = mapping_.get("type")
    coords = mapping_.get("coordinates")
    if gtype == "Polygon":
        polys = [coords]
    elif gtype == "MultiPolygon":
        polys = list(coords or [])
    elif gtype == "GeometryCollection":
        for g in mapping_.get("geometries") or []:
            if isinstance(g, Mapping):
                check_geojson_rings(g)
        return
    else:
        return
    seq = (list, tuple)
    if not isinstance(polys, seq) or not all(isinstance(poly, seq) and all(isinstance(ring, seq) for ring in poly)
                                             for poly in polys):
        raise GeometryError(msg('geometry.coordinates_gtype_lists_rings', 'the coordinates of a {gtype} must be lists of rings of [longitude, latitude] positions', gtype=gtype))
    for pi, poly in enumerate(polys, start=1):
        for ri, ring in enumerate(poly):
            if len(ring) < 2:
                continue
            first, last = ring[0], ring[-1]
            if not (_is_position(first) and _is_position(last)):
                raise GeometryError(msg('geometry.every_position_gtype_longitude', 'every position of a {gtype} must be [longitude, latitude] in numbers (got {str} ... {str2})', gtype=gtype, str=str(first)[:40], str2=str(last)[:40]))
            if list(first[:2]) != list(last[:2]):
                which = msg("geometry.outer_ring", "outer ring") if ri == 0 else msg("geometry.hole_n", "hole {n}",
                                                                                     n=ri)
                part = msg("geometry.of_part", " of part {n}", n=pi) if len(polys) > 1 else ""
                raise GeometryError(
                    msg("geometry.ring_not_closed", "boundary {which}{part} is not closed: it starts at {first_lon} "
                        "{first_lat} but ends at {last_lon} {last_lat}; the last point must repeat the first",
                        which=which, part=part, first_lon=fmt(first[0]), first_lat=fmt(first[1]),
                        last_lon=fmt(last[0]), last_lat=fmt(last[1])),
                    location=(round(float(last[0]), 6), round(float(last[1]), 6)))


_REASON_RE = re.compile(r"^(?P<reason>[^\[]*)\[(?P<x>[-+0-9.eE]+|nan|inf)\s+(?P<y>[-+0-9.eE]+|nan|inf)")


def _explain_invalid(geom: MultiPolygon, parts: list[Polygon]) -> GeometryError:
    reason_text = shapely.is_valid_reason(geom)
    m = _REASON_RE.match(reason_text)
    reason = (m.group("reason") if m else reason_text).strip().lower()
    location = None
    at = ""
    if m:
        x, y = float(m.group("x")), float(m.group("y"))
        location = (round(x, 6), round(y, 6))
        at = msg("geometry.at_point", " at {lon} {lat}", lon=fmt(x), lat=fmt(y))
    try:
        # "structure" unions overlapping parts and keeps every lobe of a self-crossing ring: the repair a surveyor expects
        repair = _to_multipolygon(shapely.make_valid(geom, method="structure", keep_collapsed=False))
    except shapely.errors.GEOSException:
        repair = None
    if repair is None or geodesic_area_m2(repair) < MIN_AREA_M2:
        return GeometryError(msg("geometry.boundary_encloses_almost_area", "boundary encloses (almost) no area: its "
                                 "outline collapses onto a line or a point{at}; check for missing or repeated points",
                                 at=at), location=location)
    return GeometryError(_invalid_reason(reason, parts, at, reason_text), location=location, repair=repair)


# shapely's (GEOS's) reasons for an invalid polygon, in the words of a surveyor
_INVALID_REASONS = {
    "hole lies outside shell": lambda at: msg("geometry.hole_outside_shell", "a hole in the boundary lies (partly) "
                                              "outside its outer ring{at}; redraw that part of the outline or accept "
                                              "the suggested repair", at=at),
    "nested shells": lambda at: msg("geometry.nested_shells", "one part of the boundary lies inside another "
                                    "part{at}; redraw that part of the outline or accept the suggested repair", at=at),
    "nested holes": lambda at: msg("geometry.nested_holes", "a hole of the boundary lies inside another hole{at}; "
                                   "redraw that part of the outline or accept the suggested repair", at=at),
    "interior is disconnected": lambda at: msg("geometry.interior_disconnected", "holes cut the boundary into "
                                               "separate pieces{at}; redraw that part of the outline or accept the "
                                               "suggested repair", at=at),
    "duplicate rings": lambda at: msg("geometry.duplicate_rings", "the boundary contains the same ring twice{at}; "
                                      "redraw that part of the outline or accept the suggested repair", at=at),
    "too few points": lambda at: msg("geometry.too_few_points", "a boundary ring has too few points{at}; redraw that "
                                     "part of the outline or accept the suggested repair", at=at),
}


def _invalid_reason(reason: str, parts: list[Polygon], at, reason_text: str) -> Message:
    if "self-intersection" in reason:
        if len(parts) > 1 and all(p.is_valid for p in parts):
            return msg("geometry.parts_overlap", "boundary parts overlap or touch along a line{at}; redraw that part "
                       "of the outline or accept the suggested repair", at=at)
        return msg("geometry.self_intersection", "boundary ring self-intersects{at}; redraw that part of the outline "
                   "or accept the suggested repair", at=at)
    for key, message in _INVALID_REASONS.items():
        if key in reason:
            return message(at)
    return msg("geometry.invalid_polygon", "boundary is not a valid polygon ({reason}); redraw that part of the "
               "outline or accept the suggested repair", reason=reason_text)


def _check_is_area(geom: BaseGeometry) -> None:
    """A boundary is a Polygon or MultiPolygon (or a collection of only those); say what else was given."""
    if isinstance(geom, GeometryCollection) and not isinstance(geom, MultiPolygon):
        others = sorted({g.geom_type for g in geom.geoms if not isinstance(g, (Polygon, MultiPolygon))})
        if others:
            raise GeometryError(msg("geometry.boundary_must_area_polygon", "boundary must be an area (Polygon or "
                                    "MultiPolygon), but a GeometryCollection containing {others} was given",
                                    others=', '.join(others)))
    elif not isinstance(geom, (Polygon, MultiPolygon)):
        hint = ""
        if isinstance(geom, (LineString, MultiLineString)):
            hint = "; a walked perimeter must be closed into a polygon first"
        elif isinstance(geom, (Point, MultiPoint)):
            hint = "; a point belongs in the site location, not the boundary"
        raise GeometryError(msg("geometry.boundary_must_area_polygon_2", "boundary must be an area (Polygon or "
                                "MultiPolygon), but a {geom_type} was given{hint}", geom_type=geom.geom_type,
                                hint=hint))


def _check_rings(parts: list[Polygon]) -> None:
    """Every vertex in range, every ring closed and with at least 3 distinct vertices; errors say which ring."""
    multi = len(parts) > 1
    for pi, poly in enumerate(parts, start=1):
        for ri, ring in enumerate(_rings(poly)):
            which = ("outer ring" if ri == 0 else f"hole {ri}") + (f" of part {pi}" if multi else "")
            coords = np.asarray(ring.coords)
            for vi, (x, y) in enumerate(coords[:, :2], start=1):
                _check_range(float(x), float(y), f"vertex {vi} of the {which}", "boundary")
            if len(coords) >= 2 and not np.array_equal(coords[0], coords[-1]):  # not reachable through shapely
                raise GeometryError(msg("geometry.boundary_closed_last_point", "boundary {which} is not closed; the "
                                        "last point must repeat the first", which=which),
                                    location=(round(float(coords[-1][0]), 6), round(float(coords[-1][1]), 6)))
            distinct = len({(float(x), float(y)) for x, y in coords[:, :2]})
            if distinct < 3:
                x0, y0 = coords[0][:2]
                raise GeometryError(msg("geometry.boundary_only_distinct_vertices", "boundary {which} has only "
                                        "{distinct} distinct vertices; an area needs at least 3", which=which,
                                        distinct=distinct),
                                    location=(round(float(x0), 6), round(float(y0), 6)))


def validate_boundary(geom) -> MultiPolygon:
    """Check a site boundary; return it as a 2-D MultiPolygon with exteriors counter-clockwise, holes clockwise.

    Accepts a Polygon, a MultiPolygon, a GeometryCollection holding only polygons, or the GeoJSON mapping of one of these
    (GeoJSON is the only form in which a ring can arrive unclosed). Z values are dropped. Raises GeometryError with a
    readable message (and ``.location`` / ``.repair`` where they apply) for: nothing given, empty, wrong geometry type,
    too many vertices, non-finite or out-of-range coordinates, unclosed ring, a ring with fewer than 3 distinct vertices,
    invalid topology (self-intersection, overlapping parts, holes outside...), or an area below 1 m².
    """
    if geom is None:
        raise GeometryError(msg("geometry.boundary_given", "no boundary was given"))
    if isinstance(geom, Mapping):
        check_geojson_rings(geom)
    geom = _as_geometry(geom, "boundary")
    if geom.is_empty:
        raise GeometryError(msg("geometry.boundary_empty_points", "boundary is empty: it has no points"))

    _check_is_area(geom)
    geom = shapely.force_2d(geom)
    parts = _polygon_parts(geom)
    if not parts:
        raise GeometryError(msg("geometry.boundary_empty_points", "boundary is empty: it has no points"))

    n = sum(vertex_count(p) for p in parts)
    if n > MAX_VERTICES:
        raise GeometryError(msg("geometry.boundary_vertices_limit_simplify", "boundary has {n} vertices; the limit "
                                "is {max_vertices}. Simplify the outline (e.g. thin the GPS track) before uploading",
                                n=n, max_vertices=MAX_VERTICES))

    _check_rings(parts)
    mp = MultiPolygon(parts)
    if not mp.is_valid:
        raise _explain_invalid(mp, parts)

    area = geodesic_area_m2(mp)
    if area < MIN_AREA_M2:
        c = mp.representative_point()
        raise GeometryError(msg("geometry.boundary_encloses_only_m", "boundary encloses only {area:.3g} m², less "
                                "than {min_area_m2:g} m²: the outline has collapsed or was digitised by mistake",
                                area=area, min_area_m2=MIN_AREA_M2), location=(round(c.x, 6), round(c.y, 6)))
    return shapely.orient_polygons(mp, exterior_cw=False)


def validate_location(geom) -> Point:
    """Check a site location: a Point (or a MultiPoint of one point, a GeoJSON point, or a (lon, lat) pair).

    Returns a 2-D Point; raises GeometryError for missing/empty/wrong type, non-finite or out-of-range coordinates.
    """
    if geom is None:
        raise GeometryError(msg("geometry.site_location_given", "no site location was given"))
    if (not isinstance(geom, (BaseGeometry, Mapping, str)) and not hasattr(geom, "__geo_interface__")
            and isinstance(geom, Sequence)):
        if len(geom) not in (2, 3):
            raise GeometryError(msg("geometry.site_location_needs_longitude", "a site location needs a longitude and "
                                    "a latitude, but {count} numbers were given", count=len(geom)))
        try:
            geom = Point(float(geom[0]), float(geom[1]))
        except (TypeError, ValueError):
            raise GeometryError(msg("geometry.site_location_needs_numeric", "a site location needs numeric longitude "
                                    "and latitude")) from None
    geom = _as_geometry(geom, "site location")
    if geom.is_empty:
        raise GeometryError(msg("geometry.site_location_empty_coordinates", "site location is empty: it has no "
                                "coordinates"))
    if isinstance(geom, MultiPoint):
        if len(geom.geoms) != 1:
            raise GeometryError(msg("geometry.site_location_must_single", "site location must be a single point, but "
                                    "{count} points were given", count=len(geom.geoms)))
        geom = geom.geoms[0]
    if not isinstance(geom, Point):
        raise GeometryError(msg("geometry.site_location_must_point", "site location must be a Point, but a "
                                "{geom_type} was given", geom_type=geom.geom_type))
    x, y = float(geom.x), float(geom.y)
    _check_range(x, y, "", "site location")
    return Point(x, y)


# ----------------------------------------------------------------------------------------------------------------------
# geodesic metrics
# ----------------------------------------------------------------------------------------------------------------------
def _ring_area_perimeter(ring: LinearRing) -> tuple[float, float]:
    xy = np.asarray(ring.coords)[:, :2]
    area, perimeter = GEOD.polygon_area_perimeter(xy[:, 0], xy[:, 1])
    return abs(area), perimeter


def geodesic_area_m2(geom) -> float:
    """Area on the CGCS2000 ellipsoid in m² of a polygon / multipolygon, holes subtracted, independent of orientation.

    Edges are geodesics. Non-polygonal geometries have no area (0.0).
    """
    if geom is None:
        return 0.0
    geom = _as_geometry(geom, "geometry")
    total = 0.0
    for poly in _polygon_parts(geom):
        outer, _ = _ring_area_perimeter(poly.exterior)
        holes = sum(_ring_area_perimeter(r)[0] for r in poly.interiors)
        total += outer - holes
    return abs(total)


def geodesic_perimeter_m(geom) -> float:
    """Total length in metres of all rings (outer rings and holes) of a polygon / multipolygon on the ellipsoid."""
    if geom is None:
        return 0.0
    geom = _as_geometry(geom, "geometry")
    return float(sum(_ring_area_perimeter(r)[1] for poly in _polygon_parts(geom) for r in _rings(poly)))


def geodesic_distance_m(a, b) -> float:
    """Geodesic distance in metres between two points (shapely Points or (lon, lat) pairs)."""
    lon1, lat1 = _as_point_coords(a)
    lon2, lat2 = _as_point_coords(b)
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist)


def hausdorff_m(a, b) -> float:
    """Approximate Hausdorff distance in metres between two geometries.

    Both are projected onto one transverse Mercator centred on them (``local_metric_crs``) and compared with
    ``shapely.hausdorff_distance``, densified so that points along the edges count, not only the vertices.
    """
    a = _as_geometry(a, "geometry")
    b = _as_geometry(b, "geometry")
    if a.is_empty or b.is_empty:
        raise GeometryError(msg("geometry.compare_empty_geometry", "cannot compare an empty geometry"))
    transformer = _local(GeometryCollection([a, b]))
    pa, pb = _project(a, transformer), _project(b, transformer)
    n = max(vertex_count(a), vertex_count(b), 1)
    # split each segment into up to 10 pieces, fewer for big outlines so the O(n*m) comparison stays quick
    densify = 0.1 if n <= 500 else (0.5 if n <= 2000 else None)
    return float(shapely.hausdorff_distance(pa, pb, densify=densify))


def centroid_shift_m(a, b) -> float:
    """Geodesic distance in metres between the centroids of two geometries (centroids taken in a local projection)."""
    a = _as_geometry(a, "geometry")
    b = _as_geometry(b, "geometry")
    if a.is_empty or b.is_empty:
        raise GeometryError(msg("geometry.compare_empty_geometry", "cannot compare an empty geometry"))
    transformer = _local(GeometryCollection([a, b]))
    ca = _project(_project(a, transformer).centroid, transformer, inverse=True)
    cb = _project(_project(b, transformer).centroid, transformer, inverse=True)
    return geodesic_distance_m(ca, cb)


def vertex_count(geom) -> int:
    """Number of vertices; the closing point of a ring is not counted (a square has 4). None counts 0."""
    if geom is None:
        return 0
    geom = _as_geometry(geom, "geometry")
    if geom.is_empty:
        return 0
    if isinstance(geom, Point):
        return 1
    if isinstance(geom, LinearRing):
        return max(len(geom.coords) - 1, 0)
    if isinstance(geom, LineString):
        return len(geom.coords)
    if isinstance(geom, Polygon):
        return sum(max(len(r.coords) - 1, 0) for r in _rings(geom))
    return sum(vertex_count(g) for g in geom.geoms)


def compare_geometries(old_location, new_location, old_boundary, new_boundary) -> dict:
    """Figures that describe a geometry change; None where a figure does not apply (e.g. no boundary before).

    Keys: location_shift_m, area_before_m2, area_after_m2, area_change_pct, centroid_shift_m, hausdorff_m,
    vertices_before, vertices_after.
    """
    def present(g):
        return g is not None and not (isinstance(g, BaseGeometry) and g.is_empty)

    out: dict[str, Any] = dict.fromkeys(("location_shift_m", "area_before_m2", "area_after_m2", "area_change_pct",
                                         "centroid_shift_m", "hausdorff_m", "vertices_before", "vertices_after"))
    if present(old_location) and present(new_location):  # a section's line moved: the farthest any part of it went
        out["location_shift_m"] = (geodesic_distance_m(old_location, new_location)
                                   if isinstance(old_location, Point) and isinstance(new_location, Point)
                                   else hausdorff_m(old_location, new_location))
    if present(old_boundary):
        out["area_before_m2"] = geodesic_area_m2(old_boundary)
        out["vertices_before"] = vertex_count(old_boundary)
    if present(new_boundary):
        out["area_after_m2"] = geodesic_area_m2(new_boundary)
        out["vertices_after"] = vertex_count(new_boundary)
    if present(old_boundary) and present(new_boundary):
        if out["area_before_m2"] > 0:
            out["area_change_pct"] = (out["area_after_m2"] - out["area_before_m2"]) / out["area_before_m2"] * 100.0
        out["centroid_shift_m"] = centroid_shift_m(old_boundary, new_boundary)
        out["hausdorff_m"] = hausdorff_m(old_boundary, new_boundary)
    return out


# ----------------------------------------------------------------------------------------------------------------------
# map and field helpers
# ----------------------------------------------------------------------------------------------------------------------
def simplify_for_zoom(geom, zoom: int):
    """Topology-preserving simplification for display on a web map (256-px Web Mercator tiles) at zoom ``zoom``.

    The tolerance is about half a pixel: 0.5 * 360 / (256 * 2**zoom) degrees of longitude, times cos(latitude) so it
    is also at most half a pixel north-south. Returns ``geom`` unchanged for zoom >= 16, for None/empty/points, and
    whenever simplification would not give a valid geometry.
    """
    return simplify_many_for_zoom([geom], zoom)[0]


def simplify_many_for_zoom(geoms: Sequence[BaseGeometry], zoom: int | Sequence[int]) -> list[BaseGeometry]:
    """``[simplify_for_zoom(g, zoom) for g in geoms]``: its rule, in a few vectorized calls for all of them (one by one,
    the checks around GEOS's simplification cost a map layer of 600 boundaries more than it does). ``zoom`` may also
    be one zoom per geometry (the read model keeps a boundary simplified for every zoom: read_model._kept_boundaries).
    The one implementation of the rule: simplify_for_zoom is this for one geometry."""
    out = list(geoms)
    zooms = [int(zoom)] * len(out) if isinstance(zoom, (int, np.integer)) else [int(z) for z in zoom]
    todo = [i for i, g in enumerate(out) if zooms[i] < 16 and g is not None and not g.is_empty
            and not isinstance(g, (Point, MultiPoint))]
    if not todo:
        return out
    originals = np.array([out[i] for i in todo], dtype=object)
    centres = shapely.centroid(originals)
    empty = shapely.is_empty(centres)
    if empty.any():  # e.g. a collection of empty parts (_centre)
        centres[empty] = shapely.point_on_surface(originals[empty])
    tolerances = [0.5 * 360.0 / (256.0 * 2.0 ** max(zooms[i], 0)) * max(math.cos(math.radians(float(lat))), 0.01)
                  for i, lat in zip(todo, shapely.get_y(centres))]
    simplified = shapely.simplify(originals, np.array(tolerances), preserve_topology=True)
    types, before = shapely.get_type_id(simplified), shapely.get_type_id(originals)
    for wanted, single, make in ((6, 3, shapely.multipolygons), (5, 1, shapely.multilinestrings)):
        unwrapped = np.flatnonzero((before == wanted) & (types == single))  # GEOS unwraps single-part results
        if len(unwrapped):
            simplified[unwrapped] = make(simplified[unwrapped], indices=np.arange(len(unwrapped)))
    keep = ~shapely.is_empty(simplified) & shapely.is_valid(simplified) & (shapely.get_type_id(simplified) == before)
    for i, g, ok in zip(todo, simplified, keep):
        if ok:
            out[i] = g
    return out


def close_ring_if_near(coords, tolerance_m: float = 50.0) -> list | None:
    """Close a walked perimeter (e.g. a GPX track) whose ends are within ``tolerance_m`` metres.

    ``coords`` are (lon, lat[, ele]) points. Returns a list of (lon, lat) tuples whose last point repeats the first, or
    None if the ends are further apart than the tolerance or there are fewer than 3 distinct points.
    """
    pts = [(float(c[0]), float(c[1])) for c in coords]
    if len(set(pts)) < 3:
        return None
    if pts[0] == pts[-1]:
        return pts
    if geodesic_distance_m(pts[0], pts[-1]) <= tolerance_m:
        return pts + [pts[0]]
    return None


def grid_cell_centre(lon: float, lat: float, cell_deg: float = 0.1) -> tuple[float, float]:
    """Centre of the ``cell_deg`` grid cell containing (lon, lat); used to generalize sensitive sites for the public.

    Cells are half-open, [k*cell, (k+1)*cell): a point exactly on a cell edge belongs to the cell east/north of it.
    The division is done in decimal on the numbers as written (``repr``) so that binary float artefacts such as
    106.3 / 0.1 == 1062.9999999999998 do not put edge points in the wrong cell; the centre is rounded to 6 decimals.
    """
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeometryError(msg("geometry.generalize_location_non_numeric", "cannot generalize a location with "
                                "non-numeric coordinates"))
    if not cell_deg > 0:
        raise ValueError("cell_deg must be positive")
    cell = Decimal(repr(float(cell_deg)))

    def centre(v: float) -> float:
        k = math.floor(Decimal(repr(float(v))) / cell)
        return round(float((k + Decimal("0.5")) * cell), 6)

    return centre(lon), centre(lat)
