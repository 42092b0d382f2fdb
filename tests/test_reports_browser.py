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


def test_user_text_on_maps_is_shown_as_text(page, live_server):  # noqa: F811
    """Site names reach the dashboard map as JSON data: the browser shows them verbatim, runs nothing."""
    from fossil_registry import sites
    from fossil_registry.db import get_conn

    hostile = "<img src=x onerror=\"document.title='pwned'\">{{ 7*7 }}"
    with live_server.app.app_context():
        conn = get_conn()
        site = sites.current(conn, "GZ-0001")
        sites.change_site(conn, "GZ-0001", base_version=site.version, author="ada", reason="test",
                          properties={"name": hostile})
    sign_in(page, live_server.url, "expert")
    page.goto(live_server.url + "/inspections")
    page.wait_for_selector("#due-map .leaflet-container[data-overlay-due]")
    drawn = int(page.get_attribute("#due-map .leaflet-container", "data-overlay-due"))
    assert drawn == page.locator("#due-map path.leaflet-interactive").count() > 0
    texts = page.evaluate("""() => {
        const out = [];
        const map = Object.values(window).find(v => v && v._container && v._container.closest && v._container.closest('#due-map'));
        map.eachLayer(l => { if (l.getTooltip && l.getTooltip()) { l.openTooltip(); out.push(l.getTooltip().getElement().textContent); } });
        return out;
    }""")
    assert any(t.startswith("GZ-0001 " + hostile) for t in texts)
    assert page.title() != "pwned" and page.locator("#due-map img").count() == 0
    assert page.console_errors == [] and page.blocked_requests == []
