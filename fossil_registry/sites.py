"""The sites' face of the registered features (fossil_registry.features), kept so that modules written before kinds
were an extension point keep working: the names here are the features package's, under their old site names (a
``Site`` is a ``features.Feature``, ``create_site`` is ``features.create_feature``...), and the site kind's fields.
New code imports ``fossil_registry.features``; the vocabularies are in ``fossil_registry.vocab``."""
from __future__ import annotations

from .features import (CODE_PATTERN, GEOMETRY_NOUNS, INTERNAL_TEXT_FIELDS, MAX_TEXT, SITE, UNCHANGED, Change,
                       FeatureKind, all_as_of, anchor_point, as_of, at_version, checked_choices, checked_established,
                       checked_period, checked_texts, counts, current, diff, history, kind_of, kinds, list_current,
                       list_near, not_found, parse_timestamp, state_json, version_number)
from .features import Feature as Site
from .features import change_feature as change_site
from .features import create_feature as create_site
from .features import diff_features as diff_sites
from .features import kind as kind_named
from .features.site import PROPERTY_FIELDS, TEXT_FIELDS, normalize_properties
from .vocab import FossilGroup, Level, Period, Sensitivity, SiteStatus

# The vocabularies under their old names (fossil_registry.vocab holds them)
LEVELS = Level.values()
LEVEL_COLOURS = Level.colours()
SENSITIVITIES = Sensitivity.values()
STATUSES = SiteStatus.values()
PERIODS = Period.values()
FOSSIL_GROUPS = FossilGroup.values()

__all__ = ["CODE_PATTERN", "GEOMETRY_NOUNS", "INTERNAL_TEXT_FIELDS", "MAX_TEXT", "SITE", "UNCHANGED", "Change",
           "FeatureKind", "all_as_of", "anchor_point", "as_of", "at_version", "checked_choices", "checked_established",
           "checked_period", "checked_texts", "counts", "current", "diff", "history", "kind_of", "kinds",
           "list_current", "list_near", "not_found", "parse_timestamp", "state_json", "version_number", "Site",
           "change_site", "create_site", "diff_sites", "kind_named", "PROPERTY_FIELDS", "TEXT_FIELDS",
           "normalize_properties", "LEVELS", "LEVEL_COLOURS", "SENSITIVITIES", "STATUSES", "PERIODS", "FOSSIL_GROUPS"]
