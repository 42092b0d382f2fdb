"""Answers the web and the API build the same way."""
from __future__ import annotations

import json
import os
from typing import Any, Iterable, Sequence
from urllib.parse import quote

from flask import Response, request, send_file
from flask_babel import get_locale, gettext

from .. import csv_export, downloads, impact


def csv_download(columns: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A CSV file for spreadsheets (UTF-8 with BOM, formula cells neutralised: csv_export)."""
    return Response(csv_export.to_csv(columns, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def impact_json(result: impact.Result, **extra: Any) -> dict[str, Any]:
    """A screening result as the API answers it and the JSON download holds it: the result's codes and figures,
    and in the caller's language the names of the risk classes and the notices of withheld sites."""
    body = result.to_json()
    for entry in body["affected"]:
        if entry.get("within_km") is not None:
            text = impact.NOTICE_HIDDEN if entry.get("hidden") else impact.NOTICE_GENERALIZED
            entry["notice"] = gettext(text, km=entry["within_km"])
    body["risk_classes"] = {code: {"label": gettext(impact.RISK_NAMES[code]),
                                   "action": gettext(impact.RISK_ACTIONS[code])}
                            for code in (*impact.RISK_CLASSES, impact.CONSULT)}
    body.update(extra)
    return body


def impact_download(result: impact.Result, geometries: dict, fmt: str, filename: str) -> Response:
    """A screening result as a file: JSON (impact_json) or GeoPackage."""
    if fmt == "gpkg":
        return Response(impact.geopackage(result, geometries), mimetype="application/geopackage+sqlite3",
                        headers={"Content-Disposition": f"attachment; filename={filename}.gpkg"})
    data = json.dumps(impact_json(result), ensure_ascii=False, indent=1)
    return Response(data, mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename={filename}.json"})


def content_disposition(filename: str, filename_utf8: str | None = None) -> str:
    """attachment; an ASCII file name for every client and, when given, the UTF-8 one (RFC 6266 filename*)."""
    value = f'attachment; filename="{filename}"'
    if filename_utf8:
        value += f"; filename*=UTF-8''{quote(filename_utf8, safe='')}"
    return value


def file_download(download: downloads.Download) -> Response:
    """A finished download, streamed from disk: the file is opened and its directory removed at once (nothing is left
    behind however the answer ends). The file name carries the day; in Chinese for a Chinese page. A kept file (the
    cache) has an ETag and answers conditional and range requests: GDAL and QGIS read a FlatGeobuf or GeoPackage
    over HTTP (/vsicurl/) by ranges, scripts ask again with If-None-Match."""
    chinese = str(get_locale() or "") == "zh"
    fh = download.open()
    try:
        response = send_file(fh, mimetype=download.media_type, as_attachment=True, download_name=download.filename,
                             max_age=0, etag=False, conditional=False)
    except BaseException:
        fh.close()
        raise
    size = os.fstat(fh.fileno()).st_size
    response.content_length = size
    response.headers["Content-Disposition"] = content_disposition(
        download.filename, download.filename_zh if chinese else download.filename)
    response.headers["Content-Crs"] = f"<{download.crs.uri}>"
    if download.count is not None:
        response.headers["X-Feature-Count"] = str(download.count)
    if download.renamed:
        response.headers["X-Shapefile-Renamed"] = ", ".join(f"{k}={v}" for k, v in download.renamed.items())
    if download.cut:
        response.headers["X-Shapefile-Cut"] = ", ".join(f"{k}={n}" for k, n in download.cut.items())
    if download.etag:
        response.set_etag(download.etag)
        response.make_conditional(request, accept_ranges=True, complete_length=size)
    return response
def jsonify(*args: Any, **kwargs: Any) -> Response:
    """flask.jsonify with the domain's messages in it (warnings, notes, reasons: Messages or stored records) in the
    request's language: the API answers in the caller's language as the pages do."""
    import flask

    from ..i18n import localized
    return flask.jsonify(*localized(list(args)), **localized(kwargs))
