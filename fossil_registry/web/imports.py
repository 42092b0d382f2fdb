"""Web pages of the site import (admins): upload a file of sites, its preview (file, coordinate system, encoding,
first rows, a map of the points), the field mapping and matching options, each row's outcome, the confirmation, the
progress of the background job, and the summary. Thin: the rules are in fossil_registry.imports; the page polls the
API (GET /api/imports/<id>?limit=0) for progress."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import imports
from ..db import get_conn
from ..errors import InvalidInput, MiB, RegistryError
from ..formats import ENCODINGS
from ..http.requests import read_upload
from ..http.security import actor, remote_addr, require
from ..http.settings import import_settings
from ..http.idempotency import idempotent
from ..vocab import ImportOutcome, ImportState, SurveyMethod
from . import labels
from .revisions import CRS_CHOICES

bp = Blueprint("imports", __name__)

TARGET_NAMES = {
    "code": _l("site code (for matching)"), "name": _l("name"), "name_en": _l("English name"),
    "county": _l("county"), "county_en": _l("county (English)"), "level": _l("protection level"),
    "sensitivity": _l("sensitivity"), "period": _l("period"), "age": _l("age"), "formation": _l("formation"),
    "formation_en": _l("formation (English)"),
    "fossil_groups": _l("fossil groups"), "description": _l("description"),
    "description_en": _l("description (English)"), "public_description": _l("public description"),
    "public_description_en": _l("public description (English)"), "established": _l("established (date)"),
    "method": _l("survey method"), "accuracy_m": _l("accuracy (m)"), "survey_date": _l("survey date"),
    "x": _l("longitude or easting"), "y": _l("latitude or northing")}
MATCH_NAMES = {"": _l("by code, then by location (when a code column is mapped)"),
               "code_or_location": _l("by code, then by location"), "code": _l("by code only"),
               "location": _l("by location only")}


@bp.app_context_processor
def _labels():
    return {"IMPORT_TARGET_NAMES": TARGET_NAMES}


@bp.before_request
def _upload_limit():
    if request.endpoint == "imports.upload":
        request.max_content_length = import_settings().max_file_bytes + MiB


def _form_page(*, error: str | None = None, choose: str | None = None, status: int = 200):
    return render_template("imports/index.html", error=error, choose=choose, form=request.form,
                           imports=imports.list_imports(get_conn(), limit=30), encodings=list(ENCODINGS),
                           crs_choices=CRS_CHOICES, settings=import_settings()), status


def _options(form) -> dict:
    fields = {k: form.get(k, "") for k in ("encoding", "layer", "match", "distance_m", "tolerance_m")}
    crs, other = form.get("crs", ""), form.get("crs_other", "").strip()
    fields["crs"] = other if crs == "other" or (not crs and other) else crs  # a listed choice wins over the text
    return fields


@bp.get("/imports")
@require("import.run")
def index():
    return _form_page()


# the template file to fill in: (build, media type, file name)
TEMPLATES = {"csv": (imports.template_csv, "text/csv", "化石点导入模板.csv"),
             "gpkg": (imports.template_geopackage, "application/geopackage+sqlite3", "化石点导入模板.gpkg")}


@bp.get("/imports/template.<fmt>")
@require("import.run")
def template(fmt: str):
    if fmt not in TEMPLATES:
        abort(404)
    build, media_type, filename = TEMPLATES[fmt]
    return send_file(io.BytesIO(build()), mimetype=media_type, as_attachment=True, download_name=filename)


@bp.post("/imports")
@require("import.run")
@idempotent
def upload():
    settings = import_settings()
    storage = request.files.get("file")
    try:
        if storage is None or not storage.filename:
            raise InvalidInput(_("Choose the file of sites to import."))
        filename, data = read_upload(storage, settings.max_file_bytes)
        imp = imports.create(get_conn(), filename, data, _options(request.form), actor=actor(), settings=settings,
                             remote_addr=remote_addr())
    except RegistryError as exc:
        if exc.status not in (413, 422):
            raise
        return _form_page(error=exc.detail, choose=exc.extra.get("choose"), status=exc.status)
    return redirect(url_for("imports.detail", import_id=imp["fid"]), 303)


def _map(conn, imp, settings):
    from .. import maps

    points = imports.map_points(conn, imp, settings.map_max_markers)
    if not points:
        return None
    def said(outcome, result):
        found = ImportOutcome.get(result or outcome)
        return labels.label(found, ImportOutcome) if found is not None else outcome

    markers = [maps.marker(lon, lat, text=f"{n} · {name or ''} · {said(outcome, result)}",
                           colour=labels.colour(outcome, ImportOutcome), radius=5)
               for n, lon, lat, outcome, result, name in points]
    lons, lats = [p[1] for p in points], [p[2] for p in points]
    pad = 0.01
    m = maps.make_map(**maps.basemap_options(current_app.config), height="100%", context=maps.STAFF_CONTEXT,
                      fit_bounds=(min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad))
    return maps.render(m, g.csp_nonce, overlays=[maps.Overlay("import-rows", markers)])


@bp.get("/imports/<int:import_id>")
@require("import.run")
def detail(import_id: int):
    return _detail_page(import_id)


def _detail_page(import_id: int, *, error: str | None = None, status: int = 200):
    conn = get_conn()
    settings = import_settings()
    imp = imports.get(conn, import_id)
    imports.ensure_running(conn, imp, settings)
    outcome = request.args.get("outcome") if request.args.get("outcome") in ImportOutcome.values() else None
    body = imports.import_json(conn, imp, outcome=outcome, limit=settings.preview_rows)
    summary = imports.summary(conn, imp) if imp["state"] == ImportState.DONE else None
    return render_template("imports/detail.html", imp=imp, body=body, summary=summary, error=error,
                           outcome=outcome, map=_map(conn, imp, settings) if imp["state"] in (ImportState.READY, ImportState.DONE)
                           else None, targets=imports.TARGETS, encodings=list(ENCODINGS),
                           crs_choices=CRS_CHOICES, match_names=MATCH_NAMES, methods=SurveyMethod,
                           settings=settings), status


@bp.post("/imports/<int:import_id>/mapping")
@require("import.run")
def mapping(import_id: int):
    conn = get_conn()
    imp = imports.get(conn, import_id)
    columns = imp["info"].get("columns", [])
    fields = _options(request.form)
    fields["mapping"] = {c: request.form.get(f"map_{i}", "") for i, c in enumerate(columns)}
    before = imports.options_of(imp)
    chosen = tuple(None if fields[k] in ("", "auto") else fields[k] for k in ("encoding", "layer"))
    if chosen != (before.encoding, before.layer):
        fields.pop("mapping")  # another encoding or layer: other column names, so the mapping is guessed again
    try:
        imports.remap(conn, import_id, fields, actor=actor(), settings=import_settings(), remote_addr=remote_addr())
    except RegistryError as exc:
        if exc.status not in (409, 422):
            raise
        return _detail_page(import_id, error=exc.detail, status=exc.status)
    return redirect(url_for("imports.detail", import_id=import_id), 303)


@bp.post("/imports/<int:import_id>/confirm")
@require("import.run")
@idempotent
def confirm(import_id: int):
    fields = {k: request.form.get(k, "") for k in ("generation", "reason", "method", "accuracy_m", "survey_date")}
    try:
        imports.confirm(get_conn(), import_id, fields, actor=actor(), settings=import_settings(),
                        remote_addr=remote_addr())
    except RegistryError as exc:
        if exc.status not in (409, 422):
            raise
        return _detail_page(import_id, error=exc.detail, status=exc.status)
    return redirect(url_for("imports.detail", import_id=import_id), 303)


def init_app(app) -> None:
    app.register_blueprint(bp)
