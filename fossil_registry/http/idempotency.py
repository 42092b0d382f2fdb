"""The ``Idempotency-Key`` header of every creating POST, API and HTML forms alike (the rules: idempotency.py).

``@idempotent`` goes under ``require`` and any rate limit of a view (a replayed anonymous report is counted by the
limit, and created nothing): with no header the view runs as it always did. With one, the request's content is hashed
(method, path, query, and the body: a JSON body as canonical JSON, a form's fields and files' names and bytes, the
CSRF token left out, since a queued form may send a fresh one), the key is claimed, the view runs, and an answer below
400 is kept (status, Location, Content-Type, Content-Disposition, body) for the caller's retries, which get it back
with ``Idempotency-Replayed: true``, unless the view said it created nothing (``nothing_created``). A refused or
failed request frees its key. ``document_idempotency`` adds the header and its answers to the OpenAPI operations of the
views marked so."""
from __future__ import annotations

import hashlib
import json
import re
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request
from flask_login import current_user

from .. import idempotency
from ..db import get_conn

HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"
KEPT_HEADERS = ("Location", "Content-Type", "Content-Disposition")
_CSRF_FIELD = "csrf_token"
_FILENAME_HEADER = "X-Filename"
_NOTHING_CREATED = "idempotency_nothing_created"


def _settings() -> idempotency.Settings:
    return idempotency.Settings.from_config(current_app.config)


def _caller() -> str:
    return idempotency.caller_of(current_user.user.id if current_user.is_authenticated else None)


def request_hash() -> str:
    """A hash of what the request asks: the same for a retry of the same content, whatever its multipart boundary,
    JSON spacing or CSRF token."""
    h = hashlib.sha256()
    h.update(f"{request.method} {request.path}?{request.query_string.decode('latin-1')}\n".encode())
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        # by name only: a repeated field's values keep their order (the views read the first one, form.get)
        fields = sorted(((k, v) for k, values in request.form.lists() for v in values if k != _CSRF_FIELD),
                        key=lambda field: field[0])
        h.update(b"form\n" + json.dumps(fields, ensure_ascii=False).encode())
        for name, storage in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            h.update(f"\nfile {name} {storage.filename!r}\n".encode())
            storage.stream.seek(0)
            for chunk in iter(lambda: storage.stream.read(1 << 16), b""):
                h.update(chunk)
            storage.stream.seek(0)
    elif request.is_json and (data := request.get_json(silent=True)) is not None:
        h.update(b"json\n" + json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
    else:
        # a raw upload's name (X-Filename, http/requests.uploaded_file) decides how the bytes are read
        h.update(b"raw " + (request.mimetype or "").encode() + b"\n"
                 + json.dumps(request.headers.get(_FILENAME_HEADER)).encode() + b"\n" + request.get_data(cache=True))
    return h.hexdigest()


def nothing_created() -> None:
    """Said by an idempotent view whose answer created nothing (an unsaved impact screening): the key is freed and
    the answer is not kept, since a retry may simply run again; an anonymous caller must not fill the store for 24
    hours with whole result pages (and their session's CSRF token) at will."""
    g.setdefault(_NOTHING_CREATED, True)


def refusal_with_key(exc: Exception) -> None:
    """Raise ``exc`` (answered 4xx by the error handler) if the request carries an Idempotency-Key; else return, and
    the view answers its refusal as it always did, with a redirect and an error flash. A keyed sender (the offline
    queue, the service worker, a script) must see a refusal as one: the queue sends with ``redirect: "manual"`` and
    cannot tell where a redirect goes, so it took the refusal for success and deleted the refused record, and the
    redirect was kept as the key's first answer."""
    if request.headers.get(HEADER) is not None:
        raise exc


def _replay(kept: idempotency.Answer) -> Response:
    response = Response(kept.body, status=kept.status)
    for name, value in kept.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response


def idempotent(view):
    """Honour an Idempotency-Key header on this creating view (see the module's text)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        key, caller, conn = idempotency.check_key(key), _caller(), get_conn()
        kept = idempotency.begin(conn, caller=caller, key=key, request_hash=request_hash(), settings=_settings())
        if kept is not None:
            return _replay(kept)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            idempotency.forget(conn, caller=caller, key=key)
            raise
        if response.status_code >= 400 or response.direct_passthrough or g.pop(_NOTHING_CREATED, False):
            idempotency.forget(conn, caller=caller, key=key)
            return response
        headers = {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}
        idempotency.keep(conn, caller=caller, key=key,
                         answer=idempotency.Answer(response.status_code, headers, response.get_data()))
        return response
    wrapped.idempotent = True
    return wrapped


# ------------------------------------------------------------------------------------------------------ OpenAPI
_RULE_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
PARAMETER = {"name": HEADER, "in": "header", "required": False,
             "description": "a key of the client's own (1 to 255 printable ASCII characters, e.g. a random UUID) "
                            "that makes a retry safe: the same key with the same content within 24 hours answers "
                            "the first answer again (Idempotency-Replayed: true) and creates nothing; with other "
                            "content 422; while the first request is still being processed 409 (docs/offline.md)",
             "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY,
                        "pattern": "^[\\x20-\\x7E]+$"}}
REPLAYED_HEADER = {REPLAYED: {"description": "true: this is the kept answer of the first request with this "
                                             "Idempotency-Key, and nothing was created now",
                              "schema": {"type": "string", "enum": ["true"]}, "required": False}}


def idempotent_paths(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every route whose view honours Idempotency-Key."""
    found = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if getattr(view, "idempotent", False):
            for method in rule.methods & {"POST", "PUT", "PATCH"}:
                found.add((_RULE_ARG.sub(r"{\1}", rule.rule), method.lower()))
    return found


def document_idempotency(app, paths: dict[str, Any]) -> dict[str, Any]:
    """``paths`` with the Idempotency-Key header, its 409 and 422 answers and the replay header on every operation
    of a view marked ``idempotent``."""
    for path, method in idempotent_paths(app):
        operation = paths.get(path, {}).get(method)
        if not isinstance(operation, dict):
            continue
        operation["parameters"] = [*operation.get("parameters", []), dict(PARAMETER)]
        responses = operation.setdefault("responses", {})
        for code in (409, 422):
            responses.setdefault(str(code), {"$ref": f"#/components/responses/Problem{code}"})
        for code, answer in responses.items():
            if code.startswith("2") and "$ref" not in answer:
                answer["headers"] = {**answer.get("headers", {}), **REPLAYED_HEADER}
    return paths
