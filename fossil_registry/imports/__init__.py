"""Site import for admins: a CSV, GeoJSON, GeoPackage, zipped Shapefile (or KML/KMZ, GPX) of sites becomes
new-site and change proposals that go through the normal four-eyes review; the import never writes a site.

One module per concern (pure domain code, no Flask):

- :mod:`.settings`: limits, matching distance, tolerance, preview sizes (from config.py);
- :mod:`.fields`: the field mapping (file columns -> registry fields, guessed from English and Chinese headers) and
  the values as surveyors write them (国家级, 三叠纪, 海百合、菊石 ...);
- :mod:`.reading`: the file read with its options (encoding, CRS, layer) into rows placed in EPSG:4490;
- :mod:`.analysis`: matching (by code or by location within N metres), comparison with the matched site, the revision
  workflow's own check, open proposals with the same content, contradictions within the file;
- :mod:`.jobs`: upload, new mapping, confirmation, and the background job (state, progress and claims in the
  ``imports`` tables; one transaction per proposed row);
- :mod:`.views`: the import, its rows and its summary as clients see them (JSON, CSV rows);
- :mod:`.template`: the template file to fill in (CSV for Excel, GeoPackage) with one example row.

Flow: upload -> (background) analysis -> ``ready``: preview, mapping, per-row outcome -> confirm (the analysis seen)
-> (background) proposing -> ``done``: summary. Details and decisions: docs/import.md.
"""
from __future__ import annotations

from .analysis import content_key
from .fields import COORDINATE_TARGETS, PROPERTY_TARGETS, SURVEY_TARGETS, TARGETS, guess_mapping
from .jobs import confirm, create, ensure_running, get, options_of, remap, run, start
from .reading import MATCH_MODES, Options
from .settings import Settings
from .template import csv_bytes as template_csv
from .template import geopackage_bytes as template_geopackage
from .views import (SUMMARY_COLUMNS, changes, import_json, label, list_imports, map_points, row_json, summary,
                    summary_rows)

__all__ = ["COORDINATE_TARGETS", "MATCH_MODES", "Options", "PROPERTY_TARGETS", "SUMMARY_COLUMNS", "SURVEY_TARGETS",
           "Settings", "TARGETS", "changes", "confirm", "content_key", "create", "ensure_running", "get",
           "guess_mapping", "import_json", "label", "list_imports", "map_points", "options_of", "remap",
           "row_json", "run", "start", "summary", "summary_rows", "template_csv", "template_geopackage"]
