"""Links follow the published address, not the request's Host header (issue 22): a made-up Host (or X-Forwarded-Host)
never appears in any answer's links (OGC API landing, collections, items and their next links, a feature, the OpenAPI
document, the downloads catalogue, a report's receipt), with or without a configured PUBLIC_BASE_URL and behind a
trusted proxy; and every public answer carries an explicit cache policy."""
from __future__ import annotations

import io

import pytest

from fossil_registry import create_app

from .conftest import bearer
from .inspection_helpers import jpeg

EVIL = "evil.example"
PAGES = ["/ogcapi", "/ogcapi?f=html", "/ogcapi/collections", "/ogcapi/collections/sites",
         "/ogcapi/collections/sites/items?limit=2", "/ogcapi/collections/sites/items?limit=2&f=html",
         "/ogcapi/collections/sections/items?limit=2", "/ogcapi/collections/sites/items/GZ-0001",
         "/ogcapi/api", "/ogcapi/api.html", "/api/sites?limit=2", "/api/downloads", "/downloads", "/sites/GZ-0001"]


def make_app(demo_data_dir, **config):
    return create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "test-secret", **config})


def report(client, **kw):
    r = client.post("/api/reports", content_type="multipart/form-data", data={
        "kind": "find", "lon": "105.41", "lat": "25.905", "description": "Fish fossils in dumped slabs.",
        "photos": [(io.BytesIO(jpeg(lon=105.41, lat=25.905, taken="2024:05:01 12:00:00")), "fish.jpg")]}, **kw)
    assert r.status_code == 201, r.get_json()
    return r


def answers(client, **kw) -> list[tuple[str, str]]:
    """(url, everything a client reads of the answer: headers and body) for every page that carries links, anonymous
    and as staff, and a report's receipt."""
    out = []
    for headers in ({}, bearer("expert")):
        for url in PAGES:
            r = client.get(url, headers={**headers, **kw.get("headers", {})}, base_url=kw.get("base_url"))
            assert r.status_code == 200, (url, r.status_code)
            out.append((url, str(r.headers) + r.get_data(as_text=True)))
    r = report(client, headers=kw.get("headers", {}), base_url=kw.get("base_url"))
    out.append(("POST /api/reports", str(r.headers) + r.get_data(as_text=True)))
    receipt = client.get(r.get_json()["receipt_url"], headers=kw.get("headers", {}), base_url=kw.get("base_url"))
    out.append(("receipt page", receipt.get_data(as_text=True)))
    return out


def test_a_made_up_host_never_appears_in_a_link(app):
    client = app.test_client()
    for url, seen in answers(client, base_url=f"http://{EVIL}"):
        assert EVIL not in seen, url
    # links stay usable: relative to the site's root, resolved against the address the client asked
    items = client.get("/ogcapi/collections/sites/items?limit=2", base_url=f"http://{EVIL}").get_json()
    nxt = next(link["href"] for link in items["links"] if link["rel"] == "next")
    assert nxt.startswith("/ogcapi/collections/sites/items?") and "limit=2" in nxt
    doc = client.get("/ogcapi/api", base_url=f"http://{EVIL}").get_json()
    assert doc["servers"] == [{"url": "/"}]


def test_on_this_machine_links_are_absolute(app):
    items = app.test_client().get("/ogcapi/collections/sites/items?limit=2").get_json()
    assert all(link["href"].startswith("http://localhost/ogcapi/") for link in items["links"])
    r = report(app.test_client(), base_url="http://127.0.0.1:5000")
    assert r.get_json()["receipt_url"].startswith("http://127.0.0.1:5000/report/")


@pytest.mark.parametrize("proxy_fix", [0, 1])
def test_the_configured_base_url_makes_every_link(demo_data_dir, proxy_fix):
    base = "https://fossils.example.gov.cn/registry"
    app = make_app(demo_data_dir, PUBLIC_BASE_URL=base + "/", PROXY_FIX=proxy_fix)
    client = app.test_client()
    forged = {"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "http"}
    for url, seen in answers(client, base_url=f"http://{EVIL}", headers=forged):
        assert EVIL not in seen, url
    items = client.get("/ogcapi/collections/sites/items?limit=2", headers=forged).get_json()
    assert {link["rel"] for link in items["links"]} >= {"self", "next"}
    assert all(link["href"].startswith(base + "/ogcapi/") for link in items["links"])
    assert client.get("/ogcapi/api").get_json()["servers"] == [{"url": base}]
    catalog = client.get("/api/downloads").get_json()
    hrefs = [link["href"] for layer in catalog["layers"] for link in layer["links"]]
    assert hrefs and all(h.startswith(base + "/api/downloads/") for h in hrefs)
    assert report(client).get_json()["receipt_url"].startswith(base + "/report/")


def test_behind_a_trusted_proxy_without_a_base_url_a_forwarded_host_is_not_reflected(demo_data_dir):
    app = make_app(demo_data_dir, PROXY_FIX=1)
    client = app.test_client()
    for url, seen in answers(client, headers={"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"}):
        assert EVIL not in seen, url


def test_a_base_url_that_is_no_address_stops_the_start(demo_data_dir):
    for bad in ("fossils.example.gov.cn", "ftp://fossils.example.gov.cn", "https://fossils.example.gov.cn/?x=1",
                "https://user@fossils.example.gov.cn"):
        with pytest.raises(SystemExit, match="FLASK_PUBLIC_BASE_URL"):
            make_app(demo_data_dir, PUBLIC_BASE_URL=bad)


PUBLIC = ["/", "/sites/GZ-0001", "/sections", "/report", "/downloads", "/ogcapi", "/ogcapi/collections/sites/items",
          "/ogcapi/collections/sites/items/GZ-0001", "/ogcapi/api", "/api/sites", "/api/sites/GZ-0001",
          "/api/sections/GZS-0001", "/api/downloads", "/api/downloads/sites.geojson", "/map/statistics.json",
          "/map/sites.geojson?bbox=103.6,24.6,109.6,29.2&zoom=8", "/map/search.json?q=gl", "/static/css/app.css",
          "/api/sites/GZ-0004", "/sites/GZ-0004", "/no/such/page"]


def test_every_public_answer_has_an_explicit_cache_policy(app):
    client = app.test_client()
    for url in PUBLIC:
        r = client.get(url)
        policy = r.headers.get("Cache-Control", "")
        assert policy, url
        if r.status_code >= 400:  # an error is never kept
            assert "no-store" in policy, (url, policy)
        elif r.mimetype == "text/html" or "Set-Cookie" in r.headers:  # a page: its nonce, its form token
            assert "private" in policy or "no-store" in policy, (url, policy)
        else:  # may be kept, but asked again before each use: a site just hidden vanishes at once
            assert "no-cache" in policy or "max-age" in policy, (url, policy)
    r = report(client)
    assert "no-store" in r.headers["Cache-Control"]  # an answer to a POST carries the receipt
    assert "private" in client.get(r.get_json()["receipt_url"]).headers["Cache-Control"]
    # staff answers stay no-store
    assert client.get("/ogcapi/collections/sites/items", headers=bearer("expert")).headers["Cache-Control"] == "no-store"
