"""OGC API - Features under /ogcapi: landing page, conformance, OpenAPI document, collections, queryables, items and
single items, as JSON (the default) or HTML (f=html, or a browser asking for HTML). Anonymous callers get the public
view; staff (a session or an API token) the exact data and two more collections. The domain is fossil_registry.ogcapi;
this module only reads the request and writes links."""
from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, abort, current_app, render_template, request
from pydantic import Field

from .. import ogcapi
from ..db import get_conn
from ..errors import NotFound
from ..http import openapi as api_spec
from ..http.links import base_url, external_url, this_url
from ..http.openapi import (CONTENT_CRS, PROBLEM_STATUSES, document, json_response, op, or_html, param, path_param,
                            schema_of, text)
from ..vocab import Condition, Level, MarkerCondition, MarkerKind, Significance, SiteStatus
from ..http.requests import conforms
from ..http.security import can, require
from ..messages import Label, msg

bp = Blueprint("ogcapi", __name__, url_prefix="/ogcapi")
F = Literal["json", "html", "geojson"]  # the f parameter: its check and its description

GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)


# ------------------------------------------------------------------------------------------------------ helpers
def _staff() -> bool:
    return can("site.read_exact")


def _html() -> bool:
    """HTML when asked for by f=html, or by a browser's Accept; JSON otherwise (whatever else Accept says)."""
    f = request.args.get("f")
    if f is not None:
        if not conforms(F, f):
            raise ogcapi.BadParameter(msg("api.f_must_json_html", "f must be json or html (got {f!r})", f=f[:20]), parameter="f")
        return f == "html"
    best = request.accept_mimetypes.best_match(["application/json", GEOJSON, "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]


def _json(body, mimetype: str = "application/json", status: int = 200, headers: dict | None = None) -> Response:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(data, status=status, mimetype=mimetype, headers=headers or {})


def _url(endpoint: str, f: str | None = None, **values) -> str:
    url = external_url(endpoint, **values)
    return url + ("?f=" + f if f else "")


def _region():
    return tuple(current_app.config["REGION_BBOX"])


def _collection(collection_id: str) -> ogcapi.Collection:
    collection = ogcapi.COLLECTIONS.get(collection_id)
    if collection is None:
        raise NotFound(msg("api.collection", "no collection {collection_id!r}", collection_id=collection_id))
    if collection.staff_only and not _staff():
        abort(401, "This collection is for signed-in staff.")
    return collection


# The service's own words: English in its JSON (what GIS clients read), in the reader's language on its HTML pages.
_WORDS = {key: Label(f"ogcapi.{key}", en, zh) for key, en, zh in (
    ("title", "Fossil site registry", "化石产地登记系统"),
    ("description", "Protected fossil sites, their protection boundaries, stratigraphic sections, protection markers "
     "and, for staff, inspections and patrol tracks, as an OGC API - Features service.",
     "受保护的化石产地及其保护范围、地层剖面、保护标志，以及（仅限工作人员）巡查记录和巡查轨迹，以 OGC API - Features "
     "服务提供。"),
    ("this_document", "this document", "本文档"), ("landing_html", "this document as HTML", "本文档（HTML）"),
    ("openapi", "the API definition (OpenAPI 3.0)", "API 定义（OpenAPI 3.0）"),
    ("openapi_html", "the API documentation", "API 文档"), ("conformance", "conformance classes", "符合性类别"),
    ("collections", "the feature collections", "要素集合"),
    ("collections_html", "the collections as HTML", "要素集合（HTML）"))}


def _links(self_endpoint: str, html_title: str, **values) -> list[dict]:
    return [{"href": _url(self_endpoint, None, **values), "rel": "self", "type": "application/json",
             "title": _WORDS["this_document"]},
            {"href": _url(self_endpoint, "html", **values), "rel": "alternate", "type": "text/html",
             "title": html_title}]


# ------------------------------------------------------------------------------------------------------ landing
@bp.get("", strict_slashes=False)
@require("public.read")
def landing():
    body = {"title": _WORDS["title"], "description": _WORDS["description"],
            "links": _links("ogcapi.landing", _WORDS["landing_html"]) + [
                {"href": _url("ogcapi.openapi"), "rel": "service-desc", "type": OPENAPI, "title": _WORDS["openapi"]},
                {"href": _url("ogcapi.openapi_html"), "rel": "service-doc", "type": "text/html",
                 "title": _WORDS["openapi_html"]},
                {"href": _url("ogcapi.conformance"), "rel": "conformance", "type": "application/json",
                 "title": _WORDS["conformance"]},
                {"href": _url("ogcapi.collections"), "rel": "data", "type": "application/json",
                 "title": _WORDS["collections"]}]}
    if _html():
        return render_template("ogcapi/landing.html", body=body)
    return _json(body)


@bp.get("/conformance")
@require("public.read")
def conformance():
    body = {"conformsTo": CONFORMANCE}
    if _html():
        return render_template("ogcapi/conformance.html", body=body)
    return _json(body)


@bp.get("/api", endpoint="openapi")
@require("public.read")
def api_document():
    return Response(orjson.dumps(document(base_url() or "/")), content_type=OPENAPI)


@bp.get("/api.html", endpoint="openapi_html")
@require("public.read")
def api_document_html():
    return render_template("ogcapi/api.html", spec=document(base_url() or "/"))


# ------------------------------------------------------------------------------------------------------ collections
def _extent(collection: ogcapi.Collection, conn) -> dict:
    bbox, since = ogcapi.extent(conn, collection, public=not _staff())
    extent = {"spatial": {"bbox": [list(bbox or _region())], "crs": ogcapi.CRS84}}
    if collection.temporal:
        extent["temporal"] = {"interval": [[since, None]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return extent


def _collection_json(collection: ogcapi.Collection, conn) -> dict:
    cid = collection.id
    crs_list = [c.uri for c in ogcapi.offered(_region())]
    return {
        "id": cid, "title": collection.title, "description": collection.description, "itemType": "feature",
        "crs": crs_list, "storageCrs": "http://www.opengis.net/def/crs/EPSG/0/4490", "extent": _extent(collection, conn),
        "links": _links("ogcapi.collection", f"{collection.title} as HTML", collection_id=cid) + [
            {"href": _url("ogcapi.items", None, collection_id=cid), "rel": "items", "type": GEOJSON,
             "title": f"{collection.title} (GeoJSON)"},
            {"href": _url("ogcapi.items", "html", collection_id=cid), "rel": "items", "type": "text/html",
             "title": f"{collection.title} (HTML)"},
            {"href": _url("ogcapi.queryables", None, collection_id=cid),
             "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": "application/schema+json",
             "title": "the properties items can be filtered on"},
            {"href": _url("ogcapi.schema", None, collection_id=cid), "rel": "describedby",
             "type": "application/schema+json", "title": "the schema of the features"}]}


@bp.get("/collections")
@require("public.read")
def collections():
    conn = get_conn()
    shown = [c for c in ogcapi.COLLECTIONS.values() if _staff() or not c.staff_only]
    body = {"links": _links("ogcapi.collections", _WORDS["collections_html"]),
            "collections": [_collection_json(c, conn) for c in shown],
            "crs": [c.uri for c in ogcapi.offered(_region())]}
    if _html():
        return render_template("ogcapi/collections.html", body=body)
    return _json(body)


@bp.get("/collections/<collection_id>")
@require("public.read")
def collection(collection_id: str):
    body = _collection_json(_collection(collection_id), get_conn())
    if _html():
        return render_template("ogcapi/collection.html", body=body)
    return _json(body)


def _text(title: str) -> dict:
    return text(title=title)


_PROPERTY_SCHEMAS = {
    "level": Level.schema(type="string", title="protection level"),
    "period": _text("geological period"),
    "fossil_groups": _text("fossil group (a site matches if it has any of the given ones)"),
    "county": _text("county"),
    "status": SiteStatus.schema(type="string", title="status (default: active)"),
    "site": _text("site code"),
    "condition": Condition.schema(type="string", title="condition"),
    "significance": Significance.schema(type="string", title="why the section matters"),
    "feature": _text("code of the site or section the marker belongs to"),
    "kind": MarkerKind.schema(type="string", title="kind of marker"),
    "last_condition": MarkerCondition.schema(type="string", title="condition found at the latest inspection"),
}


@bp.get("/collections/<collection_id>/queryables")
@require("public.read")
def queryables(collection_id: str):
    c = _collection(collection_id)
    body = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": _url("ogcapi.queryables",
            collection_id=c.id), "type": "object", "title": f"{c.title}: queryables",
            "properties": {name: _PROPERTY_SCHEMAS[name] for name in c.queryables}, "additionalProperties": False}
    if _html():
        return render_template("ogcapi/queryables.html", body=body, collection=c)
    return _json(body, "application/schema+json")


@bp.get("/collections/<collection_id>/schema")
@require("public.read")
def schema(collection_id: str):
    c = _collection(collection_id)
    body = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": _url("ogcapi.schema",
            collection_id=c.id), "type": "object", "title": f"{c.title}: features",
            "properties": {"geometry": {"format": f"geometry-{c.geometry.lower()}"},
                           **{name: _PROPERTY_SCHEMAS[name] for name in c.queryables}}}
    return _json(body, "application/schema+json")


# ------------------------------------------------------------------------------------------------------ items
def _page_link(rel: str, **extra) -> dict:
    """This request's URL with the page position (or format) replaced."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("cursor", "before", *extra)]
    kept += list(extra.items())
    return {"href": this_url() + "?" + urlencode(kept), "rel": rel,
            "type": GEOJSON, "title": f"{rel} page"}


@bp.get("/collections/<collection_id>/items")
@require("public.read")
def items(collection_id: str):
    c = _collection(collection_id)
    staff = _staff()
    html = _html()
    args = {k: request.args.getlist(k) for k in request.args if k != "f"}
    q = ogcapi.parse(args, c, region=_region(), tz=current_app.config["TIMEZONE"])
    if q.when is not None and not staff:
        abort(401, "Past states of the registry are for signed-in staff.")
    conn = get_conn()
    if q.when is None and ogcapi.stored.serves(c):  # the current state: from the read model
        fragments, page = ogcapi.stored.page(conn, c, public=not staff, q=q)
    else:
        index = ogcapi.index(conn, c, public=not staff, crs=q.crs, when=q.when)
        page = ogcapi.select(index, q)
        fragments = [index.fragments[i] for i in page.positions]
    links = [{"href": this_url(query=True), "rel": "self", "type": GEOJSON, "title": "this page"},
             {"href": _page_link("alternate", f="html")["href"], "rel": "alternate", "type": "text/html",
              "title": "this page as HTML"},
             {"href": _url("ogcapi.collection", None, collection_id=c.id), "rel": "collection",
              "type": "application/json", "title": c.title}]
    if page.next_cursor:
        links.append(_page_link("next", cursor=page.next_cursor))
    if page.prev_before:
        links.append(_page_link("prev", before=page.prev_before))
    headers = {"Content-Crs": f"<{q.crs.uri}>"}
    if html:
        features = [orjson.loads(f) for f in fragments]
        return render_template("ogcapi/items.html", collection=c, features=features, page=page, links=links,
                               crs=q.crs), 200, headers
    body = ogcapi.feature_collection(fragments, page, links=links, timestamp=ogcapi.now())
    return _json(body, GEOJSON, headers=headers)


@bp.get("/collections/<collection_id>/items/<feature_id>")
@require("public.read")
def item(collection_id: str, feature_id: str):
    c = _collection(collection_id)
    staff = _staff()
    args = {k: request.args.getlist(k) for k in request.args if k not in ("f",)}
    unknown = sorted(set(args) - {"crs", "lang"})
    if unknown:
        raise ogcapi.BadParameter(msg("api.unknown_parameter_s_single", "unknown parameter(s) {unknown} for a single "
                                      "feature", unknown=', '.join(unknown)),
                                  parameter=unknown[0])
    crs = ogcapi.resolve(request.args.get("crs"), _region(), parameter="crs")
    fragment = _one_feature(c, feature_id, public=not staff, crs=crs)
    if fragment is None:
        raise NotFound(msg("api.feature", "no feature {feature_id!r} in {id}", feature_id=feature_id, id=c.id))
    headers = {"Content-Crs": f"<{crs.uri}>"}
    if _html():
        return render_template("ogcapi/item.html", collection=c, feature=orjson.loads(fragment),
                               crs=crs), 200, headers
    links = orjson.dumps([{"href": this_url(), "rel": "self", "type": GEOJSON, "title": "this feature"},
                          {"href": this_url() + "?f=html", "rel": "alternate", "type": "text/html",
                           "title": "this feature as HTML"},
                          {"href": _url("ogcapi.collection", None, collection_id=c.id), "rel": "collection",
                           "type": "application/json", "title": c.title}])
    return _json(fragment[:-1] + b',"links":' + links + b"}", GEOJSON, headers=headers)


def _one_feature(c: ogcapi.Collection, feature_id: str, *, public: bool, crs) -> bytes | None:
    """A feature's fragment: from the read model for the registered features, else from the collection's index."""
    if ogcapi.stored.serves(c):
        return ogcapi.stored.one(get_conn(), c, public=public, code=feature_id, crs=crs)
    index = ogcapi.index(get_conn(), c, public=public, crs=crs)
    position = int(index.ids.searchsorted(feature_id))
    if position >= len(index) or index.ids[position] != feature_id:
        return None
    return index.fragments[position]


# ------------------------------------------------------------------------------------------------------ OpenAPI
def _f_param() -> dict:
    return param("f", schema=F, description="json (default; geojson is the same) or html")


def _crs_param() -> dict:
    return param("crs", description="CRS of the answer (a URI of the collection's crs list; default CRS84)")


def items_params() -> list[dict]:
    """The query parameters of a collection's items (/api/sites and /api/sections answer them too)."""
    filters = ("level", "period", "fossil_groups", "county", "status", "site", "condition", "significance", "feature",
               "kind", "last_condition")
    return [
        param("limit", schema=Annotated[int, Field(ge=1, le=ogcapi.MAX_LIMIT, default=ogcapi.DEFAULT_LIMIT)],
              description="features per page"),
        param("bbox", schema=Annotated[list[float], Field(min_length=4, max_length=6)],
              description="min, min, max, max in the axis order of bbox-crs", style="form", explode=False),
        param("bbox-crs", description="CRS of bbox (default CRS84)"), _crs_param(),
        param("datetime", description="RFC 3339 instant or interval: the registry as it was then (staff)"),
        param("cursor", description="next page: features after this id (from the next link)"),
        param("before", description="previous page: features before this id (from the prev link)"),
        *[param(name, description=f"filter on {name} (comma-separated values)") for name in filters],
        _f_param()]


def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import ogcapi as m
    from .models.common import Feature, FeatureCollection, Problem

    _F, _CRS = _f_param(), _crs_param()
    _HTML = {"text/html": {"schema": text()}}

    def _problems(*codes: int) -> dict:
        """Problem answers, as an HTML page when the caller asked for HTML (f=html)."""
        return {str(c): {"description": PROBLEM_STATUSES[c], "content": {
            "application/problem+json": {"schema": schema_of(Problem)}, **_HTML}} for c in codes}

    _COLLECTION = path_param("collectionId", "sites, boundaries, sections, markers, inspections or patrol-tracks "
                             "(the last two: staff)", Literal[tuple(ogcapi.COLLECTIONS)])
    _TAGS = ["OGC API - Features"]
    PATHS = {
        "/ogcapi": {"get": op("Landing page", tags=_TAGS, params=[_F], operation_id="getLandingPage", responses={
            "200": or_html(json_response(m.LandingPage)), **_problems(400)})},
        "/ogcapi/conformance": {"get": op("Conformance classes", tags=_TAGS, params=[_F], operation_id="getConformance",
                                          responses={"200": or_html(json_response(m.Conformance)), **_problems(400)})},
        "/ogcapi/api": {"get": op("This OpenAPI document", tags=_TAGS, operation_id="getAPIDefinition", responses={
            "200": json_response(m.OpenAPIDocument, media="application/vnd.oai.openapi+json;version=3.0")})},
        "/ogcapi/api.html": {"get": op("This document as a web page", tags=_TAGS, operation_id="getAPIDocumentation",
                                       responses={"200": {"description": "HTML", "content": _HTML}})},
        "/ogcapi/collections": {"get": op("The feature collections", tags=_TAGS, params=[_F],
                                          operation_id="getCollections", responses={
                                              "200": or_html(json_response(m.Collections)), **_problems(400)})},
        "/ogcapi/collections/{collectionId}": {"get": op(
            "One collection", tags=_TAGS, params=[_COLLECTION, _F], operation_id="describeCollection", responses={
                "200": or_html(json_response(m.Collection)), **_problems(400, 401, 404)})},
        "/ogcapi/collections/{collectionId}/queryables": {"get": op(
            "The properties items can be filtered on", tags=_TAGS, params=[_COLLECTION, _F], responses={
                "200": or_html(json_response(m.JSONSchema, media="application/schema+json")),
                **_problems(400, 401, 404)})},
        "/ogcapi/collections/{collectionId}/schema": {"get": op(
            "The schema of the collection's features", tags=_TAGS, params=[_COLLECTION], responses={
                "200": json_response(m.JSONSchema, media="application/schema+json"), **_problems(401, 404)})},
        "/ogcapi/collections/{collectionId}/items": {"get": op(
            "Features of a collection, paged (keyset: next/prev links)", tags=_TAGS,
            params=[_COLLECTION, *items_params()],
            operation_id="getFeatures", responses={
                "200": or_html(json_response(FeatureCollection, media="application/geo+json", headers=CONTENT_CRS)),
                **_problems(400, 401, 404)})},
        "/ogcapi/collections/{collectionId}/items/{featureId}": {"get": op(
            "One feature", tags=_TAGS, params=[_COLLECTION, path_param("featureId", "the feature's id (a site code)"),
                                               _CRS, _F], operation_id="getFeature", responses={
                "200": or_html(json_response(Feature, media="application/geo+json", headers=CONTENT_CRS)),
                **_problems(400, 401, 404)})},
    }
    return PATHS, m.MODELS
