"""JSON API of impact screening: POST /api/impact screens a footprint (anyone; anonymous callers get the public view
and a rate limit), saved screenings and project cases for staff. docs/impact.md documents every call.

POST /api/impact ignores session cookies (``security.sessionless``): its caller is anonymous unless it sends an API
token, so it needs no CSRF token and any planning office's script can use it."""
from __future__ import annotations

from flask import Blueprint, abort, request, url_for

from .. import impact
from ..db import get_conn
from ..errors import MiB
from ..http.errors import problem
from ..http.limits import screen_limit, too_many_screenings_message
from ..http.requests import json_object, read_upload
from ..http.responses import impact_download, impact_json, jsonify
from ..http.security import actor, can, remote_addr, require, sessionless
from ..http.settings import impact_settings

bp = Blueprint("impact_api", __name__, url_prefix="/api")

HINT = ('send JSON {"footprint": GeoJSON, "crs": "EPSG:4545", "width_m": 30, "buffers_m": [0, 200, 500, 1000, 5000]} '
        "or multipart/form-data with a file")


@bp.errorhandler(429)
def _too_many(exc):
    return problem(429, "Too many requests", too_many_screenings_message())


def _truthy(value) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def _request_fields(settings: impact.Settings) -> tuple[dict, tuple[str, bytes] | None]:
    request.max_content_length = settings.limits.max_file_bytes + MiB  # refused (413) before the body is read
    if request.mimetype == "multipart/form-data":
        storage = request.files.get("file")
        file = read_upload(storage, settings.limits.max_file_bytes) if storage and storage.filename else None
        return request.form.to_dict(), file
    return json_object(HINT, required=True), None


def _saved_url(result: impact.Result) -> dict:
    return {"url": url_for("impact.screening_page", screening_id=result.screening_id, _external=True)}


@bp.post("/impact")
@sessionless
@require("impact.screen")
@screen_limit
def screen():
    settings = impact_settings()
    fields, file = _request_fields(settings)
    save = _truthy(fields.get("save"))
    if save and not can("impact.save"):
        abort(403 if can("site.read_exact") else 401, "Saving screenings is for signed-in staff.")
    footprint = impact.from_fields(fields, settings, file=file)
    conn = get_conn()
    result = impact.screen(conn, footprint, settings.with_rings(fields.get("buffers_m")), exact=can("site.read_exact"))
    extra = {}
    if save:
        result = impact.save(conn, result, title=fields.get("title"), actor=actor(), remote_addr=remote_addr())
        extra = _saved_url(result)
    if (request.args.get("format") or fields.get("format")) == "gpkg":
        return impact_download(result, impact.site_geometries(conn, result), "gpkg", "screening")
    response = jsonify(impact_json(result, **extra))
    response.status_code = 201 if save else 200
    return response


@bp.get("/impact/screenings")
@require("impact.read")
def screenings():
    return jsonify({"screenings": impact.list_saved(get_conn())})


@bp.get("/impact/screenings/<int:screening_id>")
@require("impact.read")
def screening(screening_id: int):
    result = impact.get_saved(get_conn(), screening_id, impact_settings())
    return jsonify(impact_json(result, **_saved_url(result)))


@bp.get("/impact/screenings/<int:screening_id>/reproduce")
@require("impact.read")
def reproduce(screening_id: int):
    return jsonify(impact.reproduce(get_conn(), screening_id, impact_settings()))


@bp.post("/impact/screenings/<int:screening_id>/rerun")
@require("impact.save")
def rerun(screening_id: int):
    result = impact.rerun(get_conn(), screening_id, impact_settings(), actor=actor(), remote_addr=remote_addr())
    response = jsonify(impact_json(result, **_saved_url(result)))
    response.status_code = 201
    return response


@bp.post("/impact/screenings/<int:screening_id>/cases")
@require("impact.case")
def open_case(screening_id: int):
    body = json_object('send {"name", "developer", "reference", "stage", "decision", "conditions", "note"}',
                       required=True)
    case = impact.open_case(get_conn(), screening_id, body, actor=actor(), remote_addr=remote_addr())
    response = jsonify(impact.get_case(get_conn(), case["fid"], impact_settings()))
    response.status_code = 201
    return response


@bp.get("/impact/cases")
@require("impact.read")
def cases():
    return jsonify({"cases": impact.list_cases(get_conn(), impact_settings())})


@bp.get("/impact/cases/<int:case_id>")
@require("impact.read")
def case(case_id: int):
    return jsonify(impact.get_case(get_conn(), case_id, impact_settings()))


@bp.post("/impact/cases/<int:case_id>")
@require("impact.case")
def update_case(case_id: int):
    body = json_object('send {"version": N, and what changes: "stage", "decision", "conditions", "conditions_note", '
                       '"name", "developer", "reference", "note"}', required=True)
    impact.update_case(get_conn(), case_id, body, base_version=body.get("version"), actor=actor(),
                       remote_addr=remote_addr())
    return jsonify(impact.get_case(get_conn(), case_id, impact_settings()))


@bp.post("/impact/cases/<int:case_id>/rescreen")
@require("impact.case")
def rescreen_case(case_id: int):
    body = json_object('send {"version": N}', required=True)
    impact.rescreen_case(get_conn(), case_id, impact_settings(), base_version=body.get("version"), actor=actor(),
                         remote_addr=remote_addr())
    return jsonify(impact.get_case(get_conn(), case_id, impact_settings()))


def init_app(app) -> None:
    impact.Settings.from_config(app.config)  # a bad IMPACT_RULES or IMPACT_RINGS_M fails at start, not on a request
    app.register_blueprint(bp)
