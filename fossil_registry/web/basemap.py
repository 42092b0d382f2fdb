"""The offline basemap's tiles, served by the app itself from the operator's MBTiles file (OFFLINE_BASEMAP), so that
maps have a real basemap with no internet and the CSP's img-src stays 'self'. BASEMAP = "offline" draws them under
every map (maps.py). The file is checked when the app starts: a missing or unusable one stops it with a clear message."""
from __future__ import annotations

from flask import Blueprint, Response, current_app

from .. import fieldkit
from ..http.security import require

bp = Blueprint("basemap", __name__)


@bp.get("/basemap/tiles/<int:z>/<int:x>/<int:y>")
@require("public.read")
def tile(z: int, x: int, y: int):
    path = current_app.config.get("OFFLINE_BASEMAP")
    found = fieldkit.tile(path, z, x, y) if path else None
    if found is None:  # outside the file (or none configured): an empty answer, not an error page per missing tile
        return Response(status=404)
    data, mimetype = found
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"  # answers to signed-in callers stay no-store
    return response


def init_app(app) -> None:
    path = app.config.get("OFFLINE_BASEMAP")
    if path:
        fieldkit.open_basemap(path)  # BasemapError at start-up, naming the setting and the problem
    app.register_blueprint(bp)
