"""The section kind's face under its old name: fossil_registry.features.section holds it."""
from __future__ import annotations

from ..features.section import (BOUNDARY_RANKS, GSSP_STATES, PROPERTY_FIELDS, SECTION, SIGNIFICANCES, TEXT_FIELDS,
                                length_m, measures, normalize_properties, validate_line)

__all__ = ["BOUNDARY_RANKS", "GSSP_STATES", "PROPERTY_FIELDS", "SECTION", "SIGNIFICANCES", "TEXT_FIELDS", "length_m",
           "measures", "normalize_properties", "validate_line"]
