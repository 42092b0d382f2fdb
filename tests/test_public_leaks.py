"""Location protection at the one output point: every public answer (map page, its layers at every zoom, bbox probes
around each protected site, filters, search, statistics, every site page, every public API answer, error pages) is
collected and searched for any coordinate of a generalized or hidden site's true location or boundary."""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pytest

from fossil_registry import create_app, sites
from fossil_registry.db import get_conn

from .conftest import bearer
from .leaks import CLOCK_TIME, leaked_numbers, true_coordinates

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
        urls += [f"/map/sites.geojson?bbox={REGION}&zoom=9&group={g}" for g in s.properties["fossil_groups"]]
    return urls


def _every_get_endpoint(app, everything: list[sites.Site]) -> list[str]:
    """Every GET URL of the app that takes no argument or only a site code (for every site): whatever other areas
    add (reports, OGC API, exports...) is checked too."""
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


def _assert_no_leaks(responses, everything):
    assert all(status in (200, 401, 404) for _, status, _ in responses), \
        [(u, s) for u, s, _ in responses if s not in (200, 401, 404)][:5]
    assert all(status in (200, 404) for url, status, _ in responses if url.startswith(("/map/", "/sites/"))
               and url.count("/") <= 2)
    # the numeric tokens of every answer, once (leaked_numbers looks at nothing else)
    text = CLOCK_TIME.sub(" ", "\n".join(body for _, _, body in responses))
    blob = " ".join(set(re.findall(r"-?\d+\.\d{3,}", text)))
    public_values = frozenset(v for s in everything if s.sensitivity == "open"
                              for v in true_coordinates(s.location) + (true_coordinates(s.boundary) if s.boundary else []))
    for s in everything:
        if s.sensitivity == "open":
            continue
        values = true_coordinates(s.location) + (true_coordinates(s.boundary) if s.boundary is not None else [])
        leaked = leaked_numbers(blob, values, public_values)
        assert not leaked, (s.code, s.sensitivity, leaked[:5])
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
    assert sum(s.sensitivity == "generalized" for s in everything) >= 5
    assert sum(s.sensitivity == "hidden" for s in everything) >= 2
    urls = _public_urls(everything)
    if max_points == 4:  # only the map layers answer differently when clusters are counted
        urls = [u for u in urls if u.startswith("/map/")]
    else:
        urls += _every_get_endpoint(app, everything)
    responses = _collect(app, urls)
    assert len(responses) > 400
    if max_points == 4:
        assert any('"aggregated":true' in body for _, _, body in responses)
    _assert_no_leaks(responses, everything)


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
