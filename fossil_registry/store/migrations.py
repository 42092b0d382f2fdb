"""Creating a registry and bringing it to the current schema, on either backend: the core tables (the sites' layers,
their history, the audit trail, registry_meta), then the ordered migration steps, each applied once and recorded in
``registry_migrations``.

Every step is one function of the connection that creates or changes the tables its family module defines
(store/tables.py definitions, written as each backend's DDL by store/dialect.py), so a step is the same on the
GeoPackage and on PostGIS; where the two databases change a table differently (SQLite cannot drop a foreign key or
widen a CHECK with ALTER TABLE), the backend object does it its way. This module depends on the family modules, never
the other way round.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Callable

from . import accounts, fieldkit, gpkg_ddl, idempotency, impact, imports, inspections, markers, pg, pg_schema, reports
from . import read_model, rescues, revisions, sections, supervision
from .audit import AUDIT, AUDIT_TABLE
from .dialect import backend, connect, is_url, lock, transaction
from .gpkg import SRS_ID, utc_now
from .sites import BOUNDARIES, BOUNDARIES_TABLE, LOCATIONS, LOCATIONS_TABLE, VERSIONS, VERSIONS_TABLE
from .tables import DATETIME, NOT_NULL, PRIMARY_KEY, TEXT, Table, col

REGISTRY_META = Table("registry_meta", (col("key", TEXT, PRIMARY_KEY), col("value", TEXT, NOT_NULL)), fid=False)
REGISTRY_MIGRATIONS = Table("registry_migrations", (col("name", TEXT, PRIMARY_KEY),
                                                    col("applied_at", DATETIME, NOT_NULL)), fid=False,
                            if_not_exists=True)
CORE = (LOCATIONS_TABLE, BOUNDARIES_TABLE, VERSIONS_TABLE, AUDIT_TABLE, REGISTRY_META)


def _create(*tables: Table) -> Callable[[Any], None]:
    def step(conn) -> None:
        b = backend(conn)
        b.run(conn, b.create(*tables))
    return step


def _sql(script: str) -> Callable[[Any], None]:
    """A step that is the same SQL on both backends."""
    return lambda conn: backend(conn).run(conn, script)


def _features_in_workflow(conn) -> None:
    revisions.add_feature_kind(conn)
    sections.inspections_of_any_feature(conn)


# (name, step) in the order they apply, each once and in one transaction, to new and existing registries. A name, once
# released, never changes: registry_migrations records the names applied. The reports' tables came with the
# inspections and are part of that step; every table is created after the tables it references.
MIGRATIONS: tuple[tuple[str, Callable[[Any], None]], ...] = (
    ("accounts", _create(*accounts.ACCOUNTS)),
    ("sessions", _create(*accounts.SESSIONS)),
    ("revisions", _create(*revisions.TABLES)),
    ("inspections", _create(*reports.TABLES, *inspections.TABLES)),
    ("supervision", _sql(supervision.DDL)),
    ("fieldkits", fieldkit.add_field_kits),
    ("impact", _create(*impact.TABLES)),
    ("imports", _create(*imports.TABLES)),
    ("sections", sections.add_sections),
    ("features_in_workflow", _features_in_workflow),
    ("markers", markers.add_markers),
    ("rescues", rescues.add_rescues),
    ("public_texts", _sql(sections.PUBLIC_TEXTS_DDL)),
    ("formation_names", _sql(sections.FORMATION_NAMES_DDL)),
    ("idempotency_keys", _create(*idempotency.TABLES)),
    ("read_model", read_model.add_read_model),
    ("read_model_box_partitions", read_model.add_box_partitions),
    ("read_model_substring_index", read_model.add_substring_index),
    ("read_model_boundary_zooms", read_model.add_boundary_zooms),
)

# Every table the steps create, defined once each (store/tables.py), in the order they are created.
TABLES: tuple[Table, ...] = (CORE + accounts.ACCOUNTS + accounts.SESSIONS + revisions.TABLES + reports.TABLES
                             + inspections.TABLES + fieldkit.TABLES + impact.TABLES + imports.TABLES + sections.TABLES
                             + markers.TABLES + rescues.TABLES + idempotency.TABLES + read_model.TABLES
                             + (read_model.BOUNDARY_ZOOMS_TABLE,))


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Bring the registry's schema up to date; returns the names of the steps applied now."""
    applied_now = []
    b = backend(conn)
    with transaction(conn):
        lock(conn, pg.MIGRATE_LOCK)  # PostGIS: app processes starting together migrate one after the other
        b.run(conn, b.create(REGISTRY_MIGRATIONS))
        done = {r[0] for r in conn.execute("SELECT name FROM registry_migrations")}
        for name, step in MIGRATIONS:
            if name in done:
                continue
            step(conn)
            conn.execute("INSERT INTO registry_migrations VALUES (?, ?)", (name, utc_now()))
            applied_now.append(name)
    return applied_now


# --------------------------------------------------------------------------------------------------------------------
# Creating and recognising a registry
# --------------------------------------------------------------------------------------------------------------------
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
        conn.execute(f"PRAGMA application_id = {gpkg_ddl.GPKG_APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {gpkg_ddl.GPKG_USER_VERSION}")
        with transaction(conn):
            b = backend(conn)
            b.run(conn, gpkg_ddl.GPKG_BASE_DDL + b.create(*CORE))
            conn.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", gpkg_ddl.srs_rows())
            _register_core(conn, description)
            conn.execute("INSERT INTO registry_meta VALUES ('schema_version', '1')")
        migrate(conn)
    finally:
        conn.close()


def _register_core(conn, description: str) -> None:
    """The core's rows in the GeoPackage's catalogue, its layers with their R-trees (described after the registry)."""
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
        backend(conn).run(conn, gpkg_ddl.rtree_ddl(table))
        conn.execute("INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', ?, 'write-only')",
                     (table, gpkg_ddl.RTREE_EXTENSION_URL))


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
            if conn.execute("SELECT to_regclass('site_versions') IS NOT NULL").fetchone()[0]:
                raise FileExistsError(f"a registry already exists in {pg.describe(conn.location)}")
            b = backend(conn)
            b.run(conn, pg_schema.PG_FUNCTIONS_DDL + b.create(*CORE, REGISTRY_MIGRATIONS))
            conn.execute("INSERT INTO registry_meta VALUES ('schema_version', '1')")
            migrate(conn)
    finally:
        conn.close()


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
