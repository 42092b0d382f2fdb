"""The audit trail, ``audit_log`` (attributes table, append-only): who did what, when and from where. The table is
created by store/migrations.py with the core of the registry; SCRUB lists what of it shareable exports leave out.
"""
from __future__ import annotations

import json
import sqlite3

from .gpkg import utc_now, where
from .tables import DATETIME, NOT_NULL, TEXT, Index, Table, append_only, col

AUDIT = "audit_log"
AUDIT_TABLE = Table(AUDIT, (col("at", DATETIME, NOT_NULL), col("actor", TEXT, NOT_NULL), col("action", TEXT, NOT_NULL),
                            col("target"), col("detail"), col("remote_addr")),
                    indexes=(Index("audit_log_at", "at"),),
                    rules=(append_only(AUDIT, "the audit trail is append-only"),))

# Personal data in the audit trail, removed from shareable exports (store.backup_to): client addresses, and the user
# names typed at failed sign-ins (people type their passwords there).
SCRUB = (
    (AUDIT, f"UPDATE {AUDIT} SET remote_addr = NULL"),
    (AUDIT, f"UPDATE {AUDIT} SET target = NULL, detail = NULL WHERE action = 'account.login_failed'"),
)


def append_audit(conn: sqlite3.Connection, *, actor: str, action: str, target: str | None = None,
                 detail: dict | None = None, remote_addr: str | None = None, at: str | None = None) -> None:
    conn.execute(f"INSERT INTO {AUDIT} (at, actor, action, target, detail, remote_addr) VALUES (?,?,?,?,?,?)",
                 (at or utc_now(), actor, action, target,
                  json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail is not None else None, remote_addr))


def list_audit(conn: sqlite3.Connection, *, actor: str | None = None, action: str | None = None,
               target: str | None = None, since: str | None = None, until: str | None = None,
               limit: int | None = 500) -> list[dict]:
    clause, params = where(("actor = ?", actor), ("target = ?", target), ("at >= ?", since), ("at <= ?", until),
                           ("action LIKE ?", action.rstrip("*") + "%" if action else None))
    sql = f"SELECT * FROM {AUDIT}{clause} ORDER BY fid DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = []
    for r in conn.execute(sql, params):
        d = dict(r)
        d["detail"] = json.loads(d["detail"]) if d["detail"] else None
        rows.append(d)
    return rows
