"""A construction project's footprint: read from an uploaded file (any format and coordinate system the revision
workflow reads, through ``formats``), from GeoJSON in a stated CRS, or drawn on the map; densified in the CRS it was
drawn in; lines and points given a width become corridors and discs (buffered in metres); checked for plausibility.

The result is in EPSG:4490 and is exactly what is screened: polygons and corridors (which can overlap a site), and
lines or points without width (which can only touch it)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import shapely
from shapely.geometry import GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from .. import formats, json_input, region, untrusted
from ..errors import InvalidInput
from ..geometry import GEOD, geodesic_area_m2, local_metres, vertex_count
from .settings import Settings
from ..messages import msg


@dataclass
class Footprint:
    geometry: BaseGeometry           # EPSG:4490; a Multi* or a GeometryCollection of them
    width_m: float | None            # the corridor width given for lines and points (None: none given)
    source: dict[str, Any]           # format, filename, source CRS, feature: how the footprint was read
    notes: list[str] = field(default_factory=list)

    @property
    def area(self) -> MultiPolygon | None:
        """The part that covers ground (polygons, corridors, discs): overlaps are measured with it."""
        polys = [g for g in _parts(self.geometry) if isinstance(g, Polygon)]
        return MultiPolygon(polys) if polys else None

    def figures(self) -> dict[str, Any]:
        lines = [g for g in _parts(self.geometry) if isinstance(g, LineString)]
        points = [g for g in _parts(self.geometry) if isinstance(g, Point)]
        minx, miny, maxx, maxy = self.geometry.bounds
        return {"area_m2": round(geodesic_area_m2(self.area), 1) if self.area is not None else 0.0,
                "line_length_m": round(sum(GEOD.geometry_length(line) for line in lines), 1),
                "points": len(points), "vertices": vertex_count(self.geometry),
                "bbox": [round(v, 7) for v in (minx, miny, maxx, maxy)]}


def _parts(geom: BaseGeometry) -> list[BaseGeometry]:
    """The single polygons, lines and points of a geometry, however nested."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, (GeometryCollection, MultiPolygon, MultiLineString, MultiPoint)):
        return [p for g in geom.geoms for p in _parts(g)]
    return [geom]


@untrusted.bounded
def from_upload(filename: str, data: bytes, settings: Settings, *, crs=None, feature: int | None = None,
                width_m: Any = None) -> Footprint:
    """A footprint file in any format the revision workflow reads (every feature, or the one ``feature`` names); read
    and prepared (densified, buffered, repaired: GEOS work that a crafted line makes unbounded) in a bounded worker."""
    read = formats.read_geometry(filename, data, formats.FOOTPRINT, crs=crs, feature=feature, limits=settings.limits,
                                 region=settings.region_bbox, densify_m=settings.densify_m)
    return prepare(read.geometry, settings, width_m=width_m, source=read.describe(), notes=read.notes)


@untrusted.bounded
def from_geojson(value: Any, settings: Settings, *, crs=None, width_m: Any = None, drawn: bool = False) -> Footprint:
    """GeoJSON sent in a request (geometry, Feature or FeatureCollection) in ``crs`` (default EPSG:4490); ``drawn``:
    drawn on the web map (always EPSG:4490). Prepared in a bounded worker, as an uploaded file is: a 2,000-vertex line
    doubling back on itself, buffered 1 km, took 85 s and 7.6 GB in the server's process."""
    what = "the drawn footprint" if drawn else "footprint"
    read = formats.read_geojson_object(value, what, crs=None if drawn else crs, densify_m=settings.densify_m)
    source = {**read.describe(), "format": "drawn" if drawn else "geojson"}
    return prepare(read.geometry, settings, width_m=width_m, source=source, notes=read.notes)


def from_fields(fields: Mapping[str, Any], settings: Settings, *,
                file: tuple[str, bytes] | None = None) -> Footprint:
    """The footprint a request gives, exactly one way: an uploaded ``file`` (with ``crs`` where the file does not say
    and ``feature`` to pick one), ``footprint`` GeoJSON (an object, or its text in a form) in ``crs``, or
    ``footprint_drawn`` GeoJSON drawn on the map; ``width_m`` for lines and points."""
    crs = fields.get("crs") or None
    if crs is not None and not isinstance(crs, (str, int)):
        raise InvalidInput(msg("impact.crs_must_epsg_code", "crs must be an EPSG code or the name of a coordinate "
                               "system"), field="crs")
    given = [name for name, present in (("file", file is not None), ("footprint", fields.get("footprint")),
                                         ("footprint_drawn", fields.get("footprint_drawn"))) if present]
    if not given:
        raise InvalidInput(msg("impact.footprint_given_upload_file", "no footprint was given: upload a file (file), "
                               "send GeoJSON (footprint) or draw it on the map"), field="footprint")
    if len(given) > 1:
        raise InvalidInput(msg("impact.footprint_given_ways_give", "the footprint was given {count} ways ({given}); "
                               "give it once", count=len(given), given=', '.join(given)),
                           field="footprint")
    width = fields.get("width_m")
    if file is not None:
        return from_upload(*file, settings, crs=crs, feature=_whole(fields.get("feature"), "feature"), width_m=width)
    drawn = given[0] == "footprint_drawn"
    value = fields.get(given[0])
    if isinstance(value, str):
        try:
            value = json_input.loads(value, given[0])
        except ValueError:
            raise InvalidInput(msg("impact.geojson", "{given} is not GeoJSON", given=given[0]), field=given[0]) from None
    return from_geojson(value, settings, crs=crs, width_m=width, drawn=drawn)


def _whole(value: Any, name: str) -> int | None:
    return json_input.whole_number(value, name, field=name)


def parse_width(value: Any, settings: Settings) -> float | None:
    if value in (None, ""):
        return None
    try:
        width = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(msg("impact.width_m_must_number", "width_m must be a number of metres (got {value!r})",
                               value=str(value)[:20]), field="width_m") from None
    if isinstance(value, bool) or not math.isfinite(width) or width < 0 or width > settings.max_width_m:
        raise InvalidInput(msg("impact.width_m_must_lie", "width_m must lie between 0 and {max_width_m:,.0f} m (got "
                               "{value})", max_width_m=settings.max_width_m, value=str(value)[:20]),
                           field="width_m")
    return width or None


def prepare(geom: BaseGeometry, settings: Settings, *, width_m: Any = None, source: dict | None = None,
            notes: list[str] | None = None) -> Footprint:
    """Check a footprint in EPSG:4490 and turn it into what is screened (see the module docstring)."""
    notes = list(notes or [])
    width = parse_width(width_m, settings)
    parts = _parts(geom)
    if not parts:
        raise InvalidInput(msg("impact.footprint_empty_coordinates", "the footprint is empty: it has no coordinates"))
    whole = GeometryCollection(parts)
    if not shapely.is_valid_input(whole) or not all(math.isfinite(v) for v in whole.bounds):
        raise InvalidInput(msg("impact.footprint_missing_non_numeric", "the footprint has missing or non-numeric "
                               "coordinates"))
    region.check_plausible(whole, settings.region_bbox, settings.region_name, what="footprint",
                           max_distance_km=settings.region_max_distance_km)
    _check_size(whole, settings)
    polygons = [p for p in parts if isinstance(p, Polygon)]
    lines = [p for p in parts if isinstance(p, LineString)]
    points = [p for p in parts if isinstance(p, Point)]
    if any(line.length == 0 for line in lines):  # a corridor around it would be empty, and it crosses nothing
        raise InvalidInput(msg('impact.line_footprint_has_no', 'a line of the footprint has no length (all its points are the same); send a point as a Point'))
    polygons = _valid_polygons(polygons, notes)
    if width and (lines or points):
        frame = local_metres(whole)
        for g in lines + points:
            flat = "flat" if isinstance(g, LineString) else "round"
            polygons += _polygons(frame.to_lonlat(frame.to_metres(g).buffer(width / 2, quad_segs=16, cap_style=flat,
                                                                            join_style="round")))
        what = " and ".join(w for w, present in (("lines", lines), ("points", points)) if present)
        notes.append(msg("impact.footprint_screened_width_m", "the {what} of the footprint were screened with a "
                         "width of {width:g} m", what=what, width=width))
        lines, points = [], []
    elif width:
        notes.append(msg("impact.width_applies_lines_points", "the width applies to lines and points; the footprint "
                         "has only polygons, screened as drawn"))
    elif lines:
        notes.append(msg("impact.width_given_lines_screened", "no width was given: the lines were screened as lines, "
                         "which can cross a site but cover no area (overlaps 0 m²); give the corridor width "
                         "(width_m) for a road or pipeline"))
    kinds = []
    if polygons:
        area = shapely.union_all(polygons)
        kinds.append(MultiPolygon(_polygons(area)))
    if lines:
        kinds.append(MultiLineString(lines))
    if points:
        kinds.append(MultiPoint(points))
    if not kinds:  # e.g. a polygon whose vertices all lie on one line: its repair keeps nothing
        raise InvalidInput(msg('impact.footprint_encloses_no_area', 'the footprint encloses no area: its polygons collapse to lines or points; check the coordinates (or send a line with width_m)'))
    screened = kinds[0] if len(kinds) == 1 else GeometryCollection(kinds)
    return Footprint(screened, width, dict(source or {}), notes)


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    return [p for p in _parts(geom) if isinstance(p, Polygon) and not p.is_empty]


def _valid_polygons(polygons: list[Polygon], notes: list[str]) -> list[Polygon]:
    """Polygons as drawn; a self-crossing outline is screened as its repair (every lobe kept), and the report says so:
    for a screening the cautious reading of a sloppy outline is the whole area it encloses."""
    out = []
    for n, poly in enumerate(polygons, start=1):
        if poly.is_valid:
            out.append(poly)
            continue
        reason = shapely.is_valid_reason(poly)
        repaired = _polygons(shapely.make_valid(poly, method="structure", keep_collapsed=False))
        if not repaired:  # its points lie on a line: screening nothing would report "no site affected"
            raise InvalidInput(msg('impact.polygon_n_footprint_encloses', 'polygon {n} of the footprint encloses no area ({reason}): give its outline, or the line with the width of the works (width_m)', n=n, reason=reason))
        out += repaired
        notes.append(f"polygon {n} of the footprint is not a valid outline ({reason}); it was screened as repaired, "
                     "with every part it encloses")
    return out


def _check_size(geom: BaseGeometry, settings: Settings) -> None:
    n = vertex_count(geom)
    if n > settings.max_vertices:
        raise InvalidInput(msg("impact.footprint_vertices_once_densified", "the footprint has {n:,} vertices once "
                               "densified; the limit is {max_vertices:,}. Simplify it or screen it in sections", n=n,
                               max_vertices=settings.max_vertices))
    minx, miny, maxx, maxy = geom.bounds
    across = GEOD.inv(minx, miny, maxx, maxy)[2]
    if across > settings.max_extent_km * 1000:
        raise InvalidInput(msg("impact.footprint_km_across_limit", "the footprint is {value:,.0f} km across; the "
                               "limit is {max_extent_km:,.0f} km. Screen a long project in sections",
                               value=across / 1000, max_extent_km=settings.max_extent_km))
