"""Field kits: sites taken out to QField/QGIS in a GeoPackage, edits brought back as proposals; the offline basemap.

Pure domain code (no Flask), one module per concern: layers.py (what a kit's GeoPackage holds and how its forms look),
settings.py, package.py (checking out: the GeoPackage, its signed manifest, the README and the zip), qgis_project.py
(the .qgz), basemap.py (the operator's MBTiles: tiles for the app's maps, a clipped copy for each kit), upload.py (what
comes back: a GeoPackage or a zip, journals, photos), contents.py (checks that concern the kit as a whole) and
checkin.py (a proposal per changed site, idempotent). Other code imports the names below. docs/fieldkit.md has the
whole story.
"""
from __future__ import annotations

from ..errors import NotFound
from ..store import fieldkit as kstore
from .basemap import Basemap, BasemapError, Clip, open_basemap, tile, tile_range
from .checkin import check_in
from .layers import KIT_BASEMAP, KIT_GPKG, KIT_PROJECT, LAYERS, MANIFEST
from .package import AREA_KINDS, Area, Kit, check_out, parse_area, select_sites
from .qgis_project import project_qgz, project_xml
from .settings import Settings
from ..messages import msg

__all__ = ["AREA_KINDS", "Area", "Basemap", "BasemapError", "Clip", "KIT_BASEMAP", "KIT_GPKG", "KIT_PROJECT", "LAYERS",
           "MANIFEST", "Kit", "Settings", "check_in", "check_out", "get_checkin", "get_kit", "kit_json", "list_kits",
           "open_basemap", "parse_area", "project_qgz", "project_xml", "select_sites", "tile", "tile_range"]


def list_kits(conn, *, limit: int = 50) -> list[dict]:
    """The latest kits issued, newest first, with how often each was checked in."""
    return kstore.list_kits(conn, limit=limit)


def get_kit(conn, kit_id: str) -> dict:
    """A kit's record (without its secret) and its check-ins; NotFound if this registry issued no such kit."""
    kit = kstore.get_kit(conn, kit_id) if isinstance(kit_id, str) else None
    if kit is None:
        raise NotFound(msg("fieldkit.field_kit", "no field kit {value!r}", value=str(kit_id)[:40]))
    kit.pop("secret")
    kit["checkins"] = kstore.list_checkins(conn, kit["fid"])
    return kit


def get_checkin(conn, checkin_id: int) -> dict:
    found = kstore.get_checkin(conn, checkin_id)
    if found is None:
        raise NotFound(msg("fieldkit.field_kit_check", "no field kit check-in {checkin_id}", checkin_id=checkin_id))
    return found


def kit_json(kit: dict) -> dict:
    """A kit as the API answers it."""
    return {"id": kit["kit_id"], "issued_by": kit["issued_by"], "issued_at": kit["issued_at"],
            "registry_stamp": kit["registry_stamp"], "area": kit["area"],
            "bbox": [kit["min_x"], kit["min_y"], kit["max_x"], kit["max_y"]], "sites": kit["sites"],
            "boundaries": kit["boundaries"], "basemap_tiles": kit["basemap_tiles"],
            "checkins": [{"id": c["fid"], "at": c["checked_in_at"], "by": c["checked_in_by"], "file": c["filename"],
                          "sha256": c["sha256"], "summary": c["summary"]} for c in kit.get("checkins", [])]}
