"""The maps of impact screening: drawing a footprint on the form, and the report's map (footprint, buffer rings,
affected sites coloured by risk class, the shortest line to each). Site names reach the map only as maps.Overlay data;
folium elements carry geometry and developer-written numbers."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, g
from flask_babel import gettext as _
from shapely.geometry import mapping

from .. import access, impact, json_input
from ..http.security import can

if TYPE_CHECKING:  # annotations only: folium (~0.7 s) is imported by the first map page, not the start
    from .. import maps

FOOTPRINT_STYLE = {"color": "#5e3c99", "weight": 3, "fillColor": "#5e3c99", "fillOpacity": 0.25}
RING_COLOURS = ("#6a51a3", "#807dba", "#9e9ac8", "#bcbddc", "#dadaeb", "#efedf5")


def _new_map(**kwargs) -> maps.RegistryMap:
    # staff see county outlines; anonymous screening (a planner without an account) is a public page: seats only
    from .. import maps

    context = maps.STAFF_CONTEXT if can(access.EXACT) else maps.PUBLIC_CONTEXT
    return maps.make_map(**maps.basemap_options(current_app.config), context=context, **kwargs)


def drawing_map(drawn: str | None, overlays: list[maps.Overlay]) -> tuple[maps.RenderedMap, dict]:
    """The form's map: draw polygons, lines, rectangles or points (Leaflet.draw, self-hosted); impact-form.js writes
    them into the hidden field footprint_drawn as GeoJSON (EPSG:4490)."""
    from .. import maps
    import folium
    from folium import plugins

    bbox = current_app.config["REGION_BBOX"]
    m = _new_map(height="100%", fit_bounds=tuple(bbox))
    editable = folium.FeatureGroup(name="footprint", control=False).add_to(m)
    plugins.Draw(export=False, feature_group=editable, show_geometry_on_click=False, position="topleft",
                 draw_options={"polyline": {"shapeOptions": {"color": FOOTPRINT_STYLE["color"]}},
                               "polygon": {"allowIntersection": False, "showArea": True},
                               "rectangle": {"showArea": True}, "circle": False, "circlemarker": False,
                               "marker": True}).add_to(m)
    restored = None
    if drawn:
        try:
            restored = json_input.loads(drawn, "footprint_drawn")
        except ValueError:
            restored = None
    config = {"map": m.get_name(), "group": editable.get_name(), "input": "footprint_drawn",
              "drawn": restored if isinstance(restored, dict) else None}
    return maps.render(m, g.csp_nonce, overlays=overlays), config


def _shape(m, geom, style: dict, label: str | None = None) -> None:
    from .. import maps
    import folium

    if geom is None or geom.is_empty:
        return
    folium.GeoJson({"type": "Feature", "geometry": mapping(geom), "properties": {}},
                   style_function=lambda _f, s=style: s,
                   tooltip=maps.tooltip(label) if label else None).add_to(m)


def report_map(result: impact.Result, geometries: dict) -> maps.RenderedMap:
    """Rings (outermost first, so inner ones lie on top), footprint, site boundaries by risk class, shortest lines,
    and the sites as Overlay markers named in their tooltips."""
    from .. import maps
    import folium

    m = _new_map(height="100%")
    rings = impact.rings(result)
    for n, (ring, area) in reversed(list(enumerate(rings))):
        colour = RING_COLOURS[min(n, len(RING_COLOURS) - 1)]
        _shape(m, area, {"color": colour, "weight": 1, "dashArray": "4 4", "fillColor": colour, "fillOpacity": 0.12},
               _("within %(m)s m", m="{:,.0f}".format(ring)))
    footprint = result.footprint.geometry
    if footprint.geom_type in ("MultiPoint", "GeometryCollection") or footprint.geom_type.endswith("Point"):
        for part in getattr(footprint, "geoms", [footprint]):
            for p in getattr(part, "geoms", [part]):
                if p.geom_type == "Point":
                    folium.CircleMarker((p.y, p.x), radius=6, color=FOOTPRINT_STYLE["color"], fill=True,
                                        tooltip=maps.tooltip(_("Project footprint"))).add_to(m)
    _shape(m, footprint, FOOTPRINT_STYLE, _("Project footprint"))
    markers = []
    for a in result.affected:
        if a.get("code") not in geometries:
            continue
        location, boundary = geometries[a["code"]]
        colour = impact.RISK_COLOURS[a["risk"]]
        _shape(m, boundary, {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": 0.3})
        risk_name = _(impact.RISK_NAMES[a["risk"]])
        label = f"{a['code']} {a.get('name') or ''} · {risk_name}"
        markers.append(maps.marker(location.x, location.y, text=label, colour=colour, radius=6, fill_opacity=0.9))
        if a.get("nearest"):
            (x1, y1), (x2, y2) = a["nearest"]["footprint"], a["nearest"]["site"]
            folium.PolyLine([(y1, x1), (y2, x2)], color="#333", weight=1.5, dash_array="2 4",
                            tooltip=maps.tooltip(f"{a['distance_m']:,.0f} m")).add_to(m)
    outer = rings[-1][1] if rings else footprint
    minx, miny, maxx, maxy = outer.bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return maps.render(m, g.csp_nonce, overlays=[maps.Overlay("affected", markers)])
