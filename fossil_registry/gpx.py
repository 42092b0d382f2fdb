"""Patrol tracks from GPX files, parsed safely with defusedxml (no DTDs, no entities, no external references).

Pure domain code (no Flask). GPX coordinates are WGS84; they are taken as CGCS2000 unchanged, since the two frames differ
by well under a metre here, far below a handheld GPS's own error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from shapely.geometry import LineString, MultiLineString

from .errors import InvalidInput
from .geometry import GEOD
from .photos import TooLarge


@dataclass
class Track:
    geom: MultiLineString
    point_count: int
    length_m: float
    started_at: str | None
    ended_at: str | None
    name: str | None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element, name: str):
    return [c for c in element if _local(c.tag) == name]


def _time(point) -> datetime | None:
    for child in point:
        if _local(child.tag) == "time" and child.text:
            try:
                value = datetime.fromisoformat(child.text.strip().replace("Z", "+00:00"))
            except ValueError:
                return None
            return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return None


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_gpx(data: bytes, *, filename: str | None = None, max_bytes: int = 5 * 1024 * 1024,
              max_points: int = 100_000) -> Track:
    """The tracks (trk/trkseg/trkpt) of a GPX file as one MultiLineString, one part per segment; raises InvalidInput
    (not GPX, no track, bad coordinates) or TooLarge."""
    what = f"GPX file {filename!r}" if filename else "the GPX file"
    if not data:
        raise InvalidInput(f"{what} is empty", field="track")
    if len(data) > max_bytes:
        raise TooLarge(f"{what} is {len(data) / 1048576:.1f} MiB; the limit is {max_bytes / 1048576:.0f} MiB",
                       field="track")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise InvalidInput(f"{what} contains a DTD or entity declarations, which are not accepted", field="track") from None
    except ParseError as exc:
        raise InvalidInput(f"{what} is not well-formed XML ({exc})", field="track") from None
    if _local(root.tag) != "gpx":
        raise InvalidInput(f"{what} is not GPX: its root element is <{_local(root.tag)}>, not <gpx>", field="track")
    parts, times, count = [], [], 0
    name = None
    for trk in _children(root, "trk"):
        if name is None:
            name = next((c.text.strip()[:200] for c in _children(trk, "name") if c.text and c.text.strip()), None)
        for seg in _children(trk, "trkseg"):
            coords = []
            for n, pt in enumerate(_children(seg, "trkpt"), start=1):
                count += 1
                if count > max_points:
                    raise TooLarge(f"{what} has more than {max_points} track points", field="track")
                try:
                    lat, lon = float(pt.get("lat")), float(pt.get("lon"))
                except (TypeError, ValueError):
                    raise InvalidInput(f"{what}: track point {n} has no numeric lat/lon", field="track") from None
                if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
                    raise InvalidInput(f"{what}: track point {n} (lat {lat}, lon {lon}) is outside the "
                                       "longitude/latitude range", field="track")
                coords.append((lon, lat))
                when = _time(pt)
                if when is not None:
                    times.append(when)
            distinct = list(dict.fromkeys(coords))
            if len(distinct) >= 2:
                parts.append(LineString(coords))
    if not parts:
        others = [kind for kind, tag in (("waypoints", "wpt"), ("routes", "rte")) if _children(root, tag)]
        extra = f" (it holds only {' and '.join(others)}, which are not a walked track)" if others else ""
        raise InvalidInput(f"{what} has no track: a patrol track needs a <trk> with at least two distinct points{extra}",
                           field="track")
    length = sum(GEOD.line_length([c[0] for c in p.coords], [c[1] for c in p.coords]) for p in parts)
    return Track(geom=MultiLineString(parts), point_count=sum(len(p.coords) for p in parts), length_m=round(length, 1),
                 started_at=_stamp(min(times)) if times else None, ended_at=_stamp(max(times)) if times else None,
                 name=name)
