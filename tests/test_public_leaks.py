"""Location protection at the one output point: every public answer (map page, its layers at every zoom, bbox probes
around each protected site and section, filters, search, statistics, every site and section page, every public API
answer, error pages) is collected and searched for any coordinate of a generalized or hidden site's or section's true
location, line or boundary, and of any rescue case's find (never public)."""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pytest

from fossil_registry import create_app, rescues, sites
from fossil_registry.blobs import BlobStore
from fossil_registry.db import get_conn
from fossil_registry.sections import SECTION

from .conftest import bearer
from .leaks import CLOCK_TIME, leaked_numbers, published_values, true_coordinates

REGION = "103.6,24.6,109.6,29.2"


def _public_urls(everything: list[sites.Site]) -> list[str]:
    secret = [s for s in everything if s.sensitivity != "open"]
    urls = ["/", "/?lang=en", "/?lang=zh", "/map/statistics.json", "/api/sites", f"/api/sites?bbox={REGION}",
            "/sites/GZ-9999", "/api/sites/GZ-9999", "/map/search.json?q=GZ", "/map/search.json?q=%E5%8C%96%E7%9F%B3"]
    for zoom in (3, 5, 7, 9, 11, 13, 15, 17, 19):
        for layer in ("sites", "boundaries"):
            urls.append(f"/map/{layer}.geojson?bbox={REGION}&zoom={zoom}")
    for level in sites.LEVELS:
        urls.append(f"/map/sites.geojson?bbox={REGION}&zoom=8&level={level}")
    for layer in ("sites", "boundaries", "inspections", "patrol-tracks"):  # the OGC API, JSON and HTML
        items = f"/ogcapi/collections/{layer}/items"
        urls += [f"/ogcapi/collections/{layer}", items, f"{items}?limit=10000", f"{items}?f=html&limit=10000",
                 f"{items}?bbox={REGION}&limit=3", f"{items}?status=retired", f"{items}?status=active,retired",
                 f"{items}?datetime=2020-01-01T00:00:00Z"]
    for layer in ("sites", "boundaries"):  # downloads as text (test_downloads.py reads the binary ones back)
        for ext in ("geojson", "kml", "csv"):
            urls += [f"/api/downloads/{layer}.{ext}", f"/api/downloads/{layer}.{ext}?bbox={REGION}"]
    urls += ["/api/downloads", "/downloads", "/downloads/file?layer=sites&format=csv&crs=EPSG:4490"]
    for s in everything:
        urls += [f"/sites/{s.code}", f"/sites/{s.code}?lang=en", f"/api/sites/{s.code}"]
        for layer in ("sites", "boundaries"):
            urls += [f"/ogcapi/collections/{layer}/items/{s.code}", f"/ogcapi/collections/{layer}/items/{s.code}?f=html"]
        for q in (s.code, s.properties["name"], s.properties.get("name_en") or s.code):
            urls.append(f"/map/search.json?q={q}")
    for s in secret:  # probes around the true location must not reveal it
        x, y = s.location.x, s.location.y
        for d in (1e-4, 0.01, 0.06):
            bbox = f"{x - d},{y - d},{x + d},{y + d}"
            urls += [f"/api/sites?bbox={bbox}", f"/ogcapi/collections/sites/items?bbox={bbox}",
                     f"/ogcapi/collections/boundaries/items?bbox={bbox}&f=html",
                     f"/api/downloads/sites.geojson?bbox={bbox}", f"/api/downloads/boundaries.csv?bbox={bbox}"]
            for zoom in (10, 14, 18):
                urls += [f"/map/sites.geojson?bbox={bbox}&zoom={zoom}", f"/map/boundaries.geojson?bbox={bbox}&zoom={zoom}"]
        urls.append(f"/map/sites.geojson?bbox={REGION}&zoom=9&period={s.properties['period']}")
        urls += [f"/map/sites.geojson?bbox={REGION}&zoom=9&group={g}" for g in s.properties.get("fossil_groups", [])]
    return urls


def _section_urls(sections: list[sites.Site], rescue_ids: list[int]) -> list[str]:
    """The sections' own public answers (list, map layer, OGC API) with bbox probes around each protected section's
    line, and the rescue cases' URLs (staff only: anonymous callers get 401)."""
    urls = ["/sections", "/sections?lang=zh", "/api/sections", f"/api/sections?bbox={REGION}&limit=1000",
            "/ogcapi/collections/sections/items?f=html&limit=1000", "/ogcapi/collections/markers/items?limit=1000",
            "/ogcapi/collections/section-points/items?limit=1000", "/ogcapi/collections/section-points/items?f=html",
            "/api/downloads/section-points.geojson", "/api/downloads/section-points.csv",
            "/ogcapi/collections/markers/items?f=html", "/api/sections/GZS-9999", "/sections/GZS-9999"]
    urls += [f"/map/sections.geojson?bbox={REGION}&zoom={z}" for z in (5, 9, 13, 17)]
    for s in sections:
        urls += [f"/ogcapi/collections/sections/items/{s.code}", f"/ogcapi/collections/sections/items/{s.code}?f=html",
                 f"/ogcapi/collections/section-points/items/{s.code}"]
        if s.sensitivity == "open":
            continue
        for x, y in list(s.location.coords)[::2]:
            for d in (1e-4, 0.01):
                bbox = f"{x - d},{y - d},{x + d},{y + d}"
                urls += [f"/api/sections?bbox={bbox}", f"/ogcapi/collections/sections/items?bbox={bbox}",
                         f"/ogcapi/collections/section-points/items?bbox={bbox}",
                         f"/map/sections.geojson?bbox={bbox}&zoom=16", f"/ogcapi/collections/markers/items?bbox={bbox}"]
    for case_id in rescue_ids:
        urls += [f"/rescues/{case_id}", f"/api/rescues/{case_id}"]
    return urls


def _rescue_case(app) -> tuple[int, list[float]]:
    """A rescue case of a find reported beside a public site (its place must never be public)."""
    with app.app_context():
        conn = get_conn()
        case = rescues.open_case(conn, BlobStore(app.config["DATA_DIR"]), {
            "source": "public_report", "reported_by": "leak sweep", "reported_at": "2026-03-02T10:00",
            "point": [105.38123, 25.87456], "description": "Bones in a new road cut near the crinoid site"},
            settings=rescues.Settings.from_config(app.config), actor="ellen")
        rescues.add_event(conn, BlobStore(app.config["DATA_DIR"]), case["fid"], {
            "kind": "new_site_proposed", "done_at": "2026-03-03T10:00",
            "site": {"properties": {"name": "泄漏检查新发现", "sensitivity": "open"}}},
            settings=rescues.Settings.from_config(app.config), actor="ellen")
        return case["fid"], [105.38123, 25.87456]


def _every_get_endpoint(app, everything: list[sites.Site]) -> list[str]:
    """Every GET URL of the app that takes no argument or only a code (for every site and section): whatever other
    areas add (reports, OGC API, exports, sections, markers...) is checked too."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if not rule.arguments:
            urls.append(rule.rule)
        elif rule.arguments == {"code"}:
            urls += [rule.rule.replace("<code>", s.code) for s in everything]
    return urls


def _collect(app, urls: list[str], headers=None) -> list[tuple[str, int, str]]:
    client = app.test_client()
    out = []
    for url in urls:
        r = client.get(url, headers=headers or {})
        out.append((url, r.status_code, _without_echo(url, r.get_data(as_text=True))))
    return out


def _without_echo(url: str, body: str) -> str:
    """The body without the numbers of the request's own query (self/next links repeat the caller's bbox probe, which
    is the caller's input, not the registry's data)."""
    for number in sorted(set(re.findall(r"-?\d+\.\d+", unquote(urlsplit(url).query))), key=len, reverse=True):
        body = body.replace(number, "")
    return body


def _assert_no_leaks(responses, everything, never_public: list[float] = ()):
    assert all(status in (200, 401, 404) for _, status, _ in responses), \
        [(u, s) for u, s, _ in responses if s not in (200, 401, 404)][:5]
    assert all(status in (200, 404) for url, status, _ in responses if url.startswith(("/map/", "/sites/"))
               and url.count("/") <= 2)
    # the numeric tokens of every answer, once (leaked_numbers looks at nothing else)
    text = CLOCK_TIME.sub(" ", "\n".join(body for _, _, body in responses))
    blob = " ".join(set(re.findall(r"-?\d+\.\d{3,}", text)))
    public_values = published_values(everything)
    for s in everything:
        if s.sensitivity == "open":
            continue
        values = true_coordinates(s.location) + (true_coordinates(s.boundary) if s.boundary is not None else [])
        leaked = leaked_numbers(blob, values, public_values)
        assert not leaked, (s.code, s.sensitivity, leaked[:5])
    assert not leaked_numbers(blob, list(never_public), public_values), "a rescue case's place leaked"
    for s in everything:
        if s.sensitivity != "hidden":
            continue
        for url, status, body in responses:
            for text in (s.properties["name"], s.properties.get("name_en"), s.properties.get("description")):
                assert not text or text not in body, (s.code, url)
            if s.code not in url:  # a 404 may repeat the code it was asked for, as for any unknown code
                assert s.code not in body, (s.code, url)


@pytest.mark.parametrize("max_points", [500, 4], ids=["single-sites", "counted-clusters"])
def test_no_public_answer_carries_a_protected_sites_true_location(demo_data_dir, max_points):
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x",
                      "MAP_MAX_POINTS": max_points})
    with app.app_context():
        everything = sites.list_current(get_conn())
        sections = sites.list_current(get_conn(), kind=SECTION)
    assert sum(s.sensitivity == "generalized" for s in everything) >= 5
    assert sum(s.sensitivity == "hidden" for s in everything) >= 2
    assert sum(s.sensitivity == "generalized" for s in sections) >= 2
    assert sum(s.sensitivity == "hidden" for s in sections) >= 2
    case_id, find = _rescue_case(app)
    urls = _public_urls(everything)
    if max_points == 4:  # only the map layers answer differently when clusters are counted
        urls = [u for u in urls if u.startswith("/map/")]
    else:
        urls += _every_get_endpoint(app, everything + sections) + _section_urls(sections, [case_id])
    responses = _collect(app, urls)
    assert len(responses) > 400
    if max_points == 4:
        assert any('"aggregated":true' in body for _, _, body in responses)
    else:
        assert any(url.startswith("/sections/GZS-0001") and status == 200 for url, status, _ in responses)
        assert all(status == 401 for url, status, _ in responses if "/rescues" in url)
    _assert_no_leaks(responses, everything + sections, find)


def test_the_leak_check_can_fail(app):
    """Staff answers on the same URLs do carry the true coordinates, and the check finds them."""
    with app.app_context():
        everything = sites.list_current(get_conn())
    secret = next(s for s in everything if s.sensitivity == "generalized" and s.boundary is not None)
    x, y = secret.location.x, secret.location.y
    staff = _collect(app, [f"/map/sites.geojson?bbox={x - 0.01},{y - 0.01},{x + 0.01},{y + 0.01}&zoom=14",
                           f"/map/boundaries.geojson?bbox={x - 0.01},{y - 0.01},{x + 0.01},{y + 0.01}&zoom=14"],
                     headers=bearer("field"))
    with pytest.raises(AssertionError):
        _assert_no_leaks(staff, everything)


def test_the_leak_check_can_fail_on_the_feature_service(app):
    """The OGC API answers staff the exact data; the same check on them finds it."""
    with app.app_context():
        everything = sites.list_current(get_conn())
    for url in ("/ogcapi/collections/sites/items?limit=10000", "/ogcapi/collections/boundaries/items?limit=10000&f=html"):
        with pytest.raises(AssertionError):
            _assert_no_leaks(_collect(app, [url], headers=bearer("field")), everything)
        _assert_no_leaks(_collect(app, [url]), everything)


def test_the_leak_check_can_fail_on_downloads(app):
    """Staff downloads carry the exact data; the same check on them finds it (test_downloads.py does the same for the
    binary formats, read back by GDAL)."""
    with app.app_context():
        everything = sites.list_current(get_conn())
    for url in ("/api/downloads/sites.csv", "/api/downloads/boundaries.kml", "/api/downloads/sites.geojson"):
        with pytest.raises(AssertionError):
            _assert_no_leaks(_collect(app, [url], headers=bearer("field")), everything)
        _assert_no_leaks(_collect(app, [url]), everything)


def test_the_leak_check_can_fail_on_sections_and_rescue_cases(app):
    """Staff answers carry the protected sections' lines and the find's place; the same check finds them, and finds
    nothing in the anonymous answers on the same URLs."""
    with app.app_context():
        sections = sites.list_current(get_conn(), kind=SECTION)
    case_id, find = _rescue_case(app)
    hidden = next(s for s in sections if s.sensitivity == "hidden")
    for url in ("/map/sections.geojson?bbox=103.6,24.6,109.6,29.2&zoom=16", f"/api/sections/{hidden.code}",
                "/ogcapi/collections/sections/items?limit=1000"):
        with pytest.raises(AssertionError):
            _assert_no_leaks(_collect(app, [url], headers=bearer("field")), sections)
        _assert_no_leaks(_collect(app, [url]), sections)
    with pytest.raises(AssertionError, match="rescue"):
        _assert_no_leaks(_collect(app, [f"/api/rescues/{case_id}"], headers=bearer("field")), [], find)
    _assert_no_leaks(_collect(app, [f"/api/rescues/{case_id}"]), [], find)
