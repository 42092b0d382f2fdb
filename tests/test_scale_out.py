"""Scale-out on PostgreSQL/PostGIS (docs/scale-out.md): moving a registry between the backends, exports from PostGIS,
a database that cannot be used at start or is lost mid-request, a server restart under load, reads from a streaming
replica, and several app processes sharing sessions and rate limits through the database and Redis."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from fossil_registry import create_app, registry, sites, store
from fossil_registry.db import get_conn
from fossil_registry.store import pg

from .conftest import bearer, login
from .pg_cluster import Cluster, free_port
from .served import NO_WARM_UP, answering

REPORT = {"kind": "find", "lon": "105.4", "lat": "25.9", "description": "Crinoid stems in the wall."}


def _rows(location) -> dict[str, list[tuple]]:
    """Every row of every registry table, geometries as WKB: to compare two registries whatever their backend."""
    import shapely
    from shapely.geometry.base import BaseGeometry

    conn = store.connect(location)
    try:
        out = {}
        for table in store.copy._tables(conn):
            cols = sorted(store.copy._columns(conn, table))
            rows = conn.execute(f'SELECT {", ".join(cols)} FROM "{table}" ORDER BY 1').fetchall()
            out[table] = [tuple(shapely.to_wkb(store.decode_geometry(v)) if isinstance(v, (bytes, BaseGeometry))
                                and table != "registry_meta" and _is_geometry(v) else bool(v) if isinstance(v, bool)
                                else v for v in r) for r in rows]
        return out
    finally:
        conn.close()


def _is_geometry(value) -> bool:
    from shapely.geometry.base import BaseGeometry
    return isinstance(value, BaseGeometry) or bytes(value[:2]) == b"GP"


# ------------------------------------------------------------------------------------------------ moving a registry
def test_copy_a_registry_to_postgis_and_back_loses_nothing(served_activity_dir, pg_cluster, tmp_path):
    """GeoPackage (demo with its activity, accounts and files) -> PostGIS -> GeoPackage: every row of every table,
    every referenced file; each copy passes `registry check`."""
    url = pg_cluster.new_database()
    app = create_app({"TESTING": True, "DATA_DIR": str(served_activity_dir), "SECRET_KEY": "x"})
    runner = app.test_cli_runner()
    r = runner.invoke(args=["registry", "copy", str(served_activity_dir), url, "--dest-data-dir", str(tmp_path / "pg")])
    assert r.exit_code == 0, r.output
    assert "passes the registry check" in r.output
    back = tmp_path / "back"
    r = runner.invoke(args=["registry", "copy", url, str(back), "--src-data-dir", str(tmp_path / "pg")])
    assert r.exit_code == 0, r.output
    original, round_trip = _rows(registry.registry_path(served_activity_dir)), _rows(registry.registry_path(back))
    assert original.keys() == round_trip.keys()
    for table in original:
        assert original[table] == round_trip[table], table
    assert sum(len(v) for v in original.values()) > 500 and len(original["audit_log"]) > 50
    # the families added after the PostGIS backend: sections, markers, rescue cases, imports (every table has rows)
    for table in ("section_lines", "section_boundaries", "section_versions", "protection_markers", "marker_checks",
                  "rescue_cases", "rescue_events", "rescue_contacts", "imports", "import_files", "import_rows"):
        assert original[table], table
    with sqlite3.connect(registry.registry_path(back)) as con:  # a photo of a rescue case, after its case
        assert con.execute("SELECT count(*) FROM evidence_photos WHERE rescue_id IS NOT NULL").fetchone()[0] == 1
    files = sorted(p.relative_to(served_activity_dir) for p in (served_activity_dir / "photos").rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(back) for p in (back / "photos").rglob("*") if p.is_file())
    # a destination that holds a registry already is refused, naming it
    r = runner.invoke(args=["registry", "copy", str(served_activity_dir), url])
    assert r.exit_code == 1 and "already exists" in r.output
    pg_cluster.drop_database(url)


def test_a_copy_into_postgis_that_fails_half_way_leaves_no_records(demo_registry_template, pg_cluster):
    """The copy streams each table (COPY) inside one transaction: a table refused after others went in leaves none of
    them, and the identities where they were, so the same destination takes the copy afterwards."""
    import psycopg

    url = pg_cluster.new_database()
    store.create_registry(url)  # what copy_registry does first; the test's refusal is added before copy_tables
    src, dest = store.connect(demo_registry_template), store.connect(url)
    try:
        dest.execute("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "RAISE EXCEPTION 'refused by the test'; END $$")
        dest.execute("CREATE TRIGGER test_refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse()")
        tables = store.copy._tables(dest)
        expected = {t: src.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        assert tables.index("audit_log") > tables.index("site_versions") and expected["site_versions"] > 50
        with pytest.raises(psycopg.Error, match="refused by the test"):
            store.copy.copy_tables(src, dest)
        left = {t: dest.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables if t != "registry_meta"}
        assert not any(left.values()), {t: n for t, n in left.items() if n}
        assert dest.execute("SELECT nextval(pg_get_serial_sequence('site_versions', 'fid'))").fetchone()[0] == 1
        dest.execute("DROP TRIGGER test_refuse ON audit_log")
        assert store.copy.copy_tables(src, dest) == expected
        assert dest.execute("SELECT count(*) FROM site_versions").fetchone()[0] == expected["site_versions"]
    finally:
        src.close()
        dest.close()
        pg_cluster.drop_database(url)


POSTGIS = pytest.mark.parametrize("backend", ["postgis"], indirect=True)


@POSTGIS
def test_export_from_postgis_is_the_shareable_geopackage(app, tmp_path):
    """`registry export` on PostGIS still writes the GeoPackage partners receive: valid, every site, no accounts,
    contacts, addresses or kit secrets."""
    client = app.test_client()
    r = client.post("/api/reports", json={**REPORT, "contact": "liwei@example.cn"},
                    environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert r.status_code == 201
    out = tmp_path / "share.gpkg"
    result = app.test_cli_runner().invoke(args=["registry", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert registry.validate_geopackage(out) == []
    con = sqlite3.connect(out)
    tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not tables & set(store.private_tables())
    assert con.execute("SELECT count(*) FROM site_locations").fetchone()[0] == 74
    assert con.execute("SELECT count(*) FROM audit_log WHERE remote_addr IS NOT NULL").fetchone()[0] == 0
    assert b"liwei@example.cn" not in out.read_bytes()
    con.close()
    import pyogrio
    assert pyogrio.read_info(out, layer="site_boundaries")["crs"] == "EPSG:4490"


# ------------------------------------------------------------------------------------------------ faults
@pytest.mark.parametrize("url, reason", [
    ("postgresql://postgres@127.0.0.1:{closed}/registry", "Connection refused"),
    ("postgresql://postgres@127.0.0.1:{port}/no_such_database", 'database "no_such_database" does not exist'),
    ("postgresql://nobody@127.0.0.1:{port}/postgres", 'role "nobody" does not exist'),
    ("mysql://127.0.0.1/registry", "must be a postgresql:// URL"),
])
def test_a_database_that_cannot_be_used_stops_the_start_with_one_line(pg_cluster, tmp_path, url, reason):
    url = url.format(closed=free_port(), port=pg_cluster.port)
    env = {**os.environ, "FLASK_DATABASE_URL": url, "FLASK_DATA_DIR": str(tmp_path / "data")}
    commands = [[sys.executable, "-m", "fossil_registry.serve"]]
    if "refused" in reason:  # the command line stops the same way (one case is enough: the same code path)
        commands.append([sys.executable, "-m", "flask", "--app", "app", "registry", "check"])
    for command in commands:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                              cwd=Path(__file__).resolve().parent.parent)
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0], done.stderr
        assert "Traceback" not in done.stderr and "127.0.0.1" in lines[0] or "mysql" in url
    assert not (tmp_path / "data" / "sites").exists()


@POSTGIS
def test_a_lost_database_answers_503_and_the_pool_recovers(app, pg_cluster, monkeypatch):
    monkeypatch.setattr(pg, "POOL_WAIT_S", 1)
    client = app.test_client()
    assert client.get("/api/sites/GZ-0001").status_code == 200
    pg_cluster.stop()
    try:
        r = client.get("/api/sites/GZ-0001")
        assert r.status_code == 503 and r.mimetype == "application/problem+json"
        assert "database" in r.get_json()["detail"] and "Traceback" not in r.get_data(as_text=True)
        r = client.post("/api/reports", json=REPORT)
        assert r.status_code == 503
    finally:
        pg_cluster.start()
    # The pool reconnects in the background with a growing back-off (1 s, 2 s, 4 s, ...): the service comes back by
    # itself, without a restart, within the back-off; until then an answer is 503 (never a 500).
    deadline, status = time.monotonic() + 30, None
    while time.monotonic() < deadline and status != 200:
        status = client.get("/api/sites/GZ-0001").status_code
        assert status in (200, 503)
    assert status == 200
    assert client.post("/api/reports", json=REPORT).status_code == 201


@POSTGIS
def test_a_connection_lost_between_an_insert_and_its_new_id_is_unavailable_not_an_error(demo_location):
    """The new fid is read in a second round trip (lastval()): a connection lost just before it is a 503 like any
    other lost connection, and the INSERT dies with its transaction."""
    from fossil_registry.errors import Unavailable

    conn, admin = store.connect(demo_location), store.connect(demo_location)
    try:
        with pytest.raises(Unavailable, match="nothing of this request was written"):
            with store.transaction(conn):
                cur = conn.execute("INSERT INTO audit_log (at, actor, action) VALUES ('now', 'x', 'test')")
                admin.execute("SELECT pg_terminate_backend(?)", (conn.raw.info.backend_pid,))
                cur.lastrowid
        assert admin.execute("SELECT count(*) FROM audit_log WHERE action = 'test'").fetchone()[0] == 0
    finally:
        conn.close()
        admin.close()


@POSTGIS
def test_a_restart_under_load_loses_no_acknowledged_write(app, pg_cluster):
    """Four clients keep submitting reports while PostgreSQL restarts: every answer is 201 or 503 (never a 500), every
    report acknowledged with 201 is in the registry afterwards, and writing works again."""
    app.config["REPORT_LIMIT"] = "10000 per hour"
    acknowledged, answers, lock = [], [], threading.Lock()
    stop = threading.Event()

    def writer(n):
        client = app.test_client()
        i = 0
        while not stop.is_set() and i < 400:
            i += 1
            r = client.post("/api/reports", json={**REPORT, "description": f"client {n} report {i}"},
                            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
            with lock:
                answers.append(r.status_code)
                if r.status_code == 201:
                    acknowledged.append(r.get_json()["receipt"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    [t.start() for t in threads]
    time.sleep(1.5)
    before_restart = len(answers)
    pg_cluster.restart()
    time.sleep(2.0)
    stop.set()
    [t.join() for t in threads]
    assert before_restart > 4 and set(answers) <= {201, 503}, sorted(set(answers))
    assert answers[-1] == 201  # the pool came back by itself
    with app.app_context():
        stored = {r["receipt"] for r in __import__("fossil_registry").reports.list_reports(get_conn(), limit=None)}
    assert set(acknowledged) <= stored and len(acknowledged) > before_restart


# ------------------------------------------------------------------------------------------------ a read replica
@pytest.fixture
def primary_and_replica(demo_registry_template):
    """A primary with the demo registry and a streaming replica of it (pg_basebackup), each on its own port."""
    primary = Cluster.create()
    replica = None
    try:
        url = primary.url("registry")
        primary.admin("CREATE DATABASE registry")
        src = store.connect(demo_registry_template)
        store.copy.copy_registry(src, url)
        src.close()
        replica = Cluster(directory=primary.directory / "replica", port=free_port())
        replica.directory.mkdir()
        if os.geteuid() == 0:
            shutil.chown(replica.directory, "postgres", "postgres")
        # -c fast: the backup starts with an immediate checkpoint. The default (spread) waits for most of
        # checkpoint_timeout on an idle primary: 227 of this module's 277 s.
        primary.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D",
                    str(replica.data), "-R", "-X", "stream", "-c", "fast")
        with open(replica.data / "postgresql.auto.conf", "a") as fh:
            fh.write(f"port = {replica.port}\nunix_socket_directories = '{replica.directory}'\n")
        replica.start()
        yield url, replica.url("registry"), replica
    finally:
        pg.close_pools()
        if replica is not None:
            replica.stop("immediate")
        primary.remove()


def test_anonymous_reads_come_from_the_replica_and_staff_see_their_own_writes(primary_and_replica, tmp_path):
    primary_url, replica_url, replica = primary_and_replica
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "x",
                      "DATABASE_URL": primary_url, "DATABASE_READ_URL": replica_url})
    with psycopg_connect(primary_url) as p:  # the app's start may have built the read model: in batches, on the
        lsn = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # primary; the replica has it all first
    with psycopg_connect(replica_url) as c:
        assert c.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        deadline = time.monotonic() + 30
        while not c.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the replica never caught up"
            time.sleep(0.1)
        c.execute("SELECT pg_wal_replay_pause()")  # the replica falls behind on purpose
    client, staff = app.test_client(), app.test_client()
    login(staff, "expert")
    with app.app_context():
        site = sites.current(get_conn(), "GZ-0002")
    r = staff.post("/api/sites/GZ-0002/revisions", headers=bearer("field"),
                   json={"base_version": site.version, "reason": "RTK resurvey", "properties": {"name_en": "Renamed"}})
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    r = staff.post(f"/api/revisions/{rid}/decision", headers=bearer("expert"),
                   json={"decision": "approve", "round": 1})
    assert r.status_code == 200, r.get_json()
    # the reviewer sees the approval at once (primary); the public, from the paused replica, the old state
    assert staff.get("/api/sites/GZ-0002").get_json()["properties"]["name_en"] == "Renamed"
    assert staff.get(f"/api/revisions/{rid}", headers=bearer("field")).get_json()["status"] == "approved"
    assert client.get("/api/sites/GZ-0002").get_json()["properties"]["name_en"] != "Renamed"
    ogc = client.get("/ogcapi/collections/sites/items/GZ-0002").get_json()
    assert ogc["properties"].get("name_en") != "Renamed"
    with psycopg_connect(replica_url) as c:
        c.execute("SELECT pg_wal_replay_resume()")
    deadline = time.monotonic() + 30
    while client.get("/api/sites/GZ-0002").get_json()["properties"]["name_en"] != "Renamed":
        assert time.monotonic() < deadline, "the replica never caught up"
        time.sleep(0.2)


def psycopg_connect(url):
    import psycopg
    return psycopg.connect(url, autocommit=True)


# ------------------------------------------------------------------------------------------------ several processes
@pytest.fixture
def redis_server(tmp_path):
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    import redis
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline and process.poll() is None, "redis-server did not start"
            time.sleep(0.1)
    yield url, client
    process.terminate()
    process.wait(timeout=10)


@POSTGIS
def test_several_processes_share_sessions_rate_limits_and_caches(demo_location, demo_data_dir, redis_server):
    """`make run WORKERS=2` on PostGIS with Redis: a sign-out in one process ends the session in the other, the
    report limit counts across processes, and the feature indexes one process computed (markers: the registered
    features' reads come from the read model in the database) are in Redis for the other."""
    redis_url, redis_client = redis_server
    port = free_port()
    env = {**os.environ, "FLASK_DATABASE_URL": demo_location, "FLASK_DATA_DIR": str(demo_data_dir),
           "FLASK_REDIS_URL": redis_url, "FLASK_SECRET_KEY": "served", "FLASK_REPORT_LIMIT": "3 per hour",
           "FLASK_CREATE_DEMO_IF_MISSING": "false", "WORKERS": "2", "THREADS": "2", "PORT": str(port), **NO_WARM_UP}
    log = open(demo_data_dir / "server.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "fossil_registry.serve"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        assert answering(url, process), (demo_data_dir / "server.log").read_text()
        codes = [requests.post(url + "/api/reports", json=REPORT, headers={"Connection": "close"}).status_code
                 for _ in range(8)]
        assert codes.count(201) == 3 and codes.count(429) == 5, codes
        assert any(k.startswith(b"LIMIT") for k in redis_client.keys("*"))
        assert requests.get(url + "/map/sites.geojson?zoom=8").status_code == 200  # the read model: no cache
        assert requests.get(url + "/ogcapi/collections/markers/items").status_code == 200  # still cached per state
        assert any(k.startswith(b"fossil-registry:cache:") for k in redis_client.keys("*"))
        session = requests.Session()
        page = session.get(url + "/login").text
        import re
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = session.post(url + "/login", data={"username": "ellen", "password": "expert-pass-001",
                                               "csrf_token": token}, allow_redirects=False)
        assert r.status_code == 302
        assert all(session.get(url + "/account", headers={"Connection": "close"}).status_code == 200
                   for _ in range(4))
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', session.get(url + "/account").text).group(1)
        session.post(url + "/logout", data={"csrf_token": token}, allow_redirects=False)
        assert all(session.get(url + "/account", headers={"Connection": "close"}, allow_redirects=False).status_code
                   in (302, 401) for _ in range(4))
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture
def served_activity_dir(tmp_path, demo_registry_template) -> Path:
    """A data directory with the demo registry, its accounts and the demo activity (inspections, proposals, reports)
    plus one photo file, as `make run` leaves it."""
    from datetime import date

    from fossil_registry.demo.activity import seed_activity

    data_dir = tmp_path / "source"
    target = registry.registry_path(data_dir)
    target.parent.mkdir(parents=True)
    shutil.copy(demo_registry_template, target)
    registry.create_demo_accounts(target)
    seed_activity(target, today=date(2026, 6, 1))
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "x"})
    client = app.test_client()
    from .inspection_helpers import jpeg

    r = client.post("/api/reports", data={**REPORT, "photos": [(__import__("io").BytesIO(jpeg()), "p.jpg")]},
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.get_data(as_text=True)
    _add_rescue_and_import(app, client)
    return data_dir


def _add_rescue_and_import(app, client) -> None:
    """What the demo activity does not have: a rescue case with the reporter's contact and a photo of the find, and
    an import analysed but not confirmed yet (its file still kept), so that every table of those families has rows."""
    import io
    from datetime import datetime, timedelta, timezone

    from shapely.geometry import Point

    from fossil_registry import auth

    from .import_helpers import geojson
    from .inspection_helpers import jpeg

    with app.app_context():
        token = {who: {"Authorization": "Bearer " + auth.issue_token(get_conn(), f"demo-{who}", label="copy test",
                                                                     actor="test-setup")}
                 for who in ("expert", "admin")}
    reported = datetime.now(timezone.utc) - timedelta(hours=5)
    r = client.post("/api/rescues", headers=token["expert"], json={
        "source": "construction", "reported_by": "site manager", "lon": 105.7, "lat": 25.6, "county": "贞丰县",
        "description": "bones in a road cut", "contact": "139 0000 0000",
        "reported_at": reported.isoformat(timespec="seconds").replace("+00:00", "Z")})
    assert r.status_code == 201, r.get_json()
    photo = jpeg(lon=105.7, lat=25.6, taken=(reported + timedelta(hours=1)).strftime("%Y:%m:%d %H:%M:%S"))
    r = client.post(f"/api/rescues/{r.get_json()['id']}/events", headers=token["expert"],
                    content_type="multipart/form-data", data={
                        "kind": "specimens_rescued", "specimens": "1", "kept_at": "museum",
                        "photos": (io.BytesIO(photo), "find.jpg")})
    assert r.status_code == 201, r.get_json()
    data = geojson([({"name": "新发现点", "level": "general"}, Point(105.9, 25.9)),
                    ({"name": "另一点", "level": "general"}, Point(106.1, 26.1))])
    r = client.post("/api/imports", headers=token["admin"], content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), "finds.geojson")})
    assert r.status_code == 202, r.get_json()
    deadline = time.monotonic() + 120
    while (state := client.get(f"/api/imports/{r.get_json()['id']}?limit=0",
                               headers=token["admin"]).get_json()["state"]) == "analysing":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert state == "ready"


def test_several_processes_on_one_geopackage_each_read_after_a_write_sees_it(demo_data_dir):
    """`make run WORKERS=2` on the GeoPackage (docs/national-scale.md, "Reads right after a write"): two processes,
    each with its own pooled connections, share the file through SQLite's WAL. After each approval made through one of
    them, 8 readers at once on new connections (answered by both) see the new version and the new location, from the
    record and from the read model, staff and public alike; once the site is hidden, no anonymous reader finds it."""
    port = free_port()
    env = {**os.environ, "FLASK_DATA_DIR": str(demo_data_dir), "FLASK_SECRET_KEY": "served",
           "FLASK_CREATE_DEMO_IF_MISSING": "false", "WORKERS": "2", "THREADS": "4", "PORT": str(port), **NO_WARM_UP}
    env.pop("FLASK_DATABASE_URL", None)
    log = open(demo_data_dir / "server.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "fossil_registry.serve"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent)
    url = f"http://127.0.0.1:{port}"
    close = {"Connection": "close"}
    try:
        assert answering(url, process), (demo_data_dir / "server.log").read_text()
        code = "GZ-0005"
        for step in range(3):
            site = requests.get(f"{url}/api/sites/{code}", headers=bearer("field")).json()
            lon, lat = site["location"]["coordinates"]
            r = requests.post(f"{url}/api/sites/{code}/revisions", headers=bearer("field"), json={
                "base_version": site["version"], "reason": "moved", "location": {"type": "Point",
                                                                                 "coordinates": [lon + 0.01, lat]}})
            assert r.status_code == 201, r.text
            r = requests.post(f"{url}/api/revisions/{r.json()['id']}/decision", headers=bearer("expert"),
                              json={"decision": "approve", "round": 1})
            assert r.status_code == 200, r.text
            version, moved = site["version"] + 1, round(lon + 0.01, 6)
            seen: list = []

            def read(i: int) -> None:
                record = requests.get(f"{url}/api/sites/{code}", headers={**bearer("field"), **close}).json()
                staff = requests.get(f"{url}/ogcapi/collections/sites/items/{code}",
                                     headers={**bearer("field"), **close}).json()
                public = requests.get(f"{url}/ogcapi/collections/sites/items?limit=500", headers=close).json()
                mine = [f for f in public["features"] if f["id"] == code]
                seen.append((record["version"], round(staff["geometry"]["coordinates"][0], 6),
                             staff["properties"].get("version"), len(mine)))
            readers = [threading.Thread(target=read, args=(i,)) for i in range(8)]
            [t.start() for t in readers]
            [t.join() for t in readers]
            assert len(seen) == 8
            assert all(v == version and x == moved and sv in (None, version) for v, x, sv, _ in seen), (step, seen)
            assert {n for *_, n in seen} == {1}, seen  # shown to the public (as the demo generalizes or shows it)
        site = requests.get(f"{url}/api/sites/{code}", headers=bearer("field")).json()
        r = requests.post(f"{url}/api/sites/{code}/revisions", headers=bearer("field"), json={
            "base_version": site["version"], "reason": "looters", "properties": {"sensitivity": "hidden"}})
        assert r.status_code == 201, r.text
        r = requests.post(f"{url}/api/revisions/{r.json()['id']}/decision", headers=bearer("expert"),
                          json={"decision": "approve", "round": 1})
        assert r.status_code == 200, r.text
        gone: list = []

        def anonymous(i: int) -> None:
            one = requests.get(f"{url}/ogcapi/collections/sites/items/{code}", headers=close)
            listed = requests.get(f"{url}/ogcapi/collections/sites/items?limit=500", headers=close).json()
            gone.append((one.status_code, any(f["id"] == code for f in listed["features"])))
        readers = [threading.Thread(target=anonymous, args=(i,)) for i in range(8)]
        [t.start() for t in readers]
        [t.join() for t in readers]
        assert gone == [(404, False)] * 8, gone   # hidden at once for every process
        workers = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) == 2
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
