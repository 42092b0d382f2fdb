"""Accounts, roles, API tokens and the permission policy: who may do what. Pure domain code (no Flask).

Roles are ordered: an admin can do everything an expert can, an expert everything a field member can. What each
permission needs is declared once, in POLICY; every web and API endpoint names the permission it requires.
"""
from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from werkzeug.security import check_password_hash, generate_password_hash

from . import store
from .errors import InvalidInput, NotFound
from .messages import msg
from .vocab import Role

ROLES = Role.values()
RANK = {role: i for i, role in enumerate(ROLES, start=1)}

# permission -> the least role that holds it (None: everybody, including anonymous callers)
POLICY: dict[str, str | None] = {
    "public.read": None,            # the public view: protection map, public site pages, public API answers
    "report.submit": None,          # anyone may report a find or damage
    "site.read_exact": "field",     # exact locations and boundaries of every site, history, diffs
    "account.self": "field",        # own account: API tokens
    "revision.propose": "field",    # propose coordinate / boundary / attribute changes and new sites
    "fieldkit.use": "field",        # field kits: check out sites (exact) for QField/QGIS, check edits in as proposals
    "revision.review": "expert",    # approve, reject, request changes (never one's own)
    "inspection.write": "expert",   # inspection records, photos, patrol tracks
    "report.triage": "expert",      # public reports queue
    "site.restore": "admin",        # restore an old version (itself a new, reviewed version)
    "user.manage": "admin",         # accounts: create, disable, enable, change role, revoke tokens
    "audit.read": "admin",          # browse and download the audit trail
    "supervision.read": "field",    # province dashboard, annual work report, their figures and exports (staff only)
    "impact.screen": None,          # screen a construction project's footprint (anonymous callers: the public view)
    "impact.save": "field",         # save screenings and run them again against today's registry
    "impact.read": "field",         # saved screenings and project cases, their reports and downloads
    "impact.case": "expert",        # open a project case, record its stage, decision and conditions, re-screen it
    "import.run": "admin",          # import files of sites as proposals (each reviewed by a second person)
    "marker.write": "expert",       # record a protection marker (monument, post, sign, fence) of a site or section
    "rescue.read": "field",         # rescue cases of reported finds: exact place, reporter, the legal clock (staff only)
    "rescue.write": "expert",       # open a rescue case, record what was done when, propose the find as a new site
}

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")
MIN_PASSWORD = 10
TOKEN_PREFIX = "frt_"
# A real hash to compare against when the account does not exist, so that unknown users take as long as wrong passwords.
# How a password is stored: werkzeug's scrypt (its default, named here so that it is a decision). The tests make hundreds
# of accounts and set a cheap PBKDF2 here and in _DUMMY_HASH (tests/conftest.py); test_auth checks the app's own.
PASSWORD_HASH_METHOD = "scrypt"
_DUMMY_HASH: str | None = None   # made by the first sign-in that needs it (~0.15 s of scrypt, not the server's start)


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8),
                                             method=PASSWORD_HASH_METHOD)
    return _DUMMY_HASH


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
        raise InvalidInput(msg("auth.role_must_one_got", "role must be one of {roles} (got {role!r})",
                               roles=', '.join(ROLES), role=role))


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput(msg("auth.password_needs_least_characters", "a password needs at least {min_password} "
                               "characters", min_password=MIN_PASSWORD))


def create_user(conn, *, username: str, role: str, password: str, display_name: str | None = None,
                actor: str = "system", remote_addr: str | None = None) -> User:
    if not isinstance(username, str) or not USERNAME.match(username):
        raise InvalidInput(msg("auth.user_names_letters_digits", "user names are 2-40 letters, digits, '.', '_' or "
                               "'-'"))
    _check_role(role)
    _check_password(password)
    with store.transaction(conn):
        if store.get_user(conn, username=username) is not None:
            raise InvalidInput(msg("auth.user_name_taken", "the user name {username!r} is taken", username=username))
        now = store.utc_now()
        user_id = store.insert_user(conn, username=username, display_name=display_name, role=role,
                                    password_hash=generate_password_hash(password, method=PASSWORD_HASH_METHOD),
                                    created_at=now)
        store.append_audit(conn, actor=actor, action="account.create", target=username, at=now,
                           detail={"role": role}, remote_addr=remote_addr)
    return get_user(conn, user_id=user_id)


def get_user(conn, *, user_id: int | None = None, username: str | None = None) -> User:
    row = store.get_user(conn, user_id=user_id, username=username)
    if row is None:
        raise NotFound(msg("auth.account", "no account {value!r}", value=username or user_id))
    return _user(row)


def list_users(conn) -> list[User]:
    return [_user(r) for r in store.list_users(conn)]


def authenticate(conn, username: str, password: str) -> User:
    row = store.get_user(conn, username=username) if username else None
    ok = check_password_hash(row.password_hash if row else _dummy_hash(), password or "")
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
            store.end_sessions_of(conn, user.id, now)
        store.append_audit(conn, actor=actor, action="account.enable" if active else "account.disable",
                           target=user.username, at=now, remote_addr=remote_addr)
    return get_user(conn, user_id=user.id)


def set_role(conn, username: str, role: str, *, actor: str, remote_addr: str | None = None) -> User:
    _check_role(role)
    with store.transaction(conn):
        user = get_user(conn, username=username)
        store.update_user(conn, user.id, role=role, bump_epoch=True)
        store.end_sessions_of(conn, user.id, store.utc_now())
        store.append_audit(conn, actor=actor, action="account.role", target=user.username,
                           detail={"old": user.role, "new": role}, remote_addr=remote_addr)
    return get_user(conn, user_id=user.id)


def _token_hash(token: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough (no dictionary to attack); stored hashed only.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(conn, username: str, *, label: str | None = None, days: int | None = 365, actor: str,
                remote_addr: str | None = None) -> str:
    """A new API token for the account; returned once, stored only as a hash."""
    with store.transaction(conn):
        user = get_user(conn, username=username)
        if not user.active:
            raise InvalidInput(msg("auth.account_disabled", "account {username} is disabled", username=username))
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


# --------------------------------------------------------------------------------------------------------------------
# Sign-in sessions: the browser's cookie names a session the server can end (sign-out, disabling, role change)
# --------------------------------------------------------------------------------------------------------------------
SESSION_PREFIX = "frs_"


def start_session(conn, user: User, *, lifetime: timedelta, remote_addr: str | None = None) -> str:
    """A new sign-in session for ``user``: the returned token goes into the session cookie, its hash into the store.
    The sign-in is recorded in the audit trail in the same transaction."""
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    with store.transaction(conn):
        store.insert_session(conn, token_hash=_token_hash(token), user_id=user.id, epoch=user.session_epoch,
                             created_at=store.utc_now(), expires_at=_stamp(now + lifetime), remote_addr=remote_addr)
        store.append_audit(conn, actor=user.username, action="account.login", target=user.username,
                           remote_addr=remote_addr)
    return token


def user_for_session(conn, token: str) -> User | None:
    """The account of a live session: not ended, not expired, the account active and unchanged since (its role,
    password and state bump the epoch)."""
    if not isinstance(token, str) or not token.startswith(SESSION_PREFIX) or len(token) > 200:
        return None
    row = store.find_session(conn, _token_hash(token))
    if row is None or row["ended_at"] is not None or row["expires_at"] <= store.utc_now():
        return None
    user = store.get_user(conn, user_id=row["user_id"])
    if user is None or not user.active or user.session_epoch != row["epoch"]:
        return None
    return _user(user)


def end_session(conn, token: str, *, actor: str, remote_addr: str | None = None) -> None:
    """Sign-out: the session is ended on the server, so a copy of the cookie is worthless from now on."""
    with store.transaction(conn):
        if store.end_session(conn, _token_hash(token), store.utc_now()):
            store.append_audit(conn, actor=actor, action="account.logout", target=actor, remote_addr=remote_addr)


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------------------------------
# Failed sign-ins: exponential back-off per account and address, per address, and per account (OWASP's guidance), so
# that guessing is slow but nobody can lock another person out from their own address
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginThrottle:
    window_s: int = 900                 # failures older than this are forgotten
    free_per_account_address: int = 5   # failures from one address at one account before the back-off starts
    free_per_address: int = 20          # failures from one address at any accounts
    free_per_account: int = 50          # failures at one account from anywhere (a distributed attack)
    max_delay_s: int = 900

    @classmethod
    def from_config(cls, config) -> "LoginThrottle":
        return cls(window_s=int(config["LOGIN_FAILURE_WINDOW_S"]),
                   free_per_account_address=int(config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"]),
                   free_per_address=int(config["LOGIN_FREE_FAILURES_PER_ADDRESS"]),
                   free_per_account=int(config["LOGIN_FREE_FAILURES_PER_ACCOUNT"]),
                   max_delay_s=int(config["LOGIN_MAX_DELAY_S"]))


def sign_in_clock() -> datetime:
    """The time the back-off counts from. The back-off's tests stop it (monkeypatch), so that what they check does
    not depend on how fast a loaded machine answers a dozen sign-ins."""
    return datetime.now(timezone.utc)


def login_key(username: str | None) -> str:
    """The account a sign-in attempt is about, as the back-off counts it (unknown names count like known ones)."""
    return (username or "").strip().casefold()[:40]


def login_wait(conn, username: str | None, remote_addr: str | None, throttle: LoginThrottle, *,
               known_device: bool = False) -> int:
    """Seconds before this address may try this account again (0: now). After the free failures each further one
    doubles the wait (1, 2, 4 ... seconds, at most max_delay_s). ``known_device``: the browser signed in to this
    account before (a device cookie): failures from elsewhere at this account (a distributed attack) do not hold
    it up, so nobody can lock a person out of their own devices."""
    now = sign_in_clock()
    since = _stamp(now - timedelta(seconds=throttle.window_s))
    account, address = login_key(username), remote_addr or "unknown"
    scopes = [(throttle.free_per_account_address, {"account": account, "remote_addr": address}),
              (throttle.free_per_address, {"remote_addr": address})]
    if not known_device:
        scopes.append((throttle.free_per_account, {"account": account}))
    wait = 0.0
    for free, scope in scopes:
        count, last = store.login_failures_since(conn, since, **scope)
        if count >= free and last is not None:
            delay = min(2.0 ** (count - free), throttle.max_delay_s)
            elapsed = (now - datetime.fromisoformat(last.replace("Z", "+00:00"))).total_seconds()
            wait = max(wait, delay - elapsed)
    return max(0, math.ceil(wait))


def reserve_attempt(conn, username: str | None, remote_addr: str | None, throttle: LoginThrottle, *,
                    known_device: bool = False) -> int:
    """Under the write lock: the wait before this sign-in attempt may be made (nothing is recorded then), or 0 after
    counting the attempt as a failure until it succeeds (clear_login_failures). So parallel attempts cannot all slip
    past the check before the first failure is counted."""
    now = sign_in_clock()
    with store.transaction(conn):
        store.lock_sign_in_attempts(conn, login_key(username), remote_addr or "unknown")
        wait = login_wait(conn, username, remote_addr, throttle, known_device=known_device)
        if not wait:
            store.insert_login_failure(conn, at=_stamp(now), account=login_key(username),
                                       remote_addr=remote_addr or "unknown",
                                       forget_before=_stamp(now - timedelta(seconds=4 * throttle.window_s)))
    return wait


def record_login_failure(conn, username: str | None, remote_addr: str | None) -> None:
    """The audit record of a failed sign-in (the attempt itself was counted by reserve_attempt)."""
    with store.transaction(conn):
        store.append_audit(conn, actor="anonymous", action="account.login_failed", target=login_key(username),
                           remote_addr=remote_addr)


def clear_login_failures(conn, username: str | None, remote_addr: str | None) -> None:
    """After a successful sign-in, that address starts afresh at that account."""
    with store.transaction(conn):
        store.clear_login_failures(conn, login_key(username), remote_addr or "unknown")


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
