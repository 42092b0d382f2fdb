"""Validation of a proposal against the site version it is based on: errors refuse it with a readable reason (invalid
ring with the place it self-intersects and an offered repair, swapped axes, implausible places, too many vertices
unless the submitter consents to simplification...); warnings are stored with it for the reviewer (outside the region,
far from the current location, overlapping another site, location outside the boundary, movement below the stated
accuracy...); geodesic metrics describe the change."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, mapping
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from .. import features, store
from ..errors import InvalidInput
from ..messages import message_of, msg, msg_list
from ..geometry import (MAX_VERTICES, GeometryError, compare_geometries, fmt, geodesic_area_m2,
                        geodesic_distance_m, simplify_to_limit, validate_boundary, vertex_count)
from ..region import check_plausible, inside
from ..sections.county import county_check
from ..features import UNCHANGED
from ..vocab import Level, Sensitivity
from ..withheld_numbers import withheld_numbers
from .draft import Draft, to_shape
from .policy import Policy, RepairOffered

# Warnings that only say how the input was read or what was filled in: a batch approval may pass them. Any other
# warning (and any code added later) needs the proposal opened and decided on its own.
INFORMATIONAL_WARNINGS = frozenset({"input", "defaults", "location_derived"})


def warning(code: str, message: str, **extra) -> dict[str, Any]:
    """A stored warning: its code, the English text, and (for a Message) what it takes to show it in the reader's
    language later (message_code, msgid, params)."""
    found = message_of(message)
    record = found.as_record() if found is not None else {"message": str(message)}
    return {"code": code, **record, **{k: v for k, v in extra.items() if v is not None}}


def needs_individual_review(rev) -> list[str]:
    """The codes of a proposal's warnings that keep it out of a batch approval."""
    return sorted({w.get("code") for w in rev.warnings if w.get("code") not in INFORMATIONAL_WARNINGS})


def stale_base_warning(base: features.Feature, site: features.Feature) -> dict[str, Any] | None:
    """The warning of a proposal based on an older version than the site's current one (None if it is current)."""
    if base.version == site.version:
        return None
    return warning("stale_base", msg("revisions.stale_base", "based on version {version}, but {code} is now at "
                                     "version {version2}: it must be rebased before it can be approved",
                                     version=base.version, code=site.code, version2=site.version), current_version=site.version)


def boundary_value(action: str, boundary: MultiPolygon | None) -> Any:
    """A proposal's boundary action as the change it makes: the new boundary, None (removed) or UNCHANGED."""
    return {"set": boundary, "remove": None}.get(action, UNCHANGED)


def boundary_after(current: MultiPolygon | None, action: str, boundary: MultiPolygon | None) -> MultiPolygon | None:
    """The boundary a site has after a proposal's boundary action."""
    value = boundary_value(action, boundary)
    return current if value is UNCHANGED else value


def _check_axes(geom: BaseGeometry, what: str, policy: Policy) -> None:
    """Swapped axes are an error when the swapped geometry lands in the region and the given one does not."""
    arr = shapely.get_coordinates(geom)
    if not arr.size:
        return
    bbox = policy.region_bbox
    as_given = all(inside(bbox, x, y) for x, y in arr[:50])
    swapped = all(inside(bbox, y, x) for x, y in arr[:50])
    if not as_given and swapped:
        x, y = arr[0]
        raise InvalidInput(msg("revisions.s_longitude_latitude_look", "the {what}'s longitude and latitude look "
                               "swapped: ({x}, {y}) read the other way round, ({y}, {x}), lies in {region_name}. "
                               "Give longitude first, then latitude (GeoJSON order), or check the column names",
                               what=what, x=fmt(x), y=fmt(y), region_name=policy.region_name), location=(round(y, 6), round(x, 6)))


def _check_plausible(geom: BaseGeometry, what: str, policy: Policy) -> None:
    coords = shapely.get_coordinates(geom)
    if len(coords) and np.isfinite(coords).all() and (np.abs(coords) <= (180, 90)).all():
        check_plausible(geom, policy.region_bbox, policy.region_name, what=what,
                        max_distance_km=policy.region_max_distance_km)


def _checked_boundary(raw: Any, draft: Draft, warnings: list[dict], policy: Policy) -> MultiPolygon:
    geom = raw
    if isinstance(geom, Mapping):
        geom = to_shape(geom, "boundary")
    if isinstance(geom, BaseGeometry) and not geom.is_empty:
        _check_axes(geom, "boundary", policy)
        _check_plausible(geom, "boundary", policy)
        n = vertex_count(geom)
        if n > MAX_VERTICES:
            if not draft.accept_simplify:
                raise InvalidInput(
                    msg("revisions.boundary_vertices_limit_simplify", "the boundary has {n:,} vertices; the limit is "
                        "{max_vertices:,}. Simplify it before uploading, or send accept_simplify=true to let the "
                        "registry simplify it (the largest deviation is reported to the reviewer)", n=n,
                        max_vertices=MAX_VERTICES), vertices=n, limit=MAX_VERTICES)
            geom, tolerance = simplify_to_limit(geom)
            warnings.append(warning(
                "simplified", msg("revisions.simplified", "the boundary was simplified with the submitter's consent "
                                  "from {n:,} to {geom:,} vertices; no point of the original outline is more than "
                                  "{tolerance:.2f} m from it", n=n, geom=vertex_count(geom), tolerance=tolerance), vertices_before=n, vertices_after=vertex_count(geom),
                tolerance_m=round(tolerance, 3)))
    try:
        return validate_boundary(geom)
    except GeometryError as exc:
        if exc.repair is None:
            raise
        if not draft.accept_repair:
            raise RepairOffered(
                msg("revisions.suggested_repair_shapely_make", "{exc} The suggested repair (shapely make_valid) "
                    "encloses {repair:,.0f} m²; look at it and send accept_repair=true to use it, or correct the "
                    "outline", exc=exc, repair=geodesic_area_m2(exc.repair)),
                location=exc.location, repair=mapping(exc.repair),
                repair_area_m2=round(geodesic_area_m2(exc.repair), 1)) from None
        original = geom
        repaired = validate_boundary(exc.repair)
        before = geodesic_area_m2(shapely.make_valid(original)) if isinstance(original, BaseGeometry) else None
        warnings.append(warning(
            "repaired", msg("revisions.repaired", "the submitted boundary was invalid ({exc}); the submitter "
                            "accepted the automatic repair (area {repaired:,.0f} m²)", exc=exc,
                            repaired=geodesic_area_m2(repaired)), location=list(exc.location) if exc.location
            else None, area_m2=round(geodesic_area_m2(repaired), 1),
            area_before_m2=round(before, 1) if before is not None else None))
        return repaired


def _checked_primary(raw: Any, kind: features.FeatureKind, policy: Policy) -> BaseGeometry:
    """The feature's main geometry (a site's location, a section's line), checked as its kind requires."""
    what = kind.primary
    geom = raw
    if isinstance(geom, Mapping):
        geom = to_shape(geom, what)
    if isinstance(geom, BaseGeometry) and not geom.is_empty:
        _check_axes(geom, what, policy)
    checked = kind.validate_primary(geom)
    _check_plausible(checked, what, policy)
    return checked


def _normalize_changes(props: dict[str, Any], current: dict[str, Any] | None,
                       kind: features.FeatureKind = features.SITE) -> dict[str, Any]:
    """Checked property values, minus those equal to the current ones (a client may send the whole object)."""
    props = {k: v for k, v in props.items() if k not in ("code", "version", "length_m")}  # length_m: measured
    checked = kind.normalize(props, partial=True)
    if current is None:
        return checked
    return {k: v for k, v in checked.items() if current.get(k) != v and not (current.get(k) in (None, "", []) and
                                                                              v in (None, "", []))}



@dataclass
class Prepared:
    """A validated proposal: what it changes, with its warnings and metrics."""

    kind: str
    location: BaseGeometry | None          # the main geometry (a site's location, a section's line); None: unchanged
    boundary_action: str                   # keep | set | remove
    boundary: MultiPolygon | None
    properties: dict[str, Any]
    warnings: list[dict]
    metrics: dict[str, Any]
    feature: features.FeatureKind = features.SITE


def _state_after(base: features.Feature | None, p: Prepared) -> tuple[Point, MultiPolygon | None, dict[str, Any]]:
    if base is None:
        return p.location, p.boundary, dict(p.properties)
    loc = p.location if p.location is not None else base.location
    return loc, boundary_after(base.boundary, p.boundary_action, p.boundary), {**base.properties, **p.properties}


def _round_metrics(m: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 3 if not k.endswith("_m2") else 1) if isinstance(v, float) else v) for k, v in m.items()}


def geometry_metrics(old_location, new_location, old_boundary, new_boundary) -> dict[str, Any]:
    """compare_geometries' geodesic figures plus the areas added and removed by a boundary change."""
    m = compare_geometries(old_location, new_location, old_boundary, new_boundary)
    m["area_added_m2"] = m["area_removed_m2"] = None
    if old_boundary is not None and new_boundary is not None:
        m["area_added_m2"] = geodesic_area_m2(new_boundary.difference(old_boundary))
        m["area_removed_m2"] = geodesic_area_m2(old_boundary.difference(new_boundary))
    return _round_metrics(m)


def _boundary_action(draft: Draft, site, base, warnings: list[dict], policy: Policy) -> tuple[str, Any]:
    if draft.boundary is None:
        if site is None:
            return "keep", None
        if base.boundary is None:
            raise InvalidInput(msg("revisions.site_boundary_remove", "site {code} has no boundary to remove",
                                   code=site.code))
        return "remove", None
    if draft.boundary is UNCHANGED:
        return "keep", None
    return "set", _checked_boundary(draft.boundary, draft, warnings, policy)


def _new_site_properties(props: dict[str, Any], warnings: list[dict],
                         kind: features.FeatureKind = features.SITE) -> dict[str, Any]:
    if not isinstance(props.get("name"), str) or not props.get("name", "").strip():
        raise InvalidInput(msg("revisions.new_site_needs_name", "a new {kind} needs a name (properties.name)",
                               kind=kind.noun))
    defaults = []
    if "level" not in props:
        props["level"] = "general"
        defaults.append(msg("revisions.default_level", "level 'general'"))
    if "sensitivity" not in props:
        props["sensitivity"] = "hidden"  # a new find stays off the public map until someone decides otherwise
        defaults.append(msg("revisions.default_sensitivity", "sensitivity 'hidden'"))
    if props.get("status") == "retired":
        raise InvalidInput(msg("revisions.new_site_proposed_retired", "a new {kind} cannot be proposed as retired",
                               kind=kind.noun))
    if defaults:
        warnings.append(warning("defaults", msg("revisions.defaults", "not given, so set to the safe defaults: "
                                                "{defaults}", defaults=msg_list(defaults))))
    return kind.normalize({k: v for k, v in props.items() if k not in ("code", "version")})


def _placed_in_boundary(boundary, warnings: list[dict], kind: features.FeatureKind = features.SITE) -> Point:
    if kind.geometry != "Point":  # a line (a section's) cannot be derived from a boundary
        raise InvalidInput(msg("revisions.new_feature_needs_primary", "a new {kind} needs its {primary}: send it as "
                               "GeoJSON, typed coordinates or a file with target={target}", kind=kind.noun,
                               primary=kind.primary_noun, target=kind.primary))
    if boundary is None:
        raise InvalidInput(msg("revisions.new_site_needs_location", "a new site needs a location (or a boundary to "
                               "place it in)"))
    location = boundary.representative_point()
    warnings.append(warning("location_derived", msg("revisions.location_derived", "no location was given: placed "
                                                    "inside the boundary at {x}, {y}", x=fmt(location.x),
                                                    y=fmt(location.y)),
                            location=[round(location.x, 6), round(location.y, 6)]))
    return location


def prepare(conn, draft: Draft, *, site: features.Feature | None, base: features.Feature | None, policy: Policy,
            kind: str | None = None, feature: features.FeatureKind | None = None) -> Prepared:
    """Validate a draft against the feature's state it is based on (``site`` None: a new feature of kind ``feature``,
    a site by default): errors raise, warnings are collected, metrics computed."""
    feature = site.kind if site is not None else (feature or features.SITE)
    warnings: list[dict] = [warning("input", n) for n in dict.fromkeys(draft.notes)]
    location = None
    if draft.location is not UNCHANGED and draft.location is not None:
        location = _checked_primary(draft.location, feature, policy)
    boundary_action, boundary = _boundary_action(draft, site, base, warnings, policy)
    props = dict(draft.properties)
    if draft.retire:
        props["status"] = "retired"
    if site is None:
        properties = _new_site_properties(props, warnings, feature)
        location = location if location is not None else _placed_in_boundary(boundary, warnings, feature)
        kind = "new_site"
    else:
        properties = _normalize_changes(props, base.properties, feature)
        if location is not None and location.equals_exact(base.location, 0):
            location = None
        if boundary_action == "set" and base.boundary is not None and boundary.equals_exact(base.boundary, 0):
            boundary_action, boundary = "keep", None
        if location is None and boundary_action == "keep" and not properties:
            raise InvalidInput(msg("revisions.proposal_changes_nothing_location", "this proposal changes nothing: "
                                   "the {primary}, boundary and fields it gives are those of {code} version {version}",
                                   primary=site.kind.primary_noun, code=site.code, version=base.version))
        if kind is None:
            kind = "retire" if properties == {"status": "retired"} and location is None and boundary_action == "keep" \
                else "change"
    p = Prepared(kind, location, boundary_action, boundary, properties, warnings, {}, feature)
    new_loc, new_bnd, new_props = _state_after(base, p)
    p.metrics = {**geometry_metrics(base.location if base else None, new_loc, base.boundary if base else None, new_bnd),
                 **{f"{k}_before": v for k, v in (feature.measures(base.location) if base else {}).items()},
                 **{f"{k}_after": v for k, v in feature.measures(new_loc).items()}}
    p.warnings += _protection_warnings(p, base, new_props) + _place_warnings(p, new_loc, new_bnd, policy)
    p.warnings += _movement_warnings(p, draft, policy)
    for check in feature.proposal_checks:  # what depends on the kind: its own checks, named by the kind
        p.warnings += PLACE_CHECKS[check](conn, p, site, new_loc, new_bnd, new_props, policy)
    return p


def _county_warnings(conn, p: Prepared, site, line, bnd, props: dict[str, Any], policy: Policy) -> list[dict]:
    """A section line far from every registered feature of the county it names (sections.county explains why the
    registry's own features stand for the county)."""
    if p.location is None and "county" not in p.properties and "county_en" not in p.properties:
        return []
    check = county_check(conn, line, props.get("county"), props.get("county_en"),
                         code=site.code if site is not None else None)
    if check is None:
        return []
    if check.distance_m is None:
        return [warning("county_unchecked", msg("revisions.county_unchecked", "no registered site or section names "
                                                "{county} as its county: check by hand that the line lies in it",
                                                county=check.county), county=check.county)]
    if check.distance_m > policy.county_max_km * 1000:
        return [warning("far_from_county", msg("revisions.far_from_county", "the section line is {km:,.1f} km from "
                                               "the nearest of the {features} registered features of {county}, more "
                                               "than {max_km:g} km: check the county and the coordinate system",
                                               km=check.distance_m / 1000, features=check.features,
                                               county=check.county, max_km=policy.county_max_km),
                        county=check.county, distance_m=round(check.distance_m, 1))]
    return []


def _openness(value: Any) -> int:
    """How much the public sees of a feature: 0 (hidden, or an unknown value) up to the most (open)."""
    member = Sensitivity.get(value)
    return 0 if member is None else len(Sensitivity) - 1 - list(Sensitivity).index(member)


def _rank(value: Any) -> int:
    """How strongly a feature is protected: 0 (the lowest level, or an unknown value) up to the highest."""
    member = Level.get(value)
    return 0 if member is None else len(Level) - 1 - list(Level).index(member)


def _protection_warnings(p: Prepared, base: features.Feature | None, props: dict[str, Any]) -> list[dict]:
    """Changes that weaken a site's protection need a reviewer's look at this very proposal (never a batch): the
    public seeing more of it, a lower protection level, retirement, a removed boundary, coordinates in its texts."""
    w = []
    old = base.properties if base is not None else {"sensitivity": Sensitivity.HIDDEN, "level": props.get("level")}
    if _openness(props.get("sensitivity")) > _openness(old.get("sensitivity")):
        w.append(warning("sensitivity_loosened", msg("revisions.sensitivity_loosened", "the public will see more of "
                                                     "this site: sensitivity {value} → {value2}",
                                                     value=p.feature.value_label("sensitivity", old.get('sensitivity')),
                                                     value2=p.feature.value_label("sensitivity",
                                                                                  props.get('sensitivity')))))
    if base is not None and _rank(props.get("level")) < _rank(old.get("level")):
        w.append(warning("level_lowered", msg("revisions.level_lowered", "the protection level is lowered: {value} → "
                                              "{value2}", value=p.feature.value_label("level", old.get('level')),
                                              value2=p.feature.value_label("level", props.get('level')))))
    if base is not None and props.get("status") == "retired" and old.get("status") != "retired":
        w.append(warning("retires_site", msg("revisions.retires_site", "the site is retired: it leaves the "
                                             "protection map and the inspection schedule")))
    if p.boundary_action == "remove":
        w.append(warning("boundary_removed", msg("revisions.boundary_removed", "the protection boundary is removed")))
    if props.get("sensitivity") != "open":
        fields = _public_texts_with_numbers(p, props, newly_protected=old.get("sensitivity") == "open")
        if fields:
            w.append(warning("numbers_in_text", msg("revisions.numbers_in_text", "{fields} hold numbers that could "
                                                    "be coordinates: the public view withholds them for this site; "
                                                    "check the text says what the public may read",
                                                    fields=msg_list(map(p.feature.label, fields))), fields=fields))
        written = [k for k in _public_texts_written(p, props, old) if k not in fields]
        if written:  # a whitelist, not a pattern: no notation a filter misses gets past a batch
            w.append(warning("public_text_written", msg("revisions.public_text_written", "{fields}: the public "
                                                        "reads this text of a protected site as it is written; read "
                                                        "it before approving (no position, in any notation)",
                                                        fields=msg_list(map(p.feature.label, written))),
                             fields=written))
    return w


def _public_texts_written(p: Prepared, props: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """The public texts of a protected feature (its kind's public_text_fields and a section's lists of names) that
    this proposal writes with another, non-empty value."""
    keys = p.feature.public_text_fields + p.feature.public_lists
    return [k for k in keys if k in p.properties and props.get(k) not in (None, "", []) and props.get(k) != old.get(k)]


def _public_texts_with_numbers(p: Prepared, props: dict[str, Any], *, newly_protected: bool) -> list[str]:
    """The public texts of a protected feature (what anonymous callers read of it: its kind's public_text_fields and
    a section's lists of names) that this proposal writes, or all of them when it protects an open feature, holding
    numbers the public view withholds (withheld_numbers: anything that could be part of a position)."""
    out = []
    for key in p.feature.public_text_fields + p.feature.public_lists:
        if key not in p.properties and not newly_protected:
            continue
        value = props.get(key)
        items = value if isinstance(value, list) else [value]
        texts = [t for i in items for t in ((i.get("name"),) if isinstance(i, dict) else (i,)) if isinstance(t, str)]
        if any(withheld_numbers(t) for t in texts):
            out.append(key)
    return out


def _place_warnings(p: Prepared, geom: BaseGeometry, bnd, policy: Policy) -> list[dict]:
    w, name = [], policy.region_name
    loc = features.anchor_point(geom)
    if geom.geom_type != "Point":  # a section line
        if bnd is not None and not bnd.covers(geom):
            w.append(warning("line_outside_boundary", msg("revisions.line_outside_boundary", "part of the section "
                                                          "line lies outside its protection boundary")))
        bnd = None
    if not inside(policy.region_bbox, loc.x, loc.y):
        w.append(warning("outside_region", msg("revisions.outside_region", "the location ({x}, {y}) is outside "
                                               "{name} ({value})", x=fmt(loc.x), y=fmt(loc.y), name=name,
                                               value=', '.join(fmt(v) for v in policy.region_bbox)),
                         location=[round(loc.x, 6), round(loc.y, 6)]))
    if bnd is not None and p.boundary_action == "set":
        minx, miny, maxx, maxy = bnd.bounds
        if not (inside(policy.region_bbox, minx, miny) and inside(policy.region_bbox, maxx, maxy)):
            w.append(warning("outside_region", msg("revisions.outside_region_2", "the boundary reaches outside {name}",
                                                   name=name)))
    if bnd is not None and not bnd.covers(loc):
        d = geodesic_distance_m(loc, nearest_points(bnd, loc)[0])
        w.append(warning("location_outside_boundary", msg("revisions.location_outside_boundary", "the location lies outside "
                                                          "the boundary, {d:,.0f} m from its edge", d=d), distance_m=round(d, 1),
                         location=[round(loc.x, 6), round(loc.y, 6)]))
    return w


def _movement_warnings(p: Prepared, draft: Draft, policy: Policy) -> list[dict]:
    w = []
    shift = p.metrics.get("location_shift_m")
    if shift is not None and p.location is not None:
        if shift > policy.far_warning_m:
            w.append(warning("far_from_current", msg("revisions.far_from_current", "the location moves {shift:,.0f} "
                                                     "m (geodesic) from the current one, more than "
                                                     "{far_warning_m:,.0f} m: check it is the same site and the "
                                                     "right coordinate system", shift=shift,
                                                     far_warning_m=policy.far_warning_m), distance_m=round(shift, 1)))
        if draft.accuracy_m is not None and shift < draft.accuracy_m:
            w.append(warning("below_accuracy", msg("revisions.below_accuracy", "the location moves {shift:,.1f} m, "
                                                   "less than the stated accuracy of {accuracy_m:g} m", shift=shift,
                                                   accuracy_m=draft.accuracy_m), distance_m=round(shift, 2)))
    if draft.method == "phone_map":
        crs_used = {v.get("source_crs") for v in draft.input.values() if isinstance(v, dict)}
        if not crs_used & {"GCJ02", "BD09"}:
            w.append(warning("phone_map_offset", msg("revisions.phone_map_offset", "coordinates from phone map apps "
                                                     "(Amap/Gaode, Tencent, Baidu) are usually GCJ-02 or BD-09, "
                                                     "offset by about 500-1,100 m in Guizhou; they were read as "
                                                     "CGCS2000/WGS84")))
    return w


def _other_site_warnings(conn, p: Prepared, site, loc: Point, bnd, props: dict[str, Any],
                         policy: Policy) -> list[dict]:
    """Overlapping other sites' boundaries, or a new site inside an existing one (R-tree candidates first)."""
    w = []
    code = site.code if site is not None else None
    if p.boundary_action == "set" and bnd is not None:
        for other_code in store.boundary_codes_intersecting(conn, bnd.bounds):
            other = store.get_site_row(conn, other_code) if other_code != code else None
            if other is None or other.boundary is None or other.attributes.get("status") == "retired" \
                    or not other.boundary.intersects(bnd):
                continue
            area = geodesic_area_m2(other.boundary.intersection(bnd))
            if area < policy.overlap_min_m2:
                continue
            pct = area / max(geodesic_area_m2(bnd), 1e-9) * 100
            w.append(warning("overlaps_site", msg("revisions.overlaps_site", "the boundary overlaps site "
                                                  "{other_code} ({value}) by {area:,.0f} m² ({pct:.1f}% of the "
                                                  "proposed boundary)", other_code=other_code,
                                                  value=other.attributes.get('name'), area=area, pct=pct), site=other_code,
                             overlap_m2=round(area, 1), overlap_pct=round(pct, 2)))
    if site is None:
        for other_code in store.boundary_codes_intersecting(conn, (loc.x, loc.y, loc.x, loc.y)):
            other = store.get_site_row(conn, other_code)
            if other is not None and other.boundary is not None and other.boundary.covers(loc):
                w.append(warning("inside_site", msg("revisions.inside_site", "the new site's location lies inside "
                                                    "the boundary of {other_code} ({value}): is it the same site?",
                                                    other_code=other_code, value=other.attributes.get('name')),
                                 site=other_code))
    return w


# The checks of a proposal that depend on its kind of feature, by the names its kind lists (proposal_checks)
PLACE_CHECKS = {"overlaps": _other_site_warnings, "county": _county_warnings}
