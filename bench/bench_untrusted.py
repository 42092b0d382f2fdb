"""What reading uploads in bounded worker processes (fossil_registry/untrusted.py) costs and buys.

1. Overhead per read: the same files read in the worker pool (as every upload now is) and directly in this process (as
   before), side by side: a zipped Shapefile boundary, a GeoPackage, a GPX track, a 12-megapixel JPEG, a 2,000-row CSV
   import; plus the pool's cold start (fork server and first worker) and a worker's replacement after a kill.
2. What a crafted file costs: a GeoPackage whose gpkg_metadata is a view over a recursive query, read with the
   default limits' shape but a 5 s wall clock: time to the refusal, and the latency of a concurrent reader's small reads
   meanwhile (p50/p95), against the same small reads on an idle pool.

Prints figures; asserts nothing. Run: .venv/bin/python bench/bench_untrusted.py [--rounds 20]
"""
from __future__ import annotations

import argparse
import io
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from fossil_registry import formats, photos, untrusted  # noqa: E402
from tests import hostile_corpus as corpus  # noqa: E402


def _photo() -> bytes:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=85)
    return out.getvalue()


def _gpx(points: int) -> bytes:
    pts = "".join(f'<trkpt lat="{25.9 + i * 1e-5:.6f}" lon="{105.58 + i * 1e-5:.6f}"/>' for i in range(points))
    return corpus._gpx(pts)


def _csv(rows: int) -> bytes:
    lines = ["编号,名称,经度,纬度"] + [f"GZ-9{i:04d},点{i},{105 + i * 1e-4:.5f},{26 + i * 1e-4:.5f}" for i in range(rows)]
    return "\n".join(lines).encode()


def _crafted_gpkg() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.gpkg"
        path.write_bytes(corpus.valid_gpkg())
        conn = sqlite3.connect(path)
        conn.execute("DROP TABLE IF EXISTS gpkg_metadata")
        conn.execute("CREATE VIEW gpkg_metadata AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
                     "SELECT i AS id, 'dataset' AS md_scope, 'x' AS md_standard_uri, 'text/xml' AS mime_type, "
                     "'x' AS metadata FROM r")
        conn.execute("CREATE TABLE gpkg_metadata_reference (reference_scope TEXT NOT NULL, table_name TEXT, "
                     "column_name TEXT, row_id_value INTEGER, timestamp DATETIME, md_file_id INTEGER NOT NULL, "
                     "md_parent_id INTEGER)")
        conn.execute("INSERT INTO gpkg_metadata_reference VALUES ('geopackage', NULL, NULL, NULL, "
                     "'2024-01-01T00:00:00Z', 5, NULL)")
        conn.commit()
        conn.close()
        return path.read_bytes()


def _times(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _fmt(ms: list[float]) -> str:
    return f"{statistics.median(ms):8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    untrusted.configure(untrusted.Limits())
    t = time.perf_counter()
    untrusted.run("tests.untrusted_stalls", "where", (), {})
    print(f"cold start (fork server + first worker, readers preloaded): {(time.perf_counter() - t) * 1000:.0f} ms")

    shp, gpkg, gpx, jpeg, csv = corpus.valid_shapefile_zip(), corpus.valid_gpkg(), _gpx(5000), _photo(), _csv(2000)
    cases = [
        ("Shapefile (zip) boundary", lambda: formats.read_geometry("b.zip", shp, "boundary")),
        ("GeoPackage boundary", lambda: formats.read_geometry("b.gpkg", gpkg, "boundary")),
        ("GPX track, 5,000 points", lambda: formats.parse_gpx(gpx, filename="t.gpx")),
        (f"JPEG 12 MP ({len(jpeg) / 1e6:.1f} MB)", lambda: photos.read_photo(
            photos.Upload("p.jpg", jpeg), max_bytes=15 * 2**20, max_pixels=60_000_000)),
        ("CSV import, 2,000 rows", lambda: formats.read_table("s.csv", csv)),
    ]
    print(f"\nmedian of {args.rounds} reads       in a worker    in-process    overhead")
    for name, call in cases:
        call()  # warm
        pooled = _times(call, args.rounds)
        untrusted._in_worker = True  # run the same readers here, as before
        try:
            direct = _times(call, args.rounds)
        finally:
            untrusted._in_worker = False
        print(f"{name:28} {_fmt(pooled)}   {_fmt(direct)}   {statistics.median(pooled) - statistics.median(direct):+7.1f} ms")

    untrusted.configure(untrusted.Limits(seconds=5, cpu_seconds=5))
    untrusted.run("tests.untrusted_stalls", "where", (), {})
    idle = _times(lambda: formats.read_geometry("b.zip", shp, "boundary"), args.rounds)
    crafted = _crafted_gpkg()
    done: list[float] = []

    def hostile():
        t = time.perf_counter()
        try:
            formats.read_geometry("x.gpkg", crafted, "boundary")
        except formats.UploadTooLarge:
            pass
        except Exception as exc:  # noqa: BLE001 - the refusal is what is timed
            done.append(time.perf_counter() - t)
            print(f"\ncrafted GeoPackage (recursive gpkg_metadata view), 5 s limit: refused after {done[0]:.1f} s "
                  f"({type(exc).__name__})")

    thread = threading.Thread(target=hostile)
    thread.start()
    time.sleep(0.3)
    during = []
    while thread.is_alive():
        during += _times(lambda: formats.read_geometry("b.zip", shp, "boundary"), 1)
    thread.join()
    t = time.perf_counter()
    formats.read_geometry("b.zip", shp, "boundary")
    replaced = (time.perf_counter() - t) * 1000
    q = lambda ms, p: float(np.percentile(ms, p))  # noqa: E731
    print(f"small reads on the other worker meanwhile: {len(during)} reads, p50 {q(during, 50):.1f} ms, "
          f"p95 {q(during, 95):.1f} ms (idle pool: p50 {q(idle, 50):.1f} ms, p95 {q(idle, 95):.1f} ms)")
    print(f"first read after the killed worker was replaced: {replaced:.1f} ms")
    untrusted.stop()


if __name__ == "__main__":
    main()
