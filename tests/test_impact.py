"""Impact screening, the figures: intersections, overlaps and distances compared with independent computations
(pyproj.Geod on densified geometries, projected with pyproj directly) for footprints drawn in several coordinate
systems, including footprints that cross Gauss-Kruger zone boundaries; rings, the rule table, corridors, reading
footprints, and what is refused."""
from __future__ import annotations

import math

import pytest
import shapely
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon, mapping

from fossil_registry import impact, sites
from fossil_registry.coords import CoordinateError
from fossil_registry.errors import InvalidInput
from fossil_registry.geometry import GeometryError

from .impact_helpers import GEOD, corridor, from_lonlat, min_distance_m, overlap_m2, to_lonlat

pytestmark = pytest.mark.both_backends

SETTINGS = impact.Settings.defaults()


def blob(lon: float, lat: float, r_m: float, n: int = 9, phase: float = 0.3) -> Polygon:
    """An irregular polygon of radius about ``r_m`` around (lon, lat): no edge parallel to the grid."""
    pts = []
    for i in range(n):
        az = 360 * i / n + 17 * phase
        radius = r_m * (0.75 + 0.25 * math.sin(3 * i + phase))
        x, y, _ = GEOD.fwd(lon, lat, az, radius)
        pts.append((x, y))
    return Polygon(pts)


def add(conn, code, geom, level="provincial", sensitivity="open"):
    boundary = MultiPolygon([geom]) if isinstance(geom, Polygon) else None
    location = geom.representative_point() if boundary is not None else geom
    return sites.create_site(conn, code=code, properties={"name": f"site {code}", "level": level,
                                                         "sensitivity": sensitivity},
                             location=location, boundary=boundary, author="test", reason="test").site


def by_code(result):
    return {a["code"]: a for a in result.affected}


def check(result, footprint_ll, expected_sites):
    """Every figure of ``result`` against the independent computation on the lon/lat footprint."""
    found = by_code(result)
    for code, geom in expected_sites.items():
        a = found[code]
        inter = footprint_ll.intersects(geom)
        assert a["intersects"] == inter, code
        if inter:
            want = overlap_m2(footprint_ll, geom) if geom.geom_type == "Polygon" else 0.0
            assert a["overlap_m2"] == pytest.approx(want, rel=2e-4, abs=1.0), code
            assert a["distance_m"] == 0
            if geom.geom_type == "Polygon":
                area = abs(GEOD.geometry_area_perimeter(shapely.segmentize(geom, 1e-5))[0])
                assert a["overlap_pct"] == pytest.approx(want / area * 100, rel=1e-3), code
        else:
            assert a["distance_m"] == pytest.approx(min_distance_m(footprint_ll, geom), abs=0.05), code
            assert a["overlap_m2"] == 0


def test_a_quarry_drawn_in_gauss_kruger_against_independent_figures(conn):
    lon, lat = 107.90, 26.50
    s1 = blob(lon, lat, 900)
    s2 = Point(GEOD.fwd(lon, lat, 95, 2600)[:2])                 # a site without boundary, ~400 m east of the pit
    s3 = blob(*GEOD.fwd(lon, lat, 200, 4300)[:2], 600, phase=1.1)
    add(conn, "GZ-0101", s1, "national")
    add(conn, "GZ-0102", s2, "provincial")
    add(conn, "GZ-0103", s3, "general")
    pit_ll = blob(*GEOD.fwd(lon, lat, 80, 1100)[:2], 800, n=7, phase=2.0)
    pit = from_lonlat(pit_ll, "EPSG:4545")  # the plan as the engineers drew it, in Gauss-Kruger metres
    fp = impact.from_geojson(mapping(pit), SETTINGS, crs="EPSG:4545")
    result = impact.screen(conn, fp, SETTINGS, exact=True)
    truth = to_lonlat(pit, "EPSG:4545", 1.0)
    check(result, truth, {"GZ-0101": s1, "GZ-0102": s2, "GZ-0103": s3})
    found = by_code(result)
    assert found["GZ-0101"]["intersects"] and found["GZ-0101"]["overlap_m2"] > 10_000
    assert not found["GZ-0102"]["intersects"] and found["GZ-0102"]["measured_to"] == "location"
    assert result.footprint.source["source_crs"] == "EPSG:4545"


@pytest.mark.parametrize("crs", ["EPSG:4544", "EPSG:4545"])
def test_a_footprint_across_the_3_degree_zone_boundary_at_106_5(conn, crs):
    """The same quarry in the zone west (CM 105E) and east (CM 108E) of 106.5E: straddling the boundary changes
    nothing; each version agrees with the independent figures."""
    lon, lat = 106.5, 26.62
    west = blob(lon - 0.012, lat + 0.004, 700)
    east = blob(lon + 0.03, lat - 0.01, 500, phase=0.9)
    across = blob(lon + 0.004, lat - 0.02, 400, phase=1.7)
    add(conn, "GZ-0201", west, "national")
    add(conn, "GZ-0202", east, "general")
    add(conn, "GZ-0203", across, "provincial")
    pit_ll = blob(lon, lat, 1200, n=11, phase=0.4)
    assert pit_ll.bounds[0] < 106.5 < pit_ll.bounds[2]
    pit = from_lonlat(pit_ll, crs)
    result = impact.screen(conn, impact.from_geojson(mapping(pit), SETTINGS, crs=crs), SETTINGS, exact=True)
    check(result, to_lonlat(pit, crs, 1.0), {"GZ-0201": west, "GZ-0202": east, "GZ-0203": across})
    assert by_code(result)["GZ-0201"]["intersects"]


@pytest.mark.parametrize("crs", ["EPSG:4507", "EPSG:4508"])
def test_a_road_across_the_6_degree_zone_boundary_at_108(conn, crs):
    """A 40 km road crossing 108E (6-degree zones CM 105E / CM 111E), drawn in either zone, with its width: the
    corridor's overlaps and distances agree with a corridor built independently in an azimuthal projection."""
    start, end = (107.78, 26.58), (108.2, 26.66)
    ll = LineString([start, end])
    line_ll = to_lonlat(from_lonlat(ll, crs), crs, 5.0)  # the straight line of the plan, densified in its CRS
    mid = line_ll.interpolate(0.5, normalized=True)
    on_road = blob(mid.x, mid.y, 600)
    aside = blob(*GEOD.fwd(*line_ll.interpolate(0.2, normalized=True).coords[0], 0, 900)[:2], 300, phase=2.2)
    far = Point(GEOD.fwd(*line_ll.interpolate(0.8, normalized=True).coords[0], 180, 3500)[:2])
    add(conn, "GZ-0301", on_road, "national")
    add(conn, "GZ-0302", aside, "provincial")
    add(conn, "GZ-0303", far, "general")
    plan = from_lonlat(ll, crs)
    result = impact.screen(conn, impact.from_geojson(mapping(plan), SETTINGS, crs=crs, width_m=40), SETTINGS,
                           exact=True)
    truth = corridor(line_ll, 40)
    check(result, truth, {"GZ-0301": on_road, "GZ-0302": aside, "GZ-0303": far})
    assert by_code(result)["GZ-0301"]["overlap_m2"] == pytest.approx(40 * 1000, rel=0.35)  # ~40 m x ~1 km


def test_a_wgs84_road_centreline_with_its_width(conn):
    lon, lat = 105.40, 25.88
    site = blob(lon, lat, 800)
    add(conn, "GZ-0401", site, "national")
    road = LineString([(lon - 0.05, lat - 0.004), (lon - 0.004, lat + 0.001), (lon + 0.05, lat + 0.008)])
    fp = impact.from_geojson({"type": "Feature", "properties": {}, "geometry": mapping(road)}, SETTINGS,
                             crs="EPSG:4326", width_m=30)
    result = impact.screen(conn, fp, SETTINGS, exact=True)
    check(result, corridor(shapely.segmentize(road, 1e-5), 30), {"GZ-0401": site})
    assert any("width of 30 m" in n for n in fp.notes)


def test_boreholes_as_points_and_a_line_without_width(conn):
    lon, lat = 105.7, 26.1
    site = blob(lon, lat, 500)
    add(conn, "GZ-0501", site, "general")
    inside, outside = Point(lon, lat), Point(GEOD.fwd(lon, lat, 45, 900)[:2])
    result = impact.screen(conn, impact.from_geojson(mapping(MultiPoint([inside, outside])), SETTINGS), SETTINGS,
                           exact=True)
    a = by_code(result)["GZ-0501"]
    assert a["intersects"] and a["overlap_m2"] == 0 and a["ring_m"] == 0
    far = impact.screen(conn, impact.from_geojson(mapping(outside), SETTINGS), SETTINGS, exact=True)
    assert by_code(far)["GZ-0501"]["distance_m"] == pytest.approx(min_distance_m(outside, site), abs=0.05)
    line = impact.from_geojson(mapping(LineString([(lon - 0.02, lat), (lon + 0.02, lat)])), SETTINGS)
    crossing = by_code(impact.screen(conn, line, SETTINGS, exact=True))["GZ-0501"]
    assert crossing["intersects"] and crossing["overlap_m2"] == 0
    assert any("no width was given" in n for n in line.notes)


def test_rings_and_the_rule_table(conn):
    lon, lat = 106.0, 26.0
    ring_sites = {"GZ-0601": (150, "national"), "GZ-0602": (350, "national"), "GZ-0603": (800, "provincial"),
                  "GZ-0604": (3000, "general"), "GZ-0605": (6000, "national")}
    for code, (metres, level) in ring_sites.items():
        add(conn, code, Point(GEOD.fwd(lon, lat, 30, metres)[:2]), level)
    result = impact.screen(conn, impact.from_geojson(mapping(Point(lon, lat)), SETTINGS), SETTINGS, exact=True)
    found = by_code(result)
    assert {c: (a["ring_m"], a["risk"]) for c, a in found.items()} == {
        "GZ-0601": (200, "very_high"), "GZ-0602": (500, "high"), "GZ-0603": (1000, "low"), "GZ-0604": (5000, "low")}
    assert found["GZ-0601"]["distance_m"] == pytest.approx(150, abs=0.01)
    assert [a["code"] for a in result.affected] == ["GZ-0601", "GZ-0602", "GZ-0603", "GZ-0604"]  # most severe first
    assert result.highest_risk == "very_high" and result.by_risk()["low"] == 2
    # a request's own rings: a site takes the table row of the next larger ring
    wide = SETTINGS.with_rings([100, 400, 8000])
    assert wide.rings_m == (0, 100, 400, 8000)
    found = by_code(impact.screen(conn, impact.from_geojson(mapping(Point(lon, lat)), wide), wide, exact=True))
    assert found["GZ-0601"]["ring_m"] == 400 and found["GZ-0601"]["risk"] == "high"
    assert found["GZ-0605"]["ring_m"] == 8000 and found["GZ-0605"]["risk"] == "low"


def test_settings_refuse_what_cannot_be_applied():
    with pytest.raises(InvalidInput, match="between 0 and 20,000"):
        SETTINGS.with_rings([100, 50000])
    with pytest.raises(InvalidInput, match="not a distance"):
        SETTINGS.with_rings("100, near")
    assert SETTINGS.with_rings("0; 250 750").rings_m == (0, 250, 750)
    with pytest.raises(ValueError, match="IMPACT_RULES"):
        impact.Settings.from_config({"IMPACT_RULES": {0: {"national": "catastrophic"}}})
    custom = impact.Settings.from_config({"IMPACT_RULES": {"100": {"national": "high", "provincial": "medium",
                                                                   "general": "low"}}})
    assert custom.rule_table() == [{"ring_m": 100, "national": "high", "provincial": "medium", "general": "low"}]
    assert custom.risk_for(5000, "national") == "high"  # beyond the table: its last row


def test_a_long_straight_edge_follows_the_plan_it_was_drawn_in(conn):
    """A 20 km straight edge in Gauss-Kruger is not the straight line between its ends in lon/lat: the footprint is
    densified in the plan's CRS, so a site 150 m beside the planned line is measured from that line."""
    crs = "EPSG:4545"
    a_gk, b_gk = from_lonlat(Point(107.5, 26.3), crs), from_lonlat(Point(107.7, 26.45), crs)
    plan = LineString([a_gk.coords[0], b_gk.coords[0]])
    mid = to_lonlat(plan.interpolate(0.5, normalized=True), crs, 1.0)
    naive_mid = LineString([(107.5, 26.3), (107.7, 26.45)]).interpolate(0.5, normalized=True)
    gap = GEOD.inv(mid.x, mid.y, naive_mid.x, naive_mid.y)[2]
    assert gap > 5  # the two readings of "a straight edge" are metres apart
    site = Point(GEOD.fwd(mid.x, mid.y, 320, 150)[:2])
    add(conn, "GZ-0701", site, "national")
    result = impact.screen(conn, impact.from_geojson(mapping(plan), SETTINGS, crs=crs), SETTINGS, exact=True)
    assert by_code(result)["GZ-0701"]["distance_m"] == pytest.approx(
        min_distance_m(to_lonlat(plan, crs, 1.0), site), abs=0.05)


def test_candidates_come_from_the_spatial_index(conn):
    for i in range(60):
        add(conn, f"GZ-{800 + i:04d}", Point(104.0 + 0.08 * i, 25.0 + 0.06 * i), "general")
    result = impact.screen(conn, impact.from_geojson(mapping(Point(104.0, 25.0)), SETTINGS), SETTINGS, exact=True)
    assert [a["code"] for a in result.affected] == ["GZ-0800"]
    assert result.candidates <= 3  # the R-tree's box around the outer ring, not all 60 sites


def test_footprint_files_in_the_formats_of_the_revision_workflow(tmp_path):
    import geopandas as gpd

    pit = blob(107.9, 26.5, 800)
    frame = gpd.GeoDataFrame({"name": ["pit 1"]}, geometry=[from_lonlat(pit, "EPSG:4545")], crs="EPSG:4545")
    frame.to_file(tmp_path / "pit.shp")
    import zipfile
    with zipfile.ZipFile(tmp_path / "pit.zip", "w") as zf:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            if (tmp_path / f"pit{ext}").exists():
                zf.write(tmp_path / f"pit{ext}", f"pit{ext}")
    fp = impact.from_upload("pit.zip", (tmp_path / "pit.zip").read_bytes(), SETTINGS)
    assert fp.source["format"] == "shapefile" and fp.source["source_crs"] == "EPSG:4545"
    assert fp.figures()["area_m2"] == pytest.approx(abs(GEOD.geometry_area_perimeter(
        to_lonlat(from_lonlat(pit, "EPSG:4545"), "EPSG:4545", 1.0))[0]), rel=1e-5)
    kml = ('<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           '<Placemark><name>road</name><LineString><coordinates>105.30,25.85 105.45,25.90</coordinates></LineString>'
           '</Placemark><Placemark><name>borehole</name><Point><coordinates>105.41,25.87</coordinates></Point>'
           '</Placemark></Document></kml>').encode()
    fp = impact.from_upload("project.kml", kml, SETTINGS, width_m=20)
    assert fp.geometry.geom_type == "MultiPolygon" and len(fp.geometry.geoms) == 2  # corridor and disc
    assert any("2 features" in n for n in fp.notes)
    one = impact.from_upload("project.kml", kml, SETTINGS, feature=2)
    assert one.geometry.geom_type == "MultiPoint"


@pytest.mark.parametrize("value, crs, message", [
    ({"type": "Point", "coordinates": [25.9, 105.4]}, None, "swapped"),
    ({"type": "Point", "coordinates": [363594, 2949581]}, None, "projected X/Y are metres"),
    ({"type": "LineString", "coordinates": [[104.0, 25.0], [109.0, 29.0]]}, None, "km across"),
    ({"type": "FeatureCollection", "features": []}, None, "no features"),
    ({"type": "Polygon", "coordinates": [[[105.4, 25.9], [105.41, 25.9], [105.41, 25.91]]]}, None, "not closed"),
    ({"type": "Point", "coordinates": [105.4, 25.9]}, "EPSG:9999999", "coordinate system"),
])
def test_footprints_that_cannot_be_screened_are_refused_with_a_reason(value, crs, message):
    with pytest.raises((InvalidInput, GeometryError, CoordinateError)) as info:
        impact.from_geojson(value, SETTINGS, crs=crs)
    assert message in str(info.value)


def test_width_and_the_way_the_footprint_is_given_are_checked():
    with pytest.raises(InvalidInput, match="width_m"):
        impact.parse_width("-3", SETTINGS)
    with pytest.raises(InvalidInput, match="once"):
        impact.from_fields({"footprint": "{}", "footprint_drawn": "{}"}, SETTINGS)
    with pytest.raises(InvalidInput, match="no footprint"):
        impact.from_fields({}, SETTINGS)
    bowtie = {"type": "Polygon", "coordinates": [[[105.4, 25.9], [105.42, 25.92], [105.42, 25.9], [105.4, 25.92],
                                                  [105.4, 25.9]]]}
    fp = impact.from_geojson(bowtie, SETTINGS)
    assert fp.geometry.geom_type == "MultiPolygon" and len(fp.geometry.geoms) == 2
    assert any("repaired" in n for n in fp.notes)


def test_a_csv_of_vertices_is_an_outline_as_in_the_revision_workflow():
    csv = "lon,lat\n105.40,25.90\n105.41,25.90\n105.41,25.91\n105.40,25.91\n".encode()
    fp = impact.from_upload("pit.csv", csv, SETTINGS)
    assert fp.geometry.geom_type == "MultiPolygon"
    assert fp.figures()["area_m2"] == pytest.approx(abs(GEOD.geometry_area_perimeter(
        shapely.segmentize(Polygon([(105.40, 25.90), (105.41, 25.90), (105.41, 25.91), (105.40, 25.91)]), 1e-5))[0]),
        rel=1e-4)
    assert any("outline" in n for n in fp.notes)
