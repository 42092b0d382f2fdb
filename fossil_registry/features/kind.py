"""What a kind of registered feature is (:class:`FeatureKind`): its tables, its main geometry, its fields and their
checks, and the hooks through which the shared machinery (versions, proposals, the public view, screening, field kits,
downloads) asks a kind what differs, so that no module outside a kind's own branches on its name. The checks every
kind's fields share (texts, vocabularies, period, date) are here too."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Mapping

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from ..ages import age_label
from ..errors import InvalidInput
from ..messages import Label, Message, msg, term
from ..vocab import Level, Period, Sensitivity, SiteStatus, Vocabulary

# The text every kind has: names, county, age, formation, the internal and the public description.
TEXT_FIELDS = ("name", "name_en", "county", "county_en", "age", "formation", "formation_en", "description",
               "description_en", "public_description", "public_description_en")
# Free text for staff only while the location is protected (generalized, hidden): the internal description and notes.
# What the public reads of such a feature is its names and the public description, reviewed as such in proposals.
INTERNAL_TEXT_FIELDS = ("description", "description_en")
MAX_TEXT = 4000
CODE_PATTERN = re.compile(r"^[A-Z]{2,4}-\d{4,6}$")
# The geometries of a feature as words inside messages (a parameter such as {primary}), translated with them: a
# Chinese reader reads 位置, 剖面线, 边界, never an English word in a Chinese sentence.
GEOMETRY_NOUNS = {"location": term("location", "location"), "line": term("line", "line"),
                  "boundary": term("boundary", "boundary")}
# The flag of a public record of a feature shown only by its cell (its location protected): named as the sensitivity
GENERALIZED = Sensitivity.GENERALIZED.value
# The vocabularies every kind is protected by.
PROTECTION_CHOICES: dict[str, type[Vocabulary]] = {"level": Level, "sensitivity": Sensitivity, "status": SiteStatus}
# The vocabulary of each field every kind has that holds one (a kind adds its own: FeatureKind.vocabularies).
FIELD_VOCABULARIES: dict[str, type[Vocabulary]] = {**PROTECTION_CHOICES, "period": Period}


def field_label(name: str, english: str, chinese: str) -> Label:
    """The name of a field as a person reads it (review queue, diffs, history, forms), in both languages."""
    return Label(f"field.{name}", english, chinese)


# The names of the fields every kind has, beside them (a kind names its own: FeatureKind.labels); the geometries too.
FIELD_LABELS: dict[str, Label] = {
    "name": field_label("name", "name", "名称"), "name_en": field_label("name_en", "English name", "英文名称"),
    "county": field_label("county", "county", "所在县（市、区）"),
    "county_en": field_label("county_en", "county (English)", "所在县（英文）"),
    "age": field_label("age", "age", "时代"), "formation": field_label("formation", "formation", "地层（组）"),
    "formation_en": field_label("formation_en", "formation (English)", "地层（英文）"),
    "description": field_label("description", "description", "描述"),
    "description_en": field_label("description_en", "description (English)", "英文描述"),
    "public_description": field_label("public_description", "public description", "公开描述"),
    "public_description_en": field_label("public_description_en", "public description (English)", "公开描述（英文）"),
    "level": field_label("level", "protection level", "保护级别"),
    "sensitivity": field_label("sensitivity", "location sensitivity", "位置敏感性"),
    "status": field_label("status", "status", "状态"), "period": field_label("period", "period", "地质时代（纪）"),
    "established": field_label("established", "established", "设立日期"),
    "location": field_label("location", "location", "位置"), "line": field_label("line", "section line", "剖面线"),
    "boundary": field_label("boundary", "boundary", "保护范围"),
    "boundary_removed": field_label("boundary_removed", "boundary removed", "删除保护范围"),
}


@dataclass(frozen=True, repr=False)
class FeatureKind:
    """One kind of registered feature: its tables, the name of its main geometry, its fields and their checks, and
    what the shared machinery asks of it."""

    name: str                                          # stored with proposals and in audit actions
    layers: Any                                        # store.Layers: its tables
    primary: str                                       # the main geometry as the API names it: location, line
    geometry: str                                      # ... and its geometry type (GeoJSON, GDAL): Point, LineString
    property_fields: tuple[str, ...]
    text_fields: tuple[str, ...]                       # free text (the public view withholds numbers in them)
    normalize: Callable[..., dict[str, Any]]           # (properties, partial=...) -> checked copy
    validate_primary: Callable[[Any], BaseGeometry]    # raises GeometryError with a readable reason
    code_prefix_setting: str                           # the config key of the prefix of new codes
    default_prefix: str                                # ... and the prefix when the configuration names none
    noun: Message                                      # the kind in messages ("site"), translated with them
    not_found: Callable[[str], Message]                # "no site with code ...": a code of its own per kind
    measures: Callable[[BaseGeometry], dict[str, Any]] = lambda geom: {}  # figures of the main geometry
    internal_text_fields: tuple[str, ...] = INTERNAL_TEXT_FIELDS           # staff only while the location is protected
    public_lists: tuple[str, ...] = ()                 # lists of names published like its texts (a section's units)
    # what a map's popup and a search hit show of a feature besides its code (a list field as a list, empty if unset)
    map_fields: tuple[str, ...] = ("name", "name_en", "level", "period", "age")
    list_fields: tuple[str, ...] = ()                  # fields holding lists (empty list, not None, when unset)
    # checks of a proposal that depend on the kind (revisions.validation.PLACE_CHECKS names them): "overlaps" (other
    # features' boundaries), "county" (the county it names)
    proposal_checks: tuple[str, ...] = ()
    collection: str = ""                               # its OGC API collection and download layer
    title: str = ""                                    # plural, English and Chinese, for files read outside the app
    title_zh: str = ""
    description: str = ""                              # of its collection (OGC API), English
    description_zh: str = ""                           # ... and Chinese (the service's HTML pages)
    queryables: tuple[str, ...] = ()                   # the properties its collection filters on
    stamp: Callable[[Any], tuple] | None = None        # the change stamp of its tables (the key of cached answers)
    # A collection (and download layer) holds one geometry type for every audience (docs/ogcapi.md). A kind whose main
    # geometry is not a point also has a point collection: every feature as one point (anchor_point; in the public
    # view a feature of protected location at its cell's centre, which is never in the kind's own collection)
    point_collection: str = ""
    point_title: str = ""
    point_title_zh: str = ""
    point_description: str = ""
    point_description_zh: str = ""
    # the names of its fields (FIELD_LABELS and its own), and the vocabulary of each field holding one
    labels: Mapping[str, Label] = field(default_factory=lambda: FIELD_LABELS)
    vocabularies: Mapping[str, type[Vocabulary]] = field(default_factory=lambda: FIELD_VOCABULARIES)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"FeatureKind({self.name!r})"

    @property
    def public_text_fields(self) -> tuple[str, ...]:
        """The free text the public reads of a feature whose location is protected: cleared by a reviewer as public
        text (names, county, age, formation, the public description), never the internal description."""
        return tuple(k for k in self.text_fields if k not in self.internal_text_fields)

    @property
    def primary_noun(self) -> Message:
        """The main geometry as a word of messages ("location", "line")."""
        return GEOMETRY_NOUNS[self.primary]

    def label(self, field: str) -> Label | str:
        """The name of one of its fields (or geometries) as a person reads it; the field's own name if unnamed."""
        return self.labels.get(field, field)

    def value_label(self, field: str, value: Any) -> Any:
        """A stored value as a person reads it: a vocabulary's label (each item of a list), otherwise the value."""
        if field == "age":  # written with the chronostratigraphic chart's names (ages.py)
            return age_label(value)
        vocabulary = self.vocabularies.get(field)
        if vocabulary is None or value is None:
            return value
        if isinstance(vocabulary, type) and issubclass(vocabulary, Vocabulary):
            return vocabulary.labelled(value)
        if isinstance(value, (list, tuple)):  # a list of objects: the values of each named by their vocabularies
            return [{k: self.value_label(k, v) for k, v in item.items()} if isinstance(item, Mapping) else item
                    for item in value]
        return value

    def code_prefix(self, config: Mapping[str, Any] | None = None) -> str:
        """The prefix of new codes of this kind: the configured one (``code_prefix_setting``), else the default."""
        return (config or {}).get(self.code_prefix_setting) or self.default_prefix

    def example_code(self, config: Mapping[str, Any] | None = None) -> str:
        return f"{self.code_prefix(config)}0001"


def anchor_point(geom: BaseGeometry) -> Point:
    """One point that stands for a feature's main geometry on a map or in a schedule: a site's location, the middle
    of a section's line."""
    return geom if geom.geom_type == "Point" else geom.interpolate(0.5, normalized=True)


# --------------------------------------------------------------------------------------------------------------------
# Checks every kind's fields share
# --------------------------------------------------------------------------------------------------------------------
def checked_object(props: Any) -> None:
    if not isinstance(props, dict):
        raise InvalidInput(msg("sites.properties_must_object_field", "properties must be an object of field names "
                               "and values"))


def checked_texts(props: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The given free-text fields, stripped; refused when not text or too long."""
    out = {}
    for key in fields:
        if key in props:
            value = props[key]
            if value is not None and not isinstance(value, str):
                raise InvalidInput(msg("sites.must_text", "{key} must be text", key=key))
            value = (value or "").strip()
            if len(value) > MAX_TEXT:
                raise InvalidInput(msg("sites.too_long_characters_limit", "{key} is too long ({count} characters; "
                                       "the limit is {max_text})", key=key, count=len(value), max_text=MAX_TEXT))
            out[key] = value
    return out


def checked_choices(props: dict[str, Any], choices: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields of a controlled vocabulary (a Vocabulary or a tuple of values); refused when not one of its
    values."""
    out = {}
    for key, allowed in choices.items():
        values = allowed.values() if isinstance(allowed, type) and issubclass(allowed, Vocabulary) else allowed
        if key in props:
            if props[key] not in values:
                raise InvalidInput(msg("sites.must_one_got", "{key} must be one of {allowed} (got {props!r})", key=key,
                                       allowed=', '.join(values), props=props[key]))
            out[key] = str(props[key])
    return out


def checked_period(props: dict[str, Any]) -> dict[str, Any]:
    if "period" not in props:
        return {}
    period = (props["period"] or "").strip()
    if period and period not in Period.values():
        raise InvalidInput(msg("sites.period_must_one_got", "period must be one of {periods} (got {period!r})",
                               periods=', '.join(Period.values()), period=period))
    return {"period": period}


def checked_established(props: dict[str, Any]) -> dict[str, Any]:
    if "established" not in props:
        return {}
    value = props["established"]
    if value in (None, ""):
        return {"established": None}
    try:
        return {"established": date.fromisoformat(str(value)).isoformat()}
    except ValueError:
        raise InvalidInput(msg("sites.established_must_date_like", "established must be a date like 2014-06-30 "
                               "(got {value!r})", value=value)) from None


def unknown_fields(props: dict[str, Any], known: tuple[str, ...], extra: tuple[str, ...] = ()) -> list[str]:
    return sorted(set(props) - set(known) - {"code", "version", *extra})


def completed(out: dict[str, Any], kind_fields: tuple[str, ...], list_fields: tuple[str, ...]) -> dict[str, Any]:
    """A whole feature's properties: the status active unless given, every other field present (lists empty)."""
    out.setdefault("status", SiteStatus.ACTIVE.value)
    for key in kind_fields:
        out.setdefault(key, [] if key in list_fields else None)
    return out
