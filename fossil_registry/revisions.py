"""The revision workflow: field teams propose, a second person reviews, an approval becomes a new site version.

Pure domain code (no Flask). A proposal (``revision``) names the site version it is based on and carries its reason,
survey method, stated accuracy, survey date and attachments. It is validated before anything is saved: *errors* refuse
it with a readable reason (invalid ring with the place it self-intersects and an offered repair the submitter must
accept, swapped axes, out-of-range coordinates, too many vertices unless the submitter consents to simplification...);
*warnings* are stored with it and shown to the reviewer (outside the region, far from the current location, overlapping
another site, location outside the boundary, movement below the stated accuracy...).

State machine::

    submitted --approve--> approved            (the site's next version is written in the same transaction)
    submitted --reject (reason)--> rejected
    submitted --request_changes (reason)--> changes_requested --amend (author)--> submitted (round + 1)
    submitted --amend (author)--> submitted (round + 1)
    submitted | changes_requested --withdraw (author)--> withdrawn
    submitted | changes_requested --rebase--> same state, new base version (re-validated, round + 1)

Rounds: whatever changes what an approval would write (an amendment, a rebase) starts a new round. A decision names the
round its reviewer saw and is refused (409) on any other, so a decision applies exactly what its reviewer saw; a
decision that names no round is refused (428) rather than guessed.

Four eyes: nobody decides on their own proposal (checked here, and by a CHECK constraint in the database). Conflicts:
if the site has any new version since the proposal's base, approval is refused (409) and the proposal must be rebased
onto the current version (re-validated, the reviewer sees base / current / proposed) or sent back; geometries are never
merged automatically.
"""
from __future__ import annotations

import math
import mimetypes
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from . import blobs, coords, formats, json_input, sites, store
from .blobs import BlobStore
from .errors import Conflict, InvalidInput, NotFound, RegistryError
from .geometry import (
    MAX_VERTICES,
    GeometryError,
    check_plausible,
    compare_geometries,
    geodesic_area_m2,
    geodesic_distance_m,
    local_metric_crs,
    validate_boundary,
    validate_location,
    vertex_count,
)
from .store import revisions as rstore

METHODS = ("rtk", "handheld_gnss", "phone_map", "digitised", "other")
METHOD_LABELS = {"rtk": "RTK GNSS", "handheld_gnss": "handheld GNSS", "phone_map": "phone map app",
                 "digitised": "digitised from a map", "other": "other"}
KINDS = ("change", "new_site", "retire", "restore")
STATUSES = ("submitted", "changes_requested", "approved", "rejected", "withdrawn")
OPEN = rstore.OPEN_STATUSES
DECISIONS = ("approve", "reject", "request_changes")
MAX_REASON = 4000
UNCHANGED = sites.UNCHANGED


class Forbidden(RegistryError):
    status = 403
    title = "Forbidden"


class RoundRequired(RegistryError):
    """A decision that does not say which round of the proposal its reviewer saw."""

    status = 428
    title = "Precondition required"


class RepairOffered(InvalidInput):
    """An invalid boundary with a suggested repair: refused until the submitter explicitly accepts the repair."""


# ====================================================================================================================
# settings
# ====================================================================================================================
@dataclass(frozen=True)
class Policy:
    region_name: str = "Guizhou"
    region_bbox: tuple[float, float, float, float] = coords.GUIZHOU_BBOX
    far_warning_m: float = 500.0          # a location moved further than this draws a warning
    region_max_distance_km: float = 200.0  # further than this outside the region: refused, not warned about
    overlap_min_m2: float = 1.0           # overlaps with other sites' boundaries below this are ignored (slivers)
    code_prefix: str = "GZ-"
    files: BlobStore | None = None          # where attachments are kept (None: attachments are refused)
    max_attachment_bytes: int = 10 * formats.MiB
    max_attachments: int = 5
    limits: formats.Limits = formats.Limits()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Policy":
        data_dir = config.get("DATA_DIR")
        limits = formats.Limits(
            max_file_bytes=int(config.get("REVISION_MAX_FILE_BYTES", formats.Limits.max_file_bytes)),
            max_unzipped_bytes=int(config.get("REVISION_MAX_UNZIPPED_BYTES", formats.Limits.max_unzipped_bytes)),
            ring_close_tolerance_m=float(config.get("REVISION_RING_CLOSE_TOLERANCE_M",
                                                    formats.Limits.ring_close_tolerance_m)))
        return cls(region_name=config.get("REGION_NAME", cls.region_name),
                   region_bbox=tuple(config.get("REGION_BBOX", cls.region_bbox)),
                   far_warning_m=float(config.get("REVISION_FAR_WARNING_M", cls.far_warning_m)),
                   region_max_distance_km=float(config.get("REGION_MAX_DISTANCE_KM", cls.region_max_distance_km)),
                   overlap_min_m2=float(config.get("REVISION_OVERLAP_MIN_M2", cls.overlap_min_m2)),
                   code_prefix=config.get("SITE_CODE_PREFIX", cls.code_prefix),
                   files=BlobStore(data_dir) if data_dir else None,
                   max_attachment_bytes=int(config.get("REVISION_MAX_ATTACHMENT_BYTES", cls.max_attachment_bytes)),
                   max_attachments=int(config.get("REVISION_MAX_ATTACHMENTS", cls.max_attachments)),
                   limits=limits)


# ====================================================================================================================
# what a submitter sends
# ====================================================================================================================
@dataclass
class Draft:
    """A proposal's content as submitted, geometries already in EPSG:4490 (not yet validated)."""

    reason: str | None = None
    location: Any = UNCHANGED              # Point / GeoJSON mapping, or UNCHANGED
    boundary: Any = UNCHANGED              # Polygon(s) / GeoJSON mapping, None to remove, or UNCHANGED
    properties: dict[str, Any] = field(default_factory=dict)
    retire: bool = False
    method: str | None = None
    accuracy_m: float | None = None
    survey_date: str | None = None
    accept_repair: bool = False
    accept_simplify: bool = False
    base_version: int | None = None
    input: dict[str, Any] = field(default_factory=dict)   # how each geometry arrived (format, file, source CRS)
    notes: list[str] = field(default_factory=list)        # remarks made while reading the input
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    comment: str | None = None                             # the author's reply when amending
    given: set[str] = field(default_factory=set)           # which fields were present (amend keeps the others)


def _truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def _int(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a whole number (got {str(value)[:40]!r})") from None
    if isinstance(value, float) and value != number:
        raise InvalidInput(f"{name} must be a whole number (got {value!r})")
    return number


def _geojson_geometry(value: Any, what: str) -> Mapping:
    """A GeoJSON geometry from a geometry object, a Feature or a FeatureCollection of exactly one feature."""
    if isinstance(value, str):
        try:
            value = json_input.loads(value, what)
        except ValueError:
            raise InvalidInput(f"{what} is neither GeoJSON nor coordinates the registry can read") from None
    else:
        json_input.check_depth(value, what)
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{what} must be a GeoJSON geometry")
    kind = value.get("type")
    if kind == "FeatureCollection":
        features = value.get("features") or []
        if len(features) != 1:
            raise InvalidInput(f"{what}: the FeatureCollection holds {len(features)} features; send exactly one")
        value = features[0]
        kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "Feature":
        value = value.get("geometry")
        if not isinstance(value, Mapping):
            raise InvalidInput(f"{what}: the Feature has no geometry")
    if not isinstance(value.get("coordinates"), list) and value.get("type") != "GeometryCollection":
        raise InvalidInput(f"{what} must be a GeoJSON geometry with coordinates")
    return value


def _to_shape(value: Mapping, what: str) -> BaseGeometry:
    from .geometry import _check_geojson_rings  # unclosed rings are reported where they are, not closed silently
    _check_geojson_rings(value)
    try:
        return shape(value)
    except Exception as exc:  # shapely raises various errors on malformed coordinates
        raise InvalidInput(f"{what} could not be read as a GeoJSON geometry ({str(exc)[:120]})") from None


def parse_draft(fields: Mapping[str, Any], *, file: tuple[str, bytes] | None = None, policy: Policy = Policy(),
                attachments: Iterable[tuple[str, bytes]] = ()) -> Draft:
    """Turn request fields (JSON body or form) into a Draft: geometries read from GeoJSON, typed coordinates or an
    uploaded file and converted from ``crs`` to EPSG:4490. Flask-free: the blueprint passes plain values."""
    draft = Draft(given={k for k, v in fields.items() if v not in (None, "") or k in ("location", "boundary")})
    crs = fields.get("crs") or None
    if crs is not None and not isinstance(crs, str):
        raise InvalidInput("crs must be text such as EPSG:4544, CGCS2000, WGS84, GCJ02 or BD09")
    if crs:
        coords.resolve_crs(crs)  # unknown CRS: a readable CoordinateError now, before anything else
    region = policy.region_bbox

    reason = fields.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason must be text")
    draft.reason = reason.strip() if isinstance(reason, str) else None
    comment = fields.get("comment")
    draft.comment = comment.strip() if isinstance(comment, str) and comment.strip() else None
    draft.base_version = _int(fields.get("base_version"), "base_version")
    draft.method = (fields.get("method") or None)
    if draft.method is not None and draft.method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)} (got {str(draft.method)[:40]!r})")
    acc = fields.get("accuracy_m")
    if acc not in (None, ""):
        try:
            acc = float(acc)
        except (TypeError, ValueError):
            raise InvalidInput(f"accuracy_m must be a number of metres (got {str(acc)[:40]!r})") from None
        if not math.isfinite(acc) or acc <= 0 or acc > 100_000:
            raise InvalidInput(f"accuracy_m must be a positive number of metres up to 100000 (got {acc:g})")
        draft.accuracy_m = acc
    sd = fields.get("survey_date")
    if sd not in (None, ""):
        try:
            d = date.fromisoformat(str(sd).strip())
        except ValueError:
            raise InvalidInput(f"survey_date must be a date like 2026-03-14 (got {str(sd)[:40]!r})") from None
        if d > (datetime.now(timezone.utc) + timedelta(days=1)).date():
            raise InvalidInput(f"survey_date {d.isoformat()} is in the future")
        draft.survey_date = d.isoformat()
    draft.accept_repair = _truthy(fields.get("accept_repair"))
    draft.accept_simplify = _truthy(fields.get("accept_simplify"))
    draft.retire = _truthy(fields.get("retire"))

    props = fields.get("properties")
    if props not in (None, ""):
        if isinstance(props, str):
            try:
                props = json_input.loads(props, "properties")
            except ValueError:
                raise InvalidInput("properties must be a JSON object of field names and values") from None
        if not isinstance(props, dict):
            raise InvalidInput("properties must be an object of field names and values")
        draft.properties = dict(props)

    # ---- geometries: GeoJSON, typed coordinates, or an uploaded file
    for target in formats.TARGETS:
        raw = fields.get(target)
        if raw in (None, ""):
            continue
        if isinstance(raw, str) and not raw.lstrip().startswith("{"):
            points, notes = formats.parse_typed_points(raw, crs, region=region)
            draft.notes += notes
            if target == "location":
                if len(points) != 1:
                    raise InvalidInput(f"a location is one point, but {len(points)} lines of coordinates were given")
                geom = Point(points[0])
            else:
                if len(set(points)) < 3:
                    raise InvalidInput("a typed boundary needs at least 3 distinct points, one per line")
                ring = points if points[0] == points[-1] else points + [points[0]]
                geom = Polygon(ring)
            draft.input[target] = {"format": "typed", "source_crs": coords.resolve_crs(crs).key if crs else "auto"}
        else:
            geom = _to_shape(_geojson_geometry(raw, target), target)
            geom = formats.to_registry_crs(geom, crs or "EPSG:4490")
            draft.input[target] = {"format": "geojson", "source_crs": coords.resolve_crs(crs).key if crs
                                   else "EPSG:4490"}
        setattr(draft, target, geom)
    for target in formats.TARGETS:  # drawn on the web map: always EPSG:4490, whatever CRS typed input uses
        raw = fields.get(f"{target}_drawn")
        if raw in (None, "") or getattr(draft, target) is not UNCHANGED:
            continue
        setattr(draft, target, _to_shape(_geojson_geometry(raw, target), target))
        draft.input[target] = {"format": "drawn", "source_crs": "EPSG:4490"}
        draft.given.add(target)
    if _truthy(fields.get("remove_boundary")):
        if draft.boundary is not UNCHANGED:
            raise InvalidInput("give either a new boundary or remove_boundary, not both")
        draft.boundary = None
        draft.given.add("boundary")
    if file is not None:
        filename, data = file
        target = fields.get("target") or ""
        if target not in formats.TARGETS:
            raise InvalidInput("with an uploaded file, say what it holds: target must be 'location' or 'boundary'")
        if getattr(draft, target) is not UNCHANGED:
            raise InvalidInput(f"the {target} was given twice (in the file and in the form); give it once")
        read = formats.read_geometry(filename, data, target, crs=crs, feature=_int(fields.get("feature"), "feature"),
                                     limits=policy.limits, region=region)
        setattr(draft, target, read.geometry)
        draft.given.add(target)
        draft.input[target] = read.describe()
        draft.notes += read.notes
    draft.attachments = [(name, data) for name, data in attachments if data]
    return draft


# ====================================================================================================================
# validation
# ====================================================================================================================
def _warning(code: str, message: str, **extra) -> dict[str, Any]:
    return {"code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}}


def _bbox_contains(bbox, lon: float, lat: float) -> bool:
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


def _swap(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: xy[:, ::-1])


def _check_axes(geom: BaseGeometry, what: str, policy: Policy) -> None:
    """Swapped axes are an error when the swapped geometry lands in the region and the given one does not."""
    arr = shapely.get_coordinates(geom)
    if not arr.size:
        return
    bbox = policy.region_bbox
    inside = all(_bbox_contains(bbox, x, y) for x, y in arr[:50])
    swapped_inside = all(_bbox_contains(bbox, y, x) for x, y in arr[:50])
    if not inside and swapped_inside:
        x, y = arr[0]
        raise InvalidInput(f"the {what}'s longitude and latitude look swapped: ({_f(x)}, {_f(y)}) read the other way "
                           f"round, ({_f(y)}, {_f(x)}), lies in {policy.region_name}. Give longitude first, then "
                           "latitude (GeoJSON order), or check the column names", location=(round(y, 6), round(x, 6)))


def _f(v: float, decimals: int = 6) -> str:
    return f"{round(float(v), decimals):.{decimals}f}".rstrip("0").rstrip(".")


def _metric(geom: BaseGeometry) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    crs = local_metric_crs(geom)
    lonlat = pyproj.CRS.from_epsg(4490)
    return (pyproj.Transformer.from_crs(lonlat, crs, always_xy=True),
            pyproj.Transformer.from_crs(crs, lonlat, always_xy=True))


def _apply(geom: BaseGeometry, transformer: pyproj.Transformer) -> BaseGeometry:
    def fn(xy):
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])
    return shapely.transform(geom, fn)


def simplify_to_limit(geom: BaseGeometry, limit: int = MAX_VERTICES) -> tuple[BaseGeometry, float]:
    """Topology-preserving simplification in a local metric projection, tolerance doubled from 0.05 m until the
    outline has at most ``limit`` vertices. Returns (geometry, tolerance in m): no vertex of the original lies further
    than the tolerance from the simplified outline (Douglas-Peucker's guarantee), which is reported to the reviewer."""
    forward, inverse = _metric(geom)
    projected = _apply(geom, forward)
    tolerance = 0.05
    while True:
        simplified = projected.simplify(tolerance, preserve_topology=True)
        if vertex_count(simplified) <= limit or tolerance > 1e5:
            break
        tolerance *= 2
    out = _apply(simplified, inverse)
    if isinstance(geom, MultiPolygon) and isinstance(out, Polygon):
        out = MultiPolygon([out])
    return out, tolerance


def _checked_boundary(raw: Any, draft: Draft, warnings: list[dict], policy: Policy) -> MultiPolygon:
    geom = raw
    if isinstance(geom, Mapping):
        geom = _to_shape(geom, "boundary")
    if isinstance(geom, BaseGeometry) and not geom.is_empty:
        _check_axes(geom, "boundary", policy)
        _check_plausible(geom, "boundary", policy)
        n = vertex_count(geom)
        if n > MAX_VERTICES:
            if not draft.accept_simplify:
                raise InvalidInput(
                    f"the boundary has {n:,} vertices; the limit is {MAX_VERTICES:,}. Simplify it before uploading, "
                    "or send accept_simplify=true to let the registry simplify it (the largest deviation is reported "
                    "to the reviewer)", vertices=n, limit=MAX_VERTICES)
            geom, tolerance = simplify_to_limit(geom)
            warnings.append(_warning(
                "simplified", f"the boundary was simplified with the submitter's consent from {n:,} to "
                              f"{vertex_count(geom):,} vertices; no point of the original outline is more than "
                              f"{tolerance:.2f} m from it", vertices_before=n, vertices_after=vertex_count(geom),
                tolerance_m=round(tolerance, 3)))
    try:
        return validate_boundary(geom)
    except GeometryError as exc:
        if exc.repair is None:
            raise
        if not draft.accept_repair:
            raise RepairOffered(
                f"{exc} The suggested repair (shapely make_valid) encloses {geodesic_area_m2(exc.repair):,.0f} m²; "
                "look at it and send accept_repair=true to use it, or correct the outline",
                location=exc.location, repair=mapping(exc.repair),
                repair_area_m2=round(geodesic_area_m2(exc.repair), 1)) from None
        original = geom
        repaired = validate_boundary(exc.repair)
        before = geodesic_area_m2(shapely.make_valid(original)) if isinstance(original, BaseGeometry) else None
        warnings.append(_warning(
            "repaired", f"the submitted boundary was invalid ({exc}); the submitter accepted the automatic repair "
                        f"(area {geodesic_area_m2(repaired):,.0f} m²)", location=list(exc.location) if exc.location
            else None, area_m2=round(geodesic_area_m2(repaired), 1),
            area_before_m2=round(before, 1) if before is not None else None))
        return repaired


def _checked_location(raw: Any, policy: Policy) -> Point:
    geom = raw
    if isinstance(geom, Mapping):
        geom = _to_shape(geom, "location")
    if isinstance(geom, BaseGeometry) and not geom.is_empty:
        _check_axes(geom, "location", policy)
    point = validate_location(geom)
    _check_plausible(point, "location", policy)
    return point


def _check_plausible(geom: BaseGeometry, what: str, policy: Policy) -> None:
    coords = shapely.get_coordinates(geom)
    if len(coords) and np.isfinite(coords).all() and (np.abs(coords) <= (180, 90)).all():
        check_plausible(geom, policy.region_bbox, policy.region_name, what=what,
                        max_distance_km=policy.region_max_distance_km)


def _normalize_changes(props: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """Checked property values, minus those equal to the current ones (a client may send the whole object)."""
    props = {k: v for k, v in props.items() if k not in ("code", "version")}
    checked = sites.normalize_properties(props, partial=True)
    if current is None:
        return checked
    return {k: v for k, v in checked.items() if current.get(k) != v and not (current.get(k) in (None, "", []) and
                                                                              v in (None, "", []))}


@dataclass
class Prepared:
    kind: str
    location: Point | None                 # None: unchanged
    boundary_action: str                   # keep | set | remove
    boundary: MultiPolygon | None
    properties: dict[str, Any]
    warnings: list[dict]
    metrics: dict[str, Any]


def _state_after(base: sites.Site | None, p: Prepared) -> tuple[Point, MultiPolygon | None, dict[str, Any]]:
    if base is None:
        return p.location, p.boundary, dict(p.properties)
    loc = p.location if p.location is not None else base.location
    if p.boundary_action == "set":
        bnd = p.boundary
    elif p.boundary_action == "remove":
        bnd = None
    else:
        bnd = base.boundary
    return loc, bnd, {**base.properties, **p.properties}


def _round_metrics(m: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in m.items():
        if isinstance(v, float):
            out[k] = round(v, 3 if not k.endswith("_m2") else 1)
        else:
            out[k] = v
    return out


def geometry_metrics(old_location, new_location, old_boundary, new_boundary) -> dict[str, Any]:
    """compare_geometries' geodesic figures plus the areas added and removed by a boundary change."""
    m = compare_geometries(old_location, new_location, old_boundary, new_boundary)
    m["area_added_m2"] = m["area_removed_m2"] = None
    if old_boundary is not None and new_boundary is not None:
        m["area_added_m2"] = geodesic_area_m2(new_boundary.difference(old_boundary))
        m["area_removed_m2"] = geodesic_area_m2(old_boundary.difference(new_boundary))
    return _round_metrics(m)


def _prepare(conn, draft: Draft, *, site: sites.Site | None, base: sites.Site | None, policy: Policy,
             kind: str | None = None) -> Prepared:
    """Validate a draft against the site's state it is based on: errors raise, warnings are collected."""
    warnings: list[dict] = [_warning("input", n) for n in dict.fromkeys(draft.notes)]
    new_site = site is None
    location = None
    if draft.location is not UNCHANGED and draft.location is not None:
        location = _checked_location(draft.location, policy)
    boundary_action, boundary = "keep", None
    if draft.boundary is None:
        if new_site:
            boundary_action = "keep"
        else:
            if base.boundary is None:
                raise InvalidInput(f"site {site.code} has no boundary to remove")
            boundary_action = "remove"
    elif draft.boundary is not UNCHANGED:
        boundary = _checked_boundary(draft.boundary, draft, warnings, policy)
        boundary_action = "set"

    props = dict(draft.properties)
    if draft.retire:
        props["status"] = "retired"
    if new_site:
        if not isinstance(props.get("name"), str) or not props.get("name", "").strip():
            raise InvalidInput("a new site needs a name (properties.name)")
        defaults = []
        if "level" not in props:
            props["level"] = "general"
            defaults.append("level 'general'")
        if "sensitivity" not in props:
            props["sensitivity"] = "hidden"  # a new find stays off the public map until someone decides otherwise
            defaults.append("sensitivity 'hidden'")
        if props.get("status") == "retired":
            raise InvalidInput("a new site cannot be proposed as retired")
        properties = sites.normalize_properties({k: v for k, v in props.items() if k not in ("code", "version")})
        if defaults:
            warnings.append(_warning("defaults", "not given, so set to the safe defaults: " + ", ".join(defaults)))
        if location is None:
            if boundary is None:
                raise InvalidInput("a new site needs a location (or a boundary to place it in)")
            location = boundary.representative_point()
            warnings.append(_warning("location_derived", f"no location was given: placed inside the boundary at "
                                                         f"{_f(location.x)}, {_f(location.y)}",
                                     location=[round(location.x, 6), round(location.y, 6)]))
        kind = "new_site"
    else:
        properties = _normalize_changes(props, base.properties)
        if location is not None and location.equals_exact(base.location, 0):
            location = None
        if boundary_action == "set" and base.boundary is not None and boundary.equals_exact(base.boundary, 0):
            boundary_action, boundary = "keep", None
        if location is None and boundary_action == "keep" and not properties:
            raise InvalidInput(f"this proposal changes nothing: the location, boundary and fields it gives are those "
                               f"of {site.code} version {base.version}")
        if kind is None:
            kind = "retire" if properties == {"status": "retired"} and location is None and boundary_action == "keep" \
                else "change"

    p = Prepared(kind, location, boundary_action, boundary, properties, warnings, {})
    new_loc, new_bnd, new_props = _state_after(base, p)
    old_loc = base.location if base is not None else None
    old_bnd = base.boundary if base is not None else None
    p.metrics = geometry_metrics(old_loc, new_loc, old_bnd, new_bnd)
    _geometry_warnings(conn, p, site, new_loc, new_bnd, new_props, draft, policy)
    return p


def _geometry_warnings(conn, p: Prepared, site, loc: Point, bnd, props, draft: Draft, policy: Policy) -> None:
    w = p.warnings
    name = policy.region_name
    if not _bbox_contains(policy.region_bbox, loc.x, loc.y):
        w.append(_warning("outside_region", f"the location ({_f(loc.x)}, {_f(loc.y)}) is outside {name} "
                                            f"({', '.join(_f(v) for v in policy.region_bbox)})",
                          location=[round(loc.x, 6), round(loc.y, 6)]))
    if bnd is not None and p.boundary_action == "set":
        minx, miny, maxx, maxy = bnd.bounds
        if not (_bbox_contains(policy.region_bbox, minx, miny) and _bbox_contains(policy.region_bbox, maxx, maxy)):
            w.append(_warning("outside_region", f"the boundary reaches outside {name}"))
    if bnd is not None and not bnd.covers(loc):
        from shapely.ops import nearest_points
        near = nearest_points(bnd, loc)[0]
        d = geodesic_distance_m(loc, near)
        w.append(_warning("location_outside_boundary", f"the location lies outside the boundary, {d:,.0f} m from its "
                                                       "edge", distance_m=round(d, 1),
                          location=[round(loc.x, 6), round(loc.y, 6)]))
    shift = p.metrics.get("location_shift_m")
    if shift is not None and p.location is not None:
        if shift > policy.far_warning_m:
            w.append(_warning("far_from_current", f"the location moves {shift:,.0f} m (geodesic) from the current one, "
                                                  f"more than {policy.far_warning_m:,.0f} m: check it is the same "
                                                  "site and the right coordinate system", distance_m=round(shift, 1)))
        if draft.accuracy_m is not None and shift < draft.accuracy_m:
            w.append(_warning("below_accuracy", f"the location moves {shift:,.1f} m, less than the stated accuracy "
                                                f"of {draft.accuracy_m:g} m", distance_m=round(shift, 2)))
    if draft.method == "phone_map":
        crs_used = {v.get("source_crs") for v in draft.input.values() if isinstance(v, dict)}
        if not crs_used & {"GCJ02", "BD09"}:
            w.append(_warning("phone_map_offset", "coordinates from phone map apps (Amap/Gaode, Tencent, Baidu) are "
                                                  "usually GCJ-02 or BD-09, offset by about 500-1,100 m in Guizhou; "
                                                  "they were read as CGCS2000/WGS84"))
    # other sites: overlapping boundaries, or a new site inside an existing one
    code = site.code if site is not None else None
    if p.boundary_action == "set" and bnd is not None:
        for other_code in store.boundary_codes_intersecting(conn, bnd.bounds):
            if other_code == code:
                continue
            other = store.get_site_row(conn, other_code)
            if other is None or other.boundary is None or other.attributes.get("status") == "retired":
                continue
            if not other.boundary.intersects(bnd):
                continue
            area = geodesic_area_m2(other.boundary.intersection(bnd))
            if area < policy.overlap_min_m2:
                continue
            pct = area / max(geodesic_area_m2(bnd), 1e-9) * 100
            w.append(_warning("overlaps_site", f"the boundary overlaps site {other_code} "
                                               f"({other.attributes.get('name')}) by {area:,.0f} m² "
                                               f"({pct:.1f}% of the proposed boundary)", site=other_code,
                              overlap_m2=round(area, 1), overlap_pct=round(pct, 2)))
    if site is None:
        for other_code in store.boundary_codes_intersecting(conn, (loc.x, loc.y, loc.x, loc.y)):
            other = store.get_site_row(conn, other_code)
            if other is not None and other.boundary is not None and other.boundary.covers(loc):
                w.append(_warning("inside_site", f"the new site's location lies inside the boundary of {other_code} "
                                                 f"({other.attributes.get('name')}): is it the same site?",
                                  site=other_code))


# ====================================================================================================================
# proposals
# ====================================================================================================================
@dataclass
class Revision:
    row: rstore.RevisionRow
    events: list[dict] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)

    def __getattr__(self, name):
        return getattr(self.row, name)

    @property
    def is_open(self) -> bool:
        return self.row.status in OPEN

    def to_json(self, *, full: bool = True) -> dict[str, Any]:
        r = self.row
        body = {
            "id": r.id, "kind": r.kind, "status": r.status, "site": r.site_code, "base_version": r.base_version,
            "author": r.author, "created_at": r.created_at, "updated_at": r.updated_at, "round": r.round,
            "reason": r.reason, "method": r.method, "accuracy_m": r.accuracy_m, "survey_date": r.survey_date,
            "location": mapping(r.location) if r.location is not None else None,
            "boundary_action": r.boundary_action,
            "boundary": mapping(r.boundary) if r.boundary is not None else None,
            "properties": r.properties, "warnings": r.warnings, "metrics": r.metrics, "input": r.input,
            "restore_version": r.restore_version, "reviewer": r.reviewer, "decided_at": r.decided_at,
            "decision_comment": r.decision_comment, "site_version": r.applied_version,
        }
        if full:
            body["thread"] = [{k: e[k] for k in ("at", "actor", "event", "comment", "detail")} for e in self.events]
            body["attachments"] = [{k: a[k] for k in ("fid", "filename", "content_type", "size", "sha256")}
                                   for a in self.attachments]
        return body


def get(conn, revision_id: int) -> Revision:
    row = rstore.get_revision(conn, revision_id)
    if row is None:
        raise NotFound(f"no proposal {revision_id}")
    return Revision(row, rstore.list_events(conn, revision_id), rstore.list_attachments(conn, revision_id))


def _content_snapshot(row: rstore.RevisionRow) -> dict[str, Any]:
    """The proposal's content as it stands (kept in the thread, so earlier rounds are never lost)."""
    loc = row.location
    bnd = row.boundary
    return {"location": mapping(loc) if loc is not None else None, "boundary_action": row.boundary_action,
            "boundary": mapping(bnd) if bnd is not None else None, "properties": row.properties,
            "reason": row.reason, "method": row.method, "accuracy_m": row.accuracy_m, "survey_date": row.survey_date,
            "base_version": row.base_version}


@dataclass(frozen=True)
class Attachment:
    sha: str
    filename: str
    content_type: str
    data: bytes


def _checked_attachments(policy: Policy, files: list[tuple[str, bytes]]) -> list[Attachment]:
    """Attachments as they will be stored: names cleaned, size and count limits, images checked with Pillow."""
    if not files:
        return []
    if policy.files is None:
        raise InvalidInput("attachments are not available: no data directory configured")
    if len(files) > policy.max_attachments:
        raise formats.UploadTooLarge(f"{len(files)} attachments; at most {policy.max_attachments} per proposal")
    out = []
    for name, data in files:
        name = os.path.basename((name or "attachment").replace("\\", "/"))[:120] or "attachment"
        if len(data) > policy.max_attachment_bytes:
            raise formats.UploadTooLarge(f"{name}: {len(data) / formats.MiB:.1f} MiB; attachments are limited to "
                                         f"{policy.max_attachment_bytes // formats.MiB} MiB each")
        out.append(Attachment(blobs.sha256(data), name, _attachment_type(name, data), data))
    return out


IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def _attachment_type(name: str, data: bytes) -> str:
    """Images are checked with Pillow (served inline); everything else is stored as an opaque download."""
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if guessed.startswith("image/"):
        from PIL import Image, UnidentifiedImageError
        import io
        try:
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise InvalidInput(f"{name}: not a readable image (truncated or damaged)") from None
        if fmt not in IMAGE_TYPES:
            raise InvalidInput(f"{name}: images must be JPEG, PNG, WebP or GIF (got {fmt})")
        return IMAGE_TYPES[fmt]
    if guessed == "application/pdf":
        if not data.startswith(b"%PDF-"):
            raise InvalidInput(f"{name}: not a PDF file")
        return guessed
    return "application/octet-stream"


def attachment_path(policy: Policy, sha: str) -> Path:
    if policy.files is None:
        raise NotFound("no such attachment")
    try:
        return policy.files.path("attachments", sha)
    except ValueError:
        raise NotFound("no such attachment") from None


def _write_with_attachments(policy: Policy, files: list[tuple[str, bytes]], write):
    """Run ``write(attachments, batch)``, one transaction that records the attachments and calls ``batch.place()``
    as its last step (blobs.BlobStore's protocol: no request ever deletes a file that is in place)."""
    checked = _checked_attachments(policy, files)
    if not checked:
        return write([], None)
    with policy.files.batch() as batch:
        for a in checked:
            batch.add("attachments", a.sha, a.data)
        return write(checked, batch)


def _require_reason(reason: str | None, what: str = "a proposal") -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(f"{what} needs a reason: why should the site change (e.g. 'RTK resurvey, the old point was "
                           "digitised from a 1:50,000 map')")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is too long ({len(reason)} characters; the limit is {MAX_REASON})")
    return reason.strip()


def propose(conn, draft: Draft, *, author: str, site_code: str | None, policy: Policy = Policy(),
            remote_addr: str | None = None, kind: str | None = None, restore_version: int | None = None) -> Revision:
    """Validate and record a proposal: a change to ``site_code`` at ``draft.base_version``, or (site_code None) a new
    site. Returns the stored proposal (status 'submitted') with its warnings and metrics."""
    reason = _require_reason(draft.reason)
    if site_code is not None:
        site = sites.current(conn, site_code)
        if draft.base_version is None:
            raise InvalidInput(f"base_version is required: the version of {site_code} the proposal is based on "
                               f"(now {site.version})")
        if draft.base_version > site.version:
            raise InvalidInput(f"site {site_code} has no version {draft.base_version} yet (it is at {site.version})")
        base = sites.at_version(conn, site_code, draft.base_version)
    else:
        site = base = None
    p = _prepare(conn, draft, site=site, base=base, policy=policy, kind=kind)
    if site is not None and base.version != site.version:
        p.warnings.append(_warning("stale_base", f"based on version {base.version}, but {site.code} is now at version "
                                                 f"{site.version}: it must be rebased before it can be approved",
                                   current_version=site.version))

    def write(stored: list[Attachment], batch):
        with store.transaction(conn):
            now = store.utc_now()
            rid = rstore.insert_revision(
                conn, kind=p.kind, site_code=site_code, base_version=base.version if base else None,
                status="submitted", author=author, created_at=now, updated_at=now, round=1, reason=reason,
                method=draft.method, accuracy_m=draft.accuracy_m, survey_date=draft.survey_date, location=p.location,
                boundary_action=p.boundary_action, boundary=p.boundary, properties=p.properties, input=draft.input,
                warnings=p.warnings, metrics=p.metrics, restore_version=restore_version)
            for a in stored:
                rstore.insert_attachment(conn, rid, sha256=a.sha, filename=a.filename, content_type=a.content_type,
                                         size=len(a.data), created_at=now, uploaded_by=author)
            rstore.append_event(conn, rid, at=now, actor=author, event="submitted", comment=reason,
                                detail={"round": 1, "base_version": base.version if base else None,
                                        "warnings": [w["code"] for w in p.warnings]})
            store.append_audit(conn, actor=author, action="revision.submit", target=_target(site_code, rid), at=now,
                               remote_addr=remote_addr,
                               detail={"revision_id": rid, "kind": p.kind, "base_version": base.version if base else None,
                                       "warnings": [w["code"] for w in p.warnings], "attachments": len(stored)})
            if batch is not None:
                batch.place()
        return rid

    rid = _write_with_attachments(policy, draft.attachments, write)
    return get(conn, rid)


def _target(site_code: str | None, rid: int) -> str:
    return site_code or f"revision:{rid}"


def propose_restore(conn, code: str, version: int, *, author: str, reason: str | None, policy: Policy = Policy(),
                    remote_addr: str | None = None) -> Revision:
    """An admin's restoration of an old version, as a proposal a second person approves (four eyes as always)."""
    reason = _require_reason(reason, "a restoration")
    site = sites.current(conn, code)
    old = sites.at_version(conn, code, version)
    if version == site.version:
        raise InvalidInput(f"version {version} is the current version of {code}; there is nothing to restore")
    if old.boundary is not None:
        boundary = old.boundary
    else:
        boundary = None if site.boundary is not None else UNCHANGED
    draft = Draft(reason=reason, location=old.location, boundary=boundary, properties=dict(old.properties),
                  base_version=site.version, input={"restore": {"format": "version", "version": version}})
    return propose(conn, draft, author=author, site_code=code, policy=policy, remote_addr=remote_addr,
                   kind="restore", restore_version=version)


def _open_for(conn, revision_id: int) -> rstore.RevisionRow:
    row = rstore.get_revision(conn, revision_id)
    if row is None:
        raise NotFound(f"no proposal {revision_id}")
    if row.status not in OPEN:
        raise Conflict(f"proposal {revision_id} is {row.status.replace('_', ' ')}; it can no longer change",
                       status_now=row.status)
    return row


def amend(conn, revision_id: int, draft: Draft, *, author: str, policy: Policy = Policy(),
          remote_addr: str | None = None) -> Revision:
    """The author changes an open proposal (e.g. answering a change request). Fields not given keep their proposed
    values; the previous content stays in the thread. Every amendment starts a new round (a decision made on the
    previous one is refused); a proposal sent back is resubmitted."""
    row = rstore.get_revision(conn, revision_id)
    if row is None:
        raise NotFound(f"no proposal {revision_id}")
    if row.author != author:
        raise Forbidden("only the proposal's author can amend it; reviewers comment, request changes or decide")
    row = _open_for(conn, revision_id)
    merged = _merged_draft(row, draft)
    site = sites.current(conn, row.site_code) if row.site_code else None
    base_version = draft.base_version or row.base_version
    if site is not None and base_version > site.version:
        raise InvalidInput(f"site {site.code} has no version {base_version} yet (it is at {site.version})")
    base = sites.at_version(conn, row.site_code, base_version) if site is not None else None
    p = _prepare(conn, merged, site=site, base=base, policy=policy,
                 kind=row.kind if row.kind in ("restore",) else None)
    if site is not None and base.version != site.version:
        p.warnings.append(_warning("stale_base", f"based on version {base.version}, but {site.code} is now at version "
                                                 f"{site.version}: it must be rebased before it can be approved",
                                   current_version=site.version))
    resubmit = row.status == "changes_requested"

    def write(stored: list[Attachment], batch):
        with store.transaction(conn):
            now = store.utc_now()
            current = _open_for(conn, revision_id)
            rstore.update_revision(
                conn, revision_id, kind=p.kind, base_version=base.version if base else None, status="submitted",
                updated_at=now, round=current.round + 1, reason=merged.reason,
                method=merged.method, accuracy_m=merged.accuracy_m, survey_date=merged.survey_date,
                location=p.location, boundary_action=p.boundary_action, boundary=p.boundary, properties=p.properties,
                input=merged.input, warnings=p.warnings, metrics=p.metrics)
            for a in stored:
                rstore.insert_attachment(conn, revision_id, sha256=a.sha, filename=a.filename,
                                         content_type=a.content_type, size=len(a.data), created_at=now,
                                         uploaded_by=author)
            event = "resubmitted" if resubmit else "amended"
            rstore.append_event(conn, revision_id, at=now, actor=author, event=event,
                                comment=draft.comment or (draft.reason if "reason" in draft.given else None),
                                detail={"round": current.round + 1,
                                        "previous": _content_snapshot(current),
                                        "warnings": [w["code"] for w in p.warnings]})
            store.append_audit(conn, actor=author, action=f"revision.{'resubmit' if resubmit else 'amend'}",
                               target=_target(row.site_code, revision_id), at=now, remote_addr=remote_addr,
                               detail={"revision_id": revision_id, "base_version": base.version if base else None})
            if batch is not None:
                batch.place()
        return revision_id

    _write_with_attachments(policy, draft.attachments, write)
    return get(conn, revision_id)


def _merged_draft(row: rstore.RevisionRow, draft: Draft) -> Draft:
    given = draft.given
    merged = Draft(
        reason=draft.reason if "reason" in given and draft.reason else row.reason,
        location=draft.location if "location" in given else (row.location if row.location is not None else UNCHANGED),
        boundary=draft.boundary if "boundary" in given else (
            row.boundary if row.boundary_action == "set" else (None if row.boundary_action == "remove" else UNCHANGED)),
        properties={**row.properties, **draft.properties} if "properties" in given else dict(row.properties),
        retire=draft.retire, method=draft.method if "method" in given else row.method,
        accuracy_m=draft.accuracy_m if "accuracy_m" in given else row.accuracy_m,
        survey_date=draft.survey_date if "survey_date" in given else row.survey_date,
        accept_repair=draft.accept_repair, accept_simplify=draft.accept_simplify,
        input={**row.input, **draft.input}, notes=list(draft.notes))
    if row.kind == "new_site" and merged.location is UNCHANGED:
        merged.location = row.location
    # carry forward what earlier validation recorded about repairs/simplification of a geometry that is kept
    if "boundary" not in given and row.boundary_action == "set":
        merged.accept_repair = merged.accept_simplify = True
    return merged


def withdraw(conn, revision_id: int, *, actor: str, comment: str | None = None,
             remote_addr: str | None = None) -> Revision:
    with store.transaction(conn):
        row = rstore.get_revision(conn, revision_id)
        if row is None:
            raise NotFound(f"no proposal {revision_id}")
        if row.author != actor:
            raise Forbidden("only the proposal's author can withdraw it")
        _open_for(conn, revision_id)
        now = store.utc_now()
        rstore.update_revision(conn, revision_id, status="withdrawn", updated_at=now)
        rstore.append_event(conn, revision_id, at=now, actor=actor, event="withdrawn", comment=comment)
        store.append_audit(conn, actor=actor, action="revision.withdraw", target=_target(row.site_code, revision_id),
                           at=now, remote_addr=remote_addr, detail={"revision_id": revision_id})
    return get(conn, revision_id)


def comment(conn, revision_id: int, *, actor: str, text: str | None, remote_addr: str | None = None) -> Revision:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("a comment needs some text")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"the comment is too long ({len(text)} characters; the limit is {MAX_REASON})")
    with store.transaction(conn):
        row = rstore.get_revision(conn, revision_id)
        if row is None:
            raise NotFound(f"no proposal {revision_id}")
        now = store.utc_now()
        rstore.append_event(conn, revision_id, at=now, actor=actor, event="commented", comment=text.strip())
        store.append_audit(conn, actor=actor, action="revision.comment", target=_target(row.site_code, revision_id),
                           at=now, remote_addr=remote_addr, detail={"revision_id": revision_id})
    return get(conn, revision_id)


def _stale(conn, row: rstore.RevisionRow) -> tuple[bool, int | None]:
    if row.site_code is None or row.kind == "new_site":
        return False, None
    current = store.site_version_number(conn, row.site_code)
    return current != row.base_version, current


def conflict_error(conn, row: rstore.RevisionRow, current_version: int) -> Conflict:
    base = sites.at_version(conn, row.site_code, row.base_version)
    cur = sites.current(conn, row.site_code)
    d = sites.diff_sites(base, cur)
    what = []
    if d["location_changed"]:
        what.append("location")
    if d["boundary_changed"]:
        what.append("boundary")
    what += sorted(d["properties"])
    return Conflict(
        f"site {row.site_code} has changed since this proposal was made (based on version {row.base_version}, now "
        f"version {current_version}; changed: {', '.join(what) or 'nothing visible'}). Approval refused: rebase the "
        f"proposal onto version {current_version} after comparing base, current and proposed, or send it back",
        code=row.site_code, base_version=row.base_version, current_version=current_version, changed=what,
        revision_id=row.id)


def checked_id(value: Any) -> int:
    number = _int(value, "id")
    if number is None or number < 1:
        raise InvalidInput("each proposal is named by its number (id)")
    return number


def checked_round(value: Any) -> int:
    """The round a decision was made on, from a JSON number or a form field; refused (428) when not given."""
    if value in (None, ""):
        raise RoundRequired("say which round of the proposal you decided on (\"round\", as shown when you opened it): "
                            "a decision applies exactly what its reviewer saw, so it is never guessed")
    number = _int(value, "round")
    if number < 1:
        raise InvalidInput(f"round must be 1 or more (got {number})")
    return number


def decide(conn, revision_id: int, decision: str, *, reviewer: str, round_seen: int | None,
           comment: str | None = None, remote_addr: str | None = None,
           policy: Policy = Policy()) -> tuple[Revision, sites.Site | None]:
    """Approve, reject or request changes on the round the reviewer saw (``round_seen``; 409 if the proposal has
    moved on to another round since). An approval writes the site's next version, the decision, the thread entry and
    the audit records in ONE transaction: if any step fails, nothing of it remains."""
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)} (got {str(decision)[:40]!r})")
    if round_seen not in (None, ""):
        round_seen = checked_round(round_seen)
    comment = comment.strip() if isinstance(comment, str) else None
    if decision != "approve" and not comment:
        what = "rejecting" if decision == "reject" else "requesting changes"
        raise InvalidInput(f"{what} needs a reason (comment): the author must know what is wrong")
    if comment and len(comment) > MAX_REASON:
        raise InvalidInput(f"the comment is too long ({len(comment)} characters; the limit is {MAX_REASON})")
    applied: sites.Site | None = None
    with store.transaction(conn):
        row = rstore.get_revision(conn, revision_id)
        if row is None:
            raise NotFound(f"no proposal {revision_id}")
        if row.author == reviewer:
            raise Forbidden("nobody reviews their own proposal: another expert or admin must decide on it")
        if row.status not in OPEN:
            raise Conflict(f"proposal {revision_id} is already {row.status.replace('_', ' ')}", status_now=row.status)
        round_seen = checked_round(round_seen)  # no round: refused (428), never guessed
        if row.round != round_seen:
            raise Conflict(f"proposal {revision_id} has changed since you opened it (you saw round {round_seen}; it is "
                           f"now at round {row.round}): open it again and review what it proposes now",
                           round_seen=round_seen, round_now=row.round, revision_id=revision_id)
        if decision != "reject" and row.status != "submitted":
            raise Conflict(f"proposal {revision_id} is waiting for its author to amend it (changes requested)",
                           status_now=row.status)
        now = store.utc_now()
        fields: dict[str, Any] = {"reviewer": reviewer, "decided_at": now, "decision_comment": comment,
                                  "updated_at": now}
        if decision == "approve":
            stale, current_version = _stale(conn, row)
            if stale:
                raise conflict_error(conn, row, current_version)
            applied = _apply_approval(conn, row, reviewer, remote_addr, policy.code_prefix)
            fields.update(status="approved", applied_version=applied.version, site_code=applied.code)
        else:
            fields["status"] = "rejected" if decision == "reject" else "changes_requested"
            if decision == "request_changes":
                fields.update(reviewer=reviewer, decided_at=None)
        rstore.update_revision(conn, revision_id, **fields)
        event = {"approve": "approved", "reject": "rejected", "request_changes": "changes_requested"}[decision]
        rstore.append_event(conn, revision_id, at=now, actor=reviewer, event=event, comment=comment,
                            detail={"round": row.round, **({"site_version": applied.version, "site": applied.code}
                                                           if applied else {})})
        store.append_audit(conn, actor=reviewer, action=f"revision.{decision}",
                           target=applied.code if applied else _target(row.site_code, revision_id), at=now,
                           remote_addr=remote_addr,
                           detail={"revision_id": revision_id, "round": row.round, "comment": comment,
                                   "author": row.author, "site_version": applied.version if applied else None})
    return get(conn, revision_id), applied


def _apply_approval(conn, row: rstore.RevisionRow, reviewer: str, remote_addr: str | None,
                    code_prefix: str) -> sites.Site:
    if row.kind == "new_site":
        code = store.next_site_code(conn, code_prefix)
        change = sites.create_site(conn, properties=row.properties, location=row.location, boundary=row.boundary,
                                   author=row.author, reason=row.reason, code=code, reviewer=reviewer,
                                   revision_id=row.id, remote_addr=remote_addr, operation="create")
        return change.site
    operation = {"retire": "retire", "restore": "restore"}.get(row.kind, "update")
    boundary = row.boundary if row.boundary_action == "set" else (None if row.boundary_action == "remove"
                                                                  else UNCHANGED)
    change = sites.change_site(conn, row.site_code, base_version=row.base_version, author=row.author,
                               reason=row.reason, location=row.location if row.location is not None else UNCHANGED,
                               boundary=boundary, properties=row.properties or None, operation=operation,
                               reviewer=reviewer, revision_id=row.id, remote_addr=remote_addr)
    return change.site


# Warnings that only say how the input was read or what was filled in: a batch approval may pass them. Any other
# warning (and any code added later) needs the proposal opened and decided on its own.
INFORMATIONAL_WARNINGS = frozenset({"input", "defaults", "location_derived"})


def needs_individual_review(rev: Revision | rstore.RevisionRow) -> list[str]:
    """The codes of the warnings that keep a proposal out of a batch approval."""
    return sorted({w.get("code") for w in rev.warnings if w.get("code") not in INFORMATIONAL_WARNINGS})


def decide_many(conn, items: Iterable[tuple[int, Any]], decision: str, *, reviewer: str, comment: str | None = None,
                remote_addr: str | None = None, policy: Policy = Policy()) -> list[dict[str, Any]]:
    """Batch decisions on (proposal id, round seen) pairs: each proposal is decided in its own transaction, so one
    conflict or refusal does not hold up the others; every outcome is reported. A batch approval refuses proposals
    whose warnings need a reviewer's look (needs_individual_review) rather than approving them blind."""
    items = list(dict.fromkeys((int(i), r) for i, r in items))
    if not items:
        raise InvalidInput("choose at least one proposal")
    if len(items) > 200:
        raise InvalidInput(f"{len(items)} proposals at once; decide at most 200 in one batch")
    results = []
    for rid, round_seen in items:
        try:
            if decision == "approve":
                row = rstore.get_revision(conn, rid)
                codes = needs_individual_review(row) if row is not None else []
                if codes:
                    raise InvalidInput(f"proposal {rid} carries warnings ({', '.join(codes)}): open it and decide on "
                                       "it on its own", warnings=codes)
            rev, applied = decide(conn, rid, decision, reviewer=reviewer, round_seen=round_seen, comment=comment,
                                  remote_addr=remote_addr, policy=policy)
            results.append({"id": rid, "ok": True, "status": rev.status, "round": rev.round,
                            "site": rev.site_code, "site_version": applied.version if applied else None})
        except RegistryError as exc:
            results.append({"id": rid, "ok": False, "error": exc.title, "http_status": exc.status,
                            "detail": exc.detail})
    return results


def rebase(conn, revision_id: int, *, actor: str, may_review: bool, policy: Policy = Policy(),
           accept_repair: bool = False, remote_addr: str | None = None) -> Revision:
    """Move an open proposal onto the site's current version: its content is kept as proposed (never merged), then
    re-validated and re-measured against the current state; the thread records the old and new base."""
    row = _open_for(conn, revision_id)
    if row.author != actor and not may_review:
        raise Forbidden("only the author or a reviewer can rebase a proposal")
    if row.kind == "new_site":
        raise InvalidInput("a new-site proposal has no base version to rebase")
    site = sites.current(conn, row.site_code)
    if site.version == row.base_version:
        raise InvalidInput(f"proposal {revision_id} is already based on the current version ({site.version})")
    draft = _merged_draft(row, Draft())
    draft.accept_repair = True
    p = _prepare(conn, draft, site=site, base=site, policy=policy,
                 kind=row.kind if row.kind == "restore" else None)
    with store.transaction(conn):
        now = store.utc_now()
        current = _open_for(conn, revision_id)
        if store.site_version_number(conn, row.site_code) != site.version:
            raise Conflict(f"site {row.site_code} changed again while rebasing; try again")
        rstore.update_revision(conn, revision_id, base_version=site.version, kind=p.kind, location=p.location,
                               boundary_action=p.boundary_action, boundary=p.boundary, properties=p.properties,
                               warnings=p.warnings, metrics=p.metrics, updated_at=now, round=current.round + 1)
        rstore.append_event(conn, revision_id, at=now, actor=actor, event="rebased",
                            comment=f"rebased from version {current.base_version} onto version {site.version}",
                            detail={"from": current.base_version, "to": site.version, "round": current.round + 1,
                                    "previous": _content_snapshot(current)})
        store.append_audit(conn, actor=actor, action="revision.rebase", target=row.site_code, at=now,
                           remote_addr=remote_addr,
                           detail={"revision_id": revision_id, "from": current.base_version, "to": site.version})
    return get(conn, revision_id)


# ====================================================================================================================
# reading: queue, inbox, comparisons
# ====================================================================================================================
def queue(conn, *, status=None, site: str | None = None, author: str | None = None, kind: str | None = None,
          exclude_author: str | None = None, limit: int = 200, offset: int = 0) -> list[Revision]:
    statuses = [status] if isinstance(status, str) else list(status or [])
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)} (got {bad[0][:40]!r})")
    if kind and kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)} (got {kind[:40]!r})")
    rows = rstore.list_revisions(conn, status=statuses or None, site=site, author=author, kind=kind,
                                 exclude_author=exclude_author, limit=min(max(limit, 1), 1000), offset=max(offset, 0),
                                 oldest_first=statuses == ["submitted"])
    return [Revision(r) for r in rows]


def inbox(conn, username: str, *, can_review: bool) -> dict[str, Any]:
    """What waits for this person: their own proposals by state and the latest decisions on them; for reviewers,
    the proposals by others waiting for review."""
    mine = rstore.count_by_status(conn, author=username)
    out = {"mine": {s: mine.get(s, 0) for s in STATUSES},
           "changes_requested": [Revision(r).to_json(full=False) for r in
                                 rstore.list_revisions(conn, status="changes_requested", author=username, limit=50)],
           "recent_decisions": rstore.recent_decisions(conn, username)}
    if can_review:
        out["awaiting_review"] = rstore.count_revisions(conn, status="submitted", exclude_author=username)
    return out


def stale_flags(conn, revs: Iterable[Revision]) -> dict[int, int]:
    """{revision id: current site version} for open proposals whose base is no longer current."""
    out = {}
    for r in revs:
        if r.status in OPEN:
            stale, current = _stale(conn, r.row)
            if stale:
                out[r.id] = current
    return out


def proposed_state(row: rstore.RevisionRow, onto: sites.Site | None) -> dict[str, Any]:
    loc = row.location if row.location is not None else (onto.location if onto else None)
    if row.boundary_action == "set":
        bnd = row.boundary
    elif row.boundary_action == "remove":
        bnd = None
    else:
        bnd = onto.boundary if onto else None
    props = {**(onto.properties if onto else {}), **row.properties}
    return {"location": loc, "boundary": bnd, "properties": props}


def review_view(conn, rev: Revision) -> dict[str, Any]:
    """Everything a reviewer compares: current and proposed state, the difference geometries (area added / removed),
    geodesic figures, attribute before/after rows, stale-base information and, when stale, the three-way view."""
    row = rev.row
    current = sites.current(conn, row.site_code) if row.site_code and row.kind != "new_site" else None
    if row.status == "approved" and current is not None:
        before = sites.at_version(conn, row.site_code, row.applied_version - 1)
        after = sites.at_version(conn, row.site_code, row.applied_version)
        shown_before, proposed = before, {"location": after.location, "boundary": after.boundary,
                                          "properties": after.properties}
    else:
        shown_before = sites.at_version(conn, row.site_code, row.base_version) if current is not None else None
        proposed = proposed_state(row, shown_before)
    stale, current_version = _stale(conn, row) if row.status in OPEN else (False, None)
    view: dict[str, Any] = {"before": shown_before, "current": current, "proposed": proposed, "stale": stale,
                            "current_version": current_version}
    old_b = shown_before.boundary if shown_before else None
    new_b = proposed["boundary"]
    view["added"] = new_b.difference(old_b) if (new_b is not None and old_b is not None) else None
    view["removed"] = old_b.difference(new_b) if (new_b is not None and old_b is not None) else None
    fields = sites.PROPERTY_FIELDS
    view["attributes"] = [
        {"field": k, "before": shown_before.properties.get(k) if shown_before else None,
         "after": proposed["properties"].get(k),
         "changed": (shown_before.properties.get(k) if shown_before else None) != proposed["properties"].get(k)}
        for k in fields]
    if stale:
        view["three_way"] = three_way(conn, row)
    return view


def three_way(conn, row: rstore.RevisionRow) -> dict[str, Any]:
    """Base / current / proposed, with per-field flags: changed since base, changed by the proposal, and conflicts
    (both changed, to different values). "proposed" holds only what the proposal itself changes (None elsewhere: a
    rebase keeps the current value there). Geometries are compared, never merged."""
    base = sites.at_version(conn, row.site_code, row.base_version)
    current = sites.current(conn, row.site_code)
    result = proposed_state(row, current)  # what approving after a rebase would write
    fields = []
    for k in sites.PROPERTY_FIELDS:
        b, c = base.properties.get(k), current.properties.get(k)
        ours = k in row.properties
        proposed = row.properties.get(k) if ours else None
        theirs = c != b
        fields.append({"field": k, "base": b, "current": c, "proposed": proposed, "changed_since_base": theirs,
                       "proposed_change": ours, "conflict": theirs and ours and proposed != c})
    proposed_boundary = row.boundary if row.boundary_action == "set" else None
    geoms = {
        "location": {"base": base.location, "current": current.location, "proposed": row.location,
                     "changed_since_base": not base.location.equals_exact(current.location, 0),
                     "proposed_change": row.location is not None},
        "boundary": {"base": base.boundary, "current": current.boundary, "proposed": proposed_boundary,
                     "removed": row.boundary_action == "remove",
                     "changed_since_base": sites._boundary_changed(base.boundary, current.boundary),
                     "proposed_change": row.boundary_action != "keep"},
    }
    for g in geoms.values():
        g["conflict"] = g["changed_since_base"] and g["proposed_change"]
    metrics = {
        "base_to_current": geometry_metrics(base.location, current.location, base.boundary, current.boundary),
        "current_to_proposed": geometry_metrics(current.location, result["location"], current.boundary,
                                                result["boundary"]),
    }
    return {"base_version": base.version, "current_version": current.version, "base": base, "current": current,
            "proposed": {"location": row.location, "boundary": proposed_boundary}, "fields": fields,
            "geometry": geoms, "metrics": metrics}


def three_way_json(tw: dict[str, Any]) -> dict[str, Any]:
    def g(x):
        return mapping(x) if x is not None else None
    return {"base_version": tw["base_version"], "current_version": tw["current_version"],
            "fields": tw["fields"], "metrics": tw["metrics"],
            "geometry": {k: {kk: (g(vv) if isinstance(vv, BaseGeometry) or vv is None else vv)
                             for kk, vv in v.items()} for k, v in tw["geometry"].items()}}


def history(conn, code: str) -> list[dict[str, Any]]:
    """A site's versions with author, reviewer, date, reason and the proposal each came from."""
    return [{"version": v.version, "operation": v.operation, "created_at": v.created_at, "author": v.author,
             "reviewer": v.reviewer, "reason": v.reason, "revision_id": v.revision_id}
            for v in sites.history(conn, code)]
