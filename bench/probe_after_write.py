"""Issue 24's reads right after a write, taken apart in one process (docs/national-scale.md, "Reads right after a
write"): the app of this checkout on a registry built by bench_national (used in place: an approval or a few are
written into it), each read through ``app.test_client``:

* ``warm``: each of bench_national's after-write reads on a connection that read it just before: wall and CPU ms;
* ``after``: an approval (over the API, as bench_national's), then the same read once on every pooled connection:
  the first read of a connection whose page cache the write made SQLite drop, wall and CPU ms;
* ``concurrent``: the 8 reads at once on 8 threads (as bench_national's 8 readers), with and without an approval
  just before: each read's wall ms and the slowest.

--http WORKERS: the same 8 concurrent readers over HTTP against the server as `make run` serves it (bench_national's
``serve``, WORKERS processes), once its warm-up is over (--settle seconds), with and without an approval before them.

Run: .venv/bin/python bench/probe_after_write.py DATA_DIR SITES [--rounds 5] [--only warm,after,concurrent]
     [--http WORKERS]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import bench_national  # noqa: E402
from bench_national import AFTER_WRITE, reads  # noqa: E402
from harness import percentile  # noqa: E402

from fossil_registry import auth, create_app, db, store  # noqa: E402
from fossil_registry.registry import registry_path  # noqa: E402


def tokens(path: Path) -> dict[str, str]:
    conn = store.connect(path)
    try:
        return {role: auth.issue_token(conn, f"bench-{role}", label="probe", actor="bench")
                for role in ("field", "expert")}
    finally:
        conn.close()


def approve(client, keys: dict, code: str) -> float:
    """A proposal and its approval over the API: the approval's wall ms."""
    field = {"Authorization": f"Bearer {keys['field']}"}
    expert = {"Authorization": f"Bearer {keys['expert']}"}
    site = client.get(f"/api/sites/{code}", headers=field).get_json()
    lon, lat = site["location"]["coordinates"]
    r = client.post(f"/api/sites/{code}/revisions", headers=field, json={
        "base_version": site["version"], "reason": "benchmark approval",
        "location": {"type": "Point", "coordinates": [lon + 1e-4, lat]}})
    assert r.status_code == 201, r.get_data(as_text=True)[:300]
    t0 = time.perf_counter()
    r = client.post(f"/api/revisions/{r.get_json()['id']}/decision", headers=expert,
                    json={"decision": "approve", "round": 1})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return (time.perf_counter() - t0) * 1000


HEADERS: dict[str, str] = {}   # --accept-encoding: what requests sends (bench_national's client)


def timed(client, path: str) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.thread_time()
    r = client.get(path, headers=HEADERS)
    wall, cpu = (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000
    assert r.status_code == 200, (path, r.status_code)
    return wall, cpu


def pool_of(app):
    return next(iter(app.extensions["registry_pools"].values()))


def fill_pool(app, client, n: int) -> None:
    """n connections in the pool (8 threads reading at once open them)."""
    pool = pool_of(app)
    while len(pool.idle) < n:
        pool.idle.append(store.connect(pool.path))
    client.get("/ogcapi/collections/sites/items/GZ-0005")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("sites", type=int)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="warm,after,concurrent")
    parser.add_argument("--first-code", type=int, default=20)
    parser.add_argument("--accept-encoding", default="", help="e.g. 'gzip, deflate, br, zstd' (requests' default)")
    parser.add_argument("--http", type=int, default=0, help="WORKERS: over HTTP, as make run serves it")
    parser.add_argument("--settle", type=float, default=25.0)
    parser.add_argument("--threads", type=int, default=0, help="THREADS of the server (default: bench_national's)")
    args = parser.parse_args()
    if args.accept_encoding:
        HEADERS["Accept-Encoding"] = args.accept_encoding
    os.environ.update({"FLASK_DATA_DIR": args.data_dir, "FLASK_SECRET_KEY": "bench",
                       "FLASK_CREATE_DEMO_IF_MISSING": "false"})
    path = registry_path(Path(args.data_dir))
    keys = tokens(path)
    if args.http:
        return over_http(args, keys)
    app = create_app()
    client = app.test_client()
    paths = reads(args.sites)
    only = set(args.only.split(","))
    code = iter(f"GZ-{i:04d}" for i in range(args.first_code, 10_000))
    for label in AFTER_WRITE:   # first answers of the process (imports, statements prepared)
        client.get(paths[label])
    fill_pool(app, client, 8)
    print(f"{args.sites:,} sites, load average {os.getloadavg()[0]:.1f}", flush=True)

    if "warm" in only or "after" in only:
        warm: dict[str, list] = {k: [] for k in AFTER_WRITE}
        after: dict[str, list] = {k: [] for k in AFTER_WRITE}
        writes = []
        for _ in range(args.rounds):
            for label in AFTER_WRITE:
                timed(client, paths[label])
                warm[label].append(timed(client, paths[label]))
            writes.append(approve(client, keys, next(code)))
            pool = pool_of(app)
            every = list(pool.idle)
            conns = list(every)
            for label in AFTER_WRITE:   # each read on its own connection, each connection's first read since the write
                pool.idle[:] = [conns.pop(0)]  # the oldest: not the one the approval wrote with
                after[label].append(timed(client, paths[label]))
            pool.idle[:] = every
        print(f"approval (the decision's request) median {statistics.median(writes):.1f} ms")
        print("| read | warm wall / CPU ms (median) | first after a write wall / CPU ms (median, max wall) |")
        print("|---|---|---|")
        for label in AFTER_WRITE:
            w, a = warm[label], after[label]
            print(f"| {label} | {statistics.median(x for x, _ in w):.1f} / {statistics.median(c for _, c in w):.1f} | "
                  f"{statistics.median(x for x, _ in a):.1f} / {statistics.median(c for _, c in a):.1f}, "
                  f"{max(x for x, _ in a):.1f} |", flush=True)
        print(f"sums of medians: warm CPU {sum(statistics.median(c for _, c in warm[k]) for k in AFTER_WRITE):.1f}, "
              f"after CPU {sum(statistics.median(c for _, c in after[k]) for k in AFTER_WRITE):.1f} ms")

    if "concurrent" in only:
        for write in (False, True):
            slowest, every = [], []
            for _ in range(args.rounds):
                if write:
                    approve(client, keys, next(code))
                else:
                    for label in AFTER_WRITE:
                        client.get(paths[label])
                results: list[float] = []
                lock = threading.Lock()
                start = threading.Barrier(len(AFTER_WRITE))

                def reader(label: str) -> None:
                    c = app.test_client()
                    start.wait()
                    wall, _ = timed(c, paths[label])
                    with lock:
                        results.append(wall)
                threads = [threading.Thread(target=reader, args=(label,)) for label in AFTER_WRITE]
                [t.start() for t in threads]
                [t.join() for t in threads]
                slowest.append(max(results))
                every += results
            print(f"8 concurrent in one process, {'after an approval' if write else 'no write before'}: "
                  f"p50 / p95 / max {statistics.median(every):.1f} / "
                  f"{percentile([x / 1000 for x in every], 95) * 1000:.1f}"
                  f" / {max(every):.1f} ms; slowest per round {', '.join(f'{x:.0f}' for x in slowest)}", flush=True)
    db.close_idle(app)


def over_http(args, keys: dict) -> None:
    import requests
    log = Path(args.data_dir).parent / "probe-server.log"
    extra = {"THREADS": str(args.threads)} if args.threads else {}
    process, url, cold = bench_national.serve(ROOT, Path(args.data_dir), args.http, extra, log)
    try:
        paths = reads(args.sites)
        for _ in range(4):   # on new connections, so that every process has answered (and begun its warm-up)
            for label in AFTER_WRITE:
                requests.get(url + paths[label], headers={"Connection": "close"})
        time.sleep(args.settle)   # the warm-up (serve._warm_later) over
        idle0 = bench_national.cpu_s(process)
        time.sleep(2)
        print(f"server CPU while idle: {(bench_national.cpu_s(process) - idle0) / 2 * 100:.0f} % of a core", flush=True)
        print(f"{args.sites:,} sites, WORKERS={args.http}, THREADS={args.threads or 'default'}, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        code = iter(f"GZ-{i:04d}" for i in range(args.first_code, 10_000))
        for write in (False, True) * 2:
            every, slowest, server_cpu, client_cpu = [], [], [], []
            for _ in range(args.rounds):
                if write:
                    bench_national.approve(url, keys, next(code))
                else:
                    time.sleep(0.2)
                s0, c0 = bench_national.cpu_s(process), time.process_time()
                results: list[float] = []
                lock = threading.Lock()

                def reader(label: str) -> None:
                    t = bench_national.timed(requests.Session(), url + paths[label])
                    with lock:
                        results.append(t * 1000)
                threads = [threading.Thread(target=reader, args=(label,)) for label in AFTER_WRITE]
                [t.start() for t in threads]
                [t.join() for t in threads]
                server_cpu.append((bench_national.cpu_s(process) - s0) * 1000)
                client_cpu.append((time.process_time() - c0) * 1000)
                every += results
                slowest.append(max(results))
            print(f"8 concurrent over HTTP, {'after an approval' if write else 'no write before'}: p50 / p95 / max "
                  f"{statistics.median(every):.1f} / {percentile([x / 1000 for x in every], 95) * 1000:.1f} / "
                  f"{max(every):.1f} ms; slowest per round {', '.join(f'{x:.0f}' for x in slowest)}; "
                  f"CPU per round: server {statistics.median(server_cpu):.0f} ms, "
                  f"client {statistics.median(client_cpu):.0f} ms; load average "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
