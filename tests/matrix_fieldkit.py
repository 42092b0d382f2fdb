"""Role matrix of the field kits (picked up by tests/test_auth.py). Factories check a kit out through the domain and
hand the request its GeoPackage.

The check-in API takes a file (multipart or the raw body), which the API matrix, sending JSON bodies, cannot carry: it
is listed with the web forms, which post multipart with a signed-in session and its CSRF token (the API accepts
those too); tests/test_fieldkit.py checks it in with Bearer tokens."""
from __future__ import annotations

import io
import itertools
import zipfile

from fossil_registry import fieldkit
from fossil_registry.db import get_conn

_SITES = itertools.cycle([f"GZ-{i:04d}" for i in range(60, 75)])


def _kit(app) -> tuple[str, bytes]:
    with app.app_context():
        kit = fieldkit.check_out(get_conn(), fieldkit.parse_area({"sites": [next(_SITES)]}), actor="matrix",
                                 settings=fieldkit.Settings.from_config(app.config))
    with zipfile.ZipFile(kit.file) as zf:
        return kit.kit_id, zf.read(next(n for n in zf.namelist() if n.endswith(".gpkg")))


def _upload(app) -> dict:
    return {"file": (io.BytesIO(_kit(app)[1]), "fieldkit.gpkg")}


def _checkin_url(app) -> str:
    kit_id, data = _kit(app)
    _PENDING[kit_id] = data
    return f"/api/fieldkits/{kit_id}/checkin"


_PENDING: dict[str, bytes] = {}


def _pending_upload() -> dict:
    kit_id, data = _PENDING.popitem()
    return {"file": (io.BytesIO(data), "fieldkit.gpkg")}


def _summary(app) -> str:
    kit_id, data = _kit(app)
    with app.app_context():
        found = fieldkit.check_in(get_conn(), "fieldkit.gpkg", data, actor="matrix",
                                  settings=fieldkit.Settings.from_config(app.config))
    return f"/fieldkit/checkins/{found['fid']}"


WEB = {
    "fieldkit.index": ("GET", "/fieldkit", None, "field"),
    "fieldkit.check_out": ("POST", "/fieldkit", lambda: {"area": "sites", "sites": next(_SITES)}, "field"),
    "fieldkit.check_in": ("POST", "/fieldkit/checkin", _upload, "field"),
    "fieldkit.checkin_summary": ("GET", _summary, None, "field"),
    "fieldkit_api.check_in": ("POST", _checkin_url, _pending_upload, "field"),
}

API = {
    "fieldkit_api.check_out": ("POST", "/api/fieldkits", lambda: {"sites": [next(_SITES)], "basemap": False},
                               "field"),
    "fieldkit_api.list_kits": ("GET", "/api/fieldkits", None, "field"),
    "fieldkit_api.get_kit": ("GET", lambda app: f"/api/fieldkits/{_kit(app)[0]}", None, "field"),
}
