"""Geographic context in a field kit: the county outlines and labelled county seats around the kit's area
(fossil_registry/county_context.py), as two read-only styled layers drawn under the sites, so the kit shows where its
sites are even with no operator basemap and no network.

Self-contained: package.py adds the tables and rows, qgis_project.py the layers (below every kit layer, above a
basemap). Check-in never reads these tables (contents.py reads only the kit's own layers, by name).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

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
LABEL_FONT = "Noto Sans CJK SC"

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


# ------------------------------------------------------------------------------------------------ QGIS project
# (qgis_project's element helpers, imported where used: qgis_project imports this module)
def _labels() -> ET.Element:
    from .qgis_project import _el
    text = _el("text-style", {"fieldName": "label", "isExpression": 0, "fontSize": 9, "fontSizeUnit": "Point",
                              "textColor": "60,50,40,255", "textOpacity": 1, "fontWeight": 50, "fontItalic": 0,
                              "blendMode": 0, "multilineHeight": 1, "namedStyle": "Regular",
                              "fontFamily": LABEL_FONT},
               _el("text-buffer", {"bufferDraw": 1, "bufferSize": 0.8, "bufferSizeUnits": "MM",
                                   "bufferColor": "255,255,255,255", "bufferOpacity": 1, "bufferNoFill": 1,
                                   "bufferJoinStyle": 128, "bufferBlendMode": 0}))
    settings = _el("settings", {"calloutType": "simple"}, text,
                   _el("placement", {"placement": 0, "dist": 1.2, "distUnits": "MM", "quadOffset": 5, "priority": 3}),
                   _el("rendering", {"scaleVisibility": 0, "obstacle": 0, "displayAll": 0, "upsidedownLabels": 0,
                                     "limitNumLabels": 0}))
    return _el("labeling", {"type": "simple"}, settings)


def _layer(layer: Layer, layer_id: str) -> ET.Element:
    from .qgis_project import _el, _flags, _form, _single, _symbol, source, srs
    name = layer.name
    if name == COUNTY_OUTLINES:
        geometry, wkb = "Polygon", "MultiPolygon"
        symbol = _symbol("0", "fill", "SimpleFill", {
            "color": "239,234,223,60", "style": "solid", "outline_color": "122,111,92,255", "outline_style": "dash",
            "outline_width": "0.35", "outline_width_unit": "MM", "joinstyle": "bevel"})
    else:
        geometry, wkb = "Point", "Point"
        symbol = _symbol("0", "marker", "SimpleMarker", {
            "color": "255,255,255,255", "name": "circle", "size": "1.8", "size_unit": "MM",
            "outline_color": "68,68,68,255", "outline_style": "solid", "outline_width": "0.35",
            "outline_width_unit": "MM", "angle": "0", "joinstyle": "bevel", "scale_method": "diameter"})
    element = _el("maplayer", {"type": "vector", "geometry": geometry, "wkbType": wkb, "readOnly": 1,
                               "labelsEnabled": int(name == COUNTY_SEATS), "hasScaleBasedVisibilityFlag": 0,
                               "minScale": 100000000, "maxScale": 0, "styleCategories": "AllStyleCategories"},
                  _el("id", text=layer_id), _el("datasource", text=source(name)), _el("layername", text=TITLES[name]),
                  _el("srs", None, srs(4490)), _el("provider", {"encoding": "UTF-8"}, text="ogr"), _flags(),
                  _single(symbol))
    if name == COUNTY_SEATS:
        element.append(_labels())
    element.extend(_form(layer, {}))   # every field read-only
    return element


def project_layers(suffix: str) -> list[tuple[tuple[str, str, str, str], ET.Element]]:
    """(layer-tree entry, maplayer) of the context layers, seats above outlines, for the bottom of the layer order."""
    from .qgis_project import source
    out = []
    for layer in LAYERS:
        layer_id = f"{layer.name}_{suffix}"
        out.append(((layer_id, layer.title, source(layer.name), "ogr"), _layer(layer, layer_id)))
    return out
