"""JSON API of rescue cases (staff only: nothing of a case is public): open a case (JSON, or multipart with photos),
list and read cases with their legal clock, record what was done when (including the outcome: a new-site proposal or
"not significant")."""
from __future__ import annotations

from flask import Blueprint, request, url_for

from .. import json_input, rescues, revisions
from ..db import get_conn
from ..errors import InvalidInput
from ..http import openapi as api_spec
from ..http.openapi import (DATE_TIME, FILE, ID, LOCATION, NUMBER, STRING, array, enum, json_body, json_response,
                            nullable, obj, op, param, path_param, problem_responses, ref)
from ..http.requests import uploads
from ..http.responses import jsonify
from ..http.security import actor, can, remote_addr, require
from ..http.settings import blob_store, photo_link, rescue_settings, revision_policy
from ..messages import msg

bp = Blueprint("rescues_api", __name__, url_prefix="/api")


def _body() -> tuple[dict, list]:
    """(fields, photos) from JSON, or from a multipart form (flat fields, or a ``data`` JSON part, and photos)."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        if request.form.get("data"):
            try:
                data = json_input.loads(request.form["data"], "the data part")
            except ValueError as exc:
                raise InvalidInput(msg("api.data_part_valid_json", "the data part is not valid JSON ({exc})",
                                       exc=exc)) from None
        else:
            data = {k: v for k, v in request.form.items() if v not in (None, "")}
        return data, uploads("photos")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput(msg("api.send_rescue_json", "send a JSON object (Content-Type: application/json), or "
                               "multipart/form-data with photos"))
    return data, []


def _json(case: dict) -> dict:
    body = rescues.case_json(case, photo_url=photo_link)
    body["url"] = url_for("rescues_api.get_case", case_id=case["fid"])
    if body.get("proposal"):
        body["proposal"]["url"] = url_for("revisions_api.get_revision", revision_id=body["proposal"]["id"])
    return body


@bp.post("/rescues")
@require("rescue.write")
def open_case():
    data, photos = _body()
    case = rescues.open_case(get_conn(), blob_store(), data, settings=rescue_settings(), actor=actor(), photos=photos,
                             remote_addr=remote_addr())
    case = rescues.get_case(get_conn(), case["fid"], settings=rescue_settings(), with_contact=True)
    response = jsonify(_json(case))
    response.status_code = 201
    response.headers["Location"] = url_for("rescues_api.get_case", case_id=case["fid"])
    return response


@bp.get("/rescues")
@require("rescue.read")
def list_cases():
    s = rescue_settings()
    found = rescues.list_cases(get_conn(), settings=s, status=request.args.get("status"))
    return jsonify({"cases": [{**rescues.case_json(c), "url": url_for("rescues_api.get_case", case_id=c["fid"])}
                              for c in found],
                    "figures": rescues.figures(get_conn(), s)})


@bp.get("/rescues/<int:case_id>")
@require("rescue.read")
def get_case(case_id: int):
    case = rescues.get_case(get_conn(), case_id, settings=rescue_settings(), with_contact=can("rescue.write"))
    return jsonify(_json(case))


@bp.post("/rescues/<int:case_id>/events")
@require("rescue.write")
def add_event(case_id: int):
    data, photos = _body()
    rescues.add_event(get_conn(), blob_store(), case_id, data, settings=rescue_settings(), actor=actor(),
                      photos=photos, remote_addr=remote_addr(), policy=revision_policy())
    return jsonify(_json(rescues.get_case(get_conn(), case_id, settings=rescue_settings(), with_contact=True))), 201


# ------------------------------------------------------------------------------------------------------ OpenAPI
_TAGS = ["Rescue cases"]
_COUNT = {"type": "integer", "minimum": 0}
_ID = path_param("case_id", "the rescue case's number", {**ID, "example": 1})
_CLOCK = obj({"due": DATE_TIME, "done_at": nullable(DATE_TIME), "status": enum(["met", "missed", "open"])})
_MET = obj({k: _COUNT for k in ("met", "missed", "open")})
_CASE = {
    "id": ID, "source": enum(rescues.SOURCES), "report_id": nullable(ID), "impact_case_id": nullable(ID),
    "reported_by": STRING, "reported_at": DATE_TIME, "county": nullable(STRING), "description": nullable(STRING),
    "location": ref("Point"), "opened_at": DATE_TIME, "opened_by": STRING, "status": enum(["open", "closed"]),
    "outcome": nullable(enum(rescues.OUTCOMES)), "closed_at": nullable(DATE_TIME), "closed_by": nullable(STRING),
    "clock": obj({"on_site": _CLOCK, "opinion": _CLOCK}), "specimens": _COUNT, "samples": _COUNT, "url": STRING}
_WHOLE = {"anyOf": [ID, STRING], "description": "a number (or its digits as text)"}
_AMOUNT = {"anyOf": [{"type": "integer", "minimum": 0, "maximum": rescues.MAX_COUNT}, STRING]}
_TEXT = {"type": "string", "maxLength": rescues.MAX_TEXT}
SCHEMAS = {
    "RescueCase": obj(_CASE, {
        "contact": nullable({"type": "string", "description": "private: for those who may record"}),
        "proposal": nullable(obj({"id": ID, "status": enum(revisions.STATUSES), "site": nullable(STRING),
                                  "url": STRING})),
        "events": array(obj({"id": ID, "kind": enum(rescues.EVENT_KINDS), "done_at": DATE_TIME,
                             "recorded_at": DATE_TIME, "recorded_by": STRING, "note": nullable(STRING),
                             "specimens": nullable(_COUNT), "samples": nullable(_COUNT),
                             "field_numbers": nullable(STRING), "kept_at": nullable(STRING),
                             "revision_id": nullable(ID), "photo_count": _COUNT})),
        "photos": array(obj({"sha256": STRING, "name": STRING, "url": STRING, "thumbnail_url": STRING}))},
        description="a rescue case with its legal clock (one case: its events and photos too)"),
    "RescueCases": obj({"cases": array(obj(_CASE)), "figures": obj({
        "cases": _COUNT, "open": _COUNT, "closed": _COUNT,
        "by_source": obj({k: _COUNT for k in rescues.SOURCES}),
        "by_outcome": obj({k: _COUNT for k in rescues.OUTCOMES}),
        "on_site": _MET, "opinion": _MET, "specimens": _COUNT, "samples": _COUNT})}),
    "RescueCaseInput": obj({}, {
        "source": nullable(enum([*rescues.SOURCES, ""])),
        "report_id": nullable({**_WHOLE, "description": "the public report it comes from (place, time, text)"}),
        "impact_case_id": nullable({**_WHOLE, "description": "the construction project's case"}),
        "reported_by": nullable(_TEXT), "contact": nullable({**_TEXT, "description": "private"}),
        "reported_at": nullable({"type": "string", "description": "when the find was reported (not in the future): "
                                                                   "the legal clock starts"}),
        "point": nullable({"anyOf": [ref("Point"), array(NUMBER, minItems=2, maxItems=2), STRING],
                           "description": "[lon, lat], a GeoJSON Point or typed coordinates"}),
        "lon": nullable({"anyOf": [NUMBER, STRING]}), "lat": nullable({"anyOf": [NUMBER, STRING]}),
        "county": nullable(_TEXT), "description": nullable(_TEXT)},
        description="a rescue case (other fields are refused; a public report or project case gives the defaults)"),
    "RescueEventInput": obj({"kind": enum(rescues.EVENT_KINDS)}, {
        "done_at": nullable({"type": "string", "description": "when it was done (default now; never in the future)"}),
        "note": nullable(_TEXT), "specimens": nullable(_AMOUNT), "samples": nullable(_AMOUNT),
        "field_numbers": nullable(_TEXT), "kept_at": nullable(_TEXT), "reason": nullable(_TEXT),
        "site": nullable({"type": "object", "description": "new_site_proposed: the new site's properties (and "
                                                           "boundary, location), as a new-site proposal takes them"})},
        description="what was done when (other fields are refused)"),
}


def _body_of(schema: str, fields: list[str]) -> dict:
    """JSON, a form of the same fields (or a data part of JSON text), or multipart with photos too."""
    form = obj({}, {k: STRING for k in (*fields, "data")}, closed=False)
    return json_body(ref(schema), form=form, multipart=obj({}, {
        **form["properties"], "photos": array(FILE, description="JPEG/PNG photos")}, closed=False))


_SENT = problem_responses(400, 403, 404, 413, 422)
PATHS = {
    "/api/rescues": {
        "post": op("Open a rescue case (JSON, or multipart with photos)", tags=_TAGS, auth=True,
                   operation_id="openRescueCase", body=_body_of("RescueCaseInput", sorted(rescues._CASE_FIELDS)),
                   responses={"201": json_response(ref("RescueCase"), "the case", headers=LOCATION), **_SENT}),
        "get": op("Rescue cases with their legal clock, and the figures", tags=_TAGS, auth=True,
                  operation_id="listRescueCases", params=[param("status", schema=enum(["open", "closed"]))],
                  responses={"200": json_response(ref("RescueCases")), **problem_responses(403, 422)})},
    "/api/rescues/{case_id}": {"get": op(
        "One rescue case: what was done when, the clock, specimens and samples", tags=_TAGS, auth=True,
        operation_id="getRescueCase", params=[_ID],
        responses={"200": json_response(ref("RescueCase")), **problem_responses(403, 404)})},
    "/api/rescues/{case_id}/events": {"post": op(
        "Record what was done when (officials on site, opinion, specimens, samples, notes, the outcome)", tags=_TAGS,
        auth=True, operation_id="addRescueEvent", params=[_ID],
        body=_body_of("RescueEventInput", sorted(rescues._EVENT_FIELDS)),
        responses={"201": json_response(ref("RescueCase")), **problem_responses(400, 403, 404, 409, 413, 422)})},
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, PATHS, SCHEMAS)
