"""Impact screening screens every registered kind of feature, not only sites: a stratigraphic section (a stratotype
or GSSP section is exactly what a road must not cut) with its distance, ring and risk, and the protection markers of
the features within reach; anonymous planners get the public view of sections as of sites (hidden ones only as a
withheld notice, their markers not at all)."""
from __future__ import annotations

import pytest
from shapely.geometry import LineString, Point, mapping

from fossil_registry import features, impact, store
from fossil_registry.features import SECTION

from .impact_helpers import GEOD, min_distance_m

pytestmark = pytest.mark.both_backends

SETTINGS = impact.Settings.defaults()
LON, LAT = 106.00, 26.00


def _section(conn, code: str, line: LineString, *, level: str = "national", sensitivity: str = "open"):
    return features.create_feature(conn, code=code, kind=SECTION, properties={
        "name": f"剖面 {code}", "name_en": f"section {code}", "level": level, "sensitivity": sensitivity,
        "significance": "gssp"}, location=line, boundary=None, author="test", reason="test").site


def _marker(conn, code: str, point: Point) -> int:
    with store.transaction(conn):
        return store.markers.insert_marker(conn, feature_code=code, point=point, kind="monument", inscription="碑",
                                           inscription_en=None, erected_on=None, photo_count=0,
                                           created_at=store.utc_now(), created_by="test")


def _line_east(lon: float, lat: float, length_m: float) -> LineString:
    return LineString([(lon, lat), GEOD.fwd(lon, lat, 90, length_m)[:2]])


def _road_north(lon: float, lat: float, length_m: float) -> LineString:
    start = GEOD.fwd(lon, lat, 180, length_m / 2)[:2]
    return LineString([start, GEOD.fwd(*start, 0, length_m)[:2]])


def test_a_footprint_crossing_a_section_line_reports_the_section_with_its_distance_and_risk(conn):
    line = _line_east(LON, LAT, 400)
    _section(conn, "GZS-0101", line)
    far = _line_east(*GEOD.fwd(LON, LAT, 90, 1900)[:2], 150)  # 1.5 km east of the road: in an outer ring, or none
    _section(conn, "GZS-0102", far, level="general")
    crossing = GEOD.fwd(LON, LAT, 90, 200)[:2]   # the road crosses the middle of the first section
    road = _road_north(*crossing, 600)
    fp = impact.from_geojson(mapping(road), SETTINGS, width_m=12)
    result = impact.screen(conn, fp, SETTINGS, exact=True)
    found = {a["code"]: a for a in result.affected}
    a = found["GZS-0101"]
    assert a["feature"] == "section" and a["intersects"] is True and a["distance_m"] == 0
    assert a["risk"] == result.highest_risk and a["risk"] == SETTINGS.risk_for(SETTINGS.ring_for(0, True), "national")
    assert a["name"] == "剖面 GZS-0101" and a["level"] == "national"
    if "GZS-0102" in found:
        b = found["GZS-0102"]
        assert b["intersects"] is False
        assert b["distance_m"] == pytest.approx(min_distance_m(fp.geometry, far), abs=0.5)


def test_the_markers_of_features_within_reach_are_screened_too(conn):
    line = _line_east(LON, LAT, 400)
    _section(conn, "GZS-0103", line)
    post = Point(GEOD.fwd(LON, LAT, 90, 200)[:2])
    marker_id = _marker(conn, "GZS-0103", post)
    road = _road_north(*post.coords[0], 600)
    result = impact.screen(conn, impact.from_geojson(mapping(road), SETTINGS, width_m=10), SETTINGS, exact=True)
    markers = {m["id"]: m for m in result.markers}
    assert markers[marker_id]["feature"] == "GZS-0103" and markers[marker_id]["intersects"] is True
    assert markers[marker_id]["kind"] == "monument" and markers[marker_id]["distance_m"] == 0
    assert result.to_json()["markers"][0]["id"] == marker_id


def test_anonymous_screening_shows_an_open_section_and_withholds_a_hidden_one(conn):
    open_line = _line_east(LON, LAT, 400)
    hidden_line = _line_east(*GEOD.fwd(LON, LAT, 0, 300)[:2], 400)
    _section(conn, "GZS-0104", open_line)
    _section(conn, "GZS-0105", hidden_line, sensitivity="hidden")
    _marker(conn, "GZS-0105", Point(hidden_line.coords[0]))
    road = _road_north(*GEOD.fwd(LON, LAT, 90, 200)[:2], 1200)
    result = impact.screen(conn, impact.from_geojson(mapping(road), SETTINGS, width_m=10), SETTINGS, exact=False)
    codes = [a["code"] for a in result.affected]
    assert "GZS-0104" in codes and "GZS-0105" not in codes
    assert any(a.get("hidden") for a in result.affected)      # "something protected lies near: ask the museum"
    assert result.markers == []                                  # a hidden section's markers are not public
    body = str(result.to_json())
    assert f"{hidden_line.coords[0][0]:.5f}" not in body
