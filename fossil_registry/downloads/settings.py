"""Download settings, read from the app configuration (defaults: config.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .. import config


@dataclass(frozen=True)
class Settings:
    registry_path: str | Path    # where the registry lives: the GeoPackage, or the PostgreSQL URL
    region: tuple[float, float, float, float]
    timezone: str
    work_dir: Path | None       # where files are written before they are sent (None: the system's temporary directory)
    cache_dir: Path | None      # finished whole-layer files per registry state (None: no cache)
    cache_bytes: int

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Settings":
        c = config.settings(config_)
        cache_bytes = int(c["DOWNLOADS_CACHE_BYTES"])
        cache_dir = c.get("DOWNLOADS_CACHE_DIR") or (Path(c["DATA_DIR"]) / "cache" / "downloads")
        return cls(registry_path=c.get("REGISTRY") or Path(c["REGISTRY_PATH"]), region=tuple(c["REGION_BBOX"]),
                   timezone=c["TIMEZONE"],
                   work_dir=Path(c["DOWNLOADS_TMP_DIR"]) if c.get("DOWNLOADS_TMP_DIR") else None,
                   cache_dir=Path(cache_dir) if cache_bytes > 0 else None, cache_bytes=cache_bytes)
