"""SQL of the protection map: the registry's change stamp, the key of map_layers' in-memory cache. No tables."""
from __future__ import annotations

import sqlite3

from .sites import BOUNDARIES, LOCATIONS, VERSIONS


def change_stamp(conn: sqlite3.Connection) -> tuple:
    """Changes whenever the current state of any site may have changed: every site write appends to the
    (append-only) history and touches the layers' gpkg_contents.last_change in the same transaction. Includes the
    file, so that two registries never share a stamp."""
    file = conn.execute("PRAGMA database_list").fetchone()[2]
    row = conn.execute(
        f"SELECT (SELECT max(fid) FROM {VERSIONS}), (SELECT count(*) FROM {VERSIONS}),"
        f" (SELECT max(last_change) FROM gpkg_contents WHERE table_name IN ('{LOCATIONS}', '{BOUNDARIES}'))"
    ).fetchone()
    return (file, row[0], row[1], row[2])
