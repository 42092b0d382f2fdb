"""JSON API of the stratigraphic sections (the sites' conventions: GeoJSON in lon/lat, EPSG:4490; the public view for
anonymous callers; versions, diffs, proposals and inspections through the sites' machinery) and of the protection
markers of sites and sections."""
from __future__ import annotations

from typing import Annotated, Union

from flask import Blueprint, request, url_for

from .. import inspections, markers, revisions, sites
from ..db import get_conn
from ..errors import InvalidInput
from ..messages import msg
from ..http.idempotency import idempotent
from ..http import openapi as api_spec
from ..http.openapi import (CONTENT_CRS, LOCATION, json_body, json_response, op, or_html, param, path_param,
                            problem_responses)
from ..http.requests import uploads
from ..http.responses import jsonify
from ..http.security import actor, can, remote_addr, require
from ..http.settings import (blob_store, inspection_settings, marker_settings, photo_link, photo_url,
                             revision_policy)
from ..sections import SECTION
from .inspections import record_body, record_input
from .ogcapi import items as ogcapi_items, items_params
from .revisions import created, submission
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
    return created(rev)


@bp.post("/sections")
@require("revision.propose")
@idempotent
def propose_section():
    """A new section, as a proposal (reviewed like every change)."""
    return _propose(None)


@bp.post("/sections/<code>/revisions")
@require("revision.propose")
@idempotent
def propose_section_change(code: str):
    return _propose(code)


@bp.post("/sections/<code>/inspections")
@require("inspection.write")
@idempotent
def inspect_section(code: str):
    conn = get_conn()
    sites.current(conn, code, kind=SECTION)  # a site's code here is an unknown section
    data, multipart = record_input()
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
@idempotent
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
def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import sections as m
    from .models.common import ONE_OF, FeatureCollection, Id
    from .models.inspections import Inspection
    from .models.revisions import Proposal, SectionProposalForm, SectionProposalInput, SectionProposalMultipart
    from .models.sites import SiteDiff

    _TAGS = ["Sections and markers"]
    _CODE = path_param("code", "the section's code, e.g. GZS-0001", example="GZS-0001")
    _SITE_CODE = path_param("code", "the site's code, e.g. GZ-0001", example="GZ-0001")
    _MARKER_BODY = json_body(m.MarkerInput, form=m.MarkerForm, multipart=m.MarkerMultipart)
    _PROPOSAL = json_body(SectionProposalInput, form=SectionProposalForm, multipart=SectionProposalMultipart)
    _CREATED = {"201": json_response(Proposal, "the proposal (see /api/revisions/{revision_id})", headers=LOCATION)}
    _SENT = problem_responses(400, 403, 404, 409, 413, 415, 422)
    PATHS = {
        "/api/sections": {
            "get": op("Sections as GeoJSON (alias of /ogcapi/collections/sections/items)", tags=_TAGS,
                      operation_id="listSections", params=items_params(),
                      responses={"200": or_html({**json_response(FeatureCollection, media="application/geo+json",
                                                                  headers=CONTENT_CRS),
                                                 "description": "one page of sections (the public view for anonymous "
                                                                "callers)"}),
                                 **problem_responses(400, 404)}),
            "post": op("Propose a new section (JSON, or multipart with a file and target=line|boundary)", tags=_TAGS,
                       auth=True, operation_id="proposeSection", body=_PROPOSAL, responses={**_CREATED, **_SENT})},
        "/api/sections/{code}": {"get": op(
            "A section: version, line, boundary, properties (public view for anonymous callers)", tags=_TAGS,
            operation_id="getSection",
            params=[_CODE, param("version", schema=Id, description="a past version (staff)"),
                    param("as_of", description="the state at an ISO-8601 date or time (staff)")],
            responses={"200": json_response(Annotated[Union[m.SectionState, m.PublicSection], ONE_OF]),
                       **problem_responses(404, 422)})},
        "/api/sections/{code}/versions": {"get": op(
            "A section's version history", tags=_TAGS, auth=True, operation_id="getSectionVersions", params=[_CODE],
            responses={"200": json_response(m.SectionVersions), **problem_responses(403, 404)})},
        "/api/sections/{code}/diff": {"get": op(
            "What changed between two versions (fields, geodesic figures, length before/after)", tags=_TAGS, auth=True,
            operation_id="diffSection",
            params=[_CODE, param("from", schema=Id, required=True), param("to", schema=Id, required=True)],
            responses={"200": json_response(SiteDiff), **problem_responses(403, 404, 422)})},
        "/api/sections/{code}/revisions": {"post": op(
            "Propose a change to a section (JSON, or multipart with file and target=line|boundary: GPX, KML/KMZ, zipped "
            "Shapefile, GeoPackage, CSV)", tags=_TAGS, auth=True, operation_id="proposeSectionChange", params=[_CODE],
            body=_PROPOSAL, responses={**_CREATED, **_SENT})},
        "/api/sections/{code}/inspections": {
            "post": op("Record an inspection of a section (as for sites; markers: the condition of each marker)",
                       tags=_TAGS, auth=True, operation_id="recordSectionInspection", params=[_CODE],
                       body=record_body(),
                       responses={"201": json_response(Inspection, "the record", headers=LOCATION),
                                  **problem_responses(400, 403, 404, 413, 422)}),
            "get": op("A section's inspection records, newest first", tags=_TAGS, auth=True,
                      operation_id="listSectionInspections", params=[_CODE],
                      responses={"200": json_response(m.SectionInspections), **problem_responses(403, 404)})},
        "/api/sites/{code}/markers": {
            "get": op("A site's protection markers (anonymous callers: those of an open site)", tags=_TAGS,
                      operation_id="listSiteMarkers", params=[_SITE_CODE],
                      responses={"200": json_response(m.Markers), **problem_responses(404)}),
            "post": op("Record a protection marker of a site (JSON, or multipart with photos)", tags=_TAGS, auth=True,
                       operation_id="addSiteMarker", params=[_SITE_CODE], body=_MARKER_BODY,
                       responses={"201": json_response(m.Marker), **problem_responses(400, 403, 404, 413, 422)})},
        "/api/sections/{code}/markers": {
            "get": op("A section's protection markers (anonymous callers: those of an open section)", tags=_TAGS,
                      operation_id="listSectionMarkers", params=[_CODE],
                      responses={"200": json_response(m.Markers), **problem_responses(404)}),
            "post": op("Record a protection marker of a section (JSON, or multipart with photos)", tags=_TAGS,
                       auth=True, operation_id="addSectionMarker", params=[_CODE], body=_MARKER_BODY,
                       responses={"201": json_response(m.Marker), **problem_responses(400, 403, 404, 413, 422)})},
    }
    return PATHS, m.MODELS


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)
