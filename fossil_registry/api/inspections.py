"""JSON API for inspections: records (JSON, or multipart with ``track`` and ``photos`` files), the schedule, follow-ups
and a site's timeline. Staff only."""
from __future__ import annotations

from flask import Blueprint, request, url_for

from .. import inspections, json_input, markers
from ..db import get_conn
from ..errors import InvalidInput
from ..http.responses import jsonify
from ..http import openapi as api_spec
from ..http.openapi import (BOOLEAN, DATE, DATE_TIME, FILE, ID, INTEGER, LOCATION, LONLAT, NUMBER, STRING, array, enum,
                            json_body, json_response, nullable, obj, op, param, path_param, problem_responses, ref)
from ..http.requests import flag_arg, json_object, one_upload, uploads
from ..http.security import actor, can, remote_addr, require
from ..http.settings import blob_store, inspection_settings, photo_url
from ..messages import msg

bp = Blueprint("inspections_api", __name__, url_prefix="/api")


def _record_input() -> tuple[dict, bool]:
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
def create(code: str):
    data, multipart = _record_input()
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
_CONDITION = enum(inspections.CONDITIONS)
_THREAT = obj({"threat": enum(inspections.THREATS), "severity": enum(inspections.SEVERITIES),
               "note": nullable({"type": "string", "description": "required for 'other'; cut at 500 characters"})})
_DATE_IN = {"type": "string", "format": "date"}
_TEXT = {"type": "string", "maxLength": inspections.MAX_TEXT}
_RECORD = obj({"date": {**_DATE_IN, "description": "the day of the inspection (not in the future)"},
               "condition": _CONDITION}, {
    "inspectors": nullable({"anyOf": [array({"type": "string", "maxLength": 80}, maxItems=inspections.MAX_INSPECTORS),
                                      STRING], "description": "names (text: separated by commas); default: the "
                                                              "caller"}),
    "threats": nullable({"anyOf": [array(obj({"threat": enum(inspections.THREATS),
                                              "severity": enum(inspections.SEVERITIES)},
                                             {"note": nullable(STRING)}, closed=False)),
                                   {"type": "object", "additionalProperties": {
                                       "anyOf": [enum(inspections.SEVERITIES), obj(
                                           {"severity": enum(inspections.SEVERITIES)}, {"note": nullable(STRING)},
                                           closed=False)]}},
                                   STRING],
                         "description": "threats with their severity: a list, {threat: severity}, or text "
                                        "'quarrying:high, erosion_landslide:low'"}),
    "findings": nullable(_TEXT), "actions": nullable(_TEXT),
    "followup": nullable({"anyOf": [obj({"description": {"type": "string", "maxLength": inspections.MAX_NOTE * 4},
                                         "due": {**_DATE_IN, "description": "not before the inspection"}},
                                        closed=False), enum([""]), enum([False], type="boolean")],
                          "description": "what is to be done by when (a follow-up)"}),
    "point": nullable({"anyOf": [ref("Point"), array(NUMBER, minItems=2, maxItems=2), STRING],
                       "description": "where the inspection was made: GeoJSON Point, [lon, lat] or typed "
                                      "coordinates"}),
    "resolves": nullable({"anyOf": [array({"anyOf": [INTEGER, STRING]}), INTEGER, STRING],
                          "description": "open follow-ups of the site this inspection deals with (their ids)"}),
    "markers": nullable(array(obj({"marker": {"anyOf": [ID, STRING]}, "condition": enum(markers.CONDITIONS)},
                                  {"note": nullable(STRING)}, closed=False),
                              description="the condition of each protection marker of the site or section checked"))},
    description="an inspection record (other fields are refused)")
_FOLLOWUP = {"id": ID, "site": STRING, "description": STRING, "due": DATE, "status": enum(["open", "closed"]),
             "created_at": DATE_TIME, "created_by": STRING, "inspection_id": nullable(ID), "report_id": nullable(ID),
             "closed_at": nullable(DATE_TIME), "closed_by": nullable(STRING), "closing_note": nullable(STRING),
             "closed_by_inspection": nullable(ID)}
SCHEMAS = {
    "InspectionRecord": _RECORD,
    "Followup": obj(_FOLLOWUP),
    "Photo": obj({"sha256": STRING, "name": STRING, "media_type": STRING, "width": INTEGER, "height": INTEGER,
                  "size_bytes": INTEGER, "taken_at": nullable(STRING), "gps": nullable(LONLAT),
                  "distance_m": nullable(NUMBER), "flags": array(STRING), "flagged": BOOLEAN,
                  "message": nullable(STRING), "url": STRING, "thumbnail_url": STRING}),
    "Inspection": obj({
        "id": ID, "site": STRING, "date": DATE, "inspectors": array(STRING), "condition": _CONDITION,
        "threats": array(_THREAT), "findings": STRING, "actions": STRING, "point": nullable(ref("Point")),
        "site_version": ID, "recorded_at": DATE_TIME, "recorded_by": STRING,
        "photo_count": {"type": "integer", "minimum": 0}, "flagged_photos": {"type": "integer", "minimum": 0},
        "track": nullable(obj({"name": nullable(STRING), "length_m": nullable(NUMBER),
                               "point_count": nullable(INTEGER), "started_at": nullable(STRING),
                               "ended_at": nullable(STRING)}, {"geometry": ref("MultiLineString")}))},
        {"photos": array(ref("Photo")), "followups": array(ref("Followup")),
         "markers": array(obj({"marker": ID, "kind": enum(markers.KINDS), "condition": enum(markers.CONDITIONS),
                               "note": nullable(STRING), "followup_id": nullable(ID)}))}),
    "SiteInspections": obj({"site": STRING, "inspections": array(ref("Inspection"))}),
    "InspectionsDue": obj({
        "today": DATE, "intervals": obj({k: {"type": "integer", "minimum": 1} for k in
                                         ("national", "provincial", "general")}),
        "upcoming_days": INTEGER,
        "counts": obj({k: {"type": "integer", "minimum": 0} for k in ("overdue", "upcoming", "ok")}),
        "sites": array(obj({"site": STRING, "kind": enum(["site", "section"]), "name": STRING,
                            "name_en": nullable(STRING),
                            "county": nullable(STRING), "level": enum(["national", "provincial", "general"]),
                            "interval_days": INTEGER, "last_inspected_on": nullable(DATE),
                            "last_condition": nullable(_CONDITION), "due_on": DATE, "days_overdue": INTEGER,
                            "status": enum(["overdue", "upcoming", "ok"]),
                            "open_followups": {"type": "integer", "minimum": 0},
                            "location": ref("Point")})),  # a site's location, the middle of a section's line
        "followups": array(obj({**_FOLLOWUP, "overdue": BOOLEAN}))}),
    "Timeline": obj({"site": STRING, "events": array({"oneOf": [
        obj({"kind": enum(["version"]), "date": DATE, "at": DATE_TIME, "version": ID, "operation": STRING,
             "author": STRING, "reviewer": nullable(STRING), "reason": nullable(STRING)}),
        obj({"kind": enum(["inspection"]), "date": DATE, "at": DATE_TIME, "id": ID, "condition": _CONDITION,
             "threats": array(_THREAT), "inspectors": array(STRING), "findings": STRING,
             "photo_count": INTEGER, "flagged_photos": INTEGER, "track": BOOLEAN}),
        obj({"kind": enum(["followup"]), "date": DATE, "at": DATE_TIME, "id": ID, "description": STRING,
             "due_on": DATE, "status": enum(["open", "closed"]), "inspection_id": nullable(ID),
             "report_id": nullable(ID)}),
        obj({"kind": enum(["followup_closed"]), "date": DATE, "at": DATE_TIME, "id": ID, "description": STRING,
             "closed_by": nullable(STRING), "note": nullable(STRING), "inspection_id": nullable(ID)}),
        obj({"kind": enum(["report"]), "date": DATE, "at": DATE_TIME, "id": ID, "report_kind": STRING,
             "status": STRING, "description": nullable(STRING), "decision_note": nullable(STRING)}),
        obj({"kind": enum(["impact_case"]), "date": DATE, "at": DATE_TIME, "id": ID, "name": STRING,
             "event": STRING, "stage": nullable(STRING), "decision": nullable(STRING),
             "conditions": nullable(array(STRING)), "actor": STRING, "screening_id": nullable(ID),
             "ring_m": nullable(NUMBER), "risk": nullable(STRING)})]}),
        "conditions": array(obj({"date": DATE, "condition": _CONDITION, "inspection_id": ID}))},
        description="a site's versions, inspections, follow-ups, reports and project cases in order (report "
                    "texts: for those who triage reports)"),
}
_TAGS = ["Inspections"]
_CODE = path_param("code", "the site code, e.g. GZ-0001", {"type": "string", "example": "GZ-0001"})
_MULTIPART = obj({}, {
    "record": {"type": "string", "description": "the InspectionRecord as JSON text (or the flat fields below)"},
    **{k: STRING for k in ("date", "inspectors", "condition", "threats", "findings", "actions", "followup_description",
                           "followup_due", "point", "lon", "lat", "resolve")},
    "track": {**FILE, "description": "a GPX patrol track"},
    "photos": array(FILE, description="JPEG/PNG photos (INSPECTION_MAX_PHOTOS per record, 20 by default)")},
    closed=False)
RECORD_BODY = json_body(ref("InspectionRecord"), multipart=_MULTIPART,
                        form=obj({}, {k: STRING for k in _MULTIPART["properties"] if k not in ("track", "photos")},
                                 closed=False))
PATHS = {
    "/api/sites/{code}/inspections": {
        "post": op("Record an inspection (with its follow-up, GPX track and photos: multipart)", tags=_TAGS,
                   auth=True, operation_id="recordInspection", params=[_CODE],
                   body=RECORD_BODY,
                   responses={"201": json_response(ref("Inspection"), "the record", headers=LOCATION),
                              **problem_responses(400, 403, 404, 413, 422)}),
        "get": op("A site's inspections, newest first", tags=_TAGS, auth=True, operation_id="listSiteInspections",
                  params=[_CODE], responses={"200": json_response(ref("SiteInspections")),
                                             **problem_responses(403, 404)})},
    "/api/inspections/{inspection_id}": {"get": op(
        "One inspection record", tags=_TAGS, auth=True, operation_id="getInspection",
        params=[path_param("inspection_id", "the record's number", {**ID, "example": 1})],
        responses={"200": json_response(ref("Inspection")), **problem_responses(403, 404)})},
    "/api/inspections/due": {"get": op(
        "Overdue and upcoming inspections and the open follow-ups", tags=_TAGS, auth=True,
        operation_id="getInspectionsDue", params=[param("all", description="1 or true: every active site")],
        responses={"200": json_response(ref("InspectionsDue")), **problem_responses(403)})},
    "/api/sites/{code}/timeline": {"get": op(
        "A site's timeline", tags=_TAGS, auth=True, operation_id="getSiteTimeline", params=[_CODE],
        responses={"200": json_response(ref("Timeline")), **problem_responses(403, 404)})},
    "/api/followups/{followup_id}/close": {"post": op(
        "Close a follow-up, saying how it was dealt with", tags=_TAGS, auth=True, operation_id="closeFollowup",
        params=[path_param("followup_id", "the follow-up's number", {**ID, "example": 1})],
        body=json_body(obj({"note": {"type": "string", "minLength": 1, "maxLength": inspections.MAX_NOTE * 4}},
                           closed=False), form=obj({"note": STRING}, closed=False)),
        responses={"200": json_response(ref("Followup")), **problem_responses(400, 403, 404, 409, 413, 422)})},
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, PATHS, SCHEMAS)
