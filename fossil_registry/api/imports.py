"""JSON API of the site import (admins): upload a file of sites (202: analysed in the background), read its state,
progress, preview and each row's outcome, change its mapping or options, confirm it (202: proposed in the
background), read its summary (JSON or CSV). Thin: the rules are in fossil_registry.imports; docs/import.md."""
from __future__ import annotations

from typing import Annotated

from flask import Blueprint, request, url_for
from pydantic import Field

from .. import imports
from ..db import get_conn
from ..errors import InvalidInput, MiB
from ..http import openapi as api_spec
from ..http.openapi import (LOCATION, json_body, json_response, op, param, path_param, problem_responses, schema_of,
                            text)
from ..http.requests import int_arg, json_object, uploaded_file
from ..http.responses import csv_download, jsonify
from ..http.security import actor, remote_addr, require
from ..http.settings import import_settings
from ..http.idempotency import idempotent
from ..messages import msg

bp = Blueprint("imports_api", __name__, url_prefix="/api")

OPTION_FIELDS = ("encoding", "crs", "layer", "match", "distance_m", "tolerance_m", "mapping")
MAPPING_HINT = ('send {"mapping": {"<file column>": "<registry field>"}, and any of "encoding", "crs", "layer", '
                '"match", "distance_m", "tolerance_m"}')
MAPPING_FIELDS = {"mapping", "encoding", "crs", "layer", "match", "distance_m", "tolerance_m"}
CONFIRM_HINT = 'send {"generation": N, "reason": "...", and optionally "method", "accuracy_m", "survey_date"}'


@bp.before_request
def _upload_limit():
    if request.endpoint == "imports_api.upload":
        request.max_content_length = import_settings().max_file_bytes + MiB  # 413 before the body is read


def _answer(imp: dict, status: int = 200):
    conn = get_conn()
    offset = int_arg("offset", 0)
    if offset < 0:
        raise InvalidInput(msg("api.import_offset_negative", "offset must be a whole number, 0 or more (got "
                               "{offset})", offset=offset), field="offset")
    limit = request.args.get("limit")
    try:
        limit = 100 if limit in (None, "") else int(limit)
    except ValueError:
        limit = -1
    if not 0 <= limit <= 1000:  # as the document says: out of range is refused, not brought into range
        raise InvalidInput(msg("api.import_limit_whole", "limit must be a whole number from 0 to 1000 (got "
                               "{limit!r})", limit=request.args.get("limit")), field="limit")
    # outcome: one of the planned outcomes, or absent (every row); an empty ?outcome= names none and is refused
    body = imports.import_json(conn, imp, outcome=request.args.get("outcome"), offset=offset, limit=limit)
    body["links"] = {"self": url_for("imports_api.get_import", import_id=imp["fid"]),
                     "summary": url_for("imports_api.summary", import_id=imp["fid"]),
                     "summary_csv": url_for("imports_api.summary_csv", import_id=imp["fid"]),
                     "page": url_for("imports.detail", import_id=imp["fid"])}
    response = jsonify(body)
    response.status_code = status
    if status == 202:
        response.headers["Location"] = body["links"]["self"]
    return response


@bp.post("/imports")
@require("import.run")
@idempotent
def upload():
    settings = import_settings()
    filename, data = uploaded_file("file", settings.max_file_bytes, "the file of sites")
    fields = {k: v for k, v in {**request.args.to_dict(), **request.form.to_dict()}.items() if k in OPTION_FIELDS}
    imp = imports.create(get_conn(), filename, data, fields, actor=actor(), settings=settings,
                         remote_addr=remote_addr())
    return _answer(imp, 202)


@bp.get("/imports")
@require("import.run")
def list_imports():
    found = imports.list_imports(get_conn(), limit=200)
    return jsonify({"imports": [{"id": i["fid"], **{k: v for k, v in i.items() if k != "fid"},
                                 "url": url_for("imports_api.get_import", import_id=i["fid"])} for i in found]})


@bp.get("/imports/<int:import_id>")
@require("import.run")
def get_import(import_id: int):
    conn = get_conn()
    imp = imports.get(conn, import_id)
    imports.ensure_running(conn, imp, import_settings())
    return _answer(imp)


@bp.post("/imports/<int:import_id>/mapping")
@require("import.run")
def mapping(import_id: int):
    body = json_object(MAPPING_HINT, required=True)
    unknown = sorted(set(body) - MAPPING_FIELDS)
    if unknown or not body:  # a body of another type read as an empty or odd form must not restart the analysis
        raise InvalidInput(msg("imports.mapping_fields", "unknown field(s) {unknown}: {hint}",
                               unknown=", ".join(unknown) or "-", hint=MAPPING_HINT))
    imp = imports.remap(get_conn(), import_id, body, actor=actor(), settings=import_settings(),
                        remote_addr=remote_addr())
    return _answer(imp, 202)


@bp.post("/imports/<int:import_id>/confirm")
@require("import.run")
@idempotent
def confirm(import_id: int):
    body = json_object(CONFIRM_HINT, required=True)
    imp = imports.confirm(get_conn(), import_id, body, actor=actor(), settings=import_settings(),
                          remote_addr=remote_addr())
    return _answer(imp, 202)


@bp.get("/imports/<int:import_id>/summary")
@require("import.run")
def summary(import_id: int):
    conn = get_conn()
    body = imports.summary(conn, imports.get(conn, import_id))
    for group in ("proposed", "already"):
        for row in body[group]:
            rid = row["revision"] or row["earlier_revision"]
            row["url"] = url_for("revisions_api.get_revision", revision_id=rid) if rid else None
    body["review_queue"] = url_for("revisions.review")
    return jsonify(body)


@bp.get("/imports/<int:import_id>/summary.csv")
@require("import.run")
def summary_csv(import_id: int):
    conn = get_conn()
    imp = imports.get(conn, import_id)
    return csv_download(imports.SUMMARY_COLUMNS, imports.summary_rows(conn, imp), f"import-{import_id}-summary.csv")


# ---------------------------------------------------------------------------------------------------------- OpenAPI
def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import imports as m
    from .models.common import Id

    _TAGS = ["Site import"]
    _ID = path_param("import_id", "the import's number", Id, example=1)
    _ROW_PARAMS = [param("outcome", schema=m.Outcome, description="only rows with this planned outcome"),
                   param("offset", schema=Annotated[int, Field(ge=0)], description="rows to skip"),
                   param("limit", schema=Annotated[int, Field(ge=0, le=1000, default=100)],
                         description="rows to list (0: state and progress only, for polling)")]
    _ACCEPTED = {"202": json_response(m.Import, "accepted: the job runs in the background; poll the Location",
                                      headers=LOCATION)}
    PATHS = {
        "/api/imports": {
            "post": op("Upload a file of sites (CSV, GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ, GPX): read and "
                       "refused as a whole here if it cannot be (empty, unknown encoding or CRS), else analysed in the "
                       "background", tags=_TAGS, auth=True, operation_id="createImport",
                       body={"required": True, "content": {"multipart/form-data": {"schema": schema_of(m.ImportUpload)}}},
                       responses={**_ACCEPTED, **problem_responses(400, 403, 413, 415, 422)}),
            "get": op("Imports, newest first", tags=_TAGS, auth=True, operation_id="listImports", responses={
                "200": json_response(m.Imports), **problem_responses(403)})},
        "/api/imports/{import_id}": {"get": op(
            "An import: state, progress, preview of the file, mapping, counts and rows with their outcome", tags=_TAGS,
            auth=True, operation_id="getImport", params=[_ID, *_ROW_PARAMS],
            responses={"200": json_response(m.Import), **problem_responses(400, 403, 404, 422)})},
        "/api/imports/{import_id}/mapping": {"post": op(
            "New field mapping and/or options: the file is read again and analysed anew", tags=_TAGS, auth=True,
            operation_id="remapImport", params=[_ID], body=json_body(m.ImportOptions),
            responses={**_ACCEPTED, **problem_responses(400, 403, 404, 409, 413, 415, 422)})},
        "/api/imports/{import_id}/confirm": {"post": op(
            "Propose the planned rows of the analysis seen (generation): one proposal per new or changed site, each in "
            "its own transaction, in the background", tags=_TAGS, auth=True, operation_id="confirmImport", params=[_ID],
            body=json_body(m.ImportConfirmation),
            responses={**_ACCEPTED, **problem_responses(400, 403, 404, 409, 413, 415, 422)})},
        "/api/imports/{import_id}/summary": {"get": op(
            "What the import proposed, found already proposed, left unchanged and refused (with reasons)", tags=_TAGS,
            auth=True, operation_id="getImportSummary", params=[_ID],
            responses={"200": json_response(m.ImportSummary), **problem_responses(403, 404)})},
        "/api/imports/{import_id}/summary.csv": {"get": op(
            "The summary as CSV (UTF-8 with BOM, formulas neutralised)", tags=_TAGS, auth=True,
            operation_id="getImportSummaryCsv", params=[_ID],
            responses={"200": {"description": "CSV", "content": {"text/csv": {"schema": text()}}},
                       **problem_responses(403, 404)})},
    }
    return PATHS, m.MODELS


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)
