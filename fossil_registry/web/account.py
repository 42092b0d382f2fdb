"""Sign-in, sign-out and one's own API tokens."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from .. import auth, store
from ..db import get_conn
from .forms import LoginForm, TokenForm
from .security import SessionUser, account_limit_key, actor, client_limit_key, limiter, remote_addr, require

bp = Blueprint("account", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _failed_attempt(response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_CLIENT"], key_func=client_limit_key, methods=["POST"],
               deduct_when=_failed_attempt, scope="login-client")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=account_limit_key, methods=["POST"],
               deduct_when=_failed_attempt, scope="login-account")
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if request.method == "GET":
        return render_template("auth/login.html", form=form)
    conn = get_conn()
    if not form.validate():
        return render_template("auth/login.html", form=form, error=_("Enter your user name and password.")), 401
    try:
        user = auth.authenticate(conn, form.username.data.strip(), form.password.data)
    except auth.AuthenticationFailed:
        with store.transaction(conn):
            store.append_audit(conn, actor="anonymous", action="account.login_failed",
                               target=form.username.data.strip()[:40], remote_addr=remote_addr())
        return render_template("auth/login.html", form=form, error=_("Unknown user name or wrong password.")), 401
    login_user(SessionUser(user))
    with store.transaction(conn):
        store.append_audit(conn, actor=user.username, action="account.login", target=user.username,
                           remote_addr=remote_addr())
    return redirect(_safe_next(form.next.data))


@bp.post("/logout")
def logout():
    logout_user()
    return redirect("/")


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
    app.config.setdefault("LOGIN_LIMIT_PER_CLIENT", "20 per 10 minutes")
    app.config.setdefault("LOGIN_LIMIT_PER_ACCOUNT", "5 per 5 minutes")

    @app.errorhandler(429)
    def _too_many(exc):
        from ..http_errors import problem, wants_problem_json
        message = _("Too many failed sign-in attempts. Wait a few minutes, then try again.")
        if wants_problem_json():
            return problem(429, "Too many requests", message)
        if request.endpoint == "account.login":
            return render_template("auth/login.html", form=LoginForm(), error=message), 429
        return render_template("error.html", status=429, title=_("Too many requests"), detail=message), 429

    app.register_blueprint(bp)


