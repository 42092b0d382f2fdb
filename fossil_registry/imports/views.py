"""An import as clients see it: its state and progress, the preview of the file, the mapping, each row's outcome
("new site", "change to GZ-0012 (version 3)", "unchanged", "already proposed", "refused: why"), and the summary of
what was proposed, found already proposed, unchanged and refused, also as CSV rows."""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import InvalidInput
from ..messages import msg
from ..vocab import ImportOutcome
from ..store import imports as istore

SUMMARY_COLUMNS = ("row", "file_code", "name", "outcome", "result", "site", "base_version", "revision", "matched_by",
                   "reason", "warnings")
MAX_ROWS = 20_000


def changes(fields: Mapping[str, Any] | None) -> list[str]:
    if not fields:
        return []
    out = [k for k in ("location", "boundary") if k in fields]
    return out + sorted((fields.get("properties") or {}).keys())


def label(r: Mapping[str, Any]) -> str:
    """The row's outcome in a few words (English; the pages say it in the reader's language)."""
    if r.get("result") == "proposed":
        return f"proposed as #{r['revision_id']}"
    if r.get("result") == ImportOutcome.REFUSED and r["outcome"] != ImportOutcome.REFUSED:
        return f"refused when proposed: {r.get('result_reason')}"
    return {"new": "new site",
            "change": f"change to {r.get('site_code')} (version {r.get('base_version')})",
            "unchanged": f"unchanged ({r.get('site_code')})",
            "already": f"already proposed (#{r.get('earlier_revision') or r.get('revision_id')})",
            "refused": f"refused: {r.get('reason')}"}[r["outcome"]]


def row_json(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"row": r["row_no"], "code": r["source_code"], "name": r["name"], "outcome": r["outcome"],
            "label": label(r), "matched_by": r["matched_by"], "site": r["site_code"],
            "base_version": r["base_version"], "changes": changes(r.get("fields")), "reason": r["reason"],
            "warnings": r["warnings"], "earlier_revision": r["earlier_revision"], "result": r["result"],
            "revision": r["revision_id"], "result_reason": r["result_reason"],
            "location": [r["lon"], r["lat"]] if r["lon"] is not None else None}


def import_json(conn, imp: Mapping[str, Any], *, outcome: str | None = None, offset: int = 0,
                limit: int = 100) -> dict[str, Any]:
    if outcome is not None and outcome not in istore.OUTCOMES:
        raise InvalidInput(msg("imports.outcome_unknown", "outcome must be one of {outcomes} (got {outcome!r})",
                               outcomes=", ".join(istore.OUTCOMES), outcome=outcome), field="outcome")
    rows = istore.list_rows(conn, imp["fid"], outcome=outcome, offset=offset, limit=limit) if limit else []
    return {"id": imp["fid"], "state": imp["state"], "generation": imp["generation"], "file": imp["filename"],
            "format": imp["format"], "size": imp["size"], "sha256": imp["sha256"], "created_by": imp["created_by"],
            "created_at": imp["created_at"],
            "progress": {"phase": imp["state"], "done": imp["progress_done"], "total": imp["progress_total"]},
            "error": imp["error"], "options": {k: v for k, v in imp["options"].items() if k != "confirmed_from"},
            "mapping": imp["mapping"], "preview": imp["info"], "counts": istore.count_rows(conn, imp["fid"]),
            "reason": imp["reason"], "confirmed_by": imp["confirmed_by"], "confirmed_at": imp["confirmed_at"],
            "finished_at": imp["finished_at"], "rows": [row_json(r) for r in rows],
            "rows_offset": offset, "rows_limit": limit}


def _group(r: Mapping[str, Any]) -> str:
    if r["result"] in ("proposed", "already"):
        return r["result"]
    if r["result"] == ImportOutcome.REFUSED or r["outcome"] == ImportOutcome.REFUSED:
        return "refused"
    return {"unchanged": "unchanged"}.get(r["outcome"], "pending")


def summary(conn, imp: Mapping[str, Any]) -> dict[str, Any]:
    """What the import proposed, found already proposed, left unchanged and refused (with reasons)."""
    out: dict[str, list] = {"proposed": [], "already": [], "unchanged": [], "refused": [], "pending": []}
    for r in istore.list_rows(conn, imp["fid"], limit=MAX_ROWS):
        out[_group(r)].append(row_json(r))
    return {"id": imp["fid"], "state": imp["state"], "file": imp["filename"], "reason": imp["reason"],
            "confirmed_by": imp["confirmed_by"], "confirmed_at": imp["confirmed_at"],
            "finished_at": imp["finished_at"], "counts": {k: len(v) for k, v in out.items()}, **out}


def summary_rows(conn, imp: Mapping[str, Any]) -> list[list[Any]]:
    rows = []
    for r in istore.list_rows(conn, imp["fid"], limit=MAX_ROWS):
        rows.append([r["row_no"], r["source_code"], r["name"], r["outcome"], _group(r), r["site_code"],
                     r["base_version"], r["revision_id"] or r["earlier_revision"], r["matched_by"],
                     r["result_reason"] or r["reason"], "; ".join(w.get("message", "") for w in r["warnings"])])
    return rows


def map_points(conn, imp: Mapping[str, Any], limit: int) -> list[tuple]:
    return istore.map_points(conn, imp["fid"], limit=limit)


def list_imports(conn, limit: int = 50) -> list[dict[str, Any]]:
    return istore.list_imports(conn, limit=limit)
