"""The public protection map: its layers, search, statistics and the site pages (HTTP level; the browser is in
test_public_map_browser.py, the leak check over every public answer in test_public_leaks.py)."""
from __future__ import annotations

import json
import re

import pytest
from shapely.geometry import shape

from fossil_registry import ROOT, coords, create_app, map_layers, public_view, sites
from fossil_registry.db import get_conn
from fossil_registry.geometry import grid_cell_centre, vertex_count

from .conftest import bearer, login, make_site

REGION = "103.6,24.6,109.6,29.2"


@pytest.fixture
def demo(app):
    with app.app_context():
        return {s.code: s for s in sites.list_current(get_conn())}


def _codes(body) -> set[str]:
    return {f["id"] for f in body["features"]}


# ------------------------------------------------------------------------------------------------------ map page
def test_map_page_is_small_and_carries_no_site_data(client, demo):
    r = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and len(r.data) < 20_000
    assert not any(code in html for code in demo)  # the layers come from /map/*.geojson, not inlined
    nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
    tags = re.findall(r"<script\b[^>]*>", html)
    assert tags and all(f'nonce="{nonce}"' in t or 'type="application/json"' in t for t in tags)
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    config = re.search(r'<script type="application/json" id="map-config"[^>]*>(.*?)</script>', html, re.S)
    assert '"sites": "/map/sites.geojson"' in config.group(1) and '"exact": false' in config.group(1)


def test_map_page_speaks_chinese_to_chinese_browsers_and_switches(client):
    zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "化石产地保护地图" in zh and "国家级重点保护产地" in zh and "未经批准擅自发掘古生物化石" in zh
    config = json.loads(re.search(r'id="map-config">(.*?)</script>', zh, re.S).group(1))
    assert config["lang"] == "zh" and config["labels"]["site_page"] == "产地详情"
    assert config["labels"]["levels"]["national"] == "国家级重点保护产地"
    assert config["labels"]["groups"]["ichthyosaurs"] == "鱼龙类" and config["labels"]["periods"]["Cambrian"] == "寒武纪"
    en = client.get("/?lang=en", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Fossil site protection map" in en and "national key site" in en and "200,000–500,000 yuan" in en
    # remembered: the next page without ?lang stays English
    assert "national key site" in client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)


# ------------------------------------------------------------------------------------------------------ layers
def test_anonymous_site_layer_is_the_public_view(app, client, demo):
    body = client.get(f"/map/sites.geojson?bbox={REGION}&zoom=7").get_json()
    with app.app_context():
        public = {p.code: p for p in public_view.list_public(get_conn(), tuple(map(float, REGION.split(","))))}
    assert body["aggregated"] is False and _codes(body) == set(public) and body["total"] == len(public)
    assert not any(demo[c].sensitivity == "hidden" for c in _codes(body))
    for f in body["features"]:
        site, p = demo[f["id"]], f["properties"]
        assert "sensitivity" not in p and "updated_by" not in p
        assert p["name"] == site.properties["name"] and p["level"] == site.properties["level"]
        if site.sensitivity == "generalized":
            assert p["precision"] == "cell"
            assert f["geometry"]["coordinates"] == list(grid_cell_centre(site.location.x, site.location.y))
        else:
            assert p["precision"] == "exact"
            assert f["geometry"]["coordinates"] == [round(site.location.x, 6), round(site.location.y, 6)]


def test_popups_read_ages_in_chinese_on_chinese_pages(client, demo):
    """The layers carry each age's Chinese (age_zh, from the chart's names) beside the age as stored, and the map's
    script shows it on a Chinese page: a popup read "Late Triassic (Carnian)" to a Chinese reader (issue 25)."""
    features = client.get(f"/map/sites.geojson?bbox={REGION}&zoom=7").get_json()["features"]
    features += client.get(f"/map/sections.geojson?bbox={REGION}&zoom=16").get_json()["features"]
    aged = [f["properties"] for f in features if f["properties"].get("age")]
    assert aged and all("age_zh" in p for p in aged)
    carnian = next(p for p in aged if "Carnian" in p["age"])
    assert carnian["age_zh"] == "晚三叠世（卡尼期）"
    assert sum(p["age_zh"] is not None for p in aged) >= 0.9 * len(aged)
    script = (ROOT / "static" / "js" / "public-map.js").read_text(encoding="utf-8")
    assert "p.age_zh" in script and "p.age]" not in script


def test_staff_get_exact_data_on_the_same_endpoints(client, demo):
    body = client.get(f"/map/sites.geojson?bbox={REGION}&zoom=7", headers=bearer("field")).get_json()
    assert _codes(body) == {c for c, s in demo.items() if s.properties["status"] == "active"}
    hidden = next(c for c, s in demo.items() if s.sensitivity == "hidden")
    f = next(f for f in body["features"] if f["id"] == hidden)
    assert f["properties"]["sensitivity"] == "hidden"
    assert f["geometry"]["coordinates"] == [round(demo[hidden].location.x, 6), round(demo[hidden].location.y, 6)]
    bounds = client.get(f"/map/boundaries.geojson?bbox={REGION}&zoom=16", headers=bearer("field")).get_json()
    assert hidden in _codes(bounds) or demo[hidden].boundary is None
    r = client.get(f"/map/sites.geojson?bbox={REGION}&zoom=7")
    assert r.headers["Cache-Control"] == "no-cache" and "Cookie" in r.headers["Vary"] and r.headers["ETag"]
    again = client.get(f"/map/sites.geojson?bbox={REGION}&zoom=7", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    staff = client.get(f"/map/sites.geojson?bbox={REGION}&zoom=7", headers=bearer("field"))
    assert staff.headers.get("Cache-Control") == "private, no-store" or "ETag" not in staff.headers


def test_filters_by_level_period_and_fossil_group(client, demo):
    def codes(query):
        return _codes(client.get(f"/map/sites.geojson?bbox={REGION}&zoom=7&{query}").get_json())
    everything = codes("")
    national = codes("level=national")
    assert national and national == {c for c in everything if demo[c].properties["level"] == "national"}
    assert codes("level=national,provincial") == codes("level=national&level=provincial") == \
        {c for c in everything if demo[c].properties["level"] != "general"}
    cambrian = codes("period=Cambrian")
    assert cambrian and all(demo[c].properties["period"] == "Cambrian" for c in cambrian)
    trilobites = codes("group=trilobites")
    assert trilobites == {c for c in everything if "trilobites" in demo[c].properties["fossil_groups"]}
    both = codes("period=Triassic&group=ichthyosaurs&level=national")
    assert both and all(demo[c].properties["level"] == "national" and "ichthyosaurs" in
                        demo[c].properties["fossil_groups"] for c in both)
    for bad in ("level=federal", "period=Jurassic,Cenozoic", "group=unicorns", "zoom=40", "zoom=x", "bbox=1,2,3"):
        r = client.get(f"/map/sites.geojson?{bad}")
        assert r.status_code == 422 and r.mimetype == "application/problem+json", bad


def test_a_crowded_view_gets_counted_clusters(demo_data_dir, demo):
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x", "MAP_MAX_POINTS": 10})
    client = app.test_client()
    body = client.get(f"/map/sites.geojson?bbox={REGION}&zoom=7").get_json()
    public = client.get(f"/api/sites?bbox={REGION}").get_json()["features"]
    assert body["aggregated"] is True and body["total"] == len(public)
    assert sum(f["properties"]["count"] for f in body["features"]) == len(public)
    assert 1 < len(body["features"]) < len(public)
    for f in body["features"]:
        props = f["properties"]
        assert sum(props["by_level"].values()) == props["count"]
        minx, miny, maxx, maxy = props["bbox"]
        lon, lat = f["geometry"]["coordinates"]
        assert minx - 1e-6 <= lon <= maxx + 1e-6 and miny - 1e-6 <= lat <= maxy + 1e-6
    zoomed = client.get("/map/sites.geojson?bbox=105.3,25.8,105.45,25.95&zoom=13").get_json()
    assert zoomed["aggregated"] is False and zoomed["features"]


def test_boundaries_are_public_only_for_open_sites_and_simplified_for_the_zoom(client, demo):
    fine = client.get(f"/map/boundaries.geojson?bbox={REGION}&zoom=16").get_json()
    with_boundary = {c for c, s in demo.items() if s.boundary is not None and s.sensitivity == "open"}
    assert _codes(fine) == with_boundary
    for f in fine["features"]:
        assert shape(f["geometry"]).equals_exact(demo[f["id"]].boundary, 1e-6)
    coarse = client.get(f"/map/boundaries.geojson?bbox={REGION}&zoom=10").get_json()
    assert _codes(coarse) <= with_boundary
    simplified = {f["id"]: shape(f["geometry"]) for f in coarse["features"]}
    assert sum(vertex_count(g) for g in simplified.values()) < sum(vertex_count(demo[c].boundary) for c in simplified)
    assert all(g.is_valid for g in simplified.values())
    # at a small scale the boundaries that would be a few pixels are left to the markers
    tiny = client.get(f"/map/boundaries.geojson?bbox={REGION}&zoom=5").get_json()
    assert len(tiny["features"]) < len(fine["features"])


def test_search_by_code_and_names(client, demo):
    def found(q, **kw):
        return [f["id"] for f in client.get("/map/search.json", query_string={"q": q}, **kw).get_json()["features"]]
    assert found("GZ-0001")[0] == "GZ-0001" and found("gz-0001")[0] == "GZ-0001"
    assert "GZ-0001" in found("卧龙岗") and "GZ-0001" in found("wolonggang")
    assert found("") == [] and found("no such site anywhere") == []
    hidden = next(s for s in demo.values() if s.sensitivity == "hidden")
    assert hidden.code not in found(hidden.code) and hidden.code not in found(hidden.properties["name"])
    assert found(hidden.code, headers=bearer("field"))[0] == hidden.code
    generalized = next(s for s in demo.values() if s.sensitivity == "generalized")
    hit = client.get("/map/search.json", query_string={"q": generalized.code}).get_json()["features"][0]
    assert hit["properties"]["precision"] == "cell"
    assert hit["geometry"]["coordinates"] == list(grid_cell_centre(generalized.location.x, generalized.location.y))


def test_statistics_count_every_active_site(client, demo):
    stats = client.get("/map/statistics.json").get_json()
    active = [s for s in demo.values() if s.properties["status"] == "active"]
    assert stats["total"] == len(active)
    assert stats["by_sensitivity"]["hidden"] == sum(s.sensitivity == "hidden" for s in active) > 0


def test_site_layer_unit_behaviour():
    def mk(code, lon, lat, level="general", groups=("crinoids",)):
        return map_layers.MapSite(code, lon, lat, {"code": code, "name": code, "name_en": None, "level": level,
                                                   "period": "Triassic", "fossil_groups": list(groups)}, None, "exact")
    items = [mk(f"GZ-{i:04d}", 105 + i * 0.001, 26.0) for i in range(20)] + [mk("GZ-0100", 108.0, 28.0, "national")]
    body = map_layers.site_layer(items, 8, max_points=5)
    counts = sorted(f["properties"]["count"] for f in body["features"])
    assert body["aggregated"] and counts == [1, 20]
    only = map_layers.site_layer(items, 8, map_layers.Filters.parse(["national"]), max_points=5)
    assert not only["aggregated"] and _codes(only) == {"GZ-0100"}
    assert [f["id"] for f in map_layers.search(items, "GZ-001")][:2] == ["GZ-0010", "GZ-0011"]


# ------------------------------------------------------------------------------------------------------ site pages
def test_public_site_page_shows_what_is_protected_and_what_is_forbidden(client, demo):
    site = demo["GZ-0001"]
    r = client.get("/sites/GZ-0001?lang=en")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and site.sensitivity == "open"
    for text in (site.properties["name"], site.properties["name_en"], site.properties["description_en"],
                 site.properties["formation_en"], site.properties["age"], "national key site", "ichthyosaurs",
                 "Digging for fossils without a permit is forbidden and is fined 200,000–500,000 yuan",
                 "within 24 hours", 'href="/report?site=GZ-0001"', "css/public.css"):
        assert text in html, text
    assert "@media print" in (ROOT / "static/css/public.css").read_text()  # print-friendly for field teams
    assert 'id="staff"' not in html and "/revisions/new" not in html and "Version history" not in html
    assert "L.geoJson" in html  # the boundary is drawn on the small map
    zh = client.get("/sites/GZ-0001?lang=zh").get_data(as_text=True)
    assert "保护规定" in zh and "20万元以上50万元以下罚款" in zh and site.properties["description"] in zh
    assert "鱼龙类" in zh and "三叠纪" in zh
    # the formation by its Chinese name, the age by the chart's Chinese names (issue 25)
    assert site.properties["formation"] == "小凹组" and "小凹组" in zh and "晚三叠世（卡尼期）" in zh
    assert "Xiaowa Formation" not in zh and "Carnian" not in zh


def test_generalized_site_page_shows_only_the_grid_cell(client, demo):
    site = next(s for s in demo.values() if s.sensitivity == "generalized" and s.boundary is not None)
    html = client.get(f"/sites/{site.code}?lang=en").get_data(as_text=True)
    assert 'id="approximate-note"' in html and "L.geoJson" not in html
    lon, lat = grid_cell_centre(site.location.x, site.location.y)
    assert f"[{lat}, {lon}]" in html or f"[{lat:.2f}, {lon:.2f}]" in html


def test_hidden_and_retired_sites_answer_like_unknown_codes(app, client, demo):
    with app.app_context():
        conn = get_conn()
        retired = make_site(conn, code="GZ-0900", lon=106.1, lat=26.1)
        sites.change_site(conn, retired.code, base_version=1, properties={"status": "retired"}, author="t",
                          reason="retired for the test")
    hidden = next(c for c, s in demo.items() if s.sensitivity == "hidden")
    def page(r) -> str:  # the script nonce is new in every answer, whatever was asked
        return re.sub(r'nonce="[^"]+"', 'nonce=""', r.get_data(as_text=True))

    unknown = client.get("/sites/GZ-9999")
    assert unknown.status_code == 404
    for code in (hidden, "GZ-0900"):
        r = client.get(f"/sites/{code}")
        assert r.status_code == 404
        assert page(r).replace(code, "GZ-9999") == page(unknown)
    login(client, "field")
    page = client.get("/sites/GZ-0900?lang=en").get_data(as_text=True)
    assert "retired" in page


def test_staff_site_page_has_exact_coordinates_zone_and_history(app, client, demo):
    site = next(s for s in demo.values() if s.sensitivity == "hidden")
    with app.app_context():
        sites.change_site(get_conn(), site.code, base_version=site.version, properties={"age": "Carnian"},
                          author="ellen", reason="age refined from conodonts")
    login(client, "field")
    html = client.get(f"/sites/{site.code}?lang=en").get_data(as_text=True)
    lon, lat = site.location.x, site.location.y
    gk = coords.to_gauss_kruger(lon, lat)
    assert f"{lat:.6f}, {lon:.6f}" in html
    assert coords.format_dms(lat, "N", "S") in html and coords.format_dms(lon, "E", "W") in html
    assert f"zone {gk['zone']}, central meridian {gk['cm']}°E" in html and f"EPSG:{gk['epsg']}" in html
    assert f"{gk['x_northing']:.2f} m" in html and f"{gk['y_easting_prefixed']:.2f} m" in html
    for link in (f"/sites/{site.code}/history", f"/sites/{site.code}/timeline", f"/revisions/new?site={site.code}",
                 f"/sites/{site.code}/inspections/new"):
        assert f'href="{link}"' in html
    history = re.search(r'<table id="history">(.*?)</table>', html, re.S).group(1)
    with app.app_context():
        first = sites.history(get_conn(), site.code)[0]
    assert "age refined from conodonts" in history and "ellen" in history and first.reason in history
    assert history.index("age refined") < history.index(first.reason)  # newest first
    assert "location hidden from the public" in html


def test_a_change_reaches_the_map_at_once(app, client, demo):
    """The layers are cached per registry state: a site made hidden disappears from the very next answer."""
    site = demo["GZ-0001"]
    url = f"/map/sites.geojson?bbox={REGION}&zoom=7"
    assert "GZ-0001" in _codes(client.get(url).get_json())
    assert client.get("/map/statistics.json").get_json()["by_sensitivity"]["open"] > 0
    before = client.get("/map/statistics.json").get_json()
    with app.app_context():
        sites.change_site(get_conn(), "GZ-0001", base_version=site.version, properties={"sensitivity": "hidden"},
                          author="ellen", reason="looting reported")
    assert "GZ-0001" not in _codes(client.get(url).get_json())
    assert "GZ-0001" not in _codes(client.get(f"/map/boundaries.geojson?bbox={REGION}&zoom=16").get_json())
    assert client.get("/map/search.json?q=GZ-0001").get_json()["features"] == []
    after = client.get("/map/statistics.json").get_json()
    assert after["by_sensitivity"]["hidden"] == before["by_sensitivity"]["hidden"] + 1
    with app.app_context():
        sites.change_site(get_conn(), "GZ-0001", base_version=site.version + 1, author="ellen", reason="moved",
                          properties={"sensitivity": "open"}, location=type(site.location)(105.3725, 25.8785))
    moved = next(f for f in client.get(url).get_json()["features"] if f["id"] == "GZ-0001")
    assert moved["geometry"]["coordinates"] == [105.3725, 25.8785]
