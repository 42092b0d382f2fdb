"""An outside review of the Idempotency-Key (http/idempotency.py): attacks on key scoping, authorization on replay,
the request hash, what is kept and for how long."""
from __future__ import annotations

import json
import uuid

import pytest
from werkzeug.datastructures import MultiDict

from fossil_registry import auth
from fossil_registry.db import get_conn
from fossil_registry.store import idempotency as kstore

from .conftest import ACCOUNTS, bearer, csrf_token, login
from .matrix_impact import ROAD
from .test_auth import WEB_MATRIX, _resolve
from .test_idempotency import _frozen, _thawed, counts

INSPECTION = {"date": "2025-06-01", "condition": "good"}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _kept_rows(app) -> list[tuple]:
    with app.app_context():
        return get_conn().execute(f"SELECT caller, status, length(body) FROM {kstore.KEYS}").fetchall()


# ------------------------------------------------------------------------------------------ scoping and authorization
def test_an_anonymous_caller_never_gets_an_account_s_answer(app, client):
    key = _key()
    staff = client.post("/api/reports", json={"kind": "find", "lon": "105.40", "lat": "25.90",
                                              "description": "bones in a road cut"}, headers={**key, **bearer("field")})
    assert staff.status_code == 201
    anon = app.test_client().post("/api/reports", json={"kind": "find", "lon": "105.40", "lat": "25.90",
                                                        "description": "bones in a road cut"}, headers=key)
    assert anon.status_code == 201 and "Idempotency-Replayed" not in anon.headers
    assert anon.get_json()["receipt"] != staff.get_json()["receipt"]


def test_a_key_reused_on_another_endpoint_with_the_same_body_is_refused(app, client):
    key = {**_key(), **bearer("expert")}
    assert client.post("/api/sites/GZ-0001/inspections", json=INSPECTION, headers=key).status_code == 201
    before = counts(app)
    other = client.post("/api/sites/GZ-0002/inspections", json=INSPECTION, headers=key)
    assert other.status_code == 422 and other.mimetype == "application/problem+json" and counts(app) == before


def _replayed_after(app, client, change) -> int:
    key = _key()
    first = client.post("/api/sites/GZ-0001/inspections", json=INSPECTION, headers={**key, **bearer("expert")})
    assert first.status_code == 201
    with app.app_context():
        change(get_conn(), ACCOUNTS["expert"][0])
    before = counts(app)
    again = client.post("/api/sites/GZ-0001/inspections", json=INSPECTION, headers={**key, **bearer("expert")})
    assert again.mimetype == "application/problem+json" and "Idempotency-Replayed" not in again.headers
    assert counts(app) == before
    return again.status_code


def test_a_lost_role_gets_no_replay(app, client):
    assert _replayed_after(app, client, lambda c, u: auth.set_role(c, u, "field", actor="review")) == 403


def test_a_disabled_account_gets_no_replay(app, client):
    assert _replayed_after(app, client, lambda c, u: auth.set_active(c, u, False, actor="review")) == 401


def test_a_revoked_token_gets_no_replay(app, client):
    assert _replayed_after(app, client, lambda c, u: auth.revoke_tokens(c, u, actor="review")) == 401


def test_a_replayed_answer_carries_no_cookie_of_the_first(app):
    client = app.test_client()
    login(client, "expert")
    key = _key()
    data = {**INSPECTION, "csrf_token": csrf_token(client, "/login")}
    first = client.post("/sites/GZ-0001/inspections", data=data, headers=key)
    assert first.status_code in (302, 303)
    other = app.test_client()
    login(other, "expert")  # the same account on another phone
    again = other.post("/sites/GZ-0001/inspections", data={**INSPECTION, "csrf_token": csrf_token(other, "/login")},
                       headers=key)
    assert again.headers.get("Idempotency-Replayed") == "true"
    first_session = client.get_cookie("session")
    assert first_session is not None and first_session.value not in again.headers.get("Set-Cookie", "")
    assert first.get_data() == again.get_data()


# ------------------------------------------------------------------------------------------ the request hash
def test_repeated_fields_in_another_order_are_other_content(app, client):
    """The views read a repeated field's first value (form.get): condition=good&condition=poor records "good",
    condition=poor&condition=good records "poor"; the hash must not take them for the same request."""
    key = {**_key(), **bearer("expert")}
    first = client.post("/api/sites/GZ-0001/inspections", headers=key, content_type="multipart/form-data",
                        data=MultiDict([("date", "2025-06-01"), ("condition", "good"), ("condition", "poor")]))
    assert first.status_code == 201
    before = counts(app)
    other = client.post("/api/sites/GZ-0001/inspections", headers=key, content_type="multipart/form-data",
                        data=MultiDict([("date", "2025-06-01"), ("condition", "poor"), ("condition", "good")]))
    assert other.status_code == 422 and counts(app) == before


def test_the_same_fields_in_another_order_are_the_same_request(app, client):
    key = {**_key(), **bearer("expert")}
    first = client.post("/api/sites/GZ-0001/inspections", headers=key, content_type="multipart/form-data",
                        data=MultiDict([("date", "2025-06-01"), ("condition", "good")]))
    again = client.post("/api/sites/GZ-0001/inspections", headers=key, content_type="multipart/form-data",
                        data=MultiDict([("condition", "good"), ("date", "2025-06-01")]))
    assert first.status_code == again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"


def test_json_key_order_and_spacing_are_the_same_request(app, client):
    key = {**_key(), **bearer("expert")}
    first = client.post("/api/sites/GZ-0001/inspections", data='{"date": "2025-06-01", "condition": "good"}',
                        headers=key, content_type="application/json")
    again = client.post("/api/sites/GZ-0001/inspections", data='{"condition":"good","date":"2025-06-01"}',
                        headers=key, content_type="application/json")
    assert first.status_code == again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"


def test_a_raw_upload_s_file_name_header_is_part_of_the_request(app):
    """A raw upload's name comes from X-Filename (uploaded_file), which decides how it is read: the same bytes under
    another name are another request."""
    from fossil_registry.http.idempotency import request_hash

    with app.test_request_context("/api/imports", method="POST", data=b"a,b\n1,2\n",
                                  headers={"Content-Type": "application/octet-stream", "X-Filename": "sites.csv"}):
        csv = request_hash()
    with app.test_request_context("/api/imports", method="POST", data=b"a,b\n1,2\n",
                                  headers={"Content-Type": "application/octet-stream", "X-Filename": "sites.txt"}):
        txt = request_hash()
    assert csv != txt


# ------------------------------------------------------------------------------------------ what is kept
def test_an_anonymous_screening_creates_nothing_and_keeps_nothing(app):
    """An anonymous impact screening saves nothing: its answer (the whole report page, with its map, the session's
    CSRF token and the page's CSP nonce) must not be kept for 24 hours per key, a store anyone can fill."""
    client = app.test_client()
    key = _key()
    r = client.post("/impact", data={"footprint_drawn": json.dumps(ROAD), "width_m": "30",
                                     "csrf_token": csrf_token(client, "/login")}, headers=key)
    assert r.status_code == 200
    api = client.post("/api/impact", json={"footprint": ROAD, "width_m": 30}, headers=_key())
    assert api.status_code == 200
    assert _kept_rows(app) == []


def test_a_saved_screening_answered_as_a_file_is_saved_once(app, client):
    """POST /api/impact with "save": true and "format": "gpkg" saves a screening and answers a file: a retry with
    the same key must not save a second one."""
    key = {**_key(), **bearer("field")}
    body = {"footprint": ROAD, "width_m": 30, "save": True, "title": "road", "format": "gpkg"}
    first = client.post("/api/impact", json=body, headers=key)
    assert first.status_code == 200, first.get_data(as_text=True)[:300]
    after = counts(app)
    again = client.post("/api/impact", json=body, headers=key)
    assert again.status_code == 200 and again.headers.get("Idempotency-Replayed") == "true"
    assert again.get_data() == first.get_data()
    assert again.headers.get("Content-Disposition") == first.headers.get("Content-Disposition")
    assert counts(app) == after


# ------------------------------------------------------------------------------------------ refusals answered 303
@pytest.mark.parametrize("endpoint", ["sections.add_marker", "rescues.add_event", "revisions.comment"])
def test_a_form_refused_with_a_key_is_answered_4xx_and_keeps_nothing(app, endpoint):
    """These forms answer a refusal with a redirect and an error flash. Sent with an Idempotency-Key (the offline
    queue, the service worker), that redirect was kept as the key's first answer and, worse, the queue (which sends
    with redirect: "manual" and cannot see where a redirect goes) took it for success and deleted a record the server
    had refused: a marker check or rescue event made offline was lost. With a key, a refusal is a 4xx."""
    method, url, data, least = WEB_MATRIX[endpoint]
    client = app.test_client()
    login(client, least)
    url = _resolve(url, app, least)
    good = _frozen(_resolve(data, app, least))
    key = _key()
    before = counts(app)
    refused = client.post(url, data={"csrf_token": csrf_token(client, "/login")}, headers=key)
    assert 400 <= refused.status_code < 500 and refused.mimetype == "text/html"
    assert 'id="form-error"' in refused.get_data(as_text=True)  # the words the queue shows
    assert counts(app) == before and _kept_rows(app) == []
    corrected = client.post(url, data=_thawed({**good, "csrf_token": csrf_token(client, "/login")}), headers=key)
    assert corrected.status_code == 303 and "Idempotency-Replayed" not in corrected.headers
    assert counts(app) != before
    # without a key, the form still answers as before: back to its page with the error
    plain = client.post(url, data={"csrf_token": csrf_token(client, "/login")})
    assert plain.status_code == 303


# ------------------------------------------------------------------------------------------ a claim whose worker died
def test_a_claim_left_by_a_dead_worker_does_not_block_its_key_for_a_day(app, client):
    """The claim is committed before the view runs and the answer after it: a worker killed in between (a time-out,
    a deploy, an out-of-memory kill) left a claim with no answer, and every retry of the offline queue was told 409
    "still being processed" for 24 hours. A claim of the same request older than idempotency.ABANDONED_AFTER is taken
    over by the retry; a younger one is still being processed (409)."""
    from datetime import datetime, timedelta, timezone

    from fossil_registry import idempotency
    from fossil_registry.http.idempotency import request_hash

    with app.test_request_context("/api/sites/GZ-0001/inspections", method="POST", json=INSPECTION):
        same = request_hash()
    with app.app_context():
        conn = get_conn()
        caller = idempotency.caller_of(next(r[0] for r in conn.execute("SELECT fid FROM users WHERE username='ellen'")))
        for key, age in (("dead-worker", timedelta(hours=1)), ("busy-worker", timedelta(minutes=1))):
            idempotency.begin(conn, caller=caller, key=key, request_hash=same, settings=idempotency.Settings(),
                              now=datetime.now(timezone.utc) - age)
    r = client.post("/api/sites/GZ-0001/inspections", json=INSPECTION,
                    headers={"Idempotency-Key": "busy-worker", **bearer("expert")})
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    r = client.post("/api/sites/GZ-0001/inspections", json=INSPECTION,
                    headers={"Idempotency-Key": "dead-worker", **bearer("expert")})
    assert r.status_code == 201
    replay = client.post("/api/sites/GZ-0001/inspections", json=INSPECTION,
                         headers={"Idempotency-Key": "dead-worker", **bearer("expert")})
    assert replay.status_code == 201 and replay.headers["Idempotency-Replayed"] == "true"
    assert replay.get_data() == r.get_data()
