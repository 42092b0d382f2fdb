"""What the hostile-input tests share: an app with the anonymous rate limits lifted (so that every request reaches the
code under test, not the limiter), callers per role (web: a signed-in session with its CSRF token; API: a bearer
token), and a fingerprint of everything a request could change (every table's row count and highest rowid, which the
audit trail makes cover every write, and every file in the data directory)."""
from __future__ import annotations

import weakref
from pathlib import Path

import pytest

from fossil_registry import create_app, store

from .conftest import bearer, csrf_token, login


@pytest.fixture
def hostile_app(demo_data_dir):
    return create_app({"TESTING": True, "DATA_DIR": str(demo_data_dir), "SECRET_KEY": "test-secret",
                       "REPORT_LIMIT": "100000 per hour", "IMPACT_LIMIT": "100000 per hour"})


_READERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _reader(app):
    """A read-only connection to the app's registry kept for its fingerprints (two per request sent: opening one and
    closing it, the file's last, which checkpoints the WAL, was half of a fingerprint's time)."""
    conn = _READERS.get(app)
    if conn is None:
        conn = _READERS[app] = store.connect(app.config["REGISTRY_PATH"], readonly=True)
    return conn


def fingerprint(app) -> tuple:
    """(row count and highest rowid of every table, files in the data directory): equal before and after a refused
    request, or the request changed something."""
    conn = _reader(app)
    tables = [(r[0], "WITHOUT ROWID" in (r[1] or "").upper()) for r in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE "
        "'rtree_%' ORDER BY name")]
    # (the search index's FTS5 shadow tables have no rowid: counted only)
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*), {0 if bare else 'coalesce(max(rowid), 0)'} FROM \"{t}\""
                             for t, bare in tables)
    counts = tuple(tuple(r) for r in conn.execute(sql))
    data_dir = Path(app.config["DATA_DIR"])
    files = tuple(sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                         if p.is_file() and p.parent.name != "sites" and p.name != "secret_key"))
    return counts, files


def changes(before: tuple, after: tuple) -> list[str]:
    rows = [f"{a[0]}: {a[1]} -> {b[1]} rows, rowid {a[2]} -> {b[2]}" for a, b in zip(before[0], after[0]) if a != b]
    files = sorted(set(after[1]) ^ set(before[1]))
    return rows + [f"file {f}" for f in files]


class Callers:
    """One test client per (web or api, role), signed in once; web callers carry their CSRF token."""

    def __init__(self, app):
        self.app = app
        self._web: dict = {}

    def web(self, who: str | None):
        if who not in self._web:
            client = self.app.test_client()
            if who:
                login(client, who)
            self._web[who] = (client, csrf_token(client, "/login"))
        return self._web[who]

    def post(self, kind: str, who: str | None, url: str, **kwargs):
        if kind == "web":
            client, token = self.web(who)
            data = kwargs.pop("data", None)
            if data is not None or "json" not in kwargs:
                kwargs["data"] = {**(data or {}), "csrf_token": token}
            return client.post(url, **kwargs)
        headers = {**kwargs.pop("headers", {}), **(bearer(who) if who else {})}
        return self.app.test_client().post(url, headers=headers, **kwargs)


def _error_flashes(client, *, clear: bool = False) -> list[str]:
    with client.session_transaction() as session:
        found = [message for category, message in session.get("_flashes", []) if category == "error"]
        if clear:
            session.pop("_flashes", None)
    return found


def refused_without_change(app, send, *, web_client=None) -> str | None:
    """None if ``send()`` is refused and changes nothing; otherwise what went wrong. Refused: answered 4xx, or (a web
    form sent with ``web_client``) redirected back with an error message, the way the review pages refuse."""
    if web_client is not None:
        _error_flashes(web_client, clear=True)
    before = fingerprint(app)
    r = send()
    after = fingerprint(app)
    refused = 400 <= r.status_code < 500 or (web_client is not None and r.status_code in (302, 303)
                                              and bool(_error_flashes(web_client)))
    if not refused:
        detail = (r.get_json(silent=True) or {}).get("detail") or r.get_data(as_text=True)[:160]
        return f"answered {r.status_code}: {str(detail)[:160]}"
    changed = changes(before, after)
    return f"answered {r.status_code} but changed {changed[:4]}" if changed else None


def report(failures: dict) -> str:
    """Every failure on a line of its own (pytest's diff of a dict cuts them off after the first)."""
    return "\n".join(f"{name}: {str(problem)[:300]}" for name, problem in failures.items())
