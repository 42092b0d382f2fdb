"""Cost of the site import on a registry of 2,000 sites: a CSV of 5,000 rows (4,000 new sites, 1,000 changes matched
by code) and a GeoPackage of the same rows in a Gauss-Kruger zone. For each: the upload request (the file read and
checked as a whole), the background analysis (matching, the revision workflow's check of every row, open proposals),
proposing the 5,000 rows (one transaction each), and the same file again (nothing new). The jobs run here in the
foreground (imports.run), exactly as the background thread runs them. Prints figures; asserts nothing.
Run: .venv/bin/python bench/bench_import.py"""
from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pyogrio
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, box

from fossil_registry import imports, sites, store

SITES = 2000
ROWS = 5000
CHANGES = 1000


def build(path: Path) -> list[tuple[str, float, float]]:
    store.create_registry(path)
    conn = store.connect(path)
    store.migrate(conn)
    rng = random.Random(7)
    made = []
    with store.transaction(conn):
        for i in range(1, SITES + 1):
            lon, lat = rng.uniform(104.0, 109.0), rng.uniform(25.0, 28.8)
            h = rng.uniform(0.002, 0.01)
            sites.create_site(conn, code=f"GZ-{i:04d}", properties={
                "name": f"化石点 {i}", "level": "general", "sensitivity": "open", "county": "Bench",
                "period": "Triassic"}, location=Point(lon, lat),
                boundary=MultiPolygon([box(lon - h, lat - h, lon + h, lat + h)]), author="bench", reason="bench")
            made.append((f"GZ-{i:04d}", lon, lat))
    conn.close()
    return made


def rows(existing: list[tuple[str, float, float]]) -> list[dict]:
    rng = random.Random(11)
    out = []
    for i in range(ROWS):
        if i < CHANGES:
            code, lon, lat = existing[i]
            out.append({"编号": code, "名称": f"化石点 {i + 1}", "级别": "省级", "时代": "三叠纪", "lon": lon + 0.0001,
                        "lat": lat})
        else:
            out.append({"编号": f"KC-{i:05d}", "名称": f"调查新点 {i}", "级别": "一般", "时代": "寒武纪",
                        "lon": rng.uniform(106.0, 108.5), "lat": rng.uniform(25.5, 28.0)})
    return out


def as_csv(records: list[dict]) -> bytes:
    lines = ["编号,名称,级别,时代,经度,纬度"]
    lines += [f"{r['编号']},{r['名称']},{r['级别']},{r['时代']},{r['lon']:.7f},{r['lat']:.7f}" for r in records]
    return "\n".join(lines).encode("gbk")


def as_gpkg(records: list[dict], tmp: Path) -> bytes:
    to_gk = Transformer.from_crs(4490, 4545, always_xy=True)
    points = [Point(*to_gk.transform(r["lon"], r["lat"])) for r in records]
    df = gpd.GeoDataFrame([{k: v for k, v in r.items() if k not in ("lon", "lat")} for r in records],
                          geometry=points, crs="EPSG:4545")
    path = tmp / "survey.gpkg"
    pyogrio.write_dataframe(df, path, layer="sites")
    return path.read_bytes()


def run_once(path: Path, settings: imports.Settings, filename: str, data: bytes) -> dict:
    quiet = imports.Settings(**{**settings.__dict__, "registry_path": None})  # jobs run below, in the foreground
    conn = store.connect(path)
    clock = []

    def tick():
        clock.append((time.perf_counter(), time.process_time()))

    tick()
    imp = imports.create(conn, filename, data, {}, actor="bench-admin", settings=quiet)
    tick()
    imports.run(str(path), imp["fid"], settings)
    tick()
    imp = imports.get(conn, imp["fid"])
    counts = dict(imp["counts"])
    imports.confirm(conn, imp["fid"], {"generation": imp["generation"], "reason": "bench campaign"},
                    actor="bench-admin", settings=quiet)
    tick()
    imports.run(str(path), imp["fid"], settings)
    tick()
    counts = imports.get(conn, imp["fid"])["counts"]
    conn.close()

    def span(a, b):
        return clock[b][0] - clock[a][0], clock[b][1] - clock[a][1]
    return {"upload": span(0, 1), "analysis": span(1, 2), "propose": span(3, 4), "counts": counts}


def report(label: str, r: dict) -> None:
    """Wall-clock and CPU seconds: on a shared machine the CPU time says what the work costs, the wall clock what a
    person waited."""
    c = r["counts"]
    (uw, uc), (aw, ac), (pw, pc) = r["upload"], r["analysis"], r["propose"]
    print(f"{label}: upload request (read + checks) {uw:.2f} s (CPU {uc:.2f} s); analysis {aw:.1f} s (CPU {ac:.1f} s: "
          f"{ROWS / ac:,.0f} rows/s)")
    made = c.get("result_proposed", 0)
    print(f"    proposing {pw:.1f} s (CPU {pc:.1f} s" + (f": {made / pc:,.0f} proposals/s)" if made else ")"))
    print(f"    outcomes: new {c['new']}, change {c['change']}, unchanged {c['unchanged']}, already {c['already']}, "
          f"refused {c['refused']}; proposed {made}, already proposed {c.get('result_already', 0)}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, make, filename in (("CSV (GBK, lon/lat)", as_csv, "survey.csv"),
                                      ("GeoPackage (EPSG:4545)", None, "survey.gpkg")):
            path = tmp / label.split()[0] / "registry.gpkg"
            path.parent.mkdir()
            existing = build(path)
            records = rows(existing)
            data = make(records) if make else as_gpkg(records, tmp)
            settings = imports.Settings.from_config({"REGISTRY_PATH": str(path), "DATA_DIR": str(tmp)})
            print(f"{label}, {ROWS:,} rows ({len(data) / 1e6:.2f} MB) against {SITES:,} sites")
            report("  first run", run_once(path, settings, filename, data))
            report("  same file again", run_once(path, settings, filename, data))


if __name__ == "__main__":
    main()
