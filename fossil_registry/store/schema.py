"""What works on the registry as a whole: integrity checks, WAL folding, backups and shareable exports (without
PRIVATE_TABLES, personal data SCRUBbed, optionally narrowed to a Selection).

Each family module defines its own tables once (store/tables.py; store/accounts.py, store/revisions.py...);
store/migrations.py creates them, in order, on either backend. Tables not registered in gpkg_contents are private to
the app.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..messages import msg
from . import accounts, audit, fieldkit, idempotency, imports, inspections, pg_schema, read_model, reports, rescues
from .dialect import is_pg
from .gpkg import register_functions
from .gpkg_ddl import as_exchange_version
from .sections import SECTIONS
from .sites import SITES

# Dropped from shareable exports: accounts, tokens, sessions, failed sign-ins, reporters' contact data.
# And the read model (staff rows hold exact locations; it is derived and rebuilt where it is needed).
PRIVATE_TABLES: tuple[str, ...] = (accounts.PRIVATE_TABLES + reports.PRIVATE_TABLES + imports.PRIVATE_TABLES
                                   + rescues.PRIVATE_TABLES + idempotency.PRIVATE_TABLES + read_model.NAMES)

# Personal data kept in shared tables, removed from shareable exports: (table, UPDATE statement), run in this order.
SCRUB: tuple[tuple[str, str], ...] = (audit.SCRUB + reports.SCRUB + inspections.SCRUB + fieldkit.SCRUB
                                      + rescues.SCRUB)


def private_tables() -> tuple[str, ...]:
    """The tables shareable exports drop (PRIVATE_TABLES)."""
    return PRIVATE_TABLES


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
    for layers in (SITES, SECTIONS):
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
        register_functions(target)
        if not is_pg(conn):
            conn.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
        if shareable:
            for table in PRIVATE_TABLES:
                target.execute(f'DROP TABLE IF EXISTS "{table}"')
            _scrub(target, SCRUB)
            if keep is not None:
                _narrow(target, keep)
            as_exchange_version(target)  # it leaves the registry: GeoPackage 1.2 (gpkg_ddl)
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
