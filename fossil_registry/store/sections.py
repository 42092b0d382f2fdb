"""Stratigraphic sections as registered features beside the sites: their tables, and the schema steps that let the
shared workflow tables (proposals, inspections) hold a section's code as they hold a site's.

Layers registered in the GeoPackage (what a GIS user sees when opening the file):

* ``section_lines`` (features, LineString): the current state of every section: its surveyed line, code, names,
  what it exposes, age, significance, sensitivity, version, and its geodesic length (``length_m``);
* ``section_boundaries`` (features, MultiPolygon): the current protection boundary of a section, if it has one;
* ``section_versions`` (attributes, append-only): one full snapshot per version, as ``site_versions`` for sites.

Every function of store/sites.py works on these tables given ``SECTIONS``. A code names one feature of one kind:
triggers refuse a section code already used by a site and the other way round, so that the shared tables (revisions,
inspections, follow-ups, markers) can name either by its code alone.
"""
from __future__ import annotations

from . import pg
from .dialect import pick
from .schema import _register
from .sites import BOUNDARY_COLUMNS, LOCATIONS, Layers

LINES = "section_lines"
SECTION_BOUNDARIES = "section_boundaries"
SECTION_VERSIONS = "section_versions"

LINE_COLUMNS = (
    "code", "name", "name_en", "county", "county_en", "level", "significance", "period", "age", "formation", "units",
    "stratigraphic_boundaries", "sensitivity", "description", "description_en", "established", "status", "length_m",
    "version", "updated_at", "updated_by", "public_description", "public_description_en",
)
# The text cleared for publication (sites and sections alike): the only description the public reads of a protected
# feature (public_view). Added to both kinds' main layers; the same SQL on the GeoPackage and on PostGIS.
PUBLIC_TEXTS_DDL = "".join(f"ALTER TABLE {table} ADD COLUMN {column} TEXT;\n" for table in (LOCATIONS, LINES)
                           for column in ("public_description", "public_description_en"))

SECTIONS = Layers("section", LINES, SECTION_BOUNDARIES, SECTION_VERSIONS, LINE_COLUMNS, BOUNDARY_COLUMNS,
                  json_columns=("units", "stratigraphic_boundaries"), measures=("length_m",))

DDL = f"""
CREATE TABLE {LINES} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom LINESTRING NOT NULL,
  code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, name_en TEXT, county TEXT, county_en TEXT,
  level TEXT NOT NULL CHECK (level IN ('national','provincial','general')), significance TEXT,
  period TEXT, age TEXT, formation TEXT, units TEXT NOT NULL DEFAULT '[]',
  stratigraphic_boundaries TEXT NOT NULL DEFAULT '[]',
  sensitivity TEXT NOT NULL CHECK (sensitivity IN ('open','generalized','hidden')),
  description TEXT, description_en TEXT, established DATE,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','retired')),
  length_m REAL NOT NULL CHECK (length_m > 0),
  version INTEGER NOT NULL CHECK (version >= 1), updated_at DATETIME NOT NULL, updated_by TEXT NOT NULL);
{_register(LINES, "features", "Stratigraphic sections", "Stratigraphic (stratotype) sections: surveyed section lines "
           "(current)", "LINESTRING")}
CREATE TABLE {SECTION_BOUNDARIES} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL,
  code TEXT NOT NULL UNIQUE REFERENCES {LINES}(code), name TEXT, name_en TEXT, level TEXT, sensitivity TEXT,
  status TEXT, area_km2 REAL, version INTEGER NOT NULL, updated_at DATETIME NOT NULL);
{_register(SECTION_BOUNDARIES, "features", "Section protection boundaries",
           "Protection boundaries of stratigraphic sections (current)", "MULTIPOLYGON")}
CREATE TABLE {SECTION_VERSIONS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, code TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1), operation TEXT NOT NULL, created_at DATETIME NOT NULL,
  author TEXT NOT NULL, reviewer TEXT, reason TEXT NOT NULL, properties TEXT NOT NULL,
  location BLOB NOT NULL, boundary BLOB, revision_id INTEGER, UNIQUE (code, version));
CREATE INDEX section_versions_code_time ON {SECTION_VERSIONS} (code, created_at);
{_register(SECTION_VERSIONS, "attributes", "Section version history", "Append-only snapshots of every section version "
           "(location: the section line)")}
CREATE TRIGGER section_versions_append_only_update BEFORE UPDATE ON {SECTION_VERSIONS}
  BEGIN SELECT RAISE(ABORT, 'section history is append-only'); END;
CREATE TRIGGER section_versions_append_only_delete BEFORE DELETE ON {SECTION_VERSIONS}
  BEGIN SELECT RAISE(ABORT, 'section history is append-only'); END;
CREATE TRIGGER section_code_not_a_site BEFORE INSERT ON {LINES}
  WHEN EXISTS (SELECT 1 FROM {LOCATIONS} WHERE code = NEW.code)
  BEGIN SELECT RAISE(ABORT, 'a site already has this code: a code names one registered feature'); END;
CREATE TRIGGER site_code_not_a_section BEFORE INSERT ON {LOCATIONS}
  WHEN EXISTS (SELECT 1 FROM {LINES} WHERE code = NEW.code)
  BEGIN SELECT RAISE(ABORT, 'a section already has this code: a code names one registered feature'); END;
"""

# PostGIS: the same tables (geometries in SRID 4490 with GiST indexes, the history's too; append-only by triggers).
# A trigger's WHEN cannot hold a subquery in PostgreSQL: the checks that a code is free, or names a registered feature,
# are functions. Their race (two features of one code inserted at once) cannot happen: every feature write holds
# HISTORY_LOCK from before its INSERT to commit (sites.write_site_row).
PG_FEATURE_FUNCTIONS_DDL = r"""
CREATE OR REPLACE FUNCTION registry_refuse_if_code_in() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE taken boolean;
BEGIN
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE code = $1)', TG_ARGV[0]) INTO taken USING NEW.code;
  IF taken THEN
    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = TG_ARGV[1];
  END IF;
  RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION registry_refuse_unless_registered() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE feature text;
BEGIN
  EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO feature USING NEW;
  IF NOT EXISTS (SELECT 1 FROM site_locations WHERE code = feature)
     AND NOT EXISTS (SELECT 1 FROM section_lines WHERE code = feature) THEN
    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = TG_ARGV[1];
  END IF;
  RETURN NEW;
END $$;
"""


def _pg_code_check(name: str, table: str, other: str, message: str) -> str:
    return (f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION registry_refuse_if_code_in('{other}', '{message}');\n")


def pg_registered_feature(name: str, table: str, column: str, message: str) -> str:
    """PostGIS: a trigger refusing a row of ``table`` whose ``column`` names no registered site or section."""
    return (f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION registry_refuse_unless_registered('{column}', '{message}');\n")


PG_DDL = PG_FEATURE_FUNCTIONS_DDL + f"""
CREATE TABLE {LINES} ({pg.identity()}, geom geometry(LineString, {pg.SRS_ID}) NOT NULL,
  code text NOT NULL UNIQUE, name text NOT NULL, name_en text, county text, county_en text,
  level text NOT NULL CHECK (level IN ('national','provincial','general')), significance text,
  period text, age text, formation text, units text NOT NULL DEFAULT '[]',
  stratigraphic_boundaries text NOT NULL DEFAULT '[]',
  sensitivity text NOT NULL CHECK (sensitivity IN ('open','generalized','hidden')),
  description text, description_en text, established text,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','retired')),
  length_m double precision NOT NULL CHECK (length_m > 0),
  version integer NOT NULL CHECK (version >= 1), updated_at text NOT NULL, updated_by text NOT NULL);
{pg.spatial_index(LINES)}
CREATE TABLE {SECTION_BOUNDARIES} ({pg.identity()}, geom geometry(MultiPolygon, {pg.SRS_ID}) NOT NULL,
  code text NOT NULL UNIQUE REFERENCES {LINES}(code), name text, name_en text, level text, sensitivity text,
  status text, area_km2 double precision, version integer NOT NULL, updated_at text NOT NULL);
{pg.spatial_index(SECTION_BOUNDARIES)}
CREATE TRIGGER {LINES}_changed AFTER INSERT OR UPDATE OR DELETE ON {LINES}
  FOR EACH STATEMENT EXECUTE FUNCTION registry_layer_changed();
CREATE TRIGGER {SECTION_BOUNDARIES}_changed AFTER INSERT OR UPDATE OR DELETE ON {SECTION_BOUNDARIES}
  FOR EACH STATEMENT EXECUTE FUNCTION registry_layer_changed();

CREATE TABLE {SECTION_VERSIONS} ({pg.identity()}, code text NOT NULL,
  version integer NOT NULL CHECK (version >= 1), operation text NOT NULL, created_at text NOT NULL,
  author text NOT NULL, reviewer text, reason text NOT NULL, properties text NOT NULL,
  location geometry(LineString, {pg.SRS_ID}) NOT NULL, boundary geometry(MultiPolygon, {pg.SRS_ID}),
  revision_id bigint, UNIQUE (code, version));
CREATE INDEX section_versions_code_time ON {SECTION_VERSIONS} (code, created_at);
{pg.spatial_index(SECTION_VERSIONS, "location")}{pg.spatial_index(SECTION_VERSIONS, "boundary")}
{pg.append_only(SECTION_VERSIONS, "section history is append-only")}
{_pg_code_check("section_code_not_a_site", LINES, LOCATIONS,
                "a site already has this code: a code names one registered feature")}
{_pg_code_check("site_code_not_a_section", LOCATIONS, LINES,
                "a section already has this code: a code names one registered feature")}
"""


def inspections_of_any_feature(conn) -> None:
    """Schema step: inspections may be of a section too. The inspections table named site_locations as the parent of
    its code (a foreign key); it now names a registered feature of either kind, checked by a trigger. SQLite cannot
    drop a foreign key with ALTER TABLE: the table's definition is rewritten in place (schema.rewrite_table_sql, the
    procedure SQLite documents for removing a constraint); no row changes."""
    from .inspections import INSPECTIONS
    from .schema import rewrite_table_sql

    rewrite_table_sql(conn, INSPECTIONS, [(f"code TEXT NOT NULL REFERENCES {LOCATIONS}(code)", "code TEXT NOT NULL")])
    conn.execute(f"CREATE TRIGGER inspections_of_a_registered_feature BEFORE INSERT ON {INSPECTIONS} "
                 f"WHEN NOT EXISTS (SELECT 1 FROM {LOCATIONS} WHERE code = NEW.code) "
                 f"AND NOT EXISTS (SELECT 1 FROM {LINES} WHERE code = NEW.code) "
                 "BEGIN SELECT RAISE(ABORT, 'an inspection is of a registered site or section'); END")


# PostGIS: the same step is plain DDL (PostgreSQL drops a foreign key by its name).
PG_INSPECTIONS_OF_ANY_FEATURE_DDL = (
    "ALTER TABLE inspections DROP CONSTRAINT inspections_code_fkey;\n"
    + pg_registered_feature("inspections_of_a_registered_feature", "inspections", "code",
                            "an inspection is of a registered site or section"))


def county_anchors(conn, names: list[str], *, exclude: str | None = None) -> list:
    """Where the registered features (sites' locations, sections' lines' first points) that name one of ``names`` as
    their county (Chinese or English) lie: the registry's own knowledge of where a county is."""
    from shapely.geometry import Point

    from .gpkg import decode_geometries

    marks = ",".join("?" * len(names))
    is_not = pick(conn, "IS NOT", "IS DISTINCT FROM")
    rows = conn.execute(
        f"SELECT geom FROM {LOCATIONS} WHERE (county IN ({marks}) OR county_en IN ({marks})) AND code {is_not} ? "
        f"UNION ALL SELECT geom FROM {LINES} WHERE (county IN ({marks}) OR county_en IN ({marks})) AND code {is_not} ?",
        [*names, *names, exclude, *names, *names, exclude]).fetchall()
    out = []
    for geom in decode_geometries([r[0] for r in rows]):
        out.append(geom if geom.geom_type == "Point" else Point(geom.coords[0]))
    return out
