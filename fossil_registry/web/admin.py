"""Administration: accounts and the audit trail."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import auth, csv_export, store
from ..db import get_conn
from ..errors import InvalidInput
from ..sites import parse_timestamp
from .forms import UserForm
from .security import actor, remote_addr, require

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_COLUMNS = ("at", "actor", "action", "target", "remote_addr", "detail")


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
    active = request.form.get("active") == "1"
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


def audit_filters() -> dict:
    return {k: request.args.get(k) or None for k in ("actor", "action", "target", "since", "until")}


def audit_entries(filters: dict, limit: int | None) -> list[dict]:
    tz = current_app.config["TIMEZONE"]
    since = filters.get("since")
    until = filters.get("until")
    return store.list_audit(get_conn(), actor=filters.get("actor"), action=filters.get("action"),
                            target=filters.get("target"),
                            since=parse_timestamp(since + "T00:00:00" if len(since or "") == 10 else since, tz)
                            if since else None,
                            until=parse_timestamp(until, tz) if until else None, limit=limit)


@bp.get("/audit")
@require("audit.read")
def audit():
    filters = audit_filters()
    return render_template("admin/audit.html", entries=audit_entries(filters, 500),
                           filters={k: v for k, v in filters.items() if v})


@bp.get("/audit.csv")
@require("audit.read")
def audit_csv():
    rows = ([e[c] if c != "detail" else (json.dumps(e[c], ensure_ascii=False) if e[c] else "") for c in AUDIT_COLUMNS]
            for e in audit_entries(audit_filters(), None))
    return Response(csv_export.to_csv(AUDIT_COLUMNS, rows), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit.csv"})
