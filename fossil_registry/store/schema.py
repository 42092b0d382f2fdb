"""The registry's schema: the core GeoPackage tables (gpkg_*, the site layers, their history, the audit trail,
registry_meta), the helper that registers a feature module's layers, the ordered migrations that bring every registry
to the current schema, and what works on the file as a whole: integrity checks, WAL folding, backups and shareable
exports (without PRIVATE_TABLES, personal data SCRUBbed).

Each feature module keeps its own DDL (store/accounts.py, store/revisions.py, store/reports.py, store/inspections.py,
store/fieldkit.py, store/impact.py, store/imports.py, store/sections.py, store/markers.py, store/rescues.py);
MIGRATIONS below lists it by name, in the order it applies. Tables not registered in gpkg_contents are private to the
app.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from . import accounts, audit, fieldkit, pg, pg_schema, revisions, supervision
from .audit import AUDIT
from .dialect import connect, is_pg, is_url, lock, transaction
from .gpkg import SRS_ID, _register_functions, _split_sql, utc_now
from .sites import BOUNDARIES, LOCATIONS, SITES, VERSIONS

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10400  # GeoPackage 1.4.0
RTREE_EXTENSION_URL = "http://www.geopackage.org/spec120/#extension_rtree"


# --------------------------------------------------------------------------------------------------------------------
# Core tables, and the registration of a feature module's layers
# --------------------------------------------------------------------------------------------------------------------
# The tables every GeoPackage has (also written into field kits, store/kitfile.py).
GPKG_BASE_DDL = """
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
  definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
"""

_CORE_DDL = GPKG_BASE_DDL + """
CREATE TABLE site_locations (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT NOT NULL,
  code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, name_en TEXT, county TEXT, county_en TEXT,
  level TEXT NOT NULL CHECK (level IN ('national','provincial','general')),
  period TEXT, age TEXT, formation TEXT, fossil_groups TEXT,
  sensitivity TEXT NOT NULL CHECK (sensitivity IN ('open','generalized','hidden')),
  description TEXT, description_en TEXT, established DATE,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','retired')),
  version INTEGER NOT NULL CHECK (version >= 1), updated_at DATETIME NOT NULL, updated_by TEXT NOT NULL);
CREATE TABLE site_boundaries (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL,
  code TEXT NOT NULL UNIQUE REFERENCES site_locations(code), name TEXT, name_en TEXT, level TEXT, sensitivity TEXT,
  status TEXT, area_km2 REAL, version INTEGER NOT NULL, updated_at DATETIME NOT NULL);

CREATE TABLE site_versions (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, code TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1), operation TEXT NOT NULL, created_at DATETIME NOT NULL,
  author TEXT NOT NULL, reviewer TEXT, reason TEXT NOT NULL, properties TEXT NOT NULL,
  location BLOB NOT NULL, boundary BLOB, revision_id INTEGER, UNIQUE (code, version));
CREATE INDEX site_versions_code_time ON site_versions (code, created_at);
CREATE TRIGGER site_versions_append_only_update BEFORE UPDATE ON site_versions
  BEGIN SELECT RAISE(ABORT, 'site history is append-only'); END;
CREATE TRIGGER site_versions_append_only_delete BEFORE DELETE ON site_versions
  BEGIN SELECT RAISE(ABORT, 'site history is append-only'); END;

CREATE TABLE audit_log (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, at DATETIME NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT, detail TEXT, remote_addr TEXT);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

CREATE TABLE registry_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_RTREE_DDL = """
CREATE VIRTUAL TABLE "rtree_{t}_geom" USING rtree(id, minx, maxx, miny, maxy);
CREATE TRIGGER "rtree_{t}_geom_insert" AFTER INSERT ON "{t}" WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom),
  ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER "rtree_{t}_geom_update6" AFTER UPDATE OF geom ON "{t}" WHEN OLD.fid = NEW.fid AND
  (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom NOTNULL AND NOT ST_IsEmpty(OLD.geom))
BEGIN UPDATE "rtree_{t}_geom" SET minx = ST_MinX(NEW.geom), maxx = ST_MaxX(NEW.geom), miny = ST_MinY(NEW.geom),
  maxy = ST_MaxY(NEW.geom) WHERE id = NEW.fid; END;
CREATE TRIGGER "rtree_{t}_geom_update7" AFTER UPDATE OF geom ON "{t}" WHEN OLD.fid = NEW.fid AND
  (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom ISNULL OR ST_IsEmpty(OLD.geom))
BEGIN INSERT INTO "rtree_{t}_geom" VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom),
  ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER "rtree_{t}_geom_update2" AFTER UPDATE OF geom ON "{t}" WHEN OLD.fid = NEW.fid AND
  (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; END;
CREATE TRIGGER "rtree_{t}_geom_update5" AFTER UPDATE ON "{t}" WHEN OLD.fid != NEW.fid AND
  (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES (NEW.fid,
  ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER "rtree_{t}_geom_update4" AFTER UPDATE ON "{t}" WHEN OLD.fid != NEW.fid AND
  (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id IN (OLD.fid, NEW.fid); END;
CREATE TRIGGER "rtree_{t}_geom_delete" AFTER DELETE ON "{t}" WHEN old.geom NOT NULL
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; END;
"""


def _in(values: tuple[str, ...]) -> str:
    """A SQL list literal for CHECK (column IN ...) constraints."""
    return "(" + ",".join(f"'{v}'" for v in values) + ")"


def _register(table: str, data_type: str, identifier: str, description: str, geometry_type: str | None = None) -> str:
    """gpkg_contents row, and for features the geometry column, R-tree and its extension row."""
    srs = str(SRS_ID) if geometry_type else "NULL"
    sql = (f"INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) VALUES "
           f"('{table}', '{data_type}', '{identifier}', '{description}', strftime('%Y-%m-%dT%H:%M:%fZ','now'), {srs});\n")
    if geometry_type:
        sql += (f"INSERT INTO gpkg_geometry_columns VALUES ('{table}', 'geom', '{geometry_type}', {SRS_ID}, 0, 0);\n"
                + _RTREE_DDL.format(t=table) +
                f"INSERT INTO gpkg_extensions VALUES ('{table}', 'geom', 'gpkg_rtree_index', '{RTREE_EXTENSION_URL}', "
                "'write-only');\n")
    return sql


# --------------------------------------------------------------------------------------------------------------------
# Migrations, private tables, personal data
# --------------------------------------------------------------------------------------------------------------------
def rewrite_table_sql(conn: sqlite3.Connection, table: str, replacements: list[tuple[str, str]]) -> None:
    """Change constraints of an existing table that ALTER TABLE cannot (drop a foreign key, loosen a CHECK) by
    rewriting its definition in sqlite_master: the procedure SQLite documents for such changes ("Making Other Kinds
    Of Table Schema Changes": writable_schema, then a new schema_version), run inside the migration's transaction.
    Only for changes every existing row already satisfies; each replaced text must be found, or nothing changes."""
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
    for old, new in replacements:
        if old not in sql:
            raise RuntimeError(f"schema step: {old!r} not found in the definition of {table}")
        sql = sql.replace(old, new)
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
        conn.execute(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")


# Feature modules register their layers with _register above while they build their DDL, so they are imported after it.
from . import impact, imports, inspections, markers, reports, rescues, sections  # noqa: E402
from ..messages import msg  # noqa: E402

# (name, DDL) in the order they apply, each once and in one transaction, to new and existing registries. A name, once
# released, never changes: registry_migrations records the names applied. The reports' tables came with the
# inspections and are part of that step; every table is created after the tables it references.
MIGRATIONS: tuple[tuple[str, Any], ...] = (
    ("accounts", accounts.ACCOUNTS_DDL),
    ("sessions", accounts.SESSIONS_DDL),
    ("revisions", revisions.DDL),
    ("inspections", reports.DDL + inspections.DDL),
    ("supervision", supervision.DDL),
    ("fieldkits", fieldkit.DDL),
    ("impact", impact.DDL),
    ("imports", imports.DDL),
    ("sections", sections.DDL),
    ("features_in_workflow", lambda conn: (revisions.add_feature_kind(conn), sections.inspections_of_any_feature(conn))),
    ("markers", markers.add_markers),
    ("rescues", rescues.DDL),
    ("public_texts", sections.PUBLIC_TEXTS_DDL),
)
# The same steps on PostgreSQL/PostGIS (store/pg_schema.py has the core): every step of MIGRATIONS, by the same name,
# with each module's PG_DDL (tests/test_store_backends.py checks that the names match). What SQLite can only do by
# rewriting a table's definition (features_in_workflow, markers) is plain ALTER TABLE there.
PG_MIGRATIONS: tuple[tuple[str, Any], ...] = (
    ("accounts", accounts.PG_ACCOUNTS_DDL),
    ("sessions", accounts.PG_SESSIONS_DDL),
    ("revisions", revisions.PG_DDL),
    ("inspections", reports.PG_DDL + inspections.PG_DDL),
    ("supervision", supervision.DDL),
    ("fieldkits", fieldkit.PG_DDL),
    ("impact", impact.PG_DDL),
    ("imports", imports.PG_DDL),
    ("sections", sections.PG_DDL),
    ("features_in_workflow", revisions.PG_FEATURE_KIND_DDL + sections.PG_INSPECTIONS_OF_ANY_FEATURE_DDL),
    ("markers", markers.PG_DDL + inspections.PG_PHOTOS_OF_MARKERS_AND_RESCUES_DDL),
    ("rescues", rescues.PG_DDL),
    ("public_texts", sections.PUBLIC_TEXTS_DDL),
)

# Dropped from shareable exports: accounts, tokens, sessions, failed sign-ins, reporters' contact data.
PRIVATE_TABLES: tuple[str, ...] = (accounts.PRIVATE_TABLES + reports.PRIVATE_TABLES + imports.PRIVATE_TABLES
                                   + rescues.PRIVATE_TABLES)

# Personal data kept in shared tables, removed from shareable exports: (table, UPDATE statement), run in this order.
SCRUB: tuple[tuple[str, str], ...] = (audit.SCRUB + reports.SCRUB + inspections.SCRUB + fieldkit.SCRUB
                                      + rescues.SCRUB)


def private_tables() -> tuple[str, ...]:
    """The tables shareable exports drop (PRIVATE_TABLES)."""
    return PRIVATE_TABLES


# --------------------------------------------------------------------------------------------------------------------
# Creating, recognising and migrating a registry
# --------------------------------------------------------------------------------------------------------------------
_UNDEFINED_CARTESIAN = "undefined"


def _srs_rows() -> list[tuple]:
    from pyproj import CRS

    return [
        ("Undefined Cartesian SRS", -1, "NONE", -1, _UNDEFINED_CARTESIAN, "undefined Cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, _UNDEFINED_CARTESIAN, "undefined geographic coordinate reference system"),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS.from_epsg(4326).to_wkt("WKT1_GDAL"),
         "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
        ("China Geodetic Coordinate System 2000", SRS_ID, "EPSG", SRS_ID, CRS.from_epsg(SRS_ID).to_wkt("WKT1_GDAL"),
         "CGCS2000 geographic, longitude/latitude in decimal degrees"),
    ]


def create_registry(path: str | Path, *, description: str = "Fossil site registry") -> None:
    """Create an empty registry GeoPackage at ``path`` (which must not exist), or the registry's schema in the empty
    PostgreSQL database a ``postgresql://`` URL names."""
    if is_url(path):
        _create_pg_registry(str(path))
        return
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
        with transaction(conn):
            for statement in _split_sql(_CORE_DDL):
                conn.execute(statement)
            conn.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", _srs_rows())
            now = utc_now()
            contents = [
                (LOCATIONS, "features", "Fossil site locations", f"{description}: site locations (current)", SRS_ID),
                (BOUNDARIES, "features", "Fossil site protection boundaries",
                 f"{description}: protection boundaries (current)", SRS_ID),
                (VERSIONS, "attributes", "Fossil site version history", "Append-only snapshots of every site version", None),
                (AUDIT, "attributes", "Registry audit trail", "Who changed what, when and from where", None),
            ]
            conn.executemany(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id)"
                " VALUES (?,?,?,?,?,?)", [(t, d, i, desc, now, s) for t, d, i, desc, s in contents])
            conn.executemany("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
                             [(LOCATIONS, "POINT", SRS_ID), (BOUNDARIES, "MULTIPOLYGON", SRS_ID)])
            for table in (LOCATIONS, BOUNDARIES):
                for statement in _split_sql(_RTREE_DDL.format(t=table)):
                    conn.execute(statement)
                conn.execute("INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', ?, 'write-only')",
                             (table, RTREE_EXTENSION_URL))
            conn.execute("INSERT INTO registry_meta VALUES ('schema_version', '1')")
        migrate(conn)
    finally:
        conn.close()


def _create_pg_registry(url: str) -> None:
    """PostGIS first (its types must exist before the pool's connections are set up), then the core and every
    migration, in one transaction: PostgreSQL's DDL is transactional, so a failed creation leaves nothing."""
    pg.probe(url)
    import psycopg

    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    pg.close_pool(url)  # connections opened before PostGIS existed know no geometry type
    conn = connect(url)
    try:
        with transaction(conn):
            pg_schema.create_core(conn)
            migrate(conn)
    finally:
        conn.close()


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Bring the registry's schema up to date; returns the names of the steps applied now."""
    applied_now = []
    with transaction(conn):
        lock(conn, pg.MIGRATE_LOCK)  # PostGIS: app processes starting together migrate one after the other
        conn.execute("CREATE TABLE IF NOT EXISTS registry_migrations (name TEXT PRIMARY KEY, "
                     + ("applied_at text NOT NULL)" if is_pg(conn) else "applied_at DATETIME NOT NULL)"))
        done = {r[0] for r in conn.execute("SELECT name FROM registry_migrations")}
        for name, script in (PG_MIGRATIONS if is_pg(conn) else MIGRATIONS):
            if name in done or (isinstance(script, str) and not script.strip()):
                continue
            if callable(script):  # a step SQL text alone cannot express (schema.rewrite_table_sql, ALTER on PostGIS)
                script(conn)
            elif is_pg(conn):
                conn.execute(script)  # one script, PostgreSQL's simple protocol runs every statement in it
            else:
                for statement in _split_sql(script):
                    conn.execute(statement)
            conn.execute("INSERT INTO registry_migrations VALUES (?, ?)", (name, utc_now()))
            applied_now.append(name)
    return applied_now


def is_registry(path: str | Path) -> bool:
    if is_url(path):
        return pg_schema.is_registry(str(path))
    path = Path(path)
    if not path.is_file():
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'site_versions'").fetchone()
        return row is not None
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------------------------------
# Integrity and snapshots
# --------------------------------------------------------------------------------------------------------------------
# The R-tree stores 32-bit floats rounded outwards; allow that much slack when comparing with the true envelope.
_RTREE_SLACK = 1e-4


def _layer_problems(conn: sqlite3.Connection, layers) -> list[str]:
    """Spatial index vs geometries and history vs current state of one kind of registered feature."""
    problems = []
    for table in (layers.primary, layers.boundaries):
        rtree = f"rtree_{table}_geom"
        missing = conn.execute(f"SELECT count(*) FROM {table} WHERE fid NOT IN (SELECT id FROM {rtree})").fetchone()[0]
        orphans = conn.execute(f"SELECT count(*) FROM {rtree} WHERE id NOT IN (SELECT fid FROM {table})").fetchone()[0]
        if missing:
            problems.append(msg("store.feature_s_missing_spatial", "{table}: {missing} feature(s) missing from the "
                                "spatial index", table=table, missing=missing))
        if orphans:
            problems.append(msg("store.spatial_index_entr_y", "{table}: {orphans} spatial index entr(y/ies) without "
                                "a feature", table=table, orphans=orphans))
        bad = conn.execute(
            f"SELECT t.code FROM {table} t JOIN {rtree} r ON r.id = t.fid WHERE "
            f"r.minx > ST_MinX(t.geom) OR r.maxx < ST_MaxX(t.geom) OR r.miny > ST_MinY(t.geom) OR r.maxy < ST_MaxY(t.geom)"
            f" OR ST_MinX(t.geom) - r.minx > {_RTREE_SLACK} OR r.maxx - ST_MaxX(t.geom) > {_RTREE_SLACK}"
            f" OR ST_MinY(t.geom) - r.miny > {_RTREE_SLACK} OR r.maxy - ST_MaxY(t.geom) > {_RTREE_SLACK}").fetchall()
        for (code,) in bad:
            problems.append(msg("store.spatial_index_envelope_does", "{table}: spatial index envelope of {code} does "
                                "not match its geometry", table=table, code=code))
    stale = conn.execute(
        f"SELECT l.code, l.version, (SELECT max(version) FROM {layers.versions} v WHERE v.code = l.code) AS latest "
        f"FROM {layers.primary} l WHERE latest IS NULL OR latest != l.version").fetchall()
    for code, version, latest in stale:
        problems.append(msg("store.current_version_but_latest", "{code}: current version {version} but latest "
                            "history version {latest}", code=code, version=version, latest=latest))
    mismatched = conn.execute(
        f"SELECT l.code FROM {layers.primary} l JOIN {layers.versions} v ON v.code = l.code AND v.version = l.version "
        f"LEFT JOIN {layers.boundaries} b ON b.code = l.code "
        "WHERE v.location != l.geom OR coalesce(v.boundary, x'') != coalesce(b.geom, x'')").fetchall()
    for (code,) in mismatched:
        problems.append(msg("store.current_geometry_differs_latest", "{code}: current geometry differs from its "
                            "latest version snapshot", code=code))
    gaps = conn.execute(
        f"SELECT code FROM {layers.versions} GROUP BY code HAVING max(version) != count(*) OR min(version) != 1").fetchall()
    for (code,) in gaps:
        problems.append(msg("store.version_history_gaps", "{code}: version history has gaps", code=code))
    return problems


def check_integrity(conn: sqlite3.Connection) -> list[str]:
    """Problems found (empty list = healthy): SQLite integrity, spatial index vs geometries, history vs current state.
    (PostGIS: pg_schema.check_integrity.)"""
    if is_pg(conn):
        return pg_schema.check_integrity(conn)
    problems = []
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        problems.append(msg("store.sqlite_integrity_check", "SQLite integrity check: {result}", result=result))
    for (fk,) in conn.execute("PRAGMA foreign_key_check").fetchall() or []:
        problems.append(msg("store.foreign_key_violation", "foreign key violation in {fk}", fk=fk))
    for layers in (SITES, sections.SECTIONS):
        problems += _layer_problems(conn, layers)
    return problems


def fold_wal(conn: sqlite3.Connection) -> None:
    """Write the WAL back into the file and leave WAL mode: a single self-contained file (before renaming or shipping
    it). Nothing to do on PostgreSQL."""
    if is_pg(conn):
        return
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")


@dataclass(frozen=True)
class Selection:
    """What a narrowed export keeps (a caller's share of the registry, decided by the domain: access.py): the tables
    named in ``tables`` and nothing else (the GeoPackage catalogue's rows, spatial indexes and sequences of the others
    go with them); of each table in ``rows`` only the rows in which one of the named owner columns is set (a photo of
    an inspection, of a report...; no columns: no rows)."""

    tables: frozenset[str]
    rows: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def backup_to(conn: sqlite3.Connection, dest: str | Path, *, shareable: bool, keep: Selection | None = None) -> None:
    """Consistent snapshot with SQLite's online-backup API (safe while other connections write), as a single-file
    rollback-journal GeoPackage. ``shareable``: without the private tables (accounts, sessions, tokens, reporters'
    contacts) and with the personal data in the others removed (SCRUB), then VACUUMed so that nothing
    removed survives in free pages. Otherwise everything: a full backup for restoring, as sensitive as the registry.
    ``keep`` (shareable only): narrowed to that selection of tables and rows before the VACUUM."""
    dest = Path(dest)
    if dest.exists():
        dest.unlink()
    if is_pg(conn):  # PostGIS: the whole registry copied into a new GeoPackage, then treated alike
        from .copy import copy_registry

        copy_registry(conn, dest)
    target = sqlite3.connect(str(dest), isolation_level=None)
    try:
        _register_functions(target)
        if not is_pg(conn):
            conn.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
        if shareable:
            for table in PRIVATE_TABLES:
                target.execute(f'DROP TABLE IF EXISTS "{table}"')
            _scrub(target, SCRUB)
            if keep is not None:
                _narrow(target, keep)
            target.execute("VACUUM")
    finally:
        target.close()


def _scrub(target: sqlite3.Connection, statements) -> None:
    """Run the scrub statements on a snapshot; the append-only triggers of the tables they change are lifted for it
    and put back as they were."""
    tables = sorted({table for table, _ in statements})
    marks = ",".join("?" * len(tables))
    triggers = target.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks}) "
                              "AND name NOT LIKE 'rtree_%'", tables).fetchall()
    target.execute("BEGIN")
    for name, _ in triggers:
        target.execute(f'DROP TRIGGER "{name}"')
    for _, sql in statements:
        target.execute(sql)
    for _, sql in triggers:
        target.execute(sql)
    target.execute("COMMIT")



def _narrow(target: sqlite3.Connection, keep: Selection) -> None:
    """Drop every table of a snapshot that ``keep`` does not name (deny by default: a table added later stays out
    until a rule keeps it) as a GeoPackage layer goes: its spatial index, its catalogue rows and its sequence with it;
    then delete the rows of the kept tables that belong to no kept owner."""
    rtrees: dict[str, list[str]] = {}
    for table, column in target.execute("SELECT table_name, column_name FROM gpkg_extensions "
                                        "WHERE extension_name = 'gpkg_rtree_index'"):
        rtrees.setdefault(table, []).append(f"rtree_{table}_{column}")
    indexes = {name for names in rtrees.values() for name in names}
    shadows = {f"{name}_{part}" for name in indexes for part in ("node", "parent", "rowid")}
    names = [name for name, in target.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY sql LIKE 'CREATE VIRTUAL%' DESC, name")]  # virtual tables first: they take their shadows along
    catalogue = [name for name, in target.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('gpkg_contents', 'gpkg_geometry_columns', "
        "'gpkg_extensions', 'gpkg_data_columns', 'gpkg_metadata_reference', 'sqlite_sequence')")]
    target.execute("BEGIN")
    for name in names:
        if name in keep.tables or name in indexes or name in shadows:
            continue
        for index in rtrees.get(name, ()):
            target.execute(f'DROP TABLE IF EXISTS "{index}"')
        target.execute(f'DROP TABLE IF EXISTS "{name}"')
        for table in catalogue:
            column = "name" if table == "sqlite_sequence" else "table_name"
            target.execute(f'DELETE FROM "{table}" WHERE {column} = ?', (name,))
    for index in indexes - {i for t in keep.tables for i in rtrees.get(t, ())}:  # an index whose table was not there
        target.execute(f'DROP TABLE IF EXISTS "{index}"')
    target.execute("COMMIT")
    owned = []
    for table, columns in keep.rows.items():
        if table in keep.tables and table in names:
            held = " OR ".join(f'"{c}" IS NOT NULL' for c in columns) or "0"
            owned.append((table, f'DELETE FROM "{table}" WHERE NOT ({held})'))
    if owned:
        _scrub(target, owned)
