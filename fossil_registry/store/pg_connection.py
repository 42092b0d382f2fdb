"""PostgreSQL/PostGIS connections (psycopg 3, one pool per database) and transactions with the GeoPackage's meaning:
the part of store/pg.py (which names these too, and says what a connection does that psycopg does not) that needs the
database driver, imported by the first use of a PostGIS connection."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

import numpy
import psycopg
import shapely
from psycopg import errors as pg_errors
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import Conflict, Unavailable
from ..messages import msg
from .pg_values import Geometry, describe, ewkb, translate


# --------------------------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------------------------
class Row:
    """A result row read like sqlite3.Row: by position, by column name, ``keys()``, ``dict(row)``, ``tuple(row)``."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: tuple):
        self._index, self._values = index, values

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other) -> bool:
        return tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values))!r})"


def _row_factory(cursor: psycopg.Cursor):
    names = [c.name for c in cursor.description or ()]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)  # like sqlite3.Row: the first column of a name wins
    return lambda values: Row(index, values)


class Cursor(psycopg.Cursor):
    owner: "PgConnection | None" = None  # the connection that ran the statement (PgConnection.execute)

    @property
    def lastrowid(self) -> int:
        """The identity value the last INSERT of this session drew (no table here has a second identity or sequence
        that an INSERT trigger would advance). A second round trip: a connection lost right after the INSERT is
        translated as the INSERT's own failure would be (503, nothing written)."""
        if self.owner is None:
            return self.connection.execute("SELECT lastval()").fetchone()[0]
        with translated_errors(self.owner):
            return self.connection.execute("SELECT lastval()").fetchone()[0]


# --------------------------------------------------------------------------------------------------------------------
# Geometry and numeric values
# --------------------------------------------------------------------------------------------------------------------
class _GeometryDumper(Dumper):
    oid = 0  # set per database (the geometry type's oid), see _configure

    def dump(self, obj: Geometry) -> bytes:
        return ewkb([obj.shape])[0].encode()


class _GeometryLoader(Loader):
    def load(self, data) -> Any:
        return shapely.from_wkb(bytes(data).decode())


class _BoolDumper(Dumper):
    """Flags are 0/1 integers in both backends' tables (SQLite has no boolean type): True and False go in as 1 and 0."""

    oid = 21  # int2

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _NumpyIntDumper(Dumper):
    oid = 20  # int8

    def dump(self, obj) -> bytes:
        return str(int(obj)).encode()


class _NumpyFloatDumper(Dumper):
    oid = 701  # float8

    def dump(self, obj) -> bytes:
        return repr(float(obj)).encode()


class _NumericLoader(Loader):
    """sum() and avg() answer numeric: an int when whole (as SQLite's sum of integers), else a float."""

    def load(self, data) -> int | float:
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eEN") else int(text)


def _configure(raw: psycopg.Connection) -> None:
    raw.cursor_factory = Cursor
    raw.row_factory = _row_factory
    raw.adapters.register_loader("numeric", _NumericLoader)
    raw.adapters.register_dumper(bool, _BoolDumper)
    # figures computed with numpy (impact screening) arrive as numpy scalars, which sqlite3 takes as numbers too
    raw.adapters.register_dumper(numpy.bool_, _BoolDumper)
    raw.adapters.register_dumper(numpy.integer, _NumpyIntDumper)
    raw.adapters.register_dumper(numpy.floating, _NumpyFloatDumper)
    info = psycopg.types.TypeInfo.fetch(raw, "geometry")
    if info is not None:  # a database without PostGIS yet: create_registry installs it, then reconnects
        raw.adapters.register_loader(info.oid, _GeometryLoader)
        raw.adapters.register_dumper(Geometry, type("GeometryDumper", (_GeometryDumper,), {"oid": info.oid}))


# --------------------------------------------------------------------------------------------------------------------
# Pools and connections
# --------------------------------------------------------------------------------------------------------------------
_POOLS: dict[str, ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()
# Connections per process: the server's threads share them (a request holds one from its first query to its end).
POOL_MAX = 16
CONNECT_TIMEOUT_S = 5
POOL_WAIT_S = 10


def _pool(url: str) -> ConnectionPool:
    with _POOLS_LOCK:
        pool = _POOLS.get(url)
        if pool is None:
            pool = ConnectionPool(url, min_size=1, max_size=POOL_MAX, open=True, configure=_configure,
                                  check=ConnectionPool.check_connection, name=describe(url),
                                  kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S,
                                          "application_name": "fossil-registry", "options": "-c TimeZone=UTC"},
                                  reconnect_timeout=30)
            _POOLS[url] = pool
        return pool


def close_pool(url: str) -> None:
    """Close the pool of ``url`` (tests dropping a database; a process about to exit)."""
    with _POOLS_LOCK:
        pool = _POOLS.pop(url, None)
    if pool is not None:
        pool.close()


def close_pools() -> None:
    for url in list(_POOLS):
        close_pool(url)


def probe(url: str) -> None:
    """Connect once, outside any pool: raise Unavailable with host, database and what failed (the app's start)."""
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True) as raw:
            raw.execute("SELECT 1")
    except psycopg.Error as exc:
        raise Unavailable(msg("store.cannot_connect", "cannot connect to the database {database}: {reason}",
                              database=describe(url), reason=_first_line(exc))) from None


def _first_line(exc: BaseException) -> str:
    """What failed, in one line: psycopg says 'connection failed: connection to server at "h", port p failed: FATAL:
    database "x" does not exist' and adds hints on further lines."""
    lines = [line.strip() for line in (str(exc).strip() or type(exc).__name__).splitlines() if line.strip()]
    first = lines[0]
    reason = first.rsplit(" failed: ", 1)[-1] if " failed: " in first else first
    return reason.replace("FATAL:  ", "").strip()


class PgConnection:
    """A pooled psycopg connection with the sqlite3.Connection calls the store uses. ``close`` gives it back."""

    dialect = "postgis"

    def __init__(self, url: str, *, read_only: bool = False):
        self.location = url
        self.read_only = read_only
        self.writing = False  # inside store.transaction: point reads lock their rows (store/dialect.for_update)
        self._pool = _pool(url)
        try:
            self.raw = self._pool.getconn(timeout=POOL_WAIT_S)
        except PoolTimeout:
            raise Unavailable(msg("store.database_not_answering", "the database {database} does not answer (no "
                                  "connection within {seconds} s)", database=describe(url),
                                  seconds=POOL_WAIT_S)) from None

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params: Any = None) -> Cursor:
        with translated_errors(self):
            cur = self.raw.execute(sql) if params is None else self.raw.execute(translate(sql), params)
        cur.owner = self
        return cur

    def executemany(self, sql: str, seq) -> Cursor:
        with translated_errors(self):
            cur = self.raw.cursor()
            cur.executemany(translate(sql), list(seq))
            return cur

    @contextmanager
    def copy_rows(self, table: str, columns: list[str]) -> Iterator[Any]:
        """PostgreSQL's COPY into ``table``'s ``columns`` inside the current transaction: ``write(rows)`` streams rows
        (geometries as ``ewkb`` text, flags as 0/1 or booleans) to the server in one statement, its row triggers
        fired as for INSERTs. Bulk writes: a registry copy (store/copy.py), a read-model build's batches."""
        names = ", ".join(f'"{c}"' for c in columns)
        with translated_errors(self), self.raw.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as stream:
            def write(rows) -> None:
                for row in rows:
                    stream.write_row(row)
            yield write

    def close(self) -> None:
        raw, self.raw = getattr(self, "raw", None), None
        if raw is not None:
            self._pool.putconn(raw)  # the pool rolls back whatever was left open, and drops a broken connection


@contextmanager
def translated_errors(conn: PgConnection) -> Iterator[None]:
    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        if isinstance(exc, pg_errors.QueryCanceled | pg_errors.LockNotAvailable):
            raise
        if not conn.raw.closed and conn.raw.info.transaction_status != TransactionStatus.UNKNOWN:
            raise
        raise Unavailable(msg("store.connection_lost", "the connection to the database {database} was lost; nothing "
                              "of this request was written: try again", database=describe(conn.location))) from exc
    except pg_errors.UniqueViolation as exc:
        if not conn.in_transaction and not conn.writing:
            raise
        raise Conflict(msg("store.concurrent_write", "another change was written at the same moment: reload and try "
                           "again"), constraint=exc.diag.constraint_name) from exc


# --------------------------------------------------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------------------------------------------------
@contextmanager
def transaction(conn: PgConnection) -> Iterator[PgConnection]:
    """One write transaction (READ COMMITTED); nested use becomes a SAVEPOINT. Where the domain reads and then writes
    on the strength of what it read (a site's version, a proposal's state), the store's point reads take row locks
    inside it (``SELECT ... FOR UPDATE``, dialect.for_update): writers of the same site wait for each other and then
    see the committed version, writers of different sites do not wait. Site history entries are numbered in commit
    order (sites.append_version takes HISTORY_LOCK), so a registry version always names a state that existed."""
    if conn.in_transaction:
        conn.execute("SAVEPOINT nested")
        try:
            yield conn
        except BaseException:
            if not conn.raw.closed:
                conn.execute("ROLLBACK TO nested")
                conn.execute("RELEASE nested")
            raise
        else:
            conn.execute("RELEASE nested")
        return
    conn.execute("BEGIN")
    conn.writing = True
    try:
        yield conn
    except BaseException:
        conn.writing = False
        if not conn.raw.closed and conn.raw.info.transaction_status != TransactionStatus.UNKNOWN:
            conn.raw.execute("ROLLBACK")
        raise
    else:
        conn.writing = False
        conn.execute("COMMIT")


@contextmanager
def read_snapshot(conn: PgConnection) -> Iterator[PgConnection]:
    """Several reads that see one state of the registry (REPEATABLE READ, read only); inside a transaction, that one."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield conn
    finally:
        if not conn.raw.closed and conn.raw.info.transaction_status != TransactionStatus.UNKNOWN:
            conn.raw.execute("COMMIT")


def advisory_lock(conn: PgConnection, key: int, *, shared: bool = False) -> None:
    """Take a transaction-scoped advisory lock (released at commit or rollback)."""
    conn.execute(f"SELECT pg_advisory_xact_lock{'_shared' if shared else ''}(?)", (key,))
