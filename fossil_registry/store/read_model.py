"""SQL of the read model (docs/national-scale.md): what the reads of the registered features need, kept by the write
in its own transaction, so that a read is an index query plus concatenation, whatever the registry's size.

* ``read_features``: one row per collection (sites, boundaries, sections), audience (public, staff) and feature: the
  ready-made GeoJSON Feature of the OGC API (CRS84), the geometry (WKB) for other CRSs and the map, the envelope, the
  map's point, its ready-made map and search features, the queryable values as columns;
* the envelope's spatial index: an R-tree (GeoPackage) or a GiST index over a box (PostGIS);
* ``read_search``: the searchable terms of every feature and audience, by prefix; ``read_search_text``: the text
  searched for substrings (SQLite: FTS5 with the trigram tokenizer; PostgreSQL: a plain table);
* ``read_map_cells``: the counted clusters of the protection map per audience, zoom, grid cell, level and period;
* ``read_boundary_zooms``: the protection map's feature of each row of the boundaries, simplified for every zoom it is
  shown at (one per zoom where it differs from the next zoom's), so that the boundaries layer is an index query and
  concatenation (issue 24: 1,000,000 sites);
* ``read_state``: one row once the read model was built for this registry.

The domain (fossil_registry/read_model.py) builds the rows (the public ones from public_view); this module only
stores and queries them. Nothing here is the record: the tables are left out of copies (rebuilt at the destination)
and of shareable exports.
"""
from __future__ import annotations

import re
import zlib
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Sequence

from . import pg
from .dialect import backend, is_pg, lock, transaction
from .tables import BLOB, INT, NOT_NULL, REAL, TEXT, Index, Table, col

FEATURES = "read_features"
RTREE = "rtree_read_features"     # the GeoPackage's R-tree ("rtree_" names are skipped by copies)
SEARCH = "read_search"
SEARCH_TEXT = "read_search_text"
CELLS = "read_map_cells"
COUNTS = "read_counts"
STATE = "read_state"
BOUNDARY_ZOOMS = "read_boundary_zooms"

# The queryable properties kept as columns (multi-valued ones as ",a,b,"); every kind's queryables must be here.
QUERYABLES = ("level", "period", "fossil_groups", "county", "status", "significance")
MULTI = ("fossil_groups",)

FEATURES_TABLE = Table(FEATURES, (
    col("collection", TEXT, NOT_NULL), col("audience", TEXT, NOT_NULL), col("code", TEXT, NOT_NULL),
    *(col(name) for name in QUERYABLES),
    col("minx", REAL), col("miny", REAL), col("maxx", REAL), col("maxy", REAL),   # NULL: no geometry
    col("lon", REAL), col("lat", REAL), col("precision"),                         # the map's point
    col("fragment", BLOB, NOT_NULL), col("geometry", BLOB), col("map_feature", BLOB), col("hit", BLOB),
    col("haystack", TEXT)),
    constraints=("UNIQUE (collection, audience, code)",),
    indexes=(Index("read_features_code", "code"),  # a write replaces its feature's rows by code
             Index("read_features_status", "collection, audience, status, code"),
             Index("read_features_level", "collection, audience, level"),
             Index("read_features_county", "collection, audience, county")))
SEARCH_TABLE = Table(SEARCH, (col("row_id", INT, NOT_NULL), col("audience", TEXT, NOT_NULL),
                              col("term", TEXT, NOT_NULL), col("tier", INT, NOT_NULL), col("code_term", INT, NOT_NULL),
                              col("code", TEXT, NOT_NULL)),
                     # covering: a prefix search ranks its terms from the index alone (search_prefix)
                     fid=False, indexes=(Index("read_search_term", "audience, term, tier, code_term, code, row_id"),
                                         Index("read_search_row", "row_id")))
CELLS_TABLE = Table(CELLS, (col("audience", TEXT, NOT_NULL), col("zoom", INT, NOT_NULL), col("i", INT, NOT_NULL),
                            col("j", INT, NOT_NULL), col("level", TEXT, NOT_NULL), col("period", TEXT, NOT_NULL),
                            col("n", INT, NOT_NULL), col("minx", REAL), col("miny", REAL), col("maxx", REAL),
                            col("maxy", REAL)),
                    fid=False, constraints=("PRIMARY KEY (audience, zoom, i, j, level, period)",))
COUNTS_TABLE = Table(COUNTS, (col("collection", TEXT, NOT_NULL), col("audience", TEXT, NOT_NULL),
                              col("status", TEXT, NOT_NULL), col("n", INT, NOT_NULL)),
                     fid=False, constraints=("PRIMARY KEY (collection, audience, status)",))
STATE_TABLE = Table(STATE, (col("name", TEXT, NOT_NULL), col("built_at", TEXT, NOT_NULL)), fid=False)
TABLES = (FEATURES_TABLE, SEARCH_TABLE, CELLS_TABLE, COUNTS_TABLE, STATE_TABLE)
# row_id: the fid of a boundaries row of read_features; features: read_model.kept_boundary's encoding (created by its
# own migration step, add_boundary_zooms, after TABLES)
BOUNDARY_ZOOMS_TABLE = Table(BOUNDARY_ZOOMS, (col("row_id", INT, NOT_NULL), col("features", BLOB, NOT_NULL)), fid=False,
                             constraints=("PRIMARY KEY (row_id)",))
# Everything a copy or a shareable export leaves out (the GeoPackage's FTS5 table brings shadow tables of its name).
NAMES = (FEATURES, SEARCH, CELLS, COUNTS, STATE, SEARCH_TEXT, RTREE, BOUNDARY_ZOOMS,
         *(f"{SEARCH_TEXT}_{shadow}" for shadow in ("data", "idx", "content", "docsize", "config")),
         *(f"{RTREE}_{shadow}" for shadow in ("node", "parent", "rowid")))


def add_read_model(conn) -> None:
    """The migration step: the tables, the envelope's spatial index and the substring index. A new registry's read
    model is complete (empty); an existing one's is built once by the domain (read_model.ensure, at the app's start)."""
    b = backend(conn)
    b.run(conn, b.create(*TABLES))
    if is_pg(conn):
        b.run(conn, f"CREATE INDEX read_features_box ON {FEATURES} USING gist ({_BOX});\n"
                    f"CREATE INDEX read_features_haystack ON {FEATURES} (collection, audience) "
                    "WHERE haystack IS NOT NULL;\n")
    else:
        conn.execute(f"CREATE VIRTUAL TABLE {RTREE} USING rtree(id, minx, maxx, miny, maxy, minz, maxz)")
        conn.execute(f"CREATE VIRTUAL TABLE {SEARCH_TEXT} USING fts5(haystack, tokenize = 'trigram')")
    if not any(conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() for t in ("site_versions", "section_versions")):
        mark_built(conn, "")


_BOX = "box(point(minx, miny), point(maxx, maxy))"


def add_substring_index(conn) -> None:
    """The migration step of PostGIS's substring index: a trigram index of the haystacks where the database has
    pg_trgm (a trusted extension since PostgreSQL 13: the database's owner may install it), so that the substring tier
    of search reads the rows holding the text's trigrams instead of scanning every haystack of the audience (75 ms at
    20,000 sites, growing with the registry, when fewer than 20 rows hold the text). Without it, search scans as
    before (search_substring's LIKE is the same either way). Nothing on the GeoPackage (FTS5's trigram index)."""
    if not is_pg(conn) or not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").fetchone():
        return
    import psycopg

    try:
        with transaction(conn):  # a savepoint: a refusal leaves the migration's transaction usable
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except psycopg.Error:
        return
    conn.execute(f"CREATE INDEX read_features_haystack_trgm ON {FEATURES} USING gin (haystack gin_trgm_ops) "
                 "WHERE haystack IS NOT NULL")


_TO_FILL = "fill:boundary-zooms"  # read_state: the kept boundaries of a read model built before them are being filled


def add_boundary_zooms(conn) -> None:
    """The migration step of the kept boundaries (read_boundary_zooms): the table; a read model that holds boundaries
    already has them filled by the domain, in batches (read_model.ensure at the app's start; until then a row without
    them is simplified per request, as before)."""
    b = backend(conn)
    b.run(conn, b.create(BOUNDARY_ZOOMS_TABLE))
    if conn.execute(f"SELECT 1 FROM {FEATURES} WHERE collection = 'boundaries' LIMIT 1").fetchone():
        add_boundary_zooms_to_fill(conn)


def add_boundary_zooms_to_fill(conn) -> None:
    """Note that the kept boundaries are to be filled, from the first row on."""
    conn.execute(f"DELETE FROM {STATE} WHERE name = ?", (_TO_FILL,))
    conn.execute(f"INSERT INTO {STATE} (name, built_at) VALUES (?, '')", (_TO_FILL,))


def boundary_zooms_to_fill(conn) -> int | None:
    """The fid after which the kept boundaries are still to be filled (0: all of them), None when none are."""
    row = conn.execute(f"SELECT built_at FROM {STATE} WHERE name = ?", (_TO_FILL,)).fetchone()
    return None if row is None else int(row[0] or 0)


def boundary_rows_after(conn, fid: int, limit: int) -> list[dict[str, Any]]:
    """The next ``limit`` rows of the boundaries after ``fid`` (fid order), with what their kept features are made of."""
    return _boundary_rows(conn, "collection = 'boundaries' AND fid > ? ORDER BY fid LIMIT ?", [fid, limit])


_BOUNDARY_ROW = ("fid", "code", "minx", "miny", "maxx", "maxy", "precision", "geometry", "map_feature")


def _boundary_rows(conn, where: str, params: list) -> list[dict[str, Any]]:
    return [dict(zip(_BOUNDARY_ROW, (bytes(v) if isinstance(v, memoryview) else v for v in r))) for r in conn.execute(
        f"SELECT {', '.join(_BOUNDARY_ROW)} FROM {FEATURES} WHERE {where}", params)]


def fill_boundary_zooms(conn, kept: Sequence[tuple[int, bytes]], last: int | None) -> None:
    """Kept boundaries (fid, features) of rows that had none (a write's own, made meanwhile, stay); ``last``: the fid
    filled up to, None when every row is."""
    conn.executemany(f"INSERT INTO {BOUNDARY_ZOOMS} (row_id, features) VALUES (?, ?) ON CONFLICT (row_id) DO NOTHING",
                     list(kept))
    if last is None:
        conn.execute(f"DELETE FROM {STATE} WHERE name = ?", (_TO_FILL,))
    else:
        conn.execute(f"UPDATE {STATE} SET built_at = ? WHERE name = ?", (str(last), _TO_FILL))


def boundary_rows_of(conn, fids: Sequence[int]) -> list[dict[str, Any]]:
    """boundary_rows_after's columns of some rows."""
    return _boundary_rows(conn, f"fid IN ({', '.join('?' * len(fids))})", list(fids))


def boundary_zooms(conn, fids: Sequence[int]) -> dict[int, bytes]:
    """fid -> the kept boundaries of some rows (read_model.kept_boundary's encoding); a row without them is absent."""
    if not fids:
        return {}
    return {r[0]: bytes(r[1]) for r in conn.execute(
        f"SELECT row_id, features FROM {BOUNDARY_ZOOMS} WHERE row_id IN ({', '.join('?' * len(fids))})", list(fids))}


# PostGIS: one partial GiST index of the envelopes per collection and audience of the registered features (the
# GeoPackage's R-tree has its third dimension for this, partition): a bbox then walks only its own rows' boxes, where the
# one index of every collection's boxes gave 3 times as many (a county's 2,775 boxes for 908 public sites) and the
# planner intersected them with a bitmap of every row of the collection and audience (18,000 entries at 20,000 sites).
# Another collection's queries use the index of every box.
PARTITIONED = tuple((c, a) for c in ("sites", "boundaries", "sections", "section-points") for a in ("public", "staff"))
_NAME = re.compile(r"[a-z][a-z0-9_-]*")


def add_box_partitions(conn) -> None:
    """The migration step of the partial envelope indexes (PostGIS; nothing on the GeoPackage)."""
    if is_pg(conn):
        backend(conn).run(conn, "".join(
            f"CREATE INDEX read_features_box_{n} ON {FEATURES} USING gist ({_BOX}) WHERE collection = '{c}' AND "
            f"audience = '{a}';\n" for n, (c, a) in enumerate(PARTITIONED)))


def partition(collection: str, audience: str) -> int:
    """The GeoPackage R-tree's third dimension: one value per collection and audience (exact in its 32-bit floats),
    so that a query in view searches only its own rows' boxes, not those of every collection and audience. A row's
    box spans [k, k + 1] on it: a zero depth would give every box no volume, and the R-tree's choice of where to put
    a box (the least enlarged volume) would no longer follow the map."""
    return zlib.crc32(f"{collection}\n{audience}".encode()) % (1 << 20)


# ------------------------------------------------------------------------------------------------------ writing
def lock_rebuild(conn) -> None:
    lock(conn, pg.MIGRATE_LOCK)


def is_built(conn) -> bool:
    return conn.execute(f"SELECT 1 FROM {STATE} WHERE name = 'built'").fetchone() is not None


def analyze(conn) -> None:
    """PostGIS: fresh planner statistics after a bulk build (autovacuum's come later; until then a page in code order
    may be planned as a scan and a sort)."""
    if is_pg(conn):
        conn.execute(f"ANALYZE {FEATURES}, {SEARCH}, {CELLS}, {COUNTS}")


def mark_built(conn, when: str) -> None:
    conn.execute(f"DELETE FROM {STATE} WHERE name <> ?", (_TO_FILL,))  # rows a build resumed did not write: to fill
    conn.execute(f"INSERT INTO {STATE} (name, built_at) VALUES ('built', ?)", (when,))


def clear(conn) -> None:
    """Empty every read table (before a rebuild)."""
    for table in (FEATURES, SEARCH, CELLS, COUNTS, STATE, BOUNDARY_ZOOMS):
        conn.execute(f"DELETE FROM {table}")
    if not is_pg(conn):
        conn.execute(f"DELETE FROM {RTREE}")
        conn.execute(f"DELETE FROM {SEARCH_TEXT}")


_ROW_COLUMNS = ("collection", "audience", "code", *QUERYABLES, "minx", "miny", "maxx", "maxy", "lon", "lat", "precision",
                "fragment", "geometry", "map_feature", "hit", "haystack")


def rows_of(conn, code: str) -> list[dict[str, Any]]:
    """The stored rows of one feature (every collection and audience): their fid and every column a write gives."""
    return [dict(zip(("fid", *_ROW_COLUMNS), (bytes(v) if isinstance(v, memoryview) else v for v in r)))
            for r in conn.execute(f"SELECT fid, {', '.join(_ROW_COLUMNS)} FROM {FEATURES} WHERE code = ?", (code,))]


def forget(conn) -> None:
    """The read model no longer matches the record (a write without it): rebuilt at its next use."""
    conn.execute(f"DELETE FROM {STATE}")


def delete_rows(conn, rows: Iterable[dict[str, Any]]) -> int:
    """Remove stored rows (rows_of's), their index entries and terms; the number of rows removed (of every table)."""
    touched = 0
    for row in rows:
        fid = row["fid"]
        touched += _count(conn, row, -1)
        touched += conn.execute(f"DELETE FROM {SEARCH} WHERE row_id = ?", (fid,)).rowcount
        if row["collection"] == "boundaries":
            touched += conn.execute(f"DELETE FROM {BOUNDARY_ZOOMS} WHERE row_id = ?", (fid,)).rowcount
        if not is_pg(conn):
            touched += conn.execute(f"DELETE FROM {RTREE} WHERE id = ?", (fid,)).rowcount
            touched += conn.execute(f"DELETE FROM {SEARCH_TEXT} WHERE rowid = ?", (fid,)).rowcount
        touched += conn.execute(f"DELETE FROM {FEATURES} WHERE fid = ?", (fid,)).rowcount
    return touched


def _count(conn, row: dict[str, Any], n: int) -> int:
    """One row more (``n`` = 1) or fewer (-1) of the row's collection, audience and status in the kept counts."""
    key = (row["collection"], row["audience"], row.get("status") or "")
    if n < 0:
        return conn.execute(f"UPDATE {COUNTS} SET n = n - 1 WHERE collection = ? AND audience = ? AND status = ?",
                            key).rowcount
    conn.execute(f"INSERT INTO {COUNTS} (collection, audience, status, n) VALUES (?, ?, ?, 1) ON CONFLICT "
                 f"(collection, audience, status) DO UPDATE SET n = {COUNTS}.n + 1", key)
    return 1


_BOX_COLUMNS = ("minx", "miny", "maxx", "maxy")
_ZOOMS_OF = {"code", "minx", "miny", "maxx", "maxy", "precision", "geometry", "map_feature"}  # a row's kept boundaries
_TERM_COLUMNS = ("row_id", "audience", "term", "tier", "code_term", "code")


def update_row(conn, old: dict[str, Any], new: dict[str, Any], terms: list[tuple] | None) -> int:
    """Rewrite one stored row (rows_of's ``old``) in place as ``new`` (same collection and audience): only the
    columns whose values differ, its R-tree box if the envelope moved, its substring text if the haystack changed, the
    counts if the status did, and its search terms only if ``terms`` (term, tier, code_term) is given. A location edit
    then writes the row and its box, not the feature's dozens of terms and trigrams scattered over their indexes
    (docs/national-scale.md). The number of rows written (of every table)."""
    fid = old["fid"]
    changed = [c for c in _ROW_COLUMNS if new.get(c) != old[c]]
    touched = 0
    if changed:
        conn.execute(f"UPDATE {FEATURES} SET {', '.join(f'{c} = ?' for c in changed)} WHERE fid = ?",
                     [*(new.get(c) for c in changed), fid])
        touched += 1
    if "status" in changed:
        touched += _count(conn, old, -1) + _count(conn, new, 1)
    if new.get("zooms") is not None and set(changed) & _ZOOMS_OF:
        conn.execute(f"INSERT INTO {BOUNDARY_ZOOMS} (row_id, features) VALUES (?, ?) ON CONFLICT (row_id) DO UPDATE "
                     "SET features = excluded.features", (fid, new["zooms"]))
        touched += 1
    if not is_pg(conn):
        if any(c in changed for c in _BOX_COLUMNS):
            box = (new.get("minx"), new.get("maxx"), new.get("miny"), new.get("maxy"))
            if old["minx"] is not None and box[0] is not None:
                touched += conn.execute(f"UPDATE {RTREE} SET minx = ?, maxx = ?, miny = ?, maxy = ? WHERE id = ?",
                                        (*box, fid)).rowcount
            elif old["minx"] is not None:
                touched += conn.execute(f"DELETE FROM {RTREE} WHERE id = ?", (fid,)).rowcount
            elif box[0] is not None:
                k = partition(new["collection"], new["audience"])
                conn.execute(f"INSERT INTO {RTREE} VALUES (?, ?, ?, ?, ?, ?, ?)", (fid, *box, k, k + 1))
                touched += 1
        if "haystack" in changed:
            if old["haystack"]:
                touched += conn.execute(f"DELETE FROM {SEARCH_TEXT} WHERE rowid = ?", (fid,)).rowcount
            if new.get("haystack"):
                conn.execute(f"INSERT INTO {SEARCH_TEXT} (rowid, haystack) VALUES (?, ?)", (fid, new["haystack"]))
                touched += 1
    if terms is not None:
        touched += conn.execute(f"DELETE FROM {SEARCH} WHERE row_id = ?", (fid,)).rowcount
        _insert(conn, SEARCH, _TERM_COLUMNS, [(fid, new["audience"], term, tier, code_term, new["code"])
                                              for term, tier, code_term in terms])
        touched += len(terms)
    return touched


def _new_fids(conn, n: int) -> list[int]:
    """``n`` fids for rows about to be inserted (in the writing transaction, which holds the table: GeoPackage's
    one writer; PostGIS draws them from the identity's sequence), so that rows go in by executemany."""
    if not n:
        return []
    if is_pg(conn):
        return [r[0] for r in conn.execute(f"SELECT nextval(pg_get_serial_sequence('{FEATURES}', 'fid')) "
                                           "FROM generate_series(1, CAST(? AS integer))", (n,))]
    start = conn.execute(f"SELECT coalesce(max(fid), 0) FROM {FEATURES}").fetchone()[0] + 1
    return list(range(start, start + n))


def insert_rows(conn, rows: Iterable[dict[str, Any]], terms_of) -> int:
    """Insert feature rows (dicts of _ROW_COLUMNS), their index entries and ``terms_of(row)``'s (term, tier,
    code_term) search terms, a few statements for the lot (executemany); the number of rows written (of every
    table)."""
    rows = list(rows)
    if not rows:
        return 0
    fids = _new_fids(conn, len(rows))
    _insert(conn, FEATURES, ("fid", *_ROW_COLUMNS),
            [[fid, *(row.get(c) for c in _ROW_COLUMNS)] for fid, row in zip(fids, rows)])
    written = len(rows)
    counted: dict[tuple, int] = {}
    for row in rows:
        key = (row["collection"], row["audience"], row.get("status") or "")
        counted[key] = counted.get(key, 0) + 1
    conn.executemany(f"INSERT INTO {COUNTS} (collection, audience, status, n) VALUES (?, ?, ?, ?) ON CONFLICT "
                     f"(collection, audience, status) DO UPDATE SET n = {COUNTS}.n + excluded.n",
                     [(*key, n) for key, n in counted.items()])
    written += len(counted)
    if not is_pg(conn):
        boxes = [(fid, r["minx"], r["maxx"], r["miny"], r["maxy"], k, k + 1) for fid, r in zip(fids, rows)
                 if r.get("minx") is not None for k in (partition(r["collection"], r["audience"]),)]
        conn.executemany(f"INSERT INTO {RTREE} VALUES (?, ?, ?, ?, ?, ?, ?)", boxes)
        texts = [(fid, r["haystack"]) for fid, r in zip(fids, rows) if r.get("haystack")]
        conn.executemany(f"INSERT INTO {SEARCH_TEXT} (rowid, haystack) VALUES (?, ?)", texts)
        written += len(boxes) + len(texts)
    terms = [(fid, row["audience"], term, tier, code_term, row["code"]) for fid, row in zip(fids, rows)
             for term, tier, code_term in terms_of(row)]
    _insert(conn, SEARCH, _TERM_COLUMNS, terms)
    written += len(terms)
    zooms = [(fid, row["zooms"]) for fid, row in zip(fids, rows) if row.get("zooms") is not None]
    _insert(conn, BOUNDARY_ZOOMS, ("row_id", "features"), zooms)
    written += len(zooms)
    return written


# PostGIS: a statement of at least this many rows (a build's batch) goes in by COPY, fewer (a write's) by executemany.
# A build of 20,000 sites (56,000 read rows, 573,000 search terms, 118,000 cells) spent ~100 of its 128 s sending
# rows one INSERT at a time.
COPY_FROM = 100


def _insert(conn, table: str, columns: Sequence[str], rows: list) -> None:
    if not rows:
        return
    if is_pg(conn) and len(rows) >= COPY_FROM:
        with conn.copy_rows(table, list(columns)) as write:
            write(rows)
        return
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)


# ------------------------------------------------------------------------------------------------------ building
@contextmanager
def bulk(conn) -> Iterator[None]:
    """A build's connection: GeoPackage keeps up to 256 MB of the file's pages in memory meanwhile (the read tables'
    indexes grow at random places), as before afterwards."""
    if is_pg(conn):
        yield
        return
    before = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(before)}")


def building(conn) -> bool:
    """Whether a build of the read model is under way (begun, not finished: it resumes where it stopped)."""
    return conn.execute(f"SELECT 1 FROM {STATE} WHERE name = 'building'").fetchone() is not None


def begin_build(conn) -> None:
    """Empty every read table and note a build under way."""
    clear(conn)
    conn.execute(f"INSERT INTO {STATE} (name, built_at) VALUES ('building', '')")


def progress(conn, collection: str) -> tuple[str | None, bool]:
    """(the last code of ``collection``'s kind a build under way has written, None if none; whether all are)."""
    found = dict(conn.execute(f"SELECT name, built_at FROM {STATE} WHERE name IN (?, ?)",
                              ("progress:" + collection, "done:" + collection)).fetchall())
    return found.get("progress:" + collection), "done:" + collection in found


def passed(conn, collection: str, code: str) -> bool:
    """Whether a build under way has written ``code`` of ``collection``'s kind (compared as the store orders codes)."""
    last, done = progress(conn, collection)
    return done or (last is not None and conn.execute("SELECT CAST(? AS text) <= CAST(? AS text)", (code, last)).fetchone()[0] in (1, True))


def set_progress(conn, collection: str, code: str | None) -> None:
    """Note the last code of a build's batch (None: the kind is written in full)."""
    if code is None:
        conn.execute(f"INSERT INTO {STATE} (name, built_at) VALUES (?, '')", ("done:" + collection,))
        return
    name = "progress:" + collection
    if conn.execute(f"UPDATE {STATE} SET built_at = ? WHERE name = ?", (code, name)).rowcount == 0:
        conn.execute(f"INSERT INTO {STATE} (name, built_at) VALUES (?, ?)", (name, code))


# ------------------------------------------------------------------------------------------------------ map cells
def add_to_cells(conn, members: Sequence[tuple]) -> None:
    """One more member in each of some cluster cells: (audience, zoom, i, j, level, period, lon, lat)."""
    merge_cells(conn, [(a, z, i, j, lv, pd, 1, x, y, x, y) for a, z, i, j, lv, pd, x, y in members])


def merge_cells(conn, rows: Sequence[tuple]) -> None:
    """Members added to cluster cells, counted and boxed per cell: (audience, zoom, i, j, level, period, n, minx,
    miny, maxx, maxy); a cell present already adds them up."""
    least, greatest = ("least", "greatest") if is_pg(conn) else ("min", "max")
    columns = "audience, zoom, i, j, level, period, n, minx, miny, maxx, maxy"
    merge = (f" ON CONFLICT (audience, zoom, i, j, level, period) DO "
             f"UPDATE SET n = {CELLS}.n + excluded.n, minx = {least}({CELLS}.minx, excluded.minx), "
             f"miny = {least}({CELLS}.miny, excluded.miny), maxx = {greatest}({CELLS}.maxx, excluded.maxx), "
             f"maxy = {greatest}({CELLS}.maxy, excluded.maxy)")
    if is_pg(conn) and len(rows) >= COPY_FROM:  # a build's batch: COPY into a scratch table, merged in one statement
        conn.execute(f"CREATE TEMPORARY TABLE {_CELLS_IN} (LIKE {CELLS}) ON COMMIT DROP")
        with conn.copy_rows(_CELLS_IN, columns.split(", ")) as write:
            write(rows)
        conn.execute(f"INSERT INTO {CELLS} ({columns}) SELECT {columns} FROM {_CELLS_IN}{merge}")
        conn.execute(f"DROP TABLE {_CELLS_IN}")
        return
    conn.executemany(f"INSERT INTO {CELLS} ({columns}) VALUES ({', '.join('?' * 11)}){merge}", rows)


_CELLS_IN = "read_map_cells_in"


_CELL = "audience = ? AND zoom = ? AND i = ? AND j = ? AND level = ? AND period = ?"


def cells_at(conn, keys: Sequence[tuple]) -> dict[tuple, tuple]:
    """key -> (n, minx, miny, maxx, maxy) of some cluster cells, keys (audience, zoom, i, j, level, period), in one
    statement (a write reads the cells of every zoom its point leaves: one round trip, not 26); absent: empty."""
    if not keys:
        return {}
    where = " OR ".join(f"({_CELL})" for _ in keys)
    return {tuple(r[:6]): tuple(r[6:]) for r in conn.execute(
        f"SELECT audience, zoom, i, j, level, period, n, minx, miny, maxx, maxy FROM {CELLS} WHERE {where}",
        [v for key in keys for v in key])}


def delete_cell(conn, key: tuple) -> None:
    conn.execute(f"DELETE FROM {CELLS} WHERE {_CELL}", key)


def set_cell(conn, key: tuple, *, fewer: int, box: tuple[float, float, float, float] | None) -> None:
    """A cell with ``fewer`` members fewer (0: a member moved inside it) and its members' ``box`` (None: as it was;
    box_from_children may follow)."""
    if box is None:
        conn.execute(f"UPDATE {CELLS} SET n = n - ? WHERE {_CELL}", (fewer, *key))
    else:
        conn.execute(f"UPDATE {CELLS} SET n = n - ?, minx = ?, miny = ?, maxx = ?, maxy = ? WHERE {_CELL}",
                     (fewer, *box, *key))


def box_from_children(conn, key: tuple) -> None:
    """A cell's box again, from its four cells of the next zoom (whose boxes are already current)."""
    audience, zoom, i, j, level, period = key
    conn.execute(f"UPDATE {CELLS} SET (minx, miny, maxx, maxy) = (SELECT min(c.minx), min(c.miny), max(c.maxx), "
                 f"max(c.maxy) FROM {CELLS} c WHERE c.audience = ? AND c.zoom = ? AND c.i IN (?, ?) AND c.j IN (?, ?) "
                 f"AND c.level = ? AND c.period = ?) WHERE {_CELL}",
                 (audience, zoom + 1, 2 * i, 2 * i + 1, 2 * j, 2 * j + 1, level, period, *key))


CELL_COLUMNS = 256  # views at most this many cells wide list their columns


def cells(conn, audience: str, zoom: int, i0: int, j0: int, i1: int, j1: int, levels: Sequence[str] = (),
          periods: Sequence[str] = ()) -> list[tuple]:
    """(i, j, level, n, minx, miny, maxx, maxy) of the cells in [i0, i1] x [j0, j1], summed over periods. The
    columns are listed (i IN (...)): the primary key's index then reads each column's range of j only, not every
    cell of the columns (a view at zoom 11 read 12 times the cells it needs)."""
    columns = list(range(i0, i1 + 1)) if i1 - i0 < CELL_COLUMNS else []
    i_in = f"i IN ({', '.join('?' * len(columns))})" if columns else "i BETWEEN ? AND ?"
    sql = (f"SELECT i, j, level, sum(n), min(minx), min(miny), max(maxx), max(maxy) FROM {CELLS} WHERE audience = ? "
           f"AND zoom = ? AND {i_in} AND j BETWEEN ? AND ?")
    params: list = [audience, zoom, *(columns or (i0, i1)), j0, j1]
    if levels:
        sql += f" AND level IN ({', '.join('?' * len(levels))})"
        params += list(levels)
    if periods:
        sql += f" AND period IN ({', '.join('?' * len(periods))})"
        params += list(periods)
    return [tuple(r) for r in conn.execute(sql + " GROUP BY i, j, level", params)]


# ------------------------------------------------------------------------------------------------------ reading
def _where(conn, collection: str, audience: str, *, bbox=None, statuses: Sequence[str] = (),
           filters: dict[str, set[str]] | None = None, larger_than: float | None = None) -> tuple[str, list]:
    if bbox is not None and is_pg(conn) and (collection, audience) in PARTITIONED and _NAME.fullmatch(collection) \
            and _NAME.fullmatch(audience):  # as literals, so that every plan (a prepared one too) uses the partial index
        sql, params = f"r.collection = '{collection}' AND r.audience = '{audience}'", []
    else:
        sql, params = "r.collection = ? AND r.audience = ?", [collection, audience]
    if larger_than is not None:  # envelopes at least this wide or high
        sql += " AND (r.maxx - r.minx >= ? OR r.maxy - r.miny >= ?)"
        params += [larger_than, larger_than]
    if statuses:
        sql += f" AND r.status IN ({', '.join('?' * len(statuses))})"
        params += list(statuses)
    for name, wanted in (filters or {}).items():
        if name not in QUERYABLES:
            raise ValueError(f"{name} is not kept by the read model")
        wanted = sorted(wanted)
        if name in MULTI:
            sql += " AND (" + " OR ".join(f"r.{name} LIKE ?" for _ in wanted) + ")"
            params += [f"%,{w},%" for w in wanted]
        else:
            sql += f" AND r.{name} IN ({', '.join('?' * len(wanted))})"
            params += wanted
    if bbox is not None:
        w, s, e, n = bbox
        if is_pg(conn):
            sql += f" AND {_BOX.replace('min', 'r.min').replace('max', 'r.max')} && box(point(?, ?), point(?, ?))"
            params += [w, s, e, n]
        else:  # the R-tree drives (from_clause: CROSS JOIN keeps it the outer loop): the work is what lies in view
            z = partition(collection, audience)
            sql += (" AND r.fid = t.id AND t.minx <= ? AND t.maxx >= ? AND t.miny <= ? AND t.maxy >= ? AND t.minz <= ? "
                    "AND t.maxz >= ?")
            params += [e, w, n, s, z + 0.5, z + 0.5]
        sql += " AND r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?"  # the R-tree's floats, exactly
        params += [e, w, n, s]
    return sql, params


def _from(conn, bbox) -> str:
    return f"{RTREE} t CROSS JOIN {FEATURES} r" if bbox is not None and not is_pg(conn) else f"{FEATURES} r"


def page(conn, collection: str, audience: str, *, limit: int, after: str | None = None, before: str | None = None,
         bbox=None, statuses: Sequence[str] = (), filters=None, columns: str = "r.code, r.fragment"
         ) -> list[tuple]:
    """Up to ``limit`` rows in code order: after ``after``, or the last ones before ``before`` (in code order)."""
    where, params = _where(conn, collection, audience, bbox=bbox, statuses=statuses, filters=filters)
    if before is not None:
        rows = conn.execute(f"SELECT {columns} FROM {_from(conn, bbox)} WHERE {where} AND r.code < ? ORDER BY r.code DESC "
                            "LIMIT ?", params + [before, limit]).fetchall()
        return [tuple(r) for r in reversed(rows)]
    if after is not None:
        where += " AND r.code > ?"
        params.append(after)
    return [tuple(r) for r in conn.execute(f"SELECT {columns} FROM {_from(conn, bbox)} WHERE {where} ORDER BY r.code LIMIT ?",
                                           params + [limit])]


def count(conn, collection: str, audience: str, *, bbox=None, statuses: Sequence[str] = (), filters=None,
          after: str | None = None, before: str | None = None) -> int:
    """How many rows match (``after``/``before``: of those past or before a code). Filtered on nothing but the
    status, from the counts kept by the writes (one row per status), not by counting."""
    only = set(filters or {}) - {"status"}
    if bbox is None and not only and not statuses and after is None and before is None:
        wanted = sorted((filters or {}).get("status") or ())
        sql = f"SELECT coalesce(sum(n), 0) FROM {COUNTS} WHERE collection = ? AND audience = ?"
        if wanted:
            sql += f" AND status IN ({', '.join('?' * len(wanted))})"
        return conn.execute(sql, [collection, audience, *wanted]).fetchone()[0]
    where, params = _where(conn, collection, audience, bbox=bbox, statuses=statuses, filters=filters)
    if after is not None:
        where += " AND r.code > ?"
        params.append(after)
    if before is not None:
        where += " AND r.code < ?"
        params.append(before)
    return conn.execute(f"SELECT count(*) FROM {_from(conn, bbox)} WHERE {where}", params).fetchone()[0]


def select(conn, collection: str, audience: str, *, columns: str, bbox=None, statuses: Sequence[str] = (),
           filters=None, limit: int | None = None, order: str | None = None,
           larger_than: float | None = None) -> list[tuple]:
    """Rows of a collection (in bbox, matching), in no particular order unless ``order``; at most ``limit``."""
    where, params = _where(conn, collection, audience, bbox=bbox, statuses=statuses, filters=filters,
                           larger_than=larger_than)
    sql = f"SELECT {columns} FROM {_from(conn, bbox)} WHERE {where}"
    if order:
        sql += f" ORDER BY {order}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [tuple(r) for r in conn.execute(sql, params)]


def one(conn, collection: str, audience: str, code: str, columns: str = "r.fragment, r.geometry") -> tuple | None:
    row = conn.execute(f"SELECT {columns} FROM {FEATURES} r WHERE r.collection = ? AND r.audience = ? AND r.code = ?",
                       (collection, audience, code)).fetchone()
    return None if row is None else tuple(row)


def extent(conn, collection: str, audience: str) -> tuple | None:
    row = conn.execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {FEATURES} WHERE collection = ? AND "
                       "audience = ?", (collection, audience)).fetchone()
    return None if row is None or row[0] is None else tuple(row)


def search_prefix(conn, audience: str, keys: Sequence[str], *, exact_code: str, scan: int, limit: int
                  ) -> list[tuple[int, int]]:
    """(row id, tier) of the best ``limit`` features, by (tier, code), among those of the first ``scan`` terms (in
    term order) beginning with each of ``keys``; a code term equal to ``exact_code`` is tier 0 (an exact code). The
    ranking is done in SQL; only the winners' hits are read afterwards (hits)."""
    ctes = ", ".join(f"k{n} AS (SELECT row_id, tier, code_term, term, code FROM {SEARCH} WHERE audience = ? AND "
                     "term >= ? AND term < ? ORDER BY term LIMIT ?)" for n in range(len(keys)))
    union = " UNION ALL ".join(f"SELECT * FROM k{n}" for n in range(len(keys)))
    params: list = [p for key in keys for p in (audience, key, key + "\U0010ffff", scan)]
    sql = (f"WITH {ctes} SELECT t.row_id, min(CASE WHEN t.code_term = 1 AND t.term = ? THEN 0 ELSE t.tier END) AS "
           f"best, min(t.code) AS code FROM ({union}) t GROUP BY t.row_id ORDER BY best, code LIMIT ?")
    return [(r[0], r[1]) for r in conn.execute(sql, params + [exact_code, limit])]


def search_substring(conn, audience: str, text: str, *, limit: int, collections: Sequence[str]) -> list[int]:
    """Row ids of the features whose searchable text holds ``text`` (the trigram index for 3 or more characters; it
    drives the query: CROSS JOIN keeps it the outer loop)."""
    marks = ", ".join("?" * len(collections))
    if is_pg(conn):  # LIKE: the trigram index where there is one (add_substring_index), else a scan
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return [r[0] for r in conn.execute(
            f"SELECT fid FROM {FEATURES} WHERE collection IN ({marks}) AND audience = ? AND haystack IS NOT NULL "
            "AND haystack LIKE ? ESCAPE '\\' LIMIT ?", (*collections, audience, pattern, limit))]
    if any(c in text for c in "%_\\"):  # (FTS5's LIKE takes no ESCAPE: such text is scanned)
        return [r[0] for r in conn.execute(
            f"SELECT fid FROM {FEATURES} WHERE collection IN ({marks}) AND audience = ? AND haystack IS NOT NULL "
            "AND instr(haystack, ?) > 0 LIMIT ?", (*collections, audience, text, limit))]
    return [r[0] for r in conn.execute(
        f"SELECT t.rowid FROM {SEARCH_TEXT} t CROSS JOIN {FEATURES} r ON r.fid = t.rowid WHERE t.haystack LIKE ? "
        f"AND r.audience = ? AND r.collection IN ({marks}) LIMIT ?", ("%" + text + "%", audience, *collections, limit))]


def hits(conn, row_ids: Sequence[int]) -> dict[int, tuple]:
    """row id -> (collection, code, hit) of search hits."""
    if not row_ids:
        return {}
    marks = ", ".join("?" * len(row_ids))
    return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(
        f"SELECT fid, collection, code, hit FROM {FEATURES} WHERE fid IN ({marks})", list(row_ids))}


def touched_counts(conn) -> dict[str, int]:
    """Rows per read table (tests and the bench measure the work of a write by them)."""
    out = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in (FEATURES, SEARCH, CELLS, COUNTS)}
    return out
