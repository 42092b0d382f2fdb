"""Public reports of finds or damage (/report, for anyone) and their triage queue (/reports, for experts).

Everything an anonymous caller receives here is built by public_view.report_receipt (never the contact, never photo
metadata) and photos are served to the public only as the metadata-free display copy."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from .. import inspections, public_view, reports, sites
from ..coords import CoordinateError
from ..db import get_conn
from ..errors import InvalidInput, NotFound, RegistryError
from ..geometry import GeometryError
from ..http.errors import describe
from ..http.limits import report_sized, submit_limit, too_many_message
from ..http.requests import uploads
from ..http.security import actor, remote_addr, require
from ..http.settings import blob_store, photo_url, report_settings
from ..http.idempotency import idempotent
from ..vocab import ReportStatus

if TYPE_CHECKING:  # annotations only: folium (~0.7 s) is imported by the first map page, not the start
    from .. import maps

bp = Blueprint("reports", __name__)


def init_app(app) -> None:
    app.register_blueprint(bp)


@bp.errorhandler(429)
def _too_many(exc):
    return render_template("error.html", status=429, title=_("Too many requests"), detail=too_many_message()), 429


# ------------------------------------------------------------------------------------------------ public
def _form_page(values: dict | None = None, error: str | None = None, status: int = 200):
    from .. import maps

    values = values or {}
    region = current_app.config["REGION_BBOX"]
    centre, zoom = None, 7
    code = request.args.get("site") or values.get("site")
    if code:
        try:  # only the public location of a public site: never reveals a generalized or hidden one
            shown = public_view.get_public(get_conn(), code)
            centre, zoom = (shown.location.y, shown.location.x), 12
        except NotFound:
            code = None
    m = maps.make_map(location=centre, zoom_start=zoom, height="100%",
                      fit_bounds=None if centre else tuple(region), **maps.basemap_options(current_app.config))
    s = report_settings()
    return render_template("reports/form.html", values=values, error=error,
                           map=maps.render(m, g.csp_nonce, overlays=_public_sites_overlay()),
                           map_name=m.get_name(), settings=s, site_code=code,
                           today=inspections.local_today(s.timezone)), status


PUBLIC_SITES_ON_FORM = 5000


def _public_sites_overlay() -> list[maps.Overlay]:
    """The public sites (public_view: those of ``Sensitivity.GENERALIZED`` at their grid-cell centre, hidden ones
    absent), so that a reporter can find the place on a map without tiles."""
    from .. import maps

    shown = public_view.list_public(get_conn())
    if not shown or len(shown) > PUBLIC_SITES_ON_FORM:
        return []
    return [maps.Overlay("sites", [maps.marker(p.location.x, p.location.y, text=p.properties.get("name") or p.code,
                                               colour="#555", radius=4, fill_opacity=0.6) for p in shown])]


@bp.get("/report")
@require("report.submit")
def form():
    return _form_page()


@bp.post("/report")
@require("report.submit")
@submit_limit
@report_sized
@idempotent
def submit():
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        data = reports.parse_report(values, report_settings())
        report = reports.submit_report(get_conn(), blob_store(), data, settings=report_settings(), photos=uploads("photos"),
                                       actor=actor(), remote_addr=remote_addr())
    except (RegistryError, GeometryError, CoordinateError) as exc:
        return _form_page(values, describe(exc), getattr(exc, "status", 422))
    for warning in data.warnings:
        flash(warning, "warning")
    return redirect(url_for("reports.receipt", receipt=report["receipt"]), 303)


@bp.get("/report/<receipt>")
@require("public.read")
def receipt(receipt: str):
    shown = public_view.report_receipt(reports.get_by_receipt(get_conn(), receipt))
    return render_template("reports/receipt.html", r=shown, settings=report_settings())


@bp.get("/report/<receipt>/photos/<sha256>.jpg")
@require("public.read")
def receipt_photo(receipt: str, sha256: str):
    shown = public_view.report_receipt(reports.get_by_receipt(get_conn(), receipt))
    if sha256 not in shown["photos"]:
        abort(404)
    path = blob_store().path("display", sha256)  # re-encoded from pixels: no EXIF, no GPS
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ------------------------------------------------------------------------------------------------ triage
@bp.get("/reports")
@require("report.triage")
def queue():
    status = request.args.get("status", ReportStatus.NEW)
    if status not in ReportStatus.values() and status != "all":
        status = ReportStatus.NEW
    conn = get_conn()
    quoted = request.args.get("reference", "").strip()
    if quoted:  # the reference a reporter quotes on the phone
        found = reports.find_by_reference(conn, quoted)
        if found is not None:
            return redirect(url_for("reports.detail", report_id=found), 303)
        flash(_("No report has the reference %(reference)s.", reference=quoted[:40]), "error")
    rows = reports.list_reports(conn, None if status == "all" else status)
    return render_template("reports/queue.html", rows=rows, status=status, counts=reports.counts(conn))


def _detail_page(report_id: int, error: str | None = None, status: int = 200):
    from .. import maps
    import folium

    conn = get_conn()
    r = reports.get_report(conn, report_id, with_contact=True)
    point = r["point"]
    m = maps.make_map(location=(point.y, point.x), zoom_start=13, height="100%", context=maps.STAFF_CONTEXT,
                      **maps.basemap_options(current_app.config))
    site, candidates = None, []
    if r["site_code"]:
        try:
            site = sites.current(conn, r["site_code"])
        except NotFound:
            site = None
    markers = []
    if site is not None:
        if site.boundary is not None:
            folium.GeoJson({"type": "Feature", "geometry": site.boundary.__geo_interface__, "properties": {}},
                           style_function=lambda _f: {"color": "#8a3b12", "weight": 2, "fillOpacity": 0.1}).add_to(m)
        markers.append(maps.marker(site.location.x, site.location.y, text=site.code, colour="#8a3b12"))
        candidates = list(reversed(inspections.list_for_site(conn, site.code)))[:20]
    folium.CircleMarker((point.y, point.x), radius=8, color="#fff", weight=2, fill=True, fill_color="#c0392b",
                        fill_opacity=1, tooltip=maps.tooltip(_("Reported location"))).add_to(m)
    markers += [maps.marker(p["gps_lon"], p["gps_lat"], text=p["original_name"] or p["sha256"][:10], radius=4)
                for p in r["photos"] if p["gps_lon"] is not None]
    s = report_settings()
    return render_template("reports/detail.html", r=r, site=site, inspections=candidates, error=error,
                           map=maps.render(m, g.csp_nonce, overlays=[maps.Overlay("report", markers)]),
                           photo_url=photo_url, settings=s,
                           today=inspections.local_today(s.timezone)), status


@bp.get("/reports/<int:report_id>")
@require("report.triage")
def detail(report_id: int):
    return _detail_page(report_id)


@bp.post("/reports/<int:report_id>/accept")
@require("report.triage")
def accept(report_id: int):
    form_ = request.form
    mode = form_.get("mode", "followup")
    reports.get_report(get_conn(), report_id, with_contact=False)  # unknown reports: 404, not the form
    if mode not in ("followup", "inspection"):  # anything but "inspection" used to be accepted as a follow-up
        return _detail_page(report_id, _("Choose how to accept the report: as a follow-up or into an inspection."),
                            422)
    try:
        inspection_id = None
        if mode == "inspection":
            raw = (form_.get("inspection_id") or "").strip()
            if not raw.isdigit():
                raise InvalidInput(_("Choose the inspection this report belongs to."), field="inspection_id")
            inspection_id = int(raw)
        reports.accept_report(get_conn(), report_id, actor=actor(), settings=report_settings(),
                              site_code=form_.get("site"), inspection_id=inspection_id,
                              followup_description=form_.get("followup_description"), due_on=form_.get("due") or None,
                              note=form_.get("note"), remote_addr=remote_addr())
    except RegistryError as exc:
        return _detail_page(report_id, exc.detail, exc.status)
    flash(_("Report %(id)d accepted.", id=report_id), "success")
    return redirect(url_for("reports.queue"), 303)


@bp.post("/reports/<int:report_id>/dismiss")
@require("report.triage")
def dismiss(report_id: int):
    reports.get_report(get_conn(), report_id, with_contact=False)
    try:
        reports.dismiss_report(get_conn(), report_id, reason=request.form.get("reason", ""), actor=actor(),
                               remote_addr=remote_addr())
    except RegistryError as exc:
        return _detail_page(report_id, exc.detail, exc.status)
    flash(_("Report %(id)d dismissed.", id=report_id), "success")
    return redirect(url_for("reports.queue"), 303)
