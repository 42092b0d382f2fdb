"""The versioned registered features: their current state in a layer of their main geometry and a layer of their
protection boundaries, and their append-only history (one full snapshot per version). Each kind of feature has its
own tables, described by a :class:`Layers` (sites: ``site_locations`` (Point), ``site_boundaries`` (MultiPolygon),
``site_versions``; stratigraphic sections: store/sections.py), and shares every function below: the functions take
``layers`` and default to the sites'. Every layer is in EPSG:4490 with the GeoPackage R-tree spatial index, so that any
GIS opens the file and sees today's registry. The site tables are defined here (the core of
the GeoPackage) and created by store/migrations.py.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from ..vocab import Level, Sensitivity, SiteStatus
from . import pg
from .dialect import backend, for_update, geometry_value, is_pg, lock
from .gpkg import decode_geometries, decode_geometry
from .tables import (BIGINT, DATE, DATETIME, INT, MULTIPOLYGON, NOT_NULL, POINT, REAL, TEXT, UNIQUE, Column, Index,
                     Table, append_only, col)

LOCATIONS = "site_locations"
BOUNDARIES = "site_boundaries"
VERSIONS = "site_versions"

# Columns of the current-state layers besides fid/geom; the order is the layer's column order.
LOCATION_COLUMNS = (
    "code", "name", "name_en", "county", "county_en", "level", "period", "age", "formation", "fossil_groups",
    "sensitivity", "description", "description_en", "established", "status", "version", "updated_at", "updated_by",
    "public_description", "public_description_en", "formation_en",
)
BOUNDARY_COLUMNS = ("code", "name", "name_en", "level", "sensitivity", "status", "area_km2", "version", "updated_at")
_BOOKKEEPING = ("code", "version", "updated_at", "updated_by")


@dataclass(frozen=True)
class Layers:
    """The tables of one kind of registered feature and how its attributes are stored in the main layer's columns."""

    kind: str
    primary: str                            # current state: the main geometry (Point, LineString) and attributes
    boundaries: str                         # current protection boundaries (MultiPolygon)
    versions: str                           # append-only history
    columns: tuple[str, ...]                # the main layer's columns besides fid/geom, in order
    boundary_columns: tuple[str, ...]
    list_columns: tuple[str, ...] = ()      # lists of codes, stored comma-separated (readable in any GIS)
    json_columns: tuple[str, ...] = ()      # lists of free text or objects, stored as JSON text
    measures: tuple[str, ...] = ()          # figures computed from the geometry (e.g. length_m): columns, not attributes
    attributes: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "attributes", tuple(c for c in self.columns
                                                     if c not in _BOOKKEEPING and c not in self.measures))


SITES = Layers("site", LOCATIONS, BOUNDARIES, VERSIONS, LOCATION_COLUMNS, BOUNDARY_COLUMNS,
               list_columns=("fossil_groups",))


# The tables (the core of the GeoPackage: store/migrations.py creates them and registers the sites' layers). Every
# kind of feature has the same attributes around its own, the same boundaries' layer and the same history.
def described(*middle: Column) -> tuple[Column, ...]:
    """The main layer's columns of a kind of feature besides geom and its measures: code and names, its level,
    ``middle`` (what the kind adds), its description and status."""
    return (col("code", TEXT, NOT_NULL, UNIQUE), col("name", TEXT, NOT_NULL), col("name_en"), col("county"),
            col("county_en"), col("level", TEXT, NOT_NULL, check=Level.check_sql("level")), *middle,
            col("description"), col("description_en"), col("established", DATE),
            col("status", TEXT, NOT_NULL, default=f"'{SiteStatus.ACTIVE}'", check=SiteStatus.check_sql("status")))


def sensitivity() -> Column:
    return col("sensitivity", TEXT, NOT_NULL, check=Sensitivity.check_sql("sensitivity"))


BOOKKEEPING = (col("version", INT, NOT_NULL, check="version >= 1"), col("updated_at", DATETIME, NOT_NULL),
               col("updated_by", TEXT, NOT_NULL))


def boundaries_table(name: str, primary: str, **kw) -> Table:
    """The current protection boundaries of a kind of feature."""
    return Table(name, (col("geom", MULTIPOLYGON, NOT_NULL),
                        col("code", TEXT, NOT_NULL, UNIQUE, references=f"{primary}(code)"), col("name"),
                        col("name_en"), col("level"), col("sensitivity"), col("status"), col("area_km2", REAL),
                        col("version", INT, NOT_NULL), col("updated_at", DATETIME, NOT_NULL)), stamped=True, **kw)


def versions_table(name: str, geometry: str, message: str, **kw) -> Table:
    """The append-only history of a kind of feature: one full snapshot per version."""
    return Table(name, (col("code", TEXT, NOT_NULL), col("version", INT, NOT_NULL, check="version >= 1"),
                        col("operation", TEXT, NOT_NULL), col("created_at", DATETIME, NOT_NULL),
                        col("author", TEXT, NOT_NULL), col("reviewer"), col("reason", TEXT, NOT_NULL),
                        col("properties", TEXT, NOT_NULL), col("location", geometry, NOT_NULL),
                        col("boundary", MULTIPOLYGON), col("revision_id", BIGINT)),
                 constraints=("UNIQUE (code, version)",), indexes=(Index(f"{name}_code_time", "code, created_at"),),
                 rules=(append_only(name, message),), **kw)


LOCATIONS_TABLE = Table(LOCATIONS, (col("geom", POINT, NOT_NULL), *described(
    col("period"), col("age"), col("formation"), col("fossil_groups"), sensitivity()), *BOOKKEEPING), stamped=True)
BOUNDARIES_TABLE = boundaries_table(BOUNDARIES, LOCATIONS)
VERSIONS_TABLE = versions_table(VERSIONS, POINT, "site history is append-only")



# --------------------------------------------------------------------------------------------------------------------
# Current state rows
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class SiteRow:
    """A site's current state as stored: attribute columns, geometries and bookkeeping."""

    code: str
    attributes: dict[str, Any]
    location: BaseGeometry
    boundary: BaseGeometry | None
    version: int
    updated_at: str
    updated_by: str


def _location_values(row: SiteRow, layers: Layers = SITES) -> dict[str, Any]:
    values = {k: row.attributes.get(k) for k in layers.columns}
    for key in layers.list_columns:
        if isinstance(values.get(key), (list, tuple)):
            values[key] = ", ".join(values[key])
    for key in layers.json_columns:
        values[key] = json.dumps(values.get(key) or [], ensure_ascii=False)
    values.update(code=row.code, version=row.version, updated_at=row.updated_at, updated_by=row.updated_by)
    values["status"] = values.get("status") or SiteStatus.ACTIVE
    return values


def row_to_site(loc: sqlite3.Row, location: BaseGeometry, boundary: BaseGeometry | None,
                 layers: Layers = SITES) -> SiteRow:
    attributes = {k: loc[k] for k in layers.attributes}
    for key in layers.list_columns:
        attributes[key] = [g.strip() for g in (loc[key] or "").split(",") if g.strip()]
    for key in layers.json_columns:
        attributes[key] = json.loads(loc[key]) if loc[key] else []
    return SiteRow(code=loc["code"], attributes=attributes, location=location, boundary=boundary,
                   version=loc["version"], updated_at=loc["updated_at"], updated_by=loc["updated_by"])


def _select(layers: Layers) -> str:
    return (f"SELECT l.*, b.geom AS boundary_geom FROM {layers.primary} l "
            f"LEFT JOIN {layers.boundaries} b ON b.code = l.code")


SELECT_SITE = _select(SITES)


# Sites the public may see at all (public_view decides how much of them): hidden and retired ones are left out in SQL,
# before anything of them is read or decoded, so an anonymous query costs the same whatever hidden sites lie near.
PUBLIC_ONLY = (f"l.sensitivity IN ('{Sensitivity.OPEN}', '{Sensitivity.GENERALIZED}') "
                f"AND l.status = '{SiteStatus.ACTIVE}'")


def get_site_row(conn: sqlite3.Connection, code: str, *, public_only: bool = False,
                 layers: Layers = SITES) -> SiteRow | None:
    loc = conn.execute(_select(layers) + " WHERE l.code = ?" + (f" AND {PUBLIC_ONLY}" if public_only else "")
                       + for_update(conn, "l"), (code,)).fetchone()
    if loc is None:
        return None
    return row_to_site(loc, decode_geometry(loc["geom"]), decode_geometry(loc["boundary_geom"]), layers)


def site_version_number(conn: sqlite3.Connection, code: str, layers: Layers = SITES) -> int | None:
    row = conn.execute(f"SELECT version FROM {layers.primary} WHERE code = ?" + for_update(conn), (code,)).fetchone()
    return None if row is None else row[0]


def list_site_rows(conn: sqlite3.Connection, *, bbox: tuple[float, float, float, float] | None = None,
                   include_retired: bool = False, public_only: bool = False, layers: Layers = SITES,
                   after: str | None = None, limit: int | None = None) -> list[SiteRow]:
    """Current features in code order, optionally those whose main geometry's envelope meets bbox (min_lon, min_lat,
    max_lon, max_lat), via the R-tree; ``public_only``: only those the public may see (see PUBLIC_ONLY); ``after`` and
    ``limit``: the next ``limit`` past the code ``after`` (a registry read in batches)."""
    sql, params = _select(layers), []
    where = [PUBLIC_ONLY] if public_only else []
    if bbox is not None:
        hit, hit_params = backend(conn).meets(layers.primary, "l", bbox)
        where.append(hit)
        params += list(hit_params)
    if not include_retired:
        where.append(f"l.status = '{SiteStatus.ACTIVE}'")
    if after is not None:
        where.append("l.code > ?")
        params.append(after)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY l.code"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    rows = conn.execute(sql, params).fetchall()
    locations = decode_geometries([r["geom"] for r in rows])
    boundaries = decode_geometries([r["boundary_geom"] for r in rows])
    return [row_to_site(r, loc, b, layers) for r, loc, b in zip(rows, locations, boundaries)]


def boundary_codes_intersecting(conn: sqlite3.Connection, bounds: tuple[float, float, float, float],
                                layers: Layers = SITES) -> list[str]:
    """Codes of features whose boundary envelope intersects bounds (minx, miny, maxx, maxy): R-tree candidates only."""
    hit, params = backend(conn).meets(layers.boundaries, "b", bounds)
    return [r[0] for r in conn.execute(f"SELECT b.code FROM {layers.boundaries} b WHERE {hit}", params)]


def count_sites_by_level_and_sensitivity(conn: sqlite3.Connection, layers: Layers = SITES) -> list[tuple[str, str, int]]:
    return [tuple(r) for r in conn.execute(
        f"SELECT level, sensitivity, count(*) FROM {layers.primary} WHERE status = '{SiteStatus.ACTIVE}' "
        "GROUP BY level, sensitivity")]


def count_sites(conn: sqlite3.Connection, layers: Layers = SITES) -> int:
    return conn.execute(f"SELECT count(*) FROM {layers.primary}").fetchone()[0]


def next_site_code(conn: sqlite3.Connection, prefix: str = "GZ-", layers: Layers = SITES) -> str:
    if is_pg(conn):
        lock(conn, pg.HISTORY_LOCK)  # two new features at once never draw the same code
        row = conn.execute(f"SELECT max(substr(code, ?)::integer) FROM {layers.primary} WHERE code LIKE ? "
                           "AND substr(code, ?) ~ '^[0-9]+$'",
                           (len(prefix) + 1, prefix + "%", len(prefix) + 1)).fetchone()
    else:
        row = conn.execute(f"SELECT max(CAST(substr(code, ?) AS INTEGER)) FROM {layers.primary} WHERE code LIKE ?",
                           (len(prefix) + 1, prefix + "%")).fetchone()
    return f"{prefix}{(row[0] or 0) + 1:04d}"


def write_site_row(conn: sqlite3.Connection, row: SiteRow, *, area_km2: float | None, insert: bool,
                   layers: Layers = SITES, measures: dict[str, Any] | None = None) -> None:
    """Insert or update the current-state rows of one feature (call inside a transaction); ``measures``: the values
    of the layer's measure columns (figures computed from the geometry)."""
    lock(conn, pg.HISTORY_LOCK)  # PostGIS: feature writes commit in the order of their history entries
    values = _location_values(row, layers)
    values.update({k: (measures or {}).get(k) for k in layers.measures})
    values["geom"] = geometry_value(conn, row.location)
    cols = ("geom",) + layers.columns
    if insert:
        conn.execute(f"INSERT INTO {layers.primary} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})",
                     values)
    else:
        sets = ", ".join(f"{c} = :{c}" for c in cols if c != "code")
        if conn.execute(f"UPDATE {layers.primary} SET {sets} WHERE code = :code", values).rowcount != 1:
            raise LookupError(row.code)
    if row.boundary is None:
        conn.execute(f"DELETE FROM {layers.boundaries} WHERE code = ?", (row.code,))
    else:
        b = {k: values.get(k) for k in layers.boundary_columns}
        b.update(geom=geometry_value(conn, row.boundary), area_km2=area_km2)
        bcols = ("geom",) + layers.boundary_columns
        updated = conn.execute(f"UPDATE {layers.boundaries} SET {', '.join(f'{c} = :{c}' for c in bcols if c != 'code')}"
                               " WHERE code = :code", b)
        if updated.rowcount == 0:
            conn.execute(f"INSERT INTO {layers.boundaries} ({', '.join(bcols)}) VALUES "
                         f"({', '.join(':' + c for c in bcols)})", b)
    touch_contents(conn, layers.primary, row.location, row.updated_at)
    touch_contents(conn, layers.boundaries, row.boundary, row.updated_at)


def touch_contents(conn: sqlite3.Connection, table: str, geom: BaseGeometry | None, when: str) -> None:
    """Keep gpkg_contents' last_change and extent current. The extent only grows (as GDAL does): recomputing it
    exactly would read every row, making one update O(n). PostGIS has no gpkg_contents: a statement trigger stamps
    layer_changes there (store/pg_schema.py)."""
    if is_pg(conn):
        return
    if geom is None or geom.is_empty:
        conn.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (when, table))
        return
    minx, miny, maxx, maxy = geom.bounds
    conn.execute(
        "UPDATE gpkg_contents SET last_change = ?, min_x = min(coalesce(min_x, ?), ?), min_y = min(coalesce(min_y, ?), ?),"
        " max_x = max(coalesce(max_x, ?), ?), max_y = max(coalesce(max_y, ?), ?) WHERE table_name = ?",
        (when, minx, minx, miny, miny, maxx, maxx, maxy, maxy, table))


# --------------------------------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class VersionRow:
    code: str
    version: int
    operation: str
    created_at: str
    author: str
    reviewer: str | None
    reason: str
    properties: dict[str, Any]
    location: BaseGeometry
    boundary: BaseGeometry | None
    revision_id: int | None


def append_version(conn: sqlite3.Connection, v: VersionRow, layers: Layers = SITES) -> None:
    """Append one history entry. PostGIS: under HISTORY_LOCK, held to commit, so entries are numbered (fid) in the
    order their transactions commit and "registry version N" (impact.registry_version) names a state that existed."""
    lock(conn, pg.HISTORY_LOCK)
    conn.execute(
        f"INSERT INTO {layers.versions} (code, version, operation, created_at, author, reviewer, reason, properties, location,"
        " boundary, revision_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (v.code, v.version, v.operation, v.created_at, v.author, v.reviewer, v.reason,
         json.dumps(v.properties, ensure_ascii=False, sort_keys=True), geometry_value(conn, v.location),
         geometry_value(conn, v.boundary), v.revision_id))


def _version_from(r: sqlite3.Row) -> VersionRow:
    return VersionRow(code=r["code"], version=r["version"], operation=r["operation"], created_at=r["created_at"],
                      author=r["author"], reviewer=r["reviewer"], reason=r["reason"],
                      properties=json.loads(r["properties"]), location=decode_geometry(r["location"]),
                      boundary=decode_geometry(r["boundary"]), revision_id=r["revision_id"])


def get_version(conn: sqlite3.Connection, code: str, version: int, layers: Layers = SITES) -> VersionRow | None:
    r = conn.execute(f"SELECT * FROM {layers.versions} WHERE code = ? AND version = ?", (code, version)).fetchone()
    return None if r is None else _version_from(r)


def get_version_as_of(conn: sqlite3.Connection, code: str, timestamp: str, layers: Layers = SITES) -> VersionRow | None:
    r = conn.execute(f"SELECT * FROM {layers.versions} WHERE code = ? AND created_at <= ? ORDER BY version DESC "
                     "LIMIT 1", (code, timestamp)).fetchone()
    return None if r is None else _version_from(r)


def versions_as_of(conn: sqlite3.Connection, timestamp: str, layers: Layers = SITES) -> list[VersionRow]:
    """Every feature's version that was current at ``timestamp`` (those created later are left out), by code."""
    rows = conn.execute(
        f"SELECT v.* FROM {layers.versions} v JOIN (SELECT code, max(version) AS version FROM {layers.versions} "
        "WHERE created_at <= ? GROUP BY code) m ON m.code = v.code AND m.version = v.version ORDER BY v.code",
        (timestamp,)).fetchall()
    return [_version_from(r) for r in rows]


def list_versions(conn: sqlite3.Connection, code: str, layers: Layers = SITES) -> list[VersionRow]:
    return [_version_from(r) for r in
            conn.execute(f"SELECT * FROM {layers.versions} WHERE code = ? ORDER BY version", (code,))]


def site_first_created(conn: sqlite3.Connection, code: str, layers: Layers = SITES) -> str | None:
    r = conn.execute(f"SELECT created_at FROM {layers.versions} WHERE code = ? ORDER BY version LIMIT 1",
                     (code,)).fetchone()
    return None if r is None else r[0]
