"""Schemathesis against the OpenAPI document (/ogcapi/api), in process, on a copy of the demo registry with its demo
activity and a saved screening, a project case, a checked-in field kit, a proposal with an attachment and an import:
every GET
operation anonymous and with a staff (admin) token, every state-changing operation with the token (writes go to the
throwaway copy), and the two public POSTs (reports, impact screening) anonymous too.

Every answer is checked: no server error, a status the document lists for the operation, the content type and the
headers it names, a body valid against its schema, and every request that violates the document refused with a 4xx
(negative_data_rejection). Generation is derandomized with a fixed seed: CI runs the same cases every time.

    .venv/bin/python -m pytest tests/test_openapi_fuzz.py                      # 20 examples per operation (CI)
    FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/test_openapi_fuzz.py    # the long run (adds the coverage phase)

FUZZ_COVERAGE=1/0 forces schemathesis' coverage phase (boundary values and type mutations of every parameter and
field; thousands of cases for the proposal bodies) on or off; FUZZ_SEED picks other cases. The schemathesis pytest
plugin (schema.parametrize) cannot run under pytest 9, so the tests drive schemathesis' engine, as its CLI does.
"""
from __future__ import annotations

import io
import os
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from schemathesis.engine import Status, events

from fossil_registry import create_app

from .conftest import TOKENS, bearer, demo_copy
from .import_helpers import geojson, imported, point

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
COVERAGE = os.environ.get("FUZZ_COVERAGE", "1" if EXAMPLES >= 100 else "0") == "1"
SEED = int(os.environ.get("FUZZ_SEED", "15"))
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance", "negative_data_rejection")
SQUARE = {"type": "Polygon", "coordinates": [[[105.36, 25.87], [105.38, 25.87], [105.38, 25.89], [105.36, 25.89],
                                              [105.36, 25.87]]]}


def _seed(client) -> None:
    """What the demo activity lacks, so that the GET operations find something at small ids: a saved screening with
    a project case, a field kit with a check-in, a proposal with an attachment, an analysed import."""
    staff = bearer("admin")
    r = client.post("/api/impact", json={"footprint": SQUARE, "save": True, "title": "road"}, headers=staff)
    assert r.status_code == 201, r.get_data(as_text=True)
    r = client.post(f"/api/impact/screenings/{r.get_json()['screening_id']}/cases",
                    json={"name": "Road G1", "developer": "Provincial roads", "stage": "planning"}, headers=staff)
    assert r.status_code == 201, r.get_data(as_text=True)
    r = client.post("/api/fieldkits", json={"sites": ["GZ-0001", "GZ-0002"], "basemap": False},
                    headers=bearer("field"))
    assert r.status_code == 201, r.get_data(as_text=True)
    r = client.post(f"/api/fieldkits/{r.headers['X-Fieldkit-Id']}/checkin",
                    data={"file": (io.BytesIO(r.data), "kit.zip")}, headers=bearer("field"))
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    r = client.post("/api/sites/GZ-0005/revisions", headers=bearer("field"), data={
        "reason": "attribute change with the field notes", "base_version": "1",
        "properties": '{"formation": "Falang Formation"}', "attachments": (io.BytesIO(b"field notes"), "notes.txt")})
    assert r.status_code == 201, r.get_data(as_text=True)
    imported(client, geojson([({"name": "新点", "level": "general"}, point(107.98, 26.58))]), "new.geojson")


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, demo_registry_template):
    data_dir = demo_copy(tmp_path_factory, demo_registry_template, "fuzz", activity=True)
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "fuzz-secret",
                      # the fuzzer tests the endpoints, not the rate limits (test_reports, test_impact_public do)
                      "REPORT_LIMIT": "100000 per hour", "IMPACT_LIMIT": "100000 per hour"})
    _seed(app.test_client())
    return app


@dataclass
class Run:
    """What one schemathesis run did: failures by operation and kind, and the statuses answered per operation."""

    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    statuses: dict[str, Counter] = field(default_factory=dict)

    def report(self) -> str:
        return "\n\n".join(f"{label}: {title}\n{text}" for (label, title), text in sorted(self.failures.items()))

    def answered(self, prefix: str) -> Counter:
        return sum((c for label, c in self.statuses.items() if label.startswith(prefix)), Counter())


def fuzz(app, *, method: str, token: str | None, paths: list[str] | None = None, examples: int | None = None,
         run: Run | None = None) -> Run:
    headers = {"Accept-Encoding": "identity"}  # Flask-Compress would gzip; schemathesis' WSGI client does not unzip
    if token:
        headers["Authorization"] = f"Bearer {TOKENS[token]}"
    config = schemathesis.Config.from_dict({
        "seed": SEED, "headers": headers,
        "generation": {"max-examples": examples or EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {"coverage": {"enabled": COVERAGE, "unexpected-methods": []}, "stateful": {"enabled": False}}})
    schema = schemathesis.openapi.from_wsgi("/ogcapi/api", app, config=config)
    schema = schema.include(method=method, path=paths) if paths else schema.include(method=method)
    run = run or Run()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            counter = run.statuses.setdefault(event.label, Counter())
            counter.update(i.response.status_code for i in event.recorder.interactions.values() if i.response)
            if event.status in (Status.FAILURE, Status.ERROR):
                for checks in event.recorder.checks.values():
                    for check in checks:
                        if check.failure_info is not None:
                            failure = check.failure_info.failure
                            run.failures.setdefault((event.label, failure.title),
                                                    f"{failure.message}\n{check.failure_info.code_sample}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            run.failures[(getattr(event, "label", None) or "run", "error")] = str(getattr(event, "info", event))
    # the figures of docs/openapi.md (shown with pytest -s)
    print(f"\nschemathesis {method} {token or 'anonymous'}: {len(run.statuses)} operations, "
          f"{sum(run.answered('').values())} requests, {dict(sorted(run.answered('').items()))}")
    return run


def _operations(app, method: str, *, anonymous: bool | None = None) -> set[str]:
    """``method`` PATH of the document's operations (anonymous: only those open to anonymous callers, or not)."""
    doc = app.test_client().get("/ogcapi/api").get_json()
    return {f"{method} {path}" for path, item in doc["paths"].items() if method.lower() in item
            and anonymous in (None, {} in item[method.lower()]["security"])}


def _paths(labels: set[str]) -> list[str]:
    return sorted(label.split(" ", 1)[1] for label in labels)


def test_get_operations_anonymous(fuzz_app):
    """The public operations in full; those that need a token with a few examples each: all they can answer an
    anonymous caller is 401, whatever the parameters (the coverage phase, when on, tries them all the same)."""
    run = fuzz(fuzz_app, method="GET", token=None, paths=_paths(_operations(fuzz_app, "GET", anonymous=True)))
    fuzz(fuzz_app, method="GET", token=None, paths=_paths(_operations(fuzz_app, "GET", anonymous=False)),
         examples=None if COVERAGE else 3, run=run)
    assert not run.failures, run.report()
    for label in _operations(fuzz_app, "GET", anonymous=False):
        statuses = run.statuses[label]
        assert statuses[401] > 0 and not any(200 <= s < 300 for s in statuses), (label, statuses)
    assert set(run.statuses) == _operations(fuzz_app, "GET")
    assert run.answered("GET /api/revisions")[401] > 0 and run.answered("GET /api/revisions")[200] == 0
    assert run.answered("GET /ogcapi/collections")[200] > 0 and run.answered("GET /api/sites/{code}")[200] > 0


def test_get_operations_as_staff(fuzz_app):
    run = fuzz(fuzz_app, method="GET", token="admin")
    assert not run.failures, run.report()
    assert set(run.statuses) == _operations(fuzz_app, "GET")
    unguessable = {"GET /api/fieldkits/{kit_id}",  # random ids: test_openapi.py checks these answers
                   "GET /api/revisions/{revision_id}/attachments/{attachment_id}"}
    for label, statuses in run.statuses.items():
        assert statuses[200] > 0 or label in unguessable, (label, statuses)


def test_changes_as_staff(fuzz_app):
    run = fuzz(fuzz_app, method="POST", token="admin")
    assert not run.failures, run.report()
    assert set(run.statuses) == _operations(fuzz_app, "POST")
    assert sum(run.answered("POST").values()) >= EXAMPLES * len(run.statuses)
    assert sum(run.answered("POST")[s] for s in (200, 201)) > 0


def test_public_submissions_anonymous(fuzz_app):
    run = fuzz(fuzz_app, method="POST", token=None, paths=["/api/reports", "/api/impact"])
    assert not run.failures, run.report()
    assert set(run.statuses) == {"POST /api/reports", "POST /api/impact"}
    # the document's examples go through: a receipt and a screening in the public view
    assert run.answered("POST /api/reports")[201] > 0 and run.answered("POST /api/impact")[200] > 0
