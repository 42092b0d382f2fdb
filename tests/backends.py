"""What the tests that run on both backends need to say in each backend's terms: the error the database raises when
its schema refuses a write, a fault injected by a real trigger, and a dump of every row of the site tables."""
from __future__ import annotations

import sqlite3

import psycopg

from fossil_registry import store
from fossil_registry.store.dialect import is_pg

# What the schema raises for a refused write (append-only, four-eyes, a failing trigger): both are IntegrityErrors.
DB_REFUSAL = (sqlite3.IntegrityError, psycopg.errors.IntegrityError)


def fail_inserts(conn, name: str, table: str, message: str, when: str | None = None) -> None:
    """A real trigger that makes every INSERT into ``table`` (matching ``when``, in SQL on NEW) fail with ``message``:
    on SQLite a TEMP trigger of this connection, on PostgreSQL a trigger of the test's own database (``test_*``)."""
    if is_pg(conn):
        text = message.replace("'", "''")
        conn.execute(f"CREATE TRIGGER test_{name} BEFORE INSERT ON {table} FOR EACH ROW"
                     + (f" WHEN ({when})" if when else "") + f" EXECUTE FUNCTION registry_refuse('{text}')")
    else:
        conn.execute(f"CREATE TEMP TRIGGER {name} BEFORE INSERT ON {table}" + (f" WHEN {when}" if when else "")
                     + f" BEGIN SELECT RAISE(ABORT, '{message}'); END")


def stop_failing(conn, name: str, table: str) -> None:
    conn.execute(f"DROP TRIGGER test_{name} ON {table}" if is_pg(conn) else f"DROP TRIGGER temp.{name}")


def dump(conn) -> dict:
    """Every user-visible row of the site tables and the audit trail, spatial index included (GeoPackage: its R-tree
    and gpkg_contents; PostGIS: the GiST index is inside PostgreSQL): to prove a failed write changed nothing."""
    tables = [store.LOCATIONS, store.BOUNDARIES, store.VERSIONS, store.AUDIT]
    if is_pg(conn):
        tables.append("layer_changes")
    else:
        tables += ["gpkg_contents", f"rtree_{store.LOCATIONS}_geom", f"rtree_{store.BOUNDARIES}_geom"]
    return {t: [tuple(r) for r in conn.execute(f'SELECT * FROM "{t}" ORDER BY 1')] for t in tables}
