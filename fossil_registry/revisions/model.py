"""A proposal as the rest of the code sees it (Revision: its row, thread and attachments) and reading one."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import mapping

from .. import features
from ..errors import NotFound
from ..store import revisions as rstore
from .policy import OPEN
from ..messages import Message, msg, msg_list


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

    @property
    def primary(self) -> str:
        """The name of the main geometry of the feature the proposal concerns: location (a site), line (a section)."""
        return features.kind(self.row.feature_kind).primary

    @property
    def change_items(self) -> list[tuple[str, Any]]:
        """What the proposal changes: (field or geometry, its new value for the protection fields, else None)."""
        r = self.row
        out = [(self.primary, None)] if r.location is not None else []
        out += {"set": [("boundary", None)], "remove": [("boundary_removed", None)]}.get(r.boundary_action, [])
        given = {k: v for k, v in r.properties.items() if v not in (None, "", [], {})} if r.kind == "new_site" \
            else r.properties  # a new site: the fields it has, not every empty one
        return out + [(k, v if k in features.PROTECTION_CHOICES else None) for k, v in given.items()]

    @property
    def changes(self) -> list[str]:
        """What the proposal changes, in a few words (the protection fields with their new value): the API's field
        names and values."""
        return [f"{k} → {v}" if v is not None else k.replace("_", " ") if k == "boundary_removed" else k
                for k, v in self.change_items]

    @property
    def changes_shown(self) -> Message:
        """The same in the reader's language: the fields' names and the values' labels (the review queue, a kit's
        check-in)."""
        kind = features.kind(self.row.feature_kind)
        return msg_list([msg("revisions.change_to", "{field} → {value}", field=kind.label(k),
                             value=kind.value_label(k, v)) if v is not None else kind.label(k)
                         for k, v in self.change_items])

    def to_json(self, *, full: bool = True) -> dict[str, Any]:
        r = self.row
        body = {
            "id": r.id, "kind": r.kind, "feature": r.feature_kind, "status": r.status, "site": r.site_code,
            "base_version": r.base_version,
            "author": r.author, "created_at": r.created_at, "updated_at": r.updated_at, "round": r.round,
            "reason": r.reason, "method": r.method, "accuracy_m": r.accuracy_m, "survey_date": r.survey_date,
            self.primary: mapping(r.location) if r.location is not None else None,
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


def row_of(conn, revision_id: int) -> rstore.RevisionRow:
    """A proposal's row, or NotFound."""
    row = rstore.get_revision(conn, revision_id)
    if row is None:
        raise NotFound(msg("revisions.proposal", "no proposal {revision_id}", revision_id=revision_id))
    return row


def get(conn, revision_id: int) -> Revision:
    row = row_of(conn, revision_id)
    return Revision(row, rstore.list_events(conn, revision_id), rstore.list_attachments(conn, revision_id))


def content_snapshot(row: rstore.RevisionRow) -> dict[str, Any]:
    """The proposal's content as it stands (kept in the thread, so earlier rounds are never lost)."""
    loc = row.location
    bnd = row.boundary
    return {"location": mapping(loc) if loc is not None else None, "boundary_action": row.boundary_action,
            "boundary": mapping(bnd) if bnd is not None else None, "properties": row.properties,
            "reason": row.reason, "method": row.method, "accuracy_m": row.accuracy_m, "survey_date": row.survey_date,
            "base_version": row.base_version}




def stale(conn, row: rstore.RevisionRow) -> tuple[bool, int | None]:
    """(whether the site has moved on since the proposal's base version, the site's current version)."""
    if row.site_code is None or row.kind == "new_site":
        return False, None
    current = features.version_number(conn, row.site_code, features.kind(row.feature_kind))
    return current != row.base_version, current
