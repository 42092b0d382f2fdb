"""fossil_registry.maps: self-hosted assets, CSP nonces, basemaps."""
from __future__ import annotations

import re

import folium
import pytest
from folium import plugins

from fossil_registry import ROOT, create_app, maps

STATIC = ROOT / "static"
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_every_asset_is_installed_under_static():
    missing = [path for path in maps.ASSETS.values() if not (STATIC / path).is_file()]
    assert not missing, f"run `make assets` (npm ci + copy to static/vendor/): missing {missing}"
    # the images the stylesheets use are there too
    for css in ("leaflet.css", "draw.css"):
        folder = (STATIC / maps.ASSETS[css]).parent
        for url in re.findall(r"url\(['\"]?(images/[^'\")]+)", (STATIC / maps.ASSETS[css]).read_text()):
            assert (folder / url).is_file(), url


def test_vendor_assets_come_from_package_lock_not_from_git():
    lock = (ROOT / "package-lock.json").read_text()
    for package in ("leaflet", "leaflet.markercluster", "leaflet.locatecontrol", "leaflet-draw", "jquery"):
        assert f'"node_modules/{package}"' in lock
    assert "static/vendor/" in (ROOT / ".gitignore").read_text().splitlines()


def _all_plugins_map() -> folium.Map:
    m = maps.make_map(location=(26.5, 106.7), zoom_start=9)
    plugins.MarkerCluster().add_to(m)
    plugins.Draw(export=False).add_to(m)
    plugins.LocateControl().add_to(m)
    front = folium.FeatureGroup(name="front").add_to(m)
    folium.Marker((26.5, 106.7)).add_to(front)
    m.keep_in_front(front)  # waits for $(document).ready: needs jQuery
    folium.GeoJson({"type": "Point", "coordinates": [106.7, 26.5]}).add_to(m)
    return m


def test_render_links_only_self_hosted_files_and_nonces_every_script():
    rendered = maps.render(_all_plugins_map(), nonce="n0nce")
    html = str(rendered)
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    for name in ("leaflet.js", "leaflet.css", "markercluster.js", "markercluster.css", "draw.js", "draw.css",
                 "locate.js", "locate.css", "jquery.js"):
        assert maps.asset_url(name) in links, name
    # the vendor's files, the app's own map-context.js (the county seats under the map, no basemap) and its Chinese
    # words for Leaflet's controls (issue 25), last of the head
    assert all(link.startswith("/static/vendor/") for link in links
               if link not in ("/static/js/leaflet-zh.js", "/static/js/map-context.js"))
    assert rendered.head.rstrip().endswith('<script nonce="n0nce" src="/static/js/leaflet-zh.js"></script>')
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) >= 6 and all('nonce="n0nce"' in tag for tag in scripts)
    # folium's page-wide styles and unused CDN packages are gone
    assert "bootstrap" not in html and "awesome" not in html and "user-scalable=no" not in html
    assert "L.control.locate" in rendered.script and "L.markerClusterGroup" in rendered.script
    assert 'class="folium-map"' in rendered.body


def test_jquery_is_linked_only_when_an_element_needs_it():
    plain = str(maps.render(maps.make_map(), nonce="x"))
    assert maps.asset_url("jquery.js") not in plain and maps.asset_url("leaflet.js") in plain


def test_folium_class_defaults_are_left_alone():
    before = list(folium.Map.default_js), list(plugins.Draw.default_css)
    maps.render(_all_plugins_map(), nonce="x")
    assert (list(folium.Map.default_js), list(plugins.Draw.default_css)) == before


def test_elements_without_a_self_hosted_copy_are_refused():
    m = maps.make_map()
    plugins.Fullscreen().add_to(m)
    with pytest.raises(maps.UnhostedAsset, match="Fullscreen needs https://"):
        maps.render(m, nonce="x")
    m = maps.make_map()
    folium.Marker((26, 106), icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(maps.UnhostedAsset, match="awesome-markers"):
        maps.render(m, nonce="x")


def test_add_nonce_keeps_existing_nonces():
    assert maps.add_nonce('<script>a</script><SCRIPT src="/x.js"></SCRIPT><script nonce="k">b</script>', "z") == \
        '<script nonce="z">a</script><script nonce="z" src="/x.js"></SCRIPT><script nonce="k">b</script>'


def test_basemaps():
    none = maps.render(maps.make_map(), nonce="x")
    assert "L.tileLayer" not in none.script
    osm = maps.render(maps.make_map(basemap="osm"), nonce="x")
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in osm.script and "OpenStreetMap" in osm.script
    tdt = maps.render(maps.make_map(basemap="tianditu", tianditu_key="k3y"), nonce="x").script
    assert tdt.count("L.tileLayer") == 2 and "LAYER=vec" in tdt and "LAYER=cva" in tdt and "tk=k3y" in tdt
    assert "tianditu.gov.cn" in tdt and "Tianditu" in tdt  # attribution names the source
    with pytest.raises(ValueError, match="TIANDITU_KEY"):
        maps.make_map(basemap="tianditu")
    with pytest.raises(ValueError, match="BASEMAP must be one of"):
        maps.make_map(basemap="google")


def test_basemap_configuration_extends_the_csp(demo_data_dir):
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x", "BASEMAP": "osm"})
    r = app.test_client().get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org" in csp
    assert "tile.openstreetmap.org/{z}" in r.get_data(as_text=True)
    default = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x"})
    r = default.test_client().get("/")
    assert "openstreetmap" not in r.headers["Content-Security-Policy"] and "L.tileLayer" not in r.get_data(as_text=True)
    with pytest.raises(ValueError, match="TIANDITU_KEY"):
        create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x", "BASEMAP": "tianditu"})


def test_standalone_page():
    page = maps.render(maps.make_map(), nonce="x").page(title="Map <test>")
    assert page.startswith("<!doctype html>") and "<title>Map &lt;test&gt;</title>" in page


def test_tooltip_text_is_escaped_for_the_template_literal_folium_puts_it_in():
    m = maps.make_map()
    folium.CircleMarker([26, 106], tooltip=maps.tooltip("a`);alert(1);//<b>${x}\\u0041")).add_to(m)
    script = str(maps.render(m, "n0nce").script)
    assert "a&#96;);alert(1);//&lt;b&gt;&#36;{x}&#92;u0041" in script
    assert "`);alert(1)" not in script and "<b>" not in script


@pytest.mark.parametrize("add", [
    lambda m: folium.CircleMarker([26, 106], tooltip="plain text: might be a user's").add_to(m),
    lambda m: folium.Marker([26, 106], popup="a popup").add_to(m),
    lambda m: folium.GeoJson({"type": "Feature", "geometry": {"type": "Point", "coordinates": [106, 26]},
                              "properties": {"name": "a site name"}}).add_to(m),
    lambda m: folium.FeatureGroup(name="{{ 7*7 }}").add_to(m),
    lambda m: folium.FeatureGroup(name="{% if 1 %}x{% endif %}").add_to(m),
], ids=["str-tooltip", "popup", "geojson-text", "expression", "statement"])
def test_text_that_folium_would_compile_as_a_template_is_refused_before_rendering(add):
    """folium/branca compile each element's rendered output as a new Jinja template: user text must never be in an
    element. render() refuses tooltips not made by maps.tooltip, popups, GeoJSON text properties and template syntax."""
    m = maps.make_map()
    add(m)
    with pytest.raises(maps.UntrustedMapText):
        maps.render(m, nonce="x")


@pytest.mark.parametrize("output", ["", "x", "a\n", "a\n\n", "\n", "a\r\nb\rc\n", "  L.map(`x`);\n  {a: {b: 1}}\n",
                                    "</script>\t\u00e9\u957f \\u0041 $x {1}"])
def test_an_elements_output_is_kept_as_jinja_would_render_it(output):
    """branca compiles each element's rendered output as a template; maps keeps output without template syntax as
    text instead. It must be exactly what Jinja would have rendered from it."""
    import jinja2

    assert maps._output_or_template(output).render(this=None, kwargs={}) == jinja2.Template(output).render()


def test_a_map_page_renders_the_same_without_compiling_its_elements_output(monkeypatch):
    """The same map rendered with branca's own compile-everything and with maps' kept output is the same page, and
    maps compiles no element's output (a dozen compilations per map were a fifth of a map page's CPU)."""
    import itertools

    import branca.element
    import jinja2

    def rendered(template_factory) -> tuple[str, int]:
        ids = itertools.count()
        monkeypatch.setattr(branca.element.Element, "_generate_id", classmethod(lambda cls: f"{next(ids):032x}"))
        monkeypatch.setattr(branca.element, "Template", template_factory)
        compiled = []
        monkeypatch.setattr(jinja2.Environment, "from_string", lambda self, source, *a, **k: compiled.append(source)
                            or real_from_string(self, source, *a, **k))
        m = maps.make_map(fit_bounds=(105, 25, 107, 27), context=maps.STAFF_CONTEXT)
        folium.CircleMarker([26, 106], tooltip=maps.tooltip("标签")).add_to(m)
        folium.GeoJson({"type": "Feature", "geometry": {"type": "Point", "coordinates": [106, 26]},
                        "properties": {}}).add_to(m)
        r = maps.render(m, nonce="n", overlays=[maps.Overlay("o", [maps.marker(106, 26, text="{{ 7*7 }}")])])
        return f"{r.head}\n{r.body}\n{r.script}", len(compiled)

    real_from_string = jinja2.Environment.from_string
    kept, compilations = rendered(maps._output_or_template)
    compiled, branca_compilations = rendered(jinja2.Template)
    assert kept == compiled and compilations == 0 and branca_compilations > 5


def test_overlays_carry_user_text_as_inert_json():
    # the template expression would print "rendered-by-jinja" if evaluated: letters no random element id can hold
    hostile = "</script><script>alert(1)</script>{{ 'rendered-' ~ 'by-jinja' }}'&"
    m = maps.make_map()
    rendered = maps.render(m, nonce="n0nce", overlays=[maps.Overlay("photos", [maps.marker(106.1, 26.2, text=hostile)])])
    script = str(rendered.script)
    block = re.search(r'<script nonce="n0nce" type="application/json" class="map-overlays" data-map="([^"]+)">(.*?)'
                      r'</script>', script, re.S)
    assert block and block.group(1) == m.get_name()
    import json
    data = json.loads(block.group(2))
    assert data["layers"][0]["features"][0]["properties"]["text"] == hostile  # verbatim, as data
    assert "</script><script>" not in block.group(2) and "'" not in block.group(2) and "&" not in block.group(2)
    assert "rendered-by-jinja" not in script and 'src="/static/js/map-overlays.js"' in script


MAP_PAGES = {"anonymous": ["/", "/report", "/impact", "/sites/GZ-0001", "/sections", "/sections/GZS-0001"],
             "admin": ["/revisions/new", "/inspections", "/sites/GZ-0001", "/impact"]}


def test_every_map_shows_a_plain_attribution_and_a_metric_scale(app):
    """Leaflet 1.9's attribution prefix carries a flag and its scale shows miles: every map of the registry (they are
    all made by maps.make_map) sets a plain "Leaflet" prefix and a metric-only scale, once."""
    from .conftest import login

    seen = 0
    for who, paths in MAP_PAGES.items():
        client = app.test_client()
        if who != "anonymous":
            login(client, who)
        for path in paths:
            page = client.get(path).get_data(as_text=True)
            names = re.findall(r'var (map_[0-9a-f]+) = L\.map\(', page)
            assert names, path
            for name in names:
                seen += 1
                assert f"{name}.attributionControl.setPrefix(" in page, path
                assert f"L.control.scale({{metric: true, imperial: false}}).addTo({name});" in page, path
            assert "L.control.scale()" not in page and "leaflet-attribution-flag" not in page, path
    assert seen >= len(MAP_PAGES["anonymous"]) + len(MAP_PAGES["admin"])
    assert "flag" not in maps.ATTRIBUTION_PREFIX and "<svg" not in maps.ATTRIBUTION_PREFIX
