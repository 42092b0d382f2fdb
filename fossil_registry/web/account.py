"""Sign-in, sign-out and one's own API tokens."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .. import auth
from ..db import get_conn
from ..http.errors import problem, wants_problem_json
from ..http.security import (SessionUser, actor, remote_addr, require, safe_redirect_target,
                             unauthorized_problem)
from ..http.settings import login_throttle
from .forms import LoginForm, TokenForm

bp = Blueprint("account", __name__)


def _too_many(form: LoginForm, wait: int):
    message = _("Too many failed sign-in attempts. Wait %(seconds)d seconds, then try again.", seconds=wait)
    if wants_problem_json() or request.is_json:
        response = problem(429, "Too many requests", message)
    else:
        response = current_app.make_response((render_template("auth/login.html", form=form, error=message), 429))
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign-in from the form or a JSON body ({"username", "password", "csrf_token"}): the same checks and the same
    back-off for both (auth.LoginThrottle, keyed on the account name either way)."""
    if request.method == "POST" and request.is_json and not _text_fields(request.get_json(silent=True)):
        return problem(400, "Bad request", 'send {"username": "...", "password": "..."} as text')
    form = LoginForm(next=request.args.get("next", ""))
    if request.method == "GET":
        return render_template("auth/login.html", form=form)
    if not form.validate():
        return render_template("auth/login.html", form=form, error=_("Enter your user name and password.")), 401
    conn = get_conn()
    username = form.username.data.strip()
    known = auth.login_key(username) in _known_accounts()
    wait = auth.reserve_attempt(conn, username, remote_addr(), login_throttle(), known_device=known)
    if wait:
        return _too_many(form, wait)  # refused before the password is looked at, and not counted
    try:
        user = auth.authenticate(conn, username, form.password.data)
    except auth.AuthenticationFailed:
        auth.record_login_failure(conn, username, remote_addr())
        return render_template("auth/login.html", form=form, error=_("Unknown user name or wrong password.")), 401
    auth.clear_login_failures(conn, username, remote_addr())
    lifetime = timedelta(hours=float(current_app.config["SESSION_LIFETIME_HOURS"]))
    token = auth.start_session(conn, user, lifetime=lifetime, remote_addr=remote_addr())
    session.clear()  # a new session for a new sign-in (no fixation)
    login_user(SessionUser(user, session_token=token))
    response = redirect(safe_redirect_target(form.next.data))
    _remember_device(response, auth.login_key(username))
    return response


def _text_fields(body) -> bool:
    return isinstance(body, dict) and all(isinstance(body.get(k, ""), str)
                                          for k in ("username", "password", "csrf_token", "next"))


# A device cookie (OWASP's answer to lockout): a browser that signed in to an account before is not held up by
# failures at that account from other addresses. Signed with the app's key; names only the accounts (lower case).
DEVICE_COOKIE = "registry_device"
DEVICE_DAYS = 365


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-device")


def _known_accounts() -> list[str]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        accounts = _device_signer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return []
    return [a for a in accounts if isinstance(a, str)] if isinstance(accounts, list) else []


def _remember_device(response, account: str) -> None:
    accounts = [account] + [a for a in _known_accounts() if a != account][:7]
    response.set_cookie(DEVICE_COOKIE, _device_signer().dumps(accounts), max_age=DEVICE_DAYS * 86400, httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure)


@bp.post("/logout")
def logout():
    token = getattr(current_user, "session_token", None)
    if token:
        auth.end_session(get_conn(), token, actor=actor(), remote_addr=remote_addr())
    logout_user()
    session.clear()
    response = redirect("/")
    # a shared phone keeps nothing of the account: its cached pages and data, its queue of unsent records, the service
    # worker (the page's script has cleared what it could already: docs/offline.md)
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.get("/account")
@require("account.self")
def index():
    conn = get_conn()
    return render_template("account/index.html", tokens=auth.list_tokens(conn, current_user.username),
                           token_form=TokenForm())


@bp.post("/account/tokens")
@require("account.self")
def create_token():
    form = TokenForm()
    conn = get_conn()
    if not form.validate():
        flash(_("A token is valid for 1 to 3650 days."), "error")
        return render_template("account/index.html", tokens=auth.list_tokens(conn, current_user.username),
                               token_form=form), 422
    token = auth.issue_token(conn, current_user.username, label=form.label.data or None, days=form.days.data or 365,
                             actor=actor(), remote_addr=remote_addr())
    response = current_app.make_response((render_template(
        "account/index.html", tokens=auth.list_tokens(conn, current_user.username), token_form=TokenForm(),
        new_token=token), 201))
    return response


@bp.post("/account/tokens/<int:token_id>/revoke")
@require("account.self")
def revoke_token(token_id: int):
    count = auth.revoke_tokens(get_conn(), current_user.username, token_id=token_id, actor=actor(),
                               remote_addr=remote_addr())
    flash(_("Token revoked.") if count else _("No such active token."), "success" if count else "error")
    return redirect(url_for("account.index"))


def init_app(app) -> None:
    @app.errorhandler(401)
    def _unauthorized(exc):
        """For browsers the sign-in form itself, with status 401; for the API a problem answer."""
        if wants_problem_json():
            return unauthorized_problem(exc)
        return render_template("auth/login.html", form=LoginForm(next=request.full_path.rstrip("?")),
                               message_401=True), 401

    @app.errorhandler(429)
    def _too_many_requests(exc):
        message = _("Too many requests. Wait a few minutes, then try again.")
        if wants_problem_json():
            return problem(429, "Too many requests", message)
        return render_template("error.html", status=429, title=_("Too many requests"), detail=message), 429

    app.register_blueprint(bp)
