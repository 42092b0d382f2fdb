"""Role matrix of the site import (picked up by tests/test_auth.py): every page and call is for admins
(``import.run``). Factories create a small import through the domain and wait until its analysis is ready.

The upload API takes a file (multipart), which the API matrix, sending JSON bodies, cannot carry: it is listed with
the web forms, which post multipart with a signed-in session and its CSRF token (the API accepts those too);
tests/test_import.py uploads with Bearer tokens."""
from __future__ import annotations

import io
import time

from fossil_registry import imports, store

CSV = "名称,经度,纬度,级别\n矩阵测试点,105.61,26.41,一般\n"


def ready_import(app) -> int:
    conn = store.connect(app.config["REGISTRY"])
    try:
        settings = imports.Settings.from_config(app.config)
        imp = imports.create(conn, "matrix.csv", CSV.encode(), {}, actor="matrix", settings=settings)
        deadline = time.monotonic() + 60
        while imports.get(conn, imp["fid"])["state"] == "analysing" and time.monotonic() < deadline:
            time.sleep(0.05)
        return imp["fid"]
    finally:
        conn.close()


def _upload() -> dict:
    return {"file": (io.BytesIO(CSV.encode()), "matrix.csv")}


WEB = {
    "imports.index": ("GET", "/imports", None, "admin"),
    "imports.template": ("GET", "/imports/template.csv", None, "admin"),
    "imports.upload": ("POST", "/imports", _upload, "admin"),
    "imports.detail": ("GET", lambda app: f"/imports/{ready_import(app)}", None, "admin"),
    "imports.mapping": ("POST", lambda app: f"/imports/{ready_import(app)}/mapping",
                        lambda: {"map_0": "name", "map_1": "x", "map_2": "y"}, "admin"),
    "imports.confirm": ("POST", lambda app: f"/imports/{ready_import(app)}/confirm",
                        lambda: {"generation": "1", "reason": "role matrix"}, "admin"),
    "imports_api.upload": ("POST", "/api/imports", _upload, "admin"),
}

API = {
    "imports_api.list_imports": ("GET", "/api/imports", None, "admin"),
    "imports_api.get_import": ("GET", lambda app: f"/api/imports/{ready_import(app)}", None, "admin"),
    "imports_api.mapping": ("POST", lambda app: f"/api/imports/{ready_import(app)}/mapping",
                            lambda: {"distance_m": 80}, "admin"),
    "imports_api.confirm": ("POST", lambda app: f"/api/imports/{ready_import(app)}/confirm",
                            lambda: {"generation": 1, "reason": "role matrix"}, "admin"),
    "imports_api.summary": ("GET", lambda app: f"/api/imports/{ready_import(app)}/summary", None, "admin"),
    "imports_api.summary_csv": ("GET", lambda app: f"/api/imports/{ready_import(app)}/summary.csv", None, "admin"),
}
