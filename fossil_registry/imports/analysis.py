"""What each row of an import would become, before anything is proposed: matched to a registry site (by its code,
by a code an earlier import turned into a site, or by location within N metres) and compared with it, or a new
site; then checked by the revision workflow exactly as its proposal will be (revisions.check: errors refuse the row
with the workflow's own reason, warnings are kept for the reviewer), and compared with the open proposals (the same
content already waiting for review is not proposed again).

Outcomes: ``new`` (a new-site proposal), ``change`` (a proposal on the matched site's current version), ``unchanged``
(the file says what the registry says), ``already`` (an open proposal has exactly this content) and ``refused``
(with the reason). Rows that contradict each other are refused together: the same code twice, two rows matching one
site, two rows proposing the same thing.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import shapely
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from shapely.strtree import STRtree

from .. import revisions, sites
from ..coords import CoordinateError
from ..errors import InvalidInput, RegistryError
from ..vocab import ImportOutcome, RevisionKind, SiteStatus
from ..geometry import GeometryError, geodesic_distance_m, hausdorff_m
from ..store import imports as istore
from ..store import revisions as rstore
from .fields import row_fields
from .reading import Options, Read, Row
from .settings import Settings

_WARNING_KEYS = ("code", "message", "message_code", "msgid", "params", "items")
CHECK_REASON = "site import"  # the reason of the dry run; the proposals get the one given at confirmation
PROGRESS_EVERY = 25


class Superseded(Exception):
    """A newer analysis (another mapping) or another worker took the import over: stop without writing."""


@dataclass
class Item:
    row: Row
    code: str | None = None
    props: dict[str, Any] = field(default_factory=dict)
    survey: dict[str, Any] = field(default_factory=dict)
    site: sites.Site | None = None
    matched_by: str | None = None
    outcome: str | None = None
    reason: str | None = None
    fields: dict[str, Any] | None = None
    key: str | None = None
    warnings: list[dict] = field(default_factory=list)
    earlier: int | None = None
    label: str | None = None            # the name cell as written (shown even when the row is refused)

    def refuse(self, reason: str) -> None:
        if self.outcome != ImportOutcome.REFUSED:
            self.outcome, self.reason = "refused", reason

    def record(self) -> dict[str, Any]:
        place = self.row.geometry
        if isinstance(place, MultiPolygon):
            place = place.representative_point()
        return {"row_no": self.row.number, "source_code": self.code, "lon": place.x if place is not None else None,
                "lat": place.y if place is not None else None,
                "name": self.props.get("name") or self.label or (self.site.properties.get("name") if self.site
                                                                 else None),
                "outcome": self.outcome, "matched_by": self.matched_by,
                "site_code": self.site.code if self.site else None,
                "base_version": self.site.version if self.site else None, "fields": self.fields,
                "content_key": self.key, "reason": self.reason, "warnings": self.warnings,
                "earlier_revision": self.earlier}


def reason_of(exc: Exception) -> str:
    return exc.detail if isinstance(exc, RegistryError) else str(exc)


def content_key(site_code: str | None, kind: str, location, boundary_action: str, boundary, properties) -> str:
    """What a proposal would change, as a hash: two proposals with the same key make the same change."""
    def wkt(g):
        return None if g is None else shapely.to_wkt(shapely.normalize(g), rounding_precision=7)
    body = {"site": site_code if kind != RevisionKind.NEW_SITE else None, "kind": kind, "location": wkt(location),
            "boundary_action": boundary_action, "boundary": wkt(boundary) if boundary_action == "set" else None,
            "properties": properties}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


class Registry:
    """The registry as the analysis needs it, read once: sites by code, an index of their locations, the sites
    earlier imports created from file codes, and the open proposals by content."""

    def __init__(self, conn, codes: list[str]):
        everything = sites.list_current(conn, include_retired=True)
        self.by_code = {s.code: s for s in everything}
        self.active = [s for s in everything if s.properties.get("status") != SiteStatus.RETIRED]
        self.tree = STRtree([s.location for s in self.active]) if self.active else None
        self.imported = istore.sites_of_source_codes(conn, [c for c in codes if c not in self.by_code])
        self.open: dict[str, int] = {}
        for r in rstore.list_revisions(conn, status=revisions.OPEN, limit=1_000_000, oldest_first=True):
            key = content_key(r.site_code, r.kind, r.location, r.boundary_action, r.boundary, r.properties)
            self.open.setdefault(key, r.id)

    def near(self, geom: BaseGeometry, distance_m: float) -> list[tuple[float, sites.Site]]:
        """Active sites whose location is within ``distance_m`` of ``geom`` (0 inside a polygon), nearest first."""
        if self.tree is None:
            return []
        c = geom.representative_point() if not isinstance(geom, Point) else geom
        dlat = distance_m / 111_000 + 1e-9
        dlon = dlat / max(math.cos(math.radians(c.y)), 0.05)
        minx, miny, maxx, maxy = geom.bounds
        out = []
        for i in self.tree.query(shapely.box(minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)):
            site = self.active[int(i)]
            if isinstance(geom, Point):
                d = geodesic_distance_m(site.location, geom)
            else:
                d = 0.0 if geom.covers(site.location) else geodesic_distance_m(
                    site.location, nearest_points(geom, site.location)[0])
            if d <= distance_m:
                out.append((d, site))
        return sorted(out, key=lambda t: (t[0], t[1].code))


def analyse(conn, read: Read, mapping: Mapping[str, str], options: Options, settings: Settings, *,
            progress: Callable[[int], bool] | None = None) -> list[dict[str, Any]]:
    """The planned outcome of every row (``progress(done)`` is told every few rows; False from it stops the
    analysis: Superseded)."""
    items = [_parsed(Item(row), mapping) for row in read.rows]
    mode = options.match or ("code_or_location" if "code" in mapping.values() else "location")
    registry = Registry(conn, [i.code for i in items if i.code])
    _refuse_duplicate_codes(items)
    for item in items:
        if item.outcome is None:
            _match(item, registry, mode, options.distance_m or settings.match_distance_m, settings)
    _refuse_shared_sites(items)
    tolerance = options.tolerance_m if options.tolerance_m is not None else settings.move_tolerance_m
    for n, item in enumerate(items, start=1):
        if item.outcome is None:
            _plan(conn, item, registry, tolerance, settings)
        if progress is not None and n % PROGRESS_EVERY == 0 and progress(n) is False:
            raise Superseded()
    _refuse_duplicate_content(items)
    return [i.record() for i in items]


def _parsed(item: Item, mapping: Mapping[str, str]) -> Item:
    item.label = next((item.row.values.get(c) for c, t in mapping.items() if t == "name"), None) or None
    if item.label:
        item.label = item.label[:200]
    try:
        item.code, item.props, item.survey = row_fields(item.row.values, mapping)
    except InvalidInput as exc:
        item.code = next((item.row.values.get(c) for c, t in mapping.items() if t == "code"), None) or None
        item.refuse(exc.detail)
    if item.row.problem:
        item.refuse(item.row.problem)
    return item


def _refuse_duplicate_codes(items: list[Item]) -> None:
    rows: dict[str, list[int]] = {}
    for item in items:
        if item.code:
            rows.setdefault(item.code, []).append(item.row.number)
    for item in items:
        numbers = rows.get(item.code or "", [])
        if len(numbers) > 1:
            item.refuse(f"the code {item.code} is given in rows {', '.join(map(str, numbers[:10]))}: the registry "
                        "cannot tell which row is right; keep one row per site")


def _looks_like_registry_code(code: str, prefix: str) -> bool:
    return bool(sites.CODE_PATTERN.match(code)) and code.startswith(prefix)


def _match(item: Item, registry: Registry, mode: str, distance_m: float, settings: Settings) -> None:
    code, geom = item.code, item.row.geometry
    if code and mode != "location":
        site = registry.by_code.get(code)
        earlier = registry.imported.get(code)
        if site is None and earlier is not None:
            site = registry.by_code.get(earlier["site"])
            item.matched_by = f"code {code} (imported earlier as proposal #{earlier['revision']})"
        elif site is not None:
            item.matched_by = "code"
        if site is not None:
            if site.properties.get("status") == SiteStatus.RETIRED:
                item.refuse(f"{site.code} is retired: an import does not change retired sites (restore it first)")
            item.site = site
            return
        if _looks_like_registry_code(code, settings.policy.code_prefix):
            item.refuse(f"there is no site {code} in the registry: new sites get their code when they are approved, "
                        "so leave the code empty (or use the survey's own numbering) for new sites")
            return
    if geom is not None and mode != "code":
        found = registry.near(geom, distance_m)
        if len(found) > 1 and found[1][0] - found[0][0] < 1.0:
            names = ", ".join(f"{s.code} ({d:,.0f} m)" for d, s in found[:5])
            item.refuse(f"{len(found)} sites are within {distance_m:,.0f} m ({names}): map the code column or "
                        "choose a smaller distance")
            return
        if found:
            d, site = found[0]
            item.site, item.matched_by = site, f"location ({d:,.1f} m)"
            if len(found) > 1:
                item.matched_by += f"; next {found[1][1].code} at {found[1][0]:,.0f} m"


def _refuse_shared_sites(items: list[Item]) -> None:
    rows: dict[str, list[int]] = {}
    for item in items:
        if item.site is not None and item.outcome is None:
            rows.setdefault(item.site.code, []).append(item.row.number)
    for item in items:
        if item.site is not None and len(rows.get(item.site.code, [])) > 1:
            numbers = ", ".join(map(str, rows[item.site.code][:10]))
            item.refuse(f"rows {numbers} all match {item.site.code}: the registry cannot tell which is right; keep "
                        "one row per site")


def _same(old: Any, new: Any, key: str) -> bool:
    empty = (None, "", [])
    if old in empty and new in empty:
        return True
    if key == "fossil_groups" and isinstance(old, list) and isinstance(new, list):
        return sorted(old) == sorted(new)
    return old == new


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    return json.loads(shapely.to_geojson(geom))


def _change_fields(item: Item, site: sites.Site, tolerance_m: float) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    geom = item.row.geometry
    if isinstance(geom, Point) and geodesic_distance_m(site.location, geom) > tolerance_m:
        fields["location"] = _geojson(geom)
    elif isinstance(geom, MultiPolygon) and (site.boundary is None or hausdorff_m(site.boundary, geom) > tolerance_m):
        fields["boundary"] = _geojson(geom)
    changes = {k: v for k, v in item.props.items() if not _same(site.properties.get(k), v, k)}
    if changes:
        fields["properties"] = changes
    return fields


def _plan(conn, item: Item, registry: Registry, tolerance_m: float, settings: Settings) -> None:
    site = item.site
    if site is not None:
        fields = _change_fields(item, site, tolerance_m)
        if not fields:
            item.outcome = "unchanged"
            return
        fields["base_version"] = site.version
    else:
        if item.row.geometry is None:
            item.refuse("a new site needs a location: the row has no geometry or coordinates" if not item.code else
                        f"{item.code} matches no site of the registry, and the row has no location for a new site")
            return
        target = "location" if isinstance(item.row.geometry, Point) else "boundary"
        fields = {target: _geojson(item.row.geometry), "properties": dict(item.props)}
    fields.update(item.survey)
    try:
        draft = revisions.parse_draft({**fields, "reason": CHECK_REASON}, policy=settings.policy)
        p = revisions.check(conn, draft, site_code=site.code if site else None, policy=settings.policy)
    except (RegistryError, GeometryError, CoordinateError) as exc:
        if site is not None and "changes nothing" in reason_of(exc):
            item.outcome = "unchanged"
        else:
            item.refuse(reason_of(exc))
        return
    item.fields = fields
    item.key = content_key(site.code if site else None, p.kind, p.location, p.boundary_action, p.boundary,
                           p.properties)
    # kept with what it takes to show them in the reader's language (message_code, msgid, params), as a proposal's
    item.warnings = [{k: w[k] for k in _WARNING_KEYS if k in w} for w in p.warnings if w.get("code") != "input"]
    item.earlier = registry.open.get(item.key)
    item.outcome = "already" if item.earlier is not None else ("new" if site is None else "change")


def _refuse_duplicate_content(items: list[Item]) -> None:
    first: dict[str, int] = {}
    for item in items:
        if item.outcome in (ImportOutcome.NEW, ImportOutcome.CHANGE) and item.key:
            if item.key in first:
                item.refuse(f"proposes exactly what row {first[item.key]} proposes")
                item.fields = None
            else:
                first[item.key] = item.row.number
