"""The PostgreSQL values that both store/pg.py (no driver) and store/pg_connection.py (psycopg) use: the registry's SRID,
a database's name for messages, sqlite3's parameters in psycopg's form, and geometry values (the parameter, hex EWKB)."""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import numpy
import shapely

SRS_ID = 4490


def describe(url: str) -> str:
    """host:port/database of a URL, without its password (for messages)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port or 5432}/{parts.path.lstrip('/') or '(default database)'}"


# --------------------------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------------------------
_TOKENS = re.compile(r"('(?:[^']|'')*')|(\"(?:[^\"]|\"\")*\")|(::)|(\?)|:([A-Za-z_]\w*)|(%)")


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """sqlite3's ``?`` / ``:name`` parameters as psycopg's ``%s`` / ``%(name)s``; ``%`` doubled (also in literals)."""
    def sub(m: re.Match) -> str:
        literal, ident, cast, qmark, name, percent = m.groups()
        if literal is not None:
            return literal.replace("%", "%%")
        if ident is not None or cast is not None:
            return m.group(0)
        if qmark is not None:
            return "%s"
        if name is not None:
            return f"%({name})s"
        return "%%"
    return _TOKENS.sub(sub, sql)


# --------------------------------------------------------------------------------------------------------------------
# Geometry values
# --------------------------------------------------------------------------------------------------------------------
class Geometry:
    """A shapely geometry as a query parameter: stored as a PostGIS geometry in SRID 4490."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


def ewkb(shapes) -> list[str | None]:
    """Geometries as PostGIS reads them (hex EWKB in SRID 4490, two dimensions), many in one shapely call: a
    ``Geometry`` parameter, and every geometry a registry copy writes (copy_rows)."""
    shapes = shapely.set_srid(numpy.asarray(shapes, dtype=object), SRS_ID)
    return list(shapely.to_wkb(shapes, hex=True, include_srid=True, flavor="extended", output_dimension=2))
