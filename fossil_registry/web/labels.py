"""The registry's vocabularies (fossil_registry.vocab) in the pages, with nothing written again here.

Every vocabulary is a template global by its class name, so a template iterates it in its order
(``{% for level in Level %}``), and two filters name a stored value: ``{{ p.level|label(Level) }}`` is its label in the
reader's language (the value itself when the vocabulary does not know it, nothing for no value) and
``{{ p.level|colour(Level) }}`` its colour. ``label`` also takes a mapping of labels, such as
``REPORT_STATUS_FOR_REPORTER`` (what a reporter reads of a report's triage)."""
from __future__ import annotations

from typing import Any, Mapping

from .. import features, ogcapi
from ..ages import age_label
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


def _kind(kind: Any) -> features.FeatureKind:
    return kind if isinstance(kind, features.FeatureKind) else features.kind(str(kind or "site"))


def field_label(field: str, kind: Any = "site") -> Any:
    """The name of a field (or geometry) of a kind of feature (a FeatureKind or its name) in the reader's language:
    ``{{ f.field|field_label(rev.feature_kind) }}``."""
    return translate(_kind(kind).label(field))


def field_value(value: Any, field: str, kind: Any = "site") -> Any:
    """A stored value of a field as its vocabulary's label(s), left as it is otherwise (then shown by ``revvalue``)."""
    return _kind(kind).value_label(field, value)


def _collection_id(collection: Any) -> str:
    return getattr(collection, "id", collection)


def property_label(key: str, collection: Any) -> Any:
    """A property of an OGC collection's features (the collection or its id) in the reader's language."""
    return translate(ogcapi.property_label(_collection_id(collection), key))


def property_value(value: Any, key: str, collection: Any) -> Any:
    """A property's value as its vocabulary's label(s); left as it is otherwise (then shown by ``revvalue``)."""
    return ogcapi.property_value(_collection_id(collection), key, value)


def _field_label_of_any_kind(field: str) -> Any:
    return next((k.labels[field] for k in features.kinds() if field in k.labels), field)


def change_shown(change: str) -> str:
    """One of a proposal's ``changes`` as the API names it ("level → general", "boundary removed", "name"), stored with
    a field kit's check-in, in the reader's language."""
    field, arrow, value = str(change).partition(" → ")
    field = "boundary_removed" if field == "boundary removed" else field
    shown = translate(_field_label_of_any_kind(field))
    if not arrow:
        return shown
    kind = next((k for k in features.kinds() if field in k.vocabularies), features.SITE)
    return f"{shown} → {translate(kind.value_label(field, value))}"


def init_app(app) -> None:
    app.jinja_env.globals.update({v.__name__: v for v in VOCABULARIES})
    app.jinja_env.globals["REPORT_STATUS_FOR_REPORTER"] = REPORT_STATUS_FOR_REPORTER
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["colour"] = colour
    app.jinja_env.filters["field_label"] = field_label
    app.jinja_env.filters["field_value"] = field_value
    app.jinja_env.filters["property_label"] = property_label
    app.jinja_env.filters["change_shown"] = change_shown
    app.jinja_env.filters["age"] = lambda text: translate(age_label(text)) if text else text
    app.jinja_env.filters["property_value"] = property_value
