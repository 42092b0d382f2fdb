"""KML and KMZ (Google Earth, Ovital/2bulu and other phone apps), read with the one XML reader of :mod:`.xml`:
placemarks with points, lines, polygons, gx:Track and MultiGeometry, their names and extended data. KML coordinates
are WGS84 longitude/latitude by the format's definition.
"""
from __future__ import annotations

import re
import zipfile

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from .archive import read_member
from .base import GeometrySource, Limits, SourceFeature, _fail, _PointBudget
from .xml import child_text, children, local, read_xml
from ..messages import msg


def _kml_coordinates(filename: str, text: str | None, budget: _PointBudget) -> list[tuple[float, float]]:
    if not text or not text.strip():
        raise _fail(filename, msg("formats.kml_geometry_coordinates", "a KML geometry has no coordinates"))
    text = re.sub(r"\s*,\s*", ",", text.strip())
    tuples = text.split()
    budget.take(len(tuples))
    out = []
    for t in tuples:
        parts = t.split(",")
        if len(parts) < 2:
            raise _fail(filename, msg("formats.read_kml_coordinate_expected", "cannot read the KML coordinate {t!r}: "
                                      "expected longitude,latitude[,altitude]", t=t[:40]))
        try:
            lon, lat = float(parts[0]), float(parts[1])  # altitude, if any, is ignored
        except ValueError:
            raise _fail(filename, msg("formats.read_kml_coordinate_number", "cannot read the KML coordinate {t!r}: "
                                      "not a number", t=t[:40])) from None
        out.append((lon, lat))
    return out


def _kml_geometries(filename: str, el, budget: _PointBudget) -> list[BaseGeometry]:
    name = local(el.tag)
    if name == "Point":
        pts = _kml_coordinates(filename, child_text(el, "coordinates"), budget)
        return [Point(pts[0])]
    if name == "LineString":
        pts = _kml_coordinates(filename, child_text(el, "coordinates"), budget)
        return [LineString(pts)] if len(pts) >= 2 else [Point(pts[0])]
    if name == "LinearRing":
        return [_polygon(filename, _kml_coordinates(filename, child_text(el, "coordinates"), budget), [])]
    if name == "Polygon":
        def rings(which):
            out = []
            for b in children(el, which):
                for ring in children(b, "LinearRing"):
                    out.append(_kml_coordinates(filename, child_text(ring, "coordinates"), budget))
            return out
        outer = rings("outerBoundaryIs")
        if not outer:
            raise _fail(filename, msg("formats.kml_polygon_outer_boundary", "a KML Polygon has no outer boundary"))
        return [_polygon(filename, outer[0], rings("innerBoundaryIs"))]
    if name == "Track":  # gx:Track: <gx:coord>lon lat alt</gx:coord>
        pts = []
        for c in children(el, "coord"):
            bits = (c.text or "").split()
            budget.take(1)
            try:
                pts.append((float(bits[0]), float(bits[1])))
            except (IndexError, ValueError):
                raise _fail(filename, msg("formats.read_gx_coord", "cannot read the gx:coord {value!r}",
                                          value=(c.text or '')[:40])) from None
        return [LineString(pts)] if len(pts) >= 2 else [Point(p) for p in pts]
    if name in ("MultiGeometry", "MultiTrack"):
        out = []
        for child in el:
            out += _kml_geometries(filename, child, budget)
        return out
    return []


def _polygon(filename: str, shell, holes) -> Polygon:
    try:
        return Polygon(shell, holes)
    except (ValueError, shapely.errors.GEOSException):
        raise _fail(filename, msg("formats.polygon_ring_only_points", "a polygon ring has only {count} points; an "
                                  "area needs at least 3", count=len(shell))) from None


def _kml_properties(placemark) -> dict:
    props = {}
    for ext in children(placemark, "ExtendedData"):
        for d in ext.iter():
            if local(d.tag) in ("Data", "SimpleData") and d.get("name"):
                value = child_text(d, "value") if local(d.tag) == "Data" else (d.text or "").strip()
                props[d.get("name")[:80]] = (value or "")[:500]
    return props


def read_kml(filename: str, data: bytes, limits: Limits, *, fmt: str = "kml") -> GeometrySource:
    root = read_xml(filename, data, "KML")
    if local(root.tag) != "kml":
        raise _fail(filename, msg("formats.kml_file_document_element", "not a KML file: the document element is "
                                  "<{tag}>, not <kml>", tag=local(root.tag)))
    budget = _PointBudget(filename, limits.max_points)
    features = []
    for pm in root.iter():
        if local(pm.tag) != "Placemark":
            continue
        geoms = []
        for child in pm:
            geoms += _kml_geometries(filename, child, budget)
        for g in geoms:
            features.append(SourceFeature(g, child_text(pm, "name"), _kml_properties(pm)))
    return GeometrySource(fmt, filename, features, crs="EPSG:4326", crs_declared=False)


def read_kmz(filename: str, zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], limits: Limits) -> GeometrySource:
    """The KML document of a KMZ archive already checked by :func:`.archive.open_zip`."""
    kmls = [m for m in members if m.filename.lower().endswith(".kml")]
    if not kmls:
        raise _fail(filename, msg("formats.kmz_archive_holds_kml", "the KMZ archive holds no .kml document"))
    # KMZ: the main document is doc.kml, else the first .kml at the top level, else the first .kml
    main = next((m for m in kmls if m.filename.lower() == "doc.kml"), None) or \
        next((m for m in kmls if "/" not in m.filename), kmls[0])
    return read_kml(filename, read_member(filename, zf, main, limits, [limits.max_unzipped_bytes]), limits,
                    fmt="kmz")
