"""Accounts and their credentials: ``users``, ``api_tokens``, sign-in sessions (``user_sessions``, ended server-side at
sign-out) and failed sign-ins (``login_failures``, for the back-off). All private: not registered in gpkg_contents, and
listed in PRIVATE_TABLES so that shareable exports drop them. User names compare without case (SQLite's COLLATE
NOCASE; on PostgreSQL the nondeterministic ICU collation ``nocase`` of store/pg_schema.py).
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..vocab import Role
from .dialect import backend, for_update
from .tables import DATETIME, INT, NOCASE, NOT_NULL, TEXT, UNIQUE, Index, Refuse, Table, col, in_list, ref

ROLES = Role.values()

USERS_TABLE = Table("users", (
    col("username", TEXT, NOCASE, NOT_NULL, UNIQUE), col("display_name"),
    col("role", TEXT, NOT_NULL, check=f"role IN {in_list(ROLES)}"), col("password_hash", TEXT, NOT_NULL),
    col("active", INT, NOT_NULL, default="1", check="active IN (0, 1)"),
    col("session_epoch", INT, NOT_NULL, default="0"), col("created_at", DATETIME, NOT_NULL),
), rules=(Refuse("users_are_never_deleted", "DELETE",
                 "accounts are disabled, never deleted: history keeps its authors"),))
TOKENS_TABLE = Table("api_tokens", (
    ref("user_id", "users", NOT_NULL), col("token_hash", TEXT, NOT_NULL, UNIQUE), col("label"),
    col("created_at", DATETIME, NOT_NULL), col("expires_at", DATETIME), col("revoked_at", DATETIME),
    col("last_used_at", DATETIME),
), indexes=(Index("api_tokens_user", "user_id"),))
# Sign-in sessions (ended server-side at sign-out) and failed sign-ins (for the back-off): private, like accounts.
SESSIONS_TABLE = Table("user_sessions", (
    col("token_hash", TEXT, NOT_NULL, UNIQUE), ref("user_id", "users", NOT_NULL), col("epoch", INT, NOT_NULL),
    col("created_at", DATETIME, NOT_NULL), col("expires_at", DATETIME, NOT_NULL), col("ended_at", DATETIME),
    col("remote_addr"),
), indexes=(Index("user_sessions_user", "user_id"),))
FAILURES_TABLE = Table("login_failures", (
    col("at", DATETIME, NOT_NULL), col("account", TEXT, NOT_NULL), col("remote_addr", TEXT, NOT_NULL),
), indexes=(Index("login_failures_account", "account, at"), Index("login_failures_address", "remote_addr, at"),
            Index("login_failures_at", "at")))
ACCOUNTS = (USERS_TABLE, TOKENS_TABLE)
SESSIONS = (SESSIONS_TABLE, FAILURES_TABLE)
PRIVATE_TABLES: tuple[str, ...] = tuple(t.name for t in ACCOUNTS + SESSIONS)


@dataclass
class UserRow:
    id: int
    username: str
    display_name: str | None
    role: str
    password_hash: str
    active: bool
    session_epoch: int
    created_at: str


def _user_from(r: sqlite3.Row) -> UserRow:
    return UserRow(id=r["fid"], username=r["username"], display_name=r["display_name"], role=r["role"],
                   password_hash=r["password_hash"], active=bool(r["active"]), session_epoch=r["session_epoch"],
                   created_at=r["created_at"])


def insert_user(conn: sqlite3.Connection, *, username: str, display_name: str | None, role: str,
                password_hash: str, created_at: str) -> int:
    cur = conn.execute("INSERT INTO users (username, display_name, role, password_hash, created_at) VALUES (?,?,?,?,?)",
                       (username, display_name, role, password_hash, created_at))
    return cur.lastrowid


def get_user(conn: sqlite3.Connection, *, user_id: int | None = None, username: str | None = None) -> UserRow | None:
    if user_id is not None:
        r = conn.execute("SELECT * FROM users WHERE fid = ?" + for_update(conn), (user_id,)).fetchone()
    else:
        r = conn.execute("SELECT * FROM users WHERE username = ?" + for_update(conn), (username,)).fetchone()
    return None if r is None else _user_from(r)


def list_users(conn: sqlite3.Connection) -> list[UserRow]:
    return [_user_from(r) for r in conn.execute("SELECT * FROM users ORDER BY username")]


_USER_FIELDS = {"display_name", "role", "password_hash", "active"}


def update_user(conn: sqlite3.Connection, user_id: int, *, bump_epoch: bool = False, **fields) -> None:
    """Change account fields; ``bump_epoch`` invalidates the account's existing sessions."""
    unknown = set(fields) - _USER_FIELDS
    if unknown:
        raise ValueError(f"unknown account field(s) {unknown}")
    sets = [f"{k} = ?" for k in fields] + (["session_epoch = session_epoch + 1"] if bump_epoch else [])
    if sets:
        conn.execute(f"UPDATE users SET {', '.join(sets)} WHERE fid = ?", (*fields.values(), user_id))


def insert_token(conn: sqlite3.Connection, *, user_id: int, token_hash: str, label: str | None, created_at: str,
                 expires_at: str | None) -> int:
    cur = conn.execute("INSERT INTO api_tokens (user_id, token_hash, label, created_at, expires_at) VALUES (?,?,?,?,?)",
                       (user_id, token_hash, label, created_at, expires_at))
    return cur.lastrowid


def find_token(conn: sqlite3.Connection, token_hash: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM api_tokens WHERE token_hash = ?", (token_hash,)).fetchone()


def list_tokens(conn: sqlite3.Connection, user_id: int) -> list[dict]:
    return [dict(r) for r in conn.execute(
        "SELECT fid, label, created_at, expires_at, revoked_at FROM api_tokens WHERE user_id = ? ORDER BY fid DESC",
        (user_id,))]


def revoke_tokens(conn: sqlite3.Connection, user_id: int, when: str, token_id: int | None = None) -> int:
    sql = "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
    params: list = [when, user_id]
    if token_id is not None:
        sql += " AND fid = ?"
        params.append(token_id)
    return conn.execute(sql, params).rowcount


def insert_session(conn: sqlite3.Connection, *, token_hash: str, user_id: int, epoch: int, created_at: str,
                   expires_at: str, remote_addr: str | None) -> None:
    conn.execute("INSERT INTO user_sessions (token_hash, user_id, epoch, created_at, expires_at, remote_addr) "
                 "VALUES (?,?,?,?,?,?)", (token_hash, user_id, epoch, created_at, expires_at, remote_addr))


def find_session(conn: sqlite3.Connection, token_hash: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM user_sessions WHERE token_hash = ?", (token_hash,)).fetchone()


def end_session(conn: sqlite3.Connection, token_hash: str, when: str) -> bool:
    return conn.execute("UPDATE user_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                        (when, token_hash)).rowcount == 1


def end_sessions_of(conn: sqlite3.Connection, user_id: int, when: str) -> int:
    return conn.execute("UPDATE user_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                        (when, user_id)).rowcount


def lock_sign_in_attempts(conn, account: str, remote_addr: str) -> None:
    """Hold the back-off counters of this account and this address until the transaction ends, so that parallel
    attempts are counted one after the other (GeoPackage: the write transaction holds the whole file already).
    Always the account first, then the address: two attempts never wait for each other in a circle."""
    backend(conn).lock_text(conn, 1, account)
    backend(conn).lock_text(conn, 2, remote_addr)


def insert_login_failure(conn: sqlite3.Connection, *, at: str, account: str, remote_addr: str,
                         forget_before: str) -> None:
    conn.execute("DELETE FROM login_failures WHERE at < ?", (forget_before,))
    conn.execute("INSERT INTO login_failures (at, account, remote_addr) VALUES (?,?,?)", (at, account, remote_addr))


def login_failures_since(conn: sqlite3.Connection, since: str, *, account: str | None = None,
                         remote_addr: str | None = None) -> tuple[int, str | None]:
    """(number of failed sign-ins since ``since``, time of the latest) for an account, an address, or both."""
    where, params = ["at >= ?"], [since]
    if account is not None:
        where.append("account = ?")
        params.append(account)
    if remote_addr is not None:
        where.append("remote_addr = ?")
        params.append(remote_addr)
    row = conn.execute(f"SELECT count(*), max(at) FROM login_failures WHERE {' AND '.join(where)}", params).fetchone()
    return row[0], row[1]


def clear_login_failures(conn: sqlite3.Connection, account: str, remote_addr: str) -> None:
    conn.execute("DELETE FROM login_failures WHERE account = ? AND remote_addr = ?", (account, remote_addr))
