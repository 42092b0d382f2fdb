"""What an answered write costs on disk: SQLite's synchronous = NORMAL (consistent after a power cut, but the last
commits may be lost) beside FULL (the registry's setting: every commit fsynced before it returns), side by side.

Each round opens the demo registry with one setting and times, write by write, what a reviewer's day is made of: a
proposal (a location change) and its approval (site version + decision + audit in one transaction), on sites taken in
turn. Rounds alternate NORMAL and FULL so that other work on the machine weighs on both alike. Prints figures;
asserts nothing. Run: .venv/bin/python bench/bench_durability.py [--writes 200] [--rounds 3] [--dir DIR]
(--dir: a directory on the disk the registry will live on; the default is the system's temporary directory).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shapely.geometry import Point

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fossil_registry import revisions, sites, store  # noqa: E402
from fossil_registry.registry import init_registry  # noqa: E402
from fossil_registry.store import gpkg  # noqa: E402

CODES = [f"GZ-{i:04d}" for i in range(1, 75)]


def one_round(path: Path, mode: str, writes: int, start: int) -> dict[str, list[float]]:
    gpkg.SYNCHRONOUS = mode
    conn = store.connect(path)
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == {"NORMAL": 1, "FULL": 2}[mode]
    out: dict[str, list[float]] = {"propose": [], "approve": []}
    try:
        for i in range(start, start + writes):
            code = CODES[i % len(CODES)]
            site = sites.current(conn, code)
            draft = revisions.Draft(reason="bench", base_version=site.version, boundary=sites.UNCHANGED,
                                    location=Point(site.location.x + 1e-6 * (1 if i % 2 else -1), site.location.y))
            t0 = time.perf_counter()
            rev = revisions.propose(conn, draft, author="fiona", site_code=code)
            t1 = time.perf_counter()
            revisions.decide(conn, rev.id, "approve", reviewer="ellen", round_seen=rev.round)
            t2 = time.perf_counter()
            out["propose"].append(t1 - t0)
            out["approve"].append(t2 - t1)
    finally:
        conn.close()
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=200, help="proposals + approvals per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per setting (alternating)")
    parser.add_argument("--dir", default=None, help="where the registry is written")
    args = parser.parse_args()
    results = {"NORMAL": {"propose": [], "approve": []}, "FULL": {"propose": [], "approve": []}}
    walls = {"NORMAL": 0.0, "FULL": 0.0}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "registry.gpkg"
        init_registry(path, demo=True)
        conn = store.connect(path)
        store.migrate(conn)
        conn.close()
        n = 0
        for _ in range(args.rounds):
            for mode in ("NORMAL", "FULL"):
                t0 = time.perf_counter()
                got = one_round(path, mode, args.writes, n)
                walls[mode] += time.perf_counter() - t0
                n += args.writes
                for k, v in got.items():
                    results[mode][k].extend(v)
    gpkg.SYNCHRONOUS = "FULL"
    print(f"{args.rounds} rounds x {args.writes} proposals + approvals per setting, demo registry in {args.dir or 'tmp'}")
    print(f"{'':10} {'propose p50':>12} {'p95':>8} {'approve p50':>12} {'p95':>8} {'approvals/s':>12}")
    for mode in ("NORMAL", "FULL"):
        r = results[mode]
        rate = len(r["approve"]) / sum(r["approve"])
        print(f"{mode:10} {statistics.median(r['propose']) * 1000:10.2f} ms {p95(r['propose']) * 1000:5.1f} ms "
              f"{statistics.median(r['approve']) * 1000:10.2f} ms {p95(r['approve']) * 1000:5.1f} ms {rate:12.0f}")
    full, normal = results["FULL"], results["NORMAL"]
    print(f"FULL / NORMAL: propose p50 x{statistics.median(full['propose']) / statistics.median(normal['propose']):.2f}, "
          f"approve p50 x{statistics.median(full['approve']) / statistics.median(normal['approve']):.2f}; "
          f"wall clock {walls['NORMAL']:.1f} s vs {walls['FULL']:.1f} s")


if __name__ == "__main__":
    main()
