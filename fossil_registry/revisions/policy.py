"""The revision workflow's vocabulary (kinds, states, decisions, survey methods), its settings and its own refusals."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .. import config, features, formats
from ..blobs import BlobStore
from ..errors import InvalidInput, RegistryError
from ..store import revisions as rstore
from ..vocab import SurveyMethod

METHODS = SurveyMethod.values()
KINDS = ("change", "new_site", "retire", "restore")
STATUSES = ("submitted", "changes_requested", "approved", "rejected", "withdrawn")
OPEN = rstore.OPEN_STATUSES
DECISIONS = ("approve", "reject", "request_changes")
MAX_REASON = 4000


class RoundRequired(RegistryError):
    """A decision that does not say which round of the proposal its reviewer saw."""

    status = 428
    title = "Precondition required"


class RepairOffered(InvalidInput):
    """An invalid boundary with a suggested repair: refused until the submitter explicitly accepts the repair."""


@dataclass(frozen=True)
class Policy:
    """The workflow's settings, read from the app configuration (defaults: config.py)."""

    region_name: str
    region_bbox: tuple[float, float, float, float]
    far_warning_m: float            # a location moved further than this draws a warning
    region_max_distance_km: float   # further than this outside the region: refused, not warned about
    overlap_min_m2: float           # overlaps with other sites' boundaries below this are ignored (slivers)
    code_prefixes: Mapping[str, str]  # kind of feature -> the prefix of its new codes (its code_prefix_setting)
    county_max_km: float            # a section line further than this from its county's registered features: warning
    files: BlobStore | None         # where attachments are kept (None: attachments are refused)
    max_attachment_bytes: int
    max_attachments: int
    limits: formats.Limits

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Policy":
        c = config.settings(config_)
        data_dir = c.get("DATA_DIR")
        limits = formats.Limits(max_file_bytes=int(c["REVISION_MAX_FILE_BYTES"]),
                                max_unzipped_bytes=int(c["REVISION_MAX_UNZIPPED_BYTES"]),
                                ring_close_tolerance_m=float(c["REVISION_RING_CLOSE_TOLERANCE_M"]))
        return cls(region_name=c["REGION_NAME"], region_bbox=tuple(c["REGION_BBOX"]),
                   far_warning_m=float(c["REVISION_FAR_WARNING_M"]),
                   region_max_distance_km=float(c["REGION_MAX_DISTANCE_KM"]),
                   overlap_min_m2=float(c["REVISION_OVERLAP_MIN_M2"]),
                   code_prefixes={kind.name: kind.code_prefix(c) for kind in features.kinds()},
                   county_max_km=float(c["SECTION_COUNTY_MAX_KM"]),
                   files=BlobStore(data_dir) if data_dir else None,
                   max_attachment_bytes=int(c["REVISION_MAX_ATTACHMENT_BYTES"]),
                   max_attachments=int(c["REVISION_MAX_ATTACHMENTS"]), limits=limits)

    def prefix_for(self, kind: features.FeatureKind) -> str:
        """The prefix of new codes of a kind of registered feature."""
        return self.code_prefixes.get(kind.name) or kind.default_prefix

    @property
    def code_prefix(self) -> str:
        """The prefix of new sites' codes (what an import recognises as a registry code)."""
        return self.prefix_for(features.SITE)

    @classmethod
    def defaults(cls) -> "Policy":
        """The settings of config.py, without a data directory (attachments refused): for scripts and the demo."""
        return cls.from_config({"DATA_DIR": None})
