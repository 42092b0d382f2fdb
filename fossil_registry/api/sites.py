"""JSON API: sites as GeoJSON (lon/lat, EPSG:4490), with past states by version or timestamp; the caller's account
(/api/me) and the audit trail (/api/audit)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from flask_login import current_user

from .. import audit, auth, public_view, sites
from .ogcapi import ITEMS_PARAMS, items as ogcapi_items
from ..db import get_conn
from ..errors import InvalidInput
from ..http import openapi as api_spec
from ..http.openapi import (DATE_TIME, ID, INTEGER, STRING, array, enum, json_response, nullable, obj, op, or_html,
                            param, path_param, problem_responses, ref)
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
    return feature_state(code)


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
    return feature_versions(code)


def feature_versions(code: str, kind: sites.FeatureKind | None = None):
    versions = sites.history(get_conn(), code, kind)
    return jsonify({"code": code, "versions": [
        {"version": v.version, "operation": v.operation, "created_at": v.created_at, "author": v.author,
         "reviewer": v.reviewer, "reason": v.reason, "revision_id": v.revision_id} for v in versions]})


@bp.get("/sites/<code>/diff")
@require("site.read_exact")
def site_diff(code: str):
    return feature_diff(code)


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
_CODE = path_param("code", "the site code, e.g. GZ-0001", {"type": "string", "example": "GZ-0001"})
_STATE = {"code": STRING, "version": ID, "properties": ref("SiteProperties"), "location": ref("Point"),
          "boundary": nullable(ref("MultiPolygon"))}
SCHEMAS = {
    "SiteState": obj({**_STATE, "updated_at": DATE_TIME, "updated_by": STRING}, {"reason": nullable(STRING)},
                     description="a site as staff see it, exact (reason: of this version, when asked for a past one)"),
    "PublicSite": obj({**_STATE, "location_precision": enum(["exact", "0.1-degree grid cell centre"])},
                      description="a site as anonymous callers see it: generalized sites at their 0.1-degree cell "
                                  "centre without boundary, numbers in their texts withheld"),
    "SiteVersions": obj({"code": STRING, "versions": array(obj({
        "version": ID, "operation": STRING, "created_at": DATE_TIME, "author": STRING, "reviewer": nullable(STRING),
        "reason": nullable(STRING), "revision_id": nullable(ID)}))}),
    "SiteDiff": obj({"code": STRING, "from_version": ID, "to_version": ID,
                     "properties": {"type": "object", "description": "changed fields: {field: {old, new}}",
                                    "additionalProperties": obj({}, {"old": {"nullable": True},
                                                                     "new": {"nullable": True}})},
                     "location_changed": {"type": "boolean"}, "boundary_changed": {"type": "boolean"},
                     "metrics": ref("Metrics")}),
    "Me": obj({"username": STRING, "role": enum(auth.ROLES), "permissions": array(enum(sorted(auth.POLICY)))}),
    "AuditEntries": obj({"entries": array(obj({
        "fid": ID, "at": DATE_TIME, "actor": STRING, "action": STRING, "target": nullable(STRING),
        "remote_addr": nullable(STRING),
        "detail": {"type": "object", "nullable": True, "description": "what the action did (depends on the action)"}
    }))}),
}
_TAGS = ["Sites"]
_AS_OF = ("an ISO-8601 date or time (a bare date: the end of that day; no offset: the registry's time zone)")
PATHS = {
    "/api/sites": {"get": op(
        "Site locations as GeoJSON (an alias of /ogcapi/collections/sites/items)", tags=_TAGS, params=ITEMS_PARAMS,
        operation_id="listSites", responses={
            "200": or_html({**json_response(ref("FeatureCollection"), media="application/geo+json", headers={
                "Content-Crs": {"schema": STRING, "description": "the CRS of the coordinates"}}),
                "description": "one page of sites (the public view for anonymous callers)"}),
            **problem_responses(400, 404)})},
    "/api/sites/{code}": {"get": op(
        "One site: staff get the exact current state or a past one; anonymous callers the public view",
        tags=_TAGS, operation_id="getSite", params=[
            _CODE, param("version", schema=ID, description="a past version (staff)"),
            param("as_of", description="the state at this instant (staff): " + _AS_OF)],
        responses={"200": json_response({"oneOf": [ref("SiteState"), ref("PublicSite")]}),
                   **problem_responses(404, 422)})},
    "/api/sites/{code}/versions": {"get": op(
        "A site's version history", tags=_TAGS, auth=True, params=[_CODE], operation_id="getSiteVersions",
        responses={"200": json_response(ref("SiteVersions")), **problem_responses(403, 404)})},
    "/api/sites/{code}/diff": {"get": op(
        "What changed between two versions of a site", tags=_TAGS, auth=True, operation_id="diffSite", params=[
            _CODE, param("from", schema=ID, required=True), param("to", schema=ID, required=True)],
        responses={"200": json_response(ref("SiteDiff")), **problem_responses(403, 404, 422)})},
    "/api/me": {"get": op("The caller's account: name, role and permissions", tags=["Accounts"], auth=True,
                          operation_id="getMe", responses={"200": json_response(ref("Me")),
                                                           **problem_responses(403)})},
    "/api/audit": {"get": op(
        "The audit trail, newest first (admins)", tags=["Accounts"], auth=True, operation_id="getAudit", params=[
            param("limit", schema={**INTEGER, "minimum": 1, "default": 500},
                  description="entries at most (values above 10000 give 10000)"),
            param("actor", description="who"), param("action", description="what (a prefix; a trailing * is "
                                                                            "allowed)"),
            param("target", description="on what"),
            param("since", description="from this date or time: " + _AS_OF.replace("the end", "the start")),
            param("until", description="up to this date or time: " + _AS_OF)],
        responses={"200": json_response(ref("AuditEntries")), **problem_responses(403, 422)})},
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, PATHS, SCHEMAS)
