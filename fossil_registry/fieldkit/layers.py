"""What a field kit's GeoPackage holds: its layers, their fields and the vocabularies of the forms. One description,
read by the GeoPackage writer (package.py), the QGIS project (qgis_project.py) and the check-in (checkin.py).

Labels are bilingual (Chinese first: the field teams' language, then English), because they end up in a QGIS project
that opens on any device whatever its language; they are data of the project, not UI messages of this app.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .. import features
from ..vocab import Condition, FossilGroup, Level, Period, Sensitivity, SurveyMethod, Vocabulary

KIT_GPKG = "fieldkit.gpkg"
KIT_PROJECT = "fieldkit.qgz"
KIT_BASEMAP = "basemap.mbtiles"
PHOTO_FOLDER = "DCIM"     # QField's default folder for attachments, relative to the project
MANIFEST = "kit_manifest"
FORMAT = "fossil-registry-fieldkit/1"

LOCATIONS = "site_locations"
BOUNDARIES = "site_boundaries"
NEW_FINDS = "new_finds"
SURVEY_POINTS = "survey_points"

LEVEL_COLOURS = Level.colours()  # as on the protection map


def bilingual(vocabulary: type[Vocabulary]) -> dict[str, str]:
    """A vocabulary's values with their bilingual labels (Chinese, then English), for a QGIS value map."""
    return {m.value: m.bilingual for m in vocabulary}


LEVEL_LABELS = bilingual(Level)
SENSITIVITY_LABELS = bilingual(Sensitivity)
PERIOD_LABELS = bilingual(Period)
CONDITION_LABELS = bilingual(Condition)
METHOD_LABELS = bilingual(SurveyMethod)


@dataclass(frozen=True)
class Field:
    """One attribute column of a kit layer and how the QGIS form shows it."""

    name: str
    sql: str                          # column type in the GeoPackage
    label: str                        # bilingual alias in the form
    widget: str = "text"              # text, multiline, valuemap, checkbox, date, photo, relation
    values: dict[str, str] | None = None   # valuemap: stored value -> label
    editable: bool = True
    default: str | None = None        # a QGIS default-value expression for new features
    relation: tuple[str, str, str] | None = None   # relation widget: (layer, key field, shown field)


# The drawing order of a kit's layers in QGIS (higher is drawn on top): context under the registry's features (county
# outlines and seats, which need no editing), then areas, lines and points, so that a fill never hides a site. A layer
# takes its rank from its geometry unless it names one; layers of one rank keep the order of KIT_LAYERS (later on top).
RANK_CONTEXT = 0
RANK_BY_GEOMETRY = {"MULTIPOLYGON": 100, "POLYGON": 100, "LINESTRING": 200, "MULTILINESTRING": 200, "POINT": 300,
                    "MULTIPOINT": 300}


@dataclass(frozen=True)
class Layer:
    name: str
    geometry: str                     # GeoPackage geometry type
    title: str                        # bilingual layer name in QGIS
    description: str                  # gpkg_contents description (developer text, no quotes)
    fields: tuple[Field, ...]
    style: str                        # how qgis_project.py draws it
    rank: int | None = None           # drawing order (RANK_CONTEXT...); None: by its geometry (RANK_BY_GEOMETRY)

    @property
    def columns(self) -> list[tuple[str, str]]:
        return [(f.name, f.sql) for f in self.fields]

    @property
    def draw_rank(self) -> int:
        return self.rank if self.rank is not None else RANK_BY_GEOMETRY[self.geometry]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


TODAY = "format_date(now(), 'yyyy-MM-dd')"

# Survey information on every layer that can be edited: it becomes the proposal's survey method, accuracy and date, and
# the surveyor and note go into its reason. It never counts as a change of the site by itself.
SURVEY_FIELDS = (
    Field("surveyor", "TEXT", "调查人 surveyor"),
    Field("method", "TEXT", "测量方法 survey method", "valuemap", METHOD_LABELS),
    Field("accuracy_m", "REAL", "精度(米) accuracy (m)"),
    Field("survey_date", "DATE", "调查日期 survey date", "date", default=TODAY),
    Field("note", "TEXT", "说明 note (reason for the change)", "multiline"),
)

# The site properties a kit carries and a surveyor may change (the site kind's fields but the status: retiring a site
# is a separate, explicit mark).
SITE_PROPERTIES = ("name", "name_en", "county", "county_en", "level", "sensitivity", "period", "age", "formation",
                   "fossil_groups", "description", "description_en", "established")
_PROPERTY_FIELDS = {
    "name": Field("name", "TEXT", "名称 name"),
    "name_en": Field("name_en", "TEXT", "英文名称 name (English)"),
    "county": Field("county", "TEXT", "县 county"),
    "county_en": Field("county_en", "TEXT", "县(英文) county (English)"),
    "level": Field("level", "TEXT", "保护级别 protection level", "valuemap", LEVEL_LABELS),
    "sensitivity": Field("sensitivity", "TEXT", "公开程度 sensitivity", "valuemap", SENSITIVITY_LABELS),
    "period": Field("period", "TEXT", "地质时代 period", "valuemap", PERIOD_LABELS),
    "age": Field("age", "TEXT", "时代 age"),
    "formation": Field("formation", "TEXT", "地层 formation"),
    "fossil_groups": Field("fossil_groups", "TEXT", "化石门类 fossil groups (" + ", ".join(FossilGroup.values()) + ")"),
    "description": Field("description", "TEXT", "描述 description", "multiline"),
    "description_en": Field("description_en", "TEXT", "英文描述 description (English)", "multiline"),
    "established": Field("established", "DATE", "设立日期 established", "date"),
}
assert set(SITE_PROPERTIES) <= set(features.SITE.property_fields)

CODE = Field("code", "TEXT NOT NULL", "编号 site code", editable=False)
BASE_VERSION = Field("base_version", "INTEGER NOT NULL", "基础版本 base version", editable=False)
PHOTO = Field("photo", "TEXT", "照片 photo", "photo")
CONDITION = Field("condition", "TEXT", "现状 condition", "valuemap", CONDITION_LABELS)

SITE_LOCATIONS = Layer(
    LOCATIONS, "POINT", "化石点 Fossil sites", "Fossil site locations of the kit (exact), with code and base version",
    (CODE, BASE_VERSION, *(_PROPERTY_FIELDS[k] for k in SITE_PROPERTIES),
     Field("retire", "BOOLEAN DEFAULT 0", "建议撤销(遗址已不存在) propose retirement (site destroyed)", "checkbox"),
     CONDITION, *SURVEY_FIELDS, PHOTO),
    "level_points")

SITE_BOUNDARIES = Layer(
    BOUNDARIES, "MULTIPOLYGON", "保护范围 Protection boundaries", "Protection boundaries of the kit sites (exact)",
    (CODE, BASE_VERSION, Field("name", "TEXT", "名称 name", editable=False),
     Field("level", "TEXT", "保护级别 protection level", "valuemap", LEVEL_LABELS, editable=False), *SURVEY_FIELDS),
    "level_polygons")

NEW_FINDS_LAYER = Layer(
    NEW_FINDS, "POINT", "新发现 New finds", "New fossil finds: each becomes a new-site proposal",
    (Field("find_id", "TEXT", "发现编号 find id", editable=False, default="uuid()"),
     *(_PROPERTY_FIELDS[k] for k in ("name", "name_en", "county", "level", "period", "age", "formation",
                                     "fossil_groups", "description")),
     CONDITION, *SURVEY_FIELDS, PHOTO),
    "finds")

SURVEY_POINTS_LAYER = Layer(
    SURVEY_POINTS, "POINT", "调查点与照片 Survey points and photos",
    "Survey points and photos: attached to the proposal of the site or find they name",
    (Field("site_code", "TEXT", "化石点编号 site code", "relation", relation=(LOCATIONS, "code", "code")),
     Field("find_id", "TEXT", "新发现 new find", "relation", relation=(NEW_FINDS, "find_id", "name")),
     CONDITION, Field("surveyor", "TEXT", "调查人 surveyor"),
     Field("observed_on", "DATE", "日期 date", "date", default=TODAY),
     Field("note", "TEXT", "说明 note", "multiline"), PHOTO),
    "survey")

LAYERS = (SITE_LOCATIONS, SITE_BOUNDARIES, NEW_FINDS_LAYER, SURVEY_POINTS_LAYER)

# The other registered kinds of feature (stratigraphic sections...) ride along for reference: exact, read-only, not
# read back at check-in (changes to them are proposed on the web, where their own checks run).
_REFERENCE_FIELDS = ("name", "name_en", "county", "county_en", "level", "sensitivity", "period", "age", "formation")
_GPKG_TYPES = {"Point": "POINT", "LineString": "LINESTRING", "MultiLineString": "MULTILINESTRING"}


def reference_layer(kind: features.FeatureKind) -> Layer:
    """A kind's layer in a kit: its main geometry with code, base version and its fields, all read-only (lists and
    objects as text)."""
    own = tuple(Field(k, "TEXT", k, editable=False) for k in kind.property_fields
                if k not in _REFERENCE_FIELDS and k not in kind.internal_text_fields and k != "status")
    shared = tuple(replace(_PROPERTY_FIELDS[k], editable=False) for k in _REFERENCE_FIELDS)
    return Layer(kind.layers.primary, _GPKG_TYPES[kind.geometry], f"{kind.title_zh} {kind.title}",
                 f"{kind.title} of the kit (exact, for reference: changes are proposed on the web)",
                 (replace(CODE, label="编号 code"), BASE_VERSION, *shared, *own), f"reference_{kind.geometry}")


REFERENCE_LAYERS = tuple(reference_layer(k) for k in features.kinds() if k is not features.SITE)
KIT_LAYERS = LAYERS + REFERENCE_LAYERS  # what a kit's GeoPackage and QGIS project hold


def drawing_order(layers) -> list:
    """``layers`` from the one drawn at the bottom to the one drawn on top: by rank, then in their given order."""
    return sorted(layers, key=lambda la: la.draw_rank)  # stable: one rank keeps the given order
MANIFEST_COLUMNS = (("key", "TEXT NOT NULL UNIQUE"), ("value", "TEXT NOT NULL"))


def layer(name: str) -> Layer:
    return next(la for la in LAYERS if la.name == name)
