"""The registry's schema on PostgreSQL/PostGIS: the database-wide objects the tables' DDL relies on (PostGIS, the
``nocase`` collation, the refusal function, the layers' change stamps, local_day()), recognising a registry in a
database, and its integrity check. The tables themselves are defined once for both backends (store/tables.py, each
family module's definitions) and created by the same ordered migrations as the GeoPackage's (store/migrations.py),
written as PostgreSQL DDL by store/dialect.PostGIS.

What the GeoPackage guarantees, this schema guarantees too, in PostgreSQL's terms:

* geometries are PostGIS ``geometry(<type>, 4490)`` (CGCS2000) with GiST indexes, history geometries included;
* append-only tables and the other refusals are BEFORE triggers calling ``registry_refuse`` (with TRUNCATE refused
  too), the four-eyes rule and required reasons are CHECK constraints, exactly as in the GeoPackage's DDL;
* timestamps stay ISO-8601 UTC text (``YYYY-MM-DDTHH:MM:SS.mmmZ``, as the GeoPackage's DATETIME): fixed width, so
  text order is time order, and both backends hand the domain the same values;
* private tables (accounts, sessions, tokens, failed sign-ins, reporters' contacts) are the same PRIVATE_TABLES, left
  out of shareable exports.

``layer_changes`` replaces gpkg_contents.last_change: a statement trigger on each layer stamps it, the key of the
caches of map layers and feature collections (store/map_layers.py).
"""
from __future__ import annotations

from ..messages import msg
from . import pg

# Database-wide objects: PostGIS, the case-insensitive collation of user names, the refusal function of the
# append-only triggers, the layers' change stamps (layer_changes and the function that stamps it), and local_day(),
# the registry's time zone's calendar day of a UTC timestamp (the time zone is set per connection by
# store.supervision.use_time_zone, as on SQLite).
PG_FUNCTIONS_DDL = r"""
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE OR REPLACE FUNCTION registry_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = TG_ARGV[0];
END $$;
CREATE OR REPLACE FUNCTION local_day(ts text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(ts::timestamptz AT TIME ZONE coalesce(nullif(current_setting('registry.time_zone', true), ''), 'UTC'),
                 'YYYY-MM-DD')
$$;
CREATE TABLE layer_changes (table_name text PRIMARY KEY, last_change timestamptz NOT NULL);
CREATE OR REPLACE FUNCTION registry_layer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO layer_changes VALUES (TG_TABLE_NAME, clock_timestamp())
    ON CONFLICT (table_name) DO UPDATE SET last_change = excluded.last_change;
  RETURN NULL;
END $$;
"""


def is_registry(url: str) -> bool:
    """Whether the database at ``url`` holds a registry. Raises errors.Unavailable if it cannot be reached."""
    pg.probe(url)
    conn = pg.PgConnection(url)
    try:
        return conn.execute("SELECT to_regclass('site_versions') IS NOT NULL").fetchone()[0]
    finally:
        conn.close()


def check_integrity(conn) -> list[str]:
    """Problems found (empty list = healthy): every geometry column in SRID 4490 with a valid GiST index (the
    GeoPackage's R-tree checks, in PostgreSQL's terms: the index itself is PostgreSQL's own, kept by it, but it must be
    there and usable), and for each kind of registered feature (sites, sections) the history vs the current state and
    version gaps, as schema.check_integrity on a GeoPackage."""
    from .sections import SECTIONS
    from .sites import SITES

    problems = _spatial_problems(conn)
    for layers in (SITES, SECTIONS):
        problems += _layer_problems(conn, layers)
    return problems


# The geometry columns of this schema, and those a valid GiST index covers.
_GEOMETRY_COLUMNS = ("SELECT f_table_name, f_geometry_column FROM geometry_columns "
                     "WHERE f_table_schema = current_schema() ORDER BY 1, 2")
_GIST_INDEXED = ("SELECT t.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                 "JOIN pg_am am ON am.oid = c.relam JOIN pg_class t ON t.oid = i.indrelid "
                 "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (i.indkey) "
                 "WHERE am.amname = 'gist' AND i.indisvalid AND t.relnamespace = current_schema()::regnamespace")


def _spatial_problems(conn) -> list[str]:
    problems = []
    indexed = {(r[0], r[1]) for r in conn.execute(_GIST_INDEXED)}
    for table, column in conn.execute(_GEOMETRY_COLUMNS).fetchall():
        bad = conn.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" IS NOT NULL AND ST_SRID("{column}") != ?',
                           (pg.SRS_ID,)).fetchone()[0]
        if bad:
            problems.append(f"{table}.{column}: {bad} geometr(y/ies) not in EPSG:{pg.SRS_ID}")
        if (table, column) not in indexed:
            problems.append(f"{table}.{column}: no valid spatial (GiST) index")
    return problems


def _layer_problems(conn, layers) -> list[str]:
    """History vs current state of one kind of registered feature (sites.Layers)."""
    problems = []
    stale = conn.execute(
        f"SELECT l.code, l.version, (SELECT max(version) FROM {layers.versions} v WHERE v.code = l.code) AS latest "
        f"FROM {layers.primary} l").fetchall()
    for code, version, latest in stale:
        if latest is None or latest != version:
            problems.append(msg("store.current_version_but_latest", "{code}: current version {version} but latest "
                                "history version {latest}", code=code, version=version, latest=latest))
    mismatched = conn.execute(
        f"SELECT l.code FROM {layers.primary} l JOIN {layers.versions} v ON v.code = l.code AND v.version = l.version "
        f"LEFT JOIN {layers.boundaries} b ON b.code = l.code "
        "WHERE NOT ST_OrderingEquals(v.location, l.geom) OR (v.boundary IS NULL) != (b.geom IS NULL) "
        "OR NOT ST_OrderingEquals(v.boundary, b.geom)").fetchall()
    for (code,) in mismatched:
        problems.append(msg("store.current_geometry_differs_latest", "{code}: current geometry differs from its "
                            "latest version snapshot", code=code))
    gaps = conn.execute(
        f"SELECT code FROM {layers.versions} GROUP BY code HAVING max(version) != count(*) OR min(version) != 1"
    ).fetchall()
    for (code,) in gaps:
        problems.append(msg("store.version_history_gaps", "{code}: version history has gaps", code=code))
    return problems
