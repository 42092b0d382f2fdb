"""Reading site geometries from the files field teams actually have, safely.

Supported: GeoJSON, KML, KMZ, GPX, zipped Shapefile (.prj and .cpg honoured), GeoPackage, CSV of vertices, plus typed
coordinates. GIS formats are read with GDAL through pyogrio; KML and GPX are parsed here with defusedxml (which refuses
DTDs, so neither external entities nor entity expansion can reach us) because they are simple and GDAL's KML reader
would need libexpat's entity handling to be trusted.

Everything hostile or broken is refused with :class:`~fossil_registry.errors.InvalidInput` (or :class:`UploadTooLarge`)
whose message names the file and the problem: oversized files, truncated or non-geographic files, empty collections,
ZIP path traversal, ZIP bombs (sizes checked in the central directory *and* while decompressing), too many vertices.

Pure domain code: no Flask. The caller passes the bytes, the file name and :class:`Limits` (built from the app config).
"""
from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from . import coords, json_input
from .errors import InvalidInput
from .geometry import GeometryError, close_ring_if_near, vertex_count

MiB = 1024 * 1024
# GDAL's remarks on odd or hostile uploads (bad application_id, unclosed rings...) reach the user as our own messages;
# catch_warnings() is not thread-safe, so the filter is set once, for pyogrio's RuntimeWarnings only.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"pyogrio\..*")
FORMATS = ("geojson", "kml", "kmz", "gpx", "shapefile", "gpkg", "csv")
FORMAT_LABELS = {"geojson": "GeoJSON", "kml": "KML", "kmz": "KMZ", "gpx": "GPX", "shapefile": "zipped Shapefile",
                 "gpkg": "GeoPackage", "csv": "CSV"}
TARGETS = ("location", "boundary")
WGS84_KEYS = ("EPSG:4326", "OGC:CRS84")


class UploadTooLarge(InvalidInput):
    status = 413
    title = "Upload too large"


@dataclass(frozen=True)
class Limits:
    """Size and content limits for one uploaded geometry file (documented in docs/revisions.md)."""

    max_file_bytes: int = 20 * MiB          # the upload itself
    max_unzipped_bytes: int = 64 * MiB      # all members of a ZIP/KMZ together, decompressed
    max_zip_entries: int = 100
    max_points: int = 1_000_000             # vertices read from any file before anything else is done with them
    ring_close_tolerance_m: float = 50.0    # a walked GPX/KML perimeter whose ends are this close becomes a boundary
    max_csv_rows: int = 200_000


@dataclass
class SourceFeature:
    geometry: BaseGeometry       # 2-D, in the file's coordinate system
    name: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class GeometrySource:
    """What one file holds: features in the file's CRS and what the file says about that CRS."""

    format: str
    filename: str
    features: list[SourceFeature]
    crs: str | None = None          # EPSG:xxxx or WKT the file declares or its format implies; None if unknown
    crs_declared: bool = False      # the file itself names the CRS (vs. the format's convention, e.g. KML = WGS84)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReadGeometry:
    """One geometry taken from an input, converted to EPSG:4490 (not yet validated as a site geometry)."""

    geometry: BaseGeometry
    source_crs: str
    format: str
    filename: str | None = None
    feature: str | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {"format": self.format, "filename": self.filename, "source_crs": self.source_crs,
                "feature": self.feature, "notes": list(self.notes)}


def _fail(filename: str | None, message: str) -> InvalidInput:
    return InvalidInput(f"{filename}: {message}" if filename else message)


# ====================================================================================================================
# format detection
# ====================================================================================================================
_EXTENSIONS = {".geojson": "geojson", ".json": "geojson", ".kml": "kml", ".kmz": "kmz", ".gpx": "gpx",
               ".zip": "zip", ".gpkg": "gpkg", ".csv": "csv", ".txt": "csv"}


def detect_format(filename: str, data: bytes) -> str:
    ext = Path(filename or "").suffix.lower()
    if ext == ".shp":
        raise _fail(filename, "a shapefile is several files: upload the .shp together with its .shx, .dbf, .prj (and "
                              ".cpg) in one .zip archive")
    fmt = _EXTENSIONS.get(ext)
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if fmt is None:  # no or unknown extension: look at the content
        if data[:4] == b"PK\x03\x04":
            fmt = "zip"
        elif data[:16] == b"SQLite format 3\x00":
            fmt = "gpkg"
        elif head[:1] in (b"{", b"["):
            fmt = "geojson"
        elif head[:1] == b"<":
            low = data[:4096].lower()
            fmt = "gpx" if b"<gpx" in low else ("kml" if b"<kml" in low else None)
        if fmt is None:
            raise _fail(filename, "unrecognised file type: upload GeoJSON, KML, KMZ, GPX, a zipped Shapefile, "
                                  "a GeoPackage or a CSV of vertices")
    return fmt  # "zip" is decided after looking inside (shapefile or KMZ)


# ====================================================================================================================
# ZIP archives: traversal and bomb checks
# ====================================================================================================================
def _unsafe_member(name: str) -> bool:
    norm = name.replace("\\", "/")
    if not norm or "\x00" in norm or norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return any(part == ".." for part in PurePosixPath(norm).parts)


def open_zip(filename: str, data: bytes, limits: Limits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open an uploaded ZIP after checking its central directory; returns the archive and its file members."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _fail(filename, "not a readable ZIP archive (truncated or damaged)") from None
    if len(infos) > limits.max_zip_entries:
        raise _fail(filename, f"the archive holds {len(infos)} entries; the limit is {limits.max_zip_entries}")
    total = 0
    members = []
    for info in infos:
        if _unsafe_member(info.filename):
            raise _fail(filename, f"the archive entry {info.filename!r} points outside the archive (path traversal); "
                                  "the archive was refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _fail(filename, f"the archive entry {info.filename!r} is a symbolic link; the archive was refused")
        if info.flag_bits & 0x1:
            raise _fail(filename, f"the archive entry {info.filename!r} is encrypted; upload an unencrypted archive")
        if info.is_dir():
            continue
        total += info.file_size
        if total > limits.max_unzipped_bytes:
            raise UploadTooLarge(
                f"{filename}: the archive decompresses to more than {limits.max_unzipped_bytes // MiB} MiB "
                f"(limit {limits.max_unzipped_bytes // MiB} MiB); this looks like a ZIP bomb or a much larger data "
                "set than one site needs")
        members.append(info)
    return zf, members


def read_member(filename: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, budget: list[int]) -> bytes:
    """Decompress one member, counting real bytes: the central directory can lie about sizes."""
    out = io.BytesIO()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(256 * 1024)
                if not chunk:
                    break
                out.write(chunk)
                budget[0] -= len(chunk)
                if budget[0] < 0 or out.tell() > info.file_size:
                    raise UploadTooLarge(
                        f"{filename}: {info.filename} decompresses to more than the archive declares or than "
                        f"{limits.max_unzipped_bytes // MiB} MiB; refused as a possible ZIP bomb")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise _fail(filename, f"{info.filename} in the archive is damaged or truncated ({exc})") from None
    return out.getvalue()


# ====================================================================================================================
# XML formats (KML, KMZ, GPX): defusedxml, namespace-agnostic
# ====================================================================================================================
def _parse_xml(filename: str, data: bytes, what: str):
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _fail(filename, f"the {what} file declares a DTD or XML entities, which are refused (external entities "
                              "and entity expansion are a known attack); export the file again from your app") from None
    except ParseError as exc:
        raise _fail(filename, f"not a readable {what} file: the XML is malformed or truncated ({exc})") from None
    stack = [(root, 1)]  # readers walk the tree (KML MultiGeometry recursively): refuse absurd nesting first
    while stack:
        element, level = stack.pop()
        if level > MAX_XML_DEPTH:
            raise _fail(filename, f"the {what} file nests elements more than {MAX_XML_DEPTH} levels deep; no "
                                  "geographic data needs that")
        stack.extend((child, level + 1) for child in element)
    return root


MAX_XML_DEPTH = 64


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el, name: str):
    return [c for c in el if _local(c.tag) == name]


def _child_text(el, name: str) -> str | None:
    for c in el:
        if _local(c.tag) == name:
            return (c.text or "").strip() or None
    return None


class _PointBudget:
    def __init__(self, filename: str, limit: int):
        self.filename, self.limit, self.used = filename, limit, 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise UploadTooLarge(f"{self.filename}: more than {self.limit:,} vertices; far more than a site outline "
                                 "needs. Thin the track or simplify the outline before uploading")


def _kml_coordinates(filename: str, text: str | None, budget: _PointBudget) -> list[tuple[float, float]]:
    if not text or not text.strip():
        raise _fail(filename, "a KML geometry has no coordinates")
    text = re.sub(r"\s*,\s*", ",", text.strip())
    tuples = text.split()
    budget.take(len(tuples))
    out = []
    for t in tuples:
        parts = t.split(",")
        if len(parts) < 2:
            raise _fail(filename, f"cannot read the KML coordinate {t[:40]!r}: expected longitude,latitude[,altitude]")
        try:
            lon, lat = float(parts[0]), float(parts[1])  # altitude, if any, is ignored
        except ValueError:
            raise _fail(filename, f"cannot read the KML coordinate {t[:40]!r}: not a number") from None
        out.append((lon, lat))
    return out


def _kml_geometries(filename: str, el, budget: _PointBudget) -> list[BaseGeometry]:
    name = _local(el.tag)
    if name == "Point":
        pts = _kml_coordinates(filename, _child_text(el, "coordinates"), budget)
        return [Point(pts[0])]
    if name == "LineString":
        pts = _kml_coordinates(filename, _child_text(el, "coordinates"), budget)
        return [LineString(pts)] if len(pts) >= 2 else [Point(pts[0])]
    if name == "LinearRing":
        return [_polygon(filename, _kml_coordinates(filename, _child_text(el, "coordinates"), budget), [])]
    if name == "Polygon":
        def rings(which):
            out = []
            for b in _children(el, which):
                for ring in _children(b, "LinearRing"):
                    out.append(_kml_coordinates(filename, _child_text(ring, "coordinates"), budget))
            return out
        outer = rings("outerBoundaryIs")
        if not outer:
            raise _fail(filename, "a KML Polygon has no outer boundary")
        return [_polygon(filename, outer[0], rings("innerBoundaryIs"))]
    if name == "Track":  # gx:Track: <gx:coord>lon lat alt</gx:coord>
        pts = []
        for c in _children(el, "coord"):
            bits = (c.text or "").split()
            budget.take(1)
            try:
                pts.append((float(bits[0]), float(bits[1])))
            except (IndexError, ValueError):
                raise _fail(filename, f"cannot read the gx:coord {(c.text or '')[:40]!r}") from None
        return [LineString(pts)] if len(pts) >= 2 else [Point(p) for p in pts]
    if name in ("MultiGeometry", "MultiTrack"):
        out = []
        for child in el:
            out += _kml_geometries(filename, child, budget)
        return out
    return []


def _polygon(filename: str, shell, holes) -> Polygon:
    try:
        return Polygon(shell, holes)
    except (ValueError, shapely.errors.GEOSException):
        raise _fail(filename, f"a polygon ring has only {len(shell)} points; an area needs at least 3") from None


def _kml_properties(placemark) -> dict:
    props = {}
    for ext in _children(placemark, "ExtendedData"):
        for d in ext.iter():
            if _local(d.tag) in ("Data", "SimpleData") and d.get("name"):
                value = _child_text(d, "value") if _local(d.tag) == "Data" else (d.text or "").strip()
                props[d.get("name")[:80]] = (value or "")[:500]
    return props


def read_kml(filename: str, data: bytes, limits: Limits, *, fmt: str = "kml") -> GeometrySource:
    root = _parse_xml(filename, data, "KML")
    if _local(root.tag) != "kml":
        raise _fail(filename, f"not a KML file: the document element is <{_local(root.tag)}>, not <kml>")
    budget = _PointBudget(filename, limits.max_points)
    features = []
    for pm in root.iter():
        if _local(pm.tag) != "Placemark":
            continue
        geoms = []
        for child in pm:
            geoms += _kml_geometries(filename, child, budget)
        for g in geoms:
            features.append(SourceFeature(g, _child_text(pm, "name"), _kml_properties(pm)))
    return GeometrySource(fmt, filename, features, crs="EPSG:4326", crs_declared=False)


def read_gpx(filename: str, data: bytes, limits: Limits) -> GeometrySource:
    root = _parse_xml(filename, data, "GPX")
    if _local(root.tag) != "gpx":
        raise _fail(filename, f"not a GPX file: the document element is <{_local(root.tag)}>, not <gpx>")
    budget = _PointBudget(filename, limits.max_points)

    def point(el) -> tuple[float, float]:
        try:
            return float(el.get("lon")), float(el.get("lat"))
        except (TypeError, ValueError):
            raise _fail(filename, f"a GPX <{_local(el.tag)}> has no numeric lat/lon attributes") from None

    features = []
    for wpt in _children(root, "wpt"):
        budget.take(1)
        features.append(SourceFeature(Point(point(wpt)), _child_text(wpt, "name")))
    for rte in _children(root, "rte"):
        pts = [point(p) for p in _children(rte, "rtept")]
        budget.take(len(pts))
        if len(pts) >= 2:
            features.append(SourceFeature(LineString(pts), _child_text(rte, "name")))
    for trk in _children(root, "trk"):
        # segments of one track are one walk split by signal loss: joined in order
        pts = []
        for seg in _children(trk, "trkseg"):
            seg_pts = _children(seg, "trkpt")
            budget.take(len(seg_pts))
            pts += [point(p) for p in seg_pts]
        if len(pts) >= 2:
            features.append(SourceFeature(LineString(pts), _child_text(trk, "name")))
    return GeometrySource("gpx", filename, features, crs="EPSG:4326", crs_declared=False)


# ====================================================================================================================
# GDAL formats (GeoJSON, Shapefile, GeoPackage) through pyogrio
# ====================================================================================================================
_NAME_COLUMNS = ("name", "名称", "name_zh", "site", "label", "title")


def _features_from_frame(df, limits: Limits, filename: str, layer: str | None = None) -> list[SourceFeature]:
    out = []
    budget = _PointBudget(filename, limits.max_points)
    name_col = next((c for c in df.columns if str(c).lower() in _NAME_COLUMNS), None)
    columns = [c for c in df.columns if c != df.geometry.name][:30]
    for i, (geom, row) in enumerate(zip(df.geometry, df.itertuples(index=False))):
        if geom is None or geom.is_empty:
            continue
        budget.take(int(shapely.get_num_coordinates(geom)))
        geom = shapely.force_2d(geom)
        record = row._asdict() if hasattr(row, "_asdict") else {}
        props = {}
        for c in columns:
            value = getattr(row, str(c), None) if str(c).isidentifier() else record.get(c)
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                props[str(c)[:80]] = str(value)[:500]
        name = props.get(str(name_col)) if name_col is not None else None
        label = f"{layer}:{i + 1}" if layer else None
        out.append(SourceFeature(geom, name or label, props))
    return out


def _frame_crs(df) -> str | None:
    if df.crs is None:
        return None
    code = df.crs.to_epsg(min_confidence=70)
    return f"EPSG:{code}" if code else df.crs.to_wkt()


def _gdal_error(filename: str, what: str, exc: Exception) -> InvalidInput:
    detail = str(exc).split("\n")[0][:200]
    return _fail(filename, f"not a readable {what} file (truncated, damaged or not geographic data): {detail}")


def read_geojson(filename: str, data: bytes, limits: Limits) -> GeometrySource:
    import pyogrio

    try:
        doc = json_input.loads(data.decode("utf-8-sig"), filename or "the GeoJSON file")
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(filename, f"not a readable GeoJSON file: {str(exc)[:160]}") from None
    if not isinstance(doc, dict) or doc.get("type") not in (
            "FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
            "MultiPolygon", "GeometryCollection"):
        raise _fail(filename, "not GeoJSON: expected a FeatureCollection, a Feature or a geometry object")
    if doc.get("type") == "FeatureCollection" and not doc.get("features"):
        raise _fail(filename, "the FeatureCollection is empty: it holds no features")
    _check_geojson_rings_in(filename, doc)
    try:
        df = pyogrio.read_dataframe(io.BytesIO(data))
    except Exception as exc:  # pyogrio/GDAL errors
        raise _gdal_error(filename, "GeoJSON", exc) from None
    crs = _frame_crs(df) or "EPSG:4326"
    declared = isinstance(doc.get("crs"), dict) and crs not in WGS84_KEYS
    return GeometrySource("geojson", filename, _features_from_frame(df, limits, filename), crs=crs,
                          crs_declared=declared)


def _check_geojson_rings_in(filename: str, doc: dict) -> None:
    """An unclosed ring is reported (GDAL would close it silently): say where, as the validator does."""
    from .geometry import _check_geojson_rings

    def geometries(d):
        t = d.get("type")
        if t == "FeatureCollection":
            for f in d.get("features") or []:
                if isinstance(f, dict):
                    yield from geometries(f)
        elif t == "Feature":
            if isinstance(d.get("geometry"), dict):
                yield d["geometry"]
        else:
            yield d

    for g in geometries(doc):
        try:
            _check_geojson_rings(g)
        except GeometryError as exc:
            raise InvalidInput(f"{filename}: {exc}", location=exc.location) from None
        except (TypeError, IndexError, AttributeError):
            raise _fail(filename, "a geometry's coordinates are malformed") from None


def read_gpkg(filename: str, data: bytes, limits: Limits) -> GeometrySource:
    import pyogrio

    if data[:16] != b"SQLite format 3\x00":
        raise _fail(filename, "not a GeoPackage (the file is not an SQLite database)")
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        path = Path(tmp) / "upload.gpkg"
        path.write_bytes(data)
        try:
            layers = [(name, gtype) for name, gtype in pyogrio.list_layers(path) if gtype]
        except Exception as exc:
            raise _gdal_error(filename, "GeoPackage", exc) from None
        if not layers:
            raise _fail(filename, "the GeoPackage has no layer with geometries")
        features, crs_values = [], set()
        for name, _ in layers:
            try:
                df = pyogrio.read_dataframe(path, layer=name)
            except Exception as exc:
                raise _gdal_error(filename, "GeoPackage", exc) from None
            crs_values.add(_frame_crs(df))
            features += _features_from_frame(df, limits, filename, name if len(layers) > 1 else None)
    if len(crs_values) > 1:
        raise _fail(filename, "the GeoPackage's layers use different coordinate systems; upload one layer")
    crs = crs_values.pop()
    return GeometrySource("gpkg", filename, features, crs=crs, crs_declared=crs is not None)


def read_shapefile_zip(filename: str, zf: zipfile.ZipFile, members: list[zipfile.ZipInfo],
                       limits: Limits) -> GeometrySource:
    import pyogrio

    shps = [m for m in members if m.filename.lower().endswith(".shp")]
    if len(shps) != 1:
        names = ", ".join(PurePosixPath(m.filename).name for m in shps)
        raise _fail(filename, f"the archive holds {len(shps)} shapefiles ({names}); upload one" if shps else
                    "the archive holds neither a shapefile (.shp) nor a KML file")
    stem = shps[0].filename[:-4]
    wanted = {m.filename[len(stem):].lower(): m for m in members if m.filename[:len(stem)] == stem}
    missing = [ext for ext in (".shx", ".dbf") if ext not in wanted]
    if missing:
        raise _fail(filename, f"the shapefile is incomplete: {', '.join(missing)} missing from the archive")
    notes = []
    budget = [limits.max_unzipped_bytes]
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        for ext, member in wanted.items():
            if ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                # flattened, fixed names: nothing from the archive decides where a file is written
                (Path(tmp) / f"upload{ext}").write_bytes(read_member(filename, zf, member, limits, budget))
        shp = Path(tmp) / "upload.shp"
        if shp.read_bytes()[:4] != b"\x00\x00\x27\x0a":
            raise _fail(filename, f"{PurePosixPath(shps[0].filename).name} is not a shapefile (bad file header)")
        if ".cpg" in wanted:
            notes.append(f"attribute encoding from .cpg: {(Path(tmp) / 'upload.cpg').read_text(errors='replace').strip()[:20]}")
        try:
            df = pyogrio.read_dataframe(shp)
        except Exception as exc:
            raise _gdal_error(filename, "Shapefile", exc) from None
        crs = _frame_crs(df) if ".prj" in wanted else None
        features = _features_from_frame(df, limits, filename)
    return GeometrySource("shapefile", filename, features, crs=crs, crs_declared=crs is not None, notes=notes)


def read_zip(filename: str, data: bytes, limits: Limits, *, expect: str | None = None) -> GeometrySource:
    zf, members = open_zip(filename, data, limits)
    kmls = [m for m in members if m.filename.lower().endswith(".kml")]
    if expect == "kmz" or (kmls and not any(m.filename.lower().endswith(".shp") for m in members)):
        if not kmls:
            raise _fail(filename, "the KMZ archive holds no .kml document")
        # KMZ: the main document is doc.kml, else the first .kml at the top level, else the first .kml
        main = next((m for m in kmls if m.filename.lower() == "doc.kml"), None) or \
            next((m for m in kmls if "/" not in m.filename), kmls[0])
        return read_kml(filename, read_member(filename, zf, main, limits, [limits.max_unzipped_bytes]), limits,
                        fmt="kmz")
    return read_shapefile_zip(filename, zf, members, limits)


# ====================================================================================================================
# CSV of vertices
# ====================================================================================================================
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
    raise _fail(filename, "the CSV is neither UTF-8 nor GBK text")


def _float(filename: str, value: str, row: int, column: str) -> float:
    try:
        v = float(value.strip())
    except ValueError:
        raise _fail(filename, f"row {row}: {column} {value!r} is not a number") from None
    if not math.isfinite(v):
        raise _fail(filename, f"row {row}: {column} {value!r} is not a finite number")
    return v


def read_csv(filename: str, data: bytes, limits: Limits, *, crs=None,
             region=coords.GUIZHOU_BBOX) -> GeometrySource:
    """Vertices in file order -> one Point (a single row) or one LineString (to be closed into a boundary ring).

    Geographic columns accept decimal degrees and DMS (coords.parse_angle); projected columns are metres, with the
    Chinese survey convention X = northing, Y = easting checked against the values' magnitudes."""
    text = _decode_text(filename, data)
    if "\x00" in text[:4096]:
        raise _fail(filename, "not a CSV text file (binary content)")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise _fail(filename, "the CSV is empty")
    if len(rows) - 1 > limits.max_csv_rows:
        raise UploadTooLarge(f"{filename}: {len(rows) - 1:,} rows; the limit is {limits.max_csv_rows:,}")
    header = [_norm_header(h) for h in rows[0]]

    def col(names):
        return next((i for i, h in enumerate(header) if h in names), None)

    lon_i, lat_i = col(_LON), col(_LAT)
    e_i, n_i = col(_EAST), col(_NORTH)
    x_i, y_i = col(_X), col(_Y)
    body = rows[1:]
    if not body:
        raise _fail(filename, "the CSV has a header but no vertex rows")

    def cells(i, what):
        out = []
        for r, row in enumerate(body, start=2):
            if i >= len(row) or not row[i].strip():
                raise _fail(filename, f"row {r}: the {what} is missing")
            out.append((r, row[i].strip()))
        return out

    notes: list[str] = []
    info = None if crs in (None, "") else coords.resolve_crs(crs)
    if lon_i is not None and lat_i is not None:
        kind, a_i, b_i, names = "geographic", lon_i, lat_i, (rows[0][lon_i], rows[0][lat_i])
    elif e_i is not None and n_i is not None:
        kind, a_i, b_i, names = "projected", e_i, n_i, (rows[0][e_i], rows[0][n_i])
    elif x_i is not None and y_i is not None:
        kind, a_i, b_i, names = "xy", x_i, y_i, (rows[0][x_i], rows[0][y_i])
    else:
        raise _fail(filename, f"cannot find the coordinate columns in the header {rows[0][:8]}: name them "
                              f"{CSV_COLUMN_HELP}")
    a_cells, b_cells = cells(a_i, names[0]), cells(b_i, names[1])

    if kind == "xy":
        try:
            probe = [abs(float(v)) for _, v in a_cells[:50] + b_cells[:50]]
            kind = "projected_xy" if max(probe) > 360 else "geographic_xy"
        except ValueError:
            kind = "geographic_xy"  # DMS text: degrees

    if kind.startswith("geographic"):
        if info is not None and info.kind == "projected":
            raise _fail(filename, f"the columns {names[0]}/{names[1]} hold degrees but {info.key} is a projected "
                                  "coordinate system; choose a geographic one such as EPSG:4490")
        try:
            xs = np.array([coords.parse_angle(v) for _, v in a_cells])
            ys = np.array([coords.parse_angle(v) for _, v in b_cells])
        except coords.CoordinateError as exc:
            raise _fail(filename, f"cannot read a coordinate: {exc}") from None
        source_crs = info.key if info is not None else "EPSG:4490"
        if info is not None and info.key == "WKT":
            source_crs = info.crs.to_wkt()
        geom_xy = np.column_stack([xs, ys])
        features = _csv_features(geom_xy)
        return GeometrySource("csv", filename, features, crs=source_crs, crs_declared=False, notes=notes)

    # projected metres: decide which column is the northing from the magnitudes (northings in China are 1e6..1e7 m,
    # eastings below 1e6 m, or above 1e7 m with the zone number in front)
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
        notes.append(f"the columns {names[0]} and {names[1]} looked swapped (northings are 1,000-10,000 km, "
                     "eastings below 1,000 km or with the zone number in front); read them the other way round")
    prefixed = [v >= 10_000_000 for v in eastings]
    if any(prefixed) and not all(prefixed):
        raise _fail(filename, "some eastings carry the Gauss-Kruger zone number in front and some do not; use one "
                              "form for every row")
    try:
        first = coords.parse_coordinate(f"X={northings[0]!r} Y={eastings[0]!r}", info, region=None)
    except coords.CoordinateError as exc:
        raise _fail(filename, f"row 2: {exc}") from None
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


# ====================================================================================================================
# one entry point: file -> GeometrySource -> the geometry for a target, in EPSG:4490
# ====================================================================================================================
def read_source(filename: str, data: bytes, limits: Limits = Limits(), *, crs=None,
                region=coords.GUIZHOU_BBOX) -> GeometrySource:
    filename = os.path.basename((filename or "upload").replace("\\", "/"))[:120] or "upload"
    if len(data) > limits.max_file_bytes:
        raise UploadTooLarge(f"{filename}: {len(data) / MiB:.1f} MiB; geometry files are limited to "
                             f"{limits.max_file_bytes // MiB} MiB")
    if not data:
        raise _fail(filename, "the file is empty")
    fmt = detect_format(filename, data)
    if fmt == "geojson":
        src = read_geojson(filename, data, limits)
    elif fmt == "kml":
        src = read_kml(filename, data, limits)
    elif fmt == "gpx":
        src = read_gpx(filename, data, limits)
    elif fmt in ("zip", "kmz"):
        src = read_zip(filename, data, limits, expect="kmz" if fmt == "kmz" else None)
    elif fmt == "gpkg":
        src = read_gpkg(filename, data, limits)
    else:
        src = read_csv(filename, data, limits, crs=crs, region=region)
    if not src.features:
        raise _fail(filename, f"the {FORMAT_LABELS[src.format]} file holds no geometries")
    return src


def choose_crs(src: GeometrySource, chosen) -> tuple[str, list[str]]:
    """The CRS to read a file's coordinates in: the file's own where it declares one; the user's choice where it does
    not. Files that are WGS84 by convention (KML, GPX, GeoJSON) may be overridden with GCJ-02/BD-09 because Chinese
    phone map apps export their offset coordinates in exactly those formats without saying so."""
    notes: list[str] = []
    info = None if chosen in (None, "") else coords.resolve_crs(chosen)
    if src.crs is None:
        if info is None:
            raise _fail(src.filename, "the file does not say which coordinate system it uses (e.g. a shapefile "
                                      "without .prj): choose it (EPSG code, CGCS2000, WGS84, GCJ02, BD09 or a "
                                      "Gauss-Kruger zone)")
        return (info.key if info.key != "WKT" else info.crs.to_wkt()), notes
    if src.format == "csv":
        return src.crs, notes
    file_info = coords.resolve_crs(src.crs)
    if info is None or info.key == file_info.key:
        return src.crs, notes
    if src.crs_declared:
        notes.append(f"the file declares its coordinate system ({file_info.key}); the chosen {info.key} was not used")
        return src.crs, notes
    if info.kind == "offset" or (info.kind == "geographic" and not info.needs_datum_shift):
        notes.append(f"coordinates read as {info.label}, as chosen (the {FORMAT_LABELS[src.format]} format assumes "
                     f"WGS84)")
        return info.key, notes
    notes.append(f"{FORMAT_LABELS[src.format]} coordinates are longitude/latitude; the chosen {info.key} was not used")
    return src.crs, notes


def _describe_candidates(cands: list[tuple[int, SourceFeature]]) -> str:
    shown = [f"{i}: {f.name or f.geometry.geom_type}" for i, f in cands[:10]]
    return "; ".join(shown) + (" ..." if len(cands) > 10 else "")


def pick_geometry(src: GeometrySource, target: str, *, feature: int | None = None,
                  ring_close_tolerance_m: float = 50.0) -> tuple[BaseGeometry, str | None, list[str]]:
    """The one geometry for ``target`` (location or boundary), in the file's CRS. Never merges several features:
    a file with several candidates is refused unless ``feature`` (1-based) names one."""
    if target not in TARGETS:
        raise InvalidInput(f"target must be 'location' or 'boundary' (got {target!r})")
    notes: list[str] = []
    indexed = list(enumerate(src.features, start=1))
    if feature is not None:
        if not (1 <= feature <= len(indexed)):
            raise _fail(src.filename, f"there is no feature {feature}: the file holds {len(indexed)}")
        indexed = [indexed[feature - 1]]

    def kind(g):
        if isinstance(g, (Point, MultiPoint)):
            return "point"
        if isinstance(g, (LineString, MultiLineString)):
            return "line"
        if isinstance(g, (Polygon, MultiPolygon)):
            return "polygon"
        return "other"

    by_kind: dict[str, list[tuple[int, SourceFeature]]] = {}
    for i, f in indexed:
        by_kind.setdefault(kind(f.geometry), []).append((i, f))

    def only(cands, what):
        if len(cands) > 1:
            raise _fail(src.filename, f"the file holds {len(cands)} {what}s ({_describe_candidates(cands)}); the "
                                      f"registry never merges them: choose one with feature=N")
        return cands[0]

    if target == "location":
        if "point" in by_kind:
            i, f = only(by_kind["point"], "point")
            g = f.geometry
            if isinstance(g, MultiPoint):
                if len(g.geoms) != 1:
                    raise _fail(src.filename, f"feature {i} holds {len(g.geoms)} points; a location is one point")
                g = g.geoms[0]
            return g, f.name, notes
        found = ", ".join(sorted(by_kind)) or "nothing usable"
        raise _fail(src.filename, f"the file holds no point for the site location (it holds: {found}); "
                                  "choose 'boundary' as the target for an outline")
    if "polygon" in by_kind:
        i, f = only(by_kind["polygon"], "polygon")
        return f.geometry, f.name, notes
    if "line" in by_kind:
        i, f = only(by_kind["line"], "line/track")
        line = f.geometry
        if isinstance(line, MultiLineString):
            line = LineString([c for part in line.geoms for c in part.coords])
        pts = list(line.coords)
        if f.properties.get("vertex_list") == "1":  # a CSV vertex list is an outline by definition: close it
            if len(set(pts)) < 3:
                raise _fail(src.filename, "an outline needs at least 3 distinct vertices")
            ring = pts if pts[0] == pts[-1] else pts + [pts[0]]
        else:
            ring = _close_walked(src, pts, ring_close_tolerance_m)
            if ring is None:
                raise _fail(src.filename, _gap_message(src, pts, ring_close_tolerance_m))
            if pts[0] != pts[-1]:
                notes.append(f"the track '{f.name or i}' was closed into a boundary (its ends are within "
                             f"{ring_close_tolerance_m:g} m)")
        return Polygon(ring), f.name, notes
    found = ", ".join(sorted(by_kind)) or "nothing usable"
    raise _fail(src.filename, f"the file holds no polygon or track for the boundary (it holds: {found})")


def _lonlat(src: GeometrySource, pts):
    """Track vertices as lon/lat for the closing-distance test (tracks are KML/GPX, i.e. lon/lat already)."""
    if src.crs in WGS84_KEYS or src.crs == "EPSG:4490" or src.crs is None:
        return pts
    xy = np.asarray(pts, dtype=float)
    lon, lat = coords.to_cgcs2000(xy[:, 0], xy[:, 1], src.crs)
    return list(zip(np.atleast_1d(lon), np.atleast_1d(lat)))


def _close_walked(src, pts, tolerance):
    ll = _lonlat(src, pts)
    closed = close_ring_if_near(ll, tolerance)
    if closed is None:
        return None
    return pts if pts[0] == pts[-1] else pts + [pts[0]]


def _gap_message(src, pts, tolerance) -> str:
    from .geometry import geodesic_distance_m
    ll = _lonlat(src, pts)
    if len(set(map(tuple, ll))) < 3:
        return "the track has fewer than 3 distinct points, so it cannot outline an area"
    gap = geodesic_distance_m(ll[0], ll[-1])
    return (f"the track's ends are {gap:,.0f} m apart (more than {tolerance:g} m), so it is not a closed perimeter; "
            "walk back to the start point, or draw the boundary on the map")


def read_geometry(filename: str, data: bytes, target: str, *, crs=None, feature: int | None = None,
                  limits: Limits = Limits(), region=coords.GUIZHOU_BBOX) -> ReadGeometry:
    """Read one uploaded file and return the geometry for ``target`` in EPSG:4490 (not yet validated)."""
    src = read_source(filename, data, limits, crs=crs, region=region)
    geom, name, pick_notes = pick_geometry(src, target, feature=feature,
                                           ring_close_tolerance_m=limits.ring_close_tolerance_m)
    source_crs, crs_notes = choose_crs(src, crs)
    geom = to_registry_crs(geom, source_crs, filename=src.filename)
    return ReadGeometry(geom, source_crs if not source_crs.startswith(("PROJCRS", "GEOGCRS", "PROJCS", "GEOGCS"))
                        else "WKT", src.format, src.filename, name, src.notes + pick_notes + crs_notes)


def to_registry_crs(geom: BaseGeometry, crs, *, filename: str | None = None) -> BaseGeometry:
    """Transform to EPSG:4490 (2-D); coordinate problems become readable InvalidInput messages."""
    geom = shapely.force_2d(geom)
    info = coords.resolve_crs(crs)
    if info.key == "EPSG:4490":
        return geom
    if info.needs_datum_shift:
        raise _fail(filename, f"{info.label} is based on the Xian 1980 or Beijing 1954 datum; converting it to "
                              "CGCS2000 needs a local 7-parameter transformation the registry does not have. Convert "
                              "the data to CGCS2000 first")
    arr = shapely.get_coordinates(geom)
    if info.kind != "projected" and arr.size and (np.abs(arr[:, 0]).max() > 180 or np.abs(arr[:, 1]).max() > 90):
        # out-of-range degrees: leave them for the validator, which explains (swapped axes, metres...)
        return geom
    try:
        out = coords.transform_geometry(geom, info)
    except coords.CoordinateError as exc:
        raise _fail(filename, f"cannot convert from {info.label}: {exc}") from None
    if not np.isfinite(shapely.get_coordinates(out)).all():
        raise _fail(filename, f"cannot convert the coordinates from {info.label} to CGCS2000: they are outside that "
                              "coordinate system's area (wrong coordinate system chosen?)")
    return out


def parse_typed_points(text: str, crs=None, *, region=coords.GUIZHOU_BBOX) -> tuple[list[tuple[float, float]], list[str]]:
    """Typed coordinates, one point per line (any form coords.parse_coordinate reads) -> CGCS2000 lon/lat."""
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    if not lines:
        raise InvalidInput("no coordinates were entered")
    if len(lines) > 5000:
        raise InvalidInput(f"{len(lines)} lines of typed coordinates; upload a file for outlines this long")
    points, notes = [], []
    for n, line in enumerate(lines, start=1):
        try:
            p = coords.parse_coordinate(line, crs, region=region)
        except coords.CoordinateError as exc:
            raise InvalidInput(f"line {n} ({line.strip()[:60]!r}): {exc}") from None
        points.append((p.lon, p.lat))
        for w in p.warnings:
            if w not in notes:
                notes.append(w)
    return points, notes


def count_vertices(geom: BaseGeometry) -> int:
    return vertex_count(geom)
