"""The field kit's area drawn on a map in headless Chromium: a rectangle drawn with Leaflet.draw's tool fills the typed
box (longitude first) and chooses it, the kit downloaded holds exactly the sites inside it, and a typed box is drawn."""
from __future__ import annotations

import io
import sqlite3
import zipfile

from fossil_registry import sites
from fossil_registry.db import get_conn

from .browser import browser, live_server, page, sign_in  # noqa: F401  (fixtures)
from .test_accessibility_browser import axe

CONFIG = "JSON.parse(document.getElementById('kit-area-map').dataset.config)"


def _screen(page, lon: float, lat: float) -> tuple[float, float]:
    return tuple(page.evaluate(f"""([lon, lat]) => {{
        const map = window[{CONFIG}.map];
        const p = map.latLngToContainerPoint([lat, lon]);
        const box = map.getContainer().getBoundingClientRect();
        return [box.left + p.x, box.top + p.y];
    }}""", [lon, lat]))


def test_a_rectangle_drawn_on_the_map_is_the_kits_area(page, live_server, app, tmp_path):
    with app.app_context():
        current = {s.code: (s.location.x, s.location.y) for s in sites.list_current(get_conn())}
    lon0, lat0 = current["GZ-0001"]
    area = (lon0 - 0.3, lat0 - 0.3, lon0 + 0.3, lat0 + 0.3)
    inside = {c for c, (x, y) in current.items() if area[0] <= x <= area[2] and area[1] <= y <= area[3]}
    assert "GZ-0001" in inside and len(inside) < len(current)

    sign_in(page, live_server.url, "field")
    page.goto(live_server.url + "/fieldkit")
    page.wait_for_function(f"() => !!window[{CONFIG}.map]")
    assert axe(page, live_server.url) == []  # the drawing tools are named for a screen reader too
    # attribution and scale as on every map
    assert page.locator("#kit-area-map .leaflet-attribution-flag").count() == 0
    page.evaluate(f"""([w, s, e, n]) => window[{CONFIG}.map].fitBounds([[s, w], [n, e]], {{animate: false}})""",
                  [area[0] - 0.2, area[1] - 0.2, area[2] + 0.2, area[3] + 0.2])
    page.click("#kit-area-map .leaflet-draw-draw-rectangle")
    x0, y0 = _screen(page, area[0], area[3])
    x1, y1 = _screen(page, area[2], area[1])
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    page.wait_for_function("() => document.querySelector('input[name=bbox]').value !== ''")
    typed = [float(v) for v in page.input_value("input[name=bbox]").split(",")]
    assert all(abs(a - b) < 0.02 for a, b in zip(typed, area)), (typed, area)  # lon, lat, lon, lat: as labelled
    assert page.is_checked("input[name=area][value=bbox]")

    with page.expect_download() as download:
        page.click("#checkout button[type=submit]")
    path = tmp_path / "kit.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith("/fieldkit.gpkg"))
        zf.extract(name, tmp_path)
    conn = sqlite3.connect(tmp_path / name)
    got = {row[0] for row in conn.execute("SELECT code FROM site_locations")}
    conn.close()
    assert got == {c for c, (x, y) in current.items()
                   if typed[0] <= x <= typed[2] and typed[1] <= y <= typed[3]} and "GZ-0001" in got

    # a typed box is drawn on the map
    page.goto(live_server.url + "/fieldkit")
    page.fill("input[name=bbox]", "105.30,25.70,105.70,26.00")
    page.dispatch_event("input[name=bbox]", "change")
    assert page.get_attribute("#kit-area-map", "data-bbox") == "105.30,25.70,105.70,26.00"
    assert page.evaluate(f"() => window[{CONFIG}.group].getLayers().length") == 1
    assert page.console_errors == [] and page.blocked_requests == []
