"""Registered features, of every kind: the extension point of the registry.

A kind of feature (:class:`FeatureKind`: a fossil site, a stratigraphic section...) is one module of this package
that defines its fields, their checks and its main geometry, and registers the kind. Everything else is shared and
works on every registered kind: versions (``versions``: current state, history, as-of, diffs, versioned writes),
proposals and review (revisions/), the public view, impact screening, field kits, downloads and the OGC collections
(which iterate over ``kinds()``). No module outside a kind's own branches on its name: what differs is an attribute
or hook of the kind.

Adding a kind (a geopark, a cave, a collection locality): a module here (fields, checks, ``register``), its tables
(a store.Layers and a migration step), its templates and translations.
"""
from __future__ import annotations

from .kind import (CODE_PATTERN, GENERALIZED, GEOMETRY_NOUNS, INTERNAL_TEXT_FIELDS, MAX_TEXT, PROTECTION_CHOICES, TEXT_FIELDS,
                   FeatureKind, field_label,
                   anchor_point, checked_choices, checked_established, checked_period, checked_texts)
from .registry import (change_stamps, collection_kind, kind, kind_of_code, kinds, public_projection, read_model,
                       register, set_public_projection, set_read_model)
from .site import SITE          # each kind module registers its kind: sites first
from .section import SECTION
from .versions import (UNCHANGED, Change, Feature, all_as_of, as_of, at_version, boundary_changed, change_feature,
                       counts, create_feature, current, diff, diff_features, history, kind_of, list_current, list_near,
                       not_found, parse_timestamp, state_json, version_number)

__all__ = ["CODE_PATTERN", "GENERALIZED", "GEOMETRY_NOUNS", "INTERNAL_TEXT_FIELDS", "MAX_TEXT", "PROTECTION_CHOICES", "TEXT_FIELDS",
           "FeatureKind", "field_label", "anchor_point", "checked_choices", "checked_established", "checked_period", "checked_texts",
           "change_stamps", "collection_kind", "kind", "kind_of_code", "kinds", "public_projection", "register", "set_public_projection",
           "read_model", "set_read_model", "SITE", "SECTION",
           "UNCHANGED", "Change", "Feature", "all_as_of", "as_of", "at_version", "boundary_changed", "change_feature",
           "counts", "create_feature", "current", "diff", "diff_features", "history", "kind_of", "list_current",
           "list_near", "not_found", "parse_timestamp", "state_json", "version_number"]
