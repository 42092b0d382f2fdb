"""What a submitter sends: the Draft of a proposal, parsed from plain mappings (a JSON body or a form, passed in by the
blueprints). Geometries arrive as GeoJSON, typed coordinates or an uploaded file, in any CRS the coordinate toolkit
knows, and leave in EPSG:4490; nothing is validated against the site here (validation.py does that)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from shapely.geometry import LineString, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from .. import coords, formats, json_input
from ..errors import InvalidInput
from ..geometry import check_geojson_rings
from ..features import GEOMETRY_NOUNS, UNCHANGED
from .policy import MAX_REASON, METHODS, Policy
from ..messages import msg


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


def whole_number(value, name: str) -> int | None:
    return json_input.whole_number(value, name)


def geojson_geometry(value: Any, what: str) -> Mapping:
    """A GeoJSON geometry from a geometry object, a Feature or a FeatureCollection of exactly one feature."""
    if isinstance(value, str):
        try:
            value = json_input.loads(value, what)
        except ValueError:
            raise InvalidInput(msg("revisions.neither_geojson_nor_coordinates", "{what} is neither GeoJSON nor "
                                   "coordinates the registry can read", what=what)) from None
    else:
        json_input.check_depth(value, what)
    if not isinstance(value, Mapping):
        raise InvalidInput(msg("revisions.must_geojson_geometry", "{what} must be a GeoJSON geometry", what=what))
    kind = value.get("type")
    if kind == "FeatureCollection":
        features = value.get("features") or []
        if len(features) != 1:
            raise InvalidInput(msg("revisions.featurecollection_holds_features_send", "{what}: the FeatureCollection "
                                   "holds {count} features; send exactly one", what=what, count=len(features)))
        value = features[0]
        kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "Feature":
        value = value.get("geometry")
        if not isinstance(value, Mapping):
            raise InvalidInput(msg('revisions.what_feature_has_no', '{what}: the Feature has no geometry', what=what))
    if not isinstance(value, Mapping):
        raise InvalidInput(msg('revisions.what_featurecollection_s_feature', "{what}: the FeatureCollection's feature must be a GeoJSON Feature", what=what))
    if not isinstance(value.get("coordinates"), list) and value.get("type") != "GeometryCollection":
        raise InvalidInput(msg("revisions.must_geojson_geometry_coordinates", "{what} must be a GeoJSON geometry "
                               "with coordinates", what=what))
    return value


def to_shape(value: Mapping, what: str) -> BaseGeometry:
    check_geojson_rings(value)  # unclosed rings are reported where they are, not closed silently
    try:
        return shape(value)
    except Exception as exc:  # shapely raises various errors on malformed coordinates
        raise InvalidInput(msg("revisions.could_read_geojson_geometry", "{what} could not be read as a GeoJSON "
                               "geometry ({value})", what=what, value=str(exc)[:120])) from None


def _line_as_location(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A section's fields with its line in the place of a site's location: the workflow knows one main geometry per
    feature (``location``), which for a section is its line (``line``, ``line_drawn``, ``target=line``)."""
    if any(fields.get(k) not in (None, "") for k in ("location", "location_drawn")) or fields.get("target") == "location":
        raise InvalidInput(msg("revisions.section_has_line", "a section has a line, not a location: send it as line "
                               "(GeoJSON LineString, or typed coordinates one point per line), or upload a file with "
                               "target=line"))
    out = {k: v for k, v in fields.items() if k not in ("line", "line_drawn")}
    for old, new in (("line", "location"), ("line_drawn", "location_drawn")):
        if old in fields:
            out[new] = fields[old]
    if fields.get("target") == "line":
        out["target"] = "location"
    return out


def parse_draft(fields: Mapping[str, Any], *, file: tuple[str, bytes] | None = None, policy: Policy | None = None,
                attachments: Iterable[tuple[str, bytes]] = (), line: bool = False) -> Draft:
    """Turn request fields (JSON body or form) into a Draft: geometries read from GeoJSON, typed coordinates or an
    uploaded file and converted from ``crs`` to EPSG:4490. Flask-free: the blueprint passes plain values.
    ``line``: the proposal concerns a stratigraphic section, whose main geometry is its line (given as ``line``)."""
    policy = policy or Policy.defaults()
    if line:
        fields = _line_as_location(fields)
    draft = Draft(given={k for k, v in fields.items() if v not in (None, "") or k in ("location", "boundary")})
    crs = fields.get("crs") or None
    if crs is not None and not isinstance(crs, str):
        raise InvalidInput(msg("revisions.crs_must_text_such", "crs must be text such as EPSG:4544, CGCS2000, WGS84, "
                               "GCJ02 or BD09"))
    if crs:
        coords.resolve_crs(crs)  # unknown CRS: a readable CoordinateError now, before anything else
    _survey_fields(draft, fields)
    draft.properties = _properties(fields.get("properties"))
    _typed_or_geojson(draft, fields, crs, policy.region_bbox, line)
    _drawn(draft, fields)
    if _truthy(fields.get("remove_boundary")):
        if draft.boundary is not UNCHANGED:
            raise InvalidInput(msg("revisions.give_either_new_boundary", "give either a new boundary or "
                                   "remove_boundary, not both"))
        draft.boundary = None
        draft.given.add("boundary")
    if file is not None:
        _uploaded(draft, fields, file, crs, policy, line)
    attachments = list(attachments)
    empty = [name for name, data in attachments if not data]
    if empty:  # a photo that failed to copy off a phone: saying so beats dropping it without a word
        raise InvalidInput(msg('revisions.empty_attached_file_empty', '{empty}: the attached file is empty (0 bytes); attach it again or leave it out', empty=empty[0]),
                           field="attachments")
    draft.attachments = attachments
    return draft


def _survey_fields(draft: Draft, fields: Mapping[str, Any]) -> None:
    """Reason, reply, base version, survey method, stated accuracy, survey date and the submitter's consents."""
    reason = fields.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput(msg("revisions.reason_must_text", "reason must be text"))
    draft.reason = reason.strip() if isinstance(reason, str) else None
    comment = fields.get("comment")
    draft.comment = comment.strip() if isinstance(comment, str) and comment.strip() else None
    if draft.comment is not None and len(draft.comment) > MAX_REASON:  # was stored whole (a 1 MB reply was kept)
        raise InvalidInput(msg("revisions.comment_too_long_characters", "the comment is too long ({count} characters; the limit is "
                               "{max_reason})", count=len(draft.comment), max_reason=MAX_REASON),
                           field="comment")
    draft.base_version = whole_number(fields.get("base_version"), "base_version")
    draft.method = (fields.get("method") or None)
    if draft.method is not None and draft.method not in METHODS:
        raise InvalidInput(msg("revisions.method_must_one_got", "method must be one of {methods} (got {value!r})",
                               methods=', '.join(METHODS), value=str(draft.method)[:40]))
    acc = fields.get("accuracy_m")
    if acc not in (None, ""):
        try:
            acc = float(acc)
        except (TypeError, ValueError):
            raise InvalidInput(msg("revisions.accuracy_m_must_number", "accuracy_m must be a number of metres (got "
                                   "{value!r})", value=str(acc)[:40])) from None
        if not math.isfinite(acc) or acc <= 0 or acc > 100_000:
            raise InvalidInput(msg("revisions.accuracy_m_must_positive", "accuracy_m must be a positive number of "
                                   "metres up to 100000 (got {acc:g})", acc=acc))
        draft.accuracy_m = acc
    sd = fields.get("survey_date")
    if sd not in (None, ""):
        try:
            d = date.fromisoformat(str(sd).strip())
        except ValueError:
            raise InvalidInput(msg("revisions.survey_date_must_date", "survey_date must be a date like 2026-03-14 "
                                   "(got {value!r})", value=str(sd)[:40])) from None
        if d > (datetime.now(timezone.utc) + timedelta(days=1)).date():
            raise InvalidInput(msg("revisions.survey_date_future", "survey_date {d} is in the future", d=d.isoformat()))
        draft.survey_date = d.isoformat()
    draft.accept_repair = _truthy(fields.get("accept_repair"))
    draft.accept_simplify = _truthy(fields.get("accept_simplify"))
    draft.retire = _truthy(fields.get("retire"))


def _properties(props: Any) -> dict[str, Any]:
    """The attribute changes: an object, or its JSON text (a form field)."""
    if props in (None, ""):
        return {}
    if isinstance(props, str):
        try:
            props = json_input.loads(props, "properties")
        except ValueError:
            raise InvalidInput(msg("revisions.properties_must_json_object", "properties must be a JSON object of "
                                   "field names and values")) from None
    if not isinstance(props, dict):
        raise InvalidInput(msg("revisions.properties_must_object_field", "properties must be an object of field "
                               "names and values"))
    return dict(props)


def _typed_or_geojson(draft: Draft, fields: Mapping[str, Any], crs: str | None, region, line: bool = False) -> None:
    """``location`` / ``boundary`` given as GeoJSON or typed coordinates (one point per line), in ``crs``; a
    section's line (``line``) as at least two typed points, base to top."""
    for target in formats.TARGETS:
        raw = fields.get(target)
        if raw in (None, ""):
            continue
        key = "line" if line and target == "location" else target  # how the caller named it
        if isinstance(raw, str) and not raw.lstrip().startswith("{"):
            points, notes = formats.parse_typed_points(raw, crs, region=region)
            draft.notes += notes
            if target == "location" and line:
                if len(set(points)) < 2:
                    raise InvalidInput(msg("revisions.typed_line_needs_points", "a section line needs at least 2 "
                                           "distinct points, one per line, from base to top"))
                geom = LineString(points)
            elif target == "location":
                if len(points) != 1:
                    raise InvalidInput(msg("revisions.location_one_point_but", "a location is one point, but {count} "
                                           "lines of coordinates were given", count=len(points)))
                geom = Point(points[0])
            else:
                if len(set(points)) < 3:
                    raise InvalidInput(msg("revisions.typed_boundary_needs_least", "a typed boundary needs at least "
                                           "3 distinct points, one per line"))
                ring = points if points[0] == points[-1] else points + [points[0]]
                geom = Polygon(ring)
            source = coords.resolve_crs(crs).key if crs else "auto"
            draft.input[key] = {"format": "typed", "source_crs": source}
        else:
            geom = to_shape(geojson_geometry(raw, key), key)
            geom = formats.to_registry_crs(geom, crs or "EPSG:4490")
            draft.input[key] = {"format": "geojson", "source_crs": coords.resolve_crs(crs).key if crs else "EPSG:4490"}
        setattr(draft, target, geom)


def _drawn(draft: Draft, fields: Mapping[str, Any]) -> None:
    """Geometries drawn on the web map: always EPSG:4490, whatever CRS typed input uses."""
    for target in formats.TARGETS:
        raw = fields.get(f"{target}_drawn")
        if raw in (None, "") or getattr(draft, target) is not UNCHANGED:
            continue
        setattr(draft, target, to_shape(geojson_geometry(raw, target), target))
        draft.input[target] = {"format": "drawn", "source_crs": "EPSG:4490"}
        draft.given.add(target)


def _uploaded(draft: Draft, fields: Mapping[str, Any], file: tuple[str, bytes], crs: str | None,
              policy: Policy, line: bool = False) -> None:
    filename, data = file
    target = fields.get("target") or ""
    if target not in formats.TARGETS:
        if line:
            raise InvalidInput(msg("revisions.uploaded_line_say_what", "with an uploaded file, say what it holds: "
                                   "target must be 'line' or 'boundary'"))
        raise InvalidInput(msg("revisions.uploaded_file_say_what", "with an uploaded file, say what it holds: target "
                               "must be 'location' or 'boundary'"))
    what = formats.LINE if line and target == "location" else target
    if getattr(draft, target) is not UNCHANGED:
        raise InvalidInput(msg("revisions.given_twice_file_form", "the {target} was given twice (in the file and in "
                               "the form); give it once", target=GEOMETRY_NOUNS[what]))
    read = formats.read_geometry(filename, data, what, crs=crs, feature=whole_number(fields.get("feature"), "feature"),
                                 limits=policy.limits, region=policy.region_bbox)
    setattr(draft, target, read.geometry)
    draft.given.add(target)
    draft.input[what] = read.describe()
    draft.notes += read.notes
