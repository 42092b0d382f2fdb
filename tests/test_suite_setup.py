"""The suite's own shortcuts (tests/conftest.py) change nothing an app does: a URL map built with werkzeug's rule
parse and URL builders recorded once and replayed is the map werkzeug builds itself."""
from __future__ import annotations

from flask import url_for
from werkzeug.routing.rules import Rule

from fossil_registry import create_app

from . import conftest


def _signature(app) -> list[tuple]:
    """Every rule of the app's URL map as werkzeug compiled it: text, endpoint, methods, trace, arguments, regex parts
    and converters (class, regex, and whether they belong to this map)."""
    out = []
    for rule in app.url_map.iter_rules():
        converters = sorted((name, type(c).__name__, c.regex, c.map is app.url_map) for name, c in rule._converters.items())
        parts = [(p.content, p.final, p.static, p.suffixed, p.weight) for p in rule._parts]
        out.append((rule.rule, rule.endpoint, sorted(rule.methods or ()), tuple(rule._trace), sorted(rule.arguments),
                    parts, converters))
    return sorted(out)


def test_a_replayed_url_map_is_the_one_werkzeug_builds(demo_data_dir, monkeypatch):
    config = {"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x"}
    create_app(config)  # every rule text recorded
    replayed = create_app(config)
    assert Rule._parse_rule is not conftest.Rule_parse_rule_of_werkzeug  # the replay is on in this suite
    monkeypatch.setattr(Rule, "_parse_rule", conftest.Rule_parse_rule_of_werkzeug)
    monkeypatch.setattr(Rule, "get_converter", conftest.Rule_get_converter_of_werkzeug)
    own = create_app(config)
    assert _signature(replayed) == _signature(own) and len(_signature(own)) > 150
    for app in (replayed, own):
        with app.test_request_context():
            assert url_for("api.get_site", code="GZ-0001") == "/api/sites/GZ-0001"
        assert app.test_client().get("/api/sites/GZ-0001").status_code == 200
        assert app.test_client().get("/api/revisions/99999999999999999999999").status_code == 404


def test_the_browser_tests_keep_every_feature_playwright_turns_off():
    """tests/browser.py passes its own --disable-features, which replaces Playwright's: it repeats Playwright's list,
    and this fails when an upgraded Playwright turns off a feature the list lacks."""
    import re
    from pathlib import Path

    import playwright

    from .browser import PLAYWRIGHT_DISABLED_FEATURES

    bundle = (Path(playwright.__file__).parent / "driver" / "package" / "lib" / "coreBundle.js").read_text(
        encoding="utf-8", errors="replace")
    listed = re.search(r"disabledFeatures = \[(.*?)\];", bundle, re.S)
    assert listed, "Playwright's list of disabled Chromium features moved: update tests/browser.py"
    theirs = re.findall(r'^\s*"([A-Za-z]+)",?\s*$', listed.group(1), re.M)
    assert theirs and set(theirs) <= set(PLAYWRIGHT_DISABLED_FEATURES), sorted(set(theirs) - set(PLAYWRIGHT_DISABLED_FEATURES))
