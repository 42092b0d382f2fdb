"""Stratigraphic sections: the section kind of registered feature lives in fossil_registry.features.section (its
fields, the checks of its line, its length) and is worked on by the shared machinery of the features package; this
package keeps its old names (kind.py) and what is a section's own beyond its kind: whether it lies in the county it
names (county.py). docs/sections.md explains the choice of one machinery for several kinds."""
from __future__ import annotations

from ..features.section import (BOUNDARY_RANKS, GSSP_STATES, PROPERTY_FIELDS, SECTION, SIGNIFICANCES, TEXT_FIELDS,
                                length_m, normalize_properties, validate_line)

__all__ = ["BOUNDARY_RANKS", "GSSP_STATES", "PROPERTY_FIELDS", "SECTION", "SIGNIFICANCES", "TEXT_FIELDS", "length_m",
           "normalize_properties", "validate_line"]
