"""The kit's QGIS project (``fieldkit.qgz``: a zip holding one ``.qgs`` XML document), written by hand from the
public project format, so that the registry needs no QGIS to make it. It opens in QGIS and QField:

* every layer points at the kit's GeoPackage by a relative path (``./fieldkit.gpkg|layername=...``, project paths
  relative), so the kit folder can be copied anywhere, and the basemap (if any) is ``./basemap.mbtiles`` (GDAL);
* the sites and boundaries are drawn by protection level in the protection map's colours, new finds and survey
  points with symbols of their own, the sites labelled with their code when zoomed in (in a font with CJK glyphs the
  machine has: ``LABEL_FONT``); points are drawn over lines over areas (``layers.drawing_order``);
* the forms have bilingual aliases, value maps for level, sensitivity, period, condition and method, dates with a
  calendar, the site code, base version and find id read-only, survey points picking their site from the kit
  (value relations), and the photo fields set up as attachments (QGIS "ExternalResource" widget storing a path relative
  to the project; QField names new photos ``DCIM/<layer>_<time>.<ext>``).
"""
from __future__ import annotations

import io
import json
import warnings
import zipfile
from typing import Any, Iterable
from xml.etree import ElementTree as ET

from pyproj import CRS, Transformer

from . import context_layers
from .layers import (KIT_BASEMAP, KIT_GPKG, KIT_LAYERS, LEVEL_COLOURS, LEVEL_LABELS, PHOTO_FOLDER, Field, Layer,
                     drawing_order)

QGIS_VERSION = "3.22.0-Białowieża"  # the oldest QGIS whose project format this follows (QField uses newer ones)
NULL_VALUE = "{2839923C-8B7D-419E-B84B-CA2FE9B80EC7}"  # how QGIS value maps store "no value"
GEOMETRY = {"POINT": ("Point", "Point"), "LINESTRING": ("Line", "LineString"),
            "MULTILINESTRING": ("Line", "MultiLineString"), "MULTIPOLYGON": ("Polygon", "MultiPolygon")}


def _el(tag: str, attrib: dict[str, Any] | None = None, *children: ET.Element, text: str | None = None) -> ET.Element:
    element = ET.Element(tag, {k: str(v) for k, v in (attrib or {}).items()})
    element.extend(children)
    if text is not None:
        element.text = text
    return element


def _option(name: str | None, value: Any = None, kind: str | None = None) -> ET.Element:
    """One QGIS <Option> (QgsXmlUtils' variant encoding)."""
    if kind is None:
        kind = "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "QString"
    attrib = {"type": kind}
    if name is not None:
        attrib["name"] = name
    if kind not in ("Map", "List"):
        attrib["value"] = str(value).lower() if isinstance(value, bool) else str(value)
    return _el("Option", attrib)


def _map(values: dict[str, Any] | None = None, name: str | None = None) -> ET.Element:
    """A QGIS Map option: values are Python values or ready <Option> elements (whose own name is replaced)."""
    element = _option(name, kind="Map")
    for key, value in (values or {}).items():
        if isinstance(value, ET.Element):
            value.set("name", key)
            element.append(value)
        else:
            element.append(_option(key, value))
    return element


# --------------------------------------------------------------------------------------------------------- CRS
def srs(epsg: int) -> ET.Element:
    """<spatialrefsys> read by QGIS from its authority id (the WKT is the fallback)."""
    crs = CRS.from_epsg(epsg)
    ellipsoid = crs.ellipsoid
    ellipsoid_id = ellipsoid.to_json_dict().get("id", {}) if ellipsoid is not None else {}
    return _el("spatialrefsys", {"nativeFormat": "Wkt"},
               _el("wkt", text=crs.to_wkt("WKT2_2019")), _el("proj4", text=_proj4(crs)),
               _el("srsid", text="0"), _el("srid", text=str(epsg)), _el("authid", text=f"EPSG:{epsg}"),
               _el("description", text=crs.name),
               _el("projectionacronym", text="longlat" if crs.is_geographic else "merc"),
               _el("ellipsoidacronym", text=f"EPSG:{ellipsoid_id.get('code', '')}" if ellipsoid_id else ""),
               _el("geographicflag", text="true" if crs.is_geographic else "false"))


def _proj4(crs: CRS) -> str:
    with warnings.catch_warnings():  # PROJ strings lose datum details: QGIS reads the authority id and WKT first
        warnings.simplefilter("ignore")
        return crs.to_proj4()


def _extent(tag: str, bbox: tuple[float, float, float, float]) -> ET.Element:
    return _el(tag, None, *(_el(k, text=repr(float(v))) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), bbox)))


# --------------------------------------------------------------------------------------------------------- styles
def _rgba(colour: str, alpha: int = 255) -> str:
    colour = colour.lstrip("#")
    return ",".join(str(int(colour[i:i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _symbol(name: str, kind: str, layer_class: str, props: dict[str, Any]) -> ET.Element:
    empty_ddp = _map({"name": "", "properties": _option(None, kind="Map"), "type": "collection"})
    symbol = _el("symbol", {"name": name, "type": kind, "alpha": 1, "clip_to_extent": 1, "force_rhr": 0},
                 _el("data_defined_properties", None, empty_ddp))
    symbol.append(_el("layer", {"class": layer_class, "enabled": 1, "locked": 0, "pass": 0}, _map(props)))
    return symbol


def _marker(name: str, colour: str, shape: str = "circle", size: float = 3.2) -> ET.Element:
    return _symbol(name, "marker", "SimpleMarker", {
        "color": _rgba(colour), "name": shape, "size": str(size), "size_unit": "MM", "outline_color": "255,255,255,255",
        "outline_style": "solid", "outline_width": "0.4", "outline_width_unit": "MM", "angle": "0",
        "joinstyle": "bevel", "scale_method": "diameter"})


def _fill(name: str, colour: str) -> ET.Element:
    return _symbol(name, "fill", "SimpleFill", {
        "color": _rgba(colour, 50), "style": "solid", "outline_color": _rgba(colour), "outline_style": "solid",
        "outline_width": "0.6", "outline_width_unit": "MM", "joinstyle": "bevel"})


def _line(name: str, colour: str) -> ET.Element:
    return _symbol(name, "line", "SimpleLine", {
        "line_color": _rgba(colour), "line_style": "solid", "line_width": "0.9", "line_width_unit": "MM",
        "capstyle": "round", "joinstyle": "round"})


def _by_level(kind: str) -> ET.Element:
    renderer = _el("renderer-v2", {"type": "categorizedSymbol", "attr": "level", "symbollevels": 0, "forceraster": 0,
                                   "enableorderby": 0, "referencescale": -1})
    categories, symbols = _el("categories"), _el("symbols")
    for i, (level, colour) in enumerate(LEVEL_COLOURS.items()):
        categories.append(_el("category", {"render": "true", "symbol": i, "value": level,
                                           "label": LEVEL_LABELS[level]}))
        symbols.append({"marker": _marker, "line": _line, "fill": _fill}[kind](str(i), colour))
    renderer.extend((categories, symbols))
    return renderer


def _single(symbol: ET.Element) -> ET.Element:
    return _el("renderer-v2", {"type": "singleSymbol", "symbollevels": 0, "forceraster": 0, "enableorderby": 0,
                               "referencescale": -1}, _el("symbols", None, symbol))


RENDERERS = {
    "level_points": lambda: _by_level("marker"),
    "level_polygons": lambda: _by_level("fill"),
    "finds": lambda: _single(_marker("0", "#7b3294", "star", 4.2)),
    "survey": lambda: _single(_marker("0", "#333333", "triangle", 2.6)),
    "reference_LineString": lambda: _by_level("line"),   # another kind's features, read-only
    "reference_Point": lambda: _by_level("marker"),
}


# The labels' font: one with CJK glyphs that field machines have. A QGIS style names one family, and where a machine
# lacks it QGIS draws with its application font (an empty family drew garbage from a TeX font: issue 25). So the style
# names the family of Linux (fonts-noto-cjk, Debian's and Ubuntu's CJK default) and Android (QField), and a data-defined
# family (an expression on @qgis_os_name, which QGIS uses only if that font is installed) names Windows' and macOS's.
LABEL_FONT = "Noto Sans CJK SC"
LABEL_FONT_BY_OS = {("windows",): "Microsoft YaHei", ("osx", "macos"): "PingFang SC"}


def label_font_expression() -> str:
    """The QGIS expression that picks the labels' font family on the machine that opens the kit."""
    cases = " ".join(f"WHEN @qgis_os_name IN ({', '.join(repr(n) for n in names)}) THEN '{family}'"
                     for names, family in LABEL_FONT_BY_OS.items())
    return f"CASE {cases} ELSE '{LABEL_FONT}' END"


def _data_defined(properties: dict[str, str]) -> ET.Element:
    """QGIS data-defined properties: name -> an expression (QgsProperty type 3)."""
    return _el("dd_properties", None, _map({"name": "", "type": "collection", "properties": _map(
        {name: _map({"active": True, "expression": expression, "type": 3}) for name, expression in properties.items()})}))


def _text_style(field: str, size: int, colour: str) -> ET.Element:
    """Labels of ``field`` in LABEL_FONT, ``size`` points, in ``colour`` (r,g,b,a) with a white halo."""
    return _el("text-style", {"fieldName": field, "isExpression": 0, "fontSize": size, "fontSizeUnit": "Point",
                              "textColor": colour, "textOpacity": 1, "fontWeight": 50, "fontItalic": 0,
                              "blendMode": 0, "multilineHeight": 1, "namedStyle": "Regular",
                              "fontFamily": LABEL_FONT},
               _el("text-buffer", {"bufferDraw": 1, "bufferSize": 0.8, "bufferSizeUnits": "MM",
                                   "bufferColor": "255,255,255,255", "bufferOpacity": 1, "bufferNoFill": 1,
                                   "bufferJoinStyle": 128, "bufferBlendMode": 0}))


def _labels(field: str) -> ET.Element:
    """The site code next to each site, from about 1:100,000 in (so the province view stays readable)."""
    settings = _el("settings", {"calloutType": "simple"}, _text_style(field, 8, "30,30,30,255"),
                   _el("placement", {"placement": 0, "dist": 1.5, "distUnits": "MM", "quadOffset": 2,
                                     "priority": 5}),
                   _el("rendering", {"scaleVisibility": 1, "scaleMin": 1, "scaleMax": 100000, "obstacle": 1,
                                     "displayAll": 0, "upsidedownLabels": 0, "limitNumLabels": 0}),
                   _data_defined({"Family": label_font_expression()}))
    return _el("labeling", {"type": "simple"}, settings)


# --------------------------------------------------------------------------------------------------------- forms
def _widget(field: Field, layer_ids: dict[str, str]) -> ET.Element:
    kind, config = _widget_config(field, layer_ids)
    return _el("editWidget", {"type": kind}, _el("config", None, config))


def _widget_config(field: Field, layer_ids: dict[str, str]) -> tuple[str, ET.Element]:
    if field.widget == "valuemap":
        entries = _option("map", kind="List")
        entries.extend(_map({label: value}) for value, label in field.values.items())
        entries.append(_map({"<NULL>": NULL_VALUE}))
        return "ValueMap", _map({"map": entries})
    if field.widget == "checkbox":
        return "CheckBox", _map({"CheckedState": "", "UncheckedState": "", "TextDisplayMethod": 0})
    if field.widget == "date":
        return "DateTime", _map({"allow_null": True, "calendar_popup": True, "display_format": "yyyy-MM-dd",
                                 "field_format": "yyyy-MM-dd", "field_iso_format": False})
    if field.widget == "photo":
        # QGIS's attachment widget: a path relative to the project (RelativeStorage 1), shown as an image (viewer 1)
        return "ExternalResource", _map({
            "DocumentViewer": 1, "DocumentViewerHeight": 0, "DocumentViewerWidth": 0, "FileWidget": True,
            "FileWidgetButton": True, "FileWidgetFilter": "Images (*.jpg *.jpeg *.png *.webp)", "RelativeStorage": 1,
            "StorageMode": 0, "StorageType": "", "StorageAuthConfigId": "",
            "PropertyCollection": _map({"name": "", "properties": _option(None, kind="Map"), "type": "collection"})})
    if field.widget == "relation":
        target, key, shown = field.relation
        return "ValueRelation", _map({
            "AllowMulti": False, "AllowNull": True, "FilterExpression": "", "Key": key, "Layer": layer_ids[target],
            "LayerName": target, "LayerProviderName": "ogr", "LayerSource": source(target), "NofColumns": 1,
            "OrderByValue": True, "UseCompleter": True, "Value": shown})
    return "TextEdit", _map({"IsMultiline": field.widget == "multiline", "UseHtml": False})


def _form(layer: Layer, layer_ids: dict[str, str]) -> list[ET.Element]:
    configuration = _el("fieldConfiguration", None,
                        _el("field", {"name": "fid", "configurationFlags": "None"},
                            _el("editWidget", {"type": "Hidden"}, _el("config", None, _map()))))
    aliases, defaults, editable = _el("aliases"), _el("defaults"), _el("editable", None, _el("field", {"name": "fid",
                                                                                                     "editable": 0}))
    aliases.append(_el("alias", {"field": "fid", "index": 0, "name": ""}))
    defaults.append(_el("default", {"field": "fid", "expression": "", "applyOnUpdate": 0}))
    for index, field in enumerate(layer.fields, start=1):
        configuration.append(_el("field", {"name": field.name, "configurationFlags": "None"},
                                 _widget(field, layer_ids)))
        aliases.append(_el("alias", {"field": field.name, "index": index, "name": field.label}))
        defaults.append(_el("default", {"field": field.name, "expression": field.default or "", "applyOnUpdate": 0}))
        editable.append(_el("field", {"name": field.name, "editable": int(field.editable)}))
    return [configuration, aliases, defaults, _el("editform", {"tolerant": 1}), _el("editforminit"),
            _el("editforminitcodesource", text="0"), _el("editorlayout", text="generatedlayout"), editable]


def _attachment_naming(layer: Layer) -> dict[str, str]:
    """QField's names for new photos: DCIM/<layer>_<time>.<ext> (QFieldSync's layer property)."""
    photos = [f.name for f in layer.fields if f.widget == "photo"]
    naming = {name: f"'{PHOTO_FOLDER}/{layer.name}_' || format_date(now(),'yyyyMMddhhmmsszzz') || '.{{extension}}'"
              for name in photos}
    value = json.dumps(naming)
    return {"QFieldSync/action": "offline", "QFieldSync/cloud_action": "offline",
            "QFieldSync/attachment_naming": value, "QFieldSync/photo_naming": value}


# --------------------------------------------------------------------------------------------------------- layers
def _flags() -> ET.Element:
    return _el("flags", None, _el("Identifiable", text="1"), _el("Removable", text="1"), _el("Searchable", text="1"),
               _el("Private", text="0"))


def _vector_layer(layer: Layer, layer_ids: dict[str, str]) -> ET.Element:
    geometry, wkb = GEOMETRY[layer.geometry]
    element = _el("maplayer", {"type": "vector", "geometry": geometry, "wkbType": wkb, "readOnly": 0,
                               "labelsEnabled": int(layer.style == "level_points"), "hasScaleBasedVisibilityFlag": 0,
                               "minScale": 100000000, "maxScale": 0, "styleCategories": "AllStyleCategories"},
                  _el("id", text=layer_ids[layer.name]), _el("datasource", text=source(layer.name)),
                  _el("layername", text=layer.title), _el("srs", None, srs(4490)),
                  _el("provider", {"encoding": "UTF-8"}, text="ogr"), _flags(), RENDERERS[layer.style]())
    if layer.style == "level_points":
        element.append(_labels("code"))
    element.append(_el("customproperties", None, _map(_attachment_naming(layer))))
    element.extend(_form(layer, layer_ids))
    key = "code" if any(f.name == "code" for f in layer.fields) else "fid"
    element.append(_el("previewExpression", text=f'"{key}"'))
    return element


def _raster_layer(layer_id: str) -> ET.Element:
    return _el("maplayer", {"type": "raster", "hasScaleBasedVisibilityFlag": 0, "minScale": 100000000, "maxScale": 0,
                            "styleCategories": "AllStyleCategories"},
               _el("id", text=layer_id), _el("datasource", text=f"./{KIT_BASEMAP}"),
               _el("layername", text="底图 Basemap"), _el("srs", None, srs(3857)), _el("provider", text="gdal"),
               _flags(), _el("blendMode", text="0"))


def source(layer_name: str) -> str:
    """A kit layer's data source, relative to the project."""
    return f"./{KIT_GPKG}|layername={layer_name}"


def _tree(entries: Iterable[tuple[str, str, str, str]]) -> ET.Element:
    group = _el("layer-tree-group", None, _el("customproperties", None, _map()))
    for layer_id, name, data_source, provider in entries:
        group.append(_el("layer-tree-layer", {"id": layer_id, "name": name, "source": data_source,
                                              "providerKey": provider, "checked": "Qt::Checked", "expanded": 1},
                         _el("customproperties", None, _map())))
    return group


def project_xml(*, title: str, kit_id: str, bbox: tuple[float, float, float, float], basemap: bool,
                context: bool = False) -> bytes:
    """The .qgs document of a kit; ``bbox`` (lon/lat) is the area the map opens on; ``context``: the kit carries the
    county context layers (context_layers.py), drawn under every kit layer."""
    suffix = kit_id[:8]
    layer_ids = {layer.name: f"{layer.name}_{suffix}" for layer in KIT_LAYERS}
    epsg = 3857 if basemap else 4490  # over a Web Mercator basemap, draw in its CRS (no resampling on the phone)
    # the layer tree from the top (drawn last, on top) down: points over lines over areas over context (layers.py)
    entries = [(layer_ids[layer.name], layer.title, source(layer.name), "ogr")
               for layer in reversed(drawing_order(KIT_LAYERS))]
    layers = [_vector_layer(layer, layer_ids) for layer in KIT_LAYERS]
    if context:
        for entry, element in _context_project_layers(suffix):
            entries.append(entry)
            layers.append(element)
    if basemap:
        entries.append((f"basemap_{suffix}", "底图 Basemap", f"./{KIT_BASEMAP}", "gdal"))
        layers.append(_raster_layer(f"basemap_{suffix}"))
    view = bbox if epsg == 4490 else Transformer.from_crs(4490, 3857, always_xy=True).transform_bounds(*bbox)
    root = _el("qgis", {"projectname": title, "version": QGIS_VERSION},
               _el("homePath", {"path": ""}), _el("title", text=title),
               _el("autotransaction", {"active": 0}), _el("evaluateDefaultValues", {"active": 0}),
               _el("trust", {"active": 0}), _el("projectCrs", None, srs(epsg)), _tree(entries),
               _el("mapcanvas", {"name": "theMapCanvas", "annotationsVisible": 1},
                   _el("units", text="degrees" if epsg == 4490 else "meters"), _extent("extent", view),
                   _el("rotation", text="0"), _el("destinationsrs", None, srs(epsg))),
               _el("projectlayers", None, *layers),
               _el("layerorder", None, *(_el("layer", {"id": e[0]}) for e in entries)),
               _properties())
    ET.indent(root)
    return b"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="utf-8")


def _properties() -> ET.Element:
    """Relative paths (the kit folder moves between devices); the project CRS is read (ProjectionsEnabled);
    measurements on CGCS2000's ellipsoid, in metres."""
    return _el("properties", None,
               _el("Paths", None, _el("Absolute", {"type": "bool"}, text="false")),
               _el("SpatialRefSys", None, _el("ProjectionsEnabled", {"type": "int"}, text="1")),
               _el("Measure", None, _el("Ellipsoid", {"type": "QString"}, text="EPSG:1024")),
               _el("Measurement", None, _el("DistanceUnits", {"type": "QString"}, text="meters"),
                   _el("AreaUnits", {"type": "QString"}, text="m2")))


def project_qgz(**kwargs: Any) -> bytes:
    """The .qgz: a zip holding the .qgs (QGIS and QField open either)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("fieldkit.qgs", project_xml(**kwargs))
    return out.getvalue()


# ------------------------------------------------------------------------------------------------ QGIS project
# the county context layers of context_layers.py: read-only, under every kit layer, seats labelled
def _context_labels() -> ET.Element:
    settings = _el("settings", {"calloutType": "simple"}, _text_style("label", 9, "60,50,40,255"),
                   _el("placement", {"placement": 0, "dist": 1.2, "distUnits": "MM", "quadOffset": 5, "priority": 3}),
                   _el("rendering", {"scaleVisibility": 0, "obstacle": 0, "displayAll": 0, "upsidedownLabels": 0,
                                     "limitNumLabels": 0}))
    return _el("labeling", {"type": "simple"}, settings)


def _context_layer(layer: Layer, layer_id: str) -> ET.Element:
    name = layer.name
    if name == context_layers.COUNTY_OUTLINES:
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
                               "labelsEnabled": int(name == context_layers.COUNTY_SEATS), "hasScaleBasedVisibilityFlag": 0,
                               "minScale": 100000000, "maxScale": 0, "styleCategories": "AllStyleCategories"},
                  _el("id", text=layer_id), _el("datasource", text=source(name)), _el("layername", text=context_layers.TITLES[name]),
                  _el("srs", None, srs(4490)), _el("provider", {"encoding": "UTF-8"}, text="ogr"), _flags(),
                  _single(symbol))
    if name == context_layers.COUNTY_SEATS:
        element.append(_context_labels())
    element.extend(_form(layer, {}))   # every field read-only
    return element


def _context_project_layers(suffix: str) -> list[tuple[tuple[str, str, str, str], ET.Element]]:
    """(layer-tree entry, maplayer) of the context layers, seats above outlines, for the bottom of the layer order."""
    out = []
    for layer in context_layers.LAYERS:
        layer_id = f"{layer.name}_{suffix}"
        out.append(((layer_id, layer.title, source(layer.name), "ogr"), _context_layer(layer, layer_id)))
    return out
