"""OGC API - Features under /ogcapi, in process: the documents and their links, items with bbox, CRS, queryables,
datetime and keyset paging, the public view for anonymous callers, bad parameters (400 naming the parameter), and
the OpenAPI document. The real GIS clients (GDAL, OWSLib) read a served registry in test_ogcapi_clients.py."""
from __future__ import annotations

import gzip
import json

import brotli
import pytest
from openapi_spec_validator import validate
from shapely.geometry import Point, shape

from fossil_registry import public_view, sites
from fossil_registry.coords import to_gauss_kruger
from fossil_registry.db import get_conn

from .conftest import bearer

pytestmark = pytest.mark.both_backends

ITEMS = "/ogcapi/collections/{}/items"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"


def _all_sites(app) -> list[sites.Site]:
    with app.app_context():
        return sites.list_current(get_conn())


def _walk(client, url: str, headers=None) -> tuple[list[dict], int]:
    """Every feature behind url, following next links; (features, pages)."""
    features, pages = [], 0
    while url:
        r = client.get(url, headers=headers or {})
        assert r.status_code == 200, r.get_data(as_text=True)
        body = r.get_json()
        features += body["features"]
        pages += 1
        assert body["numberReturned"] == len(body["features"])
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        assert pages < 1000
    return features, pages


# ------------------------------------------------------------------------------------------------------ documents
def test_landing_page_links_and_json_by_default(client):
    for accept in (None, "*/*", "application/json", "application/xml"):
        r = client.get("/ogcapi", headers={"Accept": accept} if accept else {})
        assert r.status_code == 200 and r.mimetype == "application/json", accept
    links = {link["rel"]: link for link in client.get("/ogcapi").get_json()["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["alternate"]["type"] == "text/html" and links["service-doc"]["type"] == "text/html"
    browser = client.get("/ogcapi", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 200 and browser.mimetype == "text/html"
    conformance = client.get("/ogcapi/conformance").get_json()["conformsTo"]
    for cls in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                "ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-2/1.0/conf/crs"):
        assert any(c.endswith(cls) for c in conformance), cls


def test_collections_anonymous_and_staff(client):
    anonymous = client.get("/ogcapi/collections").get_json()
    assert [c["id"] for c in anonymous["collections"]] == ["sites", "boundaries", "sections", "section-points",
                                                           "markers"]
    staff = client.get("/ogcapi/collections", headers=bearer("field")).get_json()
    assert [c["id"] for c in staff["collections"]] == ["sites", "boundaries", "sections", "section-points", "markers",
                                                       "inspections", "patrol-tracks"]
    sites_collection = client.get("/ogcapi/collections/sites").get_json()
    assert sites_collection["itemType"] == "feature"
    west, south, east, north = sites_collection["extent"]["spatial"]["bbox"][0]
    assert 103.5 < west < east < 109.7 and 24.5 < south < north < 29.3
    assert sites_collection["extent"]["temporal"]["interval"][0][0] is not None
    assert CRS84 in sites_collection["crs"] and EPSG.format(4490) in sites_collection["crs"]
    assert EPSG.format(4524) in sites_collection["crs"] and EPSG.format(4545) in sites_collection["crs"]  # zone 35
    rels = {link["rel"] for link in sites_collection["links"]}
    assert {"self", "alternate", "items", "describedby"} <= rels
    for cid in ("inspections", "patrol-tracks"):
        r = client.get(f"/ogcapi/collections/{cid}")
        assert r.status_code == 401 and r.mimetype == "application/problem+json"
        assert client.get(ITEMS.format(cid)).status_code == 401
        assert client.get(f"/ogcapi/collections/{cid}", headers=bearer("field")).status_code == 200
    r = client.get("/ogcapi/collections/nothing")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_queryables_name_the_filters(client):
    body = client.get("/ogcapi/collections/sites/queryables").get_json()
    assert set(body["properties"]) == {"level", "period", "fossil_groups", "county", "status"}
    assert body["properties"]["level"]["enum"] == ["national", "provincial", "general"]


# ------------------------------------------------------------------------------------------------------ items
def test_items_page_by_keyset_and_find_every_site_once(app, client):
    active = sorted(s.code for s in _all_sites(app))
    features, pages = _walk(client, ITEMS.format("sites") + "?limit=7", bearer("field"))
    assert [f["id"] for f in features] == active and pages == -(-len(active) // 7)
    first = client.get(ITEMS.format("sites") + "?limit=7", headers=bearer("field")).get_json()
    assert first["numberMatched"] == len(active) and first["numberReturned"] == 7
    assert not any(link["rel"] == "prev" for link in first["links"])
    types = {link["rel"]: link["type"] for link in first["links"]}
    assert types["next"] == "application/geo+json" and types["alternate"] == "text/html"
    # the page after the third one, then back with prev
    third = client.get(ITEMS.format("sites") + f"?limit=7&cursor={active[13]}", headers=bearer("field")).get_json()
    assert [f["id"] for f in third["features"]] == active[14:21]
    prev = next(link["href"] for link in third["links"] if link["rel"] == "prev")
    assert [f["id"] for f in client.get(prev, headers=bearer("field")).get_json()["features"]] == active[7:14]


def test_number_matched_whether_the_page_holds_every_match_or_not(app, client):
    """numberMatched is counted only when the page is not everything that matches (stored.page): it is the same on a
    full page and on one that is not, first or after a cursor or before one, with and without bbox and filters."""
    everything = _all_sites(app)
    box = (105.0, 25.5, 106.0, 26.5)
    in_box = lambda s: box[0] <= s.location.x <= box[2] and box[1] <= s.location.y <= box[3]  # noqa: E731
    national = lambda s: s.properties["level"] == "national"  # noqa: E731
    for query, keep in (("", lambda s: True), ("bbox=105,25.5,106,26.5", in_box), ("level=national", national),
                        ("bbox=105,25.5,106,26.5&level=national", lambda s: in_box(s) and national(s)),
                        ("bbox=0,0,1,1", lambda s: False)):
        codes = sorted(s.code for s in everything if keep(s))
        for limit in (1, 2, max(len(codes) - 1, 1), len(codes) or 1, len(codes) + 5):
            url = ITEMS.format("sites") + f"?limit={limit}" + (f"&{query}" if query else "")
            positions = [url] + [f"{url}&cursor={c}" for c in ("GZ-0000", *codes[:3], codes[-1] if codes else "GZ")]
            positions += [f"{url}&before={c}" for c in (*codes[-3:], "GZ-9999", "GZ-0000")]
            for where in positions:
                body = client.get(where, headers=bearer("field")).get_json()
                assert body["numberMatched"] == len(codes), where
                assert [f["id"] for f in body["features"]] == [c for c in codes if _page_holds(where, c)][
                    -limit if "before=" in where else 0:][:limit], where


def _page_holds(url: str, code: str) -> bool:
    """Whether ``code`` may be on the page of ``url`` (after its cursor, before its before)."""
    if "cursor=" in url:
        return code > url.split("cursor=")[1]
    if "before=" in url:
        return code < url.split("before=")[1]
    return True


def test_items_are_geojson_whatever_the_accept(client):
    for accept in ("*/*", "application/json", "application/geo+json", "text/plain"):
        r = client.get(ITEMS.format("sites"), headers={"Accept": accept})
        assert r.status_code == 200 and r.mimetype == "application/geo+json", accept
        assert r.headers["Content-Crs"] == f"<{CRS84}>"


def test_bbox_in_lonlat_and_in_cgcs2000_latlon_agree(app, client):
    everything = {s.code: s for s in _all_sites(app)}
    box = (105.0, 25.5, 106.0, 26.5)
    expected = sorted(c for c, s in everything.items()
                      if box[0] <= s.location.x <= box[2] and box[1] <= s.location.y <= box[3])
    assert 0 < len(expected) < len(everything)
    lonlat = client.get(ITEMS.format("sites") + "?bbox=105,25.5,106,26.5", headers=bearer("field")).get_json()
    latlon = client.get(ITEMS.format("sites") + f"?bbox=25.5,105,26.5,106&bbox-crs={EPSG.format(4490)}",
                        headers=bearer("field")).get_json()
    assert [f["id"] for f in lonlat["features"]] == [f["id"] for f in latlon["features"]] == expected


def test_crs_4490_is_latitude_first_and_gauss_kruger_is_northing_first(app, client):
    site = next(s for s in _all_sites(app) if s.code == "GZ-0001")
    lat_first = client.get(ITEMS.format("sites") + f"/GZ-0001?crs={EPSG.format(4490)}", headers=bearer("field"))
    assert lat_first.headers["Content-Crs"] == f"<{EPSG.format(4490)}>"
    assert lat_first.get_json()["geometry"]["coordinates"] == pytest.approx([site.location.y, site.location.x], abs=1e-7)
    gk = to_gauss_kruger(site.location.x, site.location.y)
    for epsg, easting in ((gk["epsg"], gk["y_easting"]), (gk["epsg_prefixed"], gk["y_easting_prefixed"])):
        r = client.get(ITEMS.format("sites") + f"/GZ-0001?crs=EPSG:{epsg}", headers=bearer("field"))
        assert r.status_code == 200 and r.headers["Content-Crs"] == f"<{EPSG.format(epsg)}>"
        assert r.get_json()["geometry"]["coordinates"] == pytest.approx([gk["x_northing"], easting], abs=0.002)
    # a bbox in the Gauss-Krüger zone (northing, easting) around the site finds it
    n, e = gk["x_northing"], gk["y_easting"]
    found = client.get(ITEMS.format("sites") + f"?bbox={n - 50},{e - 50},{n + 50},{e + 50}&bbox-crs=EPSG:{gk['epsg']}",
                       headers=bearer("field")).get_json()
    assert "GZ-0001" in [f["id"] for f in found["features"]] and len(found["features"]) < 5


def test_queryable_filters(app, client):
    everything = _all_sites(app)
    national = client.get(ITEMS.format("sites") + "?level=national&limit=1000", headers=bearer("field")).get_json()
    assert {f["id"] for f in national["features"]} == {s.code for s in everything if s.properties["level"] == "national"}
    group = everything[0].properties["fossil_groups"][0]
    by_group = client.get(ITEMS.format("sites") + f"?fossil_groups={group}&limit=1000", headers=bearer("field")).get_json()
    assert {f["id"] for f in by_group["features"]} == {s.code for s in everything
                                                        if group in s.properties["fossil_groups"]}
    both = client.get(ITEMS.format("sites") + "?level=national,provincial&limit=1000", headers=bearer("field")).get_json()
    assert both["numberMatched"] == sum(s.properties["level"] in ("national", "provincial") for s in everything)


def test_retired_sites_only_when_asked_for_and_only_for_staff(app, client):
    with app.app_context():
        conn = get_conn()
        site = sites.current(conn, "GZ-0003")
        sites.change_site(conn, "GZ-0003", base_version=site.version, author="alice", reason="merged into GZ-0004",
                          properties={**site.properties, "status": "retired"}, operation="retire")
    default = client.get(ITEMS.format("sites") + "?limit=1000", headers=bearer("field")).get_json()
    assert "GZ-0003" not in {f["id"] for f in default["features"]}
    retired = client.get(ITEMS.format("sites") + "?status=retired", headers=bearer("field")).get_json()
    assert [f["id"] for f in retired["features"]] == ["GZ-0003"]
    assert client.get(ITEMS.format("sites") + "?status=retired").get_json()["features"] == []


def test_a_change_shows_at_once_and_datetime_gives_the_past_state_to_staff(app, client):
    before = client.get(ITEMS.format("sites") + "/GZ-0001", headers=bearer("field")).get_json()
    with app.app_context():
        conn = get_conn()
        old = sites.current(conn, "GZ-0001")
        moved = Point(old.location.x + 0.001, old.location.y)
        sites.change_site(conn, "GZ-0001", base_version=old.version, location=moved, author="alice", reason="RTK")
    after = client.get(ITEMS.format("sites") + "/GZ-0001", headers=bearer("field")).get_json()
    assert after["properties"]["version"] == before["properties"]["version"] + 1
    assert shape(after["geometry"]).equals_exact(moved, 1e-7)
    then = before["properties"]["updated_at"]
    past = client.get(ITEMS.format("sites") + f"?datetime={then}&limit=1000", headers=bearer("field")).get_json()
    old_state = next(f for f in past["features"] if f["id"] == "GZ-0001")
    assert old_state["properties"]["version"] == before["properties"]["version"]
    assert old_state["geometry"] == before["geometry"]
    interval = client.get(ITEMS.format("sites") + f"?datetime=../{then}&limit=1000", headers=bearer("field")).get_json()
    assert next(f for f in interval["features"] if f["id"] == "GZ-0001")["properties"]["version"] == 1
    r = client.get(ITEMS.format("sites") + f"?datetime={then}")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert client.get(ITEMS.format("sites") + "?datetime=2020-01-01/..").status_code == 200  # open end: now


# ------------------------------------------------------------------------------------------------------ public view
def test_anonymous_items_are_exactly_the_public_view(app, client):
    with app.app_context():
        shown = public_view.list_public(get_conn())
    expected = {p.code: p for p in shown}
    features, _ = _walk(client, ITEMS.format("sites") + "?limit=10")
    assert [f["id"] for f in features] == sorted(expected)
    for f in features:
        p = expected[f["id"]]
        assert shape(f["geometry"]).equals_exact(p.location, 1e-7)
        assert set(f["properties"]) == {"code", *p.properties, "version", "generalized"}
    everything = _all_sites(app)
    hidden = [s for s in everything if s.sensitivity == "hidden"]
    generalized = [s for s in everything if s.sensitivity == "generalized"]
    assert hidden and generalized and not {s.code for s in hidden} & set(expected)
    for s in hidden:
        for layer in ("sites", "boundaries"):
            r = client.get(ITEMS.format(layer) + f"/{s.code}")
            assert r.status_code == 404 and r.mimetype == "application/problem+json"
    boundaries, _ = _walk(client, ITEMS.format("boundaries") + "?limit=1000")
    assert {f["id"] for f in boundaries} == {s.code for s in everything if s.sensitivity == "open" and s.boundary}
    # the same answer in a projected CRS is the public view moved, not another source
    gk = client.get(ITEMS.format("sites") + "?limit=1000&crs=EPSG:4545").get_json()
    some = next(p for p in shown if p.generalized)
    f = next(f for f in gk["features"] if f["id"] == some.code)
    zone = to_gauss_kruger(some.location.x, some.location.y)
    assert zone["epsg"] == 4545 or f["geometry"]["coordinates"] != pytest.approx([zone["x_northing"], zone["y_easting"]])
    if zone["epsg"] == 4545:
        assert f["geometry"]["coordinates"] == pytest.approx([zone["x_northing"], zone["y_easting"]], abs=0.002)


# ------------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("query, parameter", [
    ("crs=EPSG:3857", "crs"), ("crs=nonsense", "crs"), ("bbox-crs=EPSG:32648&bbox=1,2,3,4", "bbox-crs"),
    ("bbox=106,26,105,27", "bbox"), ("bbox=1,2,3", "bbox"), ("bbox=a,b,c,d", "bbox"), ("bbox=181,0,182,1", "bbox"),
    ("bbox=nan,1,2,3", "bbox"), ("bbox-crs=EPSG:4490", "bbox-crs"), ("limit=0", "limit"), ("limit=10001", "limit"),
    ("limit=abc", "limit"), ("limit=1&limit=2", "limit"), ("colour=red", "colour"), ("datetime=yesterday", "datetime"),
    ("datetime=2025-13-01", "datetime"), ("datetime=2025-03-01/2024-01-01", "datetime"),
    ("datetime=2025-01-01/2025-02-01/2025-03-01", "datetime"), ("cursor=GZ-0001&before=GZ-0009", "cursor"),
    ("f=xml", "f")])
def test_bad_parameters_are_400_naming_the_parameter(client, query, parameter):
    before = client.get(ITEMS.format("sites")).get_json()["features"]
    r = client.get(ITEMS.format("sites") + "?" + query)
    assert r.status_code == 400 and r.mimetype == "application/problem+json", (query, r.status_code)
    body = r.get_json()
    assert body["parameter"] == parameter and body["status"] == 400 and body["detail"], body
    assert client.get(ITEMS.format("sites")).get_json()["features"] == before


def test_single_item_refuses_unknown_parameters(client):
    r = client.get(ITEMS.format("sites") + "/GZ-0001?limit=3")
    assert r.status_code == 400 and r.get_json()["parameter"] == "limit"


# ------------------------------------------------------------------------------------------------------ HTML
def test_html_pages_for_people(app, client):
    with app.app_context():
        conn = get_conn()
        old = sites.current(conn, "GZ-0001")
        sites.change_site(conn, "GZ-0001", base_version=old.version, author="alice", reason="name",
                          properties={**old.properties, "name": "{{ 7*7 }}<script>alert(1)</script>"})
    for url in ("/ogcapi?f=html", "/ogcapi/conformance?f=html", "/ogcapi/collections?f=html",
                "/ogcapi/collections/sites?f=html", "/ogcapi/collections/sites/queryables?f=html",
                ITEMS.format("sites") + "?f=html", ITEMS.format("sites") + "/GZ-0001?f=html", "/ogcapi/api.html"):
        r = client.get(url)
        assert r.status_code == 200 and r.mimetype == "text/html", url
        page = r.get_data(as_text=True)
        assert "<script>alert(1)" not in page and ">49<" not in page, url
    page = client.get(ITEMS.format("sites") + "/GZ-0001?f=html").get_data(as_text=True)
    assert "{{ 7*7 }}&lt;script&gt;" in page
    zh = client.get(ITEMS.format("sites") + "?f=html&lang=zh").get_data(as_text=True)
    assert "化石" in zh


# ------------------------------------------------------------------------------------------------------ transport
def test_answers_are_compressed_when_asked(client):
    plain = client.get(ITEMS.format("sites") + "?limit=1000", headers=bearer("field"))
    for encoding in ("gzip", "br"):
        r = client.get(ITEMS.format("sites") + "?limit=1000", headers={**bearer("field"), "Accept-Encoding": encoding})
        assert r.headers["Content-Encoding"] == encoding and len(r.get_data()) < len(plain.get_data()) / 3
        assert "Accept-Encoding" in r.headers["Vary"]
        decode = gzip.decompress if encoding == "gzip" else brotli.decompress
        assert json.loads(decode(r.get_data()))["features"] == plain.get_json()["features"]


def test_api_sites_is_the_same_collection(client):
    alias = client.get("/api/sites?limit=5&bbox=103.6,24.6,109.6,29.2").get_json()
    ogc = client.get(ITEMS.format("sites") + "?limit=5&bbox=103.6,24.6,109.6,29.2").get_json()
    assert alias["features"] == ogc["features"] and alias["numberMatched"] == ogc["numberMatched"]
    nxt = next(link["href"] for link in alias["links"] if link["rel"] == "next")
    assert "/api/sites?" in nxt and "cursor=" in nxt


# ------------------------------------------------------------------------------------------------------ OpenAPI
def test_openapi_document_validates_and_covers_the_json_api(app, client):
    r = client.get("/ogcapi/api")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = r.get_json()
    validate(doc)
    for path in ("/ogcapi/collections/{collectionId}/items", "/ogcapi/collections/{collectionId}/items/{featureId}"):
        assert path in doc["paths"]
    params = {p["name"]: p for p in doc["paths"]["/ogcapi/collections/{collectionId}/items"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 10000 and params["limit"]["schema"]["default"] == 100
