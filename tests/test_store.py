"""The GeoPackage store: geometry blobs, transactions, spatial index, history, snapshots, GDAL interoperability."""
from __future__ import annotations

import sqlite3
import struct
import threading

import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import given, settings, strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon

from fossil_registry import sites, store
from fossil_registry.errors import StaleVersion
from fossil_registry.registry import check_registry, validate_geopackage
from fossil_registry.store import gpkg

from .conftest import make_site, square

lon_st = st.floats(min_value=-180, max_value=180, allow_nan=False)
lat_st = st.floats(min_value=-90, max_value=90, allow_nan=False)


def dump(conn) -> dict:
    """Every user-visible row of the registry, spatial index included: to prove a failed write changed nothing."""
    tables = [store.LOCATIONS, store.BOUNDARIES, store.VERSIONS, store.AUDIT, "gpkg_contents",
              f"rtree_{store.LOCATIONS}_geom", f"rtree_{store.BOUNDARIES}_geom"]
    return {t: [tuple(r) for r in conn.execute(f'SELECT * FROM "{t}" ORDER BY 1')] for t in tables}


# ---------------------------------------------------------------------------------------------------- geometry blobs
@given(lon_st, lat_st)
def test_point_blob_round_trips(lon, lat):
    blob = store.encode_geometry(Point(lon, lat))
    assert blob[:2] == b"GP" and blob[2] == 0
    assert struct.unpack("<i", blob[4:8])[0] == 4490
    assert store.decode_geometry(blob).equals_exact(Point(lon, lat), 0)
    assert store.blob_bounds(blob) == (lon, lon, lat, lat)


@given(st.lists(st.tuples(st.floats(103, 110), st.floats(24, 30)), min_size=3, max_size=30))
@settings(max_examples=60)
def test_polygon_blob_round_trips_with_envelope(points):
    poly = shapely.convex_hull(shapely.MultiPoint(points))
    if poly.geom_type != "Polygon":
        return
    geom = MultiPolygon([poly])
    blob = store.encode_geometry(geom)
    assert blob[3] == 0b011  # little endian, xy envelope
    minx, maxx, miny, maxy = struct.unpack("<4d", blob[8:40])
    assert (minx, miny, maxx, maxy) == geom.bounds
    assert store.decode_geometry(blob).equals_exact(geom, 0)


def test_empty_geometry_blob_is_flagged_empty():
    blob = store.encode_geometry(Point())
    assert blob[3] & 0b1_0000
    assert gpkg._st_is_empty(blob) == 1 and store.blob_bounds(blob) is None


def test_garbage_blob_is_refused():
    with pytest.raises(ValueError):
        store.decode_geometry(b"XX\x00\x01\x00\x00\x00\x00")


# ---------------------------------------------------------------------------------------------------- GDAL interop
def test_new_registry_passes_geopackage_validator(registry_file):
    assert validate_geopackage(registry_file) == []


def test_gdal_reads_registry_with_crs_counts_and_extent(conn, registry_file):
    make_site(conn, lon=105.40, lat=25.90)
    make_site(conn, lon=108.41, lat=26.75)
    make_site(conn, lon=107.40, lat=27.10, boundary=False)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    locations = pyogrio.read_dataframe(registry_file, layer="site_locations")
    boundaries = pyogrio.read_dataframe(registry_file, layer="site_boundaries")
    assert locations.crs.to_epsg() == 4490 and boundaries.crs.to_epsg() == 4490
    assert sorted(locations["code"]) == ["GZ-0001", "GZ-0002", "GZ-0003"]
    assert len(boundaries) == 2
    info = pyogrio.read_info(registry_file, layer="site_locations")
    assert info["features"] == 3 and info["geometry_type"] == "Point"
    np.testing.assert_allclose(info["total_bounds"], (105.40, 25.90, 108.41, 27.10))
    binfo = pyogrio.read_info(registry_file, layer="site_boundaries")
    assert binfo["geometry_type"] == "MultiPolygon"
    np.testing.assert_allclose(binfo["total_bounds"], (105.395, 25.895, 108.415, 26.755))
    assert validate_geopackage(registry_file) == []


def test_gdal_sees_updates_made_by_the_store(conn, registry_file):
    site = make_site(conn, lon=105.40, lat=25.90)
    sites.change_site(conn, site.code, base_version=1, location=Point(105.41, 25.91), boundary=square(105.41, 25.91),
                      author="tester", reason="RTK resurvey")
    gdf = pyogrio.read_dataframe(registry_file, layer="site_locations")
    assert gdf.geometry.iloc[0].equals(Point(105.41, 25.91))
    assert int(gdf["version"].iloc[0]) == 2
    history = pyogrio.read_dataframe(registry_file, layer="site_versions", read_geometry=False)
    assert list(history["version"]) == [1, 2]


# ---------------------------------------------------------------------------------------------------- atomicity
def test_an_answered_write_is_on_disk_before_it_is_answered(app):
    """synchronous = FULL in WAL mode: each commit is fsynced before it returns, so a power cut cannot take back an
    approval that was already answered (NORMAL syncs only at checkpoints: safe against a crashed process, not a lost
    machine). Every connection that writes the registry: the store's own and the one a request gets."""
    from fossil_registry.db import get_conn

    conn = store.connect(app.config["REGISTRY"])
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        conn.close()
    with app.test_request_context("/"):
        assert get_conn().execute("PRAGMA synchronous").fetchone()[0] == 2


def test_failed_write_half_way_leaves_no_trace(conn):
    site = make_site(conn)
    before = dump(conn)
    # a real failure inside the real transaction, after the feature rows and history were already written
    conn.execute("CREATE TEMP TRIGGER fail_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        sites.change_site(conn, site.code, base_version=1, location=Point(105.6, 25.8), boundary=square(105.6, 25.8),
                          author="tester", reason="move")
    with pytest.raises(sqlite3.IntegrityError):
        make_site(conn, code="GZ-0099", lon=106.0, lat=26.0)
    conn.execute("DROP TRIGGER temp.fail_audit")
    assert dump(conn) == before
    assert store.check_integrity(conn) == []


def test_invalid_geometry_writes_nothing(conn):
    site = make_site(conn)
    before = dump(conn)
    bowtie = Polygon([(105.5, 25.9), (105.52, 25.92), (105.52, 25.9), (105.5, 25.92)])
    with pytest.raises(ValueError, match="self-intersect"):
        sites.change_site(conn, site.code, base_version=1, boundary=bowtie, author="tester", reason="bad")
    assert dump(conn) == before


def test_history_and_audit_are_append_only(conn):
    make_site(conn)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE site_versions SET reason = 'rewritten'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_log")


# ---------------------------------------------------------------------------------------------------- spatial index
def rtree_entries(conn, table):
    return {r[0]: r[1:] for r in conn.execute(f"SELECT id, minx, maxx, miny, maxy FROM rtree_{table}_geom")}


def test_spatial_index_follows_inserts_updates_and_boundary_removal(conn):
    rng = np.random.default_rng(7)
    codes = [make_site(conn, lon=104 + 5 * rng.random(), lat=25 + 3 * rng.random()).code for _ in range(40)]
    for i, code in enumerate(codes[:25]):
        lon, lat = 104 + 5 * rng.random(), 25 + 3 * rng.random()
        site = sites.current(conn, code)
        sites.change_site(conn, code, base_version=site.version, location=Point(lon, lat),
                          boundary=None if i % 5 == 0 else square(lon, lat, 0.002 + 0.01 * rng.random()),
                          author="tester", reason="resurvey")
    assert store.check_integrity(conn) == []
    loc_index = rtree_entries(conn, store.LOCATIONS)
    for fid, blob in conn.execute("SELECT fid, geom FROM site_locations"):
        p = store.decode_geometry(blob)
        minx, maxx, miny, maxy = loc_index[fid]
        assert minx <= p.x <= maxx and miny <= p.y <= maxy and maxx - minx < 1e-4
    assert len(rtree_entries(conn, store.BOUNDARIES)) == conn.execute("SELECT count(*) FROM site_boundaries").fetchone()[0] == 35
    # the index answers bbox queries exactly as a full scan does
    bbox = (105.0, 25.5, 107.5, 27.0)
    by_index = {s.code for s in sites.list_current(conn, bbox=bbox)}
    by_scan = {s.code for s in sites.list_current(conn) if shapely.box(*bbox).intersects(s.location)}
    assert by_index == by_scan and by_index


def test_check_detects_a_corrupted_spatial_index(conn, registry_file):
    site = make_site(conn)
    conn.execute("UPDATE rtree_site_locations_geom SET minx = minx - 1")
    problems = check_registry(registry_file)
    assert any("spatial index envelope of " + site.code in p for p in problems)


# ---------------------------------------------------------------------------------------------------- concurrency
def test_two_writers_on_the_same_base_version_one_is_refused(registry_file):
    c0 = store.connect(registry_file)
    code = make_site(c0).code
    results = []
    barrier = threading.Barrier(2)

    def writer(dx):
        c = store.connect(registry_file)
        try:
            barrier.wait()
            sites.change_site(c, code, base_version=1, location=Point(105.5 + dx, 25.9), author=f"w{dx}",
                              reason="concurrent edit")
            results.append("ok")
        except StaleVersion as exc:
            results.append(exc.current_version)
        finally:
            c.close()

    threads = [threading.Thread(target=writer, args=(dx,)) for dx in (0.001, 0.002)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results, key=str) == [2, "ok"]
    assert [v.version for v in sites.history(c0, code)] == [1, 2]
    c0.close()


def test_export_while_writing_is_a_consistent_valid_snapshot(conn, registry_file, tmp_path):
    from fossil_registry.registry import export_registry

    code = make_site(conn).code
    stop = threading.Event()

    def keep_writing():
        c = store.connect(registry_file)
        version = 1
        while not stop.is_set() and version < 200:
            sites.change_site(c, code, base_version=version, location=Point(105.5 + version * 1e-4, 25.9),
                              author="writer", reason="busy")
            version += 1
        c.close()

    t = threading.Thread(target=keep_writing)
    t.start()
    try:
        for i in range(3):
            dest = tmp_path / f"snap{i}.gpkg"
            export_registry(registry_file, dest)
            snap = store.connect(dest, readonly=True)
            assert store.check_integrity(snap) == []
            snap.close()
            assert validate_geopackage(dest) == []
            assert len(pyogrio.read_dataframe(dest, layer="site_locations")) == 1
    finally:
        stop.set()
        t.join()


def test_batch_decoding_matches_single_decoding():
    geoms = [Point(105.1, 25.2), None, square(106.0, 26.0), Point(), square(107.5, 27.5, 0.01)]
    blobs = [store.encode_geometry(g) for g in geoms]
    batch = store.decode_geometries(blobs)
    for g, b, one in zip(geoms, batch, (store.decode_geometry(x) for x in blobs)):
        assert (g is None and b is None and one is None) or (b.equals_exact(one, 0) and b.wkb == one.wkb)
