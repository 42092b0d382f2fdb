"""Inspections for staff: the schedule dashboard (table, map, CSV), recording an inspection (form with GPX track and
photos), an inspection record, a site's timeline, closing follow-ups, and the photo files themselves."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import inspections, markers, sites
from ..coords import CoordinateError
from ..db import get_conn
from ..errors import RegistryError
from ..geometry import GeometryError
from ..http.errors import describe
from ..http.requests import one_upload, uploads
from ..http.responses import csv_download
from ..http.security import actor, can, remote_addr, require, safe_redirect_target
from ..http.settings import blob_store, inspection_settings, photo_url
from ..http.idempotency import idempotent
from ..vocab import Level, ScheduleStatus
from . import labels

if TYPE_CHECKING:  # annotations only: folium (~0.7 s) is imported by the first map page, not the start
    from .. import maps

bp = Blueprint("inspections", __name__)

FLAG_NAMES = {"far_from_site": _l("taken far from the site"), "other_date": _l("taken on another date"),
              "no_gps": _l("no GPS position in the photo"), "no_date": _l("no date in the photo")}
PHOTO_KINDS = {"original": "originals", "thumb": "thumbs", "display": "display"}
MAP_MARKERS = 2000  # dashboard map: most urgent first; the table and the CSV list everything
CSV_COLUMNS = ("site", "name", "name_en", "county", "level", "interval_days", "last_inspected_on", "last_condition",
               "due_on", "days_overdue", "status", "open_followups", "lon", "lat")


def init_app(app) -> None:
    inspections.Settings.from_config(app.config)  # a bad INSPECTION_INTERVAL_DAYS fails at start, not on a request
    app.register_blueprint(bp)

    @app.context_processor
    def _inspection_labels():
        return {"FLAG_NAMES": FLAG_NAMES}


# ------------------------------------------------------------------------------------------------ dashboard
def _filtered(items: list[inspections.Due]) -> tuple[list[inspections.Due], dict]:
    level = request.args.get("level") or None
    status = request.args.get("status") or None
    if level in Level.values():
        items = [d for d in items if d.level == level]
    else:
        level = None
    if status in ScheduleStatus.values():
        items = [d for d in items if d.status == status]
    else:
        status = None
    return items, {k: v for k, v in (("level", level), ("status", status)) if v}


def _dashboard_map(items: list[inspections.Due]) -> maps.RenderedMap:
    from .. import maps

    shown = [d for d in items if d.status != ScheduleStatus.OK][:MAP_MARKERS]
    bounds = tuple(current_app.config["REGION_BBOX"])
    if shown:
        lons, lats = [d.location.x for d in shown], [d.location.y for d in shown]
        pad = 0.05
        bounds = (min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad)
    m = maps.make_map(height="100%", fit_bounds=bounds, context=maps.STAFF_CONTEXT,
                      **maps.basemap_options(current_app.config))
    markers = []
    for d in reversed(shown):  # most urgent drawn last, on top
        due = (_("%(days)d days overdue", days=d.days_overdue) if d.status == ScheduleStatus.OVERDUE
               else _("due in %(days)d days", days=-d.days_overdue))
        markers.append(maps.marker(d.location.x, d.location.y, text=f"{d.code} {d.name} · {due}", colour="#fff",
                                   fill=labels.colour(d.status, ScheduleStatus), radius=6, fill_opacity=0.95))
    return maps.render(m, g.csp_nonce, overlays=[maps.Overlay("due", markers)])


@bp.get("/inspections")
@require("site.read_exact")
def dashboard():
    conn = get_conn()
    s = inspection_settings()
    today = inspections.local_today(s.timezone)
    everything = inspections.schedule(conn, s, today)
    items, filters = _filtered(everything)
    counts = {k: sum(1 for d in everything if d.status == k) for k in ScheduleStatus.values()}
    followups = inspections.open_followups(conn, today)
    names = {d.code: d.name for d in everything}
    return render_template("inspections/dashboard.html", items=items, counts=counts, followups=followups,
                           names=names, filters=filters, settings=s, today=today, levels=Level,
                           map=_dashboard_map(items))


@bp.get("/inspections.csv")
@require("site.read_exact")
def dashboard_csv():
    s = inspection_settings()
    items, _filters = _filtered(inspections.schedule(get_conn(), s))
    rows = ([d.code, d.name, d.name_en, d.county, d.level, d.interval_days,
             d.last_inspected_on.isoformat() if d.last_inspected_on else "", d.last_condition, d.due_on.isoformat(),
             d.days_overdue, d.status, d.open_followups, round(d.location.x, 6), round(d.location.y, 6)]
            for d in items)
    return csv_download(CSV_COLUMNS, rows, "inspections-due.csv")


# ------------------------------------------------------------------------------------------------ recording
def _feature_map(site: sites.Site) -> maps.RegistryMap:
    """A map of a site (location, boundary) or a section (line, boundary), fitted to it."""
    from .. import maps
    import folium

    anchor = sites.anchor_point(site.location)
    m = maps.make_map(location=(anchor.y, anchor.x), zoom_start=14, height="100%", context=maps.STAFF_CONTEXT,
                      **maps.basemap_options(current_app.config))
    shapes = [g for g in (site.boundary, site.location) if g is not None and g.geom_type != "Point"]
    for geom in shapes:
        folium.GeoJson({"type": "Feature", "geometry": geom.__geo_interface__, "properties": {}},
                       style_function=lambda _f: {"color": "#8a3b12", "weight": 3, "fillOpacity": 0.1}).add_to(m)
    if shapes:
        minx = min(g.bounds[0] for g in shapes)
        miny = min(g.bounds[1] for g in shapes)
        maxx = max(g.bounds[2] for g in shapes)
        maxy = max(g.bounds[3] for g in shapes)
        m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20))
    if site.location.geom_type == "Point":
        folium.CircleMarker((anchor.y, anchor.x), radius=5, color="#8a3b12", fill=True).add_to(m)
    return m


def _form_page(site: sites.Site, *, values=None, error: str | None = None, status: int = 200):
    from .. import maps

    conn = get_conn()
    s = inspection_settings()
    today = inspections.local_today(s.timezone)
    m = _feature_map(site)
    return render_template("inspections/form.html", site=site, values=values or {}, error=error, today=today,
                           conditions=inspections.CONDITIONS, threats=inspections.THREATS,
                           severities=inspections.SEVERITIES, followups=inspections.open_followups(conn, today, site.code),
                           markers=markers.markers_of(conn, site.code, public=False),
                           marker_conditions=markers.CONDITIONS,
                           settings=s, map=maps.render(m, g.csp_nonce), map_name=m.get_name()), status


@bp.get("/sites/<code>/inspections/new")
@bp.get("/sections/<code>/inspections/new", endpoint="new_for_section")
@require("inspection.write")
def new(code: str):
    return _form_page(sites.current(get_conn(), code))


@bp.post("/sites/<code>/inspections")
@require("inspection.write")
@idempotent
def create(code: str):
    conn = get_conn()
    site = sites.current(conn, code)
    values = request.form.to_dict()
    try:
        record = inspections.parse_record(inspections.record_from_form(request.form, request.form.getlist),
                                          default_inspector=actor())
        rec = inspections.record_inspection(conn, blob_store(), code, record, settings=inspection_settings(), actor=actor(),
                                            track=one_upload("track"), photos=uploads("photos"),
                                            remote_addr=remote_addr())
    except (RegistryError, GeometryError, CoordinateError) as exc:
        status = getattr(exc, "status", 422)
        message = describe(exc)
        return _form_page(site, values=values, error=message, status=status)
    flash(_("Inspection of %(code)s recorded.", code=code), "success")
    flagged = [p for p in rec["photos"] if set(p["flags"]) & {"far_from_site", "other_date"}]
    if flagged:
        flash(_("%(count)d photo(s) were flagged: check them below.", count=len(flagged)), "warning")
    return redirect(url_for("inspections.record", inspection_id=rec["fid"]), 303)


@bp.get("/inspections/<int:inspection_id>")
@require("site.read_exact")
def record(inspection_id: int):
    from .. import maps
    import folium

    conn = get_conn()
    rec = inspections.get_inspection(conn, inspection_id)
    site = sites.current(conn, rec["code"])
    m = _feature_map(site)
    bounds = [g.bounds for g in (site.boundary, site.location) if g is not None and g.geom_type != "Point"]
    track = rec.get("track")
    if track and track.get("geom") is not None:
        folium.GeoJson({"type": "Feature", "geometry": track["geom"].__geo_interface__, "properties": {}},
                       style_function=lambda _f: {"color": "#1f5fbf", "weight": 3}).add_to(m)
        bounds.append(track["geom"].bounds)
    if rec.get("point") is not None:
        folium.CircleMarker((rec["point"].y, rec["point"].x), radius=6, color="#1f5fbf", fill=True,
                            tooltip=maps.tooltip(_("Inspection point"))).add_to(m)
    markers = []
    for p in rec["photos"]:
        if p["gps_lon"] is not None:
            colour = "#c0392b" if "far_from_site" in p["flags"] else "#555"
            markers.append(maps.marker(p["gps_lon"], p["gps_lat"], text=p["original_name"] or p["sha256"][:10],
                                       colour=colour, radius=4))
            bounds.append((p["gps_lon"], p["gps_lat"], p["gps_lon"], p["gps_lat"]))
    if bounds:
        m.fit_bounds([[min(b[1] for b in bounds), min(b[0] for b in bounds)],
                      [max(b[3] for b in bounds), max(b[2] for b in bounds)]], padding=(20, 20))
    return render_template("inspections/record.html", rec=rec, site=site,
                           map=maps.render(m, g.csp_nonce, overlays=[maps.Overlay("photos", markers)]),
                           photo_url=photo_url)


@bp.post("/followups/<int:followup_id>/close")
@require("inspection.write")
def close_followup(followup_id: int):
    f = inspections.close_followup(get_conn(), followup_id, note=request.form.get("note"), actor=actor(),
                                   remote_addr=remote_addr())
    flash(_("Follow-up closed."), "success")
    return redirect(safe_redirect_target(request.form.get("next"), url_for("inspections.timeline", code=f["code"])),
                    303)


# ------------------------------------------------------------------------------------------------ timeline
@bp.get("/sites/<code>/timeline")
@require("site.read_exact")
def timeline(code: str):
    conn = get_conn()
    s = inspection_settings()
    newest_first = request.args.get("order") == "desc"
    data = inspections.timeline(conn, code, s.timezone, newest_first=newest_first,
                                report_texts=can("report.triage"))
    due = next((d for d in inspections.schedule(conn, s) if d.code == code), None)
    conditions = data["conditions"]
    chart = None
    if conditions:
        first, last = conditions[0]["date"], conditions[-1]["date"]
        span = max((last - first).days, 1)
        chart = [{"x": round(86 + 484 * ((c["date"] - first).days / span), 1) if len(conditions) > 1 else 330,
                  "y": 15 + 25 * c["rank"], **c} for c in conditions]
    return render_template("inspections/timeline.html", site=data["site"], events=data["events"], chart=chart,
                           conditions=inspections.CONDITIONS, due=due, newest_first=newest_first,
                           today=inspections.local_today(s.timezone))


# ------------------------------------------------------------------------------------------------ photo files
@bp.get("/photos/<sha256>/<kind>")
@require("site.read_exact")
def photo_file(sha256: str, kind: str):
    if kind not in PHOTO_KINDS:
        abort(404)
    photo = inspections.photo_file(get_conn(), blob_store(), sha256, PHOTO_KINDS[kind], can=can)
    response = send_file(photo.path, mimetype=photo.media_type, max_age=0, conditional=True, etag=False)
    response.headers["Cache-Control"] = "private, no-store"
    if kind == "original":
        response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(photo.name, safe='')}"
    return response
