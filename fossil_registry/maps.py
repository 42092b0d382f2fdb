"""folium maps with self-hosted front-end assets, rendered for the app's Content-Security-Policy.

Every script, stylesheet and icon a map needs is served by the app itself from ``static/vendor/<npm package>/...``
(installed by ``make assets`` from package.json / package-lock.json; never committed), so maps work with no internet at
all. folium's defaults point at public CDNs; ``render`` rewrites every element's links to the self-hosted copies and
refuses (``UnhostedAsset``) any element whose files are not installed, so no page can silently depend on a CDN.

Usage, in a view::

    from fossil_registry import maps
    from folium import plugins

    m = maps.make_map(location=(26.6, 106.7), zoom_start=8, **maps.basemap_options(current_app.config))
    plugins.Draw(export=False).add_to(m)            # self-hosted automatically by render()
    folium.CircleMarker((26.6, 106.7), tooltip=maps.tooltip(_("Reported location"))).add_to(m)  # developer text
    photos = maps.Overlay("photos", [maps.marker(lon, lat, text=photo_name)])  # user text: data, never a template
    rendered = maps.render(m, nonce=csp_nonce(), overlays=[photos])
    return render_template("x.html", map=rendered)

and in the template (extending base.html)::

    {% block head %}{{ map.head }}{% endblock %}
    {% block content %}<div class="map-box">{{ map.body }}</div>{% endblock %}
    {% block scripts %}{{ map.script }}{% endblock %}

The exact vendor paths are listed in ``ASSETS`` and in docs/public-map.md.

User text never goes into a folium element: folium/branca compile every element's rendered output as a new Jinja
template, so such text would be template source (server-side code execution). ``render`` refuses it
(``UntrustedMapText``); it reaches the map as an ``Overlay``, a JSON data block drawn by static/js/map-overlays.js.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import branca.element
import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from .basemaps import BASEMAPS, basemap_img_sources, basemap_options, check_basemap  # noqa: F401 (maps.<name>)
from .fieldkit.basemap import open_basemap

STATIC_URL = "/static/"

# Front-end files the maps may use: name -> path under static/ (npm package dist files copied by `make assets`).
ASSETS: dict[str, str] = {
    "leaflet.js": "vendor/leaflet/leaflet.js",
    "leaflet.css": "vendor/leaflet/leaflet.css",
    "markercluster.js": "vendor/leaflet.markercluster/leaflet.markercluster.js",
    "markercluster.css": "vendor/leaflet.markercluster/MarkerCluster.css",
    "markercluster.default.css": "vendor/leaflet.markercluster/MarkerCluster.Default.css",
    "locate.js": "vendor/leaflet.locatecontrol/L.Control.Locate.min.js",
    "locate.css": "vendor/leaflet.locatecontrol/L.Control.Locate.min.css",
    "draw.js": "vendor/leaflet-draw/leaflet.draw.js",
    "draw.css": "vendor/leaflet-draw/leaflet.draw.css",
    "jquery.js": "vendor/jquery/jquery.min.js",
}

# folium's resource names (the first item of its default_js / default_css pairs) -> our asset; None: left out, because
# nothing the registry draws uses it (Bootstrap, glyphicons, Font Awesome, awesome-markers: about 400 KB per page).
FOLIUM_LINKS: dict[str, str | None] = {
    "leaflet": "leaflet.js",
    "leaflet_css": "leaflet.css",
    "jquery": "jquery.js",  # only linked when an element needs it, see _needs_jquery
    "bootstrap": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers": None,
    "awesome_markers_css": None,
    "awesome_markers_font_css": None,
    "awesome_rotate_css": None,
    "markerclusterjs": "markercluster.js",
    "markerclustercss": "markercluster.css",
    "markerclusterdefaultcss": "markercluster.default.css",
    "Control_locate_min_js": "locate.js",
    "Control_locate_min_css": "locate.css",
    "leaflet_draw_js": "draw.js",
    "leaflet_draw_css": "draw.css",
}

# Geographic context under every map (fossil_registry/county_context.py, drawn by static/js/map-context.js from the
# layers the app serves): county seats for everyone, county outlines only on staff pages (docs/public-map.md).
PUBLIC_CONTEXT, STAFF_CONTEXT = "seats", "counties"
CONTEXTS = ("none", PUBLIC_CONTEXT, STAFF_CONTEXT)
CONTEXT_URLS = {"seats": "/map/county-seats.geojson", "outlines": "/context/county-outlines.geojson"}


class UnhostedAsset(ValueError):
    """A map element needs a front-end file the app does not serve itself."""


def asset_url(name: str) -> str:
    """URL of a self-hosted asset, e.g. asset_url("draw.css") -> "/static/vendor/leaflet-draw/leaflet.draw.css"."""
    return STATIC_URL + ASSETS[name]


def _offline_attribution(text: str) -> str:
    """The MBTiles file's attribution (licences ask for it), as inert text: HTML-escaped, and with braces as entities,
    because folium compiles its elements' output as templates."""
    shown = html.escape(" ".join(text.split())[:300]).replace("{", "&#123;").replace("}", "&#125;")
    return f"Offline basemap: {shown}" if shown else "Offline basemap"


class RegistryMap(folium.Map):
    """folium.Map for a page of this app: its header carries only the map's own size, not folium's page-wide styles
    (html/body at 100 % height, a zoom-locking viewport meta), so it sits inside base.html like any other block."""

    def render(self, **kwargs):
        super().render(**kwargs)
        style = (f"<style>#{self.get_name()} {{ position: {self.position}; width: {self.width[0]}{self.width[1]}; "
                 f"height: {self.height[0]}{self.height[1]}; }}</style>")
        switches = self.global_switches
        if switches.no_touch or switches.disable_3d:  # read by Leaflet while it loads, so they go in the header
            style += (f"<script>L_NO_TOUCH = {str(switches.no_touch).lower()}; "
                      f"L_DISABLE_3D = {str(switches.disable_3d).lower()};</script>")
        self.get_root().header.add_child(Element(style), name=self.get_name())


# Leaflet 1.9's default attribution prefix carries a national flag; a provincial government's map shows none, and
# measures in metres only.
ATTRIBUTION_PREFIX = '<a href="https://leafletjs.com" title="Leaflet">Leaflet</a>'


class MapControls(MacroElement):
    """The controls every map of the registry carries, set in this one place: the attribution's prefix is a plain
    "Leaflet" link (no flag) and the scale is metric only. (Constants only: never text from outside.)"""

    _template = Template("""{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix({{ this.prefix|tojson }});
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
    {% endmacro %}""")

    def __init__(self):
        super().__init__()
        self._name = "MapControls"
        self.prefix = ATTRIBUTION_PREFIX


def make_map(*, location: tuple[float, float] | None = None, zoom_start: int = 7, basemap: str = "none",
             tianditu_key: str | None = None, offline_basemap: str | None = None, height: str = "100%",
             width: str = "100%", min_zoom: int = 3,
             max_zoom: int = 18, fit_bounds: tuple[float, float, float, float] | None = None,
             context: str = PUBLIC_CONTEXT, **kwargs: Any) -> RegistryMap:
    """A folium map with self-hosted assets and the configured basemap (no tiles at all for "none").

    ``location`` is (lat, lon) as in folium; ``fit_bounds`` is (min_lon, min_lat, max_lon, max_lat). ``context`` is the
    geographic context drawn under everything else (``CONTEXTS``): ``"seats"`` (default, for public pages: labelled
    county seats when there is no basemap, nothing over Tianditu's own annotation), ``"counties"`` (staff maps: county
    outlines and seats, whatever the basemap) or ``"none"``. Other keyword arguments go to folium.Map (and from there
    to Leaflet's map options)."""
    check_basemap(basemap, tianditu_key, offline_basemap)
    if context not in CONTEXTS:
        raise ValueError(f"context must be one of {', '.join(CONTEXTS)} (got {context!r})")
    spec = BASEMAPS[basemap]
    if spec and spec.get("crs"):
        kwargs.setdefault("crs", spec["crs"])
    m = RegistryMap(location=location or (26.8, 106.6), zoom_start=zoom_start, tiles=None, height=height,
                    width=width, min_zoom=min_zoom, max_zoom=max_zoom, control_scale=False, **kwargs)
    MapControls().add_to(m)
    m.options.update(min_zoom=min_zoom, max_zoom=max_zoom)  # folium gives these to the tiles only; plugins need them
    m.context = context if context == STAFF_CONTEXT or spec is None else "none"
    m.context_hint = spec is None and context != "none"  # no basemap: tell the operator how to turn one on
    if basemap == "offline":  # Leaflet scales up the file's highest zoom level rather than asking for missing tiles
        offline = open_basemap(offline_basemap)
        spec = {**spec, "max_zoom": offline.max_zoom, "attr": _offline_attribution(offline.attribution)}
    if spec is not None:
        for layer in spec.get("layers", (None,)):
            url = spec["tiles"].replace("{key}", tianditu_key or "")
            if layer:
                url = url.replace("{layer}", layer)
            folium.TileLayer(url, attr=spec["attr"], subdomains=spec["subdomains"], max_zoom=max_zoom,
                             max_native_zoom=spec["max_zoom"], name=f"{basemap}-{layer or 'tiles'}",
                             control=False, **spec.get("tile_options", {})).add_to(m)
    if fit_bounds is not None:
        m.fit_bounds([[fit_bounds[1], fit_bounds[0]], [fit_bounds[3], fit_bounds[2]]])
    self_host(m)
    return m


# ------------------------------------------------------------------------------------------------------------------
# Self-hosting: rewrite every element's resource links to static/vendor
# ------------------------------------------------------------------------------------------------------------------
def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _needs_jquery(root: Element) -> bool:
    # Map.keep_in_front waits for $(document).ready (folium.Popup would too, but maps use no popups: see Label)
    return any(isinstance(e, folium.Map) and e.objects_to_stay_in_front for e in _walk(root))


def _hosted(element: JSCSSMixin, links: list[tuple[str, str]], use_jquery: bool) -> list[tuple[str, str]]:
    out = []
    for name, url in links:
        if not re.match(r"^(https?:)?//", url):  # already a path on this app
            out.append((name, url))
            continue
        if name not in FOLIUM_LINKS:
            raise UnhostedAsset(
                f"{type(element).__name__} needs {url}, which the app does not serve itself. Add its npm package to "
                "package.json and VENDOR_PACKAGES in the Makefile, its file to fossil_registry.maps.ASSETS and "
                f"{name!r} to FOLIUM_LINKS.")
        asset = FOLIUM_LINKS[name]
        if asset is None or (asset == "jquery.js" and not use_jquery):
            continue
        out.append((name, asset_url(asset)))
    return out


def self_host(element: Element, *, use_jquery: bool = False) -> Element:
    """Point ``element``'s own script and stylesheet links at the self-hosted copies (instance attributes: folium's
    class-level defaults stay untouched). ``render`` does this for every element of a map; calling it by hand is only
    needed for elements rendered outside ``render``."""
    if isinstance(element, folium.Icon):
        raise UnhostedAsset("folium.Icon needs Leaflet.awesome-markers and Font Awesome, which the app does not "
                            "serve: use folium.DivIcon, folium.CustomIcon or folium.CircleMarker instead.")
    if isinstance(element, JSCSSMixin):
        if "_folium_links" not in element.__dict__:  # keep folium's own list: jQuery may turn out to be needed later
            element._folium_links = (list(element.default_js), list(element.default_css))
        js, css = element._folium_links
        element.default_js = _hosted(element, js, use_jquery)
        element.default_css = _hosted(element, css, use_jquery)
    return element


# ------------------------------------------------------------------------------------------------------------------
# User text on maps: data for map-overlays.js, never part of a folium element
# ------------------------------------------------------------------------------------------------------------------
class Label(str):
    """Text the developers wrote (a translated label, a number): the only text a folium tooltip may carry.

    folium/branca render each element's script and compile that output as a *new* Jinja template, so text inside a
    folium element is template source. User text (site names, photo file names...) goes on a map as an Overlay."""


def tooltip(text: Any) -> folium.Tooltip:
    """A folium tooltip for developer text (a translated label, a number). Escaped for the HTML it becomes and for
    the JavaScript template literal folium pastes it into."""
    element = folium.Tooltip(" ")
    element.text = Label(html.escape(str(text), quote=True)
                         .replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;"))
    return element


class UntrustedMapText(ValueError):
    """A folium element would carry text that is not a Label: it would be compiled as a template (see Label)."""


def marker(lon: float, lat: float, *, text: Any = None, colour: str = "#555", fill: str | None = None,
           radius: float = 5, weight: float = 1, fill_opacity: float = 0.8) -> dict[str, Any]:
    """One circle marker of an Overlay; ``text`` (any text, user text included) is shown as its tooltip, as text."""
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(lon), 7), round(float(lat), 7)]},
            "properties": {"text": None if text is None else str(text),
                           "style": {"radius": radius, "color": colour, "weight": weight, "fillColor": fill or colour,
                                     "fillOpacity": fill_opacity}}}


@dataclass(frozen=True)
class Overlay:
    """Markers drawn by static/js/map-overlays.js from a JSON data block next to the map (so user text reaches the
    page only as escaped JSON and the browser shows it with textContent)."""

    name: str
    markers: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "features": self.markers}


_TEMPLATE_SYNTAX = ("{{", "{%", "{#")


class _Output:
    """What Jinja would make of text without template syntax, without compiling it: the text, its line ends as
    line feeds and one trailing line feed dropped (Jinja's defaults). See ``_output_or_template``."""

    def __init__(self, text: str):
        self.text = re.sub(r"\r\n|\r", "\n", text).removesuffix("\n")

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self.text


def _output_or_template(source: str) -> Template | _Output:
    """branca wraps each element's *rendered* header, html and script in a new ``Element(output)``, which compiles
    that output as a Jinja template: a dozen compilations per map, about a fifth of a map page's CPU. Output without
    template syntax is kept as it is (the same text Jinja would render from it); any other source is compiled as
    before (and ``check_no_user_text`` has already refused user text with template syntax)."""
    if any(mark in source for mark in _TEMPLATE_SYNTAX):
        return Template(source)
    return _Output(source)


branca.element.Template = _output_or_template  # read by branca's Element.__init__ for a template given as text


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 12:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(k, depth + 1)
            yield from _strings(v, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v, depth + 1)


def check_no_user_text(figure: Element) -> None:
    """Fail closed before anything is compiled: tooltips carry only Labels, popups and GeoJSON tooltips are not used
    (user text goes in Overlays), GeoJSON layers carry no text properties, and no element holds template syntax."""
    for element in _walk(figure):
        if isinstance(element, (folium.Popup, folium.GeoJsonTooltip, folium.GeoJsonPopup)):
            raise UntrustedMapText(f"{type(element).__name__}: put user data in a maps.Overlay instead")
        if isinstance(element, folium.Tooltip) and not isinstance(element.text, Label):
            raise UntrustedMapText("folium tooltips are made with maps.tooltip (developer text); user text goes in "
                                   "a maps.Overlay")
        if isinstance(element, folium.GeoJson) and isinstance(element.data, Mapping):
            for feature in element.data.get("features", [element.data]):
                props = feature.get("properties") or {} if isinstance(feature, Mapping) else {}
                if any(isinstance(v, str) for v in _strings(props)):
                    raise UntrustedMapText("GeoJSON layers drawn by folium carry no text properties; user data goes "
                                           "in a maps.Overlay")
        for key, value in vars(element).items():
            if key in ("_parent", "_children", "_template"):
                continue
            for text in _strings(value):
                if any(mark in text for mark in _TEMPLATE_SYNTAX):
                    raise UntrustedMapText(f"{type(element).__name__}.{key} holds template syntax")


# ------------------------------------------------------------------------------------------------------------------
# Rendering with the CSP nonce
# ------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RenderedMap:
    """A rendered map in three parts for base.html's blocks (head, content, scripts). Every <script> carries the nonce."""

    head: Markup    # <link rel=stylesheet> and <script src> tags, and the map's own <style>
    body: Markup    # the map container <div> (and any HTML a plugin adds)
    script: Markup  # the inline <script nonce=...> that builds the map, then the overlays' data and their script

    def __html__(self) -> str:
        return self.head + self.body + self.script

    def page(self, title: str = "", lang: str = "zh-CN") -> str:
        """A whole standalone HTML document (for a page that is only the map)."""
        return (f'<!doctype html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
                '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                f"<title>{html.escape(title)}</title>\n<style>html, body {{ height: 100%; margin: 0; }}</style>\n"
                f"{self.head}\n</head>\n<body>\n{self.body}\n{self.script}\n</body>\n</html>\n")


_SCRIPT_TAG = re.compile(r"<script\b(?![^>]*\bnonce=)", re.IGNORECASE)


def add_nonce(markup: str, nonce: str) -> str:
    """Give every <script> tag in ``markup`` the CSP nonce (the app's CSP is script-src 'self' 'nonce-...')."""
    return _SCRIPT_TAG.sub(f'<script nonce="{html.escape(nonce, quote=True)}"', markup)


def _overlay_markup(map_name: str, overlays: list[Overlay]) -> str:
    if not overlays:
        return ""
    data = htmlsafe_json_dumps({"layers": [o.to_json() for o in overlays]})  # <, >, & and ' escaped: inert in HTML
    return (f'\n<script type="application/json" class="map-overlays" data-map="{html.escape(map_name)}">{data}'
            f'</script>\n<script src="{STATIC_URL}js/map-overlays.js"></script>')


def _context_markup(m: folium.Map) -> str:
    context = getattr(m, "context", "none")
    if context == "none" and not getattr(m, "context_hint", False):
        return ""
    config = {"map": m.get_name(), "seats": CONTEXT_URLS["seats"] if context != "none" else None,
              "outlines": CONTEXT_URLS["outlines"] if context == STAFF_CONTEXT else None,
              "hint": bool(getattr(m, "context_hint", False))}   # the text: base.html's meta basemap-hint
    return (f'\n<script type="application/json" class="map-context">{htmlsafe_json_dumps(config)}</script>'
            f'\n<script src="{STATIC_URL}js/map-context.js"></script>')


def render(m: folium.Map, nonce: str, overlays: list[Overlay] | tuple[Overlay, ...] = ()) -> RenderedMap:
    """Render ``m`` (with everything added to it) for a page under the app's CSP: all links self-hosted (or
    UnhostedAsset), every script tag with ``nonce``, no user text in any folium element (UntrustedMapText; it goes in
    ``overlays``). A map renders once: build a new one per request."""
    figure = m.get_root()
    if not isinstance(figure, Figure):
        raise ValueError("the map must belong to a folium Figure (as make_map's maps do)")
    check_no_user_text(figure)
    use_jquery = _needs_jquery(figure)
    for element in _walk(figure):
        self_host(element, use_jquery=use_jquery)
    figure.render()
    head = "\n".join(child.render() for name, child in figure.header._children.items() if name != "meta_http")
    head += f'\n<script src="{STATIC_URL}js/leaflet-zh.js"></script>'  # Leaflet's own words on a Chinese page
    body = figure.html.render()
    script = (f"<script>\n{figure.script.render()}\n</script>" + _context_markup(m)
              + _overlay_markup(m.get_name(), list(overlays)))
    return RenderedMap(head=Markup(add_nonce(head, nonce)), body=Markup(add_nonce(body, nonce)),
                       script=Markup(add_nonce(script, nonce)))


__all__ = ["ASSETS", "BASEMAPS", "FOLIUM_LINKS", "Label", "Overlay", "RegistryMap", "RenderedMap", "UnhostedAsset",
           "UntrustedMapText", "add_nonce", "asset_url", "basemap_img_sources", "basemap_options", "check_basemap",
           "check_no_user_text", "make_map", "marker", "render", "self_host", "tooltip"]
