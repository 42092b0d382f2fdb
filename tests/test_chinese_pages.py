"""No English word in the Chinese interface (issue 25, point 3): a crawl of every page each role reaches (anonymous,
field, expert, admin) from its start pages, in Chinese, over the demo registry with its activity (as `make run` serves
it), reading what a person reads (visible text, tooltips, placeholders, labels for screen readers; scripts and styles
left out, text marked as another language such as an English name left out). Latin letters are allowed only for the
short list of names in tests/chinese_pages.ALLOWED (file formats, standards, software, units), codes (GZ-0001) and the
accounts' user names.

A page that stays English by decision is listed in PENDING with the reason (docs/openapi.md); the test fails when a page
so listed no longer has English (take it out of the list) as well as when any other page has."""
from __future__ import annotations

import re

import pytest

from fossil_registry import create_app

from .chinese_pages import crawl, english_words, read_page, starts_of
from .conftest import ACCOUNTS, demo_copy, login

ROLES = ("anonymous", "field", "expert", "admin")
# User names are what their owners chose (Latin letters, as Chinese offices' accounts usually are), and so is the label
# of the test accounts' API tokens (conftest: "tests").
USER_NAMES = ({name for name, _ in ACCOUNTS.values()} | {"test-setup", "tests"}
              | {f"demo-{r}" for r in ("field", "expert", "admin", "import", "setup")})

# Pages (by their path's start) still carrying English, the roles that reach them, and why. Keep it short: the test
# fails when a page listed here has no English left for those roles (take it off the list then).
PENDING = {
    # a product decision (docs/openapi.md): the API reference is the OpenAPI document, written once, in English, for
    # the programs and programmers that read it (as OGC's own documents are); its HTML page shows it as it is
    "/ogcapi/api.html": (ROLES, "the OpenAPI document's summaries are written once, in English, for the clients that "
                                "read it (http/openapi.py); its HTML page shows them as they are"),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo_registry_template):
    """The demo registry with the demo accounts and their activity (proposals, inspections, reports, rescues), as
    `make run` has it; one app for the whole module, each role with its own signed-in client."""
    data_dir = demo_copy(tmp_path_factory, demo_registry_template, "chinese-pages", activity=True)
    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "test-secret"})


def _pending(page: str, role: str) -> bool:
    return any(page.startswith(prefix) and role in roles for prefix, (roles, _) in PENDING.items())


@pytest.mark.parametrize("role", ROLES)
def test_no_english_word_on_any_chinese_page(served, role):
    client = served.test_client()
    if role != "anonymous":
        login(client, role)
    found = crawl(client, starts_of(role))
    left = {page: sorted(set(w for w in words if w not in USER_NAMES)) for page, words in found.items()}
    left = {page: words for page, words in left.items() if words}
    assert not {page: words for page, words in left.items() if not _pending(page, role)}
    done = [prefix for prefix, (roles, _) in PENDING.items()
            if role in roles and not any(page.startswith(prefix) for page in left)]
    assert not done, f"no English left on {done} for {role}: take them off PENDING"


def test_the_crawl_reaches_every_kind_of_page(served):
    client = login(served.test_client(), "admin")
    reached = set(crawl(client, starts_of("admin"), keep_all=True))
    for path in ("/review", "/revisions/", "/sites/GZ-0001/history", "/sites/GZ-0001", "/sections/GZS-0001",
                 "/inspections/", "/reports/", "/rescues/", "/supervision", "/supervision/annual-report", "/fieldkit",
                 "/impact", "/imports", "/downloads", "/admin/users", "/admin/audit",
                 "/ogcapi/collections/sites/items/"):
        assert any(page.startswith(path) for page in reached), path
    assert len(reached) > 60


def test_the_reader_sees_english_where_a_person_would():
    """The check itself: English in text, a tooltip or a placeholder is found; a code, an allowed name, a script and
    text marked as English are not."""
    html = ('<html><body><p>审核 GZ-0001 的 GeoPackage 文件</p><span title="stale base">⚠</span>'
            '<input placeholder="name"><script>var notShown = "English";</script>'
            '<td lang="en">Guanling Xinpu</td><code lang="zxx">EPSG:4490</code><p>查看 update</p></body></html>')
    texts, _ = read_page(html)
    assert sorted(w for t in texts for w in english_words(t)) == ["base", "name", "stale", "update"]


# ------------------------------------------------------------------------------------------------ what the pages read
@pytest.mark.parametrize("age, chinese", [
    ("Late Triassic (Carnian)", "晚三叠世（卡尼期）"), ("Cambrian, Miaolingian (Wuliuan)", "寒武纪苗岭世（乌溜期）"),
    ("Early-Middle Triassic (Olenekian-Anisian)", "早—中三叠世（奥伦尼克期—安尼期）"),
    ("Cambrian Series 2-3", "寒武纪第二—三世"), ("Latest Devonian (Famennian)", "泥盆纪末期（法门期）"),
    ("Permian-Triassic boundary", "二叠纪—三叠纪界线"), ("Late Pleistocene", "晚更新世"),
    ("Pennsylvanian-early Permian", "宾夕法尼亚亚纪—早二叠世")])
def test_an_age_reads_with_the_charts_chinese_names(age, chinese):
    from fossil_registry.ages import age_label
    assert age_label(age).zh == chinese and str(age_label(age)) == age


def test_an_age_with_an_unknown_word_stays_as_written():
    from fossil_registry.ages import age_label
    assert age_label("Late Triassic (Tuvalian)") == "Late Triassic (Tuvalian)"  # a substage the chart table lacks
    assert age_label("") == "" and age_label(None) is None


def test_every_demo_age_and_formation_has_its_chinese():
    from fossil_registry.ages import chinese_age
    from fossil_registry.demo.build import demo_sites
    from fossil_registry.demo.sections import demo_sections
    features = [*demo_sites(), *(s["properties"] for s in demo_sections())]
    assert {f["age"] for f in features if chinese_age(f["age"]) is None} == set()
    assert all(f["formation"] and not any(c.isascii() and c.isalpha() for c in f["formation"]) for f in features)
    assert all(f["formation_en"] and f["formation_en"].isascii() for f in features)


def test_crs_names_read_in_chinese():
    from fossil_registry import ogcapi
    from fossil_registry.downloads import crs_label
    names = {c.epsg: crs_label(c) for c in ogcapi.offered((103.6, 24.6, 109.6, 29.2))}
    assert names[4544].zh == "EPSG:4544（CGCS2000 / 3度带高斯-克吕格投影 中央经线105°E）"
    assert names[4497].zh == "EPSG:4497（CGCS2000 / 6度带高斯-克吕格投影 第19带）"
    assert names[4490].zh == "EPSG:4490（2000国家大地坐标系）" and str(names[4490]).startswith("EPSG:4490 (China")
    assert all(not any(w.isalpha() and w.isascii() and w.lower() not in ("epsg", "cgcs", "ogc", "crs", "wgs", "e")
                       for w in re.split(r"[^A-Za-z]+", name.zh)) for name in names.values())


def test_audit_actions_read_in_chinese():
    from fossil_registry.audit import action_label
    assert action_label("site.update").zh == "产地 · 修改"
    assert action_label("rescue.specimens_rescued").zh == "抢救案件 · 抢救标本"
    assert action_label("revision.request_changes").zh == "修订建议 · 退回修改"
    assert action_label("something.new") == "something.new"  # an action it does not know: its code


def test_leaflet_and_leaflet_draw_speak_chinese_on_a_chinese_page(served):
    """Every map (maps.render) loads the Chinese words of Leaflet's zoom and Leaflet.draw's toolbar after the vendor
    scripts and before the map is built; the words file covers each of Leaflet.draw's strings."""
    page = login(served.test_client(), "expert").get("/revisions/new", headers={"Accept-Language": "zh"})
    html = page.get_data(as_text=True)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    words = scripts.index("/static/js/leaflet-zh.js")
    assert any("leaflet.draw" in s for s in scripts[:words]) and any(s.endswith("leaflet.js") for s in scripts[:words])
    assert html.index("leaflet-zh.js") < html.index("L.Control.Draw")
    from fossil_registry import ROOT
    ours = (ROOT / "static/js/leaflet-zh.js").read_text(encoding="utf-8")
    theirs = next((ROOT / "static/vendor").rglob("leaflet.draw-src.js"), None) or next(
        (ROOT / "static/vendor").rglob("leaflet.draw.js"))
    source = theirs.read_text(encoding="utf-8")
    for key in ("polyline", "polygon", "rectangle", "circlemarker", "editDisabled", "removeDisabled", "clearAll",
                "subtext", "simpleshape"):
        assert key in source and f"{key}:" in ours, key
