"""Saved screenings (staff): keeping an exact result with everything needed to explain and reproduce it, reopening
it, running it again against today's registry, and reproducing it against the registry version it was run with."""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from .. import features, local_time, store
from ..vocab import Level
from ..errors import NotFound
from .footprint import Footprint
from .screening import Result, screen, screen_at
from .settings import Settings
from ..messages import msg

MAX_TITLE = 200


def save(conn, result: Result, *, title: str | None, actor: str, remote_addr: str | None = None,
         rerun_of: int | None = None) -> Result:
    """Keep an exact result; one transaction with its audit record."""
    if not result.exact:
        raise ValueError("only exact (staff) results are saved")
    title = (title or "").strip()[:MAX_TITLE] or _default_title(result)
    rows = [_row(a) for a in result.affected]
    with store.transaction(conn):
        sid = store.impact.insert_screening(
            conn, footprint=result.footprint.geometry, title=title, created_at=result.screened_at, created_by=actor,
            registry_version=result.registry_version, rings=list(result.settings.rings_m),
            rules=result.settings.rule_table(), width_m=result.footprint.width_m, source=result.footprint.source,
            notes=result.footprint.notes + result.notes, figures=result.footprint.figures(), results=rows,
            highest_risk=_stored_risk(result.highest_risk), rerun_of=rerun_of)
        store.append_audit(conn, actor=actor, action="impact.screen", target=f"screening {sid}",
                           at=result.screened_at, remote_addr=remote_addr,
                           detail={"registry_version": result.registry_version, "affected": len(rows),
                                   "highest_risk": result.highest_risk, "rerun_of": rerun_of})
    return replace(result, screening_id=sid, title=title, created_by=actor, rerun_of=rerun_of)


def _stored_risk(risk: str | None) -> str | None:
    return risk if risk in store.impact.RISKS else None


def _default_title(result: Result) -> str:
    name = result.footprint.source.get("filename") or result.footprint.source.get("feature")
    tz = result.settings.timezone
    if name:
        return f"{name} ({local_time.local_day(result.screened_at, tz)})"
    return f"Screening of {local_time.with_offset(result.screened_at, tz)}"


def _row(a: dict[str, Any]) -> dict[str, Any]:
    near = a.get("nearest") or {}
    site, fp = near.get("site") or (None, None), near.get("footprint") or (None, None)
    return {**{k: a[k] for k in ("code", "name", "name_en", "level", "sensitivity", "intersects", "distance_m",
                                 "overlap_m2", "overlap_pct", "site_area_m2", "ring_m", "risk", "measured_to")},
            "site_version": a["version"], "site_lon": site[0], "site_lat": site[1], "footprint_lon": fp[0],
            "footprint_lat": fp[1]}


def _entry(r: dict[str, Any]) -> dict[str, Any]:
    entry = {k: r[k] for k in ("code", "name", "name_en", "level", "sensitivity", "intersects", "distance_m",
                               "overlap_m2", "overlap_pct", "site_area_m2", "ring_m", "risk", "measured_to")}
    entry["version"] = r["site_version"]
    entry["nearest"] = None if r["site_lon"] is None else {"site": [r["site_lon"], r["site_lat"]],
                                                           "footprint": [r["footprint_lon"], r["footprint_lat"]]}
    return entry


def _settings_of(saved: dict[str, Any], settings: Settings) -> Settings:
    """The rings and the rule table a saved screening was run with (today's configuration may differ)."""
    rules = tuple((row["ring_m"], {level: row[level] for level in Level.values()}) for row in saved["rules"])
    return replace(settings, rings_m=tuple(saved["rings"]), rules=rules)


def get_saved(conn, screening_id: int, settings: Settings) -> Result:
    saved = store.impact.get_screening(conn, screening_id)
    if saved is None:
        raise NotFound(msg("impact.saved_screening", "no saved screening {screening_id}", screening_id=screening_id))
    footprint = Footprint(saved["footprint"], saved["width_m"], saved["source"], saved["notes"])
    entries = [_entry(r) for r in saved["results"]]
    for e in entries:  # the kind of feature is not stored with a result: the kind that holds the code
        e["feature"] = features.kind_of(conn, e["code"]).name
    return Result(footprint, _settings_of(saved, settings), saved["registry_version"], saved["created_at"], True,
                  entries, screening_id=saved["fid"], title=saved["title"],
                  created_by=saved["created_by"], rerun_of=saved["rerun_of"])


def list_saved(conn, *, limit: int = 200) -> list[dict[str, Any]]:
    return store.impact.list_screenings(conn, limit=limit)


def rerun(conn, screening_id: int, settings: Settings, *, actor: str, remote_addr: str | None = None) -> Result:
    """The saved footprint screened again against today's registry, with the rings and rule table it was saved with
    (so that every difference comes from the registry), saved as a new screening."""
    old = get_saved(conn, screening_id, settings)
    fresh = screen(conn, old.footprint, old.settings, exact=True)
    return save(conn, fresh, title=old.title, actor=actor, remote_addr=remote_addr, rerun_of=screening_id)


def reproduce(conn, screening_id: int, settings: Settings) -> dict[str, Any]:
    """Run a saved screening again against the registry as it stood at its registry version, and compare: the
    figures must agree (to 1 cm and 0.1 m²), site by site."""
    saved = get_saved(conn, screening_id, settings)
    again = screen_at(conn, saved.footprint, saved.settings, saved.registry_version, at=saved.screened_at)
    before = {a["code"]: a for a in saved.affected}
    after = {a["code"]: a for a in again.affected}
    differences = []
    for code in sorted(set(before) | set(after)):
        a, b = before.get(code), after.get(code)
        if a is None or b is None or not _same(a, b):
            differences.append({"code": code, "saved": a, "reproduced": b})
    return {"registry_version": saved.registry_version, "identical": not differences, "differences": differences,
            "sites": len(after)}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a["intersects"] == b["intersects"] and a["ring_m"] == b["ring_m"] and a["risk"] == b["risk"]
            and a["version"] == b["version"] and math.isclose(a["distance_m"], b["distance_m"], abs_tol=0.01)
            and math.isclose(a["overlap_m2"], b["overlap_m2"], rel_tol=1e-6, abs_tol=0.1))
