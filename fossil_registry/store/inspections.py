"""Inspections and their evidence: all their SQL.

Layers registered in the GeoPackage (any GIS sees them):

* ``inspections`` (features, Point; NULL when no inspection point was given): one row per inspection record;
* ``patrol_tracks`` (features, MultiLineString): the GPX track walked during an inspection;
* ``inspection_threats``, ``inspection_followups``, ``evidence_photos`` (attributes).

Inspection records, threats, tracks and photos are evidence: append-only (triggers). Follow-ups may only go from open to
closed, once. Follow-ups and photos may come from a public report (store/reports.py) instead of an inspection.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from shapely.geometry.base import BaseGeometry

from . import pg
from .dialect import geometry_value
from .gpkg import decode_geometry, where
from .reports import REPORTS
from .schema import _in, _register
from .sites import _touch_contents

INSPECTIONS = "inspections"
TRACKS = "patrol_tracks"
THREATS = "inspection_threats"
FOLLOWUPS = "inspection_followups"
PHOTOS = "evidence_photos"

CONDITIONS = ("good", "fair", "poor", "damaged", "destroyed")
THREAT_CODES = ("quarrying", "construction", "illegal_excavation", "erosion_landslide", "vegetation", "vandalism", "other")
SEVERITIES = ("low", "medium", "high")

# Personal data removed from shareable exports (store.backup_to): where and with what file name a reporter's phone took
# a photo.
SCRUB = (
    (PHOTOS, f"UPDATE {PHOTOS} SET gps_lon = NULL, gps_lat = NULL, distance_m = NULL, original_name = NULL, "
             "taken_at = NULL, flags = NULL, flag_message = NULL WHERE report_id IS NOT NULL"),
)


def _append_only(table: str, what: str) -> str:
    return (f"CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table}\n"
            f"  BEGIN SELECT RAISE(ABORT, '{what} are evidence: append-only'); END;\n"
            f"CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table}\n"
            f"  BEGIN SELECT RAISE(ABORT, '{what} are evidence: append-only'); END;\n")


DDL = f"""
CREATE TABLE {INSPECTIONS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT,
  code TEXT NOT NULL REFERENCES site_locations(code), inspected_on DATE NOT NULL, inspectors TEXT NOT NULL,
  condition TEXT NOT NULL CHECK (condition IN {_in(CONDITIONS)}), threats TEXT, findings TEXT, actions TEXT,
  followup_needed BOOLEAN NOT NULL DEFAULT 0, photo_count INTEGER NOT NULL DEFAULT 0,
  flagged_photos INTEGER NOT NULL DEFAULT 0, site_version INTEGER NOT NULL,
  recorded_at DATETIME NOT NULL, recorded_by TEXT NOT NULL);
CREATE INDEX inspections_code_date ON {INSPECTIONS} (code, inspected_on);
{_register(INSPECTIONS, "features", "Site inspections", "Inspection records (point: where the inspection was made)",
           "POINT")}
{_append_only(INSPECTIONS, "inspection records")}

CREATE TABLE {THREATS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  inspection_id INTEGER NOT NULL REFERENCES {INSPECTIONS}(fid),
  threat TEXT NOT NULL CHECK (threat IN {_in(THREAT_CODES)}),
  severity TEXT NOT NULL CHECK (severity IN {_in(SEVERITIES)}), note TEXT, UNIQUE (inspection_id, threat));
{_register(THREATS, "attributes", "Inspection threats", "Threats observed during inspections, with severity")}
{_append_only(THREATS, "inspection threats")}

CREATE TABLE {TRACKS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTILINESTRING NOT NULL,
  inspection_id INTEGER NOT NULL UNIQUE REFERENCES {INSPECTIONS}(fid), code TEXT NOT NULL, inspected_on DATE NOT NULL,
  name TEXT, length_m REAL NOT NULL, point_count INTEGER NOT NULL, started_at DATETIME, ended_at DATETIME);
{_register(TRACKS, "features", "Patrol tracks", "GPX tracks walked during inspections", "MULTILINESTRING")}
{_append_only(TRACKS, "patrol tracks")}

CREATE TABLE {FOLLOWUPS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, code TEXT NOT NULL,
  description TEXT NOT NULL, due_on DATE NOT NULL, created_at DATETIME NOT NULL, created_by TEXT NOT NULL,
  inspection_id INTEGER REFERENCES {INSPECTIONS}(fid), report_id INTEGER REFERENCES {REPORTS}(fid),
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','closed')), closed_at DATETIME, closed_by TEXT,
  closing_note TEXT, closed_by_inspection INTEGER REFERENCES {INSPECTIONS}(fid));
CREATE INDEX inspection_followups_open ON {FOLLOWUPS} (status, due_on);
{_register(FOLLOWUPS, "attributes", "Inspection follow-ups", "Follow-up actions from inspections and public reports")}
CREATE TRIGGER {FOLLOWUPS}_closed_once BEFORE UPDATE ON {FOLLOWUPS} WHEN OLD.status != 'open'
  BEGIN SELECT RAISE(ABORT, 'a follow-up is closed once'); END;
CREATE TRIGGER {FOLLOWUPS}_never_deleted BEFORE DELETE ON {FOLLOWUPS}
  BEGIN SELECT RAISE(ABORT, 'follow-ups are closed, never deleted'); END;

CREATE TABLE {PHOTOS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, sha256 TEXT NOT NULL,
  inspection_id INTEGER REFERENCES {INSPECTIONS}(fid), report_id INTEGER REFERENCES {REPORTS}(fid),
  original_name TEXT, media_type TEXT NOT NULL, extension TEXT NOT NULL, width INTEGER NOT NULL,
  height INTEGER NOT NULL, size_bytes INTEGER NOT NULL, taken_at TEXT, gps_lon REAL, gps_lat REAL, distance_m REAL,
  flags TEXT, flag_message TEXT, created_at DATETIME NOT NULL,
  CHECK ((inspection_id IS NULL) != (report_id IS NULL)));
CREATE INDEX evidence_photos_sha ON {PHOTOS} (sha256);
CREATE INDEX evidence_photos_inspection ON {PHOTOS} (inspection_id);
CREATE INDEX evidence_photos_report ON {PHOTOS} (report_id);
{_register(PHOTOS, "attributes", "Evidence photos",
           "Photos of inspections and reports (files content-addressed by sha256 in the data directory)")}
{_append_only(PHOTOS, "evidence photos")}
"""

PG_DDL = f"""
CREATE TABLE {INSPECTIONS} ({pg.identity()}, geom geometry(Point, {pg.SRS_ID}),
  code text NOT NULL REFERENCES site_locations(code), inspected_on text NOT NULL, inspectors text NOT NULL,
  condition text NOT NULL CHECK (condition IN {_in(CONDITIONS)}), threats text, findings text, actions text,
  followup_needed smallint NOT NULL DEFAULT 0 CHECK (followup_needed IN (0, 1)), photo_count integer NOT NULL DEFAULT 0,
  flagged_photos integer NOT NULL DEFAULT 0, site_version integer NOT NULL,
  recorded_at text NOT NULL, recorded_by text NOT NULL);
CREATE INDEX inspections_code_date ON {INSPECTIONS} (code, inspected_on);
{pg.spatial_index(INSPECTIONS)}
{pg.append_only(INSPECTIONS, "inspection records are evidence: append-only")}

CREATE TABLE {THREATS} ({pg.identity()},
  inspection_id bigint NOT NULL REFERENCES {INSPECTIONS}(fid),
  threat text NOT NULL CHECK (threat IN {_in(THREAT_CODES)}),
  severity text NOT NULL CHECK (severity IN {_in(SEVERITIES)}), note text, UNIQUE (inspection_id, threat));
{pg.append_only(THREATS, "inspection threats are evidence: append-only")}

CREATE TABLE {TRACKS} ({pg.identity()}, geom geometry(MultiLineString, {pg.SRS_ID}) NOT NULL,
  inspection_id bigint NOT NULL UNIQUE REFERENCES {INSPECTIONS}(fid), code text NOT NULL, inspected_on text NOT NULL,
  name text, length_m double precision NOT NULL, point_count integer NOT NULL, started_at text, ended_at text);
{pg.spatial_index(TRACKS)}
{pg.append_only(TRACKS, "patrol tracks are evidence: append-only")}

CREATE TABLE {FOLLOWUPS} ({pg.identity()}, code text NOT NULL,
  description text NOT NULL, due_on text NOT NULL, created_at text NOT NULL, created_by text NOT NULL,
  inspection_id bigint REFERENCES {INSPECTIONS}(fid), report_id bigint REFERENCES {REPORTS}(fid),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','closed')), closed_at text, closed_by text,
  closing_note text, closed_by_inspection bigint REFERENCES {INSPECTIONS}(fid));
CREATE INDEX inspection_followups_open ON {FOLLOWUPS} (status, due_on);
{pg.refuse(f"{FOLLOWUPS}_closed_once", FOLLOWUPS, "a follow-up is closed once", events="UPDATE",
           when="OLD.status != 'open'")}
{pg.refuse(f"{FOLLOWUPS}_never_deleted", FOLLOWUPS, "follow-ups are closed, never deleted", events="DELETE")}

CREATE TABLE {PHOTOS} ({pg.identity()}, sha256 text NOT NULL,
  inspection_id bigint REFERENCES {INSPECTIONS}(fid), report_id bigint REFERENCES {REPORTS}(fid),
  original_name text, media_type text NOT NULL, extension text NOT NULL, width integer NOT NULL,
  height integer NOT NULL, size_bytes bigint NOT NULL, taken_at text, gps_lon double precision,
  gps_lat double precision, distance_m double precision, flags text, flag_message text, created_at text NOT NULL,
  CHECK ((inspection_id IS NULL) != (report_id IS NULL)));
CREATE INDEX evidence_photos_sha ON {PHOTOS} (sha256);
CREATE INDEX evidence_photos_inspection ON {PHOTOS} (inspection_id);
CREATE INDEX evidence_photos_report ON {PHOTOS} (report_id);
{pg.append_only(PHOTOS, "evidence photos are evidence: append-only")}
"""


def photos_of_markers_and_rescues(conn: sqlite3.Connection) -> None:
    """Schema step: an evidence photo may also show a protection marker (store/markers.py) or a rescue case
    (store/rescues.py). Two columns are added and the CHECK that a photo belongs to exactly one record is widened
    to them (schema.rewrite_table_sql: every existing row satisfies the wider rule)."""
    from .schema import rewrite_table_sql

    conn.execute(f"ALTER TABLE {PHOTOS} ADD COLUMN marker_id INTEGER REFERENCES protection_markers(fid)")
    conn.execute(f"ALTER TABLE {PHOTOS} ADD COLUMN rescue_id INTEGER REFERENCES rescue_cases(fid)")
    rewrite_table_sql(conn, PHOTOS, [("CHECK ((inspection_id IS NULL) != (report_id IS NULL))",
                                      "CHECK ((inspection_id IS NOT NULL) + (report_id IS NOT NULL) + "
                                      "(marker_id IS NOT NULL) + (rescue_id IS NOT NULL) = 1)")])
    conn.execute(f"CREATE INDEX evidence_photos_marker ON {PHOTOS} (marker_id)")
    conn.execute(f"CREATE INDEX evidence_photos_rescue ON {PHOTOS} (rescue_id)")


# PostGIS: the same step as plain DDL. The rescue cases' table comes with the next step ("rescues"), which adds the
# foreign key of rescue_id (PostgreSQL, unlike SQLite, checks that a referenced table exists).
PG_PHOTOS_OF_MARKERS_AND_RESCUES_DDL = f"""
ALTER TABLE {PHOTOS} ADD COLUMN marker_id bigint REFERENCES protection_markers(fid);
ALTER TABLE {PHOTOS} ADD COLUMN rescue_id bigint;
ALTER TABLE {PHOTOS} DROP CONSTRAINT {PHOTOS}_check;
ALTER TABLE {PHOTOS} ADD CONSTRAINT {PHOTOS}_one_owner
  CHECK (num_nonnulls(inspection_id, report_id, marker_id, rescue_id) = 1);
CREATE INDEX evidence_photos_marker ON {PHOTOS} (marker_id);
CREATE INDEX evidence_photos_rescue ON {PHOTOS} (rescue_id);
"""


def _row(r: sqlite3.Row | None) -> dict[str, Any] | None:
    return None if r is None else dict(r)


# --------------------------------------------------------------------------------------------------------------------
# Inspections
# --------------------------------------------------------------------------------------------------------------------
def insert_inspection(conn: sqlite3.Connection, *, code: str, point: BaseGeometry | None, inspected_on: str,
                      inspectors: str, condition: str, threats_summary: str, findings: str, actions: str,
                      followup_needed: bool, photo_count: int, flagged_photos: int, site_version: int,
                      recorded_at: str, recorded_by: str) -> int:
    cur = conn.execute(
        f"INSERT INTO {INSPECTIONS} (geom, code, inspected_on, inspectors, condition, threats, findings, actions, "
        "followup_needed, photo_count, flagged_photos, site_version, recorded_at, recorded_by) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (geometry_value(conn, point), code, inspected_on, inspectors, condition, threats_summary, findings, actions,
         int(followup_needed), photo_count, flagged_photos, site_version, recorded_at, recorded_by))
    _touch_contents(conn, INSPECTIONS, point, recorded_at)
    return cur.lastrowid


def insert_threat(conn: sqlite3.Connection, inspection_id: int, threat: str, severity: str, note: str | None) -> None:
    conn.execute(f"INSERT INTO {THREATS} (inspection_id, threat, severity, note) VALUES (?,?,?,?)",
                 (inspection_id, threat, severity, note))


def insert_track(conn: sqlite3.Connection, *, inspection_id: int, code: str, inspected_on: str, geom: BaseGeometry,
                 name: str | None, length_m: float, point_count: int, started_at: str | None,
                 ended_at: str | None, when: str) -> int:
    cur = conn.execute(
        f"INSERT INTO {TRACKS} (geom, inspection_id, code, inspected_on, name, length_m, point_count, started_at, "
        "ended_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (geometry_value(conn, geom), inspection_id, code, inspected_on, name, length_m, point_count, started_at,
         ended_at))
    _touch_contents(conn, TRACKS, geom, when)
    return cur.lastrowid


def _inspection(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["point"] = decode_geometry(d.pop("geom"))
    d["followup_needed"] = bool(d["followup_needed"])
    return d


def get_inspection(conn: sqlite3.Connection, inspection_id: int) -> dict[str, Any] | None:
    r = conn.execute(f"SELECT * FROM {INSPECTIONS} WHERE fid = ?", (inspection_id,)).fetchone()
    return None if r is None else _inspection(r)


def list_inspections(conn: sqlite3.Connection, code: str) -> list[dict[str, Any]]:
    return [_inspection(r) for r in conn.execute(
        f"SELECT * FROM {INSPECTIONS} WHERE code = ? ORDER BY inspected_on, fid", (code,))]


def threats_of(conn: sqlite3.Connection, inspection_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in inspection_ids}
    if not inspection_ids:
        return out
    marks = ",".join("?" * len(inspection_ids))
    for r in conn.execute(f"SELECT inspection_id, threat, severity, note FROM {THREATS} WHERE inspection_id IN ({marks}) "
                          "ORDER BY fid", inspection_ids):
        out[r["inspection_id"]].append({"threat": r["threat"], "severity": r["severity"], "note": r["note"]})
    return out


def all_inspections(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every inspection record (for the staff feature collection), oldest first."""
    return [_inspection(r) for r in conn.execute(f"SELECT * FROM {INSPECTIONS} ORDER BY fid")]


def all_tracks(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every patrol track with its geometry (for the staff feature collection), oldest first."""
    out = []
    for r in conn.execute(f"SELECT * FROM {TRACKS} ORDER BY fid"):
        d = dict(r)
        d["geom"] = decode_geometry(d["geom"])
        out.append(d)
    return out


def track_of(conn: sqlite3.Connection, inspection_id: int) -> dict[str, Any] | None:
    r = conn.execute(f"SELECT * FROM {TRACKS} WHERE inspection_id = ?", (inspection_id,)).fetchone()
    if r is None:
        return None
    d = dict(r)
    d["geom"] = decode_geometry(d["geom"])
    return d


def tracks_of(conn: sqlite3.Connection, inspection_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not inspection_ids:
        return {}
    marks = ",".join("?" * len(inspection_ids))
    out = {}
    for r in conn.execute(f"SELECT fid, inspection_id, name, length_m, point_count, started_at, ended_at FROM {TRACKS} "
                          f"WHERE inspection_id IN ({marks})", inspection_ids):
        out[r["inspection_id"]] = dict(r)
    return out


def last_inspections(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """The latest inspection of every inspected site: code -> {fid, inspected_on, condition}."""
    rows = conn.execute(
        f"SELECT i.code, i.fid, i.inspected_on, i.condition FROM {INSPECTIONS} i "
        f"WHERE i.fid = (SELECT j.fid FROM {INSPECTIONS} j WHERE j.code = i.code "
        "ORDER BY j.inspected_on DESC, j.fid DESC LIMIT 1)").fetchall()
    return {r["code"]: dict(r) for r in rows}


# --------------------------------------------------------------------------------------------------------------------
# Photos
# --------------------------------------------------------------------------------------------------------------------
def insert_photo(conn: sqlite3.Connection, *, sha256: str, inspection_id: int | None, report_id: int | None,
                 original_name: str | None, media_type: str, extension: str, width: int, height: int,
                 size_bytes: int, taken_at: str | None, gps_lon: float | None, gps_lat: float | None,
                 distance_m: float | None, flags: list[str], flag_message: str | None, created_at: str,
                 marker_id: int | None = None, rescue_id: int | None = None) -> int:
    owner = {"marker_id": marker_id} if marker_id is not None else {"rescue_id": rescue_id} if rescue_id is not None \
        else {}
    cols = ", ".join(owner)
    cur = conn.execute(
        f"INSERT INTO {PHOTOS} (sha256, inspection_id, report_id, original_name, media_type, extension, width, height, "
        f"size_bytes, taken_at, gps_lon, gps_lat, distance_m, flags, flag_message, created_at{', ' + cols if cols else ''})"
        f" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?{',?' * len(owner)})",
        (sha256, inspection_id, report_id, original_name, media_type, extension, width, height, size_bytes, taken_at,
         gps_lon, gps_lat, distance_m, ",".join(flags) or None, flag_message, created_at, *owner.values()))
    return cur.lastrowid


def _photo(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["flags"] = [f for f in (d["flags"] or "").split(",") if f]
    return d


def photos_of(conn: sqlite3.Connection, *, inspection_id: int | None = None, report_id: int | None = None,
              marker_id: int | None = None, rescue_id: int | None = None) -> list[dict[str, Any]]:
    column, value = next((c, v) for c, v in (("inspection_id", inspection_id), ("report_id", report_id),
                                              ("marker_id", marker_id), ("rescue_id", rescue_id)) if v is not None)
    return [_photo(r) for r in conn.execute(f"SELECT * FROM {PHOTOS} WHERE {column} = ? ORDER BY fid", (value,))]


def photos_by_sha(conn: sqlite3.Connection, sha256: str) -> list[dict[str, Any]]:
    return [_photo(r) for r in conn.execute(f"SELECT * FROM {PHOTOS} WHERE sha256 = ? ORDER BY fid", (sha256,))]


def photo_file_names(conn: sqlite3.Connection) -> dict[str, str]:
    """sha256 -> extension of every stored photo (to compare with the files on disk)."""
    return {r[0]: r[1] for r in conn.execute(f"SELECT DISTINCT sha256, extension FROM {PHOTOS}")}


# --------------------------------------------------------------------------------------------------------------------
# Follow-ups
# --------------------------------------------------------------------------------------------------------------------
def insert_followup(conn: sqlite3.Connection, *, code: str, description: str, due_on: str, created_at: str,
                    created_by: str, inspection_id: int | None = None, report_id: int | None = None) -> int:
    cur = conn.execute(
        f"INSERT INTO {FOLLOWUPS} (code, description, due_on, created_at, created_by, inspection_id, report_id) "
        "VALUES (?,?,?,?,?,?,?)", (code, description, due_on, created_at, created_by, inspection_id, report_id))
    return cur.lastrowid


def get_followup(conn: sqlite3.Connection, followup_id: int) -> dict[str, Any] | None:
    return _row(conn.execute(f"SELECT * FROM {FOLLOWUPS} WHERE fid = ?", (followup_id,)).fetchone())


def list_followups(conn: sqlite3.Connection, *, code: str | None = None, status: str | None = None,
                   inspection_id: int | None = None) -> list[dict[str, Any]]:
    clause, params = where(("code = ?", code), ("status = ?", status), ("inspection_id = ?", inspection_id))
    return [dict(r) for r in conn.execute(f"SELECT * FROM {FOLLOWUPS}{clause} ORDER BY due_on, fid", params)]


def close_followup(conn: sqlite3.Connection, followup_id: int, *, closed_at: str, closed_by: str, note: str | None,
                   inspection_id: int | None) -> bool:
    cur = conn.execute(
        f"UPDATE {FOLLOWUPS} SET status = 'closed', closed_at = ?, closed_by = ?, closing_note = ?, "
        "closed_by_inspection = ? WHERE fid = ? AND status = 'open'",
        (closed_at, closed_by, note, inspection_id, followup_id))
    return cur.rowcount == 1
