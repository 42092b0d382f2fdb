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

from .dialect import backend
from .sites import (BOOKKEEPING, BOUNDARY_COLUMNS, LOCATIONS, Layers, boundaries_table, described, sensitivity,
                    versions_table)
from .tables import LINESTRING, NOT_NULL, REAL, TEXT, CodeNotIn, Layer, MustNameFeature, Table, col

LINES = "section_lines"
SECTION_BOUNDARIES = "section_boundaries"
SECTION_VERSIONS = "section_versions"

LINE_COLUMNS = (
    "code", "name", "name_en", "county", "county_en", "level", "significance", "period", "age", "formation", "units",
    "stratigraphic_boundaries", "sensitivity", "description", "description_en", "established", "status", "length_m",
    "version", "updated_at", "updated_by", "public_description", "public_description_en", "formation_en",
)
# The text cleared for publication (sites and sections alike): the only description the public reads of a protected
# feature (public_view). Added to both kinds' main layers; the same SQL on the GeoPackage and on PostGIS.
PUBLIC_TEXTS_DDL = "".join(f"ALTER TABLE {table} ADD COLUMN {column} TEXT;\n" for table in (LOCATIONS, LINES)
                           for column in ("public_description", "public_description_en"))
# A formation's English name beside its Chinese one (formation), as a feature has name and name_en (issue 25).
FORMATION_NAMES_DDL = "".join(f"ALTER TABLE {table} ADD COLUMN formation_en TEXT;\n" for table in (LOCATIONS, LINES))

SECTIONS = Layers("section", LINES, SECTION_BOUNDARIES, SECTION_VERSIONS, LINE_COLUMNS, BOUNDARY_COLUMNS,
                  json_columns=("units", "stratigraphic_boundaries"), measures=("length_m",))

LINES_TABLE = Table(LINES, (
    col("geom", LINESTRING, NOT_NULL),
    *described(col("significance"), col("period"), col("age"), col("formation"),
               col("units", TEXT, NOT_NULL, default="'[]'"),
               col("stratigraphic_boundaries", TEXT, NOT_NULL, default="'[]'"),
               sensitivity()),
    col("length_m", REAL, NOT_NULL, check="length_m > 0"), *BOOKKEEPING,
), layer=Layer("Stratigraphic sections", "Stratigraphic (stratotype) sections: surveyed section lines (current)"),
   stamped=True,
   rules=(CodeNotIn("section_code_not_a_site", LOCATIONS, "a site already has this code: a code names one registered "
                    "feature"),))
BOUNDARIES_TABLE = boundaries_table(SECTION_BOUNDARIES, LINES, layer=Layer(
    "Section protection boundaries", "Protection boundaries of stratigraphic sections (current)"))
VERSIONS_TABLE = versions_table(SECTION_VERSIONS, LINESTRING, "section history is append-only", layer=Layer(
    "Section version history", "Append-only snapshots of every section version (location: the section line)"))
TABLES = (LINES_TABLE, BOUNDARIES_TABLE, VERSIONS_TABLE)
# A code names one feature of one kind: the sites' layer refuses a code a section has.
SITE_CODE_NOT_A_SECTION = CodeNotIn("site_code_not_a_section", LINES, "a section already has this code: a code names "
                                    "one registered feature")


def add_sections(conn) -> None:
    """Schema step: the sections' tables, and the sites' refusal of a section's code. (PostgreSQL: a trigger's WHEN
    cannot hold a subquery, the checks that a code is free are functions, store/dialect.PostGIS. Their race, two
    features of one code inserted at once, cannot happen: every feature write holds HISTORY_LOCK from before its
    INSERT to commit, sites.write_site_row.)"""
    b = backend(conn)
    b.run(conn, b.create(*TABLES) + b.rules(LOCATIONS, (SITE_CODE_NOT_A_SECTION,)))


def inspections_of_any_feature(conn) -> None:
    """Schema step: inspections may be of a section too. The inspections table named site_locations as the parent of
    its code (a foreign key); it now names a registered feature of either kind, checked by a trigger. (SQLite cannot
    drop a foreign key with ALTER TABLE: the table's definition is rewritten in place, the procedure SQLite documents
    for removing a constraint; no row changes.)"""
    from .inspections import INSPECTIONS, INSPECTIONS_TABLE

    b = backend(conn)
    b.drop_reference(conn, INSPECTIONS, INSPECTIONS_TABLE.column("code"))
    b.run(conn, b.rules(INSPECTIONS, (MustNameFeature("inspections_of_a_registered_feature", "code",
                                                      "an inspection is of a registered site or section"),)))


def county_anchors(conn, names: list[str], *, exclude: str | None = None) -> list:
    """Where the registered features (sites' locations, sections' lines' first points) that name one of ``names`` as
    their county (Chinese or English) lie: the registry's own knowledge of where a county is."""
    from shapely.geometry import Point

    from .gpkg import decode_geometries

    marks = ",".join("?" * len(names))
    is_not = backend(conn).is_not
    rows = conn.execute(
        f"SELECT geom FROM {LOCATIONS} WHERE (county IN ({marks}) OR county_en IN ({marks})) AND code {is_not} ? "
        f"UNION ALL SELECT geom FROM {LINES} WHERE (county IN ({marks}) OR county_en IN ({marks})) AND code {is_not} ?",
        [*names, *names, exclude, *names, *names, exclude]).fetchall()
    out = []
    for geom in decode_geometries([r[0] for r in rows]):
        out.append(geom if geom.geom_type == "Point" else Point(geom.coords[0]))
    return out
