"""The fossil site, a kind of registered feature: a location point (and a protection boundary), its fields and their
checks. Everything else (versions, proposals and review, inspections, the public view, screening, field kits,
downloads) is the shared machinery of the ``features`` package, given SITE."""
from __future__ import annotations

import re
from typing import Any

from .. import config, store
from ..errors import InvalidInput
from ..geometry import validate_location
from ..messages import msg, term
from ..store import map_layers as stamps
from ..vocab import FossilGroup
from .registry import register
from .kind import (FIELD_LABELS, FIELD_VOCABULARIES, PROTECTION_CHOICES, TEXT_FIELDS, FeatureKind, field_label, checked_choices, checked_established,
                   checked_object, checked_period, checked_texts, completed, unknown_fields)

PROPERTY_FIELDS = TEXT_FIELDS + ("level", "period", "fossil_groups", "sensitivity", "established", "status")
LIST_FIELDS = ("fossil_groups",)
LABELS = {**FIELD_LABELS, "fossil_groups": field_label("fossil_groups", "fossil groups", "化石门类")}
VOCABULARIES = {**FIELD_VOCABULARIES, "fossil_groups": FossilGroup}


def fossil_groups(raw: Any) -> list[str]:
    """The fossil groups named: a list, or one text separated by commas or semicolons; each one of FossilGroup."""
    groups = [g.strip() for g in re.split(r"[;,]", raw) if g.strip()] if isinstance(raw, str) else raw
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, str) for g in groups):
        raise InvalidInput(msg("sites.fossil_groups_must_list", "fossil_groups must be a list of group names"))
    bad = [g for g in groups if g not in FossilGroup.values()]
    if bad:
        raise InvalidInput(msg("sites.unknown_fossil_group_s", "unknown fossil group(s) {bad}; known groups are "
                               "{fossil_groups}", bad=', '.join(bad), fossil_groups=', '.join(FossilGroup.values())))
    return [str(g) for g in dict.fromkeys(groups)]


def normalize_properties(props: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Checked, normalised copy of site properties; raises InvalidInput naming the field at fault.

    ``partial``: only the given fields are checked (an attribute change); otherwise name, level and sensitivity are
    required."""
    checked_object(props)
    unknown = unknown_fields(props, PROPERTY_FIELDS)
    if unknown:
        raise InvalidInput(msg("sites.unknown_site_field_s", "unknown site field(s): {unknown}; known fields are "
                               "{property_fields}", unknown=', '.join(unknown),
                               property_fields=', '.join(PROPERTY_FIELDS)))
    out = checked_texts(props, TEXT_FIELDS)
    out.update(checked_choices(props, PROTECTION_CHOICES))
    out.update(checked_period(props))
    if "fossil_groups" in props:
        out["fossil_groups"] = fossil_groups(props["fossil_groups"])
    out.update(checked_established(props))
    if not partial:
        if not out.get("name"):
            raise InvalidInput(msg("sites.site_needs_name", "a site needs a name"))
        for key in ("level", "sensitivity"):
            if key not in out:
                raise InvalidInput(msg("sites.site_needs", "a site needs a {key} ({value})", key=key,
                                       value=', '.join(PROTECTION_CHOICES[key].values())))
        completed(out, PROPERTY_FIELDS, LIST_FIELDS)
    return out


SITE = FeatureKind(
    "site", store.SITES, "location", "Point", PROPERTY_FIELDS, TEXT_FIELDS, normalize_properties, validate_location,
    "SITE_CODE_PREFIX", config.SITE_CODE_PREFIX, noun=term("site", "site"),
    not_found=lambda code: msg("sites.site_code", "no site with code {code!r}", code=code),
    list_fields=LIST_FIELDS, map_fields=("name", "name_en", "level", "period", "age", "fossil_groups"),
    proposal_checks=("overlaps",), collection="sites", title="Fossil sites",
    title_zh="化石点", description="Registered fossil sites (location and attributes). Anonymous callers get the public "
    "view: sites whose location is protected at the centre of their 0.1-degree cell, hidden sites absent.",
    description_zh="已登记的化石产地（位置和属性）。匿名访问者得到公开视图：位置受保护的产地显示在所在 0.1 度格网的中心，"
    "隐藏的产地不出现。",
    queryables=("level", "period", "fossil_groups", "county", "status"), stamp=stamps.change_stamp, labels=LABELS,
    vocabularies=VOCABULARIES)

register(SITE)
