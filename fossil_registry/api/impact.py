"""JSON API of impact screening: POST /api/impact screens a footprint (anyone; anonymous callers get the public view
and a rate limit), saved screenings and project cases for staff. docs/impact.md documents every call.

POST /api/impact ignores session cookies (``security.sessionless``): its caller is anonymous unless it sends an API
token, so it needs no CSRF token and any planning office's script can use it."""
from __future__ import annotations

from flask import Blueprint, abort, request

from .. import features, impact
from ..db import get_conn
from ..errors import InvalidInput, MiB
from ..http import openapi as api_spec
from ..http.errors import problem
from ..http.openapi import (BOOLEAN, DATE_TIME, FILE, ID, INTEGER, LONLAT, NUMBER, STRING, array, enum,
                            json_body, json_response, nullable, obj, op, param, path_param, problem_responses, ref)
from ..http.links import external_url
from ..http.limits import screen_limit, too_many_screenings_message
from ..http.requests import json_object, read_upload
from ..http.responses import impact_download, impact_json, jsonify
from ..http.security import actor, can, remote_addr, require, sessionless
from ..http.settings import impact_settings
from ..messages import msg
from ..vocab import MarkerKind

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


def _answer_format(fields: dict) -> str:
    """json or gpkg, from ?format= or else the body's format (an empty form field: not given); both are checked
    before anything is screened or saved, so that a typo is not answered in JSON."""
    query, body = request.args.get("format"), fields.get("format")
    for given in (query, None if body == "" else body):
        if given is not None and given not in ("json", "gpkg"):
            raise InvalidInput(msg('api.format_json_gpkg_got', 'format must be json or gpkg (got {str!r})', str=str(given)[:20]), field="format")
    return query or body or "json"


def _saved_url(result: impact.Result) -> dict:
    return {"url": external_url("impact.screening_page", screening_id=result.screening_id)}


@bp.post("/impact")
@sessionless
@require("impact.screen")
@screen_limit
def screen():
    settings = impact_settings()
    fields, file = _request_fields(settings)
    save, answer_format = _truthy(fields.get("save")), _answer_format(fields)
    if fields.get("title") is not None and not isinstance(fields["title"], str):  # checked saved or not
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


# ------------------------------------------------------------------------------------------------------ OpenAPI
_RISK = enum([*impact.RISK_CLASSES, impact.CONSULT])
_LEVEL = enum(["national", "provincial", "general"])
_COUNT = {"type": "integer", "minimum": 0}
_KIND = enum([kind.name for kind in features.kinds()], description="the kind of feature (features.kinds())")
_WITHHELD = {"intersects": enum([None], type="boolean", nullable=True),
             **{k: enum([None], type="number", nullable=True) for k in ("distance_m", "overlap_m2", "overlap_pct",
                                                                        "ring_m")},
             "risk": enum([impact.CONSULT]), "within_km": {"type": "integer", "minimum": 1}}
_FLAG = enum(["1", "true", "yes", "on", "0", "false", "no", "off", ""], description="a form's yes or no")
_FORMAT = enum(["json", "gpkg", ""], description="the answer: JSON (default) or a GeoPackage (?format= wins)")
_NOTICE = {"notice": {"type": "string", "description": "what to do (answers of POST /api/impact)"}}
_SOURCE = obj({"format": STRING, "filename": nullable(STRING), "source_crs": nullable(STRING),
               "feature": nullable(INTEGER), "notes": array(STRING)}, closed=False)
_FIGURES = obj({"area_m2": NUMBER, "line_length_m": NUMBER, "points": _COUNT, "vertices": _COUNT,
                "bbox": array(NUMBER, minItems=4, maxItems=4)})
_RULES = array(obj({"ring_m": NUMBER, **{level: _RISK for level in ("national", "provincial", "general")}}))
_RESULT = {"view": enum(["exact", "public"]), "registry_version": INTEGER, "screened_at": DATE_TIME,
           "footprint": ref("Geometry"), "footprint_figures": _FIGURES, "width_m": nullable(NUMBER),
           "source": _SOURCE, "rings_m": array(NUMBER), "rules": _RULES, "affected": array(ref("ImpactEntry")),
           "highest_risk": nullable(_RISK), "by_risk": obj({}, {k: _COUNT for k in (*impact.RISK_CLASSES,
                                                                                   impact.CONSULT)}),
           "notes": array(STRING), "markers": array(ref("ImpactMarker")),
           "risk_classes": obj({k: obj({"label": STRING, "action": STRING})
                                for k in (*impact.RISK_CLASSES, impact.CONSULT)})}
_SAVED = {"screening_id": ID, "title": nullable(STRING), "created_by": STRING, "rerun_of": nullable(ID),
          "url": STRING}
_CASE = {"fid": ID, "name": STRING, "developer": nullable(STRING), "reference": nullable(STRING),
         "stage": enum(impact.STAGES), "decision": enum(impact.DECISIONS), "conditions": array(enum(impact.CONDITIONS)),
         "conditions_note": nullable(STRING), "screening_id": ID, "version": ID, "created_at": DATE_TIME,
         "created_by": STRING, "updated_at": DATE_TIME, "updated_by": STRING, "screening_title": nullable(STRING),
         "screened_at": DATE_TIME, "registry_version": INTEGER, "highest_risk": nullable(_RISK),
         "affected_count": _COUNT, "flagged": BOOLEAN, "changes": array(obj({
             "code": STRING, "changes": array(enum(["boundary", "location", "level", "status", "new"])),
             "version_then": nullable(ID), "version_now": ID, "then": nullable(ref("ImpactEntry")),
             "now": nullable(ref("ImpactEntry"))}))}
_CASE_FIELDS = {"name": {"type": "string", "maxLength": 200},
                "developer": nullable({"type": "string", "maxLength": 200}),
                "reference": nullable({"type": "string", "maxLength": 100}),
                "stage": nullable(enum([*impact.STAGES, ""])), "decision": nullable(enum([*impact.DECISIONS, ""])),
                "conditions": nullable({"anyOf": [array(enum(impact.CONDITIONS)), STRING],
                                        "description": "condition codes (text: separated by commas); only with "
                                                       "the decision 'conditions'"}),
                "conditions_note": nullable({"type": "string", "maxLength": 2000}),
                "note": nullable({"type": "string", "maxLength": 2000})}
SCHEMAS = {
    "ImpactRequest": obj({"footprint": {"anyOf": [ref("Geometry"), ref("Feature"), ref("FeatureCollection"), STRING],
                                        "description": "GeoJSON in crs (a geometry, a Feature or a "
                                                       "FeatureCollection; its text in a form)"}},
                         {"crs": nullable({"anyOf": [STRING, INTEGER],
                                           "description": "EPSG code or name (default EPSG:4490)"}),
                          "width_m": nullable({"anyOf": [{"type": "number", "minimum": 0}, STRING],
                                               "description": "width of lines and points in metres "
                                                              "(IMPACT_MAX_WIDTH_M at most)"}),
                          "buffers_m": nullable({"anyOf": [array({"anyOf": [{"type": "number", "minimum": 0},
                                                                            STRING]}, maxItems=12), STRING],
                                                 "description": "ring distances in metres (0 is always one; 12 at "
                                                                "most, each up to IMPACT_MAX_RING_M)"}),
                          "save": nullable({"anyOf": [BOOLEAN, _FLAG], "description": "true: save it (staff)"}),
                          "title": nullable(STRING), "format": nullable(_FORMAT)}, closed=False),
    "ImpactEntry": {"oneOf": [
        obj({"code": STRING, "name": nullable(STRING), "name_en": nullable(STRING), "level": nullable(_LEVEL),
             "version": ID, "intersects": BOOLEAN, "distance_m": NUMBER, "overlap_m2": NUMBER,
             "overlap_pct": nullable(NUMBER), "site_area_m2": nullable(NUMBER), "ring_m": NUMBER, "risk": _RISK,
             "measured_to": enum(["boundary", "location"]),
             "nearest": nullable(obj({"site": LONLAT, "footprint": LONLAT}))},
            {"sensitivity": enum(["open", "generalized", "hidden"]), "feature": _KIND},
            description="a site measured exactly (staff: every site; anonymous: open sites)"),
        obj({"code": STRING, "name": nullable(STRING), "name_en": nullable(STRING), "level": nullable(_LEVEL),
             "generalized": enum([True], type="boolean"), "location": LONLAT,
             "location_precision": STRING, **_WITHHELD}, {**_NOTICE, "feature": _KIND},
            description="a generalized site near the footprint (anonymous): only within how many km"),
        obj({"code": enum([None], type="string", nullable=True), "hidden": enum([True], type="boolean"),
             **_WITHHELD}, _NOTICE, description="a hidden site near the footprint (anonymous): no code, no position")]},
    "ImpactMarker": obj({"id": ID, "feature": STRING, "kind": enum(list(MarkerKind.values())),
                         "inscription": nullable(STRING), "last_condition": nullable(STRING), "intersects": BOOLEAN,
                         "distance_m": NUMBER, "ring_m": NUMBER, "location": LONLAT},
                        description="a protection marker within the outer ring (anonymous: of open features only)"),
    "ScreeningResult": obj(_RESULT, _SAVED, description="a screening (saved ones: screening_id, title, url, ...)"),
    "SavedScreening": obj(_RESULT | _SAVED),
    "ScreeningSummary": obj({"fid": ID, "title": nullable(STRING), "created_at": DATE_TIME, "created_by": STRING,
                             "registry_version": INTEGER, "rerun_of": nullable(ID), "rings": array(NUMBER),
                             "rules": _RULES, "width_m": nullable(NUMBER), "source": _SOURCE, "figures": _FIGURES,
                             "notes": array(STRING), "highest_risk": nullable(_RISK), "affected_count": _COUNT,
                             "case_id": nullable(ID)}),
    "Reproduction": obj({"registry_version": INTEGER, "identical": BOOLEAN, "sites": _COUNT,
                         "differences": array(obj({"code": STRING, "saved": nullable(ref("ImpactEntry")),
                                                   "reproduced": nullable(ref("ImpactEntry"))}))}),
    "CaseSummary": obj(_CASE),
    "Case": obj({**_CASE, "events": array(obj({
        "fid": ID, "case_id": ID, "case_version": ID, "kind": enum(["opened", "updated", "rescreened"]),
        "at": DATE_TIME, "actor": STRING, "stage": enum(impact.STAGES), "decision": enum(impact.DECISIONS),
        "conditions": array(enum(impact.CONDITIONS)), "conditions_note": nullable(STRING), "note": nullable(STRING),
        "screening_id": ID}))}),
    "CaseFields": obj({}, _CASE_FIELDS, closed=False),
}
_TAGS = ["Impact screening"]
_SCREENING = path_param("screening_id", "a saved screening's number", {**ID, "example": 1})
_CASE_ID = path_param("case_id", "a project case's number", {**ID, "example": 1})
_VERSION = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+$"}],
            "description": "the case version the change was based on (409 when the case moved on)"}
_MULTIPART = obj({"file": {**FILE, "description": "GeoJSON, KML/KMZ, GPX, zipped Shapefile, GeoPackage or CSV of "
                                                 "vertices (IMPACT_MAX_FILE_BYTES)"}},
                 {**{k: STRING for k in ("footprint", "footprint_drawn", "crs", "width_m", "buffers_m", "save",
                                         "title", "feature")}, "format": _FORMAT}, closed=False)
PATHS = {
    "/api/impact": {"post": op(
        "Screen a construction project's footprint against the registry (anyone: anonymous callers get the public "
        "view and a rate limit; no CSRF token, session cookies are ignored)", tags=_TAGS,
        operation_id="screenFootprint", params=[param("format", schema=enum(["json", "gpkg"]),
                                                      description="gpkg: the result as a GeoPackage")],
        body=json_body(ref("ImpactRequest"), multipart=_MULTIPART,
                       form=obj({}, {k: v for k, v in _MULTIPART["properties"].items() if k != "file"}, closed=False),
                       example={"footprint": {"type": "LineString", "coordinates": [[105.36, 25.87], [105.4, 25.9]]},
                                "width_m": 30}),
        responses={"200": {**json_response(ref("ScreeningResult"), "the result"), "content": {
            "application/json": {"schema": ref("ScreeningResult")},
            "application/geopackage+sqlite3": {"schema": FILE}}},
            "201": json_response(ref("SavedScreening"), "saved (save: true)"),
            **problem_responses(400, 403, 413, 422, 429)})},
    "/api/impact/screenings": {"get": op(
        "Saved screenings, newest first", tags=_TAGS, auth=True, operation_id="listScreenings",
        responses={"200": json_response(obj({"screenings": array(ref("ScreeningSummary"))})),
                   **problem_responses(403)})},
    "/api/impact/screenings/{screening_id}": {"get": op(
        "A saved screening", tags=_TAGS, auth=True, operation_id="getScreening", params=[_SCREENING],
        responses={"200": json_response(ref("SavedScreening")), **problem_responses(403, 404)})},
    "/api/impact/screenings/{screening_id}/reproduce": {"get": op(
        "Screen it again against the registry as it was, and compare", tags=_TAGS, auth=True,
        operation_id="reproduceScreening", params=[_SCREENING],
        responses={"200": json_response(ref("Reproduction")), **problem_responses(403, 404)})},
    "/api/impact/screenings/{screening_id}/rerun": {"post": op(
        "Screen it again against today's registry (a new saved screening)", tags=_TAGS, auth=True,
        operation_id="rerunScreening", params=[_SCREENING],
        responses={"201": json_response(ref("SavedScreening")), **problem_responses(403, 404, 422)})},
    "/api/impact/screenings/{screening_id}/cases": {"post": op(
        "Open a project case on a saved screening", tags=_TAGS, auth=True, operation_id="openCase",
        params=[_SCREENING], body=json_body({"allOf": [ref("CaseFields"), obj({"name": STRING}, closed=False)]},
                                            form=obj({}, {k: STRING for k in _CASE_FIELDS}, closed=False)),
        responses={"201": json_response(ref("Case")), **problem_responses(400, 403, 404, 413, 422)})},
    "/api/impact/cases": {"get": op(
        "Project cases, flagged ones (registry changed since their screening) first", tags=_TAGS, auth=True,
        operation_id="listCases", responses={"200": json_response(obj({"cases": array(ref("CaseSummary"))})),
                                              **problem_responses(403)})},
    "/api/impact/cases/{case_id}": {
        "get": op("A project case with its history and the registry changes since its screening", tags=_TAGS,
                  auth=True, operation_id="getCase", params=[_CASE_ID],
                  responses={"200": json_response(ref("Case")), **problem_responses(403, 404)}),
        "post": op("Change a case's stage, decision, conditions or particulars (at the version read)", tags=_TAGS,
                   auth=True, operation_id="updateCase", params=[_CASE_ID],
                   body=json_body({"allOf": [ref("CaseFields"), obj({"version": _VERSION}, closed=False)]},
                                  form=obj({}, {k: STRING for k in (*_CASE_FIELDS, "version")}, closed=False)),
                   responses={"200": json_response(ref("Case")), **problem_responses(400, 403, 404, 409, 413, 422)})},
    "/api/impact/cases/{case_id}/rescreen": {"post": op(
        "Screen the case's footprint again and make it the case's screening (at the version read)", tags=_TAGS,
        auth=True, operation_id="rescreenCase", params=[_CASE_ID],
        body=json_body(obj({"version": _VERSION}, closed=False), form=obj({"version": STRING}, closed=False)),
        responses={"200": json_response(ref("Case")), **problem_responses(400, 403, 404, 409, 413, 422)})},
}


def init_app(app) -> None:
    api_spec.register(app, PATHS, SCHEMAS)
    impact.Settings.from_config(app.config)  # a bad IMPACT_RULES or IMPACT_RINGS_M fails at start, not on a request
    app.register_blueprint(bp)
