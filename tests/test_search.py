"""Search as people type: Chinese, English, codes, full pinyin with or without spaces and tones, pinyin initials;
ranked; through the public view for anonymous callers (a hidden site is never found), exact for staff."""
from __future__ import annotations

import pytest

from fossil_registry import map_layers
from fossil_registry.errors import InvalidInput
from fossil_registry.search import Entry, SearchIndex, compact, pinyin_forms

from .conftest import bearer


def found(client, q, **kw):
    r = client.get("/map/search.json", query_string={"q": q}, **kw)
    assert r.status_code == 200, r.get_data(as_text=True)
    return [f["id"] for f in r.get_json()["features"]]


def test_pinyin_forms_and_folding():
    assert pinyin_forms("关岭新铺卧龙岗化石点") == ("guanlingxinpuwolonggang" "huashidian", "glxpwlghsd")
    assert pinyin_forms("Guanling") is None
    assert compact("Guān Lǐng") == compact("guan1 ling3") == compact("GUAN-LING") == "guanling"
    assert compact("Lǜ") == "lv"


@pytest.mark.parametrize("query", ["guanlingxinpu", "guan ling xin pu", "Guānlǐng Xīnpù", "guan1ling2xin1pu4",
                                   "glxp", "GLXP", "关岭新铺", "Guanling Xinpu"])
def test_pinyin_initials_chinese_and_english_find_the_guanling_xinpu_sites(client, query):
    assert found(client, query)[:2] == ["GZ-0001", "GZ-0002"]


def test_ranking_exact_code_then_name_prefix_then_initials():
    idx = SearchIndex([Entry("site", "GZ-0001", ("关岭化石群", "Guanling biota")),
                       Entry("site", "GZ-0002", ("甘坝", "Ganba")),
                       Entry("site", "GL-0001", ("兴义", "Xingyi")),
                       Entry("site", "GZ-0003", ("古老岭", "Gulaoling"))])
    assert [e.code for e in idx.query("gl")] == ["GL-0001", "GZ-0001", "GZ-0003"]  # code prefix, then initials
    assert [e.code for e in idx.query("gu")] == ["GZ-0001", "GZ-0003"]           # name (pinyin) prefixes
    assert [e.code for e in idx.query("gz-0002")] == ["GZ-0002"]
    assert [e.code for e in idx.query("ling")] == ["GZ-0001", "GZ-0003"]         # inside a name, last
    assert idx.query("") == [] and idx.query("   ") == [] and idx.query("zzzz") == []
    with pytest.raises(InvalidInput) as e:
        idx.query("x" * 101)
    assert e.value.message.code == "search.query_too_long"


def test_hidden_sites_are_never_found_anonymously(client):
    # GZ-0004 关岭岗乌新发现点 and GZ-0007 兴义岔江化石点 are hidden: neither name, pinyin, initials nor code finds them
    for q in ("glgw", "guanlinggangwu", "关岭岗乌", "Guanling Gangwu", "GZ-0004", "xingyichajiang", "xycj", "GZ-0007"):
        assert not {"GZ-0004", "GZ-0007"} & set(found(client, q)), q
    assert "GZ-0004" not in found(client, "gl") and "GZ-0001" in found(client, "gl")
    # staff find them
    assert found(client, "glgw", headers=bearer("field"))[0] == "GZ-0004"
    assert found(client, "xycj", headers=bearer("field"))[0] == "GZ-0007"


def test_generalized_sites_are_found_at_their_public_cell(client, demo_data_dir):
    hit = client.get("/map/search.json", query_string={"q": "huangtutang"}).get_json()["features"][0]
    assert hit["id"] == "GZ-0002" and hit["properties"]["precision"] == "cell" and hit["properties"]["kind"] == "site"


def test_the_index_is_built_once_per_registry_state(app):
    from fossil_registry.db import get_conn
    with app.app_context():
        conn = get_conn()
        first = map_layers.search_index(conn, exact=False)
        assert map_layers.search_index(conn, exact=False) is first
        assert map_layers.search_index(conn, exact=True) is not first
        assert len(map_layers.search_index(conn, exact=True)) > len(first)
