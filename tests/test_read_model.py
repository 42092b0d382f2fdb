"""The read model (docs/national-scale.md): what one approval costs does not grow with the registry, nor does the
first read after it; and what the writes maintain one feature at a time equals what a rebuild from the record makes.

Two real registries of 200 and 2,000 sites (the same 100 in one county, the rest elsewhere); in each the same site is
changed as an approval changes it (a versioned write moving it and changing its level). The work is counted by SQLite
itself: rows changed by the write's transaction (``total_changes``, triggers and virtual tables included) and virtual
machine steps of each read right after it (a progress handler)."""
from __future__ import annotations

import re

import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box

from fossil_registry import map_layers, ogcapi, read_model, sites, store
from fossil_registry.ogcapi.crs import CRS84, ServiceCRS
from fossil_registry.ogcapi.query import ItemsQuery
from fossil_registry.registry import registry_path
from fossil_registry.store import read_model as rstore
from fossil_registry.store.dialect import is_pg
from fossil_registry.vocab import Level, Period, Sensitivity, SiteStatus
from bench import national_data
from tests.conftest import make_site

LEVELS = tuple(Level)

COUNTY = (106.0, 26.0, 106.3, 26.3)
ELSEWHERE = (103.6, 24.6, 105.8, 28.8)  # the province outside the county
REGION = (103.0, 24.0, 109.0, 29.0)
CHANGED = "GZ-0007"


def _sensitivity(i: int) -> str:
    return Sensitivity.HIDDEN if i % 10 == 3 else Sensitivity.GENERALIZED if i % 5 == 1 else Sensitivity.OPEN


def _build(tmp_path_factory, n: int) -> str:
    """n sites: n - 100 elsewhere in the province written in bulk (bench/national_data.py), then the county's 100
    through the versioned write, as an approval writes them."""
    path = registry_path(tmp_path_factory.mktemp(f"reads{n}") / "data")
    store.create_registry(path)
    conn = store.connect(path)
    try:
        national_data.build(conn, n - 100, ELSEWHERE, start=101)
        with store.transaction(conn):  # one commit; each site still its own versioned write, read rows included
            for i in range(100):
                lon, lat = COUNTY[0] + 0.02 + (i % 10) * 0.025, COUNTY[1] + 0.02 + (i // 10) * 0.025
                make_site(conn, code=f"GZ-{i + 1:04d}", lon=lon, lat=lat, name=f"化石点{i}",
                          sensitivity=_sensitivity(i), boundary=i % 2 == 0, level=LEVELS[i % 3])
    finally:
        conn.close()
    return path


@pytest.fixture(scope="module")
def registries(tmp_path_factory):
    return {n: _build(tmp_path_factory, n) for n in (200, 2000)}


def _approve(conn) -> int:
    """The versioned write of an approval (move, new level); the rows it changed, of every table."""
    before = conn.total_changes
    site = sites.current(conn, CHANGED)
    sites.change_site(conn, CHANGED, base_version=site.version, author="tester", reason="moved after survey",
                      location=Point(site.location.x + 0.011, site.location.y + 0.007),
                      properties={"level": LEVELS[(LEVELS.index(site.properties["level"]) + 1) % 3],
                                  "name": "贵阳新站"})
    return conn.total_changes - before


def _steps(conn, read) -> int:
    counted = [0]

    def tick():
        counted[0] += 1
        return 0
    conn.set_progress_handler(tick, 100)
    try:
        read()
    finally:
        conn.set_progress_handler(None, 0)
    return counted[0] * 100


def _reads(conn) -> dict:
    crs84 = ServiceCRS(CRS84, None, "CRS84", True)
    collection = ogcapi.COLLECTIONS["sites"]
    first = ItemsQuery(limit=20, crs=crs84, filters={"status": {"active"}})
    county = ItemsQuery(limit=20, crs=crs84, bbox=COUNTY, filters={"status": {"active"}})
    return {
        "ogc first page": lambda: ogcapi.stored.page(conn, collection, public=True, q=first),
        "ogc county bbox": lambda: ogcapi.stored.page(conn, collection, public=True, q=county),
        "ogc staff county": lambda: ogcapi.stored.page(conn, collection, public=False, q=county),
        "single feature": lambda: ogcapi.stored.one(conn, collection, public=True, code=CHANGED, crs=crs84),
        # counted clusters: the work is the cells in view (grid cells x levels x periods), not the sites in them
        "map clusters zoom 4": lambda: map_layers.sites_layer(conn, exact=False, bbox=REGION, zoom=4, max_points=50),
        "map clusters county zoom 9": lambda: map_layers.sites_layer(conn, exact=True, bbox=COUNTY, zoom=9,
                                                                     max_points=50),
        "map county zoom 11": lambda: map_layers.sites_layer(conn, exact=False, bbox=COUNTY, zoom=11, max_points=500),
        "boundaries county": lambda: map_layers.boundaries_in_view(conn, exact=True, bbox=COUNTY, zoom=11),
        "search name": lambda: read_model.search(conn, "贵阳新站", exact=False),
        "search code": lambda: read_model.search(conn, CHANGED.lower(), exact=True),
        "search pinyin": lambda: read_model.search(conn, "guiyangxin", exact=False),
    }


def test_one_approval_and_the_reads_after_it_cost_the_same_at_200_and_2000_sites(registries):
    changed, steps = {}, {}
    for n, path in registries.items():
        conn = store.connect(path)
        try:
            changed[n] = _approve(conn)
            steps[n] = {name: _steps(conn, read) for name, read in _reads(conn).items()}
            assert read_model.search(conn, "贵阳新站", exact=False)[0]["id"] == CHANGED
        finally:
            conn.close()
    # the feature, its history and audit, its read rows and terms, and per aggregated zoom two cells: whether a cell
    # is emptied (deleted) or only decremented depends on its neighbours, never on how many sites there are
    assert abs(changed[200] - changed[2000]) <= 2 * (read_model.AGG_MAX_ZOOM + 1), changed
    assert changed[200] < 400 and changed[2000] < 400, changed
    for name in steps[200]:
        small, large = steps[200][name], steps[2000][name]
        assert large <= 1.5 * small + 2000, (name, small, large)  # B-tree depth, not registry size


def _snapshot(conn) -> dict:
    """Every read table by what its rows mean (not by their fids): the rows, their terms, the cells, the counts and,
    on the GeoPackage, each row's R-tree box and substring text (an entry left stale by a write shows here)."""
    features = conn.execute(f"SELECT collection, audience, code, level, period, fossil_groups, county, status, "
                            f"minx, miny, maxx, maxy, lon, lat, precision, fragment, geometry, map_feature, hit, "
                            f"haystack FROM {rstore.FEATURES} ORDER BY collection, audience, code").fetchall()
    terms = conn.execute(f"SELECT f.collection, f.audience, f.code, s.term, s.tier, s.code_term FROM {rstore.SEARCH} s "
                         f"JOIN {rstore.FEATURES} f ON f.fid = s.row_id ORDER BY 1, 2, 3, 4, 5").fetchall()
    cells = conn.execute(f"SELECT * FROM {rstore.CELLS} ORDER BY audience, zoom, i, j, level, period").fetchall()
    counts = conn.execute(f"SELECT * FROM {rstore.COUNTS} WHERE n > 0 ORDER BY 1, 2, 3").fetchall()
    zooms = conn.execute(f"SELECT f.collection, f.audience, f.code, z.features FROM {rstore.BOUNDARY_ZOOMS} z "
                         f"LEFT JOIN {rstore.FEATURES} f ON f.fid = z.row_id ORDER BY 1, 2, 3").fetchall()
    out = {"features": [tuple(r) for r in features], "terms": [tuple(r) for r in terms],
           "cells": [tuple(r) for r in cells], "counts": [tuple(r) for r in counts],
           "boundary zooms": [(*r[:3], bytes(r[3])) for r in zooms]}
    if not is_pg(conn):
        out["rtree"] = [tuple(r) for r in conn.execute(
            f"SELECT f.collection, f.audience, f.code, t.minx, t.maxx, t.miny, t.maxy, t.minz, t.maxz "
            f"FROM {rstore.RTREE} t LEFT JOIN {rstore.FEATURES} f ON f.fid = t.id ORDER BY 1, 2, 3")]
        out["text"] = [tuple(r) for r in conn.execute(
            f"SELECT f.collection, f.audience, f.code, t.haystack FROM {rstore.SEARCH_TEXT} t "
            f"LEFT JOIN {rstore.FEATURES} f ON f.fid = t.rowid ORDER BY 1, 2, 3")]
    return out


@pytest.mark.both_backends
def test_what_the_writes_maintain_equals_a_rebuild(conn, monkeypatch):
    for i in range(12):
        make_site(conn, code=f"GZ-{i + 1:04d}", lon=106.0 + i * 0.003, lat=26.0 + i * 0.002,
                  sensitivity=_sensitivity(i), level=LEVELS[i % 2], boundary=i % 3 == 0)
    for code, change in (("GZ-0001", {"properties": {"sensitivity": Sensitivity.HIDDEN}}),
                         ("GZ-0002", {"location": Point(106.5, 26.5)}),
                         ("GZ-0005", {"properties": {"status": SiteStatus.RETIRED}}),
                         ("GZ-0004", {"properties": {"level": LEVELS[2], "period": tuple(Period)[3]}}),
                         ("GZ-0004", {"boundary": None}),
                         ("GZ-0011", {"location": Point(106.0, 26.0), "properties": {"sensitivity": Sensitivity.OPEN}})):
        site = sites.current(conn, code)
        sites.change_site(conn, code, base_version=site.version, author="tester", reason="test", **change)
    maintained = _snapshot(conn)
    assert maintained["features"] and maintained["cells"]
    # PostGIS: the writes' few rows went in by INSERT; the rebuild sends every statement's rows by COPY (a build's
    # batches of hundreds of rows do), read rows, terms and cells alike
    monkeypatch.setattr(rstore, "COPY_FROM", 1)
    read_model.rebuild(conn)
    assert _snapshot(conn) == maintained


NUDGED = "GZ-0019"  # open, with a boundary


def _nudge(conn, code: str, dx: float = 1e-4, dy: float = 0.0) -> None:
    """The versioned write of a surveyor's correction (bench/bench_national.py's versioned update): the location moved
    a few metres and the boundary with it, names and properties as they were."""
    site = sites.current(conn, code)
    x, y = site.location.x + dx, site.location.y + dy
    sites.change_site(conn, code, base_version=site.version, author="tester", reason="corrected after survey",
                      location=Point(x, y), boundary=MultiPolygon([box(x - 0.002, y - 0.002, x + 0.002, y + 0.002)]))


_WRITE = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(read_\w+|rtree_read_\w+)", re.I)


def test_a_correction_keeping_its_names_updates_its_read_rows_in_place_at_200_and_2000_sites(registries):
    """issue 24: a location edit at any registry size updates the feature's read rows and their R-tree boxes in place,
    rewrites none of its search terms or substring texts (its names did not change) and at most one cell per zoom and
    audience: the write statements on the read tables, counted by SQLite's trace, are bounded and the same at 200
    and 2,000 sites."""
    written = {}
    for n, path in registries.items():
        conn = store.connect(path)
        statements: list[str] = []
        try:
            conn.set_trace_callback(statements.append)
            _nudge(conn, NUDGED)
        finally:
            conn.set_trace_callback(None)
            conn.close()
        writes = [(m.group(1), s.split()[0].upper()) for s in statements for m in [_WRITE.match(s)] if m]
        tables = {table for table, _ in writes}
        assert not tables & {rstore.SEARCH, rstore.SEARCH_TEXT, rstore.COUNTS}, writes
        assert {verb for table, verb in writes if table in (rstore.FEATURES, rstore.RTREE)} == {"UPDATE"}, writes
        rows = sum(table == rstore.FEATURES for table, _ in writes)
        assert rows <= 4 and sum(table == rstore.RTREE for table, _ in writes) <= rows, writes
        assert sum(table == rstore.CELLS for table, _ in writes) <= 2 * (read_model.AGG_MAX_ZOOM + 1), writes
        written[n] = len(writes)
    assert written[200] <= written[2000] + 2 * (read_model.AGG_MAX_ZOOM + 1) and \
        written[2000] <= written[200] + 2 * (read_model.AGG_MAX_ZOOM + 1), written


def _term_identities(conn) -> set:
    """Which stored term rows exist, by identity: SQLite's rowid; PostgreSQL's row version (ctid, xmin)."""
    column = "ctid::text || ':' || xmin::text" if is_pg(conn) else "rowid"
    return {r[0] for r in conn.execute(f"SELECT {column} FROM {rstore.SEARCH}")}


@pytest.mark.both_backends
def test_moves_inside_a_cell_keep_its_box_exact_and_leave_the_terms_alone(conn):
    """The cells' boxes stay the boxes of their members (what a rebuild makes) whether a member moves inside its cell
    (outward, inward, the only one, one of two, one of three), leaves it, or comes back; a correction that keeps the
    names leaves every stored search term as it was (not deleted and written again); a rename rewrites its own."""
    size = read_model.cell_size(read_model.AGG_MAX_ZOOM)
    i, j = read_model.cell_of(106.2, 26.2, read_model.AGG_MAX_ZOOM)
    x0, y0 = i * size, j * size  # one finest cell: three sites of one level, two of another, one of a third
    spots = {"GZ-0001": (0.2, 0.3, LEVELS[0]), "GZ-0002": (0.5, 0.5, LEVELS[0]), "GZ-0003": (0.8, 0.6, LEVELS[0]),
             "GZ-0004": (0.3, 0.7, LEVELS[1]), "GZ-0005": (0.6, 0.2, LEVELS[1]), "GZ-0006": (0.5, 0.4, LEVELS[2])}
    for n, (code, (fx, fy, level)) in enumerate(spots.items()):
        make_site(conn, code=code, lon=x0 + fx * size, lat=y0 + fy * size, level=level, boundary=n % 2 == 0,
                  sensitivity=Sensitivity.GENERALIZED if code == "GZ-0006" else Sensitivity.OPEN)
    step = size * 0.05
    changes = [lambda: _nudge(conn, "GZ-0001", dx=step),        # west edge of three, inward
               lambda: _nudge(conn, "GZ-0003", dx=step),        # east edge of three, outward
               lambda: _nudge(conn, "GZ-0001", dy=step),        # south edge of three, inward
               lambda: _nudge(conn, "GZ-0004", dx=step, dy=-step),  # one of two, inward on both axes
               lambda: _nudge(conn, "GZ-0006", dx=-step),       # the only one (the public's: its cell's centre)
               lambda: _nudge(conn, "GZ-0002", dx=size),        # into the next cell
               lambda: _nudge(conn, "GZ-0002", dx=-size),       # and back
               lambda: _change(conn, "GZ-0005", properties={"status": SiteStatus.RETIRED}),  # one of two leaves
               lambda: _change(conn, "GZ-0003", properties={"sensitivity": Sensitivity.HIDDEN}),
               lambda: _change(conn, "GZ-0003", properties={"sensitivity": Sensitivity.OPEN}),
               lambda: _change(conn, "GZ-0001", properties={"level": LEVELS[1]})]
    for n, change in enumerate(changes):
        terms = _term_identities(conn)
        public = conn.execute(f"SELECT lon, lat FROM {rstore.FEATURES} WHERE collection = 'sites' AND audience = "
                              "'public' AND code = 'GZ-0003'").fetchone()
        change()
        if n < 7:
            assert _term_identities(conn) == terms, n
        if n == 8:  # hidden: no public cluster's box still reaches where the public saw it
            edges = conn.execute(f"SELECT minx, miny, maxx, maxy FROM {rstore.CELLS} WHERE audience = 'public'")
            assert not [e for e in edges if public[0] in (e[0], e[2]) or public[1] in (e[1], e[3])]
        maintained = _snapshot(conn)
        read_model.rebuild(conn)
        assert _snapshot(conn) == maintained, n
    terms = _term_identities(conn)
    _change(conn, "GZ-0004", properties={"name": "贵阳新站"})
    assert terms - _term_identities(conn)
    assert [h["id"] for h in read_model.search(conn, "贵阳新站", exact=False)] == ["GZ-0004"]
    maintained = _snapshot(conn)
    read_model.rebuild(conn)
    assert _snapshot(conn) == maintained


def _change(conn, code: str, **change) -> None:
    site = sites.current(conn, code)
    sites.change_site(conn, code, base_version=site.version, author="tester", reason="test", **change)


def test_public_rows_come_only_from_the_public_view(conn):
    make_site(conn, code="GZ-0001", lon=106.123456, lat=26.654321, sensitivity=Sensitivity.HIDDEN)
    make_site(conn, code="GZ-0002", lon=106.123456, lat=26.654321, sensitivity=Sensitivity.GENERALIZED,
              public_description="at 106.123456, 26.654321")
    rows = {(r[0], r[1], r[2]): r for r in conn.execute(
        f"SELECT collection, audience, code, fragment, lon, lat, hit FROM {rstore.FEATURES}")}
    assert ("sites", "public", "GZ-0001") not in rows and ("sites", "staff", "GZ-0001") in rows
    public = rows[("sites", "public", "GZ-0002")]
    assert b"106.123456" not in bytes(public[3]) and b"106.123456" not in bytes(public[6])
    assert (public[4], public[5]) == (106.15, 26.65)
    assert ("boundaries", "public", "GZ-0002") not in rows


def test_a_copied_or_older_registry_builds_its_read_model_once(conn):
    make_site(conn, code="GZ-0001")
    rstore.forget(conn)
    rstore.clear(conn)
    assert read_model.ensure(conn) is True
    assert read_model.ensure(conn) is False
    assert read_model.search(conn, "gz-0001", exact=False)[0]["id"] == "GZ-0001"


def test_each_collection_of_the_read_model_holds_one_geometry_type_for_every_audience(conn):
    # sections: the public's rows only the lines of open sections; section-points every section as one point (a
    # generalized one at its cell's centre); the map and search find a generalized section at that point
    from shapely.geometry import LineString

    from fossil_registry.sections import SECTION
    for i, sensitivity in enumerate((Sensitivity.OPEN, Sensitivity.GENERALIZED, Sensitivity.HIDDEN)):
        sites.create_site(conn, properties={"name": f"剖面{i}", "name_en": f"Section {i}", "level": "general",
                                            "sensitivity": sensitivity},
                          location=LineString([(105.6 + i * 0.1, 25.8), (105.601 + i * 0.1, 25.802)]), boundary=None,
                          author="tester", reason="test", kind=SECTION, code=f"GZS-{i + 1:04d}")
    rows = {(r[0], r[1], r[2]): r[3] for r in conn.execute(
        f"SELECT collection, audience, code, geometry FROM {rstore.FEATURES} WHERE collection LIKE 'section%'")}
    kinds = {key: shapely.from_wkb(bytes(wkb)).geom_type for key, wkb in rows.items()}
    assert kinds == {("sections", "public", "GZS-0001"): "LineString",
                     ("section-points", "public", "GZS-0001"): "Point",
                     ("section-points", "public", "GZS-0002"): "Point",
                     **{("sections", "staff", f"GZS-{i:04d}"): "LineString" for i in (1, 2, 3)},
                     **{("section-points", "staff", f"GZS-{i:04d}"): "Point" for i in (1, 2, 3)}}
    layer = map_layers.stored_feature_layer(conn, SECTION, exact=False, bbox=None, zoom=12)
    assert [(f["id"], f["geometry"]["type"], f["properties"]["precision"]) for f in layer["features"]] == \
        [("GZS-0001", "LineString", "exact"), ("GZS-0002", "Point", "cell")]
    assert [f["id"] for f in read_model.search(conn, "gzs-0002", exact=False)] == ["GZS-0002"]
    assert not read_model.search(conn, "gzs-0003", exact=False)
    maintained = _snapshot(conn)
    read_model.rebuild(conn)
    assert _snapshot(conn) == maintained


def test_a_build_in_batches_resumes_where_it_stopped_and_keeps_the_writes_made_meanwhile(conn, monkeypatch):
    # a build of 12 sites, 3 per transaction, stops after two batches (a process killed); a site it has passed and
    # one it has not are changed meanwhile; ensure() at the next start finishes it: what a full rebuild makes
    for i in range(12):
        make_site(conn, code=f"GZ-{i + 1:04d}", lon=106.0 + i * 0.01, lat=26.0, sensitivity=_sensitivity(i),
                  level=LEVELS[i % 3], boundary=i % 2 == 0)
    write_batch, calls = read_model._write_batch, []

    def stopping(conn, states):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append([s.code for s in states])
        write_batch(conn, states)
    monkeypatch.setattr(read_model, "_write_batch", stopping)
    with pytest.raises(KeyboardInterrupt):
        read_model.rebuild(conn, batch=3)
    monkeypatch.undo()
    assert calls == [["GZ-0001", "GZ-0002", "GZ-0003"], ["GZ-0004", "GZ-0005", "GZ-0006"]]
    assert rstore.building(conn) and not rstore.is_built(conn)
    for code, change in (("GZ-0002", {"location": Point(106.5, 26.5)}),
                         ("GZ-0009", {"properties": {"level": LEVELS[0]}})):
        site = sites.current(conn, code)
        sites.change_site(conn, code, base_version=site.version, author="tester", reason="test", **change)
    assert read_model.ensure(conn) is True and rstore.is_built(conn) and not rstore.building(conn)
    resumed = _snapshot(conn)
    read_model.rebuild(conn)
    assert _snapshot(conn) == resumed
    assert [f["id"] for f in read_model.search(conn, "gz-0009", exact=True)] == ["GZ-0009"]


@pytest.mark.both_backends
def test_a_view_surely_holding_more_than_max_points_is_clustered_without_counting_its_rows(conn, monkeypatch):
    """map_layers.sites_layer answers from the cells at once when their members surely in view (cells whose members'
    box lies inside the view) outnumber max_points: the same answer as counting the rows in view first."""
    national_data.build(conn, 300, ELSEWHERE, start=1)
    shortcuts = []
    surely = map_layers._surely_in_view

    def spy(cells, bbox):
        shortcuts.append(surely(cells, bbox))
        return shortcuts[-1]
    views = [(REGION, 3), (REGION, 5), (REGION, 7), (REGION, 9), (ELSEWHERE, 6), ((104.0, 25.0, 105.0, 26.0), 8),
             ((104.5, 25.5, 104.6, 25.6), 12), (None, 4), (REGION, 14)]
    chosen = (map_layers.Filters(), map_layers.Filters.parse([str(LEVELS[0])]),
              map_layers.Filters.parse([], [str(tuple(Period)[1])]), map_layers.Filters.parse([], [], ["plants"]))
    taken = 0
    for bbox, zoom in views:
        for filters in chosen:
            for max_points in (5, 40, 120, 250):
                for exact in (False, True):
                    shortcuts.clear()
                    monkeypatch.setattr(map_layers, "_surely_in_view", spy)
                    fast = map_layers.sites_layer(conn, exact=exact, bbox=bbox, zoom=zoom, filters=filters,
                                                  max_points=max_points)
                    monkeypatch.setattr(map_layers, "_surely_in_view", lambda cells, bbox: 0)
                    counted = map_layers.sites_layer(conn, exact=exact, bbox=bbox, zoom=zoom, filters=filters,
                                                     max_points=max_points)
                    assert fast == counted, (bbox, zoom, filters, max_points, exact)
                    taken += any(n > max_points for n in shortcuts)
    assert taken > 20


@pytest.mark.both_backends
def test_a_postgis_bbox_walks_the_envelope_index_of_its_own_collection_and_audience(conn, backend):
    """PostGIS: a bbox query names its collection and audience as literals, so that every plan of it, prepared ones
    too, can use their partial envelope index (store/read_model.PARTITIONED) instead of the index of every box."""
    if backend != "postgis":
        pytest.skip("the GeoPackage's R-tree has a dimension for the collection and audience (partition)")
    national_data.build(conn, 300, ELSEWHERE, start=1)
    rstore.analyze(conn)
    conn.execute("SET enable_seqscan = off")  # a table this small would be read whole
    try:
        for n, (collection, audience) in enumerate(rstore.PARTITIONED):
            where, params = rstore._where(conn, collection, audience, bbox=REGION, filters={"status": {"active"}})
            for _ in range(7):  # past psycopg's threshold for preparing a statement
                plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN SELECT r.code FROM {rstore._from(conn, REGION)} "
                                                            f"WHERE {where}", params))
            assert f"read_features_box_{n} " in plan, plan
    finally:
        conn.execute("RESET enable_seqscan")


@pytest.mark.both_backends
def test_the_substring_tier_finds_the_text_itself_wildcards_and_all(conn):
    """search_substring: PostGIS's LIKE (through the trigram index where pg_trgm is) and the GeoPackage's FTS5 or
    instr find the rows whose haystack holds the text (of 3 or more characters: FTS5's trigrams), with %, _ and \\
    taken as themselves, at most ``limit``."""
    national_data.build(conn, 300, ELSEWHERE, start=1)
    haystacks = {r[0]: r[1] for r in conn.execute(f"SELECT fid, haystack FROM {rstore.FEATURES} WHERE collection = "
                                                   "'sites' AND audience = 'public' AND haystack IS NOT NULL")}
    for text in ("化石点12", "化石点299", "fossil site 2", "ite 29", "site_1", "点1%", "%", "_", "\\", "zzzq"):
        found = rstore.search_substring(conn, "public", text, limit=20, collections=("sites",))
        holding = {fid for fid, haystack in haystacks.items() if text in haystack}
        assert set(found) <= holding and len(found) == len(set(found)) == min(20, len(holding)), text


# ------------------------------------------------------------------------------------------------ kept boundaries
def _ring(lon: float, lat: float, radius: float, points: int) -> MultiPolygon:
    """A boundary of many vertices (a rough circle with a wobble), as surveyed boundaries are: it simplifies
    differently at every zoom."""
    import math
    coords = [(lon + radius * (1 + 0.15 * math.sin(7 * a)) * math.cos(a), lat + radius * (1 + 0.15 * math.sin(7 * a))
               * math.sin(a)) for a in (2 * math.pi * k / points for k in range(points))]
    return MultiPolygon([shapely.Polygon(coords + coords[:1])])


def _per_request(conn, *, exact: bool, bbox, zoom: int, filters=map_layers.Filters()) -> bytes:
    """The boundaries layer as it was built before the read model kept it per zoom: the rows in view decoded,
    simplified for the zoom and rounded on each request (map_layers.boundary_layer), encoded as the web encodes it."""
    min_deg = map_layers.MIN_BOUNDARY_PX * map_layers.degrees_per_pixel(zoom)
    rows = rstore.select(conn, read_model.BOUNDARIES, "staff" if exact else "public", bbox=bbox,
                         filters=map_layers._query_filters(filters),
                         columns="r.code, r.lon, r.lat, r.map_feature, r.precision, r.geometry", larger_than=min_deg,
                         order="(r.maxx - r.minx) * (r.maxy - r.miny) DESC, r.code", limit=map_layers.MAX_BOUNDARIES + 1)
    return _encoded(map_layers.boundary_layer(map_layers._stored_sites(rows, boundary=True), zoom, filters))


def _encoded(layer) -> bytes:
    import orjson
    return orjson.dumps(layer, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)  # as web/public._geojson


def _kept(conn, monkeypatch, **view) -> bytes:
    """The boundaries layer from the kept geometries: nothing simplified or decoded per request."""
    def refused(*args, **kwargs):
        raise AssertionError("a boundary was simplified per request")
    with monkeypatch.context() as m:
        m.setattr(map_layers, "simplify_many_for_zoom", refused)
        m.setattr(read_model, "simplify_many_for_zoom", refused)
        return _encoded(map_layers.boundaries_in_view(conn, **view))


def _boundary_sites(conn) -> None:
    for i, (radius, points) in enumerate(((0.2, 400), (0.03, 300), (0.004, 120), (0.0008, 40))):
        for k, sensitivity in enumerate((Sensitivity.OPEN, Sensitivity.GENERALIZED, Sensitivity.HIDDEN)):
            lon, lat = 106.0 + i * 0.5 + k * 0.07, 26.0 + k * 0.3
            site = make_site(conn, code=f"GZ-{i * 3 + k + 1:04d}", lon=lon, lat=lat, sensitivity=sensitivity,
                             level=LEVELS[(i + k) % 3])
            sites.change_site(conn, site.code, base_version=site.version, author="tester", reason="surveyed",
                              boundary=_ring(lon, lat, radius, points))
    make_site(conn, code="GZ-0013", lon=107.9, lat=26.2)  # a square: the same at every zoom


@pytest.mark.both_backends
def test_the_boundaries_kept_for_each_zoom_are_what_simplifying_for_the_zoom_gives(conn, monkeypatch):
    """issue 24: the write keeps each boundary's map feature simplified for every zoom it is shown at (read_model,
    store/read_model.BOUNDARY_ZOOMS); the layer read from them is, byte for byte, what simplifying the rows in view
    for the zoom on each request gave, at every zoom, for both audiences and with filters, and simplifies nothing."""
    _boundary_sites(conn)
    views = (None, (105.9, 25.9, 106.6, 26.4), (107.4, 26.5, 107.7, 26.7))
    for zoom in range(0, map_layers.MAX_ZOOM + 1):
        for exact in (False, True):
            for bbox in views:
                for filters in (map_layers.Filters(), map_layers.Filters.parse([str(LEVELS[1])])):
                    view = {"exact": exact, "bbox": bbox, "zoom": zoom, "filters": filters}
                    assert _kept(conn, monkeypatch, **view) == _per_request(conn, **view), view
    shown = [len(map_layers.boundaries_in_view(conn, exact=True, bbox=None, zoom=zoom)["features"])
             for zoom in range(0, 17)]
    assert shown[0] == 0 and shown[16] == 13 and shown == sorted(shown) and len(set(shown)) >= 4, shown  # as they
    # reach 3 pixels on screen, the largest first
    kept = {r[0]: len(read_model.kept_boundary(bytes(r[1]))) for r in conn.execute(
        f"SELECT f.code, z.features FROM {rstore.BOUNDARY_ZOOMS} z JOIN {rstore.FEATURES} f ON f.fid = z.row_id "
        "WHERE f.audience = 'staff'")}
    assert kept["GZ-0001"] > 5 and kept["GZ-0013"] == 1, kept  # a zoom's feature only where it differs from the next


@pytest.mark.both_backends
def test_a_write_keeps_the_boundaries_per_zoom_and_a_read_after_it_shows_the_new_one(conn, monkeypatch):
    """An approval that moves a boundary, hides its site or takes the boundary away: the read right after it (same
    connection, the write's transaction committed) shows what simplifying the new state gives, and the kept rows are
    what a rebuild makes."""
    _boundary_sites(conn)
    view = {"exact": False, "bbox": None, "zoom": 10}
    before = _kept(conn, monkeypatch, **view)
    _change(conn, "GZ-0004", boundary=_ring(106.6, 26.1, 0.05, 200))
    after = _kept(conn, monkeypatch, **view)
    assert after != before and after == _per_request(conn, **view)
    assert b'"GZ-0004"' in after and b"106.6" in after
    _change(conn, "GZ-0004", properties={"sensitivity": Sensitivity.HIDDEN})
    hidden = _kept(conn, monkeypatch, **view)
    assert b'"GZ-0004"' not in hidden and hidden == _per_request(conn, **view)
    assert not conn.execute(f"SELECT z.row_id FROM {rstore.BOUNDARY_ZOOMS} z LEFT JOIN {rstore.FEATURES} f ON f.fid = "
                            "z.row_id WHERE f.fid IS NULL").fetchall()  # the public row's kept ones went with it
    _change(conn, "GZ-0001", boundary=None)
    assert b'"GZ-0001"' not in _kept(conn, monkeypatch, **view)
    assert _kept(conn, monkeypatch, **{**view, "exact": True}) == _per_request(conn, **{**view, "exact": True})
    maintained = _snapshot(conn)
    read_model.rebuild(conn)
    assert _snapshot(conn) == maintained


@pytest.mark.both_backends
def test_a_boundary_first_shown_above_zoom_16_is_kept_and_one_shrunk_to_it_is_not_shown_as_it_was(conn, monkeypatch):
    """A boundary a few metres across is first wide enough to draw at zoom 17-18: it is kept for those zooms too, and a
    boundary shrunk to that size leaves none of its former shape behind."""
    _boundary_sites(conn)
    make_site(conn, code="GZ-0014", lon=107.5, lat=26.5)
    _change(conn, "GZ-0014", boundary=_ring(107.5, 26.5, 0.00002, 12))  # ~4 m across: drawn from zoom 18 on
    _change(conn, "GZ-0004", boundary=_ring(106.0, 26.0, 0.00002, 12))  # was 0.2 degrees across
    for zoom in (16, 17, 18, 22):
        view = {"exact": True, "bbox": None, "zoom": zoom}
        assert _kept(conn, monkeypatch, **view) == _per_request(conn, **view), zoom
    assert b'"GZ-0014"' in _kept(conn, monkeypatch, exact=True, bbox=None, zoom=18)
    maintained = _snapshot(conn)
    read_model.rebuild(conn)
    assert _snapshot(conn) == maintained


@pytest.mark.both_backends
def test_a_registry_from_before_the_kept_boundaries_fills_them_once_and_reads_meanwhile(conn, monkeypatch):
    """The migration that brings the kept boundaries to a built read model leaves them to fill (read_model.ensure, in
    batches); until a row's are kept, its boundary is simplified for the request as before: the same answer."""
    _boundary_sites(conn)
    view = {"exact": True, "bbox": None, "zoom": 11}
    kept = _snapshot(conn)
    conn.execute(f"DELETE FROM {rstore.BOUNDARY_ZOOMS}")
    rstore.add_boundary_zooms_to_fill(conn)
    assert _encoded(map_layers.boundaries_in_view(conn, **view)) == _per_request(conn, **view)
    monkeypatch.setattr(read_model, "FILL_BATCH", 5)
    assert read_model.ensure(conn) is False  # built already: only the kept boundaries filled
    assert _snapshot(conn) == kept
    assert _kept(conn, monkeypatch, **view) == _per_request(conn, **view)
    assert rstore.boundary_zooms_to_fill(conn) is None
