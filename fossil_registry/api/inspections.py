"""JSON API for inspections: records (JSON, or multipart with ``track`` and ``photos`` files), the schedule, follow-ups
and a site's timeline. Staff only."""
from __future__ import annotations

from flask import Blueprint, request, url_for

from .. import inspections, json_input
from ..db import get_conn
from ..errors import InvalidInput
from ..http.responses import jsonify
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


def init_app(app) -> None:
    app.register_blueprint(bp)
