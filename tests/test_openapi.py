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
        assert event["additionalProperties"] is False


def _resolve(doc, schema):
    """The schema with every $ref replaced (for jsonschema), OpenAPI's nullable turned into JSON Schema."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _resolve(doc, doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
        out = {k: _resolve(doc, v) for k, v in schema.items() if k not in ("nullable", "example", "format")}
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
])
def test_known_answers_keep_to_their_schemas(client, doc, url, who, schema):
    r = client.get(url, headers=bearer(who) if who else {})
    assert r.status_code == 200, r.get_data(as_text=True)
    errors = list(Draft4Validator(_resolve(doc, {"$ref": f"#/components/schemas/{schema}"})).iter_errors(
        r.get_json()))
    assert not errors, [e.message for e in errors[:3]]


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
