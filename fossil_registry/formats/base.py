"""What every reader of uploaded geometry files shares: the formats and targets, the limits, what a file holds
(:class:`GeometrySource` of :class:`SourceFeature`), and the two ways a file is refused (:class:`InvalidInput` naming
the file, :class:`UploadTooLarge`), including the vertex budget every reader counts against.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from .. import config
from ..messages import Message, msg
from ..errors import InvalidInput, MiB, TooLarge  # noqa: F401  (MiB: re-exported for the readers)

FORMATS = ("geojson", "kml", "kmz", "gpx", "shapefile", "gpkg", "csv")
FORMAT_LABELS = {"geojson": "GeoJSON", "kml": "KML", "kmz": "KMZ", "gpx": "GPX", "shapefile": "zipped Shapefile",
                 "gpkg": "GeoPackage", "csv": "CSV"}
TARGETS = ("location", "boundary")
# A construction project's footprint (impact screening): every point, line and polygon of a file together.
FOOTPRINT = "footprint"
# A stratigraphic section's surveyed line (the main geometry of a section, where a site has its location).
LINE = "line"
WGS84_KEYS = ("EPSG:4326", "OGC:CRS84")


UploadTooLarge = TooLarge  # the name the readers and their callers have always used


@dataclass(frozen=True)
class Limits:
    """Size and content limits for one uploaded geometry file (documented in docs/revisions.md)."""

    max_file_bytes: int = config.REVISION_MAX_FILE_BYTES          # the upload itself
    max_unzipped_bytes: int = config.REVISION_MAX_UNZIPPED_BYTES  # all members of a ZIP/KMZ together, decompressed
    max_zip_entries: int = 100
    max_points: int = 1_000_000             # vertices read from any file before anything else is done with them
    ring_close_tolerance_m: float = config.REVISION_RING_CLOSE_TOLERANCE_M  # a walked perimeter this close is closed
    max_csv_rows: int = 200_000


@dataclass
class SourceFeature:
    geometry: BaseGeometry       # 2-D, in the file's coordinate system
    name: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class GeometrySource:
    """What one file holds: features in the file's CRS and what the file says about that CRS."""

    format: str
    filename: str
    features: list[SourceFeature]
    crs: str | None = None          # EPSG:xxxx or WKT the file declares or its format implies; None if unknown
    crs_declared: bool = False      # the file itself names the CRS (vs. the format's convention, e.g. KML = WGS84)
    notes: list[str] = field(default_factory=list)


def _fail(filename: str | None, message: Message) -> InvalidInput:
    if not filename:
        return InvalidInput(message)
    return InvalidInput(msg("formats.in_file", "{filename}: {error}", filename=filename, error=message))


class _PointBudget:
    def __init__(self, filename: str, limit: int):
        self.filename, self.limit, self.used = filename, limit, 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise UploadTooLarge(msg("formats.more_than_vertices_far", "{filename}: more than {limit:,} vertices; "
                                     "far more than a site outline needs. Thin the track or simplify the outline "
                                     "before uploading", filename=self.filename, limit=self.limit))

