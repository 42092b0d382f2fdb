"""Items and single features of the registered features' collections (sites, boundaries, sections, section points)
in their current state, answered from the read model (docs/national-scale.md): one indexed query per page, keyset on
the code, the page's ready-made fragments joined. Another CRS than CRS84 re-encodes only the page's geometries. Past
states (staff's datetime) and the other collections keep the per-state index (features.index)."""
from __future__ import annotations

import orjson
import shapely

from .. import features
from ..store import read_model as rstore
from .crs import CRS84, ServiceCRS
from ..store import map_layers as stamps
from .features import Collection, feature_fragment, geometries_json, index
from .query import ItemsQuery, Page

BOUNDARIES = "boundaries"
_CRS84 = ServiceCRS(CRS84, None, "CRS84", True)


def serves(collection: Collection) -> bool:
    """Whether the collection's current state is in the read model: every registered kind's (its own collection and
    its point collection), and the boundaries."""
    return (collection.id == BOUNDARIES or features.collection_kind(collection.id) is not None
            or any(k.point_collection == collection.id for k in features.kinds()))


def _audience(public: bool) -> str:
    return "public" if public else "staff"


def _fragments(rows: list[tuple], crs: ServiceCRS) -> list[bytes]:
    """(code, fragment, geometry WKB) rows as features in ``crs``."""
    if crs.uri == CRS84:
        return [bytes(r[1]) for r in rows]
    geoms = geometries_json([shapely.from_wkb(bytes(r[2])) for r in rows], crs)
    return [feature_fragment(r[0], g, orjson.loads(bytes(r[1]))["properties"]) for r, g in zip(rows, geoms)]


def page(conn, collection: Collection, *, public: bool, q: ItemsQuery) -> tuple[list[bytes], Page]:
    """The page ``q`` asks for: its features and the Page (numberMatched, next and previous cursors)."""
    audience = _audience(public)
    where = dict(bbox=q.bbox, filters=q.filters)
    columns = "r.code, r.fragment, r.geometry"
    if q.before is not None:
        rows = rstore.page(conn, collection.id, audience, limit=q.limit + 1, before=q.before, columns=columns, **where)
        earlier = len(rows) > q.limit
        rows = rows[-q.limit:] if earlier else rows
        later = bool(rows) and bool(rstore.page(conn, collection.id, audience, limit=1, after=rows[-1][0],
                                                columns="r.code", **where))
    else:
        rows = rstore.page(conn, collection.id, audience, limit=q.limit + 1, after=q.cursor, columns=columns, **where)
        later = len(rows) > q.limit
        rows = rows[:q.limit]
        earlier = q.cursor is not None and bool(rows) and bool(
            rstore.page(conn, collection.id, audience, limit=1, before=rows[0][0], columns="r.code", **where))
    # Nothing before the page and nothing after it: the page is everything that matches, counted already (a bbox's
    # count walks the R-tree and looks up every row in it again).
    whole = not earlier and not later and (bool(rows) or (q.cursor is None and q.before is None))
    matched = len(rows) if whole else rstore.count(conn, collection.id, audience, **where)
    return _fragments(rows, q.crs), Page(None, matched, rows[-1][0] if later and rows else None,
                                         rows[0][0] if earlier and rows else None)


def one(conn, collection: Collection, *, public: bool, code: str, crs: ServiceCRS) -> bytes | None:
    """One feature's fragment in ``crs``, or None if the caller's view of the collection has no such feature."""
    row = rstore.one(conn, collection.id, _audience(public), code, "r.code, r.fragment, r.geometry")
    return None if row is None else _fragments([row], crs)[0]


def extent(conn, collection: Collection, *, public: bool) -> tuple[tuple[float, float, float, float] | None, str | None]:
    """(lon/lat bbox of what the caller may see, start of the temporal extent): from the read model or the caller's
    own index, so an anonymous extent never reflects a hidden site."""
    if serves(collection):
        box = rstore.extent(conn, collection.id, _audience(public))
    else:
        box = index(conn, collection, public=public, crs=_CRS84).extent
    return box, stamps.first_version_time(conn) if collection.temporal else None
