"""Writing a layer's table as a file with GDAL (pyogrio) into a private directory: GeoPackage, GeoJSON, KML (and
zipped: KMZ), zipped Shapefile, CSV with WKT, FlatGeobuf. Each writer returns the file and what a user must know about it (the
Shapefile's renamed fields and cut values). No Flask."""
from __future__ import annotations

import shutil
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from markupsafe import escape

from .. import csv_export, store
from ..features import GENERALIZED
from .catalog import DBF_TEXT, Layer, Wanted, shapefile_names
from .tables import decimals

# pyogrio's RuntimeWarnings repeat GDAL's notices (formats/ogr.py sets the same filter for reading).
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"pyogrio\..*")


@dataclass
class About:
    """What every file says about itself (README, GeoPackage and FlatGeobuf descriptions)."""

    title: str                 # "化石点 Fossil sites"
    audience: str              # a sentence: public view or exact data
    crs: str                   # URI and name
    generated_at: str          # ISO 8601 in the registry's time zone, with its offset
    count: int


@dataclass
class Written:
    path: Path
    renamed: dict[str, str] = field(default_factory=dict)   # Shapefile: field -> the name in the .dbf
    cut: dict[str, int] = field(default_factory=dict)        # Shapefile: field -> values cut to 254 bytes


def _description(about: About) -> str:
    return f"{about.title}. {about.audience} CRS: {about.crs}. Generated {about.generated_at}, {about.count} features."


def _promote(layer: Layer) -> bool:
    return layer.geometry.startswith("Multi")


class MixedGeometry(RuntimeError):
    """A layer's features are not all of its one geometry type: a fault of the record builders, never written."""


def geometry_type(table: gpd.GeoDataFrame, layer: Layer) -> str:
    """The geometry type a file of ``table`` declares: the layer's, which every feature has (docs/ogcapi.md: one
    geometry type per collection and layer, for every audience; a Multi* layer also takes the single parts, written
    promoted). Features of another type are refused, not written as a layer of "Unknown" type that a Shapefile cannot
    hold and GIS software shows wrongly."""
    allowed = {layer.geometry, layer.geometry.removeprefix("Multi")}
    found = set(table.geometry.geom_type.dropna().unique())
    if not found <= allowed:
        raise MixedGeometry(f"layer {layer.id}: features of type {sorted(found - allowed)} in a layer of "
                            f"{layer.geometry}")
    return layer.geometry


# ------------------------------------------------------------------------------------------------------ GDAL formats
# The GeoPackage version of files that leave the registry (store.GPKG_EXCHANGE_VERSION: GDAL 3.6 and QGIS 3.22 open it
# without a warning; the GDAL bundled with pyogrio would write 1.4)
GPKG_OPTIONS = {"VERSION": store.GPKG_EXCHANGE_VERSION}


def gpkg(table: gpd.GeoDataFrame, wanted: Wanted, directory: Path, about: About) -> Written:
    path = directory / "download.gpkg"
    add_gpkg_layer(table, wanted.layer, path, about)
    return Written(path)


def add_gpkg_layer(table: gpd.GeoDataFrame, layer: Layer, path: Path, about: About) -> None:
    append = path.exists()
    pyogrio.write_dataframe(table, path, layer=layer.table, driver="GPKG", geometry_type=geometry_type(table, layer),
                            promote_to_multi=_promote(layer), append=append,
                            dataset_options=None if append else GPKG_OPTIONS,
                            layer_options={"IDENTIFIER": f"{layer.title_zh} {layer.title}",
                                           "DESCRIPTION": _description(about)})


def geojson(table: gpd.GeoDataFrame, wanted: Wanted, directory: Path, about: About) -> Written:
    """RFC 7946 in CRS84; in another CRS the file names it in a "crs" member (GDAL reads it back)."""
    path = directory / "download.geojson"
    if "id" not in table.columns:  # the feature's id is the site code, as in the feature service; code stays a property
        table = table.assign(id=table[table.columns[0]])
    options = {"ID_FIELD": "id", "COORDINATE_PRECISION": str(decimals(wanted.crs)), "WRITE_NAME": "YES",
               "DESCRIPTION": _description(about)}
    if wanted.crs.epsg is None:
        options["RFC7946"] = "YES"
    pyogrio.write_dataframe(table, path, layer=wanted.layer.table, driver="GeoJSON",
                            geometry_type=geometry_type(table, wanted.layer), promote_to_multi=_promote(wanted.layer),
                            layer_options=options)
    return Written(path)


def fgb(table: gpd.GeoDataFrame, wanted: Wanted, directory: Path, about: About) -> Written:
    path = directory / "download.fgb"
    pyogrio.write_dataframe(table, path, layer=wanted.layer.table, driver="FlatGeobuf",
                            geometry_type=geometry_type(table, wanted.layer), promote_to_multi=_promote(wanted.layer),
                            layer_options={"SPATIAL_INDEX": "YES", "TITLE": about.title,
                                           "DESCRIPTION": _description(about)})
    return Written(path)


# ------------------------------------------------------------------------------------------------------ KML
# Labels of the KML description table (Chinese first: the files go to Ovital and Google Earth users in China).
LABELS = {"code": "编号 code", "name": "名称 name", "name_en": "英文名称 English name", "county": "县（区） county",
          "county_en": "County", "level": "保护级别 level", "period": "地质时代 period", "age": "时代 age",
          "formation": "地层 formation", "formation_en": "Formation",
          "fossil_groups": "化石门类 fossil groups", "sensitivity": "敏感度 sensitivity",
          "established": "公布日期 established", "status": "状态 status", "description": "描述 description",
          "description_en": "Description", "public_description": "公开说明 public description",
          "public_description_en": "Public description", "version": "版本 version", GENERALIZED: f"位置已概化 {GENERALIZED}",
          "updated_at": "更新时间 updated", "id": "编号 id", "site": "化石点 site", "inspected_on": "巡查日期 date",
          "condition": "状况 condition", "threats": "威胁 threats", "inspectors": "巡查人员 inspectors",
          "photo_count": "照片 photos", "site_version": "化石点版本 site version", "recorded_by": "记录人 recorded by",
          "inspection_id": "巡查记录 inspection", "length_m": "长度（米） length (m)", "point_count": "点数 points"}


def _kml_texts(attributes: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(name, description) of every placemark. The name: the (Chinese) name, else the site and date of an inspection,
    else the id. The description (the balloon): the attributes as a small HTML table, escaped (KML carries it as
    text). Built column by column: 10,000 sites have 170,000 cells."""
    n = len(attributes)
    values = {c: attributes[c].astype(object).where(attributes[c].notna(), None).tolist() for c in attributes.columns}
    rows = [[] for _ in range(n)]
    for column, column_values in values.items():
        label = escape(LABELS.get(column, column))
        for i, v in enumerate(column_values):
            if v is not None:
                rows[i].append(f"<tr><th>{label}</th><td>{escape(str(v))}</td></tr>")
    descriptions = ["<table>" + "".join(cells) + "</table>" for cells in rows]
    names = []
    for i in range(n):
        name = values["name"][i] if "name" in values else None
        if not name:
            parts = [values[k][i] for k in ("site", "inspected_on") if k in values and values[k][i] is not None]
            name = " ".join(str(p) for p in parts) or (str(next(iter(values.values()))[i]) if values else "")
        names.append(str(name))
    return names, descriptions


def kml(table: gpd.GeoDataFrame, wanted: Wanted, directory: Path, about: About) -> Written:
    """KML 2.2 (always WGS 84 lon/lat): <name> the Chinese name, <description> the attributes, and each attribute
    again as ExtendedData for tools that read it."""
    path = directory / "download.kml"
    attributes = pd.DataFrame(table.drop(columns=table.geometry.name))
    names, descriptions = _kml_texts(attributes)
    out = gpd.GeoDataFrame({"name": names, "description": descriptions,
                            **{c: attributes[c] for c in attributes.columns if c not in ("name", "description")}},
                           geometry=table.geometry.values, crs=table.crs)
    pyogrio.write_dataframe(out, path, layer=wanted.layer.table, driver="KML",
                            geometry_type=geometry_type(out, wanted.layer), promote_to_multi=_promote(wanted.layer),
                            dataset_options={"NameField": "name", "DescriptionField": "description"})
    return Written(path)


def kmz(table: gpd.GeoDataFrame, wanted: Wanted, directory: Path, about: About) -> Written:
    """The KML zipped as doc.kml (KMZ: what Google Earth and Ovital open; the placemarks' descriptions repeat much
    markup, so it is about a tenth of the size)."""
    written = kml(table, wanted, directory, about)
    path = directory / "download.kmz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(written.path, "doc.kml")
    written.path.unlink()
    return Written(path)


# ------------------------------------------------------------------------------------------------------ Shapefile
def _cut(value, limit: int = DBF_TEXT):
    """A text value cut to what a .dbf field holds (254 bytes of UTF-8), at a character boundary."""
    if not isinstance(value, str):
        return value, False
    data = value.encode("utf-8")
    if len(data) <= limit:
        return value, False
    return data[:limit].decode("utf-8", errors="ignore"), True


README = """{title}
{audience}

文件 Files: {base}.shp .shx .dbf .prj (坐标系 CRS) .cpg (UTF-8)
坐标系 CRS: {crs}
生成时间 Generated: {generated_at}
要素数 Features: {count}

Shapefile 字段名最多 10 个字符，以下字段已改名 / Field names of more than 10 characters were shortened:
{renamed}

Shapefile 文本值最多 254 字节，以下字段有值被截断（完整内容见 GeoPackage 或 CSV 下载） /
Text values longer than 254 bytes were cut (the GeoPackage and CSV downloads carry them whole):
{cut}
"""


def shapefile(table: gpd.GeoDataFrame, wanted: Wanted, directory: Path, about: About) -> Written:
    """A .shp.zip (GDAL opens it directly, as does QGIS): the Shapefile's files at the top, UTF-8 (.cpg), the
    CRS as .prj, and README.txt saying which field names were shortened and which values cut."""
    base = wanted.layer.table
    renamed = shapefile_names([c for c in table.columns if c != table.geometry.name])
    out = table.rename(columns=renamed)
    cut: dict[str, int] = {}
    for column in out.columns:
        if out[column].dtype == object and column != out.geometry.name:
            pairs = [_cut(v) for v in out[column]]
            if any(flag for _, flag in pairs):
                cut[column] = sum(flag for _, flag in pairs)
                out[column] = pd.Series([v for v, _ in pairs], index=out.index, dtype=object)
    folder = directory / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(out, folder / f"{base}.shp", driver="ESRI Shapefile",
                            geometry_type=geometry_type(out, wanted.layer), promote_to_multi=_promote(wanted.layer),
                            layer_options={"ENCODING": "UTF-8"})
    originals = {v: k for k, v in renamed.items()}
    readme = README.format(
        title=about.title, audience=about.audience, base=base, crs=about.crs,
        generated_at=about.generated_at,
        count=about.count, renamed="\n".join(f"  {k} -> {v}" for k, v in renamed.items()) or "  (none)",
        cut="\n".join(f"  {originals.get(k, k)} ({k}): {n}" for k, n in cut.items()) or "  (none)")
    path = directory / "download.shp.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for suffix in ("shp", "shx", "dbf", "prj", "cpg"):
            zf.write(folder / f"{base}.{suffix}", f"{base}.{suffix}")
        zf.writestr("README.txt", readme.replace("\n", "\r\n"))  # CRLF: Notepad shows it right too
    shutil.rmtree(folder)
    return Written(path, renamed, {originals.get(k, k): n for k, n in cut.items()})


# ------------------------------------------------------------------------------------------------------ CSV
def csv_columns(layer: Layer, crs_epsg: int | None) -> tuple[str, ...]:
    """The geometry columns the CSV adds after the attributes."""
    wkt = f"_WKT_EPSG_{crs_epsg or 4326}"   # GDAL's CSV driver reads the CRS from the name; CRS84 = EPSG:4326 lon/lat
    if layer.geometry != "Point":
        return (wkt,)
    first, second = ("longitude", "latitude") if crs_epsg in (None, 4490) else ("easting", "northing")
    return first, second, wkt


def csv(table: gpd.GeoDataFrame, wanted: Wanted, directory: Path, about: About) -> Written:
    """UTF-8 with BOM (Excel), formula cells neutralised (csv_export), geometry as WKT; points also as two coordinate
    columns for spreadsheets."""
    path = directory / "download.csv"
    places = decimals(wanted.crs)
    attributes = [c for c in table.columns if c != table.geometry.name]
    geoms = table.geometry.values
    wkt = shapely.to_wkt(np.asarray(geoms), rounding_precision=places, trim=True)
    extra = csv_columns(wanted.layer, wanted.crs.epsg)
    points = len(extra) == 3
    xs = shapely.get_x(np.asarray(geoms)) if points and len(table) else []
    ys = shapely.get_y(np.asarray(geoms)) if points and len(table) else []

    def rows():
        values = table[attributes].astype(object).where(table[attributes].notna(), None).itertuples(index=False)
        for i, row in enumerate(values):
            geometry = [wkt[i]]
            if points:
                x, y = xs[i], ys[i]
                geometry = [None if np.isnan(x) else round(float(x), places),
                            None if np.isnan(y) else round(float(y), places), wkt[i]]
            yield [*row, *geometry]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv_export.write(fh, [*attributes, *extra], rows())
    return Written(path)


WRITERS = {"gpkg": gpkg, "geojson": geojson, "kml": kml, "kmz": kmz, "shp.zip": shapefile, "csv": csv, "fgb": fgb}
