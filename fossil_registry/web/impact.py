"""Impact screening pages: the screening form (anyone), the report (a printable page with map, table, rule table,
registry version and time; JSON and GeoPackage downloads), saved screenings and project cases (staff).

Anonymous callers get the report of their screening directly (nothing is saved for them), built from what the public
view allows; staff screenings are saved and reopened at /impact/screenings/<id>."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING
import numpy as np
import shapely
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from shapely.geometry import mapping

from .. import impact, public_view
from ..coords import CoordinateError
from ..db import get_conn
from ..errors import MiB, RegistryError
from ..geometry import GeometryError
from ..http.errors import describe
from ..http.limits import screen_limit, too_many_screenings_message
from ..http.requests import read_upload
from ..http.responses import impact_download
from ..http.security import actor, can, remote_addr, require
from ..http.settings import impact_settings
from ..http.idempotency import idempotent, nothing_created
from .impact_maps import drawing_map, report_map
from .revisions import CRS_CHOICES

if TYPE_CHECKING:  # annotations only: folium (~0.7 s) is imported by the first map page, not the start
    from .. import maps

bp = Blueprint("impact", __name__)
FORM_ERRORS = (RegistryError, GeometryError, CoordinateError)


def init_app(app) -> None:
    impact.Settings.from_config(app.config)
    app.register_blueprint(bp)

    @app.context_processor
    def _impact_labels():
        return {"IMPACT_RISK_NAMES": impact.RISK_NAMES, "IMPACT_RISK_ACTIONS": impact.RISK_ACTIONS,
                "IMPACT_RISK_COLOURS": impact.RISK_COLOURS, "IMPACT_STAGE_NAMES": impact.STAGE_NAMES,
                "IMPACT_DECISION_NAMES": impact.DECISION_NAMES, "IMPACT_CONDITION_NAMES": impact.CONDITION_NAMES,
                "IMPACT_CHANGE_NAMES": impact.CHANGE_NAMES, "IMPACT_NOTICE_GENERALIZED": impact.NOTICE_GENERALIZED,
                "IMPACT_NOTICE_HIDDEN": impact.NOTICE_HIDDEN}


@bp.errorhandler(429)
def _too_many(exc):
    return render_template("error.html", status=429, title=_("Too many requests"),
                           detail=too_many_screenings_message()), 429


# ------------------------------------------------------------------------------------------------ screening
def _form_page(values: dict | None = None, error: str | None = None, status: int = 200):
    settings = impact_settings()
    values = values or {}
    rendered, config = drawing_map(values.get("footprint_drawn"), _public_overlay())
    return render_template("impact/form.html", values=values, error=error, map=rendered, map_config=config,
                           crs_choices=CRS_CHOICES, settings=settings,
                           rings=", ".join(f"{r:g}" for r in settings.rings_m), rules=settings.rule_table(),
                           max_mb=settings.limits.max_file_bytes // MiB), status


PUBLIC_SITES_ON_FORM = 5000


def _public_overlay() -> list[maps.Overlay]:
    """The sites anyone may see (public view), so that a planner can find the place on a map without tiles."""
    from .. import maps

    shown = public_view.list_public(get_conn())
    if not shown or len(shown) > PUBLIC_SITES_ON_FORM:
        return []
    return [maps.Overlay("sites", [maps.marker(p.location.x, p.location.y, text=p.properties.get("name") or p.code,
                                               colour="#555", radius=4, fill_opacity=0.6) for p in shown])]


@bp.get("/impact")
@require("impact.screen")
def form():
    return _form_page()


def _fields() -> tuple[dict, tuple[str, bytes] | None]:
    settings = impact_settings()
    request.max_content_length = settings.limits.max_file_bytes + MiB
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if values.get("crs") == "other":
        values["crs"] = (values.get("crs_other") or "").strip()
    storage = request.files.get("file")
    file = read_upload(storage, settings.limits.max_file_bytes) if storage and storage.filename else None
    return values, file


@bp.post("/impact")
@require("impact.screen")
@screen_limit
@idempotent
def screen():
    values, file = _fields()
    settings = impact_settings()
    conn = get_conn()
    try:
        footprint = impact.from_fields(values, settings, file=file)
        result = impact.screen(conn, footprint, settings.with_rings(values.get("buffers_m")),
                               exact=can("site.read_exact"))
    except FORM_ERRORS as exc:
        return _form_page(values, describe(exc), getattr(exc, "status", 422))
    if can("impact.save"):
        result = impact.save(conn, result, title=values.get("title"), actor=actor(), remote_addr=remote_addr())
        return redirect(url_for("impact.screening_page", screening_id=result.screening_id), 303)
    nothing_created()  # an unsaved screening: its page is not kept for an Idempotency-Key's retries
    return _report(result)


def _rounded_geojson(geom) -> str:
    """The screened footprint for the page's download forms: 7 decimals (about 1 cm) keep it compact."""
    return json.dumps(mapping(shapely.transform(geom, lambda c: np.round(c, 7))))


def _report(result: impact.Result, **context):
    conn = get_conn()
    geometries = impact.site_geometries(conn, result)
    rendered = report_map(result, geometries)
    return render_template("impact/report.html", r=result, by_code=geometries, map=rendered,
                           footprint_json=None if result.screening_id else _rounded_geojson(result.footprint.geometry),
                           figures=result.footprint.figures(), **context)


@bp.post("/impact/export")
@require("impact.screen")
@screen_limit
def export():
    """A download of an unsaved result (anonymous planners): the screened footprint is screened again as it is."""
    values, _file = _fields()
    fmt = values.get("format") if values.get("format") in ("json", "gpkg") else "json"
    settings = impact_settings()
    footprint = impact.from_fields({"footprint": values.get("footprint")}, settings)
    result = impact.screen(get_conn(), footprint, settings.with_rings(values.get("buffers_m")),
                           exact=can("site.read_exact"))
    return impact_download(result, impact.site_geometries(get_conn(), result), fmt, "screening")


# ------------------------------------------------------------------------------------------------ saved screenings
@bp.get("/impact/screenings")
@require("impact.read")
def screenings():
    return render_template("impact/screenings.html", rows=impact.list_saved(get_conn()))


@bp.get("/impact/screenings/<int:screening_id>")
@require("impact.read")
def screening_page(screening_id: int):
    conn = get_conn()
    result = impact.get_saved(conn, screening_id, impact_settings())
    reproduced = impact.reproduce(conn, screening_id, impact_settings()) if request.args.get("reproduce") else None
    cases = [impact.get_case(conn, c, impact_settings()) for c in impact.cases_of_screening(conn, screening_id)]
    return _report(result, reproduced=reproduced, cases=cases, stages=impact.STAGES)


@bp.get("/impact/screenings/<int:screening_id>.<any(json, gpkg):fmt>")
@require("impact.read")
def screening_download(screening_id: int, fmt: str):
    conn = get_conn()
    result = impact.get_saved(conn, screening_id, impact_settings())
    return impact_download(result, impact.site_geometries(conn, result), fmt, f"screening-{screening_id}")


@bp.post("/impact/screenings/<int:screening_id>/rerun")
@require("impact.save")
@idempotent
def rerun(screening_id: int):
    result = impact.rerun(get_conn(), screening_id, impact_settings(), actor=actor(), remote_addr=remote_addr())
    flash(_("Screened again against the registry as it is now (registry version %(v)d).", v=result.registry_version),
          "success")
    return redirect(url_for("impact.screening_page", screening_id=result.screening_id), 303)


# ------------------------------------------------------------------------------------------------ project cases
def _case_fields() -> dict:
    fields = {k: v for k, v in request.form.items() if k not in ("csrf_token", "conditions")}
    if "conditions_sent" in request.form:  # the form's checkboxes: none ticked is an empty list
        fields["conditions"] = request.form.getlist("conditions")
    return fields


@bp.post("/impact/screenings/<int:screening_id>/case")
@require("impact.case")
@idempotent
def open_case(screening_id: int):
    conn = get_conn()
    try:
        case = impact.open_case(conn, screening_id, _case_fields(), actor=actor(), remote_addr=remote_addr())
    except RegistryError as exc:
        result = impact.get_saved(conn, screening_id, impact_settings())
        return _report(result, case_error=describe(exc), case_values=request.form, stages=impact.STAGES), exc.status
    flash(_("Project case opened."), "success")
    return redirect(url_for("impact.case_page", case_id=case["fid"]), 303)


@bp.get("/impact/cases")
@require("impact.read")
def cases():
    return render_template("impact/cases.html", rows=impact.list_cases(get_conn(), impact_settings()))


def _case_page(case_id: int, error: str | None = None, status: int = 200):
    case = impact.get_case(get_conn(), case_id, impact_settings())
    return render_template("impact/case.html", case=case, error=error, stages=impact.STAGES,
                           decisions=impact.DECISIONS, conditions=impact.CONDITIONS,
                           values=request.form if error else None), status


@bp.get("/impact/cases/<int:case_id>")
@require("impact.read")
def case_page(case_id: int):
    return _case_page(case_id)


@bp.post("/impact/cases/<int:case_id>")
@require("impact.case")
def update_case(case_id: int):
    fields = _case_fields()
    try:
        impact.update_case(get_conn(), case_id, fields, base_version=fields.get("version"), actor=actor(),
                           remote_addr=remote_addr())
    except RegistryError as exc:
        return _case_page(case_id, exc.detail, exc.status)
    flash(_("Project case updated."), "success")
    return redirect(url_for("impact.case_page", case_id=case_id), 303)


@bp.post("/impact/cases/<int:case_id>/rescreen")
@require("impact.case")
def rescreen_case(case_id: int):
    try:
        impact.rescreen_case(get_conn(), case_id, impact_settings(), base_version=request.form.get("version"),
                             actor=actor(), remote_addr=remote_addr())
    except RegistryError as exc:
        return _case_page(case_id, exc.detail, exc.status)
    flash(_("The project was screened again against the registry as it is now."), "success")
    return redirect(url_for("impact.case_page", case_id=case_id), 303)
