"""JSON API of impact screening: POST /api/impact screens a footprint (anyone; anonymous callers get the public view
and a rate limit), saved screenings and project cases for staff. docs/impact.md documents every call.

POST /api/impact ignores session cookies (``security.sessionless``): its caller is anonymous unless it sends an API
token, so it needs no CSRF token and any planning office's script can use it."""
from __future__ import annotations

import functools

from flask import Blueprint, abort, request

from .. import impact
from ..db import get_conn
from ..errors import InvalidInput, MiB
from ..http import openapi as api_spec
from ..http.errors import problem
from ..http.openapi import (file_response, json_body, json_response, op, param, path_param, problem_responses,
                            schema_of)
from ..http.links import external_url
from ..http.limits import screen_limit, too_many_screenings_message
from ..http.requests import conforms, json_object, read_upload
from ..http.responses import impact_download, impact_json, jsonify
from ..http.security import actor, can, remote_addr, require, sessionless
from ..http.settings import impact_settings
from ..http.idempotency import idempotent, nothing_created
from ..messages import msg

bp = Blueprint("impact_api", __name__, url_prefix="/api")

HINT = ('send JSON {"footprint": GeoJSON, "crs": "EPSG:4545", "width_m": 30, "buffers_m": [0, 200, 500, 1000, 5000]} '
        "or multipart/form-data with a file")


@bp.errorhandler(429)
def _too_many(exc):
    return problem(429, "Too many requests", too_many_screenings_message())


def _truthy(value, name: str = "save") -> bool:
    """A yes/no field: JSON true/false, or a form's on/1/true/yes (off/0/false/no or empty: no); nothing else."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in (*_YES, *_NO):
        raise InvalidInput(msg('api.name_true_false_got', '{name} must be true or false (got {str!r})', name=name, str=str(value)[:20]), field=name)
    return text in _YES


_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _request_fields(settings: impact.Settings) -> tuple[dict, tuple[str, bytes] | None]:
    request.max_content_length = settings.limits.max_file_bytes + MiB  # refused (413) before the body is read
    if request.mimetype == "multipart/form-data":
        storage = request.files.get("file")
        file = read_upload(storage, settings.limits.max_file_bytes) if storage and storage.filename else None
        return request.form.to_dict(), file
    return json_object(HINT, required=True), None


@functools.cache
def _checked_types() -> tuple:
    """The types of the answer's format (in the query, in the body) and of the title: the models' (api/models/impact.py),
    the ones the OpenAPI document shows, made once; imported by the first screening, not by the server's start."""
    from .models import impact as m

    return m.QueryFormat | None, m.ImpactRequest.model_fields["format"].annotation, m.Title


def _answer_format(fields: dict) -> str:
    """json or gpkg, from ?format= or else the body's format (an empty form field: not given); both are checked
    before anything is screened or saved, so that a typo is not answered in JSON."""
    query, body = request.args.get("format"), fields.get("format")
    query_format, body_format, _ = _checked_types()
    for given, tp in ((query, query_format), (body, body_format)):
        if not conforms(tp, given):
            raise InvalidInput(msg('api.format_json_gpkg_got', 'format must be json or gpkg (got {str!r})', str=str(given)[:20]), field="format")
    return query or body or "json"


def _saved_url(result: impact.Result) -> dict:
    return {"url": external_url("impact.screening_page", screening_id=result.screening_id)}


@bp.post("/impact")
@sessionless
@require("impact.screen")
@screen_limit
@idempotent
def screen():
    settings = impact_settings()
    fields, file = _request_fields(settings)
    save, answer_format = _truthy(fields.get("save")), _answer_format(fields)
    if not conforms(_checked_types()[2], fields.get("title")):  # checked saved or not
        raise InvalidInput(msg('api.title_text', 'the title must be text'), field="title")
    if save and not can("impact.save"):
        abort(403 if can("site.read_exact") else 401, "Saving screenings is for signed-in staff.")
    footprint = impact.from_fields(fields, settings, file=file)
    conn = get_conn()
    result = impact.screen(conn, footprint, settings.with_rings(fields.get("buffers_m")), exact=can("site.read_exact"))
    extra = {}
    if save:
        result = impact.save(conn, result, title=fields.get("title"), actor=actor(), remote_addr=remote_addr())
        extra = _saved_url(result)
    else:
        nothing_created()  # an unsaved screening: its answer is not kept for an Idempotency-Key's retries
    if answer_format == "gpkg":
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
@idempotent
def rerun(screening_id: int):
    result = impact.rerun(get_conn(), screening_id, impact_settings(), actor=actor(), remote_addr=remote_addr())
    response = jsonify(impact_json(result, **_saved_url(result)))
    response.status_code = 201
    return response


@bp.post("/impact/screenings/<int:screening_id>/cases")
@require("impact.case")
@idempotent
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


# ------------------------------------------------------------------------------------------------------ OpenAPI
def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import impact as m
    from .models.common import Id

    _TAGS = ["Impact screening"]
    _SCREENING = path_param("screening_id", "a saved screening's number", Id, example=1)
    _CASE_ID = path_param("case_id", "a project case's number", Id, example=1)
    PATHS = {
        "/api/impact": {"post": op(
            "Screen a construction project's footprint against the registry (anyone: anonymous callers get the public "
            "view and a rate limit; no CSRF token, session cookies are ignored)", tags=_TAGS,
            operation_id="screenFootprint", params=[param("format", schema=m.QueryFormat,
                                                          description="gpkg: the result as a GeoPackage")],
            body=json_body(m.ImpactRequest, multipart=m.ImpactMultipart, form=m.ImpactForm,
                           example={"footprint": {"type": "LineString", "coordinates": [[105.36, 25.87], [105.4, 25.9]]},
                                    "width_m": 30}),
            responses={"200": file_response("application/geopackage+sqlite3", "the result") | {"content": {
                "application/json": {"schema": schema_of(m.ScreeningResult)},
                "application/geopackage+sqlite3": {"schema": schema_of(bytes)}}},
                "201": json_response(m.SavedScreening, "saved (save: true)"),
                **problem_responses(400, 403, 413, 422, 429)})},
        "/api/impact/screenings": {"get": op(
            "Saved screenings, newest first", tags=_TAGS, auth=True, operation_id="listScreenings",
            responses={"200": json_response(m.Screenings), **problem_responses(403)})},
        "/api/impact/screenings/{screening_id}": {"get": op(
            "A saved screening", tags=_TAGS, auth=True, operation_id="getScreening", params=[_SCREENING],
            responses={"200": json_response(m.SavedScreening), **problem_responses(403, 404)})},
        "/api/impact/screenings/{screening_id}/reproduce": {"get": op(
            "Screen it again against the registry as it was, and compare", tags=_TAGS, auth=True,
            operation_id="reproduceScreening", params=[_SCREENING],
            responses={"200": json_response(m.Reproduction), **problem_responses(403, 404)})},
        "/api/impact/screenings/{screening_id}/rerun": {"post": op(
            "Screen it again against today's registry (a new saved screening)", tags=_TAGS, auth=True,
            operation_id="rerunScreening", params=[_SCREENING],
            responses={"201": json_response(m.SavedScreening), **problem_responses(403, 404, 422)})},
        "/api/impact/screenings/{screening_id}/cases": {"post": op(
            "Open a project case on a saved screening", tags=_TAGS, auth=True, operation_id="openCase",
            params=[_SCREENING], body=json_body(m.NewCase, form=m.CaseForm),
            responses={"201": json_response(m.Case), **problem_responses(400, 403, 404, 413, 422)})},
        "/api/impact/cases": {"get": op(
            "Project cases, flagged ones (registry changed since their screening) first", tags=_TAGS, auth=True,
            operation_id="listCases", responses={"200": json_response(m.Cases), **problem_responses(403)})},
        "/api/impact/cases/{case_id}": {
            "get": op("A project case with its history and the registry changes since its screening", tags=_TAGS,
                      auth=True, operation_id="getCase", params=[_CASE_ID],
                      responses={"200": json_response(m.Case), **problem_responses(403, 404)}),
            "post": op("Change a case's stage, decision, conditions or particulars (at the version read)", tags=_TAGS,
                       auth=True, operation_id="updateCase", params=[_CASE_ID],
                       body=json_body(m.CaseUpdate, form=m.CaseUpdateForm),
                       responses={"200": json_response(m.Case), **problem_responses(400, 403, 404, 409, 413, 422)})},
        "/api/impact/cases/{case_id}/rescreen": {"post": op(
            "Screen the case's footprint again and make it the case's screening (at the version read)", tags=_TAGS,
            auth=True, operation_id="rescreenCase", params=[_CASE_ID],
            body=json_body(m.CaseVersion, form=m.CaseVersionForm),
            responses={"200": json_response(m.Case), **problem_responses(400, 403, 404, 409, 413, 422)})},
    }
    return PATHS, m.MODELS


def init_app(app) -> None:
    api_spec.register(app, _openapi)
    impact.Settings.from_config(app.config)  # a bad IMPACT_RULES or IMPACT_RINGS_M fails at start, not on a request
    app.register_blueprint(bp)
