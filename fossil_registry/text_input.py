"""Which characters text from outside may hold: every request's form fields, file names and JSON strings (bodies,
JSON form fields, GeoJSON files) pass ``check`` before anything reads them. No Flask here.

Refused, with a message naming the field, the character and its position (a 400 that changes nothing):
* lone surrogates (only a JSON escape such as "\\ud800" can make one): no UTF-8 text can carry them, so storing one
  failed deep in SQLite as a 500 (found by the hostile-input suite, tests/test_hostile_input.py);
* NUL and the other C0/C1 control characters except tab, line feed and carriage return: C readers of the GeoPackage
  (GDAL, QGIS) cut text at a NUL, and terminal escapes in the audit trail would rewrite what an admin sees;
* the bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): they make text display
  in another order than it is stored ("Trojan Source"), e.g. a site name or file name that reads differently in the
  review queue than in an export.
Everything else is data and is stored as sent: emoji, combining marks, zero-width joiners (emoji and Indic scripts
need them), SQL or template metacharacters (never SQL or template source: see docs/security.md)."""
from __future__ import annotations

import re
from typing import Any

from .errors import RegistryError
from .messages import msg

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


class UnsafeText(RegistryError):
    status = 400
    title = "Text with characters that are refused"


def _name(ch: str) -> str:
    code = ord(ch)
    if code == 0:
        return "a NUL character"
    if 0xD800 <= code <= 0xDFFF:
        return "a lone surrogate (half of a UTF-16 pair; not a character)"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return "a bidirectional control character (it makes text display in another order than it is stored)"
    return "a control character"


def problem(text: str) -> str | None:
    """What is wrong with ``text`` (the first refused character), or None."""
    m = _FORBIDDEN.search(text)
    if m is None:
        return None
    return f"{_name(m.group())} (U+{ord(m.group()):04X}) at position {m.start() + 1}"


def check(text: Any, what: str) -> Any:
    """``text`` unchanged if it holds no refused character; UnsafeText naming ``what`` otherwise."""
    if isinstance(text, str):
        found = problem(text)
        if found:
            raise UnsafeText(msg('text_input.what_contains_found_remove', '{what} contains {found}; remove it and send the text again', what=what, found=found), field=what[:80])
    return text


def check_all(value: Any, what: str) -> Any:
    """Every string (and object key) in a parsed JSON value, without recursion; a refusal names the field's path
    (e.g. ``the field properties.name of the request body``). The strings are searched at once (one expression over
    them joined by a line feed, which is allowed); the walk that names the path runs only for a refusal, so a
    200,000-vertex GeoJSON costs one pass over its numbers, not a path string per number."""
    if _FORBIDDEN.search("\n".join(_strings(value))) is None:
        return value
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            check(item, f"the field {path} of {what}" if path else what)
        elif isinstance(item, dict):
            for key, child in item.items():
                check(key, f"a field name in {what}")
                stack.append((child, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return value


def _strings(value: Any) -> list[str]:
    """The strings and object keys anywhere in a parsed JSON value; the numbers are passed over by their class."""
    found: list[str] = []
    items = [value]
    while items:
        item = items.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(key for key in item if isinstance(key, str))
            items.extend([child for child in item.values() if child.__class__ not in _NUMBERS])
        elif isinstance(item, list):
            items.extend([child for child in item if child.__class__ not in _NUMBERS])
    return found


_NUMBERS = frozenset((int, float, bool, type(None)))
