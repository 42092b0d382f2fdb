"""SQL of the revision workflow: proposals, their discussion thread and their attachments.

Tables (app tables, not GeoPackage layers: GIS users see the *result* of reviews in ``site_locations`` /
``site_boundaries`` / ``site_versions``; the proposals are the app's workflow state):

* ``revisions``: one row per proposal, its current content (proposed geometries as GeoPackage blobs in EPSG:4490) and
  state. Never deleted; frozen once decided (approved / rejected / withdrawn). The database itself refuses an approval
  without a reviewer or by the proposal's own author, and a rejection or change request without a reason.
* ``revision_events``: the append-only thread (submitted, amended, resubmitted, rebased, decisions, with reasons);
  submissions carry a snapshot of the content, so earlier rounds of an amended proposal are never lost.
* ``revision_attachments``: metadata of attached files; the bytes live content-addressed under
  ``<DATA_DIR>/attachments``.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from . import pg
from .dialect import for_update, geometry_value
from .gpkg import decode_geometry

DDL = """
CREATE TABLE revisions (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('change','new_site','retire','restore')),
  site_code TEXT, base_version INTEGER CHECK (base_version IS NULL OR base_version >= 1),
  status TEXT NOT NULL CHECK (status IN ('submitted','changes_requested','approved','rejected','withdrawn')),
  author TEXT NOT NULL, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  round INTEGER NOT NULL DEFAULT 1 CHECK (round >= 1),
  reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
  method TEXT CHECK (method IS NULL OR method IN ('rtk','handheld_gnss','phone_map','digitised','other')),
  accuracy_m REAL CHECK (accuracy_m IS NULL OR accuracy_m > 0), survey_date DATE,
  location BLOB, boundary_action TEXT NOT NULL DEFAULT 'keep' CHECK (boundary_action IN ('keep','set','remove')),
  boundary BLOB, properties TEXT NOT NULL DEFAULT '{}', input TEXT NOT NULL DEFAULT '{}',
  warnings TEXT NOT NULL DEFAULT '[]', metrics TEXT NOT NULL DEFAULT '{}', restore_version INTEGER,
  reviewer TEXT, decided_at DATETIME, decision_comment TEXT, applied_version INTEGER,
  CHECK (kind = 'new_site' OR (site_code IS NOT NULL AND base_version IS NOT NULL)),
  CHECK (boundary_action != 'set' OR boundary IS NOT NULL),
  CHECK (status != 'approved' OR (reviewer IS NOT NULL AND reviewer != author AND applied_version IS NOT NULL)),
  CHECK (status NOT IN ('rejected','changes_requested') OR length(trim(coalesce(decision_comment, ''))) > 0));
CREATE INDEX revisions_status ON revisions (status, updated_at);
CREATE INDEX revisions_site ON revisions (site_code);
CREATE INDEX revisions_author ON revisions (author, status);
CREATE TRIGGER revisions_are_never_deleted BEFORE DELETE ON revisions
  BEGIN SELECT RAISE(ABORT, 'proposals are never deleted: withdraw or reject them'); END;
CREATE TRIGGER revisions_decided_are_frozen BEFORE UPDATE ON revisions
  WHEN OLD.status IN ('approved','rejected','withdrawn')
  BEGIN SELECT RAISE(ABORT, 'a decided proposal cannot change'); END;

CREATE TABLE revision_events (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  revision_id INTEGER NOT NULL REFERENCES revisions(fid), at DATETIME NOT NULL, actor TEXT NOT NULL,
  event TEXT NOT NULL, comment TEXT, detail TEXT);
CREATE INDEX revision_events_revision ON revision_events (revision_id, fid);
CREATE TRIGGER revision_events_append_only_update BEFORE UPDATE ON revision_events
  BEGIN SELECT RAISE(ABORT, 'the review thread is append-only'); END;
CREATE TRIGGER revision_events_append_only_delete BEFORE DELETE ON revision_events
  BEGIN SELECT RAISE(ABORT, 'the review thread is append-only'); END;

CREATE TABLE revision_attachments (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  revision_id INTEGER NOT NULL REFERENCES revisions(fid), sha256 TEXT NOT NULL, filename TEXT NOT NULL,
  content_type TEXT NOT NULL, size INTEGER NOT NULL CHECK (size >= 0), created_at DATETIME NOT NULL,
  uploaded_by TEXT NOT NULL);
CREATE INDEX revision_attachments_revision ON revision_attachments (revision_id);
CREATE INDEX revision_attachments_sha ON revision_attachments (sha256);
CREATE TRIGGER revision_attachments_append_only_delete BEFORE DELETE ON revision_attachments
  BEGIN SELECT RAISE(ABORT, 'attachments are never deleted'); END;
"""

PG_DDL = f"""
CREATE TABLE revisions ({pg.identity()},
  kind text NOT NULL CHECK (kind IN ('change','new_site','retire','restore')),
  site_code text, base_version integer CHECK (base_version IS NULL OR base_version >= 1),
  status text NOT NULL CHECK (status IN ('submitted','changes_requested','approved','rejected','withdrawn')),
  author text NOT NULL, created_at text NOT NULL, updated_at text NOT NULL,
  round integer NOT NULL DEFAULT 1 CHECK (round >= 1),
  reason text NOT NULL CHECK (length(trim(reason)) > 0),
  method text CHECK (method IS NULL OR method IN ('rtk','handheld_gnss','phone_map','digitised','other')),
  accuracy_m double precision CHECK (accuracy_m IS NULL OR accuracy_m > 0), survey_date text,
  location geometry(Point, {pg.SRS_ID}),
  boundary_action text NOT NULL DEFAULT 'keep' CHECK (boundary_action IN ('keep','set','remove')),
  boundary geometry(MultiPolygon, {pg.SRS_ID}), properties text NOT NULL DEFAULT '{{}}',
  input text NOT NULL DEFAULT '{{}}', warnings text NOT NULL DEFAULT '[]', metrics text NOT NULL DEFAULT '{{}}',
  restore_version integer, reviewer text, decided_at text, decision_comment text, applied_version integer,
  CHECK (kind = 'new_site' OR (site_code IS NOT NULL AND base_version IS NOT NULL)),
  CHECK (boundary_action != 'set' OR boundary IS NOT NULL),
  CHECK (status != 'approved' OR (reviewer IS NOT NULL AND reviewer != author AND applied_version IS NOT NULL)),
  CHECK (status NOT IN ('rejected','changes_requested') OR length(trim(coalesce(decision_comment, ''))) > 0));
CREATE INDEX revisions_status ON revisions (status, updated_at);
CREATE INDEX revisions_site ON revisions (site_code);
CREATE INDEX revisions_author ON revisions (author, status);
{pg.spatial_index("revisions", "location")}{pg.spatial_index("revisions", "boundary")}
{pg.refuse("revisions_are_never_deleted", "revisions", "proposals are never deleted: withdraw or reject them",
           events="DELETE")}
{pg.refuse("revisions_decided_are_frozen", "revisions", "a decided proposal cannot change", events="UPDATE",
           when="OLD.status IN ('approved','rejected','withdrawn')")}

CREATE TABLE revision_events ({pg.identity()},
  revision_id bigint NOT NULL REFERENCES revisions(fid), at text NOT NULL, actor text NOT NULL,
  event text NOT NULL, comment text, detail text);
CREATE INDEX revision_events_revision ON revision_events (revision_id, fid);
{pg.append_only("revision_events", "the review thread is append-only")}

CREATE TABLE revision_attachments ({pg.identity()},
  revision_id bigint NOT NULL REFERENCES revisions(fid), sha256 text NOT NULL, filename text NOT NULL,
  content_type text NOT NULL, size bigint NOT NULL CHECK (size >= 0), created_at text NOT NULL,
  uploaded_by text NOT NULL);
CREATE INDEX revision_attachments_revision ON revision_attachments (revision_id);
CREATE INDEX revision_attachments_sha ON revision_attachments (sha256);
{pg.refuse("revision_attachments_append_only_delete", "revision_attachments", "attachments are never deleted",
           events="DELETE")}
"""

# Nothing private: proposals and their reasons are part of the record that exports carry (site_versions.revision_id
# points at them). Accounts stay out of exports through the core's PRIVATE_TABLES.
PRIVATE_TABLES: tuple[str, ...] = ()

OPEN_STATUSES = ("submitted", "changes_requested")
_JSON_FIELDS = ("properties", "input", "warnings", "metrics")
_GEOMETRY_FIELDS = ("location", "boundary")
_COLUMNS = ("kind", "site_code", "base_version", "status", "author", "created_at", "updated_at", "round", "reason",
            "method", "accuracy_m", "survey_date", "location", "boundary_action", "boundary", "properties", "input",
            "warnings", "metrics", "restore_version", "reviewer", "decided_at", "decision_comment", "applied_version",
            "feature_kind")
FEATURE_KINDS = ("site", "section")


def add_feature_kind(conn: sqlite3.Connection) -> None:
    """Schema step: a proposal names the kind of registered feature it concerns (a site or a stratigraphic section),
    so that a new-feature proposal (no code yet) says what it registers. ``site_code`` then holds the code of a
    feature of that kind; ``kind`` 'new_site' means a new feature of the proposal's feature_kind."""
    conn.execute("ALTER TABLE revisions ADD COLUMN feature_kind TEXT NOT NULL DEFAULT 'site' "
                 "CHECK (feature_kind IN ('site','section'))")


# PostGIS: the same column, as the same ALTER TABLE; and the proposed geometry is a section's line or a site's point
# (the GeoPackage's blob column holds either already), still in SRID 4490 with its GiST index.
PG_FEATURE_KIND_DDL = ("ALTER TABLE revisions ADD COLUMN feature_kind text NOT NULL DEFAULT 'site' "
                       "CHECK (feature_kind IN ('site','section'));\n"
                       f"ALTER TABLE revisions ALTER COLUMN location TYPE geometry(Geometry, {pg.SRS_ID});\n")


@dataclass
class RevisionRow:
    id: int
    kind: str
    site_code: str | None
    base_version: int | None
    status: str
    author: str
    created_at: str
    updated_at: str
    round: int
    reason: str
    method: str | None
    accuracy_m: float | None
    survey_date: str | None
    location: Any
    boundary_action: str
    boundary: Any
    properties: dict
    input: dict
    warnings: list
    metrics: dict
    restore_version: int | None
    reviewer: str | None
    decided_at: str | None
    decision_comment: str | None
    applied_version: int | None
    feature_kind: str = "site"


def _encode(conn, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(_COLUMNS)
    if unknown:
        raise ValueError(f"unknown revision column(s) {sorted(unknown)}")
    out = dict(fields)
    for key in _JSON_FIELDS:
        if key in out:
            out[key] = json.dumps(out[key], ensure_ascii=False, sort_keys=True)
    for key in _GEOMETRY_FIELDS:
        if key in out:
            out[key] = geometry_value(conn, out[key])
    return out


def _row(r: sqlite3.Row) -> RevisionRow:
    values = {k: r[k] for k in _COLUMNS}
    for key in _JSON_FIELDS:
        values[key] = json.loads(values[key]) if values[key] else ({} if key != "warnings" else [])
    for key in _GEOMETRY_FIELDS:
        values[key] = decode_geometry(values[key])
    return RevisionRow(id=r["fid"], **values)


def insert_revision(conn: sqlite3.Connection, **fields) -> int:
    values = _encode(conn, fields)
    cols = list(values)
    cur = conn.execute(f"INSERT INTO revisions ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                       [values[c] for c in cols])
    return cur.lastrowid


def update_revision(conn: sqlite3.Connection, revision_id: int, **fields) -> None:
    values = _encode(conn, fields)
    if not values:
        return
    sets = ", ".join(f"{c} = ?" for c in values)
    if conn.execute(f"UPDATE revisions SET {sets} WHERE fid = ?", [*values.values(), revision_id]).rowcount != 1:
        raise LookupError(revision_id)


def get_revision(conn: sqlite3.Connection, revision_id: int) -> RevisionRow | None:
    r = conn.execute("SELECT * FROM revisions WHERE fid = ?" + for_update(conn), (revision_id,)).fetchone()
    return None if r is None else _row(r)


def _where(status=None, site=None, author=None, kind=None, exclude_author=None, ids=None,
           feature_kind=None) -> tuple[str, list]:
    where, params = [], []
    for column, value in (("status", status), ("kind", kind), ("feature_kind", feature_kind)):
        if value:
            values = [value] if isinstance(value, str) else list(value)
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params += values
    if site:
        where.append("site_code = ?")
        params.append(site)
    if author:
        where.append("author = ?")
        params.append(author)
    if exclude_author:
        where.append("author != ?")
        params.append(exclude_author)
    if ids is not None:
        where.append(f"fid IN ({', '.join('?' for _ in ids) or 'NULL'})")
        params += list(ids)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def list_revisions(conn: sqlite3.Connection, *, status=None, site: str | None = None, author: str | None = None,
                   kind=None, exclude_author: str | None = None, ids=None, limit: int = 200,
                   offset: int = 0, oldest_first: bool = False, feature_kind=None) -> list[RevisionRow]:
    where, params = _where(status, site, author, kind, exclude_author, ids, feature_kind)
    order = "ASC" if oldest_first else "DESC"
    sql = f"SELECT * FROM revisions{where} ORDER BY updated_at {order}, fid {order} LIMIT ? OFFSET ?"
    return [_row(r) for r in conn.execute(sql, [*params, int(limit), int(offset)])]


def count_revisions(conn: sqlite3.Connection, *, status=None, site=None, author=None, kind=None,
                    exclude_author=None) -> int:
    where, params = _where(status, site, author, kind, exclude_author)
    return conn.execute(f"SELECT count(*) FROM revisions{where}", params).fetchone()[0]


def count_by_status(conn: sqlite3.Connection, *, author: str | None = None,
                    exclude_author: str | None = None) -> dict[str, int]:
    where, params = _where(author=author, exclude_author=exclude_author)
    return {r[0]: r[1] for r in conn.execute(f"SELECT status, count(*) FROM revisions{where} GROUP BY status", params)}


# ---------------------------------------------------------------------------------------------------- the thread
def append_event(conn: sqlite3.Connection, revision_id: int, *, at: str, actor: str, event: str,
                 comment: str | None = None, detail: dict | None = None) -> None:
    conn.execute("INSERT INTO revision_events (revision_id, at, actor, event, comment, detail) VALUES (?,?,?,?,?,?)",
                 (revision_id, at, actor, event, comment,
                  json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail is not None else None))


def list_events(conn: sqlite3.Connection, revision_id: int) -> list[dict]:
    out = []
    for r in conn.execute("SELECT * FROM revision_events WHERE revision_id = ? ORDER BY fid", (revision_id,)):
        d = dict(r)
        d["detail"] = json.loads(d["detail"]) if d["detail"] else None
        out.append(d)
    return out


def recent_decisions(conn: sqlite3.Connection, author: str, limit: int = 10) -> list[dict]:
    """The latest reviewer decisions on an author's proposals (their in-app notifications)."""
    rows = conn.execute(
        "SELECT e.*, r.site_code, r.kind, r.status FROM revision_events e JOIN revisions r ON r.fid = e.revision_id "
        "WHERE r.author = ? AND e.event IN ('approved','rejected','changes_requested') ORDER BY e.fid DESC LIMIT ?",
        (author, int(limit))).fetchall()
    return [{**dict(r), "detail": json.loads(r["detail"]) if r["detail"] else None} for r in rows]


# ---------------------------------------------------------------------------------------------------- attachments
def insert_attachment(conn: sqlite3.Connection, revision_id: int, *, sha256: str, filename: str, content_type: str,
                      size: int, created_at: str, uploaded_by: str) -> int:
    cur = conn.execute(
        "INSERT INTO revision_attachments (revision_id, sha256, filename, content_type, size, created_at, uploaded_by)"
        " VALUES (?,?,?,?,?,?,?)", (revision_id, sha256, filename, content_type, size, created_at, uploaded_by))
    return cur.lastrowid


def list_attachments(conn: sqlite3.Connection, revision_id: int) -> list[dict]:
    return [dict(r) for r in conn.execute(
        "SELECT * FROM revision_attachments WHERE revision_id = ? ORDER BY fid", (revision_id,))]


def get_attachment(conn: sqlite3.Connection, revision_id: int, attachment_id: int) -> dict | None:
    r = conn.execute("SELECT * FROM revision_attachments WHERE revision_id = ? AND fid = ?",
                     (revision_id, attachment_id)).fetchone()
    return None if r is None else dict(r)


def attachment_shas(conn: sqlite3.Connection) -> set[str]:
    """The content addresses of every attachment file the proposals reference."""
    return {r[0] for r in conn.execute("SELECT DISTINCT sha256 FROM revision_attachments")}
