"""Tests for the illustrative Guizhou demo registry (fossil_registry.demo)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import MultiPolygon, Point, box
from shapely.strtree import STRtree

from fossil_registry.demo import build
from fossil_registry.demo.build import DEMO_NOTICE, SEED_CSV, demo_sites, load_seed_rows
from fossil_registry.geometry import geodesic_area_m2, validate_boundary

REPO = Path(__file__).resolve().parents[1]

# docs/site-schema.md
SCHEMA_FIELDS = {"code", "name", "name_en", "county", "county_en", "level", "period", "age", "formation",
                 "formation_en",
                 "fossil_groups", "sensitivity", "description", "description_en", "established", "status", "location",
                 "boundary", "public_description", "public_description_en"}
LEVELS = {"national", "provincial", "general"}
SENSITIVITIES = {"open", "generalized", "hidden"}
PERIODS = {"Ediacaran", "Cambrian", "Ordovician", "Silurian", "Devonian", "Carboniferous", "Permian", "Triassic",
           "Jurassic", "Cretaceous", "Paleogene", "Neogene", "Quaternary"}
FOSSIL_GROUPS = {"marine_reptiles", "ichthyosaurs", "fishes", "crinoids", "ammonoids", "trilobites", "brachiopods",
                 "bivalves", "gastropods", "corals", "sponges", "echinoderms", "algae", "embryos", "acritarchs", "plants",
                 "trace_fossils", "dinosaurs", "mammals", "soft_bodied", "conodonts", "foraminifera"}
CSV_HEADER = ("code,name,name_en,county,county_en,level,period,age,formation,formation_en,fossil_groups,sensitivity,lon,"
              "lat,boundary_km2,description,description_en,established").split(",")
GUIZHOU = (103.6, 24.6, 109.6, 29.2)


@pytest.fixture(scope="module")
def sites():
    return demo_sites()


@pytest.fixture(scope="module")
def targets():
    return {r["code"]: r["boundary_km2"] for r in load_seed_rows()}


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# ----------------------------------------------------------------------------------------------------------------------
# the seed CSV
# ----------------------------------------------------------------------------------------------------------------------
def test_seed_csv_is_utf8_with_the_agreed_columns():
    text = SEED_CSV.read_bytes().decode("utf-8")  # raises if not UTF-8
    assert not text.startswith("\ufeff")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == CSV_HEADER
    assert len(rows) - 1 >= 64
    assert all(len(r) == len(CSV_HEADER) for r in rows[1:])
    for r in rows[1:]:
        rec = dict(zip(CSV_HEADER, r))
        assert all(g in FOSSIL_GROUPS for g in rec["fossil_groups"].split(";")), rec["code"]
        assert rec["boundary_km2"] == "" or 0.05 <= float(rec["boundary_km2"]) <= 20, rec["code"]


def test_seed_rows_anchor_on_the_real_biotas():
    names = " ".join(r["name"] + " " + r["name_en"] + " " + r["county_en"] for r in load_seed_rows())
    for anchor in ("关岭", "兴义", "顶效", "乌沙", "盘州", "杨涓", "新民", "剑河", "凯里", "乌溜", "瓮安", "北斗山",
                   "江口", "翁会", "贞丰", "龙场", "牛场", "青岩", "清镇", "牛蹄塘", "穿洞", "观音洞", "大洞", "独山",
                   "石阡", "湄潭", "桐梓", "赤水", "水城"):
        assert anchor in names, anchor
    guanling = [r for r in load_seed_rows() if r["county_en"] == "Guanling"]
    assert len(guanling) >= 3  # the Guanling biota has several localities


# ----------------------------------------------------------------------------------------------------------------------
# records
# ----------------------------------------------------------------------------------------------------------------------
def test_count_and_codes(sites):
    assert len(sites) >= 60
    codes = [s["code"] for s in sites]
    assert len(set(codes)) == len(codes)
    assert codes == [f"GZ-{i:04d}" for i in range(1, len(sites) + 1)]


def test_every_schema_field_present_and_in_vocabulary(sites):
    for s in sites:
        assert set(s) == SCHEMA_FIELDS, s["code"]
        assert s["level"] in LEVELS
        assert s["period"] in PERIODS
        assert s["sensitivity"] in SENSITIVITIES
        assert s["status"] == "active"
        assert isinstance(s["fossil_groups"], list) and s["fossil_groups"]
        assert set(s["fossil_groups"]) <= FOSSIL_GROUPS, s["code"]
        assert len(set(s["fossil_groups"])) == len(s["fossil_groups"])
        for key in ("name", "name_en", "county", "county_en", "age", "formation", "formation_en", "description",
                    "description_en"):
            assert isinstance(s[key], str) and s[key].strip() == s[key] and s[key], (s["code"], key)
        assert _has_cjk(s["name"]) and _has_cjk(s["county"]) and _has_cjk(s["description"])
        assert not _has_cjk(s["name_en"]) and not _has_cjk(s["description_en"]) and not _has_cjk(s["formation_en"])
        assert _has_cjk(s["formation"]), s["code"]  # its Chinese name, as the name is
        assert s["description"].endswith("。") and s["description_en"].endswith(".")
        established = date.fromisoformat(s["established"])
        assert established.isoformat() == s["established"]
        assert date(1990, 1, 1) <= established <= date(2025, 12, 31)
        assert isinstance(s["location"], Point)
        assert s["boundary"] is None or isinstance(s["boundary"], MultiPolygon)


def test_generalized_sites_and_sections_have_a_public_description(sites):
    """The only description the public reads of a generalized feature (issue 22): each has one in both languages,
    with nothing the public view would withhold; open and hidden ones have none."""
    from fossil_registry.demo.sections import demo_sections
    from fossil_registry.withheld_numbers import withheld_numbers

    features = [(s["code"], s["sensitivity"], s) for s in sites]
    features += [(s["code"], s["properties"]["sensitivity"], s["properties"]) for s in demo_sections()]
    for code, sensitivity, props in features:
        texts = (props.get("public_description"), props.get("public_description_en"))
        if sensitivity != "generalized":
            assert texts == (None, None), code
            continue
        assert _has_cjk(texts[0]) and texts[1] and not _has_cjk(texts[1]), code
        assert not withheld_numbers(texts[0]) and not withheld_numbers(texts[1]), code
    assert sum(sensitivity == "generalized" for _, sensitivity, _ in features) >= 10


def test_levels_and_sensitivity_counts(sites):
    levels = Counter(s["level"] for s in sites)
    sens = Counter(s["sensitivity"] for s in sites)
    assert 3 <= levels["national"] <= 8
    assert 12 <= levels["provincial"] <= 18
    assert levels["general"] > levels["provincial"]
    assert sens["generalized"] >= 8
    assert sens["hidden"] >= 3
    assert sens["open"] > sens["generalized"] + sens["hidden"]
    national = {s["county_en"] for s in sites if s["level"] == "national"}
    assert {"Guanling", "Xingyi"} <= national
    assert national & {"Kaili", "Jianhe"}


def test_about_ten_sites_without_boundary(sites):
    assert 8 <= sum(s["boundary"] is None for s in sites) <= 14


def test_locations_inside_guizhou(sites):
    x0, y0, x1, y1 = GUIZHOU
    for s in sites:
        p = s["location"]
        assert not p.has_z
        assert x0 <= p.x <= x1 and y0 <= p.y <= y1, s["code"]
    # distinct places: no two sites share a location
    assert len({(s["location"].x, s["location"].y) for s in sites}) == len(sites)


# ----------------------------------------------------------------------------------------------------------------------
# boundaries
# ----------------------------------------------------------------------------------------------------------------------
def test_boundaries_valid_sized_and_containing_the_location(sites, targets):
    checked = 0
    for s in sites:
        b = s["boundary"]
        if b is None:
            assert targets[s["code"]] is None
            continue
        assert b.is_valid, s["code"]
        assert not b.has_z
        assert validate_boundary(b).equals_exact(b, 0), s["code"]  # already normalised: exteriors CCW
        area_km2 = geodesic_area_m2(b) / 1e6
        assert 0.05 <= area_km2 <= 20, s["code"]
        assert area_km2 == pytest.approx(targets[s["code"]], rel=0.05), s["code"]
        assert b.contains(s["location"]), s["code"]
        assert 12 <= len(b.geoms[0].exterior.coords) - 1 <= 60
        checked += 1
    assert checked >= 50


def test_boundaries_are_irregular_and_varied(sites):
    boundaries = [s["boundary"] for s in sites if s["boundary"] is not None]
    assert any(len(b.geoms) > 1 for b in boundaries)  # some two-part sites
    assert any(p.interiors for b in boundaries for p in b.geoms)  # some with a hole
    # not circles: the isoperimetric ratio 4*pi*A/P^2 stays clearly below 1 for most
    ratios = [4 * np.pi * b.area / b.length ** 2 for b in boundaries]
    assert np.median(ratios) < 0.9


def test_no_two_sites_overlap(sites):
    owned = [(s["code"], s["boundary"]) for s in sites if s["boundary"] is not None]
    tree = STRtree([b for _, b in owned])
    for i, (code, b) in enumerate(owned):
        hits = [owned[j][0] for j in tree.query(b, predicate="intersects") if j != i]
        assert not hits, f"{code} overlaps {hits}"
    # nor does any boundary reach another site's location
    points = [s["location"] for s in sites]
    for code, b in owned:
        inside = [sites[j]["code"] for j in STRtree(points).query(b, predicate="intersects")]
        assert inside == [code]


def test_reproducible(sites):
    again = demo_sites()
    assert len(again) == len(sites)
    for a, b in zip(sites, again):
        assert {k: v for k, v in a.items() if k not in ("location", "boundary")} == \
               {k: v for k, v in b.items() if k not in ("location", "boundary")}
        assert a["location"].wkb == b["location"].wkb
        assert (a["boundary"] is None) == (b["boundary"] is None)
        if a["boundary"] is not None:
            assert a["boundary"].wkb == b["boundary"].wkb


def test_other_seed_changes_only_the_boundaries(sites):
    other = demo_sites(seed=7)
    assert [s["code"] for s in other] == [s["code"] for s in sites]
    assert all(a["location"].equals(b["location"]) for a, b in zip(sites, other))
    differing = sum(a["boundary"] is not None and a["boundary"].wkb != b["boundary"].wkb for a, b in zip(sites, other))
    assert differing > 50


def test_crowded_neighbourhood_is_avoided_without_changing_the_area():
    """The overlap avoidance in the builder: neighbours close on one or two sides push the new boundary away."""
    loc = Point(106.5, 26.5)
    east = MultiPolygon([box(106.503, 26.45, 106.55, 26.55)])   # ~300 m east of the location
    north = MultiPolygon([box(106.45, 26.503, 106.5025, 26.6)])  # ~300 m north
    for target in (0.5e6, 2e6, 5e6):
        b = build._boundary_for(np.random.default_rng(1), loc, target, [east, north],
                                np.array([Point(106.49, 26.49)], dtype=object))
        assert b.is_valid and b.contains(loc)
        assert geodesic_area_m2(b) == pytest.approx(target, rel=0.01)
        assert b.distance(east) > 0 and b.distance(north) > 0
        assert not b.intersects(Point(106.49, 26.49).buffer(1e-4))


# ----------------------------------------------------------------------------------------------------------------------
# notice and command line
# ----------------------------------------------------------------------------------------------------------------------
def test_notice_is_bilingual():
    assert "Illustrative demo data, not official records" in DEMO_NOTICE
    assert "演示数据，仅供示意，非官方记录" in DEMO_NOTICE


def test_check_command(capsys):
    assert build.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert DEMO_NOTICE in out
    assert "national" in out and "hidden" in out and "km²" in out
    assert "check: OK" in out


def test_module_runs_as_a_script():
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "fossil_registry.demo.build", "--check"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "sites:" in proc.stdout and "check: OK" in proc.stdout
    assert "RuntimeWarning" not in proc.stderr


def test_shapes_survive_geopandas_round_trip(sites):
    """The records load into a GeoDataFrame in EPSG:4490 (what the GeoPackage layer holds)."""
    gpd = pytest.importorskip("geopandas")
    frame = gpd.GeoDataFrame([{k: v for k, v in s.items() if k != "location"} for s in sites if s["boundary"]],
                             geometry="boundary", crs="EPSG:4490")
    assert frame.crs.to_epsg() == 4490
    assert frame.is_valid.all()
    left, right = frame.sindex.query(frame.geometry, predicate="intersects")
    assert (left == right).all()  # each boundary meets only itself
