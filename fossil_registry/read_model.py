"""The read model of the registered features (docs/national-scale.md): what the OGC API, the protection map and search
read, built here, one feature at a time, by the write that changes the feature (in its transaction:
features.versions calls ``refresh``), and stored by store/read_model.py. A read is then an index query plus
concatenation; no read builds a whole collection, and nothing of the registry is held in a process's memory.

Rows for anonymous callers are built only from what ``public_view.public_site`` returns (a hidden or retired feature
has none); rows for staff from the exact state. No Flask.
"""
from __future__ import annotations

import math
import struct
from typing import Any, Sequence

import numpy as np
import orjson
import shapely
from shapely.geometry import mapping

from . import ages, features, public_view, store
from .features import FeatureKind
from .geometry import simplify_many_for_zoom
from .ogcapi import features as ogc
from .ogcapi.crs import CRS84, ServiceCRS
from .search import SUBSTRING, check_query, entry_terms
from .store import read_model as rstore
from .vocab import SiteStatus

PUBLIC, STAFF = "public", "staff"
BOUNDARIES = "boundaries"                 # the OGC collection of the point kind's protection boundaries
AGG_MAX_ZOOM = 12                         # counted clusters are kept per zoom up to this one (docs/national-scale.md)
CLUSTER_PX = 80
DECIMALS = 6
MIN_BOUNDARY_PX = 3                       # the map leaves out boundaries smaller than this on screen (its marker shows)
SIMPLIFIED_BELOW = 16                     # geometry.simplify_for_zoom shows a boundary as it is from this zoom on
MAX_ZOOM = 22                             # the map's deepest zoom
_CRS84 = ServiceCRS(CRS84, None, "CRS84", True)
_ACTIVE = str(SiteStatus.ACTIVE)


def point_kind() -> FeatureKind:
    """The kind drawn as points and counted clusters on the protection map (the sites), with its boundaries."""
    return features.kinds()[0]


def cell_size(zoom: int) -> float:
    """Degrees of longitude of a counted cluster's cell at ``zoom`` (CLUSTER_PX of 256-px Web Mercator tiles)."""
    return CLUSTER_PX * 360.0 / (256.0 * 2.0 ** zoom)


def degrees_per_pixel(zoom: int) -> float:
    """Longitude degrees per pixel of 256-px Web Mercator tiles at ``zoom``."""
    return 360.0 / (256.0 * 2.0 ** zoom)


def cell_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    size = cell_size(zoom)
    return math.floor(lon / size), math.floor(lat / size)


# ------------------------------------------------------------------------------------------------------ building rows
def _popup(kind: FeatureKind, code: str, props: dict[str, Any]) -> dict[str, Any]:
    """The code and the kind's map_fields, with the age's Chinese (``age_zh``) as map_layers gives them."""
    fields = {"code": code, **{k: list(props.get(k) or []) if k in kind.list_fields else props.get(k)
                               for k in kind.map_fields}}
    if isinstance(fields.get("age"), str):
        fields["age_zh"] = ages.chinese_age(fields["age"])
    return fields


def _queryables(props: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name in rstore.QUERYABLES:
        value = props.get(name)
        if name in rstore.MULTI:
            value = "," + ",".join(value or []) + "," if value else None
        out[name] = None if value is None else str(value)
    return out


def _round(v: float) -> float:
    return round(float(v), DECIMALS)


def _row(collection: str, audience: str, code: str, geom, props: dict[str, Any],
         ogc_props: dict[str, Any], precision: str, map_feature: bytes | None = None) -> dict[str, Any]:
    """A row without its encodings yet (_encode adds them, for many rows at once)."""
    return {"collection": collection, "audience": audience, "code": code, **_queryables(props),
            "precision": precision, "map_feature": map_feature, "_geom": geom, "_props": ogc_props}


def _encode(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows' GeoJSON fragments, WKB and envelopes, in one vectorised pass over all their geometries; a boundary's
    map feature for every zoom (_kept_boundaries)."""
    if not rows:
        return rows
    geoms = [r.pop("_geom") for r in rows]
    texts = ogc.geometries_json(geoms, _CRS84)
    wkb = shapely.to_wkb(geoms)
    bounds = shapely.bounds(geoms).tolist()
    for r, text, blob, (minx, miny, maxx, maxy) in zip(rows, texts, wkb, bounds):
        r.update(minx=minx, miny=miny, maxx=maxx, maxy=maxy, geometry=blob,
                 fragment=ogc.feature_fragment(r["code"], text, r.pop("_props")))
    boundaries = [(r, g) for r, g in zip(rows, geoms) if r["collection"] == BOUNDARIES]
    for (r, _), kept in zip(boundaries, _kept_boundaries([r for r, _ in boundaries], [g for _, g in boundaries])):
        r["zooms"] = kept
    return rows


# ------------------------------------------------------------------------------------------------ kept boundaries
# The protection map's boundaries layer (map_layers.boundaries_in_view) answers, at each zoom, the boundaries in view
# at least MIN_BOUNDARY_PX wide or high, each simplified for the zoom (geometry.simplify_for_zoom) and rounded: at a
# million sites, simplifying and encoding 600 of them per request took 50-60 ms. The write keeps each boundary row's
# map feature (GeoJSON, keys sorted as the web encodes them) for every zoom it is shown at, one entry per zoom where it
# differs from the zoom before (a small boundary is the same at every zoom: one entry); a read picks one per row.
# Encoding: entries of (first zoom: 1 byte, length: 4 bytes, the feature), coarsest first; an empty feature: the
# geometry simplified to nothing at that zoom (left out, as boundary_layer leaves it out).
_ENTRY = struct.Struct(">BI")


def shown_from(minx: float, miny: float, maxx: float, maxy: float) -> int | None:
    """The first zoom at which the map shows a boundary of this envelope (the boundaries layer's SQL filter,
    store/read_model._where's ``larger_than``, in the same arithmetic), None: at none up to MAX_ZOOM."""
    for zoom, least in enumerate(_LEAST):
        if maxx - minx >= least or maxy - miny >= least:
            return zoom
    return None


_LEAST = [MIN_BOUNDARY_PX * degrees_per_pixel(zoom) for zoom in range(MAX_ZOOM + 1)]  # as map_layers computes


def boundary_feature(code: str, geometry, properties: dict[str, Any], precision: str) -> dict[str, Any]:
    """One feature of the boundaries layer (the geometry already simplified and rounded)."""
    return {"type": "Feature", "id": code, "geometry": mapping(geometry),
            "properties": {**properties, "precision": precision}}


def rounded(geoms):
    """The geometry (or an array of them: one call for all their coordinates) with coordinates rounded to DECIMALS."""
    return shapely.transform(geoms, lambda xy: np.round(xy, DECIMALS))


def _kept_boundaries(rows: Sequence[dict[str, Any]], geoms: Sequence) -> list[bytes | None]:
    """The kept map features of boundary rows (each with code, envelope, precision and map_feature) of geometries
    ``geoms``: every row simplified for each zoom from the one it is first shown at (shown_from, up to MAX_ZOOM) to
    SIMPLIFIED_BELOW (the geometry as it is, for every zoom from there on) in one vectorised call, rounded in one, encoded where a zoom
    differs from the one before. None: a row shown at no zoom (an empty geometry). Rows of one geometry (a feature's
    staff and public boundary, when the public sees it as it is) are simplified once."""
    first: dict[bytes, tuple[int, int]] = {}  # the geometry's WKB -> (its first row, its first zoom)
    for n, r in enumerate(rows):
        zoom = None if r["minx"] is None else shown_from(r["minx"], r["miny"], r["maxx"], r["maxy"])
        if zoom is not None:
            first.setdefault(r["geometry"], (n, zoom))
    pairs = [(n, zoom) for n, start in first.values() for zoom in range(start, max(start, SIMPLIFIED_BELOW) + 1)]
    if not pairs:
        return [None] * len(rows)
    simplified = rounded(np.array(simplify_many_for_zoom([geoms[n] for n, _ in pairs], [z for _, z in pairs]),
                                  dtype=object))
    wkb = shapely.to_wkb(simplified)
    by_geometry: dict[bytes, list[tuple]] = {}  # (first zoom, geometry, its WKB) where it differs from the zoom before
    for (n, zoom), geom, blob in zip(pairs, simplified, wkb):
        steps = by_geometry.setdefault(rows[n]["geometry"], [])
        if not steps or steps[-1][2] != blob:
            steps.append((zoom, geom, blob))
    out: list[bytes | None] = []
    for r in rows:
        steps = by_geometry.get(r["geometry"])
        if steps is None:
            out.append(None)
            continue
        props, kept = orjson.loads(r["map_feature"]), bytearray()
        for zoom, geom, _ in steps:
            feature = b"" if geom.is_empty else orjson.dumps(boundary_feature(r["code"], geom, props, r["precision"]),
                                                             option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
            kept += _ENTRY.pack(zoom, len(feature)) + feature
        out.append(bytes(kept))
    return out


def kept_boundary(kept: bytes) -> list[tuple[int, bytes]]:
    """(first zoom, feature) of a row's kept boundaries, coarsest first."""
    out, at = [], 0
    while at < len(kept):
        zoom, length = _ENTRY.unpack_from(kept, at)
        at += _ENTRY.size
        out.append((zoom, kept[at:at + length]))
        at += length
    return out


def boundary_at(kept: bytes, zoom: int) -> bytes | None:
    """A row's kept feature for ``zoom`` (b"": left out at that zoom; None: not kept for it, below its first zoom)."""
    found, at = None, 0
    while at < len(kept):
        first, length = _ENTRY.unpack_from(kept, at)
        if first > zoom:
            break
        at += _ENTRY.size
        found = kept[at:at + length]
        at += length
    return found


def boundaries_at(conn, rows: Sequence[tuple], zoom: int) -> list[bytes]:
    """The map features at ``zoom`` of boundary rows (fid, code) in view, in their order, from their kept ones; a
    row without them (a read model built before them, being filled: ensure) is simplified for the request."""
    kept = rstore.boundary_zooms(conn, [fid for fid, _ in rows])
    found = {fid: boundary_at(kept[fid], zoom) if fid in kept else None for fid, _ in rows}
    missing = [fid for fid, feature in found.items() if feature is None]
    if missing:
        fresh = rstore.boundary_rows_of(conn, missing)
        for row, features in zip(fresh, _kept_boundaries(fresh, shapely.from_wkb([row["geometry"] for row in fresh]))):
            found[row["fid"]] = (features and boundary_at(features, zoom)) or b""
    return [found[fid] for fid, _ in rows if found[fid]]


def fill_kept_boundaries(conn, batch: int | None = None) -> int:
    """Fill the kept boundaries of a read model built before them (the migration read_model_boundary_zooms leaves
    them to fill), ``batch`` rows per transaction, resumable; writes meanwhile keep their own rows'. How many rows."""
    n = 0
    while True:
        with store.transaction(conn):
            rstore.lock_rebuild(conn)  # PostGIS: processes starting together fill each batch once
            after = rstore.boundary_zooms_to_fill(conn)
            if after is None:
                return n
            rows = rstore.boundary_rows_after(conn, after, batch or FILL_BATCH)
            kept = _kept_boundaries(rows, shapely.from_wkb([r["geometry"] for r in rows])) if rows else []
            rstore.fill_boundary_zooms(conn, [(r["fid"], k) for r, k in zip(rows, kept) if k is not None],
                                       rows[-1]["fid"] if rows else None)
            n += len(rows)


FILL_BATCH = 5000


def _searchable(row: dict[str, Any], kind: FeatureKind, code: str, geom, popup: dict[str, Any]) -> None:
    """The map's point, the map's properties and the search hit and text of a row (for the map and search)."""
    anchor = features.anchor_point(geom)
    lon, lat = _round(anchor.x), _round(anchor.y)
    row.update(lon=lon, lat=lat, map_feature=orjson.dumps(popup))
    hit_props = {**popup, "kind": kind.name, "precision": row["precision"]}
    row["hit"] = orjson.dumps({"type": "Feature", "id": code, "geometry": {"type": "Point", "coordinates": [lon, lat]},
                               "properties": hit_props})
    terms, haystack = entry_terms(code, (popup.get("name") or "", popup.get("name_en") or ""))
    row["haystack"], row["_terms"] = haystack, terms


def rows_for(feature) -> list[dict[str, Any]]:
    """Every read row of one feature's current state (_rows), encoded."""
    return _encode(_rows(feature))


def _rows(feature) -> list[dict[str, Any]]:
    """Every read row of one feature's current state: staff's (retired ones too, the OGC status queryable selects
    them) and, if public_view shows it, the public's. One geometry type per collection for every audience
    (docs/ogcapi.md): a kind's collection holds only its geometry's type (a section the public sees only as its
    cell's centre has no public row there), its point collection every feature as one point. The map and search read
    one row per feature and audience: the kind's own, or, for a feature the public sees only as a point, the point
    collection's."""
    kind = feature.kind
    points = kind is point_kind()
    rows = []
    staff = _row(kind.collection, STAFF, feature.code, feature.location, feature.properties,
                 ogc.staff_properties(kind, feature), "exact")
    popup = _popup(kind, feature.code, feature.properties)
    popup = {**popup, "sensitivity": feature.sensitivity} if points else \
        {**popup, "kind": kind.name, **kind.measures(feature.location), "sensitivity": feature.sensitivity}
    _searchable(staff, kind, feature.code, feature.location, popup)
    rows.append(staff)
    if kind.point_collection:
        rows.append(_row(kind.point_collection, STAFF, feature.code, features.anchor_point(feature.location),
                         feature.properties, ogc.staff_properties(kind, feature), "exact"))
    if points and feature.boundary is not None:
        rows.append(_row(BOUNDARIES, STAFF, feature.code, feature.boundary, feature.properties,
                         ogc.staff_boundary_properties(feature), "exact", map_feature=staff["map_feature"]))
    shown = public_view.public_site(feature)
    if shown is None:
        return rows
    precision = "cell" if shown.generalized else "exact"
    popup = _popup(kind, shown.code, shown.properties)
    if not points:
        popup = {**popup, "kind": kind.name, **({} if shown.generalized else kind.measures(shown.location))}
    own = shown.location.geom_type == kind.geometry
    public = None
    if own:
        public = _row(kind.collection, PUBLIC, shown.code, shown.location, shown.properties,
                      ogc.public_properties(kind, shown), precision)
        _searchable(public, kind, shown.code, shown.location, popup)
        rows.append(public)
    if kind.point_collection:
        point_row = _row(kind.point_collection, PUBLIC, shown.code, shown.point, shown.properties,
                         ogc.public_properties(kind, shown), precision)
        if not own:
            _searchable(point_row, kind, shown.code, shown.point, popup)
        rows.append(point_row)
    if points and public is not None and shown.boundary is not None:
        rows.append(_row(BOUNDARIES, PUBLIC, shown.code, shown.boundary, shown.properties,
                         ogc.public_boundary_properties(shown), precision, map_feature=public["map_feature"]))
    return rows


def map_collections(kind: FeatureKind) -> tuple[str, ...]:
    """The read collections that hold a kind's map and search rows: its own, and its point collection (the features
    the public sees only as points)."""
    return (kind.collection, kind.point_collection) if kind.point_collection else (kind.collection,)


def _terms(row: dict[str, Any]) -> list[tuple]:
    return [(term, tier, int(is_code)) for term, tier, is_code in row.get("_terms") or ()]


def _clustered(row: dict[str, Any]) -> bool:
    """Whether a row counts in the protection map's clusters: the point kind's active features."""
    return row["collection"] == point_kind().collection and row.get("status") == _ACTIVE and row.get("lon") is not None


# ------------------------------------------------------------------------------------------------------ maintaining
def refresh(conn, code: str, new) -> int:
    """Bring one feature's read rows to its new state ``new`` (inside the write's transaction); the number of rows
    written and removed, of every read table: bounded, whatever the registry's size. Rows the feature keeps (same
    collection and audience) are updated in place, only what changed (_replace); the map's cells follow its point
    (_move_member). While a build is under way (rebuild), only a feature it has passed already; the build reads the
    others' state later."""
    if not rstore.is_built(conn):
        if not rstore.building(conn):
            return 0  # built in full at its first use (ensure), from the state this transaction commits
        rstore.lock_rebuild(conn)  # PostGIS: after the build's batch in progress, before its next
        if not rstore.passed(conn, new.kind.collection, code):
            return 0
    old = rstore.rows_of(conn, code)
    new = features.current(conn, code, kind=new.kind)  # as every read of the store gives it (field order included)
    rows = rows_for(new)
    touched = _replace(conn, old, rows)
    left, came = _members(old), _members(rows)
    moved = sorted(a for a in {*left, *came} if left.get(a) != came.get(a))
    cells = rstore.cells_at(conn, [_cell_key(a, left[a], zoom) for a in moved if a in left
                                   for zoom in range(AGG_MAX_ZOOM + 1)])
    for audience in moved:
        touched += _move_member(conn, cells, audience, left.get(audience), came.get(audience))
    return touched


def _cell_key(audience: str, member: tuple, zoom: int) -> tuple:
    """(audience, zoom, i, j, level, period) of the cell of a member (level, period, lon, lat) at ``zoom``."""
    return (audience, zoom, *cell_of(member[2], member[3], zoom), member[0], member[1])


def _replace(conn, stored: list[dict[str, Any]], rows: list[dict[str, Any]]) -> int:
    """Store a feature's new rows over its ``stored`` ones: a row of a collection and audience it had already is
    rewritten in place (its columns, box, text and terms only where they differ), the others are removed or added."""
    kept = {(r["collection"], r["audience"]): r for r in stored}
    fresh, touched = [], 0
    for row in rows:
        was = kept.pop((row["collection"], row["audience"]), None)
        if was is None:
            fresh.append(row)
        else:
            touched += rstore.update_row(conn, was, row, None if _same_terms(was, row) else _terms(row))
    touched += rstore.delete_rows(conn, kept.values())
    return touched + rstore.insert_rows(conn, fresh, _terms)


def _same_terms(stored: dict[str, Any], row: dict[str, Any]) -> bool:
    """Whether a stored row's search terms are those of the feature's new ``row``: a row's terms are made from the
    feature's code and its map properties' names (_searchable), which its map_feature holds; a row without a search
    hit has none."""
    if (stored["hit"] is None) != (row.get("hit") is None):
        return False
    return row.get("hit") is None or stored["map_feature"] == row["map_feature"]


def _members(rows) -> dict[str, tuple]:
    """audience -> (level, period, lon, lat) of the feature's point counted in the map's clusters."""
    return {r["audience"]: (r["level"] or "", r["period"] or "", r["lon"], r["lat"]) for r in rows if _clustered(r)}


def _move_member(conn, cells: dict[tuple, tuple], audience: str, old: tuple | None, new: tuple | None) -> int:
    """A feature's point in the map's cells of ``audience`` moved from ``old`` to ``new`` ((level, period, lon, lat);
    None: it left them, or came): per zoom, finest first (a coarser box may be recomputed from its four finer cells),
    one cell updated where it stays in its cell, else one left and one joined. ``cells``: the cells it was in, as
    they were (rstore.cells_at)."""
    touched = 0
    for zoom in range(AGG_MAX_ZOOM, -1, -1):
        was = old and _cell_key(audience, old, zoom)
        now = new and _cell_key(audience, new, zoom)
        if was and was == now:
            touched += _shift(conn, was, cells.get(was), old[2:], new[2:])
            continue
        if was:
            touched += _shift(conn, was, cells.get(was), old[2:], None)
        if now:
            rstore.add_to_cells(conn, [(*now, *new[2:])])
            touched += 1
    return touched


def _shift(conn, key: tuple, found: tuple | None, point: tuple[float, float], to: tuple[float, float] | None) -> int:
    """One member of a cell moved inside it from ``point`` to ``to`` (None: it left the cell). The members' box
    stays exact (the map places a cluster inside it and shows it; a box kept loose would still show where a member
    was after it was hidden or generalized): ``found``, the cell's (n, box) before, gives the new box with the two
    points where they tell (_box_after), else it is recomputed from the four cells of the next zoom or, at the
    finest, from the rows in the cell."""
    if found is None:
        return 0
    n, box = found[0], tuple(found[1:])
    fewer = 0 if to is not None else 1
    if n <= fewer:
        rstore.delete_cell(conn, key)
        return 1
    after = _box_after(box, n, point, to)
    if after is None and key[1] == AGG_MAX_ZOOM:
        after = _members_box(conn, key) or box
    if after is None:
        if fewer:
            rstore.set_cell(conn, key, fewer=fewer, box=None)
        rstore.box_from_children(conn, key)
        return 1
    if not fewer and after == box:
        return 0
    rstore.set_cell(conn, key, fewer=fewer, box=after)
    return 1


def _box_after(box: tuple, n: int, point: tuple[float, float], to: tuple[float, float] | None) -> tuple | None:
    """The box of a cell's ``n`` members after one of them moved from ``point`` to ``to`` (None: it left), from the
    box alone where it tells (None where only the other members can)."""
    xs = _extent_after(box[0], box[2], n, point[0], None if to is None else to[0])
    ys = _extent_after(box[1], box[3], n, point[1], None if to is None else to[1])
    return None if xs is None or ys is None else (xs[0], ys[0], xs[1], ys[1])


def _extent_after(lo: float, hi: float, n: int, old: float, new: float | None) -> tuple[float, float] | None:
    """[lo, hi], the extent on one axis of a cell's ``n`` members, after one moved from ``old`` to ``new`` (None:
    it left): the only member's is its own; of two, the other one lies at the other end; of more, an end it did not
    lie on stays (widened to its new place), an end it moved beyond or stayed on is its new place, and an end it left
    inward only the members can tell (None)."""
    if n == 1:
        return None if new is None else (new, new)
    if n == 2 and old in (lo, hi):
        other = hi if old == lo else lo
        return (other, other) if new is None else (min(other, new), max(other, new))
    if old == lo:
        low = new if new is not None and new <= old else None
    else:
        low = lo if new is None else min(lo, new)
    if old == hi:
        high = new if new is not None and new >= old else None
    else:
        high = hi if new is None else max(hi, new)
    return None if low is None or high is None else (low, high)


def _members_box(conn, key: tuple) -> tuple | None:
    """The box of a finest cell's members, from the rows in the cell (the R-tree)."""
    audience, zoom, i, j, level, period = key
    size = cell_size(zoom)
    filters = {name: {value} for name, value in (("level", level), ("period", period)) if value}
    members = rstore.select(conn, point_kind().collection, audience, columns="r.lon, r.lat, r.level, r.period",
                            bbox=(i * size, j * size, (i + 1) * size, (j + 1) * size), statuses=(_ACTIVE,),
                            filters=filters or None)
    inside = [(x, y) for x, y, lv, pd in members
              if (lv or "") == level and (pd or "") == period and cell_of(x, y, zoom) == (i, j)]
    if not inside:
        return None
    xs, ys = [x for x, _ in inside], [y for _, y in inside]
    return min(xs), min(ys), max(xs), max(ys)


BATCH = 2000  # features per transaction of a build


def rebuild(conn, *, batch: int = BATCH, resume: bool = False) -> int:
    """Build the whole read model from the current state (a registry migrated from before it, or copied): the
    features of each kind in code order, ``batch`` per transaction (their states read in one query, their rows
    written by a few executemany, their clusters' cells summed in memory and added to the stored ones), the progress
    noted in the same transaction. Writes meanwhile refresh the features already passed (refresh), so the build may
    take its time and stop anywhere: ``resume`` continues a build under way (several processes starting together
    share it, batch by batch) instead of beginning again. The number of features written by this call."""
    with store.transaction(conn):
        rstore.lock_rebuild(conn)  # PostGIS: app processes starting together begin it once
        if resume and rstore.is_built(conn):
            return 0
        if not (resume and rstore.building(conn)):
            rstore.begin_build(conn)
    with rstore.bulk(conn):
        return _build(conn, batch)


def _build(conn, batch: int) -> int:
    n = 0
    for kind in features.kinds():
        while True:
            with store.transaction(conn):
                rstore.lock_rebuild(conn)
                if not rstore.building(conn):  # finished by another process, or forgotten: ensure() decides
                    return n
                last, done = rstore.progress(conn, kind.collection)
                if done:
                    break
                states = features.list_current(conn, include_retired=True, kind=kind, after=last, limit=batch)
                if not states:
                    rstore.set_progress(conn, kind.collection, None)
                    break
                _write_batch(conn, states)
                rstore.set_progress(conn, kind.collection, states[-1].code)
                n += len(states)
    with store.transaction(conn):
        rstore.lock_rebuild(conn)
        if rstore.building(conn):
            rstore.mark_built(conn, store.utc_now())
            rstore.analyze(conn)
    return n


def _write_batch(conn, states: list) -> None:
    """The read rows of some features, and their active points' cluster cells summed per cell."""
    rows = _encode([r for f in states for r in _rows(f)])
    rstore.insert_rows(conn, rows, _terms)
    cells: dict[tuple, list] = {}
    for r in rows:
        if not _clustered(r):
            continue
        lon, lat, rest = r["lon"], r["lat"], (r["level"] or "", r["period"] or "")
        for zoom in range(AGG_MAX_ZOOM + 1):
            key = (r["audience"], zoom, *cell_of(lon, lat, zoom), *rest)
            a = cells.get(key)
            if a is None:
                cells[key] = [1, lon, lat, lon, lat]
            else:
                a[0] += 1
                a[1], a[2], a[3], a[4] = min(a[1], lon), min(a[2], lat), max(a[3], lon), max(a[4], lat)
    rstore.merge_cells(conn, [(*key, *value) for key, value in cells.items()])


def ensure(conn) -> bool:
    """Build the read model if this registry has none yet, or finish a build under way (True if built now); fill the
    kept boundaries of one built before them."""
    built = False
    if not rstore.is_built(conn):
        rebuild(conn, resume=True)
        built = True
    if rstore.boundary_zooms_to_fill(conn) is not None:
        fill_kept_boundaries(conn)
    return built


# ------------------------------------------------------------------------------------------------------ search
def search(conn, text: str, *, exact: bool, limit: int = 20) -> list[dict[str, Any]]:
    """Features for what was typed, best first, with search.SearchIndex's tiers (exact code, prefix of a code or
    name in Chinese, English or pinyin, pinyin initials, substring) from the read model's indexes."""
    folded, packed = check_query(text)
    if not packed:
        return []
    audience = STAFF if exact else PUBLIC
    ranked = rstore.search_prefix(conn, audience, sorted({folded, packed}), exact_code=folded, scan=PREFIX_SCAN,
                                  limit=limit)
    if len(ranked) < limit:  # few prefix hits: look inside names (the trigram index)
        collections = tuple(c for k in features.kinds() for c in map_collections(k))
        seen = {row_id for row_id, _ in ranked}
        inside: set[int] = set()
        for needle in {folded, packed} if len(packed) > 1 else {folded}:
            inside.update(rstore.search_substring(conn, audience, needle, limit=limit, collections=collections))
        found = rstore.hits(conn, list(inside - seen))
        ranked += [(row_id, SUBSTRING) for row_id in sorted(found, key=lambda r: found[r][1])]
        ranked = ranked[:limit]
    found = rstore.hits(conn, [row_id for row_id, _ in ranked])
    return [orjson.loads(bytes(found[row_id][2])) for row_id, _ in ranked if row_id in found]


PREFIX_SCAN = 2000  # prefix terms read per key: a prefix matching more ranks those by term, then code


features.set_read_model(refresh)

__all__ = ["refresh", "rebuild", "ensure", "search", "rows_for", "cell_of", "cell_size", "AGG_MAX_ZOOM", "PUBLIC", "STAFF",
           "BOUNDARIES", "point_kind", "map_collections", "MIN_BOUNDARY_PX", "degrees_per_pixel", "boundary_feature",
           "rounded", "boundaries_at", "kept_boundary", "boundary_at", "shown_from", "fill_kept_boundaries"]
