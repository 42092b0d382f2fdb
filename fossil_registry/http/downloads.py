"""What the downloads page (web/) and the downloads API (api/) share: who the caller is for a download (staff see
exact data), the request's download, and the catalogue of layers, formats and CRSs with their links."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app

from .. import downloads, ogcapi
from ..db import get_conn
from ..vocab import Level
from .links import external_url
from .responses import file_download
from .security import can


def staff() -> bool:
    """Exact data (and the staff layers) for those who may read exact locations; the public view otherwise."""
    return downloads.is_staff(can)


def region() -> tuple[float, float, float, float]:
    return tuple(current_app.config["REGION_BBOX"])


def today() -> str:
    """The day in the registry's time zone (file names carry it)."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date().isoformat()


def send(name: str, args: dict[str, list[str]]) -> Response:
    """The download ``name`` (<layer>.<extension>) with the query ``args``, streamed; errors are raised before
    anything is written (bad request) or after the directory is removed (a failed write)."""
    settings = downloads.Settings.from_config(current_app.config)
    args = {k: v for k, v in args.items() if k != "lang"}  # the page's language (file names), not a download parameter
    wanted = downloads.parse(name, args, can=can, region=settings.region, tz=settings.timezone)
    return file_download(downloads.prepare(get_conn(), wanted, settings, day=today()))


def catalogue() -> dict:
    """The layers the caller may download, each with a link per format, the formats and the CRSs offered."""
    is_staff = staff()
    crs = [{"uri": c.uri, "epsg": c.epsg, "label": downloads.crs_label(c)} for c in ogcapi.offered(region())]
    layers = []
    for layer in downloads.available(is_staff):
        entry = {"id": layer.id, "title": layer.title, "title_zh": layer.title_zh, "staff_only": layer.staff_only,
                 "geometry": layer.geometry or None, "formats": list(layer.formats),
                 "links": [{"href": external_url("downloads_api.download", name=f"{layer.id}.{ext}"),
                            "rel": "enclosure", "type": downloads.FORMATS[ext].media_type,
                            "title": f"{layer.title} ({downloads.FORMATS[ext].title})"} for ext in layer.formats]}
        if layer.collection is not None:
            columns = layer.columns(not is_staff)
            entry["fields"] = list(columns)
            entry["shapefile_fields"] = downloads.shapefile_names(columns)
            entry["filters"] = list(layer.collection.queryables)
        else:
            entry["content"] = ("the shareable export of the tables and records your account may read through the "
                                "API (the audit trail for admins, public reports for those who triage them...), "
                                "personal data removed" if is_staff
                                else "the public view's sites and boundaries, and a table 'about'")
        layers.append(entry)
    formats = [{"extension": f.extension, "title": f.title, "media_type": f.media_type, "default_crs": f.default_crs,
                "crs": "any" if f.any_crs else "default only", "note": f.note} for f in downloads.FORMATS.values()]
    return {"audience": "staff" if is_staff else "public",
            "notice": downloads.STAFF_NOTICE if is_staff else downloads.PUBLIC_NOTICE,
            "layers": layers, "formats": formats, "crs": crs,
            "parameters": {"crs": "a URI of crs, or EPSG:<code> / CRS84 (default: the format's default_crs)",
                           "bbox": "min, min, max, max in the axis order of bbox-crs (default CRS84: longitude, "
                                   "latitude); features intersecting it",
                           "bbox-crs": "CRS of bbox",
                           "filters": "the layer's filters, comma-separated values (e.g. "
                                      f"level={Level.NATIONAL},{Level.PROVINCIAL}); status defaults to active"}}
