"""CSV of vertices, as field teams keep them in Excel: one row per vertex, in UTF-8 or GBK, with the coordinate columns
found by their names (English or Chinese, units in brackets ignored). Geographic columns take decimal degrees or DMS;
projected columns are metres, read with the Chinese survey convention X = northing, Y = easting checked against the
values' magnitudes. One row is a point; more rows are an outline, in file order.
"""
from __future__ import annotations

import csv
import io
import math
import re
import unicodedata

import numpy as np
from shapely.geometry import LineString, Point

from .. import coords
from .base import GeometrySource, Limits, SourceFeature, UploadTooLarge, _fail
from ..messages import msg


def _norm_header(h: str) -> str:
    h = unicodedata.normalize("NFKC", h or "").strip().lower()
    h = re.sub(r"[(\[（【].*?[)\]）】]", "", h)  # units such as (m), （度）
    return re.sub(r"[\s_\-./]", "", h)


_LON = {"lon", "lng", "long", "longitude", "经度", "东经", "经度e", "lonwgs84", "x经度"}
_LAT = {"lat", "latitude", "纬度", "北纬", "纬度n", "latwgs84", "y纬度"}
_EAST = {"e", "east", "easting", "东坐标", "横坐标", "东"}
_NORTH = {"n", "north", "northing", "北坐标", "纵坐标", "北"}
_X = {"x", "x坐标", "xcoord", "坐标x", "pointx"}
_Y = {"y", "y坐标", "ycoord", "坐标y", "pointy"}
CSV_COLUMN_HELP = ("longitude/latitude (lon, lng, longitude, 经度 / lat, latitude, 纬度), easting/northing "
                   "(E, easting, 东坐标 / N, northing, 北坐标) or X/Y")


def _decode_text(filename: str, data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK/GB18030
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _fail(filename, msg("formats.csv_neither_utf_nor", "the CSV is neither UTF-8 nor GBK text"))


def _float(filename: str, value: str, row: int, column: str) -> float:
    try:
        v = float(value.strip())
    except ValueError:
        raise _fail(filename, msg("formats.row_number", "row {row}: {column} {value!r} is not a number", row=row,
                                  column=column, value=value)) from None
    if not math.isfinite(v):
        raise _fail(filename, msg("formats.row_finite_number", "row {row}: {column} {value!r} is not a finite number",
                                  row=row, column=column, value=value))
    return v


def read_csv(filename: str, data: bytes, limits: Limits, *, crs=None,
             region=coords.GUIZHOU_BBOX) -> GeometrySource:
    """Vertices in file order -> one Point (a single row) or one LineString (to be closed into a boundary ring).

    Geographic columns accept decimal degrees and DMS (coords.parse_angle); projected columns are metres, with the
    Chinese survey convention X = northing, Y = easting checked against the values' magnitudes."""
    rows = _csv_rows(filename, data, limits)
    if len(rows) < 2:
        raise _fail(filename, msg("formats.csv_header_but_vertex", "the CSV has a header but no vertex rows"))
    info = None if crs in (None, "") else coords.resolve_crs(crs)
    kind, names, a_cells, b_cells = _coordinate_columns(filename, rows)
    if kind.startswith("geographic"):
        return _read_geographic(filename, names, a_cells, b_cells, info)
    return _read_projected(filename, kind, names, a_cells, b_cells, info)


def _csv_rows(filename: str, data: bytes, limits: Limits) -> list[list[str]]:
    """The non-blank rows of the file, the header first."""
    text = _decode_text(filename, data)
    if "\x00" in text[:4096]:
        raise _fail(filename, msg("formats.csv_text_file_binary", "not a CSV text file (binary content)"))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise _fail(filename, msg("formats.csv_empty", "the CSV is empty"))
    if len(rows) - 1 > limits.max_csv_rows:
        raise UploadTooLarge(msg("formats.rows_limit", "{filename}: {value:,} rows; the limit is {max_csv_rows:,}",
                                 filename=filename, value=len(rows) - 1, max_csv_rows=limits.max_csv_rows))
    return rows


def _coordinate_columns(filename: str, rows: list[list[str]]):
    """(kind, the two columns' names, their (row number, text) cells) of the coordinate columns, where kind is
    'geographic', 'projected' (easting, northing), 'geographic_xy' or 'projected_xy' (X, Y told apart by magnitude)."""
    header = [_norm_header(h) for h in rows[0]]

    def col(names):
        return next((i for i, h in enumerate(header) if h in names), None)

    lon_i, lat_i = col(_LON), col(_LAT)
    e_i, n_i = col(_EAST), col(_NORTH)
    x_i, y_i = col(_X), col(_Y)
    body = rows[1:]

    def cells(i, what):
        out = []
        for r, row in enumerate(body, start=2):
            if i >= len(row) or not row[i].strip():
                raise _fail(filename, msg("formats.row_missing", "row {r}: the {what} is missing", r=r, what=what))
            out.append((r, row[i].strip()))
        return out

    if lon_i is not None and lat_i is not None:
        kind, a_i, b_i, names = "geographic", lon_i, lat_i, (rows[0][lon_i], rows[0][lat_i])
    elif e_i is not None and n_i is not None:
        kind, a_i, b_i, names = "projected", e_i, n_i, (rows[0][e_i], rows[0][n_i])
    elif x_i is not None and y_i is not None:
        kind, a_i, b_i, names = "xy", x_i, y_i, (rows[0][x_i], rows[0][y_i])
    else:
        raise _fail(filename, msg("formats.find_coordinate_columns_header", "cannot find the coordinate columns in "
                                  "the header {value}: name them {csv_column_help}", value=rows[0][:8],
                                  csv_column_help=CSV_COLUMN_HELP))
    a_cells, b_cells = cells(a_i, names[0]), cells(b_i, names[1])

    if kind == "xy":
        try:
            probe = [abs(float(v)) for _, v in a_cells[:50] + b_cells[:50]]
            kind = "projected_xy" if max(probe) > 360 else "geographic_xy"
        except ValueError:
            kind = "geographic_xy"  # DMS text: degrees
    return kind, names, a_cells, b_cells


def _read_geographic(filename: str, names, a_cells, b_cells, info: coords.CRSInfo | None) -> GeometrySource:
    if info is not None and info.kind == "projected":
        raise _fail(filename, msg("formats.columns_hold_degrees_but", "the columns {names}/{names2} hold degrees but "
                                  "{key} is a projected coordinate system; choose a geographic one such as EPSG:4490",
                                  names=names[0], names2=names[1], key=info.key))
    try:
        xs = np.array([coords.parse_angle(v) for _, v in a_cells])
        ys = np.array([coords.parse_angle(v) for _, v in b_cells])
    except coords.CoordinateError as exc:
        raise _fail(filename, msg("formats.read_coordinate", "cannot read a coordinate: {exc}", exc=exc)) from None
    source_crs = info.key if info is not None else "EPSG:4490"
    if info is not None and info.key == "WKT":
        source_crs = info.crs.to_wkt()
    features = _csv_features(np.column_stack([xs, ys]))
    return GeometrySource("csv", filename, features, crs=source_crs, crs_declared=False, notes=[])


def _read_projected(filename: str, kind: str, names, a_cells, b_cells,
                    info: coords.CRSInfo | None) -> GeometrySource:
    # projected metres: decide which column is the northing from the magnitudes (northings in China are 1e6..1e7 m,
    # eastings below 1e6 m, or above 1e7 m with the zone number in front)
    notes: list[str] = []
    first_vals = [_float(filename, v, r, names[0]) for r, v in a_cells]
    second_vals = [_float(filename, v, r, names[1]) for r, v in b_cells]
    if kind == "projected":
        eastings, northings = first_vals, second_vals
    else:  # X/Y: Chinese survey convention, X = northing
        northings, eastings = first_vals, second_vals

    def northing_like(vals):
        return all(1_000_000 <= abs(v) < 10_000_000 for v in vals)

    if not northing_like(northings) and northing_like(eastings):
        northings, eastings = eastings, northings
        notes.append(msg("formats.columns_looked_swapped_northings", "the columns {names} and {names2} looked "
                         "swapped (northings are 1,000-10,000 km, eastings below 1,000 km or with the zone number in "
                         "front); read them the other way round", names=names[0], names2=names[1]))
    prefixed = [v >= 10_000_000 for v in eastings]
    if any(prefixed) and not all(prefixed):
        raise _fail(filename, msg("formats.some_eastings_carry_gauss", "some eastings carry the Gauss-Kruger zone "
                                  "number in front and some do not; use one form for every row"))
    try:
        first = coords.parse_coordinate(f"X={northings[0]!r} Y={eastings[0]!r}", info, region=None)
    except coords.CoordinateError as exc:
        raise _fail(filename, msg("formats.row", "row 2: {exc}", exc=exc)) from None
    notes += first.warnings
    used = coords.resolve_crs(first.crs)
    # parse_coordinate may have added or removed the zone prefix to match the CRS: apply the same offset to every row
    ex, _ = coords.from_cgcs2000(first.lon, first.lat, used)
    offset = round((float(ex) - eastings[0]) / 1_000_000) * 1_000_000
    xs = np.asarray(eastings, dtype=float) + offset
    ys = np.asarray(northings, dtype=float)
    key = used.key if used.key != "WKT" else used.crs.to_wkt()
    return GeometrySource("csv", filename, _csv_features(np.column_stack([xs, ys])), crs=key, crs_declared=False,
                          notes=notes)


def _csv_features(xy: np.ndarray) -> list[SourceFeature]:
    if len(xy) == 1:
        return [SourceFeature(Point(xy[0]), "row 2")]
    return [SourceFeature(LineString(xy), f"{len(xy)} vertices", {"vertex_list": "1"})]
