"""Reading site geometries from the files field teams actually have, safely.

Supported: GeoJSON, KML, KMZ, GPX, zipped Shapefile (.prj and .cpg honoured), GeoPackage, CSV of vertices, plus typed
coordinates; and the GPX patrol tracks of inspections. One home for each concern:

- :mod:`.base`: formats, targets, :class:`Limits`, what a file holds, refusals and the vertex budget;
- :mod:`.xml`: the one XML reader (defusedxml, no DTDs or entities, a nesting-depth limit) and namespace-agnostic
  helpers;
- :mod:`.kml`: KML and KMZ; :mod:`.gpx`: GPX, one walk for the revision workflow's :func:`read_gpx` and the
  inspections' :func:`parse_gpx`;
- :mod:`.archive`: ZIP archives opened safely (traversal, links, bombs);
- :mod:`.ogr`: GeoJSON, GeoPackage and zipped Shapefile through GDAL/pyogrio;
- :mod:`.vertices_csv`: CSV of vertices;
- :mod:`.table`: tables of sites for the import (every row and column, encodings recognised, CSV coordinates);
- :mod:`.sources`: format detection, :func:`read_source`, CRS choice, picking the one geometry, :func:`read_geometry`,
  :func:`read_geojson_object` (a project footprint sent as GeoJSON), :func:`to_registry_crs` (optionally densified in
  the source CRS) and :func:`parse_typed_points`.

Everything hostile or broken is refused with :class:`~fossil_registry.errors.InvalidInput` (or :class:`UploadTooLarge`)
whose message names the file and the problem: oversized files, truncated or non-geographic files, empty collections,
ZIP path traversal, ZIP bombs (sizes checked in the central directory *and* while decompressing), too many vertices.

Pure domain code: no Flask. The caller passes the bytes, the file name and :class:`Limits` (built from the app config).
Callers use ``from fossil_registry import formats`` and the names below.
"""
from __future__ import annotations

from .archive import open_zip, read_member
from .base import (FOOTPRINT, FORMAT_LABELS, FORMATS, LINE, TARGETS, WGS84_KEYS, GeometrySource, Limits, MiB, SourceFeature,
                   UploadTooLarge)
from .gpx import Track, parse_gpx, read_gpx
from .kml import read_kml
from .ogr import read_geojson, read_gpkg, read_shapefile_zip
from .table import (ENCODINGS, CrsUnknown, EncodingUnknown, Table, TableRow, coordinate_columns, read_table,
                    with_points)
from .table import codec as encoding_codec
from .sources import (ReadGeometry, choose_crs, detect_format, parse_typed_points, pick_geometry, read_geometry,
                      read_geojson_object, read_source, read_zip, to_registry_crs)
from .vertices_csv import CSV_COLUMN_HELP, read_csv
from .xml import MAX_XML_DEPTH

__all__ = [
    "MiB", "FOOTPRINT", "LINE", "FORMATS", "FORMAT_LABELS", "TARGETS", "WGS84_KEYS", "MAX_XML_DEPTH", "CSV_COLUMN_HELP",
    "UploadTooLarge", "Limits", "SourceFeature", "GeometrySource", "ReadGeometry", "Track",
    "detect_format", "open_zip", "read_member", "read_kml", "read_gpx", "read_geojson", "read_gpkg",
    "read_shapefile_zip", "read_zip", "read_csv", "read_source", "choose_crs", "pick_geometry", "read_geometry",
    "read_geojson_object", "to_registry_crs", "parse_typed_points", "parse_gpx",
    "ENCODINGS", "EncodingUnknown", "CrsUnknown", "Table", "TableRow", "read_table", "with_points",
    "coordinate_columns", "encoding_codec",
]
