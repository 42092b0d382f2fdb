"""Downloads at 10,000 sites: time and size of every format, for the sites (points) and the protection boundaries
(polygons), as an anonymous caller (public view) and as staff (exact data), in the default CRS and in a Gauss-Krüger
zone; a download of an area; and the whole registry as a GeoPackage (staff: the shareable export; anonymous: the
public view).

Builds the registry of bench_map (n sites over Guizhou, each with a boundary; 80 % open, 15 % generalized, 5 % hidden)
and times whole requests through the app's test client (the file written by GDAL and streamed back), so the figures
are what a client waits for on this machine, less the network:

* read: the layer's records for an audience, once per registry state (the public view is built here);
* write: a download made for the request (the records already read): what an area or filter costs, and a whole layer
  the first time after a change;
* kept: the same whole-layer download again, sent from the cache of finished files.

Prints medians; asserts nothing. Run: .venv/bin/python bench/bench_downloads.py [--sites 10000] [--runs 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_map import build  # noqa: E402
from fossil_registry import auth, create_app, downloads, store  # noqa: E402
from fossil_registry.downloads import tables  # noqa: E402
from fossil_registry.registry import registry_path  # noqa: E402


def timed(client, url: str, headers: dict, runs: int) -> tuple[float, int]:
    """(median seconds, bytes) of a whole download."""
    times, size = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(url, headers=headers)
        assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:200])
        size = len(r.get_data())
        times.append(time.perf_counter() - t)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        path = registry_path(data)
        path.parent.mkdir(parents=True)
        print(f"building a registry of {args.sites} sites ... {build(path, args.sites):.1f} s")
        conn = store.connect(path)
        auth.create_user(conn, username="bench", role="field", password="bench-pass-0001", actor="bench")
        token = auth.issue_token(conn, "bench", label="bench", actor="bench")
        for layer in ("sites", "boundaries"):
            for public in (True, False):
                t = time.perf_counter()
                with store.read_snapshot(conn):
                    n = len(tables.layer_records(conn, downloads.LAYERS[layer], public)[0])
                print(f"read {layer:10} {'public' if public else 'staff':6} {(time.perf_counter() - t) * 1000:6.0f} ms"
                      f"  ({n} features)")
        conn.close()
        config = {"DATA_DIR": str(data), "SECRET_KEY": "bench"}
        writing = create_app({**config, "DOWNLOADS_CACHE_BYTES": 0}).test_client()
        keeping = create_app(config).test_client()
        staff = {"Authorization": f"Bearer {token}"}
        print(f"\n{'download':40} {'who':6} {'write':>9} {'kept':>9} {'size':>10}")
        for layer in ("sites", "boundaries"):
            for fmt in downloads.FORMATS:
                for crs in ("", "EPSG:4544"):
                    if crs and fmt in ("kml", "kmz"):
                        continue
                    url = f"/api/downloads/{layer}.{fmt}" + (f"?crs={crs}" if crs else "")
                    for who, headers in (("public", {}), ("staff", staff)):
                        written, size = timed(writing, url, headers, args.runs)
                        keeping.get(url, headers=headers)
                        kept, _ = timed(keeping, url, headers, args.runs)
                        print(f"{url[15:]:40} {who:6} {written * 1000:6.0f} ms {kept * 1000:6.0f} ms "
                              f"{size / 1e6:7.2f} MB")
        area = "/api/downloads/sites.gpkg?bbox=106,26,107,27"
        for who, headers in (("public", {}), ("staff", staff)):
            written, size = timed(keeping, area, headers, args.runs)
            print(f"{area[15:]:40} {who:6} {written * 1000:6.0f} ms {'-':>9} {size / 1e6:7.2f} MB")
        for who, headers in (("public", {}), ("staff", staff)):
            written, size = timed(writing, "/api/downloads/registry.gpkg", headers, args.runs)
            keeping.get("/api/downloads/registry.gpkg", headers=headers)
            kept, _ = timed(keeping, "/api/downloads/registry.gpkg", headers, args.runs)
            print(f"{'registry.gpkg':40} {who:6} {written * 1000:6.0f} ms {kept * 1000:6.0f} ms {size / 1e6:7.2f} MB"
                  + ("  (the export: never kept)" if who == "staff" else ""))


if __name__ == "__main__":
    main()
