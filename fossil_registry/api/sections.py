"""JSON API of the stratigraphic sections (the sites' conventions: GeoJSON in lon/lat, EPSG:4490; the public view for
anonymous callers; versions, diffs, proposals and inspections through the sites' machinery) and of the protection
markers of sites and sections."""
from __future__ import annotations

from flask import Blueprint, request, url_for

from .. import inspections, markers, revisions, sites
from ..db import get_conn
from ..errors import InvalidInput
from ..messages import msg
from ..http import openapi as api_spec
from ..http.openapi import (DATE, DATE_TIME, FILE, ID, LOCATION, NUMBER, PUBLIC_TEXTS, STRING, array, enum, json_body,
                            json_response, nullable, obj, op, or_html, param, path_param, problem_responses, ref)
from ..http.requests import uploads
from ..http.responses import jsonify
from ..http.security import actor, can, remote_addr, require
from ..http.settings import (blob_store, inspection_settings, marker_settings, photo_link, photo_url,
                             revision_policy)
from ..sections import BOUNDARY_RANKS, GSSP_STATES, SECTION, SIGNIFICANCES
from .inspections import RECORD_BODY, _record_input
from .ogcapi import ITEMS_PARAMS, items as ogcapi_items
from .revisions import _GEOMETRY_IN, _SUBMISSION, _created, submission
from .sites import feature_diff, feature_state, feature_versions

bp = Blueprint("sections_api", __name__, url_prefix="/api")


@bp.get("/sections")
@require("public.read")
def list_sections():
    """An alias of /ogcapi/collections/sections/items (the same parameters, paging and public view)."""
    return ogcapi_items("sections")


@bp.get("/sections/<code>")
@require("public.read")
def get_section(code: str):
    return feature_state(code, SECTION)


@bp.get("/sections/<code>/versions")
@require("site.read_exact")
def section_versions(code: str):
    return feature_versions(code, SECTION)


@bp.get("/sections/<code>/diff")
@require("site.read_exact")
def section_diff(code: str):
    return feature_diff(code, SECTION)


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
_CODE = path_param("code", "the section's code, e.g. GZS-0001", {"type": "string", "example": "GZS-0001"})
_SITE_CODE = path_param("code", "the site's code, e.g. GZ-0001", {"type": "string", "example": "GZ-0001"})
_SECTION_FIELDS = {
    "name": STRING, "name_en": nullable(STRING), "county": nullable(STRING), "county_en": nullable(STRING),
    "age": nullable(STRING), "formation": nullable(STRING), "description": nullable(STRING),
    "description_en": nullable(STRING), "level": enum(["national", "provincial", "general"]),
    "significance": nullable(enum(SIGNIFICANCES)), "period": nullable(STRING), "units": array(STRING),
    "stratigraphic_boundaries": array(obj({"name": STRING, "rank": enum(BOUNDARY_RANKS),
                                           "gssp": nullable(enum(GSSP_STATES))})),
    "sensitivity": enum(["open", "generalized", "hidden"]), "established": nullable(DATE),
    "status": enum(["active", "retired"])}
_STATE = {"code": STRING, "version": ID, "properties": ref("SectionProperties"),
          "line": nullable(ref("LineString")), "boundary": nullable(ref("MultiPolygon"))}
_MARKER = {"id": ID, "feature": STRING, "kind": enum(markers.KINDS), "inscription": nullable(STRING),
           "inscription_en": nullable(STRING), "erected_on": nullable(DATE), "point": ref("Point"),
           "last_condition": nullable(enum(markers.CONDITIONS)), "last_checked_on": nullable(DATE),
           "photo_count": {"type": "integer", "minimum": 0}, "photos": array(obj({"url": STRING},
                                                                                 {"sha256": STRING, "name": STRING,
                                                                                  "thumbnail_url": STRING}))}
SCHEMAS = {
    "SectionProperties": obj({**_SECTION_FIELDS, "length_m": {**NUMBER, "description": "geodesic length of the line"}},
                             PUBLIC_TEXTS, description="a section's attributes (every field, null where not given; "
                             "for anonymous callers a generalized section's description is null)"),
    "SectionPropertyChanges": obj({}, {**_SECTION_FIELDS, **PUBLIC_TEXTS},
                                  description="the fields a proposal changes (a section)"),
    "SectionState": obj({**_STATE, "updated_at": DATE_TIME, "updated_by": STRING}, {"reason": nullable(STRING)},
                        description="a section as staff see it, exact (reason: of this version, when asked for a "
                                    "past one)"),
    "PublicSection": obj({**_STATE, "location_precision": enum(["exact", "0.1-degree grid cell centre"])},
                         {"location": ref("Point")},
                         description="a section as anonymous callers see it: a generalized one only as its 0.1-degree "
                                     "cell centre (location; no line, no boundary)"),
    "SectionVersions": obj({"code": STRING, "versions": array(obj({
        "version": ID, "operation": STRING, "created_at": DATE_TIME, "author": STRING, "reviewer": nullable(STRING),
        "reason": nullable(STRING), "revision_id": nullable(ID)}))}),
    "SectionInspections": obj({"section": STRING, "inspections": array(ref("Inspection"))}),
    "Marker": obj(_MARKER, {"created_at": DATE_TIME, "created_by": STRING, "warnings": array(STRING)},
                  description="a protection marker (created_at/by: staff only; warnings: when recorded)"),
    "Markers": obj({"feature": STRING, "markers": array(ref("Marker"))}),
    "MarkerInput": obj({"kind": enum(markers.KINDS),
                        "point": {"anyOf": [ref("Point"), array(NUMBER, minItems=2, maxItems=2), STRING],
                                  "description": "[lon, lat], a GeoJSON Point or typed coordinates"}},
                       {"inscription": nullable({"type": "string", "maxLength": markers.MAX_INSCRIPTION}),
                        "inscription_en": nullable({"type": "string", "maxLength": markers.MAX_INSCRIPTION}),
                        "erected_on": nullable({**DATE, "description": "not in the future"})},
                       description="a marker (other fields are refused)"),
}
_MARKER_FORM = obj({"kind": STRING, "point": STRING}, {"inscription": STRING, "inscription_en": STRING,
                                                      "erected_on": STRING}, closed=False)
_MARKER_BODY = json_body(ref("MarkerInput"), form=_MARKER_FORM,
                         multipart=obj({"kind": STRING, "point": STRING}, {
                             **{k: STRING for k in ("inscription", "inscription_en", "erected_on")},
                             "photos": array(FILE, description="JPEG/PNG photos of the marker")}, closed=False))
_PROPOSAL = json_body(obj({}, {**_SUBMISSION, "line": _GEOMETRY_IN, "line_drawn": _GEOMETRY_IN}, closed=False),
                      form=obj({k: STRING for k in (*_SUBMISSION, "line", "line_drawn", "target", "feature")},
                               closed=False),
                      multipart=obj({**{k: STRING for k in (*_SUBMISSION, "line", "line_drawn", "feature")},
                                     "target": enum(["line", "boundary"], description="what the file holds"),
                                     "file": {**FILE, "description": "GPX, KML/KMZ, zipped Shapefile, GeoPackage, "
                                                                     "GeoJSON or CSV of vertices"},
                                     "attachments": array(FILE)}, closed=False))
_CREATED = {"201": json_response(ref("Proposal"), "the proposal (see /api/revisions/{revision_id})",
                                 headers=LOCATION)}
_SENT = problem_responses(400, 403, 404, 409, 413, 415, 422)
PATHS = {
    "/api/sections": {
        "get": op("Sections as GeoJSON (alias of /ogcapi/collections/sections/items)", tags=_TAGS,
                  operation_id="listSections", params=ITEMS_PARAMS,
                  responses={"200": or_html({**json_response(ref("FeatureCollection"), media="application/geo+json",
                                                              headers={"Content-Crs": {
                                                                  "schema": STRING,
                                                                  "description": "the CRS of the coordinates"}}),
                                             "description": "one page of sections (the public view for anonymous "
                                                            "callers)"}),
                             **problem_responses(400, 404)}),
        "post": op("Propose a new section (JSON, or multipart with a file and target=line|boundary)", tags=_TAGS,
                   auth=True, operation_id="proposeSection", body=_PROPOSAL, responses={**_CREATED, **_SENT})},
    "/api/sections/{code}": {"get": op(
        "A section: version, line, boundary, properties (public view for anonymous callers)", tags=_TAGS,
        operation_id="getSection",
        params=[_CODE, param("version", schema=ID, description="a past version (staff)"),
                param("as_of", description="the state at an ISO-8601 date or time (staff)")],
        responses={"200": json_response({"oneOf": [ref("SectionState"), ref("PublicSection")]}),
                   **problem_responses(404, 422)})},
    "/api/sections/{code}/versions": {"get": op(
        "A section's version history", tags=_TAGS, auth=True, operation_id="getSectionVersions", params=[_CODE],
        responses={"200": json_response(ref("SectionVersions")), **problem_responses(403, 404)})},
    "/api/sections/{code}/diff": {"get": op(
        "What changed between two versions (fields, geodesic figures, length before/after)", tags=_TAGS, auth=True,
        operation_id="diffSection",
        params=[_CODE, param("from", schema=ID, required=True), param("to", schema=ID, required=True)],
        responses={"200": json_response(ref("SiteDiff")), **problem_responses(403, 404, 422)})},
    "/api/sections/{code}/revisions": {"post": op(
        "Propose a change to a section (JSON, or multipart with file and target=line|boundary: GPX, KML/KMZ, zipped "
        "Shapefile, GeoPackage, CSV)", tags=_TAGS, auth=True, operation_id="proposeSectionChange", params=[_CODE],
        body=_PROPOSAL, responses={**_CREATED, **_SENT})},
    "/api/sections/{code}/inspections": {
        "post": op("Record an inspection of a section (as for sites; markers: the condition of each marker)",
                   tags=_TAGS, auth=True, operation_id="recordSectionInspection", params=[_CODE],
                   body=RECORD_BODY,
                   responses={"201": json_response(ref("Inspection"), "the record", headers=LOCATION),
                              **problem_responses(400, 403, 404, 413, 422)}),
        "get": op("A section's inspection records, newest first", tags=_TAGS, auth=True,
                  operation_id="listSectionInspections", params=[_CODE],
                  responses={"200": json_response(ref("SectionInspections")), **problem_responses(403, 404)})},
    "/api/sites/{code}/markers": {
        "get": op("A site's protection markers (anonymous callers: those of an open site)", tags=_TAGS,
                  operation_id="listSiteMarkers", params=[_SITE_CODE],
                  responses={"200": json_response(ref("Markers")), **problem_responses(404)}),
        "post": op("Record a protection marker of a site (JSON, or multipart with photos)", tags=_TAGS, auth=True,
                   operation_id="addSiteMarker", params=[_SITE_CODE], body=_MARKER_BODY,
                   responses={"201": json_response(ref("Marker")), **problem_responses(400, 403, 404, 413, 422)})},
    "/api/sections/{code}/markers": {
        "get": op("A section's protection markers (anonymous callers: those of an open section)", tags=_TAGS,
                  operation_id="listSectionMarkers", params=[_CODE],
                  responses={"200": json_response(ref("Markers")), **problem_responses(404)}),
        "post": op("Record a protection marker of a section (JSON, or multipart with photos)", tags=_TAGS,
                   auth=True, operation_id="addSectionMarker", params=[_CODE], body=_MARKER_BODY,
                   responses={"201": json_response(ref("Marker")), **problem_responses(400, 403, 404, 413, 422)})},
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, PATHS, SCHEMAS)
