"""Accounts, roles, API tokens and the permission policy: who may do what. Pure domain code (no Flask).

Roles are ordered: an admin can do everything an expert can, an expert everything a field member can. What each
permission needs is declared once, in POLICY; every web and API endpoint names the permission it requires.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from werkzeug.security import check_password_hash, generate_password_hash

from . import store
from .errors import InvalidInput, NotFound

ROLES = ("field", "expert", "admin")
RANK = {role: i for i, role in enumerate(ROLES, start=1)}

# permission -> the least role that holds it (None: everybody, including anonymous callers)
POLICY: dict[str, str | None] = {
    "public.read": None,            # the public view: protection map, public site pages, public API answers
    "report.submit": None,          # anyone may report a find or damage
    "site.read_exact": "field",     # exact locations and boundaries of every site, history, diffs
    "account.self": "field",        # own account: API tokens
    "revision.propose": "field",    # propose coordinate / boundary / attribute changes and new sites
    "revision.review": "expert",    # approve, reject, request changes (never one's own)
    "inspection.write": "expert",   # inspection records, photos, patrol tracks
    "report.triage": "expert",      # public reports queue
    "site.restore": "admin",        # restore an old version (itself a new, reviewed version)
    "user.manage": "admin",         # accounts: create, disable, enable, change role, revoke tokens
    "audit.read": "admin",          # browse and download the audit trail
}

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")
MIN_PASSWORD = 10
TOKEN_PREFIX = "frt_"
# A real hash to compare against when the account does not exist, so that unknown users take as long as wrong passwords.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8))


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str | None
    role: str
    active: bool
    session_epoch: int = 0

    def can(self, permission: str) -> bool:
        return allowed(self.role if self.active else None, permission)


def allowed(role: str | None, permission: str) -> bool:
    if permission not in POLICY:
        raise KeyError(f"undeclared permission {permission!r}")
    needed = POLICY[permission]
    return needed is None or (role is not None and RANK.get(role, 0) >= RANK[needed])


def _user(row: store.UserRow) -> User:
    return User(row.id, row.username, row.display_name, row.role, row.active, row.session_epoch)


class AuthenticationFailed(Exception):
    """Sign-in refused. The message is deliberately the same for unknown users, wrong passwords and disabled accounts."""

    def __init__(self):
        super().__init__("Unknown user name or wrong password.")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)} (got {role!r})")


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")


def create_user(conn, *, username: str, role: str, password: str, display_name: str | None = None,
                actor: str = "system", remote_addr: str | None = None) -> User:
    if not isinstance(username, str) or not USERNAME.match(username):
        raise InvalidInput("user names are 2-40 letters, digits, '.', '_' or '-'")
    _check_role(role)
    _check_password(password)
    with store.transaction(conn):
        if store.get_user(conn, username=username) is not None:
            raise InvalidInput(f"the user name {username!r} is taken")
        now = store.utc_now()
        user_id = store.insert_user(conn, username=username, display_name=display_name, role=role,
                                    password_hash=generate_password_hash(password), created_at=now)
        store.append_audit(conn, actor=actor, action="account.create", target=username, at=now,
                           detail={"role": role}, remote_addr=remote_addr)
    return get_user(conn, user_id=user_id)


def get_user(conn, *, user_id: int | None = None, username: str | None = None) -> User:
    row = store.get_user(conn, user_id=user_id, username=username)
    if row is None:
        raise NotFound(f"no account {username or user_id!r}")
    return _user(row)


def list_users(conn) -> list[User]:
    return [_user(r) for r in store.list_users(conn)]


def authenticate(conn, username: str, password: str) -> User:
    row = store.get_user(conn, username=username) if username else None
    ok = check_password_hash(row.password_hash if row else _DUMMY_HASH, password or "")
    if row is None or not ok or not row.active:
        raise AuthenticationFailed()
    return _user(row)


def set_active(conn, username: str, active: bool, *, actor: str, remote_addr: str | None = None) -> User:
    with store.transaction(conn):
        user = get_user(conn, username=username)
        # disabling ends every session and token at once
        store.update_user(conn, user.id, active=int(active), bump_epoch=not active)
        now = store.utc_now()
        if not active:
            store.revoke_tokens(conn, user.id, now)
        store.append_audit(conn, actor=actor, action="account.enable" if active else "account.disable",
                           target=user.username, at=now, remote_addr=remote_addr)
    return get_user(conn, user_id=user.id)


def set_role(conn, username: str, role: str, *, actor: str, remote_addr: str | None = None) -> User:
    _check_role(role)
    with store.transaction(conn):
        user = get_user(conn, username=username)
        store.update_user(conn, user.id, role=role, bump_epoch=True)
        store.append_audit(conn, actor=actor, action="account.role", target=user.username,
                           detail={"old": user.role, "new": role}, remote_addr=remote_addr)
    return get_user(conn, user_id=user.id)


def set_password(conn, username: str, password: str, *, actor: str, remote_addr: str | None = None) -> None:
    _check_password(password)
    with store.transaction(conn):
        user = get_user(conn, username=username)
        store.update_user(conn, user.id, password_hash=generate_password_hash(password), bump_epoch=True)
        store.append_audit(conn, actor=actor, action="account.password", target=user.username, remote_addr=remote_addr)


def _token_hash(token: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough (no dictionary to attack); stored hashed only.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(conn, username: str, *, label: str | None = None, days: int | None = 365, actor: str,
                remote_addr: str | None = None) -> str:
    """A new API token for the account; returned once, stored only as a hash."""
    with store.transaction(conn):
        user = get_user(conn, username=username)
        if not user.active:
            raise InvalidInput(f"account {username} is disabled")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc)
        expires = (now + timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z") if days else None
        token_id = store.insert_token(conn, user_id=user.id, token_hash=_token_hash(token), label=label,
                                      created_at=store.utc_now(), expires_at=expires)
        store.append_audit(conn, actor=actor, action="token.issue", target=user.username,
                           detail={"token_id": token_id, "label": label, "expires_at": expires}, remote_addr=remote_addr)
    return token


def revoke_tokens(conn, username: str, *, actor: str, token_id: int | None = None,
                  remote_addr: str | None = None) -> int:
    with store.transaction(conn):
        user = get_user(conn, username=username)
        count = store.revoke_tokens(conn, user.id, store.utc_now(), token_id)
        store.append_audit(conn, actor=actor, action="token.revoke", target=user.username,
                           detail={"count": count, "token_id": token_id}, remote_addr=remote_addr)
    return count


def list_tokens(conn, username: str) -> list[dict]:
    return store.list_tokens(conn, get_user(conn, username=username).id)


def user_for_token(conn, token: str) -> User | None:
    """The active account a valid, unexpired, unrevoked token belongs to; None otherwise."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = store.find_token(conn, _token_hash(token))
    if row is None or row["revoked_at"] is not None:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= store.utc_now():
        return None
    user = store.get_user(conn, user_id=row["user_id"])
    return _user(user) if user is not None and user.active else None


def random_password() -> str:
    return secrets.token_urlsafe(12)
