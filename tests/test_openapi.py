"""The OpenAPI document (GET /ogcapi/api) covers the whole JSON API: it validates, every /api and /ogcapi route of the
app is described in it and nothing else is, and every operation says what it does, what it answers and who may call
it. What the answers really look like is checked by schemathesis (test_openapi_fuzz.py) and below on known answers."""
from __future__ import annotations

import re

import pytest
from jsonschema import Draft4Validator
from openapi_spec_validator import validate

from fossil_registry import auth, create_app

from .conftest import bearer
from .import_helpers import confirm, geojson, imported, point
from .conftest import report_id

METHODS = {"get", "post", "put", "patch", "delete"}


def _shape(path: str) -> str:
    """A path with its parameters unnamed: /api/sites/{} (Flask's <code>, <int:id> and OpenAPI's {code} alike)."""
    return re.sub(r"\{[^}]+\}", "{}", re.sub(r"<(?:[^<>:]+:)?[^<>]+>", "{}", path))


def _routes(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.rule == "/api" or rule.rule.startswith(("/api/", "/ogcapi")):
            out |= {(_shape(rule.rule), m.lower()) for m in rule.methods if m.lower() in METHODS}
    return out


@pytest.fixture
def doc(client):
    r = client.get("/ogcapi/api")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    return r.get_json()


def test_the_document_validates(doc):
    validate(doc)
    assert doc["openapi"] == "3.0.3" and doc["servers"] == [{"url": "http://localhost"}]


def _described(doc) -> set[tuple[str, str]]:
    return {(_shape(path), method) for path, item in doc["paths"].items() for method in item if method in METHODS}


def test_every_route_is_described_and_nothing_else(app, doc):
    routes, described = _routes(app), _described(doc)
    assert sorted(routes - described) == [], "routes without a description in the OpenAPI document"
    assert sorted(described - routes) == [], "described operations the app does not have"
    assert len(routes) >= 58


def test_a_new_route_without_a_description_is_noticed(demo_data_dir):
    """The check above is not vacuous: a route added without a description shows up."""
    app = create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "test-secret"})
    app.add_url_rule("/api/undescribed/<int:thing_id>", "undescribed", lambda thing_id: "", methods=["POST"])
    doc = app.test_client().get("/ogcapi/api").get_json()
    assert _routes(app) - _described(doc) == {("/api/undescribed/{}", "post")}


def test_every_operation_says_what_it_does_answers_and_who_may_call_it(doc):
    ids = []
    for path, item in doc["paths"].items():
        path_params = set(re.findall(r"\{([^}]+)\}", path))
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            assert op.get("operationId") or op.get("summary"), where
            ids.append(op.get("operationId"))
            assert op.get("tags"), where
            assert any(code.startswith("2") for code in op["responses"]), where
            assert "401" in op["responses"], where  # a Bearer token that is given must be valid, everywhere
            assert op["security"] in ([{"bearerAuth": []}], [{}, {"bearerAuth": []}]), where
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == path_params, where
            if op["security"] == [{"bearerAuth": []}]:
                assert "403" in op["responses"], f"{where}: a signed-in role without the permission gets 403"
            if "requestBody" in op:
                assert op["requestBody"]["content"], where
    found = [i for i in ids if i]
    assert len(found) == len(set(found)), "operationIds must be unique"


def test_security_says_what_the_permission_policy_says(app, doc):
    """Operations open to anonymous callers are exactly the endpoints whose permission anonymous callers hold."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/ogcapi")):
            continue
        view = app.view_functions[rule.endpoint]
        anonymous_ok = auth.allowed(None, view.required_permission)
        item = next(item for path, item in doc["paths"].items() if _shape(path) == _shape(rule.rule))
        for method in rule.methods & {"GET", "POST"}:
            assert (item[method.lower()]["security"] != [{"bearerAuth": []}]) == anonymous_ok, rule.rule


def test_schemas_are_closed_where_the_code_writes_every_key(doc):
    """Answers are described key by key: a schema that allows anything would prove nothing."""
    schemas = doc["components"]["schemas"]
    for name in ("SiteState", "PublicSite", "RevisionView", "Proposal", "Inspection", "Report", "ReportReceipt",
                 "SupervisionSummary", "Fieldkit", "Checkin", "SavedScreening", "Case", "Me", "Timeline"):
        schema = schemas[name]
        assert schema.get("additionalProperties") is False or name == "Timeline", name
    for event in schemas["Timeline"]["properties"]["events"]["items"]["oneOf"]:
        event = schemas[event["$ref"].rsplit("/", 1)[1]] if "$ref" in event else event
        assert event["additionalProperties"] is False


def _resolve(doc, schema):
    """The schema with every $ref replaced (for jsonschema), OpenAPI's nullable turned into JSON Schema."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _resolve(doc, doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
        # format, example: the keywords (a string, any value), not properties of that name (a schema)
        out = {k: _resolve(doc, v) for k, v in schema.items()
               if k != "nullable" and not (k in ("example", "format") and not isinstance(v, dict))}
        if schema.get("nullable"):
            out = {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(schema, list):
        return [_resolve(doc, s) for s in schema]
    return schema


@pytest.mark.parametrize("url, who, schema", [
    ("/api/sites/GZ-0001", "field", "SiteState"), ("/api/sites/GZ-0001", None, "PublicSite"),
    ("/api/sites/GZ-0001/versions", "field", "SiteVersions"), ("/api/me", "admin", "Me"),
    ("/api/audit?limit=20", "admin", "AuditEntries"), ("/api/revisions/inbox", "expert", "Inbox"),
    ("/api/inspections/due", "field", "InspectionsDue"), ("/api/sites/GZ-0001/timeline", "expert", "Timeline"),
    ("/api/supervision/summary", "field", "SupervisionSummary"), ("/api/supervision/charts", "field",
                                                                    "DashboardCharts"),
    ("/api/supervision/report-charts", "field", "ReportCharts"), ("/api/reports", "expert", "ReportQueue"),
    ("/api/sections/GZS-0001", "field", "SectionState"), ("/api/sections/GZS-0001", None, "PublicSection"),
    ("/api/sections/GZS-0001/versions", "field", "SectionVersions"),
    ("/api/sections/GZS-0001/markers", "field", "Markers"), ("/api/sections/GZS-0001/markers", None, "Markers"),
    ("/api/sites/GZ-0003/markers", "field", "Markers"), ("/api/sites/GZ-0003/markers", None, "Markers"),
    ("/api/downloads", "field", "DownloadCatalogue"), ("/api/downloads", None, "DownloadCatalogue"),
    ("/api/rescues", "expert", "RescueCases"), ("/api/imports", "admin", "Imports"),
])
def test_known_answers_keep_to_their_schemas(client, doc, url, who, schema):
    r = client.get(url, headers=bearer(who) if who else {})
    assert r.status_code == 200, r.get_data(as_text=True)
    _keeps_to(doc, r.get_json(), schema)


def _keeps_to(doc, body, schema: str) -> None:
    errors = list(Draft4Validator(_resolve(doc, {"$ref": f"#/components/schemas/{schema}"})).iter_errors(body))
    assert not errors, (schema, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:3]])


def test_answers_of_sections_markers_rescues_and_imports_keep_to_their_schemas(client, doc):
    """The answers of the features merged after the OpenAPI work, with something in them: a section's proposal
    (approved, then its diff), a marker recorded, an inspection with a marker checked, a rescue case with an event,
    an import analysed and confirmed."""
    expert = bearer("expert")
    r = client.post("/api/sites/GZ-0003/markers", headers=expert, json={
        "kind": "boundary_post", "point": [105.605, 25.902], "inscription": "界桩 07", "erected_on": "2024-05-01"})
    assert r.status_code == 201 and r.get_json()["warnings"], r.get_json()
    _keeps_to(doc, r.get_json(), "Marker")
    marker = client.get("/api/sections/GZS-0001/markers", headers=expert).get_json()["markers"][0]
    r = client.post("/api/sections/GZS-0001/inspections", headers=expert, json={
        "date": "2026-01-05", "condition": "good", "markers": [{"marker": marker["id"], "condition": "damaged"}]})
    assert r.status_code == 201 and r.get_json()["markers"][0]["condition"] == "damaged", r.get_json()
    _keeps_to(doc, r.get_json(), "Inspection")
    _keeps_to(doc, client.get("/api/sections/GZS-0001/inspections", headers=expert).get_json(), "SectionInspections")
    r = client.post("/api/sections/GZS-0002/revisions", headers=bearer("field"), json={
        "reason": "a better line", "base_version": 1, "properties": {"name_en": "Balang section", "units": ["Kaili"]},
        "line": {"type": "LineString", "coordinates": [[108.3885, 26.7505], [108.3885, 26.7545]]}})
    assert r.status_code == 201 and r.get_json()["feature"] == "section", r.get_json()
    _keeps_to(doc, r.get_json(), "Proposal")
    rid = r.get_json()["id"]
    for who in ("field", "expert"):
        _keeps_to(doc, client.get("/api/revisions?status=submitted", headers=bearer(who)).get_json(), "RevisionList")
    r = client.post(f"/api/revisions/{rid}/decision", headers=expert, json={"decision": "approve", "round": 1})
    assert r.status_code == 200 and r.get_json()["site_state"]["version"] == 2, r.get_json()
    _keeps_to(doc, r.get_json(), "Proposal")
    _keeps_to(doc, client.get(f"/api/revisions/{rid}", headers=expert).get_json(), "RevisionView")
    diff = client.get("/api/sections/GZS-0002/diff?from=1&to=2", headers=expert).get_json()
    assert diff["metrics"]["length_m_after"] > 400, diff
    _keeps_to(doc, diff, "SiteDiff")
    _keeps_to(doc, client.get("/api/sections/GZS-0002?version=1", headers=expert).get_json(), "SectionState")
    report = client.post("/api/reports", json={"kind": "find", "lon": "105.661", "lat": "25.507",
                                               "description": "Large bones in the wall of a quarry"})
    r = client.post("/api/rescues", headers=expert, json={"report_id": report_id(client, report.get_json()),
                                                          "reported_at": "2026-01-10T09:00", "contact": "139"})
    assert r.status_code == 201, r.get_json()
    _keeps_to(doc, r.get_json(), "RescueCase")
    r = client.post(f"/api/rescues/{r.get_json()['id']}/events", headers=expert, json={
        "kind": "specimens_rescued", "specimens": 2, "kept_at": "museum", "done_at": "2026-01-11T09:00"})
    assert r.status_code == 201 and r.get_json()["specimens"] == 2, r.get_json()
    _keeps_to(doc, r.get_json(), "RescueCase")
    _keeps_to(doc, client.get(f"/api/rescues/{r.get_json()['id']}", headers=bearer("field")).get_json(), "RescueCase")
    _keeps_to(doc, client.get("/api/rescues", headers=expert).get_json(), "RescueCases")
    body = imported(client, geojson([({"name": "新点", "level": "general"}, point(107.98, 26.58))]), "new.geojson")
    _keeps_to(doc, body, "Import")
    done = confirm(client, body)
    assert done["counts"]["result_proposed"] == 1, done
    _keeps_to(doc, done, "Import")
    _keeps_to(doc, client.get(f"/api/imports/{body['id']}/summary", headers=bearer("admin")).get_json(),
              "ImportSummary")
    _keeps_to(doc, client.get("/api/imports", headers=bearer("admin")).get_json(), "Imports")
    _keeps_to(doc, client.get("/api/inspections/due?all=1", headers=expert).get_json(), "InspectionsDue")


def test_a_closed_schema_catches_a_key_the_code_did_not_declare(client, doc):
    body = client.get("/api/me", headers=bearer("admin")).get_json()
    validator = Draft4Validator(_resolve(doc, {"$ref": "#/components/schemas/Me"}))
    assert validator.is_valid(body)
    assert not validator.is_valid({**body, "password_hash": "..."})
    assert not validator.is_valid({**body, "role": "superuser"})


def test_the_html_page_lists_every_operation(client, doc):
    page = client.get("/ogcapi/api.html").get_data(as_text=True)
    for path, item in doc["paths"].items():
        for method in item:
            assert f'<td class="mono">{path}</td>' in page.replace("&#39;", "'"), (method, path)
