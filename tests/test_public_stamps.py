"""What public numbers give away (issue 22): every stamp an anonymous caller sees (the impact answer's
``registry_version``, the ETags of downloads and map layers) derives from the public view only, so editing a hidden
site or section moves none of them while editing an open site moves them; a report's reference and receipt are
random, not counters."""
from __future__ import annotations

import re

import pytest
from shapely.geometry import Point

from fossil_registry import sites, store
from fossil_registry.sections import SECTION

DOWNLOADS = ["/api/downloads/sites.geojson", "/api/downloads/sites.gpkg", "/api/downloads/boundaries.kml",
             "/api/downloads/boundaries.csv", "/api/downloads/registry.gpkg"]
LAYERS = ["/map/sites.geojson?bbox=103.6,24.6,109.6,29.2&zoom=8", "/map/search.json?q=gl",
          "/map/boundaries.geojson?bbox=103.6,24.6,109.6,29.2&zoom=12",
          "/map/sections.geojson?bbox=103.6,24.6,109.6,29.2&zoom=12"]


def public_numbers(client) -> dict:
    """Every stamp an anonymous caller can read."""
    seen = {}
    for url in DOWNLOADS + LAYERS:
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers.get("ETag"), url
        seen[url] = r.headers["ETag"]
    r = client.post("/api/impact", json={"footprint": {"type": "LineString", "coordinates": [[105.3, 25.8],
                                                                                            [105.6, 25.95]]},
                                         "width_m": 30})
    assert r.status_code == 200, r.get_json()
    seen["impact registry_version"] = r.get_json()["registry_version"]
    return seen


def edit(app, code: str, kind=None, **change) -> None:
    conn = store.connect(app.config["REGISTRY"])
    try:
        current = sites.current(conn, code, kind=kind)
        sites.change_site(conn, code, base_version=current.version, author="ada", reason="stamp test", kind=kind,
                          **change)
    finally:
        conn.close()


def test_editing_hidden_features_moves_no_public_number(app, client):
    before = public_numbers(client)
    edit(app, "GZ-0004", properties={"formation": "a hidden change", "description": "moved 40 m"},
         location=Point(105.5004, 25.7902))
    edit(app, "GZS-0011", kind=SECTION, properties={"formation": "a hidden section's change"})
    conn = store.connect(app.config["REGISTRY"])
    try:  # a new hidden site too
        sites.create_site(conn, properties={"name": "新隐藏点", "level": "general", "sensitivity": "hidden"},
                          location=Point(105.41, 25.81), boundary=None, author="ada", reason="stamp test")
    finally:
        conn.close()
    assert public_numbers(client) == before


def test_editing_what_the_public_sees_moves_the_public_numbers(app, client):
    before = public_numbers(client)
    edit(app, "GZ-0001", properties={"formation": "an open change"}, location=Point(105.3725, 25.8785))
    after = public_numbers(client)
    assert after["impact registry_version"] > before["impact registry_version"]
    for url in ("/api/downloads/sites.geojson", "/api/downloads/registry.gpkg", LAYERS[0]):
        assert after[url] != before[url], url
    # a hidden site made public moves them too, and so does an open one hidden
    edit(app, "GZ-0004", properties={"sensitivity": "open"})
    again = public_numbers(client)
    assert again["impact registry_version"] > after["impact registry_version"]
    edit(app, "GZ-0001", properties={"sensitivity": "hidden"})
    assert public_numbers(client)["impact registry_version"] > again["impact registry_version"]


def test_staff_keep_the_registry_version_that_names_a_state_of_the_whole_registry(app, client):
    from .conftest import bearer

    body = {"footprint": {"type": "Point", "coordinates": [105.5, 25.79]}, "width_m": 30}
    first = client.post("/api/impact", json=body, headers=bearer("expert")).get_json()["registry_version"]
    edit(app, "GZ-0004", properties={"formation": "a hidden change"})
    assert client.post("/api/impact", json=body, headers=bearer("expert")).get_json()["registry_version"] == first + 1


def test_a_reports_reference_and_receipt_are_random_not_counters(app, client):
    answers = [client.post("/api/reports", json={"kind": "find", "lon": 105.41 + i / 1000, "lat": 25.90,
                                                 "description": "Fish fossils in dumped slabs."}).get_json()
               for i in range(3)]
    references = [a["reference"] for a in answers]
    assert all(isinstance(r, str) and re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", r) for r in references)
    assert len(set(references)) == 3
    for a in answers:  # a receipt opens the report's page: 144 random bits, and not derivable from the reference
        assert len(a["receipt"]) >= 24 and a["reference"].replace("-", "") not in a["receipt"].upper()
        page = client.get(a["receipt_url"]).get_data(as_text=True)
        assert a["reference"] in page
    # staff find a report by the reference the reporter quotes
    from .conftest import login
    login(client, "expert")
    r = client.get(f"/reports?reference={references[1].lower()}")
    assert r.status_code == 303 and r.headers["Location"].startswith("/reports/")
    assert references[1] in client.get(r.headers["Location"]).get_data(as_text=True)
    page = client.get("/reports?reference=AAAA-BBBB-CCCC", follow_redirects=True).get_data(as_text=True)
    assert "No report has the reference AAAA-BBBB-CCCC" in page


@pytest.mark.parametrize("quoted", ["abcd-efgh-jkmn", "ABCDEFGHJKMN", " ABCD-EFGH-JKMN "])
def test_a_reference_is_read_however_it_is_typed(quoted):
    from fossil_registry import reports

    assert reports.normalized_reference(quoted) == "ABCD-EFGH-JKMN"
