"""Tables of sites: every row of a CSV, GeoJSON, GeoPackage layer, zipped Shapefile, KML/KMZ or GPX file with all of
its attribute columns, rows without geometry included (the site import reports them; the geometry readers of
:mod:`.sources` leave them out), and the text decoded in the encoding the file declares, the one chosen, or one
detected with a check that the result reads as text.

* CSV (spreadsheets): UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), or GBK/GB18030 when the
  bytes are not UTF-8 and decode to common Chinese characters; anything else is refused ("save as UTF-8 or choose the
  encoding"). Coordinates come from two columns (:func:`coordinate_columns` guesses them; :func:`with_points` reads
  them as degrees, DMS or projected metres).
* Shapefile: the .dbf is read byte for byte (GDAL's ISO-8859-1 is lossless) and decoded with the chosen encoding, the
  .cpg's, the .dbf's language driver id, or the same detection as CSV: a GBK .dbf without .cpg is read right.
* GeoPackage and GeoJSON are UTF-8 by definition; KML and GPX are XML (their declaration decides).

Everything hostile or broken is refused with :class:`~fossil_registry.errors.InvalidInput` naming the file, before
anything is done with its rows; :class:`EncodingUnknown` and :class:`CrsUnknown` say which choice would fix it.
"""
from __future__ import annotations

import csv
import io
import math
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from .. import coords, json_input, untrusted
from ..errors import InvalidInput
from ..messages import msg, term
from .archive import open_zip, read_member
from .base import FORMAT_LABELS, MiB, Limits, UploadTooLarge, _fail, _PointBudget
from .ogr import _check_geojson_rings_in, _frame_crs, _gdal_error
from .sources import detect_format, read_source

ENCODINGS = {"UTF-8": "utf-8-sig", "GBK": "gbk", "GB18030": "gb18030"}   # the choices offered, and their codecs
MAX_COLUMNS = 200
MAX_CELL = 5000   # characters kept of one cell (more than a site field may hold, so validation still says "too long")


class EncodingUnknown(InvalidInput):
    """The text is in an encoding that could not be recognised: choose one of ENCODINGS."""


class CrsUnknown(InvalidInput):
    """The coordinates' system is not given and cannot be inferred: choose one."""


@dataclass
class TableRow:
    number: int                         # 1-based row of the layer (a CSV's first data row is 1)
    geometry: BaseGeometry | None       # 2-D, in the table's CRS; None: the row has none
    values: dict[str, str]              # column -> text ('' when empty)
    problem: str | None = None          # why the row has no geometry although it should (a bad coordinate cell)


@dataclass
class Table:
    format: str
    filename: str
    columns: list[str]
    rows: list[TableRow]
    crs: str | None = None              # EPSG:xxxx or WKT the file declares or its format implies; None if unknown
    crs_declared: bool = False
    encoding: str | None = None         # how text was decoded, e.g. "UTF-8", "GBK"
    encoding_source: str = "format"     # format | declared | detected | chosen
    layer: str | None = None
    layers: list[dict[str, Any]] = field(default_factory=list)   # name, geometry_type, rows
    notes: list[str] = field(default_factory=list)   # messages (messages.msg) on how the file was read

    @property
    def needs_coordinates(self) -> bool:
        """A table without a geometry column (CSV): points come from two of its columns."""
        return self.format == "csv"


# ------------------------------------------------------------------------------------------------------- encodings
def codec(name: str | None) -> str | None:
    """The Python codec of an encoding choice (UTF-8, GBK, GB18030; case and dashes ignored); None for 'auto'."""
    if name in (None, "", "auto"):
        return None
    key = re.sub(r"[\s_]", "", str(name)).upper().replace("UTF8", "UTF-8")
    if key not in ENCODINGS:
        raise InvalidInput(msg("formats.unknown_encoding", "unknown encoding {name!r}: choose {choices}",
                               name=str(name)[:40], choices=', '.join(ENCODINGS)))
    return ENCODINGS[key]


def _label(codec_name: str) -> str:
    return next((k for k, v in ENCODINGS.items() if v == codec_name), codec_name.upper())


def _reads_as_chinese(text: str) -> bool:
    """Whether text decoded as GB18030 is plausibly Chinese: its non-ASCII characters are common Chinese characters
    and punctuation (GB2312), not the rare ones Latin-1 or damaged bytes turn into."""
    others = [ch for ch in text if ord(ch) > 127]
    if not others:
        return True
    common = 0
    for ch in others:
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common / len(others) >= 0.9


def _not_text(filename: str) -> EncodingUnknown:
    return EncodingUnknown(msg("formats.text_not_utf8_gbk", "{filename}: the text is neither UTF-8 nor Chinese "
                               "GBK/GB18030: save the file as UTF-8 (Excel: \"CSV UTF-8\"), or choose its encoding",
                               filename=filename), choose="encoding", choices=list(ENCODINGS))


def decode(filename: str, data: bytes, chosen: str | None) -> tuple[str, str, str]:
    """(text, encoding label, how it was found) of a text file."""
    wanted = codec(chosen)
    if wanted is not None:
        try:
            return data.decode(wanted), _label(wanted), "chosen"
        except UnicodeDecodeError as exc:
            raise EncodingUnknown(msg("formats.byte_not_encoding", "{filename}: byte {position} is not {encoding} "
                                      "text: choose another encoding", filename=filename, position=exc.start,
                                      encoding=_label(wanted)), choose="encoding", choices=list(ENCODINGS)) from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "UTF-16", "detected"
        except UnicodeDecodeError:
            raise _not_text(filename) from None
    try:
        return data.decode("utf-8-sig"), "UTF-8", "detected"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise _not_text(filename) from None
    if not _reads_as_chinese(text):
        raise _not_text(filename)
    return text, "GBK", "detected"


# ------------------------------------------------------------------------------------------------------------ values
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (np.integer, np.floating)):
        return _cell(value.item())
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return _cell(value.to_pydatetime())
    text = str(value)
    return "" if text in ("NaT", "nan", "None") else text.strip()[:MAX_CELL]


# ------------------------------------------------------------------------------------------------------------ reading
@untrusted.bounded
def read_table(filename: str, data: bytes, limits: Limits = Limits(), *, encoding: str | None = None,
               layer: str | None = None) -> Table:
    """Every row of the file's (chosen) layer with all its columns; geometries in the file's CRS. Read in a bounded
    worker process (untrusted.py)."""
    filename = PurePosixPath((filename or "upload").replace("\\", "/")).name[:120] or "upload"
    if len(data) > limits.max_file_bytes:
        raise UploadTooLarge(msg("formats.import_file_too_large", "{filename}: {size:.1f} MiB; import files are "
                                 "limited to {limit} MiB", filename=filename, size=len(data) / MiB,
                                 limit=limits.max_file_bytes // MiB))
    if not data.strip():
        raise _fail(filename, msg("formats.file_empty", "the file is empty"))
    fmt = detect_format(filename, data)
    if fmt == "csv":
        table = _read_csv(filename, data, limits, encoding)
    elif fmt == "geojson":
        table = _read_geojson(filename, data, limits, encoding)
    elif fmt == "gpkg":
        table = _read_gpkg(filename, data, limits, layer)
    elif fmt == "zip":
        table = _read_zip(filename, data, limits, encoding, layer)
    else:
        table = _from_source(filename, data, limits)
    if not table.rows:
        raise _fail(filename, msg("formats.table_no_rows", "the {format} file holds no rows",
                                  format=FORMAT_LABELS.get(table.format, table.format)))
    if len(table.rows) > limits.max_csv_rows:
        raise _too_many_rows(filename, len(table.rows), limits)
    return table


def _too_many_rows(filename: str, count: int, limits: Limits) -> UploadTooLarge:
    return UploadTooLarge(msg("formats.import_too_many_rows", "{filename}: {count:,} rows; an import takes at most "
                              "{limit:,}: split the file", filename=filename, count=count, limit=limits.max_csv_rows))


def _read_csv(filename: str, data: bytes, limits: Limits, encoding: str | None) -> Table:
    text, label, source = decode(filename, data, encoding)
    if "\x00" in text[:4096]:
        raise _fail(filename, msg("formats.csv_text_file_binary", "not a CSV text file (binary content)"))
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = []
    for raw in reader:
        if any(c.strip() for c in raw):
            rows.append(raw)
        if len(rows) > limits.max_csv_rows + 1:
            raise UploadTooLarge(msg("formats.import_more_rows", "{filename}: more than {limit:,} rows; an import "
                                     "takes at most {limit:,}: split the file", filename=filename,
                                     limit=limits.max_csv_rows))
    if not rows:
        raise _fail(filename, msg("formats.file_empty", "the file is empty"))
    header = _unique([unicodedata.normalize("NFC", h.strip().lstrip("\ufeff")) or f"column {i + 1}"
                      for i, h in enumerate(rows[0][:MAX_COLUMNS])])
    if len(rows) < 2:
        raise _fail(filename, msg("formats.csv_header_no_rows", "the CSV has a header but no rows"))
    body = [TableRow(n, None, {c: _cell(row[i]) if i < len(row) else "" for i, c in enumerate(header)})
            for n, row in enumerate(rows[1:], start=1)]
    return Table("csv", filename, header, body, encoding=label, encoding_source=source)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _frame_rows(df, limits: Limits, filename: str, recode=None) -> tuple[list[str], list[TableRow]]:
    """All rows of a GeoDataFrame, rows without geometry included; ``recode`` turns GDAL's text into the real text."""
    if len(df) > limits.max_csv_rows:
        raise _too_many_rows(filename, len(df), limits)
    geom_col = df.geometry.name
    source_cols = [c for c in df.columns if c != geom_col][:MAX_COLUMNS]
    names = _unique([recode(str(c)) if recode else str(c) for c in source_cols])
    budget = _PointBudget(filename, limits.max_points)
    columns = {name: df[c].tolist() for name, c in zip(names, source_cols)}
    rows = []
    for i, geom in enumerate(df.geometry.tolist()):
        if geom is not None and not geom.is_empty:
            budget.take(int(shapely.get_num_coordinates(geom)))
            geom = shapely.force_2d(geom)
        else:
            geom = None
        values = {}
        for name in names:
            v = _cell(columns[name][i])
            values[name] = recode(v) if recode and v else v
        rows.append(TableRow(i + 1, geom, values))
    return names, rows


def _read_geojson(filename: str, data: bytes, limits: Limits, encoding: str | None) -> Table:
    import pyogrio

    if codec(encoding) not in (None, "utf-8-sig"):
        raise InvalidInput(msg("formats.geojson_encoding_fixed", "{filename}: GeoJSON is UTF-8 by definition "
                               "(RFC 7946); leave the encoding on automatic", filename=filename))
    try:
        doc = json_input.loads(data.decode("utf-8-sig"), filename)
    except UnicodeDecodeError:
        raise EncodingUnknown(msg("formats.geojson_not_utf8", "{filename}: GeoJSON must be UTF-8 text (RFC 7946): "
                                  "save it as UTF-8", filename=filename), choose="encoding",
                              choices=["UTF-8"]) from None
    except ValueError as exc:
        raise _fail(filename, msg("formats.readable_geojson_file", "not a readable GeoJSON file: {value}",
                                  value=str(exc)[:160])) from None
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise _fail(filename, msg("formats.geojson_not_table", "not a GeoJSON table of sites: expected a "
                                  "FeatureCollection (or one Feature)"))
    if doc.get("type") == "FeatureCollection" and not doc.get("features"):
        raise _fail(filename, msg("formats.featurecollection_empty_holds_features", "the FeatureCollection is empty: "
                                  "it holds no features"))
    _check_geojson_rings_in(filename, doc)
    try:
        df = pyogrio.read_dataframe(io.BytesIO(data))
    except Exception as exc:  # pyogrio/GDAL errors
        raise _gdal_error(filename, "GeoJSON", exc) from None
    columns, rows = _frame_rows(df, limits, filename)
    declared = isinstance(doc.get("crs"), dict)
    crs = _frame_crs(df) or "EPSG:4326"
    return Table("geojson", filename, columns, rows, crs=crs, crs_declared=declared and crs not in ("EPSG:4326",),
                 encoding="UTF-8")


LAYER, SHAPEFILE = term("layer", "layer"), term("shapefile", "shapefile")


def _pick_layer(filename: str, layers: list[dict], wanted: str | None, what) -> tuple[dict, list[str]]:
    """``what``: LAYER or SHAPEFILE."""
    if wanted:
        found = next((lyr for lyr in layers if lyr["name"] == wanted), None)
        if found is None:
            raise _fail(filename, msg("formats.no_such_layer", "there is no {what} {wanted!r}: the file holds {names}",
                                      what=what, wanted=wanted, names=', '.join(lyr['name'] for lyr in layers)))
        return found, []
    if len(layers) == 1:
        return layers[0], []
    points = [lyr for lyr in layers if "Point" in (lyr["geometry_type"] or "")]
    chosen = (points or layers)[0]
    return chosen, [msg("formats.layer_chosen", "the file holds {count} {what}s ({names}); '{chosen}' was read: "
                        "choose another {what} if it is not the sites", count=len(layers), what=what,
                        names=', '.join(lyr['name'] for lyr in layers), chosen=chosen['name'])]


def _read_gpkg(filename: str, data: bytes, limits: Limits, layer: str | None) -> Table:
    import pyogrio

    if data[:16] != b"SQLite format 3\x00":
        raise _fail(filename, msg("formats.geopackage_file_sqlite_database", "not a GeoPackage (the file is not an "
                                  "SQLite database)"))
    with tempfile.TemporaryDirectory(prefix="import-") as tmp:
        path = Path(tmp) / "upload.gpkg"
        path.write_bytes(data)
        try:
            found = [{"name": str(n), "geometry_type": g} for n, g in pyogrio.list_layers(path) if g]
        except Exception as exc:
            raise _gdal_error(filename, "GeoPackage", exc) from None
        if not found:
            raise _fail(filename, msg("formats.geopackage_layer_geometries", "the GeoPackage has no layer with "
                                      "geometries"))
        chosen, notes = _pick_layer(filename, found, layer, LAYER)
        try:
            for lyr in found:
                lyr["rows"] = int(pyogrio.read_info(path, layer=lyr["name"])["features"])
            df = pyogrio.read_dataframe(path, layer=chosen["name"])
        except Exception as exc:
            raise _gdal_error(filename, "GeoPackage", exc) from None
        columns, rows = _frame_rows(df, limits, filename)
    crs = _frame_crs(df)
    return Table("gpkg", filename, columns, rows, crs=crs, crs_declared=crs is not None, encoding="UTF-8",
                 layer=chosen["name"], layers=found, notes=notes)


def _read_zip(filename: str, data: bytes, limits: Limits, encoding: str | None, layer: str | None) -> Table:
    zf, members = open_zip(filename, data, limits)
    shps = [m for m in members if m.filename.lower().endswith(".shp")]
    if not shps:
        if any(m.filename.lower().endswith(".kml") for m in members):
            return _from_source(filename, data, limits)
        raise _fail(filename, msg("formats.archive_no_table", "the archive holds neither a shapefile (.shp with .shx "
                                  "and .dbf) nor a KML file"))
    layers = [{"name": PurePosixPath(m.filename).stem, "geometry_type": None, "member": m} for m in shps]
    chosen, notes = _pick_layer(filename, layers, layer, SHAPEFILE)
    stem = chosen["member"].filename[:-4]
    wanted = {m.filename[len(stem):].lower(): m for m in members if m.filename[:len(stem)] == stem}
    missing = [ext for ext in (".shx", ".dbf") if ext not in wanted]
    if missing:
        raise _fail(filename, msg("formats.shapefile_named_incomplete", "the shapefile {name} is incomplete: "
                                  "{missing} missing from the archive", name=chosen['name'],
                                  missing=', '.join(missing)))
    budget = [limits.max_unzipped_bytes]
    parts = {ext: read_member(filename, zf, m, limits, budget) for ext, m in wanted.items()
             if ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")}
    table = _read_shapefile(filename, parts, limits, encoding)
    table.layer, table.notes = chosen["name"], notes + table.notes
    table.layers = [{"name": lyr["name"], "geometry_type": None} for lyr in layers]
    return table


# .dbf language driver ids GIS software writes for Chinese and Western text
_LDID = {0x4D: "gb18030", 0x7A: "gb18030", 0x57: "cp1252", 0x03: "cp1252"}


def _declared_dbf_encoding(parts: dict[str, bytes]) -> tuple[str | None, str | None]:
    """(codec, where it was declared) from the .cpg, else the .dbf's language driver id."""
    if ".cpg" in parts:
        text = parts[".cpg"].decode("ascii", "replace").strip()
        key = re.sub(r"[^A-Z0-9]", "", text.upper())
        if key in ("UTF8", "65001"):
            return "utf-8", f".cpg {text}"
        if any(k in key for k in ("936", "GBK", "GB2312", "GB18030", "CP936")):
            return "gb18030", f".cpg {text}"
        if key:
            return None, f".cpg {text[:20]}"
    dbf = parts.get(".dbf", b"")
    if len(dbf) > 29 and dbf[29] in _LDID:
        return _LDID[dbf[29]], msg("formats.dbf_language_driver", "the .dbf's language driver")
    return None, None


def _read_shapefile(filename: str, parts: dict[str, bytes], limits: Limits, encoding: str | None) -> Table:
    import pyogrio

    if parts[".shp"][:4] != b"\x00\x00\x27\x0a":
        raise _fail(filename, msg("formats.shp_bad_header", "the .shp is not a shapefile (bad file header)"))
    with tempfile.TemporaryDirectory(prefix="import-") as tmp:
        for ext, content in parts.items():
            if ext != ".cpg":  # fixed names; the .dbf is read byte for byte and decoded below
                (Path(tmp) / f"upload{ext}").write_bytes(content)
        try:
            df = pyogrio.read_dataframe(Path(tmp) / "upload.shp", encoding="latin1")
        except Exception as exc:
            raise _gdal_error(filename, "Shapefile", exc) from None
    raw_texts = [str(c) for c in df.columns] + [v for c in df.columns if df[c].dtype == object
                                                for v in df[c].tolist() if isinstance(v, str)]
    raw = "\x00".join(raw_texts).encode("latin1", "replace")
    chosen = codec(encoding)
    declared, where = _declared_dbf_encoding(parts)
    notes = []
    if chosen is not None:
        name, source = chosen, "chosen"
        try:
            raw.decode(chosen)
        except UnicodeDecodeError:
            raise EncodingUnknown(msg("formats.dbf_not_encoding", "{filename}: the .dbf attributes are not "
                                      "{encoding} text: choose another encoding", filename=filename,
                                      encoding=_label(chosen)), choose="encoding", choices=list(ENCODINGS)) from None
    elif declared is not None:
        name, source = declared, "declared"
        try:
            raw.decode(declared)
        except UnicodeDecodeError:
            raise EncodingUnknown(msg("formats.dbf_declared_wrong", "{filename}: {where} says the attributes are "
                                      "{encoding}, but they are not: choose the encoding", filename=filename,
                                      where=where, encoding=_label(declared)), choose="encoding",
                                  choices=list(ENCODINGS)) from None
    else:
        if where:
            notes.append(msg("formats.dbf_encoding_unknown", "{where} names an encoding the registry does not know; "
                             "the text was recognised instead", where=where))
        _, label, source = decode(filename, raw, None)
        name = {"UTF-8": "utf-8", "GBK": "gb18030"}.get(label, "utf-8")
        if label == "GBK":
            notes.append(msg("formats.dbf_detected_gbk", "the .dbf has no .cpg: its text was recognised as GBK (add "
                             "a .cpg, or choose the encoding if names look wrong)"))

    def recode(text: str) -> str:
        return text.encode("latin1", "replace").decode(name, "replace")

    columns, rows = _frame_rows(df, limits, filename, recode)
    crs = _frame_crs(df) if ".prj" in parts else None
    if ".prj" not in parts:
        notes.append(msg("formats.shapefile_no_prj", "the shapefile has no .prj"))
    return Table("shapefile", filename, columns, rows, crs=crs, crs_declared=crs is not None,
                 encoding=_label(name) if name != "gb18030" or chosen == "gb18030" else "GBK",
                 encoding_source=source, notes=notes)


def _from_source(filename: str, data: bytes, limits: Limits) -> Table:
    """KML, KMZ and GPX through the geometry readers: one row per placemark or waypoint (name and extended data)."""
    src = read_source(filename, data, limits)
    rows, columns = [], {"name": None}
    for n, f in enumerate(src.features, start=1):
        values = {"name": f.name or "", **{k: _cell(v) for k, v in f.properties.items()}}
        columns.update(dict.fromkeys(values))
        rows.append(TableRow(n, f.geometry, values))
    names = list(columns)[:MAX_COLUMNS]
    for r in rows:
        r.values = {c: r.values.get(c, "") for c in names}
    return Table(src.format, src.filename, names, rows, crs=src.crs, crs_declared=src.crs_declared,
                 encoding="UTF-8", notes=list(src.notes))


# ------------------------------------------------------------------------------------------- coordinates of a CSV
def _norm_header(h: str) -> str:
    h = unicodedata.normalize("NFKC", h or "").strip().lower()
    h = re.sub(r"[(\[（【].*?[)\]）】]", "", h)
    return re.sub(r"[\s_\-./]", "", h)


_X_NAMES = {"lon", "lng", "long", "longitude", "经度", "东经", "经度e", "lonwgs84", "x经度", "e", "east", "easting",
            "东坐标", "横坐标", "东"}
_Y_NAMES = {"lat", "latitude", "纬度", "北纬", "纬度n", "latwgs84", "y纬度", "n", "north", "northing", "北坐标",
            "纵坐标", "北"}
_BARE_X, _BARE_Y = {"x", "x坐标", "xcoord", "坐标x", "pointx"}, {"y", "y坐标", "ycoord", "坐标y", "pointy"}


def coordinate_columns(table: Table) -> tuple[str | None, str | None]:
    """The columns most likely holding (longitude or easting, latitude or northing). Bare X/Y columns are told apart
    by their values: in Chinese survey practice X is the northing (1,000-10,000 km), elsewhere X is the longitude."""
    norm = {c: _norm_header(c) for c in table.columns}
    x = next((c for c, n in norm.items() if n in _X_NAMES), None)
    y = next((c for c, n in norm.items() if n in _Y_NAMES), None)
    if x and y:
        return x, y
    bx = next((c for c, n in norm.items() if n in _BARE_X), None)
    by = next((c for c, n in norm.items() if n in _BARE_Y), None)
    if bx and by:
        xs = _numbers(table, bx)
        if xs and all(1_000_000 <= abs(v) < 10_000_000 for v in xs):
            return by, bx   # X is the northing
        return bx, by
    return x, y


def _numbers(table: Table, column: str, limit: int = 50) -> list[float]:
    out = []
    for r in table.rows[:limit]:
        try:
            out.append(float(r.values.get(column, "")))
        except ValueError:
            continue
    return out


def _northing_like(vals: list[float]) -> bool:
    return bool(vals) and all(1_000_000 <= abs(v) < 10_000_000 for v in vals)


def with_points(table: Table, x_col: str, y_col: str, crs=None, *, region=coords.GUIZHOU_BBOX) -> Table:
    """The table with a point per row from two columns (longitude or easting, latitude or northing) and its CRS:
    degrees (decimal or DMS) are read as the chosen geographic CRS (CGCS2000 by default); metres need a chosen CRS
    unless every easting carries its Gauss-Kruger zone number. A row whose cells cannot be read keeps no geometry and
    says why (``problem``); a file whose coordinate system cannot be known is refused (:class:`CrsUnknown`)."""
    for c in (x_col, y_col):
        if c not in table.columns:
            raise InvalidInput(msg("formats.no_column", "there is no column {column!r} in {filename}", column=c,
                                   filename=table.filename))
    info = None if crs in (None, "") else coords.resolve_crs(crs)
    probe = _numbers(table, x_col, 200) + _numbers(table, y_col, 200)
    if probe and max(abs(v) for v in probe) > 360:
        return _projected(table, x_col, y_col, info)
    if info is not None and info.kind == "projected":
        raise CrsUnknown(msg("formats.table_degrees_projected", "{filename}: the columns {x}/{y} hold degrees but "
                             "{crs} is a projected coordinate system: choose a geographic one such as CGCS2000 "
                             "(EPSG:4490)", filename=table.filename, x=x_col, y=y_col, crs=info.key), choose="crs")
    rows, notes = [], []
    for r in table.rows:
        a, b = r.values.get(x_col, ""), r.values.get(y_col, "")
        if not a or not b:
            rows.append(replace(r, geometry=None, problem=None if not a and not b else
                                msg("formats.only_one_coordinate", "only one of {x}/{y} is given", x=x_col, y=y_col)))
            continue
        try:
            rows.append(replace(r, geometry=Point(_angle(a), _angle(b)), problem=None))
        except coords.CoordinateError as exc:
            rows.append(replace(r, geometry=None, problem=msg("formats.cells_unreadable", "{x}/{y} ({a}, {b}): {error}",
                                                              x=x_col, y=y_col, a=a[:30], b=b[:30], error=exc)))
    pts = [r.geometry for r in rows if r.geometry is not None]
    if pts and region is not None and _mostly_swapped(pts, region):
        rows = [replace(r, geometry=Point(r.geometry.y, r.geometry.x)) if r.geometry is not None else r
                for r in rows]
        notes.append(msg("formats.columns_lat_lon_swapped", "the columns {x} and {y} hold latitude and longitude "
                         "the other way round: read them swapped", x=x_col, y=y_col))
    key = "EPSG:4490" if info is None else (info.key if info.key != "WKT" else info.crs.to_wkt())
    if info is None:
        notes.append(msg("formats.degrees_read_cgcs2000", "longitude/latitude read as CGCS2000 (EPSG:4490; WGS84 "
                         "differs by less than a metre); choose GCJ-02 or BD-09 for coordinates copied from phone "
                         "map apps"))
    return replace(table, rows=rows, crs=key, crs_declared=info is not None, notes=table.notes + notes)


def _angle(text: str) -> float:
    """Decimal degrees directly (most cells), anything else (DMS, 度分秒, hemisphere letters) by coords.parse_angle."""
    try:
        value = float(text)
    except ValueError:
        return coords.parse_angle(text)
    if not math.isfinite(value):
        raise coords.CoordinateError(msg("formats.not_finite_number", "{text!r} is not a finite number", text=text))
    return value


def _mostly_swapped(pts: list[Point], region) -> bool:
    def inside(x, y):
        return region[0] <= x <= region[2] and region[1] <= y <= region[3]
    as_given = sum(inside(p.x, p.y) for p in pts)
    swapped = sum(inside(p.y, p.x) for p in pts)
    return swapped > len(pts) / 2 and as_given == 0


def _projected(table: Table, x_col: str, y_col: str, info) -> Table:
    """Projected metres: easting and northing told apart by magnitude; the CRS chosen, or the Gauss-Kruger zone
    read from the zone number in front of every easting."""
    notes = []
    if info is not None and info.kind != "projected":
        raise CrsUnknown(msg("formats.table_metres_geographic", "{filename}: the columns {x}/{y} hold metres, but "
                             "{crs} is in degrees: choose the projected coordinate system (e.g. a CGCS2000 "
                             "Gauss-Kruger zone)", filename=table.filename, x=x_col, y=y_col, crs=info.key),
                         choose="crs")
    if not _northing_like(_numbers(table, y_col)) and _northing_like(_numbers(table, x_col)):
        x_col, y_col = y_col, x_col
        notes.append(msg("formats.northings_eastings_swapped", "{y} holds the northings and {x} the eastings "
                         "(northings are 1,000-10,000 km): read them so", x=x_col, y=y_col))
    cells = []
    for r in table.rows:
        a, b = r.values.get(x_col, ""), r.values.get(y_col, "")
        try:
            e, n = float(a), float(b)
            cells.append((e, n) if math.isfinite(e) and math.isfinite(n) else None)
        except ValueError:
            cells.append(None)
    good = [c for c in cells if c is not None]
    if not good:
        raise _fail(table.filename, msg("formats.no_metre_numbers", "no row has numbers in both {x} and {y}",
                                        x=x_col, y=y_col))
    prefixed = [e >= 10_000_000 for e, _ in good]
    if any(prefixed) and not all(prefixed):
        raise _fail(table.filename, msg("formats.some_eastings_carry_gauss", "some eastings carry the Gauss-Kruger "
                                        "zone number in front and some do not; use one form for every row"))
    e0, n0 = good[0]
    try:
        first = coords.parse_coordinate(f"X={n0!r} Y={e0!r}", info, region=None)
    except coords.CoordinateError as exc:
        raise CrsUnknown(msg("formats.message", "{filename}: {exc}", filename=table.filename, exc=exc),
                         choose="crs") from None
    used = coords.resolve_crs(first.crs)
    ex, _ = coords.from_cgcs2000(first.lon, first.lat, used)
    offset = round((float(ex) - e0) / 1_000_000) * 1_000_000
    notes += first.warnings
    rows = []
    for r, c in zip(table.rows, cells):
        if c is None:
            empty = not r.values.get(x_col) and not r.values.get(y_col)
            rows.append(replace(r, geometry=None, problem=None if empty else
                                msg("formats.cells_not_metres", "{x}/{y} ({a}, {b}) are not numbers of metres",
                                    x=x_col, y=y_col, a=r.values.get(x_col, '')[:30], b=r.values.get(y_col, '')[:30])))
        else:
            rows.append(replace(r, geometry=Point(c[0] + offset, c[1]), problem=None))
    key = used.key if used.key != "WKT" else used.crs.to_wkt()
    return replace(table, rows=rows, crs=key, crs_declared=True, notes=table.notes + notes)
