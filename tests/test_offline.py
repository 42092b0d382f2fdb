"""The installable app's server side (web/offline.py, docs/offline.md): the service worker at the root with its
precache list from static/, the manifest in both languages, the CSP that lets them load, the fresh CSRF token of
queued forms, the URLs of an area to take offline, and sign-out's Clear-Site-Data. The browser side:
tests/test_offline_browser.py."""
from __future__ import annotations

import io
import json
import re

from .conftest import csrf_token, login
from .inspection_helpers import jpeg


def test_the_service_worker_is_served_from_the_root_with_the_shell_to_precache(client):
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Service-Worker-Allowed"] == "/" and r.headers["Cache-Control"] == "no-cache"
    text = r.get_data(as_text=True)
    config = json.loads(re.match(r"self\.FOSSIL_OFFLINE = (.*);\n", text).group(1))
    urls = {e["url"] for e in config["precache"]}
    assert "/static/vendor/leaflet/leaflet.js" in urls and "/static/css/app.css" in urls
    assert "/static/js/offline.js" in urls and "/static/icons/icon-192.png" in urls
    assert all(len(e["revision"]) == 16 for e in config["precache"])
    assert config["workbox"] == "/static/vendor/workbox/" and "importScripts(FOSSIL_OFFLINE.workbox" in text
    assert not any(u.startswith("http") for u in urls)  # nothing from a CDN


def test_workbox_is_installed_by_make_assets(app):
    from pathlib import Path
    folder = Path(app.static_folder) / "vendor" / "workbox"
    for module in ("workbox-sw.js", "workbox-core.prod.js", "workbox-precaching.prod.js", "workbox-routing.prod.js",
                   "workbox-strategies.prod.js"):
        assert (folder / module).is_file(), module


def test_the_manifest_names_the_app_in_the_reader_s_language(client):
    zh = json.loads(client.get("/manifest.webmanifest?lang=zh").get_data())
    en = json.loads(client.get("/manifest.webmanifest?lang=en").get_data())
    assert zh["lang"] == "zh" and "化石" in zh["name"] and en["lang"] == "en"
    assert en["name"] == "Fossil site registry" and en["scope"] == "/" and en["display"] == "standalone"
    assert {i["sizes"] for i in en["icons"]} == {"192x192", "512x512"}
    assert any(i["purpose"] == "maskable" for i in en["icons"])
    for icon in en["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_pages_link_the_manifest_and_the_csp_lets_the_worker_load(client):
    r = client.get("/report")
    page = r.get_data(as_text=True)
    assert 'rel="manifest"' in page and 'id="offline-config"' in page
    csp = r.headers["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp
    assert r.headers["X-Offline-Account"] == "public"


def test_the_offline_account_is_opaque_and_differs_per_account(app):
    names = set()
    for who in ("field", "expert"):
        client = app.test_client()
        login(client, who)
        r = client.get("/offline")
        name = r.headers["X-Offline-Account"]
        assert re.fullmatch(r"[0-9a-f]{20}", name) and name in r.get_data(as_text=True)
        names.add(name)
    assert len(names) == 2


def test_a_queued_form_gets_a_fresh_token_of_this_session(app):
    client = app.test_client()
    login(client, "expert")
    r = client.get("/offline/csrf-token")
    assert r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    photo = jpeg(lon=105.372, lat=25.878, taken="2024:05:01 10:00:00")
    sent = client.post("/sites/GZ-0001/inspections", headers={"Idempotency-Key": "queued-1"},
                       data={"csrf_token": body["csrf_token"], "date": "2024-05-01", "condition": "good",
                             "inspectors": "ellen", "photos": [(io.BytesIO(photo), "a.jpg")]},
                       content_type="multipart/form-data")
    assert sent.status_code == 303
    # a token of another session (the phone signed out and in again meanwhile) is refused, and the record kept
    other = app.test_client()
    login(other, "expert")
    refused = other.post("/sites/GZ-0001/inspections", headers={"Idempotency-Key": "queued-2"},
                         data={"csrf_token": body["csrf_token"], "date": "2024-05-01", "condition": "good"})
    assert refused.status_code in (400, 403)
    fresh = other.get("/offline/csrf-token").get_json()["csrf_token"]
    ok = other.post("/sites/GZ-0001/inspections", headers={"Idempotency-Key": "queued-2"},
                    data={"csrf_token": fresh, "date": "2024-05-01", "condition": "good", "inspectors": "ellen"})
    assert ok.status_code == 303


def test_an_area_lists_its_pages_in_both_languages_and_its_layers(app):
    client = app.test_client()
    login(client, "expert")
    plan = client.get("/offline/area/urls?sites=GZ-0001,GZ-0002").get_json()
    assert plan["sites"] == ["GZ-0001", "GZ-0002"]
    assert "/sites/GZ-0001/inspections/new?lang=zh" in plan["pages"]
    assert "/sites/GZ-0001/inspections/new?lang=en" in plan["pages"] and "/report" in plan["pages"]
    assert "/api/sites/GZ-0001" in plan["data"] and "/api/sites/GZ-0001/markers" in plan["data"]
    assert "/context/county-outlines.geojson" in plan["data"]
    for url in plan["pages"][:6] + plan["data"]:
        assert client.get(url).status_code == 200, url
    county = client.get("/offline/area/urls?county=关岭布依族苗族自治县").get_json()
    assert county["sites"] and all(s.startswith("GZ-") for s in county["sites"])
    assert client.get("/offline/area/urls").status_code == 422
    assert app.test_client().get("/offline/area/urls?sites=GZ-0001").status_code in (302, 401)


def test_sign_out_asks_the_browser_to_clear_the_site_s_storage(app):
    client = app.test_client()
    login(client, "expert")
    r = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert r.status_code == 302 and r.headers["Clear-Site-Data"] == '"cache", "storage"'
