"""Impact screening of construction projects against the protected fossil sites, stratigraphic sections and every
other registered kind of feature, and their protection markers (issue 12). Pure domain code.

A planner's footprint (polygon, line with a width, points; any format and coordinate system the revision workflow
reads, or drawn) is measured geodesically against every site within the outer buffer ring: intersection, overlap in m²
and % of the site, minimum distance, the ring it falls into and a risk class from a configurable rule table
(ring x protection level). Staff get exact results, which they can save, reopen, re-run and reproduce, and turn into a
project case (stage, decision, conditions) that the affected sites' timelines show and that is flagged when the
registry changes near it. Anonymous planners get only what the public view allows.

Modules: ``settings`` (rings, rule table), ``labels`` (the words), ``footprint`` (reading and preparing footprints),
``measure`` (the geodesic figures), ``screening`` (exact and public results), ``saved`` (saved screenings),
``cases`` (project cases, flags), ``export`` (rings, geometries, GeoPackage). docs/impact.md explains the decisions.
"""
from __future__ import annotations

from .cases import cases_of_screening, changes, get_case, list_cases, open_case, parse_case, rescreen_case, update_case
from .export import feature_geometries, geopackage, rings, simplified, site_geometries
from .footprint import Footprint, from_fields, from_geojson, from_upload, parse_width, prepare
from .labels import (CHANGE_NAMES, CONDITION_NAMES, CONDITIONS, CONSULT, DECISION_NAMES, DECISIONS,
                     NOTICE_GENERALIZED, NOTICE_HIDDEN, RISK_ACTIONS, RISK_CLASSES, RISK_COLOURS, RISK_NAMES,
                     STAGE_NAMES, STAGES)
from .saved import get_saved, list_saved, reproduce, rerun, save
from .screening import Result, screen, screen_at, search_bounds
from .settings import Settings

__all__ = [
    "CHANGE_NAMES", "CONDITIONS", "CONDITION_NAMES", "CONSULT", "DECISIONS", "DECISION_NAMES", "NOTICE_GENERALIZED",
    "NOTICE_HIDDEN", "RISK_ACTIONS", "RISK_CLASSES", "RISK_COLOURS", "RISK_NAMES", "STAGES", "STAGE_NAMES",
    "Footprint", "Result", "Settings", "cases_of_screening", "feature_geometries", "changes", "from_fields", "from_geojson", "from_upload",
    "geopackage", "get_case",
    "get_saved", "list_cases", "list_saved", "open_case", "parse_case", "parse_width", "prepare", "reproduce",
    "rerun", "rescreen_case", "rings", "save", "screen", "screen_at", "search_bounds", "simplified",
    "site_geometries", "update_case",
]
