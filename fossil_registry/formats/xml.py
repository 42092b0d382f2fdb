"""The one XML reader for uploaded files (KML, KMZ, GPX): defusedxml with DTDs and entities forbidden, so neither
external entities nor entity expansion can reach us, and a nesting-depth check, because readers walk the tree (KML
MultiGeometry recursively) and no geographic data nests deeper than :data:`MAX_XML_DEPTH`.

GDAL's KML and GPX readers are not used: they would need libexpat's entity handling to be trusted. The helpers
:func:`local`, :func:`children` and :func:`child_text` ignore namespaces, since files from apps are written with any
(or no) namespace.
"""
from __future__ import annotations

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from .base import _fail
from ..messages import msg

MAX_XML_DEPTH = 64


class XMLRefused(Exception):
    """Why a document was refused; each reader words the message for its own callers.

    ``reason`` is "entities" (a DTD or entity declarations), "malformed" (``detail``: the parser's message) or
    "too_deep" (nested more than :data:`MAX_XML_DEPTH` levels)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def parse_xml(data: bytes):
    """The document element of ``data``; raises :class:`XMLRefused`."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise XMLRefused("entities") from None
    except ParseError as exc:
        raise XMLRefused("malformed", str(exc)) from None
    stack = [(root, 1)]  # iterative, so that the check itself cannot overflow the stack
    while stack:
        element, level = stack.pop()
        if level > MAX_XML_DEPTH:
            raise XMLRefused("too_deep")
        stack.extend((child, level + 1) for child in element)
    return root


def read_xml(filename: str, data: bytes, what: str):
    """:func:`parse_xml` for the revision workflow's file readers: refusals are InvalidInput naming the file."""
    try:
        return parse_xml(data)
    except XMLRefused as exc:
        if exc.reason == "entities":
            raise _fail(filename, msg("formats.file_declares_dtd_xml", "the {what} file declares a DTD or XML "
                                      "entities, which are refused (external entities and entity expansion are a "
                                      "known attack); export the file again from your app", what=what)) from None
        if exc.reason == "malformed":
            raise _fail(filename, msg("formats.readable_file_xml_malformed", "not a readable {what} file: the XML is "
                                      "malformed or truncated ({detail})", what=what, detail=exc.detail)) \
                from None
        raise _fail(filename, msg("formats.file_nests_elements_more", "the {what} file nests elements more than "
                                  "{max_xml_depth} levels deep; no geographic data needs that", what=what,
                                  max_xml_depth=MAX_XML_DEPTH)) from None


def local(tag) -> str:
    """The tag without its namespace ('' for comments and processing instructions)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(el, name: str):
    return [c for c in el if local(c.tag) == name]


def child_text(el, name: str) -> str | None:
    """The stripped text of the first child called ``name``; None if there is none or it is empty."""
    for c in el:
        if local(c.tag) == name:
            return (c.text or "").strip() or None
    return None
