"""The OpenAPI 3.0 document of the whole JSON API (the OGC API - Features paths and the registry's own /api paths).

Each API area describes its own paths next to its routes and registers them when the app is built (``register``);
``document`` assembles them with the shared parts below (problem answers, GeoJSON, site states, security schemes).
tests/test_openapi.py checks that every /api and /ogcapi route is described (and nothing else), and
tests/test_openapi_fuzz.py (schemathesis) that the answers keep to it.

Schemas of answers are closed (``obj``: every key the code writes is listed, ``additionalProperties: false``) so that a
new key, a missing one or a changed type is caught; schemas of requests say what the code enforces, no more."""
from __future__ import annotations

import copy
from typing import Any, Iterable

from flask import current_app

VERSION = "1.2.0"
PROBLEM_STATUSES = {400: "bad request (names the parameter)", 401: "sign in or send a valid API token",
                    403: "your role may not do this", 404: "not found", 409: "conflict with the current state",
                    413: "too large", 415: "unsupported content type", 422: "the content is refused (says why)",
                    428: "a precondition is missing (e.g. the round of a decision)", 429: "too many requests"}


# ------------------------------------------------------------------------------------------------------ schema helpers
def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null (OpenAPI 3.0: a $ref cannot carry siblings, so it is wrapped in allOf)."""
    if "$ref" in schema:
        return {"nullable": True, "allOf": [schema]}
    out = {**schema, "nullable": True}
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None, *, closed: bool = True,
        description: str | None = None) -> dict[str, Any]:
    """An object with the ``required`` keys always present and the ``optional`` ones sometimes; ``closed``: no other."""
    out: dict[str, Any] = {"type": "object", "properties": {**required, **(optional or {})}}
    if required:
        out["required"] = list(required)
    if closed:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    return out


def array(items: dict[str, Any], **extra) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


def enum(values: Iterable[Any], **extra) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), **extra}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
MAX_INT = 2**63 - 1  # SQLite's largest integer (json_input.MAX_INT): ids, versions, offsets
ID = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
LONLAT = {"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2, "description": "[longitude, latitude]"}
COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# ------------------------------------------------------------------------------------------------- operation helpers
def problem_responses(*codes: int) -> dict[str, Any]:
    return {str(c): {"$ref": f"#/components/responses/Problem{c}"} for c in codes}


def json_response(schema: dict[str, Any], description: str = "OK", media: str = "application/json",
                  headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {media: {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def or_html(response: dict[str, Any]) -> dict[str, Any]:
    """An answer that is an HTML page instead when asked for with f=html (or by a browser's Accept)."""
    return {**response, "content": {**response["content"], "text/html": {"schema": STRING}}}


def file_response(media: str | list[str], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A download (binary or text file) of one or more media types."""
    media = [media] if isinstance(media, str) else media
    out: dict[str, Any] = {"description": description,
                           "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in media}}
    if headers:
        out["headers"] = headers
    return out


def header(description: str, schema: dict | None = None, required: bool = True) -> dict[str, Any]:
    return {"description": description, "schema": schema or STRING, "required": required}


LOCATION = {"Location": header("where the new resource is")}


def param(name: str, where: str = "query", schema: dict | None = None, description: str = "",
          required: bool | None = None, **extra) -> dict[str, Any]:
    out = {"name": name, "in": where, "schema": schema or {"type": "string"}, "description": description,
           "required": where == "path" if required is None else required}
    out.update(extra)
    return out


def path_param(name: str, description: str, schema: dict | None = None) -> dict[str, Any]:
    return param(name, "path", schema or {"type": "string"}, description)


def op(summary: str, *, tags: list[str], responses: dict[str, Any], params: list[dict] | None = None,
       body: dict[str, Any] | None = None, auth: bool = False, operation_id: str | None = None,
       description: str | None = None) -> dict[str, Any]:
    """One operation; ``auth``: needs a signed-in caller (Bearer token or session), answers 401/403 otherwise.
    Every operation may answer 401: a Bearer token that is given must be valid, wherever it is sent."""
    out: dict[str, Any] = {"summary": summary, "tags": tags, "responses": {**problem_responses(401), **responses}}
    if operation_id:
        out["operationId"] = operation_id
    if description:
        out["description"] = description
    if params:
        out["parameters"] = params
    if body:
        out["requestBody"] = body
    out["security"] = [{"bearerAuth": []}] if auth else [{}, {"bearerAuth": []}]
    return out


def json_body(schema: dict[str, Any], *, required: bool = True, form: dict[str, Any] | None = None,
              multipart: dict[str, Any] | None = None, example: Any = None) -> dict[str, Any]:
    """A JSON body (``example``: a valid one, which schemathesis sends too); ``form``/``multipart``: the same call as
    application/x-www-form-urlencoded or multipart/form-data (each an object schema of text fields and, for
    multipart, files)."""
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if example is not None:
        content["application/json"]["example"] = example
    if form is not None:
        content["application/x-www-form-urlencoded"] = {"schema": form}
    if multipart is not None:
        content["multipart/form-data"] = {"schema": multipart}
    return {"required": required, "content": content}


FILE = {"type": "string", "format": "binary"}


# ------------------------------------------------------------------------------------------------------ shared schemas
_POSITION = {"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 3}
_LINE = array(_POSITION, minItems=2)
_RING = array(_POSITION, minItems=4)


def _geometry(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    """Open: RFC 7946 (6.1) allows foreign members, which the code reads past (and never writes)."""
    return obj({"type": enum([kind]), "coordinates": coordinates}, {"bbox": array(NUMBER, minItems=4, maxItems=6)},
               closed=False)


_SIMPLE = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
GEOMETRY_SCHEMAS: dict[str, Any] = {
    "Point": _geometry("Point", _POSITION),
    "MultiPoint": _geometry("MultiPoint", array(_POSITION)),
    "LineString": _geometry("LineString", _LINE),
    "MultiLineString": _geometry("MultiLineString", array(_LINE)),
    "Polygon": _geometry("Polygon", array(_RING, minItems=1)),
    "MultiPolygon": _geometry("MultiPolygon", array(array(_RING, minItems=1))),
    "GeometryCollection": obj({"type": enum(["GeometryCollection"]),
                               "geometries": array({"oneOf": [ref(k) for k in _SIMPLE]})}, closed=False),
    "Geometry": {"oneOf": [ref(k) for k in (*_SIMPLE, "GeometryCollection")],
                 "description": "a GeoJSON geometry (RFC 7946)"},
}

# The text a reviewer cleared for publication: the only description the public reads of a protected feature (absent
# from versions written before it existed)
PUBLIC_TEXTS = {"public_description": {**nullable(STRING), "description": "public text, reviewed as such"},
                "public_description_en": nullable(STRING)}
SITE_PROPERTIES = obj({
    "name": STRING, "name_en": nullable(STRING), "county": nullable(STRING), "county_en": nullable(STRING),
    "age": nullable(STRING), "formation": nullable(STRING), "description": nullable(STRING),
    "description_en": nullable(STRING),
    "level": enum(["national", "provincial", "general"]),
    "period": nullable(STRING), "fossil_groups": array(STRING),
    "sensitivity": enum(["open", "generalized", "hidden"]), "established": nullable(DATE),
    "status": enum(["active", "retired"])}, PUBLIC_TEXTS,
    description="a site's attributes (every field, null where not given; a generalized site's description and "
                "description_en are null for anonymous callers, who read its public description)")

_METRICS = {k: nullable(NUMBER) for k in ("location_shift_m", "area_before_m2", "area_after_m2", "area_change_pct",
                                          "centroid_shift_m", "hausdorff_m")}
_METRICS.update(vertices_before=nullable(INTEGER), vertices_after=nullable(INTEGER))
_LENGTHS = {"length_m_before": nullable(NUMBER), "length_m_after": nullable(NUMBER)}  # a section's line (geodesic)
METRICS = obj(_METRICS, _LENGTHS, description="geodesic figures of a change (null where they do not apply; the "
                                              "lengths of a section's line only for sections)")
REVIEW_METRICS = obj({**_METRICS, "area_added_m2": nullable(NUMBER), "area_removed_m2": nullable(NUMBER)}, _LENGTHS,
                     description="the figures a reviewer sees: Metrics and the areas a boundary change adds and "
                                 "removes")

SCHEMAS: dict[str, Any] = {
    "Problem": obj({"type": STRING, "title": STRING, "status": {"type": "integer", "minimum": 400, "maximum": 599}},
                   {"detail": {"type": "string", "description": "in the caller's language (?lang=zh|en, else "
                               "Accept-Language)"}, "instance": STRING, "location": LONLAT,
                    "field": {"type": "string", "description": "the field at fault"},
                    "code": {"type": "string", "description": "stable code of a domain error, e.g. "
                             "geometry.self_intersection (docs/everyday.md)"},
                    "params": {"type": "object", "description": "the values the message was made from (nested "
                               "messages as {code, params})"}},
                   closed=False, description="RFC 7807 problem details; some carry more members (e.g. location, "
                                             "field, current_version)"),
    "Link": {"type": "object", "required": ["href"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "title": {"type": "string"}}},
    **GEOMETRY_SCHEMAS,
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
    "SiteProperties": SITE_PROPERTIES,
    "Metrics": METRICS,
    "ReviewMetrics": REVIEW_METRICS,
}


# ------------------------------------------------------------------------------------------------------ the document
def register(app, paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Add an API area's paths (and the schemas they refer to) to the app's document."""
    spec = app.extensions.setdefault("openapi", {"paths": {}, "schemas": {}})
    spec["paths"].update(paths)
    spec["schemas"].update(schemas or {})


def _with_text_refusals(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation that takes a body may answer 400: text that can never be data (NUL, control and bidirectional
    characters, lone surrogates, in a value or a field's name) is refused before any view runs (text_input.py)."""
    for item in paths.values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("400", {"$ref": "#/components/responses/Problem400"})
    return paths


def document(server_url: str) -> dict[str, Any]:
    """The whole OpenAPI 3.0 document of this app, with ``server_url`` as its server."""
    registered = current_app.extensions.get("openapi", {"paths": {}, "schemas": {}})
    responses = {f"Problem{code}": json_response(ref("Problem"), text, "application/problem+json")
                 for code, text in PROBLEM_STATUSES.items()}
    responses["Problem401"]["headers"] = {"WWW-Authenticate": header("Bearer realm=... (under /api)", required=False)}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Fossil site registry API", "version": VERSION, "description":
                 "Protected fossil sites of a province as a versioned registry: the public view for anonymous "
                 "callers, exact data for staff with an API token (Authorization: Bearer ...; a signed-in browser "
                 "session works too, with a CSRF token for changes). OGC API - Features under /ogcapi; the "
                 "registry's own JSON API (sites, revisions, inspections, reports, supervision, field kits, impact "
                 "screening) under /api. Errors are application/problem+json. Operations whose security allows "
                 "no credentials answer anonymous callers with the public view.",
                 "license": {"name": "operator's terms"}},
        "servers": [{"url": server_url}],
        "tags": [{"name": t} for t in sorted({tag for item in registered["paths"].values()
                                              for o in item.values() if isinstance(o, dict)
                                              for tag in o.get("tags", [])})],
        "paths": _with_text_refusals(copy.deepcopy(dict(sorted(registered["paths"].items())))),
        "components": {"schemas": {**SCHEMAS, **copy.deepcopy(registered["schemas"])}, "responses": responses,
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                          "description": "an API token of a staff account"}}},
    }
