"""Cost of one versioned site update at 1,000 and at 100,000 sites (it must not grow with the registry: ratio <= 1.5).

For contrast it also times the approach the store deliberately avoids: rewriting the layer with GeoDataFrame.to_file
(O(n), not atomic with history/audit). Prints figures; asserts nothing. Run: make bench (or .venv/bin/python bench/bench_update.py).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyogrio
from shapely.geometry import MultiPolygon, Point, box

from fossil_registry import sites, store

LEVELS = ("national", "provincial", "general")


def build(path: Path, n: int, rng) -> float:
    """A registry of n sites on a jittered grid over Guizhou (boundaries ~0.5 km^2, disjoint). Returns build seconds."""
    store.create_registry(path)
    conn = store.connect(path)
    side = int(np.ceil(np.sqrt(n)))
    step_lon, step_lat = 6.0 / side, 4.6 / side
    t0 = time.perf_counter()
    with store.transaction(conn):
        for i in range(n):
            lon = 103.6 + (i % side + 0.5) * step_lon
            lat = 24.6 + (i // side + 0.5) * step_lat
            half = min(0.0035, step_lon / 4, step_lat / 4)
            sites.create_site(conn, properties={"name": f"化石点 {i}", "name_en": f"Site {i}", "level": LEVELS[i % 3],
                                                "sensitivity": "open", "period": "Triassic"},
                              location=Point(lon, lat), boundary=MultiPolygon([box(lon - half, lat - half,
                                                                                   lon + half, lat + half)]),
                              author="bench", reason="benchmark registry", code=f"GZ-{i + 1:06d}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - t0


def time_updates(path: Path, n: int, updates: int, rng) -> list[float]:
    conn = store.connect(path)
    samples = []
    for _ in range(updates):
        code = f"GZ-{int(rng.integers(1, n + 1)):06d}"
        site = sites.current(conn, code)
        dx = float(rng.uniform(-1e-4, 1e-4))
        loc = Point(site.location.x + dx, site.location.y)
        b = MultiPolygon([box(*(np.array(site.boundary.bounds) + [dx, 0, dx, 0]))])
        t0 = time.perf_counter()
        sites.change_site(conn, code, base_version=site.version, location=loc, boundary=b, author="bench",
                          reason="benchmark update")
        samples.append(time.perf_counter() - t0)
    conn.close()
    return samples


def time_layer_rewrite(path: Path) -> float:
    """The peer: read the whole location layer, change one feature, write the layer back (what the store avoids)."""
    gdf = pyogrio.read_dataframe(path, layer="site_locations")
    gdf.loc[0, "geometry"] = Point(gdf.geometry.iloc[0].x + 1e-5, gdf.geometry.iloc[0].y)
    out = path.with_name("rewrite.gpkg")
    t0 = time.perf_counter()
    pyogrio.write_dataframe(gdf, out, layer="site_locations")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--updates", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"registry-{n}.gpkg"
            build_s = build(path, n, rng)
            samples = time_updates(path, n, args.updates, rng)
            rewrite = time_layer_rewrite(path)
            results[n] = (statistics.median(samples), float(np.percentile(samples, 95)), rewrite)
            size_mb = path.stat().st_size / 1e6
            print(f"{n:>7} sites: built in {build_s:6.1f} s ({size_mb:.1f} MB); versioned update median "
                  f"{results[n][0] * 1e3:6.2f} ms, p95 {results[n][1] * 1e3:6.2f} ms over {args.updates}; "
                  f"peer (rewrite location layer with GDAL) {rewrite * 1e3:8.1f} ms", flush=True)
    sizes = sorted(results)
    if len(sizes) >= 2:
        small, large = results[sizes[0]], results[sizes[-1]]
        print(f"ratio {sizes[-1]} / {sizes[0]} sites: versioned update median {large[0] / small[0]:.2f} "
              f"(target <= 1.5), p95 {large[1] / small[1]:.2f}; layer rewrite {large[2] / small[2]:.1f}")


if __name__ == "__main__":
    main()
