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

from . import pg
from .dialect import geometry_value, is_pg
from .gpkg import blob_bounds, decode_geometries, decode_geometry
from .schema import _in, _register
from .sites import BOUNDARIES, LOCATIONS, VERSIONS, _PUBLIC_ONLY, _SELECT_SITE, SiteRow, _row_to_site, _touch_contents

SCREENINGS = "impact_screenings"
RESULTS = "impact_results"
CASES = "impact_cases"
EVENTS = "impact_case_events"

STAGES = ("planning", "application", "construction", "completed", "cancelled")
DECISIONS = ("pending", "no_objection", "conditions", "objection")
EVENT_KINDS = ("opened", "updated", "rescreened")
RISKS = ("very_high", "high", "medium", "low")


def _append_only(table: str, what: str) -> str:
    return (f"CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table}\n"
            f"  BEGIN SELECT RAISE(ABORT, '{what} are records: append-only'); END;\n"
            f"CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table}\n"
            f"  BEGIN SELECT RAISE(ABORT, '{what} are records: append-only'); END;\n")


DDL = f"""
CREATE TABLE {SCREENINGS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom GEOMETRY NOT NULL,
  title TEXT NOT NULL, created_at DATETIME NOT NULL, created_by TEXT NOT NULL,
  registry_version INTEGER NOT NULL, rings TEXT NOT NULL, rules TEXT NOT NULL, width_m REAL, source TEXT NOT NULL,
  notes TEXT NOT NULL, figures TEXT NOT NULL, affected_count INTEGER NOT NULL,
  highest_risk TEXT CHECK (highest_risk IS NULL OR highest_risk IN {_in(RISKS)}),
  rerun_of INTEGER REFERENCES {SCREENINGS}(fid));
CREATE INDEX impact_screenings_created ON {SCREENINGS} (created_at);
{_register(SCREENINGS, "features", "Impact screenings",
           "Construction-project footprints screened against the protected sites", "GEOMETRY")}
{_append_only(SCREENINGS, "impact screenings")}

CREATE TABLE {RESULTS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  screening_id INTEGER NOT NULL REFERENCES {SCREENINGS}(fid), code TEXT NOT NULL, site_version INTEGER NOT NULL,
  name TEXT, name_en TEXT, level TEXT NOT NULL, sensitivity TEXT NOT NULL, intersects BOOLEAN NOT NULL,
  distance_m REAL NOT NULL, overlap_m2 REAL NOT NULL, overlap_pct REAL, site_area_m2 REAL, ring_m REAL NOT NULL,
  risk TEXT NOT NULL CHECK (risk IN {_in(RISKS)}),
  measured_to TEXT NOT NULL CHECK (measured_to IN ('boundary','location')),
  site_lon REAL, site_lat REAL, footprint_lon REAL, footprint_lat REAL, UNIQUE (screening_id, code));
CREATE INDEX impact_results_code ON {RESULTS} (code);
{_register(RESULTS, "attributes", "Impact screening results",
           "Per site within the outer ring of a screening: overlap, distance, ring and risk class")}
{_append_only(RESULTS, "impact screening results")}

CREATE TABLE {CASES} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name TEXT NOT NULL, developer TEXT,
  reference TEXT, stage TEXT NOT NULL CHECK (stage IN {_in(STAGES)}),
  decision TEXT NOT NULL CHECK (decision IN {_in(DECISIONS)}), conditions TEXT NOT NULL DEFAULT '[]',
  conditions_note TEXT, screening_id INTEGER NOT NULL REFERENCES {SCREENINGS}(fid),
  version INTEGER NOT NULL CHECK (version >= 1), created_at DATETIME NOT NULL, created_by TEXT NOT NULL,
  updated_at DATETIME NOT NULL, updated_by TEXT NOT NULL);
{_register(CASES, "attributes", "Construction project cases",
           "The case of a construction project: stage, decision and conditions, and its current screening")}
CREATE TRIGGER {CASES}_never_deleted BEFORE DELETE ON {CASES}
  BEGIN SELECT RAISE(ABORT, 'project cases are kept, never deleted'); END;

CREATE TABLE {EVENTS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, case_id INTEGER NOT NULL REFERENCES {CASES}(fid),
  case_version INTEGER NOT NULL, at DATETIME NOT NULL, actor TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN {_in(EVENT_KINDS)}), stage TEXT NOT NULL, decision TEXT NOT NULL,
  conditions TEXT NOT NULL, conditions_note TEXT, screening_id INTEGER NOT NULL REFERENCES {SCREENINGS}(fid),
  note TEXT, UNIQUE (case_id, case_version));
{_register(EVENTS, "attributes", "Construction project case history",
           "Every change of a project case: opened, updated (stage, decision, conditions), re-screened")}
{_append_only(EVENTS, "project case events")}
"""

PG_DDL = f"""
CREATE TABLE {SCREENINGS} ({pg.identity()}, geom geometry(Geometry, {pg.SRS_ID}) NOT NULL,
  title text NOT NULL, created_at text NOT NULL, created_by text NOT NULL,
  registry_version bigint NOT NULL, rings text NOT NULL, rules text NOT NULL, width_m double precision,
  source text NOT NULL, notes text NOT NULL, figures text NOT NULL, affected_count integer NOT NULL,
  highest_risk text CHECK (highest_risk IS NULL OR highest_risk IN {_in(RISKS)}),
  rerun_of bigint REFERENCES {SCREENINGS}(fid));
CREATE INDEX impact_screenings_created ON {SCREENINGS} (created_at);
{pg.spatial_index(SCREENINGS)}
{pg.append_only(SCREENINGS, "impact screenings are records: append-only")}

CREATE TABLE {RESULTS} ({pg.identity()},
  screening_id bigint NOT NULL REFERENCES {SCREENINGS}(fid), code text NOT NULL, site_version integer NOT NULL,
  name text, name_en text, level text NOT NULL, sensitivity text NOT NULL,
  intersects smallint NOT NULL CHECK (intersects IN (0, 1)),
  distance_m double precision NOT NULL, overlap_m2 double precision NOT NULL, overlap_pct double precision,
  site_area_m2 double precision, ring_m double precision NOT NULL,
  risk text NOT NULL CHECK (risk IN {_in(RISKS)}),
  measured_to text NOT NULL CHECK (measured_to IN ('boundary','location')),
  site_lon double precision, site_lat double precision, footprint_lon double precision,
  footprint_lat double precision, UNIQUE (screening_id, code));
CREATE INDEX impact_results_code ON {RESULTS} (code);
{pg.append_only(RESULTS, "impact screening results are records: append-only")}

CREATE TABLE {CASES} ({pg.identity()}, name text NOT NULL, developer text,
  reference text, stage text NOT NULL CHECK (stage IN {_in(STAGES)}),
  decision text NOT NULL CHECK (decision IN {_in(DECISIONS)}), conditions text NOT NULL DEFAULT '[]',
  conditions_note text, screening_id bigint NOT NULL REFERENCES {SCREENINGS}(fid),
  version integer NOT NULL CHECK (version >= 1), created_at text NOT NULL, created_by text NOT NULL,
  updated_at text NOT NULL, updated_by text NOT NULL);
{pg.refuse(f"{CASES}_never_deleted", CASES, "project cases are kept, never deleted", events="DELETE")}

CREATE TABLE {EVENTS} ({pg.identity()}, case_id bigint NOT NULL REFERENCES {CASES}(fid),
  case_version integer NOT NULL, at text NOT NULL, actor text NOT NULL,
  kind text NOT NULL CHECK (kind IN {_in(EVENT_KINDS)}), stage text NOT NULL, decision text NOT NULL,
  conditions text NOT NULL, conditions_note text, screening_id bigint NOT NULL REFERENCES {SCREENINGS}(fid),
  note text, UNIQUE (case_id, case_version));
{pg.append_only(EVENTS, "project case events are records: append-only")}
"""


# --------------------------------------------------------------------------------------------------------------------
# What screening reads from the site tables
# --------------------------------------------------------------------------------------------------------------------
def registry_version(conn: sqlite3.Connection) -> int:
    """The number of the last entry in the append-only site history: the registry's state is, for every site, its
    latest version at or below it."""
    return conn.execute(f"SELECT coalesce(max(fid), 0) FROM {VERSIONS}").fetchone()[0]


# PostGIS: the envelope (min_x, min_y, max_x, max_y) as a box the GiST index answers `&&` with.
_PG_BOX = f"ST_MakeEnvelope(?, ?, ?, ?, {pg.SRS_ID})"


def _rtree_hit(table: str) -> str:
    return f"SELECT id FROM rtree_{table}_geom WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?"


def candidate_site_rows(conn: sqlite3.Connection, bounds: tuple[float, float, float, float], *,
                        public_only: bool = False) -> list[SiteRow]:
    """Active sites whose location or boundary envelope meets ``bounds`` (min_x, min_y, max_x, max_y), found through the
    R-trees of both layers; ``public_only``: open and generalized sites only (hidden ones left out in SQL)."""
    if is_pg(conn):
        params: tuple = tuple(bounds) * 2
        where = [f"(l.geom && {_PG_BOX} OR b.geom && {_PG_BOX})", "l.status = 'active'"]
    else:
        params = (bounds[2], bounds[0], bounds[3], bounds[1]) * 2
        where = [f"(l.fid IN ({_rtree_hit(LOCATIONS)}) OR b.fid IN ({_rtree_hit(BOUNDARIES)}))", "l.status = 'active'"]
    if public_only:
        where.append(_PUBLIC_ONLY)
    rows = conn.execute(_SELECT_SITE + " WHERE " + " AND ".join(where) + " ORDER BY l.code", params).fetchall()
    locations = decode_geometries([r["geom"] for r in rows])
    boundaries = decode_geometries([r["boundary_geom"] for r in rows])
    return [_row_to_site(r, loc, b) for r, loc, b in zip(rows, locations, boundaries)]


def hidden_site_locations(conn: sqlite3.Connection, bounds: tuple[float, float, float, float]) -> list[BaseGeometry]:
    """Only the points of the active hidden sites in ``bounds`` (no code, no attributes): anonymous screening places
    them in coarse grid cells (public_view.impact_candidates) and uses nothing else of them."""
    if is_pg(conn):
        hit, params = f"l.geom && {_PG_BOX}", tuple(bounds)
    else:
        hit, params = f"l.fid IN ({_rtree_hit(LOCATIONS)})", (bounds[2], bounds[0], bounds[3], bounds[1])
    rows = conn.execute(
        f"SELECT l.geom FROM {LOCATIONS} l WHERE l.sensitivity = 'hidden' AND l.status = 'active' AND {hit}",
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
    _touch_contents(conn, SCREENINGS, footprint, created_at)
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
