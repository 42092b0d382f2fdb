"""Versioned registered features: current state, past versions, as-of queries, diffs, and applying a change at a
base version, for every kind of feature (:class:`~fossil_registry.features.kind.FeatureKind`). Each kind names its own
tables (a layer of its main geometry: a site's location point, a section's line; its protection boundaries; its
history), its fields and how they are checked; everything here is shared: a function given a code works on the
feature of whichever kind holds that code (codes are unique across kinds), lists are per kind (sites by default).

Pure domain code (no Flask): callers pass a store connection. Every change is one store transaction that writes the
current-state rows (and through the GeoPackage triggers the R-tree), appends a full snapshot to the history and records
the audit entry, or writes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from .. import store
from ..errors import InvalidInput, NotFound, StaleVersion
from ..geometry import compare_geometries, geodesic_area_m2, validate_boundary
from ..messages import msg
from ..vocab import Sensitivity
from .kind import CODE_PATTERN, FeatureKind
from .registry import kinds, public_projection, read_model
from .site import SITE

UNCHANGED: Any = object()  # sentinel: "leave this part of the feature as it is"


@dataclass
class Feature:
    """A registered feature's state, of any kind (``kind``: a site by default); ``location`` is its main geometry."""

    code: str
    version: int
    properties: dict[str, Any]
    location: BaseGeometry
    boundary: BaseGeometry | None
    updated_at: str
    updated_by: str
    reason: str | None = None
    operation: str | None = None
    kind: FeatureKind | None = None

    def __post_init__(self):
        if self.kind is None:
            self.kind = SITE

    @property
    def sensitivity(self) -> str:
        return self.properties.get("sensitivity", Sensitivity.OPEN.value)

    def to_json(self) -> dict[str, Any]:
        return {**state_json(self.code, self.version, self.properties, self.location, self.boundary, self.kind),
                "updated_at": self.updated_at, "updated_by": self.updated_by}


def state_json(code: str, version: int, properties: dict[str, Any], location: BaseGeometry,
               boundary: BaseGeometry | None, kind: FeatureKind | None = None) -> dict[str, Any]:
    """A feature's state as the API answers it: GeoJSON geometries in lon/lat (the main one under the kind's name:
    ``location`` of a site, ``line`` of a section), boundary may be null; figures of the main geometry (a section's
    length_m) among the properties."""
    kind = kind or SITE
    return {"code": code, "version": version, "properties": {**properties, **kind.measures(location)},
            kind.primary: mapping(location), "boundary": mapping(boundary) if boundary is not None else None}


@dataclass
class Change:
    """What one versioned write did: the new state and the figures that describe the change."""

    site: Feature
    metrics: dict[str, Any] = field(default_factory=dict)


def kind_of(conn, code: str, kind: FeatureKind | None = None) -> FeatureKind:
    """The kind of the feature that holds ``code`` (``kind``, when the caller knows it); sites when none does (the
    caller's NotFound then speaks of a site, as it always did)."""
    if kind is not None:
        return kind
    for candidate in kinds():
        if store.site_version_number(conn, code, candidate.layers) is not None:
            return candidate
    return SITE


def version_number(conn, code: str, kind: FeatureKind | None = None) -> int | None:
    """The current version of the feature holding ``code`` (None: no such feature)."""
    return store.site_version_number(conn, code, kind_of(conn, code, kind).layers)


def not_found(code: str, kind: FeatureKind) -> NotFound:
    """No feature of ``kind`` holds ``code``: each kind says so under a code of its own (``sites.site_code`` is what
    API clients matched on before sections existed, with ``code`` its only parameter)."""
    return NotFound(kind.not_found(code))


def parse_timestamp(value: str | datetime | date, tz: str = "Asia/Shanghai") -> str:
    """An as-of instant in the store's UTC form. Naive times are in ``tz``; a bare date means the end of that day."""
    if isinstance(value, str):
        text = value.strip().replace(" ", "T")
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                value = date.fromisoformat(text)
            else:
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(msg("sites.must_iso_date_time", "as_of must be an ISO-8601 date or time like "
                                   "2026-03-01 or 2026-03-01T12:00:00+08:00 (got {value!r})", value=value)) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59, 999000))
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------------------------------
def _properties_of(attributes: dict[str, Any], kind: FeatureKind) -> dict[str, Any]:
    return {k: attributes.get(k) for k in kind.property_fields}


def _from_row(row: store.SiteRow, kind: FeatureKind | None = None) -> Feature:
    kind = kind or SITE
    return Feature(code=row.code, version=row.version, properties=_properties_of(row.attributes, kind),
                   location=row.location, boundary=row.boundary, updated_at=row.updated_at,
                   updated_by=row.updated_by, kind=kind)


def _from_version(v: store.VersionRow, kind: FeatureKind | None = None) -> Feature:
    return Feature(code=v.code, version=v.version, properties=dict(v.properties), location=v.location,
                   boundary=v.boundary, updated_at=v.created_at, updated_by=v.author, reason=v.reason,
                   operation=v.operation, kind=kind)


def current(conn, code: str, *, public_only: bool = False, kind: FeatureKind | None = None) -> Feature:
    """The feature's current state; ``public_only``: NotFound unless it is an active one the public may see (decided
    in SQL, before its geometries are read). ``kind``: only a feature of that kind (any kind otherwise)."""
    kind = kind_of(conn, code, kind)
    row = store.get_site_row(conn, code, public_only=public_only, layers=kind.layers)
    if row is None:
        raise not_found(code, kind)
    return _from_row(row, kind)


def at_version(conn, code: str, version: int, kind: FeatureKind | None = None) -> Feature:
    kind = kind_of(conn, code, kind)
    v = store.get_version(conn, code, version, kind.layers)
    if v is None:
        latest = store.site_version_number(conn, code, kind.layers)
        if latest is None:
            raise not_found(code, kind)
        raise NotFound(msg("sites.site_versions_there_version", "{kind} {code} has versions 1 to {latest}; there is "
                           "no version {version}", kind=kind.noun, code=code, latest=latest, version=version))
    return _from_version(v, kind)


def as_of(conn, code: str, when: str | datetime | date, tz: str = "Asia/Shanghai",
          kind: FeatureKind | None = None) -> Feature:
    kind = kind_of(conn, code, kind)
    instant = parse_timestamp(when, tz)
    v = store.get_version_as_of(conn, code, instant, kind.layers)
    if v is None:
        if store.site_version_number(conn, code, kind.layers) is None:
            raise not_found(code, kind)
        raise NotFound(msg("sites.site_did_exist_yet", "{kind} {code} did not exist yet at {instant}", kind=kind.noun,
                           code=code, instant=instant))
    return _from_version(v, kind)


def all_as_of(conn, when: str | datetime | date, tz: str = "Asia/Shanghai", kind: FeatureKind | None = None
              ) -> list[Feature]:
    """Every site (or feature of ``kind``) as it was at ``when`` (one created later is absent; a retired one carries
    its status)."""
    kind = kind or SITE
    return [_from_version(v, kind) for v in store.versions_as_of(conn, parse_timestamp(when, tz), kind.layers)]


def history(conn, code: str, kind: FeatureKind | None = None) -> list[store.VersionRow]:
    kind = kind_of(conn, code, kind)
    versions = store.list_versions(conn, code, kind.layers)
    if not versions:
        raise not_found(code, kind)
    return versions


def list_current(conn, *, bbox=None, include_retired: bool = False, public_only: bool = False,
                 kind: FeatureKind | None = None, after: str | None = None, limit: int | None = None) -> list[Feature]:
    """The current sites (or features of ``kind``) in code order, optionally those in bbox; ``after``/``limit``: the
    next ``limit`` past the code ``after``."""
    kind = kind or SITE
    return [_from_row(r, kind) for r in store.list_site_rows(conn, bbox=bbox, include_retired=include_retired,
                                                                  public_only=public_only, layers=kind.layers,
                                                                  after=after, limit=limit)]


def list_near(conn, bounds: tuple[float, float, float, float], *, public_only: bool = False,
              kind: FeatureKind | None = None) -> list[Feature]:
    """Active sites (or features of ``kind``) whose main geometry or boundary envelope meets ``bounds`` (both layers'
    R-trees): candidates for a geometric test such as impact screening."""
    kind = kind or SITE
    found = {r.code: r for r in store.list_site_rows(conn, bbox=bounds, public_only=public_only, layers=kind.layers)}
    for code in store.boundary_codes_intersecting(conn, bounds, kind.layers):
        if code not in found:
            row = store.get_site_row(conn, code, public_only=public_only, layers=kind.layers)
            if row is not None and row.attributes.get("status") == "active":
                found[code] = row
    return [_from_row(found[code], kind) for code in sorted(found)]


def counts(conn, kind: FeatureKind | None = None) -> list[tuple[str, str, int]]:
    """(level, sensitivity, number) of the active sites (or features of ``kind``)."""
    return store.count_sites_by_level_and_sensitivity(conn, (kind or SITE).layers)


def diff_features(old: Feature, new: Feature) -> dict[str, Any]:
    """Feature-level diff carrying the old and new value of everything that changed, plus geodesic figures."""
    changed = {k: {"old": old.properties.get(k), "new": new.properties.get(k)}
               for k in new.kind.property_fields if old.properties.get(k) != new.properties.get(k)}
    metrics = {**compare_geometries(old.location, new.location, old.boundary, new.boundary),
               **{f"{k}_before": v for k, v in old.kind.measures(old.location).items()},
               **{f"{k}_after": v for k, v in new.kind.measures(new.location).items()}}
    return {
        "code": new.code,
        "from_version": old.version,
        "to_version": new.version,
        "properties": changed,
        "location_changed": not old.location.equals_exact(new.location, 0),
        "boundary_changed": boundary_changed(old.boundary, new.boundary),
        "metrics": metrics,
    }


def diff(conn, code: str, a: int, b: int, kind: FeatureKind | None = None) -> dict[str, Any]:
    kind = kind_of(conn, code, kind)
    return diff_features(at_version(conn, code, a, kind), at_version(conn, code, b, kind))


def boundary_changed(a: BaseGeometry | None, b: BaseGeometry | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return not a.equals_exact(b, 0)


# --------------------------------------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------------------------------------
def _area_km2(boundary: BaseGeometry | None) -> float | None:
    return None if boundary is None else round(geodesic_area_m2(boundary) / 1e6, 6)


def create_feature(conn, *, properties: dict[str, Any], location: BaseGeometry, boundary: BaseGeometry | None,
                author: str, reason: str, code: str | None = None, reviewer: str | None = None,
                revision_id: int | None = None, remote_addr: str | None = None, operation: str = "create",
                kind: FeatureKind | None = None, prefix: str | None = None) -> Change:
    """Register a new site (or feature of ``kind``) as version 1 (one transaction: feature rows, index, history,
    audit); without a ``code``, the next free one of ``prefix`` (the kind's configured prefix: kind.code_prefix)."""
    kind = kind or SITE
    props = kind.normalize(properties)
    location = kind.validate_primary(location)
    boundary = validate_boundary(boundary) if boundary is not None else None
    _require_reason(reason)
    if code is not None and not CODE_PATTERN.match(code):
        raise InvalidInput(msg("sites.site_code_must_look", "{kind} code {code!r} must look like {example}",
                               kind=kind.noun, code=code, example=kind.example_code()))
    with store.transaction(conn):
        code = code or store.next_site_code(conn, prefix or kind.default_prefix, kind.layers)
        taken = next((k for k in kinds() if store.site_version_number(conn, code, k.layers) is not None), None)
        if taken is not None:
            raise InvalidInput(msg("sites.site_code_already_exists", "a {kind} with code {code} already exists",
                                   kind=taken.noun, code=code))
        now = store.utc_now()
        row = store.SiteRow(code=code, attributes=props, location=location, boundary=boundary, version=1,
                            updated_at=now, updated_by=author)
        store.write_site_row(conn, row, area_km2=_area_km2(boundary), insert=True, layers=kind.layers,
                             measures=kind.measures(location))
        store.append_version(conn, store.VersionRow(code, 1, operation, now, author, reviewer, reason, props, location,
                                                    boundary, revision_id), kind.layers)
        site = Feature(code, 1, props, location, boundary, now, author, reason, operation, kind)
        _note_public_change(conn, None, site, now)
        _refresh_reads(conn, site)
        store.append_audit(conn, actor=author, action=f"{kind.name}.{operation}", target=code, at=now,
                           remote_addr=remote_addr, detail={"version": 1, "reason": reason, "revision_id": revision_id})
    return Change(site, compare_geometries(None, location, None, boundary))


def change_feature(conn, code: str, *, base_version: int, author: str, reason: str,
                location: BaseGeometry | None = UNCHANGED, boundary: BaseGeometry | None = UNCHANGED,
                properties: dict[str, Any] | None = None, operation: str = "update", reviewer: str | None = None,
                revision_id: int | None = None, remote_addr: str | None = None,
                kind: FeatureKind | None = None) -> Change:
    """Apply a change to a feature that the caller saw at ``base_version``; refused with StaleVersion if it moved on.

    ``boundary=None`` removes the boundary; ``UNCHANGED`` (default) keeps it. Properties are merged over the current
    ones.
    """
    if not isinstance(base_version, int) or isinstance(base_version, bool) or base_version < 1:
        raise InvalidInput(msg("sites.base_version_must_positive", "base_version must be the positive version number "
                               "the change was based on"))
    _require_reason(reason)
    kind = kind_of(conn, code, kind)
    new_props = kind.normalize(properties, partial=True) if properties else {}
    if location is not UNCHANGED:
        location = kind.validate_primary(location)
    if boundary is not UNCHANGED and boundary is not None:
        boundary = validate_boundary(boundary)
    with store.transaction(conn):
        row = store.get_site_row(conn, code, layers=kind.layers)  # under the write lock: nobody moves it on meanwhile
        if row is None:
            raise not_found(code, kind)
        if row.version != base_version:
            raise StaleVersion(code, base_version, row.version, kind.noun)
        old = _from_row(row, kind)
        props = {**old.properties, **new_props}
        new_location = old.location if location is UNCHANGED else location
        new_boundary = old.boundary if boundary is UNCHANGED else boundary
        if props == old.properties and new_location.equals_exact(old.location, 0) \
                and not boundary_changed(old.boundary, new_boundary):
            raise InvalidInput(msg("sites.change_changes_nothing_location", "this change to {code} changes nothing: "
                                   "{primary}, boundary and fields are as in version {version}", code=code,
                                   primary=kind.primary_noun, version=old.version))
        now = store.utc_now()
        version = old.version + 1
        new_row = store.SiteRow(code=code, attributes=props, location=new_location, boundary=new_boundary,
                                version=version, updated_at=now, updated_by=author)
        store.write_site_row(conn, new_row, area_km2=_area_km2(new_boundary), insert=False, layers=kind.layers,
                             measures=kind.measures(new_location))
        store.append_version(conn, store.VersionRow(code, version, operation, now, author, reviewer, reason, props,
                                                    new_location, new_boundary, revision_id), kind.layers)
        new = Feature(code, version, props, new_location, new_boundary, now, author, reason, operation, kind)
        _note_public_change(conn, old, new, now)
        _refresh_reads(conn, new)
        change = diff_features(old, new)
        store.append_audit(conn, actor=author, action=f"{kind.name}.{operation}", target=code, at=now,
                           remote_addr=remote_addr,
                           detail={"version": version, "base_version": base_version, "reason": reason,
                                   "revision_id": revision_id, "fields": sorted(change["properties"]),
                                   "location_changed": change["location_changed"],
                                   "boundary_changed": change["boundary_changed"]})
    return Change(new, change["metrics"])


def _note_public_change(conn, old: Feature | None, new: Feature, when: str) -> None:
    """Move the public stamp (store.public_stamp: the anonymous impact answer's registry version, the keys of public
    downloads) when, and only when, what the public view shows of this feature changed: a hidden feature's edit,
    before and after invisible, moves nothing an anonymous caller can read."""
    project = public_projection()
    if project is None or project(new) != (project(old) if old is not None else None):
        store.note_public_change(conn, when)


def _refresh_reads(conn, new: Feature) -> None:
    """Replace the feature's rows of the read model (read_model.refresh: docs/national-scale.md), in this transaction;
    before the read model module is imported, mark it for a rebuild at its next use."""
    refresh = read_model()
    if refresh is None:
        store.read_model.forget(conn)
    else:
        refresh(conn, new.code, new)


def _require_reason(reason: str) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(msg("sites.every_change_needs_reason", "every change needs a reason (why the site is "
                               "being changed)"))
