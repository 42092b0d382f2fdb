"""Hostile requests against every form and JSON endpoint (issue 15): every state-changing endpoint of the role matrix
(tests/test_auth.py and tests/matrix_*.py, which must list them all) is called the way the matrix calls it, as its
least role, with its text poisoned: NUL, control characters, bidirectional overrides and isolates, lone surrogates
(JSON escapes), a 100,000-character string; each must be answered 4xx and change nothing. Text that is data (SQL and template
metacharacters, emoji, combining and zero-width characters, CRLF) never breaks an endpoint and is stored exactly as
sent. Wrong content types and hostile query strings never give a 5xx.

Files: tests/test_hostile_input.py. The schemathesis run over the OpenAPI document is its own suite."""
from __future__ import annotations

import json
import urllib.parse

import pytest

from fossil_registry import text_input

from . import hostile_corpus as corpus
from .conftest import bearer
from .hostile import Callers, changes, fingerprint, hostile_app, refused_without_change, report  # noqa: F401
from .matrix_inspections import _new_report
from .matrix_revisions import _own, fresh_revision
from .test_auth import API_MATRIX, WEB_MATRIX, _resolve

POSTS = sorted([("web", name, entry) for name, entry in WEB_MATRIX.items() if entry[0] == "POST"] +
               [("api", name, entry) for name, entry in API_MATRIX.items() if entry[0] == "POST"])
GETS = sorted([("web", name, entry) for name, entry in WEB_MATRIX.items() if entry[0] == "GET"] +
              [("api", name, entry) for name, entry in API_MATRIX.items() if entry[0] == "GET"])
STORED = " ".join(corpus.STORED_TEXT.values())


def _poison(value, text: str):
    """Every string of a request body with ``text`` appended (file parts left as they are)."""
    if isinstance(value, str):
        return value + text
    if isinstance(value, dict):
        return {k: _poison(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, text) for v in value]
    return value


def _has_text(value) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, dict):
        return any(_has_text(v) for v in value.values())
    return isinstance(value, list) and any(_has_text(v) for v in value)


def _prepare(app, callers, kind, entry):
    """(url, valid body) of a matrix entry for its least role, with what the request needs already made."""
    _, url, body, least = entry
    caller = least or "anonymous"
    url = _resolve(url, app, caller)
    body = _resolve(body, app, caller) if body is not None else None
    if kind == "web":
        callers.web(least)
    return url, body, least


def _send(callers, kind, least, url, body, **extra):
    if kind == "web":
        return callers.post("web", least, url, data=body, **extra)
    return callers.post("api", least, url, json=body, **extra)


@pytest.mark.parametrize("what", corpus.REFUSED_TEXT)
def test_refused_text_is_refused_by_every_form_and_json_endpoint(hostile_app, what):
    text, callers, failures = corpus.REFUSED_TEXT[what], Callers(hostile_app), {}
    for kind, name, entry in POSTS:
        url, body, least = _prepare(hostile_app, callers, kind, entry)
        if what.startswith("very long") and not _has_text(body):
            continue  # nothing of this request is text the endpoint reads
        poisoned = _poison(body or {}, text)
        if not what.startswith("very long"):
            poisoned.setdefault("note", text)  # a field nobody reads is refused too: the rules are the request's
        problem = refused_without_change(hostile_app, lambda: _send(callers, kind, least, url, poisoned),
                                         web_client=callers.web(least)[0] if kind == "web" else None)
        if problem:
            failures[name] = problem
    assert failures == {}, report(failures)


@pytest.mark.parametrize("what", corpus.LONE_SURROGATES)
def test_lone_surrogates_are_refused_by_every_json_endpoint(hostile_app, what):
    raw, callers, failures = corpus.LONE_SURROGATES[what], Callers(hostile_app), {}
    for kind, name, entry in POSTS:
        if kind != "api":
            continue
        url, body, least = _prepare(hostile_app, callers, kind, entry)
        data = corpus.json_with_raw(body or {}, "comment", raw)
        problem = refused_without_change(hostile_app, lambda: callers.post(
            "api", least, url, data=data, content_type="application/json"))
        if problem:
            failures[name] = problem
    assert failures == {}, report(failures)


def test_a_lone_surrogate_in_a_json_text_field_was_a_500(hostile_app):
    """The inspection's findings with a lone surrogate reached SQLite, which cannot encode it: a 500."""
    before = fingerprint(hostile_app)
    body = corpus.json_with_raw({"date": "2024-06-01", "condition": "good"}, "findings", '"cracks \\ud800"')
    r = hostile_app.test_client().post("/api/sites/GZ-0001/inspections", data=body, content_type="application/json",
                                       headers=bearer("expert"))
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert r.get_json()["detail"].startswith("the field findings of the request body contains a lone surrogate")
    assert fingerprint(hostile_app) == before


def test_text_that_is_data_never_breaks_an_endpoint(hostile_app):
    callers, failures = Callers(hostile_app), {}
    for kind, name, entry in POSTS:
        url, body, least = _prepare(hostile_app, callers, kind, entry)
        r = _send(callers, kind, least, url, _poison(body or {}, " " + STORED))
        if r.status_code >= 500:
            failures[name] = r.status_code
    assert failures == {}, report(failures)


def test_text_that_is_data_is_stored_exactly_as_sent(hostile_app):
    """SQL and template metacharacters, emoji, combining and zero-width characters and CRLF come back as sent."""
    client, reason = hostile_app.test_client(), "Re-surveyed. " + STORED
    r = client.post("/api/sites/GZ-0003/revisions", headers=bearer("field"), json={
        "base_version": 1, "reason": reason, "location": {"type": "Point", "coordinates": [105.5853, 25.9021]}})
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    r = client.post(f"/api/revisions/{rid}/comments", headers=bearer("expert"), json={"comment": STORED})
    assert r.status_code == 201
    got = client.get(f"/api/revisions/{rid}", headers=bearer("field")).get_json()
    assert got["reason"] == reason and got["thread"][-1]["comment"] == STORED
    r = client.post("/api/sites/GZ-0001/inspections", headers=bearer("expert"),
                    json={"date": "2024-06-01", "condition": "good", "findings": STORED})
    assert r.status_code == 201
    assert client.get(f"/api/inspections/{r.get_json()['id']}", headers=bearer("field")).get_json()["findings"] == STORED


# (A charset parameter means nothing to JSON, RFC 8259 section 11: a body labelled utf-16 is read as the JSON it is.)
CONTENT_TYPES = [("text/plain", None), ("application/xml", None), ("application/x-www-form-urlencoded", None),
                 ("multipart/form-data", None), ("application/json", b"{"), ("application/json", b"[1, 2]"),
                 ("application/json", b'"just a string"'), ("application/json", b"")]


def test_wrong_content_types_never_give_a_5xx_and_change_nothing_when_refused(hostile_app):
    """The JSON body sent as text/plain, XML, a form or multipart without a boundary, broken JSON, JSON that is not an
    object: a 4xx that changes nothing, or (where every field is optional) the request without a body."""
    callers, failures = Callers(hostile_app), {}
    for kind, name, entry in POSTS:
        if kind != "api":
            continue
        for content_type, data in CONTENT_TYPES:
            url, body, least = _prepare(hostile_app, callers, kind, entry)
            payload = data if data is not None else json.dumps(body or {}).encode()
            before = fingerprint(hostile_app)
            r = callers.post("api", least, url, data=payload, content_type=content_type)
            if r.status_code >= 500 or (r.status_code < 400 and body):
                failures[f"{name} as {content_type} {payload[:12]!r}"] = r.status_code
            elif r.status_code >= 400 and changes(before, fingerprint(hostile_app)):
                failures[f"{name} as {content_type}"] = f"{r.status_code} but changed something"
    assert failures == {}, report(failures)


# "长" * 1000 is 9 KB encoded, 190 KB for the 21 names together: within waitress' 256 KB limit of a request's head (a
# longer query never reaches the app when it is served).
HOSTILE_QUERY_VALUES = ["\x00", "'; DROP TABLE site_locations; --", "%ED%A0%80", "长" * 1000, "\u202e🦕", "-1e309",
                        "NaN"]
QUERY_NAMES = ("q", "bbox", "as_of", "version", "from", "to", "year", "limit", "offset", "status", "site", "zoom",
               "crs", "bbox-crs", "datetime", "f", "cursor", "kind", "author", "all", "reproduce")


@pytest.mark.parametrize("value", HOSTILE_QUERY_VALUES, ids=["NUL", "SQL", "bad-UTF-8", "long", "RTL-emoji",
                                                             "overflow", "NaN"])
def test_hostile_query_strings_never_give_a_5xx(hostile_app, value):
    callers, failures = Callers(hostile_app), {}
    query = "&".join(f"{n}={value if value.startswith('%') else urllib.parse.quote(value)}" for n in QUERY_NAMES)
    for kind, name, entry in GETS:
        _, url, _, least = entry
        url = _resolve(url, hostile_app, least or "anonymous")
        target = url + ("&" if "?" in url else "?") + query
        if kind == "web":
            r = callers.web(least)[0].get(target)
        else:
            r = hostile_app.test_client().get(target, headers=bearer(least) if least else {})
        if r.status_code >= 500:
            failures[name] = r.status_code
    assert failures == {}, report(failures)


@pytest.mark.parametrize("text, refused", [
    ("plain 化石 text\twith\nlines\r\n", False), ("emoji 🦕 and ZWJ 👨\u200d🔬", False), ("e\u0301", False),
    ("\u200bzero width", False), ("mark \u200f", False), ("nul\x00", True), ("esc\x1b[0m", True), ("del\x7f", True),
    ("c1\x85", True), ("rlo\u202e", True), ("lri\u2066", True), ("pdi\u2069", True), ("lone\ud800", True),
])
def test_the_character_rules(text, refused):
    assert (text_input.problem(text) is not None) == refused


# --------------------------------------------------------------------------------------- bugs this suite found
def test_a_json_body_is_checked_even_where_the_endpoint_reads_none(hostile_app):
    """A rebase takes no body: a NUL in the body it was sent went through (the rules are the request's)."""
    rid = _own(hostile_app, "field", stale=True)
    before = fingerprint(hostile_app)
    r = hostile_app.test_client().post(f"/api/revisions/{rid}/rebase", json={"note": "a\x00b"}, headers=bearer("field"))
    assert r.status_code == 400 and "NUL" in r.get_json()["detail"]
    assert fingerprint(hostile_app) == before


def test_an_amendment_reply_has_the_length_limit_of_every_comment(hostile_app):
    """The author's reply when amending was stored whole (a 1 MB reply was kept in the thread and the audit trail)."""
    rid = _own(hostile_app, "field")
    before = fingerprint(hostile_app)
    r = hostile_app.test_client().post(f"/api/revisions/{rid}/amend", headers=bearer("field"),
                                       json={"accuracy_m": 2.5, "comment": "x" * 4001})
    assert r.status_code == 422 and r.get_json()["detail"] == "the comment is too long (4001 characters; the limit is 4000)"
    assert fingerprint(hostile_app) == before


def test_an_amendment_that_changes_nothing_is_refused_and_starts_no_round(hostile_app):
    """An empty amendment (e.g. a JSON body sent as a form: no field the endpoint knows) started a new round, which
    voids what reviewers saw, for nothing."""
    rid, client = _own(hostile_app, "field"), hostile_app.test_client()
    for data, content_type in ((b"{}", "application/json"), (b'{"accuracy_m": 2.5}', "application/x-www-form-urlencoded")):
        r = client.post(f"/api/revisions/{rid}/amend", data=data, content_type=content_type, headers=bearer("field"))
        assert r.status_code == 422 and r.get_json()["detail"].startswith("the amendment changes nothing")
    assert client.get(f"/api/revisions/{rid}", headers=bearer("field")).get_json()["round"] == 1
    r = client.post(f"/api/revisions/{rid}/amend", json={"comment": "checked again: it is right"}, headers=bearer("field"))
    assert r.status_code == 200 and r.get_json()["round"] == 2  # a reply alone is an amendment


def test_a_batch_with_an_unknown_decision_is_refused_as_a_whole(hostile_app):
    """It was answered 200 with each proposal "failed", echoing the decision back once per proposal."""
    items = [{"id": fresh_revision(hostile_app), "round": 1} for _ in range(2)]
    before = fingerprint(hostile_app)
    for body in ({"items": items, "decision": "approve!"}, {"items": items, "decision": "reject", "comment": "x" * 4001}):
        r = hostile_app.test_client().post("/api/revisions/batch-decision", json=body, headers=bearer("expert"))
        assert r.status_code == 422, r.get_json()
    assert fingerprint(hostile_app) == before


def test_enabling_an_account_takes_only_1_or_0(hostile_app):
    """Any value but "1" disabled the account (a mangled form disabled a colleague)."""
    callers = Callers(hostile_app)
    client, token = callers.web("admin")
    before = fingerprint(hostile_app)
    r = client.post("/admin/users/farid/active", data={"active": "1x", "csrf_token": token})
    assert r.status_code == 422 and fingerprint(hostile_app) == before
    r = client.post("/admin/users/farid/active", data={"active": "0", "csrf_token": token})
    assert r.status_code == 303 and fingerprint(hostile_app) != before


def test_a_report_is_accepted_only_in_a_known_way(hostile_app):
    """Any mode but "inspection" accepted the report as a follow-up."""
    report = _new_report(hostile_app)
    client, token = Callers(hostile_app).web("expert")
    before = fingerprint(hostile_app)
    r = client.post(f"/reports/{report}/accept", data={"mode": "followups", "csrf_token": token})
    assert r.status_code == 422 and "Choose how to accept the report" in r.get_data(as_text=True)
    assert fingerprint(hostile_app) == before


def test_a_form_body_beyond_the_limit_is_refused_before_it_is_parsed(hostile_app):
    """A 31 MB url-encoded form sent anonymously to /login took 13 s of CPU to parse, holding the interpreter lock;
    above MAX_URLENCODED_BYTES (8 MiB) it is refused from its Content-Length, unread."""
    body = ("description=" + urllib.parse.quote("长" * 1_000_000)).encode()  # 9 MB
    assert len(body) > hostile_app.config["MAX_URLENCODED_BYTES"]
    before = fingerprint(hostile_app)
    for url in ("/login", "/report"):
        r = hostile_app.test_client().post(url, data=body, content_type="application/x-www-form-urlencoded")
        assert r.status_code == 413, (url, r.status_code)
    assert fingerprint(hostile_app) == before
