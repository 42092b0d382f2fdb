"""CSV for spreadsheets: UTF-8 with a BOM (Excel then opens Chinese text correctly), and every cell that a
spreadsheet would read as a formula neutralised as OWASP recommends ("CSV injection"). No Flask."""
from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterable, Sequence, TextIO

# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def cell(value: Any) -> Any:
    """A value as it may go into a CSV cell: text that a spreadsheet would evaluate gets a leading apostrophe (shown
    as text, never run); numbers, and text that is only a number (e.g. -12.5), stay as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def write(fh: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """The CSV into an open text file (row by row: large tables never sit in memory as one string). Open it with
    ``newline=""`` and UTF-8: the BOM is written here."""
    fh.write("\ufeff")
    writer = csv.writer(fh)
    writer.writerow([cell(c) for c in columns])
    for row in rows:
        writer.writerow([cell(v) for v in row])


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    write(buf, columns, rows)
    return buf.getvalue()
