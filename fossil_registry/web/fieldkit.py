"""Web pages of the field kits: check out a kit for an area (a bbox, a county or a list of sites), check an edited kit
in, and the summary of a check-in (what was proposed, unchanged, missing, refused and why). Thin: the rules are in
fossil_registry.fieldkit."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, current_app, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from .. import county_context, fieldkit, sites
from ..db import get_conn
from ..errors import InvalidInput, RegistryError
from ..http.errors import describe
from ..http.requests import allow_request_bytes, read_upload
from ..http.security import actor, remote_addr, require
from ..http.settings import fieldkit_settings
from ..http.idempotency import idempotent

if TYPE_CHECKING:  # annotations only: folium (~0.7 s) is imported by the first map page, not the start
    from .. import maps

bp = Blueprint("fieldkit", __name__)


@bp.before_request
def _upload_limit():
    if request.endpoint == "fieldkit.check_in":
        allow_request_bytes(fieldkit_settings().max_upload_bytes)


SITES_ON_AREA_MAP = 5000


def _area_map(current: list) -> tuple[maps.RenderedMap, dict]:
    """The map on which the kit's area is drawn as a rectangle (Leaflet.draw, self-hosted) over the registered sites;
    fieldkit-area.js writes the rectangle into the typed box field (min lon, min lat, max lon, max lat), and draws
    a typed box."""
    from .. import maps
    import folium
    from folium import plugins

    m = maps.make_map(**maps.basemap_options(current_app.config), height="100%",
                      fit_bounds=tuple(current_app.config["REGION_BBOX"]), context=maps.STAFF_CONTEXT)
    drawn = folium.FeatureGroup(name="kit-area", control=False).add_to(m)
    plugins.Draw(export=False, feature_group=drawn, show_geometry_on_click=False, position="topleft",
                 draw_options={"polyline": False, "polygon": False, "circle": False, "circlemarker": False,
                               "marker": False, "rectangle": {"showArea": False}},
                 edit_options={"poly": False}).add_to(m)
    shown = current if len(current) <= SITES_ON_AREA_MAP else []
    markers = [maps.marker(s.location.x, s.location.y, text=s.code, colour="#555", radius=4, fill_opacity=0.7)
               for s in shown if s.location is not None]
    return (maps.render(m, g.csp_nonce, overlays=[maps.Overlay("sites", markers)] if markers else ()),
            {"map": m.get_name(), "group": drawn.get_name()})


def _page(*, error: str | None = None, status: int = 200):
    conn = get_conn()
    counties: dict[str, int] = {}
    current = sites.list_current(conn)
    for site in current:
        county = site.properties.get("county")
        if county:
            counties[county] = counties.get(county, 0) + 1
    form = request.form if request.method == "POST" else {}
    area_map, area_config = _area_map(current)
    return render_template("fieldkit/index.html", error=error, form=form, counties=sorted(counties.items()),
                           kits=fieldkit.list_kits(conn, limit=30), settings=fieldkit_settings(),
                           map=area_map, map_config=area_config), status


@bp.get("/fieldkit")
@require("fieldkit.use")
def index():
    return _page()


@bp.post("/fieldkit")
@require("fieldkit.use")
def check_out():
    kind = request.form.get("area", "")
    try:
        if kind not in fieldkit.AREA_KINDS:
            raise InvalidInput(_("Choose how the kit's area is given: a box, a county or site codes."))
        area = fieldkit.parse_area({kind: request.form.get(kind, "")})
        kit = fieldkit.check_out(get_conn(), area, actor=actor(), settings=fieldkit_settings(),
                                 basemap=request.form.get("basemap") == "1", remote_addr=remote_addr(),
                                 context=county_context.load(current_app.config))
    except RegistryError as exc:
        if exc.status not in (413, 422):
            raise
        return _page(error=describe(exc), status=exc.status)
    return send_file(kit.file, mimetype="application/zip", as_attachment=True, download_name=kit.filename,
                     max_age=0)


@bp.post("/fieldkit/checkin")
@require("fieldkit.use")
@idempotent
def check_in():
    settings = fieldkit_settings()
    storage = request.files.get("file")
    try:
        if storage is None or not storage.filename:
            raise InvalidInput(_("Choose the kit's fieldkit.gpkg, or a zip of the kit folder."))
        filename, data = read_upload(storage, settings.max_upload_bytes)
        found = fieldkit.check_in(get_conn(), filename, data, actor=actor(), settings=settings,
                                  remote_addr=remote_addr())
    except RegistryError as exc:
        if exc.status not in (413, 422):
            raise
        return _page(error=describe(exc), status=exc.status)
    return redirect(url_for("fieldkit.checkin_summary", checkin_id=found["fid"]), 303)


@bp.get("/fieldkit/checkins/<int:checkin_id>")
@require("fieldkit.use")
def checkin_summary(checkin_id: int):
    found = fieldkit.get_checkin(get_conn(), checkin_id)
    return render_template("fieldkit/checkin.html", checkin=found, summary=found["summary"])


def init_app(app) -> None:
    app.register_blueprint(bp)
