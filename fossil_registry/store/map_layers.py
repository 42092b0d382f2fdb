"""SQL of the registry's change stamps, the keys of in-memory caches (map layers, feature collections), and of the
public stamp (one registry_meta row, no table of its own)."""
from __future__ import annotations

import sqlite3

from .dialect import backend, location_of
from .sites import BOUNDARIES, LOCATIONS, VERSIONS


def change_stamp(conn: sqlite3.Connection) -> tuple:
    """Changes whenever the current state of any site may have changed: every site write appends to the
    (append-only) history and touches the layers' gpkg_contents.last_change in the same transaction. Includes the
    file, so that two registries never share a stamp. PostGIS: layer_changes, stamped by a trigger on each layer."""
    file = location_of(conn)
    changes = backend(conn).layer_changes
    row = conn.execute(
        f"SELECT (SELECT max(fid) FROM {VERSIONS}), (SELECT count(*) FROM {VERSIONS}),"
        f" (SELECT max(last_change) FROM {changes} WHERE table_name IN ('{LOCATIONS}', '{BOUNDARIES}'))"
    ).fetchone()
    return (file, row[0], row[1], row[2])


def table_stamp(conn: sqlite3.Connection, table: str) -> tuple:
    """Changes whenever an append-only table gains a row (inspections, patrol tracks): file, highest fid, count."""
    file = location_of(conn)
    row = conn.execute(f'SELECT max(fid), count(*) FROM "{table}"').fetchone()
    return (file, table, row[0], row[1])


def first_version_time(conn: sqlite3.Connection) -> str | None:
    """When the registry's first site version was written (the start of its temporal extent)."""
    return conn.execute(f"SELECT min(created_at) FROM {VERSIONS}").fetchone()[0]


def section_stamp(conn: sqlite3.Connection) -> tuple:
    """Changes whenever the current state of any stratigraphic section may have changed (as change_stamp for sites)."""
    file = location_of(conn)
    changes = backend(conn).layer_changes
    row = conn.execute(
        "SELECT (SELECT max(fid) FROM section_versions), (SELECT count(*) FROM section_versions),"
        f" (SELECT max(last_change) FROM {changes} WHERE table_name IN ('section_lines', 'section_boundaries'))"
    ).fetchone()
    return (file, "sections", row[0], row[1], row[2])


# registry_meta's "<count> <time>" of the changes to what anonymous callers see of the registered features
PUBLIC_STATE = "public_state"


def public_stamp(conn: sqlite3.Connection) -> tuple:
    """Changes only when the public view of a site or section changes (the domain notes each such change in the write's
    own transaction: sites.py): an edit of a hidden feature moves nothing an anonymous caller can read. One indexed
    row, whatever the registry's size. File, count of public changes, time of the last one."""
    row = conn.execute("SELECT value FROM registry_meta WHERE key = ?", (PUBLIC_STATE,)).fetchone()
    count, _, when = (row[0] if row else "0 ").partition(" ")
    return (location_of(conn), "public", int(count), when)


def note_public_change(conn: sqlite3.Connection, when: str) -> None:
    """Count one change of the public view (inside the transaction of the write that made it, which holds the write
    lock: on PostGIS the history lock of write_site_row)."""
    count = public_stamp(conn)[2] + 1
    conn.execute("INSERT INTO registry_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                 "excluded.value", (PUBLIC_STATE, f"{count} {when}"))
