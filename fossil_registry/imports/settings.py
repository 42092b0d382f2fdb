"""Settings of the site import, read from the app configuration (defaults: config.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .. import config, formats
from ..revisions import Policy


@dataclass(frozen=True)
class Settings:
    registry_path: str | None          # where background jobs open their own connection (GeoPackage path or URL)
    max_file_bytes: int
    limits: formats.Limits             # the file: size, unzipped size, rows (max_csv_rows)
    match_distance_m: float            # default distance of matching by location
    max_match_distance_m: float
    move_tolerance_m: float            # a matched site's location closer than this to the file's is unchanged
    stale_after_s: float               # a job whose worker has not reported for this long is taken over
    preview_rows: int
    map_max_markers: int
    policy: Policy                     # the revision workflow's settings: validation, region, code prefix

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Settings":
        c = config.settings(config_)
        return cls(registry_path=c.get("REGISTRY") or c.get("REGISTRY_PATH"),
                   max_file_bytes=int(c["IMPORT_MAX_FILE_BYTES"]),
                   limits=formats.Limits(max_file_bytes=int(c["IMPORT_MAX_FILE_BYTES"]),
                                         max_unzipped_bytes=int(c["IMPORT_MAX_UNZIPPED_BYTES"]),
                                         max_csv_rows=int(c["IMPORT_MAX_ROWS"])),
                   match_distance_m=float(c["IMPORT_MATCH_DISTANCE_M"]),
                   max_match_distance_m=float(c["IMPORT_MAX_MATCH_DISTANCE_M"]),
                   move_tolerance_m=float(c["IMPORT_MOVE_TOLERANCE_M"]),
                   stale_after_s=float(c["IMPORT_STALE_AFTER_S"]),
                   preview_rows=int(c["IMPORT_PREVIEW_ROWS"]),
                   map_max_markers=int(c["IMPORT_MAP_MAX_MARKERS"]),
                   policy=Policy.from_config(config_))
