"""Administration: accounts and the audit trail."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import audit, auth
from ..db import get_conn
from ..errors import InvalidInput
from ..http.requests import query_args
from ..http.responses import csv_download
from ..http.security import actor, remote_addr, require
from .forms import UserForm
from ..messages import msg

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@require("user.manage")
def users():
    return render_template("admin/users.html", users=auth.list_users(get_conn()), form=UserForm())


@bp.post("/users")
@require("user.manage")
def create_user():
    form = UserForm()
    conn = get_conn()
    error = None
    if form.validate():
        try:
            auth.create_user(conn, username=form.username.data.strip(), role=form.role.data,
                             password=form.password.data, display_name=form.display_name.data or None,
                             actor=actor(), remote_addr=remote_addr())
            flash(_("Account %(name)s created.", name=form.username.data.strip()), "success")
            return redirect(url_for("admin.users"), 303)
        except InvalidInput as exc:
            error = exc.detail
    else:
        error = "; ".join(f"{form[k].label.text}: {' '.join(v)}" for k, v in form.errors.items())
    return render_template("admin/users.html", users=auth.list_users(conn), form=form, error=error), 422


@bp.post("/users/<username>/active")
@require("user.manage")
def set_active(username: str):
    value = request.form.get("active")
    if value not in ("0", "1"):  # anything but "1" used to disable the account
        raise InvalidInput(msg('web.active_enable_account_disable', 'active must be 1 (enable the account) or 0 (disable it)'), field="active")
    active = value == "1"
    auth.set_active(get_conn(), username, active, actor=actor(), remote_addr=remote_addr())
    flash(_("Account %(name)s enabled.", name=username) if active else _("Account %(name)s disabled.", name=username),
          "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<username>/role")
@require("user.manage")
def set_role(username: str):
    auth.set_role(get_conn(), username, request.form.get("role", ""), actor=actor(), remote_addr=remote_addr())
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<username>/revoke-tokens")
@require("user.manage")
def revoke_tokens(username: str):
    count = auth.revoke_tokens(get_conn(), username, actor=actor(), remote_addr=remote_addr())
    flash(_("%(count)d token(s) of %(name)s revoked.", count=count, name=username), "success")
    return redirect(url_for("admin.users"), 303)


def _entries(limit: int | None) -> tuple[list[dict], dict]:
    filters = query_args(*audit.FILTERS)
    return audit.entries(get_conn(), filters, tz=current_app.config["TIMEZONE"], limit=limit), filters


@bp.get("/audit", endpoint="audit")
@require("audit.read")
def audit_page():
    entries, filters = _entries(500)
    return render_template("admin/audit.html", entries=entries, filters={k: v for k, v in filters.items() if v},
                           action_label=audit.action_label)


@bp.get("/audit.csv")
@require("audit.read")
def audit_csv():
    return csv_download(audit.COLUMNS, audit.rows(_entries(None)[0], current_app.config["TIMEZONE"]), "audit.csv")


def init_app(app) -> None:
    app.register_blueprint(bp)
