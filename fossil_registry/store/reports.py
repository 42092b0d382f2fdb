"""Public reports: finds or damage reported by anyone, and how they were triaged.

* ``public_reports`` (features, Point, registered in the GeoPackage): what a reporter submitted, never changed, and
  its triage state, which goes from new to accepted/dismissed once;
* ``report_contacts``: reporters' contact data; not registered, and listed in PRIVATE_TABLES so exports drop it.

The photos attached to a report are evidence photos (store/inspections.py).
"""
from __future__ import annotations

import sqlite3
from typing import Any

from shapely.geometry.base import BaseGeometry

from ..vocab import ReportKind, ReportStatus
from .dialect import geometry_value
from .gpkg import decode_geometry, where
from .sites import touch_contents
from .tables import (BIGINT, DATE, DATETIME, INT, NOT_NULL, POINT, PRIMARY_KEY, REAL, TEXT, UNIQUE, Index, Layer,
                     Refuse, Table, col, ref)

REPORTS = "public_reports"
CONTACTS = "report_contacts"

REPORT_KINDS = ReportKind.values()
REPORT_STATES = ReportStatus.values()

PRIVATE_TABLES: tuple[str, ...] = (CONTACTS,)
# Personal data removed from shareable exports (store.backup_to): what reporters typed (people put phone numbers in
# it) and the receipts (each one opens its report's status page). The reported place itself stays: it is where a find
# or damage is. Where a reporter's phone took a photo is scrubbed with the photos (store/inspections.py).
SCRUB = (
    (REPORTS, f"UPDATE {REPORTS} SET description = '(withheld from shareable exports)', receipt = 'withheld-' || fid"),
)

REPORTS_TABLE = Table(REPORTS, (
    col("geom", POINT, NOT_NULL), col("receipt", TEXT, NOT_NULL, UNIQUE),
    col("kind", TEXT, NOT_NULL, check=ReportKind.check_sql("kind")), col("description", TEXT, NOT_NULL),
    col("observed_on", DATE), col("submitted_at", DATETIME, NOT_NULL), col("submitted_by", TEXT, NOT_NULL),
    col("site_code"), col("site_distance_m", REAL), col("photo_count", INT, NOT_NULL, default="0"),
    col("status", TEXT, NOT_NULL, default=f"'{ReportStatus.NEW}'", check=ReportStatus.check_sql("status")),
    col("decided_at", DATETIME), col("decided_by"), col("decision_note"), col("followup_id", BIGINT),
    col("inspection_id", BIGINT),
), indexes=(Index("public_reports_status", "status, submitted_at"),),
   layer=Layer("Public reports", "Finds and damage reported by the public, with triage state"),
   rules=(Refuse(f"{REPORTS}_decided_once", "UPDATE", "a report is triaged once",
                 when=f"OLD.status != '{ReportStatus.NEW}'"),
          Refuse(f"{REPORTS}_keep_content", "UPDATE OF geom, receipt, kind, description, observed_on, submitted_at, "
                 "submitted_by, photo_count", "what a reporter submitted is never changed"),
          Refuse(f"{REPORTS}_never_deleted", "DELETE", "reports are dismissed, never deleted")))
CONTACTS_TABLE = Table(CONTACTS, (ref("report_id", REPORTS, PRIMARY_KEY, NOT_NULL), col("contact", TEXT, NOT_NULL)),
                       fid=False)
TABLES = (REPORTS_TABLE, CONTACTS_TABLE)


def insert_report(conn: sqlite3.Connection, *, point: BaseGeometry, receipt: str, kind: str, description: str,
                  observed_on: str | None, submitted_at: str, submitted_by: str, site_code: str | None,
                  site_distance_m: float | None, photo_count: int) -> int:
    cur = conn.execute(
        f"INSERT INTO {REPORTS} (geom, receipt, kind, description, observed_on, submitted_at, submitted_by, site_code, "
        "site_distance_m, photo_count) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (geometry_value(conn, point), receipt, kind, description, observed_on, submitted_at, submitted_by, site_code,
         site_distance_m, photo_count))
    touch_contents(conn, REPORTS, point, submitted_at)
    return cur.lastrowid


def insert_contact(conn: sqlite3.Connection, report_id: int, contact: str) -> None:
    conn.execute(f"INSERT INTO {CONTACTS} (report_id, contact) VALUES (?, ?)", (report_id, contact))


def contact_of(conn: sqlite3.Connection, report_id: int) -> str | None:
    r = conn.execute(f"SELECT contact FROM {CONTACTS} WHERE report_id = ?", (report_id,)).fetchone()
    return None if r is None else r[0]


def _report(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["point"] = decode_geometry(d.pop("geom"))
    return d


def get_report(conn: sqlite3.Connection, *, report_id: int | None = None,
               receipt: str | None = None) -> dict[str, Any] | None:
    if report_id is not None:
        r = conn.execute(f"SELECT * FROM {REPORTS} WHERE fid = ?", (report_id,)).fetchone()
    else:
        r = conn.execute(f"SELECT * FROM {REPORTS} WHERE receipt = ?", (receipt,)).fetchone()
    return None if r is None else _report(r)


def report_receipts(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(id, receipt) of every report."""
    return [(r[0], r[1]) for r in conn.execute(f"SELECT fid, receipt FROM {REPORTS} ORDER BY fid DESC")]


def list_reports(conn: sqlite3.Connection, *, status: str | None = None, site_code: str | None = None,
                 limit: int | None = 500) -> list[dict[str, Any]]:
    clause, params = where(("status = ?", status), ("site_code = ?", site_code))
    sql = f"SELECT * FROM {REPORTS}{clause} ORDER BY fid DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_report(r) for r in conn.execute(sql, params)]


def count_reports(conn: sqlite3.Connection) -> dict[str, int]:
    return {r[0]: r[1] for r in conn.execute(f"SELECT status, count(*) FROM {REPORTS} GROUP BY status")}


def decide_report(conn: sqlite3.Connection, report_id: int, *, status: str, decided_at: str, decided_by: str,
                  note: str | None, site_code: str | None = None, followup_id: int | None = None,
                  inspection_id: int | None = None) -> bool:
    cur = conn.execute(
        f"UPDATE {REPORTS} SET status = ?, decided_at = ?, decided_by = ?, decision_note = ?, "
        "site_code = coalesce(?, site_code), followup_id = ?, inspection_id = ? WHERE fid = ? AND status = ?",
        (status, decided_at, decided_by, note, site_code, followup_id, inspection_id, report_id, ReportStatus.NEW))
    return cur.rowcount == 1
