"""The seam between the two backends: where a registry lives decides which one serves it.

A registry *location* is either the path of a GeoPackage file (the embedded default) or a ``postgresql://`` URL
(PostGIS). ``connect``, ``transaction`` and ``read_snapshot`` work on both; a connection says which it is by its
``dialect`` ("gpkg" or "postgis") and ``backend(conn)`` is its :class:`Backend` object, which answers what differs:
the DDL of a table definition (store/tables.py: GeoPackage types, blobs and R-trees vs PostGIS geometries and GiST
indexes, RAISE(ABORT) triggers vs registry_refuse()), transactions and locks, geometry values, and the few SQL
spellings the two do not share (date arithmetic, JSON, NULL-safe inequality). Store modules write a statement once
and ask the backend for the parts that differ. Nothing outside the store knows which backend it talks to.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from . import gpkg, gpkg_ddl, pg
from .tables import (BIGINT, BLOB, BOOL, DATE, DATETIME, FEATURE_TABLES, GEOMETRY, INT, LINESTRING, MULTILINESTRING,
                     MULTIPOLYGON, POINT, REAL, TEXT, CodeNotIn, Column, MustNameFeature, Refuse, Rule, Table)

GPKG, POSTGIS = "gpkg", "postgis"


def is_url(location: Any) -> bool:
    return pg.is_url(location)


def dialect(conn) -> str:
    return getattr(conn, "dialect", GPKG)


def is_pg(conn) -> bool:
    return getattr(conn, "dialect", GPKG) == POSTGIS


def pick(conn, gpkg_sql: str, postgis_sql: str) -> str:
    """The statement of ``conn``'s dialect (for the few statements no Backend method names)."""
    return postgis_sql if is_pg(conn) else gpkg_sql


def connect(location: str | Path, *, readonly: bool = False):
    """A connection to the registry at ``location`` (GeoPackage path or PostgreSQL URL); ``close()`` when done."""
    if is_url(location):
        return pg.PgConnection(str(location), read_only=readonly)
    return gpkg.connect(location, readonly=readonly)


# The calls every store module makes, answered by the connection's backend (below).
def transaction(conn):
    """One write transaction, all or nothing (nested: a savepoint). GeoPackage: BEGIN IMMEDIATE, one writer at a
    time. PostGIS: concurrent writers, row locks where a write depends on what it read (``for_update``)."""
    return backend(conn).transaction(conn)


def read_snapshot(conn):
    """Several reads that see one state of the registry."""
    return backend(conn).read_snapshot(conn)


def for_update(conn, of: str | None = None) -> str:
    """The row-lock clause of a point read inside a PostGIS write transaction ('' elsewhere): the read-check-write of
    the domain (is the site still at the base version? is the proposal still open?) holds the row until commit, as
    BEGIN IMMEDIATE holds the whole GeoPackage. NO KEY UPDATE: rows that only reference it (inspections of the site,
    events of the proposal) can still be added meanwhile."""
    return backend(conn).for_update(conn, of)


def geometry_value(conn, geom: BaseGeometry | None):
    """A geometry as a statement parameter: a GeoPackage blob, or a PostGIS geometry (SRID 4490)."""
    return None if geom is None else backend(conn).geometry_value(geom)


def lock(conn, key: int, *, shared: bool = False) -> None:
    """PostGIS: a transaction-scoped advisory lock (pg.HISTORY_LOCK ...). GeoPackage: nothing, the write transaction
    already holds the whole file."""
    backend(conn).lock(conn, key, shared=shared)


def lock_files(conn, *, sweep: bool = False) -> None:
    """Inside a write transaction: a write that places photo or attachment files (blobs.Batch.place) holds the files
    shared, the sweep that removes unreferenced ones holds them alone, so the sweep never sees a placed file whose
    row is not committed yet. GeoPackage: nothing, its write transaction holds the whole file."""
    lock(conn, pg.FILES_LOCK, shared=not sweep)


def location_of(conn) -> str:
    """Where the registry of ``conn`` lives (file path or URL): part of the cache keys, so two registries never share
    a cached answer."""
    return backend(conn).location_of(conn)


# --------------------------------------------------------------------------------------------------------------------
# The backends: each writes the DDL of its database from the table definitions (store/tables.py)
# --------------------------------------------------------------------------------------------------------------------
class Backend:
    """What differs between the two databases, asked of an object rather than branched on: how a table definition
    becomes DDL, how a script runs, and the few spellings of SQL the two do not share."""

    name = ""
    checks_references_exist = False  # a REFERENCES clause needs its table to exist already
    is_not = "IS NOT"                # NULL-safe inequality
    no_limit: int | None = -1        # LIMIT without a limit

    # ---- DDL ----------------------------------------------------------------------------------------------------
    def create(self, *tables: Table) -> str:
        """The DDL script creating ``tables`` with their indexes, spatial indexes and refusals."""
        return "".join(self._create(t) for t in tables)

    def _create(self, table: Table) -> str:
        parts = [self.FID] if table.fid else []
        parts += [self.column(c) for c in table.columns] + list(table.constraints)
        exists = "IF NOT EXISTS " if table.if_not_exists else ""
        sql = f"CREATE TABLE {exists}{table.name} ({', '.join(parts)});\n"
        for index in table.indexes:
            sql += f"CREATE INDEX {index.name} ON {table.name} ({index.columns})"
            sql += f" WHERE {index.where};\n" if index.where else ";\n"
        return sql + self.extras(table) + self.rules(table.name, table.rules)

    def column(self, c: Column) -> str:
        """A column's definition: name, type, then its constraints."""
        sql = f"{c.name} {self.type_of(c)}"
        sql += self.NOCASE if c.nocase else ""
        sql += " PRIMARY KEY" if c.primary_key else ""
        sql += " NOT NULL" if c.not_null else ""
        sql += " UNIQUE" if c.unique else ""
        sql += f" DEFAULT {c.default}" if c.default is not None else ""
        sql += f" CHECK ({c.check})" if c.check else ""
        sql += self.bool_check(c)
        sql += f" REFERENCES {c.references}" if c.references else ""
        return sql

    def add_column(self, table: str, c: Column) -> str:
        return f"ALTER TABLE {table} ADD COLUMN {self.column(c)};\n"

    def rules(self, table: str, rules) -> str:
        return "".join(self.rule(table, r) for r in rules)

    def rule(self, table: str, r: Rule) -> str:
        if isinstance(r, Refuse):
            return self.refuse(table, r)
        if isinstance(r, MustNameFeature):
            return self.must_name_feature(table, r)
        return self.code_not_in(table, r)

    def run(self, conn, script: str) -> None:
        """Run a DDL script (several statements)."""
        raise NotImplementedError

    # ---- connections (GeoPackage and PostGIS below) ----------------------------------------------------------------
    layer_changes = ""
    transaction: Any
    read_snapshot: Any
    geometry_value: Any

    def for_update(self, conn, of: str | None = None) -> str:
        raise NotImplementedError

    def lock(self, conn, key: int, *, shared: bool = False) -> None:
        raise NotImplementedError

    def location_of(self, conn) -> str:
        raise NotImplementedError

    def lock_text(self, conn, space: int, text: str) -> None:
        raise NotImplementedError

    # backend-specific parts, below
    FID = NOCASE = ""

    def type_of(self, c: Column) -> str:
        raise NotImplementedError

    def bool_check(self, c: Column) -> str:
        return ""

    def extras(self, table: Table) -> str:
        return ""

    def refuse(self, table: str, r: Refuse) -> str:
        raise NotImplementedError

    def must_name_feature(self, table: str, r: MustNameFeature) -> str:
        raise NotImplementedError

    def code_not_in(self, table: str, r: CodeNotIn) -> str:
        raise NotImplementedError


def _quoted(message: str) -> str:
    return "'" + message.replace("'", "''") + "'"


class GeoPackage(Backend):
    """SQLite in a GeoPackage 1.4 file: GeoPackage column types, a ``geom`` column registered with its R-tree (the
    layer's gpkg_contents row), other geometries as GeoPackage blobs, refusals as RAISE(ABORT) triggers. One writer
    at a time: the write transaction holds the whole file, so no row or advisory lock is needed."""

    name = GPKG
    layer_changes = "gpkg_contents"  # the table whose last_change says when a layer changed
    transaction = staticmethod(gpkg.transaction)
    read_snapshot = staticmethod(gpkg.read_snapshot)
    geometry_value = staticmethod(gpkg.encode_geometry)

    def for_update(self, conn, of: str | None = None) -> str:
        return ""

    def lock(self, conn, key: int, *, shared: bool = False) -> None:
        pass

    def location_of(self, conn) -> str:
        return conn.execute("PRAGMA database_list").fetchone()[2]

    def lock_text(self, conn, space: int, text: str) -> None:
        pass

    @staticmethod
    def meets(table: str, alias: str, bounds) -> tuple[str, tuple]:
        """SQL and its parameters: the row ``alias`` of ``table`` has a geometry whose envelope meets ``bounds``
        (min_x, min_y, max_x, max_y), found through the layer's R-tree."""
        return (f"{alias}.fid IN (SELECT id FROM rtree_{table}_geom WHERE minx <= ? AND maxx >= ? AND miny <= ? "
                "AND maxy >= ?)", (bounds[2], bounds[0], bounds[3], bounds[1]))

    # ---- the catalogue: what a registry holds (store/copy.py) ---------------------------------------------------
    @staticmethod
    def table_names(conn) -> list[str]:
        """Every table, in creation order."""
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")]

    @staticmethod
    def references(conn, table: str) -> set[str]:
        """The tables the foreign keys of ``table`` name."""
        return {r[2] for r in conn.execute(f'PRAGMA foreign_key_list("{table}")')}

    @staticmethod
    def column_types(conn, table: str) -> dict[str, str]:
        """column -> declared type (lower case), in order."""
        return {r[1]: r[2].lower() for r in conn.execute(f'PRAGMA table_info("{table}")')}

    @staticmethod
    def after(column: str, amount: int, unit: str) -> str:
        """SQL: the instant ``amount`` ``unit`` (hours, days) after the UTC timestamp ``column``, as stored (ISO)."""
        return f"strftime('%Y-%m-%dT%H:%M:%fZ', {column}, '+{int(amount)} {unit}')"

    @staticmethod
    def days_between(later: str, earlier: str) -> str:
        return f"(julianday({later}) - julianday({earlier}))"

    @staticmethod
    def json_text(column: str, key: str) -> str:
        """SQL: the text of ``key`` in the JSON object in ``column``."""
        return f"json_extract({column}, '$.{key}')"
    FID = "fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"
    NOCASE = " COLLATE NOCASE"
    _TYPES = {INT: "INTEGER", BIGINT: "INTEGER", TEXT: "TEXT", REAL: "REAL", DATE: "DATE", DATETIME: "DATETIME",
              BOOL: "BOOLEAN", BLOB: "BLOB"}

    def type_of(self, c: Column) -> str:
        if c.is_geometry:
            return c.kind if c.name == "geom" else "BLOB"
        return self._TYPES[c.kind]

    def extras(self, table: Table) -> str:
        if table.layer is None:
            return ""
        geom = table.geometry
        return gpkg_ddl.register_layer(table.name, "features" if geom else "attributes", table.layer.identifier,
                                       table.layer.description, geom.kind if geom else None)

    def refuse(self, table: str, r: Refuse) -> str:
        when = f" WHEN {r.when}" if r.when else ""
        raise_ = f"BEGIN SELECT RAISE(ABORT, {_quoted(r.message)}); END;\n"
        if r.events == "UPDATE OR DELETE":
            return (f"CREATE TRIGGER {r.name}_update BEFORE UPDATE ON {table}{when}\n  {raise_}"
                    f"CREATE TRIGGER {r.name}_delete BEFORE DELETE ON {table}{when}\n  {raise_}")
        return f"CREATE TRIGGER {r.name} BEFORE {r.events} ON {table}{when}\n  {raise_}"

    def must_name_feature(self, table: str, r: MustNameFeature) -> str:
        absent = " AND ".join(f"NOT EXISTS (SELECT 1 FROM {t} WHERE code = NEW.{r.column})" for t in FEATURE_TABLES)
        return (f"CREATE TRIGGER {r.name} BEFORE INSERT ON {table}\n  WHEN {absent}\n"
                f"  BEGIN SELECT RAISE(ABORT, {_quoted(r.message)}); END;\n")

    def code_not_in(self, table: str, r: CodeNotIn) -> str:
        return (f"CREATE TRIGGER {r.name} BEFORE INSERT ON {table}\n"
                f"  WHEN EXISTS (SELECT 1 FROM {r.other} WHERE code = NEW.code)\n"
                f"  BEGIN SELECT RAISE(ABORT, {_quoted(r.message)}); END;\n")

    def run(self, conn, script: str) -> None:
        for statement in gpkg.split_sql(script):
            conn.execute(statement)

    # ---- schema changes ALTER TABLE cannot make in SQLite: the table's definition rewritten in place ------------
    def drop_reference(self, conn, table: str, column: Column) -> None:
        gpkg_ddl.rewrite_table_sql(conn, table, [(self.column(column), self.column(replace(column, references=None)))])

    def replace_check(self, conn, table: str, old: str, new: str, name: str) -> None:
        """Replace the table constraint CHECK (``old``) by CHECK (``new``): only when every row satisfies the new."""
        gpkg_ddl.rewrite_table_sql(conn, table, [(f"CHECK ({old})", f"CHECK ({new})")])

    def change_geometry_type(self, table: str, column: str, kind: str) -> str:
        return ""  # a blob column holds any geometry

    @staticmethod
    def exactly_one(columns) -> str:
        return " + ".join(f"({c} IS NOT NULL)" for c in columns) + " = 1"


class PostGIS(Backend):
    """PostgreSQL with PostGIS: every geometry a ``geometry(<type>, 4490)`` with a GiST index, identities as fids,
    flags as 0/1 smallints, refusals as triggers calling registry_refuse() (store/pg_schema.py)."""

    name = POSTGIS
    layer_changes = "layer_changes"
    checks_references_exist = True
    geometry_value = staticmethod(pg.Geometry)

    @staticmethod
    def transaction(conn):
        return pg.transaction(conn)   # store/pg_connection.py, imported with psycopg by the first PostGIS connection

    @staticmethod
    def read_snapshot(conn):
        return pg.read_snapshot(conn)

    def for_update(self, conn, of: str | None = None) -> str:
        return " FOR NO KEY UPDATE" + (f" OF {of}" if of else "") if conn.writing else ""

    def lock(self, conn, key: int, *, shared: bool = False) -> None:
        pg.advisory_lock(conn, key, shared=shared)

    def location_of(self, conn) -> str:
        return conn.location

    def lock_text(self, conn, space: int, text: str) -> None:
        """A transaction-scoped advisory lock on a text (an account, an address, an import's content) in the key
        space ``space``: writers of the same text wait for each other."""
        if conn.writing:
            conn.execute("SELECT pg_advisory_xact_lock(?::integer, hashtext(?))", (space, text))

    @staticmethod
    def meets(table: str, alias: str, bounds) -> tuple[str, tuple]:
        return f"{alias}.geom && ST_MakeEnvelope(?, ?, ?, ?, {pg.SRS_ID})", tuple(bounds)

    @staticmethod
    def table_names(conn) -> list[str]:
        return [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.oid")]

    @staticmethod
    def references(conn, table: str) -> set[str]:
        return {r[0] for r in conn.execute(
            "SELECT f.relname FROM pg_constraint k JOIN pg_class f ON f.oid = k.confrelid "
            "WHERE k.contype = 'f' AND k.conrelid = ?::regclass", (table,))}

    @staticmethod
    def column_types(conn, table: str) -> dict[str, str]:
        return {r[0]: r[1].lower() for r in conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum", (table,))}

    @staticmethod
    def after(column: str, amount: int, unit: str) -> str:
        return (f"to_char(({column}::timestamptz AT TIME ZONE 'UTC') + interval '{int(amount)} {unit}', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")

    @staticmethod
    def days_between(later: str, earlier: str) -> str:
        return f"(extract(epoch FROM {later}::timestamptz - {earlier}::timestamptz) / 86400.0)"

    @staticmethod
    def json_text(column: str, key: str) -> str:
        return f"{column}::jsonb ->> '{key}'"
    is_not = "IS DISTINCT FROM"
    no_limit = None
    FID = pg.identity()
    NOCASE = " COLLATE nocase"
    _TYPES = {INT: "integer", BIGINT: "bigint", TEXT: "text", REAL: "double precision", DATE: "text",
              DATETIME: "text", BOOL: "smallint", BLOB: "bytea"}
    _GEOMETRY = {POINT: "Point", LINESTRING: "LineString", MULTILINESTRING: "MultiLineString",
                 MULTIPOLYGON: "MultiPolygon", GEOMETRY: "Geometry"}

    def type_of(self, c: Column) -> str:
        if c.is_geometry:
            return f"geometry({self._GEOMETRY[c.kind]}, {pg.SRS_ID})"
        return self._TYPES[c.kind]

    def bool_check(self, c: Column) -> str:
        return f" CHECK ({c.name} IN (0, 1))" if c.kind == BOOL else ""

    def extras(self, table: Table) -> str:
        sql = "".join(pg.spatial_index(table.name, c.name) for c in table.columns if c.is_geometry)
        if table.stamped:
            sql += (f"CREATE TRIGGER {table.name}_changed AFTER INSERT OR UPDATE OR DELETE ON {table.name}\n"
                    "  FOR EACH STATEMENT EXECUTE FUNCTION registry_layer_changed();\n")
        return sql

    def refuse(self, table: str, r: Refuse) -> str:
        return pg.refuse(r.name, table, r.message, events=r.events, when=r.when)

    # A trigger's WHEN cannot hold a subquery in PostgreSQL: the checks that a code is free, or names a registered
    # feature, are functions, (re)defined with the rules that call them.
    _CODE_IN = r"""
CREATE OR REPLACE FUNCTION registry_refuse_if_code_in() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE taken boolean;
BEGIN
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE code = $1)', TG_ARGV[0]) INTO taken USING NEW.code;
  IF taken THEN
    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = TG_ARGV[1];
  END IF;
  RETURN NEW;
END $$;
"""
    _REGISTERED = r"""
CREATE OR REPLACE FUNCTION registry_refuse_unless_registered() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE feature text;
BEGIN
  EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO feature USING NEW;
  IF """ + "\n     AND ".join(f"NOT EXISTS (SELECT 1 FROM {t} WHERE code = feature)" for t in FEATURE_TABLES) + """ THEN
    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = TG_ARGV[1];
  END IF;
  RETURN NEW;
END $$;
"""

    def must_name_feature(self, table: str, r: MustNameFeature) -> str:
        return (self._REGISTERED + f"CREATE TRIGGER {r.name} BEFORE INSERT ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION registry_refuse_unless_registered('{r.column}', {_quoted(r.message)});\n")

    def code_not_in(self, table: str, r: CodeNotIn) -> str:
        return (self._CODE_IN + f"CREATE TRIGGER {r.name} BEFORE INSERT ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION registry_refuse_if_code_in('{r.other}', {_quoted(r.message)});\n")

    def run(self, conn, script: str) -> None:
        conn.execute(script)  # one script: PostgreSQL's simple protocol runs every statement in it

    def drop_reference(self, conn, table: str, column: Column) -> None:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_{column.name}_fkey")

    def replace_check(self, conn, table: str, old: str, new: str, name: str) -> None:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_check;\n"
                     f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({new})")

    def change_geometry_type(self, table: str, column: str, kind: str) -> str:
        return f"ALTER TABLE {table} ALTER COLUMN {column} TYPE geometry({self._GEOMETRY[kind]}, {pg.SRS_ID});\n"

    @staticmethod
    def exactly_one(columns) -> str:
        return f"num_nonnulls({', '.join(columns)}) = 1"


BACKENDS = {GPKG: GeoPackage(), POSTGIS: PostGIS()}


def backend(conn) -> Backend:
    """The backend of ``conn``."""
    return BACKENDS[dialect(conn)]
