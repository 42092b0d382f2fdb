"""PostgreSQL/PostGIS plumbing, knowing no table: the second backend's connections (psycopg 3, one pool per database),
transactions with the GeoPackage's meaning, geometry values and errors. This module holds what needs no database
driver (locations, lock keys, the translation of parameters, geometry values, DDL); the connections, pools and
transactions are store/pg_connection.py's, imported with psycopg (~0.35 s) by the first use of one of their names
here (``pg.PgConnection``, ``pg.transaction``...): a server on a GeoPackage never loads them.

Every other store module talks to either backend through the same few calls (``conn.execute`` with ``?`` or ``:name``
parameters, rows read by position and by name, ``rowcount``, ``lastrowid``); where the SQL of the two dialects differs,
the module writes it twice (``store/dialect.py`` says which backend a connection is).

What a connection here does that psycopg does not:

* parameters: ``?`` and ``:name`` become ``%s`` and ``%(name)s`` (outside string literals; a literal ``%`` is doubled),
  so a statement both dialects accept is written once;
* rows: ``Row`` answers ``r[0]``, ``r["name"]``, ``dict(r)`` and ``r.keys()`` as sqlite3.Row does;
* geometry columns come back as shapely geometries (PostGIS EWKB decoded by a loader), and ``Geometry(shape)``
  parameters go in as PostGIS geometries in SRID 4490; numeric results (sum, avg) come back as int or float;
* ``lastrowid`` is the identity value the last INSERT drew (``lastval()``);
* errors: a lost or refused connection becomes ``errors.Unavailable`` (503) and a unique-key race ``errors.Conflict``
  (409); what the schema refuses (append-only, four-eyes) stays a database IntegrityError, as on SQLite.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

SRS_ID = 4490
URL_SCHEMES = ("postgresql://", "postgres://")
# Advisory lock keys (pg_advisory_xact_lock): the site history's order, site code allocation, the file sweep,
# migrations.
HISTORY_LOCK = 4490_0001
SITE_CODE_LOCK = 4490_0002
FILES_LOCK = 4490_0003
MIGRATE_LOCK = 4490_0004
# with a second key (pg_advisory_xact_lock(int, int)): one content of an import's row proposed at a time
IMPORT_KEY_LOCK = 4490_0005


def is_url(location: Any) -> bool:
    return isinstance(location, str) and location.startswith(URL_SCHEMES)


def describe(url: str) -> str:
    """host:port/database of a URL, without its password (for messages)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port or 5432}/{parts.path.lstrip('/') or '(default database)'}"


# --------------------------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------------------------
_TOKENS = re.compile(r"('(?:[^']|'')*')|(\"(?:[^\"]|\"\")*\")|(::)|(\?)|:([A-Za-z_]\w*)|(%)")


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """sqlite3's ``?`` / ``:name`` parameters as psycopg's ``%s`` / ``%(name)s``; ``%`` doubled (also in literals)."""
    def sub(m: re.Match) -> str:
        literal, ident, cast, qmark, name, percent = m.groups()
        if literal is not None:
            return literal.replace("%", "%%")
        if ident is not None or cast is not None:
            return m.group(0)
        if qmark is not None:
            return "%s"
        if name is not None:
            return f"%({name})s"
        return "%%"
    return _TOKENS.sub(sub, sql)


# --------------------------------------------------------------------------------------------------------------------
# Geometry values
# --------------------------------------------------------------------------------------------------------------------
class Geometry:
    """A shapely geometry as a query parameter: stored as a PostGIS geometry in SRID 4490."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


# --------------------------------------------------------------------------------------------------------------------
# DDL helpers: what the GeoPackage enforces with RAISE(ABORT) triggers, PostgreSQL enforces with registry_refuse()
# --------------------------------------------------------------------------------------------------------------------
def refuse(name: str, table: str, message: str, *, events: str = "UPDATE OR DELETE", when: str | None = None) -> str:
    """A trigger that refuses ``events`` on ``table`` (optionally only rows matching ``when``) with ``message``."""
    text = message.replace("'", "''")
    condition = f" WHEN ({when})" if when else ""
    sql = (f"CREATE TRIGGER {name} BEFORE {events} ON {table} FOR EACH ROW{condition} "
           f"EXECUTE FUNCTION registry_refuse('{text}');\n")
    if "DELETE" in events:  # TRUNCATE would empty the table without a row trigger
        sql += (f"CREATE TRIGGER {name}_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION registry_refuse('{text}');\n")
    return sql


def append_only(table: str, message: str) -> str:
    return refuse(f"{table}_append_only", table, message)


def identity() -> str:
    """The fid column: an identity that still accepts explicit values (registry copy keeps every fid)."""
    return "fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"


def spatial_index(table: str, column: str = "geom") -> str:
    return f"CREATE INDEX {table}_{column}_gist ON {table} USING gist ({column});\n"


# --------------------------------------------------------------------------------------------------------------------
# Connections, pools and transactions: store/pg_connection.py, with psycopg, at the first use of one of its names
# --------------------------------------------------------------------------------------------------------------------
_CONNECTION_NAMES = frozenset({"PgConnection", "Row", "Cursor", "probe", "close_pool", "close_pools", "transaction",
                               "read_snapshot", "advisory_lock", "translated_errors", "_POOLS", "POOL_MAX",
                               "CONNECT_TIMEOUT_S", "POOL_WAIT_S"})


def __getattr__(name: str) -> Any:
    if name in _CONNECTION_NAMES:
        from . import pg_connection
        return getattr(pg_connection, name)
    raise AttributeError(name)
