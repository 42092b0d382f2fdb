"""JSON API: sites as GeoJSON (lon/lat, EPSG:4490), with past states by version or timestamp; the caller's account
(/api/me) and the audit trail (/api/audit)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from flask_login import current_user

from .. import audit, auth, public_view, sites
from .ogcapi import items as ogcapi_items
from ..db import get_conn
from ..errors import InvalidInput
from ..http.requests import positive_int_arg, query_args
from ..http.security import can, require
from ..messages import msg

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/sites")
@require("public.read")
def list_sites():
    """An alias of /ogcapi/collections/sites/items: the same parameters (bbox, limit, cursor/before, crs, datetime,
    queryables), keyset paging and public view."""
    return ogcapi_items("sites")


@bp.get("/sites/<code>")
@require("public.read")
def get_site(code: str):
    conn = get_conn()
    version, as_of = positive_int_arg("version"), request.args.get("as_of")
    if version is not None and as_of:
        raise InvalidInput(msg("api.give_either_version_both", "give either version or as_of, not both"))
    if not can("site.read_exact"):
        if version is not None or as_of:
            abort(401, "Past versions are for signed-in staff.")
        return jsonify(public_view.get_public(conn, code).to_json())
    if version is not None:
        site = sites.at_version(conn, code, version)
    elif as_of:
        site = sites.as_of(conn, code, as_of, current_app.config["TIMEZONE"])
    else:
        site = sites.current(conn, code)
    body = site.to_json()
    if site.reason is not None:
        body["reason"] = site.reason
    return jsonify(body)


@bp.get("/sites/<code>/versions")
@require("site.read_exact")
def site_versions(code: str):
    versions = sites.history(get_conn(), code)
    return jsonify({"code": code, "versions": [
        {"version": v.version, "operation": v.operation, "created_at": v.created_at, "author": v.author,
         "reviewer": v.reviewer, "reason": v.reason, "revision_id": v.revision_id} for v in versions]})


@bp.get("/sites/<code>/diff")
@require("site.read_exact")
def site_diff(code: str):
    a, b = positive_int_arg("from"), positive_int_arg("to")
    if a is None or b is None:
        raise InvalidInput(msg("api.give_two_versions_compare", "give the two versions to compare as ?from=N&to=M"))
    return jsonify(sites.diff(get_conn(), code, a, b))


@bp.get("/me")
@require("account.self")
def me():
    return jsonify({"username": current_user.username, "role": current_user.role,
                    "permissions": sorted(p for p in auth.POLICY if can(p))})


@bp.get("/audit", endpoint="audit")
@require("audit.read")
def audit_entries():
    limit = min(positive_int_arg("limit") or 500, 10000)
    found = audit.entries(get_conn(), query_args(*audit.FILTERS), tz=current_app.config["TIMEZONE"], limit=limit)
    return jsonify({"entries": found})


def init_app(app) -> None:
    app.register_blueprint(bp)
