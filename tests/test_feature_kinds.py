"""Feature kinds as an extension point: the registry of kinds, codes drawn with each kind's configured prefix, the
old faces (sites.py, sections/) being the features package's own objects, and no module of the shared machinery
branching on a kind's name."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from shapely.geometry import LineString, Point

from fossil_registry import config, features, revisions, sections, sites
from fossil_registry.errors import InvalidInput
from fossil_registry.features import SECTION, SITE

ROOT = Path(features.__file__).resolve().parent.parent


def test_the_registry_knows_every_kind_once_sites_first():
    assert features.kinds() == (SITE, SECTION)
    assert features.kind("section") is SECTION and features.kind("site") is SITE
    with pytest.raises(InvalidInput):
        features.kind("cave")
    with pytest.raises(ValueError):  # a second kind of the same name
        features.register(SITE.__class__(**{**SITE.__dict__, "title": "another"}))
    assert features.register(SECTION) is SECTION  # the same kind again changes nothing
    assert features.collection_kind("sections") is SECTION


def test_every_kinds_change_stamp_moves_with_its_features(conn):
    before = features.change_stamps(conn)
    assert len(before) == len(features.kinds())
    features.create_feature(conn, kind=SECTION, properties={"name": "剖面", "level": "general", "sensitivity": "open"},
                            location=LineString([(106.0, 26.0), (106.001, 26.001)]), boundary=None, author="t",
                            reason="t")
    after = features.change_stamps(conn)
    assert after[0] == before[0] and after[1] != before[1]  # the sections' stamp moved, the sites' did not


def test_codes_of_new_features_take_each_kinds_configured_prefix(conn):
    assert SITE.code_prefix({}) == config.SITE_CODE_PREFIX and SECTION.code_prefix({}) == config.SECTION_CODE_PREFIX
    assert features.kind_of_code(f"{config.SECTION_CODE_PREFIX}0001") is SECTION  # the longer prefix wins
    assert features.kind_of_code(f"{config.SITE_CODE_PREFIX}0001") is SITE
    policy = revisions.Policy.from_config({"DATA_DIR": None, "SECTION_CODE_PREFIX": "QS-", "SITE_CODE_PREFIX": "QZ-"})
    assert policy.prefix_for(SECTION) == "QS-" and policy.prefix_for(SITE) == "QZ-" and policy.code_prefix == "QZ-"
    line = LineString([(106.0, 26.0), (106.001, 26.001)])
    made = features.create_feature(conn, kind=SECTION, prefix=policy.prefix_for(SECTION), properties={
        "name": "剖面", "level": "general", "sensitivity": "open"}, location=line, boundary=None, author="t",
        reason="t").site
    assert made.code == "QS-0001" and features.kind_of(conn, made.code) is SECTION
    site = features.create_feature(conn, properties={"name": "点", "level": "general", "sensitivity": "open"},
                                   location=Point(106.0, 26.0), boundary=None, author="t", reason="t").site
    assert site.code == f"{config.SITE_CODE_PREFIX}0001"


def test_the_old_faces_are_the_features_packages_own_objects():
    assert sites.Site is features.Feature and sites.create_site is features.create_feature
    assert sites.change_site is features.change_feature and sites.SITE is SITE and sections.SECTION is SECTION
    assert sites.LEVELS == ("national", "provincial", "general") and sites.PERIODS[0] == "Ediacaran"


SHARED = ["features/versions.py", "features/registry.py", "features/kind.py", "revisions", "impact", "fieldkit",
          "downloads", "ogcapi"]


def _names_a_kind(node: ast.AST) -> bool:
    """``kind``, ``feature``, ``x.kind``: what holds a FeatureKind in the shared modules."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name in ("kind", "feature", "k")


def _branches_on_a_kind_name(tree: ast.AST) -> list[int]:
    """Comparisons of a kind's name (or a stored feature kind) with a string constant."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(c, ast.Constant) and isinstance(c.value, str)
                                                 for c in [node.left, *node.comparators]):
            names = [n for n in (node.left, *node.comparators) if isinstance(n, ast.Attribute)]
            if any(n.attr == "feature_kind" or (n.attr == "name" and _names_a_kind(n.value)) for n in names):
                out.append(node.lineno)
    return out


def test_no_shared_module_branches_on_a_kind_name():
    found = {}
    for entry in SHARED:
        path = ROOT / entry
        for f in ([path] if path.is_file() else sorted(path.rglob("*.py"))):
            lines = _branches_on_a_kind_name(ast.parse(f.read_text(encoding="utf-8")))
            if lines:
                found[str(f.relative_to(ROOT))] = lines
    assert not found, found
