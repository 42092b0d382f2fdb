"""Idempotency keys: the first answer to a creating request sent with an ``Idempotency-Key`` header, kept so that a
retry with the same key (a phone that lost its connection before the answer came, an offline queue sending again)
answers the same and creates nothing (http/idempotency.py, docs/offline.md).

* ``idempotency_keys``: one row per (caller, key): who sent it (``account:<id>``, or ``anonymous``), a hash of the key
  (the key itself is not kept), a hash of the request (method, path, body), when it arrived and until when it is kept,
  and, once answered, the answer's status, its headers that matter (JSON) and its body. A row without a status is a
  request still being processed. Rows past ``expires_at`` are deleted by the next claim. Private to the app: never in
  a shareable export (the answers hold receipts).
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

from .tables import BLOB, DATETIME, INT, NOT_NULL, TEXT, Index, Table, col

KEYS = "idempotency_keys"
PRIVATE_TABLES: tuple[str, ...] = (KEYS,)

KEYS_TABLE = Table(KEYS, (
    col("caller", TEXT, NOT_NULL), col("key_hash", TEXT, NOT_NULL), col("request_hash", TEXT, NOT_NULL),
    col("created_at", DATETIME, NOT_NULL), col("expires_at", DATETIME, NOT_NULL), col("status", INT),
    col("headers", TEXT), col("body", BLOB),
), constraints=("UNIQUE (caller, key_hash)",), indexes=(Index("idempotency_keys_expiry", "expires_at"),))
TABLES = (KEYS_TABLE,)


def purge_expired(conn: sqlite3.Connection, now: str) -> int:
    """Delete the rows kept long enough; returns how many."""
    return conn.execute(f"DELETE FROM {KEYS} WHERE expires_at < ?", (now,)).rowcount


def claim(conn: sqlite3.Connection, *, caller: str, key_hash: str, request_hash: str, now: str,
          expires_at: str, abandoned_before: str) -> dict[str, Any] | None:
    """Record a key as being processed, unless (caller, key) is known: then the row found (its request hash, status,
    headers and body; status None while the first request is still being processed). None: claimed now. A claim of
    the same request with no answer made before ``abandoned_before`` was left by a worker that died: taken over."""
    inserted = conn.execute(
        f"INSERT INTO {KEYS} (caller, key_hash, request_hash, created_at, expires_at) VALUES (?,?,?,?,?) "
        "ON CONFLICT (caller, key_hash) DO NOTHING", (caller, key_hash, request_hash, now, expires_at)).rowcount
    if inserted:
        return None
    taken_over = conn.execute(
        f"UPDATE {KEYS} SET created_at = ?, expires_at = ? WHERE caller = ? AND key_hash = ? AND request_hash = ? "
        "AND status IS NULL AND created_at < ?",
        (now, expires_at, caller, key_hash, request_hash, abandoned_before)).rowcount
    if taken_over:
        return None
    row = conn.execute(f"SELECT request_hash, status, headers, body FROM {KEYS} WHERE caller = ? AND key_hash = ?",
                       (caller, key_hash)).fetchone()
    if row is None:  # deleted meanwhile (expired): claimed by the next try
        return None
    return {"request_hash": row[0], "status": row[1], "headers": json.loads(row[2]) if row[2] else {},
            "body": bytes(row[3]) if row[3] is not None else b""}


def finish(conn: sqlite3.Connection, *, caller: str, key_hash: str, status: int, headers: dict[str, str],
           body: bytes) -> None:
    """Keep the first answer of a claimed key."""
    conn.execute(f"UPDATE {KEYS} SET status = ?, headers = ?, body = ? WHERE caller = ? AND key_hash = ?",
                 (status, json.dumps(headers), body, caller, key_hash))


def release(conn: sqlite3.Connection, *, caller: str, key_hash: str) -> None:
    """Forget a claimed key whose request created nothing (refused, or failed): it may be sent again."""
    conn.execute(f"DELETE FROM {KEYS} WHERE caller = ? AND key_hash = ? AND status IS NULL", (caller, key_hash))
