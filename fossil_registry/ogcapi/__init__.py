"""The registry as an OGC API - Features service (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS by reference):
collections of sites, protection boundaries, stratigraphic sections, protection markers and, for staff, inspections
and patrol tracks. No Flask here: the blueprint api/ogcapi.py answers the requests. Modules: crs.py (the CRSs offered,
axis order, transformations), features.py (the collections and their cached indexes of ready-made GeoJSON), query.py
(items queries), stored.py (the registered features' current state, from the read model)."""
from __future__ import annotations

from .crs import CRS84, BadParameter, ServiceCRS, offered, resolve
from .features import COLLECTIONS, Collection, Index, index, now, property_label, property_value
from .query import DEFAULT_LIMIT, MAX_LIMIT, ItemsQuery, Page, feature_collection, parse, select
from . import stored
from .stored import extent

__all__ = ["BadParameter", "COLLECTIONS", "CRS84", "Collection", "DEFAULT_LIMIT", "Index", "ItemsQuery", "MAX_LIMIT",
           "Page", "ServiceCRS", "property_label", "property_value", "extent", "feature_collection", "index", "now",
           "offered", "parse", "resolve", "select", "stored"]
