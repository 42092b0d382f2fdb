"""Field-kit settings, read from the app configuration (defaults: config.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .. import config, formats
from ..revisions import Policy


@dataclass(frozen=True)
class Settings:
    max_sites: int
    offline_basemap: Path | None       # the operator's MBTiles file, or None
    basemap_margin_deg: float
    basemap_max_tiles: int
    max_upload_bytes: int
    max_features: int
    limits: formats.Limits             # the zip of a check-in: unzipped size and entries (formats/archive.py)
    policy: Policy                     # the revision workflow's settings: proposals, attachments, region
    timezone: str                      # the zone of the times a person reads in the kit (its README)

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Settings":
        c = config.settings(config_)
        basemap = c.get("OFFLINE_BASEMAP")
        return cls(max_sites=int(c["FIELDKIT_MAX_SITES"]),
                   offline_basemap=Path(basemap) if basemap else None,
                   basemap_margin_deg=float(c["FIELDKIT_BASEMAP_MARGIN_DEG"]),
                   basemap_max_tiles=int(c["FIELDKIT_BASEMAP_MAX_TILES"]),
                   max_upload_bytes=int(c["FIELDKIT_MAX_UPLOAD_BYTES"]),
                   max_features=int(c["FIELDKIT_MAX_FEATURES"]),
                   limits=formats.Limits(max_file_bytes=int(c["FIELDKIT_MAX_UPLOAD_BYTES"]),
                                         max_unzipped_bytes=int(c["FIELDKIT_MAX_UNZIPPED_BYTES"]),
                                         max_zip_entries=int(c["FIELDKIT_MAX_ZIP_ENTRIES"])),
                   policy=Policy.from_config(config_), timezone=c["TIMEZONE"])

    @classmethod
    def defaults(cls) -> "Settings":
        """The settings of config.py without a data directory (photos cannot be attached): for scripts."""
        return cls.from_config({"DATA_DIR": None})
