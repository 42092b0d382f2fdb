"""The county context in headless Chromium: the public map draws the labelled county seats and no outline, the
dashboard (a staff map) draws the 88 county outlines under its own circles; both with no console error and no request
to another host."""
from __future__ import annotations

import os

from .browser import browser, live_server, page, sign_in  # noqa: F401  (pytest fixtures)

SHOTS = os.environ.get("CONTEXT_SCREENSHOTS")   # a folder: keep screenshots of both maps (for a person to look at)


def _drawn(page, attribute: str) -> int:
    page.wait_for_selector(f".folium-map[{attribute}]")
    return int(page.get_attribute(f".folium-map[{attribute}]", attribute))


def test_the_public_map_shows_labelled_county_seats_and_no_outline(page, live_server):
    page.goto(live_server.url + "/?lang=zh")
    assert _drawn(page, "data-context-seats") == 88
    page.wait_for_timeout(300)
    assert not page.locator(".folium-map[data-context-counties]").count()
    assert page.locator(".leaflet-pane.leaflet-context-pane path").count() == 88      # the seats' circles
    # labels from zoom 8: hidden on the province view, shown when zoomed in
    assert "context-labels-off" in page.get_attribute(".folium-map", "class")
    page.evaluate("() => { const m = window[JSON.parse(document.querySelector('script.map-context').textContent).map];"
                  " m.setView([25.95, 105.62], 10); }")
    page.wait_for_function("() => !document.querySelector('.folium-map').classList.contains('context-labels-off')")
    assert page.get_by_text("关岭", exact=True).is_visible()
    assert "FLASK_TIANDITU_KEY" in page.inner_text(".leaflet-control-attribution")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "public-map.png"))
    assert page.console_errors == [] and page.blocked_requests == []


def test_the_dashboard_draws_the_county_outlines_under_its_circles(page, live_server):
    sign_in(page, live_server.url, "field")
    page.goto(live_server.url + "/supervision?lang=zh")
    assert _drawn(page, "data-context-counties") == 88
    assert _drawn(page, "data-context-seats") == 88
    page.wait_for_selector("#county-map [data-overlay-counties]")
    context_z = page.evaluate("() => +getComputedStyle(document.querySelector('.leaflet-context-pane')).zIndex")
    overlay_z = page.evaluate("() => +getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex")
    assert context_z < overlay_z   # the county circles and threats stay on top and clickable
    if SHOTS:
        page.locator("#county-map").screenshot(path=os.path.join(SHOTS, "dashboard-map.png"))
    assert page.console_errors == [] and page.blocked_requests == []
