"""The GeoPackage store: the one module that owns the SQLite connection and all SQL.

The registry is one GeoPackage 1.4 file (``<data dir>/sites/registry.gpkg``):

* ``site_locations`` (Point) and ``site_boundaries`` (MultiPolygon) hold each site's *current* state, in EPSG:4490, with
  the GeoPackage R-tree spatial index, so that any GIS opens the file and sees today's registry;
* ``site_versions`` (attributes table) is the append-only history: one full snapshot per version;
* ``audit_log`` (attributes table) records who did what, when and from where.

Every change runs in one ``BEGIN IMMEDIATE`` transaction covering feature rows, R-tree (via the spec's triggers), history
and audit, so a change is all there or not at all. Writes encode GeoPackage geometry blobs here by hand (header + WKB
from shapely): GDAL's writers rewrite whole layers and are not transactional with our other tables.
"""
from __future__ import annotations

import json
import sqlite3
import struct
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import shapely
from shapely.geometry.base import BaseGeometry

SRS_ID = 4490
LOCATIONS = "site_locations"
BOUNDARIES = "site_boundaries"
VERSIONS = "site_versions"
AUDIT = "audit_log"
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10400  # GeoPackage 1.4.0
RTREE_EXTENSION_URL = "http://www.geopackage.org/spec120/#extension_rtree"

# Columns of the current-state layers besides fid/geom; the order is the layer's column order.
LOCATION_COLUMNS = (
    "code", "name", "name_en", "county", "county_en", "level", "period", "age", "formation", "fossil_groups",
    "sensitivity", "description", "description_en", "established", "status", "version", "updated_at", "updated_by",
)
BOUNDARY_COLUMNS = ("code", "name", "name_en", "level", "sensitivity", "status", "area_km2", "version", "updated_at")


def utc_now() -> str:
    """ISO-8601 UTC timestamp in GeoPackage DATETIME form (milliseconds); fixed width, so string order is time order."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------------------------------
# GeoPackage geometry blobs (spec clause 2.1.3): "GP", version, flags, srs_id, optional envelope, then ISO WKB.
# --------------------------------------------------------------------------------------------------------------------
_ENVELOPE_SIZES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode_geometry(geom: BaseGeometry | None, srs_id: int = SRS_ID) -> bytes | None:
    if geom is None:
        return None
    if geom.is_empty:
        flags = 0b0001_0001  # empty, no envelope, little endian
        return b"GP\x00" + bytes([flags]) + struct.pack("<i", srs_id) + shapely.to_wkb(geom, byte_order=1, flavor="iso")
    wkb = shapely.to_wkb(geom, byte_order=1, flavor="iso", output_dimension=2)
    if geom.geom_type == "Point":  # a point's envelope is the point itself; GDAL omits it too
        return b"GP\x00\x01" + struct.pack("<i", srs_id) + wkb
    minx, miny, maxx, maxy = geom.bounds
    return b"GP\x00\x03" + struct.pack("<i4d", srs_id, minx, maxx, miny, maxy) + wkb


def _header(blob: bytes) -> tuple[int, bool, int]:
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    envelope = (flags >> 1) & 0b111
    if envelope not in _ENVELOPE_SIZES:
        raise ValueError("invalid envelope indicator in GeoPackage geometry blob")
    return flags, bool(flags & 0b1_0000), envelope


def decode_geometry(blob: bytes | None) -> BaseGeometry | None:
    if blob is None:
        return None
    _, _, envelope = _header(blob)
    return shapely.from_wkb(bytes(blob[8 + _ENVELOPE_SIZES[envelope]:]))


def decode_geometries(blobs: list[bytes | None]) -> list[BaseGeometry | None]:
    """Many blobs at once: one vectorised shapely call instead of one per row (listing 10,000 sites twice as fast)."""
    wkbs = [None if b is None else bytes(b[8 + _ENVELOPE_SIZES[_header(b)[2]]:]) for b in blobs]
    return list(shapely.from_wkb(wkbs)) if wkbs else []


def blob_bounds(blob: bytes) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) from the header envelope when present, else from the WKB; None if empty."""
    flags, empty, envelope = _header(blob)
    if empty:
        return None
    if envelope:
        order = "<" if flags & 1 else ">"
        return struct.unpack(order + "4d", blob[8:40])
    geom = decode_geometry(blob)
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


def _st(index: int):
    def fn(blob):
        if blob is None:
            return None
        bounds = blob_bounds(blob)
        return None if bounds is None else bounds[index]
    return fn


def _st_is_empty(blob):
    if blob is None:
        return None
    return int(_header(blob)[1])


# --------------------------------------------------------------------------------------------------------------------
# Connections and transactions
# --------------------------------------------------------------------------------------------------------------------
def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the ST_* functions the R-tree triggers call, WAL mode and a busy timeout.

    ``isolation_level=None``: we issue BEGIN IMMEDIATE ourselves, so the lock is taken before the first read of a write.
    """
    if readonly:
        conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, isolation_level=None,
                               check_same_thread=False, timeout=30)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; WAL keeps it consistent
    _register_functions(conn)
    return conn


def _register_functions(conn: sqlite3.Connection) -> None:
    """The ST_* functions the GeoPackage R-tree triggers call."""
    for name, fn in (("ST_MinX", _st(0)), ("ST_MaxX", _st(1)), ("ST_MinY", _st(2)), ("ST_MaxY", _st(3))):
        conn.create_function(name, 1, fn, deterministic=True)
    conn.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: all statements inside commit together or roll back together.

    Nested use (a domain step composed into a larger change, e.g. a review decision that applies a site version) becomes
    a SAVEPOINT inside the outer transaction, so the whole still commits once."""
    if conn.in_transaction:
        conn.execute("SAVEPOINT nested")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK TO nested")
            conn.execute("RELEASE nested")
            raise
        else:
            conn.execute("RELEASE nested")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


# --------------------------------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------------------------------
_CORE_DDL = """
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
  definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));

CREATE TABLE site_locations (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT NOT NULL,
  code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, name_en TEXT, county TEXT, county_en TEXT,
  level TEXT NOT NULL CHECK (level IN ('national','provincial','general')),
  period TEXT, age TEXT, formation TEXT, fossil_groups TEXT,
  sensitivity TEXT NOT NULL CHECK (sensitivity IN ('open','generalized','hidden')),
  description TEXT, description_en TEXT, established DATE,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','retired')),
  version INTEGER NOT NULL CHECK (version >= 1), updated_at DATETIME NOT NULL, updated_by TEXT NOT NULL);
CREATE TABLE site_boundaries (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL,
  code TEXT NOT NULL UNIQUE REFERENCES site_locations(code), name TEXT, name_en TEXT, level TEXT, sensitivity TEXT,
  status TEXT, area_km2 REAL, version INTEGER NOT NULL, updated_at DATETIME NOT NULL);

CREATE TABLE site_versions (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, code TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1), operation TEXT NOT NULL, created_at DATETIME NOT NULL,
  author TEXT NOT NULL, reviewer TEXT, reason TEXT NOT NULL, properties TEXT NOT NULL,
  location BLOB NOT NULL, boundary BLOB, revision_id INTEGER, UNIQUE (code, version));
CREATE INDEX site_versions_code_time ON site_versions (code, created_at);
CREATE TRIGGER site_versions_append_only_update BEFORE UPDATE ON site_versions
  BEGIN SELECT RAISE(ABORT, 'site history is append-only'); END;
CREATE TRIGGER site_versions_append_only_delete BEFORE DELETE ON site_versions
  BEGIN SELECT RAISE(ABORT, 'site history is append-only'); END;

CREATE TABLE audit_log (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, at DATETIME NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT, detail TEXT, remote_addr TEXT);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

CREATE TABLE registry_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_RTREE_DDL = """
CREATE VIRTUAL TABLE "rtree_{t}_geom" USING rtree(id, minx, maxx, miny, maxy);
CREATE TRIGGER "rtree_{t}_geom_insert" AFTER INSERT ON "{t}" WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom),
  ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER "rtree_{t}_geom_update6" AFTER UPDATE OF geom ON "{t}" WHEN OLD.fid = NEW.fid AND
  (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom NOTNULL AND NOT ST_IsEmpty(OLD.geom))
BEGIN UPDATE "rtree_{t}_geom" SET minx = ST_MinX(NEW.geom), maxx = ST_MaxX(NEW.geom), miny = ST_MinY(NEW.geom),
  maxy = ST_MaxY(NEW.geom) WHERE id = NEW.fid; END;
CREATE TRIGGER "rtree_{t}_geom_update7" AFTER UPDATE OF geom ON "{t}" WHEN OLD.fid = NEW.fid AND
  (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom ISNULL OR ST_IsEmpty(OLD.geom))
BEGIN INSERT INTO "rtree_{t}_geom" VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom),
  ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER "rtree_{t}_geom_update2" AFTER UPDATE OF geom ON "{t}" WHEN OLD.fid = NEW.fid AND
  (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; END;
CREATE TRIGGER "rtree_{t}_geom_update5" AFTER UPDATE ON "{t}" WHEN OLD.fid != NEW.fid AND
  (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES (NEW.fid,
  ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER "rtree_{t}_geom_update4" AFTER UPDATE ON "{t}" WHEN OLD.fid != NEW.fid AND
  (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id IN (OLD.fid, NEW.fid); END;
CREATE TRIGGER "rtree_{t}_geom_delete" AFTER DELETE ON "{t}" WHEN old.geom NOT NULL
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; END;
"""

_UNDEFINED_CARTESIAN = "undefined"


def _srs_rows() -> list[tuple]:
    from pyproj import CRS

    return [
        ("Undefined Cartesian SRS", -1, "NONE", -1, _UNDEFINED_CARTESIAN, "undefined Cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, _UNDEFINED_CARTESIAN, "undefined geographic coordinate reference system"),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS.from_epsg(4326).to_wkt("WKT1_GDAL"),
         "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
        ("China Geodetic Coordinate System 2000", SRS_ID, "EPSG", SRS_ID, CRS.from_epsg(SRS_ID).to_wkt("WKT1_GDAL"),
         "CGCS2000 geographic, longitude/latitude in decimal degrees"),
    ]


def create_registry(path: str | Path, *, description: str = "Fossil site registry") -> None:
    """Create an empty registry GeoPackage at ``path`` (which must not exist)."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
        with transaction(conn):
            for statement in _split_sql(_CORE_DDL):
                conn.execute(statement)
            conn.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", _srs_rows())
            now = utc_now()
            contents = [
                (LOCATIONS, "features", "Fossil site locations", f"{description}: site locations (current)", SRS_ID),
                (BOUNDARIES, "features", "Fossil site protection boundaries",
                 f"{description}: protection boundaries (current)", SRS_ID),
                (VERSIONS, "attributes", "Fossil site version history", "Append-only snapshots of every site version", None),
                (AUDIT, "attributes", "Registry audit trail", "Who changed what, when and from where", None),
            ]
            conn.executemany(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id)"
                " VALUES (?,?,?,?,?,?)", [(t, d, i, desc, now, s) for t, d, i, desc, s in contents])
            conn.executemany("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
                             [(LOCATIONS, "POINT", SRS_ID), (BOUNDARIES, "MULTIPOLYGON", SRS_ID)])
            for table in (LOCATIONS, BOUNDARIES):
                for statement in _split_sql(_RTREE_DDL.format(t=table)):
                    conn.execute(statement)
                conn.execute("INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', ?, 'write-only')",
                             (table, RTREE_EXTENSION_URL))
            conn.execute("INSERT INTO registry_meta VALUES ('schema_version', '1')")
        migrate(conn)
    finally:
        conn.close()


# Later schema steps, applied in order to new and existing registries, each once and in one transaction. Each feature
# keeps its tables and SQL in its own submodule of this package (store/revisions.py, store/inspections.py...) and lists
# its DDL here by name. Tables not registered in gpkg_contents are private to the app; PRIVATE_TABLES are also dropped
# from exports (accounts, tokens, reporters' contact data).
ACCOUNTS_DDL = """
CREATE TABLE users (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name TEXT, role TEXT NOT NULL CHECK (role IN ('field','expert','admin')), password_hash TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)), session_epoch INTEGER NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL);
CREATE TRIGGER users_are_never_deleted BEFORE DELETE ON users
  BEGIN SELECT RAISE(ABORT, 'accounts are disabled, never deleted: history keeps its authors'); END;
CREATE TABLE api_tokens (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, user_id INTEGER NOT NULL REFERENCES users(fid),
  token_hash TEXT NOT NULL UNIQUE, label TEXT, created_at DATETIME NOT NULL, expires_at DATETIME,
  revoked_at DATETIME, last_used_at DATETIME);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
"""
# Sign-in sessions (ended server-side at sign-out) and failed sign-ins (for the back-off): private, like accounts.
SESSIONS_DDL = """
CREATE TABLE user_sessions (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  user_id INTEGER NOT NULL REFERENCES users(fid), epoch INTEGER NOT NULL, created_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL, ended_at DATETIME, remote_addr TEXT);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE TABLE login_failures (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, at DATETIME NOT NULL,
  account TEXT NOT NULL, remote_addr TEXT NOT NULL);
CREATE INDEX login_failures_account ON login_failures (account, at);
CREATE INDEX login_failures_address ON login_failures (remote_addr, at);
CREATE INDEX login_failures_at ON login_failures (at);
"""
PRIVATE_TABLES: tuple[str, ...] = ("users", "api_tokens", "user_sessions", "login_failures")


def _migrations() -> list[tuple[str, str]]:
    """(name, DDL) in the order they apply. Feature modules are imported here, late, to keep them out of the core."""
    steps = [("accounts", ACCOUNTS_DDL), ("sessions", SESSIONS_DDL)]
    from importlib import import_module
    for feature in ("revisions", "inspections"):
        try:
            module = import_module(f"{__name__}.{feature}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{feature}":
                raise
            continue
        steps.append((feature, module.DDL))
    return steps


def private_tables() -> tuple[str, ...]:
    from importlib import import_module
    extra: tuple[str, ...] = ()
    for feature in ("revisions", "inspections"):
        try:
            extra += tuple(getattr(import_module(f"{__name__}.{feature}"), "PRIVATE_TABLES", ()))
        except ModuleNotFoundError:
            pass
    return PRIVATE_TABLES + extra


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Bring the registry's schema up to date; returns the names of the steps applied now."""
    applied_now = []
    with transaction(conn):
        conn.execute("CREATE TABLE IF NOT EXISTS registry_migrations (name TEXT PRIMARY KEY, applied_at DATETIME NOT NULL)")
        done = {r[0] for r in conn.execute("SELECT name FROM registry_migrations")}
        for name, script in _migrations():
            if name in done or not script.strip():
                continue
            for statement in _split_sql(script):
                conn.execute(statement)
            conn.execute("INSERT INTO registry_migrations VALUES (?, ?)", (name, utc_now()))
            applied_now.append(name)
    return applied_now


def _split_sql(script: str) -> list[str]:
    """Split a DDL script on statement ends (triggers contain ';' inside BEGIN...END)."""
    statements, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        joined = "\n".join(buf).strip()
        if joined.endswith(";") and sqlite3.complete_statement(joined):
            statements.append(joined)
            buf = []
    if "".join(buf).strip():
        raise ValueError("incomplete SQL statement in schema")
    return statements


def is_registry(path: str | Path) -> bool:
    path = Path(path)
    if not path.is_file():
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'site_versions'").fetchone()
        return row is not None
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


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
    loc = conn.execute(_SELECT_SITE + " WHERE l.code = ?" + (f" AND {_PUBLIC_ONLY}" if public_only else ""),
                       (code,)).fetchone()
    if loc is None:
        return None
    return _row_to_site(loc, decode_geometry(loc["geom"]), decode_geometry(loc["boundary_geom"]))


def site_version_number(conn: sqlite3.Connection, code: str) -> int | None:
    row = conn.execute(f"SELECT version FROM {LOCATIONS} WHERE code = ?", (code,)).fetchone()
    return None if row is None else row[0]


def list_site_rows(conn: sqlite3.Connection, *, bbox: tuple[float, float, float, float] | None = None,
                   include_retired: bool = False, public_only: bool = False) -> list[SiteRow]:
    """Current sites, optionally those whose location falls in bbox (min_lon, min_lat, max_lon, max_lat), via the R-tree;
    ``public_only``: only open and generalized active sites (see _PUBLIC_ONLY)."""
    sql, params = _SELECT_SITE, []
    where = [_PUBLIC_ONLY] if public_only else []
    if bbox is not None:
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
    row = conn.execute(f"SELECT max(CAST(substr(code, ?) AS INTEGER)) FROM {LOCATIONS} WHERE code LIKE ?",
                       (len(prefix) + 1, prefix + "%")).fetchone()
    return f"{prefix}{(row[0] or 0) + 1:04d}"


def write_site_row(conn: sqlite3.Connection, row: SiteRow, *, area_km2: float | None, insert: bool) -> None:
    """Insert or update the current-state rows of one site (call inside a transaction)."""
    values = _location_values(row)
    values["geom"] = encode_geometry(row.location)
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
        b.update(geom=encode_geometry(row.boundary), area_km2=area_km2)
        bcols = ("geom",) + BOUNDARY_COLUMNS
        updated = conn.execute(
            f"UPDATE {BOUNDARIES} SET {', '.join(f'{c} = :{c}' for c in bcols if c != 'code')} WHERE code = :code", b)
        if updated.rowcount == 0:
            conn.execute(f"INSERT INTO {BOUNDARIES} ({', '.join(bcols)}) VALUES ({', '.join(':' + c for c in bcols)})", b)
    _touch_contents(conn, LOCATIONS, row.location, row.updated_at)
    _touch_contents(conn, BOUNDARIES, row.boundary, row.updated_at)


def _touch_contents(conn: sqlite3.Connection, table: str, geom: BaseGeometry | None, when: str) -> None:
    """Keep gpkg_contents' last_change and extent current. The extent only grows (as GDAL does): recomputing it
    exactly would read every row, making one update O(n)."""
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
    conn.execute(
        f"INSERT INTO {VERSIONS} (code, version, operation, created_at, author, reviewer, reason, properties, location,"
        " boundary, revision_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (v.code, v.version, v.operation, v.created_at, v.author, v.reviewer, v.reason,
         json.dumps(v.properties, ensure_ascii=False, sort_keys=True), encode_geometry(v.location),
         encode_geometry(v.boundary), v.revision_id))


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


def list_versions(conn: sqlite3.Connection, code: str) -> list[VersionRow]:
    return [_version_from(r) for r in
            conn.execute(f"SELECT * FROM {VERSIONS} WHERE code = ? ORDER BY version", (code,))]


# --------------------------------------------------------------------------------------------------------------------
# Audit trail
# --------------------------------------------------------------------------------------------------------------------
def append_audit(conn: sqlite3.Connection, *, actor: str, action: str, target: str | None = None,
                 detail: dict | None = None, remote_addr: str | None = None, at: str | None = None) -> None:
    conn.execute(f"INSERT INTO {AUDIT} (at, actor, action, target, detail, remote_addr) VALUES (?,?,?,?,?,?)",
                 (at or utc_now(), actor, action, target,
                  json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail is not None else None, remote_addr))


def list_audit(conn: sqlite3.Connection, *, actor: str | None = None, action: str | None = None,
               target: str | None = None, since: str | None = None, until: str | None = None,
               limit: int | None = 500) -> list[dict]:
    where, params = [], []
    for column, value, op in (("actor", actor, "="), ("target", target, "="), ("at", since, ">="), ("at", until, "<=")):
        if value:
            where.append(f"{column} {op} ?")
            params.append(value)
    if action:
        where.append("action LIKE ?")
        params.append(action.rstrip("*") + "%")
    sql = f"SELECT * FROM {AUDIT}" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY fid DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = []
    for r in conn.execute(sql, params):
        d = dict(r)
        d["detail"] = json.loads(d["detail"]) if d["detail"] else None
        rows.append(d)
    return rows


# --------------------------------------------------------------------------------------------------------------------
# Integrity and snapshots
# --------------------------------------------------------------------------------------------------------------------
# The R-tree stores 32-bit floats rounded outwards; allow that much slack when comparing with the true envelope.
_RTREE_SLACK = 1e-4


def check_integrity(conn: sqlite3.Connection) -> list[str]:
    """Problems found (empty list = healthy): SQLite integrity, spatial index vs geometries, history vs current state."""
    problems = []
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        problems.append(f"SQLite integrity check: {result}")
    for (fk,) in conn.execute("PRAGMA foreign_key_check").fetchall() or []:
        problems.append(f"foreign key violation in {fk}")
    for table in (LOCATIONS, BOUNDARIES):
        rtree = f"rtree_{table}_geom"
        missing = conn.execute(f"SELECT count(*) FROM {table} WHERE fid NOT IN (SELECT id FROM {rtree})").fetchone()[0]
        orphans = conn.execute(f"SELECT count(*) FROM {rtree} WHERE id NOT IN (SELECT fid FROM {table})").fetchone()[0]
        if missing:
            problems.append(f"{table}: {missing} feature(s) missing from the spatial index")
        if orphans:
            problems.append(f"{table}: {orphans} spatial index entr(y/ies) without a feature")
        bad = conn.execute(
            f"SELECT t.code FROM {table} t JOIN {rtree} r ON r.id = t.fid WHERE "
            f"r.minx > ST_MinX(t.geom) OR r.maxx < ST_MaxX(t.geom) OR r.miny > ST_MinY(t.geom) OR r.maxy < ST_MaxY(t.geom)"
            f" OR ST_MinX(t.geom) - r.minx > {_RTREE_SLACK} OR r.maxx - ST_MaxX(t.geom) > {_RTREE_SLACK}"
            f" OR ST_MinY(t.geom) - r.miny > {_RTREE_SLACK} OR r.maxy - ST_MaxY(t.geom) > {_RTREE_SLACK}").fetchall()
        for (code,) in bad:
            problems.append(f"{table}: spatial index envelope of {code} does not match its geometry")
    stale = conn.execute(
        f"SELECT l.code, l.version, (SELECT max(version) FROM {VERSIONS} v WHERE v.code = l.code) AS latest "
        f"FROM {LOCATIONS} l WHERE latest IS NULL OR latest != l.version").fetchall()
    for code, version, latest in stale:
        problems.append(f"{code}: current version {version} but latest history version {latest}")
    mismatched = conn.execute(
        f"SELECT l.code FROM {LOCATIONS} l JOIN {VERSIONS} v ON v.code = l.code AND v.version = l.version "
        f"LEFT JOIN {BOUNDARIES} b ON b.code = l.code "
        "WHERE v.location != l.geom OR coalesce(v.boundary, x'') != coalesce(b.geom, x'')").fetchall()
    for (code,) in mismatched:
        problems.append(f"{code}: current geometry differs from its latest version snapshot")
    gaps = conn.execute(
        f"SELECT code FROM {VERSIONS} GROUP BY code HAVING max(version) != count(*) OR min(version) != 1").fetchall()
    for (code,) in gaps:
        problems.append(f"{code}: version history has gaps")
    return problems


def fold_wal(conn: sqlite3.Connection) -> None:
    """Write the WAL back into the file and leave WAL mode: a single self-contained file (before renaming or shipping it)."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")


def backup_to(conn: sqlite3.Connection, dest: str | Path, *, shareable: bool) -> None:
    """Consistent snapshot with SQLite's online-backup API (safe while other connections write), as a single-file
    rollback-journal GeoPackage. ``shareable``: without the private tables (accounts, sessions, tokens, reporters'
    contacts) and with the personal data in the others removed (personal_data_scrub), then VACUUMed so that nothing
    removed survives in free pages. Otherwise everything: a full backup for restoring, as sensitive as the registry."""
    dest = Path(dest)
    if dest.exists():
        dest.unlink()
    target = sqlite3.connect(str(dest), isolation_level=None)
    try:
        _register_functions(target)
        conn.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
        if shareable:
            for table in private_tables():
                target.execute(f'DROP TABLE IF EXISTS "{table}"')
            _scrub(target, personal_data_scrub())
            target.execute("VACUUM")
    finally:
        target.close()


# Personal data kept in shared tables, removed from shareable exports: client addresses, and the user names typed at
# failed sign-ins (people type their passwords there). Feature modules add theirs (SCRUB in their store module).
SCRUB = (
    ("audit_log", "UPDATE audit_log SET remote_addr = NULL"),
    ("audit_log", "UPDATE audit_log SET target = NULL, detail = NULL WHERE action = 'account.login_failed'"),
)


def personal_data_scrub() -> tuple[tuple[str, str], ...]:
    from importlib import import_module
    extra: tuple[tuple[str, str], ...] = ()
    for feature in ("revisions", "inspections"):
        extra += tuple(getattr(import_module(f"{__name__}.{feature}"), "SCRUB", ()))
    return SCRUB + extra


def _scrub(target: sqlite3.Connection, statements) -> None:
    """Run the scrub statements on a snapshot; the append-only triggers of the tables they change are lifted for it
    and put back as they were."""
    tables = sorted({table for table, _ in statements})
    marks = ",".join("?" * len(tables))
    triggers = target.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks}) "
                              "AND name NOT LIKE 'rtree_%'", tables).fetchall()
    target.execute("BEGIN")
    for name, _ in triggers:
        target.execute(f'DROP TRIGGER "{name}"')
    for _, sql in statements:
        target.execute(sql)
    for _, sql in triggers:
        target.execute(sql)
    target.execute("COMMIT")


# --------------------------------------------------------------------------------------------------------------------
# Accounts and API tokens (private tables)
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class UserRow:
    id: int
    username: str
    display_name: str | None
    role: str
    password_hash: str
    active: bool
    session_epoch: int
    created_at: str


def _user_from(r: sqlite3.Row) -> UserRow:
    return UserRow(id=r["fid"], username=r["username"], display_name=r["display_name"], role=r["role"],
                   password_hash=r["password_hash"], active=bool(r["active"]), session_epoch=r["session_epoch"],
                   created_at=r["created_at"])


def insert_user(conn: sqlite3.Connection, *, username: str, display_name: str | None, role: str,
                password_hash: str, created_at: str) -> int:
    cur = conn.execute("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES (?,?,?,?,?)",
                       (username, display_name, role, password_hash, created_at))
    return cur.lastrowid


def get_user(conn: sqlite3.Connection, *, user_id: int | None = None, username: str | None = None) -> UserRow | None:
    if user_id is not None:
        r = conn.execute("SELECT * FROM users WHERE fid = ?", (user_id,)).fetchone()
    else:
        r = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return None if r is None else _user_from(r)


def list_users(conn: sqlite3.Connection) -> list[UserRow]:
    return [_user_from(r) for r in conn.execute("SELECT * FROM users ORDER BY username")]


_USER_FIELDS = {"display_name", "role", "password_hash", "active"}


def update_user(conn: sqlite3.Connection, user_id: int, *, bump_epoch: bool = False, **fields) -> None:
    """Change account fields; ``bump_epoch`` invalidates the account's existing sessions."""
    unknown = set(fields) - _USER_FIELDS
    if unknown:
        raise ValueError(f"unknown account field(s) {unknown}")
    sets = [f"{k} = ?" for k in fields] + (["session_epoch = session_epoch + 1"] if bump_epoch else [])
    if sets:
        conn.execute(f"UPDATE users SET {', '.join(sets)} WHERE fid = ?", (*fields.values(), user_id))


def insert_token(conn: sqlite3.Connection, *, user_id: int, token_hash: str, label: str | None, created_at: str,
                 expires_at: str | None) -> int:
    cur = conn.execute("INSERT INTO api_tokens (user_id, token_hash, label, created_at, expires_at) VALUES (?,?,?,?,?)",
                       (user_id, token_hash, label, created_at, expires_at))
    return cur.lastrowid


def find_token(conn: sqlite3.Connection, token_hash: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM api_tokens WHERE token_hash = ?", (token_hash,)).fetchone()


def list_tokens(conn: sqlite3.Connection, user_id: int) -> list[dict]:
    return [dict(r) for r in conn.execute(
        "SELECT fid, label, created_at, expires_at, revoked_at FROM api_tokens WHERE user_id = ? ORDER BY fid DESC",
        (user_id,))]


def revoke_tokens(conn: sqlite3.Connection, user_id: int, when: str, token_id: int | None = None) -> int:
    sql = "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
    params: list = [when, user_id]
    if token_id is not None:
        sql += " AND fid = ?"
        params.append(token_id)
    return conn.execute(sql, params).rowcount


def insert_session(conn: sqlite3.Connection, *, token_hash: str, user_id: int, epoch: int, created_at: str,
                   expires_at: str, remote_addr: str | None) -> None:
    conn.execute("INSERT INTO user_sessions (token_hash, user_id, epoch, created_at, expires_at, remote_addr) "
                 "VALUES (?,?,?,?,?,?)", (token_hash, user_id, epoch, created_at, expires_at, remote_addr))


def find_session(conn: sqlite3.Connection, token_hash: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM user_sessions WHERE token_hash = ?", (token_hash,)).fetchone()


def end_session(conn: sqlite3.Connection, token_hash: str, when: str) -> bool:
    return conn.execute("UPDATE user_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                        (when, token_hash)).rowcount == 1


def end_sessions_of(conn: sqlite3.Connection, user_id: int, when: str) -> int:
    return conn.execute("UPDATE user_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                        (when, user_id)).rowcount


def insert_login_failure(conn: sqlite3.Connection, *, at: str, account: str, remote_addr: str,
                         forget_before: str) -> None:
    conn.execute("DELETE FROM login_failures WHERE at < ?", (forget_before,))
    conn.execute("INSERT INTO login_failures (at, account, remote_addr) VALUES (?,?,?)", (at, account, remote_addr))


def login_failures_since(conn: sqlite3.Connection, since: str, *, account: str | None = None,
                         remote_addr: str | None = None) -> tuple[int, str | None]:
    """(number of failed sign-ins since ``since``, time of the latest) for an account, an address, or both."""
    where, params = ["at >= ?"], [since]
    if account is not None:
        where.append("account = ?")
        params.append(account)
    if remote_addr is not None:
        where.append("remote_addr = ?")
        params.append(remote_addr)
    row = conn.execute(f"SELECT count(*), max(at) FROM login_failures WHERE {' AND '.join(where)}", params).fetchone()
    return row[0], row[1]


def clear_login_failures(conn: sqlite3.Connection, account: str, remote_addr: str) -> None:
    conn.execute("DELETE FROM login_failures WHERE account = ? AND remote_addr = ?", (account, remote_addr))
