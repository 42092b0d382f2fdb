"""JSON API for public reports: submitting (anyone; JSON, or multipart with ``photos`` files) and triage (experts).

POST /api/reports ignores session cookies (``security.sessionless``): its caller is anonymous unless it sends an API
token, so it needs no CSRF token and any client can use it. Its answer is public_view.report_receipt: no contact, no
photo metadata, not even the site the report was matched to."""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from .. import public_view, reports
from ..db import get_conn
from ..errors import InvalidInput
from ..http.errors import problem
from ..json_input import MAX_INT
from ..http.limits import limit_request_size, submit_limit, too_many_message
from ..http.requests import json_object, uploads
from ..http.security import actor, remote_addr, require, sessionless
from ..http.settings import blob_store, photo_url, report_settings

bp = Blueprint("reports_api", __name__, url_prefix="/api")


@bp.errorhandler(429)
def _too_many(exc):
    return problem(429, "Too many requests", too_many_message())


def _receipt_json(report: dict, warnings: list[str] | None = None) -> dict:
    body = public_view.report_receipt(report)
    body["receipt_url"] = url_for("reports.receipt", receipt=body["receipt"], _external=True)
    body["photos"] = [{"url": url_for("reports.receipt_photo", receipt=body["receipt"], sha256=sha, _external=True)}
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
            raise InvalidInput("send the report as JSON (Content-Type: application/json), or as multipart/form-data "
                               "with photos")
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
    rows = reports.list_reports(get_conn(), request.args.get("status") or None)
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
        raise InvalidInput('followup must be an object {"description": ..., "due": "2025-06-01"}', field="followup")
    inspection_id = body.get("inspection_id")
    if inspection_id is not None and (not isinstance(inspection_id, int) or isinstance(inspection_id, bool)
                                      or not 1 <= inspection_id <= MAX_INT):
        raise InvalidInput("inspection_id must be the number of an inspection record", field="inspection_id")
    r = reports.accept_report(get_conn(), report_id, actor=actor(), settings=report_settings(), site_code=body.get("site"),
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


def init_app(app) -> None:
    app.register_blueprint(bp)
