"""JSON API for public reports: submitting (anyone; JSON, or multipart with ``photos`` files) and triage (experts).

POST /api/reports ignores session cookies (``security.sessionless``): its caller is anonymous unless it sends an API
token, so it needs no CSRF token and any client can use it. Its answer is public_view.report_receipt: no contact, no
photo metadata, not even the site the report was matched to."""
from __future__ import annotations

from flask import Blueprint, request, url_for

from .. import public_view, reports
from ..db import get_conn
from ..errors import InvalidInput
from ..http.responses import jsonify
from ..http import openapi as api_spec
from ..http.errors import problem
from ..http.openapi import (DATE, DATE_TIME, FILE, ID, LOCATION, NUMBER, STRING, array, enum, json_body,
                            json_response, nullable, obj, op, param, path_param, problem_responses, ref)
from ..http.links import external_url
from ..http.limits import limit_request_size, submit_limit, too_many_message
from ..http.requests import json_object, uploads
from ..http.security import actor, remote_addr, require, sessionless
from ..http.settings import blob_store, photo_url, report_settings
from ..messages import msg
from ..json_input import MAX_INT

bp = Blueprint("reports_api", __name__, url_prefix="/api")


@bp.errorhandler(429)
def _too_many(exc):
    return problem(429, "Too many requests", too_many_message())


def _receipt_json(report: dict, warnings: list[str] | None = None) -> dict:
    body = public_view.report_receipt(report)
    body["receipt_url"] = external_url("reports.receipt", receipt=body["receipt"])
    body["photos"] = [{"url": external_url("reports.receipt_photo", receipt=body["receipt"], sha256=sha)}
                      for sha in body["photos"]]
    if warnings:
        body["warnings"] = warnings
    return body


@bp.post("/reports")
@sessionless
@require("report.submit")
@submit_limit
def submit():
    limit_request_size()
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data, photos = request.form.to_dict(), uploads("photos")
    else:
        data, photos = request.get_json(silent=True), []
        if data is None:
            raise InvalidInput(msg("api.send_report_json_content", "send the report as JSON (Content-Type: "
                                   "application/json), or as multipart/form-data with photos"))
    parsed = reports.parse_report(data, report_settings())
    report = reports.submit_report(get_conn(), blob_store(), parsed, settings=report_settings(), photos=photos,
                                   actor=actor(), remote_addr=remote_addr())
    response = jsonify(_receipt_json(report, parsed.warnings))
    response.status_code = 201
    response.headers["Location"] = url_for("reports.receipt", receipt=report["receipt"])
    return response


@bp.get("/reports")
@require("report.triage")
def queue():
    rows = reports.list_reports(get_conn(), request.args.get("status"))  # ?status= names no state: refused
    return jsonify({"reports": [reports.report_json(r) for r in rows], "counts": reports.counts(get_conn())})


@bp.get("/reports/<int:report_id>")
@require("report.triage")
def get(report_id: int):
    return jsonify(reports.report_json(reports.get_report(get_conn(), report_id, with_contact=True),
                                       photo_url=photo_url))


@bp.post("/reports/<int:report_id>/accept")
@require("report.triage")
def accept(report_id: int):
    body = json_object('send {"site", "inspection_id", "followup": {"description", "due"}, "note"}', required=False)
    followup = body.get("followup") or {}
    if not isinstance(followup, dict):
        raise InvalidInput(msg("api.followup_must_object_description", 'followup must be an object {{"description": '
                               '..., "due": "2025-06-01"}}'), field="followup")
    inspection_id = body.get("inspection_id")
    if inspection_id is not None and (not isinstance(inspection_id, int) or isinstance(inspection_id, bool)
                                      or not 1 <= inspection_id <= MAX_INT):
        raise InvalidInput(msg('api.inspection_id_number_inspection', 'inspection_id must be the number of an inspection record'), field="inspection_id")
    r = reports.accept_report(get_conn(), report_id, actor=actor(), settings=report_settings(),
                              site_code=body.get("site"),
                              inspection_id=inspection_id, followup_description=followup.get("description"),
                              due_on=followup.get("due"), note=body.get("note"), remote_addr=remote_addr())
    return jsonify(reports.report_json(r, photo_url=photo_url))


@bp.post("/reports/<int:report_id>/dismiss")
@require("report.triage")
def dismiss(report_id: int):
    body = json_object('send {"reason": "..."}', required=False)
    r = reports.dismiss_report(get_conn(), report_id, reason=body.get("reason") or "", actor=actor(),
                               remote_addr=remote_addr())
    return jsonify(reports.report_json(r, photo_url=photo_url))


# ------------------------------------------------------------------------------------------------------ OpenAPI
_KIND = enum(reports.KINDS)
_STATUS = enum(reports.STATES)
_NOTE = {"type": "string", "maxLength": reports.MAX_NOTE * 4}
_CUT = {"type": "string", "description": f"text (cut at {reports.MAX_NOTE * 4} characters)"}
_REPORT_IN = {
    "kind": _KIND,
    "description": {"type": "string", "minLength": reports.MIN_DESCRIPTION, "maxLength": reports.MAX_DESCRIPTION,
                    "description": f"what was seen ({reports.MIN_DESCRIPTION} characters at least, not counting "
                                   "spaces at either end)"}}
_WHERE = {"coordinates": nullable({"type": "string",
                                   "description": "typed coordinates (decimal or DMS, either order)"}),
          "lon": nullable({"anyOf": [NUMBER, STRING]}), "lat": nullable({"anyOf": [NUMBER, STRING]}),
          "location": nullable(ref("Point")),
          "observed_on": nullable({"anyOf": [DATE, enum([""])], "description": "not in the future"}),
          "contact": nullable({"type": "string", "maxLength": reports.MAX_CONTACT,
                               "description": "how staff can reach the reporter (staff only)"})}
_REFERENCE = {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$",
              "description": "what the reporter quotes: random (a hash of the receipt), not a count of reports",
              "example": "K7QF-3M9P-2XWA"}
_REPORT = {"id": ID, "reference": _REFERENCE, "kind": _KIND, "status": _STATUS, "description": STRING,
           "location": ref("Point"), "observed_on": nullable(DATE), "submitted_at": DATE_TIME, "submitted_by": STRING,
           "site": nullable(STRING),
           "site_distance_m": nullable(NUMBER), "photo_count": {"type": "integer", "minimum": 0},
           "decided_at": nullable(DATE_TIME), "decided_by": nullable(STRING), "decision_note": nullable(STRING),
           "followup_id": nullable(ID), "inspection_id": nullable(ID)}
SCHEMAS = {
    "ReportSubmission": obj(_REPORT_IN, _WHERE, closed=False,
                            description="a report: the location as coordinates (text), lon/lat or a GeoJSON Point, "
                                        "inside the region"),
    "ReportReceipt": obj({"reference": _REFERENCE, "receipt": STRING, "kind": _KIND, "status": _STATUS,
                          "submitted_at": DATE_TIME, "observed_on": nullable(DATE), "location": ref("Point"),
                          "photos": array(obj({"url": STRING})), "receipt_url": STRING},
                         {"warnings": array(STRING)},
                         description="what the reporter gets back: no contact, no photo metadata, not the site"),
    "Report": obj(_REPORT, description="a report as staff see it in the queue"),
    "ReportDetail": obj({**_REPORT, "contact": nullable(STRING), "photos": array(ref("Photo"))}),
    "ReportTriaged": obj(_REPORT, {"contact": nullable(STRING), "photos": array(ref("Photo"))},
                         description="a report after the decision"),
    "ReportQueue": obj({"reports": array(ref("Report")), "counts": obj({s: {"type": "integer", "minimum": 0}
                                                                       for s in reports.STATES})}),
}
_TAGS = ["Public reports"]
_REPORT_ID = path_param("report_id", "the report's number", {**ID, "example": 1})
_MULTIPART = obj({k: STRING for k in (*_REPORT_IN, *_WHERE)} | {
    "photos": array(FILE, description="JPEG/PNG photos (REPORT_MAX_PHOTOS, 5 by default; 8 MiB each)")}, closed=False)
PATHS = {
    "/api/reports": {
        "post": op("Report a find or damage (anyone; rate-limited per address; no CSRF token, session cookies are "
                   "ignored)", tags=_TAGS, operation_id="submitReport",
                   body=json_body(ref("ReportSubmission"), multipart=_MULTIPART,
                                  form=obj({k: STRING for k in (*_REPORT_IN, *_WHERE)}, closed=False),
                                  example={"kind": "find", "description": "Fish fossils in a fresh road cut",
                                           "coordinates": "26.58, 106.71"}),
                   responses={"201": json_response(ref("ReportReceipt"), "the receipt", headers=LOCATION),
                              **problem_responses(400, 413, 422, 429)}),
        "get": op("The reports, newest first, and how many there are in each state", tags=_TAGS, auth=True,
                  operation_id="listReports", params=[param("status", schema=_STATUS)],
                  responses={"200": json_response(ref("ReportQueue")), **problem_responses(403, 422)})},
    "/api/reports/{report_id}": {"get": op(
        "One report with the reporter's contact and the photos", tags=_TAGS, auth=True, operation_id="getReport",
        params=[_REPORT_ID], responses={"200": json_response(ref("ReportDetail")), **problem_responses(403, 404)})},
    "/api/reports/{report_id}/accept": {"post": op(
        "Accept a report: link it to an inspection of the site, or open a follow-up", tags=_TAGS, auth=True,
        operation_id="acceptReport", params=[_REPORT_ID], body=json_body(obj({}, {
            "site": nullable({"type": "string", "description": "the site it concerns (default: the one found near)"}),
            "inspection_id": nullable(ID),
            "followup": nullable(obj({}, {"description": nullable(_CUT), "due": nullable(
                {"anyOf": [DATE, enum([""])], "description": "not in the past (default: in REPORT_FOLLOWUP_DAYS)"})},
                closed=False)),
            "note": nullable(_CUT)}, closed=False), required=False),
        responses={"200": json_response(ref("ReportTriaged")), **problem_responses(400, 403, 404, 409, 413, 422)})},
    "/api/reports/{report_id}/dismiss": {"post": op(
        "Dismiss a report, saying why", tags=_TAGS, auth=True, operation_id="dismissReport", params=[_REPORT_ID],
        body=json_body(obj({"reason": {**_NOTE, "minLength": 1}}, closed=False),
                       form=obj({"reason": STRING}, closed=False)),
        responses={"200": json_response(ref("ReportTriaged")), **problem_responses(400, 403, 404, 409, 413, 422)})},
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, PATHS, SCHEMAS)
