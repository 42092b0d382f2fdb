"""GeoPackage vs PostGIS, one app process vs four: the versioned update, OGC API reads and concurrent writers.

Builds a registry of --sites sites (GeoPackage), copies it into a throwaway PostgreSQL cluster (tests/pg_cluster.py,
Debian's postgresql-15-postgis-3) and starts a throwaway redis-server for the four-process runs. Then:

* versioned update: --updates location + boundary changes through the store, one at a time (median, p95);
* for each backend and 1 or 4 app processes (`python -m fossil_registry.serve`, WORKERS=1 with 8 threads or WORKERS=4
  with 4 threads each, the way `make run WORKERS=4` starts them):
  - OGC API read: 8 clients with keep-alive read /ogcapi/collections/sites/items (bbox of ~0.05 degrees, limit 100,
    anonymous: the public view) --reads times each;
  - load: 8 and 32 concurrent writers, each --cycles times proposing a change to a site of its own and having it
    approved (two writes, the second one a new site version), over the API with bearer tokens.

Prints the figures side by side; asserts nothing. Run: .venv/bin/python bench/bench_backends.py [--sites 2000]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_ogcapi import free_port, hammer, pct, registry_url, wait_until_up  # noqa: E402
from bench_update import build, time_updates  # noqa: E402

from fossil_registry import auth, store  # noqa: E402
from tests.pg_cluster import Cluster  # noqa: E402


def tokens(location) -> dict[str, str]:
    conn = store.connect(location)
    try:
        store.migrate(conn)
        auth.create_user(conn, username="bench-field", role="field", password="bench-pass-0001", actor="bench")
        auth.create_user(conn, username="bench-expert", role="expert", password="bench-pass-0002", actor="bench")
        return {"field": auth.issue_token(conn, "bench-field", label="bench", actor="bench"),
                "expert": auth.issue_token(conn, "bench-expert", label="bench", actor="bench")}
    finally:
        conn.close()


def serve(workdir: Path, env_extra: dict, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "FLASK_SECRET_KEY": "bench", "PORT": str(port), "WORKERS": str(workers),
           "THREADS": "8" if workers == 1 else "4", "FLASK_CREATE_DEMO_IF_MISSING": "false", **env_extra}
    log = workdir / f"server-{port}.log"
    process = subprocess.Popen([sys.executable, "-m", "fossil_registry.serve"], env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/ogcapi", process, log)
    return process, url


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def load(url: str, keys: dict[str, str], writers: int, cycles: int, first_site: int) -> dict:
    """``writers`` threads, each proposing and approving ``cycles`` changes to a site of its own."""
    field = {"Authorization": f"Bearer {keys['field']}"}
    expert = {"Authorization": f"Bearer {keys['expert']}"}
    latencies, failures, lock = [], [], threading.Lock()
    barrier = threading.Barrier(writers + 1)

    def writer(i: int) -> None:
        session = requests.Session()
        code = f"GZ-{first_site + i:06d}"
        site = session.get(f"{url}/api/sites/{code}", headers=field, timeout=60).json()
        version, (lon, lat) = site["version"], site["location"]["coordinates"]
        barrier.wait()
        mine, failed = [], 0
        for c in range(cycles):
            t0 = time.perf_counter()
            r = session.post(f"{url}/api/sites/{code}/revisions", headers=field, timeout=120, json={
                "base_version": version, "reason": "benchmark load",
                "location": {"type": "Point", "coordinates": [lon + (c + 1) * 1e-5, lat]}})
            if r.status_code != 201:
                failed += 1
                continue
            r = session.post(f"{url}/api/revisions/{r.json()['id']}/decision", headers=expert, timeout=120,
                             json={"decision": "approve", "round": 1})
            if r.status_code != 200:
                failed += 1
                continue
            version += 1
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            failures.append(failed)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    [t.start() for t in threads]
    barrier.wait()
    t0 = time.perf_counter()
    [t.join() for t in threads]
    wall = time.perf_counter() - t0
    return {"per_s": len(latencies) / wall, "median": statistics.median(latencies) if latencies else float("nan"),
            "p95": pct(latencies, 0.95) if latencies else float("nan"), "failed": sum(failures)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--reads", type=int, default=40, help="OGC API requests per client (8 clients)")
    parser.add_argument("--cycles", type=int, default=4, help="propose+approve cycles per writer")
    args = parser.parse_args()
    rng = np.random.default_rng(16)
    workdir = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    cluster = Cluster.create(settings={"shared_buffers": "'256MB'"})
    redis_port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    try:
        data_dir = workdir / "data"
        gpkg = data_dir / "sites" / "registry.gpkg"
        print(f"building {args.sites:,} sites ...", flush=True)
        build(gpkg, args.sites, rng)
        keys = tokens(gpkg)
        url = cluster.url("registry")
        cluster.admin("CREATE DATABASE registry")
        src = store.connect(gpkg)
        t0 = time.perf_counter()
        store.copy.copy_registry(src, url)
        src.close()
        print(f"copied to PostGIS in {time.perf_counter() - t0:.1f} s", flush=True)
        store.pg.close_pools()
        locations = {"GeoPackage": (gpkg, {"FLASK_DATA_DIR": str(data_dir)}),
                     "PostGIS": (url, {"FLASK_DATA_DIR": str(data_dir), "FLASK_DATABASE_URL": url})}
        results: dict[tuple[str, str], dict] = {}
        for name, (location, _) in locations.items():
            samples = time_updates(location, args.sites, args.updates, rng)
            results[(name, "update")] = {"median": statistics.median(samples) * 1000,
                                         "p95": pct(samples, 0.95) * 1000}
            store.pg.close_pools()
        lon, lat = 106.6, 26.6
        bbox = (lon - 0.025, lat - 0.025, lon + 0.025, lat + 0.025)
        first = 1
        for name, (_, env) in locations.items():
            for workers in (1, 4):
                extra = {**env, **({"FLASK_REDIS_URL": redis_url} if workers > 1 else {})}
                process, base = serve(workdir, extra, workers)
                try:
                    lat_s, wall, size, failed = hammer(registry_url(base, bbox, 100), {}, 8, args.reads)
                    results[(name, f"read{workers}")] = {"per_s": len(lat_s) / wall, "median": statistics.median(lat_s)
                                                          * 1000, "p95": pct(lat_s, 0.95) * 1000, "failed": failed}
                    for writers in (8, 32):
                        results[(name, f"load{workers}-{writers}")] = load(base, keys, writers, args.cycles, first)
                        first += writers
                finally:
                    stop(process)
                print(f"{name}, {workers} process(es) done", flush=True)
        report(results, args)
    finally:
        redis.terminate()
        store.pg.close_pools()
        cluster.remove()


def report(r: dict, args) -> None:
    g, p = "GeoPackage", "PostGIS"
    print(f"\n{args.sites:,} sites; machine: {os.cpu_count()} cores\n")
    print(f"{'':46} {'GeoPackage':>22} {'PostGIS':>22}")
    u = lambda k: f"{r[(k, 'update')]['median']:.2f} / {r[(k, 'update')]['p95']:.2f} ms"  # noqa: E731
    print(f"{'versioned update, store (median / p95)':46} {u(g):>22} {u(p):>22}")
    for workers in (1, 4):
        def read(k):
            x = r[(k, f"read{workers}")]
            return f"{x['per_s']:.0f}/s {x['median']:.1f}/{x['p95']:.1f} ms" + (f" ({x['failed']} failed)"
                                                                               if x["failed"] else "")
        print(f"{f'OGC API read, {workers} process(es): req/s, med/p95':46} {read(g):>22} {read(p):>22}")
        for writers in (8, 32):
            def w(k):
                x = r[(k, f"load{workers}-{writers}")]
                return f"{x['per_s']:.1f}/s p95 {x['p95'] * 1000:.0f} ms" + (f" ({x['failed']} failed)"
                                                                            if x["failed"] else "")
            print(f"{f'{writers} writers, {workers} process(es): approvals/s, p95':46} {w(g):>22} {w(p):>22}")


if __name__ == "__main__":
    main()
