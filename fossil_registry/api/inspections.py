"""JSON API for inspections: records (JSON, or multipart with ``track`` and ``photos`` files), the schedule, follow-ups
and a site's timeline. Staff only."""
from __future__ import annotations

from flask import Blueprint, request, url_for

from .. import inspections, json_input
from ..db import get_conn
from ..errors import InvalidInput
from ..http.responses import jsonify
from ..http import openapi as api_spec
from ..http.openapi import LOCATION, json_body, json_response, op, param, path_param, problem_responses
from ..http.requests import flag_arg, json_object, one_upload, uploads
from ..http.security import actor, can, remote_addr, require
from ..http.settings import blob_store, inspection_settings, photo_url
from ..http.idempotency import idempotent
from ..messages import msg

bp = Blueprint("inspections_api", __name__, url_prefix="/api")


def record_input() -> tuple[dict, bool]:
    """The record from a JSON body, or from a multipart form (a ``record`` JSON part, or flat fields)."""
    if request.mimetype == "multipart/form-data" or request.mimetype == "application/x-www-form-urlencoded":
        if request.form.get("record"):
            try:
                data = json_input.loads(request.form["record"], "the record part")
            except ValueError as exc:
                raise InvalidInput(msg("api.record_part_valid_json", "the record part is not valid JSON ({exc})",
                                       exc=exc), field="record") from None
        else:
            data = inspections.record_from_form(request.form, request.form.getlist)
        return data, True
    data = request.get_json(silent=True)
    if data is None:
        raise InvalidInput(msg("api.send_inspection_record_json", "send the inspection record as JSON (Content-Type: "
                               "application/json), or as multipart/form-data with the track and photos files"))
    return data, False


@bp.post("/sites/<code>/inspections")
@require("inspection.write")
@idempotent
def create(code: str):
    data, multipart = record_input()
    record = inspections.parse_record(data, default_inspector=actor())
    rec = inspections.record_inspection(
        get_conn(), blob_store(), code, record, settings=inspection_settings(), actor=actor(),
        track=one_upload("track") if multipart else None, photos=uploads("photos") if multipart else (),
        remote_addr=remote_addr())
    response = jsonify(inspections.inspection_json(rec, photo_url=photo_url))
    response.status_code = 201
    response.headers["Location"] = url_for("inspections_api.get", inspection_id=rec["fid"])
    return response


@bp.get("/sites/<code>/inspections")
@require("site.read_exact")
def list_for_site(code: str):
    records = inspections.list_for_site(get_conn(), code, with_photos=True)
    return jsonify({"site": code, "inspections": [inspections.inspection_json(r, photo_url=photo_url)
                                                  for r in records]})


@bp.get("/inspections/<int:inspection_id>")
@require("site.read_exact")
def get(inspection_id: int):
    return jsonify(inspections.inspection_json(inspections.get_inspection(get_conn(), inspection_id),
                                               photo_url=photo_url))


@bp.get("/inspections/due")
@require("site.read_exact")
def due():
    """Overdue and upcoming inspections (``?all=1``: every active site) and the open follow-ups."""
    s = inspection_settings()
    today = inspections.local_today(s.timezone)
    items = inspections.schedule(get_conn(), s, today)
    shown = items if flag_arg("all") else [d for d in items if d.status != "ok"]
    return jsonify({"today": today.isoformat(), "intervals": dict(s.intervals), "upcoming_days": s.upcoming_days,
                    "counts": {k: sum(1 for d in items if d.status == k) for k in ("overdue", "upcoming", "ok")},
                    "sites": [d.to_json() for d in shown],
                    "followups": [{**inspections.followup_json(f), "overdue": f["overdue"]}
                                  for f in inspections.open_followups(get_conn(), today)]})


@bp.get("/sites/<code>/timeline")
@require("site.read_exact")
def timeline(code: str):
    s = inspection_settings()
    data = inspections.timeline(get_conn(), code, s.timezone, report_texts=can("report.triage"))
    events = []
    for e in data["events"]:
        events.append({k: (v.isoformat() if k == "date" else v) for k, v in e.items()})
    return jsonify({"site": code, "events": events,
                    "conditions": [{"date": c["date"].isoformat(), "condition": c["condition"],
                                    "inspection_id": c["id"]} for c in data["conditions"]]})


@bp.post("/followups/<int:followup_id>/close")
@require("inspection.write")
def close_followup(followup_id: int):
    body = json_object('send {"note": "how the follow-up was dealt with"}', required=False)
    f = inspections.close_followup(get_conn(), followup_id, note=body.get("note"), actor=actor(),
                                   remote_addr=remote_addr())
    return jsonify(inspections.followup_json(f))


# ------------------------------------------------------------------------------------------------------ OpenAPI
def record_body() -> dict:
    """An inspection record as a request body (JSON, or a form or multipart with the track and photos)."""
    from .models import inspections as m

    return json_body(m.InspectionRecord, multipart=m.InspectionMultipart, form=m.InspectionForm)


def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import inspections as m
    from .models.common import Id

    _TAGS = ["Inspections"]
    _CODE = path_param("code", "the site code, e.g. GZ-0001", example="GZ-0001")
    PATHS = {
        "/api/sites/{code}/inspections": {
            "post": op("Record an inspection (with its follow-up, GPX track and photos: multipart)", tags=_TAGS,
                       auth=True, operation_id="recordInspection", params=[_CODE],
                       body=record_body(),
                       responses={"201": json_response(m.Inspection, "the record", headers=LOCATION),
                                  **problem_responses(400, 403, 404, 413, 422)}),
            "get": op("A site's inspections, newest first", tags=_TAGS, auth=True, operation_id="listSiteInspections",
                      params=[_CODE], responses={"200": json_response(m.SiteInspections),
                                                 **problem_responses(403, 404)})},
        "/api/inspections/{inspection_id}": {"get": op(
            "One inspection record", tags=_TAGS, auth=True, operation_id="getInspection",
            params=[path_param("inspection_id", "the record's number", Id, example=1)],
            responses={"200": json_response(m.Inspection), **problem_responses(403, 404)})},
        "/api/inspections/due": {"get": op(
            "Overdue and upcoming inspections and the open follow-ups", tags=_TAGS, auth=True,
            operation_id="getInspectionsDue", params=[param("all", description="1 or true: every active site")],
            responses={"200": json_response(m.InspectionsDue), **problem_responses(403)})},
        "/api/sites/{code}/timeline": {"get": op(
            "A site's timeline", tags=_TAGS, auth=True, operation_id="getSiteTimeline", params=[_CODE],
            responses={"200": json_response(m.Timeline), **problem_responses(403, 404)})},
        "/api/followups/{followup_id}/close": {"post": op(
            "Close a follow-up, saying how it was dealt with", tags=_TAGS, auth=True, operation_id="closeFollowup",
            params=[path_param("followup_id", "the follow-up's number", Id, example=1)],
            body=json_body(m.CloseFollowupInput, form=m.CloseFollowupForm),
            responses={"200": json_response(m.Followup), **problem_responses(400, 403, 404, 409, 413, 422)})},
    }
    return PATHS, m.MODELS


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)
