"""The map search finds stratigraphic sections as it finds sites (codes, Chinese and English names, pinyin, initials):
built from the public view for anonymous callers (a hidden section is never found, a generalized one only at its
cell centre, never its line or a point of it), exact for staff; a change to a section is searchable at once."""
from __future__ import annotations

import pytest
from pypinyin import Style, lazy_pinyin

from fossil_registry import public_view, sites
from fossil_registry.db import get_conn
from fossil_registry.sections import SECTION

from .conftest import bearer


def features(client, q, **kw):
    r = client.get("/map/search.json", query_string={"q": q}, **kw)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["features"]


def queries(section: sites.Site) -> list[str]:
    """Every way to type a section: code, both names, full pinyin with and without spaces, initials, and prefixes."""
    name, name_en = section.properties["name"], section.properties.get("name_en") or ""
    syllables = lazy_pinyin(name)
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER))
    return [section.code, section.code.lower(), name, name[:4], name_en, name_en.split(" ")[0] + " " +
            name_en.split(" ")[1], "".join(syllables), " ".join(syllables), "".join(syllables[:4]), initials,
            initials[:4]]


@pytest.mark.parametrize("query", ["luodiannaqingpoumian", "luo dian na qing", "Luòdiàn Nàqìng", "ldnq", "罗甸纳庆",
                                   "GZS-0003"])
def test_pinyin_initials_chinese_and_codes_find_a_section(client, query):
    # 罗甸纳庆剖面: "poumian" (剖面) and the initials "ldnq" come only from the Chinese name, not the English one;
    # the sites of Naqing (GZ-0043 ...) rank with it, codes breaking ties
    found = features(client, query)
    hit = next(f for f in found if f["id"] == "GZS-0003")
    assert hit["properties"]["kind"] == "section" and found.index(hit) < 5
    assert query not in ("luodiannaqingpoumian", "GZS-0003") or found[0] is hit
    assert hit["properties"]["name"] == "罗甸纳庆剖面" and hit["geometry"]["type"] == "Point"


def test_sites_and_sections_are_ranked_together(client):
    # 关岭新铺: two sites and the section 关岭新铺小凹组剖面; ties by code
    assert [f["id"] for f in features(client, "guanlingxinpu")][:3] == ["GZ-0001", "GZ-0002", "GZS-0007"]
    assert [f["properties"]["kind"] for f in features(client, "glxpxwz")] == ["section"]


def test_no_anonymous_search_yields_a_hidden_section_or_a_generalized_sections_line(app, client):
    with app.app_context():
        conn = get_conn()
        protected = [s for s in sites.list_current(conn, kind=SECTION) if s.sensitivity != "open"]
        public = {s.code: public_view.get_public(conn, s.code, kind=SECTION) for s in protected
                  if s.sensitivity == "generalized"}
    hidden = [s for s in protected if s.sensitivity == "hidden"]
    assert len(hidden) >= 2 and len(public) >= 3  # GZS-0011, GZS-0016; GZS-0004, GZS-0009, GZS-0012
    seen_generalized = set()
    for section in protected:
        for q in queries(section):
            for f in features(client, q):
                assert f["geometry"]["type"] == "Point", (q, f)
                assert f["id"] not in {s.code for s in hidden}, (q, f["id"])
                if f["id"] in public:
                    seen_generalized.add(f["id"])
                    cell = public[f["id"]].location
                    assert f["geometry"]["coordinates"] == [round(cell.x, 6), round(cell.y, 6)], (q, f)
                    assert f["properties"]["precision"] == "cell" and "length_m" not in f["properties"]
                    true_anchor = sites.anchor_point(next(s for s in protected if s.code == f["id"]).location)
                    assert f["geometry"]["coordinates"] != [round(true_anchor.x, 6), round(true_anchor.y, 6)]
        # staff find every one of them, at the middle of its exact line
        staff = features(client, section.code, headers=bearer("field"))[0]
        anchor = sites.anchor_point(section.location)
        assert staff["id"] == section.code and staff["properties"]["precision"] == "exact"
        assert staff["geometry"]["coordinates"] == pytest.approx([anchor.x, anchor.y], abs=1e-6)
    assert seen_generalized == set(public)  # the test could fail: generalized sections are found, at their cell


def test_a_new_section_is_searchable_at_once(app, client):
    from shapely.geometry import LineString
    assert not features(client, "xinpoumian")
    with app.app_context():
        conn = get_conn()
        features(client, "GZS-0001")  # the index of the current state is built (and cached)
        sites.create_site(conn, properties={"name": "新剖面", "name_en": "New section", "level": "general",
                                            "sensitivity": "open"},
                          location=LineString([(105.60, 25.80), (105.601, 25.802)]), boundary=None, author="x",
                          reason="r", kind=SECTION)
    hit = features(client, "xinpoumian")[0]
    assert hit["properties"]["kind"] == "section" and hit["properties"]["name"] == "新剖面"
