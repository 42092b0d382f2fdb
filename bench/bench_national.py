"""National scale (issue 24): the read model against today's design (whole collections cached in memory per registry
state), side by side, on a registry of --sites sites.

Builds the registry in bulk through the store (bench/national_data.py: feature rows and version 1 in large
transactions, then the read model once), with a field and an expert account and their API tokens. Then, for each
design (this checkout, and --baseline: a clean copy of that commit's tree, `git archive`, serving its own copy of the
same registry file), served the way `make run` serves it (`python -m fossil_registry.serve`, WORKERS processes):

* cold start: from starting the server to the first answered OGC items page; then every process is reached and its
  warm-up (serve._warm_later) left to end before anything is timed;
* warm: each read (OGC first page, deep page at 90 %, county bbox, single feature, /api/sites, map layers at zoom 7
  and 11, boundaries, search) --repeat times one after the other: p50 / p95;
* after writes: --approvals times, one approval over the API (a proposal and an expert's decision: a new site
  version), then at once 8 concurrent readers (OGC first page, county bbox, deep page, map at zoom 7 and 11, search,
  /api/sites, single feature): p50 / p95 / max over all of them;
* the server's resident memory (all its processes) at the end.

--postgis copies the registry into a throwaway PostgreSQL cluster (tests/pg_cluster.py) and serves that, WORKERS=4 by
default. Prints Markdown tables; asserts nothing.

Run: .venv/bin/python bench/bench_national.py --sites 100000 [--baseline main] [--postgis]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import national_data  # noqa: E402
from harness import free_port, percentile  # noqa: E402

from fossil_registry import auth, read_model, store  # noqa: E402
from fossil_registry.registry import registry_path  # noqa: E402

PROVINCE = (103.6, 24.6, 109.6, 29.2)   # the default REGION_BBOX (config.py)


def county_bbox(n: int) -> tuple[float, float, float, float]:
    """A box holding ~1,000 of n sites spread evenly over PROVINCE (all of them when n is small)."""
    w, s, e, north = PROVINCE
    share = min(1.0, 1000 / max(n, 1)) ** 0.5
    cx, cy = (w + e) / 2, (s + north) / 2
    hw, hh = (e - w) * share / 2, (north - s) * share / 2
    return (round(cx - hw, 4), round(cy - hh, 4), round(cx + hw, 4), round(cy + hh, 4))


def build(data_dir: Path, n: int) -> dict:
    path = registry_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    store.create_registry(path)
    conn = store.connect(path)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        national_data.bulk_sites(conn, national_data.specs(1, n, PROVINCE))
        rows_s, rows_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        read_model.rebuild(conn)
        reads_s, reads_cpu = time.perf_counter() - t0, time.process_time() - c0
        auth.create_user(conn, username="bench-field", role="field", password="bench-pass-0001", actor="bench")
        auth.create_user(conn, username="bench-expert", role="expert", password="bench-pass-0002", actor="bench")
        keys = {"field": auth.issue_token(conn, "bench-field", label="bench", actor="bench"),
                "expert": auth.issue_token(conn, "bench-expert", label="bench", actor="bench")}
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return {"path": path, "keys": keys, "rows_s": rows_s, "reads_s": reads_s, "rows_cpu": rows_cpu,
            "reads_cpu": reads_cpu,
            "mb": path.stat().st_size / 1e6}


def reuse(workdir: Path) -> dict:
    """A registry built by an earlier run (kept): new API tokens for its bench accounts; no build figures."""
    path = registry_path(workdir / "data")
    conn = store.connect(path)
    try:
        keys = {"field": auth.issue_token(conn, "bench-field", label="bench", actor="bench"),
                "expert": auth.issue_token(conn, "bench-expert", label="bench", actor="bench")}
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for old in workdir.glob("baseline-*"):
        shutil.rmtree(old)
    nan = float("nan")
    return {"path": path, "keys": keys, "rows_s": nan, "reads_s": nan, "rows_cpu": nan, "reads_cpu": nan,
            "mb": path.stat().st_size / 1e6}


def versioned_updates(path: Path, n: int, count: int, seed: int = 7) -> tuple[float, float]:
    """``count`` versioned updates (location and boundary, as bench/bench_update.py) of random sites through the store
    (sites.change_site: history, audit and the read model in one transaction): median and p95 in ms."""
    import random

    from shapely.geometry import MultiPolygon, Point, box

    from fossil_registry import sites
    rng = random.Random(seed)
    conn = store.connect(path)
    samples = []
    try:
        for _ in range(count):
            i = rng.randrange(1, n + 1)
            code = f"GZ-{i:07d}" if i >= 10_000 else f"GZ-{i:04d}"
            site = sites.current(conn, code)
            dx = rng.uniform(-1e-4, 1e-4)
            x, y = site.location.x + dx, site.location.y
            t0 = time.perf_counter()
            sites.change_site(conn, code, base_version=site.version, author="bench", reason="benchmark update",
                              location=Point(x, y), boundary=MultiPolygon([box(x - 0.002, y - 0.002, x + 0.002,
                                                                                y + 0.002)]))
            samples.append(time.perf_counter() - t0)
    finally:
        conn.close()
    return statistics.median(samples) * 1000, percentile(samples, 95) * 1000


def reads(n: int) -> dict[str, str]:
    w, s, e, north = county_bbox(n)
    county = f"{w},{s},{e},{north}"
    cx, cy = (w + e) / 2, (s + north) / 2
    small = f"{cx - 0.15},{cy - 0.1},{cx + 0.15},{cy + 0.1}"
    province = ",".join(str(v) for v in PROVINCE)
    deep = national_data.site_spec(int(n * 0.9), __import__("random").Random(0), PROVINCE)[0]
    return {
        "OGC first page": "/ogcapi/collections/sites/items?limit=100",
        "OGC page at 90 %": f"/ogcapi/collections/sites/items?limit=100&cursor={deep}",
        "OGC county bbox": f"/ogcapi/collections/sites/items?limit=1000&bbox={county}",
        "OGC single feature": "/ogcapi/collections/sites/items/GZ-0005",
        "/api/sites": "/api/sites?limit=100",
        "map zoom 7": f"/map/sites.geojson?zoom=7&bbox={province}",
        "map zoom 11": f"/map/sites.geojson?zoom=11&bbox={small}",
        "boundaries zoom 11": f"/map/boundaries.geojson?zoom=11&bbox={small}",
        "search": "/map/search.json?q=guanling",
    }


AFTER_WRITE = ("OGC first page", "OGC county bbox", "OGC page at 90 %", "map zoom 7", "map zoom 11", "search",
               "/api/sites", "OGC single feature")


FIRST_ANSWER = "/ogcapi/collections/sites/items?limit=100"


def serve(cwd: Path, data_dir: Path, workers: int, env_extra: dict, log: Path,
          first: str = FIRST_ANSWER) -> tuple[subprocess.Popen, str, float]:
    """The server of ``cwd`` started on ``data_dir``, its address, and its cold start: seconds from starting the
    process to the first answer (200) to ``first`` (asked again every 50 ms until then)."""
    for _ in range(5):  # a free port taken by another process before the server binds it: another port
        try:
            return _serve(cwd, data_dir, workers, env_extra, log, first)
        except RuntimeError as e:
            if "Address already in use" not in str(e):
                raise
    raise RuntimeError("no free port")


def _serve(cwd: Path, data_dir: Path, workers: int, env_extra: dict, log: Path,
           first: str) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    env = {**os.environ, "FLASK_DATA_DIR": str(data_dir), "FLASK_SECRET_KEY": "bench", "PORT": str(port),
           "HOST": "127.0.0.1", "WORKERS": str(workers), "THREADS": "8" if workers == 1 else "4",
           "FLASK_CREATE_DEMO_IF_MISSING": "false", "PYTHONDONTWRITEBYTECODE": "1", **env_extra}
    t0 = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "fossil_registry.serve"], env=env, cwd=cwd,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if requests.get(url + first, timeout=600).status_code == 200:
                return process, url, time.perf_counter() - t0
        except requests.RequestException:
            pass
        if process.poll() is not None:
            raise RuntimeError("the server did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.05)


def rss_mb(process: subprocess.Popen, field: str = "VmRSS") -> float:
    """Resident memory of the server and its children (gunicorn's workers); ``field="RssFile"``: of it, the pages of
    files (the GeoPackage read through its memory map: shared with the operating system's cache, reclaimable)."""
    pids = [process.pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
    except FileNotFoundError:
        pass
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))
        except (FileNotFoundError, StopIteration):
            pass
    return total / 1024


def cpu_s(process: subprocess.Popen) -> float:
    """CPU seconds (user + system) of the server and its children (gunicorn's workers) so far."""
    out = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout
    total = 0
    for pid in [process.pid, *(int(p) for p in out.split())]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def settle(process: subprocess.Popen, url: str, workers: int, limit_s: float = 120.0) -> float:
    """Every process of the server reached (new connections), then until its warm-up is over (serve._warm_later:
    ~3-5 s of CPU per process): until the server uses under 5 % of a core for a second. Seconds waited."""
    t0 = time.perf_counter()
    for _ in range(4 * workers):
        requests.get(url + FIRST_ANSWER, headers={"Connection": "close"}, timeout=600)
    while time.perf_counter() - t0 < limit_s:
        before = cpu_s(process)
        time.sleep(1)
        if cpu_s(process) - before < 0.05:
            break
    return time.perf_counter() - t0


def timed(session: requests.Session, url: str) -> float:
    t0 = time.perf_counter()
    r = session.get(url, timeout=600)
    elapsed = time.perf_counter() - t0
    if r.status_code != 200:
        raise RuntimeError(f"{url}: {r.status_code} {r.text[:300]}")
    return elapsed


def approve(url: str, keys: dict, code: str) -> None:
    field = {"Authorization": f"Bearer {keys['field']}"}
    expert = {"Authorization": f"Bearer {keys['expert']}"}
    site = requests.get(f"{url}/api/sites/{code}", headers=field, timeout=600).json()
    lon, lat = site["location"]["coordinates"]
    r = requests.post(f"{url}/api/sites/{code}/revisions", headers=field, timeout=600, json={
        "base_version": site["version"], "reason": "benchmark approval",
        "location": {"type": "Point", "coordinates": [lon + 1e-4, lat]}})
    r.raise_for_status()
    r = requests.post(f"{url}/api/revisions/{r.json()['id']}/decision", headers=expert, timeout=600,
                      json={"decision": "approve", "round": 1})
    r.raise_for_status()


def measure(name: str, cwd: Path, data_dir: Path, n: int, keys: dict, args, env_extra: dict, workdir: Path) -> dict:
    print(f"[{name}] serving ...", flush=True)
    process, url, cold = serve(cwd, data_dir, args.workers, env_extra, workdir / f"{name}.log")
    out: dict = {"design": name, "cold start s": round(cold, 2)}
    print(f"[{name}] warmed up {settle(process, url, args.workers):.0f} s after its first answer", flush=True)
    load_before = os.getloadavg()[0]
    try:
        session = requests.Session()
        paths = reads(n)
        for label, path in paths.items():
            timed(session, url + path)  # warm-up: the first one (today's design builds its caches here)
            times = [timed(session, url + path) for _ in range(args.repeat)]
            out[f"warm {label}"] = (statistics.median(times) * 1000, percentile(times, 95) * 1000)
        after: list[float] = []
        per_read: dict[str, list[float]] = {k: [] for k in AFTER_WRITE}
        for a in range(args.approvals):
            approve(url, keys, f"GZ-{a + 10:04d}")
            results: list[tuple[str, float]] = []
            lock = threading.Lock()

            def reader(label: str) -> None:
                t = timed(requests.Session(), url + paths[label])
                with lock:
                    results.append((label, t))
            threads = [threading.Thread(target=reader, args=(label,)) for label in AFTER_WRITE]
            [t.start() for t in threads]
            [t.join() for t in threads]
            for label, t in results:
                after.append(t)
                per_read[label].append(t)
            print(f"[{name}] approval {a + 1}: slowest read after it {max(t for _, t in results) * 1000:.0f} ms",
                  flush=True)
        out["after write p50/p95/max ms"] = (statistics.median(after) * 1000, percentile(after, 95) * 1000,
                                             max(after) * 1000)
        out["after write per read max ms"] = {k: max(v) * 1000 for k, v in per_read.items()}
        out["rss MB"] = round(rss_mb(process), 0)
        out["of it file pages MB"] = round(rss_mb(process, "RssFile"), 0)
        out["load average (1 min) before / after"] = f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return out


def baseline_tree(commit: str, workdir: Path) -> Path:
    """A clean copy of ``commit``'s tree (git archive: nothing of the main checkout is touched)."""
    tree = workdir / f"baseline-{commit.replace('/', '_')}"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    subprocess.run([sys.executable, "-c", "from fossil_registry.i18n import compile_catalogs; compile_catalogs()"],
                   cwd=tree, check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return tree


def fmt(v) -> str:
    if isinstance(v, tuple):
        return " / ".join(f"{x:,.1f}" for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}: {x:,.0f}" for k, x in v.items())
    return f"{v:,}" if isinstance(v, (int, float)) else str(v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="warm requests per read")
    parser.add_argument("--approvals", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--baseline", default="main", help="commit of today's design ('' to leave it out)")
    parser.add_argument("--postgis", action="store_true", help="serve from PostGIS (WORKERS=4 unless --workers)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--reuse", help="a working directory kept (--keep) by an earlier run of the same --sites: its "
                        "registry is measured again, without building it")
    parser.add_argument("--in-place", action="store_true", help="with --reuse, on GeoPackage, one design: serve the "
                        "kept registry itself (the approvals are written into it) instead of a copy (a million sites: "
                        "10 GB)")
    parser.add_argument("--updates", type=int, default=0, help="versioned updates timed on the built registry and "
                        "on a 1,000-site one (the write's cost must not grow with the registry)")
    args = parser.parse_args()
    if args.postgis and args.workers == 1:
        args.workers = 4
    if args.in_place and not (args.reuse and not args.postgis and not args.baseline):
        parser.error("--in-place serves a kept GeoPackage (--reuse) with one design (--baseline '')")
    workdir = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="bench-national-"))
    try:
        if args.reuse:
            built = reuse(workdir)
        else:
            print(f"building {args.sites:,} sites in bulk ...", flush=True)
            built = build(workdir / "data", args.sites)
        print(f"  rows {built['rows_s']:.0f} s (CPU {built['rows_cpu']:.0f} s), read model {built['reads_s']:.0f} s "
              f"(CPU {built['reads_cpu']:.0f} s: {args.sites / built['reads_cpu']:,.0f} sites/s of CPU), "
              f"file {built['mb']:.0f} MB, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        if args.updates and not args.reuse:
            small = build(workdir / "small", 1000)
            for label, where, size in (("1,000 sites", small["path"], 1000), (f"{args.sites:,} sites", None, args.sites)):
                probe = workdir / "probe.gpkg"
                shutil.copy(where or built["path"], probe)
                print(f"  versioned update at {label}: median / p95 "
                      f"{' / '.join(f'{v:.1f}' for v in versioned_updates(probe, size, args.updates))} ms", flush=True)
                probe.unlink()
        designs = [("read model", ROOT)]
        if args.baseline:
            designs.append((f"today ({args.baseline})", baseline_tree(args.baseline, workdir)))
        rows = []
        for name, cwd in designs:
            data_dir = workdir / f"data-{len(rows)}"
            if args.in_place:
                data_dir = workdir / "data"
            else:
                shutil.rmtree(data_dir, ignore_errors=True)
                shutil.copytree(workdir / "data", data_dir)
            env: dict = {}
            cluster = None
            try:   # the cluster removed whatever fails, the copy and the build included
                if args.postgis:
                    from tests.pg_cluster import Cluster
                    cluster = Cluster.create(settings={"shared_buffers": "'256MB'"})
                    cluster.admin("CREATE DATABASE registry")
                    url = cluster.url("registry")
                    src = store.connect(built["path"])
                    t0 = time.perf_counter()
                    store.copy.copy_registry(src, url)
                    src.close()
                    if cwd == ROOT:
                        conn = store.connect(url)
                        read_model.rebuild(conn)
                        conn.close()
                    print(f"  copied into PostGIS in {time.perf_counter() - t0:.0f} s", flush=True)
                    env["FLASK_DATABASE_URL"] = url
                rows.append(measure(name, cwd, data_dir, args.sites, built["keys"], args, env, workdir))
            finally:
                if cluster is not None:
                    store.pg.close_pool(cluster.url("registry"))
                    cluster.remove()  # stopped and its directory deleted (2.3 GB at 100,000 sites)
        backend = f"PostGIS, WORKERS={args.workers}" if args.postgis else f"GeoPackage, WORKERS={args.workers}"
        print(f"\n{args.sites:,} sites, {backend}; build: rows {built['rows_s']:.0f} s + read model "
              f"{built['reads_s']:.0f} s; times in ms (p50 / p95)\n")
        keys = [k for k in rows[0] if k != "design"]
        print("| | " + " | ".join(r["design"] for r in rows) + " |")
        print("|---|" + "---|" * len(rows))
        for k in keys:
            print(f"| {k} | " + " | ".join(fmt(r.get(k, "")) for r in rows) + " |")
    finally:
        if not args.keep and not args.reuse:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")


if __name__ == "__main__":
    main()
