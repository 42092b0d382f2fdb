"""The protection map's data: site points, protection boundaries and search, as GeoJSON for the browser. No Flask.

Anonymous callers' layers are built only from what ``public_view`` returns (sites of ``Sensitivity.GENERALIZED`` at
their grid-cell centre without boundary, hidden sites absent); signed-in staff get the exact current state. So that the
page stays small with 10,000 sites, a view holding more than ``MAX_POINTS`` sites gets counted clusters (one per
~``CLUSTER_PX`` pixels) instead of single sites, and boundaries are simplified for the zoom and left out where they
would be smaller than a few pixels (the site's marker stands for them).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import orjson
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from . import ages, features, public_view, read_model, shared_cache, sites
from .store import read_model as rstore
from .errors import InvalidInput
from .geometry import simplify_for_zoom, simplify_many_for_zoom
from .messages import msg
from .search import Entry, SearchIndex
from .vocab import SiteStatus

MAX_POINTS = 500        # single sites per answer; more in view -> counted clusters
CLUSTER_PX = 80         # size of a counted cluster's grid cell on screen
MAX_BOUNDARIES = 600    # boundaries per answer, largest first
MIN_BOUNDARY_PX = read_model.MIN_BOUNDARY_PX  # boundaries smaller than this on screen are left out (the marker shows)
MAX_ZOOM = read_model.MAX_ZOOM
SEARCH_LIMIT = 20
DECIMALS = 6            # ~0.1 m: coordinates in answers are rounded to this


@dataclass(frozen=True)
class MapSite:
    """One site as a map layer shows it: location (public or exact), popup fields, boundary or None."""

    code: str
    lon: float
    lat: float
    properties: dict[str, Any]
    boundary: BaseGeometry | None
    precision: str  # "exact" | "cell": the centre of a public_view.CELL_DEG grid cell
    extent: tuple[float, float, float, float] | None = field(default=None, compare=False)  # boundary's envelope

    def __post_init__(self):
        if self.boundary is not None and self.extent is None:
            object.__setattr__(self, "extent", self.boundary.bounds)

    def cell_bounds(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat) of the grid cell a site shown at its cell's centre is in."""
        half = public_view.CELL_DEG / 2
        return (round(self.lon - half, 6), round(self.lat - half, 6), round(self.lon + half, 6),
                round(self.lat + half, 6))


@dataclass(frozen=True)
class Filters:
    levels: frozenset[str] = field(default_factory=frozenset)
    periods: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, levels: Iterable[str] = (), periods: Iterable[str] = (), groups: Iterable[str] = ()) -> "Filters":
        """From query values (repeated or comma-separated); unknown values are refused with the allowed ones."""
        def values(raw: Iterable[str], allowed: tuple[str, ...], name: str) -> frozenset[str]:
            out = {v.strip() for item in raw for v in item.split(",") if v.strip()}
            bad = sorted(out - set(allowed))
            if bad:
                raise InvalidInput(msg("map_layers.unknown_known_values", "unknown {name} {bad}; known values are "
                                       "{allowed}", name=name, bad=', '.join(bad), allowed=', '.join(allowed)))
            return frozenset(out)
        return cls(values(levels, sites.LEVELS, "level"), values(periods, sites.PERIODS, "period"),
                   values(groups, sites.FOSSIL_GROUPS, "fossil group"))

    def match(self, props: dict[str, Any]) -> bool:
        return ((not self.levels or props.get("level") in self.levels)
                and (not self.periods or props.get("period") in self.periods)
                and (not self.groups or bool(self.groups & set(props.get("fossil_groups") or ()))))


# The point map (points, counted clusters, protection boundaries, its filters on level, period and fossil group) is the
# sites'; every other registered kind is a layer of its own (feature_layer) and joins the search (feature_entries).
POINT_KIND = sites.SITE


def _popup_fields(kind: features.FeatureKind, code: str, props: dict[str, Any]) -> dict[str, Any]:
    """The code and the kind's map_fields (a list field as a list, empty when unset), with the age's Chinese
    (``age_zh``, from the chart's names; null when a word of it is not known) for a popup on a Chinese page: the layers
    are the same for both languages."""
    fields = {"code": code, **{k: list(props.get(k) or []) if k in kind.list_fields else props.get(k)
                               for k in kind.map_fields}}
    if isinstance(fields.get("age"), str):
        fields["age_zh"] = ages.chinese_age(fields["age"])
    return fields


# Every map view needs every site of its bbox; reading and converting 10,000 sites takes ~0.5 s, so the converted
# lists are kept per registry state (the point kind's stamp), a few registries at most.
_CACHE = shared_cache.Cache(16)  # six kinds per state (sites, public, staff, statistics, two search indexes), shared
# by several app processes through Redis (shared_cache.py)


# The other kinds have their own change stamps and are kept per zoom (up to 2 x 20 small entries per kind and state):
# their own LRU, so they never push the sites' lists of the current state out.
_KIND_CACHE = shared_cache.Cache(48)


def _cached(conn, label: str, compute, kind: features.FeatureKind | None = None):
    """Built from the point kind's features (``kind`` None), kept per state of its tables; else built from ``kind``'s,
    kept per state of that kind's tables. Built from every kind: the key is features.change_stamps (search_index)."""
    if kind is None:
        return _CACHE.get((POINT_KIND.stamp(conn), label), compute)
    return _KIND_CACHE.get((kind.stamp(conn), f"{kind.name}-{label}"), compute)


def _current(conn) -> list[sites.Site]:
    """Every active site's current state (read once per registry state, shared by the layers and the statistics)."""
    return _cached(conn, "sites", lambda: sites.list_current(conn))


def _in_bbox(items: list[MapSite], bbox: tuple[float, float, float, float] | None) -> list[MapSite]:
    """Sites whose location lies in bbox or whose boundary's envelope meets it."""
    if bbox is None:
        return list(items)
    w, s, e, n = bbox
    return [m for m in items if (w <= m.lon <= e and s <= m.lat <= n)
            or (m.extent is not None and m.extent[0] <= e and m.extent[2] >= w and m.extent[1] <= n and m.extent[3] >= s)]


def _map_sites(records: list[tuple]) -> list[MapSite]:
    """MapSites from (code, location, properties, boundary, precision), with coordinates and boundary envelopes
    read in one vectorized call each (one by one they cost more than all the rest of a layer)."""
    if not records:
        return []
    locations = np.array([r[1] for r in records], dtype=object)
    xs, ys = shapely.get_x(locations), shapely.get_y(locations)
    extents = shapely.bounds(np.array([r[3] for r in records], dtype=object))
    return [MapSite(code, float(x), float(y), props, boundary, precision,
                    None if boundary is None else tuple(float(v) for v in extent))
            for (code, _, props, boundary, precision), x, y, extent in zip(records, xs, ys, extents)]


def public_map_sites(conn, bbox: tuple[float, float, float, float] | None = None) -> list[MapSite]:
    """What anonymous callers may see, in bbox: built only from public_view's output (and filtered on the public
    geometry, so bbox probes cannot bisect the true position of a site shown at its cell's centre)."""
    def compute():  # hidden and retired sites are left out in SQL, before decoding (store.sites._PUBLIC_ONLY)
        public = public_view.public_sites(sites.list_current(conn, public_only=True))
        return _map_sites([(p.code, p.location, _popup_fields(POINT_KIND, p.code, p.properties), p.boundary,
                            "cell" if p.generalized else "exact") for p in public])
    return _in_bbox(_cached(conn, "public", compute), bbox)


def staff_map_sites(conn, bbox: tuple[float, float, float, float] | None = None) -> list[MapSite]:
    """Exact current state of every active site in bbox (for callers who may read exact locations)."""
    def compute():
        return _map_sites([(s.code, s.location, {**_popup_fields(POINT_KIND, s.code, s.properties),
                                                  "sensitivity": s.sensitivity}, s.boundary, "exact")
                           for s in _current(conn)])
    return _in_bbox(_cached(conn, "staff", compute), bbox)


def statistics(conn) -> dict[str, Any]:
    """public_view.statistics of the current registry (cached like the layers)."""
    return _cached(conn, "statistics", lambda: public_view.statistics(conn))


def check_zoom(zoom: int) -> int:
    if not 0 <= zoom <= MAX_ZOOM:
        raise InvalidInput(msg("map_layers.zoom_must_between_got", "zoom must be between 0 and {max_zoom} (got "
                               "{zoom})", max_zoom=MAX_ZOOM, zoom=zoom))
    return zoom


degrees_per_pixel = read_model.degrees_per_pixel  # longitude degrees per pixel of 256-px Web Mercator tiles at a zoom


def _round(v: float) -> float:
    return round(float(v), DECIMALS)


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [_round(lon), _round(lat)]}


def site_layer(items: list[MapSite], zoom: int, filters: Filters = Filters(), *,
               max_points: int = MAX_POINTS) -> dict[str, Any]:
    """Site points as a FeatureCollection; ``aggregated`` tells whether they are counted clusters.

    A cluster is built from its members' positions as the caller may see them (public or exact) and carries their
    count, count per level and bounding box, so it says nothing the single points would not."""
    chosen = [s for s in items if filters.match(s.properties)]
    if len(chosen) <= max_points:
        features = [{"type": "Feature", "id": s.code, "geometry": _point(s.lon, s.lat),
                     "properties": {**s.properties, "precision": s.precision}} for s in chosen]
        return {"type": "FeatureCollection", "aggregated": False, "total": len(chosen), "features": features}
    cell = CLUSTER_PX * degrees_per_pixel(check_zoom(zoom))
    cells: dict[tuple[int, int], list[MapSite]] = defaultdict(list)
    for s in chosen:
        cells[(math.floor(s.lon / cell), math.floor(s.lat / cell))].append(s)
    features = []
    for (i, j) in sorted(cells):
        members = cells[(i, j)]
        lons = np.array([s.lon for s in members])
        lats = np.array([s.lat for s in members])
        by_level: dict[str, int] = defaultdict(int)
        for s in members:
            by_level[s.properties.get("level")] += 1
        # The marker sits at the centre of its grid cell, pulled inside its members' box: a position that depends
        # only on the grid and on the members' public positions, never an average that could happen to equal a
        # protected site's true coordinate.
        lon = min(max((i + 0.5) * cell, lons.min()), lons.max())
        lat = min(max((j + 0.5) * cell, lats.min()), lats.max())
        features.append({"type": "Feature", "geometry": _point(lon, lat),
                         "properties": {"cluster": True, "count": len(members), "by_level": dict(by_level),
                                        "bbox": [_round(lons.min()), _round(lats.min()),
                                                 _round(lons.max()), _round(lats.max())]}})
    return {"type": "FeatureCollection", "aggregated": True, "total": len(chosen), "features": features}


_rounded = read_model.rounded  # the geometry (or an array of them) with coordinates rounded to DECIMALS


def boundary_layer(items: list[MapSite], zoom: int, filters: Filters = Filters(), *,
                   max_boundaries: int = MAX_BOUNDARIES) -> dict[str, Any]:
    """Protection boundaries visible at ``zoom``, simplified for it (geometry.simplify_for_zoom), largest first."""
    min_deg = MIN_BOUNDARY_PX * degrees_per_pixel(check_zoom(zoom))
    shown = []
    for s in items:
        if s.boundary is None or not filters.match(s.properties):
            continue
        minx, miny, maxx, maxy = s.extent
        if max(maxx - minx, maxy - miny) >= min_deg:
            shown.append(((maxx - minx) * (maxy - miny), s))
    shown.sort(key=lambda pair: -pair[0])
    chosen = [s for _, s in shown[:max_boundaries]]
    geoms = _rounded(np.array(simplify_many_for_zoom([s.boundary for s in chosen], zoom), dtype=object))
    features = [read_model.boundary_feature(s.code, geom, s.properties, s.precision)
                for s, geom in zip(chosen, geoms) if not geom.is_empty]
    return {"type": "FeatureCollection", "total": len(shown), "truncated": len(shown) > max_boundaries,
            "features": features}


def site_entries(items: Iterable[MapSite]) -> list[Entry]:
    """Search entries of map sites: code, Chinese and English names; a hit answers the site's point feature."""
    kind = POINT_KIND.name
    return [Entry(kind, s.code, (s.properties.get("name") or "", s.properties.get("name_en") or ""),
                  {"type": "Feature", "id": s.code, "geometry": _point(s.lon, s.lat),
                   "properties": {**s.properties, "kind": kind, "precision": s.precision}}) for s in items]


def _other_kinds() -> tuple[features.FeatureKind, ...]:
    """Every registered kind but the point map's: each a layer of its own, in the search by feature_entries."""
    return tuple(k for k in features.kinds() if k is not POINT_KIND)


def search_index(conn, *, exact: bool) -> SearchIndex:
    """The search index of the current registry state for staff (exact) or the public: the point map's sites and the
    features of every other registered kind, built once per state of them all (features.change_stamps)."""
    def compute():
        entries = site_entries(staff_map_sites(conn) if exact else public_map_sites(conn))
        for kind in _other_kinds():
            entries.extend(feature_entries(conn, kind, exact))
        return SearchIndex(entries)
    return _CACHE.get((features.change_stamps(conn), "search-staff" if exact else "search-public"), compute)


def search(source: SearchIndex | list[MapSite], query: str, *, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Features for what was typed (search.SearchIndex: codes, names, pinyin, initials), best first."""
    index = source if isinstance(source, SearchIndex) else SearchIndex(site_entries(source))
    return [entry.payload for entry in index.query(query, limit=limit)]


# ------------------------------------------------------------------------------------------------ other kinds
def _feature_items(conn, kind: features.FeatureKind,
                   exact: bool) -> list[tuple[str, BaseGeometry, dict[str, Any], str]]:
    """(code, geometry, popup fields, precision) of every feature of ``kind`` the caller may see: the public view for
    anonymous callers (open features' geometries with their measures, the others shown as their cell's centre point),
    the exact geometries for staff."""
    def compute():
        if exact:
            return [(f.code, f.location, {**_popup_fields(kind, f.code, f.properties), "kind": kind.name,
                                          **kind.measures(f.location), "sensitivity": f.sensitivity}, "exact")
                    for f in sites.list_current(conn, kind=kind)]
        shown = public_view.public_sites(sites.list_current(conn, public_only=True, kind=kind))
        return [(p.code, p.location, {**_popup_fields(kind, p.code, p.properties), "kind": kind.name,
                                      **({} if p.generalized else kind.measures(p.location))},
                 "cell" if p.generalized else "exact") for p in shown]
    return _cached(conn, "staff" if exact else "public", compute, kind)


def feature_layer(conn, kind: features.FeatureKind, *, exact: bool, bbox: tuple[float, float, float, float] | None,
                  zoom: int) -> dict[str, Any]:
    """The features of ``kind`` in bbox as a FeatureCollection (a section's lines): geometries simplified for ``zoom``
    (computed once per state of the kind's tables, audience and zoom), approximate ones as points."""
    check_zoom(zoom)

    def compute():
        items = _feature_items(conn, kind, exact)
        geoms = np.array([g for _, g, _, _ in items], dtype=object)
        shown = [g if g.geom_type == "Point" else _rounded(simplify_for_zoom(g, zoom)) for g in geoms]
        bounds = shapely.bounds(geoms) if len(geoms) else np.empty((0, 4))
        return [(tuple(b), {"type": "Feature", "id": code, "geometry": mapping(geom),
                            "properties": {**props, "precision": precision}})
                for (code, _, props, precision), geom, b in zip(items, shown, bounds)]
    cached = _cached(conn, f"{'staff' if exact else 'public'}-{zoom}", compute, kind)
    shown = [f for b, f in cached if bbox is None
             or not (b[0] > bbox[2] or b[2] < bbox[0] or b[1] > bbox[3] or b[3] < bbox[1])]
    return {"type": "FeatureCollection", "total": len(shown), "features": shown}


def feature_entries(conn, kind: features.FeatureKind, exact: bool) -> list[Entry]:
    """Search entries of the features of ``kind`` the caller may see (``_feature_items``: for anonymous callers
    public_view's output, so a hidden feature is never in the index): code, Chinese and English names. A hit answers
    one point, as a site's does: the anchor of an exact geometry (the middle of a section's line), or the cell centre
    of a feature shown only as that (never its geometry)."""
    return [Entry(kind.name, code, (props.get("name") or "", props.get("name_en") or ""),
                  {"type": "Feature", "id": code, "geometry": mapping(_rounded(sites.anchor_point(geom))),
                   "properties": {**props, "kind": kind.name, "precision": precision}})
            for code, geom, props, precision in _feature_items(conn, kind, exact)]


# ------------------------------------------------------------------------------------------------ from the read model
# The layers as the web answers them (docs/national-scale.md): the rows in view from the read model's spatial index,
# counted clusters from its per-zoom cells; nothing is built per registry state.
CLUSTER_ROWS_CAP = 50_000  # above AGG_MAX_ZOOM, views holding more rows than this are counted from the coarser cells


def _audience(exact: bool) -> str:
    return read_model.STAFF if exact else read_model.PUBLIC


def _query_filters(filters: Filters) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"status": {str(SiteStatus.ACTIVE)}}
    for name, values in (("level", filters.levels), ("period", filters.periods), ("fossil_groups", filters.groups)):
        if values:
            out[name] = set(values)
    return out


def _stored_sites(rows: list[tuple], boundary: bool = False) -> list[MapSite]:
    """MapSites from (code, lon, lat, map properties, precision[, boundary WKB]) rows."""
    if not boundary:
        return [MapSite(row[0], row[1], row[2], orjson.loads(bytes(row[3])), None, row[4]) for row in rows]
    geoms = shapely.from_wkb(np.array([bytes(row[5]) for row in rows], dtype=object))  # one call for all of them
    extents = shapely.bounds(geoms).tolist() if rows else []
    return [MapSite(row[0], row[1], row[2], orjson.loads(bytes(row[3])), geom, row[4], tuple(extent))
            for row, geom, extent in zip(rows, geoms, extents)]


def map_sites_in_view(conn, *, exact: bool, bbox, filters: Filters = Filters(), limit: int | None = None
                      ) -> list[MapSite]:
    """The point kind's active features whose map point lies in bbox (at most ``limit``), as the caller may see them."""
    return _stored_sites(_map_rows(conn, exact=exact, bbox=bbox, filters=filters, limit=limit))


def _map_rows(conn, *, exact: bool, bbox, filters: Filters, limit: int | None) -> list[tuple]:
    return rstore.select(conn, POINT_KIND.collection, _audience(exact), bbox=bbox, filters=_query_filters(filters),
                         columns="r.code, r.lon, r.lat, r.map_feature, r.precision", limit=limit)


def sites_layer(conn, *, exact: bool, bbox, zoom: int, filters: Filters = Filters(),
                max_points: int = MAX_POINTS) -> dict[str, Any]:
    """site_layer of the sites in view, read from the read model: single points when at most ``max_points`` are in
    view, else counted clusters summed from the per-zoom cells (whole cells: a cluster at the view's edge counts its
    members just outside too), or, above read_model.AGG_MAX_ZOOM and with a fossil-group filter, counted from the
    rows in view. A view whose cells hold more than ``max_points`` members surely inside it is clustered without
    counting its rows (a province at zoom 7: 501 row lookups, on PostGIS a bitmap of every site in it)."""
    check_zoom(zoom)
    cells = None
    if zoom <= read_model.AGG_MAX_ZOOM and not filters.groups:
        cells = _summed_cells(conn, exact, bbox, zoom, filters)
        if _surely_in_view(cells, bbox) > max_points:
            return _cells_layer(cells, zoom)
    in_view = _map_rows(conn, exact=exact, bbox=bbox, filters=filters, limit=max_points + 1)  # the answer if they fit
    if len(in_view) <= max_points:
        return site_layer(_stored_sites(in_view), zoom, filters, max_points=max_points)
    if zoom > read_model.AGG_MAX_ZOOM or filters.groups:
        many = map_sites_in_view(conn, exact=exact, bbox=bbox, filters=filters, limit=CLUSTER_ROWS_CAP + 1)
        if len(many) <= CLUSTER_ROWS_CAP:
            return site_layer(many, zoom, filters, max_points=max_points)
        zoom = min(zoom, read_model.AGG_MAX_ZOOM)
        cells = _summed_cells(conn, exact, bbox, zoom, filters)
    return _cells_layer(cells, zoom)


_EDGE = 1e-6  # a cell's box is of the map points (rounded to 6 decimals), the rows' envelopes are not


def _surely_in_view(cells: dict[tuple[int, int], dict[str, Any]], bbox) -> int:
    """How many members of ``cells`` lie in bbox for sure: those of the cells whose members' box is inside it."""
    if bbox is None:
        return sum(c["count"] for c in cells.values())
    w, s, e, n = bbox
    return sum(c["count"] for c in cells.values() if w + _EDGE <= c["box"][0] and c["box"][2] <= e - _EDGE
               and s + _EDGE <= c["box"][1] and c["box"][3] <= n - _EDGE)


def _summed_cells(conn, exact: bool, bbox, zoom: int, filters: Filters) -> dict[tuple[int, int], dict[str, Any]]:
    """(i, j) -> count, count by level and members' box of the cells of ``zoom`` that meet bbox."""
    w, s, e, n = bbox if bbox is not None else (-180.0, -90.0, 180.0, 90.0)
    i0, j0 = read_model.cell_of(w, s, zoom)
    i1, j1 = read_model.cell_of(e, n, zoom)
    cells: dict[tuple[int, int], dict[str, Any]] = {}
    for i, j, level, count, minx, miny, maxx, maxy in rstore.cells(conn, _audience(exact), zoom, i0, j0, i1, j1,
                                                                   sorted(filters.levels), sorted(filters.periods)):
        c = cells.setdefault((i, j), {"count": 0, "by_level": defaultdict(int), "box": [minx, miny, maxx, maxy]})
        c["count"] += count
        c["by_level"][level or None] += count
        box = c["box"]
        c["box"] = [min(box[0], minx), min(box[1], miny), max(box[2], maxx), max(box[3], maxy)]
    return cells


def _cells_layer(cells: dict[tuple[int, int], dict[str, Any]], zoom: int) -> dict[str, Any]:
    size = read_model.cell_size(zoom)
    features_out = []
    for (i, j) in sorted(cells):
        c = cells[(i, j)]
        minx, miny, maxx, maxy = c["box"]
        lon = min(max((i + 0.5) * size, minx), maxx)  # the cell's centre pulled inside its members' box (site_layer)
        lat = min(max((j + 0.5) * size, miny), maxy)
        features_out.append({"type": "Feature", "geometry": _point(lon, lat),
                             "properties": {"cluster": True, "count": c["count"], "by_level": dict(c["by_level"]),
                                            "bbox": [_round(minx), _round(miny), _round(maxx), _round(maxy)]}})
    return {"type": "FeatureCollection", "aggregated": True, "total": sum(c["count"] for c in cells.values()),
            "features": features_out}


def boundaries_in_view(conn, *, exact: bool, bbox, zoom: int, filters: Filters = Filters()) -> dict[str, Any]:
    """boundary_layer of the boundaries in view, read from the read model: the largest in view (ties by code), each
    feature as the write kept it for the zoom (read_model.boundaries_at: simplified for it, rounded and encoded), so
    that nothing is decoded, simplified or encoded per request (orjson.Fragment: the kept bytes as they are)."""
    min_deg = MIN_BOUNDARY_PX * degrees_per_pixel(check_zoom(zoom))
    rows = rstore.select(conn, read_model.BOUNDARIES, _audience(exact), bbox=bbox, filters=_query_filters(filters),
                         columns="r.fid, r.code", larger_than=min_deg,
                         order="(r.maxx - r.minx) * (r.maxy - r.miny) DESC, r.code", limit=MAX_BOUNDARIES + 1)
    features_out = read_model.boundaries_at(conn, rows[:MAX_BOUNDARIES], zoom)
    return {"type": "FeatureCollection", "total": len(rows), "truncated": len(rows) > MAX_BOUNDARIES,
            "features": [orjson.Fragment(f) for f in features_out]}


def stored_feature_layer(conn, kind: features.FeatureKind, *, exact: bool, bbox, zoom: int) -> dict[str, Any]:
    """feature_layer of ``kind`` read from the read model: the features in view, simplified for ``zoom``."""
    check_zoom(zoom)
    rows = sorted((row for collection in read_model.map_collections(kind)
                   for row in rstore.select(conn, collection, _audience(exact), bbox=bbox,
                                            filters={"status": {str(SiteStatus.ACTIVE)}},
                                            columns="r.code, r.geometry, r.map_feature, r.precision")
                   if row[2] is not None),  # a point collection's row is on the map only for a feature seen as a point
                  key=lambda row: row[0])
    shown = []
    for code, wkb, props, precision in rows:
        geom = shapely.from_wkb(bytes(wkb))
        geom = geom if geom.geom_type == "Point" else _rounded(simplify_for_zoom(geom, zoom))
        shown.append({"type": "Feature", "id": code, "geometry": mapping(geom),
                      "properties": {**orjson.loads(bytes(props)), "precision": precision}})
    return {"type": "FeatureCollection", "total": len(shown), "features": shown}


__all__ = ["MapSite", "Filters", "POINT_KIND", "public_map_sites", "staff_map_sites", "statistics", "site_layer",
           "boundary_layer", "feature_layer", "search", "search_index", "site_entries", "feature_entries",
           "degrees_per_pixel", "MAX_POINTS", "MAX_BOUNDARIES", "sites_layer", "boundaries_in_view",
           "stored_feature_layer", "map_sites_in_view"]
