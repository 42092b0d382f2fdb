"""Downloads API: the catalogue (GET /api/downloads) and the files (GET /api/downloads/<layer>.<extension>). Anonymous
callers get the public view, staff (a session or an API token) the exact data. The domain is
fossil_registry.downloads; http/downloads.py does what the page shares with this module."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from .. import downloads
from ..http import openapi as api_spec
from ..http.downloads import catalogue, send
from ..http.openapi import (BOOLEAN, INTEGER, STRING, array, enum, json_response, nullable, obj, op, param, path_param,
                            problem_responses, ref)
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
    api_spec.register(app, PATHS, SCHEMAS)


# ------------------------------------------------------------------------------------------------------ OpenAPI
_TAGS = ["Downloads"]
_NAME = path_param("name", "<layer>.<extension>: a layer (sites, boundaries; staff: inspections, patrol-tracks; "
                           "registry: the whole registry, GeoPackage only) and a format ("
                           + ", ".join(downloads.FORMATS) + ")",
                   {"type": "string", "pattern": r"^[a-z-]+\.[a-z.]+$", "example": "sites.gpkg"})
_FILTERS = sorted({q for layer in downloads.LAYERS.values() if layer.collection for q in layer.collection.queryables})
_PARAMS = [
    _NAME,
    param("crs", description="CRS of the file: CRS84, EPSG:4490 (CGCS2000) or a CGCS2000 Gauss-Krüger zone of the "
                             "region, as a URI or EPSG:<code> (default: GeoJSON, KML and KMZ CRS84, others EPSG:4490; "
                             "KML and KMZ take CRS84 only)"),
    param("bbox", schema={"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
          description="only features intersecting the box: min, min, max, max in the axis order of bbox-crs",
          style="form", explode=False),
    param("bbox-crs", description="CRS of bbox (default CRS84)"),
    *[param(name, description=f"filter on {name} (comma-separated values)") for name in _FILTERS],
]
_FILE = {"description": "the file, streamed; Content-Disposition names it with the day",
         "headers": {"Content-Disposition": {"schema": {"type": "string"}},
                     "Content-Crs": {"schema": {"type": "string"}, "description": "the CRS of the coordinates"},
                     "X-Feature-Count": {"schema": {"type": "integer"}},
                     "X-Shapefile-Renamed": {"schema": {"type": "string"},
                                             "description": "Shapefile: field=shortened name, ..."},
                     "X-Shapefile-Cut": {"schema": {"type": "string"},
                                         "description": "Shapefile: field=values cut to 254 bytes, ..."}},
         "content": {f.media_type: {"schema": {"type": "string", "format": "binary"}}
                     for f in downloads.FORMATS.values()}}
_LAYER = {"id": enum(sorted(downloads.LAYERS)), "title": STRING, "title_zh": STRING, "staff_only": BOOLEAN,
          "geometry": nullable(STRING), "formats": array(STRING), "links": array(ref("Link"))}
SCHEMAS = {
    "DownloadCatalogue": obj({
        "audience": enum(["public", "staff"]), "notice": STRING,
        "layers": array({"oneOf": [
            obj({**_LAYER, "fields": array(STRING), "shapefile_fields": {
                "type": "object", "additionalProperties": STRING,
                "description": "field: its name in a Shapefile (10 characters at most)"}, "filters": array(STRING)}),
            obj({**_LAYER, "content": {"type": "string", "description": "what the whole registry holds"}})]}),
        "formats": array(obj({"extension": STRING, "title": STRING, "media_type": STRING, "default_crs": STRING,
                              "crs": STRING, "note": STRING})),
        "crs": array(obj({"uri": STRING, "epsg": nullable(INTEGER), "label": STRING})),
        "parameters": obj({k: STRING for k in ("bbox", "bbox-crs", "crs", "filters")})},
        description="what can be downloaded (layers: a layer of features, or the whole registry)"),
}
PATHS = {
    "/api/downloads": {"get": op("What can be downloaded: layers (with a link per format), formats, CRSs",
                                 tags=_TAGS, operation_id="getDownloads",
                                 responses={"200": json_response(ref("DownloadCatalogue"))})},
    "/api/downloads/{name}": {"get": op(
        "A layer (or the whole registry) as a file: anonymous callers get the public view, staff the exact data",
        tags=_TAGS, params=_PARAMS, operation_id="getDownload",
        responses={"200": _FILE, **problem_responses(400, 401, 404)})},
}
