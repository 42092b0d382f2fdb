"""A layer as a table: the features a caller may download (the OGC API's record builders: the public view for
anonymous callers), selected by bbox and filters, as a GeoDataFrame with fixed, typed columns in the CRS asked for.
No Flask."""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import box

from ..ogcapi import ServiceCRS
from ..ogcapi.crs import STORAGE_EPSG
from .catalog import Layer, Wanted

LIST_SEPARATOR = ";"          # multi-valued properties (fossil groups) in one text column, as in the demo CSV
DECIMALS_DEGREES = 7          # ~1 cm, as the feature service
DECIMALS_METRES = 3


_READ: OrderedDict[tuple, tuple[list, list, list]] = OrderedDict()
_READ_SIZE = 4
_LOCK = threading.Lock()


def layer_records(conn, layer: Layer, public: bool) -> tuple[list[str], list, list[dict[str, Any]]]:
    """The collection's records for an audience (the OGC API's builders: the public view for anonymous callers), kept
    per layer state: the public view of 10,000 sites takes over a second to build, and every download of an area or
    a filter starts from it. Call inside a read snapshot, so that the stamp and the records are of one state. The
    lists are shared: never change them."""
    key = (layer.collection.stamp_for(conn, public), layer.id, public)
    with _LOCK:
        if key in _READ:
            _READ.move_to_end(key)
            return _READ[key]
    read = layer.collection.records(conn, public, None)
    with _LOCK:
        _READ[key] = read
        while len(_READ) > _READ_SIZE:
            _READ.popitem(last=False)
    return read


def records(conn, wanted: Wanted) -> tuple[list[str], list, list[dict[str, Any]]]:
    """(ids, geometries in CGCS2000 lon/lat, properties) of the features the download holds, sorted by id: the
    collection's records for the caller (public or exact), then the bbox and the filters."""
    ids, geoms, props = layer_records(conn, wanted.layer, wanted.public)
    keep = np.ones(len(ids), dtype=bool)
    if wanted.bbox is not None and len(ids):
        present = np.array([g is not None for g in geoms], dtype=bool)
        arr = np.array([g if g is not None else shapely.Point() for g in geoms], dtype=object)
        keep &= present & shapely.intersects(arr, box(*wanted.bbox))
    for name, values in wanted.filters.items():
        keep &= np.fromiter((_matches(p.get(name), values) for p in props), dtype=bool, count=len(props))
    order = sorted(np.flatnonzero(keep), key=lambda i: ids[i])
    return [ids[i] for i in order], [geoms[i] for i in order], [props[i] for i in order]


def _matches(value, wanted: set[str]) -> bool:
    if isinstance(value, (list, tuple)):
        return any(str(v) in wanted for v in value)
    return value is not None and str(value) in wanted


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _column(layer: Layer, name: str, values: list[Any]) -> pd.Series:
    if name in layer.ints:
        return pd.Series(values, dtype="Int64" if any(v is None for v in values) else "int64")
    if name in layer.floats:
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    if name in layer.bools:
        return pd.Series([bool(v) for v in values], dtype="bool")
    return pd.Series([v if v is None or type(v) is str else _text(v) for v in values], dtype="object")


def frame(layer: Layer, public: bool, geoms: list, props: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """The layer's table in CGCS2000 lon/lat: its fixed columns in order (any property a record has beyond them
    follows, so that a new field is never silently left out), one row per feature."""
    columns = list(layer.columns(public))
    for p in props:
        columns += [k for k in p if k not in columns]
    data = {name: _column(layer, name, [p.get(name) for p in props]) for name in columns}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=f"EPSG:{STORAGE_EPSG}"),
                            crs=f"EPSG:{STORAGE_EPSG}")


class _NoEpsgCode(CRS):
    """A CRS that has no EPSG code and says so at once: the file writers (pyogrio) ask every table's CRS for its EPSG
    code, and for OGC:CRS84 PROJ answers by searching its whole database (0.1-0.4 s of CPU per file written, more than
    writing a province's sites as GeoJSON). The answer is the same None; the writer then names the CRS by its WKT."""

    def to_epsg(self, min_confidence: int = 70) -> None:
        return None


_CRS84 = _NoEpsgCode("OGC:CRS84")


def in_crs(table: gpd.GeoDataFrame, crs: ServiceCRS) -> gpd.GeoDataFrame:
    """The table in ``crs`` (coordinates x = longitude/easting, y = latitude/northing, as every file format writes
    them). CRS84 and CGCS2000 share coordinates here: CGCS2000 agrees with WGS 84 to a few centimetres, and PROJ has
    no better transformation between them (the feature service does the same)."""
    if crs.epsg is None:
        return table.set_crs(_CRS84, allow_override=True)
    if crs.epsg == STORAGE_EPSG:
        return table
    return table.to_crs(epsg=crs.epsg)


def decimals(crs: ServiceCRS) -> int:
    """Decimals of the text formats' coordinates: ~1 cm, as the feature service writes them."""
    return DECIMALS_DEGREES if crs.epsg in (None, STORAGE_EPSG) else DECIMALS_METRES
