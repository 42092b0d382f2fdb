"""Flask glue for the store: one connection per request (on ``g``), closed at teardown. No SQL here.

With FLASK_DATABASE_READ_URL set, a request that http/security.py marks as read-only for a replica (anonymous reads,
the OGC API) gets its connection from the replica; everything else, and everything before that decision (who the
caller is, whether their session still stands), reads the primary."""
from __future__ import annotations

from flask import current_app, g

from . import store


def get_conn():
    if g.get("registry_read_only") and current_app.config.get("DATABASE_READ_URL"):
        if "registry_read_conn" not in g:
            g.registry_read_conn = store.connect(current_app.config["DATABASE_READ_URL"], readonly=True)
        return g.registry_read_conn
    if "registry_conn" not in g:
        g.registry_conn = store.connect(current_app.config["REGISTRY"])
    return g.registry_conn


def use_read_replica() -> None:
    """From now on this request reads the replica, if one is configured."""
    g.registry_read_only = True


def close_conn(_exc=None):
    for key in ("registry_conn", "registry_read_conn"):
        conn = g.pop(key, None)
        if conn is not None:
            conn.close()


def init_app(app):
    app.teardown_appcontext(close_conn)
