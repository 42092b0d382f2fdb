"""Copying a whole registry from one location to another: GeoPackage to PostGIS, PostGIS to GeoPackage (``registry
copy``, and every export or backup of a PostGIS registry), or between two of a kind.

Every table of the registry is copied with its fid, history, audit trail, accounts, sessions and contacts included, in
the order the migrations created the tables (so every row's references exist before it), read in chunks of _CHUNK rows.
Geometries are decoded from the source's form (GeoPackage blob or PostGIS geometry) and written in the destination's;
the GeoPackage's spatial index fills through its triggers, PostgreSQL's identities continue after the highest fid
copied. Into PostGIS the rows go by COPY (one stream per table: 20,000 sites' 50,000 rows in ~4 s where INSERTs took
27 s), into a GeoPackage by executemany. The destination must be a new, empty registry of the same schema (both are
migrated first). One transaction on the destination: a failed copy leaves nothing there.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from . import pg, read_model
from .dialect import backend, connect, geometry_value, is_pg, is_url, read_snapshot, transaction
from .gpkg import decode_geometries
from .migrations import create_registry

# Tables that are not the registry's records: each side's own metadata (GeoPackage tables, R-trees, PostGIS' SRS
# table, sequences and migration bookkeeping).
_SKIP = {"registry_migrations", "spatial_ref_sys", "layer_changes", "sqlite_sequence"}
# The read model (store/read_model.py) is derived, not the record: left out, rebuilt at the destination's first read.
_CHUNK = 2000


# The registered features' layers: other tables' triggers look codes up in them (an inspection's or a marker's feature
# must be a registered site or section), which no foreign key says; they are copied first.
_FEATURES_FIRST = ("site_locations", "site_boundaries", "site_versions", "section_lines", "section_boundaries",
                   "section_versions")


def _tables(conn) -> list[str]:
    """The registry's tables in an order where every row's references exist before it: the feature layers, then the
    others in creation order, each after the tables its foreign keys name. (Creation order alone is not enough:
    a later step may add a column referencing a table created after it, as evidence_photos.rescue_id.)"""
    created = [t for t in backend(conn).table_names(conn)
               if t not in _SKIP and not t.startswith(("gpkg_", "rtree_", "sqlite_", "read_"))]
    ordered = [t for t in _FEATURES_FIRST if t in created]
    pending = [t for t in created if t not in ordered]
    needs = {t: backend(conn).references(conn, t) & set(pending) - {t} for t in pending}
    while pending:
        ready = next((t for t in pending if not needs[t] - set(ordered)), pending[0])  # a cycle: creation order
        ordered.append(ready)
        pending.remove(ready)
    return ordered


def _columns(conn, table: str) -> dict[str, str]:
    """column -> declared type."""
    return backend(conn).column_types(conn, table)


def _geometry_columns(src, dest, table: str, columns: list[str]) -> list[str]:
    """The columns of ``table`` that hold geometries, as the PostGIS side declares them (or the GeoPackage's types)."""
    for side in (dest, src):
        if is_pg(side):
            types = _columns(side, table)
            return [c for c in columns if types.get(c, "").startswith("geometry")]
    types = _columns(src, table)
    return [c for c in columns if types.get(c, "") in _GPKG_GEOMETRY_TYPES or c in ("location", "boundary")
            and table in ("site_versions", "section_versions", "revisions")]


_GPKG_GEOMETRY_TYPES = {"point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                        "geometry", "geometrycollection"}


def _is_empty(conn) -> bool:
    return conn.execute("SELECT count(*) FROM site_versions").fetchone()[0] == 0 and \
        conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0


def copy_registry(src, dest_location: str | Path) -> dict[str, int]:
    """Copy the registry of connection ``src`` into ``dest_location`` (a GeoPackage path that must not exist, or the
    URL of a database without a registry), creating it there. Returns rows copied per table."""
    create_registry(dest_location)
    dest = connect(dest_location)
    try:
        if not _is_empty(dest):
            raise FileExistsError(f"the destination {_name(dest_location)} already holds records")
        return copy_tables(src, dest)
    finally:
        dest.close()


def _name(location) -> str:
    return pg.describe(str(location)) if is_url(location) else str(location)


def copy_tables(src, dest) -> dict[str, int]:
    """Every row of every registry table of ``src`` into the (empty, same-schema) registry of ``dest``."""
    tables = _tables(src)
    missing = sorted(set(tables) - set(_tables(dest)))
    if missing:
        raise ValueError(f"the destination lacks the table(s) {', '.join(missing)}: both registries must be at the "
                         "same schema version")
    counts = {}
    with read_snapshot(src), transaction(dest):  # one state of the source, however busy it is meanwhile
        for table in tables:
            counts[table] = _copy_table(src, dest, table)
        _after_copy(dest, tables)
        read_model.clear(dest)  # the destination's read model is built from what was copied, at its first use
    return counts


def _copy_table(src, dest, table: str) -> int:
    dest_types = _columns(dest, table)
    columns = [c for c in _columns(src, table) if c in dest_types]
    geometry = set(_geometry_columns(src, dest, table, columns))
    booleans = {c for c in columns if dest_types[c] == "boolean"}
    order = "fid" if "fid" in columns else columns[0]
    rows = src.execute(f'SELECT {_names(columns)} FROM "{table}" ORDER BY "{order}"')
    n = 0
    with _writer(dest, table, columns) as write:
        while chunk := [list(r) for r in rows.fetchmany(_CHUNK)]:
            for i, column in enumerate(columns):
                if column in geometry:
                    shapes = decode_geometries([r[i] for r in chunk])
                    values = pg.ewkb(shapes) if is_pg(dest) else [geometry_value(dest, s) for s in shapes]
                    for r, value in zip(chunk, values):
                        r[i] = value
                elif column in booleans:
                    for r in chunk:
                        r[i] = None if r[i] is None else bool(r[i])
            write(chunk)
            n += len(chunk)
    return n


def _names(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


@contextmanager
def _writer(dest, table: str, columns: list[str]) -> Iterator[Callable[[list[list]], None]]:
    """How rows go into ``table`` of ``dest``: PostGIS' COPY (a million sites' rows in minutes, where INSERTs took
    hours), GeoPackage's INSERTs. The destination's own registry_meta rows (schema version, installation id) yield
    to the source's: INSERTs there, as COPY cannot replace a row."""
    if is_pg(dest) and table != "registry_meta":
        with dest.copy_rows(table, columns) as write:
            yield write
        return
    insert = f'INSERT INTO "{table}" ({_names(columns)}) VALUES ({", ".join("?" for _ in columns)})'
    if table == "registry_meta":
        insert += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    yield lambda chunk: dest.executemany(insert, chunk)


def _after_copy(dest, tables: list[str]) -> None:
    """PostGIS: identities continue after the copied fids. GeoPackage: the layers' extents in gpkg_contents."""
    if is_pg(dest):
        for table in tables:
            if "fid" in _columns(dest, table):
                dest.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'fid'), "
                             f"coalesce((SELECT max(fid) FROM \"{table}\"), 0) + 1, false)")
        return
    for (table,) in dest.execute("SELECT table_name FROM gpkg_geometry_columns").fetchall():
        dest.execute(f'UPDATE gpkg_contents SET min_x = (SELECT min(minx) FROM "rtree_{table}_geom"), '
                     f'min_y = (SELECT min(miny) FROM "rtree_{table}_geom"), '
                     f'max_x = (SELECT max(maxx) FROM "rtree_{table}_geom"), '
                     f'max_y = (SELECT max(maxy) FROM "rtree_{table}_geom") WHERE table_name = ?', (table,))
