"""What a field kit's GeoPackage holds: its layers, their fields and the vocabularies of the forms. One description,
read by the GeoPackage writer (package.py), the QGIS project (qgis_project.py) and the check-in (checkin.py).

Labels are bilingual (Chinese first: the field teams' language, then English), because they end up in a QGIS project
that opens on any device whatever its language; they are data of the project, not UI messages of this app.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import sites
from ..inspections import CONDITIONS
from ..revisions import METHODS

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

LEVEL_COLOURS = sites.LEVEL_COLOURS  # as on the protection map

LEVEL_LABELS = {"national": "国家级 national", "provincial": "省级 provincial", "general": "一般 general"}
SENSITIVITY_LABELS = {"open": "公开 open", "generalized": "概略公开 generalized", "hidden": "不公开 hidden"}
PERIOD_LABELS = {"Ediacaran": "埃迪卡拉纪 Ediacaran", "Cambrian": "寒武纪 Cambrian", "Ordovician": "奥陶纪 Ordovician",
                 "Silurian": "志留纪 Silurian", "Devonian": "泥盆纪 Devonian", "Carboniferous": "石炭纪 Carboniferous",
                 "Permian": "二叠纪 Permian", "Triassic": "三叠纪 Triassic", "Jurassic": "侏罗纪 Jurassic",
                 "Cretaceous": "白垩纪 Cretaceous", "Paleogene": "古近纪 Paleogene", "Neogene": "新近纪 Neogene",
                 "Quaternary": "第四纪 Quaternary"}
CONDITION_LABELS = {"good": "良好 good", "fair": "一般 fair", "poor": "较差 poor", "damaged": "受损 damaged",
                    "destroyed": "已毁 destroyed"}
METHOD_LABELS = {"rtk": "RTK GNSS", "handheld_gnss": "手持GNSS handheld GNSS", "phone_map": "手机地图 phone map app",
                 "digitised": "图上数字化 digitised from a map", "other": "其他 other"}

assert set(PERIOD_LABELS) == set(sites.PERIODS) and set(CONDITION_LABELS) == set(CONDITIONS)
assert set(METHOD_LABELS) == set(METHODS) and set(LEVEL_LABELS) == set(sites.LEVELS)


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


@dataclass(frozen=True)
class Layer:
    name: str
    geometry: str                     # GeoPackage geometry type
    title: str                        # bilingual layer name in QGIS
    description: str                  # gpkg_contents description (developer text, no quotes)
    fields: tuple[Field, ...]
    style: str                        # how qgis_project.py draws it

    @property
    def columns(self) -> list[tuple[str, str]]:
        return [(f.name, f.sql) for f in self.fields]

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

# The site properties a kit carries and a surveyor may change (sites.PROPERTY_FIELDS except the status: retiring a site
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
    "fossil_groups": Field("fossil_groups", "TEXT", "化石门类 fossil groups (" + ", ".join(sites.FOSSIL_GROUPS) + ")"),
    "description": Field("description", "TEXT", "描述 description", "multiline"),
    "description_en": Field("description_en", "TEXT", "英文描述 description (English)", "multiline"),
    "established": Field("established", "DATE", "设立日期 established", "date"),
}
assert set(SITE_PROPERTIES) <= set(sites.PROPERTY_FIELDS)

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
MANIFEST_COLUMNS = (("key", "TEXT NOT NULL UNIQUE"), ("value", "TEXT NOT NULL"))


def layer(name: str) -> Layer:
    return next(la for la in LAYERS if la.name == name)
