"""JSON API of the stratigraphic sections (the sites' conventions: GeoJSON in lon/lat, EPSG:4490; the public view for
anonymous callers; versions, diffs, proposals and inspections through the sites' machinery) and of the protection
markers of sites and sections."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, request, url_for

from .. import inspections, markers, public_view, revisions, sites
from ..db import get_conn
from ..errors import InvalidInput
from ..messages import msg
from ..http import openapi as api_spec
from ..http.openapi import json_body, json_response, op, param, path_param, problem_responses, ref
from ..http.requests import positive_int_arg, uploads
from ..http.responses import jsonify
from ..http.security import actor, can, remote_addr, require
from ..http.settings import (blob_store, inspection_settings, marker_settings, photo_link, photo_url,
                             revision_policy)
from ..sections import SECTION
from .inspections import _record_input
from .ogcapi import items as ogcapi_items
from .revisions import _created, submission

bp = Blueprint("sections_api", __name__, url_prefix="/api")


@bp.get("/sections")
@require("public.read")
def list_sections():
    """An alias of /ogcapi/collections/sections/items (the same parameters, paging and public view)."""
    return ogcapi_items("sections")


@bp.get("/sections/<code>")
@require("public.read")
def get_section(code: str):
    conn = get_conn()
    version, as_of = positive_int_arg("version"), request.args.get("as_of")
    if version is not None and as_of:
        raise InvalidInput(msg("api.give_either_version_both", "give either version or as_of, not both"))
    if not can("site.read_exact"):
        if version is not None or as_of:
            abort(401, "Past versions are for signed-in staff.")
        return jsonify(public_view.get_public(conn, code, kind=SECTION).to_json())
    if version is not None:
        section = sites.at_version(conn, code, version, SECTION)
    elif as_of:
        section = sites.as_of(conn, code, as_of, current_app.config["TIMEZONE"], SECTION)
    else:
        section = sites.current(conn, code, kind=SECTION)
    body = section.to_json()
    if section.reason is not None:
        body["reason"] = section.reason
    return jsonify(body)


@bp.get("/sections/<code>/versions")
@require("site.read_exact")
def section_versions(code: str):
    versions = sites.history(get_conn(), code, SECTION)
    return jsonify({"code": code, "versions": [
        {"version": v.version, "operation": v.operation, "created_at": v.created_at, "author": v.author,
         "reviewer": v.reviewer, "reason": v.reason, "revision_id": v.revision_id} for v in versions]})


@bp.get("/sections/<code>/diff")
@require("site.read_exact")
def section_diff(code: str):
    a, b = positive_int_arg("from"), positive_int_arg("to")
    if a is None or b is None:
        raise InvalidInput(msg("api.give_two_versions_compare", "give the two versions to compare as ?from=N&to=M"))
    return jsonify(sites.diff(get_conn(), code, a, b, SECTION))


def _propose(code: str | None):
    fields, upload, attachments = submission()
    draft = revisions.parse_draft(fields, file=upload, policy=revision_policy(), attachments=attachments, line=True)
    rev = revisions.propose(get_conn(), draft, author=actor(), site_code=code, policy=revision_policy(),
                            remote_addr=remote_addr(), feature=SECTION)
    return _created(rev)


@bp.post("/sections")
@require("revision.propose")
def propose_section():
    """A new section, as a proposal (reviewed like every change)."""
    return _propose(None)


@bp.post("/sections/<code>/revisions")
@require("revision.propose")
def propose_section_change(code: str):
    return _propose(code)


@bp.post("/sections/<code>/inspections")
@require("inspection.write")
def inspect_section(code: str):
    conn = get_conn()
    sites.current(conn, code, kind=SECTION)  # a site's code here is an unknown section
    data, multipart = _record_input()
    record = inspections.parse_record(data, default_inspector=actor())
    rec = inspections.record_inspection(
        conn, blob_store(), code, record, settings=inspection_settings(), actor=actor(),
        track=(uploads("track") or [None])[0] if multipart else None, photos=uploads("photos") if multipart else (),
        remote_addr=remote_addr())
    response = jsonify(inspections.inspection_json(rec, photo_url=photo_url))
    response.status_code = 201
    response.headers["Location"] = url_for("inspections_api.get", inspection_id=rec["fid"])
    return response


@bp.get("/sections/<code>/inspections")
@require("site.read_exact")
def section_inspections(code: str):
    conn = get_conn()
    sites.current(conn, code, kind=SECTION)
    records = inspections.list_for_site(conn, code, with_photos=True)
    return jsonify({"section": code, "inspections": [inspections.inspection_json(r, photo_url=photo_url)
                                                     for r in records]})


# ------------------------------------------------------------------------------------------------------ markers
def _kind() -> sites.FeatureKind:
    return SECTION if request.path.startswith("/api/sections/") else sites.SITE


def _marker_json(m: dict, public: bool) -> dict:
    link = (lambda p: {"url": url_for("sections.marker_photo", marker_id=m["fid"], sha256=p["sha256"])}) if public \
        else photo_link
    return markers.marker_json(m, photo_url=link, public=public)


@bp.get("/sites/<code>/markers")
@bp.get("/sections/<code>/markers", endpoint="section_markers")
@require("public.read")
def feature_markers(code: str):
    """A feature's markers; anonymous callers only those of an open, active site or section."""
    public = not can("site.read_exact")
    found = markers.markers_of(get_conn(), code, public=public, kind=_kind())
    return jsonify({"feature": code, "markers": [_marker_json(m, public) for m in found]})


@bp.post("/sites/<code>/markers")
@bp.post("/sections/<code>/markers", endpoint="add_section_marker")
@require("marker.write")
def add_marker(code: str):
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data, photos = {k: v for k, v in request.form.items() if v not in (None, "")}, uploads("photos")
    else:
        data, photos = request.get_json(silent=True), []
        if not isinstance(data, dict):
            raise InvalidInput(msg("api.send_marker_json", "send the marker as a JSON object, or as "
                                   "multipart/form-data with photos"))
    m = markers.add_marker(get_conn(), blob_store(), code, data, settings=marker_settings(), actor=actor(),
                           photos=photos, remote_addr=remote_addr(), kind=_kind())
    return jsonify(_marker_json(m, public=False)), 201


# ------------------------------------------------------------------------------------------------------ OpenAPI
_TAGS = ["Sections and markers"]
_CODE = path_param("code", "the section's code, e.g. GZS-0001")
_SITE_CODE = path_param("code", "the site's code, e.g. GZ-0001")
SCHEMAS = {
    "SectionState": {"type": "object", "required": ["code", "version", "properties", "line"], "properties": {
        "code": {"type": "string"}, "version": {"type": "integer"},
        "properties": {"type": "object", "description": "name, name_en, county, level, significance, period, age, "
                       "formation, units, stratigraphic_boundaries, sensitivity, status, length_m (geodesic, m)"},
        "line": {"nullable": True, "allOf": [ref("Geometry")]}, "boundary": {"nullable": True, "allOf": [ref("Geometry")]},
        "location": {"allOf": [ref("Geometry")], "description": "public view of a generalized section: its cell centre"},
        "location_precision": {"type": "string"}}},
    "SectionProposal": {"type": "object", "required": ["reason"], "properties": {
        "reason": {"type": "string"}, "base_version": {"type": "integer"},
        "line": {"description": "GeoJSON LineString, or typed coordinates one point per line (base to top)"},
        "boundary": {"description": "GeoJSON Polygon/MultiPolygon"}, "remove_boundary": {"type": "boolean"},
        "properties": {"type": "object"}, "crs": {"type": "string"}, "method": {"type": "string"},
        "accuracy_m": {"type": "number"}, "survey_date": {"type": "string", "format": "date"},
        "target": {"type": "string", "enum": ["line", "boundary"], "description": "multipart: what the file holds"}}},
    "Marker": {"type": "object", "properties": {
        "id": {"type": "integer"}, "feature": {"type": "string"},
        "kind": {"type": "string", "enum": list(markers.KINDS)}, "inscription": {"type": "string", "nullable": True},
        "inscription_en": {"type": "string", "nullable": True}, "erected_on": {"type": "string", "nullable": True},
        "point": ref("Geometry"), "last_condition": {"type": "string", "nullable": True},
        "last_checked_on": {"type": "string", "nullable": True}, "photos": {"type": "array", "items": {"type": "object"}},
        "warnings": {"type": "array", "items": {"type": "string"}}}},
    "MarkerInput": {"type": "object", "required": ["kind", "point"], "properties": {
        "kind": {"type": "string", "enum": list(markers.KINDS)},
        "point": {"description": "[lon, lat], a GeoJSON Point or typed coordinates"},
        "inscription": {"type": "string"}, "inscription_en": {"type": "string"},
        "erected_on": {"type": "string", "format": "date"}}},
}
_STATE = json_response(ref("SectionState"))
_MARKERS = json_response({"type": "object", "properties": {"feature": {"type": "string"},
                                                           "markers": {"type": "array", "items": ref("Marker")}}})
_PROPOSAL = json_body(ref("SectionProposal"), form=True)
_CREATED = {"201": json_response({"type": "object"}, "the proposal (see /api/revisions/{id})")}
PATHS = {
    "/api/sections": {
        "get": op("Sections as GeoJSON (alias of /ogcapi/collections/sections/items)", tags=_TAGS,
                  responses={"200": json_response(ref("FeatureCollection"), media="application/geo+json"),
                             **problem_responses(400)}),
        "post": op("Propose a new section (JSON, or multipart with a file and target=line|boundary)", tags=_TAGS,
                   auth=True, body=_PROPOSAL, responses={**_CREATED, **problem_responses(401, 403, 413, 422)})},
    "/api/sections/{code}": {"get": op(
        "A section: version, line, boundary, properties (public view for anonymous callers)", tags=_TAGS,
        params=[_CODE, param("version", schema={"type": "integer"}, description="a past version (staff)"),
                param("as_of", description="the state at an ISO-8601 date or time (staff)")],
        responses={"200": _STATE, **problem_responses(401, 404, 422)})},
    "/api/sections/{code}/versions": {"get": op("A section's version history", tags=_TAGS, auth=True, params=[_CODE],
                                                responses={"200": json_response({"type": "object"}),
                                                           **problem_responses(401, 404)})},
    "/api/sections/{code}/diff": {"get": op(
        "What changed between two versions (fields, geodesic figures, length before/after)", tags=_TAGS, auth=True,
        params=[_CODE, param("from", schema={"type": "integer"}, required=True),
                param("to", schema={"type": "integer"}, required=True)],
        responses={"200": json_response({"type": "object"}), **problem_responses(401, 404, 422)})},
    "/api/sections/{code}/revisions": {"post": op(
        "Propose a change to a section (JSON, or multipart with file and target=line|boundary: GPX, KML/KMZ, zipped "
        "Shapefile, GeoPackage, CSV)", tags=_TAGS, auth=True, params=[_CODE], body=_PROPOSAL,
        responses={**_CREATED, **problem_responses(401, 403, 404, 413, 422)})},
    "/api/sections/{code}/inspections": {
        "post": op("Record an inspection of a section (as for sites; markers: the condition of each marker)",
                   tags=_TAGS, auth=True, params=[_CODE], body=json_body({"type": "object"}, form=True),
                   responses={"201": json_response({"type": "object"}), **problem_responses(401, 403, 404, 422)}),
        "get": op("A section's inspection records", tags=_TAGS, auth=True, params=[_CODE],
                  responses={"200": json_response({"type": "object"}), **problem_responses(401, 404)})},
    "/api/sites/{code}/markers": {
        "get": op("A site's protection markers (anonymous callers: those of an open site)", tags=_TAGS,
                  params=[_SITE_CODE], responses={"200": _MARKERS, **problem_responses(404)}),
        "post": op("Record a protection marker of a site (JSON, or multipart with photos)", tags=_TAGS, auth=True,
                   params=[_SITE_CODE], body=json_body(ref("MarkerInput"), form=True),
                   responses={"201": json_response(ref("Marker")), **problem_responses(401, 403, 404, 422)})},
    "/api/sections/{code}/markers": {
        "get": op("A section's protection markers (anonymous callers: those of an open section)", tags=_TAGS,
                  params=[_CODE], responses={"200": _MARKERS, **problem_responses(404)}),
        "post": op("Record a protection marker of a section (JSON, or multipart with photos)", tags=_TAGS, auth=True,
                   params=[_CODE], body=json_body(ref("MarkerInput"), form=True),
                   responses={"201": json_response(ref("Marker")), **problem_responses(401, 403, 404, 422)})},
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, PATHS, SCHEMAS)
