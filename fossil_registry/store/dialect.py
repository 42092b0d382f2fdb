"""The seam between the two backends: where a registry lives decides which one serves it.

A registry *location* is either the path of a GeoPackage file (the embedded default) or a ``postgresql://`` URL
(PostGIS). ``connect``, ``transaction`` and ``read_snapshot`` work on both; a connection says which it is by its
``dialect`` ("gpkg" or "postgis"). Store modules write a statement once where both dialects accept it, and twice
(``pick``) where they differ: geometry (GeoPackage blobs with R-trees vs PostGIS geometries with GiST indexes),
dates, JSON, triggers. Nothing outside the store knows which backend it talks to.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from shapely.geometry.base import BaseGeometry

from . import gpkg, pg

GPKG, POSTGIS = "gpkg", "postgis"


def is_url(location: Any) -> bool:
    return pg.is_url(location)


def dialect(conn) -> str:
    return getattr(conn, "dialect", GPKG)


def is_pg(conn) -> bool:
    return getattr(conn, "dialect", GPKG) == POSTGIS


def pick(conn, gpkg_sql: str, postgis_sql: str) -> str:
    """The statement of ``conn``'s dialect."""
    return postgis_sql if is_pg(conn) else gpkg_sql


def connect(location: str | Path, *, readonly: bool = False):
    """A connection to the registry at ``location`` (GeoPackage path or PostgreSQL URL); ``close()`` when done."""
    if is_url(location):
        return pg.PgConnection(str(location), read_only=readonly)
    return gpkg.connect(location, readonly=readonly)


@contextmanager
def transaction(conn) -> Iterator[Any]:
    """One write transaction, all or nothing (nested: a savepoint). GeoPackage: BEGIN IMMEDIATE, one writer at a
    time. PostGIS: concurrent writers, row locks where a write depends on what it read (``for_update``)."""
    cm = pg.transaction(conn) if is_pg(conn) else gpkg.transaction(conn)
    with cm as c:
        yield c


@contextmanager
def read_snapshot(conn) -> Iterator[Any]:
    cm = pg.read_snapshot(conn) if is_pg(conn) else gpkg.read_snapshot(conn)
    with cm as c:
        yield c


def for_update(conn, of: str | None = None) -> str:
    """The row-lock clause of a point read inside a PostGIS write transaction ('' elsewhere): the read-check-write of
    the domain (is the site still at the base version? is the proposal still open?) holds the row until commit, as
    BEGIN IMMEDIATE holds the whole GeoPackage. NO KEY UPDATE: rows that only reference it (inspections of the site,
    events of the proposal) can still be added meanwhile."""
    if is_pg(conn) and conn.writing:
        return " FOR NO KEY UPDATE" + (f" OF {of}" if of else "")
    return ""


def geometry_value(conn, geom: BaseGeometry | None):
    """A geometry as a statement parameter: a GeoPackage blob, or a PostGIS geometry (SRID 4490)."""
    if geom is None:
        return None
    return pg.Geometry(geom) if is_pg(conn) else gpkg.encode_geometry(geom)


def lock(conn, key: int, *, shared: bool = False) -> None:
    """PostGIS: a transaction-scoped advisory lock (pg.HISTORY_LOCK ...). GeoPackage: nothing, the write transaction
    already holds the whole file."""
    if is_pg(conn):
        pg.advisory_lock(conn, key, shared=shared)


def lock_files(conn, *, sweep: bool = False) -> None:
    """Inside a write transaction: a write that places photo or attachment files (blobs.Batch.place) holds the files
    shared, the sweep that removes unreferenced ones holds them alone, so the sweep never sees a placed file whose
    row is not committed yet. GeoPackage: nothing, its write transaction holds the whole file."""
    lock(conn, pg.FILES_LOCK, shared=not sweep)


def location_of(conn) -> str:
    """Where the registry of ``conn`` lives (file path or URL): part of the cache keys, so two registries never share
    a cached answer."""
    if is_pg(conn):
        return conn.location
    return conn.execute("PRAGMA database_list").fetchone()[2]
