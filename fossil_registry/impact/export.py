"""What a report shows besides its table: the buffer rings as areas, the affected sites' geometries, and the whole
result as a GeoPackage (written with pyogrio to a temporary file; EPSG:4490, one layer per kind of thing)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from .. import features, public_view, store
from ..errors import NotFound
from ..geometry import local_metres
from .screening import Result

SRS = "EPSG:4490"


def rings(result: Result) -> list[tuple[float, BaseGeometry]]:
    """(ring, area) for every ring beyond 0: the ground between that ring and the previous one (the footprint itself
    for the first), buffered in metres around the footprint, simplified to about 1/500 of the ring (for maps)."""
    frame = local_metres(result.footprint.geometry)
    fp = frame.to_metres(result.footprint.geometry)
    inner = frame.to_metres(result.footprint.area) if result.footprint.area is not None else None
    out = []
    for ring in result.settings.rings_m[1:]:
        zone = fp.buffer(ring, quad_segs=8)
        band = zone if inner is None else zone.difference(inner)
        band = band.simplify(max(0.5, ring / 500), preserve_topology=True)
        out.append((ring, frame.to_lonlat(band)))
        inner = zone
    return out


def feature_geometries(conn, result: Result) -> dict[str, tuple[BaseGeometry, BaseGeometry | None]]:
    """code -> (point, shape) as the result may show them: the feature's anchor point (a site's location, the middle
    of a section's line) and what is drawn of it (its boundary; a section without one: its line). Exact results: the
    version each feature had when it was screened; public results the public view (open features only; one whose location is
    protected by its cell centre, nothing drawn)."""
    out: dict[str, tuple[BaseGeometry, BaseGeometry | None]] = {}
    for a in result.affected:
        code = a.get("code")
        if code is None:
            continue
        if result.exact:
            site = features.at_version(conn, code, a["version"])
            out[code] = _drawn(site.location, site.boundary)
        elif a.get(features.GENERALIZED):
            out[code] = (Point(*a["location"]), None)
        else:
            try:
                p = public_view.get_public(conn, code, kind="any")
            except NotFound:  # made hidden or retired since: nothing of it is shown
                continue
            out[code] = _drawn(p.location, p.boundary)
    return out


def _drawn(main: BaseGeometry, boundary: BaseGeometry | None) -> tuple[BaseGeometry, BaseGeometry | None]:
    point = features.anchor_point(main)
    return point, boundary if boundary is not None or point is main else main


def _multi(geom: BaseGeometry) -> MultiPolygon | None:
    polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(polys) if polys else None


def _kinds(geom: BaseGeometry) -> list[BaseGeometry]:
    """The Multi* parts of a footprint (a GeometryCollection of them, or one of them)."""
    return list(geom.geoms) if geom.geom_type == "GeometryCollection" else [geom]


_AFFECTED_FIELDS = ("code", "feature", "name", "name_en", "level", "intersects", "distance_m", "overlap_m2", "overlap_pct",
                "site_area_m2", "ring_m", "risk", "measured_to", "version", "within_km")


def geopackage(result: Result, geometries: dict[str, tuple[BaseGeometry, BaseGeometry | None]]) -> bytes:
    """The result as a GeoPackage: screening (attributes: registry version, time, rings, rule table, source, notes),
    footprint, rings, affected_sites (points), affected_boundaries, nearest (the shortest line to each site)."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    body = result.to_json()
    meta = {"view": body["view"], "registry_version": body["registry_version"], "screened_at": body["screened_at"],
            "title": result.title or "", "screening_id": result.screening_id, "rings_m": json.dumps(body["rings_m"]),
            "rules": json.dumps(body["rules"]), "width_m": result.footprint.width_m,
            "source": json.dumps(body["source"], ensure_ascii=False), "notes": "\n".join(body["notes"]),
            "highest_risk": body["highest_risk"] or ""}
    withheld = [a for a in result.affected if a.get("code") is None]
    if withheld:
        meta["hidden_site_within_km"] = withheld[0]["within_km"]
    layers: list[tuple[str, Any]] = []
    layers.append(("footprint", gpd.GeoDataFrame({"part": [g.geom_type for g in _kinds(result.footprint.geometry)]},
                                                 geometry=_kinds(result.footprint.geometry), crs=SRS)))
    ring_rows = rings(result)
    layers.append(("rings", gpd.GeoDataFrame({"ring_m": [r for r, _ in ring_rows]},
                                             geometry=[_multi(g) for _, g in ring_rows], crs=SRS)))
    shown = [a for a in result.affected if a.get("code") in geometries]
    attrs = {k: [a.get(k) for a in shown] for k in _AFFECTED_FIELDS}
    layers.append(("affected_sites", gpd.GeoDataFrame(attrs, geometry=[geometries[a["code"]][0] for a in shown],
                                                      crs=SRS)))
    drawn = [a for a in shown if geometries[a["code"]][1] is not None]
    for name, types in (("affected_boundaries", ("Polygon", "MultiPolygon")),
                        ("affected_lines", ("LineString", "MultiLineString"))):  # a section's line
        these = [a for a in drawn if geometries[a["code"]][1].geom_type in types]
        layers.append((name, gpd.GeoDataFrame({k: [a.get(k) for a in these] for k in ("code", "name", "ring_m", "risk")},
                                              geometry=[geometries[a["code"]][1] for a in these], crs=SRS)))
    near = [a for a in result.affected if a.get("nearest")]
    layers.append(("nearest", gpd.GeoDataFrame(
        {"code": [a["code"] for a in near], "distance_m": [a["distance_m"] for a in near]},
        geometry=[LineString([a["nearest"]["footprint"], a["nearest"]["site"]]) for a in near], crs=SRS)))
    with tempfile.TemporaryDirectory(prefix="impact-") as tmp:
        path = Path(tmp) / "screening.gpkg"
        pyogrio.write_dataframe(pd.DataFrame([meta]), path, layer="screening", driver="GPKG",
                                dataset_options={"VERSION": store.GPKG_EXCHANGE_VERSION})  # GDAL 3.6 reads it unwarned
        for name, frame in layers:
            if len(frame):
                pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", promote_to_multi=False)
        return path.read_bytes()


def simplified(geom: BaseGeometry, metres: float) -> BaseGeometry:
    """A geometry simplified to about ``metres`` (for drawing on a map)."""
    frame = local_metres(geom)
    return frame.to_lonlat(shapely.simplify(frame.to_metres(geom), metres, preserve_topology=True))


site_geometries = feature_geometries  # the old name (web/impact.py)
