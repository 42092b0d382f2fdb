"""Role matrix of the revision workflow (picked up by tests/test_auth.py): every state-changing endpoint, and the main
pages. Factories create what a request needs (a fresh proposal, a stale one, a site with an old version to restore).

Author-only actions (amend, withdraw) are allowed for every staff role *on their own proposal*: the factories take
(app, caller) and give the proposal to the account making the request."""
from __future__ import annotations

import itertools

from shapely.geometry import Point

from fossil_registry import revisions, sites
from fossil_registry.db import get_conn

from .conftest import ACCOUNTS

_n = itertools.count(1)
# each factory works on its own demo sites, so approvals in one do not make another's proposals stale
_SITES = itertools.cycle([f"GZ-{i:04d}" for i in range(10, 60)])


def _username(role: str) -> str:
    return ACCOUNTS.get(role, ACCOUNTS["field"])[0]


def fresh_revision(app, *, author: str = "fiona", stale: bool = False) -> int:
    with app.app_context():
        conn = get_conn()
        code = next(_SITES)
        site = sites.current(conn, code)
        shift = 0.0001 * next(_n)
        draft = revisions.Draft(reason="matrix", location=Point(site.location.x + shift, site.location.y),
                                base_version=site.version)
        rev = revisions.propose(conn, draft, author=author, site_code=code)
        if stale:
            sites.change_site(conn, code, base_version=site.version, properties={"age": f"matrix {next(_n)}"},
                              author="ada", reason="matrix: makes the proposal stale")
        return rev.id


def _current_version(app, code: str) -> int:
    with app.app_context():
        return sites.current(get_conn(), code).version


def _site_with_history(app) -> str:
    with app.app_context():
        conn = get_conn()
        code = next(_SITES)
        site = sites.current(conn, code)
        sites.change_site(conn, code, base_version=site.version, properties={"age": f"matrix {next(_n)}"},
                          author="ada", reason="matrix")
        return code


def _own(app, caller: str, **kw) -> int:
    return fresh_revision(app, author=_username(caller), **kw)


WEB = {
    "revisions.index": ("GET", "/revisions", None, "field"),
    "revisions.review": ("GET", "/review", None, "expert"),
    "revisions.new": ("GET", "/revisions/new?site=GZ-0001", None, "field"),
    "revisions.history": ("GET", "/sites/GZ-0001/history", None, "field"),
    "revisions.detail": ("GET", lambda app: f"/revisions/{fresh_revision(app)}", None, "field"),
    "revisions.amend_form": ("GET", lambda app, caller: f"/revisions/{_own(app, caller)}/amend", None, "field"),
    "revisions.create": ("POST", "/revisions/new", lambda app: {
        "site": "GZ-0002", "base_version": str(_current_version(app, "GZ-0002")),
        "location_text": f"25.90{next(_n) % 10}, 105.40{next(_n) % 10}", "reason": "matrix"}, "field"),
    "revisions.amend": ("POST", lambda app, caller: f"/revisions/{_own(app, caller)}/amend",
                        lambda: {"reason": "matrix amended", "accuracy_m": "3"}, "field"),
    "revisions.withdraw": ("POST", lambda app, caller: f"/revisions/{_own(app, caller)}/withdraw", dict, "field"),
    "revisions.rebase": ("POST", lambda app, caller: f"/revisions/{_own(app, caller, stale=True)}/rebase", dict, "field"),
    "revisions.comment": ("POST", lambda app: f"/revisions/{fresh_revision(app)}/comment",
                          lambda: {"comment": "matrix comment"}, "field"),
    "revisions.decide": ("POST", lambda app: f"/revisions/{fresh_revision(app)}/decision",
                         lambda: {"decision": "reject", "comment": "matrix", "round": "1"}, "expert"),
    "revisions.batch": ("POST", "/review/batch", lambda app: {"items": f"{fresh_revision(app)}:1"}, "expert"),
    "revisions.restore": ("POST", lambda app: f"/sites/{_site_with_history(app)}/restore",
                          lambda: {"version": "1", "reason": "matrix restore"}, "admin"),
}

API = {
    "revisions_api.list_revisions": ("GET", "/api/revisions?status=submitted", None, "field"),
    "revisions_api.inbox": ("GET", "/api/revisions/inbox", None, "field"),
    "revisions_api.get_revision": ("GET", lambda app: f"/api/revisions/{fresh_revision(app)}", None, "field"),
    "revisions_api.propose_change": ("POST", "/api/sites/GZ-0003/revisions", lambda app: {
        "base_version": _current_version(app, "GZ-0003"), "reason": "matrix",
        "location": {"type": "Point", "coordinates": [105.585 + 0.0001 * next(_n), 25.902]}}, "field"),
    "revisions_api.propose_site": ("POST", "/api/revisions", lambda: {
        "properties": {"name": f"矩阵新点 {next(_n)}"}, "reason": "matrix",
        "location": {"type": "Point", "coordinates": [106.1 + 0.001 * next(_n), 26.9]}}, "field"),
    "revisions_api.decide": ("POST", lambda app: f"/api/revisions/{fresh_revision(app)}/decision",
                             lambda: {"decision": "reject", "comment": "matrix", "round": 1}, "expert"),
    "revisions_api.decide_batch": ("POST", "/api/revisions/batch-decision",
                                   lambda app: {"items": [{"id": fresh_revision(app), "round": 1}],
                                                "decision": "approve"}, "expert"),
    "revisions_api.withdraw": ("POST", lambda app, caller: f"/api/revisions/{_own(app, caller)}/withdraw", dict, "field"),
    "revisions_api.amend": ("POST", lambda app, caller: f"/api/revisions/{_own(app, caller)}/amend",
                            lambda: {"accuracy_m": 2.5, "comment": "matrix"}, "field"),
    "revisions_api.rebase": ("POST", lambda app, caller: f"/api/revisions/{_own(app, caller, stale=True)}/rebase", dict, "field"),
    "revisions_api.add_comment": ("POST", lambda app: f"/api/revisions/{fresh_revision(app)}/comments",
                                  lambda: {"comment": "matrix"}, "field"),
    "revisions_api.restore": ("POST", lambda app: f"/api/sites/{_site_with_history(app)}/restore",
                              lambda: {"version": 1, "reason": "matrix restore"}, "admin"),
}
