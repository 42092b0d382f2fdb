"""Protection markers of sites and sections: monuments, boundary posts, signboards and fences, with their photos, and
their condition as each inspection finds it (present, damaged, missing: a damaged or missing marker opens a follow-up).
Pure domain code (no Flask).

A marker is not part of a feature's protected geometry, so it is recorded directly by the staff who put it up or found
it (audited), not through the four-eyes review of the revision workflow. A marker placed far outside its feature's
protection area is recorded with a warning rather than refused: posts stand where a road gives access.

The public sees the markers of open, active features only (a marker next to a site shown only by its grid cell would
locate it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from shapely.geometry import mapping

from . import config, public_view, sites, store
from . import photos as photos_mod
from .blobs import BlobStore
from .errors import InvalidInput, NotFound
from .messages import msg
from .inspections.records import distance_to_site_m, insert_photo_row, parse_date, parse_point
from .inspections.settings import local_today
from .photos import Upload, check_photo, read_photos
from .region import check_plausible
from .store import inspections as istore
from .store import markers as mstore
from .vocab import MarkerCondition, MarkerKind

KINDS = MarkerKind.values()
CONDITIONS = MarkerCondition.values()
MAX_INSCRIPTION = 1000


@dataclass(frozen=True)
class Settings:
    max_outside_m: float
    followup_days: int
    max_photos: int
    photo_max_bytes: int
    photo_max_pixels: int
    photo_max_distance_m: float
    timezone: str
    region_bbox: tuple[float, float, float, float]
    region_name: str
    region_max_distance_km: float

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Settings":
        c = config.settings(config_)
        return cls(max_outside_m=float(c["MARKER_MAX_OUTSIDE_M"]), followup_days=int(c["MARKER_FOLLOWUP_DAYS"]),
                   max_photos=int(c["MARKER_MAX_PHOTOS"]), photo_max_bytes=int(c["PHOTO_MAX_BYTES"]),
                   photo_max_pixels=int(c["PHOTO_MAX_PIXELS"]), photo_max_distance_m=float(c["PHOTO_MAX_DISTANCE_M"]),
                   timezone=c["TIMEZONE"], region_bbox=tuple(c["REGION_BBOX"]), region_name=c["REGION_NAME"],
                   region_max_distance_km=float(c["REGION_MAX_DISTANCE_KM"]))

    @classmethod
    def defaults(cls) -> "Settings":
        return cls.from_config({})


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidInput(msg("markers.must_text", "{key} must be text", key=key), field=key)
    value = value.strip()
    if len(value) > MAX_INSCRIPTION:
        raise InvalidInput(msg("markers.too_long", "{key} is too long ({count} characters; the limit is {limit})",
                               key=key, count=len(value), limit=MAX_INSCRIPTION), field=key)
    return value or None


def add_marker(conn, blobs: BlobStore, code: str, data: Mapping[str, Any], *, settings: Settings, actor: str,
               photos: Iterable[Upload] = (), remote_addr: str | None = None,
               kind: sites.FeatureKind | None = None) -> dict[str, Any]:
    """Record a marker of the feature ``code`` (of ``kind`` when given) with its photos, in one transaction; the answer
    carries ``warnings`` (placed far outside the feature's protection area)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(msg("markers.not_object", "a marker must be an object"))
    # str: a multipart part without a name arrives as the field None
    unknown = sorted(map(str, set(data) - {"kind", "point", "lon", "lat", "inscription", "inscription_en",
                                           "erected_on"}))
    if unknown:
        raise InvalidInput(msg("markers.unknown_fields", "unknown field(s) of a marker: {fields}",
                               fields=', '.join(unknown)))
    feature = sites.current(conn, code, kind=kind)
    if data.get("kind") not in KINDS:
        raise InvalidInput(msg("markers.kind_unknown", "kind must be one of {kinds} (got {kind!r})",
                               kinds=', '.join(KINDS), kind=data.get('kind')), field="kind")
    raw_point = data.get("point") or ([data["lon"], data["lat"]] if data.get("lon") not in (None, "") else None)
    point = parse_point(raw_point, region=settings.region_bbox)
    if point is None:
        raise InvalidInput(msg("markers.give_point", "give the marker's position (point: [lon, lat] or typed "
                               "coordinates)"), field="point")
    check_plausible(point, settings.region_bbox, settings.region_name, what="marker",
                    max_distance_km=settings.region_max_distance_km)
    erected = parse_date(data["erected_on"], "erected_on") if data.get("erected_on") else None
    if erected is not None and erected > local_today(settings.timezone):
        raise InvalidInput(msg("markers.erected_future", "the date erected {erected} is in the future",
                               erected=erected), field="erected_on")
    warnings = []
    outside = distance_to_site_m(point, feature)
    if outside > settings.max_outside_m:
        if feature.boundary is not None:
            warnings.append(msg("markers.outside_boundary", "the marker is {distance:,.0f} m outside the protection "
                                "boundary of {code} (more than {limit:,.0f} m): check its position", distance=outside,
                                code=code, limit=settings.max_outside_m))
        else:
            warnings.append(msg("markers.far_from_feature", "the marker is {distance:,.0f} m from the {primary} of "
                                "{code} (more than {limit:,.0f} m): check its position", distance=outside,
                                primary=feature.kind.primary_noun, code=code, limit=settings.max_outside_m))
    checked = read_photos(photos, max_count=settings.max_photos, max_bytes=settings.photo_max_bytes,
                          max_pixels=settings.photo_max_pixels)
    for photo in checked:
        check_photo(photo, distance_m=distance_to_site_m(photo.gps, feature) if photo.gps else None,
                    max_distance_m=settings.photo_max_distance_m, expected_date=None, tz=settings.timezone,
                    place=msg("markers.photo_place", "{kind} {code}", kind=feature.kind.noun, code=code))
    with blobs.batch() as batch:
        for photo in checked:
            photos_mod.stage(batch, photo)
        with store.transaction(conn):
            now = store.utc_now()
            marker_id = mstore.insert_marker(
                conn, feature_code=code, point=point, kind=data["kind"], inscription=_text(data, "inscription"),
                inscription_en=_text(data, "inscription_en"), erected_on=erected.isoformat() if erected else None,
                photo_count=len(checked), created_at=now, created_by=actor)
            for photo in checked:
                insert_photo_row(conn, photo, now, marker_id=marker_id)
            store.append_audit(conn, actor=actor, action="marker.add", target=code, at=now, remote_addr=remote_addr,
                               detail={"marker_id": marker_id, "kind": data["kind"], "photos": len(checked),
                                       "warnings": len(warnings)})
            batch.place()
    return {**get_marker(conn, marker_id), "warnings": warnings}


def get_marker(conn, marker_id: int) -> dict[str, Any]:
    m = mstore.get_marker(conn, marker_id)
    if m is None:
        raise NotFound(msg("markers.no_marker", "no marker {marker_id}", marker_id=marker_id))
    m["photos"] = istore.photos_of(conn, marker_id=marker_id)
    return m


def markers_of(conn, code: str, *, public: bool, kind: sites.FeatureKind | None = None) -> list[dict[str, Any]]:
    """The markers of a feature; for the public only those of an open, active one (NotFound as for an unknown code
    when the feature itself is not public, an empty list when the public sees only its cell)."""
    if public:
        shown = public_view.get_public(conn, code, kind=kind or "any")
        if shown.generalized:
            return []
    else:
        sites.current(conn, code, kind=kind)
    found = mstore.markers_of(conn, code)
    for m in found:
        m["photos"] = istore.photos_of(conn, marker_id=m["fid"])
    return found


def public_marker(conn, marker_id: int) -> dict[str, Any]:
    """A marker the public may see (of an open, active feature); NotFound otherwise."""
    m = mstore.get_marker(conn, marker_id)
    if m is None or m["fid"] not in {p["fid"] for p in mstore.public_markers(conn)}:
        raise NotFound(msg("markers.no_marker", "no marker {marker_id}", marker_id=marker_id))
    m["photos"] = istore.photos_of(conn, marker_id=marker_id)
    return m


def marker_json(m: dict[str, Any], *, photo_url=None, public: bool = False) -> dict[str, Any]:
    out = {"id": m["fid"], "feature": m["feature_code"], "kind": m["kind"], "inscription": m["inscription"],
           "inscription_en": m["inscription_en"], "erected_on": m["erected_on"], "point": mapping(m["point"]),
           "last_condition": m.get("last_condition"), "last_checked_on": m.get("last_checked_on"),
           "photo_count": m["photo_count"]}
    if not public:
        out.update(created_at=m["created_at"], created_by=m["created_by"])
    if "warnings" in m:
        out["warnings"] = m["warnings"]
    if photo_url and "photos" in m:
        out["photos"] = [photo_url(p) for p in m["photos"]]
    return out
