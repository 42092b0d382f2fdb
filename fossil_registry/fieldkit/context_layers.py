"""Geographic context in a field kit: the county outlines and labelled county seats around the kit's area
(fossil_registry/county_context.py), as two read-only styled layers drawn under the sites, so the kit shows where its
sites are even with no operator basemap and no network.

Self-contained: package.py adds the tables and rows, qgis_project.py the layers (below every kit layer, above a
basemap). Check-in never reads these tables (contents.py reads only the kit's own layers, by name).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Point, box

from ..county_context import ProvinceContext, short_name, simplified
from ..store import kitfile
from .layers import Field, Layer

COUNTY_OUTLINES = "context_counties"
COUNTY_SEATS = "context_county_seats"
MARGIN_DEG = 0.3   # counties this close to the kit's area come along (the neighbours a team drives through)
TOLERANCE_DEG = 0.002   # ~200 m, twice the source's quantization: a third of the vertices, the same shapes
TITLES = {COUNTY_OUTLINES: "县界 County outlines", COUNTY_SEATS: "县城 County seats"}
# A font with CJK glyphs that field machines have (Debian/Ubuntu: fonts-noto-cjk; Android: Noto Sans CJK built in);
# where it is missing QGIS substitutes a system font.

_FIELDS = (Field("code", "TEXT", "行政区划代码 Division code", editable=False),
           Field("name", "TEXT", "名称 Name", editable=False))
_DESCRIPTION = "Context only (county_context): read-only, never checked in"
LAYERS = (Layer(COUNTY_SEATS, "POINT", TITLES[COUNTY_SEATS], _DESCRIPTION,
                _FIELDS + (Field("label", "TEXT", "标注 Label", editable=False),), "county_seats"),
          Layer(COUNTY_OUTLINES, "MULTIPOLYGON", TITLES[COUNTY_OUTLINES], _DESCRIPTION, _FIELDS, "county_outlines"))


def tables() -> list[dict[str, Any]]:
    """The two layers' tables for kitfile.create_kit_file."""
    return [{"name": la.name, "geometry": la.geometry, "identifier": la.title, "description": la.description,
             "columns": la.columns} for la in LAYERS]


def write_rows(path: Path, context: ProvinceContext, bounds: tuple[float, float, float, float]) -> int:
    """The counties meeting the kit's bounds (with MARGIN_DEG around) and their seats; returns how many."""
    area = box(*bounds).buffer(MARGIN_DEG, join_style="mitre")
    near = [(c, g) for c, g in zip(context.counties, simplified(context, TOLERANCE_DEG)) if c.outline.intersects(area)]
    kitfile.write_rows(path, COUNTY_OUTLINES, [
        {"geom": g if g.geom_type == "MultiPolygon" else MultiPolygon([g]), "code": c.code, "name": c.name}
        for c, g in near])
    kitfile.write_rows(path, COUNTY_SEATS, [
        {"geom": Point(*c.seat), "code": c.code, "name": c.name, "label": short_name(c.name)} for c, _ in near])
    return len(near)
