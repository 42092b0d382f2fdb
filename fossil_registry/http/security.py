"""Web security glue: who the caller is (session cookie or Bearer token), the one permission check every endpoint uses,
CSRF, sign-in rate limits and the security headers on every response."""
from __future__ import annotations

import secrets
from functools import wraps
from urllib.parse import urlsplit, urlunsplit

from flask import abort, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import AnonymousUserMixin, LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import Unauthorized

from .. import auth
from ..db import get_conn, use_read_replica
from .errors import answer, problem
from .requests import check_json_body

login_manager = LoginManager()
csrf = CSRFProtect()
# storage: RATELIMIT_STORAGE_URI, set by create_app (Redis when REDIS_URL is set, so that app processes share counts)
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True, strategy="fixed-window")

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


class SessionUser:
    """The signed-in account as Flask-Login sees it."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user: auth.User, via_token: bool = False, session_token: str | None = None):
        self.user = user
        self.via_token = via_token
        self.session_token = session_token  # the server-side session this browser signed in with
        self.is_active = user.active

    def get_id(self) -> str | None:
        # what the session cookie holds: the token of a session the server can end (auth.start_session)
        return self.session_token

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> str:
        return self.user.role

    def can(self, permission: str) -> bool:
        return self.user.can(permission)


class Anonymous(AnonymousUserMixin):
    username = None
    role = None

    def can(self, permission: str) -> bool:
        return auth.allowed(None, permission)


def actor() -> str:
    """The name the audit trail records for the current caller."""
    return current_user.username if current_user.is_authenticated else "anonymous"


def remote_addr() -> str | None:
    return request.remote_addr


def can(permission: str) -> bool:
    return current_user.can(permission)


def require(permission: str):
    """The one permission check: 401 for anonymous callers, 403 for signed-in callers whose role lacks it."""
    auth.allowed(None, permission)  # fail at import time on an undeclared permission

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.can(permission):
                abort(403 if current_user.is_authenticated else 401)
            return view(*args, **kwargs)
        wrapped.required_permission = permission
        return wrapped
    return decorator


def sessionless(view):
    """Mark a public endpoint that ignores the session cookie: its caller is anonymous unless it sends an API token.
    With no ambient credential to abuse it needs no CSRF token (e.g. POST /api/reports from any client)."""
    view.sessionless = True
    return view


class _SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app) -> bool:
        # Secure when served over HTTPS (behind a proxy, set FLASK_PROXY_FIX so request.is_secure is right)
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def init_app(app) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked in _authenticate_and_csrf, except for Bearer-token calls
    app.session_interface = _SessionInterface()
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_token_user)
    login_manager.unauthorized_handler(lambda: abort(401))
    csrf.init_app(app)
    limiter.init_app(app)
    app.before_request(_authenticate_and_csrf)
    app.before_request(_reads_may_use_a_replica)
    app.errorhandler(CSRFError)(_csrf_error)
    app.after_request(_security_headers)
    app.context_processor(lambda: {"csp_nonce": lambda: g.get("csp_nonce", ""), "can": can})


def _load_session_user(session_token: str):
    if _bearer_token() is not None:
        return None  # an explicit token decides who the caller is, not a session cookie sent alongside it
    user = auth.user_for_session(get_conn(), session_token)
    return SessionUser(user, session_token=session_token) if user is not None else None


def _load_token_user(_request):
    token = _bearer_token()
    if token is None:
        return None
    user = auth.user_for_token(get_conn(), token)
    if user is None:
        return None
    return SessionUser(user, via_token=True)


def _authenticate_and_csrf():
    g.csp_nonce = secrets.token_urlsafe(16)
    view = current_app.view_functions.get(request.endpoint)
    token_call = _bearer_token() is not None
    if token_call and not current_user.is_authenticated:
        # a token that is given must be valid: never fall back to the anonymous public view
        abort(401, "The API token is invalid, expired or revoked.")
    cookieless = token_call or getattr(view, "sessionless", False)
    if not token_call and cookieless:
        g._login_user = login_manager.anonymous_user()  # Flask-Login's slot: the cookie is not looked at
    needed = getattr(view, "required_permission", None)
    if needed is not None and not current_user.can(needed):
        return None  # require() refuses it (401/403) before anything changes: no CSRF or body check needed
    if request.method in STATE_CHANGING:
        if not cookieless and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()  # token calls and sessionless views carry no cookie a forged form could ride on
        check_json_body()
    return None


def _reads_may_use_a_replica():
    """Anonymous reads and the OGC API may come from a streaming replica (FLASK_DATABASE_READ_URL): nobody there
    expects to see a write of their own at once. Signed-in callers, who must see the proposal they just made or the
    approval they just gave, and every write, use the primary."""
    if request.method in ("GET", "HEAD") and (request.path.startswith("/ogcapi") or not current_user.is_authenticated):
        use_read_replica()


def _csrf_error(exc):
    return answer(403, "Forbidden", "The form has expired or did not come from this site (missing or invalid CSRF "
                                    "token). Reload the page and try again.")


def _security_headers(response):
    nonce = g.get("csp_nonce", "")
    tiles = " ".join(current_app.config.get("CSP_IMG_SOURCES", ()))
    response.headers.setdefault("Content-Security-Policy", "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",  # Leaflet positions map panes with inline style attributes
        f"img-src 'self' data: blob: {tiles}".strip(),
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",  # the offline service worker (/sw.js) and nothing else
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
    if response.status_code == 401 and request.path.startswith("/api/"):
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="fossil-registry"')
    if not request.path.startswith(current_app.static_url_path + "/"):
        # an answer may differ by caller (the public view for anonymous callers, exact data for staff)
        response.vary.update(("Cookie", "Authorization"))
    if current_user.is_authenticated:  # session or token: exact data, never kept by any cache
        response.headers["Cache-Control"] = "no-store"
    elif "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = _public_cache_policy(response)
    return response


def _public_cache_policy(response) -> str:
    """Every anonymous answer says how it may be kept (areas that decide for themselves, e.g. map layers with their
    ETags or the offline basemap's tiles, set it first). Errors and answers to changes: never. Pages (a CSP nonce, a
    form's CSRF token) and answers that set a cookie: the browser's own cache only, asked again before each use. The
    rest (JSON, GeoJSON, files, assets): any cache, asked again before each use, so that a site just hidden vanishes
    at once; their links never depend on the request's Host (http/links.py)."""
    if response.status_code >= 400 or request.method not in ("GET", "HEAD"):
        return "no-store"
    if response.mimetype == "text/html" or "Set-Cookie" in response.headers:
        return "private, no-cache"
    return "public, no-cache"


def unauthorized_problem(exc):
    """The API's 401 answer (the web answers with the sign-in page: web/account.py): the reason given to abort(), if
    any, else how to sign in."""
    given = exc.description if exc.description != Unauthorized.description else None
    return problem(401, "Unauthorized", given or "Sign in or send a valid API token (Authorization: Bearer ...).")


def safe_redirect_target(target: str | None, fallback: str = "/") -> str:
    """``target`` if it is a path on this site, else ``fallback``. Parsed, not pattern-matched: browsers drop tabs and
    line breaks from URLs and read a backslash as a slash, so "/\t/evil.example" would lead to //evil.example."""
    if not isinstance(target, str) or not target or len(target) > 2000:
        return fallback
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return fallback
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
