"""Impact screening of construction projects: saved screenings, their per-site results, and project cases.

Layers registered in the GeoPackage (any GIS sees them):

* ``impact_screenings`` (features, any geometry type): one row per saved screening; the geometry is the footprint as
  screened (corridors already buffered), with the rings, rule table, registry version and source it was run with;
* ``impact_results`` (attributes): one row per site within the outer ring of a screening, with its figures;
* ``impact_cases`` (attributes): a construction project's case (name, developer, stage, decision, conditions), pointing
  at its current screening; ``impact_case_events`` (attributes): everything that happened to a case, in order.

Screenings, results and case events are records: append-only (triggers). A case changes only together with a new event
row, at the version it was read at (``update_case`` refuses a stale one).

Also here: the read-only queries screening needs from the site tables (candidates through the R-trees, the registry
version, the registry's state at an earlier version, what changed since one).
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

from shapely.geometry.base import BaseGeometry

from ..vocab import Sensitivity, SiteStatus
from . import pg
from .dialect import backend, geometry_value, is_pg
from .gpkg import blob_bounds, decode_geometries, decode_geometry
from .tables import (BIGINT, BOOL, DATETIME, GEOMETRY, INT, NOT_NULL, REAL, TEXT, Index, Layer, Refuse, Table,
                     append_only, col, in_list, ref)
from .sites import BOUNDARIES, LOCATIONS, VERSIONS, PUBLIC_ONLY, SELECT_SITE, SiteRow, row_to_site, touch_contents

SCREENINGS = "impact_screenings"
RESULTS = "impact_results"
CASES = "impact_cases"
EVENTS = "impact_case_events"

STAGES = ("planning", "application", "construction", "completed", "cancelled")
DECISIONS = ("pending", "no_objection", "conditions", "objection")
EVENT_KINDS = ("opened", "updated", "rescreened")
RISKS = ("very_high", "high", "medium", "low")


def _record(table: str, what: str) -> Refuse:
    return append_only(table, f"{what} are records: append-only")


SCREENINGS_TABLE = Table(SCREENINGS, (
    col("geom", GEOMETRY, NOT_NULL), col("title", TEXT, NOT_NULL), col("created_at", DATETIME, NOT_NULL),
    col("created_by", TEXT, NOT_NULL), col("registry_version", BIGINT, NOT_NULL), col("rings", TEXT, NOT_NULL),
    col("rules", TEXT, NOT_NULL), col("width_m", REAL), col("source", TEXT, NOT_NULL), col("notes", TEXT, NOT_NULL),
    col("figures", TEXT, NOT_NULL), col("affected_count", INT, NOT_NULL),
    col("highest_risk", TEXT, check=f"highest_risk IS NULL OR highest_risk IN {in_list(RISKS)}"),
    ref("rerun_of", SCREENINGS),
), indexes=(Index("impact_screenings_created", "created_at"),),
   layer=Layer("Impact screenings", "Construction-project footprints screened against the protected sites"),
   rules=(_record(SCREENINGS, "impact screenings"),))

RESULTS_TABLE = Table(RESULTS, (
    ref("screening_id", SCREENINGS, NOT_NULL), col("code", TEXT, NOT_NULL), col("site_version", INT, NOT_NULL),
    col("name"), col("name_en"), col("level", TEXT, NOT_NULL), col("sensitivity", TEXT, NOT_NULL),
    col("intersects", BOOL, NOT_NULL), col("distance_m", REAL, NOT_NULL), col("overlap_m2", REAL, NOT_NULL),
    col("overlap_pct", REAL), col("site_area_m2", REAL), col("ring_m", REAL, NOT_NULL),
    col("risk", TEXT, NOT_NULL, check=f"risk IN {in_list(RISKS)}"),
    col("measured_to", TEXT, NOT_NULL, check="measured_to IN ('boundary','location')"),
    col("site_lon", REAL), col("site_lat", REAL), col("footprint_lon", REAL), col("footprint_lat", REAL),
), constraints=("UNIQUE (screening_id, code)",), indexes=(Index("impact_results_code", "code"),),
   layer=Layer("Impact screening results",
               "Per site within the outer ring of a screening: overlap, distance, ring and risk class"),
   rules=(_record(RESULTS, "impact screening results"),))

CASES_TABLE = Table(CASES, (
    col("name", TEXT, NOT_NULL), col("developer"), col("reference"),
    col("stage", TEXT, NOT_NULL, check=f"stage IN {in_list(STAGES)}"),
    col("decision", TEXT, NOT_NULL, check=f"decision IN {in_list(DECISIONS)}"),
    col("conditions", TEXT, NOT_NULL, default="'[]'"), col("conditions_note"),
    ref("screening_id", SCREENINGS, NOT_NULL),
    col("version", INT, NOT_NULL, check="version >= 1"), col("created_at", DATETIME, NOT_NULL),
    col("created_by", TEXT, NOT_NULL), col("updated_at", DATETIME, NOT_NULL), col("updated_by", TEXT, NOT_NULL),
), layer=Layer("Construction project cases",
               "The case of a construction project: stage, decision and conditions, and its current screening"),
   rules=(Refuse(f"{CASES}_never_deleted", "DELETE", "project cases are kept, never deleted"),))

EVENTS_TABLE = Table(EVENTS, (
    ref("case_id", CASES, NOT_NULL), col("case_version", INT, NOT_NULL), col("at", DATETIME, NOT_NULL),
    col("actor", TEXT, NOT_NULL), col("kind", TEXT, NOT_NULL, check=f"kind IN {in_list(EVENT_KINDS)}"),
    col("stage", TEXT, NOT_NULL), col("decision", TEXT, NOT_NULL), col("conditions", TEXT, NOT_NULL),
    col("conditions_note"), ref("screening_id", SCREENINGS, NOT_NULL), col("note"),
), constraints=("UNIQUE (case_id, case_version)",),
   layer=Layer("Construction project case history",
               "Every change of a project case: opened, updated (stage, decision, conditions), re-screened"),
   rules=(_record(EVENTS, "project case events"),))

TABLES = (SCREENINGS_TABLE, RESULTS_TABLE, CASES_TABLE, EVENTS_TABLE)


# --------------------------------------------------------------------------------------------------------------------
# What screening reads from the site tables
# --------------------------------------------------------------------------------------------------------------------
def registry_version(conn: sqlite3.Connection) -> int:
    """The number of the last entry in the append-only site history: the registry's state is, for every site, its
    latest version at or below it."""
    return conn.execute(f"SELECT coalesce(max(fid), 0) FROM {VERSIONS}").fetchone()[0]


# PostGIS: the envelope (min_x, min_y, max_x, max_y) as a box the GiST index answers `&&` with.
_PG_BOX = f"ST_MakeEnvelope(?, ?, ?, ?, {pg.SRS_ID})"


def candidate_site_rows(conn: sqlite3.Connection, bounds: tuple[float, float, float, float], *,
                        public_only: bool = False) -> list[SiteRow]:
    """Active sites whose location or boundary envelope meets ``bounds`` (min_x, min_y, max_x, max_y), found through the
    R-trees of both layers; ``public_only``: only the sites the public may see (PUBLIC_ONLY: hidden ones left out in
    SQL)."""
    location, location_params = backend(conn).meets(LOCATIONS, "l", bounds)
    boundary, boundary_params = backend(conn).meets(BOUNDARIES, "b", bounds)
    params = location_params + boundary_params
    where = [f"({location} OR {boundary})", f"l.status = '{SiteStatus.ACTIVE}'"]
    if public_only:
        where.append(PUBLIC_ONLY)
    rows = conn.execute(SELECT_SITE + " WHERE " + " AND ".join(where) + " ORDER BY l.code", params).fetchall()
    locations = decode_geometries([r["geom"] for r in rows])
    boundaries = decode_geometries([r["boundary_geom"] for r in rows])
    return [row_to_site(r, loc, b) for r, loc, b in zip(rows, locations, boundaries)]


def hidden_site_locations(conn: sqlite3.Connection, bounds: tuple[float, float, float, float]) -> list[BaseGeometry]:
    """Only the points of the active hidden sites in ``bounds`` (no code, no attributes): anonymous screening places
    them in coarse grid cells (public_view.impact_candidates) and uses nothing else of them."""
    hit, params = backend(conn).meets(LOCATIONS, "l", bounds)
    rows = conn.execute(
        f"SELECT l.geom FROM {LOCATIONS} l WHERE l.sensitivity = '{Sensitivity.HIDDEN}' "
        f"AND l.status = '{SiteStatus.ACTIVE}' AND {hit}",
        params).fetchall()
    return decode_geometries([r[0] for r in rows])


def _meets(blob: bytes | None, bounds: tuple[float, float, float, float]) -> bool:
    env = blob_bounds(blob) if blob is not None else None  # (minx, maxx, miny, maxy) from the blob's header
    return env is not None and env[0] <= bounds[2] and env[1] >= bounds[0] and env[2] <= bounds[3] \
        and env[3] >= bounds[1]


def site_states_at(conn: sqlite3.Connection, version: int,
                   bounds: tuple[float, float, float, float]) -> list[dict[str, Any]]:
    """Every site as it stood at registry version ``version`` (its latest history entry at or below it) whose location
    or boundary envelope meets ``bounds``: code, version, properties, location, boundary. No spatial index covers the
    history, so the envelopes are read from the geometry blobs' headers before anything is decoded."""
    sql = (f"SELECT v.code, v.version, v.properties, v.location, v.boundary FROM {VERSIONS} v JOIN "
           f"(SELECT code, max(fid) AS fid FROM {VERSIONS} WHERE fid <= ? GROUP BY code) m ON m.fid = v.fid")
    params: tuple = (version,)
    if is_pg(conn):  # PostGIS indexes the history's geometries too: only the sites in reach are read
        sql += f" WHERE v.location && {_PG_BOX} OR v.boundary && {_PG_BOX}"
        params += tuple(bounds) * 2
    rows = conn.execute(sql + " ORDER BY v.code", params).fetchall()
    out = []
    for r in rows:
        if _meets(r["location"], bounds) or _meets(r["boundary"], bounds):
            out.append({"code": r["code"], "version": r["version"], "properties": json.loads(r["properties"]),
                        "location": decode_geometry(r["location"]), "boundary": decode_geometry(r["boundary"])})
    return out


def site_changes_since(conn: sqlite3.Connection, version: int) -> list[dict[str, Any]]:
    """For every site changed after registry version ``version``: its state then (None if it did not exist yet) and
    now, as raw rows (code, version, properties, location and boundary blobs)."""
    rows = conn.execute(
        f"WITH changed AS (SELECT DISTINCT code FROM {VERSIONS} WHERE fid > :v) "
        f"SELECT v.code, v.version, v.fid, v.properties, v.location, v.boundary FROM {VERSIONS} v "
        "JOIN changed c ON c.code = v.code "
        f"WHERE v.fid = (SELECT max(fid) FROM {VERSIONS} w WHERE w.code = v.code AND w.fid <= :v) "
        f"   OR v.fid = (SELECT max(fid) FROM {VERSIONS} w WHERE w.code = v.code) ORDER BY v.code, v.fid",
        {"v": version}).fetchall()
    by_code: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_code.setdefault(r["code"], {"code": r["code"], "then": None, "now": None})
        state = {"version": r["version"], "properties": json.loads(r["properties"]), "location": r["location"],
                 "boundary": r["boundary"]}
        entry["then" if r["fid"] <= version else "now"] = state
    return list(by_code.values())


def blob_meets(blob: bytes | None, bounds: tuple[float, float, float, float]) -> bool:
    """Whether a stored geometry's envelope meets ``bounds`` (min_x, min_y, max_x, max_y)."""
    return _meets(blob, bounds)


# --------------------------------------------------------------------------------------------------------------------
# Saved screenings
# --------------------------------------------------------------------------------------------------------------------
RESULT_COLUMNS = ("code", "site_version", "name", "name_en", "level", "sensitivity", "intersects", "distance_m",
                  "overlap_m2", "overlap_pct", "site_area_m2", "ring_m", "risk", "measured_to", "site_lon", "site_lat",
                  "footprint_lon", "footprint_lat")


def insert_screening(conn: sqlite3.Connection, *, footprint: BaseGeometry, title: str, created_at: str,
                     created_by: str, registry_version: int, rings: list, rules: list, width_m: float | None,
                     source: dict, notes: list, figures: dict, results: list[dict[str, Any]],
                     highest_risk: str | None, rerun_of: int | None = None) -> int:
    """One saved screening and its per-site results (call inside a transaction)."""
    cur = conn.execute(
        f"INSERT INTO {SCREENINGS} (geom, title, created_at, created_by, registry_version, rings, rules, width_m, "
        "source, notes, figures, affected_count, highest_risk, rerun_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (geometry_value(conn, footprint), title, created_at, created_by, registry_version, json.dumps(rings),
         json.dumps(rules), width_m, json.dumps(source, ensure_ascii=False), json.dumps(notes, ensure_ascii=False),
         json.dumps(figures), len(results), highest_risk, rerun_of))
    screening_id = cur.lastrowid
    conn.executemany(
        f"INSERT INTO {RESULTS} (screening_id, {', '.join(RESULT_COLUMNS)}) "
        f"VALUES (?, {', '.join('?' * len(RESULT_COLUMNS))})",
        [(screening_id, *(r.get(c) for c in RESULT_COLUMNS)) for r in results])
    touch_contents(conn, SCREENINGS, footprint, created_at)
    return screening_id


_JSON_FIELDS = ("rings", "rules", "source", "notes", "figures")


def _screening(r: sqlite3.Row, *, geometry: bool) -> dict[str, Any]:
    d = dict(r)
    blob = d.pop("geom", None)
    if geometry:
        d["footprint"] = decode_geometry(blob)
    for key in _JSON_FIELDS:
        d[key] = json.loads(d[key])
    return d


def get_screening(conn: sqlite3.Connection, screening_id: int) -> dict[str, Any] | None:
    r = conn.execute(f"SELECT * FROM {SCREENINGS} WHERE fid = ?", (screening_id,)).fetchone()
    if r is None:
        return None
    d = _screening(r, geometry=True)
    d["results"] = [dict(x) for x in conn.execute(
        f"SELECT {', '.join(RESULT_COLUMNS)} FROM {RESULTS} WHERE screening_id = ? ORDER BY fid", (screening_id,))]
    for x in d["results"]:
        x["intersects"] = bool(x["intersects"])
    return d


def list_screenings(conn: sqlite3.Connection, *, limit: int = 200) -> list[dict[str, Any]]:
    """The latest saved screenings, newest first, without geometries or results; with the case each belongs to."""
    rows = conn.execute(
        f"SELECT s.*, (SELECT e.case_id FROM {EVENTS} e WHERE e.screening_id = s.fid ORDER BY e.fid LIMIT 1) "
        f"AS case_id FROM {SCREENINGS} s ORDER BY s.fid DESC LIMIT ?", (int(limit),)).fetchall()
    return [_screening(r, geometry=False) for r in rows]


# --------------------------------------------------------------------------------------------------------------------
# Project cases
# --------------------------------------------------------------------------------------------------------------------
def insert_case(conn: sqlite3.Connection, *, name: str, developer: str | None, reference: str | None, stage: str,
                screening_id: int, at: str, actor: str) -> int:
    cur = conn.execute(
        f"INSERT INTO {CASES} (name, developer, reference, stage, decision, screening_id, version, created_at, "
        "created_by, updated_at, updated_by) VALUES (?,?,?,?, 'pending', ?, 1, ?,?,?,?)",
        (name, developer, reference, stage, screening_id, at, actor, at, actor))
    return cur.lastrowid


def update_case(conn: sqlite3.Connection, case_id: int, *, base_version: int, at: str, actor: str,
                **values: Any) -> bool:
    """Change a case read at ``base_version`` (stage, decision, conditions, conditions_note, screening_id, name,
    developer, reference); False if it has moved on since (or does not exist)."""
    allowed = ("stage", "decision", "conditions", "conditions_note", "screening_id", "name", "developer", "reference")
    sets = {k: (json.dumps(v) if k == "conditions" else v) for k, v in values.items() if k in allowed}
    assignments = "".join(f", {k} = :{k}" for k in sets)
    cur = conn.execute(
        f"UPDATE {CASES} SET version = version + 1, updated_at = :at, updated_by = :actor{assignments} "
        "WHERE fid = :fid AND version = :base", {**sets, "at": at, "actor": actor, "fid": case_id,
                                                 "base": base_version})
    return cur.rowcount == 1


def insert_case_event(conn: sqlite3.Connection, case_id: int, *, kind: str, at: str, actor: str,
                      note: str | None = None) -> None:
    """Record the case's state as it now is (call after insert_case / update_case, in the same transaction)."""
    conn.execute(
        f"INSERT INTO {EVENTS} (case_id, case_version, at, actor, kind, stage, decision, conditions, conditions_note, "
        "screening_id, note) SELECT fid, version, ?, ?, ?, stage, decision, conditions, conditions_note, "
        f"screening_id, ? FROM {CASES} WHERE fid = ?", (at, actor, kind, note, case_id))


def _case(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["conditions"] = json.loads(d["conditions"])
    return d


_CASE_SELECT = (f"SELECT c.*, s.registry_version, s.created_at AS screened_at, s.highest_risk, s.affected_count, "
                f"s.title AS screening_title FROM {CASES} c JOIN {SCREENINGS} s ON s.fid = c.screening_id")


def get_case(conn: sqlite3.Connection, case_id: int) -> dict[str, Any] | None:
    r = conn.execute(_CASE_SELECT + " WHERE c.fid = ?", (case_id,)).fetchone()
    return None if r is None else _case(r)


def list_cases(conn: sqlite3.Connection, *, limit: int = 500) -> list[dict[str, Any]]:
    return [_case(r) for r in conn.execute(_CASE_SELECT + " ORDER BY c.updated_at DESC LIMIT ?", (int(limit),))]


def case_events(conn: sqlite3.Connection, case_id: int) -> list[dict[str, Any]]:
    return [_case(r) for r in conn.execute(f"SELECT * FROM {EVENTS} WHERE case_id = ? ORDER BY fid", (case_id,))]


def case_events_for_site(conn: sqlite3.Connection, code: str) -> list[dict[str, Any]]:
    """The events of every case one of whose screenings found the site within its outer ring (a site's timeline),
    with the case's name and the site's ring and risk class in the screening the event refers to."""
    rows = conn.execute(
        "SELECT e.fid, e.case_id, e.at, e.actor, e.kind, e.stage, e.decision, e.conditions, e.screening_id, e.note, "
        f"c.name, c.developer, r.ring_m, r.risk, r.intersects, r.distance_m FROM {EVENTS} e "
        f"JOIN {CASES} c ON c.fid = e.case_id "
        f"LEFT JOIN {RESULTS} r ON r.screening_id = e.screening_id AND r.code = :code "
        f"WHERE e.case_id IN (SELECT e2.case_id FROM {EVENTS} e2 "
        f"JOIN {RESULTS} r2 ON r2.screening_id = e2.screening_id WHERE r2.code = :code) ORDER BY e.fid",
        {"code": code}).fetchall()
    return [_case(r) for r in rows]


def cases_of_screening(conn: sqlite3.Connection, screening_id: int) -> list[int]:
    return [r[0] for r in conn.execute(f"SELECT DISTINCT case_id FROM {EVENTS} WHERE screening_id = ?",
                                       (screening_id,))]
