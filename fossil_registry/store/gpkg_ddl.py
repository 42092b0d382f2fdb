"""The GeoPackage's own tables and SQL (GeoPackage 1.4 for the registry, 1.2 for files that leave it): the tables
every GeoPackage has, its spatial reference systems, how a layer is registered (gpkg_contents, gpkg_geometry_columns,
the R-tree spatial index and its triggers, as each version has them; gpkg_extensions), and the rewrite of a table's definition for the constraint changes ALTER TABLE cannot make. Used by
the GeoPackage backend (store/dialect.py) for the registry's tables and by store/kitfile.py for a field kit's file.
"""
from __future__ import annotations

import sqlite3

from .gpkg import SRS_ID, split_sql

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10400  # GeoPackage 1.4.0: the registry's own store (its R-tree triggers are 1.4's, docs/downloads.md)
# Files that leave the registry (downloads, field kits, exports, impact reports) are the oldest GeoPackage that carries
# what they need, 1.2: GDAL 3.6 and QGIS 3.22 (Debian 12, what many offices run) open it without a warning, as they do
# not 1.4 ("may only be partially supported"). It differs here only in the R-tree's update triggers.
GPKG_EXCHANGE_USER_VERSION = 10200
GPKG_EXCHANGE_VERSION = "1.2"  # ... as GDAL's VERSION creation option names it
RTREE_EXTENSION_URL = "http://www.geopackage.org/spec120/#extension_rtree"

# The tables every GeoPackage has (also written into field kits, store/kitfile.py).
GPKG_BASE_DDL = """
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
"""

RTREE_DDL = """
CREATE VIRTUAL TABLE "rtree_{t}_geom" USING rtree(id, minx, maxx, miny, maxy);
CREATE TRIGGER "rtree_{t}_geom_insert" AFTER INSERT ON "{t}" WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom),
  ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER "rtree_{t}_geom_update2" AFTER UPDATE OF geom ON "{t}" WHEN OLD.fid = NEW.fid AND
  (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; END;
CREATE TRIGGER "rtree_{t}_geom_update4" AFTER UPDATE ON "{t}" WHEN OLD.fid != NEW.fid AND
  (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id IN (OLD.fid, NEW.fid); END;
CREATE TRIGGER "rtree_{t}_geom_delete" AFTER DELETE ON "{t}" WHEN old.geom NOT NULL
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; END;
"""
# The update triggers that differ by version. 1.4 replaced 1.2's update1 (INSERT OR REPLACE, which breaks UPSERTs on
# the table) by update6 and update7, and renamed update3 to update5; GDAL writes the same sets for each version.
_NEW_ID = """AFTER UPDATE ON "{t}" WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN DELETE FROM "rtree_{t}_geom" WHERE id = OLD.fid; INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES (NEW.fid,
  ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;"""
RTREE_UPDATE_DDL = {
    GPKG_USER_VERSION: """
CREATE TRIGGER "rtree_{t}_geom_update6" AFTER UPDATE OF geom ON "{t}" WHEN OLD.fid = NEW.fid AND
  (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom NOTNULL AND NOT ST_IsEmpty(OLD.geom))
BEGIN UPDATE "rtree_{t}_geom" SET minx = ST_MinX(NEW.geom), maxx = ST_MaxX(NEW.geom), miny = ST_MinY(NEW.geom),
  maxy = ST_MaxY(NEW.geom) WHERE id = NEW.fid; END;
CREATE TRIGGER "rtree_{t}_geom_update7" AFTER UPDATE OF geom ON "{t}" WHEN OLD.fid = NEW.fid AND
  (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom ISNULL OR ST_IsEmpty(OLD.geom))
BEGIN INSERT INTO "rtree_{t}_geom" VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom),
  ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER "rtree_{t}_geom_update5" """ + _NEW_ID + "\n",
    GPKG_EXCHANGE_USER_VERSION: """
CREATE TRIGGER "rtree_{t}_geom_update1" AFTER UPDATE OF geom ON "{t}" WHEN OLD.fid = NEW.fid AND
  (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom),
  ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
CREATE TRIGGER "rtree_{t}_geom_update3" """ + _NEW_ID + "\n",
}
_UPDATE_TRIGGER_NUMBERS = {GPKG_USER_VERSION: (5, 6, 7), GPKG_EXCHANGE_USER_VERSION: (1, 3)}


def rtree_ddl(table: str, user_version: int = GPKG_USER_VERSION) -> str:
    """The R-tree of a layer's ``geom`` column and the triggers that keep it, as GeoPackage ``user_version`` has them."""
    return RTREE_DDL.format(t=table) + RTREE_UPDATE_DDL[user_version].format(t=table)


def as_exchange_version(conn: sqlite3.Connection) -> None:
    """Make a copy of the registry (an export) a GeoPackage of the exchange version: every R-tree's update triggers
    as that version has them, and its user_version. In the caller's transaction (or none)."""
    layers = conn.execute("SELECT table_name, column_name FROM gpkg_extensions "
                          "WHERE extension_name = 'gpkg_rtree_index'").fetchall()
    for table, column in layers:
        if column != "geom":
            raise RuntimeError(f"{table}.{column}: the registry's layers keep their geometry in geom")
        for number in _UPDATE_TRIGGER_NUMBERS[GPKG_USER_VERSION]:
            conn.execute(f'DROP TRIGGER IF EXISTS "rtree_{table}_geom_update{number}"')
        for statement in split_sql(RTREE_UPDATE_DDL[GPKG_EXCHANGE_USER_VERSION].format(t=table)):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {GPKG_EXCHANGE_USER_VERSION}")


def register_layer(table: str, data_type: str, identifier: str, description: str,
                   geometry_type: str | None = None, user_version: int = GPKG_USER_VERSION) -> str:
    """gpkg_contents row, and for features the geometry column, R-tree (as GeoPackage ``user_version`` has it) and
    its extension row."""
    srs = str(SRS_ID) if geometry_type else "NULL"
    sql = (f"INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) VALUES "
           f"('{table}', '{data_type}', '{identifier}', '{description}', strftime('%Y-%m-%dT%H:%M:%fZ','now'), {srs});\n")
    if geometry_type:
        sql += (f"INSERT INTO gpkg_geometry_columns VALUES ('{table}', 'geom', '{geometry_type}', {SRS_ID}, 0, 0);\n"
                + rtree_ddl(table, user_version) +
                f"INSERT INTO gpkg_extensions VALUES ('{table}', 'geom', 'gpkg_rtree_index', '{RTREE_EXTENSION_URL}', "
                "'write-only');\n")
    return sql


def rewrite_table_sql(conn: sqlite3.Connection, table: str, replacements: list[tuple[str, str]]) -> None:
    """Change constraints of an existing table that ALTER TABLE cannot (drop a foreign key, loosen a CHECK) by
    rewriting its definition in sqlite_master: the procedure SQLite documents for such changes ("Making Other Kinds
    Of Table Schema Changes": writable_schema, then a new schema_version), run inside the migration's transaction.
    Only for changes every existing row already satisfies; each replaced text must be found, or nothing changes."""
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
    for old, new in replacements:
        if old not in sql:
            raise RuntimeError(f"schema step: {old!r} not found in the definition of {table}")
        sql = sql.replace(old, new)
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
        conn.execute(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")


_UNDEFINED_CARTESIAN = "undefined"


def srs_rows() -> list[tuple]:
    from pyproj import CRS

    return [
        ("Undefined Cartesian SRS", -1, "NONE", -1, _UNDEFINED_CARTESIAN, "undefined Cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, _UNDEFINED_CARTESIAN, "undefined geographic coordinate reference system"),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS.from_epsg(4326).to_wkt("WKT1_GDAL"),
         "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
        ("China Geodetic Coordinate System 2000", SRS_ID, "EPSG", SRS_ID, CRS.from_epsg(SRS_ID).to_wkt("WKT1_GDAL"),
         "CGCS2000 geographic, longitude/latitude in decimal degrees"),
    ]
