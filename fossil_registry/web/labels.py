"""The registry's vocabularies (fossil_registry.vocab) in the pages, with nothing written again here.

Every vocabulary is a template global by its class name, so a template iterates it in its order
(``{% for level in Level %}``), and two filters name a stored value: ``{{ p.level|label(Level) }}`` is its label in the
reader's language (the value itself when the vocabulary does not know it, nothing for no value) and
``{{ p.level|colour(Level) }}`` its colour. ``label`` also takes a mapping of labels, such as
``REPORT_STATUS_FOR_REPORTER`` (what a reporter reads of a report's triage)."""
from __future__ import annotations

from typing import Any, Mapping

from ..i18n import translate
from ..vocab import REPORT_STATUS_FOR_REPORTER, VOCABULARIES, Vocabulary

UNKNOWN_COLOUR = "#555"


def label(value: Any, vocabulary: type[Vocabulary] | Mapping[str, Any]) -> Any:
    """The label of ``value`` in the reader's language."""
    if value is None or value == "":
        return ""
    found = vocabulary.get(value) if isinstance(vocabulary, Mapping) else getattr(vocabulary.get(value), "label", None)
    return translate(found) if found is not None else value


def colour(value: Any, vocabulary: type[Vocabulary], default: str = UNKNOWN_COLOUR) -> str:
    member = vocabulary.get(value)
    return member.colour if member is not None and member.colour else default


def labels(vocabulary: type[Vocabulary]) -> dict[str, str]:
    """{value: label in the reader's language}, in the vocabulary's order: for JSON read by a page's script."""
    return {m.value: translate(m.label) for m in vocabulary}


def init_app(app) -> None:
    app.jinja_env.globals.update({v.__name__: v for v in VOCABULARIES})
    app.jinja_env.globals["REPORT_STATUS_FOR_REPORTER"] = REPORT_STATUS_FOR_REPORTER
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["colour"] = colour
