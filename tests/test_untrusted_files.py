"""No uploaded file costs the server more than a bounded amount of CPU, memory and time (issue 22, item 1).

An anonymous GeoPackage whose gpkg_metadata (or gpkg_metadata_reference, gpkg_data_columns, gpkg_spatial_ref_sys) was
a view over a recursive query never finished reading: the process pinned a core and every other request timed out
until it was restarted. A list of tables to check first would lose to the next trick, so every reader of an uploaded
file now runs in a worker process with CPU, memory and wall-clock limits (fossil_registry/untrusted.py).

* the pool's own guarantees, with readers that misbehave on purpose (tests/untrusted_stalls.py): a read past its wall
  clock, its CPU time or its memory is stopped with a clear 422-class error, the worker is replaced, the next read
  works; a read that cannot get a worker is told to come back (503), never queued for ever;
* every upload route (each geometry format, photos, attachments, GPX tracks, field kits, imports) reads its file in a
  worker: with the readers forbidden in the request process, every route still accepts a valid file;
* the served app (waitress, as `make run`) answers other requests in their usual time while crafted GeoPackages are
  read, anonymously and by staff, and each such upload ends with a 422 in the uploader's language.
"""
from __future__ import annotations

import io
import os
import sqlite3
import threading
import time

import pytest
import requests

from fossil_registry import formats, untrusted
from fossil_registry.errors import InvalidInput

from . import crafted_files as crafted
from . import hostile_corpus as corpus
from . import untrusted_stalls as stalls
from .conftest import bearer
from .hostile import Callers, hostile_app  # noqa: F401
from .served import serving
from .test_hostile_input import GEOMETRY_UPLOADS, PHOTO_UPLOADS, _request

SMALL = untrusted.Limits(seconds=2, cpu_seconds=2, memory_bytes=768 * 1024 * 1024, workers=2, queue=2)


@pytest.fixture
def small_limits():
    before = untrusted.limits()
    untrusted.configure(SMALL)
    yield SMALL
    untrusted.configure(before)


# ------------------------------------------------------------------------------------------------ the pool itself
def test_a_reader_runs_in_a_worker_process_not_in_the_server(small_limits):
    pid, in_worker = stalls.where()
    assert pid != os.getpid() and in_worker


def test_a_read_past_its_wall_clock_is_stopped_and_its_worker_replaced(small_limits):
    started = time.monotonic()
    with pytest.raises(untrusted.FileTooSlow, match="the file took too long to read"):
        stalls.sleep(60)
    assert time.monotonic() - started < 20
    assert stalls.sleep(0) == "slept"  # a new worker took its place


def test_a_read_past_its_cpu_time_is_stopped(small_limits):
    untrusted.configure(untrusted.Limits(seconds=60, cpu_seconds=1, memory_bytes=SMALL.memory_bytes, workers=1))
    started = time.monotonic()
    with pytest.raises(untrusted.FileTooSlow):
        stalls.spin()
    assert time.monotonic() - started < 30  # SIGXCPU after 1 s of CPU, long before the 60 s wall clock
    assert stalls.spin(0.01) == "done"


def test_the_cpu_time_is_counted_per_read_not_per_worker(small_limits):
    untrusted.configure(untrusted.Limits(seconds=60, cpu_seconds=2, memory_bytes=SMALL.memory_bytes, workers=1))
    for _ in range(4):  # 4 x 0.8 s of CPU in one worker: more than 2 s in all, each read well within its own
        assert stalls.spin(0.8) == "done"


def test_a_read_past_its_memory_is_stopped(small_limits):
    with pytest.raises(untrusted.FileTooSlow):
        stalls.hog(2048)
    assert stalls.hog(16) == 16 * 1024 * 1024


def test_reads_beyond_the_workers_and_the_queue_are_refused_without_holding_a_thread(small_limits):
    """A flood of uploads held every request thread of the server waiting on two readers (the outside review:
    10 concurrent crafted uploads, 28 s for a statistics request): a read that finds no place among workers + queue
    within half a second is refused, so a flood never holds every request thread."""
    untrusted.configure(untrusted.Limits(seconds=30, cpu_seconds=30, memory_bytes=SMALL.memory_bytes, workers=1,
                                         queue=1, admit_seconds=0.5))
    untrusted.warm()
    busy = [threading.Thread(target=lambda: stalls.sleep(3)) for _ in range(2)]  # one reading, one waiting
    for thread in busy:
        thread.start()
    time.sleep(0.5)
    try:
        started = time.monotonic()
        with pytest.raises(untrusted.ReadersBusy) as caught:
            stalls.sleep(0)
        assert time.monotonic() - started < 2  # half a second to be admitted, then refused
        assert caught.value.status == 503 and caught.value.extra["retry_after"] == 60
    finally:
        for thread in busy:
            thread.join()
    assert stalls.sleep(0) == "slept"  # the slots are given back


def test_a_killed_read_leaves_no_temporary_file_behind(small_limits, tmp_path, monkeypatch):
    """A worker killed at its limit cleans nothing up: the crafted file stayed in /tmp (upload-*/upload.gpkg). The
    task directory belongs to the server's process, which removes it."""
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    untrusted.stop()  # the next pool (and its fork server) starts with this temporary directory
    with pytest.raises(InvalidInput):
        formats.read_geometry("crafted.zip", crafted.amplified_shapefile_zip(), "boundary")
    assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))
    with pytest.raises(InvalidInput):
        formats.read_geometry("crafted.gpkg", crafted.gpkg_with_recursive_view("gpkg_data_columns"), "boundary")
    assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))
    untrusted.stop()


def test_task_directories_of_dead_server_processes_are_swept(small_limits, tmp_path, monkeypatch):
    import subprocess
    import sys
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"untrusted-{gone.stdout.strip()}-abc"
    (stale / "upload-x").mkdir(parents=True)
    (stale / "upload-x" / "upload.gpkg").write_bytes(b"crafted")
    mine = tmp_path / f"untrusted-{os.getpid()}-abc"
    mine.mkdir()
    untrusted.stop()
    stalls.sleep(0)
    assert not stale.exists() and mine.exists()
    untrusted.stop()


# ------------------------------------------------------------------------------- crafted files: the stalls found
@pytest.mark.parametrize("table", crafted.STALLING_TABLES)
def test_a_geopackage_with_a_recursive_view_costs_one_bounded_read(small_limits, table):
    data = crafted.gpkg_with_recursive_view(table)
    started = time.monotonic()
    with pytest.raises(InvalidInput) as caught:
        formats.read_geometry("crafted.gpkg", data, "boundary")
    assert time.monotonic() - started < SMALL.seconds + 15
    assert caught.value.status == 422 and caught.value.message.code == "untrusted.file_too_slow"


def test_a_shapefile_whose_index_repeats_one_huge_record_costs_one_bounded_read(small_limits):
    """2.5 MB zipped: the .shx names one 200,000-point record 20,000 times (GDAL read without end in the server)."""
    started = time.monotonic()
    with pytest.raises(InvalidInput) as caught:
        formats.read_geometry("crafted.zip", crafted.amplified_shapefile_zip(), "boundary")
    assert time.monotonic() - started < SMALL.seconds + 15
    assert caught.value.message.code == "untrusted.file_too_slow"


def test_an_imported_geopackage_with_a_recursive_view_is_refused_in_time(small_limits):
    """The admin import read GeoPackages without the layer pre-check: bounded like every other read now."""
    data = crafted.gpkg_with_recursive_view("gpkg_metadata")
    with pytest.raises(InvalidInput) as caught:
        formats.read_table("crafted.gpkg", data)
    assert caught.value.message.code == "untrusted.file_too_slow"


def test_our_own_sqlite_reads_of_an_uploaded_file_are_interrupted_at_the_deadline(tmp_path):
    """The second line under the worker's limits: a statement on an uploaded file stops at the read's deadline."""
    from fossil_registry.store import kitfile

    path = tmp_path / "x.gpkg"
    path.write_bytes(corpus.valid_gpkg())
    conn = kitfile.open_kit_file(path, time.monotonic() + 0.5)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        conn.execute("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r").fetchone()
    assert time.monotonic() - started < 5
    conn.close()


# ------------------------------------------------------------- every upload route reads in a worker, not in here
@pytest.fixture
def readers_forbidden_here(monkeypatch):
    """The C readers of uploaded files fail if called in this (the server's) process: a route that still reads its
    file here fails; the workers import their own copies and are unaffected."""
    import PIL.Image
    import pyogrio

    from fossil_registry.store import kitfile

    def forbidden(*args, **kwargs):
        raise AssertionError("an uploaded file was read in the server's own process")

    for owner, name in ((pyogrio, "read_dataframe"), (pyogrio, "list_layers"), (PIL.Image, "open"),
                        (kitfile, "open_kit_file")):
        monkeypatch.setattr(owner, name, forbidden)
    calls: list[str] = []
    real = untrusted.run

    def recorded(module, qualname, args, kwargs):
        calls.append(f"{module}.{qualname}")
        return real(module, qualname, args, kwargs)

    monkeypatch.setattr(untrusted, "run", recorded)
    return calls


@pytest.mark.parametrize("name", GEOMETRY_UPLOADS)
def test_every_geometry_upload_is_read_in_a_worker(hostile_app, readers_forbidden_here, name):
    entry = GEOMETRY_UPLOADS[name]
    valid = entry[5](hostile_app) if entry[5] else (None, None)
    r = _request(hostile_app, Callers(hostile_app), entry, *valid)()
    assert r.status_code in (200, 201, 303), (name, r.status_code, r.get_data(as_text=True)[:300])
    assert readers_forbidden_here, "no file was read through the untrusted-file workers"


@pytest.mark.parametrize("name", PHOTO_UPLOADS)
def test_every_photo_upload_is_read_in_a_worker(hostile_app, readers_forbidden_here, name):
    entry = PHOTO_UPLOADS[name]
    r = _request(hostile_app, Callers(hostile_app), entry, "outcrop.jpg", corpus.valid_jpeg())()
    assert r.status_code in (200, 201, 303), (name, r.status_code, r.get_data(as_text=True)[:300])
    assert readers_forbidden_here


@pytest.mark.parametrize("filename, data", [("sites.gpkg", corpus.valid_gpkg()),
                                            ("sites.zip", corpus.valid_shapefile_zip())])
def test_an_import_is_read_in_a_worker(hostile_app, readers_forbidden_here, filename, data):
    r = hostile_app.test_client().post("/api/imports", headers=bearer("admin"), content_type="multipart/form-data",
                                       data={"file": (io.BytesIO(data), filename)})
    assert r.status_code in (202, 422), r.get_data(as_text=True)[:300]
    assert "fossil_registry.formats.table.read_table" in readers_forbidden_here


# --------------------------------------------------------------- the served app keeps answering while it happens
# the served app's read limit: every crafted file below is read until it, so it sets this module's time
SERVED_SECONDS = 1


@pytest.fixture(scope="module")
def served_small(tmp_path_factory, demo_registry_template):
    """The demo registry served by waitress (as `make run`) with small read limits."""
    settings = {"FLASK_UNTRUSTED_READ_SECONDS": str(SERVED_SECONDS),
                "FLASK_UNTRUSTED_READ_CPU_SECONDS": str(SERVED_SECONDS),
                "FLASK_UNTRUSTED_QUEUE": "4", "FLASK_UNTRUSTED_READERS": "2",
                "FLASK_IMPACT_LIMIT": "10000 per hour", "FLASK_REPORT_LIMIT": "10000 per hour"}
    with serving(tmp_path_factory, demo_registry_template, activity=False, settings=settings) as served:
        yield served.url


def _probe_while(url: str, send) -> tuple[requests.Response, list[float]]:
    """Send an upload in a thread; meanwhile time /map/statistics.json requests until it is answered."""
    answer: list[requests.Response] = []
    thread = threading.Thread(target=lambda: answer.append(send()))
    thread.start()
    times = []
    while thread.is_alive() or not times:
        started = time.monotonic()
        r = requests.get(url + "/map/statistics.json", timeout=30)
        assert r.status_code == 200
        times.append(time.monotonic() - started)
        time.sleep(0.1)
    thread.join()
    return answer[0], times


def _post(path: str, who: str | None = None, field: str = "file", **fields):
    def send(url: str, name: str, data: bytes):
        return requests.post(url + path, headers=bearer(who) if who else {}, data=fields, timeout=120,
                             files={field: (name, data)})
    return send


ANONYMOUS_SCREENING = _post("/api/impact")
ROUTES = {
    "anonymous screening (API)": ANONYMOUS_SCREENING,
    "anonymous screening (page)": _post("/impact"),
    "field proposal (API)": _post("/api/sites/GZ-0003/revisions", "field", base_version="1", reason="x",
                                  target="boundary"),
    "admin import (API)": _post("/api/imports", "admin"),
    "patrol track (API)": _post("/api/sites/GZ-0001/inspections", "expert", "track",
                                record='{"date": "2024-06-01", "condition": "good"}'),
    "anonymous report photo (API)": _post("/api/reports", None, "photos", kind="find", lon="105.40", lat="25.90",
                                          description="Bones showing in a new road cut"),
}
# (file, route, whether the file stalls its reader without end): one or more per format
# each GeoPackage route once, the two stalling tables taking turns (every stalling table is read by
# test_a_geopackage_with_a_recursive_view_costs_one_bounded_read; here it is the route that is under test)
CRAFTED = [(f"{table} view", "x.gpkg", lambda t=table: crafted.gpkg_with_recursive_view(t), route, True)
           for table, route in zip(("gpkg_metadata", "gpkg_data_columns") * 2,
                                   ("anonymous screening (API)", "anonymous screening (page)", "field proposal (API)",
                                    "admin import (API)"))] + [
    ("amplified shapefile", "x.zip", crafted.amplified_shapefile_zip, "anonymous screening (API)", True),
    ("amplified shapefile", "x.zip", crafted.amplified_shapefile_zip, "field proposal (API)", True),
    ("amplified shapefile", "x.zip", crafted.amplified_shapefile_zip, "admin import (API)", True),
    ("costly GeoJSON", "x.geojson", crafted.costly_geojson, "anonymous screening (API)", False),
    ("costly KML", "x.kml", crafted.costly_kml, "anonymous screening (page)", False),
    ("costly GPX", "x.gpx", crafted.costly_gpx, "patrol track (API)", False),
    ("costly CSV", "x.csv", crafted.costly_csv, "admin import (API)", False),
    ("costly PNG", "x.png", crafted.costly_png, "anonymous report photo (API)", False),
]


@pytest.mark.parametrize("what, name, make, route, stalls", CRAFTED,
                         ids=[f"{c[0]} to {c[3]}" for c in CRAFTED])
def test_other_requests_are_answered_while_a_crafted_file_is_read(served_small, what, name, make, route, stalls):
    data = make()
    baseline = []
    for _ in range(3):
        started = time.monotonic()
        requests.get(served_small + "/map/statistics.json", timeout=30)
        baseline.append(time.monotonic() - started)
    answer, during = _probe_while(served_small, lambda: ROUTES[route](served_small, name, data))
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    if route != "anonymous screening (page)":
        assert answer.headers["Content-Type"].startswith("application/problem+json")
    if stalls and route != "anonymous screening (page)":
        assert answer.json()["code"] == "untrusted.file_too_slow", answer.json()
    # the usual time: a generous bound (the machine is shared), below the read's own limit
    assert max(during) < max(1.5, 10 * max(baseline)), (during, baseline)


def test_the_refusal_is_in_the_uploaders_language(served_small):
    data = crafted.gpkg_with_recursive_view("gpkg_metadata")
    r = requests.post(served_small + "/api/impact", files={"file": ("x.gpkg", data)},
                      headers={"Accept-Language": "zh"}, timeout=60)
    assert r.status_code == 422 and r.json()["code"] == "untrusted.file_too_slow"
    assert "读取" in r.json()["detail"], r.json()["detail"]


def test_a_flood_of_crafted_uploads_holds_no_more_than_its_share_of_the_server(served_small):
    """The outside review sent 10 crafted GeoPackages at once: every request thread waited on the two readers, a
    statistics request took 28 s, and uploads past the queue limit were answered after 111 s. Reads beyond readers +
    queue are refused at once (503, Retry-After: 60, not the rate limiter's window); the others end 422 in time."""
    data = crafted.gpkg_with_recursive_view("gpkg_data_columns")
    answers: list[requests.Response] = []
    flood = [threading.Thread(target=lambda: answers.append(ANONYMOUS_SCREENING(served_small, "x.gpkg", data)))
             for _ in range(10)]
    started = time.monotonic()
    for thread in flood:
        thread.start()
    time.sleep(0.5)
    during = []
    while any(t.is_alive() for t in flood):
        t0 = time.monotonic()
        assert requests.get(served_small + "/map/statistics.json", timeout=30).status_code == 200
        during.append(time.monotonic() - t0)
        time.sleep(0.1)
    took = time.monotonic() - started
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {422, 503} and statuses.count(503) >= 3, statuses  # 6 admitted (2 reading, 4 waiting)
    assert all(r.headers.get("Retry-After") == "60" for r in answers if r.status_code == 503)
    assert max(during) < 1.5, during
    assert took < 3 * (SERVED_SECONDS + 5) + 10, took  # three rounds of reads at most, never the minutes a queue could take


def test_an_anonymous_footprint_is_prepared_within_the_limits(served_small):
    """A 2,000-vertex line doubling back on itself in a 1 km box, buffered 1 km, sent as JSON (no file at all): 85 s
    and 7.6 GB in the server's process. The footprint is read and prepared in the bounded pool, as a file is."""
    import random

    rng = random.Random(2)
    line = {"type": "LineString", "coordinates": [[106.5 + rng.random() * 0.01, 26.5 + rng.random() * 0.01]
                                                  for _ in range(2000)]}
    body = {"footprint": line, "width_m": 1000}
    answer, during = _probe_while(served_small, lambda: requests.post(served_small + "/api/impact", json=body,
                                                                      timeout=120))
    assert answer.status_code == 422 and answer.json()["code"] == "untrusted.file_too_slow", answer.text[:300]
    assert max(during) < 1.5, during
