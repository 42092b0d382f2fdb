"""Figures for stratigraphic sections, markers and rescue cases: proposing a section from a long GPX track (read,
line checks including self-crossing, geodesic length) and approving it; recording a section inspection with marker
checks (a missing one opening a follow-up); the public sections layer and the OGC API sections collection with 2,000
sections; the rescue figures (the legal clock counted in SQL) over 5,000 cases. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_sections.py [SECTIONS]
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shapely.geometry import LineString  # noqa: E402

from fossil_registry import create_app, inspections, markers, rescues, revisions, sites, store  # noqa: E402
from fossil_registry.blobs import BlobStore  # noqa: E402
from fossil_registry.geometry import GEOD  # noqa: E402
from fossil_registry.registry import registry_path  # noqa: E402
from fossil_registry.sections import SECTION  # noqa: E402
from fossil_registry.store import rescues as rstore  # noqa: E402


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def walk(rng: random.Random, lon: float, lat: float, points: int, step_m: float) -> list[tuple[float, float]]:
    """A GPS track up a slope: a gently bending line that never crosses itself."""
    out, az = [(lon, lat)], rng.uniform(0, 360)
    for _ in range(points - 1):
        az += rng.uniform(-2, 2)
        lon, lat, _ = GEOD.fwd(lon, lat, az, step_m)
        out.append((round(lon, 7), round(lat, 7)))
    return out


def gpx(points) -> bytes:
    body = "".join(f'<trkpt lat="{y}" lon="{x}"/>' for x, y in points)
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="bench" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><name>section</name><trkseg>{body}</trkseg></trk></gpx>").encode()


def main(n_sections: int = 2000) -> None:
    rng = random.Random(17)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        path = registry_path(data)
        store.create_registry(path)
        conn = store.connect(path)
        t = time.perf_counter()
        with store.transaction(conn):
            for i in range(1, n_sections + 1):
                line = LineString(walk(rng, rng.uniform(104, 109), rng.uniform(25, 28.8), 8, 60))
                sites.create_site(conn, properties={"name": f"剖面{i}", "level": rng.choice(["national", "provincial",
                                                                                               "general"]),
                                                    "sensitivity": rng.choice(["open", "open", "generalized", "hidden"]),
                                                    "county": f"县{i % 80}", "established": "2015-01-01"},
                                  location=line, boundary=None, author="bench", reason="bench", kind=SECTION)
        print(f"{n_sections:,} sections written in {time.perf_counter() - t:.1f} s")

        for points in (500, 5000):
            track = gpx(walk(rng, 106.6, 26.6, points, 2.0))
            policy = revisions.Policy.defaults()

            def propose(track=track):
                draft = revisions.parse_draft({"reason": "bench", "target": "line", "properties": {
                    "name": "bench section", "county": "县1"}}, file=("track.gpx", track), policy=policy, line=True)
                return revisions.propose(conn, draft, author="fiona", site_code=None, policy=policy, feature=SECTION)
            ms, rev = timed(propose, 3)
            t = time.perf_counter()
            revisions.decide(conn, rev.id, "approve", reviewer="ellen", round_seen=1, policy=policy)
            approve = (time.perf_counter() - t) * 1000
            print(f"propose a section from a {points:,}-point GPX track: {ms:.0f} ms (median of 3); approve it "
                  f"{approve:.1f} ms; length {rev.metrics['length_m_after']:,.0f} m")

        code = "GZS-0001"
        settings = markers.Settings.defaults()
        files = BlobStore(data)
        section = sites.current(conn, code)
        ids = [markers.add_marker(conn, files, code, {"kind": "boundary_post", "point": list(section.location.coords[0])},
                                  settings=settings, actor="bench")["fid"] for _ in range(20)]
        today = inspections.local_today("Asia/Shanghai").isoformat()

        def inspect():
            record = inspections.parse_record({"date": today, "condition": "good", "inspectors": ["bench"],
                                               "markers": [{"marker": m, "condition": "missing" if m == ids[0]
                                                            else "present"} for m in ids]})
            return inspections.record_inspection(conn, files, code, record, settings=inspections.Settings.defaults(),
                                                 actor="bench")
        ms, rec = timed(inspect)
        print(f"a section inspection with 20 marker checks (one missing: a follow-up): {ms:.1f} ms")

        now = datetime.now(timezone.utc)
        with store.transaction(conn):
            for i in range(5000):
                reported = now - timedelta(hours=rng.uniform(1, 24 * 365 * 3))
                cid = rstore.insert_case(conn, point=section.location.interpolate(0.5, normalized=True),
                                         source="construction", report_id=None, impact_case_id=None,
                                         reported_by="bench", reported_at=rescues._utc(reported), county=None,
                                         description="bench", opened_at=rescues._utc(reported), opened_by="bench")
                if rng.random() < 0.9:
                    done = reported + timedelta(hours=rng.uniform(2, 40))
                    rstore.insert_event(conn, case_id=cid, kind="officials_on_site", done_at=rescues._utc(done),
                                        recorded_at=rescues._utc(done), recorded_by="bench", note=None,
                                        specimens=rng.randint(0, 3), samples=rng.randint(0, 300), field_numbers=None,
                                        kept_at="museum", revision_id=None, photo_count=0)
        ms, figures = timed(lambda: rescues.figures(conn, rescues.Settings.defaults()))
        print(f"rescue figures over 5,000 cases (legal clock counted in SQL): {ms:.1f} ms; on site {figures['on_site']}")
        conn.close()

        app = create_app({"TESTING": True, "DATA_DIR": str(data), "SECRET_KEY": "bench"})
        client = app.test_client()
        for url in ("/map/sections.geojson?bbox=103.6,24.6,109.6,29.2&zoom=8",
                    "/ogcapi/collections/sections/items?limit=1000", "/api/sections/GZS-0001", "/sections"):
            client.get(url)  # the first request builds the cached index
            ms, r = timed(lambda url=url: client.get(url))
            print(f"GET {url} (anonymous): {ms:.1f} ms, {len(r.get_data()) / 1024:.0f} KB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
