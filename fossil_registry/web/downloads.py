"""The downloads page: every layer the caller may download in every format (links to the downloads API), and a form
to choose a coordinate system or an area. Thin: the rules are in fossil_registry.downloads, the shared glue in
http/downloads.py."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from .. import downloads
from ..errors import RegistryError
from ..http.downloads import catalogue, send, staff
from ..http.security import require

bp = Blueprint("downloads", __name__)


def _page(*, error: str | None = None, status: int = 200):
    return render_template("downloads/index.html", catalogue=catalogue(), staff=staff(), error=error,
                           form=request.args, formats=downloads.FORMATS), status


@bp.get("/downloads")
@require("public.read")
def index():
    return _page()


@bp.get("/downloads/file")
@require("public.read")
def file():
    """The form's download: layer, format, crs and bbox as chosen; a refused choice shows the page again, saying why."""
    layer, fmt = request.args.get("layer", ""), request.args.get("format", "")
    args = {k: [v] for k in ("crs", "bbox") if (v := request.args.get(k, "").strip())}
    try:
        return send(f"{layer}.{fmt}", args)
    except RegistryError as exc:
        if exc.status not in (400, 401, 404):
            raise
        return _page(error=exc.detail, status=exc.status)


def init_app(app) -> None:
    app.register_blueprint(bp)
