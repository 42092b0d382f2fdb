"""Flask glue for the store: one connection per request (on ``g``), taken from a small pool and given back at teardown.
No SQL here.

Why a pool: opening a SQLite connection costs little, but closing the LAST connection to a WAL database checkpoints
and deletes the -wal and -shm files, which the next request then creates again; measured, that was most of the time
of a small read (docs/ogcapi.md). Pooled connections stay open, so SQLite keeps its page cache and the WAL between
requests (it checkpoints by itself every 1,000 pages). A connection goes back only outside a transaction (a request
that failed mid-write is rolled back first), and a pool whose file was replaced (a restore) is emptied.

PostGIS (FLASK_DATABASE_URL): psycopg's pool does this job (store/pg.py); ``close()`` gives the connection back to it.
With FLASK_DATABASE_READ_URL set, a request that http/security.py marks as read-only for a replica (anonymous reads,
the OGC API) gets its connection from the replica; everything else, and everything before that decision (who the
caller is, whether their session still stands), reads the primary."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from flask import current_app, g

from . import store

POOL_SIZE = 16  # idle connections kept per registry file (waitress runs 8 threads by default)


@dataclass
class _Pool:
    path: str
    identity: tuple[int, int] | None = None           # (st_dev, st_ino) of the file the idle connections opened
    idle: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self):
        current = _identity(self.path)
        with self.lock:
            if current != self.identity:
                stale, self.idle, self.identity = self.idle, [], current
            else:
                stale = []
            conn = self.idle.pop() if self.idle else None
        for old in stale:
            old.close()
        return conn if conn is not None else store.connect(self.path)

    def give_back(self, conn) -> None:
        if conn.in_transaction:
            conn.rollback()
        with self.lock:
            keep = len(self.idle) < POOL_SIZE and _identity(self.path) == self.identity
            if keep:
                self.idle.append(conn)
        if not keep:
            conn.close()

    def close_all(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _pool() -> _Pool:
    path = str(current_app.config["REGISTRY_PATH"])
    pools = current_app.extensions.setdefault("registry_pools", {})
    if path not in pools:
        pools[path] = _Pool(path)
    return pools[path]


def get_conn():
    if g.get("registry_read_only") and current_app.config.get("DATABASE_READ_URL"):
        if "registry_read_conn" not in g:
            g.registry_read_conn = store.connect(current_app.config["DATABASE_READ_URL"], readonly=True)
        return g.registry_read_conn
    if "registry_conn" not in g:
        location = current_app.config["REGISTRY"]
        g.registry_conn = store.connect(location) if store.dialect.is_url(location) else _pool().take()
    return g.registry_conn


def use_read_replica() -> None:
    """From now on this request reads the replica, if one is configured."""
    g.registry_read_only = True


def close_conn(_exc=None):
    read = g.pop("registry_read_conn", None)
    if read is not None:
        read.close()
    conn = g.pop("registry_conn", None)
    if conn is None:
        return
    if store.dialect.is_pg(conn):
        conn.close()  # back to psycopg's pool, which rolls back what a failed request left open
    else:
        _pool().give_back(conn)


def close_idle(app) -> None:
    """Close the idle connections (before the file is replaced or removed by the process that holds the app)."""
    for pool in app.extensions.get("registry_pools", {}).values():
        pool.close_all()


def init_app(app):
    app.teardown_appcontext(close_conn)
