"""GPX, read once for two purposes: the revision workflow's :func:`read_gpx` (waypoints, routes and tracks as a
:class:`GeometrySource`, for a site's location or walked boundary) and the inspections' :func:`parse_gpx` (the walked
patrol :class:`Track`: its segments, times, length and point count). Both walk the tree with :func:`walk_gpx`, parsed
by the one XML reader of :mod:`.xml`, and keep their own messages for their own callers.

GPX coordinates are WGS84; patrol tracks are taken as CGCS2000 unchanged, since the two frames differ by well under a
metre here, far below a handheld GPS's own error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from shapely.geometry import LineString, MultiLineString, Point

from .. import untrusted
from ..errors import InvalidInput, TooLarge
from ..geometry import GEOD
from .base import GeometrySource, Limits, SourceFeature, _fail, _PointBudget
from .xml import MAX_XML_DEPTH, XMLRefused, child_text, children, local, parse_xml, read_xml
from ..messages import msg


# ====================================================================================================================
# the walk both readers share
# ====================================================================================================================
@dataclass
class GpxContent:
    """The parts of a GPX document, in document order (namespaces ignored)."""

    waypoints: list[Any]                          # <wpt> elements
    routes: list[tuple[Any, list[Any]]]           # (<rte>, its <rtept> elements)
    tracks: list[tuple[Any, list[list[Any]]]]     # (<trk>, the <trkpt> elements of each of its <trkseg>)


def walk_gpx(root) -> GpxContent:
    return GpxContent(
        waypoints=children(root, "wpt"),
        routes=[(rte, children(rte, "rtept")) for rte in children(root, "rte")],
        tracks=[(trk, [children(seg, "trkpt") for seg in children(trk, "trkseg")]) for trk in children(root, "trk")],
    )


def point_lonlat(point) -> tuple[float, float]:
    """(lon, lat) of a <wpt>, <rtept> or <trkpt>; TypeError or ValueError if either attribute is missing or not a
    number."""
    return float(point.get("lon")), float(point.get("lat"))


# ====================================================================================================================
# the revision workflow: everything in the file, as a GeometrySource
# ====================================================================================================================
def read_gpx(filename: str, data: bytes, limits: Limits) -> GeometrySource:
    root = read_xml(filename, data, "GPX")
    if local(root.tag) != "gpx":
        raise _fail(filename, msg("formats.gpx_file_document_element", "not a GPX file: the document element is "
                                  "<{tag}>, not <gpx>", tag=local(root.tag)))
    budget = _PointBudget(filename, limits.max_points)
    gpx = walk_gpx(root)

    def point(el) -> tuple[float, float]:
        try:
            return point_lonlat(el)
        except (TypeError, ValueError):
            raise _fail(filename, msg("formats.gpx_numeric_lat_lon", "a GPX <{tag}> has no numeric lat/lon attributes",
                                      tag=local(el.tag))) from None

    features = []
    for wpt in gpx.waypoints:
        budget.take(1)
        features.append(SourceFeature(Point(point(wpt)), child_text(wpt, "name")))
    for rte, rtepts in gpx.routes:
        pts = [point(p) for p in rtepts]
        budget.take(len(pts))
        if len(pts) >= 2:
            features.append(SourceFeature(LineString(pts), child_text(rte, "name")))
    for trk, segments in gpx.tracks:
        # segments of one track are one walk split by signal loss: joined in order
        pts = []
        for seg_pts in segments:
            budget.take(len(seg_pts))
            pts += [point(p) for p in seg_pts]
        if len(pts) >= 2:
            features.append(SourceFeature(LineString(pts), child_text(trk, "name")))
    return GeometrySource("gpx", filename, features, crs="EPSG:4326", crs_declared=False)


# ====================================================================================================================
# inspections: the walked patrol track
# ====================================================================================================================
@dataclass
class Track:
    geom: MultiLineString
    point_count: int
    length_m: float
    started_at: str | None
    ended_at: str | None
    name: str | None


def _time(point) -> datetime | None:
    for child in point:
        if local(child.tag) == "time" and child.text:
            try:
                value = datetime.fromisoformat(child.text.strip().replace("Z", "+00:00"))
            except ValueError:
                return None
            return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return None


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _track_root(data: bytes, what: str):
    try:
        root = parse_xml(data)
    except XMLRefused as exc:
        if exc.reason == "entities":
            raise InvalidInput(msg("formats.contains_dtd_entity_declarations", "{what} contains a DTD or entity "
                                   "declarations, which are not accepted", what=what),
                               field="track") from None
        if exc.reason == "malformed":
            raise InvalidInput(msg("formats.well_formed_xml", "{what} is not well-formed XML ({detail})", what=what,
                                   detail=exc.detail), field="track") from None
        raise InvalidInput(msg("formats.nests_elements_more_than", "{what} nests elements more than {max_xml_depth} "
                               "levels deep; no GPS track needs that", what=what, max_xml_depth=MAX_XML_DEPTH),
                           field="track") from None
    if local(root.tag) != "gpx":
        raise InvalidInput(msg("formats.gpx_root_element_gpx", "{what} is not GPX: its root element is <{tag}>, not "
                               "<gpx>", what=what, tag=local(root.tag)), field="track")
    return root


def _track_parts(gpx: GpxContent, what: str, max_points: int) -> tuple[list[LineString], list[datetime]]:
    """One LineString per <trkseg> with at least two distinct points, and the times of all track points."""
    parts, times, count = [], [], 0
    for _, segments in gpx.tracks:
        for seg_pts in segments:
            coords = []
            for n, pt in enumerate(seg_pts, start=1):
                count += 1
                if count > max_points:
                    raise TooLarge(msg("formats.more_than_track_points", "{what} has more than {max_points} track "
                                       "points", what=what, max_points=max_points), field="track")
                try:
                    lon, lat = point_lonlat(pt)
                except (TypeError, ValueError):
                    raise InvalidInput(msg("formats.track_point_numeric_lat", "{what}: track point {n} has no "
                                           "numeric lat/lon", what=what, n=n), field="track") from None
                if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
                    raise InvalidInput(msg("formats.track_point_lat_lon", "{what}: track point {n} (lat {lat}, lon "
                                           "{lon}) is outside the longitude/latitude range", what=what, n=n, lat=lat,
                                           lon=lon), field="track")
                coords.append((lon, lat))
                when = _time(pt)
                if when is not None:
                    times.append(when)
            if len(dict.fromkeys(coords)) >= 2:
                parts.append(LineString(coords))
    return parts, times


def _track_name(trk) -> str | None:
    return next((c.text.strip()[:200] for c in children(trk, "name") if c.text and c.text.strip()), None)


@untrusted.bounded
def parse_gpx(data: bytes, *, filename: str | None = None, max_bytes: int = 5 * 1024 * 1024,
              max_points: int = 100_000) -> Track:
    """The tracks (trk/trkseg/trkpt) of a GPX file as one MultiLineString, one part per segment; raises InvalidInput
    (not GPX, no track, bad coordinates) or TooLarge. Read in a bounded worker process (untrusted.py)."""
    what = f"GPX file {filename!r}" if filename else "the GPX file"
    if not data:
        raise InvalidInput(msg("formats.empty", "{what} is empty", what=what), field="track")
    if len(data) > max_bytes:
        raise TooLarge(msg("formats.mib_limit_mib", "{what} is {value:.1f} MiB; the limit is {value2:.0f} MiB",
                           what=what, value=len(data) / 1048576, value2=max_bytes / 1048576),
                       field="track")
    gpx = walk_gpx(_track_root(data, what))
    parts, times = _track_parts(gpx, what, max_points)
    if not parts:
        others = [kind for kind, found in (("waypoints", gpx.waypoints), ("routes", gpx.routes)) if found]
        extra = f" (it holds only {' and '.join(others)}, which are not a walked track)" if others else ""
        raise InvalidInput(msg("formats.track_patrol_track_needs", "{what} has no track: a patrol track needs a "
                               "<trk> with at least two distinct points{extra}", what=what, extra=extra), field="track")
    name = next((n for n in (_track_name(trk) for trk, _ in gpx.tracks) if n is not None), None)
    length = sum(GEOD.line_length([c[0] for c in p.coords], [c[1] for c in p.coords]) for p in parts)
    return Track(geom=MultiLineString(parts), point_count=sum(len(p.coords) for p in parts), length_m=round(length, 1),
                 started_at=_stamp(min(times)) if times else None, ended_at=_stamp(max(times)) if times else None,
                 name=name)
