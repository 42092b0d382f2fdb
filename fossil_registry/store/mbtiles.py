"""SQL of the offline basemap: an MBTiles file (SQLite; spec 1.3: ``metadata`` name/value rows and ``tiles`` with
zoom_level, tile_column, tile_row in TMS order, tile_data), read to serve tiles and copied, clipped, into field kits.

The operator's file is only ever opened read-only. Files made by GDAL or other tools often keep tiles in a ``map`` +
``images`` pair behind a ``tiles`` view: reading through ``tiles`` works for both layouts.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

_TILES_DDL = """
CREATE TABLE metadata (name TEXT NOT NULL, value TEXT);
CREATE UNIQUE INDEX metadata_name ON metadata (name);
CREATE TABLE tiles (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL,
  tile_data BLOB NOT NULL);
CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);
"""


def _uri(path: str | Path, query: str = "") -> str:
    return "file:" + quote(str(Path(path).resolve())) + query


def open_mbtiles(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to an MBTiles file."""
    conn = sqlite3.connect(_uri(path, "?mode=ro"), uri=True, isolation_level=None, check_same_thread=False,
                           timeout=10)
    conn.execute("PRAGMA query_only = ON")
    return conn


def describe(path: str | Path) -> tuple[dict[str, str], list[int], bytes | None]:
    """(metadata, zoom levels with tiles, one tile's bytes) of an MBTiles file; ValueError if it is not one."""
    try:
        conn = open_mbtiles(path)
        try:
            first = conn.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
            return metadata(conn), zoom_levels(conn), None if first is None else bytes(first[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"not an MBTiles file ({exc})") from None


def metadata(conn: sqlite3.Connection) -> dict[str, str]:
    return {str(name): "" if value is None else str(value)
            for name, value in conn.execute("SELECT name, value FROM metadata")}


def zoom_levels(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT DISTINCT zoom_level FROM tiles ORDER BY zoom_level")]


def tile(conn: sqlite3.Connection, zoom: int, column: int, tms_row: int) -> bytes | None:
    row = conn.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                       (zoom, column, tms_row)).fetchone()
    return None if row is None else bytes(row[0])


def count_tiles(conn: sqlite3.Connection, zoom: int, columns: tuple[int, int], rows: tuple[int, int]) -> int:
    return conn.execute("SELECT count(*) FROM tiles WHERE zoom_level = ? AND tile_column BETWEEN ? AND ? "
                        "AND tile_row BETWEEN ? AND ?", (zoom, *columns, *rows)).fetchone()[0]


def write_clipped(source: str | Path, dest: str | Path, ranges: Sequence[tuple[int, tuple[int, int], tuple[int, int]]],
                  meta: dict[str, str]) -> int:
    """A new MBTiles file at ``dest`` holding the tiles of ``source`` within ``ranges`` [(zoom, (first column, last
    column), (first TMS row, last TMS row))], with ``meta`` as its metadata. Returns the number of tiles copied."""
    conn = sqlite3.connect(_uri(dest), uri=True, isolation_level=None)  # URI names for the read-only ATTACH
    try:
        conn.execute("ATTACH DATABASE ? AS src", (_uri(source, "?mode=ro"),))
        conn.execute("BEGIN")
        for statement in _TILES_DDL.strip().split(";"):
            if statement.strip():
                conn.execute(statement)
        copied = 0
        for zoom, (col0, col1), (row0, row1) in ranges:
            copied += conn.execute(
                "INSERT INTO main.tiles SELECT zoom_level, tile_column, tile_row, tile_data FROM src.tiles "
                "WHERE zoom_level = ? AND tile_column BETWEEN ? AND ? AND tile_row BETWEEN ? AND ?",
                (zoom, col0, col1, row0, row1)).rowcount
        conn.executemany("INSERT INTO main.metadata (name, value) VALUES (?, ?)", sorted(meta.items()))
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE src")
    finally:
        conn.close()
    return copied
