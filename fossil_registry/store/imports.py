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
from .dialect import backend, for_update
from .tables import (BIGINT, BLOB, DATETIME, INT, NOT_NULL, PRIMARY_KEY, REAL, TEXT, Index, Refuse, Table, col, in_list,
                     ref)

IMPORTS = "imports"
FILES = "import_files"
ROWS = "import_rows"
STATES = ("analysing", "ready", "proposing", "done", "failed")
OUTCOMES = ("new", "change", "unchanged", "already", "refused")
RESULTS = ("proposed", "already", "refused")


IMPORTS_TABLE = Table(IMPORTS, (
    col("created_by", TEXT, NOT_NULL), col("created_at", DATETIME, NOT_NULL), col("updated_at", DATETIME, NOT_NULL),
    col("filename", TEXT, NOT_NULL), col("sha256", TEXT, NOT_NULL), col("size", BIGINT, NOT_NULL),
    col("format", TEXT, NOT_NULL), col("options", TEXT, NOT_NULL, default="'{}'"),
    col("mapping", TEXT, NOT_NULL, default="'{}'"), col("info", TEXT, NOT_NULL, default="'{}'"),
    col("state", TEXT, NOT_NULL, check=f"state IN {in_list(STATES)}"), col("generation", INT, NOT_NULL, default="1"),
    col("progress_done", INT, NOT_NULL, default="0"), col("progress_total", INT, NOT_NULL, default="0"),
    col("worker"), col("heartbeat_at", DATETIME), col("counts", TEXT, NOT_NULL, default="'{}'"), col("error"),
    col("reason"), col("confirmed_by"), col("confirmed_at", DATETIME), col("finished_at", DATETIME),
), indexes=(Index("imports_created", "created_at"), Index("imports_sha", "sha256")))

# The uploaded bytes.
FILES_TABLE = Table(FILES, (ref("import_fid", IMPORTS, PRIMARY_KEY), col("data", BLOB, NOT_NULL)), fid=False)

ROWS_TABLE = Table(ROWS, (
    ref("import_fid", IMPORTS, NOT_NULL), col("row_no", INT, NOT_NULL), col("source_code"), col("name"),
    col("lon", REAL), col("lat", REAL), col("outcome", TEXT, NOT_NULL, check=f"outcome IN {in_list(OUTCOMES)}"),
    col("matched_by"), col("site_code"), col("base_version", INT), col("fields"), col("content_key"), col("reason"),
    col("warnings", TEXT, NOT_NULL, default="'[]'"), col("earlier_revision", BIGINT),
    col("result", TEXT, check=f"result IS NULL OR result IN {in_list(RESULTS)}"), ref("revision_id", "revisions"),
    col("result_reason"),
), constraints=("UNIQUE (import_fid, row_no)",
                "CHECK (result IS NULL OR result != 'proposed' OR revision_id IS NOT NULL)"),
   indexes=(Index("import_rows_key", "content_key", where="revision_id IS NOT NULL"),
            Index("import_rows_source", "source_code", where="revision_id IS NOT NULL")),
   rules=(Refuse(f"{ROWS}_proposed_are_kept", "DELETE", "a row that made a proposal is part of the record",
                 when="OLD.revision_id IS NOT NULL"),))

TABLES = (IMPORTS_TABLE, FILES_TABLE, ROWS_TABLE)

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
    # two imports of one file at once: the second waits and then sees the first's
    backend(conn).lock_text(conn, pg.IMPORT_KEY_LOCK, content_key)
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
