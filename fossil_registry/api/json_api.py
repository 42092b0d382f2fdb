"""JSON API: sites as GeoJSON (lon/lat, EPSG:4490), with past states by version or timestamp."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from shapely.geometry import mapping

from .. import sites
from ..db import get_conn
from ..errors import InvalidInput

bp = Blueprint("api", __name__, url_prefix="/api")


def _bbox_arg() -> tuple[float, float, float, float] | None:
    raw = request.args.get("bbox")
    if not raw:
        return None
    try:
        bbox = tuple(float(v) for v in raw.split(","))
    except ValueError:
        bbox = ()
    if len(bbox) != 4 or not (bbox[0] <= bbox[2] and bbox[1] <= bbox[3]):
        raise InvalidInput(f"bbox must be min_lon,min_lat,max_lon,max_lat (got {raw!r})")
    return bbox


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number (got {raw!r})") from None
    if value < 1:
        raise InvalidInput(f"{name} must be 1 or more (got {value})")
    return value


def site_feature(site: sites.Site) -> dict:
    return {
        "type": "Feature",
        "id": site.code,
        "geometry": mapping(site.location),
        "properties": {"code": site.code, **site.properties, "version": site.version, "updated_at": site.updated_at},
    }


@bp.get("/sites")
def list_sites():
    found = sites.list_current(get_conn(), bbox=_bbox_arg())
    return jsonify({"type": "FeatureCollection", "features": [site_feature(s) for s in found],
                    "numberReturned": len(found)})


@bp.get("/sites/<code>")
def get_site(code: str):
    conn = get_conn()
    version, as_of = _int_arg("version"), request.args.get("as_of")
    if version is not None and as_of:
        raise InvalidInput("give either version or as_of, not both")
    if version is not None:
        site = sites.at_version(conn, code, version)
    elif as_of:
        site = sites.as_of(conn, code, as_of, current_app.config["TIMEZONE"])
    else:
        site = sites.current(conn, code)
    body = site.to_json()
    if site.reason is not None:
        body["reason"] = site.reason
    return jsonify(body)


@bp.get("/sites/<code>/versions")
def site_versions(code: str):
    versions = sites.history(get_conn(), code)
    return jsonify({"code": code, "versions": [
        {"version": v.version, "operation": v.operation, "created_at": v.created_at, "author": v.author,
         "reviewer": v.reviewer, "reason": v.reason, "revision_id": v.revision_id} for v in versions]})


@bp.get("/sites/<code>/diff")
def site_diff(code: str):
    a, b = _int_arg("from"), _int_arg("to")
    if a is None or b is None:
        raise InvalidInput("give the two versions to compare as ?from=N&to=M")
    return jsonify(sites.diff(get_conn(), code, a, b))
