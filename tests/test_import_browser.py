"""The site import in a real browser (headless Chromium, every non-local request blocked): upload a GBK spreadsheet
through the form, the preview with its map (markers drawn under the app's CSP), confirm, the progress bar polled by
imports.js until the page turns into the summary."""
from __future__ import annotations

from .browser import browser, live_server, page, sign_in  # noqa: F401  (pytest fixtures)

CSV = ("编号,名称,级别,时代,经度,纬度\n"
       "GZ-0015,凯里炉山凯里组剖面,省级,寒武纪,107.900,26.620\n"
       "KC-07,\"{{7*7}}<b>新点</b>\",一般,寒武纪,108.05,26.45\n"
       "KC-08,坏级别,特级,寒武纪,108.06,26.45\n")


def test_an_admin_imports_a_spreadsheet_in_the_browser(page, live_server, tmp_path):  # noqa: F811
    sign_in(page, live_server.url, "admin")
    path = tmp_path / "调查.csv"
    path.write_bytes(CSV.encode("gbk"))
    page.goto(live_server.url + "/imports")
    page.set_input_files("input[name=file]", str(path))
    with page.expect_navigation():
        page.click("#upload button[type=submit]")
    page.wait_for_selector("#outcome", timeout=60_000)        # the analysis ends: imports.js reloads the page
    page.wait_for_selector(".import-map .leaflet-container[data-overlay-import-rows='3']")
    assert page.locator("#import-table tbody tr").count() == 3
    assert page.inner_text("#import-table tr[data-row='2'] td:nth-child(3)") == "{{7*7}}<b>新点</b>"
    assert "特级" in page.inner_text("#import-table tr[data-row='3']")
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)
    page.fill("#confirm textarea[name=reason]", "2025 年凯里调查")
    with page.expect_navigation():
        page.click("#confirm button[type=submit]")
    page.wait_for_selector("#summary", timeout=60_000)
    assert "2" in page.inner_text("#summary-counts .pill.proposed")
    assert "1" in page.inner_text("#summary-counts .pill.refused")
    assert page.locator("#proposed li").count() == 2 and page.locator("#refused li").count() == 1
    page.screenshot(path=str(tmp_path / "summary.png"), full_page=True)
    assert page.console_errors == [] and page.blocked_requests == []
