"""Downloads of the registry as files (GeoPackage, GeoJSON, KML, zipped Shapefile, CSV with WKT, FlatGeobuf) in a
CRS of the caller's choice: sites, protection boundaries and, for staff, inspections and patrol tracks; the whole
registry as one GeoPackage. Anonymous callers get the public view, built by the OGC API's record builders; staff the
exact data and, for the whole registry, the shareable export of the tables and records their API gives them
(access.py). No Flask: the blueprints api/downloads.py and web/downloads.py answer the requests. Modules: catalog.py
(layers, formats, reading a request), tables.py (the features as a typed table in the CRS asked for), writers.py (one
writer per format), build.py (the file in a private temporary directory, handed over open), cache.py (whole layers
kept per registry state), settings.py."""
from __future__ import annotations

from .build import PUBLIC_NOTICE, STAFF_NOTICE, Download, crs_label, names, prepare
from .catalog import (DBF_NAME, DBF_TEXT, FORMATS, LAYERS, Format, Layer, Unauthorized, Wanted, available, is_staff,
                      parse, shapefile_names, split_name)
from .settings import Settings

__all__ = ["DBF_NAME", "DBF_TEXT", "Download", "FORMATS", "Format", "LAYERS", "Layer", "PUBLIC_NOTICE", "STAFF_NOTICE",
           "Settings", "Unauthorized", "Wanted", "available", "crs_label", "is_staff", "names", "parse", "prepare",
           "shapefile_names", "split_name"]
