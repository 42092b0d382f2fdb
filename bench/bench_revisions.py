"""Cost of the revision workflow's expensive steps on the demo registry: validating and recording a proposal (small
outline, 20,000-vertex outline at the limit), simplifying a 200,000-vertex GPS log with consent, and approving a
proposal (site version + decision + audit in one transaction). Prints figures; asserts nothing.
Run: .venv/bin/python bench/bench_revisions.py"""
from __future__ import annotations

import math
import statistics
import tempfile
import time
from pathlib import Path

from shapely.geometry import Point, Polygon, box

from fossil_registry import revisions, sites, store
from fossil_registry.registry import init_registry


def circle(n: int, lon=105.585, lat=25.900, r=0.006) -> Polygon:
    return Polygon([(lon + r * math.cos(2 * math.pi * i / n) + 2e-7 * (i % 7), lat + r * math.sin(2 * math.pi * i / n))
                    for i in range(n)])


def timed(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.gpkg"
        init_registry(path, demo=True)
        conn = store.connect(path)
        store.migrate(conn)

        def propose(boundary=None, location=None, simplify=False):
            site = sites.current(conn, "GZ-0003")
            draft = revisions.Draft(reason="bench", base_version=site.version, accept_simplify=simplify,
                                    boundary=boundary if boundary is not None else sites.UNCHANGED,
                                    location=location if location is not None else sites.UNCHANGED)
            return revisions.propose(conn, draft, author="fiona", site_code="GZ-0003")

        t, _ = timed(lambda: propose(location=Point(105.5851, 25.9021)))
        print(f"propose a location change:               {t * 1000:8.1f} ms")
        t, _ = timed(lambda: propose(boundary=box(105.58, 25.895, 105.59, 25.905)))
        print(f"propose a 4-vertex boundary:             {t * 1000:8.1f} ms")
        big = circle(20_000)
        t, _ = timed(lambda: propose(boundary=big), repeat=3)
        print(f"propose a 20,000-vertex boundary:        {t * 1000:8.1f} ms")
        huge = circle(200_000)
        t, rev = timed(lambda: propose(boundary=huge, simplify=True), repeat=3)
        w = next(x for x in rev.warnings if x["code"] == "simplified")
        print(f"simplify + propose 200,000 vertices:     {t * 1000:8.1f} ms  -> {w['vertices_after']} vertices, "
              f"tolerance {w['tolerance_m']} m")
        rid = propose(location=Point(105.5852, 25.9022)).id
        t0 = time.perf_counter()
        revisions.decide(conn, rid, "approve", reviewer="ellen", round_seen=1)
        print(f"approve (version + decision + audit):    {(time.perf_counter() - t0) * 1000:8.1f} ms")
        conn.close()


if __name__ == "__main__":
    main()
