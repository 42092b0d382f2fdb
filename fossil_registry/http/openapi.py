"""The OpenAPI 3.0 document of the whole JSON API (the OGC API - Features paths and the registry's own /api paths).

Each API area describes its own paths next to its routes and registers them when the app is built (``register``);
``document`` assembles them with the shared parts below (problem answers, links, GeoJSON, security schemes)."""
from __future__ import annotations

import copy
from typing import Any

from flask import current_app

VERSION = "1.1.0"
PROBLEM_STATUSES = {400: "bad request (names the parameter)", 401: "sign in or send a valid API token",
                    403: "your role may not do this", 404: "not found", 409: "conflict with the current state",
                    413: "too large", 415: "unsupported content type", 422: "the content is refused (says why)",
                    428: "a precondition is missing (e.g. the round of a decision)", 429: "too many requests"}

SCHEMAS: dict[str, Any] = {
    "Problem": {"type": "object", "required": ["title", "status"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string", "description": "in the caller's language (?lang=zh|en, else Accept-Language)"},
        "instance": {"type": "string"},
        "code": {"type": "string", "description": "stable code of a domain error, e.g. geometry.self_intersection "
                 "(docs/everyday.md)"},
        "params": {"type": "object", "description": "the values the message was made from (nested messages as "
                   "{code, params})"}}},
    "Link": {"type": "object", "required": ["href"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "title": {"type": "string"}}},
    "Geometry": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string", "enum": [
        "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"]}}},
    "Feature": {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "geometry": {"nullable": True, "allOf": [{"$ref": "#/components/schemas/Geometry"}]},
        "properties": {"type": "object", "nullable": True},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}}},
    "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
        "numberMatched": {"type": "integer", "minimum": 0}, "numberReturned": {"type": "integer", "minimum": 0},
        "timeStamp": {"type": "string"},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}}},
}


def problem_responses(*codes: int) -> dict[str, Any]:
    return {str(c): {"$ref": f"#/components/responses/Problem{c}"} for c in codes}


def json_response(schema: dict[str, Any], description: str = "OK", media: str = "application/json",
                  headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {media: {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def param(name: str, where: str = "query", schema: dict | None = None, description: str = "",
          required: bool | None = None, **extra) -> dict[str, Any]:
    out = {"name": name, "in": where, "schema": schema or {"type": "string"}, "description": description,
           "required": where == "path" if required is None else required}
    out.update(extra)
    return out


def path_param(name: str, description: str, schema: dict | None = None) -> dict[str, Any]:
    return param(name, "path", schema or {"type": "string"}, description)


def op(summary: str, *, tags: list[str], responses: dict[str, Any], params: list[dict] | None = None,
       body: dict[str, Any] | None = None, auth: bool = False, operation_id: str | None = None) -> dict[str, Any]:
    """One operation; ``auth``: needs a signed-in caller (Bearer token or session), answers 401/403 otherwise."""
    out: dict[str, Any] = {"summary": summary, "tags": tags, "responses": responses}
    if operation_id:
        out["operationId"] = operation_id
    if params:
        out["parameters"] = params
    if body:
        out["requestBody"] = body
    out["security"] = [{"bearerAuth": []}] if auth else [{}, {"bearerAuth": []}]
    return out


def json_body(schema: dict[str, Any], *, required: bool = True, form: bool = False) -> dict[str, Any]:
    content = {"application/json": {"schema": schema}}
    if form:
        content["multipart/form-data"] = {"schema": {"type": "object", "additionalProperties": True}}
    return {"required": required, "content": content}


def register(app, paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Add an API area's paths (and the schemas they refer to) to the app's document."""
    spec = app.extensions.setdefault("openapi", {"paths": {}, "schemas": {}})
    spec["paths"].update(paths)
    spec["schemas"].update(schemas or {})


def document(server_url: str) -> dict[str, Any]:
    """The whole OpenAPI 3.0 document of this app, with ``server_url`` as its server."""
    registered = current_app.extensions.get("openapi", {"paths": {}, "schemas": {}})
    responses = {f"Problem{code}": json_response(ref("Problem"), text, "application/problem+json")
                 for code, text in PROBLEM_STATUSES.items()}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Fossil site registry API", "version": VERSION, "description":
                 "Protected fossil sites of a province as a versioned registry: the public view for anonymous "
                 "callers, exact data for staff with an API token (Authorization: Bearer ...). OGC API - Features "
                 "under /ogcapi; the registry's own JSON API (revisions, inspections, reports, ...) under /api. "
                 "Errors are application/problem+json.", "license": {"name": "operator's terms"}},
        "servers": [{"url": server_url}],
        "tags": [{"name": t} for t in sorted({tag for item in registered["paths"].values()
                                              for o in item.values() if isinstance(o, dict)
                                              for tag in o.get("tags", [])})],
        "paths": copy.deepcopy(registered["paths"]),
        "components": {"schemas": {**SCHEMAS, **copy.deepcopy(registered["schemas"])}, "responses": responses,
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                          "description": "an API token of a staff account"}}},
    }
