"""Reading a request into plain values for the domain: uploads (with size limits), query arguments, JSON bodies."""
from __future__ import annotations

from typing import Any

from flask import Request, current_app, request
from pydantic import TypeAdapter, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from .. import text_input
from ..errors import InvalidInput, MiB, RegistryError, TooLarge
from ..json_input import MAX_INT
from ..photos import Upload
from ..messages import msg


def digits_at_most(n: int) -> str:
    """A regular expression of the decimal numbers 0..n (leading zeros allowed), e.g. for 123
    0*(?:\\d{1,2}|1[0-1]\\d{1}|12[0-2]|123): fewer digits, or n's first digits and then a smaller one, or n."""
    digits = str(n)
    options = [f"\\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        low = 1 if i == 0 and len(digits) > 1 else 0
        if int(d) > low:
            rest = len(digits) - i - 1
            options.append(f"{digits[:i]}[{low}-{int(d) - 1}]" + (f"\\d{{{rest}}}" if rest else ""))
    options.append(digits)
    return "0*(?:" + "|".join(options) + ")"


class RowIdConverter(IntegerConverter):
    """Flask's <int:...> with SQLite's range: a larger number in a path is no page (404), not an OverflowError.
    The range is in the pattern, not only in ``max``: a path whose number the converter refused after matching
    would answer 405 when another method's rule has the same path (werkzeug checks the method first)."""

    regex = digits_at_most(MAX_INT)

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def init_app(app) -> None:
    """Before any route is added: <int:...> in every route is bounded (RowIdConverter)."""
    app.url_map.converters["int"] = RowIdConverter



class UnnamedPart(RegistryError):
    """A multipart part without a name (RFC 7578 requires one): no view could read it, and its None name broke the
    code that walks every field (the idempotency hash, the marker checks). A 400, as RegistryError is."""


class CheckedRequest(Request):
    """The app's request class: form fields (names and values) and uploaded file names pass text_input's character
    rules as soon as the form is parsed, whoever reads it first (a view, the CSRF check); JSON bodies pass them in
    the app's JSON provider (json_input). File contents are left to the readers of each format."""

    def _load_form_data(self) -> None:
        # refused from the Content-Length, unread: werkzeug parses such a body whole, holding the interpreter lock
        if self.mimetype == "application/x-www-form-urlencoded" and \
                (self.content_length or 0) > current_app.config["MAX_URLENCODED_BYTES"]:
            raise RequestEntityTooLarge(msg('http.form_content_length_bytes', 'a form of {content_length:,} bytes; forms without files are at most {config} MiB', content_length=self.content_length, config=current_app.config['MAX_URLENCODED_BYTES'] // MiB))
        super()._load_form_data()
        if None in self.form or None in self.files:  # werkzeug's name of a part sent without one
            raise UnnamedPart(msg("http.form_part_without_name", "a part of the form has no name (every part needs "
                                  "Content-Disposition: form-data; name=\"...\"); send the form again from the app "
                                  "or name every part"))
        for key, values in self.form.lists():
            text_input.check(key, "a form field's name")
            for value in values:
                text_input.check(value, f"the form field {key!r}")
        for key, storage in self.files.items(multi=True):
            text_input.check(key, "a form field's name")
            text_input.check(storage.filename, f"the name of the file sent as {key!r}")


def check_json_body() -> None:
    """Before every state-changing view the caller may use (http.security): a JSON body passes the nesting and character
    rules (the app's JSON provider) even where the endpoint reads none of it, so that the rules are the request's and
    not each view's (a NUL sent to a rebase, which takes no body, was accepted). A body that is not valid JSON is left
    to the view that reads it, if any; forms are not parsed here, as some views raise the body size limit before
    reading theirs (field-kit check-ins)."""
    if request.is_json:
        request.get_json(silent=True)


def read_upload(storage, limit: int) -> tuple[str, bytes]:
    """(file name, bytes) of an uploaded file, refused (413) beyond ``limit`` bytes without reading more than that."""
    data = storage.stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(msg("http.larger_than_mib", "{filename}: larger than {value} MiB", filename=storage.filename,
                           value=limit // MiB))
    return storage.filename or "upload", data


def allow_request_bytes(limit: int) -> None:
    """Let this request's body be up to ``limit`` bytes (instead of MAX_CONTENT_LENGTH): call it before the body is
    read (e.g. field-kit check-ins with their photos)."""
    request.max_content_length = limit


def uploaded_file(name: str, limit: int, what: str) -> tuple[str, bytes]:
    """(file name, bytes) of the file in the multipart field ``name``, or of the raw request body (any type but a
    form); refused (422) when there is none."""
    storage = request.files.get(name)
    if storage is not None and storage.filename:
        return read_upload(storage, limit)
    if request.mimetype not in ("multipart/form-data", "application/x-www-form-urlencoded", "application/json"):
        data = request.get_data(cache=False)
        if data:
            return request.headers.get("X-Filename") or "upload", data
    raise InvalidInput(msg("http.send_multipart_field_request", "send {what} as the multipart field {name!r} or as "
                           "the request body", what=what, name=name))


def uploads(name: str) -> list[Upload]:
    """Every file sent in the form field ``name`` (empty file inputs are left out)."""
    return [Upload(f.filename, f.read()) for f in request.files.getlist(name) if f and (f.filename or f.content_length)]


def one_upload(name: str) -> Upload | None:
    found = uploads(name)
    return found[0] if found else None


def bbox_arg(name: str = "bbox") -> tuple[float, float, float, float] | None:
    """``?bbox=min_lon,min_lat,max_lon,max_lat`` (None when absent); a malformed one is refused (422)."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        bbox = tuple(float(v) for v in raw.split(","))
    except ValueError:
        bbox = ()
    if len(bbox) != 4 or not (bbox[0] <= bbox[2] and bbox[1] <= bbox[3]):
        raise InvalidInput(msg("http.must_min_lon_min", "{name} must be min_lon,min_lat,max_lon,max_lat (got {raw!r})",
                               name=name, raw=raw))
    return bbox


def positive_int_arg(name: str) -> int | None:
    """A whole number >= 1 from the query string (None when absent)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    value = int_arg(name, None)
    if value < 1:
        raise InvalidInput(msg('http.name_more_got_value', '{name} must be 1 or more (got {value})', name=name, value=value))
    return value


def int_arg(name: str, default: int | None) -> int | None:
    """A whole number from the query string (``default`` when absent), within SQLite's integer range."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(msg('http.name_whole_number_got', '{name} must be a whole number (got {raw!r})', name=name, raw=raw[:40])) from None
    if abs(value) > MAX_INT:
        raise InvalidInput(msg('http.name_too_large_got', '{name} is too large (got {raw})', name=name, raw=raw[:40]))
    return value


def query_args(*names: str) -> dict[str, str | None]:
    """The named query arguments, empty ones as None."""
    return {name: request.args.get(name) or None for name in names}


def flag_arg(name: str) -> bool:
    return request.args.get(name) in ("1", "true")


_ADAPTERS: dict[int, tuple[Any, TypeAdapter]] = {}


def conforms(tp: Any, value: Any) -> bool:
    """Whether ``value`` is of ``tp``: a type of the API's models (api/models/), the one the OpenAPI document shows for
    that field or parameter, so that the document and the check are one definition (``tp``: a module-level type, made
    once). The caller answers with its own message."""
    known = _ADAPTERS.get(id(tp))
    if known is None or known[0] is not tp:
        known = _ADAPTERS[id(tp)] = (tp, TypeAdapter(tp))
    adapter = known[1]
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def json_object(hint: str, *, required: bool) -> dict[str, Any]:
    """The JSON object (or form) a call sends; anything else is refused (422) with ``hint``. Calls whose fields are all
    optional may send no body at all (``required=False``)."""
    body = request.get_json(silent=True) if request.is_json else dict(request.form)
    if body is None and not required:
        return {}
    if not isinstance(body, dict):
        raise InvalidInput(hint)
    return body
