"""Pages of the stratigraphic sections (/sections, /sections/<code>) and of protection markers (adding one to a site
or a section). Anonymous callers get the public view (public_view, as for sites); staff the exact lines, history and
the links to propose a change and record an inspection (the sites' own pages and workflow, which serve sections too).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import inspections, markers, public_view, sites
from ..db import get_conn
from ..errors import RegistryError
from ..geometry import GeometryError
from ..http.errors import describe
from ..http.requests import uploads
from ..http.security import actor, can, remote_addr, require
from ..http.settings import blob_store, marker_settings
from ..http.idempotency import idempotent, refusal_with_key
from ..sections import SECTION
from ..vocab import MarkerKind, Significance
from . import labels

if TYPE_CHECKING:  # annotations only: folium (~0.7 s) is imported by the first map page, not the start
    from .. import maps

bp = Blueprint("sections", __name__)

SECTION_COLOUR = "#6a3d9a"
MARKER_COLOUR = "#1b7837"


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _section_labels():
        return {"SECTION_COLOUR": SECTION_COLOUR}


def _exact() -> bool:
    return can("site.read_exact")


def _new_map(**kwargs) -> maps.RegistryMap:
    from .. import maps

    return maps.make_map(**maps.basemap_options(current_app.config), **kwargs)


def _line(m, geom, colour: str = SECTION_COLOUR, weight: int = 4) -> None:
    import folium

    folium.GeoJson({"type": "Feature", "geometry": geom.__geo_interface__, "properties": {}},
                   style_function=lambda _f, c=colour, w=weight: {"color": c, "weight": w, "fillOpacity": 0.12}
                   ).add_to(m)


def marker_overlay(found: list[dict]) -> maps.Overlay:
    """A feature's markers on its map: user text (inscriptions) only as Overlay data, drawn as text."""
    from .. import maps

    return maps.Overlay("markers", [
        maps.marker(mk["point"].x, mk["point"].y, colour="#fff", fill=MARKER_COLOUR, radius=6, weight=2,
                    text=f"#{mk['fid']} {labels.label(mk['kind'], MarkerKind)}"
                         + (f" · {mk['inscription']}" if mk["inscription"] else "")) for mk in found])


# ------------------------------------------------------------------------------------------------------------ pages
@bp.get("/sections")
@require("public.read")
def index():
    from .. import maps
    import folium

    conn = get_conn()
    if _exact():
        shown = [(s, False) for s in sites.list_current(conn, kind=SECTION)]
    else:
        shown = [(p, p.generalized) for p in public_view.list_public(conn, kind=SECTION)]
    m = _new_map(height="100%", fit_bounds=tuple(current_app.config["REGION_BBOX"]))
    cells = [maps.marker(s.location.x, s.location.y, colour=SECTION_COLOUR, fill=SECTION_COLOUR, radius=9,
                         fill_opacity=0.3, text=s.code) for s, generalized in shown if generalized]
    lines = [{"type": "Feature", "geometry": s.location.__geo_interface__, "properties": {}}
             for s, generalized in shown if not generalized]
    if lines:  # one layer for every line (no user text in it): one map element however many sections
        folium.GeoJson({"type": "FeatureCollection", "features": lines},
                       style_function=lambda _f: {"color": SECTION_COLOUR, "weight": 4}).add_to(m)
    return render_template("sections/index.html", sections=shown, exact=_exact(),
                           map=maps.render(m, g.csp_nonce, overlays=[maps.Overlay("approximate", cells)]),
                           significances=Significance)


@bp.get("/sections/<code>")
@require("public.read")
def section_page(code: str):
    from .. import maps
    import folium

    conn = get_conn()
    exact = _exact()
    history = None
    if exact:
        section = sites.current(conn, code, kind=SECTION)
        history = sites.history(conn, code, kind=SECTION)
        generalized = False
    else:
        section = public_view.get_public(conn, code, kind=SECTION)  # hidden, retired, unknown: the same NotFound
        generalized = section.generalized
    found = None if generalized else markers.markers_of(conn, code, public=not exact, kind=SECTION)
    m = _new_map(height="100%")
    if generalized:
        x, y, half = section.location.x, section.location.y, public_view.CELL_DEG / 2
        folium.Rectangle([[y - half, x - half], [y + half, x + half]], color=SECTION_COLOUR, weight=2,
                         dash_array="6 4", fill=True, fill_opacity=0.08,
                         tooltip=maps.tooltip(_l("Approximate location: centre of a 0.1° grid cell"))).add_to(m)
        m.fit_bounds([[y - half, x - half], [y + half, x + half]])
    else:
        for geom in (section.boundary, section.location):
            if geom is not None:
                _line(m, geom, SECTION_COLOUR if geom is section.location else "#8a3b12",
                      5 if geom is section.location else 2)
        bounds = section.boundary.bounds if section.boundary is not None else section.location.bounds
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], padding=(30, 30), max_zoom=16)
    ends = None
    if exact:
        (x0, y0), (x1, y1) = section.location.coords[0], section.location.coords[-1]
        ends = {"start": f"{y0:.6f}, {x0:.6f}", "end": f"{y1:.6f}, {x1:.6f}"}
    props = section.properties
    return render_template("sections/section.html", code=code, p=props, version=section.version,
                           length_m=None if generalized else SECTION.measures(section.location)["length_m"],
                           generalized=generalized, exact=exact, history=history, ends=ends, markers=found,
                           map=maps.render(m, g.csp_nonce, overlays=[marker_overlay(found)] if found else []),
                           marker_kinds=markers.KINDS, lang=str(get_locale() or "en"))


# ------------------------------------------------------------------------------------------------------------ markers
@bp.post("/sites/<code>/markers")
@bp.post("/sections/<code>/markers", endpoint="add_section_marker")
@require("marker.write")
@idempotent
def add_marker(code: str):
    page = url_for("sections.section_page" if request.path.startswith("/sections/") else "public.site_page", code=code)
    kind = SECTION if request.path.startswith("/sections/") else sites.SITE
    fields = {k: v for k, v in request.form.items() if k != "csrf_token" and v not in (None, "")}
    try:
        marker = markers.add_marker(get_conn(), blob_store(), code, fields, settings=marker_settings(), actor=actor(),
                                    photos=uploads("photos"), remote_addr=remote_addr(), kind=kind)
    except (RegistryError, GeometryError) as exc:
        if isinstance(exc, RegistryError) and exc.status == 404:
            raise
        refusal_with_key(exc)
        flash(describe(exc), "error")
        return redirect(page + "#markers", 303)
    flash(_("Marker #%(id)d recorded.", id=marker["fid"]), "success")
    for w in marker["warnings"]:
        flash(describe(w), "warning")
    return redirect(page + "#markers", 303)


@bp.get("/markers/<int:marker_id>/photos/<sha256>")
@require("public.read")
def marker_photo(marker_id: int, sha256: str):
    """A marker's photo: the metadata-free display copy; anonymous callers only of markers the public may see."""
    conn = get_conn()
    marker = markers.get_marker(conn, marker_id) if _exact() else markers.public_marker(conn, marker_id)
    if sha256 not in {p["sha256"] for p in marker["photos"]}:
        abort(404)
    photo = inspections.photo_file(conn, blob_store(), sha256, "display", can=can)
    response = send_file(photo.path, mimetype=photo.media_type, max_age=0, conditional=True, etag=False)
    response.headers["Cache-Control"] = "private, no-store" if _exact() else "no-cache"
    return response
