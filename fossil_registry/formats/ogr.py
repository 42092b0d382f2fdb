"""The formats GDAL reads for us through pyogrio: GeoJSON, GeoPackage and zipped Shapefile (.prj and .cpg honoured),
each turned into a :class:`GeometrySource` with the file's own CRS and the features' names and attributes.

GeoJSON is first loaded with the registry's depth-limited JSON loader and its rings checked here, so that deep
nesting and unclosed rings (which GDAL would close silently) get our own messages.
"""
from __future__ import annotations

import io
import math
import tempfile
import warnings
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import shapely

from .. import coords, json_input, untrusted
from ..errors import InvalidInput
from ..geometry import GeometryError, check_geojson_rings
from .archive import read_member
from .base import WGS84_KEYS, GeometrySource, Limits, SourceFeature, UploadTooLarge, _fail, _PointBudget
from ..messages import msg

# GDAL's remarks on odd or hostile uploads (bad application_id, unclosed rings...) reach the user as our own messages;
# catch_warnings() is not thread-safe, so the filter is set once, for pyogrio's RuntimeWarnings only.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"pyogrio\..*")


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
    if isinstance(exc, MemoryError):  # the worker's memory limit (untrusted.py), not a damaged file
        return untrusted.too_slow()
    detail = str(exc).split("\n")[0][:200]
    return _fail(filename, msg("formats.readable_file_truncated_damaged", "not a readable {what} file (truncated, "
                               "damaged or not geographic data): {detail}", what=what, detail=detail))


def read_geojson(filename: str, data: bytes, limits: Limits) -> GeometrySource:
    import pyogrio

    try:
        doc = json_input.loads(data.decode("utf-8-sig"), filename or "the GeoJSON file")
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(filename, msg("formats.readable_geojson_file", "not a readable GeoJSON file: {value}",
                                  value=str(exc)[:160])) from None
    if not isinstance(doc, dict) or doc.get("type") not in (
            "FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
            "MultiPolygon", "GeometryCollection"):
        raise _fail(filename, msg("formats.geojson_expected_featurecollection_feature", "not GeoJSON: expected a "
                                  "FeatureCollection, a Feature or a geometry object"))
    if doc.get("type") == "FeatureCollection" and not doc.get("features"):
        raise _fail(filename, msg("formats.featurecollection_empty_holds_features", "the FeatureCollection is empty: "
                                  "it holds no features"))
    _check_geojson_rings_in(filename, doc)
    _check_declared_crs(filename, doc.get("crs"))
    try:
        df = pyogrio.read_dataframe(io.BytesIO(data))
    except Exception as exc:  # pyogrio/GDAL errors
        raise _gdal_error(filename, "GeoJSON", exc) from None
    crs = _frame_crs(df) or "EPSG:4326"
    declared = isinstance(doc.get("crs"), dict) and crs not in WGS84_KEYS
    return GeometrySource("geojson", filename, _features_from_frame(df, limits, filename), crs=crs,
                          crs_declared=declared)


def _check_declared_crs(filename: str, crs: Any) -> None:
    """A GeoJSON file's own (2008-style) ``crs`` member must name a coordinate system we know: GDAL falls back to
    WGS84 for a name it does not know or a link it does not follow, which would read the coordinates in the wrong
    system without a word."""
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) and crs.get("type") == "name" and \
        isinstance(crs.get("properties"), dict) else None
    if not isinstance(name, str) or not name.strip():
        raise _fail(filename, msg('formats.file_s_crs_member', "the file's crs member is not a named coordinate system (a link, or malformed): remove it and choose the coordinate system, or name it (e.g. EPSG:4490)"))
    try:
        coords.resolve_crs(name)
    except coords.CoordinateError as exc:
        raise _fail(filename, msg('formats.file_declares_coordinate_system_2', 'the file declares a coordinate system the registry does not know ({exc})', exc=exc)) from None


def _check_geojson_rings_in(filename: str, doc: dict) -> None:
    """An unclosed ring is reported (GDAL would close it silently): say where, as the validator does."""
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
            check_geojson_rings(g)
        except GeometryError as exc:
            raise InvalidInput(msg("formats.message", "{filename}: {exc}", filename=filename, exc=exc), location=exc.location) from None
        except (TypeError, IndexError, AttributeError):
            raise _fail(filename, msg("formats.geometry_s_coordinates_malformed", "a geometry's coordinates are "
                                      "malformed")) from None


def read_gpkg(filename: str, data: bytes, limits: Limits) -> GeometrySource:
    import pyogrio

    if data[:16] != b"SQLite format 3\x00":
        raise _fail(filename, msg("formats.geopackage_file_sqlite_database", "not a GeoPackage (the file is not an "
                                  "SQLite database)"))
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        path = Path(tmp) / "upload.gpkg"
        path.write_bytes(data)
        _check_gpkg_layers(filename, path, limits)
        try:
            layers = [(name, gtype) for name, gtype in pyogrio.list_layers(path) if gtype]
        except Exception as exc:
            raise _gdal_error(filename, "GeoPackage", exc) from None
        if not layers:
            raise _fail(filename, msg("formats.geopackage_layer_geometries", "the GeoPackage has no layer with "
                                      "geometries"))
        features, crs_values = [], set()
        for name, _ in layers:
            try:
                df = pyogrio.read_dataframe(path, layer=name)
            except Exception as exc:
                raise _gdal_error(filename, "GeoPackage", exc) from None
            crs_values.add(_frame_crs(df))
            features += _features_from_frame(df, limits, filename, name if len(layers) > 1 else None)
    if len(crs_values) > 1:
        raise _fail(filename, msg("formats.geopackage_s_layers_use", "the GeoPackage's layers use different "
                                  "coordinate systems; upload one layer"))
    crs = crs_values.pop()
    return GeometrySource("gpkg", filename, features, crs=crs, crs_declared=crs is not None)


def _check_gpkg_layers(filename: str, path: Path, limits: Limits) -> None:
    """Before GDAL opens an uploaded GeoPackage: every layer must be a table (GDAL would run a view's query, however
    long it takes or however many rows it makes) with no more rows than the vertex budget allows."""
    from ..store import uploads

    try:
        layers = uploads.contents_layers(path, untrusted.deadline())
    except uploads.KitFileTooSlow:
        raise untrusted.too_slow() from None
    except uploads.KitFileError as exc:
        raise _fail(filename, msg('formats.not_readable_geopackage_truncated', 'not a readable GeoPackage (truncated or damaged: {str})', str=str(exc)[:80])) from None
    if layers is None:
        raise _fail(filename, msg('formats.not_readable_geopackage_sqlite', 'not a readable GeoPackage: an SQLite database without the GeoPackage tables'))
    for name, kind, rows in layers:
        if kind != "table":
            what = {"view": "a view", "virtual": "a virtual table", "missing": "missing"}[kind]
            raise _fail(filename, msg('formats.geopackage_s_layer_name', "the GeoPackage's layer {name!r} is {what}: only layers stored as tables are read; save the layer as a table (e.g. with ogr2ogr or QGIS' Export)", name=name[:60], what=what))
        if rows > limits.max_points:
            raise UploadTooLarge(msg('formats.filename_layer_name_r', '{filename}: the layer {name!r} has {rows:,} features; at most {max_points:,} points are read from one file', filename=filename, name=name[:60], rows=rows, max_points=limits.max_points))


def read_shapefile_zip(filename: str, zf: zipfile.ZipFile, members: list[zipfile.ZipInfo],
                       limits: Limits) -> GeometrySource:
    import pyogrio

    shps = [m for m in members if m.filename.lower().endswith(".shp")]
    if len(shps) != 1:
        names = ", ".join(PurePosixPath(m.filename).name for m in shps)
        raise _fail(filename, msg("formats.several_shapefiles", "the archive holds {count} shapefiles ({names}); "
                                  "upload one", count=len(shps), names=names) if shps else
                    msg("formats.no_shapefile", "the archive holds neither a shapefile (.shp) nor a KML file"))
    stem = shps[0].filename[:-4]
    wanted = {m.filename[len(stem):].lower(): m for m in members if m.filename[:len(stem)] == stem}
    missing = [ext for ext in (".shx", ".dbf") if ext not in wanted]
    if missing:
        raise _fail(filename, msg("formats.shapefile_incomplete_missing_archive", "the shapefile is incomplete: "
                                  "{missing} missing from the archive", missing=', '.join(missing)))
    notes = []
    budget = [limits.max_unzipped_bytes]
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        for ext, member in wanted.items():
            if ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                # flattened, fixed names: nothing from the archive decides where a file is written
                (Path(tmp) / f"upload{ext}").write_bytes(read_member(filename, zf, member, limits, budget))
        shp = Path(tmp) / "upload.shp"
        if shp.read_bytes()[:4] != b"\x00\x00\x27\x0a":
            raise _fail(filename, msg("formats.shapefile_bad_file_header", "{name} is not a shapefile (bad file "
                                      "header)", name=PurePosixPath(shps[0].filename).name))
        if ".cpg" in wanted:
            encoding = (Path(tmp) / "upload.cpg").read_text(errors="replace").strip()[:20]
            notes.append(msg("formats.attribute_encoding_cpg", "attribute encoding from .cpg: {encoding}",
                             encoding=encoding))
        try:
            df = pyogrio.read_dataframe(shp)
        except Exception as exc:
            raise _gdal_error(filename, "Shapefile", exc) from None
        crs = _frame_crs(df) if ".prj" in wanted else None
        features = _features_from_frame(df, limits, filename)
    return GeometrySource("shapefile", filename, features, crs=crs, crs_declared=crs is not None, notes=notes)
