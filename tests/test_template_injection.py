"""User text is data, never template source (issue 9, finding 1).

folium/branca render each map element's script and then compile that output as a *new* Jinja template, so any user text
that reached a map element used to be evaluated on the server (an anonymous report's photo file name ran a shell command
when an expert opened the report). These tests put Jinja syntax, in both ``{{ }}`` and ``{% %}`` forms, into every
field a user controls that is shown on a page with a map or in a template, open every such page as the people who see
it, and check that the text comes back as text: never evaluated, never a server error."""
from __future__ import annotations

import io
import re

import pytest

from fossil_registry import create_app, sites
from fossil_registry.db import get_conn

from .conftest import bearer, login
from .inspection_helpers import jpeg
from .conftest import report_id as report_id_of

# Evaluated, these print SSTI1337 / 1337SSTI; as text they never contain those markers.
EXPRESSION = "{{ 191*7 }}SSTI"
STATEMENT = "{% for i in [1] %}SSTI{{ 7*191 }}{% endfor %}"
BROKEN = "{{ unclosed"  # a syntax error if compiled: a 500 would show it was
MARKERS = ("1337SSTI", "SSTI1337")


@pytest.fixture(params=[EXPRESSION, STATEMENT], ids=["expression", "statement"])
def payload(request):
    return request.param


@pytest.fixture
def hostile(demo_data_dir, payload):
    """The demo registry with the payload in a site name and description, a proposal's reason and comment, a public
    report's description and photo name, and an inspection's findings and photo name."""
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "x",
                      "REPORT_LIMIT": "1000 per hour"})
    text = f"{payload} {BROKEN}"
    with app.app_context():
        conn = get_conn()
        for code in ("GZ-0001", "GZ-0002"):  # an open and (after this) a generalized site
            site = sites.current(conn, code)
            sites.change_site(conn, code, base_version=site.version, author="ada", reason=f"test: {text}",
                              properties={"name": f"名称 {text}", "name_en": f"Name {text}",
                                          "description": f"描述 {text}", "description_en": f"About {text}",
                                          "sensitivity": "open" if code == "GZ-0001" else "generalized"})
        gz1 = sites.current(conn, "GZ-0001")
    client = app.test_client()
    inside = gz1.boundary.representative_point() if gz1.boundary is not None else gz1.location
    photo = jpeg(lon=inside.x, lat=inside.y, taken="2024:05:01 12:00:00")
    r = client.post("/api/reports", content_type="multipart/form-data", data={
        "kind": "damage", "lon": str(inside.x), "lat": str(inside.y), "description": f"Broken slabs {text}",
        "contact": f"contact {text}", "photos": [(io.BytesIO(photo), f"{payload}.jpg")]})
    assert r.status_code == 201, r.get_json()
    report_id = report_id_of(client, r.get_json())
    r = client.post("/api/sites/GZ-0001/inspections", headers=bearer("expert"), content_type="multipart/form-data",
                    data={"date": "2024-05-01", "condition": "fair", "findings": f"Findings {text}",
                          "actions": f"Actions {text}", "threat_other": "low", "threat_other_note": f"note {text}",
                          "photos": [(io.BytesIO(photo), f"{payload}.jpg")]})
    assert r.status_code == 201, r.get_json()
    inspection_id = r.get_json()["id"]
    r = client.post("/api/sites/GZ-0001/revisions", headers=bearer("field"), json={
        "base_version": gz1.version, "reason": f"Reason {text}", "properties": {"age": f"age {text}"},
        "location": {"type": "Point", "coordinates": [inside.x, inside.y]}})
    assert r.status_code == 201, r.get_json()
    revision_id = r.get_json()["id"]
    r = client.post(f"/api/revisions/{revision_id}/comments", headers=bearer("expert"),
                    json={"comment": f"Comment {text}"})
    assert r.status_code == 201, r.get_json()
    return app, {"report": report_id, "inspection": inspection_id, "revision": revision_id}


def _pages(ids):
    anonymous = ["/", "/report", "/report?site=GZ-0001", "/report?site=GZ-0002", "/sites/GZ-0001",
                 "/sites/GZ-0002", "/map/sites.geojson", "/map/boundaries.geojson?zoom=12",
                 "/map/search.json?q=GZ", "/api/sites", "/api/sites/GZ-0001", "/api/sites/GZ-0002"]
    staff = anonymous + [
        f"/reports/{ids['report']}", "/reports", "/reports?status=all", f"/inspections/{ids['inspection']}",
        "/inspections", "/inspections.csv", "/sites/GZ-0001/timeline", "/sites/GZ-0001/history",
        "/sites/GZ-0001/inspections/new", f"/revisions/{ids['revision']}", "/revisions", "/review",
        "/revisions/new?site=GZ-0001", f"/api/revisions/{ids['revision']}", f"/api/reports/{ids['report']}",
        f"/api/inspections/{ids['inspection']}", "/admin/audit", "/admin/audit.csv"]
    return anonymous, staff


def _check(response, path):
    body = response.get_data(as_text=True)
    assert response.status_code < 500, (path, response.status_code)
    for marker in MARKERS:
        assert marker not in body, f"{path}: user text was evaluated as a template"


def test_user_text_is_never_evaluated_as_a_template(hostile):
    app, ids = hostile
    anonymous, staff = _pages(ids)
    anon = app.test_client()
    for path in anonymous:
        _check(anon.get(path), path)
    admin = login(app.test_client(), "admin")  # sees every staff page
    for path in staff:
        _check(admin.get(path), path)
    field = login(app.test_client(), "field")  # the proposal's author: the amend form
    path = f"/revisions/{ids['revision']}/amend"
    _check(field.get(path), path)


def test_user_text_reaches_the_map_as_escaped_data_not_as_script(hostile, payload):
    """The photo names and site names are on the maps (as JSON data the map code reads), verbatim, and no inline
    script carries them."""
    app, ids = hostile
    admin = login(app.test_client(), "admin")
    for path in (f"/reports/{ids['report']}", f"/inspections/{ids['inspection']}", "/inspections"):
        page = admin.get(path).get_data(as_text=True)
        data = re.findall(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', page, re.S)
        assert any("SSTI" in d for d in data), path  # the user text is shown on the map, as data...
        code = "\n".join(s for s in re.findall(r"<script(?![^>]*application/json)[^>]*>(.*?)</script>", page, re.S))
        assert "SSTI" not in code, path  # ...and no executable script contains it
    anon = app.test_client()
    page = anon.get("/report").get_data(as_text=True)
    code = "\n".join(s for s in re.findall(r"<script(?![^>]*application/json)[^>]*>(.*?)</script>", page, re.S))
    assert "SSTI" not in code
