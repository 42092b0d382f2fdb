"""Soak: mixed traffic against the served app for a long time (default 30 minutes; --quick: 2), sampled every 10 s.

Traffic, all at once against one waitress server (8 threads, loopback), each client pausing 0-0.2 s between requests:
anonymous people panning the public map (the page, /map/sites.geojson and /map/boundaries.geojson for a random box and
zoom, search, statistics), an API reader (/api/sites, a site, OGC API items in a box), field users proposing moves
(some with a photo attached), an expert approving them, and an inspector recording inspections with two photos each.

Every 10 s it samples the server process's resident memory and open file descriptors, the size of the registry's WAL,
and the p50/p95 latency of the requests answered in that window. At the end (server stopped) it checks that nothing
answered 5xx, every acknowledged write is there, `registry check` passes, and that:
- memory and file descriptors level off: the last third's peak is within 10 % (memory) / 3 descriptors of the middle
  third's peak (growth that continues to the end would exceed it);
- the WAL is checkpointed: it never grows past 4x SQLite's 1000-page autocheckpoint (without checkpoints it would
  grow with every page every write touches). Its size after the server stopped is printed, not judged: a
  WAL that a stopped process leaves is recovered by the next one to open the file;
- p95 is stable: the last third's median p95 is within 1.5x of the first third's (after the first sample, warm-up).

Run: .venv/bin/python bench/soak.py [--duration 1800] [--interval 10] [--quick]   (exit status 1 on any problem)
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (DEMO_CODES, Recorder, Server, Workload, call, expert, field_user, inspector,  # noqa: E402
                           missing_acknowledged, partial_writes, percentile, prepare_data_dir, process_figures,
                           registry_check, session, table, wal_bytes)
from fossil_registry import store  # noqa: E402
from fossil_registry.registry import registry_path  # noqa: E402

BBOX = (103.6, 24.6, 109.6, 29.2)
WAL_LIMIT = 4 * 1000 * 4096 * 1.05  # 4x the autocheckpoint of 1000 pages of 4 KiB (+ headers)


def map_panner(base: str, work: Workload, rec: Recorder, seed: int) -> None:
    """An anonymous visitor: opens the map, pans and zooms around Guizhou, searches now and then."""
    s, rng = session(None), random.Random(seed)
    call(rec, s, "map_page", "GET", f"{base}/")
    while work.take():
        zoom = rng.randint(7, 14)
        span = 6.0 / 2 ** (zoom - 7)
        lon, lat = rng.uniform(BBOX[0], BBOX[2] - span), rng.uniform(BBOX[1], BBOX[3] - span / 2)
        box = f"{lon:.4f},{lat:.4f},{lon + span:.4f},{lat + span / 2:.4f}"
        call(rec, s, "map_data", "GET", f"{base}/map/sites.geojson?bbox={box}&zoom={zoom}")
        if zoom >= 9:
            call(rec, s, "map_data", "GET", f"{base}/map/boundaries.geojson?bbox={box}&zoom={zoom}")
        roll = rng.random()
        if roll < 0.1:
            call(rec, s, "map_data", "GET", f"{base}/map/search.json?q={rng.choice(['GZ-00', '关岭', 'Xingyi', '化石'])}")
        elif roll < 0.15:
            call(rec, s, "map_data", "GET", f"{base}/map/statistics.json")
        elif roll < 0.2:
            call(rec, s, "map_page", "GET", f"{base}/sites/{rng.choice(DEMO_CODES)}")


def api_reader(base: str, token: str, work: Workload, rec: Recorder, seed: int) -> None:
    s, rng = session(token), random.Random(seed)
    while work.take():
        roll = rng.random()
        if roll < 0.3:
            call(rec, s, "api_read", "GET", f"{base}/api/sites")
        elif roll < 0.7:
            call(rec, s, "api_read", "GET", f"{base}/api/sites/{rng.choice(DEMO_CODES)}")
        else:
            lon, lat = rng.uniform(104, 109), rng.uniform(25, 28.5)
            call(rec, s, "api_read", "GET",
                 f"{base}/ogcapi/collections/sites/items?bbox={lon},{lat},{lon + 0.5},{lat + 0.5}&limit=50")


class PacedWorkload(Workload):
    """Every client, readers and the writers of harness.py alike, pauses 0-0.2 s before each turn: people's pace."""

    def __init__(self, rng_seed: int):
        super().__init__()
        self._rng = random.Random(rng_seed)
        self._rng_lock = threading.Lock()

    def take(self, n: int = 1) -> bool:
        with self._rng_lock:
            pause = self._rng.uniform(0, 0.2)
        time.sleep(pause)
        return super().take(n)


def sample(server: Server, rec: Recorder, since: float, elapsed: float) -> dict:
    figures = process_figures(server.pid)
    window = [c for c in rec.of() if c.started >= since and c.status]
    times = [c.seconds * 1000 for c in window]
    return {"t": round(elapsed), "rss_mb": figures["rss_kb"] / 1024, "fds": figures["fds"],
            "wal_kb": wal_bytes(registry_path(server.data_dir)) / 1024, "requests": len(window),
            "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95),
            "errors": sum(1 for c in window if c.status >= 500)}


def judge(samples: list[dict]) -> list[str]:
    problems = []
    third = max(1, len(samples) // 3)
    first, middle, last = samples[1:third + 1] or samples[:1], samples[third:2 * third], samples[2 * third:]
    if middle and last:
        if max(s["rss_mb"] for s in last) > 1.10 * max(s["rss_mb"] for s in middle):
            problems.append("memory still growing in the last third: "
                            f"{max(s['rss_mb'] for s in middle):.0f} -> {max(s['rss_mb'] for s in last):.0f} MB")
        if max(s["fds"] for s in last) > max(s["fds"] for s in middle) + 3:
            problems.append(f"file descriptors still growing: {max(s['fds'] for s in middle)} -> "
                            f"{max(s['fds'] for s in last)}")
        p95_first = statistics.median(s["p95_ms"] for s in first)
        p95_last = statistics.median(s["p95_ms"] for s in last)
        if p95_last > 1.5 * p95_first:
            problems.append(f"p95 not stable: {p95_first:.0f} ms in the first third, {p95_last:.0f} ms in the last")
    peak_wal = max(s["wal_kb"] for s in samples) * 1024
    if peak_wal > WAL_LIMIT:
        problems.append(f"the WAL grew to {peak_wal / 1e6:.1f} MB: checkpoints are not keeping up")
    return problems


def run(duration: float, interval: float = 10.0, log=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        data_dir = Path(tmp) / "data"
        accounts = prepare_data_dir(data_dir, field_users=2, experts=2)
        server = Server(data_dir).start()
        work, rec = PacedWorkload(5), Recorder()
        threads = [threading.Thread(target=map_panner, args=(server.url, work, rec, i)) for i in range(3)]
        threads.append(threading.Thread(target=api_reader, args=(server.url, accounts.admin, work, rec, 9)))
        threads += [threading.Thread(target=field_user, args=(server.url, accounts.field[i], DEMO_CODES[i::2], work,
                                                              rec, 100 + i, 5)) for i in range(2)]
        threads.append(threading.Thread(target=expert, args=(server.url, accounts.experts[0], work, rec)))
        threads.append(threading.Thread(target=inspector, args=(server.url, accounts.experts[1], DEMO_CODES, work,
                                                                rec, 7)))
        started = time.monotonic()
        samples = []
        for t in threads:
            t.start()
        try:
            while time.monotonic() - started < duration:
                since = time.monotonic()
                time.sleep(min(interval, max(0.0, duration - (since - started))))
                samples.append(sample(server, rec, since, time.monotonic() - started))
                s = samples[-1]
                log(f"t={s['t']:>5} s  rss {s['rss_mb']:6.1f} MB  fds {s['fds']:3}  WAL {s['wal_kb']:7.0f} KB  "
                    f"{s['requests']:4} requests  p50 {s['p50_ms']:5.0f} ms  p95 {s['p95_ms']:5.0f} ms  "
                    f"5xx {s['errors']}")
        finally:
            work.stop.set()
            for t in threads:
                t.join(timeout=60)
            server.stop()
        wal_after = wal_bytes(registry_path(data_dir))
        problems = judge(samples)
        problems += [f"{c.kind}: {c.status} {c.error}" for c in rec.server_errors()]
        conn = store.connect(registry_path(data_dir), readonly=True)
        try:
            problems += missing_acknowledged(conn, work) + partial_writes(conn) + store.check_integrity(conn)
        finally:
            conn.close()
        ok, out = registry_check(data_dir)
        if not ok:
            problems.append("registry check: " + out[-1500:])
        if "database is locked" in server.log():
            problems.append("the server log mentions 'database is locked'")
    calls = rec.of()
    return {"duration_s": duration, "samples": samples, "requests": len(calls),
            "writes": work.acknowledged(), "proposals": len(work.proposed), "approvals": len(work.approved),
            "inspections": len(work.inspected), "wal_after": wal_after,
            "statuses": {k: sum(1 for c in calls if c.status == k) for k in sorted({c.status for c in calls})},
            "problems": problems}


COLUMNS = [("t", "t (s)"), ("rss_mb", "memory MB"), ("fds", "open files"), ("wal_kb", "WAL KB"),
           ("requests", "requests"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"), ("errors", "5xx")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=1800, help="seconds (default 30 minutes)")
    parser.add_argument("--interval", type=float, default=10)
    parser.add_argument("--quick", action="store_true", help="2 minutes")
    args = parser.parse_args(argv)
    result = run(120 if args.quick else args.duration, args.interval)
    samples = result["samples"]
    print()
    print(f"{result['requests']:,} requests in {result['duration_s']:.0f} s; {result['writes']} writes acknowledged "
          f"({result['proposals']} proposals, {result['approvals']} approvals, {result['inspections']} inspections "
          f"with photos); statuses {result['statuses']}; WAL after stop: {result['wal_after']} bytes")
    shown = samples if len(samples) <= 13 else [samples[i] for i in sorted({round(k * (len(samples) - 1) / 6)
                                                                             for k in range(7)})]
    print(table(shown, COLUMNS))
    for p in result["problems"]:
        print("PROBLEM:", p)
    print("soak: " + ("levels off, WAL checkpointed, p95 stable, registry check clean" if not result["problems"]
                      else f"{len(result['problems'])} problem(s)"))
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
