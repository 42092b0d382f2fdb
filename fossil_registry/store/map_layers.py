"""SQL of the registry's change stamps, the keys of in-memory caches (map layers, feature collections). No tables."""
from __future__ import annotations

import sqlite3

from .dialect import is_pg, location_of
from .sites import BOUNDARIES, LOCATIONS, VERSIONS


def change_stamp(conn: sqlite3.Connection) -> tuple:
    """Changes whenever the current state of any site may have changed: every site write appends to the
    (append-only) history and touches the layers' gpkg_contents.last_change in the same transaction. Includes the
    file, so that two registries never share a stamp. PostGIS: layer_changes, stamped by a trigger on each layer."""
    file = location_of(conn)
    changes = "layer_changes" if is_pg(conn) else "gpkg_contents"
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
    changes = "layer_changes" if is_pg(conn) else "gpkg_contents"
    row = conn.execute(
        "SELECT (SELECT max(fid) FROM section_versions), (SELECT count(*) FROM section_versions),"
        f" (SELECT max(last_change) FROM {changes} WHERE table_name IN ('section_lines', 'section_boundaries'))"
    ).fetchone()
    return (file, "sections", row[0], row[1], row[2])
