"""OGC API - Features reads: this registry against pygeoapi on the same GeoPackage, side by side.

Builds a registry of N sites (bench_map.build: mixed levels and sensitivities, a boundary each), gives pygeoapi 0.2x a
COPY of the file (its SQLiteGPKG provider writes vgpkg_* tables into the GeoPackage it reads), and serves both the
same way: one process each, waitress with 8 threads, on loopback. Then, interleaved round by round, 8 concurrent
clients (keep-alive sessions) request the same windows from both:

* province: the whole region's bbox, every site in one answer (limit 10,000);
* county: a 0.5-degree box; small: a 0.05-degree box (both centred on the middle site);
* deep page: 100 features starting at the 9,001st (pygeoapi: offset; this registry: the keyset cursor of its next
  links, so a deep page costs what the first does).

Both are asked as staff (a Bearer token), since pygeoapi serves every column exactly and the same feature ids must come
back from both (checked before timing). The anonymous public view of this registry is timed too, without a peer.
Transfer: "identity" by default (neither compresses), and with --gzip this registry compresses (pygeoapi does not).

Prints p50/p95 latency and throughput (requests/s) per window and server, and the throughput ratio. Asserts nothing.

Run:  .venv/bin/python bench/bench_ogcapi.py [--sites 10000] [--rounds 3] [--clients 8] [--gzip]
pygeoapi runs from .venv-pygeoapi/ (made on first use from Debian's /usr/bin/python3 with --system-site-packages:
needs Debian's python3-gdal and libsqlite3-mod-spatialite; pip installs pygeoapi==PYGEOAPI_VERSION and waitress).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_map import build  # noqa: E402
from fossil_registry import auth, sites, store  # noqa: E402
from fossil_registry.registry import registry_path  # noqa: E402

PYGEOAPI_VERSION = "0.21.0"
PYGEOAPI_VENV = ROOT / ".venv-pygeoapi"
REGION = (103.6, 24.6, 109.6, 29.2)
def windows(lon: float, lat: float) -> dict:
    """name -> (bbox, limit, requests per client per round); the county and small boxes are centred on a site."""
    def around(half: float) -> tuple[float, float, float, float]:
        return (round(lon - half, 6), round(lat - half, 6), round(lon + half, 6), round(lat + half, 6))
    return {"province": (REGION, 10_000, 2), "county 0.5°": (around(0.25), 1_000, 25),
            "small 0.05°": (around(0.025), 100, 60)}


DEEP_OFFSET, DEEP_LIMIT, DEEP_REQUESTS = 9_000, 100, 40


# ------------------------------------------------------------------------------------------------------ servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    sys.exit(f"server did not start: {url}\n{log.read_text(errors='replace')[-3000:]}")


def pygeoapi_python() -> Path:
    python = PYGEOAPI_VENV / "bin" / "python"
    if python.exists():
        return python
    for needed in ("/usr/lib/python3/dist-packages/osgeo", "/usr/lib/x86_64-linux-gnu/mod_spatialite.so"):
        if not Path(needed).exists():
            sys.exit(f"{needed} is missing: apt-get install python3-gdal libsqlite3-mod-spatialite")
    print(f"making {PYGEOAPI_VENV} (pygeoapi {PYGEOAPI_VERSION}) ...", flush=True)
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(PYGEOAPI_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", f"pygeoapi=={PYGEOAPI_VERSION}", "waitress"],
                   check=True)
    return python


PYGEOAPI_CONFIG = """\
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  gzip: false
  languages: [en-US]
  cors: false
  pretty_print: false
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: 'https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png', attribution: OSM}}
logging:
  level: ERROR
metadata:
  identification: {{title: fossil sites, description: benchmark, keywords: [fossils], keywords_type: theme,
                   terms_of_service: none, url: 'http://127.0.0.1'}}
  license: {{name: none, url: 'http://127.0.0.1'}}
  provider: {{name: bench, url: 'http://127.0.0.1'}}
  contact: {{name: bench, position: bench, address: none, city: none, stateorprovince: none, postalcode: '0',
            country: CN, phone: '0', fax: '0', email: none@example.org, url: 'http://127.0.0.1', hours: none,
            instructions: none, role: pointOfContact}}
resources:
  sites:
    type: collection
    title: Fossil sites
    description: site locations
    keywords: [fossils]
    extents:
      spatial: {{bbox: [103.6, 24.6, 109.6, 29.2], crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}
    providers:
{provider}
"""
PROVIDERS = {
    "SQLiteGPKG": """\
      - type: feature
        name: SQLiteGPKG
        data: {data}
        id_field: code
        table: site_locations""",
    "OGR": """\
      - type: feature
        name: OGR
        data:
          source_type: GPKG
          source: {data}
          source_capabilities: {{paging: True}}
        id_field: code
        layer: site_locations""",
}


def start_pygeoapi(workdir: Path, gpkg_copy: Path, provider: str) -> tuple[subprocess.Popen, str]:
    python = pygeoapi_python()
    port = free_port()
    config = workdir / "pygeoapi.yml"
    openapi = workdir / "pygeoapi-openapi.yml"
    config.write_text(PYGEOAPI_CONFIG.format(port=port, provider=PROVIDERS[provider].format(data=gpkg_copy)))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi), "PROJ_DATA": "/usr/share/proj"}
    subprocess.run([str(python.parent / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(openapi)],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    log = workdir / "pygeoapi.log"
    code = textwrap.dedent("""
        from waitress import serve
        from pygeoapi.flask_app import APP
        import sys
        serve(APP, host="127.0.0.1", port=int(sys.argv[1]), threads=8, ident="pygeoapi")
    """)
    process = subprocess.Popen([str(python), "-c", code, str(port)], env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/collections/sites", process, log)
    return process, url


def start_registry(workdir: Path, data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "FLASK_DATA_DIR": str(data_dir), "FLASK_SECRET_KEY": "bench", "PORT": str(port),
           "THREADS": "8", "FLASK_CREATE_DEMO_IF_MISSING": "false"}
    log = workdir / "registry.log"
    process = subprocess.Popen([sys.executable, "-m", "fossil_registry.serve"], env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/ogcapi", process, log)
    return process, url


# ------------------------------------------------------------------------------------------------------ requests
def registry_url(base: str, bbox, limit: int, cursor: str | None = None) -> str:
    url = f"{base}/ogcapi/collections/sites/items?limit={limit}"
    if bbox:
        url += "&bbox=" + ",".join(map(str, bbox))
    return url + (f"&cursor={cursor}" if cursor else "")


def pygeoapi_url(base: str, bbox, limit: int, offset: int = 0) -> str:
    url = f"{base}/collections/sites/items?f=json&limit={limit}"
    if bbox:
        url += "&bbox=" + ",".join(map(str, bbox))
    return url + (f"&offset={offset}" if offset else "")


def ids(session: requests.Session, url: str) -> list[str]:
    r = session.get(url, timeout=300)
    r.raise_for_status()
    return [str(f["id"]) for f in r.json()["features"]]


def hammer(url: str, headers: dict, clients: int, per_client: int) -> tuple[list[float], float, int, int]:
    """clients threads, each with its own keep-alive session, each making per_client requests: (latencies of the
    successful answers, wall seconds, bytes of one answer, failed answers)."""
    latencies: list[float] = []
    sizes: list[int] = []
    errors: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client() -> None:
        session = requests.Session()
        session.headers.update(headers)
        session.get(url, timeout=300).content  # connection and server warm (an error here counts nowhere)
        start.wait()
        mine = []
        failed = 0
        for _ in range(per_client):
            t0 = time.perf_counter()
            r = session.get(url, timeout=300)
            body = r.content
            if r.status_code == 200:
                mine.append(time.perf_counter() - t0)
                size = len(body)
            else:
                failed += 1
        with lock:
            latencies.extend(mine)
            errors.append(failed)
            if mine:
                sizes.append(size)

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client) for _ in range(clients)]
        start.wait()
        t0 = time.perf_counter()
        for f in futures:
            f.result()
        wall = time.perf_counter() - t0
    return latencies, wall, sizes[0] if sizes else 0, sum(errors)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# ------------------------------------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--gzip", action="store_true", help="ask for gzip (this registry compresses; pygeoapi not)")
    parser.add_argument("--provider", choices=sorted(PROVIDERS), default="SQLiteGPKG", help="pygeoapi's provider")
    parser.add_argument("--no-pygeoapi", action="store_true", help="time this registry only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "data"
        path = registry_path(data)
        print(f"building a registry of {args.sites:,} sites ...", flush=True)
        print(f"  built in {build(path, args.sites):.1f} s", flush=True)
        conn = store.connect(path)
        store.migrate(conn)
        centre = sites.current(conn, f"GZ-{args.sites // 2:05d}").location.coords[0]
        auth.create_user(conn, username="bench-staff", role="field", password="bench-pass-0001", actor="bench")
        token = auth.issue_token(conn, "bench-staff", label="bench", actor="bench")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        copy = work / "pygeoapi" / "sites.gpkg"
        copy.parent.mkdir()
        shutil.copy(path, copy)
        peer = sqlite3.connect(copy)  # pygeoapi's provider expects a rollback-journal file: WAL makes it fail more
        peer.execute("PRAGMA journal_mode=DELETE")
        peer.close()

        servers = {}
        registry, registry_base = start_registry(work, data)
        servers["registry"] = registry
        try:
            if not args.no_pygeoapi:
                servers["pygeoapi"], pygeoapi_base = start_pygeoapi(work, copy, args.provider)
            staff = {"Authorization": f"Bearer {token}",
                     "Accept-Encoding": "gzip" if args.gzip else "identity"}
            anonymous = {"Accept-Encoding": staff["Accept-Encoding"]}
            session = requests.Session()
            session.headers.update(staff)

            # cold: the first answer after start builds the collection's index
            t0 = time.perf_counter()
            session.get(registry_url(registry_base, None, 1), timeout=300).raise_for_status()
            cold = time.perf_counter() - t0

            # the deep page: this registry's cursor is the id before the 9,001st feature
            all_ids = ids(session, registry_url(registry_base, None, 10_000))
            cursor = all_ids[DEEP_OFFSET - 1]
            cases = {name: (registry_url(registry_base, bbox, limit),
                            None if args.no_pygeoapi else pygeoapi_url(pygeoapi_base, bbox, limit), per)
                     for name, (bbox, limit, per) in windows(*centre).items()}
            cases["deep page (9,001-9,100)"] = (
                registry_url(registry_base, None, DEEP_LIMIT, cursor),
                None if args.no_pygeoapi else pygeoapi_url(pygeoapi_base, None, DEEP_LIMIT, DEEP_OFFSET), DEEP_REQUESTS)

            counts = {}
            for name, (ours, theirs, _) in cases.items():
                mine = ids(session, ours)
                counts[name] = len(mine)
                if theirs:
                    peer = ids(session, theirs)
                    same = sorted(mine) == sorted(peer) if not name.startswith("deep") else mine == peer
                    print(f"  {name}: {len(mine):,} features; same ids as pygeoapi: {same}", flush=True)
                    if not same:
                        sys.exit(f"{name}: the two servers answer different features; the comparison is void")

            results: dict[tuple[str, str], list] = {}
            for round_no in range(args.rounds):
                for name, (ours, theirs, per) in cases.items():
                    order = [("registry", ours, staff), ("pygeoapi", theirs, staff)]
                    if round_no % 2:
                        order.reverse()
                    order.append(("registry public view", ours, anonymous))
                    for who, url, headers in order:
                        if url is None:
                            continue
                        lat, wall, size, failed = hammer(url, headers, args.clients, per)
                        entry = results.setdefault((name, who), [[], 0.0, 0, size, 0])
                        entry[0].extend(lat)
                        entry[1] += wall
                        entry[2] += len(lat)
                        entry[4] += failed
                print(f"  round {round_no + 1}/{args.rounds} done", flush=True)
        finally:
            if os.environ.get("BENCH_KEEP_LOGS"):
                for log in work.glob("*.log"):
                    shutil.copy(log, Path(os.environ["BENCH_KEEP_LOGS"]) / log.name)
            for p in servers.values():
                p.terminate()
            for p in servers.values():
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()

    print()
    print(f"OGC API items, {args.sites:,} sites, {args.clients} concurrent clients, {args.rounds} interleaved rounds, "
          f"transfer {'gzip' if args.gzip else 'identity'}, pygeoapi {PYGEOAPI_VERSION} with its {args.provider} "
          f"provider; first answer after start (index build): {cold * 1000:.0f} ms")
    print()
    header = ("| window | features | registry p50 / p95 | pygeoapi p50 / p95 | registry req/s | pygeoapi req/s "
              "| throughput ratio | pygeoapi failed answers | public view p50 | answer size (registry / pygeoapi) |")
    print(header)
    print("|" + "---|" * 10)
    summary = {}
    for name in cases:
        ours = results[(name, "registry")]
        theirs = results.get((name, "pygeoapi"))
        public = results[(name, "registry public view")]
        ours_rps = ours[2] / ours[1]
        row = [name, f"{counts[name]:,}", f"{pct(ours[0], .5) * 1000:.1f} / {pct(ours[0], .95) * 1000:.1f} ms"]
        if theirs and theirs[0]:
            theirs_rps = theirs[2] / theirs[1]  # successful answers only
            row += [f"{pct(theirs[0], .5) * 1000:.1f} / {pct(theirs[0], .95) * 1000:.1f} ms", f"{ours_rps:.1f}",
                    f"{theirs_rps:.1f}", f"**{ours_rps / theirs_rps:.1f}x**", f"{theirs[4]} of {theirs[2] + theirs[4]}"]
            summary[name] = round(ours_rps / theirs_rps, 2)
        else:
            row += ["-", f"{ours_rps:.1f}", "-", "-", "-"]
        if ours[4] or public[4]:
            row[2] += f" ({ours[4] + public[4]} FAILED)"
        row += [f"{pct(public[0], .5) * 1000:.1f} ms",
                f"{ours[3] / 1024:,.0f} KB / " + (f"{theirs[3] / 1024:,.0f} KB" if theirs else "-")]
        print("| " + " | ".join(row) + " |")
    print()
    print("ratios:", json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
