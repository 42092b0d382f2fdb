"""Web pages of the revision workflow: propose (forms, file upload, typed coordinates, drawing on the map), review
(queue, map overlay of current and proposed geometry with the difference highlighted, figures, attribute table,
decisions, batch approval), conflicts (three-way view, rebase), site history (compare any two versions, restore).

Thin: forms are turned into plain fields for fossil_registry.revisions, which holds every rule (who may amend or decide
what, and when); geometries for the maps come from the domain (differences included), this module only styles them."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from .. import revisions, sites
from ..coords import CoordinateError
from ..db import get_conn
from ..errors import InvalidInput, RegistryError
from ..geometry import MAX_VERTICES, GeometryError
from ..http.errors import describe
from ..i18n import translate
from ..http.requests import read_upload
from ..http.security import actor, can, remote_addr, require
from ..http.settings import revision_policy
from ..http.idempotency import idempotent, refusal_with_key
from ..messages import Label, Message, msg
from ..vocab import RevisionKind, RevisionStatus
from . import labels

if TYPE_CHECKING:  # annotations only: folium (~0.7 s) is imported by the first map page, not the start
    from .. import maps
    import folium

bp = Blueprint("revisions", __name__)

METRIC_NAMES = {"location_shift_m": _l("Location shift (m)"), "area_before_m2": _l("Area before (m²)"),
                "area_after_m2": _l("Area after (m²)"), "area_change_pct": _l("Area change (%)"),
                "area_added_m2": _l("Area added (m²)"), "area_removed_m2": _l("Area removed (m²)"),
                "centroid_shift_m": _l("Centroid shift (m)"), "hausdorff_m": _l("Hausdorff distance (m)"),
                "vertices_before": _l("Vertices before"), "vertices_after": _l("Vertices after")}
CRS_CHOICES = [("", _l("CGCS2000 longitude/latitude (EPSG:4490, default)")),
               ("EPSG:4326", _l("WGS84 (GPS) longitude/latitude")),
               ("GCJ02", _l("GCJ-02: Amap/Gaode, Tencent maps")), ("BD09", _l("BD-09: Baidu Maps")),
               ("EPSG:4544", _l("CGCS2000 Gauss-Krüger 3° CM 105°E (EPSG:4544)")),
               ("EPSG:4545", _l("CGCS2000 Gauss-Krüger 3° CM 108°E (EPSG:4545)")),
               ("EPSG:4523", _l("CGCS2000 Gauss-Krüger 3° zone 35, prefixed (EPSG:4523)")),
               ("EPSG:4524", _l("CGCS2000 Gauss-Krüger 3° zone 36, prefixed (EPSG:4524)")),
               ("EPSG:4507", _l("CGCS2000 Gauss-Krüger 6° CM 105°E (EPSG:4507)")),
               ("EPSG:4496", _l("CGCS2000 Gauss-Krüger 6° zone 18, prefixed (EPSG:4496)")),
               ("other", _l("another EPSG code or .prj text…"))]
STYLE = {
    "before": {"color": "#2166ac", "weight": 2, "fillOpacity": 0.06},
    "proposed": {"color": "#d95f02", "weight": 3, "dashArray": "8 5", "fillOpacity": 0.04},
    "added": {"color": "#1a9850", "weight": 0, "fillColor": "#1a9850", "fillOpacity": 0.45},
    "removed": {"color": "#d73027", "weight": 0, "fillColor": "#d73027", "fillOpacity": 0.45},
    "base": {"color": "#666666", "weight": 2, "dashArray": "2 6", "fillOpacity": 0.0},
    "repair": {"color": "#7b3294", "weight": 3, "dashArray": "4 4", "fillOpacity": 0.15},
}


@bp.app_context_processor
def _labels():
    return {"REVISION_METRIC_NAMES": METRIC_NAMES}


# ---------------------------------------------------------------------------------------------------------------- maps
def _new_map(**kwargs) -> maps.RegistryMap:
    from .. import maps

    return maps.make_map(**maps.basemap_options(current_app.config), context=maps.STAFF_CONTEXT, **kwargs)


def _add(m, geom: BaseGeometry | None, style: str, label: str, group: folium.FeatureGroup | None = None):
    from .. import maps
    import folium

    if geom is None or geom.is_empty:
        return
    target = group or m
    if geom.geom_type == "Point":
        colour = STYLE[style]["color"] if STYLE[style].get("weight") else STYLE[style]["fillColor"]
        folium.CircleMarker((geom.y, geom.x), radius=7, color="#fff", weight=2, fill=True, fill_color=colour,
                            fill_opacity=1, tooltip=maps.tooltip(label)).add_to(target)
        return
    folium.GeoJson({"type": "Feature", "geometry": mapping(geom), "properties": {}},
                   style_function=lambda _f, s=STYLE[style]: s, tooltip=maps.tooltip(label),
                   name=str(label)).add_to(target)


def _fit(m, geoms) -> None:
    present = [x for x in geoms if x is not None and not x.is_empty]
    if not present:
        return
    minx = min(x.bounds[0] for x in present)
    miny = min(x.bounds[1] for x in present)
    maxx = max(x.bounds[2] for x in present)
    maxy = max(x.bounds[3] for x in present)
    pad = 0.002
    m.fit_bounds([[miny - pad, minx - pad], [maxy + pad, maxx + pad]])


def comparison_map(layers: list[tuple[BaseGeometry | None, str, str]]) -> maps.RenderedMap:
    """A map of labelled geometries (style keys of STYLE) with a layer switcher."""
    from .. import maps
    import folium

    m = _new_map(height="100%")
    for geom, style, label in layers:
        if geom is not None and not geom.is_empty:
            group = folium.FeatureGroup(name=str(label), show=True).add_to(m)
            _add(m, geom, style, label, group)
    folium.LayerControl(collapsed=False).add_to(m)
    _fit(m, [x[0] for x in layers])
    return maps.render(m, g.csp_nonce)


def drawing_map(*, boundary=None, location=None, drawn=False, repair=None, context=()) -> tuple[maps.RenderedMap, dict]:
    """The map of the proposal form: the boundary and location can be drawn or edited (Leaflet.draw, self-hosted);
    revisions-form.js writes what is drawn into the form's hidden fields as GeoJSON (EPSG:4490)."""
    from .. import maps
    import folium
    from folium import plugins

    m = _new_map(height="100%")
    for geom, style, label in context:
        _add(m, geom, style, label)
    editable = folium.FeatureGroup(name="editable", control=False).add_to(m)
    plugins.Draw(export=False, feature_group=editable, show_geometry_on_click=False, position="topleft",
                 draw_options={"polyline": False, "circle": False, "circlemarker": False,
                               "polygon": {"allowIntersection": False, "showArea": True},
                               "rectangle": {"showArea": True}, "marker": True},
                 edit_options={"poly": {"allowIntersection": False}}).add_to(m)
    if repair is not None:
        _add(m, repair, "repair", _("Suggested repair"))
    _fit(m, [boundary, location, repair] + [c[0] for c in context])
    if boundary is None and location is None and not context:
        bbox = current_app.config["REGION_BBOX"]
        m.fit_bounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]])
    config = {"map": m.get_name(), "group": editable.get_name(),
              "boundary": mapping(boundary) if boundary is not None else None,
              "location": mapping(location) if location is not None else None, "drawn": bool(drawn),
              "boundary_input": "boundary_drawn", "location_input": "location_drawn"}
    return maps.render(m, g.csp_nonce), config


# ---------------------------------------------------------------------------------------------------------------- lists
def _filters() -> dict:
    return {k: request.args.get(k, "").strip() for k in ("status", "site", "author", "kind")}


def _queue(filters: dict, **extra):
    return revisions.queue(get_conn(), status=filters["status"] or None, site=filters["site"] or None,
                           author=filters["author"] or None, kind=filters["kind"] or None, **extra)


@bp.get("/revisions")
@require("revision.propose")
def index():
    conn = get_conn()
    filters = _filters()
    try:
        items = _queue(filters, limit=300)
        error = None
    except InvalidInput as exc:
        items, error = [], describe(exc)
    mine = revisions.queue(conn, author=actor(), limit=100)
    return render_template("revisions/index.html", items=items, mine=mine, filters=filters, error=error,
                           inbox=revisions.inbox(conn, actor(), can_review=can("revision.review")),
                           stale=revisions.stale_flags(conn, items + mine), statuses=revisions.STATUSES,
                           kinds=revisions.KINDS)


@bp.get("/review")
@require("revision.review")
def review():
    conn = get_conn()
    filters = _filters()
    filters["status"] = filters["status"] or "submitted"
    try:
        items = _queue(filters, limit=300)
        error = None
    except InvalidInput as exc:
        items, error = [], describe(exc)
    return render_template("revisions/review.html", items=items, filters=filters, error=error,
                           inbox=revisions.inbox(conn, actor(), can_review=True),
                           individual={r.id: revisions.needs_individual_review(r) for r in items},
                           stale=revisions.stale_flags(conn, items), statuses=revisions.STATUSES,
                           kinds=revisions.KINDS)


@bp.post("/review/batch")
@require("revision.review")
def batch():
    try:  # each checkbox carries "<id>:<round>": the round the reviewer saw in the queue
        items = [(revisions.checked_id(i), revisions.checked_round(r))
                 for i, _, r in (v.partition(":") for v in request.form.getlist("items"))]
    except RegistryError as exc:
        flash(describe(exc), "error")
        return redirect(url_for("revisions.review"), 303)
    if not items:
        flash(_("Choose the proposals to approve."), "error")
        return redirect(url_for("revisions.review"), 303)
    results = revisions.decide_many(get_conn(), items, "approve", reviewer=actor(),
                                    comment=request.form.get("comment") or None, remote_addr=remote_addr(),
                                    policy=revision_policy())
    ok = [r for r in results if r["ok"]]
    if ok:
        flash(_("Approved %(count)d proposal(s): %(ids)s.", count=len(ok),
                ids=", ".join(f"#{r['id']} → {r['site']} v{r['site_version']}" for r in ok)), "success")
    for r in results:
        if not r["ok"]:
            flash(_("#%(id)d not approved: %(detail)s", id=r["id"], detail=r["detail"]), "error")
    return redirect(url_for("revisions.review"), 303)


# ---------------------------------------------------------------------------------------------------------------- forms
PROPERTY_INPUTS = ("name", "name_en", "county", "county_en", "level", "sensitivity", "period", "age", "formation",
                   "formation_en",
                   "fossil_groups", "established", "description", "description_en", "public_description",
                   "public_description_en")


def _form_fields(form, site: sites.Site | None) -> dict:
    """The form's fields as revisions.parse_draft expects them."""
    crs = form.get("crs", "")
    if crs == "other":
        crs = form.get("crs_other", "").strip()
    fields = {k: form.get(k) for k in ("base_version", "reason", "method", "accuracy_m", "survey_date",
                                       "accept_repair", "accept_simplify", "retire", "remove_boundary", "target",
                                       "feature", "comment")}
    fields["crs"] = crs or None
    fields["location"] = form.get("location_text", "").strip() or None
    fields["boundary"] = form.get("boundary_text", "").strip() or None
    fields["location_drawn"] = form.get("location_drawn") or None
    fields["boundary_drawn"] = form.get("boundary_drawn") or None
    props = {}
    known = site.kind.property_fields if site is not None else PROPERTY_INPUTS
    for key in PROPERTY_INPUTS:
        if key not in form or key not in known:  # a section's own fields are changed through the API
            continue
        value = form.get(key, "")
        if site is None and value.strip() == "":
            continue  # a new site: empty means "not given"
        props[key] = value
    if props:
        fields["properties"] = props
    if site is not None and site.kind.primary == "line":  # a section: the form's location inputs carry its line
        fields["line"], fields["line_drawn"] = fields.pop("location"), fields.pop("location_drawn")
        if fields.get("target") == "location":
            fields["target"] = "line"
    return {k: v for k, v in fields.items() if v not in (None, "")}


def _upload():
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        return None
    return read_upload(storage, revision_policy().limits.max_file_bytes)


def _attachments():
    return [read_upload(f, revision_policy().max_attachment_bytes) for f in request.files.getlist("attachments")
            if f and f.filename]


def _render_form(*, site, rev=None, error=None, repair=None, offer_simplify=False, status=200):
    form = request.form if request.method == "POST" else {}
    context = []
    if site is not None:
        context.append((site.boundary, "before", _("Current boundary")))
        context.append((site.location, "before", _("Current location")))
    drawn_boundary = drawn_location = None
    for key in ("boundary_drawn", "location_drawn"):
        raw = form.get(key)
        if raw:
            try:
                geom = revisions.to_shape(revisions.geojson_geometry(raw, key), key)
            except (RegistryError, GeometryError, ValueError):
                geom = None
            if key == "boundary_drawn":
                drawn_boundary = geom
            else:
                drawn_location = geom
    start_boundary = drawn_boundary
    if start_boundary is None and rev is not None and rev.boundary is not None:
        start_boundary = rev.boundary
    if start_boundary is None and site is not None:
        start_boundary = site.boundary
    start_location = drawn_location or (rev.location if rev is not None and rev.location is not None else None)
    rendered, config = drawing_map(boundary=start_boundary, location=start_location,
                                   drawn=drawn_boundary is not None, repair=repair,
                                   context=[c for c in context if c[0] is not None])
    config["location_drawn"] = drawn_location is not None
    values = dict(site.properties) if site is not None else {}
    if rev is not None:
        values.update(rev.properties)
        for key in ("reason", "method", "accuracy_m", "survey_date"):
            values.setdefault("_" + key, getattr(rev, key))
    return render_template(
        "revisions/form.html", site=site, rev=rev, error=error, repair=repair is not None, offer_simplify=offer_simplify,
        map=rendered, map_config=config, values=values, form=form, crs_choices=CRS_CHOICES,
        methods=revisions.METHODS, levels=sites.LEVELS, sensitivities=sites.SENSITIVITIES, periods=sites.PERIODS,
        fossil_groups=sites.FOSSIL_GROUPS, limits=revision_policy(), max_vertices=MAX_VERTICES), status


@bp.get("/revisions/new")
@require("revision.propose")
def new():
    code = request.args.get("site", "").strip()
    site = sites.current(get_conn(), code) if code else None
    return _render_form(site=site)


def _form_error(exc) -> tuple[str, BaseGeometry | None, bool]:
    repair = None
    if isinstance(exc, revisions.RepairOffered) and exc.extra.get("repair"):
        from shapely.geometry import shape
        repair = shape(exc.extra["repair"])
    message = describe(exc)
    offer_simplify = isinstance(exc, InvalidInput) and "accept_simplify" in message
    return message, repair, offer_simplify


@bp.post("/revisions/new")
@require("revision.propose")
@idempotent
def create():
    conn = get_conn()
    code = request.form.get("site", "").strip()
    site = sites.current(conn, code) if code else None
    try:
        fields = _form_fields(request.form, site)
        draft = revisions.parse_draft(fields, file=_upload(), policy=revision_policy(), attachments=_attachments(),
                                      line=site is not None and site.kind.primary == "line")
        rev = revisions.propose(conn, draft, author=actor(), site_code=code or None, policy=revision_policy(),
                                remote_addr=remote_addr())
    except (RegistryError, GeometryError, CoordinateError) as exc:
        if isinstance(exc, RegistryError) and exc.status in (403, 404):
            raise
        message, repair, offer_simplify = _form_error(exc)
        return _render_form(site=site, error=message, repair=repair, offer_simplify=offer_simplify, status=422)
    flash(_("Proposal #%(id)d submitted: it now waits for review by an expert.", id=rev.id), "success")
    return redirect(url_for("revisions.detail", revision_id=rev.id), 303)


def _current_site(conn, rev) -> sites.Site | None:
    """The site a proposal changes, as it is now (None for a new-site proposal)."""
    return sites.current(conn, rev.site_code) if rev.site_code and rev.kind != RevisionKind.NEW_SITE else None


@bp.get("/revisions/<int:revision_id>/amend")
@require("revision.propose")
def amend_form(revision_id: int):
    conn = get_conn()
    rev = revisions.amendable(conn, revision_id, actor())
    site = _current_site(conn, rev)
    return _render_form(site=site, rev=rev)


@bp.post("/revisions/<int:revision_id>/amend")
@require("revision.propose")
def amend(revision_id: int):
    conn = get_conn()
    rev = revisions.get(conn, revision_id)
    site = _current_site(conn, rev)
    try:
        fields = _form_fields(request.form, site)
        fields.pop("base_version", None)
        draft = revisions.parse_draft(fields, file=_upload(), policy=revision_policy(), attachments=_attachments(),
                                      line=site is not None and site.kind.primary == "line")
        rev = revisions.amend(conn, revision_id, draft, author=actor(), policy=revision_policy(), remote_addr=remote_addr())
    except (RegistryError, GeometryError, CoordinateError) as exc:
        if isinstance(exc, RegistryError) and exc.status in (403, 404, 409):
            raise
        message, repair, offer_simplify = _form_error(exc)
        return _render_form(site=site, rev=rev, error=message, repair=repair, offer_simplify=offer_simplify,
                            status=422)
    flash(_("Proposal #%(id)d updated and waiting for review again.", id=rev.id), "success")
    return redirect(url_for("revisions.detail", revision_id=rev.id), 303)


# ---------------------------------------------------------------------------------------------------------------- one
@bp.get("/revisions/<int:revision_id>")
@require("revision.propose")
def detail(revision_id: int):
    conn = get_conn()
    rev = revisions.get(conn, revision_id)
    view = revisions.review_view(conn, rev)
    before = view["before"]
    proposed = view["proposed"]
    if rev.status == RevisionStatus.APPROVED:
        labels = (_("Boundary before"), _("Location before"))
    elif view["stale"]:
        labels = (_("Base boundary (v%(v)d)", v=rev.base_version), _("Base location"))
    else:
        labels = (_("Current boundary"), _("Current location"))
    layers = [(before.boundary if before else None, "before", labels[0]),
              (view["removed"], "removed", _("Area removed")), (view["added"], "added", _("Area added")),
              (proposed["boundary"], "proposed", _("Proposed boundary")),
              (before.location if before else None, "before", labels[1]),
              (proposed["location"], "proposed", _("Proposed location"))]
    rendered = comparison_map(layers)
    three = None
    if view.get("three_way"):
        tw = view["three_way"]
        three = {"data": tw, "map": comparison_map([
            (tw["base"].boundary, "base", _("Base boundary (v%(v)d)", v=tw["base_version"])),
            (tw["current"].boundary, "before", _("Current boundary (v%(v)d)", v=tw["current_version"])),
            (tw["proposed"]["boundary"], "proposed", _("Proposed boundary")),
            (tw["base"].location, "base", _("Base location")),
            (tw["current"].location, "before", _("Current location")),
            (tw["proposed"]["location"], "proposed", _("Proposed location"))])}
    may = revisions.actions(rev, actor=actor(), may_review=can("revision.review"), stale=view["stale"])
    return render_template("revisions/detail.html", rev=rev, view=view, map=rendered, three=three,
                           is_author=rev.author == actor(), may_decide=may["decide"], may_reject=may["reject"],
                           may_rebase=may["rebase"])


def _back(revision_id: int):
    return redirect(url_for("revisions.detail", revision_id=revision_id), 303)


@bp.post("/revisions/<int:revision_id>/decision")
@require("revision.review")
def decide(revision_id: int):
    decision = request.form.get("decision", "")
    try:
        rev, applied = revisions.decide(get_conn(), revision_id, decision, reviewer=actor(),
                                        round_seen=request.form.get("round"), comment=request.form.get("comment"),
                                        remote_addr=remote_addr(), policy=revision_policy())
    except (InvalidInput, revisions.RoundRequired) as exc:
        flash(describe(exc), "error")
        return _back(revision_id)
    except revisions.Conflict as exc:
        flash(describe(exc), "error")
        return _back(revision_id)
    if applied is not None:
        flash(_("Approved: %(code)s is now at version %(version)d.", code=applied.code, version=applied.version),
              "success")
    else:
        flash(_("Decision recorded: %(status)s.", status=labels.label(rev.status, RevisionStatus)), "success")
    return _back(revision_id)


@bp.post("/revisions/<int:revision_id>/withdraw")
@require("revision.propose")
def withdraw(revision_id: int):
    revisions.withdraw(get_conn(), revision_id, actor=actor(), comment=request.form.get("comment") or None,
                       remote_addr=remote_addr())
    flash(_("Proposal #%(id)d withdrawn.", id=revision_id), "success")
    return _back(revision_id)


@bp.post("/revisions/<int:revision_id>/rebase")
@require("revision.propose")
def rebase(revision_id: int):
    try:
        rev = revisions.rebase(get_conn(), revision_id, actor=actor(), may_review=can("revision.review"),
                               policy=revision_policy(), remote_addr=remote_addr())
    except InvalidInput as exc:
        flash(describe(exc), "error")
        return _back(revision_id)
    flash(_("Proposal #%(id)d now builds on version %(version)d; check the figures and warnings again.",
            id=revision_id, version=rev.base_version), "success")
    return _back(revision_id)


@bp.post("/revisions/<int:revision_id>/comment")
@require("revision.propose")
@idempotent
def comment(revision_id: int):
    try:
        revisions.comment(get_conn(), revision_id, actor=actor(), text=request.form.get("comment"),
                          remote_addr=remote_addr())
    except InvalidInput as exc:
        refusal_with_key(exc)
        flash(describe(exc), "error")
    return _back(revision_id)


# ---------------------------------------------------------------------------------------------------------------- history
@bp.get("/sites/<code>/history")
@require("site.read_exact")
def history(code: str):
    conn = get_conn()
    versions = revisions.history(conn, code)
    latest = versions[-1]["version"]
    try:
        b = int(request.args.get("b") or request.args.get("version") or latest)
        a = int(request.args.get("a") or (b - 1 if b > 1 else b))
    except ValueError:
        raise InvalidInput(msg("web.versions_compare_must_numbers", "versions to compare must be numbers")) from None
    diff = sites.diff(conn, code, a, b)
    va, vb = sites.at_version(conn, code, a), sites.at_version(conn, code, b)
    added = removed = None
    if va.boundary is not None and vb.boundary is not None:
        added, removed = vb.boundary.difference(va.boundary), va.boundary.difference(vb.boundary)
    rendered = comparison_map([
        (va.boundary, "before", _("Boundary v%(v)d", v=a)), (removed, "removed", _("Area removed")),
        (added, "added", _("Area added")), (vb.boundary, "proposed", _("Boundary v%(v)d", v=b)),
        (va.location, "before", _("Location v%(v)d", v=a)), (vb.location, "proposed", _("Location v%(v)d", v=b))])
    open_here = revisions.queue(conn, site=code, status=list(revisions.OPEN), limit=50)
    return render_template("revisions/history.html", code=code, site=sites.current(conn, code), versions=versions,
                           a=a, b=b, diff=diff, map=rendered, open_here=open_here)


@bp.post("/sites/<code>/restore")
@require("site.restore")
def restore(code: str):
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        flash(_("Choose the version to restore."), "error")
        return redirect(url_for("revisions.history", code=code), 303)
    try:
        rev = revisions.propose_restore(get_conn(), code, version, author=actor(), reason=request.form.get("reason"),
                                        policy=revision_policy(), remote_addr=remote_addr())
    except InvalidInput as exc:
        flash(describe(exc), "error")
        return redirect(url_for("revisions.history", code=code, a=version), 303)
    flash(_("Restoration of version %(version)d proposed as #%(id)d: a second person must approve it.",
            version=version, id=rev.id), "success")
    return redirect(url_for("revisions.detail", revision_id=rev.id), 303)


def fmt_number(value, decimals: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{decimals}f}"


@bp.app_template_filter("revnum")
def _revnum(value, decimals: int = 1):
    return fmt_number(value, decimals)


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


@bp.app_template_filter("revvalue")
def _revvalue(value) -> str:
    """Any stored value as one readable line: lists joined by commas (lists of objects by semicolons), an object as its
    name with its other filled-in fields in brackets ("base of the Wuliuan Stage (rank: stage, gssp: candidate)"),
    numbers as written, a vocabulary's label (``field_value``) in the reader's language. Autoescaped by the template
    like any text."""
    if isinstance(value, Message):
        return translate(value)
    if isinstance(value, (list, tuple)):
        shown = [_revvalue(v) for v in value if not _empty(v)]
        return ("; " if any(isinstance(v, (dict, list, tuple)) for v in value) else ", ").join(shown)
    if isinstance(value, dict):
        # a vocabulary's label says what it is ("stage", "GSSP candidate"); any other value is named by its key
        rest = ", ".join(_revvalue(v) if isinstance(v, Label) else f"{k}: {_revvalue(v)}" for k, v in value.items()
                         if k != "name" and not _empty(v))
        if _empty(value.get("name")):
            return rest
        return f"{_revvalue(value['name'])} ({rest})" if rest else _revvalue(value["name"])
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return "" if value is None else str(value)


def init_app(app) -> None:
    app.register_blueprint(bp)
