"""In a real browser (headless Chromium, every non-local request blocked): a field user draws a boundary on the map with
the self-hosted Leaflet.draw tools and submits it; an expert sees current and proposed boundary on the review map and
approves it in the UI; the drawn outline becomes the site's next version."""
from __future__ import annotations

import json

from shapely.geometry import shape

from fossil_registry import sites
from fossil_registry.db import get_conn

from .browser import browser, live_server, new_page, page, sign_in  # noqa: F401  (pytest fixtures)


def test_drawn_boundary_is_submitted_and_approved_in_the_ui(page, live_server, browser):  # noqa: F811
    sign_in(page, live_server.url, "field")
    page.goto(live_server.url + "/revisions/new?site=GZ-0003")
    page.wait_for_selector("#revision-map[data-ready='1'] .leaflet-draw-draw-polygon")
    assert page.get_attribute("#revision-map", "data-boundary-parts") == "1"  # the current boundary, editable

    box = page.locator("#revision-map .leaflet-container").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.click(".leaflet-draw-draw-polygon")
    for dx, dy in ((-90, -60), (80, -70), (100, 60), (-70, 80)):
        page.mouse.click(cx + dx, cy + dy)
        page.wait_for_timeout(120)
    page.click(".leaflet-draw-actions a:has-text('完成')")  # Leaflet.draw speaks Chinese on a Chinese page (leaflet-zh.js)
    drawn = json.loads(page.input_value("#boundary_drawn"))
    assert drawn["type"] == "MultiPolygon" and len(drawn["coordinates"][0][0]) == 5  # 4 vertices, closed
    assert page.get_attribute("#revision-map", "data-boundary-parts") == "1"  # the new outline replaced the old

    page.fill("#reason", "Boundary redrawn on site after the 2026 survey")
    page.select_option("#method", "digitised")
    with page.expect_navigation():
        page.click("#submit-proposal")
    assert "/revisions/" in page.url and "/new" not in page.url
    proposal_url = page.url
    assert "waiting for review" in page.inner_text("#revision-status") or "待审核" in page.inner_text("#revision-status")
    assert page.locator("#decision-form").count() == 0  # the author cannot decide
    assert page.console_errors == [] and page.blocked_requests == []

    expert = new_page(browser)
    try:
        sign_in(expert, live_server.url, "expert")
        expert.goto(proposal_url)
        expert.wait_for_selector("#review-map .leaflet-container")
        # current boundary, proposed boundary, area added and area removed, plus the location marker
        assert expert.locator("#review-map path.leaflet-interactive").count() >= 4
        assert expert.locator("#metrics [data-metric='area_change_pct']").count() == 1
        expert.check("input[name=decision][value=approve]")
        expert.fill("textarea[name=comment]", "matches the orthophoto")
        with expert.expect_navigation():
            expert.click("#decide-button")
        assert "GZ-0003" in expert.inner_text("#applied-version")
        assert expert.console_errors == [] and expert.blocked_requests == []
    finally:
        expert.context.close()

    with live_server.app.app_context():
        site = sites.current(get_conn(), "GZ-0003")
        assert site.version == 2 and site.boundary.equals(shape(drawn))
        assert sites.history(get_conn(), "GZ-0003")[1].reviewer == "ellen"
