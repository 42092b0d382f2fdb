"""Flask glue for the store: one connection per request (on ``g``), closed at teardown. No SQL here."""
from __future__ import annotations

from flask import current_app, g

from . import store


def get_conn():
    if "registry_conn" not in g:
        g.registry_conn = store.connect(current_app.config["REGISTRY"])
    return g.registry_conn


def close_conn(_exc=None):
    conn = g.pop("registry_conn", None)
    if conn is not None:
        conn.close()


def init_app(app):
    app.teardown_appcontext(close_conn)
