"""Stratigraphic sections: a second kind of registered feature beside the sites (sites.FeatureKind).

A section is registered, versioned, proposed and reviewed, inspected and shown to the public by the sites' own
machinery (sites.py, revisions/, inspections/, public_view.py, map_layers.py, ogcapi/), given the SECTION kind; this
package holds only what is a section's own: its fields and the checks of its line (kind.py) and whether it lies in
the county it names (county.py). docs/sections.md explains the choice of one machinery for several kinds.
"""
from __future__ import annotations

from .kind import (BOUNDARY_RANKS, GSSP_STATES, PROPERTY_FIELDS, SECTION, SIGNIFICANCES, TEXT_FIELDS, length_m,
                   normalize_properties, validate_line)

__all__ = ["BOUNDARY_RANKS", "GSSP_STATES", "PROPERTY_FIELDS", "SECTION", "SIGNIFICANCES", "TEXT_FIELDS", "length_m",
           "normalize_properties", "validate_line"]
