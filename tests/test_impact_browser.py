"""Impact screening in a real browser (headless Chromium, every non-local request blocked): drawing a road on the
form's map, the report's map with rings and sites drawn under the app's CSP, its print layout, and a staff screening
from an uploaded file through to a project case."""
from __future__ import annotations

import json

from .browser import browser, live_server, page, sign_in  # noqa: F401  (pytest fixtures)

ROAD = [[105.30, 25.85], [105.40, 25.89], [105.50, 25.80], [105.58, 25.88]]


def test_an_anonymous_planner_draws_a_road_and_prints_the_report(page, live_server):  # noqa: F811
    page.goto(live_server.url + "/impact")
    page.wait_for_selector("#impact-draw-map[data-ready='1']")
    page.evaluate("""(road) => {
        const cfg = JSON.parse(document.getElementById('impact-draw-map').getAttribute('data-config'));
        const line = L.polyline(road.map(p => [p[1], p[0]]));
        window[cfg.map].fire('draw:created', {layer: line, layerType: 'polyline'});
    }""", ROAD)
    drawn = json.loads(page.input_value("#footprint_drawn"))
    assert drawn["features"][0]["geometry"]["coordinates"] == ROAD
    page.fill("input[name=width_m]", "30")
    with page.expect_navigation():
        page.click("#screen-button")
    page.wait_for_selector("#impact-report-map .leaflet-container[data-overlay-affected]")
    # GZ-0001 and GZ-0003 (open), GZ-0002 (generalized, at its cell centre) and the open section GZS-0007; the hidden
    # site has no marker
    assert page.get_attribute("#impact-report-map .leaflet-container", "data-overlay-affected") == "4"
    assert page.locator("#impact-report-map path.leaflet-interactive").count() >= 6  # rings, footprint, boundaries
    assert page.locator("#affected tbody tr").count() == 5
    assert page.locator("#affected td.notice").count() == 2
    assert page.inner_text("#verdict").strip() != ""
    page.emulate_media(media="print")
    assert not page.is_visible("header.topbar") and not page.is_visible("#downloads")
    assert page.is_visible("#impact-report-map") and page.is_visible("#rules") and page.is_visible(".print-only")
    box = page.locator("#impact-report-map").bounding_box()
    assert 400 < box["height"] < 500  # 12 cm at 96 dpi
    assert page.console_errors == [] and page.blocked_requests == []


def test_staff_upload_a_plan_and_open_a_case(page, live_server, tmp_path):  # noqa: F811
    sign_in(page, live_server.url, "expert")
    plan = tmp_path / "road.geojson"
    plan.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "G320"}, "geometry": {"type": "LineString", "coordinates": ROAD}}]}))
    page.goto(live_server.url + "/impact")
    page.fill("input[name=title]", "G320 section 3")
    page.set_input_files("input[name=file]", str(plan))
    page.fill("input[name=width_m]", "30")
    with page.expect_navigation():
        page.click("#screen-button")
    assert "/impact/screenings/" in page.url
    page.wait_for_selector("#impact-report-map .leaflet-container[data-overlay-affected='5']")  # exact: all five
    assert page.inner_text("#screening-title") == "G320 section 3"
    page.fill("#open-case input[name=developer]", "Guizhou Roads Ltd")
    with page.expect_navigation():
        page.click("#open-case button[type=submit]")
    assert "/impact/cases/" in page.url and page.inner_text("#case-name") == "G320 section 3"
    page.select_option("#decision", "conditions")
    page.check("input[name=conditions][value=monitoring]")
    with page.expect_navigation():
        page.click("#case-form button[type=submit]")
    assert "monitoring" in page.inner_text("#case-conditions") or "监测" in page.inner_text("#case-conditions")
    page.goto(live_server.url + "/sites/GZ-0001/timeline")
    assert page.locator("li.impact_case").count() == 2  # opened, updated
    assert page.console_errors == [] and page.blocked_requests == []
