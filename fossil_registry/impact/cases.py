"""Project cases (staff): a saved screening becomes the case of a construction project (name, developer, planning
reference, stage, decision and conditions). Every change is one transaction with an append-only event and an audit
record, made at the case version its author saw (a stale one is refused, 409).

A case is checked against the registry whenever it is read (``changes``): every site changed since the registry
version of the case's screening whose old or new position lies within reach of the footprint is listed with what
changed (boundary, location, level, retired/restored, new) and its figures then and now; such a case is flagged
"re-screen", and ``rescreen_case`` runs its footprint again against today's registry. Checking on read needs no
trigger in the revision workflow and cannot miss a change, whichever path wrote it (approval, restore, import)."""
from __future__ import annotations

from typing import Any, Mapping

from .. import json_input, store
from ..errors import Conflict, InvalidInput, NotFound
from .labels import CONDITIONS, DECISIONS, STAGES
from .saved import get_saved, rerun
from .screening import Target, exact_entries, search_bounds
from .settings import Settings
from ..messages import msg

MAX_TEXT = 2000


def _text(fields: Mapping[str, Any], key: str, limit: int, *, required: bool = False) -> str | None:
    value = fields.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(msg("impact.must_text", "{key} must be text", key=key), field=key)
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(msg("impact.project_case_needs", "a project case needs a {key}", key=key), field=key)
    if len(value) > limit:
        raise InvalidInput(msg("impact.too_long_characters_limit", "{key} is too long ({count} characters; the limit "
                               "is {limit})", key=key, count=len(value), limit=limit), field=key)
    return value or None


def _choice(fields: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    value = fields.get(key)
    if value in (None, ""):
        return None
    if value not in allowed:
        raise InvalidInput(msg("impact.must_one_got", "{key} must be one of {allowed} (got {value!r})", key=key,
                               allowed=', '.join(allowed), value=str(value)[:40]), field=key)
    return value


def _conditions(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(msg("impact.conditions_must_list_condition", "conditions must be a list of condition codes"), field="conditions")
    bad = [v for v in value if v not in CONDITIONS]
    if bad:
        raise InvalidInput(msg("impact.unknown_condition_s_known", "unknown condition(s) {bad}; known: {conditions}",
                               bad=', '.join(bad), conditions=', '.join(CONDITIONS)), field="conditions")
    return list(dict.fromkeys(value))


def parse_case(fields: Mapping[str, Any], *, opening: bool) -> dict[str, Any]:
    """The case fields a request gives (only those given, when updating); InvalidInput names the field at fault."""
    out: dict[str, Any] = {}
    for key, limit in (("name", 200), ("developer", 200), ("reference", 100), ("conditions_note", MAX_TEXT)):
        if opening or key in fields:
            out[key] = _text(fields, key, limit, required=key == "name")
    stage = _choice(fields, "stage", STAGES)
    if stage or opening:
        out["stage"] = stage or "planning"
    decision = _choice(fields, "decision", DECISIONS)
    if decision:
        out["decision"] = decision
    conditions = _conditions(fields.get("conditions"))
    if conditions is not None:
        out["conditions"] = conditions
    return out


def _check_decision(case: dict[str, Any]) -> None:
    if case["decision"] == "conditions" and not (case["conditions"] or case.get("conditions_note")):
        raise InvalidInput(msg("impact.decision_conditions_needs_least", "a decision with conditions needs at least "
                               "one condition or a note saying what they are"),
                           field="conditions")
    if case["decision"] != "conditions" and case["conditions"]:
        raise InvalidInput(msg("impact.conditions_go_decision_objection", "conditions go with the decision 'no "
                               "objection, with conditions'"), field="conditions")


def open_case(conn, screening_id: int, fields: Mapping[str, Any], *, actor: str,
              remote_addr: str | None = None) -> dict[str, Any]:
    values = parse_case(fields, opening=True)
    note = _text(fields, "note", MAX_TEXT)
    if store.impact.get_screening(conn, screening_id) is None:
        raise NotFound(msg("impact.saved_screening", "no saved screening {screening_id}", screening_id=screening_id))
    with store.transaction(conn):
        now = store.utc_now()
        case_id = store.impact.insert_case(conn, name=values["name"], developer=values.get("developer"),
                                           reference=values.get("reference"), stage=values["stage"],
                                           screening_id=screening_id, at=now, actor=actor)
        extra = {k: v for k, v in values.items() if k in ("decision", "conditions", "conditions_note") and v}
        if extra:
            store.impact.update_case(conn, case_id, base_version=1, at=now, actor=actor, **extra)
            _check_decision(store.impact.get_case(conn, case_id))
        store.impact.insert_case_event(conn, case_id, kind="opened", at=now, actor=actor, note=note)
        store.append_audit(conn, actor=actor, action="impact.case.open", target=f"case {case_id}", at=now,
                           remote_addr=remote_addr, detail={"screening_id": screening_id, **values})
    return store.impact.get_case(conn, case_id)


def update_case(conn, case_id: int, fields: Mapping[str, Any], *, base_version: Any, actor: str,
                remote_addr: str | None = None) -> dict[str, Any]:
    """Change stage, decision, conditions or the project's particulars of a case read at ``base_version``."""
    base = _version(base_version)
    values = parse_case(fields, opening=False)
    note = _text(fields, "note", MAX_TEXT)
    with store.transaction(conn):
        case = _get(conn, case_id)
        if case["version"] != base:
            raise Conflict(msg("impact.case_version_but_change", "case {case_id} is at version {version}, but this "
                               "change was based on version {base}; reload the case and make the change again",
                               case_id=case_id, version=case['version'], base=base), current_version=case["version"])
        changed = {k: v for k, v in values.items() if case.get(k) != v}
        if not changed and not note:
            raise InvalidInput(msg("impact.change_case_changes_nothing", "this change to case {case_id} changes "
                                   "nothing", case_id=case_id))
        if changed.get("decision", case["decision"]) != "conditions" and "conditions" not in changed:
            changed["conditions"] = []  # a decision without conditions drops the old ones
        now = store.utc_now()
        store.impact.update_case(conn, case_id, base_version=base, at=now, actor=actor, **changed)
        _check_decision(store.impact.get_case(conn, case_id))
        store.impact.insert_case_event(conn, case_id, kind="updated", at=now, actor=actor, note=note)
        store.append_audit(conn, actor=actor, action="impact.case.update", target=f"case {case_id}", at=now,
                           remote_addr=remote_addr, detail={"version": base + 1, **changed, "note": note})
    return store.impact.get_case(conn, case_id)


def rescreen_case(conn, case_id: int, settings: Settings, *, base_version: Any, actor: str,
                  remote_addr: str | None = None) -> dict[str, Any]:
    """Screen the case's footprint again against today's registry (saved as a new screening) and make it the case's
    current screening."""
    base = _version(base_version)
    case = _get(conn, case_id)
    if case["version"] != base:
        raise Conflict(msg("impact.case_version_but_re", "case {case_id} is at version {version}, but the "
                           "re-screening was asked for at version {base}; reload the case", case_id=case_id,
                           version=case['version'], base=base), current_version=case["version"])
    fresh = rerun(conn, case["screening_id"], settings, actor=actor, remote_addr=remote_addr)
    with store.transaction(conn):
        now = store.utc_now()
        if not store.impact.update_case(conn, case_id, base_version=base, at=now, actor=actor,
                                        screening_id=fresh.screening_id):
            raise Conflict(msg("impact.case_changed_while_being", "case {case_id} changed while it was being "
                               "re-screened; reload the case", case_id=case_id))
        store.impact.insert_case_event(conn, case_id, kind="rescreened", at=now, actor=actor,
                                       note=f"screening {fresh.screening_id} at registry version "
                                            f"{fresh.registry_version}")
        store.append_audit(conn, actor=actor, action="impact.case.rescreen", target=f"case {case_id}", at=now,
                           remote_addr=remote_addr, detail={"screening_id": fresh.screening_id,
                                                            "previous_screening_id": case["screening_id"]})
    return store.impact.get_case(conn, case_id)


def _version(value: Any) -> int:
    try:
        version = json_input.whole_number(value, "version") or 0
    except InvalidInput:
        version = 0
    if version < 1:
        raise InvalidInput(msg('impact.version_case_version_change', 'version must be the case version the change was based on (a whole number >= 1)'),
                           field="version")
    return version


def _get(conn, case_id: int) -> dict[str, Any]:
    case = store.impact.get_case(conn, case_id)
    if case is None:
        raise NotFound(msg("impact.project_case", "no project case {case_id}", case_id=case_id))
    return case


def get_case(conn, case_id: int, settings: Settings) -> dict[str, Any]:
    """A case with its history, its current screening and the registry changes since that screening."""
    case = _get(conn, case_id)
    screening = get_saved(conn, case["screening_id"], settings)
    case["events"] = store.impact.case_events(conn, case_id)
    case["changes"] = changes(conn, screening)
    case["flagged"] = bool(case["changes"])
    return case


def cases_of_screening(conn, screening_id: int) -> list[int]:
    """The cases a saved screening belongs to (opened with it, or re-screened into it)."""
    return store.impact.cases_of_screening(conn, screening_id)


def list_cases(conn, settings: Settings) -> list[dict[str, Any]]:
    """Every case, flagged ones first, each with the registry changes since its screening."""
    out = []
    for case in store.impact.list_cases(conn):
        case["changes"] = changes(conn, get_saved(conn, case["screening_id"], settings))
        case["flagged"] = bool(case["changes"])
        out.append(case)
    return sorted(out, key=lambda c: not c["flagged"])


def changes(conn, screening) -> list[dict[str, Any]]:
    """Sites changed since ``screening`` (a saved screening's Result) in a way that can alter its figures, within
    reach of its footprint then or now: what changed, and the site's entry in the screening then and now."""
    reach = screening.settings.outer_ring_m
    bounds = search_bounds(screening.footprint.geometry, reach)
    before = {a["code"]: a for a in screening.affected}
    out = []
    for c in store.impact.site_changes_since(conn, screening.registry_version):
        then, now = c["then"], c["now"]
        near = any(store.impact.blob_meets(s[k], bounds) for s in (then, now) if s for k in ("location", "boundary"))
        kinds = _what_changed(then, now)
        if not near or not kinds:
            continue
        out.append({"code": c["code"], "changes": kinds, "version_then": then["version"] if then else None,
                    "version_now": now["version"], "then": before.get(c["code"]),
                    "now": _entry_now(screening, c["code"], now)})
    return out


def _what_changed(then: dict | None, now: dict) -> list[str]:
    props_now = now["properties"]
    if then is None:
        return ["new"] if props_now.get("status", "active") == "active" else []
    props_then = then["properties"]
    kinds = []
    if then["boundary"] != now["boundary"]:
        kinds.append("boundary")
    if then["location"] != now["location"] and (then["boundary"] is None or now["boundary"] is None):
        kinds.append("location")  # with a boundary, figures are measured to the boundary
    if props_then.get("level") != props_now.get("level"):
        kinds.append("level")
    if props_then.get("status") != props_now.get("status"):
        kinds.append("status")
    return kinds


def _entry_now(screening, code: str, now: dict[str, Any]) -> dict[str, Any] | None:
    if now["properties"].get("status", "active") != "active":
        return None
    target = Target(code, now["version"], now["properties"], store.decode_geometry(now["location"]),
                    store.decode_geometry(now["boundary"]))
    found = exact_entries(screening.footprint, screening.settings, [target])
    return found[0] if found else None
