"""The illustrative demo activity (fossil_registry/demo/activity.py): a fresh demo registry + demo accounts +
seed_activity gives a registry in use (inspections, versions, a review queue, reports) that passes every check, is
the same on every run, and leaks nothing to the public."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from fossil_registry import auth, create_app, inspections, registry, reports, revisions, sites, store
from fossil_registry.demo.activity import EXPERT, FIELD, seed_activity, summary_line
from fossil_registry.errors import Conflict

from .leaks import every_feature, leaked_numbers, published_values, true_coordinates

TODAY = date(2026, 11, 1)
HIDDEN_DEMO_SITES = {"GZ-0004", "GZ-0007", "GZ-0020", "GZ-0021"}
NEW_SITE_NAME = "贞丰者相采石场海生爬行动物化石点"
REGION = "103.6,24.6,109.6,29.2"


def _build(data_dir: Path, today: date = TODAY):
    path = registry.registry_path(data_dir)
    registry.init_registry(path, demo=True)
    accounts = {name: password for name, _role, password in registry.create_demo_accounts(path)}
    counts = seed_activity(path, today=today)
    return path, accounts, counts


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("seeded") / "data"
    path, accounts, counts = _build(data_dir)
    conn = store.connect(path)
    tokens = {name: auth.issue_token(conn, name, label="tests", actor="test-setup") for name in accounts}
    conn.close()
    return {"data_dir": data_dir, "path": path, "accounts": accounts, "counts": counts, "tokens": tokens}


@pytest.fixture
def conn(seeded):
    c = store.connect(seeded["path"])
    yield c
    c.close()


@pytest.fixture(scope="module")
def app(seeded):
    return create_app({"TESTING": True, "DATA_DIR": str(seeded["data_dir"]), "SECRET_KEY": "test-secret"})


def _bearer(seeded, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded['tokens'][who]}"}


# --------------------------------------------------------------------------------------------------------------------
def test_counts_and_the_registry_passes_every_check(seeded, conn):
    c = seeded["counts"]
    assert c["revisions_approved"] == 6 and c["site_versions_added"] == 6
    assert c["revisions_rejected"] == 1 and c["revisions_pending"] == 3
    assert c["reports"] == 2
    assert c["followups"] == 5 and c["followups_open"] == 3 and c["followups_overdue"] == 1
    assert 60 <= c["inspections"] <= 110 and c["threats"] >= 20  # sites' stories and patrols, the sections' survey
    assert summary_line(c).startswith(f"Added illustrative demo activity: {c['inspections']} inspection records")
    # the domain agrees with the counts
    by_status = Counter(r.status for r in revisions.queue(conn, limit=100))
    assert by_status == {"approved": 6, "rejected": 1, "submitted": 3}
    assert reports.counts(conn) == {"new": 2, "accepted": 0, "dismissed": 0}
    assert registry.check_registry(seeded["path"]) == []  # GDAL's GeoPackage validator included
    # every step went through the domain modules: each left its audit record
    actions = Counter(e["action"] for e in store.list_audit(conn, limit=10_000))
    assert actions["inspection.record"] == c["inspections"]
    assert actions["revision.submit"] == 10 and actions["revision.approve"] == 6 and actions["revision.reject"] == 1
    assert actions["report.submit"] == 2
    # seeding twice is refused
    with pytest.raises(RuntimeError, match="already has"):
        seed_activity(seeded["path"], today=TODAY)


def _contents(path: Path) -> dict:
    """Everything seeded, without timestamps (the registry's clock stamps those)."""
    conn = store.connect(path)
    try:
        revs = []
        for r in sorted(revisions.queue(conn, limit=100), key=lambda r: r.id):
            body = r.to_json(full=False)
            for k in ("created_at", "updated_at", "decided_at"):
                body.pop(k, None)
            revs.append(body)
        recs = []
        features = [s for kind in sites.kinds() for s in sites.list_current(conn, kind=kind)]  # sites and sections
        for s in features:
            for rec in inspections.list_for_site(conn, s.code, with_photos=True):
                j = inspections.inspection_json(rec)
                j.pop("recorded_at")
                j["followups"] = [{k: f[k] for k in ("site", "description", "due", "status", "closing_note")}
                                  for f in j["followups"]]
                recs.append(j)
        history = {s.code: [(v["version"], v["operation"], v["author"], v["reviewer"], v["reason"])
                            for v in revisions.history(conn, s.code)] for s in features}
        current = {s.code: (s.version, s.location.wkt, s.boundary.wkt if s.boundary is not None else None,
                            s.properties) for s in features}
        reps = [{k: r[k] for k in ("kind", "status", "description", "observed_on", "site_code", "site_distance_m")}
                | {"point": r["point"].wkt} for r in reports.list_reports(conn)]
        return {"revisions": revs, "inspections": recs, "history": history, "current": current, "reports": reps}
    finally:
        conn.close()


def test_deterministic(seeded, tmp_path):
    path, _, counts = _build(tmp_path / "data")
    assert counts == seeded["counts"]
    first, second = _contents(seeded["path"]), _contents(path)
    assert len(first["inspections"]) == counts["inspections"]
    for key in first:
        assert first[key] == second[key], key


def test_review_queue_gcj02_new_site_and_stale_conflict(seeded, conn, app):
    pending = revisions.queue(conn, status="submitted")
    assert len(pending) == 3 and {r.author for r in pending} == {FIELD}
    by_kind = {r.kind: r for r in pending if r.kind == "new_site"}
    new_site = by_kind["new_site"]
    assert new_site.properties["name"] == NEW_SITE_NAME
    assert new_site.properties["sensitivity"] == "hidden" and new_site.properties["level"] == "general"
    assert "defaults" in {w["code"] for w in new_site.warnings}
    phone = next(r for r in pending if r.method == "phone_map")
    assert phone.input["location"]["source_crs"] == "GCJ02"
    notes = [w["message"] for w in phone.warnings if w["code"] == "input"]
    assert notes and notes[0].startswith("converted from GCJ-02") and "phone_map_offset" not in \
        {w["code"] for w in phone.warnings}
    # the true point is ~25 m from the registry's, not the ~500 m GCJ-02 offset
    assert 20 < phone.metrics["location_shift_m"] < 30
    stale = revisions.stale_flags(conn, pending)
    assert len(stale) == 1
    (stale_id, current_version), = stale.items()
    stale_rev = revisions.get(conn, stale_id)
    assert stale_rev.site_code == "GZ-0001" and stale_rev.base_version == 2 and current_version == 3

    with pytest.raises(Conflict):
        revisions.decide(conn, stale_id, "approve", reviewer=EXPERT, round_seen=stale_rev.round)
    client = app.test_client()
    r = client.post(f"/api/revisions/{stale_id}/decision", json={"decision": "approve", "round": stale_rev.round},
                    headers=_bearer(seeded, EXPERT))
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    assert "has changed since this proposal was made" in r.get_json()["detail"]
    detail = client.get(f"/api/revisions/{stale_id}", headers=_bearer(seeded, EXPERT)).get_json()
    assert detail["stale"] and detail["conflict"]["base_version"] == 2 and detail["conflict"]["current_version"] == 3
    assert revisions.get(conn, stale_id).status == "submitted"  # nothing changed
    page = client.get(f"/revisions/{stale_id}", headers=_bearer(seeded, EXPERT))
    assert page.status_code == 200 and 'class="three-way"' in page.get_data(as_text=True)
    # the rejected proposal carries the reviewer's reason
    rejected, = revisions.queue(conn, status="rejected")
    assert rejected.reviewer == EXPERT and "请实地复测" in rejected.decision_comment


def test_schedule_has_a_realistic_mix(conn):
    due = inspections.schedule(conn, inspections.Settings.defaults(), today=TODAY)
    status = Counter(d.status for d in due)
    assert 5 <= status["overdue"] <= 20 and 3 <= status["upcoming"] <= 10
    assert status["ok"] > len(due) / 2
    by_code = {d.code: d for d in due}
    assert by_code["GZ-0009"].status == "overdue" and by_code["GZ-0005"].status == "upcoming"
    assert by_code["GZ-0001"].status == "ok" and by_code["GZ-0001"].last_condition == "fair"
    national = [d for d in due if d.level == "national"]
    assert all(d.last_inspected_on is not None for d in national)
    followups = inspections.open_followups(conn, TODAY)
    assert len(followups) == 3 and [f["code"] for f in followups if f["overdue"]] == ["GZ-0014"]
    records = [r for s in sites.list_current(conn) for r in inspections.list_for_site(conn, s.code)]
    conditions = Counter(r["condition"] for r in records)
    assert conditions["good"] > conditions["fair"] > conditions["poor"] >= 1 and conditions["damaged"] == 1
    assert min(date.fromisoformat(r["inspected_on"]) for r in records) >= date(2022, 11, 1)
    assert {r["recorded_by"] for r in records} == {"demo-expert", "demo-admin"}
    threats = Counter(t["threat"] for r in records for t in r["threats"])
    assert threats["quarrying"] >= 2 and threats["construction"] >= 2 and threats["erosion_landslide"] >= 2
    guanling = inspections.list_for_site(conn, "GZ-0001", with_photos=True)
    assert [r["condition"] for r in sorted(guanling, key=lambda r: r["inspected_on"])] == ["good", "fair", "fair"]
    assert any("采石场" in t["note"] for r in guanling for t in r["threats"] if t["note"])


def test_histories(seeded, conn, app):
    h = revisions.history(conn, "GZ-0001")
    assert [v["version"] for v in h] == [1, 2, 3]
    assert [(v["author"], v["reviewer"]) for v in h[1:]] == [(FIELD, EXPERT)] * 2
    assert "扩大保护范围" in h[1]["reason"]
    xinmin = revisions.history(conn, "GZ-0009")
    assert len(xinmin) == 2 and "点位移动 38 米" in xinmin[1]["reason"]
    diff = sites.diff_sites(sites.at_version(conn, "GZ-0009", 1), sites.at_version(conn, "GZ-0009", 2))
    assert diff["location_changed"]
    multi = [s.code for s in sites.list_current(conn) if s.version > 1]
    assert sorted(multi) == ["GZ-0001", "GZ-0009", "GZ-0014", "GZ-0022", "GZ-0037"]
    client = app.test_client()
    versions = client.get("/api/sites/GZ-0001/versions", headers=_bearer(seeded, FIELD)).get_json()
    assert [v["version"] for v in versions["versions"]] == [1, 2, 3]
    timeline = inspections.timeline(conn, "GZ-0001", "Asia/Shanghai")
    kinds = Counter(e["kind"] for e in timeline["events"])
    assert kinds["inspection"] == 3 and kinds["version"] == 3 and kinds["followup"] == 2
    assert kinds["followup_closed"] == 1
    # staff screens have content
    damage = next(r for r in reports.list_reports(conn) if r["kind"] == "damage")
    assert damage["site_code"] == "GZ-0003"
    for url, text in (("/inspections", "GZ-0009"), ("/review", "GZ-0049"), ("/reports", "海百合化石碎片"),
                      (f"/reports/{damage['fid']}", "visitor-demo@example.com"),
                      ("/sites/GZ-0001/timeline", "罗应华"), ("/sites/GZ-0001/history", "demo-expert")):
        r = client.get(url, headers=_bearer(seeded, "demo-admin"))
        body = r.get_data(as_text=True)
        assert r.status_code == 200 and text in body, url


def test_public_answers_leak_nothing(conn, app):
    everything = sites.list_current(conn)
    protected = [s for s in everything if s.sensitivity != "open"]
    assert "GZ-0022" in {s.code for s in protected}  # generalised by an approved revision
    client = app.test_client()
    anon_sites = client.get("/api/sites").get_json()
    codes = {f["id"] for f in anon_sites["features"]}
    assert len(codes) == len(everything) - len(HIDDEN_DEMO_SITES) and not codes & HIDDEN_DEMO_SITES
    qingyan = client.get("/api/sites/GZ-0022").get_json()
    assert qingyan.get("boundary") is None

    urls = ["/", "/api/sites", f"/api/sites?bbox={REGION}", "/map/statistics.json", "/report",
            f"/map/search.json?q={NEW_SITE_NAME}", "/map/search.json?q=GZ"]
    urls += [f"/map/{layer}.geojson?bbox={REGION}&zoom={z}" for layer in ("sites", "boundaries") for z in (7, 12, 17)]
    for s in protected:
        urls += [f"/sites/{s.code}", f"/api/sites/{s.code}", f"/api/sites/{s.code}/versions",
                 f"/sites/{s.code}/history", f"/sites/{s.code}/timeline", f"/api/sites/{s.code}/inspections"]
    answers = [(u, client.get(u)) for u in urls]
    assert all(r.status_code in (200, 401, 404) for _, r in answers), [(u, r.status_code) for u, r in answers]
    blob = "\n".join(r.get_data(as_text=True) for _, r in answers)
    assert NEW_SITE_NAME not in blob and "visitor-demo@example.com" not in blob
    assert "Zhexiang" not in blob and "crinoid fragments" not in blob
    public_values = published_values(every_feature(conn))
    pending_new = next(r for r in revisions.queue(conn, status="submitted") if r.kind == "new_site")
    secrets = true_coordinates(pending_new.location) + true_coordinates(pending_new.boundary)
    for s in protected:
        secrets += true_coordinates(s.location) + (true_coordinates(s.boundary) if s.boundary is not None else [])
        for old in sites.history(conn, s.code):  # earlier versions too (GZ-0022 was open at version 1)
            v = sites.at_version(conn, s.code, old.version)
            if v.sensitivity != "open":
                secrets += true_coordinates(v.location)
    assert leaked_numbers(blob, secrets, public_values) == []
    assert not re.search(r"demo-(field|expert|admin)", blob)


def test_refuses_without_demo_accounts(tmp_path):
    path = registry.registry_path(tmp_path / "data")
    registry.init_registry(path, demo=True)
    with pytest.raises(RuntimeError, match="demo accounts"):
        seed_activity(path, today=TODAY)
    conn = store.connect(path)
    try:
        assert all(s.version == 1 for s in sites.list_current(conn))
    finally:
        conn.close()


def test_cli_init_demo_seeds_activity(tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["registry", "init", "--demo"])
    assert result.exit_code == 0, result.output
    line = [ln for ln in result.output.splitlines() if ln.startswith("Added illustrative demo activity")]
    assert len(line) == 1 and "3 proposals waiting for review" in line[0]
    conn = store.connect(app.config["REGISTRY"])
    try:
        due = inspections.schedule(conn, inspections.Settings.defaults())
        assert Counter(d.status for d in due)["ok"] > len(due) / 2
    finally:
        conn.close()
