"""SQL of a field kit's own GeoPackage: writing the file handed to a field team, and reading it back when they return.

A kit is a GeoPackage 1.2 (the exchange version of store/gpkg_ddl.py: GDAL 3.6 and QGIS 3.22 open it without a
warning) of its own (always SQLite, whatever backend the registry has; its SQL lives here because all
SQL lives in the store). It is written with the registry's own GeoPackage code (the GeoPackage's tables of store/gpkg_ddl.py,
``register_layer`` for layers with their R-tree and triggers, the blob codec of store/gpkg.py), plus GDAL's
``gpkg_ogr_contents`` feature counts, so QGIS, QField and GDAL open it as one of their own and it passes GDAL's
validator in strict mode.

What comes back is hostile until read: it is opened from a private temporary copy with SQLite's defences on (no
untrusted functions in the schema, cell size checks, read-only statements), and only the tables and columns the kit
defines are read, by name.
"""
from __future__ import annotations

import sqlite3
import time
from functools import wraps
from pathlib import Path
from typing import Any, Iterable, Sequence

from shapely.geometry.base import BaseGeometry

from .gpkg import SRS_ID, register_functions, split_sql, encode_geometry, utc_now
from .gpkg_ddl import GPKG_APPLICATION_ID, GPKG_BASE_DDL, GPKG_EXCHANGE_USER_VERSION, register_layer, srs_rows

# GDAL's own table of feature counts, kept by triggers (GDAL creates it in every GeoPackage it makes).
_OGR_CONTENTS_DDL = "CREATE TABLE gpkg_ogr_contents (table_name TEXT NOT NULL PRIMARY KEY, feature_count INTEGER DEFAULT NULL)"
_OGR_COUNT_TRIGGERS = """
CREATE TRIGGER "trigger_insert_feature_count_{t}" AFTER INSERT ON "{t}" BEGIN UPDATE gpkg_ogr_contents SET
  feature_count = feature_count + 1 WHERE lower(table_name) = lower('{t}'); END;
CREATE TRIGGER "trigger_delete_feature_count_{t}" AFTER DELETE ON "{t}" BEGIN UPDATE gpkg_ogr_contents SET
  feature_count = feature_count - 1 WHERE lower(table_name) = lower('{t}'); END;
"""


def _table_ddl(name: str, geometry_type: str | None, columns: Sequence[tuple[str, str]]) -> str:
    cols = ["fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"]
    if geometry_type:
        cols.append(f"geom {geometry_type}")
    cols += [f'"{c}" {t}' for c, t in columns]
    return f'CREATE TABLE "{name}" ({", ".join(cols)});\n'


def create_kit_file(path: str | Path, tables: Iterable[dict[str, Any]]) -> None:
    """A new GeoPackage at ``path`` with the given tables: each a mapping with ``name``, ``geometry`` (POINT,
    MULTIPOLYGON... or None for an attributes table), ``identifier``, ``description`` (developer text) and ``columns``
    [(name, SQL type with constraints)]. Rollback journal, not WAL: one self-contained file to hand out."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        register_functions(conn)
        conn.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {GPKG_EXCHANGE_USER_VERSION}")
        conn.execute("BEGIN")
        for statement in split_sql(GPKG_BASE_DDL):
            conn.execute(statement)
        conn.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", srs_rows())
        conn.execute(_OGR_CONTENTS_DDL)
        for t in tables:
            kind = "features" if t["geometry"] else "attributes"
            script = _table_ddl(t["name"], t["geometry"], t["columns"])
            script += register_layer(t["name"], kind, t["identifier"], t["description"], t["geometry"],
                                     GPKG_EXCHANGE_USER_VERSION)
            script += _OGR_COUNT_TRIGGERS.format(t=t["name"])
            for statement in split_sql(script):
                conn.execute(statement)
            conn.execute("INSERT INTO gpkg_ogr_contents VALUES (?, 0)", (t["name"],))
        conn.execute("COMMIT")
    finally:
        conn.close()


def write_rows(path: str | Path, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (``geom``: a shapely geometry in EPSG:4490, or absent for attributes) and set the layer's extent."""
    if not rows:
        return
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        register_functions(conn)
        conn.execute("BEGIN")
        columns = list(rows[0])
        marks = ", ".join("?" * len(columns))
        names = ", ".join(f'"{c}"' for c in columns)
        conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                         [[_value(row[c]) for c in columns] for row in rows])
        if "geom" in columns:
            conn.execute(
                f'UPDATE gpkg_contents SET min_x = (SELECT min(ST_MinX(geom)) FROM "{table}"), '
                f'min_y = (SELECT min(ST_MinY(geom)) FROM "{table}"), max_x = (SELECT max(ST_MaxX(geom)) FROM "{table}"), '
                f'max_y = (SELECT max(ST_MaxY(geom)) FROM "{table}"), last_change = ? WHERE table_name = ?',
                (utc_now(), table))
        conn.execute("COMMIT")
    finally:
        conn.close()


def _value(value: Any) -> Any:
    return encode_geometry(value, SRS_ID) if isinstance(value, BaseGeometry) else value


# --------------------------------------------------------------------------------------------------------------------
# Reading a kit that came back
# --------------------------------------------------------------------------------------------------------------------
class KitFileError(ValueError):
    """The uploaded file is not an SQLite database, or is damaged (SQLite's own message)."""


class KitFileTooSlow(KitFileError):
    """Reading the uploaded file ran past its deadline and was interrupted."""


def reading(fn):
    """SQLite's errors on a hostile or damaged file become KitFileError, which callers turn into a clear refusal."""
    @wraps(fn)
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if str(exc) == "interrupted":
                raise KitFileTooSlow(str(exc)) from None
            raise KitFileError(str(exc)) from None
    return wrapped


@reading
def open_kit_file(path: str | Path, deadline: float) -> sqlite3.Connection:
    """A connection to an uploaded kit (a private temporary copy: SQLite may replay its WAL into it). Its statements
    are interrupted once ``deadline`` (time.monotonic()) has passed: SQLite calls the check every 10,000 steps of its
    virtual machine, so no query of the file (a view over a recursive query, a huge join) runs on past it."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA trusted_schema = OFF")   # views and triggers of the file may not call risky functions
    conn.execute("PRAGMA cell_size_check = ON")   # damaged pages are reported, not trusted
    conn.execute("PRAGMA query_only = ON")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the header (and replays a WAL) now
    return conn


@reading
def quick_check(conn: sqlite3.Connection) -> str:
    """SQLite's structural check: 'ok', or the first problem found."""
    return conn.execute("PRAGMA quick_check").fetchone()[0]


@reading
def is_geopackage(conn: sqlite3.Connection) -> bool:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {"gpkg_contents", "gpkg_geometry_columns", "gpkg_spatial_ref_sys"} <= names


@reading
def table_columns(conn: sqlite3.Connection, table: str) -> list[str] | None:
    """The columns of a table (None if there is no such table)."""
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    if row is None:
        return None
    return [r["name"] for r in conn.execute(f'PRAGMA table_info("{table}")')]


@reading
def geometry_columns(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """table -> {column, type, srs_id} as gpkg_geometry_columns declares them."""
    return {r["table_name"]: {"column": r["column_name"], "type": r["geometry_type_name"], "srs_id": r["srs_id"]}
            for r in conn.execute("SELECT table_name, column_name, geometry_type_name, srs_id "
                                  "FROM gpkg_geometry_columns")}


@reading
def count_rows(conn: sqlite3.Connection, table: str) -> int:
    return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


@reading
def read_rows(conn: sqlite3.Connection, table: str, columns: Sequence[str],
              geometry_column: str | None = None) -> list[dict[str, Any]]:
    """Every row of a kit layer: ``fid``, ``geom`` (the raw blob, or None) and the named columns (the caller names only
    columns table_columns found)."""
    selected = ["fid"] + ([f'"{geometry_column}" AS geom'] if geometry_column else []) + [f'"{c}"' for c in columns]
    return [dict(r) for r in conn.execute(f'SELECT {", ".join(selected)} FROM "{table}" ORDER BY fid')]


@reading
def read_manifest(conn: sqlite3.Connection, table: str) -> dict[str, str] | None:
    """The key/value rows of the kit's manifest table (None if the file has none)."""
    columns = table_columns(conn, table)
    if columns is None or not {"key", "value"} <= set(columns):
        return None
    return {str(r["key"]): ("" if r["value"] is None else str(r["value"]))
            for r in conn.execute(f'SELECT key, value FROM "{table}"')}
