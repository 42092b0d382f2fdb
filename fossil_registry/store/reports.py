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

from . import pg
from .dialect import geometry_value
from .gpkg import decode_geometry, where
from .schema import _in, _register
from .sites import _touch_contents

REPORTS = "public_reports"
CONTACTS = "report_contacts"

REPORT_KINDS = ("find", "damage")
REPORT_STATES = ("new", "accepted", "dismissed")

PRIVATE_TABLES: tuple[str, ...] = (CONTACTS,)
# Personal data removed from shareable exports (store.backup_to): what reporters typed (people put phone numbers in
# it) and the receipts (each one opens its report's status page). The reported place itself stays: it is where a find
# or damage is. Where a reporter's phone took a photo is scrubbed with the photos (store/inspections.py).
SCRUB = (
    (REPORTS, f"UPDATE {REPORTS} SET description = '(withheld from shareable exports)', receipt = 'withheld-' || fid"),
)

DDL = f"""
CREATE TABLE {REPORTS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT NOT NULL,
  receipt TEXT NOT NULL UNIQUE, kind TEXT NOT NULL CHECK (kind IN {_in(REPORT_KINDS)}), description TEXT NOT NULL,
  observed_on DATE, submitted_at DATETIME NOT NULL, submitted_by TEXT NOT NULL, site_code TEXT,
  site_distance_m REAL, photo_count INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN {_in(REPORT_STATES)}),
  decided_at DATETIME, decided_by TEXT, decision_note TEXT, followup_id INTEGER, inspection_id INTEGER);
CREATE INDEX public_reports_status ON {REPORTS} (status, submitted_at);
{_register(REPORTS, "features", "Public reports", "Finds and damage reported by the public, with triage state",
           "POINT")}
CREATE TRIGGER {REPORTS}_decided_once BEFORE UPDATE ON {REPORTS} WHEN OLD.status != 'new'
  BEGIN SELECT RAISE(ABORT, 'a report is triaged once'); END;
CREATE TRIGGER {REPORTS}_keep_content BEFORE UPDATE OF geom, receipt, kind, description, observed_on, submitted_at,
  submitted_by, photo_count ON {REPORTS}
  BEGIN SELECT RAISE(ABORT, 'what a reporter submitted is never changed'); END;
CREATE TRIGGER {REPORTS}_never_deleted BEFORE DELETE ON {REPORTS}
  BEGIN SELECT RAISE(ABORT, 'reports are dismissed, never deleted'); END;

CREATE TABLE {CONTACTS} (report_id INTEGER PRIMARY KEY NOT NULL REFERENCES {REPORTS}(fid), contact TEXT NOT NULL);
"""

PG_DDL = f"""
CREATE TABLE {REPORTS} ({pg.identity()}, geom geometry(Point, {pg.SRS_ID}) NOT NULL,
  receipt text NOT NULL UNIQUE, kind text NOT NULL CHECK (kind IN {_in(REPORT_KINDS)}), description text NOT NULL,
  observed_on text, submitted_at text NOT NULL, submitted_by text NOT NULL, site_code text,
  site_distance_m double precision, photo_count integer NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'new' CHECK (status IN {_in(REPORT_STATES)}),
  decided_at text, decided_by text, decision_note text, followup_id bigint, inspection_id bigint);
CREATE INDEX public_reports_status ON {REPORTS} (status, submitted_at);
{pg.spatial_index(REPORTS)}
{pg.refuse(f"{REPORTS}_decided_once", REPORTS, "a report is triaged once", events="UPDATE",
           when="OLD.status != 'new'")}
{pg.refuse(f"{REPORTS}_keep_content", REPORTS, "what a reporter submitted is never changed",
           events="UPDATE OF geom, receipt, kind, description, observed_on, submitted_at, submitted_by, photo_count")}
{pg.refuse(f"{REPORTS}_never_deleted", REPORTS, "reports are dismissed, never deleted", events="DELETE")}

CREATE TABLE {CONTACTS} (report_id bigint PRIMARY KEY REFERENCES {REPORTS}(fid), contact text NOT NULL);
"""


def insert_report(conn: sqlite3.Connection, *, point: BaseGeometry, receipt: str, kind: str, description: str,
                  observed_on: str | None, submitted_at: str, submitted_by: str, site_code: str | None,
                  site_distance_m: float | None, photo_count: int) -> int:
    cur = conn.execute(
        f"INSERT INTO {REPORTS} (geom, receipt, kind, description, observed_on, submitted_at, submitted_by, site_code, "
        "site_distance_m, photo_count) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (geometry_value(conn, point), receipt, kind, description, observed_on, submitted_at, submitted_by, site_code,
         site_distance_m, photo_count))
    _touch_contents(conn, REPORTS, point, submitted_at)
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
        "site_code = coalesce(?, site_code), followup_id = ?, inspection_id = ? WHERE fid = ? AND status = 'new'",
        (status, decided_at, decided_by, note, site_code, followup_id, inspection_id, report_id))
    return cur.rowcount == 1
