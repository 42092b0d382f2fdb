"""Reading JSON that comes from outside (request bodies, form fields, GeoJSON uploads) with a nesting limit, so that a
deeply nested document is a clear 4xx answer instead of a RecursionError (a 500) in the parser or in the code that
walks the result, and with text_input's character rules for every string in it. No Flask here except the JSON
provider that applies the same rules to ``request.get_json``."""
from __future__ import annotations

import json
import re
from typing import Any

from . import text_input
from .errors import InvalidInput, RegistryError
from .messages import msg

MAX_INT = 2**63 - 1  # SQLite's largest integer: a larger number is no row's id or version
_DIGITS = re.compile(r"\s*[+-]?[0-9]+\s*")
# A GeoJSON FeatureCollection of MultiPolygons is 8 levels deep; 32 leaves room for GeometryCollections and
# structured properties, and is far below what would strain any walker.
MAX_DEPTH = 32
_SCALARS = frozenset((str, int, float, bool, type(None)))


class TooDeep(RegistryError):
    status = 400
    title = "JSON nested too deeply"


def depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (0 for a scalar), computed without recursion, one level at a time. The
    numbers and strings are passed over by their exact class, so those of a 200,000-vertex ring cost one set lookup
    each."""
    deepest, level, current = 0, 1, [value]
    while current:
        containers = [item for item in current if isinstance(item, (dict, list))]
        if not containers:
            break
        deepest = level
        if level > MAX_DEPTH:
            break
        current = []
        for item in containers:
            inner = item.values() if isinstance(item, dict) else item
            current.extend([child for child in inner if child.__class__ not in _SCALARS])
        level += 1
    return deepest


def check_depth(value: Any, what: str = "the JSON document") -> Any:
    if depth(value) > MAX_DEPTH:
        raise TooDeep(msg("json_input.nested_more_than_levels", "{what} is nested more than {max_depth} levels deep; "
                          "no valid input needs that", what=what, max_depth=MAX_DEPTH))
    return value


def loads(data: str | bytes, what: str = "the JSON document") -> Any:
    """json.loads with the nesting limit; raises ValueError (not JSON) or TooDeep."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise TooDeep(msg("json_input.nested_more_than_levels", "{what} is nested more than {max_depth} levels deep; "
                          "no valid input needs that", what=what, max_depth=MAX_DEPTH)) from None
    return text_input.check_all(check_depth(value, what), what)


def provider_class():
    """Flask's JSON provider with the nesting limit, so request.get_json() applies it too."""
    from flask.json.provider import DefaultJSONProvider

    class LimitedJSONProvider(DefaultJSONProvider):
        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            try:
                value = json.loads(s, **kwargs)
            except RecursionError:
                raise TooDeep(msg("json_input.request_body_nested_more", "the request body is nested more than "
                                  "{max_depth} levels deep", max_depth=MAX_DEPTH)) from None
            return text_input.check_all(check_depth(value, "the request body"), "the request body")

    return LimitedJSONProvider


def whole_number(value: Any, name: str, **extra: Any) -> int | None:
    """A whole number sent as a JSON number (1 or 1.0) or as its digits (a form field); None for nothing (None or
    ""). Anything else, and any number beyond SQLite's integers, is refused (InvalidInput naming ``name``)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if value.is_integer() else None
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        number = None
    if number is None:
        raise InvalidInput(msg('json_input.name_whole_number_got', '{name} must be a whole number (got {str!r})', name=name, str=str(value)[:40]), **extra)
    if abs(number) > MAX_INT:
        raise InvalidInput(msg('json_input.name_too_large_got', '{name} is too large (got {str})', name=name, str=str(value)[:40]), **extra)
    return number
