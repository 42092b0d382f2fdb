"""The stratigraphic section as a kind of registered feature (sites.FeatureKind): its fields and their vocabulary, the
checks of a surveyed section line, and its geodesic length. Everything else (versions, proposals and review,
inspections, the public view) is the sites' machinery, given SECTION."""
from __future__ import annotations

from collections import Counter
from typing import Any, Mapping

import shapely
from shapely.geometry import LineString, MultiLineString, shape
from shapely.geometry.base import BaseGeometry

from .. import store
from ..errors import InvalidInput
from ..geometry import GEOD, MAX_VERTICES, GeometryError, fmt
from ..sites import (LEVELS, SENSITIVITIES, STATUSES, FeatureKind, checked_choices, checked_established,
                     checked_period, checked_texts)

TEXT_FIELDS = ("name", "name_en", "county", "county_en", "age", "formation", "description", "description_en")
PROPERTY_FIELDS = TEXT_FIELDS + ("level", "significance", "period", "units", "stratigraphic_boundaries", "sensitivity",
                                 "established", "status")
# Why a section matters, most important first: the GSSP of a stage boundary, a candidate for one, a stratotype
# (type section of a unit), a reference section, a section known for its fossils.
SIGNIFICANCES = ("gssp", "gssp_candidate", "stratotype", "reference", "fossil_bearing")
BOUNDARY_RANKS = ("erathem", "system", "series", "stage", "substage", "biozone", "formation", "other")
GSSP_STATES = ("ratified", "candidate")
MAX_UNITS = 50
MAX_BOUNDARIES = 20
MAX_NAME = 200


def _units(raw: Any) -> list[str]:
    """The units a section exposes: a list of names (or one text, separated by ; or new lines)."""
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = [u for u in raw.replace("；", ";").replace("\n", ";").split(";")]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(u, str) for u in raw):
        raise InvalidInput("units must be a list of the names of the units the section exposes")
    units = list(dict.fromkeys(u.strip() for u in raw if u.strip()))
    if len(units) > MAX_UNITS or any(len(u) > MAX_NAME for u in units):
        raise InvalidInput(f"units: at most {MAX_UNITS} names of up to {MAX_NAME} characters each")
    return units


def _boundaries(raw: Any) -> list[dict[str, Any]]:
    """The stratigraphic boundaries a section exposes: [{"name", "rank", "gssp": "ratified" | "candidate" | null}]."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, (list, tuple)) or not all(isinstance(b, Mapping) for b in raw):
        raise InvalidInput('stratigraphic_boundaries must be a list of {"name": ..., "rank": "stage", '
                           '"gssp": "ratified" | "candidate" | null}')
    if len(raw) > MAX_BOUNDARIES:
        raise InvalidInput(f"stratigraphic_boundaries: at most {MAX_BOUNDARIES}")
    out = []
    for n, b in enumerate(raw, start=1):
        unknown = sorted(set(b) - {"name", "rank", "gssp"})
        if unknown:
            raise InvalidInput(f"stratigraphic boundary {n}: unknown field(s) {', '.join(unknown)}")
        name = b.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            raise InvalidInput(f"stratigraphic boundary {n} needs a name (up to {MAX_NAME} characters), e.g. "
                               "'base of the Wuliuan Stage'")
        rank = b.get("rank") or "other"
        if rank not in BOUNDARY_RANKS:
            raise InvalidInput(f"stratigraphic boundary {n}: rank must be one of {', '.join(BOUNDARY_RANKS)} "
                               f"(got {rank!r})")
        gssp = b.get("gssp") or None
        if gssp is not None and gssp not in GSSP_STATES:
            raise InvalidInput(f"stratigraphic boundary {n}: gssp must be ratified, candidate or null (got {gssp!r})")
        out.append({"name": name.strip(), "rank": rank, "gssp": gssp})
    return out


def normalize_properties(props: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Checked, normalised copy of a section's properties; raises InvalidInput naming the field at fault.
    ``partial``: only the given fields (a change); otherwise name, level and sensitivity are required."""
    if not isinstance(props, dict):
        raise InvalidInput("properties must be an object of field names and values")
    unknown = sorted(set(props) - set(PROPERTY_FIELDS) - {"code", "version", "length_m"})
    if unknown:
        raise InvalidInput(f"unknown section field(s): {', '.join(unknown)}; known fields are "
                           f"{', '.join(PROPERTY_FIELDS)}")
    out = checked_texts(props, TEXT_FIELDS)
    out.update(checked_choices(props, {"level": LEVELS, "sensitivity": SENSITIVITIES, "status": STATUSES}))
    if "significance" in props:
        value = props["significance"] or None
        if value is not None and value not in SIGNIFICANCES:
            raise InvalidInput(f"significance must be one of {', '.join(SIGNIFICANCES)} or empty (got {value!r})")
        out["significance"] = value
    out.update(checked_period(props))
    out.update(checked_established(props))
    if "units" in props:
        out["units"] = _units(props["units"])
    if "stratigraphic_boundaries" in props:
        out["stratigraphic_boundaries"] = _boundaries(props["stratigraphic_boundaries"])
    if not partial:
        if not out.get("name"):
            raise InvalidInput("a section needs a name")
        for key, allowed in (("level", LEVELS), ("sensitivity", SENSITIVITIES)):
            if key not in out:
                raise InvalidInput(f"a section needs a {key} ({', '.join(allowed)})")
        out.setdefault("status", "active")
        for key in PROPERTY_FIELDS:
            out.setdefault(key, [] if key in ("units", "stratigraphic_boundaries") else None)
    return out


# --------------------------------------------------------------------------------------------------------------------
# The section line
# --------------------------------------------------------------------------------------------------------------------
def _self_crossing(line: LineString) -> tuple[float, float] | None:
    """Where a line crosses or runs over itself: a point where the line, noded at its own intersections, has a node
    shared by more pieces than a plain vertex is."""
    ends = Counter()
    for part in shapely.get_parts(shapely.node(line)):
        coords = list(part.coords)
        ends[coords[0]] += 1
        ends[coords[-1]] += 1
    start, end = line.coords[0], line.coords[-1]
    shared = [p for p, n in ends.items() if n > (1 if p in (start, end) else 2)]
    return (round(shared[0][0], 6), round(shared[0][1], 6)) if shared else None


def validate_line(geom) -> LineString:
    """Check a section line: one continuous LineString of at least two distinct points, in lon/lat range, that neither
    closes on itself nor crosses or runs over itself. Consecutive repeated points (a GPS standing still) are dropped.
    Raises GeometryError saying what is wrong and where."""
    if geom is None:
        raise GeometryError("no section line was given")
    if isinstance(geom, Mapping):
        try:
            geom = shape(geom)
        except Exception as exc:  # shapely raises various errors on malformed GeoJSON
            raise GeometryError(f"the section line could not be read as a geometry ({str(exc)[:120]})") from None
    if not isinstance(geom, BaseGeometry) or geom.is_empty:
        raise GeometryError("the section line is empty: it has no coordinates")
    if isinstance(geom, MultiLineString):
        if len(geom.geoms) != 1:
            raise GeometryError(f"a section line is one continuous line from base to top, but {len(geom.geoms)} "
                                "separate lines were given: upload or draw them as one line")
        geom = geom.geoms[0]
    if not isinstance(geom, LineString):
        raise GeometryError(f"a section line must be a line (LineString) along which the section was measured, but a "
                            f"{geom.geom_type} was given")
    coords = [(float(x), float(y)) for x, y, *_ in geom.coords]
    for x, y in coords:
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise GeometryError(f"the section line has a vertex outside the longitude/latitude range: ({fmt(x)}, "
                                f"{fmt(y)})", location=(x, y) if abs(y) <= 90 and abs(x) <= 180 else None)
    coords = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
    if len(coords) < 2:
        raise GeometryError("a section line needs at least two distinct points (its base and its top)")
    if len(coords) > MAX_VERTICES:
        raise GeometryError(f"the section line has {len(coords):,} vertices; the limit is {MAX_VERTICES:,}: thin "
                            "the GPS track before uploading")
    if coords[0] == coords[-1]:
        raise GeometryError("the section line closes on itself: a section runs from its base to its top; for an "
                            "area give the protection boundary instead", location=coords[0])
    line = LineString(coords)
    if not line.is_simple:
        where = _self_crossing(line)
        raise GeometryError("the section line crosses or runs over itself" + (f" near ({fmt(where[0])}, "
                            f"{fmt(where[1])})" if where else "") + ": a section line runs once from base to top. A "
                            "GPS track walked there and back overlaps itself: keep only the way up (or down)",
                            location=where)
    return line


def length_m(line: BaseGeometry) -> float:
    """Geodesic length in metres on the CGCS2000 ellipsoid (GRS80), edges as geodesics."""
    xy = shapely.get_coordinates(line)
    return float(GEOD.line_length(xy[:, 0], xy[:, 1])) if len(xy) >= 2 else 0.0


def measures(line: BaseGeometry) -> dict[str, Any]:
    return {"length_m": round(length_m(line), 1)}


SECTION = FeatureKind("section", store.SECTIONS, "line", PROPERTY_FIELDS, TEXT_FIELDS, normalize_properties,
                      validate_line, "SECTION_CODE_PREFIX", "GZS-", measures)
