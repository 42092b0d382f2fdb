"""Figures for supervision: builds a registry of 10,000 sites with 50,000 inspections, 20,000 proposals (most of them
approved into new site versions) and 3,000 public reports spread over five years, then times the summary of a year,
the dashboard's figures, the annual report's figures, and the pages and answers over HTTP. Prints figures; asserts
nothing.

The registry is written with the store's own functions in one transaction per batch (the domain's checks would make
the build take an hour, and are not what is measured here); every row is what the domain writes.

    .venv/bin/python bench/bench_supervision.py [SITES]
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shapely.geometry import MultiPolygon, Point, box  # noqa: E402

from fossil_registry import auth, create_app, store, supervision  # noqa: E402
from fossil_registry.registry import registry_path  # noqa: E402
from fossil_registry.store import inspections as istore  # noqa: E402
from fossil_registry.store import reports as pstore  # noqa: E402
from fossil_registry.store import revisions as rstore  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
LEVELS = ["national"] * 2 + ["provincial"] * 8 + ["general"] * 90
COUNTIES = [f"县{i:02d}" for i in range(88)]
CONDITIONS = ["good"] * 50 + ["fair"] * 30 + ["poor"] * 12 + ["damaged"] * 6 + ["destroyed"] * 2
THREATS = ("quarrying", "construction", "illegal_excavation", "erosion_landslide", "vegetation", "vandalism")
METHODS = ("rtk", "handheld_gnss", "phone_map", "digitised", None)


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def square(lon: float, lat: float, half: float = 0.004) -> MultiPolygon:
    return MultiPolygon([box(lon - half, lat - half, lon + half, lat + half)])


def build(path: Path, n_sites: int, n_inspections: int, n_revisions: int, n_reports: int, today: date) -> dict:
    rng = random.Random(13)
    store.create_registry(path)
    conn = store.connect(path)
    start = datetime(today.year - 5, 1, 1, 9, tzinfo=TZ)
    span = (datetime.combine(today, datetime.min.time(), TZ) - start).total_seconds()
    site_info = {}
    with store.transaction(conn):
        for i in range(1, n_sites + 1):
            code = f"GZ-{i:05d}"
            lon, lat = rng.uniform(103.8, 109.4), rng.uniform(24.8, 29.0)
            props = {"name": f"化石点{i}", "name_en": f"Site {i}", "level": rng.choice(LEVELS), "sensitivity":
                     rng.choice(["open", "open", "generalized", "hidden"]), "county": rng.choice(COUNTIES),
                     "status": "active", "fossil_groups": [], "established": None}
            created = start + timedelta(seconds=rng.uniform(0, span * 0.3))
            row = store.SiteRow(code=code, attributes=props, location=Point(lon, lat), boundary=square(lon, lat),
                                version=1, updated_at=stamp(created), updated_by="bench")
            store.write_site_row(conn, row, area_km2=0.8, insert=True)
            store.append_version(conn, store.VersionRow(code, 1, "import" if i % 10 else "create", stamp(created),
                                                        "bench", None, "bench", props, row.location, row.boundary,
                                                        None))
            site_info[code] = [row, created]
    # proposals in time order; approved ones become the site's next version
    moments = sorted(start + timedelta(seconds=rng.uniform(span * 0.3, span)) for _ in range(n_revisions))
    approved = 0
    for batch in range(0, n_revisions, 2000):
        with store.transaction(conn):
            for created in moments[batch:batch + 2000]:
                code = f"GZ-{rng.randint(1, n_sites):05d}"
                row, _first = site_info[code]
                decided = created + timedelta(hours=rng.uniform(1, 24 * 40))
                status = rng.choices(["approved", "rejected", "withdrawn", "submitted"], [70, 15, 5, 10])[0]
                if decided > datetime.now(TZ) and status != "submitted":
                    status = "submitted"
                method = rng.choice(METHODS)
                moved = Point(row.location.x + rng.uniform(-1e-4, 1e-4), row.location.y)
                fields = dict(kind="change", site_code=code, base_version=row.version, status=status, author="field",
                              created_at=stamp(created), updated_at=stamp(decided if status != "submitted" else
                                                                          created),
                              reason="bench", method=method, accuracy_m=rng.choice([0.05, 3, 10, 50]) if method else None,
                              location=moved, boundary_action="set", boundary=square(moved.x, moved.y))
                if status in ("approved", "rejected"):
                    fields.update(reviewer="expert", decided_at=stamp(decided),
                                  decision_comment=None if status == "approved" else "no")
                if status == "approved":
                    fields["applied_version"] = row.version + 1
                rid = rstore.insert_revision(conn, **fields)
                if status == "approved":
                    new = store.SiteRow(code=code, attributes=row.attributes, location=moved,
                                        boundary=square(moved.x, moved.y), version=row.version + 1,
                                        updated_at=stamp(decided), updated_by="field")
                    store.write_site_row(conn, new, area_km2=0.8, insert=False)
                    store.append_version(conn, store.VersionRow(code, new.version, "update", stamp(decided), "field",
                                                                "expert", "bench", row.attributes, moved,
                                                                new.boundary, rid))
                    site_info[code][0] = new
                    approved += 1
    codes = list(site_info)
    for batch in range(0, n_inspections, 5000):
        with store.transaction(conn):
            for _ in range(min(5000, n_inspections - batch)):
                code = rng.choice(codes)
                first = site_info[code][1]
                day = (first + timedelta(seconds=rng.uniform(0, (datetime.now(TZ) - first).total_seconds()))).date()
                recorded = stamp(datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=20))
                iid = istore.insert_inspection(conn, code=code, point=None, inspected_on=day.isoformat(),
                                               inspectors="bench", condition=rng.choice(CONDITIONS),
                                               threats_summary="", findings="", actions="", followup_needed=False,
                                               photo_count=0, flagged_photos=0, site_version=1, recorded_at=recorded,
                                               recorded_by="expert")
                if rng.random() < 0.2:
                    istore.insert_threat(conn, iid, rng.choice(THREATS), rng.choice(["low", "medium", "high"]), None)
                if rng.random() < 0.05:
                    istore.insert_followup(conn, code=code, description="bench", due_on=(day + timedelta(days=30))
                                           .isoformat(), created_at=recorded, created_by="expert", inspection_id=iid)
    with store.transaction(conn):
        for i in range(n_reports):
            submitted = start + timedelta(seconds=rng.uniform(0, span))
            rid = pstore.insert_report(conn, point=Point(rng.uniform(104, 109), rng.uniform(25, 29)),
                                       receipt=f"bench-{i}", kind=rng.choice(["find", "damage"]),
                                       description="bench report", observed_on=None, submitted_at=stamp(submitted),
                                       submitted_by="anonymous", site_code=None, site_distance_m=None, photo_count=0)
            if rng.random() < 0.9:
                pstore.decide_report(conn, rid, status="dismissed",
                                     decided_at=stamp(submitted + timedelta(hours=rng.uniform(0.5, 72))),
                                     decided_by="expert", note="bench")
    conn.execute("ANALYZE")
    conn.close()
    return {"approved": approved}


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), result


def main() -> None:
    n_sites = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    n_inspections, n_revisions, n_reports = n_sites * 5, n_sites * 2, max(n_sites // 3, 10)
    today = datetime.now(TZ).date()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        path = registry_path(data)
        t = time.perf_counter()
        built = build(path, n_sites, n_inspections, n_revisions, n_reports, today)
        print(f"built {n_sites:,} sites, {n_inspections:,} inspections, {n_revisions:,} proposals "
              f"({built['approved']:,} approved into versions), {n_reports:,} public reports in "
              f"{time.perf_counter() - t:.1f} s ({path.stat().st_size / 1e6:.0f} MB)")
        conn = store.connect(path)
        store.migrate(conn)
        s = supervision.Settings.defaults()
        last_year = supervision.year_period(today.year - 1, today, s.timezone)
        this_year = supervision.year_period(today.year, today, s.timezone)
        for label, fn in (
                (f"summary of {last_year.year} (domain, SQL)", lambda: supervision.summary(conn, last_year, s)),
                (f"summary of {this_year.year} so far", lambda: supervision.summary(conn, this_year, s)),
                ("dashboard figures (all of them)", lambda: supervision.dashboard(conn, s, today)),
                (f"annual report figures and tables of {last_year.year}",
                 lambda: supervision.annual_report(conn, last_year, s))):
            seconds, result = timed(fn)
            extra = ""
            if "summary" in label:
                extra = (f"  [sites_revised {result['sites_revised']:,}, inspections {result['inspections']:,}, "
                         f"overdue {result['overdue']:,}]")
            print(f"{label}: {seconds * 1000:.0f} ms median of 5{extra}")
        auth.create_user(conn, username="bench", role="field", password="bench-password", actor="bench")
        token = auth.issue_token(conn, "bench", label="bench", actor="bench")
        conn.close()
        app = create_app({"DATA_DIR": str(data), "SECRET_KEY": "bench"})
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        for url in (f"/api/supervision/summary?year={last_year.year}", "/api/supervision/summary",
                    "/api/supervision/charts", "/supervision", f"/supervision/annual-report?year={last_year.year}",
                    f"/api/supervision/key_inspections.csv?year={last_year.year}",
                    f"/supervision/annual-report.pdf?year={last_year.year}"):
            repeat = 1 if url.endswith(".pdf?year=" + str(last_year.year)) else 5
            seconds, response = timed(lambda: client.get(url, headers=headers), repeat)
            print(f"GET {url}: {response.status_code}, {len(response.data) / 1000:.0f} kB, "
                  f"{seconds * 1000:.0f} ms" + (" median of 5" if repeat > 1 else ""))


if __name__ == "__main__":
    main()
