"""The protection map in headless Chromium, served live on 127.0.0.1 with every other host blocked: it must render
its site features, legend and controls, open popups, switch language and print site pages, with no console errors."""
from __future__ import annotations

import pytest

from fossil_registry import public_view, sites
from fossil_registry.db import get_conn

from .browser import browser, live_server, page, sign_in  # noqa: F401  (fixtures)
from .leaks import every_feature, leaked_numbers, published_values, true_coordinates

SITES_LOADED = "() => Number(document.querySelector('.folium-map').dataset.sitesLoaded || 0) > 0"
MAP = "window[JSON.parse(document.getElementById('map-config').textContent).map]"
CLUSTER = "window[JSON.parse(document.getElementById('map-config').textContent).cluster]"


@pytest.fixture
def registry(app):
    with app.app_context():
        conn = get_conn()
        return {"all": sites.list_current(conn), "public": public_view.list_public(conn),
                "features": every_feature(conn)}


def _click_site(page, code: str) -> None:
    """Zoom to a site's marker and click it with the mouse, as a person would."""
    page.evaluate(f"""(code) => {{
        const marker = {CLUSTER}.getLayers().find(l => l.feature.id === code);
        {MAP}.setView(marker.getLatLng(), 15, {{animate: false}});
    }}""", code)
    page.wait_for_function(f"""(code) => {{
        const marker = {CLUSTER}.getLayers().find(l => l.feature.id === code);
        return marker && !!marker._map;  // drawn on its own, not inside a cluster (circle markers have no _icon)
    }}""", arg=code)
    point = page.evaluate(f"""(code) => {{
        const map = {MAP};
        const marker = {CLUSTER}.getLayers().find(l => l.feature.id === code);
        const p = map.latLngToContainerPoint(marker.getLatLng());
        const box = map.getContainer().getBoundingClientRect();
        return [box.left + p.x, box.top + p.y];
    }}""", code)
    page.mouse.click(*point)


def test_map_renders_offline_opens_popups_and_switches_language(page, live_server, registry):
    page.goto(live_server.url + "/")
    page.wait_for_function(SITES_LOADED)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    # every public site is on the map (clustered or single), and no hidden one
    loaded = page.evaluate(f"() => {CLUSTER}.getLayers().map(l => l.feature.id)")
    assert sorted(loaded) == sorted(p.code for p in registry["public"])
    assert page.locator(".folium-map .marker-cluster").count() + page.locator(".folium-map path.leaflet-interactive").count() > 5
    # legend and controls render inside the map although no basemap tile can load
    legend = page.locator(".leaflet-control-container #map-legend")
    assert legend.is_visible() and "国家级重点保护产地" in legend.inner_text()
    assert "20万元以上50万元以下罚款" in legend.inner_text()
    assert page.locator(".leaflet-control-container #map-panel #map-q").is_visible()
    assert page.locator(".leaflet-control-locate").is_visible()
    assert page.locator(".leaflet-control-zoom").is_visible() and page.locator(".leaflet-control-scale").is_visible()
    # a provincial government's map: attribution without a national flag, a metric scale only (maps.MapControls)
    attribution = page.locator(".leaflet-control-attribution")
    assert attribution.locator("svg, .leaflet-attribution-flag").count() == 0 and "Leaflet" in attribution.inner_text()
    assert page.locator(".leaflet-control-scale-line").count() == 1
    assert page.locator(".leaflet-control-scale-line").inner_text().strip().endswith(("m", "km"))
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "放大"

    _click_site(page, "GZ-0001")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    site = next(s for s in registry["all"] if s.code == "GZ-0001")
    text = popup.inner_text()
    assert site.properties["name"] in text and site.properties["name_en"] in text
    assert "国家级重点保护产地" in text and "三叠纪" in text and "鱼龙类" in text
    assert popup.locator("a.site-link").get_attribute("href") == "/sites/GZ-0001"

    # filter, over the whole region: only national sites
    page.evaluate(f"() => {{ const r = JSON.parse(document.getElementById('map-config').textContent).region;"
                  f" {MAP}.fitBounds([[r[1], r[0]], [r[3], r[2]]], {{animate: false}}); }}")
    for level in ("provincial", "general"):
        page.uncheck(f"#map-panel input[value={level}]")
    national = sum(p.properties["level"] == "national" for p in registry["public"])
    page.wait_for_function(f"""(n) => {{ const layers = {CLUSTER}.getLayers();
        return layers.length === n && layers.every(l => l.feature.properties.level === 'national'); }}""", arg=national)

    # switch to English: legend and popups follow
    with page.expect_navigation():
        page.click("header a[data-lang=en]")
    page.wait_for_function(SITES_LOADED)
    assert page.locator("html").get_attribute("lang") == "en"
    assert "national key site" in page.locator("#map-legend").inner_text()
    page.fill("#map-q", "GZ-0001")
    page.press("#map-q", "Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Site page" in popup.inner_text() and "ichthyosaurs" in popup.inner_text()
    page.fill("#map-q", "luodiannaqingpoumian")  # a section (罗甸纳庆剖面) found by the pinyin of its Chinese name
    page.press("#map-q", "Enter")
    section = page.locator(".leaflet-popup-content", has=page.locator("a[href='/sections/GZS-0003']"))
    section.wait_for()
    assert "GZS-0003" in section.inner_text() and "Luodian Naqing section" in section.inner_text()

    assert page.console_errors == []
    assert page.blocked_requests == []  # nothing tried to leave the machine: every asset is self-hosted
    # what the browser received as an anonymous visitor carries no protected coordinate
    blob = "\n".join(body for _, _, body in page.responses)
    assert any("/map/sites.geojson" in url for url, _, _ in page.responses)
    public_values = published_values(registry["features"])
    for s in registry["all"]:
        if s.sensitivity != "open":
            values = true_coordinates(s.location) + (true_coordinates(s.boundary) if s.boundary is not None else [])
            assert not leaked_numbers(blob, values, public_values), s.code


def test_site_page_renders_its_map_and_prints(page, live_server):
    page.goto(live_server.url + "/sites/GZ-0001")
    page.locator(".site-map path.leaflet-interactive").first.wait_for()
    assert page.locator(".site-map path.leaflet-interactive").count() >= 2  # boundary and site marker
    assert page.locator("#rules").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible() and not page.locator(".leaflet-control-zoom").is_visible()
    assert page.locator("#rules").is_visible() and page.locator(".print-only").is_visible()
    assert page.console_errors == [] and page.blocked_requests == []


def test_signed_in_staff_see_hidden_sites_on_the_same_map(page, live_server, registry):
    sign_in(page, live_server.url, "field")
    page.goto(live_server.url + "/")
    page.wait_for_function(SITES_LOADED)
    loaded = page.evaluate(f"() => {CLUSTER}.getLayers().map(l => l.feature.properties.sensitivity)")
    assert len(loaded) == len(registry["all"]) and "hidden" in loaded
    assert "对公众隐藏（仅工作人员可见）" in page.locator("#map-legend").inner_text()
    assert page.console_errors == [] and page.blocked_requests == []
