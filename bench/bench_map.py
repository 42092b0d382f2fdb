"""Protection map at 10,000 sites: bytes transferred and time to render in headless Chromium.

Builds a registry of N sites over Guizhou (mixed levels, periods, fossil groups and sensitivities, each with a small
boundary), serves the app on 127.0.0.1 (werkzeug, threaded) and opens / in Debian's Chromium with every other host
blocked, as an anonymous visitor with an empty cache. Reports, per run and as medians:

* bytes: everything transferred for the initial page and its first data requests (headers + bodies as sent);
* render: navigation start -> the site layer drawn (performance mark "map:sites-rendered" set by public-map.js), and
  -> the boundary layer drawn ("map:boundaries-rendered");
* the same for a zoomed-in view (zoom 13), where single sites and boundaries are sent;
* "cold": the first visit after a site was changed, when the server's per-state cache of the layers is rebuilt.

Prints figures; asserts nothing. Run: .venv/bin/python bench/bench_map.py [--sites 10000] [--runs 5]
Target (issue 4): initial page + first data requests under 500 KB, rendered under 1.5 s on a 2-core machine.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from shapely.geometry import MultiPolygon, Point, box

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fossil_registry import create_app, sites, store  # noqa: E402
from fossil_registry.registry import registry_path  # noqa: E402
from tests.browser import _launch, new_page, start_live_server  # noqa: E402

GROUP_SETS = (["ichthyosaurs", "marine_reptiles", "crinoids"], ["trilobites", "soft_bodied"], ["algae", "embryos"],
              ["brachiopods", "bivalves", "corals"], ["fishes"], ["plants", "trace_fossils"], ["dinosaurs"],
              ["mammals"], ["ammonoids", "conodonts"])


def build(path: Path, n: int, seed: int = 7) -> float:
    """n sites scattered over Guizhou (boundaries ~0.3 km^2); 80 % open, 15 % generalized, 5 % hidden."""
    rng = np.random.default_rng(seed)
    store.create_registry(path)
    conn = store.connect(path)
    t0 = time.perf_counter()
    lons = rng.uniform(103.7, 109.5, n)
    lats = rng.uniform(24.7, 29.1, n)
    with store.transaction(conn):
        for i in range(n):
            lon, lat = round(float(lons[i]), 6), round(float(lats[i]), 6)
            half = 0.0025
            r = rng.random()
            sensitivity = "open" if r < 0.8 else "generalized" if r < 0.95 else "hidden"
            level = "national" if i % 50 == 0 else "provincial" if i % 7 == 0 else "general"
            sites.create_site(
                conn, code=f"GZ-{i + 1:05d}", author="bench", reason="benchmark registry",
                properties={"name": f"化石产地 {i + 1}", "name_en": f"Fossil site {i + 1}", "level": level,
                            "sensitivity": sensitivity, "period": sites.PERIODS[i % len(sites.PERIODS)],
                            "age": "Late Triassic (Carnian)", "formation": "Xiaowa Formation",
                            "fossil_groups": GROUP_SETS[i % len(GROUP_SETS)],
                            "description": "基准测试用的虚构产地。", "description_en": "Made-up site for the benchmark."},
                location=Point(lon, lat),
                boundary=MultiPolygon([box(lon - half, lat - half * 0.9, lon + half, lat + half * 0.9)]))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - t0


def load(browser, url: str, setup_js: str | None = None) -> dict:
    """Open url in a fresh context (empty cache); wait for the site and boundary layers; collect sizes and marks."""
    page = new_page(browser)
    requests = []
    page.on("requestfinished", lambda req: requests.append(req))
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function("() => performance.getEntriesByName('map:sites-rendered').length > 0"
                           " && performance.getEntriesByName('map:boundaries-rendered').length > 0", timeout=60_000)
    wall = time.perf_counter() - t0
    marks = page.evaluate("() => ({sites: performance.getEntriesByName('map:sites-rendered')[0].startTime,"
                          " boundaries: performance.getEntriesByName('map:boundaries-rendered')[0].startTime})")
    result = {"wall_s": wall, "sites_ms": marks["sites"], "boundaries_ms": marks["boundaries"],
              "errors": list(page.console_errors), "blocked": list(page.blocked_requests)}
    if setup_js:  # then move the map (e.g. zoom in) and measure what that costs
        before = len(requests)
        page.evaluate("() => performance.clearMarks()")
        t1 = page.evaluate("() => performance.now()")
        page.evaluate(setup_js)
        page.wait_for_function("() => performance.getEntriesByName('map:sites-rendered').length > 0"
                               " && performance.getEntriesByName('map:boundaries-rendered').length > 0", timeout=60_000)
        after = page.evaluate("() => ({sites: performance.getEntriesByName('map:sites-rendered')[0].startTime,"
                              " boundaries: performance.getEntriesByName('map:boundaries-rendered')[0].startTime})")
        result["move_ms"] = max(after["sites"], after["boundaries"]) - t1
        page.wait_for_timeout(200)
        moved = requests[before:]
        result["move_bytes"] = sum(_size(r) for r in moved)
        result["move_requests"] = [(r.url.split("/", 3)[-1][:70], _size(r)) for r in moved]
        requests = requests[:before]
    result["bytes"] = sum(_size(r) for r in requests)
    result["requests"] = [(r.url.split("/", 3)[-1][:70], _size(r)) for r in requests]
    page.context.close()
    return result


def _size(request) -> int:
    sizes = request.sizes()
    return sizes["responseHeadersSize"] + sizes["responseBodySize"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        path = registry_path(data)
        print(f"building a registry of {args.sites} sites ...", flush=True)
        print(f"  built in {build(path, args.sites):.1f} s", flush=True)
        app = create_app({"DATA_DIR": str(data), "SECRET_KEY": "bench"})
        server = start_live_server(app)
        playwright, browser = _launch()
        try:
            load(browser, server.url + "/")  # warm-up: Python imports, SQLite page cache
            runs = [load(browser, server.url + "/", setup_js=(
                "() => { const cfg = JSON.parse(document.getElementById('map-config').textContent);"
                " window[cfg.map].setView([26.58, 106.71], 13, {animate: false}); }")) for _ in range(args.runs)]
            cold = []
            for i in range(args.runs):
                conn = store.connect(path)
                site = sites.current(conn, "GZ-00001")
                sites.change_site(conn, site.code, base_version=site.version, author="bench",
                                  reason="benchmark: invalidate the map cache", properties={"age": f"run {i}"})
                conn.close()
                cold.append(load(browser, server.url + "/"))
        finally:
            browser.close()
            playwright.stop()
            server.stop()
    first = runs[0]
    print(f"\nInitial page + first data requests ({len(first['requests'])} requests), anonymous, empty cache:")
    for url, size in first["requests"]:
        print(f"  {size / 1024:8.1f} KB  /{url}")

    def med(key):
        return statistics.median(r[key] for r in runs)
    print(f"\n{args.sites} sites, {args.runs} runs (median, min-max):")
    print(f"  transferred       {med('bytes') / 1024:8.1f} KB")
    print(f"  site layer drawn  {med('sites_ms'):8.0f} ms  ({min(r['sites_ms'] for r in runs):.0f}-"
          f"{max(r['sites_ms'] for r in runs):.0f})")
    print(f"  boundaries drawn  {med('boundaries_ms'):8.0f} ms  ({min(r['boundaries_ms'] for r in runs):.0f}-"
          f"{max(r['boundaries_ms'] for r in runs):.0f})")
    print(f"  wall (goto->both) {med('wall_s') * 1000:8.0f} ms")
    print(f"  cold (first visit after a change): site layer {statistics.median(r['sites_ms'] for r in cold):.0f} ms,"
          f" boundaries {statistics.median(r['boundaries_ms'] for r in cold):.0f} ms")
    print(f"  zoom to 13:       {med('move_bytes') / 1024:8.1f} KB, layers drawn after {med('move_ms'):.0f} ms: "
          + ", ".join(f"{u.split('?')[0]} {s / 1024:.1f} KB" for u, s in runs[0]["move_requests"]))
    errors = sorted({e for r in runs + cold for e in r["errors"]})
    blocked = sorted({b for r in runs + cold for b in r["blocked"]})
    print(f"  console errors: {errors or 'none'}; requests to other hosts: {blocked or 'none'}")


if __name__ == "__main__":
    main()
