"""Messages with codes: what the domain tells a person (an error it raises, a warning it stores, a note on how input was
read) is a `Message`, a stable code, an English template (the gettext msgid) and its named parameters. The domain stays
in English and Flask-free: `str(message)` is the English text; the HTTP edge (http/errors.py, `localized`) translates
the template through the Babel catalogs (translations/messages/) into the reader's language and fills in the same
parameters, so a Chinese reader gets a Chinese sentence with the numbers, codes and places the domain put in.

    raise InvalidInput(msg("geometry.self_intersection", "the boundary ring self-intersects at {at}", at=place))

A parameter may itself be a Message (a reason inside a sentence) or an exception carrying one; it is translated too.
Warnings stored with proposals keep `code`, `msgid` and `params` (`as_record`), so they are shown in the language of
whoever reads them later. tests/test_messages.py walks every msg() call: one template per code, Chinese for every
template, no raise with a bare string.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

__all__ = ["Message", "Joined", "Label", "Gettext", "msg", "msg_list", "message_of", "render", "from_record", "term"]


class Message(str):
    """The English text itself (a str, so the domain joins, compares, stores and serializes it as before), carrying
    its code, template and parameters for the translation at the edge."""

    def __new__(cls, code: str, template: str, params: Mapping[str, Any] | None = None):
        params = dict(params or {})
        self = super().__new__(cls, _format(template, template, {k: _rendered(v, None) for k, v in params.items()}))
        self.code = code
        self.template = template
        self.params = params
        return self

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        """The text in the language of `gettext` (English without one); a translation whose placeholders do not fit
        the parameters falls back to English rather than failing the answer that carries it."""
        if gettext is None:
            return str(self)
        params = {k: _rendered(v, gettext) for k, v in self.params.items()}
        return _format(gettext(self.template), self.template, params)

    def __repr__(self) -> str:
        return f"Message({self.code!r}, {str(self)!r})"

    def __reduce__(self):
        return (Message, (self.code, self.template, self.params))

    def json_params(self) -> dict[str, Any]:
        """The parameters as JSON values: nested messages as {"code", "params"}, numbers as numbers, the rest as text."""
        return {k: _json(v) for k, v in self.params.items()}

    def as_record(self) -> dict[str, Any]:
        """What is stored (e.g. with a proposal's warnings) to show this message later in any language."""
        return {"message": str(self), "message_code": self.code, "msgid": self.template,
                "params": _record_params(self.params)}


def _format(text: str, english: str, params: Mapping[str, Any]) -> str:
    for template in (text, english):
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError):
            continue
    return f"{english} {dict(params)}"


def msg(code: str, template: str, /, **params: Any) -> Message:
    """A message: `code` is stable (clients may match on it), `template` is the English text with {named} fields
    (positional-only, so that a parameter may be called `code`)."""
    return Message(code, template, params)


class Joined(Message):
    """Several messages shown as one (a list of reasons): each item translated, joined by a separator that is
    translated too (Chinese lists use 、 and ；)."""

    def __new__(cls, items, sep: str = "; "):
        items = list(items)
        self = str.__new__(cls, sep.join(str(i) for i in items))
        self.code, self.template, self.params, self.items = "list", sep, {}, items
        return self

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        if gettext is None:
            return str(self)
        return gettext(self.template).join(_rendered(i, gettext) for i in self.items)

    def __reduce__(self):
        return (Joined, (self.items, self.template))

    def json_params(self) -> dict[str, Any]:
        return {"items": [_json(i) for i in self.items]}

    def as_record(self) -> dict[str, Any]:
        return {"message": str(self), "message_code": "list", "msgid": self.template,
                "items": [i.as_record() if isinstance(i, Message) else str(i) for i in self.items]}


def msg_list(items, sep: str = ", ") -> Joined:
    """Messages (or plain values) as one list inside another message."""
    return Joined(items, sep)


class Label(Message):
    """A vocabulary's label (fossil_registry.vocab): a Message that carries its own Chinese, so the vocabulary is
    written once with both languages and no catalog entry can be forgotten. Shown in the reader's language wherever a
    Message is; ``bilingual`` for files read outside the app."""

    REGISTRY: dict[str, "Label"] = {}

    def __new__(cls, code: str, english: str, chinese: str):
        self = super().__new__(cls, code, english.replace("{", "{{").replace("}", "}}"))
        self.zh = chinese
        cls.REGISTRY[code] = self
        return self

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        return self.zh if getattr(gettext, "language", None) == "zh" else str(self)

    @property
    def bilingual(self) -> str:
        return f"{self.zh} {self}"

    def __reduce__(self):
        return (Label, (self.code, str(self), self.zh))

    def __repr__(self) -> str:
        return f"Label({self.code!r}, {str(self)!r}, {self.zh!r})"


class Gettext:
    """A catalog's gettext that knows its language (a Label renders itself from it)."""

    def __init__(self, gettext: Callable[[str], str], language: str):
        self._gettext, self.language = gettext, language

    def __call__(self, text: str) -> str:
        return self._gettext(text)


def term(code: str, english: str) -> Message:
    """A word or phrase that is put into other messages ("boundary", "location"), translated with them."""
    return Message(f"term.{code}", english)


def message_of(value: Any) -> Message | None:
    """The Message an exception (or a value) carries, or None for plain text."""
    if isinstance(value, Message):
        return value
    found = getattr(value, "message", None)
    return found if isinstance(found, Message) else None


def render(value: Any, gettext: Callable[[str], str] | None = None) -> str:
    """A Message, an exception carrying one, or plain text, as text in the language of `gettext`."""
    found = message_of(value)
    return found.render(gettext) if found is not None else str(value)


def from_record(record: Mapping[str, Any]) -> Message | None:
    """The Message stored by `as_record` (None for a record stored before messages had codes)."""
    if not record.get("msgid") or not record.get("message_code"):
        return None
    if record["message_code"] in Label.REGISTRY:
        return Label.REGISTRY[record["message_code"]]
    if record["message_code"] == "list":
        return Joined([from_record(i) or i["message"] if isinstance(i, Mapping) else i for i in record.get("items", [])],
                      record["msgid"])
    return Message(record["message_code"], record["msgid"],
                   {k: from_record(v) or v if isinstance(v, Mapping) else v for k, v in (record.get("params") or {}).items()})


def _rendered(value: Any, gettext) -> Any:
    found = message_of(value)
    if found is not None:
        return found.render(gettext)
    if isinstance(value, BaseException):
        return str(value)
    if isinstance(value, str):
        return str(value)
    return value


def _json(value: Any) -> Any:
    found = message_of(value)
    if found is not None:
        return {"code": found.code, "params": found.json_params()}
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float) or hasattr(value, "__float__") and not isinstance(value, (list, tuple)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if math.isfinite(number):
            return int(number) if float(number).is_integer() and not isinstance(value, float) else number
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return str(value)


def _record_params(params: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        found = message_of(v)
        out[k] = found.as_record() if found is not None else _json(v)
    return out
