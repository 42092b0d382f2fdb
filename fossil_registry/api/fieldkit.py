"""JSON API of the field kits: check out a kit (the zip comes back), read a kit and its check-ins, check a kit in.
Thin: parsing and authorization here, rules in fossil_registry.fieldkit."""
from __future__ import annotations

from flask import Blueprint, current_app, request, send_file, url_for

from .. import county_context, fieldkit
from ..db import get_conn
from ..errors import InvalidInput
from ..http.responses import jsonify
from ..http import openapi as api_spec
from ..http.openapi import (LOCATION, file_response, form, header, json_body, json_response, op, path_param,
                            problem_responses, schema_of)
from ..http.requests import allow_request_bytes, json_object, uploaded_file
from ..http.security import actor, remote_addr, require
from ..http.settings import fieldkit_settings
from ..http.idempotency import idempotent
from ..i18n import translate
from ..messages import from_record, msg

bp = Blueprint("fieldkit_api", __name__, url_prefix="/api")

AREA_HINT = ('send {"bbox": [min_lon, min_lat, max_lon, max_lat]}, {"county": "Guanling"} or {"sites": ["GZ-0001"]}, '
             'and "basemap": false to leave the offline basemap out')


@bp.before_request
def _upload_limit():
    if request.endpoint == "fieldkit_api.check_in":
        allow_request_bytes(fieldkit_settings().max_upload_bytes)


@bp.post("/fieldkits")
@require("fieldkit.use")
def check_out():
    body = json_object(AREA_HINT, required=True)
    with_basemap = body.get("basemap", True)
    if not isinstance(with_basemap, bool):
        raise InvalidInput(msg("api.basemap_must_true_false", "basemap must be true or false"))
    kit = fieldkit.check_out(get_conn(), fieldkit.parse_area(body), actor=actor(), settings=fieldkit_settings(),
                             basemap=with_basemap, remote_addr=remote_addr(),
                             context=county_context.load(current_app.config))
    response = send_file(kit.file, mimetype="application/zip", as_attachment=True, download_name=kit.filename,
                         max_age=0)
    response.status_code = 201
    response.headers["Location"] = url_for("fieldkit_api.get_kit", kit_id=kit.kit_id)
    response.headers["X-Fieldkit-Id"] = kit.kit_id
    return response


@bp.get("/fieldkits")
@require("fieldkit.use")
def list_kits():
    kits = fieldkit.list_kits(get_conn(), limit=200)
    return jsonify({"kits": [{"id": k["kit_id"], "issued_by": k["issued_by"], "issued_at": k["issued_at"],
                              "area": k["area"], "sites": len(k["sites"]), "checkins": k["checkins"],
                              "url": url_for("fieldkit_api.get_kit", kit_id=k["kit_id"])} for k in kits]})


@bp.get("/fieldkits/<kit_id>")
@require("fieldkit.use")
def get_kit(kit_id: str):
    return jsonify(fieldkit.kit_json(fieldkit.get_kit(get_conn(), kit_id)))


@bp.post("/fieldkits/<kit_id>/checkin")
@require("fieldkit.use")
@idempotent
def check_in(kit_id: str):
    settings = fieldkit_settings()
    filename, data = uploaded_file("file", settings.max_upload_bytes, "the kit's fieldkit.gpkg or a zip of its folder")
    found = fieldkit.check_in(get_conn(), filename, data, actor=actor(), settings=settings, kit_id=kit_id,
                              remote_addr=remote_addr())
    return jsonify(_checkin_json(found)), 201 if found["summary"]["proposed"] else 200


def _reason_read(item: dict) -> dict:
    """A refused item or an unused photo as the API gives it: the stored reason in the caller's language, without the
    message record it is kept as (check-in summaries stored before records were kept have only the text)."""
    record = ("message", "message_code", "msgid", "params", "items")
    shown = {k: v for k, v in item.items() if k not in record}
    return {**shown, "reason": translate(from_record(item) or item["reason"])}


def _checkin_json(found: dict) -> dict:
    summary = dict(found["summary"])
    for key in ("refused", "photos_not_used"):
        summary[key] = [_reason_read(item) for item in summary.get(key, [])]
    for item in summary["proposed"] + summary["already_proposed"]:
        item["url"] = url_for("revisions_api.get_revision", revision_id=item["revision"])
    return {"id": found["fid"], "kit": found["kit_id"], "checked_in_at": found["checked_in_at"],
            "checked_in_by": found["checked_in_by"], "file": found["filename"], "sha256": found["sha256"],
            "counts": {k: len(v) for k, v in summary.items()}, **summary}


# ------------------------------------------------------------------------------------------------------ OpenAPI
def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import fieldkit as m

    _TAGS = ["Field kits"]
    _KIT = path_param("kit_id", "the kit's id (X-Fieldkit-Id)", example="0" * 32)
    _FILE = schema_of(bytes)
    PATHS = {
        "/api/fieldkits": {
            "post": op("Check out a field kit for a box, a county or a list of sites", tags=_TAGS, auth=True,
                       operation_id="checkOutFieldkit", body=json_body(m.FieldkitArea),
                       responses={"201": file_response("application/zip", "the kit (a zip: GeoPackage, QGIS project, "
                                                                          "basemap, README)", headers={
                           **LOCATION, "X-Fieldkit-Id": header("the kit's id"),
                           "Content-Disposition": header("attachment; filename=fieldkit-<id>.zip")}),
                                  **problem_responses(400, 403, 413, 422)}),
            "get": op("The latest kits issued (200 at most), newest first", tags=_TAGS, auth=True,
                      operation_id="listFieldkits",
                      responses={"200": json_response(m.Fieldkits), **problem_responses(403)})},
        "/api/fieldkits/{kit_id}": {"get": op(
            "A kit: its area, the base version of each site, its check-ins", tags=_TAGS, auth=True,
            operation_id="getFieldkit", params=[_KIT],
            responses={"200": json_response(m.Fieldkit), **problem_responses(403, 404)})},
        "/api/fieldkits/{kit_id}/checkin": {"post": op(
            "Check in an edited kit: its fieldkit.gpkg or a zip of the kit folder (multipart field file, or the raw "
            "body)", tags=_TAGS, auth=True, operation_id="checkInFieldkit", params=[_KIT], body={
                "required": True, "content": {
                    "multipart/form-data": {"schema": schema_of(form("CheckinUpload", required=["file"], file=bytes))},
                    "application/octet-stream": {"schema": _FILE},
                    "application/zip": {"schema": _FILE},
                    "application/geopackage+sqlite3": {"schema": _FILE}}},
            responses={"201": json_response(m.Checkin, "proposals were made"),
                       "200": json_response(m.Checkin, "nothing new was proposed"),
                       **problem_responses(403, 404, 409, 413, 422)})},
    }
    return PATHS, m.MODELS


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)
