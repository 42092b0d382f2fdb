"""One entry point from an uploaded file (or typed coordinates) to the geometry for a target, in EPSG:4490: detect the
format, read it with its reader into a :class:`GeometrySource`, choose the CRS to read it in, pick the one geometry
for the site's location or boundary (never merging several), and transform it to the registry's CRS.

Everything hostile or broken is refused with :class:`~fossil_registry.errors.InvalidInput` (or
:class:`UploadTooLarge`) whose message names the file and the problem.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import (GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon, Point,
                              Polygon, shape)
from shapely.geometry.base import BaseGeometry

from .. import coords, json_input, untrusted
from ..errors import InvalidInput
from ..geometry import GeometryError, check_geojson_rings, close_ring_if_near, geodesic_distance_m
from .archive import open_zip
from .base import (FOOTPRINT, FORMAT_LABELS, LINE, TARGETS, WGS84_KEYS, MiB, GeometrySource, Limits, SourceFeature,
                   UploadTooLarge, _fail)
from .gpx import read_gpx
from .kml import read_kml, read_kmz
from .ogr import read_geojson, read_gpkg, read_shapefile_zip
from .vertices_csv import read_csv
from ..messages import Message, msg


@dataclass
class ReadGeometry:
    """One geometry taken from an input, converted to EPSG:4490 (not yet validated as a site geometry)."""

    geometry: BaseGeometry
    source_crs: str
    format: str
    filename: str | None = None
    feature: str | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {"format": self.format, "filename": self.filename, "source_crs": self.source_crs,
                "feature": self.feature, "notes": list(self.notes)}


_EXTENSIONS = {".geojson": "geojson", ".json": "geojson", ".kml": "kml", ".kmz": "kmz", ".gpx": "gpx",
               ".zip": "zip", ".gpkg": "gpkg", ".csv": "csv", ".txt": "csv"}


def detect_format(filename: str, data: bytes) -> str:
    ext = Path(filename or "").suffix.lower()
    if ext == ".shp":
        raise _fail(filename, msg("formats.shapefile_several_files_upload", "a shapefile is several files: upload "
                                  "the .shp together with its .shx, .dbf, .prj (and .cpg) in one .zip archive"))
    fmt = _EXTENSIONS.get(ext)
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if fmt is None:  # no or unknown extension: look at the content
        if data[:4] == b"PK\x03\x04":
            fmt = "zip"
        elif data[:16] == b"SQLite format 3\x00":
            fmt = "gpkg"
        elif head[:1] in (b"{", b"["):
            fmt = "geojson"
        elif head[:1] == b"<":
            low = data[:4096].lower()
            fmt = "gpx" if b"<gpx" in low else ("kml" if b"<kml" in low else None)
        if fmt is None:
            raise _fail(filename, msg("formats.unrecognised_file_type_upload", "unrecognised file type: upload "
                                      "GeoJSON, KML, KMZ, GPX, a zipped Shapefile, a GeoPackage or a CSV of vertices"))
    return fmt  # "zip" is decided after looking inside (shapefile or KMZ)


def read_zip(filename: str, data: bytes, limits: Limits, *, expect: str | None = None) -> GeometrySource:
    """A ZIP upload: a KMZ (expected, or .kml and no .shp inside) or a zipped Shapefile."""
    zf, members = open_zip(filename, data, limits)
    kmls = [m for m in members if m.filename.lower().endswith(".kml")]
    if expect == "kmz" or (kmls and not any(m.filename.lower().endswith(".shp") for m in members)):
        return read_kmz(filename, zf, members, limits)
    return read_shapefile_zip(filename, zf, members, limits)


def read_source(filename: str, data: bytes, limits: Limits = Limits(), *, crs=None,
                region=coords.GUIZHOU_BBOX) -> GeometrySource:
    filename = os.path.basename((filename or "upload").replace("\\", "/"))[:120] or "upload"
    if len(data) > limits.max_file_bytes:
        raise UploadTooLarge(msg("formats.mib_geometry_files_limited", "{filename}: {value:.1f} MiB; geometry files "
                                 "are limited to {value2} MiB", filename=filename, value=len(data) / MiB,
                                 value2=limits.max_file_bytes // MiB))
    if not data:
        raise _fail(filename, msg("formats.file_empty", "the file is empty"))
    fmt = detect_format(filename, data)
    if fmt == "geojson":
        src = read_geojson(filename, data, limits)
    elif fmt == "kml":
        src = read_kml(filename, data, limits)
    elif fmt == "gpx":
        src = read_gpx(filename, data, limits)
    elif fmt in ("zip", "kmz"):
        src = read_zip(filename, data, limits, expect="kmz" if fmt == "kmz" else None)
    elif fmt == "gpkg":
        src = read_gpkg(filename, data, limits)
    else:
        src = read_csv(filename, data, limits, crs=crs, region=region)
    if not src.features:
        raise _fail(filename, msg("formats.file_holds_geometries", "the {format_labels} file holds no geometries",
                                  format_labels=FORMAT_LABELS[src.format]))
    return src


def choose_crs(src: GeometrySource, chosen) -> tuple[str, list[str]]:
    """The CRS to read a file's coordinates in: the file's own where it declares one; the user's choice where it does
    not. Files that are WGS84 by convention (KML, GPX, GeoJSON) may be overridden with GCJ-02/BD-09 because Chinese
    phone map apps export their offset coordinates in exactly those formats without saying so."""
    notes: list[str] = []
    info = None if chosen in (None, "") else coords.resolve_crs(chosen)
    if src.crs is None:
        if info is None:
            raise _fail(src.filename, msg("formats.file_does_say_which", "the file does not say which coordinate "
                                          "system it uses (e.g. a shapefile without .prj): choose it (EPSG code, "
                                          "CGCS2000, WGS84, GCJ02, BD09 or a Gauss-Kruger zone)"))
        return (info.key if info.key != "WKT" else info.crs.to_wkt()), notes
    if src.format == "csv":
        return src.crs, notes
    file_info = coords.resolve_crs(src.crs)
    if info is None or info.key == file_info.key:
        return src.crs, notes
    if src.crs_declared:
        notes.append(msg("formats.file_declares_coordinate_system", "the file declares its coordinate system "
                         "({key}); the chosen {key2} was not used", key=file_info.key, key2=info.key))
        return src.crs, notes
    if info.kind == "offset" or (info.kind == "geographic" and not info.needs_datum_shift):
        notes.append(msg("formats.coordinates_read_chosen_format", "coordinates read as {label}, as chosen (the "
                         "{format_labels} format assumes WGS84)", label=info.label,
                         format_labels=FORMAT_LABELS[src.format]))
        return info.key, notes
    notes.append(msg("formats.coordinates_longitude_latitude_chosen", "{format_labels} coordinates are "
                     "longitude/latitude; the chosen {key} was not used", format_labels=FORMAT_LABELS[src.format],
                     key=info.key))
    return src.crs, notes


def _describe_candidates(cands: list[tuple[int, SourceFeature]]) -> str:
    shown = [f"{i}: {f.name or f.geometry.geom_type}" for i, f in cands[:10]]
    return "; ".join(shown) + (" ..." if len(cands) > 10 else "")


def pick_geometry(src: GeometrySource, target: str, *, feature: int | None = None,
                  ring_close_tolerance_m: float = 50.0) -> tuple[BaseGeometry, str | None, list[str]]:
    """The one geometry for ``target`` (location or boundary), in the file's CRS. Never merges several features:
    a file with several candidates is refused unless ``feature`` (1-based) names one. A construction project's
    ``footprint`` is the exception: every feature (or the one ``feature`` names) is part of it."""
    if target not in TARGETS and target not in (FOOTPRINT, LINE):
        raise InvalidInput(msg("formats.target_must_location_boundary", "target must be 'location' or 'boundary' "
                               "(got {target!r})", target=target))
    indexed = list(enumerate(src.features, start=1))
    if feature is not None:
        if not (1 <= feature <= len(indexed)):
            raise _fail(src.filename, msg("formats.there_feature_file_holds", "there is no feature {feature}: the "
                                          "file holds {count}", feature=feature, count=len(indexed)))
        indexed = [indexed[feature - 1]]
    if target == FOOTPRINT:
        return _pick_footprint(src, indexed)
    by_kind: dict[str, list[tuple[int, SourceFeature]]] = {}
    for i, f in indexed:
        by_kind.setdefault(_kind(f.geometry), []).append((i, f))
    if target == "location":
        return _pick_location(src, by_kind)
    if target == LINE:
        return _pick_line(src, by_kind)
    return _pick_boundary(src, by_kind, ring_close_tolerance_m)


def _pick_line(src: GeometrySource, by_kind: dict[str, list[tuple[int, SourceFeature]]]):
    """A section line: the one line or track of the file (a GPX track's segments are already one walk; a CSV's
    vertices are the line in their order). Whether it is a usable section line is checked by sections.validate_line."""
    if "line" in by_kind:
        i, f = _only(src, by_kind["line"], "line/track")
        return f.geometry, f.name, []
    found = ", ".join(sorted(by_kind)) or "nothing usable"
    raise _fail(src.filename, msg("formats.no_section_line", "the file holds no line or track for the section line "
                                  "(it holds: {found}); choose 'boundary' as the target for an outline", found=found))


def _pick_footprint(src: GeometrySource, indexed: list[tuple[int, SourceFeature]]):
    """Every point, line and polygon of the file (a project may have several pits, a road several sections), kept
    apart as the parts of one collection: screening measures the footprint as a whole."""
    parts, notes = [], []
    for _, f in indexed:
        geom = f.geometry
        if f.properties.get("vertex_list") == "1" and isinstance(geom, LineString) and len(set(geom.coords)) >= 3:
            # a CSV of vertices is an outline, as in the revision workflow; a centreline comes as a line format
            geom = Polygon(geom.coords)
            notes.append(msg("formats.csv_s_vertices_read", "the CSV's vertices were read as the outline of an area; "
                             "upload a road or pipeline centreline as GeoJSON, KML, GPX, Shapefile or GeoPackage"))
        parts += [p for p in _singles(geom) if _kind(p) != "other"]
    if not parts:
        raise _fail(src.filename, msg("formats.file_holds_point_line", "the file holds no point, line or polygon for "
                                      "the project footprint"))
    if len(indexed) > 1:
        notes.append(msg("formats.footprint_made_features_file", "the footprint is made of {count} features of the "
                         "file, screened together", count=len(indexed)))
    name = indexed[0][1].name if len(indexed) == 1 else None
    return GeometryCollection(parts), name, notes


def _singles(geom: BaseGeometry) -> list[BaseGeometry]:
    """The single points, lines and polygons of a geometry, however nested."""
    if geom.is_empty:
        return []
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _singles(g)]
    return [geom]


def _kind(g: BaseGeometry) -> str:
    if isinstance(g, (Point, MultiPoint)):
        return "point"
    if isinstance(g, (LineString, MultiLineString)):
        return "line"
    if isinstance(g, (Polygon, MultiPolygon)):
        return "polygon"
    return "other"


def _only(src: GeometrySource, cands: list[tuple[int, SourceFeature]], what: str) -> tuple[int, SourceFeature]:
    if len(cands) > 1:
        raise _fail(src.filename, msg("formats.file_holds_s_registry", "the file holds {count} {what}s ({cands}); "
                                      "the registry never merges them: choose one with feature=N", count=len(cands),
                                      what=what, cands=_describe_candidates(cands)))
    return cands[0]


def _pick_location(src: GeometrySource, by_kind: dict[str, list[tuple[int, SourceFeature]]]):
    if "point" in by_kind:
        i, f = _only(src, by_kind["point"], "point")
        g = f.geometry
        if isinstance(g, MultiPoint):
            if len(g.geoms) != 1:
                raise _fail(src.filename, msg("formats.feature_holds_points_location", "feature {i} holds {count} "
                                              "points; a location is one point", i=i, count=len(g.geoms)))
            g = g.geoms[0]
        return g, f.name, []
    found = ", ".join(sorted(by_kind)) or msg("formats.nothing_usable", "nothing usable")
    raise _fail(src.filename, msg("formats.file_holds_point_site", "the file holds no point for the site location "
                                  "(it holds: {found}); choose 'boundary' as the target for an outline", found=found))


def _pick_boundary(src: GeometrySource, by_kind: dict[str, list[tuple[int, SourceFeature]]], tolerance: float):
    """A polygon as it is, or a line closed into a ring: a CSV vertex list always, a walked track if its ends meet."""
    notes: list[str] = []
    if "polygon" in by_kind:
        i, f = _only(src, by_kind["polygon"], "polygon")
        return f.geometry, f.name, notes
    if "line" in by_kind:
        i, f = _only(src, by_kind["line"], "line/track")
        line = f.geometry
        if isinstance(line, MultiLineString):
            line = LineString([c for part in line.geoms for c in part.coords])
        pts = list(line.coords)
        if f.properties.get("vertex_list") == "1":  # a CSV vertex list is an outline by definition: close it
            if len(set(pts)) < 3:
                raise _fail(src.filename, msg("formats.outline_needs_least_distinct", "an outline needs at least 3 "
                                              "distinct vertices"))
            ring = pts if pts[0] == pts[-1] else pts + [pts[0]]
        else:
            ring = _close_walked(src, pts, tolerance)
            if ring is None:
                raise _fail(src.filename, _gap_message(src, pts, tolerance))
            if pts[0] != pts[-1]:
                notes.append(msg("formats.track_closed_into_boundary", "the track '{value}' was closed into a "
                                 "boundary (its ends are within {tolerance:g} m)", value=f.name or i,
                                 tolerance=tolerance))
        return Polygon(ring), f.name, notes
    found = ", ".join(sorted(by_kind)) or msg("formats.nothing_usable", "nothing usable")
    raise _fail(src.filename, msg("formats.file_holds_polygon_track", "the file holds no polygon or track for the "
                                  "boundary (it holds: {found})", found=found))


def _lonlat(src: GeometrySource, pts):
    """Track vertices as lon/lat for the closing-distance test (tracks are KML/GPX, i.e. lon/lat already)."""
    if src.crs in WGS84_KEYS or src.crs == "EPSG:4490" or src.crs is None:
        return pts
    xy = np.asarray(pts, dtype=float)
    lon, lat = coords.to_cgcs2000(xy[:, 0], xy[:, 1], src.crs)
    return list(zip(np.atleast_1d(lon), np.atleast_1d(lat)))


def _close_walked(src, pts, tolerance):
    ll = _lonlat(src, pts)
    closed = close_ring_if_near(ll, tolerance)
    if closed is None:
        return None
    return pts if pts[0] == pts[-1] else pts + [pts[0]]


def _gap_message(src, pts, tolerance) -> Message:
    ll = _lonlat(src, pts)
    if len(set(map(tuple, ll))) < 3:
        return msg("formats.track_too_few_points", "the track has fewer than 3 distinct points, so it cannot outline "
                   "an area")
    gap = geodesic_distance_m(ll[0], ll[-1])
    return msg("formats.track_not_closed", "the track's ends are {gap:,.0f} m apart (more than {tolerance:g} m), so it "
               "is not a closed perimeter; walk back to the start point, or draw the boundary on the map",
               gap=gap, tolerance=tolerance)


@untrusted.bounded
def read_geometry(filename: str, data: bytes, target: str, *, crs=None, feature: int | None = None,
                  limits: Limits = Limits(), region=coords.GUIZHOU_BBOX,
                  densify_m: float | None = None) -> ReadGeometry:
    """Read one uploaded file and return the geometry for ``target`` in EPSG:4490 (not yet validated), in a bounded
    worker process (untrusted.py). ``densify_m``: see :func:`to_registry_crs`."""
    src = read_source(filename, data, limits, crs=crs, region=region)
    geom, name, pick_notes = pick_geometry(src, target, feature=feature,
                                           ring_close_tolerance_m=limits.ring_close_tolerance_m)
    source_crs, crs_notes = choose_crs(src, crs)
    geom = to_registry_crs(geom, source_crs, filename=src.filename, densify_m=densify_m)
    return ReadGeometry(geom, _crs_label(source_crs), src.format, src.filename, name,
                        src.notes + pick_notes + crs_notes)


def _crs_label(source_crs: str) -> str:
    return source_crs if not source_crs.startswith(("PROJCRS", "GEOGCRS", "PROJCS", "GEOGCS")) else "WKT"


def read_geojson_object(value: Any, what: str, *, crs=None, densify_m: float | None = None) -> ReadGeometry:
    """A GeoJSON geometry, Feature or FeatureCollection sent in a request body (not a file), with every part kept:
    a project footprint. Its coordinates are in ``crs`` (default EPSG:4490), which the caller states: unlike a
    GeoJSON file, a body that names a Gauss-Kruger zone really holds metres."""
    json_input.check_depth(value, what)
    if not isinstance(value, dict):
        raise InvalidInput(msg("formats.must_geojson_geometry_feature", "{what} must be a GeoJSON geometry, Feature "
                               "or FeatureCollection", what=what))
    if value.get("type") == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list) or not features:
            raise InvalidInput(msg("formats.featurecollection_holds_features", "{what}: the FeatureCollection holds "
                                   "no features", what=what))
        geometries = [f.get("geometry") if isinstance(f, dict) else None for f in features]
    elif value.get("type") == "Feature":
        geometries = [value.get("geometry")]
    else:
        geometries = [value]
    parts = []
    for n, g in enumerate(geometries, start=1):
        if not isinstance(g, dict) or not (isinstance(g.get("coordinates"), (list, tuple))
                                           or g.get("type") == "GeometryCollection"):
            raise InvalidInput(msg("formats.feature_geojson_geometry_coordinates", "{what}: feature {n} has no "
                                   "GeoJSON geometry with coordinates", what=what, n=n))
        try:
            check_geojson_rings(g)
            parts.append(shape(g))
        except GeometryError as exc:
            raise InvalidInput(msg("formats.message_2", "{what}: {exc}", what=what, exc=exc), location=exc.location) from None
        except Exception as exc:  # shapely raises various errors on malformed coordinates
            raise InvalidInput(msg("formats.could_read_geojson", "{what} could not be read as GeoJSON ({value})",
                                   what=what, value=str(exc)[:120])) from None
    src = GeometrySource("geojson", what, [SourceFeature(p) for p in parts if not p.is_empty], crs="EPSG:4490")
    if not src.features:
        raise InvalidInput(msg("formats.empty_coordinates", "{what} is empty: it has no coordinates", what=what))
    geom, _, notes = pick_geometry(src, FOOTPRINT)
    source = coords.resolve_crs(crs).key if crs not in (None, "") else "EPSG:4490"
    if source == "WKT":
        source = coords.resolve_crs(crs).crs.to_wkt()
    geom = to_registry_crs(geom, source, densify_m=densify_m)
    return ReadGeometry(geom, _crs_label(source), "geojson", None, None, notes)


def _segment_length(info: coords.CRSInfo, metres: float) -> float:
    """``metres`` in the units of a CRS's coordinates: degrees (a metre of latitude; shorter east-west, so never
    longer than asked) or the projection's own unit."""
    if info.kind == "projected" and info.crs is not None:
        factor = info.crs.axis_info[0].unit_conversion_factor or 1.0
        return metres / factor
    return metres / 111_320.0


# Densifying adds a vertex every few metres: a footprint whose edges would need more than this many is far larger
# than any construction project (100,000 vertices at 25 m is 2,500 km of edges) and is refused before the vertices
# are made (a continent-sized polygon sent anonymously took 50 s and 1.7 GB; coordinates near 1e308 made GEOS fail).
MAX_DENSIFIED_POINTS = 100_000


def _densified(geom: BaseGeometry, length: float, *, filename: str | None = None,
               densify_m: float | None = None) -> BaseGeometry:
    """``geom`` with vertices at most ``length`` apart; an invalid polygon is left as drawn, for the caller to explain
    or repair: a vertex added exactly where its edges cross would hide the crossing from the validity check."""
    needed = geom.length / length if length > 0 else math.inf
    if not math.isfinite(needed) or needed > MAX_DENSIFIED_POINTS:
        raise _fail(filename, msg("formats.footprint_edges_too_long", "the footprint's edges are too long to follow "
                                  "with a vertex every {spacing:g} m (more than {limit:,} vertices): far larger than any "
                                  "construction project, or its coordinates are in another coordinate system than the "
                                  "one stated", spacing=densify_m or 0, limit=MAX_DENSIFIED_POINTS))
    return _densify_parts(geom, length)


def _densify_parts(geom: BaseGeometry, length: float) -> BaseGeometry:
    if isinstance(geom, (GeometryCollection, MultiPolygon)):
        parts = [_densify_parts(g, length) for g in geom.geoms]
        return type(geom)(parts) if isinstance(geom, MultiPolygon) else GeometryCollection(parts)
    if not geom.is_valid:
        return geom
    return shapely.segmentize(geom, length)


def to_registry_crs(geom: BaseGeometry, crs, *, filename: str | None = None,
                    densify_m: float | None = None) -> BaseGeometry:
    """Transform to EPSG:4490 (2-D); coordinate problems become readable InvalidInput messages.

    ``densify_m``: first add vertices along every edge, at most this many metres apart, *in the given CRS*: a
    straight edge drawn in a Gauss-Kruger plan (a road section, a quarry outline) stays the line that was drawn,
    instead of becoming the straight line in longitude/latitude between its transformed ends (tens of metres apart
    over a few kilometres)."""
    geom = shapely.force_2d(geom)
    info = coords.resolve_crs(crs)
    arr = shapely.get_coordinates(geom)
    out_of_range = info.kind != "projected" and arr.size and (np.abs(arr[:, 0]).max() > 180
                                                               or np.abs(arr[:, 1]).max() > 90)
    if densify_m and not out_of_range:
        geom = _densified(geom, _segment_length(info, densify_m), filename=filename, densify_m=densify_m)
    if info.key == "EPSG:4490":
        return geom
    if info.needs_datum_shift:
        raise _fail(filename, msg('formats.label_based_on_xian', '{label} is based on the Xian 1980 or Beijing 1954 datum; converting it to CGCS2000 needs a local 7-parameter transformation the registry does not have. Convert the data to CGCS2000 first', label=info.label))
    if out_of_range:
        # out-of-range degrees: leave them for the validator, which explains (swapped axes, metres...)
        return geom
    try:
        out = coords.transform_geometry(geom, info)
    except coords.CoordinateError as exc:
        raise _fail(filename, msg("formats.convert", "cannot convert from {label}: {exc}", label=info.label, exc=exc)) from None
    if not np.isfinite(shapely.get_coordinates(out)).all():
        raise _fail(filename, msg("formats.convert_coordinates_cgcs_they", "cannot convert the coordinates from "
                                  "{label} to CGCS2000: they are outside that coordinate system's area (wrong "
                                  "coordinate system chosen?)", label=info.label))
    return out


def parse_typed_points(text: str, crs=None, *,
                       region=coords.GUIZHOU_BBOX) -> tuple[list[tuple[float, float]], list[str]]:
    """Typed coordinates, one point per line (any form coords.parse_coordinate reads) -> CGCS2000 lon/lat."""
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    if not lines:
        raise InvalidInput(msg("formats.coordinates_entered", "no coordinates were entered"))
    if len(lines) > 5000:
        raise InvalidInput(msg("formats.lines_typed_coordinates_upload", "{count} lines of typed coordinates; upload "
                               "a file for outlines this long", count=len(lines)))
    points, notes = [], []
    for n, line in enumerate(lines, start=1):
        try:
            p = coords.parse_coordinate(line, crs, region=region)
        except coords.CoordinateError as exc:
            raise InvalidInput(msg("formats.line", "line {n} ({value!r}): {exc}", n=n, value=line.strip()[:60],
                                   exc=exc)) from None
        points.append((p.lon, p.lat))
        for w in p.warnings:
            if w not in notes:
                notes.append(w)
    return points, notes
