"""Downloads API: the catalogue (GET /api/downloads) and the files (GET /api/downloads/<layer>.<extension>). Anonymous
callers get the public view, staff (a session or an API token) the exact data. The domain is
fossil_registry.downloads; http/downloads.py does what the page shares with this module."""
from __future__ import annotations

from typing import Annotated

from flask import Blueprint, jsonify, request
from pydantic import Field

from .. import downloads
from ..http import openapi as api_spec
from ..http.downloads import catalogue, send
from ..http.openapi import (CONTENT_CRS, file_response, header, json_response, op, param, path_param,
                            problem_responses)
from ..http.security import require

bp = Blueprint("downloads_api", __name__, url_prefix="/api/downloads")


@bp.get("", strict_slashes=False)
@require("public.read")
def index():
    return jsonify(catalogue())


@bp.get("/<name>")
@require("public.read")
def download(name: str):
    return send(name, {k: request.args.getlist(k) for k in request.args})


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)


# ------------------------------------------------------------------------------------------------------ OpenAPI
def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import downloads as m

    _TAGS = ["Downloads"]
    _NAME = path_param("name", "<layer>.<extension>: a layer (sites, boundaries; staff: inspections, patrol-tracks; "
                               "registry: the whole registry, GeoPackage only) and a format ("
                               + ", ".join(downloads.FORMATS) + ")",
                       Annotated[str, Field(pattern=r"^[a-z-]+\.[a-z.]+$")], example="sites.gpkg")
    _FILTERS = sorted({q for layer in downloads.LAYERS.values() if layer.collection for q in layer.collection.queryables})
    _PARAMS = [
        _NAME,
        param("crs", description="CRS of the file: CRS84, EPSG:4490 (CGCS2000) or a CGCS2000 Gauss-Krüger zone of the "
                                 "region, as a URI or EPSG:<code> (default: GeoJSON, KML and KMZ CRS84, others EPSG:4490; "
                                 "KML and KMZ take CRS84 only)"),
        param("bbox", schema=Annotated[list[float], Field(min_length=4, max_length=6)],
              description="only features intersecting the box: min, min, max, max in the axis order of bbox-crs",
              style="form", explode=False),
        param("bbox-crs", description="CRS of bbox (default CRS84)"),
        *[param(name, description=f"filter on {name} (comma-separated values)") for name in _FILTERS],
    ]
    _FILE = file_response([f.media_type for f in downloads.FORMATS.values()],
                          "the file, streamed; Content-Disposition names it with the day", headers={
                              "Content-Disposition": header("", required=False), **CONTENT_CRS,
                              "X-Feature-Count": header("", int, required=False),
                              "X-Shapefile-Renamed": header("Shapefile: field=shortened name, ...", required=False),
                              "X-Shapefile-Cut": header("Shapefile: field=values cut to 254 bytes, ...", required=False)})
    PATHS = {
        "/api/downloads": {"get": op("What can be downloaded: layers (with a link per format), formats, CRSs",
                                     tags=_TAGS, operation_id="getDownloads",
                                     responses={"200": json_response(m.DownloadCatalogue)})},
        "/api/downloads/{name}": {"get": op(
            "A layer (or the whole registry) as a file: anonymous callers get the public view, staff the exact data",
            tags=_TAGS, params=_PARAMS, operation_id="getDownload",
            responses={"200": _FILE, **problem_responses(400, 401, 404)})},
    }
    return PATHS, m.MODELS
