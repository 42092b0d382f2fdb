"""Rescue cases for staff: the list with the legal clock of each case, opening a case (from a public report or a
construction project's find), a case's page with what was done when, and the forms that record events and the outcome.
Thin: every rule is in fossil_registry.rescues."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import rescues
from ..coords import CoordinateError
from ..db import get_conn
from ..errors import RegistryError
from ..geometry import GeometryError
from ..http.errors import describe
from ..http.requests import uploads
from ..http.security import actor, can, remote_addr, require
from ..http.settings import blob_store, photo_url, rescue_settings, revision_policy
from ..http.idempotency import idempotent, refusal_with_key
from ..vocab import RescueEvent
from . import labels

bp = Blueprint("rescues", __name__)

CLOCK_NAMES = {"met": _l("met"), "missed": _l("missed"), "open": _l("running")}
_FIELDS = ("source", "report_id", "impact_case_id", "reported_by", "contact", "reported_at", "point", "county",
           "description")


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _rescue_labels():
        return {"CLOCK_NAMES": CLOCK_NAMES}


def _error(exc) -> str:
    return describe(exc)  # in the reader's language: a flashed message is kept as plain text


@bp.get("/rescues")
@require("rescue.read")
def index():
    s = rescue_settings()
    status = request.args.get("status") if request.args.get("status") in ("open", "closed") else None
    cases = rescues.list_cases(get_conn(), settings=s, status=status)
    return render_template("rescues/index.html", cases=cases, figures=rescues.figures(get_conn(), s), status=status,
                           settings=s, sources=rescues.SOURCES, values=dict(request.args), error=None)


@bp.post("/rescues")
@require("rescue.write")
@idempotent
def create():
    data = {k: v for k, v in request.form.items() if k in _FIELDS and v not in (None, "")}
    try:
        case = rescues.open_case(get_conn(), blob_store(), data, settings=rescue_settings(), actor=actor(),
                                 photos=uploads("photos"), remote_addr=remote_addr())
    except (RegistryError, GeometryError, CoordinateError) as exc:
        s = rescue_settings()
        return render_template("rescues/index.html", cases=rescues.list_cases(get_conn(), settings=s),
                               figures=rescues.figures(get_conn(), s), status=None, settings=s,
                               sources=rescues.SOURCES, values=request.form.to_dict(), error=_error(exc)), 422
    flash(_("Rescue case #%(id)d opened.", id=case["fid"]), "success")
    return redirect(url_for("rescues.detail", case_id=case["fid"]), 303)


@bp.get("/rescues/<int:case_id>")
@require("rescue.read")
def detail(case_id: int):
    from .. import maps
    import folium

    case = rescues.get_case(get_conn(), case_id, settings=rescue_settings(), with_contact=can("rescue.write"))
    point = case["point"]
    m = maps.make_map(location=(point.y, point.x), zoom_start=14, height="100%", context=maps.STAFF_CONTEXT,
                      **maps.basemap_options(current_app.config))
    folium.CircleMarker((point.y, point.x), radius=8, color="#fff", weight=2, fill=True, fill_color="#c0392b",
                        fill_opacity=1, tooltip=maps.tooltip(_l("The find"))).add_to(m)
    return render_template("rescues/case.html", case=case, map=maps.render(m, g.csp_nonce), photo_url=photo_url,
                           kinds=rescues.EVENT_KINDS)


@bp.post("/rescues/<int:case_id>/events")
@require("rescue.write")
@idempotent
def add_event(case_id: int):
    form = request.form
    data = {k: v for k, v in form.items() if k in ("kind", "done_at", "note", "specimens", "samples", "field_numbers",
                                                   "kept_at", "reason") and v not in (None, "")}
    if data.get("kind") == RescueEvent.NEW_SITE_PROPOSED:
        data["site"] = {"properties": {k: form[f"site_{k}"] for k in ("name", "name_en", "county", "level",
                                                                         "sensitivity") if form.get(f"site_{k}")}}
    try:
        case = rescues.add_event(get_conn(), blob_store(), case_id, data, settings=rescue_settings(), actor=actor(),
                                 photos=uploads("photos"), remote_addr=remote_addr(), policy=revision_policy())
    except (RegistryError, GeometryError, CoordinateError) as exc:
        if isinstance(exc, RegistryError) and exc.status == 404:
            raise
        refusal_with_key(exc)
        flash(_error(exc), "error")
        return redirect(url_for("rescues.detail", case_id=case_id) + "#record", 303)
    flash(_("Recorded: %(what)s.", what=labels.label(data["kind"], RescueEvent)), "success")
    if case["proposal"] and data["kind"] == RescueEvent.NEW_SITE_PROPOSED:
        flash(_("Proposal #%(id)d submitted: it now waits for review by an expert.", id=case["proposal"]["id"]),
              "success")
    return redirect(url_for("rescues.detail", case_id=case_id), 303)
