"""Tests for fossil_registry.geometry: validity messages, geodesic metrics, map/field helpers."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Transformer
from shapely import affinity
from shapely.geometry import (GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
                              box)

from fossil_registry.geometry import (
    MAX_VERTICES,
    GeometryError,
    centroid_shift_m,
    close_ring_if_near,
    compare_geometries,
    geodesic_area_m2,
    geodesic_distance_m,
    geodesic_perimeter_m,
    grid_cell_centre,
    hausdorff_m,
    local_metric_crs,
    simplify_for_zoom,
    simplify_many_for_zoom,
    validate_boundary,
    validate_location,
    vertex_count,
)

GUIYANG = (106.63, 26.65)
KAILI = (107.98, 26.58)
GRS80 = Geod(ellps="GRS80")


def metric_square(lon: float, lat: float, size_m: float = 1000.0, dx_m: float = 0.0) -> Polygon:
    """A size_m x size_m square (in a local TM centred at lon/lat), shifted dx_m east, as lon/lat."""
    crs = local_metric_crs((lon, lat))
    back = Transformer.from_crs(crs, CRS.from_epsg(4490), always_xy=True)
    h = size_m / 2
    corners = [(-h + dx_m, -h), (h + dx_m, -h), (h + dx_m, h), (-h + dx_m, h)]
    return Polygon([back.transform(x, y) for x, y in corners])


# ----------------------------------------------------------------------------------------------------------------------
# validate_boundary: errors with readable reasons
# ----------------------------------------------------------------------------------------------------------------------
BOW_TIE = Polygon([(105.5112, 25.9201), (105.5312, 25.9401), (105.5312, 25.9201), (105.5112, 25.9401)])


def test_bow_tie_reports_the_crossing_point_and_offers_a_valid_repair():
    with pytest.raises(GeometryError) as info:
        validate_boundary(BOW_TIE)
    err = info.value
    assert "boundary ring self-intersects at 105.5212 25.9301" in str(err)
    assert err.location == pytest.approx((105.5212, 25.9301), abs=1e-9)
    assert isinstance(err.repair, MultiPolygon)
    assert err.repair.is_valid
    assert len(err.repair.geoms) == 2  # the two triangles of the bow-tie
    assert err.repair.area == pytest.approx(0.0002, rel=1e-6)
    assert validate_boundary(err.repair).equals(err.repair)
    assert isinstance(err, ValueError)
    # offered, never applied: the input is still refused
    with pytest.raises(GeometryError):
        validate_boundary(BOW_TIE)


def _with_non_finite(value: float) -> Polygon:
    with warnings.catch_warnings():  # shapely warns about the very thing this case is about
        warnings.simplefilter("ignore", RuntimeWarning)
        return Polygon([(106, 26), (value, 26.1), (106.1, 26.1)])


def _too_many_vertices() -> Polygon:
    t = np.linspace(0, 2 * np.pi, MAX_VERTICES + 1, endpoint=False)
    return Polygon(np.column_stack([106 + 0.1 * np.cos(t), 26 + 0.1 * np.sin(t)]))


ERROR_CASES = [
    pytest.param(None, "no boundary was given", id="none"),
    pytest.param(Polygon(), "boundary is empty", id="empty"),
    pytest.param(MultiPolygon(), "boundary is empty", id="empty-multi"),
    pytest.param(LineString([(106, 26), (106.1, 26.1)]), "but a LineString was given", id="linestring"),
    pytest.param(Point(106, 26), "but a Point was given", id="point"),
    pytest.param(GeometryCollection([box(106, 26, 106.1, 26.1), Point(106, 26)]),
                 "GeometryCollection containing Point", id="collection-with-point"),
    pytest.param("POLYGON ((0 0, 1 0, 1 1, 0 0))", "must be a geometry, but a str was given", id="string"),
    pytest.param(Polygon([(106, 26), (106.1, 26.1), (106.1, 26.1), (106, 26)]), "only 2 distinct vertices",
                 id="two-distinct-vertices"),
    pytest.param(_with_non_finite(float("nan")), "missing or non-numeric coordinate at vertex 2", id="nan"),
    pytest.param(_with_non_finite(float("inf")), "missing or non-numeric coordinate at vertex 2", id="inf"),
    pytest.param(Polygon([(106, 26), (200, 26), (106.1, 26.1)]),
                 "vertex 2 of the outer ring (lon 200, lat 26) is outside the longitude/latitude range",
                 id="lon-out-of-range"),
    pytest.param(Polygon([(106, 26), (106.1, 26), (106.1, 95.5)]), "vertex 3 of the outer ring (lon 106.1, lat 95.5)",
                 id="lat-out-of-range"),
    pytest.param(Polygon([(26, 106), (26, 106.1), (26.1, 106.1)]), "swapped", id="swapped-axes"),
    pytest.param(Polygon([(363594.5, 2949581.6), (364594.5, 2949581.6), (364594.5, 2950581.6)]), "projected metres",
                 id="projected-metres"),
    pytest.param({"type": "Polygon", "coordinates": [[[106, 26], [106.1, 26], [106.1, 26.1]]]},
                 "outer ring is not closed", id="unclosed-geojson-ring"),
    pytest.param(Polygon([(106, 26), (106.000005, 26), (106.000005, 26.000005)]), "less than 1 m²", id="tiny-area"),
    pytest.param(Polygon([(106, 26), (106.001, 26.001), (106.002, 26.002)]), "less than 1 m²", id="collinear"),
    pytest.param(_too_many_vertices(), f"has {MAX_VERTICES + 1} vertices; the limit is {MAX_VERTICES}",
                 id="too-many-vertices"),
    pytest.param(MultiPolygon([box(106, 26, 106.2, 26.2), box(106.1, 26.1, 106.3, 26.3)]), "parts overlap",
                 id="overlapping-parts"),
    pytest.param(Polygon(box(106, 26, 106.2, 26.2).exterior.coords, [box(106.3, 26.3, 106.4, 26.4).exterior.coords]),
                 "hole in the boundary lies (partly) outside its outer ring", id="hole-outside"),
    pytest.param(Polygon([(106, 26), (106.2, 26), (106.2, 26.2), (106.1, 26.0), (106, 26.2)]),
                 "boundary ring self-intersects at 106.1 26", id="ring-touches-itself"),
]


@pytest.mark.parametrize("geom, message", ERROR_CASES)
def test_every_rejection_has_a_readable_message(geom, message):
    with pytest.raises(GeometryError) as info:
        validate_boundary(geom)
    assert message in str(info.value)


def test_wrong_type_names_the_type_given():
    with pytest.raises(GeometryError, match="MultiLineString"):
        validate_boundary(shapely.MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3)]]))


def test_locations_are_reported_where_known():
    with pytest.raises(GeometryError) as info:
        validate_boundary({"type": "Polygon", "coordinates": [[[106, 26], [106.1, 26], [106.1, 26.1]]]})
    assert info.value.location == (106.1, 26.1)
    assert info.value.repair is None
    with pytest.raises(GeometryError) as info:
        validate_boundary(MultiPolygon([box(106, 26, 106.2, 26.2), box(106.1, 26.1, 106.3, 26.3)]))
    assert info.value.location is not None
    assert info.value.repair is not None and info.value.repair.is_valid
    assert geodesic_area_m2(info.value.repair) == pytest.approx(geodesic_area_m2(
        shapely.union(box(106, 26, 106.2, 26.2), box(106.1, 26.1, 106.3, 26.3))), rel=1e-9)


def test_accepts_polygons_drops_z_and_orients_exteriors_ccw():
    cw_with_z = Polygon([(106, 26, 1200), (106, 26.1, 1210), (106.1, 26.1, 1190), (106.1, 26, 1180)],
                        [[(106.02, 26.02, 0), (106.05, 26.02, 0), (106.05, 26.05, 0), (106.02, 26.05, 0)]])
    assert not cw_with_z.exterior.is_ccw
    out = validate_boundary(cw_with_z)
    assert isinstance(out, MultiPolygon)
    assert not out.has_z
    poly = out.geoms[0]
    assert poly.exterior.is_ccw
    assert not poly.interiors[0].is_ccw
    assert out.equals(MultiPolygon([shapely.force_2d(cw_with_z)]))


@pytest.mark.parametrize("geom", [
    box(106, 26, 106.1, 26.1),
    MultiPolygon([box(106, 26, 106.1, 26.1), box(106.2, 26, 106.3, 26.1)]),
    GeometryCollection([box(106, 26, 106.1, 26.1), MultiPolygon([box(106.2, 26, 106.3, 26.1)])]),
    {"type": "Polygon", "coordinates": [[[106, 26], [106.1, 26], [106.1, 26.1], [106, 26]]]},
])
def test_accepted_inputs(geom):
    out = validate_boundary(geom)
    assert isinstance(out, MultiPolygon) and out.is_valid
    assert geodesic_area_m2(out) > 1e7


def test_exactly_max_vertices_is_accepted():
    t = np.linspace(0, 2 * np.pi, MAX_VERTICES, endpoint=False)
    poly = Polygon(np.column_stack([106 + 0.1 * np.cos(t), 26 + 0.1 * np.sin(t)]))
    assert vertex_count(validate_boundary(poly)) == MAX_VERTICES


# ----------------------------------------------------------------------------------------------------------------------
# validate_location
# ----------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("geom", [Point(106.63, 26.65), Point(106.63, 26.65, 1100), MultiPoint([(106.63, 26.65)]),
                                  (106.63, 26.65), {"type": "Point", "coordinates": [106.63, 26.65]}])
def test_validate_location_accepts(geom):
    out = validate_location(geom)
    assert isinstance(out, Point) and not out.has_z
    assert (out.x, out.y) == (106.63, 26.65)


@pytest.mark.parametrize("geom, message", [
    (None, "no site location"),
    (Point(), "empty"),
    (MultiPoint([(106, 26), (107, 27)]), "single point, but 2 points"),
    (LineString([(106, 26), (107, 27)]), "must be a Point, but a LineString"),
    (Point(206.63, 26.65), "outside the longitude/latitude range"),
    (Point(26.65, 106.63), "swapped"),
    (Point(float("nan"), 26.65), "non-numeric"),
    ((106.63,), "but 1 numbers were given"),
])
def test_validate_location_rejects(geom, message):
    with pytest.raises(GeometryError) as info:
        validate_location(geom)
    assert message in str(info.value)


# ----------------------------------------------------------------------------------------------------------------------
# geodesic metrics
# ----------------------------------------------------------------------------------------------------------------------
def _band_area_m2(lat1_deg: float, lat2_deg: float, dlon_deg: float) -> float:
    """Analytic area of a latitude/longitude quadrangle on the CGCS2000 ellipsoid (authalic-latitude formula)."""
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    e = math.sqrt(e2)
    b = a * (1 - f)

    def q(phi):
        s = math.sin(math.radians(phi))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return math.radians(dlon_deg) * b * b / 2 * (q(lat2_deg) - q(lat1_deg))


def test_area_of_a_one_degree_cell_at_the_equator():
    cell = box(0, 0, 1, 1)
    area = geodesic_area_m2(cell)
    assert area / 1e6 == pytest.approx(12308, rel=1e-3)  # ~12,308 km²
    # the top edge is a geodesic, not a parallel: it bulges slightly poleward, hence 0.1 % rather than exact
    assert area == pytest.approx(_band_area_m2(0, 1, 1), rel=1e-3)
    assert area == pytest.approx(abs(GRS80.polygon_area_perimeter([0, 1, 1, 0], [0, 0, 1, 1])[0]), rel=1e-12)
    # orientation does not matter
    assert geodesic_area_m2(shapely.reverse(cell)) == pytest.approx(area, rel=1e-12)


def test_area_of_a_1km_square_in_guizhou_matches_utm():
    to_utm = Transformer.from_crs("EPSG:4490", "EPSG:32648", always_xy=True)  # UTM 48N, CM 105E
    e0, n0 = to_utm.transform(*GUIYANG)
    square_utm = box(e0, n0, e0 + 1000, n0 + 1000)
    to_lonlat = Transformer.from_crs("EPSG:32648", "EPSG:4490", always_xy=True)
    square = shapely.transform(shapely.segmentize(square_utm, 50),
                               lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    assert geodesic_area_m2(square) == pytest.approx(square_utm.area, rel=5e-3)
    assert geodesic_perimeter_m(square) == pytest.approx(4000, rel=5e-3)


def test_holes_are_subtracted_and_multiparts_added():
    outer, hole = box(106, 26, 106.1, 26.1), box(106.02, 26.02, 106.05, 26.05)
    with_hole = Polygon(outer.exterior.coords, [hole.exterior.coords])
    assert geodesic_area_m2(with_hole) == pytest.approx(geodesic_area_m2(outer) - geodesic_area_m2(hole), rel=1e-12)
    other = box(106.2, 26, 106.3, 26.1)
    assert geodesic_area_m2(MultiPolygon([with_hole, other])) == pytest.approx(
        geodesic_area_m2(with_hole) + geodesic_area_m2(other), rel=1e-12)
    assert geodesic_perimeter_m(with_hole) == pytest.approx(
        geodesic_perimeter_m(outer) + geodesic_perimeter_m(hole), rel=1e-12)
    assert geodesic_area_m2(Point(106, 26)) == 0.0
    assert geodesic_area_m2(None) == 0.0


def test_perimeter_of_a_cell_is_the_sum_of_its_geodesic_sides():
    sides = [((0, 0), (1, 0)), ((1, 0), (1, 1)), ((1, 1), (0, 1)), ((0, 1), (0, 0))]
    expected = sum(GRS80.inv(a[0], a[1], b[0], b[1])[2] for a, b in sides)
    assert geodesic_perimeter_m(box(0, 0, 1, 1)) == pytest.approx(expected, rel=1e-9)


def test_distance_guiyang_to_kaili():
    d = geodesic_distance_m(Point(*GUIYANG), Point(*KAILI))
    assert d == pytest.approx(GRS80.inv(*GUIYANG, *KAILI)[2], abs=1e-6)
    assert 130_000 < d < 140_000  # roughly 135 km as the crow flies
    assert geodesic_distance_m(GUIYANG, KAILI) == d  # tuples work too
    assert geodesic_distance_m(GUIYANG, GUIYANG) == 0.0


def test_compare_geometries_square_shifted_100m_east():
    lon, lat = GUIYANG
    old_b, new_b = metric_square(lon, lat), metric_square(lon, lat, dx_m=100)
    old_p = Point(lon, lat)
    new_p = Point(*GRS80.fwd(lon, lat, 90, 100)[:2])
    m = compare_geometries(old_p, new_p, old_b, new_b)
    assert set(m) == {"location_shift_m", "area_before_m2", "area_after_m2", "area_change_pct", "centroid_shift_m",
                      "hausdorff_m", "vertices_before", "vertices_after"}
    assert m["location_shift_m"] == pytest.approx(100, abs=1e-6)
    assert m["area_before_m2"] == pytest.approx(1e6, rel=1e-4)
    assert m["area_after_m2"] == pytest.approx(1e6, rel=1e-4)
    assert m["area_change_pct"] == pytest.approx(0, abs=0.01)
    assert m["centroid_shift_m"] == pytest.approx(100, abs=0.5)
    assert m["hausdorff_m"] == pytest.approx(100, abs=0.5)
    assert m["vertices_before"] == m["vertices_after"] == 4


def test_compare_geometries_without_boundary_before():
    b = metric_square(*GUIYANG)
    m = compare_geometries(None, Point(*GUIYANG), None, b)
    assert m["location_shift_m"] is None
    assert m["area_before_m2"] is None and m["vertices_before"] is None
    assert m["area_after_m2"] == pytest.approx(1e6, rel=1e-4) and m["vertices_after"] == 4
    assert m["area_change_pct"] is None and m["centroid_shift_m"] is None and m["hausdorff_m"] is None
    m = compare_geometries(Point(*GUIYANG), Point(*GUIYANG), b, None)
    assert m["location_shift_m"] == 0.0
    assert m["area_before_m2"] == pytest.approx(1e6, rel=1e-4) and m["area_after_m2"] is None


def test_hausdorff_and_centroid_shift_simple_cases():
    lon, lat = GUIYANG
    sq = metric_square(lon, lat)
    assert hausdorff_m(sq, sq) == pytest.approx(0, abs=1e-6)
    assert centroid_shift_m(sq, sq) == pytest.approx(0, abs=1e-6)
    grown = metric_square(lon, lat, size_m=1200)  # corners move 100 m east/west and 100 m north/south
    assert hausdorff_m(sq, grown) == pytest.approx(100 * math.sqrt(2), rel=0.01)
    assert centroid_shift_m(sq, grown) == pytest.approx(0, abs=0.01)
    # a notch pushed 200 m into the middle of the southern edge
    crs = local_metric_crs((lon, lat))
    back = Transformer.from_crs(crs, "EPSG:4490", always_xy=True)
    notched = Polygon([back.transform(x, y) for x, y in
                       [(-500, -500), (0, -300), (500, -500), (500, 500), (-500, 500)]])
    assert hausdorff_m(sq, notched) == pytest.approx(200, abs=1)


def test_vertex_count():
    assert vertex_count(box(0, 0, 1, 1)) == 4
    with_hole = Polygon(box(0, 0, 4, 4).exterior.coords, [box(1, 1, 2, 2).exterior.coords])
    assert vertex_count(with_hole) == 8
    assert vertex_count(MultiPolygon([with_hole, box(5, 5, 6, 6)])) == 12
    assert vertex_count(Point(1, 1)) == 1
    assert vertex_count(LineString([(0, 0), (1, 1), (2, 0)])) == 3
    assert vertex_count(None) == 0
    assert vertex_count(Polygon()) == 0


def test_local_metric_crs_is_centred_on_the_geometry():
    geom = box(106.5, 26.5, 106.7, 26.7)
    crs = local_metric_crs(geom)
    assert crs.is_projected
    assert crs.axis_info[0].unit_name == "metre"
    fwd = Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    x, y = fwd.transform(106.6, 26.6)
    assert abs(x) < 1e-6 and abs(y) < 1e-6
    assert local_metric_crs((106.6, 26.6)) == crs


# ----------------------------------------------------------------------------------------------------------------------
# helpers for maps and the field
# ----------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lon, lat, expected", [
    (106.63, 26.65, (106.65, 26.65)),
    (106.3, 26.3, (106.35, 26.35)),            # exactly on cell edges: belongs to the cell east/north (106.3/0.1 != 1063)
    (106.0, 26.0, (106.05, 26.05)),
    (105.99999999, 25.99999999, (105.95, 25.95)),  # just below an edge stays in the lower cell
    (106.00000001, 26.00000001, (106.05, 26.05)),
    (107.7, 28.7, (107.75, 28.75)),
    (104.1, 25.1, (104.15, 25.15)),
    (-0.05, -0.1, (-0.05, -0.05)),
    (0.0, 0.0, (0.05, 0.05)),
])
def test_grid_cell_centre(lon, lat, expected):
    assert grid_cell_centre(lon, lat) == expected


def test_grid_cell_centre_other_cell_sizes_and_rounding():
    assert grid_cell_centre(105.5, 26.25, cell_deg=0.5) == (105.75, 26.25)
    assert grid_cell_centre(106.63, 26.65, cell_deg=0.01) == (106.635, 26.655)
    for lon in np.arange(103.6, 109.6, 0.037):
        c = grid_cell_centre(float(lon), 26.0)[0]
        assert c == round(c, 6)
        assert abs(c - lon) <= 0.05 + 1e-9


def test_simplify_for_zoom_reduces_vertices_and_keeps_validity():
    t = np.linspace(0, 2 * np.pi, 3000, endpoint=False)
    r = 0.05 * (1 + 0.2 * np.sin(7 * t) + 0.01 * np.sin(211 * t))
    outline = Polygon(np.column_stack([106.6 + r * np.cos(t), 26.6 + r * np.sin(t)]))
    hole = Point(106.6, 26.6).buffer(0.01, quad_segs=64)
    boundary = validate_boundary(Polygon(outline.exterior.coords, [hole.exterior.coords]))
    counts = {}
    for z in (4, 8, 12, 15):
        s = simplify_for_zoom(boundary, z)
        assert s.is_valid and not s.is_empty
        assert s.geom_type == "MultiPolygon"
        counts[z] = vertex_count(s)
    assert counts[4] <= counts[8] <= counts[12] <= counts[15] <= vertex_count(boundary)
    assert counts[8] < vertex_count(boundary) / 5
    assert simplify_for_zoom(boundary, 16) is boundary
    assert simplify_for_zoom(boundary, 18) is boundary
    assert simplify_for_zoom(None, 5) is None
    p = Point(106.6, 26.6)
    assert simplify_for_zoom(p, 3) is p
    # at zoom 8 the geometry moves less than a pixel (~600 m at this latitude)
    assert hausdorff_m(boundary, simplify_for_zoom(boundary, 8)) < 600


def test_simplify_many_for_zoom_gives_what_simplify_for_zoom_gives_one_by_one():
    """The map's boundaries layer simplifies hundreds at once: the same geometries, whatever their type (single and
    multi parts, lines, points, None, empty, rings GEOS unwraps or that come out invalid or empty)."""
    rng = np.random.default_rng(24)
    geoms = [None, Point(106, 26), MultiPoint([(106, 26), (106.1, 26)]), Polygon(), MultiPolygon(),
             LineString([(106, 26), (106.0000001, 26.0000001), (106.0000002, 26)]),
             MultiLineString([[(106, 26), (106.001, 26.0001), (106.002, 26)]]),
             MultiPolygon([Polygon([(106, 26), (106.000001, 26), (106.000001, 26.000001)])]),  # vanishes
             MultiPolygon([Point(106, 26).buffer(0.01), Point(106.05, 26).buffer(0.002)])]
    for i in range(60):
        lon, lat = 104 + rng.uniform(0, 5), 25 + rng.uniform(0, 4)
        t = np.linspace(0, 2 * np.pi, int(rng.integers(8, 400)), endpoint=False)
        r = rng.uniform(0.001, 0.05) * (1 + 0.3 * np.sin(int(rng.integers(2, 9)) * t))
        ring = Polygon(np.column_stack([lon + r * np.cos(t), lat + r * np.sin(t)]))
        geoms.append(MultiPolygon([ring]) if i % 3 else ring)
    for zoom in (0, 5, 9, 11, 13, 15, 16, 20):
        many = simplify_many_for_zoom(geoms, zoom)
        one = [simplify_for_zoom(g, zoom) for g in geoms]
        assert len(many) == len(one)
        for a, b in zip(many, one):
            assert (a is None and b is None) or (a.geom_type == b.geom_type and a.wkb == b.wkb), zoom


def test_close_ring_if_near():
    lon, lat = GUIYANG
    east = GRS80.fwd(lon, lat, 90, 500)[:2]
    north_east = GRS80.fwd(*east, 0, 500)[:2]
    near_start = GRS80.fwd(lon, lat, 0, 20)[:2]
    far_from_start = GRS80.fwd(lon, lat, 180, 200)[:2]
    walked = [(lon, lat, 1100.0), (*east, 1105.0), (*north_east, 1110.0), (*near_start, 1101.0)]
    closed = close_ring_if_near(walked)
    assert closed is not None
    assert closed[0] == closed[-1] == (lon, lat)
    assert len(closed) == 5 and all(len(c) == 2 for c in closed)
    validate_boundary(Polygon(closed))
    assert close_ring_if_near([(lon, lat), east, north_east, far_from_start]) is None
    assert close_ring_if_near([(lon, lat), east, north_east, far_from_start], tolerance_m=250) is not None
    already = [(lon, lat), east, north_east, (lon, lat)]
    assert close_ring_if_near(already) == already
    assert close_ring_if_near([(lon, lat), east, (lon, lat)]) is None  # only 2 distinct points


# ----------------------------------------------------------------------------------------------------------------------
# property: any valid polygon passes
# ----------------------------------------------------------------------------------------------------------------------
@st.composite
def star_polygons(draw):
    lon = draw(st.floats(-178, 178))
    lat = draw(st.floats(-84, 84))
    n = draw(st.integers(3, 40))
    size = draw(st.floats(1e-3, 1.0))
    angles = sorted(draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True), min_size=n, max_size=n, unique=True)))
    radii = draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n))
    coords = [(lon + size * r * math.cos(a), lat + size * r * math.sin(a)) for a, r in zip(angles, radii)]
    poly = Polygon(coords)
    if draw(st.booleans()):
        poly = shapely.reverse(poly)
    return poly


@st.composite
def hull_polygons(draw):
    lon = draw(st.floats(-178, 178))
    lat = draw(st.floats(-84, 84))
    pts = draw(st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1)), min_size=3, max_size=30))
    return MultiPoint([(lon + x, lat + y) for x, y in pts]).convex_hull


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(st.one_of(star_polygons(), hull_polygons()))
def test_any_valid_polygon_passes(poly):
    assume(isinstance(poly, Polygon) and poly.is_valid and not poly.is_empty)
    assume(geodesic_area_m2(poly) >= 1.0)
    out = validate_boundary(poly)
    assert isinstance(out, MultiPolygon) and out.is_valid
    assert all(p.exterior.is_ccw for p in out.geoms)
    area = geodesic_area_m2(out)
    assert area > 0
    assert area == pytest.approx(geodesic_area_m2(poly), rel=1e-9)
    assert vertex_count(out) == vertex_count(poly)
