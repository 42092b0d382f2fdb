"""The report form and the inspection dashboard in a real browser (headless Chromium): the location is picked by a map
click under the app's CSP, nothing is loaded from outside, and the receipt shows the metadata-free photo."""
from __future__ import annotations

import pytest

from .browser import browser, live_server, new_page, page, sign_in  # noqa: F401  (pytest fixtures)
from .inspection_helpers import jpeg


@pytest.fixture
def phone(browser):  # noqa: F811
    p = new_page(browser, viewport={"width": 390, "height": 844})
    yield p
    p.context.close()


def test_report_by_map_click_on_a_phone(phone, live_server):  # noqa: F811
    phone.goto(live_server.url + "/report")
    phone.wait_for_selector(".leaflet-container")
    box = phone.locator("#pick-map .leaflet-container").bounding_box()
    phone.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lon, lat = float(phone.input_value("#pick-lon")), float(phone.input_value("#pick-lat"))
    assert 103.6 < lon < 109.6 and 24.6 < lat < 29.2  # the centre of the region the map opened on
    phone.check("input[name=kind][value=find]")
    phone.fill("textarea[name=description]", "Ammonites exposed in a new road cut.")
    phone.fill("input[name=contact]", "13800138000")
    phone.set_input_files("input[name=photos]", files=[{"name": "a.jpg", "mimeType": "image/jpeg",
                                                        "buffer": jpeg(lon=lon, lat=lat, taken="2024:05:01 10:00:00")}])
    with phone.expect_navigation():
        phone.click("form.report-form button[type=submit]")
    assert "/report/" in phone.url
    phone.wait_for_selector("#receipt img")
    assert phone.evaluate("document.querySelector('#receipt img').naturalWidth") == 96
    text = phone.inner_text("main")
    assert "13800138000" not in text and f"{lon:.6f}" in text
    assert phone.console_errors == [] and phone.blocked_requests == []


def test_dashboard_map_renders(page, live_server):  # noqa: F811
    sign_in(page, live_server.url, "expert")
    page.goto(live_server.url + "/inspections")
    page.wait_for_selector("#due-map .leaflet-container")
    assert page.locator("#due-map path.leaflet-interactive").count() > 0  # one marker per overdue/upcoming site
    assert page.console_errors == [] and page.blocked_requests == []
