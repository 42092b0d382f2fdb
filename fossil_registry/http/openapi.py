"""The OpenAPI 3.0 document of the whole JSON API (the OGC API - Features paths and the registry's own /api paths).

Nothing in it is written by hand as JSON Schema: each API area declares its operations next to its routes (``op``:
summary, parameters, body and answers, each given as a type) in a function it registers when the app is built
(``register``), called when the document is first asked for; every schema is generated from a type (``schema_of``):
the area's pydantic models (api/models/), the vocabularies' enums (vocab.py) or an annotated Python type. ``document`` assembles the paths, the components and the
problem answers. tests/test_openapi.py checks that every /api and /ogcapi route is described (and nothing else), and
tests/test_openapi_fuzz.py (schemathesis) that the answers keep to it.

Answers are closed (``Answer``: every key the code writes is a field, ``additionalProperties: false``) so that a new
key, a missing one or a changed type is caught; requests (``Body``) say what the code enforces, no more."""
from __future__ import annotations

import copy
import threading
from typing import Any, Callable, Iterable

from flask import current_app
from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model

from .idempotency import document_idempotency

VERSION = "1.2.0"
PROBLEM_STATUSES = {400: "bad request (names the parameter)", 401: "sign in or send a valid API token",
                    403: "your role may not do this", 404: "not found", 409: "conflict with the current state",
                    413: "too large", 415: "unsupported content type", 422: "the content is refused (says why)",
                    428: "a precondition is missing (e.g. the round of a decision)", 429: "too many requests"}


# ------------------------------------------------------------------------------------------------------ schemas
# Every schema of the document is generated from a type: a pydantic model (api/models/), a vocabulary (vocab.py) or an
# annotated Python type. pydantic writes JSON Schema 2020-12; _oas30 turns it into OpenAPI 3.0's dialect (nullable
# instead of a null type, enum instead of const, no titles). Each model becomes a component under its class name.
REF = "#/components/schemas/{model}"
_COMPONENTS: dict[str, Any] = {}
_NULL = {"type": "null"}


class Answer(BaseModel):
    """The shape of an answer: every key the code writes is a field (closed: no other key may appear). A field with
    a default may be absent."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Body(BaseModel):
    """The shape of a request: what the code reads (open: the domain checks refuse what they must)."""
    model_config = ConfigDict(populate_by_name=True)


class ClosedBody(BaseModel):
    """A request whose other fields are refused."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _nullable(out: dict[str, Any], key: str) -> dict[str, Any]:
    rest = [x for x in out.pop(key) if x != _NULL]
    if len(rest) > 1:
        return {key: rest, **out, "nullable": True}
    if "$ref" in rest[0]:
        return {"nullable": True, "allOf": rest, **out}
    merged = {**rest[0], **out, "nullable": True}
    if "enum" in merged and None not in merged["enum"]:
        merged["enum"] = [*merged["enum"], None]
    return merged


def _oas30(schema: Any) -> Any:
    """A JSON Schema 2020-12 schema (pydantic's) in OpenAPI 3.0's dialect."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for k, v in schema.items():
        if k == "title" or (k == "default" and v is None):
            continue
        if k in ("properties", "$defs"):
            out[k] = {name: _oas30(x) for name, x in v.items()}
        elif k in ("items", "additionalProperties", "not") and isinstance(v, dict):
            out[k] = _oas30(v)
        elif k in ("anyOf", "oneOf", "allOf"):
            out[k] = [x if x == _NULL else _oas30(x) for x in v]
        elif k == "const":
            out["enum"] = [v]
        elif k == "exclusiveMinimum":
            out.update(minimum=v, exclusiveMinimum=True)
        elif k == "examples":
            out["example"] = v[0]
        else:
            out[k] = v
    for key in ("anyOf", "oneOf"):
        if _NULL in out.get(key, ()):
            return _nullable(out, key)
    if out.get("type") == "null":  # always null (a value withheld)
        del out["type"]
        out.update(enum=[None], nullable=True)
    return out


def _component(name: str, schema: dict[str, Any]) -> None:
    known = _COMPONENTS.setdefault(name, schema)
    assert known == schema, f"two schemas named {name}"


# Each type's schema in OpenAPI 3.0's dialect, made once per type: the models are module-level classes, and pydantic's
# generation was about 3/4 of create_app's time (measured), which the test suite runs over a thousand times. The cached
# schemas are shared, never modified: document() copies what it hands out.
_CONVERTED: dict[Any, tuple[dict[str, Any], str | None, tuple[tuple[str, Any], ...]]] = {}


def _converted(tp: Any) -> tuple[dict[str, Any], str | None, tuple[tuple[str, Any], ...]]:
    """``tp``'s schema, its component name (a model's) and the components it refers to, all in OpenAPI 3.0."""
    try:
        return _CONVERTED[tp]
    except (KeyError, TypeError):  # not made yet, or a type that cannot be a key
        pass
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        generated, name = tp.model_json_schema(ref_template=REF), tp.__name__
    else:
        generated, name = TypeAdapter(tp).json_schema(ref_template=REF), None
    defs = tuple((def_name, _oas30(d)) for def_name, d in generated.pop("$defs", {}).items())
    made = _oas30(generated), name, defs
    try:
        _CONVERTED[tp] = made
    except TypeError:
        pass
    return made


def schema_of(tp: Any, **extra: Any) -> dict[str, Any]:
    """The OpenAPI schema of a type (``extra``: more keywords); a model is a $ref to its component."""
    schema, name, defs = _converted(tp)
    for def_name, d in defs:
        _component(def_name, d)
    if name is None:
        return {**schema, **extra}
    _component(name, schema)
    return {**ref(name), **extra} if not extra else {"allOf": [ref(name)], **extra}


def text(**extra: Any) -> dict[str, Any]:
    return schema_of(str, **extra)


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


# ------------------------------------------------------------------------------------------------- operation helpers
Schema = Any  # a type (a model, a vocabulary, an annotated type) or an OpenAPI schema already made


def _schema(schema: Schema) -> dict[str, Any]:
    return schema if isinstance(schema, dict) else schema_of(schema)


def problem_responses(*codes: int) -> dict[str, Any]:
    return {str(c): {"$ref": f"#/components/responses/Problem{c}"} for c in codes}


def json_response(schema: Schema, description: str = "OK", media: str = "application/json",
                  headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {media: {"schema": _schema(schema)}}}
    if headers:
        out["headers"] = headers
    return out


def or_html(response: dict[str, Any]) -> dict[str, Any]:
    """An answer that is an HTML page instead when asked for with f=html (or by a browser's Accept)."""
    return {**response, "content": {**response["content"], "text/html": {"schema": schema_of(str)}}}


def file_response(media: str | list[str], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A download (binary or text file) of one or more media types."""
    media = [media] if isinstance(media, str) else media
    out: dict[str, Any] = {"description": description, "content": {m: {"schema": schema_of(bytes)} for m in media}}
    if headers:
        out["headers"] = headers
    return out


def header(description: str, schema: Schema = str, required: bool = True) -> dict[str, Any]:
    return {"description": description, "schema": _schema(schema), "required": required}


LOCATION = {"Location": header("where the new resource is")}
CONTENT_CRS = {"Content-Crs": header("the CRS of the coordinates", required=False)}


def param(name: str, where: str = "query", schema: Schema = str, description: str = "",
          required: bool | None = None, **extra) -> dict[str, Any]:
    out = {"name": name, "in": where, "schema": _schema(schema), "description": description,
           "required": where == "path" if required is None else required}
    out.update(extra)
    return out


def path_param(name: str, description: str, schema: Schema = str, example: Any = None) -> dict[str, Any]:
    out = param(name, "path", schema, description)
    if example is not None:
        out["schema"] = {**out["schema"], "example": example}
    return out


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


def json_body(schema: Schema, *, required: bool = True, form: Schema | None = None, multipart: Schema | None = None,
              example: Any = None) -> dict[str, Any]:
    """A JSON body (``example``: a valid one, which schemathesis sends too); ``form``/``multipart``: the same call as
    application/x-www-form-urlencoded or multipart/form-data (each an object schema of text fields and, for
    multipart, files)."""
    content: dict[str, Any] = {"application/json": {"schema": _schema(schema)}}
    if example is not None:
        content["application/json"]["example"] = example
    if form is not None:
        content["application/x-www-form-urlencoded"] = {"schema": _schema(form)}
    if multipart is not None:
        content["multipart/form-data"] = {"schema": _schema(multipart)}
    return {"required": required, "content": content}


def form(name: str, required: Iterable[str] = (), optional: Iterable[str] = (), doc: str | None = None,
         **files: Any) -> type[BaseModel]:
    """The model of a form (application/x-www-form-urlencoded or multipart/form-data): text fields, ``required``
    and ``optional``, and ``files``: name=type (bytes or list[bytes], Annotated with a description; a file without
    a default is required)."""
    fields: dict[str, Any] = {k: (str, ...) for k in required}
    fields.update({k: (str, None) for k in optional if k not in fields})
    fields.update({k: (tp, ...) if k in required else (tp, None) for k, tp in files.items()})
    return create_model(name, __base__=Body, __doc__=doc, **fields)


# ------------------------------------------------------------------------------------------------------ the document
# Each API area's paths are described by a function of the area (``register``), called when the document is first asked
# for in this process, then kept: their schemas are generated by pydantic from the models (api/models/), over a second of
# the server's start when the areas described themselves as the app was built, for a document few processes serve.
Describe = Callable[[], tuple[dict[str, Any], Iterable[type[BaseModel]]]]
_DESCRIBED: dict[Describe, dict[str, Any]] = {}
_DESCRIBING = threading.Lock()   # the areas' descriptions fill _COMPONENTS: one thread at a time


def register(app, describe: Describe) -> None:
    """Add an API area to the app's document: ``describe()`` answers the area's paths and the models the document names
    whatever the paths do (those the paths name are there already)."""
    app.extensions.setdefault("openapi", {"areas": []})["areas"].append(describe)


def _described(app) -> tuple[dict[str, Any], dict[str, Any]]:
    """The registered areas' paths (each area described once per process) and the components they name."""
    paths: dict[str, Any] = {}
    with _DESCRIBING:
        for describe in app.extensions.get("openapi", {"areas": []})["areas"]:
            if describe not in _DESCRIBED:
                area_paths, models = describe()
                for model in models:
                    schema_of(model)
                _DESCRIBED[describe] = area_paths
            paths.update(_DESCRIBED[describe])
        return paths, dict(_COMPONENTS)


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
    registered, components = _described(current_app)
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
        "tags": [{"name": t} for t in sorted({tag for item in registered.values()
                                              for o in item.values() if isinstance(o, dict)
                                              for tag in o.get("tags", [])})],
        "paths": document_idempotency(current_app, _with_text_refusals(copy.deepcopy(dict(sorted(
            registered.items()))))),
        "components": {"schemas": copy.deepcopy(dict(sorted(components.items()))), "responses": responses,
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                          "description": "an API token of a staff account"}}},
    }
