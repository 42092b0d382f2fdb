"""The feature collections of the service and their indexes for what is not in the read model (markers, inspections,
patrol tracks, and past states asked for with datetime): each such collection is read once per registry state,
audience (public or staff) and CRS into an index of ready-made GeoJSON fragments (one bytes object per feature), with
the arrays a query filters on (ids, bounding boxes, queryable properties). A request then filters with numpy, pages by
keyset on the sorted feature ids and joins the fragments. The registered features' current state (sites, boundaries,
sections) is answered from the read model instead (stored.py, docs/national-scale.md), from rows built with the
property builders below. Anonymous records are built from public_view's output only."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from .. import features, public_view, shared_cache
from ..messages import Label
from ..vocab import Condition, MarkerCondition, MarkerKind, Threat
from ..store import inspections as istore
from ..store import map_layers as stamps
from ..store import markers as mstore
from ..store import utc_now
from .crs import STORAGE_EPSG, ServiceCRS, to_crs

DECIMALS_DEGREES = 7   # ~1 cm
DECIMALS_METRES = 3


@dataclass
class Index:
    """One collection for one audience and CRS: features sorted by id."""

    ids: np.ndarray                      # str, sorted
    fragments: list[bytes]               # GeoJSON Feature per id
    bounds: np.ndarray                   # (n, 4) lon/lat min_x, min_y, max_x, max_y (NaN: no geometry)
    values: dict[str, np.ndarray]        # queryable (and date) -> object array (lists for multi-valued properties)
    extent: tuple[float, float, float, float] | None = None
    masks: dict[tuple, np.ndarray] = field(default_factory=dict)  # (property, values) -> matching features

    def __len__(self) -> int:
        return len(self.fragments)


# ------------------------------------------------------------------------------------------------------ building
def _decimals(crs: ServiceCRS) -> int:
    return DECIMALS_DEGREES if crs.epsg in (None, STORAGE_EPSG) else DECIMALS_METRES


def geometries_json(geoms: list[BaseGeometry | None], crs: ServiceCRS) -> list[bytes]:
    """GeoJSON geometry objects (bytes; b"null" for none) in ``crs`` and its axis order, rounded, in one vectorised
    pass: a transform of every coordinate at once, then shapely's GeoJSON writer."""
    arr = np.array(geoms, dtype=object)
    present = np.array([g is not None for g in geoms], dtype=bool)
    out = [b"null"] * len(geoms)
    if not present.any():
        return out
    decimals = _decimals(crs)

    def project(xy: np.ndarray) -> np.ndarray:
        a, b = to_crs(xy[:, 0], xy[:, 1], crs)
        return np.round(np.column_stack([a, b]), decimals)

    moved = shapely.transform(arr[present], project)
    texts = shapely.to_geojson(moved)
    for i, text in zip(np.nonzero(present)[0], texts):
        out[i] = text.encode()
    return out


def feature_fragment(fid: str, geometry: bytes, properties: dict[str, Any]) -> bytes:
    return (b'{"type":"Feature","id":' + orjson.dumps(fid) + b',"geometry":' + geometry + b',"properties":'
            + orjson.dumps(properties) + b"}")


def _bounds(geoms: list[BaseGeometry | None]) -> np.ndarray:
    arr = np.array([g if g is not None else shapely.Point() for g in geoms], dtype=object)
    return shapely.bounds(arr) if len(arr) else np.empty((0, 4))


def build_index(ids: list[str], geoms: list[BaseGeometry | None], properties: list[dict[str, Any]], crs: ServiceCRS,
                columns: tuple[str, ...]) -> Index:
    order = sorted(range(len(ids)), key=lambda i: ids[i])
    ids = [ids[i] for i in order]
    geoms = [geoms[i] for i in order]
    properties = [properties[i] for i in order]
    geometry = geometries_json(geoms, crs)
    fragments = [feature_fragment(fid, g, p) for fid, g, p in zip(ids, geometry, properties)]
    bounds = _bounds(geoms)
    values = {}
    for name in columns:
        column = np.empty(len(ids), dtype=object)
        column[:] = [p.get(name) for p in properties]
        values[name] = column
    finite = bounds[np.isfinite(bounds).all(axis=1)] if len(bounds) else bounds
    extent = None
    if len(finite):
        extent = (float(finite[:, 0].min()), float(finite[:, 1].min()), float(finite[:, 2].max()),
                  float(finite[:, 3].max()))
    return Index(np.array(ids, dtype=str), fragments, bounds, values, extent)


# ------------------------------------------------------------------------------------------------------ collections
# The collections of the registered kinds of feature come from the kinds (queryables, title, description, stamp).
BOUNDARY_QUERYABLES = ("level", "status")
INSPECTION_QUERYABLES = ("site", "condition")
TRACK_QUERYABLES = ("site",)
MARKER_QUERYABLES = ("feature", "kind", "last_condition")


def public_properties(kind: features.FeatureKind, p: public_view.PublicSite) -> dict[str, Any]:
    """The OGC properties of a feature as public_view shows it (a feature of protected location as its cell's centre
    point, without the figures of its main geometry)."""
    return {"code": p.code, **p.properties, **({} if p.generalized else kind.measures(p.location)),
            "version": p.version, features.GENERALIZED: p.generalized}


def staff_properties(kind: features.FeatureKind, s) -> dict[str, Any]:
    """The OGC properties of a feature's exact state (current or past)."""
    return {"code": s.code, **s.properties, **kind.measures(s.location), "version": s.version,
            "updated_at": s.updated_at}


def feature_records(kind: features.FeatureKind, as_points: bool = False) -> Callable[..., tuple[list, list, list]]:
    """The records of a kind's collection: (ids, geometries, properties); for anonymous callers the public view
    (current state only), exact current or past states for staff (retired ones too: the status queryable selects
    them). One geometry type for every audience: the kind's (a feature the public sees only as a point is left out of
    a collection of lines), or with ``as_points`` the kind's point collection (every feature as one point)."""
    def records(conn, public: bool, when: str | None = None) -> tuple[list, list, list]:
        if public:
            shown = public_view.public_sites(features.list_current(conn, public_only=True, kind=kind))
            if not as_points:
                shown = public_view.of_geometry(shown, kind.geometry)
            return ([p.code for p in shown], [p.point if as_points else p.location for p in shown],
                    [public_properties(kind, p) for p in shown])
        states = features.all_as_of(conn, when, kind=kind) if when else \
            features.list_current(conn, include_retired=True, kind=kind)
        return ([s.code for s in states],
                [features.anchor_point(s.location) if as_points else s.location for s in states],
                [staff_properties(kind, s) for s in states])
    return records


_BOUNDARY_FIELDS = ("name", "name_en", "level", "status")


def public_boundary_properties(p: public_view.PublicSite) -> dict[str, Any]:
    return {"code": p.code, **{k: p.properties.get(k) for k in _BOUNDARY_FIELDS}, "version": p.version}


def staff_boundary_properties(s) -> dict[str, Any]:
    return {"code": s.code, **{k: s.properties.get(k) for k in _BOUNDARY_FIELDS}, "sensitivity": s.sensitivity,
            "version": s.version}


def boundary_records(conn, public: bool, when: str | None = None) -> tuple[list, list, list]:
    """Protection boundaries: for anonymous callers only those the public view shows (open sites)."""
    if public:
        shown = [p for p in public_view.public_sites(features.list_current(conn, public_only=True)) if p.boundary]
        return ([p.code for p in shown], [p.boundary for p in shown], [public_boundary_properties(p) for p in shown])
    states = features.all_as_of(conn, when) if when else features.list_current(conn, include_retired=True)
    states = [s for s in states if s.boundary is not None]
    return ([s.code for s in states], [s.boundary for s in states], [staff_boundary_properties(s) for s in states])


def marker_records(conn, public: bool, when: str | None = None) -> tuple[list, list, list]:
    """Protection markers: for anonymous callers only those of open, active sites and sections (decided in SQL)."""
    rows = mstore.public_markers(conn) if public else mstore.all_markers(conn)
    return ([f"{r['fid']}" for r in rows], [r["point"] for r in rows],
            [{"id": r["fid"], "feature": r["feature_code"], "kind": r["kind"], "inscription": r["inscription"],
              "inscription_en": r["inscription_en"], "erected_on": r["erected_on"],
              "last_condition": r["last_condition"], "last_checked_on": r["last_checked_on"]} for r in rows])


def inspection_records(conn) -> tuple[list, list, list]:
    rows = istore.all_inspections(conn)
    return ([f"{r['fid']}" for r in rows], [r["point"] for r in rows],
            [{"id": r["fid"], "site": r["code"], "inspected_on": r["inspected_on"], "condition": r["condition"],
              "threats": r["threats"], "inspectors": r["inspectors"], "photo_count": r["photo_count"],
              "site_version": r["site_version"], "recorded_by": r["recorded_by"]} for r in rows])


def track_records(conn) -> tuple[list, list, list]:
    rows = istore.all_tracks(conn)
    return ([f"{r['fid']}" for r in rows], [r["geom"] for r in rows],
            [{"id": r["fid"], "site": r["code"], "inspection_id": r["inspection_id"],
              "inspected_on": r["inspected_on"], "name": r["name"], "length_m": r["length_m"],
              "point_count": r["point_count"]} for r in rows])


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    staff_only: bool
    queryables: tuple[str, ...]
    geometry: str                                   # GeoJSON geometry type
    records: Callable[..., tuple[list, list, list]]
    stamp: Callable[[Any], tuple]
    temporal: bool                                  # datetime selects past states (sites, boundaries, sections)
    dated: bool = False                             # datetime selects records by their date (inspections, tracks)
    # the stamp of what anonymous callers get: moves only with the public view (store.public_stamp), so public
    # caches, ETags and files stay as they are when a hidden feature is edited; None: staff only
    public_stamp: Callable[[Any], tuple] | None = None

    def stamp_for(self, conn, public: bool) -> tuple:
        """The key of this collection's state for an audience."""
        return self.public_stamp(conn) if public and self.public_stamp is not None else self.stamp(conn)

    @property
    def columns(self) -> tuple[str, ...]:
        """The properties a query filters on: the queryables, and the date of dated records."""
        return self.queryables + (("inspected_on",) if self.dated else ())


def kind_collections(kind: features.FeatureKind) -> tuple[Collection, ...]:
    """The collections of a registered kind of feature: its own (its main geometry's type), and its point collection
    if it has one."""
    own = Collection(kind.collection, Label(f"collection.{kind.collection}", kind.title, kind.title_zh),
                     Label(f"collection.{kind.collection}.about", kind.description,
                           kind.description_zh or kind.title_zh),
                     False, kind.queryables, kind.geometry, feature_records(kind), kind.stamp, True,
                     public_stamp=stamps.public_stamp)
    if not kind.point_collection:
        return (own,)
    points = Collection(kind.point_collection,
                        Label(f"collection.{kind.point_collection}", kind.point_title, kind.point_title_zh),
                        Label(f"collection.{kind.point_collection}.about", kind.point_description,
                              kind.point_description_zh or kind.point_title_zh),
                        False, kind.queryables, "Point", feature_records(kind, as_points=True), kind.stamp, True,
                        public_stamp=stamps.public_stamp)
    return (own, points)


# The names of the properties of the collections that are no kind of feature (markers, inspections, tracks), for the
# service's HTML pages; a kind's collection (and the boundaries, of sites) names its fields by the kind's labels.
PROPERTY_LABELS: dict[str, Label] = {key: features.field_label(key, en, zh) for key, en, zh in (
    ("id", "number", "编号"), ("code", "code", "编号"), ("version", "version", "版本"),
    ("feature", "site or section", "所属产地或剖面"), ("kind", "kind", "类型"), ("inscription", "inscription", "碑文"),
    ("inscription_en", "inscription (English)", "碑文（英文）"), ("erected_on", "erected on", "设立日期"),
    ("last_condition", "condition at the latest inspection", "最近巡查时状况"),
    ("last_checked_on", "last checked on", "最近检查日期"), ("site", "site", "产地"),
    ("inspected_on", "inspected on", "巡查日期"), ("condition", "condition", "状况"), ("threats", "threats", "威胁"),
    ("inspectors", "inspectors", "巡查人员"), ("photo_count", "photos", "照片数"),
    ("site_version", "site version", "产地版本"), ("recorded_by", "recorded by", "记录人"),
    ("inspection_id", "inspection", "巡查记录"), ("name", "name", "名称"), ("length_m", "length (m)", "长度（米）"),
    ("point_count", "points", "点数"), (features.GENERALIZED, "location shown by its grid cell", "位置已模糊化"),
    ("updated_at", "updated at", "更新时间"))}
PROPERTY_VOCABULARIES = {"kind": MarkerKind, "last_condition": MarkerCondition, "condition": Condition, "threats": Threat}


def _kind_of(collection_id: str) -> features.FeatureKind | None:
    """The kind whose features a collection holds: its own collection, its point collection, or (boundaries) sites'."""
    return (features.collection_kind(collection_id)
            or next((k for k in features.kinds() if k.point_collection == collection_id), None)
            or (features.SITE if collection_id == "boundaries" else None))


def property_label(collection_id: str, key: str) -> Label | str:
    """A property of a collection's features as a person reads it."""
    kind = _kind_of(collection_id)
    found = kind.labels.get(key) if kind is not None else None
    return found or PROPERTY_LABELS.get(key, key)


def property_value(collection_id: str, key: str, value: Any) -> Any:
    """A property's value as a person reads it: a vocabulary's label where the property holds one."""
    kind = _kind_of(collection_id)
    if kind is not None and key in kind.property_fields:
        return kind.value_label(key, value)
    vocabulary = PROPERTY_VOCABULARIES.get(key)
    return value if vocabulary is None else vocabulary.labelled(value)


_FIRST, *_OTHERS = features.kinds()
COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    *kind_collections(_FIRST),
    Collection("boundaries", Label("collection.boundaries", "Protection boundaries", "保护范围"),
               Label("collection.boundaries.about", "Protection boundaries of the sites (anonymous callers: open sites "
                     "only).", "产地的保护范围（匿名访问者：仅位置公开的产地）。"), False, BOUNDARY_QUERYABLES, "MultiPolygon", boundary_records, stamps.change_stamp, True,
               public_stamp=stamps.public_stamp),
    *(c for kind in _OTHERS for c in kind_collections(kind)),
    Collection("markers", Label("collection.markers", "Protection markers", "保护标志"),
               Label("collection.markers.about", "Monuments, boundary posts, signboards and fences of sites and "
                     "sections, with the condition found at the latest inspection (anonymous callers: those of open "
                     "sites and sections).", "产地和剖面的保护碑、界桩、标牌和围栏，附最近一次巡查时的状况（匿名访问者："
                     "仅位置公开的产地和剖面的标志）。"), False, MARKER_QUERYABLES, "Point", marker_records, mstore.stamp, False,
               public_stamp=mstore.public_stamp),
    Collection("inspections", Label("collection.inspections", "Inspections", "巡查记录"),
               Label("collection.inspections.about", "Inspection records (point where the inspection was made). Staff "
                     "only.", "巡查记录（巡查地点）。仅限工作人员。"), True, INSPECTION_QUERYABLES, "Point", lambda conn, public, when=None: inspection_records(conn),
               lambda conn: stamps.table_stamp(conn, istore.INSPECTIONS), False, True),
    Collection("patrol-tracks", Label("collection.patrol-tracks", "Patrol tracks", "巡查轨迹"),
               Label("collection.patrol-tracks.about", "GPX tracks walked during inspections. Staff only.",
                     "巡查时记录的 GPX 轨迹。仅限工作人员。"), True,
               TRACK_QUERYABLES, "MultiLineString", lambda conn, public, when=None: track_records(conn),
               lambda conn: stamps.table_stamp(conn, istore.TRACKS), False, True),
)}


# ------------------------------------------------------------------------------------------------------ cache
_CACHE = shared_cache.Cache(24)  # shared by several app processes through Redis (fossil_registry/shared_cache.py)


def index(conn, collection: Collection, *, public: bool, crs: ServiceCRS, when: str | None = None) -> Index:
    """The collection's index; current states are cached per registry state (the collection's stamp)."""
    def build() -> Index:
        ids, geoms, props = collection.records(conn, public, when)
        return build_index(ids, geoms, props, crs, collection.columns)
    if when is not None:
        return build()  # a past state: read for this request only
    return _CACHE.get((collection.stamp_for(conn, public), collection.id, public, crs.uri), build)


def now() -> str:
    """The time stamp of an answer (UTC, the store's form)."""
    return utc_now()
