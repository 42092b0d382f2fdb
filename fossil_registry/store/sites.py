"""The sites: their current state in the ``site_locations`` (Point) and ``site_boundaries`` (MultiPolygon) layers, and
their append-only history in ``site_versions`` (one full snapshot per version). Both layers are in EPSG:4490 with the
GeoPackage R-tree spatial index, so that any GIS opens the file and sees today's registry. The tables themselves are
created by store/schema.py (they are the core of the GeoPackage).
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry

from . import pg
from .dialect import for_update, geometry_value, is_pg, lock
from .gpkg import decode_geometries, decode_geometry

LOCATIONS = "site_locations"
BOUNDARIES = "site_boundaries"
VERSIONS = "site_versions"

# Columns of the current-state layers besides fid/geom; the order is the layer's column order.
LOCATION_COLUMNS = (
    "code", "name", "name_en", "county", "county_en", "level", "period", "age", "formation", "fossil_groups",
    "sensitivity", "description", "description_en", "established", "status", "version", "updated_at", "updated_by",
)
BOUNDARY_COLUMNS = ("code", "name", "name_en", "level", "sensitivity", "status", "area_km2", "version", "updated_at")


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


def _location_values(row: SiteRow) -> dict[str, Any]:
    values = {k: row.attributes.get(k) for k in LOCATION_COLUMNS}
    groups = values.get("fossil_groups")
    if isinstance(groups, (list, tuple)):
        values["fossil_groups"] = ", ".join(groups)
    values.update(code=row.code, version=row.version, updated_at=row.updated_at, updated_by=row.updated_by)
    values["status"] = values.get("status") or "active"
    return values


_ATTRIBUTE_COLUMNS = tuple(k for k in LOCATION_COLUMNS if k not in ("code", "version", "updated_at", "updated_by"))


def _row_to_site(loc: sqlite3.Row, location: BaseGeometry, boundary: BaseGeometry | None) -> SiteRow:
    attributes = {k: loc[k] for k in _ATTRIBUTE_COLUMNS}
    attributes["fossil_groups"] = [g.strip() for g in (loc["fossil_groups"] or "").split(",") if g.strip()]
    return SiteRow(code=loc["code"], attributes=attributes, location=location, boundary=boundary,
                   version=loc["version"], updated_at=loc["updated_at"], updated_by=loc["updated_by"])


_SELECT_SITE = (f"SELECT l.*, b.geom AS boundary_geom FROM {LOCATIONS} l "
                f"LEFT JOIN {BOUNDARIES} b ON b.code = l.code")


# Sites the public may see at all (public_view decides how much of them): hidden and retired ones are left out in SQL,
# before anything of them is read or decoded, so an anonymous query costs the same whatever hidden sites lie near.
_PUBLIC_ONLY = "l.sensitivity IN ('open', 'generalized') AND l.status = 'active'"


def get_site_row(conn: sqlite3.Connection, code: str, *, public_only: bool = False) -> SiteRow | None:
    loc = conn.execute(_SELECT_SITE + " WHERE l.code = ?" + (f" AND {_PUBLIC_ONLY}" if public_only else "")
                       + for_update(conn, "l"), (code,)).fetchone()
    if loc is None:
        return None
    return _row_to_site(loc, decode_geometry(loc["geom"]), decode_geometry(loc["boundary_geom"]))


def site_version_number(conn: sqlite3.Connection, code: str) -> int | None:
    row = conn.execute(f"SELECT version FROM {LOCATIONS} WHERE code = ?" + for_update(conn), (code,)).fetchone()
    return None if row is None else row[0]


def list_site_rows(conn: sqlite3.Connection, *, bbox: tuple[float, float, float, float] | None = None,
                   include_retired: bool = False, public_only: bool = False) -> list[SiteRow]:
    """Current sites, optionally those whose location falls in bbox (min_lon, min_lat, max_lon, max_lat), via the R-tree;
    ``public_only``: only open and generalized active sites (see _PUBLIC_ONLY)."""
    sql, params = _SELECT_SITE, []
    where = [_PUBLIC_ONLY] if public_only else []
    if bbox is not None and is_pg(conn):
        where.append(f"l.geom && ST_MakeEnvelope(?, ?, ?, ?, {pg.SRS_ID})")
        params += list(bbox)
    elif bbox is not None:
        where.append(f"l.fid IN (SELECT id FROM rtree_{LOCATIONS}_geom WHERE minx <= ? AND maxx >= ? "
                     "AND miny <= ? AND maxy >= ?)")
        params += [bbox[2], bbox[0], bbox[3], bbox[1]]
    if not include_retired:
        where.append("l.status = 'active'")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY l.code"
    rows = conn.execute(sql, params).fetchall()
    locations = decode_geometries([r["geom"] for r in rows])
    boundaries = decode_geometries([r["boundary_geom"] for r in rows])
    return [_row_to_site(r, loc, b) for r, loc, b in zip(rows, locations, boundaries)]


def boundary_codes_intersecting(conn: sqlite3.Connection, bounds: tuple[float, float, float, float]) -> list[str]:
    """Codes of sites whose boundary envelope intersects bounds (minx, miny, maxx, maxy): R-tree candidates only."""
    if is_pg(conn):
        rows = conn.execute(f"SELECT code FROM {BOUNDARIES} WHERE geom && ST_MakeEnvelope(?, ?, ?, ?, {pg.SRS_ID})",
                            tuple(bounds)).fetchall()
    else:
        rows = conn.execute(
            f"SELECT b.code FROM {BOUNDARIES} b JOIN rtree_{BOUNDARIES}_geom r ON r.id = b.fid "
            "WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?",
            (bounds[2], bounds[0], bounds[3], bounds[1])).fetchall()
    return [r[0] for r in rows]


def count_sites_by_level_and_sensitivity(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    return [tuple(r) for r in conn.execute(
        f"SELECT level, sensitivity, count(*) FROM {LOCATIONS} WHERE status = 'active' GROUP BY level, sensitivity")]


def count_sites(conn: sqlite3.Connection) -> int:
    return conn.execute(f"SELECT count(*) FROM {LOCATIONS}").fetchone()[0]


def next_site_code(conn: sqlite3.Connection, prefix: str = "GZ-") -> str:
    if is_pg(conn):
        lock(conn, pg.HISTORY_LOCK)  # two new sites at once never draw the same code
        row = conn.execute(f"SELECT max(substr(code, ?)::integer) FROM {LOCATIONS} WHERE code LIKE ? "
                           "AND substr(code, ?) ~ '^[0-9]+$'",
                           (len(prefix) + 1, prefix + "%", len(prefix) + 1)).fetchone()
    else:
        row = conn.execute(f"SELECT max(CAST(substr(code, ?) AS INTEGER)) FROM {LOCATIONS} WHERE code LIKE ?",
                           (len(prefix) + 1, prefix + "%")).fetchone()
    return f"{prefix}{(row[0] or 0) + 1:04d}"


def write_site_row(conn: sqlite3.Connection, row: SiteRow, *, area_km2: float | None, insert: bool) -> None:
    """Insert or update the current-state rows of one site (call inside a transaction)."""
    lock(conn, pg.HISTORY_LOCK)  # PostGIS: site writes commit in the order of their history entries
    values = _location_values(row)
    values["geom"] = geometry_value(conn, row.location)
    cols = ("geom",) + LOCATION_COLUMNS
    if insert:
        conn.execute(f"INSERT INTO {LOCATIONS} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})", values)
    else:
        sets = ", ".join(f"{c} = :{c}" for c in cols if c != "code")
        if conn.execute(f"UPDATE {LOCATIONS} SET {sets} WHERE code = :code", values).rowcount != 1:
            raise LookupError(row.code)
    if row.boundary is None:
        conn.execute(f"DELETE FROM {BOUNDARIES} WHERE code = ?", (row.code,))
    else:
        b = {k: values.get(k) for k in BOUNDARY_COLUMNS}
        b.update(geom=geometry_value(conn, row.boundary), area_km2=area_km2)
        bcols = ("geom",) + BOUNDARY_COLUMNS
        updated = conn.execute(
            f"UPDATE {BOUNDARIES} SET {', '.join(f'{c} = :{c}' for c in bcols if c != 'code')} WHERE code = :code", b)
        if updated.rowcount == 0:
            conn.execute(f"INSERT INTO {BOUNDARIES} ({', '.join(bcols)}) VALUES ({', '.join(':' + c for c in bcols)})", b)
    _touch_contents(conn, LOCATIONS, row.location, row.updated_at)
    _touch_contents(conn, BOUNDARIES, row.boundary, row.updated_at)


def _touch_contents(conn: sqlite3.Connection, table: str, geom: BaseGeometry | None, when: str) -> None:
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


def append_version(conn: sqlite3.Connection, v: VersionRow) -> None:
    """Append one history entry. PostGIS: under HISTORY_LOCK, held to commit, so entries are numbered (fid) in the
    order their transactions commit and "registry version N" (impact.registry_version) names a state that existed."""
    lock(conn, pg.HISTORY_LOCK)
    conn.execute(
        f"INSERT INTO {VERSIONS} (code, version, operation, created_at, author, reviewer, reason, properties, location,"
        " boundary, revision_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (v.code, v.version, v.operation, v.created_at, v.author, v.reviewer, v.reason,
         json.dumps(v.properties, ensure_ascii=False, sort_keys=True), geometry_value(conn, v.location),
         geometry_value(conn, v.boundary), v.revision_id))


def _version_from(r: sqlite3.Row) -> VersionRow:
    return VersionRow(code=r["code"], version=r["version"], operation=r["operation"], created_at=r["created_at"],
                      author=r["author"], reviewer=r["reviewer"], reason=r["reason"],
                      properties=json.loads(r["properties"]), location=decode_geometry(r["location"]),
                      boundary=decode_geometry(r["boundary"]), revision_id=r["revision_id"])


def get_version(conn: sqlite3.Connection, code: str, version: int) -> VersionRow | None:
    r = conn.execute(f"SELECT * FROM {VERSIONS} WHERE code = ? AND version = ?", (code, version)).fetchone()
    return None if r is None else _version_from(r)


def get_version_as_of(conn: sqlite3.Connection, code: str, timestamp: str) -> VersionRow | None:
    r = conn.execute(f"SELECT * FROM {VERSIONS} WHERE code = ? AND created_at <= ? ORDER BY version DESC LIMIT 1",
                     (code, timestamp)).fetchone()
    return None if r is None else _version_from(r)


def versions_as_of(conn: sqlite3.Connection, timestamp: str) -> list[VersionRow]:
    """Every site's version that was current at ``timestamp`` (sites created later are left out), by code."""
    rows = conn.execute(
        f"SELECT v.* FROM {VERSIONS} v JOIN (SELECT code, max(version) AS version FROM {VERSIONS} "
        "WHERE created_at <= ? GROUP BY code) m ON m.code = v.code AND m.version = v.version ORDER BY v.code",
        (timestamp,)).fetchall()
    return [_version_from(r) for r in rows]


def list_versions(conn: sqlite3.Connection, code: str) -> list[VersionRow]:
    return [_version_from(r) for r in
            conn.execute(f"SELECT * FROM {VERSIONS} WHERE code = ? ORDER BY version", (code,))]


def site_first_created(conn: sqlite3.Connection, code: str) -> str | None:
    r = conn.execute(f"SELECT created_at FROM {VERSIONS} WHERE code = ? ORDER BY version LIMIT 1", (code,)).fetchone()
    return None if r is None else r[0]
