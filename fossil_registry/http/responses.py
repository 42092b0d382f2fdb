"""Answers the web and the API build the same way."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from flask import Response

from .. import csv_export


def csv_download(columns: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A CSV file for spreadsheets (UTF-8 with BOM, formula cells neutralised: csv_export)."""
    return Response(csv_export.to_csv(columns, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})
