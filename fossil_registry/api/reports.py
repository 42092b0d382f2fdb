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
from ..http.openapi import LOCATION, json_body, json_response, op, param, path_param, problem_responses
from ..http.links import external_url
from ..http.limits import report_sized, submit_limit, too_many_message
from ..http.requests import json_object, uploads
from ..http.security import actor, remote_addr, require, sessionless
from ..http.settings import blob_store, photo_url, report_settings
from ..http.idempotency import idempotent
from ..messages import msg
from ..json_input import MAX_INT
from ..vocab import ReportStatus

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
@report_sized
@idempotent
def submit():
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
def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import reports as m
    from .models.common import Id

    _TAGS = ["Public reports"]
    _REPORT_ID = path_param("report_id", "the report's number", Id, example=1)
    PATHS = {
        "/api/reports": {
            "post": op("Report a find or damage (anyone; rate-limited per address; no CSRF token, session cookies are "
                       "ignored)", tags=_TAGS, operation_id="submitReport",
                       body=json_body(m.ReportSubmission, multipart=m.ReportMultipart, form=m.ReportForm,
                                      example={"kind": "find", "description": "Fish fossils in a fresh road cut",
                                               "coordinates": "26.58, 106.71"}),
                       responses={"201": json_response(m.ReportReceipt, "the receipt", headers=LOCATION),
                                  **problem_responses(400, 413, 422, 429)}),
            "get": op("The reports, newest first, and how many there are in each state", tags=_TAGS, auth=True,
                      operation_id="listReports", params=[param("status", schema=ReportStatus)],
                      responses={"200": json_response(m.ReportQueue), **problem_responses(403, 422)})},
        "/api/reports/{report_id}": {"get": op(
            "One report with the reporter's contact and the photos", tags=_TAGS, auth=True, operation_id="getReport",
            params=[_REPORT_ID], responses={"200": json_response(m.ReportDetail), **problem_responses(403, 404)})},
        "/api/reports/{report_id}/accept": {"post": op(
            "Accept a report: link it to an inspection of the site, or open a follow-up", tags=_TAGS, auth=True,
            operation_id="acceptReport", params=[_REPORT_ID], body=json_body(m.AcceptInput, required=False),
            responses={"200": json_response(m.ReportTriaged), **problem_responses(400, 403, 404, 409, 413, 422)})},
        "/api/reports/{report_id}/dismiss": {"post": op(
            "Dismiss a report, saying why", tags=_TAGS, auth=True, operation_id="dismissReport", params=[_REPORT_ID],
            body=json_body(m.DismissInput, form=m.DismissForm),
            responses={"200": json_response(m.ReportTriaged), **problem_responses(400, 403, 404, 409, 413, 422)})},
    }
    return PATHS, m.MODELS


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)
