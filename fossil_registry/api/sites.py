"""JSON API: sites as GeoJSON (lon/lat, EPSG:4490), with past states by version or timestamp; the caller's account
(/api/me) and the audit trail (/api/audit)."""
from __future__ import annotations

from typing import Annotated, Union

from flask import Blueprint, abort, current_app, jsonify, request
from flask_login import current_user
from pydantic import Field

from .. import audit, auth, public_view, sites
from .ogcapi import items as ogcapi_items, items_params
from ..db import get_conn
from ..errors import InvalidInput
from ..http import openapi as api_spec
from ..http.openapi import CONTENT_CRS, json_response, op, or_html, param, path_param, problem_responses
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
    return feature_state(code, sites.SITE)


def feature_state(code: str, kind: sites.FeatureKind | None = None):
    """A site's (or with ``kind``, another feature's) state: exact for staff, at ``version`` or ``as_of`` if asked;
    the public view for everyone else."""
    conn = get_conn()
    version, as_of = positive_int_arg("version"), request.args.get("as_of")
    if version is not None and as_of:
        raise InvalidInput(msg("api.give_either_version_both", "give either version or as_of, not both"))
    if not can("site.read_exact"):
        if version is not None or as_of:
            abort(401, "Past versions are for signed-in staff.")
        public = public_view.get_public(conn, code) if kind is None else public_view.get_public(conn, code, kind=kind)
        return jsonify(public.to_json())
    if version is not None:
        feature = sites.at_version(conn, code, version, kind)
    elif as_of:
        feature = sites.as_of(conn, code, as_of, current_app.config["TIMEZONE"], kind)
    else:
        feature = sites.current(conn, code, kind=kind)
    body = feature.to_json()
    if feature.reason is not None:
        body["reason"] = feature.reason
    return jsonify(body)


@bp.get("/sites/<code>/versions")
@require("site.read_exact")
def site_versions(code: str):
    return feature_versions(code, sites.SITE)


def feature_versions(code: str, kind: sites.FeatureKind | None = None):
    versions = sites.history(get_conn(), code, kind)
    return jsonify({"code": code, "versions": [
        {"version": v.version, "operation": v.operation, "created_at": v.created_at, "author": v.author,
         "reviewer": v.reviewer, "reason": v.reason, "revision_id": v.revision_id} for v in versions]})


@bp.get("/sites/<code>/diff")
@require("site.read_exact")
def site_diff(code: str):
    return feature_diff(code, sites.SITE)


def feature_diff(code: str, kind: sites.FeatureKind | None = None):
    a, b = positive_int_arg("from"), positive_int_arg("to")
    if a is None or b is None:
        raise InvalidInput(msg("api.give_two_versions_compare", "give the two versions to compare as ?from=N&to=M"))
    return jsonify(sites.diff(get_conn(), code, a, b, kind))


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


# ------------------------------------------------------------------------------------------------------ OpenAPI
def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import sites as m
    from .models.common import ONE_OF, FeatureCollection, Id

    _CODE = path_param("code", "the site code, e.g. GZ-0001", example="GZ-0001")
    _TAGS = ["Sites"]
    _AS_OF = ("an ISO-8601 date or time (a bare date: the end of that day; no offset: the registry's time zone)")
    _LIMIT = Annotated[int, Field(ge=1, default=500)]
    PATHS = {
        "/api/sites": {"get": op(
            "Site locations as GeoJSON (an alias of /ogcapi/collections/sites/items)", tags=_TAGS, params=items_params(),
            operation_id="listSites", responses={
                "200": or_html({**json_response(FeatureCollection, media="application/geo+json", headers=CONTENT_CRS),
                                "description": "one page of sites (the public view for anonymous callers)"}),
                **problem_responses(400, 404)})},
        "/api/sites/{code}": {"get": op(
            "One site: staff get the exact current state or a past one; anonymous callers the public view",
            tags=_TAGS, operation_id="getSite", params=[
                _CODE, param("version", schema=Id, description="a past version (staff)"),
                param("as_of", description="the state at this instant (staff): " + _AS_OF)],
            responses={"200": json_response(Annotated[Union[m.SiteState, m.PublicSite], ONE_OF]),
                       **problem_responses(404, 422)})},
        "/api/sites/{code}/versions": {"get": op(
            "A site's version history", tags=_TAGS, auth=True, params=[_CODE], operation_id="getSiteVersions",
            responses={"200": json_response(m.SiteVersions), **problem_responses(403, 404)})},
        "/api/sites/{code}/diff": {"get": op(
            "What changed between two versions of a site", tags=_TAGS, auth=True, operation_id="diffSite", params=[
                _CODE, param("from", schema=Id, required=True), param("to", schema=Id, required=True)],
            responses={"200": json_response(m.SiteDiff), **problem_responses(403, 404, 422)})},
        "/api/me": {"get": op("The caller's account: name, role and permissions", tags=["Accounts"], auth=True,
                              operation_id="getMe", responses={"200": json_response(m.Me), **problem_responses(403)})},
        "/api/audit": {"get": op(
            "The audit trail, newest first (admins)", tags=["Accounts"], auth=True, operation_id="getAudit", params=[
                param("limit", schema=_LIMIT, description="entries at most (values above 10000 give 10000)"),
                param("actor", description="who"), param("action", description="what (a prefix; a trailing * is "
                                                                                "allowed)"),
                param("target", description="on what"),
                param("since", description="from this date or time: " + _AS_OF.replace("the end", "the start")),
                param("until", description="up to this date or time: " + _AS_OF)],
            responses={"200": json_response(m.AuditEntries), **problem_responses(403, 422)})},
    }
    return PATHS, m.MODELS


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)
