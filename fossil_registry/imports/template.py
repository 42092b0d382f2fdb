"""The template file an import offers to fill in: one column per field the import reads, headed with a name the
import recognises (a Chinese one from :data:`.fields.TARGETS`), and one example row written as surveyors write it
(Chinese vocabulary labels, longitude/latitude in CGCS2000). As CSV for Excel (UTF-8 with a byte order mark, so that
Excel shows the Chinese) and as a GeoPackage point layer in EPSG:4490 for GIS offices."""
from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from shapely.geometry import Point

from ..vocab import FossilGroup, Level, Period, Sensitivity, SurveyMethod
# (field, column header): every header is one of the names fields.TARGETS lists for its field (tests/test_import_template.py)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "化石点编号"), ("name", "化石点名称"), ("name_en", "英文名称"), ("county", "县区"),
    ("level", "保护级别"), ("sensitivity", "公开级别"), ("period", "地质时代"), ("age", "阶"),
    ("formation", "含化石层位"), ("fossil_groups", "化石门类"), ("description", "描述"),
    ("public_description", "公开说明"), ("established", "公布日期"), ("method", "测量方法"),
    ("accuracy_m", "定位精度(米)"), ("survey_date", "调查日期"), ("x", "经度"), ("y", "纬度"),
)
EXAMPLE_LON, EXAMPLE_LAT = 105.6312, 25.7156


def example_row() -> dict[str, str]:
    """The example: a new site (no code: the registry gives one), its values in the vocabularies' Chinese labels."""
    return {"code": "", "name": "示例化石点（请替换或删除本行）", "name_en": "Example site", "county": "关岭布依族苗族自治县",
            "level": Level.GENERAL.label.zh, "sensitivity": Sensitivity.GENERALIZED.label.zh,
            "period": Period.TRIASSIC.label.zh, "age": "卡尼期", "formation": "小凹组",
            "fossil_groups": "、".join(g.label.zh for g in (FossilGroup.CRINOIDS, FossilGroup.ICHTHYOSAURS)),
            "description": "路边剖面，海百合化石密集", "public_description": "三叠纪海百合化石产地",
            "established": "2024-06-30", "method": SurveyMethod.RTK.label.zh, "accuracy_m": "0.05",
            "survey_date": "2025-04-18", "x": f"{EXAMPLE_LON}", "y": f"{EXAMPLE_LAT}"}


def headers() -> list[str]:
    return [header for _, header in COLUMNS]


def csv_bytes() -> bytes:
    """The CSV template (UTF-8 with BOM, CRLF line ends: what Excel opens and saves)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers())
    row = example_row()
    writer.writerow([row[field] for field, _ in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def geopackage_bytes() -> bytes:
    """The GeoPackage template: a point layer ``sites`` in CGCS2000 (EPSG:4490) with the same columns but the
    coordinates (the point is the location)."""
    import geopandas as gpd   # with GDAL's writer: loaded by the first template asked for, not by the server's start
    import pyogrio

    row = example_row()
    record = {header: row[field] for field, header in COLUMNS if field not in ("x", "y")}
    frame = gpd.GeoDataFrame([record], geometry=[Point(EXAMPLE_LON, EXAMPLE_LAT)], crs="EPSG:4490")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sites-template.gpkg"
        pyogrio.write_dataframe(frame, path, layer="sites", driver="GPKG")
        return path.read_bytes()

