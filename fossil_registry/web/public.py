"""The public protection map (/), its GeoJSON layers (/map/...) and the site pages (/sites/<code>).

Anonymous callers get only public_view's output (through map_layers); signed-in staff who may read exact locations
get exact data on the same URLs. Every page builds its map with fossil_registry.maps (self-hosted assets, CSP nonce).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from flask import Blueprint, Response, current_app, g, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .. import access, basemaps, coords, county_context, map_layers, markers, public_view, read_model, sites
from ..db import get_conn
from ..errors import InvalidInput, NotFound, RegistryError
from ..http.errors import coded, describe, problem
from ..http.requests import bbox_arg
from ..http.security import can, require
from ..messages import msg
from ..vocab import FossilGroup, Level, Period, Sensitivity, Significance
from . import labels, times
from .sections import SECTION_COLOUR, marker_overlay

if TYPE_CHECKING:  # annotations only: folium (~0.7 s) is imported by the first map page, not the start
    from .. import maps

bp = Blueprint("public", __name__)
data_bp = Blueprint("public_map_data", __name__, url_prefix="/map")


def init_app(app) -> None:
    basemap = app.config["BASEMAP"]
    basemaps.check_basemap(basemap, app.config.get("TIANDITU_KEY"), app.config.get("OFFLINE_BASEMAP"))
    sources = tuple(app.config.get("CSP_IMG_SOURCES", ())) + basemaps.basemap_img_sources(basemap)
    app.config["CSP_IMG_SOURCES"] = tuple(dict.fromkeys(sources))
    app.register_blueprint(bp)
    app.register_blueprint(data_bp)

    labels.init_app(app)  # every vocabulary in every page (web/labels.py)
    times.init_app(app)  # every time in the registry's zone (web/times.py)


def _language() -> str:
    return str(get_locale() or "en")


def _exact() -> bool:
    return can("site.read_exact")


def _new_map(**kwargs) -> maps.RegistryMap:
    from .. import maps

    return maps.make_map(**maps.basemap_options(current_app.config), **kwargs)


# ------------------------------------------------------------------------------------------------------------ pages
@bp.get("/")
@require("public.read")
def map_page():
    from .. import maps
    from folium import plugins

    m = _new_map(height="100%")
    plugins.LocateControl(position="topleft", flyTo=True, showPopup=False, keepCurrentZoomLevel=False,
                          locateOptions={"maxZoom": 13, "enableHighAccuracy": True},
                          strings={"title": str(_l("Show my location")),
                                   "popup": str(_l("You are within {distance} {unit} from this point"))}).add_to(m)
    cluster = plugins.MarkerCluster(options={"showCoverageOnHover": False, "maxClusterRadius": 45,
                                             "chunkedLoading": True, "spiderfyOnMaxZoom": True}).add_to(m)
    lang = _language()
    config = {
        "map": m.get_name(), "cluster": cluster.get_name(), "lang": lang, "exact": _exact(),
        "region": current_app.config["REGION_BBOX"],
        "urls": {"sites": url_for("public_map_data.sites_layer"), "boundaries": url_for("public_map_data.boundaries_layer"),
                 "search": url_for("public_map_data.search"), "statistics": url_for("public_map_data.statistics"),
                 "site": url_for("public.site_page", code="CODE"),
                 "sections": url_for("public_map_data.sections_layer"),
                 "section": url_for("sections.section_page", code="CODE")},
        "colours": Level.colours(), "section_colour": SECTION_COLOUR,
        "labels": {"levels": labels.labels(Level), "periods": labels.labels(Period),
                   "groups": labels.labels(FossilGroup), "sensitivity": labels.labels(Sensitivity),
                   "level": str(_l("Protection level")), "age": str(_l("Age")),
                   "fossil_groups": str(_l("Fossil groups")), "site_page": str(_l("Site page")),
                   "approximate": str(_l("Approximate location: centre of a 0.1° grid cell")),
                   "sites_here": str(_l("%(count)s sites here: zoom in", count="{count}")),
                   "no_results": str(_l("No site matches.")),
                   "zoom_in": str(_l("Zoom in")), "zoom_out": str(_l("Zoom out")),
                   "load_failed": str(_l("The site layer could not be loaded. Retrying when the map moves.")),
                   "shown": str(_l("%(count)s sites in view", count="{count}")),
                   "statistics": str(_l("%(total)s registered sites, %(hidden)s of them not shown on the public map",
                                        total="{total}", hidden="{hidden}")),
                   "boundaries_truncated": str(_l("Zoom in to see all protection boundaries.")),
                   "section": str(_l("Stratigraphic section")), "section_page": str(_l("Section page")),
                   "significance": str(_l("Significance")), "significances": labels.labels(Significance),
                   "length": str(_l("Length of the section line"))},
    }
    return render_template("public/map.html", map=maps.render(m, g.csp_nonce), map_config=config,
                           levels=Level, periods=Period, groups=FossilGroup)


@bp.get("/sites/<code>")
@require("public.read")
def site_page(code: str):
    from .. import maps

    conn = get_conn()
    exact = _exact()
    if exact:
        site = sites.current(conn, code, kind=sites.SITE)
        shown = map_layers.MapSite(site.code, site.location.x, site.location.y, site.properties, site.boundary,
                                   "exact")
        history = sites.history(conn, code)
        staff = _staff_location(site.location.x, site.location.y)
        properties, version = site.properties, site.version
    else:
        public = public_view.get_public(conn, code)  # hidden, retired and unknown codes: the same NotFound
        shown = map_layers.MapSite(public.code, public.location.x, public.location.y, public.properties,
                                   public.boundary, "cell" if public.generalized else "exact")
        history, staff = None, None
        properties, version = public.properties, public.version
    # markers stand at the site: the public sees them only where it sees the site exactly
    found = None if shown.precision == "cell" else markers.markers_of(conn, code, public=not exact, kind=sites.SITE)
    overlays = [marker_overlay(found)] if found else []
    return render_template("public/site.html", code=code, p=properties, version=version, site=shown,
                           map=maps.render(_site_map(shown), g.csp_nonce, overlays=overlays), history=history,
                           staff=staff, lang=_language(), exact=exact, markers=found, marker_kinds=markers.KINDS)


def _site_map(shown: map_layers.MapSite) -> maps.RegistryMap:
    from .. import maps
    import folium

    colour = labels.colour(shown.properties.get("level"), Level)
    zoom = 11 if shown.precision == "cell" else 13
    m = _new_map(location=(shown.lat, shown.lon), zoom_start=zoom, height="100%")
    if shown.boundary is not None:
        folium.GeoJson({"type": "Feature", "geometry": shown.boundary.__geo_interface__, "properties": {}},
                       style_function=lambda _f, c=colour: {"color": c, "weight": 2, "fillOpacity": 0.2},
                       name="boundary").add_to(m)
        minx, miny, maxx, maxy = shown.extent
        m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20))
    if shown.precision == "cell":
        minx, miny, maxx, maxy = shown.cell_bounds()
        folium.Rectangle([[miny, minx], [maxy, maxx]], color=colour,
                         weight=2, dash_array="6 4", fill=True, fill_opacity=0.08,
                         tooltip=maps.tooltip(_l("Approximate location: centre of a 0.1° grid cell"))).add_to(m)
    if shown.precision == "cell":  # drawn like on the protection map: not a point, only "somewhere in this cell"
        folium.CircleMarker((shown.lat, shown.lon), radius=10, color=colour, weight=2, dash_array="4 3", fill=True,
                            fill_color=colour, fill_opacity=0.3).add_to(m)
    else:
        folium.CircleMarker((shown.lat, shown.lon), radius=7, color="#fff", weight=2, fill=True, fill_color=colour,
                            fill_opacity=1).add_to(m)
    return m


def _staff_location(lon: float, lat: float) -> dict:
    try:
        gk = coords.to_gauss_kruger(lon, lat)
    except coords.CoordinateError:  # outside China's Gauss-Kruger zones
        gk = None
    return {"lon": f"{lon:.6f}", "lat": f"{lat:.6f}",
            "lon_dms": coords.format_dms(lon, "E", "W"), "lat_dms": coords.format_dms(lat, "N", "S"),
            "gk": gk}


# ------------------------------------------------------------------------------------------------------------ data
@data_bp.errorhandler(RegistryError)
def _data_error(exc: RegistryError):
    return problem(exc.status, exc.title, describe(exc), **coded(exc))


def _zoom_arg() -> int:
    raw = request.args.get("zoom", "7")
    try:
        zoom = int(raw)
    except ValueError:
        raise InvalidInput(msg("web.zoom_must_whole_number", "zoom must be a whole number (got {raw!r})", raw=raw)) from None
    return map_layers.check_zoom(zoom)


def _filters() -> map_layers.Filters:
    return map_layers.Filters.parse(request.args.getlist("level"), request.args.getlist("period"),
                                    request.args.getlist("group"))


def _geojson(body):
    """A map layer or search answer as GeoJSON: encoded by orjson (the standard library's encoder took ~10 ms of a
    layer of 600 boundaries, orjson under 1), keys sorted as jsonify sorts them; text as UTF-8, not escaped."""
    data = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)  # by_level's key of no level
    return _cacheable(Response(data, mimetype="application/geo+json"))


def _cacheable(response):
    """Public answers are revalidated on every use (a site just hidden must vanish at once) but cost a 304 when
    unchanged, which counts on a weak mobile connection; staff answers are never stored (security.py)."""
    if not _exact():
        response.headers["Cache-Control"] = "no-cache"
        response.vary.update(("Cookie", "Authorization"))
        response.add_etag()
        response.make_conditional(request)
    return response


def _context() -> county_context.ProvinceContext:
    context = county_context.load(current_app.config)
    if context is None:
        raise NotFound(msg("web.county_context_not_installed", "the county layer is not installed (make assets "
                               "installs it)"))
    return context


def _static_geojson(body, *, public: bool):
    """The county layers change only with the installed data: cached a day, by everyone (seats) or by the signed-in
    browser only (outlines)."""
    response = jsonify(body)
    response.mimetype = "application/geo+json"
    response.headers["Cache-Control"] = f"{'public' if public else 'private'}, max-age=86400"
    response.add_etag()
    return response.make_conditional(request)


@data_bp.get("/county-seats.geojson")
@require("public.read")
def county_seats():
    """The configured province's county seats (labelled points; no boundaries: public pages show none)."""
    return _static_geojson(county_context.web_seats(_context()), public=True)


@bp.get("/context/county-outlines.geojson")
@require(access.EXACT)
def county_outlines():
    """County outlines for staff maps (simplified for the screen; staff only, so not under /map/, whose every layer
    is public: docs/public-map.md)."""
    return _static_geojson(county_context.web_outlines(_context()), public=False)


@data_bp.get("/sites.geojson")
@require("public.read")
def sites_layer():
    zoom, filters = _zoom_arg(), _filters()
    return _geojson(map_layers.sites_layer(get_conn(), exact=_exact(), bbox=bbox_arg(), zoom=zoom, filters=filters,
                                           max_points=current_app.config["MAP_MAX_POINTS"]))


@data_bp.get("/boundaries.geojson")
@require("public.read")
def boundaries_layer():
    zoom, filters = _zoom_arg(), _filters()
    return _geojson(map_layers.boundaries_in_view(get_conn(), exact=_exact(), bbox=bbox_arg(), zoom=zoom,
                                                  filters=filters))


@data_bp.get("/sections.geojson")
@require("public.read")
def sections_layer():
    """The stratigraphic sections in view: their lines (public view for anonymous callers, as for sites)."""
    return _geojson(map_layers.stored_feature_layer(get_conn(), sites.kind_named("section"), exact=_exact(),
                                                    bbox=bbox_arg(), zoom=_zoom_arg()))


@data_bp.get("/search.json")
@require("public.read")
def search():
    features = read_model.search(get_conn(), request.args.get("q", ""), exact=_exact())
    return _geojson({"type": "FeatureCollection", "features": features})


@data_bp.get("/statistics.json")
@require("public.read")
def statistics():
    return _cacheable(jsonify(map_layers.statistics(get_conn())))
