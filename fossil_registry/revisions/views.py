"""Read models of the workflow: the queue and one's inbox, stale flags, what a reviewer compares (review_view, with
the three-way view of a stale proposal) and a site's version history."""
from __future__ import annotations

from typing import Any, Iterable

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from .. import features
from ..errors import InvalidInput
from ..store import revisions as rstore
from .model import Revision, stale
from .policy import KINDS, OPEN, STATUSES
from .validation import boundary_after, geometry_metrics
from ..messages import msg


def queue(conn, *, status=None, site: str | None = None, author: str | None = None, kind: str | None = None,
          exclude_author: str | None = None, limit: int = 200, offset: int = 0) -> list[Revision]:
    statuses = [status] if isinstance(status, str) else list(status or [])
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise InvalidInput(msg("revisions.status_must_one_got", "status must be one of {statuses} (got {value!r})",
                               statuses=', '.join(STATUSES), value=bad[0][:40]))
    if kind and kind not in KINDS:
        raise InvalidInput(msg("revisions.kind_must_one_got", "kind must be one of {kinds} (got {kind!r})",
                               kinds=', '.join(KINDS), kind=kind[:40]))
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
            is_stale, current = stale(conn, r.row)
            if is_stale:
                out[r.id] = current
    return out


def proposed_state(row: rstore.RevisionRow, onto: features.Feature | None) -> dict[str, Any]:
    """What the site would be after the proposal, applied onto ``onto`` (None for a new site)."""
    loc = row.location if row.location is not None else (onto.location if onto else None)
    bnd = boundary_after(onto.boundary if onto else None, row.boundary_action, row.boundary)
    props = {**(onto.properties if onto else {}), **row.properties}
    return {"location": loc, "boundary": bnd, "properties": props}


def text_audience(kind: features.FeatureKind, field: str, sensitivity: str | None) -> str | None:
    """Who reads a free-text field once the proposal is applied: "public" (the reviewer clears it as public text),
    "staff" (the internal description of a protected feature), None (not free text)."""
    if field not in kind.text_fields:
        return None
    return "staff" if field in kind.internal_text_fields and sensitivity != "open" else "public"


def review_view(conn, rev: Revision) -> dict[str, Any]:
    """Everything a reviewer compares: current and proposed state, the difference geometries (area added / removed),
    geodesic figures, attribute before/after rows, stale-base information and, when stale, the three-way view."""
    row = rev.row
    current = features.current(conn, row.site_code) if row.site_code and row.kind != "new_site" else None
    if row.status == "approved" and current is not None:
        before = features.at_version(conn, row.site_code, row.applied_version - 1)
        after = features.at_version(conn, row.site_code, row.applied_version)
        shown_before, proposed = before, {"location": after.location, "boundary": after.boundary,
                                          "properties": after.properties}
    else:
        shown_before = features.at_version(conn, row.site_code, row.base_version) if current is not None else None
        proposed = proposed_state(row, shown_before)
    is_stale, current_version = stale(conn, row) if row.status in OPEN else (False, None)
    view: dict[str, Any] = {"before": shown_before, "current": current, "proposed": proposed, "stale": is_stale,
                            "current_version": current_version}
    old_b = shown_before.boundary if shown_before else None
    new_b = proposed["boundary"]
    view["added"] = new_b.difference(old_b) if (new_b is not None and old_b is not None) else None
    view["removed"] = old_b.difference(new_b) if (new_b is not None and old_b is not None) else None
    kind = (current or shown_before).kind if (current or shown_before) else features.kind(row.feature_kind)
    sensitivity = proposed["properties"].get("sensitivity")
    view["attributes"] = [
        {"field": k, "before": shown_before.properties.get(k) if shown_before else None,
         "after": proposed["properties"].get(k), "audience": text_audience(kind, k, sensitivity),
         "changed": (shown_before.properties.get(k) if shown_before else None) != proposed["properties"].get(k)}
        for k in kind.property_fields]
    if is_stale:
        view["three_way"] = three_way(conn, row)
    return view


def three_way(conn, row: rstore.RevisionRow) -> dict[str, Any]:
    """Base / current / proposed, with per-field flags: changed since base, changed by the proposal, and conflicts
    (both changed, to different values). "proposed" holds only what the proposal itself changes (None elsewhere: a
    rebase keeps the current value there). Geometries are compared, never merged."""
    base = features.at_version(conn, row.site_code, row.base_version)
    current = features.current(conn, row.site_code)
    result = proposed_state(row, current)  # what approving after a rebase would write
    fields = []
    for k in current.kind.property_fields:
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
                     "changed_since_base": features.boundary_changed(base.boundary, current.boundary),
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
            for v in features.history(conn, code)]
