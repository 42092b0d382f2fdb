"""GeoPackage plumbing, knowing no table: the geometry blob codec, the ST_* functions the R-tree triggers call,
connections and transactions. Every other store module reads and writes through these.

Writes encode GeoPackage geometry blobs here by hand (header + WKB from shapely): GDAL's writers rewrite whole layers
and are not transactional with our other tables.
"""
from __future__ import annotations

import sqlite3
import struct
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import shapely
from shapely.geometry.base import BaseGeometry

SRS_ID = 4490  # EPSG:4490, CGCS2000 geographic: the CRS of every layer


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


def decode_geometry(blob: bytes | BaseGeometry | None) -> BaseGeometry | None:
    """A stored geometry as shapely: a GeoPackage blob is decoded; PostGIS values arrive decoded (store/pg.py)."""
    if blob is None or isinstance(blob, BaseGeometry):
        return blob
    _, _, envelope = _header(blob)
    return shapely.from_wkb(bytes(blob[8 + _ENVELOPE_SIZES[envelope]:]))


def decode_geometries(blobs: list[bytes | None]) -> list[BaseGeometry | None]:
    """Many blobs at once: one vectorised shapely call instead of one per row (listing 10,000 sites twice as fast)."""
    if any(isinstance(b, BaseGeometry) for b in blobs):  # PostGIS: decoded by the connection's loader
        return [decode_geometry(b) for b in blobs]
    wkbs = [None if b is None else bytes(b[8 + _ENVELOPE_SIZES[_header(b)[2]]:]) for b in blobs]
    return list(shapely.from_wkb(wkbs)) if wkbs else []


def blob_srs_id(blob: bytes) -> int:
    """The srs_id a geometry blob's header names (field kits check that edited geometries stayed in the kit's CRS)."""
    flags = _header(blob)[0]
    return struct.unpack("<i" if flags & 1 else ">i", bytes(blob[4:8]))[0]


def blob_bounds(blob: bytes) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) from the header envelope when present, else from the WKB; None if empty. (A PostGIS
    value is a shapely geometry already: its bounds.)"""
    if isinstance(blob, BaseGeometry):
        if blob.is_empty:
            return None
        minx, miny, maxx, maxy = blob.bounds
        return minx, maxx, miny, maxy
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
SYNCHRONOUS = "FULL"  # of every connection that writes the registry; bench/bench_durability.py compares NORMAL


class GpkgConnection(sqlite3.Connection):
    """A sqlite3 connection that says which backend it is (store/dialect.py)."""

    dialect = "gpkg"
    writing = False


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the ST_* functions the R-tree triggers call, WAL mode and a busy timeout.

    ``isolation_level=None``: we issue BEGIN IMMEDIATE ourselves, so the lock is taken before the first read of a write.
    """
    if readonly:
        conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, isolation_level=None,
                               check_same_thread=False, timeout=30, factory=GpkgConnection)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30,
                               factory=GpkgConnection)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: every commit is fsynced before it returns, so an answered write survives a power cut (NORMAL is
        # consistent after one but may lose the last commits); docs/evidence.md has the cost (bench/bench_durability.py)
        conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    register_functions(conn)
    return conn


def register_functions(conn: sqlite3.Connection) -> None:
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


@contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Several reads that see one state of the registry (a deferred transaction: WAL readers never block writers),
    e.g. a screening's candidates and the registry version it reports. Inside a transaction, that one is used."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def split_sql(script: str) -> list[str]:
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


def where(*conditions: tuple[str, Any]) -> tuple[str, list]:
    """(" WHERE a AND b", params) from (condition with one ?, value) pairs, leaving out those whose value is None or
    empty (an optional filter not given); ("", []) when none is left."""
    given = [(sql, value) for sql, value in conditions if value is not None and value != ""]
    return (" WHERE " + " AND ".join(sql for sql, _ in given) if given else ""), [value for _, value in given]
