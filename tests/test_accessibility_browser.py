"""Accessibility: the public map, a site page, the report form and the proposal form pass axe-core (self-hosted: the
npm package copied to static/vendor/axe-core by `make assets`, served by the app itself) with no serious or critical
violation, in Chinese and in English; the map's controls have names and work from the keyboard."""
from __future__ import annotations

import json

import pytest

from .browser import browser, live_server, new_page, sign_in  # noqa: F401  (pytest fixtures)

PAGES = {"public map": "/", "site page": "/sites/GZ-0001", "report form": "/report",
         "proposal form": "/revisions/new?site=GZ-0003"}
SITES_LOADED = "() => Number(document.querySelector('.folium-map').dataset.sitesLoaded || 0) > 0"
MAP = "window[JSON.parse(document.getElementById('map-config').textContent).map]"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe(page, base: str) -> list[dict]:
    """axe-core's violations of the page as it is now (serious and critical only)."""
    page.add_script_tag(url=base + "/static/vendor/axe-core/axe.min.js")  # same origin: allowed by the CSP
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    passed = {rule["id"] for rule in result["passes"]}
    assert {"color-contrast", "label", "button-name", "image-alt", "html-has-lang"} & passed, passed  # it did check
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
@pytest.mark.parametrize("name", list(PAGES))
def test_pages_pass_axe_core(browser, live_server, name, locale):  # noqa: F811
    page = new_page(browser, locale=locale)
    try:
        if name == "proposal form":
            sign_in(page, live_server.url, "field")
        page.goto(live_server.url + PAGES[name])
        page.wait_for_load_state("networkidle")
        if name == "public map":
            page.wait_for_function(SITES_LOADED)
        found = axe(page, live_server.url)
        assert found == [], json.dumps(found, ensure_ascii=False, indent=1)
        assert page.console_errors == [] and page.blocked_requests == []
    finally:
        page.context.close()


def test_map_controls_have_names_and_work_from_the_keyboard(browser, live_server):  # noqa: F811
    page = new_page(browser, locale="en-US")
    try:
        page.goto(live_server.url + "/")
        page.wait_for_function(SITES_LOADED)
        for selector in (".leaflet-control-zoom-in", ".leaflet-control-zoom-out"):
            control = page.locator(selector)
            assert control.get_attribute("aria-label") or control.get_attribute("title")
        zoom = page.evaluate(f"() => {MAP}.getZoom()")
        page.focus(".leaflet-control-zoom-in")
        page.keyboard.press("Enter")
        page.wait_for_function(f"(z) => {MAP}.getZoom() === z + 1", arg=zoom)
        # the search is reachable and answers as one types
        if not page.evaluate("() => document.getElementById('map-filters').open"):
            page.focus("#map-filters summary")
            page.keyboard.press("Enter")
        page.focus("#map-q")
        page.keyboard.type("guanling")
        page.wait_for_selector("#map-results li button")
        assert "GZ-0001" in page.inner_text("#map-results")
    finally:
        page.context.close()
