"""JSON API of the field kits: check out a kit (the zip comes back), read a kit and its check-ins, check a kit in.
Thin: parsing and authorization here, rules in fossil_registry.fieldkit."""
from __future__ import annotations

from flask import Blueprint, request, send_file, url_for

from .. import fieldkit
from ..db import get_conn
from ..errors import InvalidInput
from ..http.responses import jsonify
from ..http.requests import allow_request_bytes, json_object, uploaded_file
from ..http.security import actor, remote_addr, require
from ..http.settings import fieldkit_settings
from ..messages import msg

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
                             basemap=with_basemap, remote_addr=remote_addr())
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
def check_in(kit_id: str):
    settings = fieldkit_settings()
    filename, data = uploaded_file("file", settings.max_upload_bytes, "the kit's fieldkit.gpkg or a zip of its folder")
    found = fieldkit.check_in(get_conn(), filename, data, actor=actor(), settings=settings, kit_id=kit_id,
                              remote_addr=remote_addr())
    return jsonify(_checkin_json(found)), 201 if found["summary"]["proposed"] else 200


def _checkin_json(found: dict) -> dict:
    summary = found["summary"]
    for item in summary["proposed"] + summary["already_proposed"]:
        item["url"] = url_for("revisions_api.get_revision", revision_id=item["revision"])
    return {"id": found["fid"], "kit": found["kit_id"], "checked_in_at": found["checked_in_at"],
            "checked_in_by": found["checked_in_by"], "file": found["filename"], "sha256": found["sha256"],
            "counts": {k: len(v) for k, v in summary.items()}, **summary}


def init_app(app) -> None:
    app.register_blueprint(bp)
