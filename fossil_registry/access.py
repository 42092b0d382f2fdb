"""What a caller may read of the registry's records, table by table and record by record: the one place that decides
what a file gives a role, so that a file never gives more than the API (docs/security.md).

* ``TABLES``: each table of the registry with the permission (auth.POLICY) that the API reading its records asks, or
  ``ByOwner`` for a table whose rows belong to records of several kinds (a photo of an inspection, of a public report,
  of a marker, of a rescue case: each row follows the rights of its record). A table without a rule is read by nobody
  through a file: deny by default, so a new table stays out of every download until a rule says who may read it. The
  private tables (accounts, sessions, tokens, contacts, uploaded import files) have none.
* ``export_selection``: the tables and rows of the whole-registry download (registry.gpkg) for a caller.
* ``readable_photos``: the records of a photo file a caller may read; every route that serves a photo's file asks it.

A caller is given as ``can``: permission -> granted (the signed-in account's ``can``, or ``auth.allowed`` with a
role)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from . import auth, store
from .store import inspections as istore
from .store import markers as mstore

Can = Callable[[str], bool]

EXACT = "site.read_exact"  # staff: exact locations; every staff file carries the GeoPackage's own tables with it

# The record a photo belongs to (its owner column) -> the permission that record's API asks.
PHOTO_OWNERS: dict[str, str] = {
    "inspection_id": EXACT,             # GET /api/inspections/<id>: its photos
    "report_id": "report.triage",       # GET /api/reports/<id>: a reporter's photos (EXIF position, file name)
    "marker_id": EXACT,                 # a marker of any feature (anonymous callers: of an open one, see below)
    "rescue_id": "rescue.read",         # GET /api/rescues/<id>
}


@dataclass(frozen=True)
class ByOwner:
    """Rows that each belong to one record of several kinds: readable where the owner's permission is held."""

    owners: Mapping[str, str]           # owner column -> permission


TABLES: dict[str, str | ByOwner] = {
    # the GeoPackage's own tables and the registry's bookkeeping
    "gpkg_spatial_ref_sys": EXACT, "gpkg_contents": EXACT, "gpkg_geometry_columns": EXACT,
    "gpkg_extensions": EXACT, "registry_meta": EXACT, "registry_migrations": EXACT,
    # sites and sections with their history (GET /api/sites/<code>/versions, /api/sections/<code>/versions)
    "site_locations": EXACT, "site_boundaries": EXACT, "site_versions": EXACT,
    "section_lines": EXACT, "section_boundaries": EXACT, "section_versions": EXACT,
    # markers and what inspections found of them; inspections and their evidence (GET /api/inspections/<id>,
    # /api/sites/<code>/timeline: follow-ups of inspections and of reports alike)
    "protection_markers": EXACT, "marker_checks": EXACT,
    "inspections": EXACT, "inspection_threats": EXACT, "patrol_tracks": EXACT, "inspection_followups": EXACT,
    "evidence_photos": ByOwner(PHOTO_OWNERS),
    # proposals and their review (GET /api/revisions/<id>, its thread and attachments)
    "revisions": "revision.propose", "revision_events": "revision.propose", "revision_attachments": "revision.propose",
    # public reports: the reporter's point, text and photos (GET /api/reports)
    "public_reports": "report.triage",
    # field kits issued and checked in (GET /api/fieldkits)
    "fieldkit_kits": "fieldkit.use", "fieldkit_items": "fieldkit.use", "fieldkit_checkins": "fieldkit.use",
    # saved impact screenings and project cases (GET /api/impact/screenings, /api/impact/cases)
    "impact_screenings": "impact.read", "impact_results": "impact.read", "impact_cases": "impact.read",
    "impact_case_events": "impact.read",
    # site imports (GET /api/imports): admins
    "imports": "import.run", "import_rows": "import.run",
    # rescue cases of reported finds (GET /api/rescues)
    "rescue_cases": "rescue.read", "rescue_events": "rescue.read",
    # the audit trail (GET /api/audit): admins
    "audit_log": "audit.read",
}

for _rule in TABLES.values():  # an undeclared permission fails at import time (auth.allowed raises KeyError)
    for _permission in (_rule.owners.values() if isinstance(_rule, ByOwner) else (_rule,)):
        auth.allowed(None, _permission)


def may_read_table(table: str, can: Can) -> bool:
    """Whether the caller may read (some of) the records of ``table``; False for a table without a rule."""
    rule = TABLES.get(table)
    if rule is None:
        return False
    if isinstance(rule, ByOwner):
        return any(can(p) for p in rule.owners.values())
    return can(rule)


def export_selection(can: Can) -> store.Selection:
    """The tables and rows of the registry that the whole-registry download carries for this caller: exactly those
    the API gives them. Nothing for a caller without exact rights (they get the public view instead)."""
    if not can(EXACT):
        return store.Selection(frozenset())
    tables = frozenset(t for t in TABLES if may_read_table(t, can))
    rows = {t: tuple(c for c, p in rule.owners.items() if can(p))
            for t, rule in TABLES.items() if isinstance(rule, ByOwner) and t in tables}
    return store.Selection(tables, rows)


def readable_photos(conn, sha256: str, can: Can) -> list[dict[str, Any]]:
    """The records of the photo file ``sha256`` (evidence_photos rows) that the caller may read, by the rights of the
    record each belongs to; a marker's photo also for anonymous callers when the marker is public (of an open, active
    feature, decided in SQL). Empty: the file is not served."""
    rows = istore.photos_by_sha(conn, sha256)
    public_markers: set[int] | None = None
    readable = []
    for row in rows:
        for column, permission in PHOTO_OWNERS.items():
            owner = row.get(column)
            if owner is None:
                continue
            if not can(permission) and column == "marker_id":
                if public_markers is None:
                    public_markers = {m["fid"] for m in mstore.public_markers(conn)}
                if owner in public_markers:
                    readable.append(row)
            elif can(permission):
                readable.append(row)
    return readable
