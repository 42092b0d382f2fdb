"""A site's timeline: its versions, inspections, follow-ups, public reports and the construction-project cases that
concern it (impact screening) in one chronological list."""
from __future__ import annotations

from datetime import date
from typing import Any

from .. import sites
from ..store import impact as impact_store  # construction-project cases (issue 12)
from ..store import inspections as istore
from ..store import reports as pstore  # public reports
from .records import CONDITIONS, list_for_site
from .settings import local_date

CONDITION_RANK = {c: i for i, c in enumerate(CONDITIONS)}


def timeline(conn, code: str, tz: str, *, newest_first: bool = False, report_texts: bool = False) -> dict[str, Any]:
    """Inspections, versions, follow-ups and public reports of one site in one chronological list, plus the condition
    recorded at each inspection. Each event: kind, date (local calendar date), at (sort key), and its data.
    ``report_texts``: include what reporters wrote (for those who triage reports; reporters type phone numbers)."""
    versions = sites.history(conn, code)
    site = sites.current(conn, code)
    events: list[dict[str, Any]] = []
    for v in versions:
        events.append({"kind": "version", "date": local_date(v.created_at, tz), "at": v.created_at,
                       "version": v.version, "operation": v.operation, "author": v.author, "reviewer": v.reviewer,
                       "reason": v.reason})
    inspections = list_for_site(conn, code)
    for rec in inspections:
        events.append({"kind": "inspection", "date": date.fromisoformat(rec["inspected_on"]),
                       "at": rec["inspected_on"] + "T12:00:00.000Z", "id": rec["fid"], "condition": rec["condition"],
                       "threats": rec["threats"], "inspectors": rec["inspectors"], "findings": rec["findings"],
                       "photo_count": rec["photo_count"], "flagged_photos": rec["flagged_photos"],
                       "track": rec["track"] is not None})
    inspected_on = {rec["fid"]: date.fromisoformat(rec["inspected_on"]) for rec in inspections}
    for f in istore.list_followups(conn, code=code):
        # a follow-up decided at an inspection belongs to that day, however late the record was entered
        when = inspected_on.get(f["inspection_id"]) or local_date(f["created_at"], tz)
        events.append({"kind": "followup", "date": when, "at": f["created_at"],
                       "id": f["fid"], "description": f["description"], "due_on": f["due_on"], "status": f["status"],
                       "inspection_id": f["inspection_id"], "report_id": f["report_id"]})
        if f["closed_at"]:
            events.append({"kind": "followup_closed", "date": local_date(f["closed_at"], tz), "at": f["closed_at"],
                           "id": f["fid"], "description": f["description"], "closed_by": f["closed_by"],
                           "note": f["closing_note"], "inspection_id": f["closed_by_inspection"]})
    for r in pstore.list_reports(conn, site_code=code, limit=None):
        events.append({"kind": "report", "date": local_date(r["submitted_at"], tz), "at": r["submitted_at"],
                       "id": r["fid"], "report_kind": r["kind"], "status": r["status"],
                       "description": r["description"] if report_texts else None,
                       "decision_note": r["decision_note"] if report_texts else None})
    for c in impact_store.case_events_for_site(conn, code):
        events.append({"kind": "impact_case", "date": local_date(c["at"], tz), "at": c["at"], "id": c["case_id"],
                       "name": c["name"], "event": c["kind"], "stage": c["stage"], "decision": c["decision"],
                       "conditions": c["conditions"], "actor": c["actor"], "screening_id": c["screening_id"],
                       "ring_m": c["ring_m"], "risk": c["risk"]})
    events.sort(key=lambda e: (e["date"], e["at"]), reverse=newest_first)
    conditions = [{"date": date.fromisoformat(r["inspected_on"]), "condition": r["condition"], "id": r["fid"],
                   "rank": CONDITION_RANK[r["condition"]]} for r in inspections]
    return {"site": site, "events": events, "conditions": conditions}
