"""Versioned fossil sites: current state, past versions, as-of queries, diffs, and applying a change at a base version.

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

from . import store
from .errors import InvalidInput, NotFound, StaleVersion
from .geometry import compare_geometries, geodesic_area_m2, validate_boundary, validate_location
from .messages import msg

LEVELS = ("national", "provincial", "general")
# Colours of the protection levels on every map and in field kits (one place, so the protection map, the QGIS project and
# the legends agree).
LEVEL_COLOURS = {"national": "#b2182b", "provincial": "#e08214", "general": "#2166ac"}
SENSITIVITIES = ("open", "generalized", "hidden")
STATUSES = ("active", "retired")
PERIODS = ("Ediacaran", "Cambrian", "Ordovician", "Silurian", "Devonian", "Carboniferous", "Permian", "Triassic",
           "Jurassic", "Cretaceous", "Paleogene", "Neogene", "Quaternary")
FOSSIL_GROUPS = ("marine_reptiles", "ichthyosaurs", "fishes", "crinoids", "ammonoids", "trilobites", "brachiopods",
                 "bivalves", "gastropods", "corals", "sponges", "echinoderms", "algae", "embryos", "acritarchs", "plants",
                 "trace_fossils", "dinosaurs", "mammals", "soft_bodied", "conodonts", "foraminifera")
TEXT_FIELDS = ("name", "name_en", "county", "county_en", "age", "formation", "description", "description_en")
PROPERTY_FIELDS = TEXT_FIELDS + ("level", "period", "fossil_groups", "sensitivity", "established", "status")
MAX_TEXT = 4000
CODE_PATTERN = re.compile(r"^[A-Z]{2,4}-\d{4,6}$")

UNCHANGED: Any = object()  # sentinel: "leave this part of the site as it is"


@dataclass
class Site:
    code: str
    version: int
    properties: dict[str, Any]
    location: BaseGeometry
    boundary: BaseGeometry | None
    updated_at: str
    updated_by: str
    reason: str | None = None
    operation: str | None = None

    @property
    def sensitivity(self) -> str:
        return self.properties.get("sensitivity", "open")

    def to_json(self) -> dict[str, Any]:
        return {**state_json(self.code, self.version, self.properties, self.location, self.boundary),
                "updated_at": self.updated_at, "updated_by": self.updated_by}


def state_json(code: str, version: int, properties: dict[str, Any], location: BaseGeometry,
               boundary: BaseGeometry | None) -> dict[str, Any]:
    """A site state as the API answers it: GeoJSON geometries in lon/lat, boundary may be null."""
    return {"code": code, "version": version, "properties": dict(properties), "location": mapping(location),
            "boundary": mapping(boundary) if boundary is not None else None}


@dataclass
class Change:
    """What one versioned write did: the new site state and the figures that describe the change."""

    site: Site
    metrics: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------------------
# Validation of attribute values
# --------------------------------------------------------------------------------------------------------------------
def normalize_properties(props: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Checked, normalised copy of site properties; raises InvalidInput naming the field at fault.

    ``partial``: only the given fields are checked (an attribute change); otherwise name, level and sensitivity are required.
    """
    if not isinstance(props, dict):
        raise InvalidInput(msg("sites.properties_must_object_field", "properties must be an object of field names "
                               "and values"))
    unknown = sorted(set(props) - set(PROPERTY_FIELDS) - {"code", "version"})
    if unknown:
        raise InvalidInput(msg("sites.unknown_site_field_s", "unknown site field(s): {unknown}; known fields are "
                               "{property_fields}", unknown=', '.join(unknown),
                               property_fields=', '.join(PROPERTY_FIELDS)))
    out: dict[str, Any] = {}
    for key in TEXT_FIELDS:
        if key in props:
            value = props[key]
            if value is not None and not isinstance(value, str):
                raise InvalidInput(msg("sites.must_text", "{key} must be text", key=key))
            value = (value or "").strip()
            if len(value) > MAX_TEXT:
                raise InvalidInput(msg("sites.too_long_characters_limit", "{key} is too long ({count} characters; "
                                       "the limit is {max_text})", key=key, count=len(value), max_text=MAX_TEXT))
            out[key] = value
    for key, allowed in (("level", LEVELS), ("sensitivity", SENSITIVITIES), ("status", STATUSES)):
        if key in props:
            if props[key] not in allowed:
                raise InvalidInput(msg("sites.must_one_got", "{key} must be one of {allowed} (got {props!r})", key=key,
                                       allowed=', '.join(allowed), props=props[key]))
            out[key] = props[key]
    if "period" in props:
        period = (props["period"] or "").strip()
        if period and period not in PERIODS:
            raise InvalidInput(msg("sites.period_must_one_got", "period must be one of {periods} (got {period!r})",
                                   periods=', '.join(PERIODS), period=period))
        out["period"] = period
    if "fossil_groups" in props:
        groups = props["fossil_groups"]
        if isinstance(groups, str):
            groups = [g.strip() for g in re.split(r"[;,]", groups) if g.strip()]
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, str) for g in groups):
            raise InvalidInput(msg("sites.fossil_groups_must_list", "fossil_groups must be a list of group names"))
        bad = [g for g in groups if g not in FOSSIL_GROUPS]
        if bad:
            raise InvalidInput(msg("sites.unknown_fossil_group_s", "unknown fossil group(s) {bad}; known groups are "
                                   "{fossil_groups}", bad=', '.join(bad), fossil_groups=', '.join(FOSSIL_GROUPS)))
        out["fossil_groups"] = list(dict.fromkeys(groups))
    if "established" in props:
        value = props["established"]
        if value in (None, ""):
            out["established"] = None
        else:
            try:
                out["established"] = date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise InvalidInput(msg("sites.established_must_date_like", "established must be a date like "
                                       "2014-06-30 (got {value!r})", value=value)) from None
    if not partial:
        if not out.get("name"):
            raise InvalidInput(msg("sites.site_needs_name", "a site needs a name"))
        for key in ("level", "sensitivity"):
            if key not in out:
                raise InvalidInput(msg("sites.site_needs", "a site needs a {key} ({value})", key=key,
                                       value=', '.join(LEVELS if key == 'level' else SENSITIVITIES)))
        out.setdefault("status", "active")
        for key in PROPERTY_FIELDS:
            out.setdefault(key, [] if key == "fossil_groups" else None)
    return out


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
def _properties_of(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: attributes.get(k) for k in PROPERTY_FIELDS}


def _site_from_row(row: store.SiteRow) -> Site:
    return Site(code=row.code, version=row.version, properties=_properties_of(row.attributes), location=row.location,
                boundary=row.boundary, updated_at=row.updated_at, updated_by=row.updated_by)


def _site_from_version(v: store.VersionRow) -> Site:
    return Site(code=v.code, version=v.version, properties=dict(v.properties), location=v.location, boundary=v.boundary,
                updated_at=v.created_at, updated_by=v.author, reason=v.reason, operation=v.operation)


def current(conn, code: str, *, public_only: bool = False) -> Site:
    """The site's current state; ``public_only``: NotFound unless it is an open or generalized active site (decided in
    SQL, before its geometries are read)."""
    row = store.get_site_row(conn, code, public_only=public_only)
    if row is None:
        raise NotFound(msg("sites.site_code", "no site with code {code!r}", code=code))
    return _site_from_row(row)


def at_version(conn, code: str, version: int) -> Site:
    v = store.get_version(conn, code, version)
    if v is None:
        latest = store.site_version_number(conn, code)
        if latest is None:
            raise NotFound(msg("sites.site_code", "no site with code {code!r}", code=code))
        raise NotFound(msg("sites.site_versions_there_version", "site {code} has versions 1 to {latest}; there is no "
                           "version {version}", code=code, latest=latest, version=version))
    return _site_from_version(v)


def as_of(conn, code: str, when: str | datetime | date, tz: str = "Asia/Shanghai") -> Site:
    instant = parse_timestamp(when, tz)
    v = store.get_version_as_of(conn, code, instant)
    if v is None:
        if store.site_version_number(conn, code) is None:
            raise NotFound(msg("sites.site_code", "no site with code {code!r}", code=code))
        raise NotFound(msg("sites.site_did_exist_yet", "site {code} did not exist yet at {instant}", code=code,
                           instant=instant))
    return _site_from_version(v)


def all_as_of(conn, when: str | datetime | date, tz: str = "Asia/Shanghai") -> list[Site]:
    """Every site as it was at ``when`` (a site created later is absent; a retired one carries its status)."""
    return [_site_from_version(v) for v in store.versions_as_of(conn, parse_timestamp(when, tz))]


def history(conn, code: str) -> list[store.VersionRow]:
    versions = store.list_versions(conn, code)
    if not versions:
        raise NotFound(msg("sites.site_code", "no site with code {code!r}", code=code))
    return versions


def list_current(conn, *, bbox=None, include_retired: bool = False, public_only: bool = False) -> list[Site]:
    return [_site_from_row(r) for r in store.list_site_rows(conn, bbox=bbox, include_retired=include_retired,
                                                            public_only=public_only)]


def list_near(conn, bounds: tuple[float, float, float, float], *, public_only: bool = False) -> list[Site]:
    """Active sites whose location or boundary envelope meets ``bounds`` (both layers' R-trees): candidates for a
    geometric test such as impact screening."""
    return [_site_from_row(r) for r in store.impact.candidate_site_rows(conn, bounds, public_only=public_only)]


def counts(conn) -> list[tuple[str, str, int]]:
    """(level, sensitivity, number of sites) of the active sites."""
    return store.count_sites_by_level_and_sensitivity(conn)


def diff_sites(old: Site, new: Site) -> dict[str, Any]:
    """Feature-level diff carrying the old and new value of everything that changed, plus geodesic figures."""
    changed = {k: {"old": old.properties.get(k), "new": new.properties.get(k)}
               for k in PROPERTY_FIELDS if old.properties.get(k) != new.properties.get(k)}
    metrics = compare_geometries(old.location, new.location, old.boundary, new.boundary)
    return {
        "code": new.code,
        "from_version": old.version,
        "to_version": new.version,
        "properties": changed,
        "location_changed": not old.location.equals_exact(new.location, 0),
        "boundary_changed": _boundary_changed(old.boundary, new.boundary),
        "metrics": metrics,
    }


def diff(conn, code: str, a: int, b: int) -> dict[str, Any]:
    return diff_sites(at_version(conn, code, a), at_version(conn, code, b))


def _boundary_changed(a: BaseGeometry | None, b: BaseGeometry | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return not a.equals_exact(b, 0)


# --------------------------------------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------------------------------------
def _area_km2(boundary: BaseGeometry | None) -> float | None:
    return None if boundary is None else round(geodesic_area_m2(boundary) / 1e6, 6)


def create_site(conn, *, properties: dict[str, Any], location: BaseGeometry, boundary: BaseGeometry | None,
                author: str, reason: str, code: str | None = None, reviewer: str | None = None,
                revision_id: int | None = None, remote_addr: str | None = None, operation: str = "create") -> Change:
    """Register a new site as version 1 (one transaction: feature rows, index, history, audit)."""
    props = normalize_properties(properties)
    location = validate_location(location)
    boundary = validate_boundary(boundary) if boundary is not None else None
    _require_reason(reason)
    if code is not None and not CODE_PATTERN.match(code):
        raise InvalidInput(msg("sites.site_code_must_look", "site code {code!r} must look like GZ-0001", code=code))
    with store.transaction(conn):
        code = code or store.next_site_code(conn)
        if store.site_version_number(conn, code) is not None:
            raise InvalidInput(msg("sites.site_code_already_exists", "a site with code {code} already exists",
                                   code=code))
        now = store.utc_now()
        row = store.SiteRow(code=code, attributes=props, location=location, boundary=boundary, version=1,
                            updated_at=now, updated_by=author)
        store.write_site_row(conn, row, area_km2=_area_km2(boundary), insert=True)
        store.append_version(conn, store.VersionRow(code, 1, operation, now, author, reviewer, reason, props, location,
                                                    boundary, revision_id))
        store.append_audit(conn, actor=author, action=f"site.{operation}", target=code, at=now, remote_addr=remote_addr,
                           detail={"version": 1, "reason": reason, "revision_id": revision_id})
    site = Site(code, 1, props, location, boundary, now, author, reason, operation)
    return Change(site, compare_geometries(None, location, None, boundary))


def change_site(conn, code: str, *, base_version: int, author: str, reason: str,
                location: BaseGeometry | None = UNCHANGED, boundary: BaseGeometry | None = UNCHANGED,
                properties: dict[str, Any] | None = None, operation: str = "update", reviewer: str | None = None,
                revision_id: int | None = None, remote_addr: str | None = None) -> Change:
    """Apply a change to a site that the caller saw at ``base_version``; refused with StaleVersion if it moved on.

    ``boundary=None`` removes the boundary; ``UNCHANGED`` (default) keeps it. Properties are merged over the current ones.
    """
    if not isinstance(base_version, int) or isinstance(base_version, bool) or base_version < 1:
        raise InvalidInput(msg("sites.base_version_must_positive", "base_version must be the positive version number "
                               "the change was based on"))
    _require_reason(reason)
    new_props = normalize_properties(properties, partial=True) if properties else {}
    if location is not UNCHANGED:
        location = validate_location(location)
    if boundary is not UNCHANGED and boundary is not None:
        boundary = validate_boundary(boundary)
    with store.transaction(conn):
        row = store.get_site_row(conn, code)  # read under the write lock: nobody can move the site on meanwhile
        if row is None:
            raise NotFound(msg("sites.site_code", "no site with code {code!r}", code=code))
        if row.version != base_version:
            raise StaleVersion(code, base_version, row.version)
        old = _site_from_row(row)
        props = {**old.properties, **new_props}
        new_location = old.location if location is UNCHANGED else location
        new_boundary = old.boundary if boundary is UNCHANGED else boundary
        if props == old.properties and new_location.equals_exact(old.location, 0) \
                and not _boundary_changed(old.boundary, new_boundary):
            raise InvalidInput(msg("sites.change_changes_nothing_location", "this change to {code} changes nothing: "
                                   "location, boundary and fields are as in version {version}", code=code,
                                   version=old.version))
        now = store.utc_now()
        version = old.version + 1
        new_row = store.SiteRow(code=code, attributes=props, location=new_location, boundary=new_boundary,
                                version=version, updated_at=now, updated_by=author)
        store.write_site_row(conn, new_row, area_km2=_area_km2(new_boundary), insert=False)
        store.append_version(conn, store.VersionRow(code, version, operation, now, author, reviewer, reason, props,
                                                    new_location, new_boundary, revision_id))
        new = Site(code, version, props, new_location, new_boundary, now, author, reason, operation)
        change = diff_sites(old, new)
        store.append_audit(conn, actor=author, action=f"site.{operation}", target=code, at=now, remote_addr=remote_addr,
                           detail={"version": version, "base_version": base_version, "reason": reason,
                                   "revision_id": revision_id, "fields": sorted(change["properties"]),
                                   "location_changed": change["location_changed"],
                                   "boundary_changed": change["boundary_changed"]})
    return Change(new, change["metrics"])


def _require_reason(reason: str) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(msg("sites.every_change_needs_reason", "every change needs a reason (why the site is "
                               "being changed)"))
