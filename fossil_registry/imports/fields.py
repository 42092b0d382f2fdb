"""The field mapping of an import: which column of the file feeds which field of the registry, guessed from the
column names (English and Chinese headers, units in brackets ignored) and checked; and the values as surveyors write
them (国家级, 三叠纪, 海百合、菊石, 2014年6月30日, RTK, ±3 m) turned into the registry's vocabulary. A value that cannot
be turned refuses its row with the values the registry knows; an empty cell never clears a field."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, Mapping

from .. import sites
from ..errors import InvalidInput
from ..messages import msg
from ..vocab import FossilGroup, Level, Period, Sensitivity, SurveyMethod, Vocabulary

# target -> names a column may carry (compared after NFKC, lower case, without brackets, spaces and _-./)
TARGETS: dict[str, tuple[str, ...]] = {
    "code": ("code", "sitecode", "siteid", "编号", "代码", "编码", "化石点编号", "产地编号", "点号", "遗迹编号"),
    "name": ("name", "sitename", "名称", "化石点名称", "产地名称", "地点名称", "点名", "名字", "site"),
    "name_en": ("nameen", "englishname", "英文名", "英文名称"),
    "county": ("county", "district", "县", "县区", "区县", "县市区", "所在县", "所在县区", "行政区", "县名"),
    "county_en": ("countyen", "县英文名"),
    "level": ("level", "protectionlevel", "级别", "保护级别", "等级", "保护等级"),
    "sensitivity": ("sensitivity", "publication", "敏感性", "敏感级别", "公开级别", "公开程度", "保密级别"),
    "period": ("period", "geologicalperiod", "时代", "地质时代", "纪", "年代"),
    "age": ("age", "stage", "epoch", "时代详细", "阶", "世"),
    "formation": ("formation", "地层", "层位", "组", "地层组", "含化石层位"),
    "formation_en": ("formationen", "英文地层名", "地层英文名"),
    "fossil_groups": ("fossilgroups", "fossils", "groups", "fossilgroup", "化石类别", "化石门类", "化石类型",
                      "门类", "主要化石", "化石"),
    "description": ("description", "desc", "remarks", "描述", "说明", "简介", "备注", "概况"),
    "description_en": ("descriptionen", "英文描述", "英文说明"),
    "public_description": ("publicdescription", "publictext", "公开说明", "公开描述", "对外说明"),
    "public_description_en": ("publicdescriptionen", "publictexten", "英文公开说明", "公开说明英文"),
    "established": ("established", "designated", "公布日期", "批准日期", "设立日期", "认定日期", "公布时间"),
    "method": ("method", "surveymethod", "测量方法", "定位方法", "方法"),
    "accuracy_m": ("accuracy", "accuracym", "precision", "精度", "定位精度", "测量精度"),
    "survey_date": ("surveydate", "date", "调查日期", "测量日期", "日期", "调查时间"),
    "x": ("lon", "lng", "long", "longitude", "经度", "东经", "easting", "east", "e", "东坐标", "横坐标"),
    "y": ("lat", "latitude", "纬度", "北纬", "northing", "north", "n", "北坐标", "纵坐标"),
}
PROPERTY_TARGETS = ("name", "name_en", "county", "county_en", "level", "sensitivity", "period", "age", "formation",
                    "formation_en",
                    "fossil_groups", "description", "description_en", "public_description", "public_description_en",
                    "established")
SURVEY_TARGETS = ("method", "accuracy_m", "survey_date")
COORDINATE_TARGETS = ("x", "y")


def _chinese(member: Vocabulary) -> tuple[str, ...]:
    """The Chinese words of a vocabulary member: its label and its Chinese synonyms (a cell may contain one)."""
    return (member.label.zh, *(w for w in member.synonyms if not w.isascii()))


def _choices(vocabulary: type[Vocabulary]) -> str:
    """The values with a Chinese word each, for a refusal: ``national/国家级, ...``."""
    return ", ".join(f"{m.value}/{next(iter(_chinese(m)[1:]), m.label.zh)}" for m in vocabulary)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip().lower()
    text = re.sub(r"[(\[（【].*?[)\]）】]", "", text)
    return re.sub(r"[\s_\-./:：]", "", text)


def guess_mapping(columns: list[str], *, coordinates: tuple[str | None, str | None] = (None, None),
                  has_geometry: bool = True) -> dict[str, str]:
    """{column: target} for the columns whose names say what they hold; coordinate columns only for tables without
    a geometry (``coordinates``: the reader's guess, which tells X/Y apart by their values)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    if not has_geometry:
        for target, column in zip(COORDINATE_TARGETS, coordinates):
            if column:
                out[column] = target
                taken.add(target)
    for column in columns:
        if column in out:
            continue
        key = _norm(column)
        for target, names in TARGETS.items():
            if target in taken or (target in COORDINATE_TARGETS and has_geometry):
                continue
            if key in names:
                out[column] = target
                taken.add(target)
                break
    return out


def check_mapping(raw: Any, columns: list[str], *, has_geometry: bool) -> dict[str, str]:
    """A mapping sent by a client: {column: target} (targets once each, '' or 'ignore' leaves a column out)."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(msg("imports.mapping_not_object", "mapping must be an object of file columns and registry "
                               "fields, e.g. {example}", example='{"名称": "name", "编号": "code"}'))
    out: dict[str, str] = {}
    used: dict[str, str] = {}
    for column, target in raw.items():
        if target in (None, "", "ignore"):
            continue
        if column not in columns:
            raise InvalidInput(msg("imports.no_such_column", "the file has no column {column!r}; its columns are "
                                   "{columns}", column=str(column)[:60], columns=', '.join(columns[:40])))
        if target not in TARGETS:
            raise InvalidInput(msg("imports.not_a_field", "{target!r} is not a registry field; map columns to one "
                                   "of {targets} (or leave them out)", target=str(target)[:40],
                                   targets=', '.join(TARGETS)))
        if target in COORDINATE_TARGETS and has_geometry:
            raise InvalidInput(msg("imports.geometry_column", "this file has a geometry column: coordinates come "
                                   "from it, not from columns"))
        if target in used:
            raise InvalidInput(msg("imports.mapped_twice", "the columns {first!r} and {second!r} are both mapped to "
                                   "{target}: map one", first=used[target], second=column, target=target))
        used[target] = column
        out[column] = target
    if sum(t in COORDINATE_TARGETS for t in out.values()) == 1:
        raise InvalidInput(msg("imports.one_coordinate_column", "map both coordinate columns (longitude or easting: "
                               "x; latitude or northing: y), or neither"))
    return out


# ------------------------------------------------------------------------------------------------------------ values
def _level(value: str) -> str:
    found = Level.parse(value) or Level.parse(_norm(value))
    if found is None:
        raise InvalidInput(msg("imports.level_unknown", "level {value!r} is not a protection level: use {levels}",
                               value=value[:40], levels=_choices(Level)))
    return found.value


def _sensitivity(value: str) -> str:
    found = Sensitivity.parse(value) or Sensitivity.parse(_norm(value))
    if found is None:
        raise InvalidInput(msg("imports.sensitivity_unknown", "sensitivity {value!r} is unknown: use {sensitivities}",
                               value=value[:40], sensitivities=_choices(Sensitivity)))
    return found.value


def _period(value: str) -> str:
    low = _norm(value)
    found = {p.value for p in Period if p.value.lower() in low or any(w in value for w in _chinese(p))}
    if not found:
        raise InvalidInput(msg("imports.period_none", "period {value!r} names no geological period: use one of "
                               "{periods} (or 三叠纪, 寒武纪, ...)", value=value[:40],
                               periods=', '.join(Period.values())))
    if len(found) > 1:
        raise InvalidInput(msg("imports.period_several", "period {value!r} names more than one geological period: use "
                               "one of {periods} (or 三叠纪, 寒武纪, ...)", value=value[:40],
                               periods=', '.join(Period.values())))
    return found.pop()


def _groups(value: str) -> list[str]:
    out = []
    for part in re.split(r"[,;，；、/|]+|\s{2,}", value):
        part = part.strip()
        if not part:
            continue
        found = FossilGroup.parse(part) or FossilGroup.parse(_norm(part)) \
            or next((g for g in FossilGroup if any(w in part for w in _chinese(g))), None)
        if found is None:
            raise InvalidInput(msg("imports.fossil_group_unknown", "fossil group {value!r} is unknown: use {groups} "
                                   "(or 海百合, 菊石, 鱼龙, ...)", value=part[:40],
                                   groups=', '.join(FossilGroup.values())))
        out.append(found.value)
    return list(dict.fromkeys(out))


def _date(value: str, what: str) -> str:
    text = unicodedata.normalize("NFKC", value).strip()
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?", text)
    try:
        if m is None:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        raise InvalidInput(msg("imports.date_unreadable", "{what} {value!r} is not a date like 2014-06-30 or "
                               "2014年6月30日", what=what, value=value[:40])) from None


def _method(value: str) -> str:
    found = SurveyMethod.parse(value) or SurveyMethod.parse(_norm(value))
    if found is None:
        raise InvalidInput(msg("imports.method_unknown", "method {value!r} is unknown: use {methods}",
                               value=value[:40], methods=', '.join(SurveyMethod.values())))
    return found.value


def _accuracy(value: str) -> str:
    m = re.search(r"\d+(?:\.\d+)?", unicodedata.normalize("NFKC", value))
    if m is None:
        raise InvalidInput(msg("imports.accuracy_unreadable", "accuracy {value!r} is not a number of metres",
                               value=value[:40]))
    return m.group(0)


CONVERT = {"level": _level, "sensitivity": _sensitivity, "period": _period, "fossil_groups": _groups,
           "established": lambda v: _date(v, "established"), "survey_date": lambda v: _date(v, "survey_date"),
           "method": _method, "accuracy_m": _accuracy}


def row_fields(values: Mapping[str, str], mapping: Mapping[str, str]) -> tuple[str | None, dict[str, Any],
                                                                                dict[str, Any]]:
    """(the row's code, its site properties, its survey fields) from the mapped, non-empty cells; InvalidInput names
    the first value the registry cannot take."""
    code, props, survey = None, {}, {}
    for column, target in mapping.items():
        value = (values.get(column) or "").strip()
        if not value or target in COORDINATE_TARGETS:
            continue
        if target == "code":
            code = unicodedata.normalize("NFKC", value).strip()[:80]
            continue
        converted = CONVERT[target](value) if target in CONVERT else value
        (survey if target in SURVEY_TARGETS else props)[target] = converted
    if props:
        props = sites.normalize_properties(props, partial=True)
    return code, props, survey
