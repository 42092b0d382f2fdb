"""SQL on GeoPackages uploaded as geometry files (proposals, impact screenings): what their layers are, read with
SQLite's defences on (kitfile.open_kit_file: a private copy, no untrusted functions in the schema, read-only) before
GDAL opens them. GDAL reads whatever gpkg_contents lists, views included: a 100 KB file whose layer is a view over a
recursive query made the reader run for a minute and take 3 GB. Only the layers' kinds and row counts are read here."""
from __future__ import annotations

from pathlib import Path

from .kitfile import KitFileError, KitFileTooSlow, reading, is_geopackage, open_kit_file, quick_check

__all__ = ["KitFileError", "KitFileTooSlow", "contents_layers"]


@reading
def contents_layers(path: str | Path, deadline: float) -> list[tuple[str, str, int | None]] | None:
    """(table name, kind, rows) of every layer gpkg_contents lists: kind 'table', 'view', 'virtual' (a virtual table,
    whose module runs code) or 'missing'; rows counted for tables only. None if the file is not a GeoPackage.
    Statements still running at ``deadline`` (time.monotonic()) are interrupted (KitFileTooSlow)."""
    conn = open_kit_file(path, deadline)
    try:
        check = quick_check(conn)
        if check != "ok":
            raise KitFileError(check)
        if not is_geopackage(conn):
            return None
        layers = []
        for name, kind, sql in conn.execute(
                "SELECT c.table_name, m.type, m.sql FROM gpkg_contents c LEFT JOIN sqlite_master m "
                "ON m.name = c.table_name AND m.type IN ('table', 'view') ORDER BY c.table_name").fetchall():
            if kind == "table" and (sql or "").lstrip().upper().startswith("CREATE VIRTUAL"):
                kind = "virtual"
            rows = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] if kind == "table" else None
            layers.append((name, kind or "missing", rows))
        return layers
    finally:
        conn.close()
