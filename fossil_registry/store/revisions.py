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

from ..vocab import SurveyMethod
from .dialect import backend, for_update, geometry_value
from .gpkg import decode_geometry
from .tables import (BIGINT, DATE, DATETIME, GEOMETRY, INT, MULTIPOLYGON, NOT_NULL, POINT, REAL, TEXT, Index, Refuse,
                     Table, append_only, col, in_list, ref)

KINDS = ("change", "new_site", "retire", "restore")
STATUSES = ("submitted", "changes_requested", "approved", "rejected", "withdrawn")
DECIDED = ("approved", "rejected", "withdrawn")
BOUNDARY_ACTIONS = ("keep", "set", "remove")

REVISIONS_TABLE = Table("revisions", (
    col("kind", TEXT, NOT_NULL, check=f"kind IN {in_list(KINDS)}"), col("site_code"),
    col("base_version", INT, check="base_version IS NULL OR base_version >= 1"),
    col("status", TEXT, NOT_NULL, check=f"status IN {in_list(STATUSES)}"), col("author", TEXT, NOT_NULL),
    col("created_at", DATETIME, NOT_NULL), col("updated_at", DATETIME, NOT_NULL),
    col("round", INT, NOT_NULL, default="1", check="round >= 1"),
    col("reason", TEXT, NOT_NULL, check="length(trim(reason)) > 0"),
    col("method", TEXT, check=f"method IS NULL OR {SurveyMethod.check_sql('method')}"),
    col("accuracy_m", REAL, check="accuracy_m IS NULL OR accuracy_m > 0"), col("survey_date", DATE),
    col("location", POINT),
    col("boundary_action", TEXT, NOT_NULL, default="'keep'", check=f"boundary_action IN {in_list(BOUNDARY_ACTIONS)}"),
    col("boundary", MULTIPOLYGON), col("properties", TEXT, NOT_NULL, default="'{}'"),
    col("input", TEXT, NOT_NULL, default="'{}'"), col("warnings", TEXT, NOT_NULL, default="'[]'"),
    col("metrics", TEXT, NOT_NULL, default="'{}'"), col("restore_version", INT), col("reviewer"),
    col("decided_at", DATETIME), col("decision_comment"), col("applied_version", INT),
), constraints=(
    "CHECK (kind = 'new_site' OR (site_code IS NOT NULL AND base_version IS NOT NULL))",
    "CHECK (boundary_action != 'set' OR boundary IS NOT NULL)",
    "CHECK (status != 'approved' OR (reviewer IS NOT NULL AND reviewer != author AND applied_version IS NOT NULL))",
    "CHECK (status NOT IN ('rejected','changes_requested') OR length(trim(coalesce(decision_comment, ''))) > 0)",
), indexes=(Index("revisions_status", "status, updated_at"), Index("revisions_site", "site_code"),
            Index("revisions_author", "author, status")),
   rules=(Refuse("revisions_are_never_deleted", "DELETE", "proposals are never deleted: withdraw or reject them"),
          Refuse("revisions_decided_are_frozen", "UPDATE", "a decided proposal cannot change",
                 when=f"OLD.status IN {in_list(DECIDED)}")))

EVENTS_TABLE = Table("revision_events", (
    ref("revision_id", "revisions", NOT_NULL), col("at", DATETIME, NOT_NULL), col("actor", TEXT, NOT_NULL),
    col("event", TEXT, NOT_NULL), col("comment"), col("detail"),
), indexes=(Index("revision_events_revision", "revision_id, fid"),),
   rules=(append_only("revision_events", "the review thread is append-only"),))

ATTACHMENTS_TABLE = Table("revision_attachments", (
    ref("revision_id", "revisions", NOT_NULL), col("sha256", TEXT, NOT_NULL), col("filename", TEXT, NOT_NULL),
    col("content_type", TEXT, NOT_NULL), col("size", BIGINT, NOT_NULL, check="size >= 0"),
    col("created_at", DATETIME, NOT_NULL), col("uploaded_by", TEXT, NOT_NULL),
), indexes=(Index("revision_attachments_revision", "revision_id"), Index("revision_attachments_sha", "sha256")),
   rules=(Refuse("revision_attachments_append_only_delete", "DELETE", "attachments are never deleted"),))

TABLES = (REVISIONS_TABLE, EVENTS_TABLE, ATTACHMENTS_TABLE)

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
    feature of that kind; ``kind`` 'new_site' means a new feature of the proposal's feature_kind. The proposed geometry
    is then a section's line or a site's point (a GeoPackage blob holds either already; a PostGIS column becomes any
    geometry, still in SRID 4490 with its GiST index)."""
    b = backend(conn)
    b.run(conn, b.add_column("revisions", col("feature_kind", TEXT, NOT_NULL, default="'site'",
                                              check=f"feature_kind IN {in_list(FEATURE_KINDS)}"))
          + b.change_geometry_type("revisions", "location", GEOMETRY))


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
