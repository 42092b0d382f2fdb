"""Impact screening at 10,000 sites: a 50 km road centreline (500 vertices, 30 m wide) screened against a registry of
10,000 sites scattered over Guizhou (each with a boundary; 80 % open, 15 % generalized, 5 % hidden).

Reports the median of several runs for: reading and preparing the footprint (densified every 25 m, buffered into a
30 m corridor), the exact screening (R-tree candidates, geodesic figures) and the public one, the same road drawn in
Gauss-Kruger (EPSG:4545), and the whole POST /api/impact request as staff and as an anonymous planner. Prints
figures; asserts nothing. Run: .venv/bin/python bench/bench_impact.py [--sites 10000] [--runs 5]
Target (issue 12): a 50 km road against 10,000 sites in under 1 s.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyproj
from shapely.geometry import LineString, mapping

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_map import build  # noqa: E402
from fossil_registry import auth, create_app, impact, store  # noqa: E402
from fossil_registry.registry import registry_path  # noqa: E402

GEOD = pyproj.Geod(ellps="GRS80")


def road(length_m: float = 50_000, vertices: int = 500) -> LineString:
    """A winding road from near Guiyang towards the east-north-east."""
    lon, lat, az = 106.45, 26.45, 70.0
    points = [(lon, lat)]
    step = length_m / (vertices - 1)
    for i in range(vertices - 1):
        az += 8.0 * ((i // 25) % 2 * 2 - 1) / 25  # gentle S-bends
        lon, lat, _ = GEOD.fwd(lon, lat, az, step)
        points.append((lon, lat))
    return LineString(points)


def timed(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    line = road()
    print(f"road: {GEOD.geometry_length(line) / 1000:.1f} km, {len(line.coords)} vertices, 30 m wide")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        path = registry_path(data)
        path.parent.mkdir(parents=True)
        print(f"registry of {args.sites:,} sites built in {build(path, args.sites):.1f} s")
        conn = store.connect(path)
        store.migrate(conn)
        settings = impact.Settings.defaults()
        prep, fp = timed(lambda: impact.from_geojson(mapping(line), settings, width_m=30), args.runs)
        print(f"footprint read, densified and buffered: {prep * 1000:.0f} ms "
              f"({fp.figures()['vertices']:,} vertices, {fp.figures()['area_m2'] / 1e4:.0f} ha)")
        exact, result = timed(lambda: impact.screen(conn, fp, settings, exact=True), args.runs)
        print(f"exact screening: {exact * 1000:.0f} ms; {result.candidates} candidates from the R-trees, "
              f"{len(result.affected)} sites within 5 km ({result.by_risk()})")
        public, presult = timed(lambda: impact.screen(conn, fp, settings, exact=False), args.runs)
        print(f"public screening: {public * 1000:.0f} ms; {len(presult.affected)} entries")
        gk = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4545", always_xy=True)
        plan = LineString([gk.transform(x, y) for x, y in line.coords])
        both, _ = timed(lambda: impact.screen(conn, impact.from_geojson(mapping(plan), settings, crs="EPSG:4545",
                                                                          width_m=30), settings, exact=True), args.runs)
        print(f"read + screen, road drawn in Gauss-Kruger (EPSG:4545): {both * 1000:.0f} ms")
        auth.create_user(conn, username="bench", role="field", password="bench-password", actor="bench")
        token = auth.issue_token(conn, "bench", label="bench", actor="bench")
        conn.close()
        app = create_app({"DATA_DIR": str(data), "SECRET_KEY": "bench", "IMPACT_LIMIT": "100000 per hour"})
        client = app.test_client()
        body = {"footprint": mapping(line), "width_m": 30}
        staff, r = timed(lambda: client.post("/api/impact", json=body,
                                             headers={"Authorization": f"Bearer {token}"}), args.runs)
        assert r.status_code == 200, r.get_data(as_text=True)
        print(f"POST /api/impact as staff: {staff * 1000:.0f} ms ({len(r.data) / 1000:.0f} KB)")
        anonymous, r = timed(lambda: client.post("/api/impact", json=body), args.runs)
        assert r.status_code == 200, r.get_data(as_text=True)
        print(f"POST /api/impact anonymous: {anonymous * 1000:.0f} ms ({len(r.data) / 1000:.0f} KB)")
        total = prep + exact
        print(f"=> 50 km road against {args.sites:,} sites: {total * 1000:.0f} ms in the domain, "
              f"{staff * 1000:.0f} ms through the API (target < 1000 ms)")


if __name__ == "__main__":
    main()
