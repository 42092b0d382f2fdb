"""Items queries: the parameters of /collections/{id}/items read and checked (a 400 naming the parameter for anything
the service cannot use), and run against a collection's index: bbox, queryable properties, datetime, keyset paging."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .. import features
from ..store import utc_now
from .crs import BadParameter, ServiceCRS, area_of_use, bbox_to_lonlat, resolve
from .features import Collection, Index
from ..messages import msg

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
GENERAL = {"limit", "bbox", "bbox-crs", "crs", "datetime", "f", "cursor", "before", "lang"}
# RFC 3339 date-time (with an offset) or full-date
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?")


@dataclass
class ItemsQuery:
    limit: int
    crs: ServiceCRS
    bbox: tuple[float, float, float, float] | None = None        # lon/lat
    when: str | None = None                                       # an instant (UTC, store form): past state
    period: tuple[str | None, str | None] | None = None           # dates, for collections of dated records
    filters: dict[str, set[str]] = field(default_factory=dict)
    cursor: str | None = None
    before: str | None = None


def _one(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = args.get(name) or []
    if len(values) > 1:
        raise BadParameter(msg("ogcapi.given_times_give_once", "{name} is given {count} times; give it once",
                               name=name, count=len(values)), parameter=name)
    return values[0] if values else None


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(msg("ogcapi.limit_must_whole_number", "limit must be a whole number from 1 to {max_limit} "
                               "(got {raw!r})", max_limit=MAX_LIMIT, raw=raw[:40]),
                           parameter="limit") from None
    if not 1 <= value <= MAX_LIMIT:
        raise BadParameter(msg("ogcapi.limit_must_got", "limit must be from 1 to {max_limit} (got {value})",
                               max_limit=MAX_LIMIT, value=value), parameter="limit")
    return value


def _bbox(raw: str, crs: ServiceCRS) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in raw.split(","))
    except ValueError:
        values = ()
    if len(values) not in (4, 6) or not all(np.isfinite(values)):
        raise BadParameter(msg("ogcapi.bbox_must_four_numbers", "bbox must be four numbers (min, min, max, max in "
                               "the axis order of bbox-crs) (got {raw!r})", raw=raw[:80]), parameter="bbox")
    lower, upper = (values[:2], values[2:]) if len(values) == 4 else (values[:2], values[3:5])
    if lower[0] > upper[0] or lower[1] > upper[1]:
        raise BadParameter(msg("ogcapi.bbox_minimum_larger_than", "bbox: a minimum is larger than its maximum ({raw})",
                               raw=raw[:80]), parameter="bbox")
    a0, b0, a1, b1 = area_of_use(crs)
    box = bbox_to_lonlat((lower[0], lower[1], upper[0], upper[1]), crs) if crs.epsg else (*lower, *upper)
    if box[2] < a0 or box[0] > a1 or box[3] < b0 or box[1] > b1:
        raise BadParameter(msg("ogcapi.bbox_lies_outside_area", "bbox lies outside the area of use of its CRS"), parameter="bbox")
    return box


def _instant(text: str, tz: str) -> str:
    if not _RFC3339.fullmatch(text):
        raise BadParameter(msg("ogcapi.datetime_must_rfc_date", "datetime must be an RFC 3339 date-time "
                               "(2025-03-01T08:00:00Z) or date, or an interval of them with '/' ('..' for open) (got "
                               "{text!r})", text=text[:60]), parameter="datetime")
    try:
        return features.parse_timestamp(text, tz)
    except Exception:
        raise BadParameter(msg("ogcapi.datetime_valid_date_time", "datetime: {text!r} is not a valid date-time",
                               text=text[:60]), parameter="datetime") from None


def _datetime(raw: str, tz: str) -> tuple[str | None, str | None]:
    parts = raw.split("/")
    if len(parts) > 2:
        raise BadParameter(msg("ogcapi.datetime_interval_one", "datetime: an interval has one '/'"), parameter="datetime")
    if len(parts) == 1:
        instant = _instant(parts[0], tz)
        return instant, instant
    start, end = (None if p in ("..", "") else _instant(p, tz) for p in parts)
    if start and end and start > end:
        raise BadParameter(msg("ogcapi.datetime_interval_ends_before", "datetime: the interval ends before it starts"), parameter="datetime")
    return start, end


def parse(args: Mapping[str, Sequence[str]], collection: Collection, *, region, tz: str) -> ItemsQuery:
    """An items query from the request's arguments (name -> values); unknown parameters are refused."""
    unknown = sorted(set(args) - GENERAL - set(collection.queryables))
    if unknown:
        raise BadParameter(msg("ogcapi.unknown_parameter_s_collection", "unknown parameter(s) {unknown}; this "
                               "collection filters on {queryables}", unknown=', '.join(unknown),
                               queryables=', '.join(collection.queryables)), parameter=unknown[0])
    crs = resolve(_one(args, "crs"), region, parameter="crs")
    bbox_crs = resolve(_one(args, "bbox-crs"), region, parameter="bbox-crs")
    q = ItemsQuery(limit=_limit(_one(args, "limit")), crs=crs)
    raw_bbox = _one(args, "bbox")
    if raw_bbox is not None:
        q.bbox = _bbox(raw_bbox, bbox_crs)
    elif _one(args, "bbox-crs") is not None:
        raise BadParameter(msg("ogcapi.bbox_crs_given_without", "bbox-crs is given without a bbox"), parameter="bbox-crs")
    raw_when = _one(args, "datetime")
    if raw_when is not None:
        start, end = _datetime(raw_when, tz)
        if collection.temporal:
            if end is not None and end < utc_now():
                q.when = end  # the state at the end of the interval (docs/ogcapi.md); past states: staff only
        elif collection.dated:
            q.period = (start[:10] if start else None, end[:10] if end else None)
    for name in collection.queryables:
        values = args.get(name)
        if values:
            q.filters[name] = {v.strip() for value in values for v in value.split(",") if v.strip()}
    if collection.id in ("sites", "boundaries", "sections") and "status" not in q.filters:
        q.filters["status"] = {"active"}
    q.cursor, q.before = _one(args, "cursor"), _one(args, "before")
    if q.cursor and q.before:
        raise BadParameter(msg("ogcapi.give_either_cursor_next", "give either cursor (next page) or before (previous "
                               "page), not both"), parameter="cursor")
    return q


# ------------------------------------------------------------------------------------------------------ running
@dataclass
class Page:
    positions: np.ndarray | None   # indexes into the Index, in id order (None: a page of the read model)
    matched: int
    next_cursor: str | None
    prev_before: str | None


def _matches(column: np.ndarray, wanted: set[str]) -> np.ndarray:
    return np.fromiter(((any(v in wanted for v in value) if isinstance(value, (list, tuple)) else value in wanted)
                        for value in column), dtype=bool, count=len(column))


def select(index: Index, q: ItemsQuery) -> Page:
    mask = np.ones(len(index), dtype=bool)
    if q.bbox is not None and len(index):
        b = index.bounds
        with np.errstate(invalid="ignore"):
            mask &= (b[:, 0] <= q.bbox[2]) & (b[:, 2] >= q.bbox[0]) & (b[:, 1] <= q.bbox[3]) & (b[:, 3] >= q.bbox[1])
    for name, wanted in q.filters.items():
        key = (name, frozenset(wanted))
        if key not in index.masks:  # per value set, computed once per index
            index.masks[key] = _matches(index.values[name], wanted)
        mask &= index.masks[key]
    if q.period is not None and "inspected_on" in index.values:
        start, end = q.period
        dates = index.values["inspected_on"]
        mask &= np.fromiter(((start is None or d >= start) and (end is None or d <= end) for d in dates),
                            dtype=bool, count=len(dates))
    positions = np.flatnonzero(mask)
    ids = index.ids[positions]
    if q.cursor is not None:
        start = int(np.searchsorted(ids, q.cursor, side="right"))
    elif q.before is not None:
        start = max(0, int(np.searchsorted(ids, q.before, side="left")) - q.limit)
    else:
        start = 0
    page = positions[start:start + q.limit]
    end = start + len(page)
    return Page(page, len(positions), str(ids[end - 1]) if end < len(positions) and len(page) else None,
                str(ids[start]) if start > 0 and len(page) else None)


def feature_collection(fragments: list[bytes], page: Page, *, links: list[dict[str, Any]], timestamp: str) -> bytes:
    """The items answer as bytes: the envelope, then the page's ready-made feature fragments."""
    import orjson
    head = orjson.dumps({"type": "FeatureCollection", "numberMatched": page.matched,
                         "numberReturned": len(fragments), "timeStamp": timestamp, "links": links})
    return head[:-1] + b',"features":[' + b",".join(fragments) + b"]}"
