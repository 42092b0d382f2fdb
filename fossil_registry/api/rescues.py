"""JSON API of rescue cases (staff only: nothing of a case is public): open a case (JSON, or multipart with photos),
list and read cases with their legal clock, record what was done when (including the outcome: a new-site proposal or
"not significant")."""
from __future__ import annotations

from typing import Literal

from flask import Blueprint, request, url_for

from .. import json_input, rescues
from ..db import get_conn
from ..errors import InvalidInput
from ..http import openapi as api_spec
from ..http.openapi import LOCATION, json_body, json_response, op, param, path_param, problem_responses
from ..http.requests import uploads
from ..http.responses import jsonify
from ..http.security import actor, can, remote_addr, require
from ..http.settings import blob_store, photo_link, rescue_settings, revision_policy
from ..http.idempotency import idempotent
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
@idempotent
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
@idempotent
def add_event(case_id: int):
    data, photos = _body()
    rescues.add_event(get_conn(), blob_store(), case_id, data, settings=rescue_settings(), actor=actor(),
                      photos=photos, remote_addr=remote_addr(), policy=revision_policy())
    return jsonify(_json(rescues.get_case(get_conn(), case_id, settings=rescue_settings(), with_contact=True))), 201


# ------------------------------------------------------------------------------------------------------ OpenAPI
def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import rescues as m
    from .models.common import Id

    _TAGS = ["Rescue cases"]
    _ID = path_param("case_id", "the rescue case's number", Id, example=1)
    _SENT = problem_responses(400, 403, 404, 413, 422)
    PATHS = {
        "/api/rescues": {
            "post": op("Open a rescue case (JSON, or multipart with photos)", tags=_TAGS, auth=True,
                       operation_id="openRescueCase",
                       body=json_body(m.RescueCaseInput, form=m.RescueCaseForm, multipart=m.RescueCaseMultipart),
                       responses={"201": json_response(m.RescueCase, "the case", headers=LOCATION), **_SENT}),
            "get": op("Rescue cases with their legal clock, and the figures", tags=_TAGS, auth=True,
                      operation_id="listRescueCases", params=[param("status", schema=Literal["open", "closed"])],
                      responses={"200": json_response(m.RescueCases), **problem_responses(403, 422)})},
        "/api/rescues/{case_id}": {"get": op(
            "One rescue case: what was done when, the clock, specimens and samples", tags=_TAGS, auth=True,
            operation_id="getRescueCase", params=[_ID],
            responses={"200": json_response(m.RescueCase), **problem_responses(403, 404)})},
        "/api/rescues/{case_id}/events": {"post": op(
            "Record what was done when (officials on site, opinion, specimens, samples, notes, the outcome)", tags=_TAGS,
            auth=True, operation_id="addRescueEvent", params=[_ID],
            body=json_body(m.RescueEventInput, form=m.RescueEventForm, multipart=m.RescueEventMultipart),
            responses={"201": json_response(m.RescueCase), **problem_responses(400, 403, 404, 409, 413, 422)})},
    }
    return PATHS, m.MODELS


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)
