"""Table definitions, written once for both backends: each family module (store/accounts.py, store/revisions.py...)
declares its tables here as :class:`Table` values, and each backend (store/dialect.py) writes the DDL of its database
from them, as Kart describes a dataset's schema once and writes it for each working copy's database:

* column kinds are the registry's, not a database's: ``INT``, ``BIGINT`` (ids, references, large counts), ``TEXT``,
  ``REAL``, ``DATE`` and ``DATETIME`` (ISO-8601 text on both), ``BOOL`` (0/1), ``BLOB``, and the geometry types
  (``POINT``, ``LINESTRING``, ``MULTILINESTRING``, ``MULTIPOLYGON``, ``GEOMETRY``; SRID 4490). A table's ``geom``
  column is its GeoPackage layer's geometry (registered, with an R-tree); other geometry columns (history snapshots,
  proposals) are GeoPackage blobs in the file and PostGIS geometries with GiST indexes in PostgreSQL;
* CHECK conditions, defaults, indexes and trigger conditions are SQL both databases accept, written once; CHECKs
  over a vocabulary come from it (``vocab.Level.check_sql("level")``);
* what the database refuses (append-only history, decided proposals, records never deleted) is a :class:`Refuse`
  rule, which each backend writes as its triggers (SQLite RAISE(ABORT), PostgreSQL registry_refuse()); the checks
  that a code names a registered feature, or is not taken by the other kind, are :class:`MustNameFeature` and
  :class:`CodeNotIn`.

Nothing here knows a connection: this module is the base the family modules, the backends and the migrations
(store/migrations.py) build on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

# Column kinds.
INT, BIGINT, TEXT, REAL, DATE, DATETIME, BOOL, BLOB = ("int", "bigint", "text", "real", "date", "datetime", "bool",
                                                      "blob")
POINT, LINESTRING, MULTILINESTRING, MULTIPOLYGON, GEOMETRY = ("POINT", "LINESTRING", "MULTILINESTRING", "MULTIPOLYGON",
                                                              "GEOMETRY")
GEOMETRY_TYPES = (POINT, LINESTRING, MULTILINESTRING, MULTIPOLYGON, GEOMETRY)
# Column flags.
NOT_NULL, UNIQUE, PRIMARY_KEY, NOCASE = "not_null", "unique", "primary_key", "nocase"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    not_null: bool = False
    unique: bool = False
    primary_key: bool = False
    nocase: bool = False            # compared without case (user names)
    default: str | None = None      # an SQL literal
    check: str | None = None        # a condition
    references: str | None = None   # "table(column)"

    @property
    def is_geometry(self) -> bool:
        return self.kind in GEOMETRY_TYPES


def col(name: str, kind: str = TEXT, *flags: str, default: str | None = None, check: str | None = None,
        references: str | None = None) -> Column:
    """A column: ``col("code", TEXT, NOT_NULL, UNIQUE)``, ``col("round", INT, NOT_NULL, default="1", check=...)``."""
    unknown = set(flags) - {NOT_NULL, UNIQUE, PRIMARY_KEY, NOCASE}
    if unknown:
        raise ValueError(f"unknown column flag(s) {unknown}")
    return Column(name, kind, NOT_NULL in flags, UNIQUE in flags, PRIMARY_KEY in flags, NOCASE in flags, default,
                  check, references)


def ref(name: str, table: str, *flags: str, column: str = "fid") -> Column:
    """A column naming a row of ``table`` (by its fid unless ``column``)."""
    return col(name, BIGINT, *flags, references=f"{table}({column})")


@dataclass(frozen=True)
class Index:
    name: str
    columns: str                    # "code, created_at"
    where: str | None = None        # a partial index's condition


@dataclass(frozen=True)
class Refuse:
    """The database refuses ``events`` ("UPDATE", "DELETE", "UPDATE OR DELETE", "UPDATE OF a, b") on the table's rows
    (only those matching ``when``, a condition on OLD) with ``message``."""

    name: str
    events: str
    message: str
    when: str | None = None


def append_only(table: str, message: str) -> Refuse:
    """No row of ``table`` is ever changed or deleted."""
    return Refuse(f"{table}_append_only", "UPDATE OR DELETE", message)


@dataclass(frozen=True)
class MustNameFeature:
    """A new row's ``column`` must be the code of a registered site or section."""

    name: str
    column: str
    message: str


@dataclass(frozen=True)
class CodeNotIn:
    """A new row's code must not be a code of ``other`` (a code names one registered feature)."""

    name: str
    other: str
    message: str


Rule = Union[Refuse, MustNameFeature, CodeNotIn]


@dataclass(frozen=True)
class Layer:
    """How a table is registered in the GeoPackage's gpkg_contents (features when it has a ``geom`` column)."""

    identifier: str
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    constraints: tuple[str, ...] = ()   # table constraints: "UNIQUE (code, version)", "CHECK (...)"
    indexes: tuple[Index, ...] = ()
    rules: tuple[Rule, ...] = ()
    layer: Layer | None = None          # registered in the GeoPackage (gpkg_contents); None: private to the app
    fid: bool = True                    # an fid identity as the first column (the GeoPackage's feature id)
    stamped: bool = False               # PostGIS: a change stamps layer_changes (store/map_layers.py)
    if_not_exists: bool = False

    @property
    def geometry(self) -> Column | None:
        """The layer's geometry column (``geom``), if any."""
        return next((c for c in self.columns if c.name == "geom" and c.is_geometry), None)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def in_list(values) -> str:
    """An SQL list literal of strings, for conditions that are not a whole CHECK (``x IS NULL OR x IN (...)``)."""
    return "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + ")"


# The tables of the registered features' current state whose codes other rows name (MustNameFeature).
FEATURE_TABLES = ("site_locations", "section_lines")
