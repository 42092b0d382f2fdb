"""Versioned sites: history, as-of, diff, the stale-version guard and readable refusals."""
from __future__ import annotations

import time

import pytest
from shapely.geometry import Point

from fossil_registry import sites, store
from fossil_registry.errors import InvalidInput, NotFound, StaleVersion

from .conftest import make_site, square

pytestmark = pytest.mark.both_backends


def test_each_change_appends_a_full_snapshot(conn):
    site = make_site(conn, lon=105.5, lat=25.9)
    v2 = sites.change_site(conn, site.code, base_version=1, location=Point(105.501, 25.9), author="alice",
                           reason="RTK resurvey 2026-03").site
    v3 = sites.change_site(conn, site.code, base_version=2, properties={"level": "national"}, author="bob",
                           reason="designated national key site").site
    assert (v2.version, v3.version) == (2, 3)
    history = sites.history(conn, site.code)
    assert [(v.version, v.author, v.reason) for v in history] == [
        (1, "tester", "test fixture"), (2, "alice", "RTK resurvey 2026-03"), (3, "bob", "designated national key site")]
    # every snapshot is complete, not a delta
    assert history[2].location.equals(Point(105.501, 25.9)) and history[2].boundary is not None
    assert history[1].properties["level"] == "provincial" and history[2].properties["level"] == "national"
    assert sites.at_version(conn, site.code, 1).location.equals(Point(105.5, 25.9))
    current = sites.current(conn, site.code)
    assert current.version == 3 and current.properties["level"] == "national"


def test_as_of_returns_the_state_at_a_time(conn):
    site = make_site(conn)
    t1 = store.utc_now()
    time.sleep(0.01)
    sites.change_site(conn, site.code, base_version=1, properties={"name": "新名称"}, author="a", reason="rename")
    assert sites.as_of(conn, site.code, t1).properties["name"] == "测试化石点"
    assert sites.as_of(conn, site.code, store.utc_now()).properties["name"] == "新名称"
    with pytest.raises(NotFound, match="did not exist yet"):
        sites.as_of(conn, site.code, "2001-01-01")
    with pytest.raises(InvalidInput, match="ISO-8601"):
        sites.as_of(conn, site.code, "last tuesday")


def test_bare_dates_and_naive_times_are_read_in_the_registry_time_zone():
    assert sites.parse_timestamp("2026-03-01") == "2026-03-01T15:59:59.999Z"  # end of the day in UTC+8
    assert sites.parse_timestamp("2026-03-01T08:00:00") == "2026-03-01T00:00:00.000Z"
    assert sites.parse_timestamp("2026-03-01T08:00:00Z") == "2026-03-01T08:00:00.000Z"


def test_diff_carries_old_and_new_values_and_geodesic_figures(conn):
    site = make_site(conn, lon=105.5, lat=25.9)
    sites.change_site(conn, site.code, base_version=1, location=Point(105.501, 25.9), boundary=square(105.501, 25.9),
                      properties={"formation": "Xiaowa Formation"}, author="a", reason="resurvey")
    d = sites.diff(conn, site.code, 1, 2)
    assert d["properties"] == {"formation": {"old": None, "new": "Xiaowa Formation"}}
    assert d["location_changed"] and d["boundary_changed"]
    # 0.001 degrees of longitude at 25.9 N is about 100.3 m
    assert d["metrics"]["location_shift_m"] == pytest.approx(100.3, abs=0.5)
    assert d["metrics"]["centroid_shift_m"] == pytest.approx(100.3, abs=0.5)
    assert d["metrics"]["area_change_pct"] == pytest.approx(0, abs=0.01)


def test_stale_base_version_is_refused_not_overwritten(conn):
    site = make_site(conn)
    sites.change_site(conn, site.code, base_version=1, properties={"age": "Carnian"}, author="a", reason="first")
    with pytest.raises(StaleVersion) as err:
        sites.change_site(conn, site.code, base_version=1, properties={"age": "Ladinian"}, author="b", reason="second")
    assert err.value.current_version == 2 and err.value.status == 409
    assert "version 2" in str(err.value)
    assert sites.current(conn, site.code).properties["age"] == "Carnian"
    assert len(sites.history(conn, site.code)) == 2


def test_changes_that_change_nothing_or_lack_a_reason_are_refused(conn):
    site = make_site(conn)
    with pytest.raises(InvalidInput, match="changes nothing"):
        sites.change_site(conn, site.code, base_version=1, properties={"level": "provincial"}, author="a", reason="x")
    with pytest.raises(InvalidInput, match="reason"):
        sites.change_site(conn, site.code, base_version=1, properties={"level": "national"}, author="a", reason=" ")


@pytest.mark.parametrize("props, message", [
    ({"level": "world"}, "level must be one of national, provincial, general"),
    ({"sensitivity": "secret"}, "sensitivity must be one of open, generalized, hidden"),
    ({"fossil_groups": ["dragons"]}, "unknown fossil group(s) dragons"),
    ({"period": "Martian"}, "period must be one of"),
    ({"established": "30/06/2014"}, "established must be a date"),
    ({"colour": "red"}, "unknown site field(s): colour"),
    ({"name": 12}, "name must be text"),
])
def test_bad_attribute_values_are_named(conn, props, message):
    site = make_site(conn)
    with pytest.raises(InvalidInput) as err:
        sites.change_site(conn, site.code, base_version=1, properties=props, author="a", reason="x")
    assert message in str(err.value)


def test_new_site_needs_name_level_and_sensitivity(conn):
    with pytest.raises(InvalidInput, match="needs a name"):
        sites.create_site(conn, properties={"level": "general", "sensitivity": "open"}, location=Point(105, 26),
                          boundary=None, author="a", reason="new find")
    assert store.count_sites(conn) == 0


def test_codes_are_stable_and_sequential(conn):
    assert [make_site(conn, lon=105 + i * 0.1).code for i in range(3)] == ["GZ-0001", "GZ-0002", "GZ-0003"]
    with pytest.raises(InvalidInput, match="already exists"):
        make_site(conn, code="GZ-0002", lon=106.5)
    with pytest.raises(NotFound):
        sites.current(conn, "GZ-9999")
    with pytest.raises(NotFound, match="versions 1 to 1"):
        sites.at_version(conn, "GZ-0001", 5)


def test_retiring_keeps_the_site_and_its_history(conn):
    site = make_site(conn)
    sites.change_site(conn, site.code, base_version=1, properties={"status": "retired"}, author="a",
                      reason="merged into GZ-0002", operation="retire")
    assert sites.list_current(conn) == []
    assert [s.code for s in sites.list_current(conn, include_retired=True)] == [site.code]
    assert sites.history(conn, site.code)[-1].operation == "retire"
