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

from ..vocab import Condition, Severity, Threat
from .dialect import backend, geometry_value
from .gpkg import decode_geometry, where
from .reports import REPORTS
from .sites import LOCATIONS, touch_contents
from .tables import (BIGINT, BOOL, DATE, DATETIME, INT, MULTILINESTRING, NOT_NULL, POINT, REAL, TEXT, UNIQUE, Index,
                     Layer, Refuse, Table, append_only, col, ref)

INSPECTIONS = "inspections"
TRACKS = "patrol_tracks"
THREATS = "inspection_threats"
FOLLOWUPS = "inspection_followups"
PHOTOS = "evidence_photos"

CONDITIONS = Condition.values()
THREAT_CODES = Threat.values()
SEVERITIES = Severity.values()

# Personal data removed from shareable exports (store.backup_to): where and with what file name a reporter's phone took
# a photo.
SCRUB = (
    (PHOTOS, f"UPDATE {PHOTOS} SET gps_lon = NULL, gps_lat = NULL, distance_m = NULL, original_name = NULL, "
             "taken_at = NULL, flags = NULL, flag_message = NULL WHERE report_id IS NOT NULL"),
)


def _evidence(table: str, what: str) -> Refuse:
    return append_only(table, f"{what} are evidence: append-only")


INSPECTIONS_TABLE = Table(INSPECTIONS, (
    col("geom", POINT), col("code", TEXT, NOT_NULL, references=f"{LOCATIONS}(code)"),
    col("inspected_on", DATE, NOT_NULL), col("inspectors", TEXT, NOT_NULL),
    col("condition", TEXT, NOT_NULL, check=Condition.check_sql("condition")), col("threats"), col("findings"),
    col("actions"), col("followup_needed", BOOL, NOT_NULL, default="0"), col("photo_count", INT, NOT_NULL, default="0"),
    col("flagged_photos", INT, NOT_NULL, default="0"), col("site_version", INT, NOT_NULL),
    col("recorded_at", DATETIME, NOT_NULL), col("recorded_by", TEXT, NOT_NULL),
), indexes=(Index("inspections_code_date", "code, inspected_on"),),
   layer=Layer("Site inspections", "Inspection records (point: where the inspection was made)"),
   rules=(_evidence(INSPECTIONS, "inspection records"),))

THREATS_TABLE = Table(THREATS, (
    ref("inspection_id", INSPECTIONS, NOT_NULL), col("threat", TEXT, NOT_NULL, check=Threat.check_sql("threat")),
    col("severity", TEXT, NOT_NULL, check=Severity.check_sql("severity")), col("note"),
), constraints=("UNIQUE (inspection_id, threat)",),
   layer=Layer("Inspection threats", "Threats observed during inspections, with severity"),
   rules=(_evidence(THREATS, "inspection threats"),))

TRACKS_TABLE = Table(TRACKS, (
    col("geom", MULTILINESTRING, NOT_NULL), ref("inspection_id", INSPECTIONS, NOT_NULL, UNIQUE),
    col("code", TEXT, NOT_NULL), col("inspected_on", DATE, NOT_NULL), col("name"), col("length_m", REAL, NOT_NULL),
    col("point_count", INT, NOT_NULL), col("started_at", DATETIME), col("ended_at", DATETIME),
), layer=Layer("Patrol tracks", "GPX tracks walked during inspections"), rules=(_evidence(TRACKS, "patrol tracks"),))

FOLLOWUPS_TABLE = Table(FOLLOWUPS, (
    col("code", TEXT, NOT_NULL), col("description", TEXT, NOT_NULL), col("due_on", DATE, NOT_NULL),
    col("created_at", DATETIME, NOT_NULL), col("created_by", TEXT, NOT_NULL), ref("inspection_id", INSPECTIONS),
    ref("report_id", REPORTS), col("status", TEXT, NOT_NULL, default="'open'", check="status IN ('open','closed')"),
    col("closed_at", DATETIME), col("closed_by"), col("closing_note"), ref("closed_by_inspection", INSPECTIONS),
), indexes=(Index("inspection_followups_open", "status, due_on"),),
   layer=Layer("Inspection follow-ups", "Follow-up actions from inspections and public reports"),
   rules=(Refuse(f"{FOLLOWUPS}_closed_once", "UPDATE", "a follow-up is closed once", when="OLD.status != 'open'"),
          Refuse(f"{FOLLOWUPS}_never_deleted", "DELETE", "follow-ups are closed, never deleted")))

_ONE_OWNER = "(inspection_id IS NULL) != (report_id IS NULL)"
PHOTOS_TABLE = Table(PHOTOS, (
    col("sha256", TEXT, NOT_NULL), ref("inspection_id", INSPECTIONS), ref("report_id", REPORTS), col("original_name"),
    col("media_type", TEXT, NOT_NULL), col("extension", TEXT, NOT_NULL), col("width", INT, NOT_NULL),
    col("height", INT, NOT_NULL), col("size_bytes", BIGINT, NOT_NULL), col("taken_at"), col("gps_lon", REAL),
    col("gps_lat", REAL), col("distance_m", REAL), col("flags"), col("flag_message"),
    col("created_at", DATETIME, NOT_NULL),
), constraints=(f"CHECK ({_ONE_OWNER})",),
   indexes=(Index("evidence_photos_sha", "sha256"), Index("evidence_photos_inspection", "inspection_id"),
            Index("evidence_photos_report", "report_id")),
   layer=Layer("Evidence photos", "Photos of inspections and reports (files content-addressed by sha256 in the data "
               "directory)"),
   rules=(_evidence(PHOTOS, "evidence photos"),))

TABLES = (INSPECTIONS_TABLE, THREATS_TABLE, TRACKS_TABLE, FOLLOWUPS_TABLE, PHOTOS_TABLE)


def photos_of_markers_and_rescues(conn: sqlite3.Connection) -> None:
    """Schema step: an evidence photo may also show a protection marker (store/markers.py) or a rescue case
    (store/rescues.py). Two columns are added and the CHECK that a photo belongs to exactly one record is widened
    to them (every existing row satisfies the wider rule). The rescue cases' table comes with the next step
    ("rescues"): where the database checks that a referenced table exists (PostgreSQL), that step adds the reference
    of rescue_id."""
    b = backend(conn)
    rescue = col("rescue_id", BIGINT) if b.checks_references_exist else ref("rescue_id", "rescue_cases")
    b.run(conn, b.add_column(PHOTOS, ref("marker_id", "protection_markers")) + b.add_column(PHOTOS, rescue))
    b.replace_check(conn, PHOTOS, _ONE_OWNER, b.exactly_one(("inspection_id", "report_id", "marker_id", "rescue_id")),
                    name=f"{PHOTOS}_one_owner")
    b.run(conn, f"CREATE INDEX evidence_photos_marker ON {PHOTOS} (marker_id);\n"
                f"CREATE INDEX evidence_photos_rescue ON {PHOTOS} (rescue_id);\n")


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
    touch_contents(conn, INSPECTIONS, point, recorded_at)
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
    touch_contents(conn, TRACKS, geom, when)
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
