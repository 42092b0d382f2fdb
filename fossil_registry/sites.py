"""Versioned registered features: current state, past versions, as-of queries, diffs, and applying a change at a
base version. Fossil sites are one kind of registered feature; stratigraphic sections (fossil_registry.sections) are
another. Each kind (:class:`FeatureKind`) names its own tables (a layer of its main geometry: a site's location point,
a section's line; its protection boundaries; its history), its fields and how they are checked; everything else here
is shared: a function given a code works on the feature of whichever kind holds that code (codes are unique across
kinds), lists are per kind (sites by default).

Pure domain code (no Flask): callers pass a store connection. Every change is one store transaction that writes the
current-state rows (and through the GeoPackage triggers the R-tree), appends a full snapshot to the history and records
the audit entry, or writes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry

from . import store
from .errors import InvalidInput, NotFound, StaleVersion
from .geometry import compare_geometries, geodesic_area_m2, validate_boundary, validate_location
from .messages import Message, msg, term

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
TEXT_FIELDS = ("name", "name_en", "county", "county_en", "age", "formation", "description", "description_en",
               "public_description", "public_description_en")
# Free text for staff only while the location is protected (generalized, hidden): the internal description and notes.
# What the public reads of such a feature is its names and the public description, reviewed as such in proposals.
INTERNAL_TEXT_FIELDS = ("description", "description_en")
PROPERTY_FIELDS = TEXT_FIELDS + ("level", "period", "fossil_groups", "sensitivity", "established", "status")
MAX_TEXT = 4000
CODE_PATTERN = re.compile(r"^[A-Z]{2,4}-\d{4,6}$")

UNCHANGED: Any = object()  # sentinel: "leave this part of the site as it is"
# The geometries of a feature as words inside messages (a parameter such as {primary}), translated with them: a
# Chinese reader reads 位置, 剖面线, 边界, never an English word in a Chinese sentence.
GEOMETRY_NOUNS = {"location": term("location", "location"), "line": term("line", "line"),
                  "boundary": term("boundary", "boundary")}


@dataclass(frozen=True)
class FeatureKind:
    """One kind of registered feature: its tables, the name of its main geometry, its fields and their checks."""

    name: str                                          # "site", "section": stored with proposals
    layers: Any                                        # store.Layers: its tables
    primary: str                                       # the main geometry as the API names it: location, line
    property_fields: tuple[str, ...]
    text_fields: tuple[str, ...]                       # free text (the public view withholds numbers in them)
    normalize: Callable[..., dict[str, Any]]           # (properties, partial=...) -> checked copy
    validate_primary: Callable[[Any], BaseGeometry]    # raises GeometryError with a readable reason
    code_prefix_setting: str                           # the config key of the prefix of new codes
    default_prefix: str
    noun: Message                                      # the kind in messages ("site"), translated with them (遗址)
    not_found: Callable[[str], Message]                # "no site with code ...": a code of its own per kind
    measures: Callable[[BaseGeometry], dict[str, Any]] = lambda geom: {}  # figures of the main geometry
    internal_text_fields: tuple[str, ...] = INTERNAL_TEXT_FIELDS           # staff only while the location is protected

    def __str__(self) -> str:
        return self.name

    @property
    def public_text_fields(self) -> tuple[str, ...]:
        """The free text the public reads of a feature whose location is protected: cleared by a reviewer as public
        text (names, county, age, formation, the public description), never the internal description."""
        return tuple(k for k in self.text_fields if k not in self.internal_text_fields)

    @property
    def primary_noun(self) -> Message:
        """The main geometry as a word of messages ("location", "line")."""
        return GEOMETRY_NOUNS[self.primary]


@dataclass
class Site:
    """A registered feature's state (a site's, or a section's: ``kind``); ``location`` is the main geometry."""

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
        return self.properties.get("sensitivity", "open")

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
    out = checked_texts(props, TEXT_FIELDS)
    out.update(checked_choices(props, {"level": LEVELS, "sensitivity": SENSITIVITIES, "status": STATUSES}))
    out.update(checked_period(props))
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
    out.update(checked_established(props))
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


def checked_texts(props: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The given free-text fields, stripped; refused when not text or too long."""
    out = {}
    for key in fields:
        if key in props:
            value = props[key]
            if value is not None and not isinstance(value, str):
                raise InvalidInput(msg("sites.must_text", "{key} must be text", key=key))
            value = (value or "").strip()
            if len(value) > MAX_TEXT:
                raise InvalidInput(msg("sites.too_long_characters_limit", "{key} is too long ({count} characters; "
                                       "the limit is {max_text})", key=key, count=len(value), max_text=MAX_TEXT))
            out[key] = value
    return out


def checked_choices(props: dict[str, Any], choices: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The given fields of a controlled vocabulary; refused when not one of its values."""
    out = {}
    for key, allowed in choices.items():
        if key in props:
            if props[key] not in allowed:
                raise InvalidInput(msg("sites.must_one_got", "{key} must be one of {allowed} (got {props!r})", key=key,
                                       allowed=', '.join(allowed), props=props[key]))
            out[key] = props[key]
    return out


def checked_period(props: dict[str, Any]) -> dict[str, Any]:
    if "period" not in props:
        return {}
    period = (props["period"] or "").strip()
    if period and period not in PERIODS:
        raise InvalidInput(msg("sites.period_must_one_got", "period must be one of {periods} (got {period!r})",
                               periods=', '.join(PERIODS), period=period))
    return {"period": period}


def checked_established(props: dict[str, Any]) -> dict[str, Any]:
    if "established" not in props:
        return {}
    value = props["established"]
    if value in (None, ""):
        return {"established": None}
    try:
        return {"established": date.fromisoformat(str(value)).isoformat()}
    except ValueError:
        raise InvalidInput(msg("sites.established_must_date_like", "established must be a date like 2014-06-30 "
                               "(got {value!r})", value=value)) from None


SITE = FeatureKind("site", store.SITES, "location", PROPERTY_FIELDS, TEXT_FIELDS, normalize_properties,
                   validate_location, "SITE_CODE_PREFIX", "GZ-", noun=term("site", "site"),
                   not_found=lambda code: msg("sites.site_code", "no site with code {code!r}", code=code))


def kinds() -> tuple[FeatureKind, ...]:
    """Every kind of registered feature (the section kind builds on this module, so it is imported when asked for)."""
    from .sections.kind import SECTION

    return (SITE, SECTION)


def kind_named(name: str) -> FeatureKind:
    for kind in kinds():
        if kind.name == name:
            return kind
    raise InvalidInput(msg("sites.unknown_kind", "unknown kind of feature {name!r}; known kinds are {kinds}",
                           name=name, kinds=', '.join(k.name for k in kinds())))


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


def anchor_point(geom: BaseGeometry) -> Point:
    """One point that stands for a feature's main geometry on a map or in a schedule: a site's location, the middle
    of a section's line."""
    return geom if geom.geom_type == "Point" else geom.interpolate(0.5, normalized=True)


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


def _site_from_row(row: store.SiteRow, kind: FeatureKind | None = None) -> Site:
    kind = kind or SITE
    return Site(code=row.code, version=row.version, properties=_properties_of(row.attributes, kind),
                location=row.location, boundary=row.boundary, updated_at=row.updated_at, updated_by=row.updated_by,
                kind=kind)


def _site_from_version(v: store.VersionRow, kind: FeatureKind | None = None) -> Site:
    return Site(code=v.code, version=v.version, properties=dict(v.properties), location=v.location, boundary=v.boundary,
                updated_at=v.created_at, updated_by=v.author, reason=v.reason, operation=v.operation, kind=kind)


def current(conn, code: str, *, public_only: bool = False, kind: FeatureKind | None = None) -> Site:
    """The feature's current state; ``public_only``: NotFound unless it is an open or generalized active one (decided
    in SQL, before its geometries are read). ``kind``: only a feature of that kind (any kind otherwise)."""
    kind = kind_of(conn, code, kind)
    row = store.get_site_row(conn, code, public_only=public_only, layers=kind.layers)
    if row is None:
        raise not_found(code, kind)
    return _site_from_row(row, kind)


def at_version(conn, code: str, version: int, kind: FeatureKind | None = None) -> Site:
    kind = kind_of(conn, code, kind)
    v = store.get_version(conn, code, version, kind.layers)
    if v is None:
        latest = store.site_version_number(conn, code, kind.layers)
        if latest is None:
            raise not_found(code, kind)
        raise NotFound(msg("sites.site_versions_there_version", "{kind} {code} has versions 1 to {latest}; there is "
                           "no version {version}", kind=kind.noun, code=code, latest=latest, version=version))
    return _site_from_version(v, kind)


def as_of(conn, code: str, when: str | datetime | date, tz: str = "Asia/Shanghai",
          kind: FeatureKind | None = None) -> Site:
    kind = kind_of(conn, code, kind)
    instant = parse_timestamp(when, tz)
    v = store.get_version_as_of(conn, code, instant, kind.layers)
    if v is None:
        if store.site_version_number(conn, code, kind.layers) is None:
            raise not_found(code, kind)
        raise NotFound(msg("sites.site_did_exist_yet", "{kind} {code} did not exist yet at {instant}", kind=kind.noun,
                           code=code, instant=instant))
    return _site_from_version(v, kind)


def all_as_of(conn, when: str | datetime | date, tz: str = "Asia/Shanghai", kind: FeatureKind | None = None
              ) -> list[Site]:
    """Every site (or feature of ``kind``) as it was at ``when`` (one created later is absent; a retired one carries
    its status)."""
    kind = kind or SITE
    return [_site_from_version(v, kind) for v in store.versions_as_of(conn, parse_timestamp(when, tz), kind.layers)]


def history(conn, code: str, kind: FeatureKind | None = None) -> list[store.VersionRow]:
    kind = kind_of(conn, code, kind)
    versions = store.list_versions(conn, code, kind.layers)
    if not versions:
        raise not_found(code, kind)
    return versions


def list_current(conn, *, bbox=None, include_retired: bool = False, public_only: bool = False,
                 kind: FeatureKind | None = None) -> list[Site]:
    """The current sites (or features of ``kind``), optionally those in bbox."""
    kind = kind or SITE
    return [_site_from_row(r, kind) for r in store.list_site_rows(conn, bbox=bbox, include_retired=include_retired,
                                                                  public_only=public_only, layers=kind.layers)]


def list_near(conn, bounds: tuple[float, float, float, float], *, public_only: bool = False) -> list[Site]:
    """Active sites whose location or boundary envelope meets ``bounds`` (both layers' R-trees): candidates for a
    geometric test such as impact screening."""
    return [_site_from_row(r) for r in store.impact.candidate_site_rows(conn, bounds, public_only=public_only)]


def counts(conn, kind: FeatureKind | None = None) -> list[tuple[str, str, int]]:
    """(level, sensitivity, number) of the active sites (or features of ``kind``)."""
    return store.count_sites_by_level_and_sensitivity(conn, (kind or SITE).layers)


def diff_sites(old: Site, new: Site) -> dict[str, Any]:
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
        "boundary_changed": _boundary_changed(old.boundary, new.boundary),
        "metrics": metrics,
    }


def diff(conn, code: str, a: int, b: int, kind: FeatureKind | None = None) -> dict[str, Any]:
    kind = kind_of(conn, code, kind)
    return diff_sites(at_version(conn, code, a, kind), at_version(conn, code, b, kind))


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
                revision_id: int | None = None, remote_addr: str | None = None, operation: str = "create",
                kind: FeatureKind | None = None) -> Change:
    """Register a new site (or feature of ``kind``) as version 1 (one transaction: feature rows, index, history,
    audit)."""
    kind = kind or SITE
    props = kind.normalize(properties)
    location = kind.validate_primary(location)
    boundary = validate_boundary(boundary) if boundary is not None else None
    _require_reason(reason)
    if code is not None and not CODE_PATTERN.match(code):
        raise InvalidInput(msg("sites.site_code_must_look", "{kind} code {code!r} must look like {example}",
                               kind=kind.noun, code=code, example=f"{kind.default_prefix}0001"))
    with store.transaction(conn):
        code = code or store.next_site_code(conn, kind.default_prefix, kind.layers)
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
        site = Site(code, 1, props, location, boundary, now, author, reason, operation, kind)
        _note_public_change(conn, None, site, now)
        store.append_audit(conn, actor=author, action=f"{kind.name}.{operation}", target=code, at=now,
                           remote_addr=remote_addr, detail={"version": 1, "reason": reason, "revision_id": revision_id})
    return Change(site, compare_geometries(None, location, None, boundary))


def change_site(conn, code: str, *, base_version: int, author: str, reason: str,
                location: BaseGeometry | None = UNCHANGED, boundary: BaseGeometry | None = UNCHANGED,
                properties: dict[str, Any] | None = None, operation: str = "update", reviewer: str | None = None,
                revision_id: int | None = None, remote_addr: str | None = None,
                kind: FeatureKind | None = None) -> Change:
    """Apply a change to a feature that the caller saw at ``base_version``; refused with StaleVersion if it moved on.

    ``boundary=None`` removes the boundary; ``UNCHANGED`` (default) keeps it. Properties are merged over the current ones.
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
        old = _site_from_row(row, kind)
        props = {**old.properties, **new_props}
        new_location = old.location if location is UNCHANGED else location
        new_boundary = old.boundary if boundary is UNCHANGED else boundary
        if props == old.properties and new_location.equals_exact(old.location, 0) \
                and not _boundary_changed(old.boundary, new_boundary):
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
        new = Site(code, version, props, new_location, new_boundary, now, author, reason, operation, kind)
        _note_public_change(conn, old, new, now)
        change = diff_sites(old, new)
        store.append_audit(conn, actor=author, action=f"{kind.name}.{operation}", target=code, at=now,
                           remote_addr=remote_addr,
                           detail={"version": version, "base_version": base_version, "reason": reason,
                                   "revision_id": revision_id, "fields": sorted(change["properties"]),
                                   "location_changed": change["location_changed"],
                                   "boundary_changed": change["boundary_changed"]})
    return Change(new, change["metrics"])


def _note_public_change(conn, old: Site | None, new: Site, when: str) -> None:
    """Move the public stamp (store.public_stamp: the anonymous impact answer's registry version, the keys of public
    downloads) when, and only when, what the public view shows of this feature changed: a hidden feature's edit,
    before and after invisible, moves nothing an anonymous caller can read."""
    from . import public_view  # built on this module

    if public_view.public_site(new) != (public_view.public_site(old) if old is not None else None):
        store.note_public_change(conn, when)


def _require_reason(reason: str) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(msg("sites.every_change_needs_reason", "every change needs a reason (why the site is "
                               "being changed)"))
