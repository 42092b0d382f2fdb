"""The store's contract, proven on both backends: atomic writes, append-only history and audit in the database, the
spatial index answering like a full scan, the base-version guard under concurrent writers, consistent exports while
writing; and moving a whole registry between the GeoPackage and PostGIS without losing a row."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from fossil_registry import auth, registry, sites, store
from fossil_registry.errors import StaleVersion
from fossil_registry.store import dialect, migrations
from fossil_registry.store.dialect import is_pg

from .backends import DB_REFUSAL, dump, fail_inserts, stop_failing
from .conftest import make_site, square

pytestmark = pytest.mark.both_backends


def test_both_backends_migrate_through_the_same_named_steps():
    """One list of steps for both backends: each step a function of the connection, each name once."""
    names = [name for name, _ in migrations.MIGRATIONS]
    assert len(set(names)) == len(names) and all(callable(step) for _, step in migrations.MIGRATIONS)


def test_each_table_is_created_as_defined_once_for_both_backends(conn):
    """Every table definition (store/tables.py) is the table either backend holds: its columns in their order (later
    steps only add columns after them), its geometry columns as geometries (GeoPackage layer or blob, PostGIS
    geometry), its refusals as triggers."""
    backend = dialect.backend(conn)
    for table in migrations.TABLES:
        columns = list(backend.column_types(conn, table.name))
        defined = (["fid"] if table.fid else []) + [c.name for c in table.columns]
        assert columns[:len(defined)] == defined, table.name
        for c in table.columns:
            kind = backend.column_types(conn, table.name)[c.name]
            if c.is_geometry:
                assert kind.startswith("geometry") if is_pg(conn) else kind in (c.kind.lower(), "blob"), (table.name, c)
    assert {t.name for t in migrations.TABLES} >= {"users", "revisions", "inspections", "section_lines", "rescue_cases"}


def test_failed_write_half_way_leaves_no_trace(conn):
    site = make_site(conn)
    before = dump(conn)
    fail_inserts(conn, "fail_audit", "audit_log", "disk full")  # after the feature rows and history were written
    with pytest.raises(DB_REFUSAL, match="disk full"):
        sites.change_site(conn, site.code, base_version=1, location=Point(105.6, 25.8), boundary=square(105.6, 25.8),
                          author="tester", reason="move")
    with pytest.raises(DB_REFUSAL):
        make_site(conn, code="GZ-0099", lon=106.0, lat=26.0)
    stop_failing(conn, "fail_audit", "audit_log")
    assert dump(conn) == before
    assert store.check_integrity(conn) == []
    assert sites.change_site(conn, site.code, base_version=1, location=Point(105.6, 25.8), author="tester",
                             reason="move").site.version == 2


def test_invalid_geometry_writes_nothing(conn):
    site = make_site(conn)
    before = dump(conn)
    bowtie = Polygon([(105.5, 25.9), (105.52, 25.92), (105.52, 25.9), (105.5, 25.92)])
    with pytest.raises(ValueError, match="self-intersect"):
        sites.change_site(conn, site.code, base_version=1, boundary=bowtie, author="tester", reason="bad")
    assert dump(conn) == before


@pytest.mark.parametrize("sql, message", [
    ("UPDATE site_versions SET reason = 'rewritten'", "append-only"),
    ("DELETE FROM site_versions", "append-only"),
    ("DELETE FROM audit_log", "append-only"),
    ("UPDATE audit_log SET actor = 'someone else'", "append-only"),
    ("DELETE FROM users", "never deleted"),
])
def test_history_audit_and_accounts_are_protected_by_the_database(conn, sql, message):
    make_site(conn)
    auth.create_user(conn, username="ada", role="admin", password="a-long-password", actor="test")
    with pytest.raises(DB_REFUSAL, match=message):
        with store.transaction(conn):
            conn.execute(sql)
    assert len(store.list_audit(conn)) == 2 and store.count_sites(conn) == 1


def test_truncate_is_refused_too(conn):
    """PostgreSQL's TRUNCATE fires no row trigger: the schema refuses it by a statement trigger. (SQLite has none.)"""
    make_site(conn)
    sql = "TRUNCATE site_versions CASCADE" if is_pg(conn) else "DELETE FROM site_versions"
    with pytest.raises(DB_REFUSAL, match="append-only"):
        with store.transaction(conn):
            conn.execute(sql)
    assert len(sites.history(conn, "GZ-0001")) == 1


def test_geometries_are_stored_in_cgcs2000(conn):
    site = make_site(conn, lon=106.7, lat=26.6)
    if is_pg(conn):
        rows = conn.execute("SELECT ST_SRID(geom), ST_AsText(geom) FROM site_locations").fetchall()
        assert [tuple(r) for r in rows] == [(4490, "POINT(106.7 26.6)")]
        types = dict(conn.execute("SELECT f_table_name || '.' || f_geometry_column, srid FROM geometry_columns "
                                  "WHERE f_table_name IN ('site_locations', 'site_boundaries', 'site_versions')"))
        assert types == {"site_locations.geom": 4490, "site_boundaries.geom": 4490, "site_versions.location": 4490,
                         "site_versions.boundary": 4490}
        indexed = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING gist%'")}
        assert {"site_locations_geom_gist", "site_boundaries_geom_gist", "site_versions_location_gist"} <= indexed
    else:
        blob = conn.execute("SELECT geom FROM site_locations").fetchone()[0]
        assert store.blob_srs_id(blob) == 4490
    assert sites.current(conn, site.code).location.equals(Point(106.7, 26.6))


def test_the_spatial_index_answers_like_a_full_scan(conn):
    rng = np.random.default_rng(7)
    codes = [make_site(conn, lon=104 + 5 * rng.random(), lat=25 + 3 * rng.random()).code for _ in range(30)]
    for i, code in enumerate(codes[:15]):
        lon, lat = 104 + 5 * rng.random(), 25 + 3 * rng.random()
        sites.change_site(conn, code, base_version=1, location=Point(lon, lat),
                          boundary=None if i % 5 == 0 else square(lon, lat, 0.002 + 0.01 * rng.random()),
                          author="tester", reason="resurvey")
    assert store.check_integrity(conn) == []
    for bbox in ((105.0, 25.5, 107.5, 27.0), (104.0, 25.0, 104.5, 25.5), (100.0, 20.0, 101.0, 21.0)):
        by_index = {s.code for s in sites.list_current(conn, bbox=bbox)}
        by_scan = {s.code for s in sites.list_current(conn) if shapely.box(*bbox).intersects(s.location)}
        assert by_index == by_scan
        near = set(store.boundary_codes_intersecting(conn, bbox))
        assert near == {s.code for s in sites.list_current(conn)
                        if s.boundary is not None and shapely.box(*bbox).intersects(shapely.box(*s.boundary.bounds))}


def _concurrently(n, target):
    barrier = threading.Barrier(n)
    results, lock = [], threading.Lock()

    def run(i):
        barrier.wait()
        outcome = target(i)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return results


def test_concurrent_writers_on_the_same_base_version_exactly_one_wins(registry_file):
    c0 = store.connect(registry_file)
    code = make_site(c0).code

    def writer(i):
        c = store.connect(registry_file)
        try:
            sites.change_site(c, code, base_version=1, location=Point(105.5 + (i + 1) * 1e-3, 25.9), author=f"w{i}",
                              reason="concurrent edit")
            return "ok"
        except StaleVersion as exc:
            return exc.current_version
        finally:
            c.close()

    results = _concurrently(6, writer)
    assert sorted(results, key=str) == [2, 2, 2, 2, 2, "ok"]
    assert [v.version for v in sites.history(c0, code)] == [1, 2]
    assert store.check_integrity(c0) == []
    c0.close()


def test_concurrent_writers_of_different_sites_all_succeed_and_history_stays_whole(registry_file):
    c0 = store.connect(registry_file)
    codes = [make_site(c0, lon=105 + i * 0.01).code for i in range(8)]

    def writer(i):
        c = store.connect(registry_file)
        try:
            for version in range(1, 4):
                sites.change_site(c, codes[i], base_version=version, location=Point(105 + i * 0.01, 25.9 + version * 1e-3),
                                  author=f"w{i}", reason="busy")
            return "ok"
        finally:
            c.close()

    assert _concurrently(8, writer) == ["ok"] * 8
    assert all(sites.current(c0, code).version == 4 for code in codes)
    assert store.check_integrity(c0) == []
    # history entries are numbered in the order they were written, each site's versions ascending with them
    rows = c0.execute("SELECT code, version FROM site_versions ORDER BY fid").fetchall()
    last: dict[str, int] = {}
    for code, version in rows:
        assert version == last.get(code, 0) + 1
        last[code] = version
    c0.close()


def test_concurrent_new_sites_get_distinct_codes(registry_file):
    def creator(i):
        c = store.connect(registry_file)
        try:
            return make_site(c, lon=105 + i * 0.01).code
        finally:
            c.close()

    codes = _concurrently(6, creator)
    assert sorted(codes) == [f"GZ-{n:04d}" for n in range(1, 7)]


def test_export_while_writing_is_a_consistent_valid_snapshot(conn, registry_file, tmp_path):
    code = make_site(conn).code
    stop = threading.Event()

    def keep_writing():
        c = store.connect(registry_file)
        version = 1
        while not stop.is_set() and version < 100:
            sites.change_site(c, code, base_version=version, location=Point(105.5 + version * 1e-4, 25.9),
                              author="writer", reason="busy")
            version += 1
        c.close()

    t = threading.Thread(target=keep_writing)
    t.start()
    try:
        for i in range(2):
            dest = tmp_path / f"snap{i}.gpkg"
            registry.export_registry(registry_file, dest)
            snap = store.connect(dest, readonly=True)
            assert store.check_integrity(snap) == []
            snap.close()
            assert registry.validate_geopackage(dest) == []
    finally:
        stop.set()
        t.join()


def test_the_demo_registry_checks_clean(app):
    assert registry.check_registry(app.config["REGISTRY"], data_dir=app.config["DATA_DIR"]) == []


# ------------------------------------------------------------------------------------------------ the feature families
def _section(conn, lon: float = 108.40, lat: float = 26.70, **props):
    from fossil_registry.sections import SECTION

    properties = {"name": "测试剖面", "level": "provincial", "sensitivity": "open", **props}
    return sites.create_site(conn, properties=properties, location=LineString([(lon, lat), (lon + 0.001, lat + 0.003)]),
                             boundary=square(lon, lat + 0.0015), author="tester", reason="test fixture",
                             kind=SECTION).site


def _families(conn) -> dict:
    """A site and a section, a marker, a rescue case with an event, an import with a row that made a proposal."""
    from fossil_registry.store import imports, markers, rescues, revisions

    site, section = make_site(conn), _section(conn)
    now = store.utc_now()
    with store.transaction(conn):
        marker = markers.insert_marker(conn, feature_code=section.code, point=Point(108.4005, 26.7015), kind="monument",
                                       inscription="剖面碑", inscription_en=None, erected_on="2020-01-01",
                                       photo_count=0, created_at=now, created_by="tester")
        case = rescues.insert_case(conn, point=Point(105.4, 25.9), source="other", report_id=None, impact_case_id=None,
                                   reported_by="someone", reported_at=now, county=None, description="a bone",
                                   opened_at=now, opened_by="tester")
        rescues.insert_event(conn, case_id=case, kind="note", done_at=now, recorded_at=now, recorded_by="tester",
                             note="seen", specimens=None, samples=None, field_numbers=None, kept_at=None,
                             revision_id=None, photo_count=0)
        imp = imports.insert_import(conn, created_by="ada", created_at=now, filename="a.csv", sha256="0" * 64,
                                    data=b"name\n", format="csv", options={}, mapping={}, info={}, total=1)
        imports.replace_rows(conn, imp, [{"row_no": 1, "outcome": "new", "content_key": "k1", "warnings": []}])
        rid = revisions.insert_revision(conn, kind="new_site", status="submitted", author="ada", created_at=now,
                                        updated_at=now, reason="imported")
        imports.set_row_result(conn, imp, 1, result="proposed", revision_id=rid)
    return {"site": site.code, "section": section.code, "marker": marker, "case": case, "import": imp}


@pytest.mark.parametrize("sql, message", [
    ("UPDATE section_versions SET reason = 'rewritten'", "section history is append-only"),
    ("DELETE FROM section_versions", "section history is append-only"),
    ("DELETE FROM protection_markers", "markers stay on record"),
    ("INSERT INTO protection_markers (geom, feature_code, kind, created_at, created_by) "
     "SELECT geom, 'GZ-9999', 'monument', 'now', 'x' FROM protection_markers", "registered site or section"),
    ("UPDATE rescue_cases SET description = 'rewritten'", "never changed"),
    ("DELETE FROM rescue_cases", "closed, never deleted"),
    ("UPDATE rescue_events SET note = 'rewritten'", "append-only"),
    ("DELETE FROM import_rows", "part of the record"),
    ("UPDATE rescue_cases SET status = 'closed', outcome = 'new_site_proposed'", "check|CHECK"),  # without one
    ("INSERT INTO inspections (code, inspected_on, inspectors, condition, site_version, recorded_at, recorded_by) "
     "VALUES ('GZ-9999', '2024-05-01', 'x', 'good', 1, 'now', 'x')", "registered site or section"),
])
def test_sections_markers_rescues_and_imports_are_protected_by_the_database(conn, sql, message):
    made = _families(conn)
    with pytest.raises(DB_REFUSAL, match=message):
        with store.transaction(conn):
            conn.execute(sql)
    assert store.count_sites(conn) == 1 and store.count_sites(conn, store.SECTIONS) == 1
    assert len(store.markers.all_markers(conn)) == 1 and store.rescues.get_case(conn, made["case"])["status"] == "open"
    assert len(store.imports.list_rows(conn, made["import"])) == 1
    assert store.check_integrity(conn) == []


def test_a_code_names_one_feature_of_either_kind(conn):
    """The domain refuses a taken code first; the database refuses it too, whichever layer the row is written to."""
    section, site = _section(conn), make_site(conn)
    attributes = {"name": "x", "level": "general", "sensitivity": "open"}
    rows = [(store.SITES, section.code, Point(105.6, 25.9), None),
            (store.SECTIONS, site.code, LineString([(108.5, 26.7), (108.501, 26.702)]), {"length_m": 230.0})]
    for layers, code, geom, measures in rows:
        other = "section" if layers is store.SITES else "site"
        with pytest.raises(DB_REFUSAL, match=f"a {other} already has this code"):
            with store.transaction(conn):
                store.write_site_row(conn, store.SiteRow(code, attributes, geom, None, 1, store.utc_now(), "x"),
                                     area_km2=None, insert=True, layers=layers, measures=measures)
    assert store.count_sites(conn) == 1 and store.count_sites(conn, store.SECTIONS) == 1
    assert store.check_integrity(conn) == []


def test_section_layers_are_indexed_and_checked_like_the_sites(conn):
    rng = np.random.default_rng(11)
    codes = [_section(conn, lon=104 + 5 * rng.random(), lat=25 + 3 * rng.random()).code for _ in range(12)]
    from fossil_registry.sections import SECTION
    for code in codes[:4]:
        lon, lat = 104 + 5 * rng.random(), 25 + 3 * rng.random()
        sites.change_site(conn, code, base_version=1, location=LineString([(lon, lat), (lon + 0.002, lat + 0.001)]),
                          boundary=None, author="tester", reason="resurvey", kind=SECTION)
    assert store.check_integrity(conn) == []
    for bbox in ((105.0, 25.5, 107.5, 27.0), (104.0, 25.0, 104.5, 25.5)):
        by_index = {s.code for s in sites.list_current(conn, bbox=bbox, kind=SECTION)}
        by_scan = {s.code for s in sites.list_current(conn, kind=SECTION)
                   if shapely.box(*bbox).intersects(shapely.box(*s.location.bounds))}
        assert by_index == by_scan
    if is_pg(conn):
        types = dict(conn.execute("SELECT f_table_name || '.' || f_geometry_column, type FROM geometry_columns "
                                  "WHERE f_table_name LIKE 'section%' OR f_table_name IN ('protection_markers', "
                                  "'rescue_cases')"))
        assert types == {"section_lines.geom": "LINESTRING", "section_boundaries.geom": "MULTIPOLYGON",
                         "section_versions.location": "LINESTRING", "section_versions.boundary": "MULTIPOLYGON",
                         "protection_markers.geom": "POINT", "rescue_cases.geom": "POINT"}
    # a current line that disagrees with its history is found, as for the sites
    conn.execute("UPDATE section_lines SET version = 7 WHERE code = ?", (codes[0],))
    assert store.check_integrity(conn) == [f"{codes[0]}: current version 7 but latest history version 2"]


def test_concurrent_writers_of_one_section_exactly_one_wins(registry_file):
    from fossil_registry.sections import SECTION

    c0 = store.connect(registry_file)
    code = _section(c0).code

    def writer(i):
        c = store.connect(registry_file)
        try:
            sites.change_site(c, code, base_version=1, author=f"w{i}", reason="concurrent edit", kind=SECTION,
                              location=LineString([(108.40, 26.70), (108.401 + (i + 1) * 1e-4, 26.703)]))
            return "ok"
        except StaleVersion as exc:
            return exc.current_version
        finally:
            c.close()

    assert sorted(_concurrently(5, writer), key=str) == [2, 2, 2, 2, "ok"]
    assert [v.version for v in sites.history(c0, code, SECTION)] == [1, 2]
    assert store.check_integrity(c0) == []
    c0.close()


def test_two_imports_of_one_content_at_once_make_one_proposal(registry_file):
    """Each import's row checks for an open proposal of its content and makes one if there is none: the check and the
    proposal are one step for the registry (GeoPackage: BEGIN IMMEDIATE; PostGIS: an advisory lock on the content)."""
    import time

    from fossil_registry.store import imports, revisions

    c0 = store.connect(registry_file)
    now = store.utc_now()
    with store.transaction(c0):
        fids = []
        for _ in range(4):
            fid = imports.insert_import(c0, created_by="ada", created_at=now, filename="a.csv", sha256="0" * 64,
                                        data=b"x", format="csv", options={}, mapping={}, info={}, total=1)
            imports.replace_rows(c0, fid, [{"row_no": 1, "outcome": "new", "content_key": "same", "warnings": []}])
            fids.append(fid)

    def proposer(i):
        c = store.connect(registry_file)
        try:
            with store.transaction(c):
                earlier = imports.open_proposal_for_key(c, "same")
                time.sleep(0.2)  # what a proposal's validation takes: room for another to slip in between
                if earlier is not None:
                    imports.set_row_result(c, fids[i], 1, result="already", revision_id=earlier["revision"])
                    return "already"
                rid = revisions.insert_revision(c, kind="new_site", status="submitted", author="ada", created_at=now,
                                                updated_at=now, reason="imported")
                imports.set_row_result(c, fids[i], 1, result="proposed", revision_id=rid)
                return "proposed"
        finally:
            c.close()

    assert sorted(_concurrently(4, proposer)) == ["already", "already", "already", "proposed"]
    assert c0.execute("SELECT count(*) FROM revisions").fetchone()[0] == 1
    c0.close()
