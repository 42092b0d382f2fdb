"""What an inspection found of a feature's protection markers (present, damaged, missing): read from the record,
checked against the feature's markers, stored with the inspection; a damaged or missing marker opens a follow-up.
Called by records.record_inspection inside the inspection's transaction (the markers themselves: markers.py)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Mapping

from ..errors import InvalidInput
from ..messages import msg
from ..store import inspections as istore
from ..store import markers as mstore
from ..vocab import MarkerCondition

CONDITIONS = MarkerCondition.values()


def parse_checks(raw: Any) -> list[dict[str, Any]]:
    """``markers`` of an inspection record: [{"marker": id, "condition": present|damaged|missing, "note": ...}]."""
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list) or not all(isinstance(c, Mapping) for c in raw):
        raise InvalidInput(msg("markers.checks_not_list", "markers must be a list of {example}",
                               example='{"marker": 3, "condition": "present"|"damaged"|"missing"}'), field="markers")
    out, seen = [], set()
    for c in raw:
        marker = c.get("marker")
        if not isinstance(marker, int) or isinstance(marker, bool):
            try:
                marker = int(str(marker))
            except ValueError:
                raise InvalidInput(msg("markers.check_needs_number", "each marker check names its marker by number "
                                       "(marker)"), field="markers") from None
        if marker in seen:
            raise InvalidInput(msg("markers.checked_twice", "marker {marker} is checked twice", marker=marker),
                               field="markers")
        seen.add(marker)
        if c.get("condition") not in CONDITIONS:
            raise InvalidInput(msg("markers.condition_unknown", "the condition of marker {marker} must be one of "
                                   "{conditions} (got {condition!r})", marker=marker, conditions=', '.join(CONDITIONS),
                                   condition=c.get('condition')), field="markers")
        note = c.get("note")
        if note is not None and not isinstance(note, str):
            raise InvalidInput(msg("markers.note_must_text", "the note on marker {marker} must be text",
                                   marker=marker), field="markers")
        out.append({"marker": marker, "condition": c["condition"], "note": (note or "").strip()[:500] or None})
    return out


def checks_from_form(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Marker checks from flat form fields marker_<id> = condition (+ marker_<id>_note)."""
    out = []
    for key, value in form.items():
        if key.startswith("marker_") and not key.endswith("_note") and value:
            out.append({"marker": key[len("marker_"):], "condition": value,
                        "note": form.get(f"{key}_note") or None})
    return out


def check_markers_exist(conn, code: str, checks: list[dict[str, Any]]) -> None:
    """Refuse checks of markers that are not the feature's (before anything is written)."""
    own = {m["fid"] for m in mstore.markers_of(conn, code)}
    for c in checks:
        if c["marker"] not in own:
            raise InvalidInput(msg("markers.not_of_feature", "marker {marker} is not a marker of {code}",
                                   marker=c['marker'], code=code), field="markers")


def record_checks(conn, *, inspection_id: int, code: str, checks: list[dict[str, Any]], inspected_on: date,
                  followup_days: int, actor: str, now: str) -> list[int]:
    """Store the checks of an inspection; a damaged or missing marker opens a follow-up. Returns the follow-ups'
    ids. Call inside the inspection's transaction."""
    opened = []
    kinds = {m["fid"]: m["kind"] for m in mstore.markers_of(conn, code)}
    for c in checks:
        followup_id = None
        if c["condition"] in (MarkerCondition.DAMAGED, MarkerCondition.MISSING):
            what = "replace" if c["condition"] == MarkerCondition.MISSING else "repair"
            followup_id = istore.insert_followup(
                conn, code=code, description=f"Marker #{c['marker']} ({kinds[c['marker']].replace('_', ' ')}) found "
                                             f"{c['condition']}: {what} it" + (f" ({c['note']})" if c["note"] else ""),
                due_on=(inspected_on + timedelta(days=followup_days)).isoformat(), created_at=now, created_by=actor,
                inspection_id=inspection_id)
            opened.append(followup_id)
        mstore.insert_check(conn, inspection_id=inspection_id, marker_id=c["marker"], condition=c["condition"],
                            note=c["note"], followup_id=followup_id)
    return opened


def checks_of(conn, inspection_id: int) -> list[dict[str, Any]]:
    return [{"marker": c["marker_id"], "kind": c["kind"], "condition": c["condition"], "note": c["note"],
             "followup_id": c["followup_id"]} for c in mstore.checks_of_inspection(conn, inspection_id)]
