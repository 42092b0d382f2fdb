"""SQL of the site import: files of sites loaded by admins, what each row would become, and what it became.

Tables (app tables, not GeoPackage layers):

* ``imports``: one row per uploaded file: who, when, the file's hash, the options (encoding, CRS, layer, matching), the
  field mapping, what was read (columns, CRS, encoding, notes), the state of its background job (``analysing``,
  ``ready``, ``proposing``, ``done``, ``failed``) with its progress, the worker holding it and its last heartbeat,
  and the counts of the outcome. ``generation`` grows with every new analysis (a new mapping): a worker still busy
  with an older one writes nothing.
* ``import_files``: the uploaded bytes, kept until the proposals are made (the rows are read again when the mapping
  changes), then deleted. Private: shareable exports leave these working copies out.
* ``import_rows``: one row per row of the file: its planned outcome (``new``, ``change``, ``unchanged``, ``already``,
  ``refused``) with the site and base version it matched, the proposal's fields and content key, the reason of a
  refusal and the warnings; after confirmation the result (``proposed``, ``already``, ``refused``) and the proposal
  made. A proposed row is written in the transaction of its proposal, so the pair is all there or not at all, and a
  job taken over after a restart goes on where the last one stopped.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterable

from . import pg
from .dialect import for_update, is_pg

IMPORTS = "imports"
FILES = "import_files"
ROWS = "import_rows"
STATES = ("analysing", "ready", "proposing", "done", "failed")
OUTCOMES = ("new", "change", "unchanged", "already", "refused")
RESULTS = ("proposed", "already", "refused")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ",".join(f"'{v}'" for v in values) + ")"


DDL = f"""
CREATE TABLE {IMPORTS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, created_by TEXT NOT NULL,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, filename TEXT NOT NULL, sha256 TEXT NOT NULL,
  size INTEGER NOT NULL, format TEXT NOT NULL, options TEXT NOT NULL DEFAULT '{{}}',
  mapping TEXT NOT NULL DEFAULT '{{}}', info TEXT NOT NULL DEFAULT '{{}}',
  state TEXT NOT NULL CHECK (state IN {_in(STATES)}), generation INTEGER NOT NULL DEFAULT 1,
  progress_done INTEGER NOT NULL DEFAULT 0, progress_total INTEGER NOT NULL DEFAULT 0,
  worker TEXT, heartbeat_at DATETIME, counts TEXT NOT NULL DEFAULT '{{}}', error TEXT,
  reason TEXT, confirmed_by TEXT, confirmed_at DATETIME, finished_at DATETIME);
CREATE INDEX imports_created ON {IMPORTS} (created_at);
CREATE INDEX imports_sha ON {IMPORTS} (sha256);

CREATE TABLE {FILES} (import_fid INTEGER PRIMARY KEY REFERENCES {IMPORTS}(fid), data BLOB NOT NULL);

CREATE TABLE {ROWS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  import_fid INTEGER NOT NULL REFERENCES {IMPORTS}(fid), row_no INTEGER NOT NULL, source_code TEXT, name TEXT,
  lon REAL, lat REAL, outcome TEXT NOT NULL CHECK (outcome IN {_in(OUTCOMES)}), matched_by TEXT,
  site_code TEXT, base_version INTEGER, fields TEXT, content_key TEXT, reason TEXT,
  warnings TEXT NOT NULL DEFAULT '[]', earlier_revision INTEGER,
  result TEXT CHECK (result IS NULL OR result IN {_in(RESULTS)}),
  revision_id INTEGER REFERENCES revisions(fid), result_reason TEXT, UNIQUE (import_fid, row_no),
  CHECK (result IS NOT 'proposed' OR revision_id IS NOT NULL));
CREATE INDEX import_rows_key ON {ROWS} (content_key) WHERE revision_id IS NOT NULL;
CREATE INDEX import_rows_source ON {ROWS} (source_code) WHERE revision_id IS NOT NULL;
CREATE TRIGGER {ROWS}_proposed_are_kept BEFORE DELETE ON {ROWS} WHEN OLD.revision_id IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'a row that made a proposal is part of the record'); END;
"""

# PostGIS: the same tables, CHECKs and refusal (the uploaded bytes as bytea).
PG_DDL = f"""
CREATE TABLE {IMPORTS} ({pg.identity()}, created_by text NOT NULL,
  created_at text NOT NULL, updated_at text NOT NULL, filename text NOT NULL, sha256 text NOT NULL,
  size bigint NOT NULL, format text NOT NULL, options text NOT NULL DEFAULT '{{}}',
  mapping text NOT NULL DEFAULT '{{}}', info text NOT NULL DEFAULT '{{}}',
  state text NOT NULL CHECK (state IN {_in(STATES)}), generation integer NOT NULL DEFAULT 1,
  progress_done integer NOT NULL DEFAULT 0, progress_total integer NOT NULL DEFAULT 0,
  worker text, heartbeat_at text, counts text NOT NULL DEFAULT '{{}}', error text,
  reason text, confirmed_by text, confirmed_at text, finished_at text);
CREATE INDEX imports_created ON {IMPORTS} (created_at);
CREATE INDEX imports_sha ON {IMPORTS} (sha256);

CREATE TABLE {FILES} (import_fid bigint PRIMARY KEY REFERENCES {IMPORTS}(fid), data bytea NOT NULL);

CREATE TABLE {ROWS} ({pg.identity()},
  import_fid bigint NOT NULL REFERENCES {IMPORTS}(fid), row_no integer NOT NULL, source_code text, name text,
  lon double precision, lat double precision, outcome text NOT NULL CHECK (outcome IN {_in(OUTCOMES)}),
  matched_by text, site_code text, base_version integer, fields text, content_key text, reason text,
  warnings text NOT NULL DEFAULT '[]', earlier_revision bigint,
  result text CHECK (result IS NULL OR result IN {_in(RESULTS)}),
  revision_id bigint REFERENCES revisions(fid), result_reason text, UNIQUE (import_fid, row_no),
  CHECK (result IS DISTINCT FROM 'proposed' OR revision_id IS NOT NULL));
CREATE INDEX import_rows_key ON {ROWS} (content_key) WHERE revision_id IS NOT NULL;
CREATE INDEX import_rows_source ON {ROWS} (source_code) WHERE revision_id IS NOT NULL;
{pg.refuse(f"{ROWS}_proposed_are_kept", ROWS, "a row that made a proposal is part of the record", events="DELETE",
           when="OLD.revision_id IS NOT NULL")}
"""

# The uploaded files are working copies (deleted once their proposals are made): never part of a shareable export.
PRIVATE_TABLES: tuple[str, ...] = (FILES,)

_JSON = ("options", "mapping", "info", "counts")
_COLUMNS = ("updated_at", "filename", "format", "options", "mapping", "info", "state", "generation", "progress_done",
            "progress_total", "worker", "heartbeat_at", "counts", "error", "reason", "confirmed_by", "confirmed_at",
            "finished_at")
_ROW_COLUMNS = ("row_no", "source_code", "name", "lon", "lat", "outcome", "matched_by", "site_code", "base_version",
                "fields", "content_key", "reason", "warnings", "earlier_revision")


def _import(r: sqlite3.Row | None) -> dict[str, Any] | None:
    if r is None:
        return None
    d = dict(r)
    for key in _JSON:
        d[key] = json.loads(d[key]) if d[key] else {}
    return d


def _encode(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(_COLUMNS)
    if unknown:
        raise ValueError(f"unknown import column(s) {sorted(unknown)}")
    return {k: json.dumps(v, ensure_ascii=False, sort_keys=True) if k in _JSON else v for k, v in fields.items()}


def insert_import(conn: sqlite3.Connection, *, created_by: str, created_at: str, filename: str, sha256: str,
                  data: bytes, format: str, options: dict, mapping: dict, info: dict, total: int) -> int:
    cur = conn.execute(
        f"INSERT INTO {IMPORTS} (created_by, created_at, updated_at, filename, sha256, size, format, options, mapping, "
        "info, state, progress_total) VALUES (?,?,?,?,?,?,?,?,?,?,'analysing',?)",
        (created_by, created_at, created_at, filename, sha256, len(data), format,
         json.dumps(options, ensure_ascii=False, sort_keys=True), json.dumps(mapping, ensure_ascii=False),
         json.dumps(info, ensure_ascii=False), total))
    fid = cur.lastrowid
    conn.execute(f"INSERT INTO {FILES} (import_fid, data) VALUES (?, ?)", (fid, data))
    return fid


def get_import(conn: sqlite3.Connection, fid: int) -> dict[str, Any] | None:
    """An import; inside a write transaction on PostGIS its row stays locked to commit, so that what the caller
    decides from it (not confirmed yet, still at this analysis) holds while it writes, as under BEGIN IMMEDIATE."""
    return _import(conn.execute(f"SELECT * FROM {IMPORTS} WHERE fid = ?" + for_update(conn), (fid,)).fetchone())


def list_imports(conn: sqlite3.Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT fid, created_by, created_at, updated_at, filename, size, format, state, "
                        f"progress_done, progress_total, counts, finished_at FROM {IMPORTS} ORDER BY fid DESC LIMIT ?",
                        (int(limit),)).fetchall()
    out = []
    for r in rows:
        d = dict(r)
        d["counts"] = json.loads(d["counts"]) if d["counts"] else {}
        out.append(d)
    return out


def update_import(conn: sqlite3.Connection, fid: int, *, generation: int | None = None, worker: str | None = None,
                  **fields) -> bool:
    """Change an import's columns; with ``generation`` / ``worker`` only while the import is still at that analysis
    and held by that worker (False when it is not: a newer analysis or another worker took over)."""
    values = _encode(fields)
    where, params = "fid = ?", [fid]
    if generation is not None:
        where += " AND generation = ?"
        params.append(generation)
    if worker is not None:
        where += " AND worker = ?"
        params.append(worker)
    sets = ", ".join(f"{c} = ?" for c in values)
    return conn.execute(f"UPDATE {IMPORTS} SET {sets} WHERE {where}", [*values.values(), *params]).rowcount == 1


def start_analysis(conn: sqlite3.Connection, fid: int, *, options: dict, mapping: dict, info: dict, total: int,
                   at: str) -> int:
    """A new analysis (new options or mapping): the next generation, no worker yet; returns the generation."""
    conn.execute(f"UPDATE {IMPORTS} SET options = ?, mapping = ?, info = ?, state = 'analysing', "
                 "generation = generation + 1, progress_done = 0, progress_total = ?, worker = NULL, "
                 "heartbeat_at = NULL, error = NULL, counts = '{}', updated_at = ? WHERE fid = ?",
                 (json.dumps(options, ensure_ascii=False, sort_keys=True), json.dumps(mapping, ensure_ascii=False),
                  json.dumps(info, ensure_ascii=False), total, at, fid))
    return conn.execute(f"SELECT generation FROM {IMPORTS} WHERE fid = ?", (fid,)).fetchone()[0]


def claim(conn: sqlite3.Connection, fid: int, *, worker: str, at: str, stale_before: str) -> dict[str, Any] | None:
    """Take an import's job (analysing or proposing) unless another worker reported after ``stale_before``; returns
    the import as claimed, or None."""
    updated = conn.execute(
        f"UPDATE {IMPORTS} SET worker = ?, heartbeat_at = ? WHERE fid = ? AND state IN ('analysing', 'proposing') "
        "AND (worker IS NULL OR heartbeat_at IS NULL OR heartbeat_at < ?)", (worker, at, fid, stale_before)).rowcount
    return get_import(conn, fid) if updated == 1 else None


def get_file(conn: sqlite3.Connection, fid: int) -> bytes | None:
    r = conn.execute(f"SELECT data FROM {FILES} WHERE import_fid = ?", (fid,)).fetchone()
    return None if r is None else bytes(r[0])


def drop_file(conn: sqlite3.Connection, fid: int) -> None:
    conn.execute(f"DELETE FROM {FILES} WHERE import_fid = ?", (fid,))


def replace_rows(conn: sqlite3.Connection, fid: int, rows: Iterable[dict[str, Any]]) -> None:
    """The planned outcome of every row, replacing an earlier analysis's (before anything was proposed)."""
    conn.execute(f"DELETE FROM {ROWS} WHERE import_fid = ?", (fid,))
    cols = ("import_fid",) + _ROW_COLUMNS
    conn.executemany(
        f"INSERT INTO {ROWS} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
        [(fid, *[json.dumps(r[c], ensure_ascii=False, sort_keys=True) if c in ("fields", "warnings") and
                 r.get(c) is not None else r.get(c) for c in _ROW_COLUMNS]) for r in rows])


def _row(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["fields"] = json.loads(d["fields"]) if d.get("fields") else None
    d["warnings"] = json.loads(d["warnings"]) if d.get("warnings") else []
    return d


def list_rows(conn: sqlite3.Connection, fid: int, *, outcome: str | None = None, result: str | None = None,
              limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """Rows in file order, optionally only those with a planned ``outcome`` or a ``result``."""
    sql = f"SELECT * FROM {ROWS} WHERE import_fid = ?"
    params: list[Any] = [fid]
    for column, value in (("outcome", outcome), ("result", result)):
        if value:
            sql += f" AND {column} = ?"
            params.append(value)
    sql += " ORDER BY row_no LIMIT ? OFFSET ?"
    return [_row(r) for r in conn.execute(sql, [*params, int(limit), int(offset)])]


def map_points(conn: sqlite3.Connection, fid: int, *, limit: int) -> list[tuple]:
    """(row, lon, lat, outcome, result, name) of the rows with a place, for the preview map."""
    return [tuple(r) for r in conn.execute(
        f"SELECT row_no, lon, lat, outcome, result, name FROM {ROWS} WHERE import_fid = ? AND lon IS NOT NULL "
        "ORDER BY row_no LIMIT ?", (fid, int(limit)))]


def count_rows(conn: sqlite3.Connection, fid: int) -> dict[str, int]:
    """Rows by planned outcome, and (after confirmation) by result."""
    out = {f"result_{k}" if k else "result_none": 0 for k in (None, *RESULTS)}
    out.update({k: 0 for k in OUTCOMES})
    for outcome, result, n in conn.execute(f"SELECT outcome, result, count(*) FROM {ROWS} WHERE import_fid = ? "
                                           "GROUP BY outcome, result", (fid,)):
        out[outcome] += n
        out[f"result_{result}" if result else "result_none"] += n
    return out


def rows_to_propose(conn: sqlite3.Connection, fid: int) -> list[dict[str, Any]]:
    """The planned proposals not yet made (a job taken over resumes with these)."""
    return [_row(r) for r in conn.execute(
        f"SELECT * FROM {ROWS} WHERE import_fid = ? AND outcome IN ('new', 'change') AND result IS NULL "
        "ORDER BY row_no", (fid,))]


def settle_unplanned(conn: sqlite3.Connection, fid: int) -> None:
    """Rows that propose nothing (unchanged, already proposed, refused) get their result at confirmation."""
    conn.execute(f"UPDATE {ROWS} SET result = CASE outcome WHEN 'refused' THEN 'refused' WHEN 'already' THEN 'already' "
                 "END WHERE import_fid = ? AND outcome IN ('refused', 'already') AND result IS NULL", (fid,))


def set_row_result(conn: sqlite3.Connection, fid: int, row_no: int, *, result: str, revision_id: int | None = None,
                   reason: str | None = None) -> None:
    conn.execute(f"UPDATE {ROWS} SET result = ?, revision_id = ?, result_reason = ? WHERE import_fid = ? AND "
                 "row_no = ?", (result, revision_id, reason, fid, row_no))


def open_proposal_for_key(conn: sqlite3.Connection, content_key: str) -> dict[str, Any] | None:
    """An open proposal an import made with this content (a re-run, or two imports of one file at once)."""
    if is_pg(conn) and conn.writing:  # two imports of one file at once: the second waits and then sees the first's
        conn.execute("SELECT pg_advisory_xact_lock(?::integer, hashtext(?))", (pg.IMPORT_KEY_LOCK, content_key))
    r = conn.execute(f"SELECT r.fid, r.status FROM {ROWS} i JOIN revisions r ON r.fid = i.revision_id WHERE "
                     "i.content_key = ? AND r.status IN ('submitted', 'changes_requested') ORDER BY r.fid LIMIT 1",
                     (content_key,)).fetchone()
    return None if r is None else {"revision": r[0], "status": r[1]}


def sites_of_source_codes(conn: sqlite3.Connection, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """File codes that earlier imports turned into new sites, approved since: file code -> site and proposal."""
    codes = sorted(set(codes))
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(codes), 500):
        chunk = codes[i:i + 500]
        for code, site, rid in conn.execute(
                f"SELECT i.source_code, r.site_code, r.fid FROM {ROWS} i JOIN revisions r ON r.fid = i.revision_id "
                f"WHERE r.kind = 'new_site' AND r.status = 'approved' AND i.source_code IN "
                f"({', '.join('?' for _ in chunk)}) ORDER BY r.fid", chunk):
            out.setdefault(code, {"site": site, "revision": rid})
    return out
