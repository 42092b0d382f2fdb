"""The stratigraphic section as a kind of registered feature (features.FeatureKind): its fields and their vocabularies,
the checks of a surveyed section line, and its geodesic length. Everything else (versions, proposals and review,
inspections, the public view, screening, field kits, downloads) is the shared machinery of the ``features`` package,
given SECTION."""
from __future__ import annotations

from collections import Counter
from typing import Any, Mapping

import shapely
from shapely.geometry import LineString, MultiLineString, shape
from shapely.geometry.base import BaseGeometry

from .. import config, store
from ..errors import InvalidInput
from ..geometry import GEOD, MAX_VERTICES, GeometryError, fmt
from ..messages import msg, term
from ..store import map_layers as stamps
from ..vocab import BoundaryRank, GsspState, Significance
from .registry import register
from .kind import (FIELD_LABELS, FIELD_VOCABULARIES, PROTECTION_CHOICES, TEXT_FIELDS, FeatureKind, field_label, checked_choices, checked_established,
                   checked_object, checked_period, checked_texts, completed, unknown_fields)

PROPERTY_FIELDS = TEXT_FIELDS + ("level", "significance", "period", "units", "stratigraphic_boundaries", "sensitivity",
                                 "established", "status")
LIST_FIELDS = ("units", "stratigraphic_boundaries")
LABELS = {**FIELD_LABELS, "significance": field_label("significance", "significance", "剖面意义"),
          "units": field_label("units", "units exposed", "出露地层单位"),
          "stratigraphic_boundaries": field_label("stratigraphic_boundaries", "stratigraphic boundaries", "地层界线"),
          "length_m": field_label("length_m", "length (m)", "长度（米）")}
# the boundaries are objects: their rank and GSSP state named by their vocabularies
VOCABULARIES = {**FIELD_VOCABULARIES, "significance": Significance, "stratigraphic_boundaries": dict,
                "rank": BoundaryRank, "gssp": GsspState}
# Why a section matters, most important first (vocab.Significance); the rank of a boundary and its GSSP state.
SIGNIFICANCES = Significance.values()
BOUNDARY_RANKS = BoundaryRank.values()
GSSP_STATES = GsspState.values()
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
        raise InvalidInput(msg("sections.units_not_list", "units must be a list of the names of the units the "
                               "section exposes"))
    units = list(dict.fromkeys(u.strip() for u in raw if u.strip()))
    if len(units) > MAX_UNITS or any(len(u) > MAX_NAME for u in units):
        raise InvalidInput(msg("sections.units_too_many", "units: at most {max_units} names of up to {max_name} "
                               "characters each", max_units=MAX_UNITS, max_name=MAX_NAME))
    return units


def _boundaries(raw: Any) -> list[dict[str, Any]]:
    """The stratigraphic boundaries a section exposes: [{"name", "rank", "gssp": "ratified" | "candidate" | null}]."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, (list, tuple)) or not all(isinstance(b, Mapping) for b in raw):
        raise InvalidInput(msg("sections.boundaries_not_list", "stratigraphic_boundaries must be a list of "
                               "{example}", example='{"name": ..., "rank": "stage", "gssp": "ratified" | "candidate" '
                               '| null}'))
    if len(raw) > MAX_BOUNDARIES:
        raise InvalidInput(msg("sections.boundaries_too_many", "stratigraphic_boundaries: at most {limit}",
                               limit=MAX_BOUNDARIES))
    out = []
    for n, b in enumerate(raw, start=1):
        unknown = sorted(set(b) - {"name", "rank", "gssp"})
        if unknown:
            raise InvalidInput(msg("sections.boundary_unknown_fields", "stratigraphic boundary {n}: unknown field(s) "
                                   "{fields}", n=n, fields=', '.join(unknown)))
        name = b.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            raise InvalidInput(msg("sections.boundary_needs_name", "stratigraphic boundary {n} needs a name (up to "
                                   "{max_name} characters), e.g. 'base of the Wuliuan Stage'", n=n, max_name=MAX_NAME))
        rank = b.get("rank") or BoundaryRank.OTHER.value
        if rank not in BOUNDARY_RANKS:
            raise InvalidInput(msg("sections.boundary_rank_unknown", "stratigraphic boundary {n}: rank must be one "
                                   "of {ranks} (got {rank!r})", n=n, ranks=', '.join(BOUNDARY_RANKS), rank=rank))
        gssp = b.get("gssp") or None
        if gssp is not None and gssp not in GSSP_STATES:
            raise InvalidInput(msg("sections.boundary_gssp_unknown", "stratigraphic boundary {n}: gssp must be "
                                   "ratified, candidate or null (got {gssp!r})", n=n, gssp=gssp))
        out.append({"name": name.strip(), "rank": str(rank), "gssp": None if gssp is None else str(gssp)})
    return out


def normalize_properties(props: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Checked, normalised copy of a section's properties; raises InvalidInput naming the field at fault.
    ``partial``: only the given fields (a change); otherwise name, level and sensitivity are required."""
    checked_object(props)
    unknown = unknown_fields(props, PROPERTY_FIELDS, ("length_m",))
    if unknown:
        raise InvalidInput(msg("sections.unknown_fields", "unknown section field(s): {unknown}; known fields are "
                               "{property_fields}", unknown=', '.join(unknown),
                               property_fields=', '.join(PROPERTY_FIELDS)))
    out = checked_texts(props, TEXT_FIELDS)
    out.update(checked_choices(props, PROTECTION_CHOICES))
    if "significance" in props:
        value = props["significance"] or None
        if value is not None and value not in SIGNIFICANCES:
            raise InvalidInput(msg("sections.significance_unknown", "significance must be one of {significances} or "
                                   "empty (got {value!r})", significances=', '.join(SIGNIFICANCES), value=value))
        out["significance"] = None if value is None else str(value)
    out.update(checked_period(props))
    out.update(checked_established(props))
    if "units" in props:
        out["units"] = _units(props["units"])
    if "stratigraphic_boundaries" in props:
        out["stratigraphic_boundaries"] = _boundaries(props["stratigraphic_boundaries"])
    if not partial:
        if not out.get("name"):
            raise InvalidInput(msg("sections.needs_name", "a section needs a name"))
        for key in ("level", "sensitivity"):
            if key not in out:
                raise InvalidInput(msg("sections.needs_field", "a section needs a {key} ({value})", key=key,
                                       value=', '.join(PROTECTION_CHOICES[key].values())))
        completed(out, PROPERTY_FIELDS, LIST_FIELDS)
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
        raise GeometryError(msg("sections.no_line", "no section line was given"))
    if isinstance(geom, Mapping):
        try:
            geom = shape(geom)
        except Exception as exc:  # shapely raises various errors on malformed GeoJSON
            raise GeometryError(msg("sections.line_unreadable", "the section line could not be read as a geometry "
                                    "({error})", error=str(exc)[:120])) from None
    if not isinstance(geom, BaseGeometry) or geom.is_empty:
        raise GeometryError(msg("sections.line_empty", "the section line is empty: it has no coordinates"))
    if isinstance(geom, MultiLineString):
        if len(geom.geoms) != 1:
            raise GeometryError(msg("sections.line_in_pieces", "a section line is one continuous line from base to "
                                    "top, but {count} separate lines were given: upload or draw them as one line",
                                    count=len(geom.geoms)))
        geom = geom.geoms[0]
    if not isinstance(geom, LineString):
        raise GeometryError(msg("sections.line_not_line", "a section line must be a line (LineString) along which "
                                "the section was measured, but a {geom_type} was given", geom_type=geom.geom_type))
    coords = [(float(x), float(y)) for x, y, *_ in geom.coords]
    for x, y in coords:
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise GeometryError(msg("sections.line_vertex_out_of_range", "the section line has a vertex outside the "
                                    "longitude/latitude range: ({x}, {y})", x=fmt(x), y=fmt(y)),
                                location=(x, y) if abs(y) <= 90 and abs(x) <= 180 else None)
    coords = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
    if len(coords) < 2:
        raise GeometryError(msg("sections.line_too_short", "a section line needs at least two distinct points (its "
                                "base and its top)"))
    if len(coords) > MAX_VERTICES:
        raise GeometryError(msg("sections.line_too_many_vertices", "the section line has {count:,} vertices; the "
                                "limit is {limit:,}: thin the GPS track before uploading", count=len(coords),
                                limit=MAX_VERTICES))
    if coords[0] == coords[-1]:
        raise GeometryError(msg("sections.line_closed", "the section line closes on itself: a section runs from its "
                                "base to its top; for an area give the protection boundary instead"),
                            location=coords[0])
    line = LineString(coords)
    if not line.is_simple:
        where = _self_crossing(line)
        if where:
            raise GeometryError(msg("sections.line_crosses_itself_near", "the section line crosses or runs over "
                                    "itself near ({x}, {y}): a section line runs once from base to top. A GPS track "
                                    "walked there and back overlaps itself: keep only the way up (or down)",
                                    x=fmt(where[0]), y=fmt(where[1])), location=where)
        raise GeometryError(msg("sections.line_crosses_itself", "the section line crosses or runs over itself: a "
                                "section line runs once from base to top. A GPS track walked there and back overlaps "
                                "itself: keep only the way up (or down)"))
    return line


def length_m(line: BaseGeometry) -> float:
    """Geodesic length in metres on the CGCS2000 ellipsoid (GRS80), edges as geodesics."""
    xy = shapely.get_coordinates(line)
    return float(GEOD.line_length(xy[:, 0], xy[:, 1])) if len(xy) >= 2 else 0.0


def measures(line: BaseGeometry) -> dict[str, Any]:
    return {"length_m": round(length_m(line), 1)}


SECTION = FeatureKind(
    "section", store.SECTIONS, "line", "LineString", PROPERTY_FIELDS, TEXT_FIELDS, normalize_properties,
    validate_line, "SECTION_CODE_PREFIX", config.SECTION_CODE_PREFIX, noun=term("section", "section"),
    not_found=lambda code: msg("sections.section_code", "no section with code {code!r}", code=code),
    measures=measures, public_lists=LIST_FIELDS, list_fields=LIST_FIELDS, proposal_checks=("county",),
    map_fields=("name", "name_en", "level", "significance", "period", "age"),
    collection="sections", title="Stratigraphic sections", title_zh="地层剖面",
    description="Registered stratigraphic (stratotype) sections: the surveyed section line, what it exposes, its "
    "geodesic length (length_m). Every feature is a LineString. Anonymous callers get the public view: the lines of "
    "sections whose location is open; sections whose location is protected are not in this collection but in "
    "section-points (at the centre of their 0.1-degree cell), hidden ones nowhere.",
    description_zh="已登记的地层（层型）剖面：实测剖面线、出露的地层单位及其大地测量长度。每个要素都是线。匿名访问者得到"
    "公开视图：位置公开的剖面的剖面线；位置受保护的剖面不在此集合中，而在“地层剖面（点）”集合中（位于所在 0.1 度格网的"
    "中心点），隐藏的剖面不出现。",
    queryables=("level", "significance", "period", "county", "status"), stamp=stamps.section_stamp, labels=LABELS,
    vocabularies=VOCABULARIES,
    point_collection="section-points", point_title="Stratigraphic sections as points", point_title_zh="地层剖面（点）",
    point_description="Every stratigraphic section as one point (the middle of its line), with the section's "
    "properties: for maps of symbols and for GIS layers of one geometry type. Anonymous callers get the public view: "
    "an open section at the middle of its line, a section whose location is protected at the centre of its 0.1-degree "
    "cell (flagged as such), hidden ones absent.",
    point_description_zh="每个地层剖面表示为一个点（剖面线的中点），附剖面的属性：用于符号地图和单一几何类型的 GIS 图层。"
    "匿名访问者得到公开视图：位置公开的剖面位于剖面线中点，位置受保护的剖面位于所在 0.1 度格网的中心点（并注明），"
    "隐藏的剖面不出现。")

register(SECTION)
