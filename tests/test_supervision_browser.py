"""The province dashboard in headless Chromium: charts drawn by the self-hosted ECharts, the county map with its
overlays, no console errors and no request to any other host; the annual report prints."""
from __future__ import annotations

from .browser import browser, live_server, page, sign_in  # noqa: F401  (pytest fixtures)


def test_the_dashboard_draws_its_charts_and_map_with_nothing_from_elsewhere(page, live_server):
    sign_in(page, live_server.url, "field")
    page.goto(live_server.url + "/supervision")
    page.wait_for_selector("#chart-sites[data-drawn]")
    drawn = page.eval_on_selector_all(".chart-box .chart", "els => els.map(e => [e.id, e.hasAttribute('data-drawn') "
                                                             "|| e.classList.contains('empty')])")
    assert drawn and all(ok for _id, ok in drawn), drawn
    assert page.locator("#chart-sites canvas").count() == 1
    page.wait_for_selector("#county-map [data-overlay-counties]")
    counties = int(page.get_attribute("#county-map [data-overlay-counties]", "data-overlay-counties"))
    assert counties == page.locator("#county-table tbody tr").count() > 5
    assert int(page.inner_text("#fig-sites_total .value")) == 74
    # a figure opens the list behind it
    with page.expect_navigation():
        page.click("#fig-sites_national a")
    assert page.locator("#site-list tbody tr").count() == 6
    assert page.console_errors == [] and page.blocked_requests == []
    assert any("/static/vendor/echarts/echarts.min.js" in url and status == 200
               for url, status, _ in page.responses)


def test_the_annual_report_page_is_printable(page, live_server):
    sign_in(page, live_server.url, "expert")
    page.goto(live_server.url + "/supervision/annual-report")
    assert page.locator("#report svg.work-map").count() == 1
    page.emulate_media(media="print")
    assert not page.is_visible(".report-controls") and not page.is_visible("header.topbar")
    assert page.is_visible("#report h1")
    assert page.console_errors == [] and page.blocked_requests == []
