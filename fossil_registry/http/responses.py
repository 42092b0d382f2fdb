"""Answers the web and the API build the same way."""
from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from flask import Response
from flask_babel import gettext

from .. import csv_export, impact


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


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """flask.jsonify with the domain's messages in it (warnings, notes, reasons: Messages or stored records) in the
    request's language: the API answers in the caller's language as the pages do."""
    import flask

    from ..i18n import localized
    return flask.jsonify(*localized(list(args)), **localized(kwargs))
