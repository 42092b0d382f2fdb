"""Idempotency-Key on every creating POST (http/idempotency.py): a retry with the same key and the same content answers
the first answer and creates nothing; other content: 422; a key in use: 409; a bad key: 400; no key: as before. Each
creating endpoint is sent its role-matrix request (tests/matrix_*.py), API and HTML forms alike."""
from __future__ import annotations

import io
import json
import threading
import uuid

import pytest

from fossil_registry import idempotency
from fossil_registry.db import get_conn
from fossil_registry.store import idempotency as kstore
from fossil_registry.store.migrations import TABLES

from .conftest import bearer, csrf_token, login
from .inspection_helpers import jpeg
from .test_auth import API_MATRIX, WEB_MATRIX, _resolve

API_CREATORS = ["fieldkit_api.check_in", "impact_api.open_case", "impact_api.rerun", "impact_api.screen",
                "imports_api.confirm", "imports_api.upload", "inspections_api.create", "reports_api.submit",
                "rescues_api.add_event", "rescues_api.open_case", "revisions_api.add_comment",
                "revisions_api.propose_change", "revisions_api.propose_site", "sections_api.add_marker",
                "sections_api.add_section_marker", "sections_api.inspect_section", "sections_api.propose_section",
                "sections_api.propose_section_change"]
WEB_CREATORS = ["fieldkit.check_in", "impact.open_case", "impact.rerun", "impact.screen", "imports.confirm",
                "imports.upload", "inspections.create", "reports.submit", "rescues.add_event", "rescues.create",
                "revisions.comment", "revisions.create", "sections.add_marker", "sections.add_section_marker"]

# their matrix requests (anonymous, unsaved screenings) create nothing: the key is freed and nothing kept
CREATE_NOTHING = {"impact_api.screen", "impact.screen"}


def _kept(app) -> int:
    with app.app_context():
        return get_conn().execute(f"SELECT count(*) FROM {kstore.KEYS}").fetchone()[0]


def _counts(app) -> dict[str, int]:
    with app.app_context():
        conn = get_conn()
        return {t.name: conn.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]
                for t in TABLES if t.name != kstore.KEYS}


def counts(app) -> dict[str, int]:
    """Rows of every table of the registry but the keys' own, once background work has finished: an import's
    confirmation makes its proposals after the answer, on a thread of its own (imports.jobs.start: "import-<id>").
    (Waiting for the counts to stand still for 0.2 s instead cost 40 s of sleep per run.)"""
    for thread in threading.enumerate():
        if thread.name.startswith("import-"):
            thread.join(timeout=30)
    return _counts(app)


def test_every_creating_endpoint_honours_the_key_and_is_tested_here(app):
    marked = {rule.endpoint for rule in app.url_map.iter_rules()
              if getattr(app.view_functions[rule.endpoint], "idempotent", False)}
    assert marked == set(API_CREATORS) | set(WEB_CREATORS)


def _frozen(fields: dict) -> dict:
    """A multipart form's fields with each file as (bytes, name), so that it can be sent more than once."""
    return {k: (v[0].read(), v[1]) if isinstance(v, tuple) else v for k, v in fields.items()}


def _thawed(fields: dict) -> dict:
    return {k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in fields.items()}


def _api_call(client, endpoint: str):
    """(send(extra fields), ...): JSON bodies from the API matrix; the file uploads (listed with the web forms, as
    multipart) sent with a Bearer token."""
    multipart = endpoint not in API_MATRIX
    method, url, body, least = (WEB_MATRIX if multipart else API_MATRIX)[endpoint]
    app = client.application
    caller = least or "anonymous"
    headers = bearer(caller) if least else {}
    url = _resolve(url, app, caller)
    body = _resolve(body, app, caller)
    if multipart:
        body = _frozen(body)
        return lambda key, **extra: client.post(url, data=_thawed({**body, **extra}), headers={**headers, **key},
                                                content_type="multipart/form-data")
    return lambda key, **extra: client.post(url, json={**body, **extra}, headers={**headers, **key})


@pytest.mark.both_backends
@pytest.mark.parametrize("endpoint", API_CREATORS)
def test_api_same_key_same_body_answers_the_first_answer_and_creates_nothing(app, client, endpoint):
    send = _api_call(client, endpoint)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = send(key)
    assert 200 <= first.status_code < 300, first.get_data(as_text=True)
    assert "Idempotency-Replayed" not in first.headers
    after_first = counts(app)
    if endpoint in CREATE_NOTHING:  # run again, keeping nothing
        again = send(key)
        assert again.status_code == first.status_code and "Idempotency-Replayed" not in again.headers
        assert counts(app) == after_first and _kept(app) == 0
        return
    again = send(key)
    assert again.status_code == first.status_code and again.get_data() == first.get_data()
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.headers.get("Location") == first.headers.get("Location")
    assert again.mimetype == first.mimetype
    assert counts(app) == after_first  # nothing created, not even an audit row
    other = send(key, idempotency_probe="other content")
    assert other.status_code == 422 and other.mimetype == "application/problem+json"
    assert other.get_json()["code"] == "idempotency.other_content"
    assert counts(app) == after_first


@pytest.mark.parametrize("endpoint", WEB_CREATORS)
def test_html_form_same_key_same_fields_answers_the_first_answer_and_creates_nothing(app, endpoint):
    method, url, data, least = WEB_MATRIX[endpoint]
    client = app.test_client()
    caller = least or "anonymous"
    if least:
        login(client, least)
    url = _resolve(url, app, caller)
    data = _frozen(_resolve(data, app, caller))
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post(url, data=_thawed({**data, "csrf_token": csrf_token(client, "/login")}), headers=key)
    assert first.status_code in (200, 201, 302, 303), first.get_data(as_text=True)[:500]
    after_first = counts(app)
    if endpoint in CREATE_NOTHING:
        again = client.post(url, data=_thawed({**data, "csrf_token": csrf_token(client, "/login")}), headers=key)
        assert again.status_code == first.status_code and "Idempotency-Replayed" not in again.headers
        assert counts(app) == after_first and _kept(app) == 0
        return
    # a queued form sent again later carries a fresh CSRF token: the same content all the same
    again = client.post(url, data=_thawed({**data, "csrf_token": csrf_token(client, "/login")}), headers=key)
    assert (again.status_code, again.headers.get("Location")) == (first.status_code, first.headers.get("Location"))
    assert again.headers["Idempotency-Replayed"] == "true" and counts(app) == after_first
    other = client.post(url, data=_thawed({**data, "idempotency_probe": "x", "csrf_token": csrf_token(client,
                                                                                                     "/login")}),
                        headers=key)
    assert other.status_code == 422 and counts(app) == after_first


def _inspection_form(photo: bytes) -> dict:
    return {"date": "2024-05-01", "condition": "good", "findings": "offline patrol",
            "photos": [(io.BytesIO(photo), "beds.jpg")]}


def test_multipart_is_hashed_by_fields_and_file_bytes_not_by_its_boundary(app, client):
    photo = jpeg(lon=105.372, lat=25.878, taken="2024:05:01 10:00:00")
    key = {"Idempotency-Key": "patrol-2024-05-01-a", **bearer("expert")}
    first = client.post("/api/sites/GZ-0001/inspections", data=_inspection_form(photo), headers=key,
                        content_type="multipart/form-data")
    assert first.status_code == 201
    after = counts(app)
    again = client.post("/api/sites/GZ-0001/inspections", data=_inspection_form(photo), headers=key,
                        content_type="multipart/form-data")  # a new boundary, the same fields and bytes
    assert again.status_code == 201 and again.get_json() == first.get_json() and counts(app) == after
    other_photo = jpeg(lon=105.372, lat=25.878, taken="2024:05:01 10:00:00", colour=(1, 2, 3))
    other = client.post("/api/sites/GZ-0001/inspections", data=_inspection_form(other_photo), headers=key,
                        content_type="multipart/form-data")
    assert other.status_code == 422 and counts(app) == after


def test_a_part_without_a_name_is_refused_not_a_server_error(app, client):
    """schemathesis found it: a multipart part with no name (werkzeug reads its name as None) beside a named one made
    the key's hash compare None with a name (500), and behind it the marker checks called None.startswith (500).
    RFC 7578 requires a name; no view could read such a part: the request is refused (400) and changes nothing."""
    boundary = "nameless-part"
    parts = ["Content-Disposition: form-data\r\n\r\nnull", 'Content-Disposition: form-data; name="date"\r\n\r\n'
             "2024-05-01", 'Content-Disposition: form-data; name="condition"\r\n\r\ngood"']
    for nameless in (parts, [parts[1], 'Content-Disposition: form-data; filename="x.bin"\r\n\r\nxx', parts[2]]):
        body = "".join(f"--{boundary}\r\n{part}\r\n" for part in nameless) + f"--{boundary}--\r\n"
        for headers in ({"Idempotency-Key": "nameless-parts", **bearer("expert")}, bearer("expert")):
            before = counts(app)
            r = client.post("/api/sites/GZ-0001/inspections", data=body.encode(), headers=headers,
                            content_type=f"multipart/form-data; boundary={boundary}")
            assert r.status_code == 400 and r.mimetype == "application/problem+json", r.get_data(as_text=True)[:300]
            assert "name" in r.get_json()["detail"] and counts(app) == before


def test_keys_belong_to_their_caller(app, client):
    body = {"date": "2025-06-01", "condition": "good"}
    key = {"Idempotency-Key": "same-key"}
    a = client.post("/api/sites/GZ-0001/inspections", json=body, headers={**key, **bearer("expert")})
    b = client.post("/api/sites/GZ-0001/inspections", json=body, headers={**key, **bearer("admin")})
    assert a.status_code == b.status_code == 201 and a.get_json()["id"] != b.get_json()["id"]
    assert "Idempotency-Replayed" not in b.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there", "line\x7f"])
def test_a_bad_key_is_refused_and_creates_nothing(app, client, key):
    before = counts(app)
    r = client.post("/api/sites/GZ-0001/inspections", json={"date": "2025-06-01", "condition": "good"},
                    headers={"Idempotency-Key": key, **bearer("expert")})
    assert r.status_code == 400 and r.mimetype == "application/problem+json" and counts(app) == before


def test_no_key_behaves_as_before(app, client):
    body = {"date": "2025-06-01", "condition": "good"}
    a = client.post("/api/sites/GZ-0001/inspections", json=body, headers=bearer("expert"))
    b = client.post("/api/sites/GZ-0001/inspections", json=body, headers=bearer("expert"))
    assert a.status_code == b.status_code == 201 and a.get_json()["id"] != b.get_json()["id"]
    assert "Idempotency-Replayed" not in b.headers


def test_a_refused_request_keeps_nothing_and_the_key_can_be_sent_again_corrected(app, client):
    key = {"Idempotency-Key": "corrected-later", **bearer("expert")}
    bad = client.post("/api/sites/GZ-0001/inspections", json={"date": "2025-06-01", "condition": "splendid"},
                      headers=key)
    assert bad.status_code == 422
    good = client.post("/api/sites/GZ-0001/inspections", json={"date": "2025-06-01", "condition": "good"},
                       headers=key)
    assert good.status_code == 201 and "Idempotency-Replayed" not in good.headers


def test_a_key_still_being_processed_answers_409(app, client):
    body = {"date": "2025-06-01", "condition": "good"}
    with app.app_context():
        conn = get_conn()
        caller = idempotency.caller_of(next(r[0] for r in conn.execute("SELECT fid FROM users WHERE username='ellen'")))
        # the first request is still between its claim and its answer (a slow upload, another process)
        assert idempotency.begin(conn, caller=caller, key="in-flight", request_hash="pending",
                                 settings=idempotency.Settings()) is None
    r = client.post("/api/sites/GZ-0001/inspections", json=body, headers={"Idempotency-Key": "in-flight",
                                                                          **bearer("expert")})
    assert r.status_code in (409, 422)  # its content differs from the probe's hash: 422; the same: 409
    with app.app_context():
        conn = get_conn()
        from fossil_registry.http.idempotency import request_hash
        with app.test_request_context("/api/sites/GZ-0001/inspections", method="POST", json=body):
            same = request_hash()
        assert idempotency.begin(conn, caller=caller, key="in-flight-2", request_hash=same,
                                 settings=idempotency.Settings()) is None
    r = client.post("/api/sites/GZ-0001/inspections", json=body, headers={"Idempotency-Key": "in-flight-2",
                                                                          **bearer("expert")})
    assert r.status_code == 409 and r.get_json()["code"] == "idempotency.in_progress"


def test_answers_are_kept_24_hours_and_purged_after(app, client):
    from datetime import datetime, timedelta, timezone

    body = {"date": "2025-06-01", "condition": "good"}
    key = {"Idempotency-Key": "kept", **bearer("expert")}
    assert client.post("/api/sites/GZ-0001/inspections", json=body, headers=key).status_code == 201
    with app.app_context():
        conn = get_conn()
        expires = conn.execute(f"SELECT created_at, expires_at FROM {kstore.KEYS}").fetchone()
        made = datetime.fromisoformat(expires[0].replace("Z", "+00:00"))
        assert datetime.fromisoformat(expires[1].replace("Z", "+00:00")) - made >= timedelta(hours=24)
        later = made + timedelta(hours=25)
        idempotency.begin(conn, caller="anonymous", key="another", request_hash="x", settings=idempotency.Settings(),
                          now=later)
        assert conn.execute(f"SELECT count(*) FROM {kstore.KEYS}").fetchone()[0] == 1  # only the new one
    assert datetime.now(timezone.utc) < later


def test_a_replayed_anonymous_report_is_counted_by_the_rate_limit(app):
    app.config["RATELIMIT_ENABLED"] = True
    client = app.test_client()
    app.config["REPORT_LIMIT"] = "2 per hour"
    body = {"kind": "damage", "lon": "105.372", "lat": "25.878", "description": "a cut in the slope"}
    key = {"Idempotency-Key": "report-1"}
    first = client.post("/api/reports", json=body, headers=key)
    assert first.status_code == 201
    after = counts(app)
    assert client.post("/api/reports", json=body, headers=key).status_code == 201  # replayed, counted
    third = client.post("/api/reports", json=body, headers=key)
    assert third.status_code == 429 and counts(app) == after


def test_concurrent_retries_create_one_record(app):
    body = {"date": "2025-06-01", "condition": "good"}
    statuses: list[int] = []

    def send():
        r = app.test_client().post("/api/sites/GZ-0001/inspections", json=body,
                                   headers={"Idempotency-Key": "race", **bearer("expert")})
        statuses.append(r.status_code)

    before = counts(app)
    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert counts(app)["inspections"] == before["inspections"] + 1


def test_the_openapi_document_names_the_header_on_every_creating_operation(client):
    doc = json.loads(client.get("/ogcapi/api").get_data())
    ops = {(path, method): o for path, item in doc["paths"].items() for method, o in item.items()}
    with_key = {k for k, o in ops.items() if any(p["name"] == "Idempotency-Key" for p in o.get("parameters", []))}
    assert ("/api/sites/{code}/inspections", "post") in with_key and ("/api/reports", "post") in with_key
    assert ("/api/rescues", "post") in with_key and ("/api/fieldkits/{kit_id}/checkin", "post") in with_key
    assert len(with_key) == len(API_CREATORS)  # one path each
    for k in with_key:
        assert {"409", "422"} <= set(ops[k]["responses"])
    assert "Idempotency-Replayed" in ops[("/api/reports", "post")]["responses"]["201"]["headers"]
