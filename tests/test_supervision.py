"""Supervision: every figure of the summary against an independent count of a registry built with known activity
through the domain code (a stopped clock places each step at a chosen local time), the period rules, the API, the
CSV exports, the pages and the PDF."""
from __future__ import annotations

import json
import subprocess
from collections import Counter
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point, mapping

from fossil_registry import auth, create_app, inspections, reports, revisions, sites, store, supervision
from fossil_registry.blobs import BlobStore

from .conftest import make_site, square

pytestmark = pytest.mark.both_backends

TZ = ZoneInfo("Asia/Shanghai")
INTERVALS = {"national": 180, "provincial": 365, "general": 1095}
CONFIG = {"INSPECTION_INTERVAL_DAYS": INTERVALS}


class Clock:
    """The registry's clock stopped at a chosen local time (store.utc_now is what every write stamps)."""

    def __init__(self):
        self.now = datetime(2024, 1, 1, tzinfo=TZ)

    def at(self, text: str) -> date:
        self.now = datetime.fromisoformat(text).replace(tzinfo=TZ)
        return self.now.date()

    def utc_now(self) -> str:
        return self.now.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Log:
    """What the test did, with the local time of each step: the independent count the summary is checked against."""

    def __init__(self):
        self.events: list[tuple[str, datetime, dict]] = []

    def add(self, kind: str, when: datetime, **data) -> None:
        self.events.append((kind, when, data))

    def of(self, kind: str, year: int, **match) -> list[dict]:
        return [d for k, when, d in self.events if k == kind and when.year == year
                and all(d.get(key) == value for key, value in match.items())]

    def before_end(self, kind: str, year: int) -> list[tuple[datetime, dict]]:
        end = datetime(year + 1, 1, 1, tzinfo=TZ)
        return [(when, d) for k, when, d in self.events if k == kind and when < end]


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(store, "utc_now", c.utc_now)
    return c


def _gj(geom) -> dict:
    """GeoJSON as a client sends it (lists, not shapely's tuples)."""
    return json.loads(json.dumps(mapping(geom)))


def _propose(conn, code, fields, author="fiona"):
    if code is not None:
        fields = {"base_version": sites.current(conn, code).version, **fields}
    return revisions.propose(conn, revisions.parse_draft(fields), author=author, site_code=code)


def _decide(conn, rev, decision, comment=None):
    return revisions.decide(conn, rev.id, decision, reviewer="ellen", round_seen=rev.round, comment=comment)


def _inspect(conn, data_dir, code, day, condition, clock, **extra):
    record = inspections.parse_record({"date": day, "condition": condition, "inspectors": ["罗应华"], **extra})
    return inspections.record_inspection(conn, BlobStore(data_dir), code, record,
                                         settings=inspections.Settings.from_config(CONFIG), actor="ellen",
                                         today=clock.now.date())


def _build_sites(conn, clock, log):
    clock.at("2024-01-10T10:00")
    made = {"S1": ("GZ-0001", 105.50, 25.90, "national", {}), "S2": ("GZ-0002", 106.00, 26.20, "provincial", {}),
            "S3": ("GZ-0003", 106.50, 26.50, "general", {}), "S4": ("GZ-0004", 107.00, 26.80, "general", {}),
            "S5": ("GZ-0005", 107.50, 27.00, "provincial", {"established": "2023-06-01"})}
    for code, lon, lat, level, props in made.values():
        make_site(conn, code=code, lon=lon, lat=lat, level=level, county="关岭县", boundary=code != "GZ-0004",
                  **props)
        log.add("site", clock.now, code=code, operation="create")
    sites.create_site(conn, properties={"name": "导入点", "level": "general", "sensitivity": "open"},
                      location=Point(104.8, 25.5), boundary=None, author="importer", reason="old register",
                      code="GZ-0006", operation="import")
    log.add("site", clock.now, code="GZ-0006", operation="import")


def _build_revisions(conn, clock, log):
    clock.at("2024-03-01T09:00")
    r1 = _propose(conn, "GZ-0001", {"reason": "RTK resurvey", "method": "rtk", "accuracy_m": 0.05,
                                    "location": _gj(Point(105.5003, 25.9002))})
    log.add("submitted", clock.now, id=r1.id)
    clock.at("2024-03-05T15:00")
    _decide(conn, r1, "approve")
    log.add("decided", clock.now, status="approved", code="GZ-0001", geometry=True)
    clock.at("2024-06-01T09:00")
    r2 = _propose(conn, "GZ-0001", {"reason": "boundary walked with RTK", "method": "rtk", "accuracy_m": 0.5,
                                    "boundary": _gj(square(105.5003, 25.9002, 0.006))})
    log.add("submitted", clock.now, id=r2.id)
    clock.at("2024-06-03T11:00")
    _decide(conn, r2, "approve")  # the same site a second time in the year: counted once in sites_revised
    log.add("decided", clock.now, status="approved", code="GZ-0001", geometry=True)
    clock.at("2024-07-01T09:00")
    r3 = _propose(conn, "GZ-0002", {"reason": "digitised", "method": "digitised",
                                    "location": _gj(Point(106.001, 26.2005))})
    log.add("submitted", clock.now, id=r3.id)
    clock.at("2024-07-02T09:00")
    _decide(conn, r3, "reject", comment="1:50,000 map is not good enough")
    log.add("decided", clock.now, status="rejected")
    clock.at("2024-08-01T09:00")
    r4 = _propose(conn, "GZ-0003", {"reason": "wrong site", "location": _gj(Point(106.5004, 26.5))})
    log.add("submitted", clock.now, id=r4.id)
    clock.at("2024-08-02T09:00")
    revisions.withdraw(conn, r4.id, actor="fiona")  # withdrawn: neither approved nor rejected
    log.add("withdrawn", clock.now)
    clock.at("2024-11-01T09:00")
    r6 = _propose(conn, None, {"reason": "new find in a road cut", "method": "digitised", "accuracy_m": 12,
                               "location": _gj(Point(108.0, 27.3)),
                               "boundary": _gj(square(108.0, 27.3, 0.003)),
                               "properties": {"name": "新发现点", "level": "general", "sensitivity": "hidden"}})
    log.add("submitted", clock.now, id=r6.id)
    clock.at("2024-11-05T10:00")
    _decide(conn, r6, "approve")
    log.add("decided", clock.now, status="approved", code="GZ-0007", geometry=False)
    log.add("site", clock.now, code="GZ-0007", operation="create")
    clock.at("2024-12-20T09:00")
    r5 = _propose(conn, "GZ-0005", {"reason": "description", "properties": {"description": "海百合层"}})
    log.add("submitted", clock.now, id=r5.id)
    clock.at("2024-12-30T09:00")
    r7 = _propose(conn, "GZ-0004", {"reason": "still waiting", "location": _gj(Point(107.0002, 26.8))})
    log.add("submitted", clock.now, id=r7.id)
    clock.at("2025-01-01T00:30")  # 16:30 UTC on 31 December: a decision of the new year
    _decide(conn, r5, "approve")
    log.add("decided", clock.now, status="approved", code="GZ-0005", geometry=False)
    return {"waiting_end_2024": 2, "waiting_end_2025": 1}


def _build_inspections(conn, data_dir, clock, log):
    for when, code, condition, extra in (
            ("2024-05-01T16:00", "GZ-0001", "good", {}),
            ("2024-09-01T16:00", "GZ-0001", "fair", {"threats": [{"threat": "quarrying", "severity": "high"}]}),
            # late on 31 December in Guizhou (15:30 UTC): an inspection of that year, with a follow-up
            ("2024-12-31T23:30", "GZ-0002", "damaged",
             {"followup": {"description": "fence the pits", "due": "2025-02-01"}}),
            # half an hour into the new year (16:20 UTC on 31 December): an inspection of the new year
            ("2025-01-01T00:20", "GZ-0003", "good", {})):
        day = clock.at(when)
        rec = _inspect(conn, data_dir, code, day.isoformat(), condition, clock, **extra)
        log.add("inspection", clock.now, code=code, condition=condition, threats=bool(extra.get("threats")))
        if extra.get("followup"):
            log.add("followup", clock.now, id=rec["followups"][0]["fid"])
    followup = inspections.open_followups(conn, date(2025, 3, 1))[0]
    day = clock.at("2025-03-01T15:00")
    _inspect(conn, data_dir, "GZ-0002", day.isoformat(), "fair", clock, resolves=[followup["fid"]])
    log.add("inspection", clock.now, code="GZ-0002", condition="fair", threats=False)
    log.add("closed", clock.now, id=followup["fid"])


def _build_reports(conn, data_dir, clock, log):
    settings = reports.ReportSettings.from_config({})
    files = BlobStore(data_dir)

    def submit(when, kind):
        clock.at(when)
        data = reports.parse_report({"kind": kind, "lon": "105.5004", "lat": "25.9003",
                                     "description": "fossil bones in the road cut"}, settings)
        r = reports.submit_report(conn, files, data, settings=settings)
        log.add("report", clock.now, id=r["fid"])
        return r["fid"]

    p1 = submit("2024-10-01T10:00", "find")
    clock.at("2024-10-01T14:00")
    reports.accept_report(conn, p1, actor="ellen", settings=settings, due_on="2099-01-01")
    log.add("triaged", clock.now, hours=4.0)
    log.add("followup", clock.now, id=-1)
    submit("2024-12-30T10:00", "damage")  # never triaged: late at the end of 2024 and of 2025
    p3 = submit("2024-12-31T20:00", "find")  # open at the end of 2024, but not yet for 24 hours
    clock.at("2025-01-02T10:00")
    reports.dismiss_report(conn, p3, reason="a modern bone", actor="ellen")
    log.add("triaged", clock.now, hours=38.0)


@pytest.fixture
def built(conn, data_dir, clock):
    log = Log()
    _build_sites(conn, clock, log)
    extra = _build_revisions(conn, clock, log)
    _build_inspections(conn, data_dir, clock, log)
    _build_reports(conn, data_dir, clock, log)
    return conn, log, extra


def _expected(log: Log, year: int, extra: dict) -> dict:
    """The summary's figures counted from the test's own log (and the schedule worked out by hand below)."""
    decided = log.of("decided", year)
    insp = log.of("inspection", year)
    ends = {2024: {"overdue": 1, "upcoming": 1, "never_inspected": 5},   # S5 overdue (established 2023-06-01),
            2025: {"overdue": 2, "upcoming": 1, "never_inspected": 4}}   # S1 due 2025-02-28, S2 due 2026-03-01
    created = log.before_end("followup", year)
    closed = {d["id"] for _, d in log.before_end("closed", year)}
    triage_hours = sorted(d["hours"] for d in log.of("triaged", year))
    return {
        "sites_total": len(log.before_end("site", year)),
        "sites_revised": len({d["code"] for d in decided if d["status"] == "approved" and d["code"] != "GZ-0007"}),
        "sites_geometry_revised": len({d["code"] for d in decided if d.get("geometry")}),
        "new_sites": len(log.of("site", year, operation="create")),
        "sites_imported": len(log.of("site", year, operation="import")),
        "revisions_submitted": len(log.of("submitted", year)),
        "revisions_approved": len([d for d in decided if d["status"] == "approved"]),
        "revisions_rejected": len([d for d in decided if d["status"] == "rejected"]),
        "revisions_withdrawn": len(log.of("withdrawn", year)),
        "revisions_waiting": extra[f"waiting_end_{year}"],
        "inspections": len(insp),
        "sites_inspected": len({d["code"] for d in insp}),
        "key_sites_inspected": len({d["code"] for d in insp if d["code"] in ("GZ-0001", "GZ-0002", "GZ-0005")}),
        "sites_damaged": len({d["code"] for d in insp if d["condition"] in ("damaged", "destroyed")}),
        "inspections_with_threats": len([d for d in insp if d["threats"]]),
        "reports_received": len(log.of("report", year)),
        "reports_triaged": len(triage_hours),
        "median_triage_hours": triage_hours[len(triage_hours) // 2] if len(triage_hours) % 2 else None,
        "reports_open_over_24h": 1,
        "followups_created": len(log.of("followup", year)),
        "followups_closed": len(log.of("closed", year)),
        "followups_open": len([d for _, d in created if d["id"] not in closed]),
        **ends[year],
    }


def _summary(conn, year: int, config=CONFIG) -> dict:
    s = supervision.Settings.from_config(config)
    period = supervision.parse_period(year=str(year), from_=None, to=None, today=date(2026, 6, 1), tz=s.timezone)
    return supervision.summary(conn, period, s, now="2026-06-01T04:00:00.000Z")


@pytest.mark.parametrize("year", [2024, 2025])
def test_every_figure_of_a_year_matches_an_independent_count(built, year):
    conn, log, extra = built
    figures = _summary(conn, year)
    expected = _expected(log, year, extra)
    for key, value in expected.items():
        assert figures[key] == value, (year, key, figures[key], value)
    assert set(supervision.SUMMARY_FIELDS) <= set(figures)
    for field in ("sites_total", "sites_revised", "revisions_approved", "revisions_rejected", "inspections",
                  "sites_inspected", "new_sites", "reports_received", "reports_triaged", "followups_open",
                  "overdue"):
        assert isinstance(figures[field], int)


def test_the_edge_cases_of_the_year(built):
    conn, _log, _extra = built
    y2024, y2025 = _summary(conn, 2024), _summary(conn, 2025)
    # GZ-0001 was revised twice in 2024 (location, then boundary): two approvals, one revised site
    assert (y2024["revisions_approved"], y2024["sites_revised"]) == (3, 1)
    # the inspection at 23:30 on 31 December is 2024's; the one at 00:20 on 1 January is 2025's, though both were
    # recorded on 31 December in UTC
    assert (y2024["inspections"], y2025["inspections"]) == (3, 2)
    assert y2024["sites_damaged"] == 1
    # the approval at 00:30 on 1 January belongs to 2025
    assert y2025["revisions_approved"] == 1 and y2025["sites_revised"] == 1 and y2025["sites_geometry_revised"] == 0
    # the withdrawn proposal is neither approved nor rejected
    assert (y2024["revisions_withdrawn"], y2024["revisions_rejected"]) == (1, 1)
    assert y2024["revisions_submitted"] == 7
    assert y2024["median_triage_hours"] == 4.0 and y2025["median_triage_hours"] == 38.0


def test_a_day_and_a_year_without_records_give_zeros(built):
    conn, _log, _extra = built
    empty = _summary(conn, 2023)
    assert all(empty[k] in (0, None) for k in supervision.SUMMARY_FIELDS), empty
    assert empty["median_decision_days"] is None and empty["sites_total"] == 0
    s = supervision.Settings.from_config(CONFIG)
    one_day = supervision.parse_period(year=None, from_="2024-12-31", to="2024-12-31", today=date(2026, 6, 1),
                                       tz=s.timezone)
    figures = supervision.summary(conn, one_day, s, now="2026-06-01T04:00:00.000Z")
    assert (figures["inspections"], figures["reports_received"], figures["revisions_approved"]) == (1, 1, 0)


@pytest.mark.parametrize("args, message", [
    ({"year": "abc"}, "year must be a year like"),
    ({"year": "20245"}, "year must be a year like"),
    ({"year": "2999"}, "in the future"),
    ({"year": "1066"}, "1949 or later"),
    ({"from_": "2024-05-01", "to": "2024-01-01"}, "is after to"),
    ({"from_": "2024-01-01", "to": "2099-01-01"}, "in the future"),
    ({"from_": "2024-02-30"}, "not a date of the calendar"),
    ({"from_": "yesterday"}, "from must be a date like"),
    ({"to": "2024-01-01"}, "give from as well"),
    ({"year": "2024", "from_": "2024-01-01"}, "either year or from/to"),
])
def test_periods_that_cannot_be_read_are_refused_with_a_clear_message(args, message):
    call = {"year": None, "from_": None, "to": None, **args}
    with pytest.raises(supervision.InvalidPeriod) as info:
        supervision.parse_period(**call, today=date(2026, 6, 1), tz="Asia/Shanghai")
    assert info.value.status == 400 and message in info.value.detail


def test_this_year_ends_today_and_a_period_is_read_in_the_registry_time_zone():
    p = supervision.parse_period(year=None, from_=None, to=None, today=date(2026, 6, 1), tz="Asia/Shanghai")
    assert (p.first_day, p.last_day, p.year) == (date(2026, 1, 1), date(2026, 6, 1), 2026)
    y = supervision.parse_period(year="2024", from_=None, to=None, today=date(2026, 6, 1), tz="Asia/Shanghai")
    assert (y.start, y.end) == ("2023-12-31T16:00:00.000Z", "2024-12-31T16:00:00.000Z")


def test_the_dashboard_schedule_is_the_inspection_schedule(app):
    conn = store.connect(app.config["REGISTRY"])
    try:
        s = supervision.Settings.from_config(app.config)
        today = supervision.today_in(s)
        by_level = supervision.schedule_by_level(conn, s, store.utc_now(), today)
        # the dashboard's schedule is the sites' (sections have their own figure)
        due = inspections.schedule(conn, inspections.Settings.from_config(app.config), today, kinds=(sites.SITE,))
        counted = Counter((d.level, d.status) for d in due)
        assert {(lv, st): row[st] for lv, row in by_level.items() for st in ("overdue", "upcoming", "ok")
                if row[st]} == dict(counted)
        assert sum(row["never_inspected"] for row in by_level.values()) == sum(1 for d in due
                                                                               if d.last_inspected_on is None)
    finally:
        conn.close()


def test_the_boundary_survey_campaign_names_the_method_of_each_current_boundary(built):
    conn, _log, _extra = built
    figures = supervision.registry_figures(conn)
    assert figures["boundary_sources"]["national"]["rtk"] == 1            # GZ-0001: boundary walked with RTK
    assert figures["boundary_accuracy"]["national"]["le1"] == 1
    assert figures["boundary_sources"]["general"]["digitised"] == 1       # GZ-0007: new site, digitised
    assert figures["boundary_sources"]["general"]["no_boundary"] == 2     # GZ-0004 and the imported GZ-0006
    assert figures["boundary_sources"]["provincial"]["not_stated"] == 2   # created directly, no proposal
    assert figures["survey_progress"]["national"] == {"with_boundary": 1, "surveyed": 1, "share": 1.0}


# ------------------------------------------------------------------------------------------------------ over HTTP
@pytest.fixture
def built_app(built, registry_file, data_dir, backend, clock):
    conn, log, extra = built
    clock.at("2026-06-01T12:00")  # later than every record (the app's "now" is this stopped clock too)
    auth.create_user(conn, username="fiona", role="field", password="field-pass-0001", actor="test")
    token = auth.issue_token(conn, "fiona", label="tests", actor="test")
    database = {"DATABASE_URL": registry_file} if backend == "postgis" else {}
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SECRET_KEY": "x", **CONFIG, **database})
    return app, {"Authorization": f"Bearer {token}"}, log, extra


def test_the_summary_api_answers_the_same_figures(built_app):
    app, headers, log, extra = built_app
    client = app.test_client()
    body = client.get("/api/supervision/summary?year=2024", headers=headers).get_json()
    for key, value in _expected(log, 2024, extra).items():
        assert body[key] == value, key
    assert body["period"] == {"from": "2024-01-01", "to": "2024-12-31", "year": 2024, "timezone": "Asia/Shanghai"}
    span = client.get("/api/supervision/summary?from=2024-12-31&to=2025-01-01", headers=headers).get_json()
    assert (span["inspections"], span["revisions_approved"], span["period"]["year"]) == (2, 1, None)
    zero = client.get("/api/supervision/summary?year=2020", headers=headers)
    assert zero.status_code == 200 and zero.get_json()["inspections"] == 0


@pytest.mark.parametrize("query, message", [
    ("year=abc", "year must be a year like"),
    ("year=2999", "is in the future"),
    ("from=2025-02-01&to=2025-01-01", "from (2025-02-01) is after to (2025-01-01)"),
    ("from=2025-01-01&to=2999-01-01", "is in the future"),
])
def test_bad_periods_are_400_with_a_clear_message(built_app, query, message):
    app, headers, _log, _extra = built_app
    client = app.test_client()
    for url in (f"/api/supervision/summary?{query}", f"/api/supervision/summary.csv?{query}"):
        r = client.get(url, headers=headers)
        assert r.status_code == 400 and r.mimetype == "application/problem+json"
        assert message in r.get_json()["detail"]


def test_anonymous_callers_get_nothing_and_public_statistics_stay(built_app):
    app, _headers, _log, _extra = built_app
    client = app.test_client()
    for url in ("/api/supervision/summary", "/api/supervision/charts", "/api/supervision/summary.csv",
                "/supervision", "/supervision/annual-report", "/supervision/annual-report.pdf", "/supervision/sites"):
        assert client.get(url).status_code == 401, url
    public = client.get("/map/statistics.json")
    assert public.status_code == 200 and public.get_json()


def test_csv_exports_are_utf8_with_bom_for_excel(built_app):
    app, headers, _log, _extra = built_app
    client = app.test_client()
    r = client.get("/api/supervision/summary.csv?year=2024", headers=headers)
    assert r.mimetype == "text/csv" and r.data.startswith("\ufeff".encode("utf-8"))
    rows = dict(line.split(",", 1) for line in r.data.decode("utf-8-sig").splitlines()[1:])
    assert rows["sites_revised"] == "1" and rows["revisions_approved"] == "3" and rows["inspections"] == "3"
    key = client.get("/api/supervision/key_inspections.csv?year=2024", headers=headers).data.decode("utf-8-sig")
    assert key.count("\n") == 1 + 3 and "GZ-0002" in key and "罗应华" in key
    followups = client.get("/api/supervision/followups.csv?year=2024", headers=headers).data.decode("utf-8-sig")
    assert "fence the pits" in followups
    assert client.get("/api/supervision/nothing.csv", headers=headers).status_code == 404


def test_the_chart_data_is_json_with_the_figures(built_app):
    app, headers, _log, _extra = built_app
    client = app.test_client()
    charts = {c["id"]: c for c in client.get("/api/supervision/report-charts?year=2024",
                                              headers=headers).get_json()["charts"]}
    monthly = charts["monthly"]
    inspections_series = next(s for s in monthly["series"] if s["key"] == "inspections")
    assert sum(inspections_series["data"]) == 3 and monthly["categories"][0] == "2024-01"
    dashboard = client.get("/api/supervision/charts", headers=headers).get_json()
    assert {c["id"] for c in dashboard["charts"]} >= {"sites", "survey", "schedule", "conditions", "threats"}


def test_the_annual_report_pdf_carries_the_chinese_title_and_the_figures(built_app, tmp_path):
    app, headers, _log, _extra = built_app
    r = app.test_client().get("/api/supervision/summary?year=2024", headers=headers)
    figures = r.get_json()
    pdf = app.test_client().get("/supervision/annual-report.pdf?year=2024&lang=zh", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert "贵州省化石保护工作报告（2024年度）" in text
    assert "Guizhou fossil protection work report 2024" in text
    lines = {" ".join(line.split()[:-1]): line.split()[-1] for line in text.splitlines() if line.strip()}
    assert lines["巡查的产地"] == str(figures["sites_inspected"]) == "2"
    assert lines["批准的修订申请"] == str(figures["revisions_approved"]) == "3"
    assert lines["期末在册产地"] == "7"
    assert "fence the pits" in text and "GZ-0002" in text


def test_the_report_page_prints_and_escapes_user_text(built_app, clock):
    app, headers, _log, _extra = built_app
    conn = store.connect(app.config["REGISTRY"])
    make_site(conn, code="GZ-0100", lon=106.2, lat=26.3, county="{{ 7*7 }}<b>县</b>", name="{% raw %}x")
    conn.close()
    clock.at("2026-06-02T12:00")
    client = app.test_client()
    page = client.get("/supervision/annual-report?year=2024&lang=en", headers=headers).get_data(as_text=True)
    assert "Guizhou fossil protection work report 2024" in page and "贵州省化石保护工作报告" in page
    assert "<svg" in page and 'id="work-map"' in page and "<script" not in page.split("<main", 1)[1].split("</main>")[0]
    dashboard = client.get("/supervision", headers=headers).get_data(as_text=True)
    assert "{{ 7*7 }}&lt;b&gt;县&lt;/b&gt;" in dashboard and "<b>县</b>" not in dashboard and ">49<" not in dashboard
    this_year = client.get("/supervision/annual-report", headers=headers).get_data(as_text=True)
    assert "&lt;b&gt;" in this_year and "<b>县" not in this_year


def test_format_pdf_is_honoured_another_format_refused_and_the_map_heading_stays_with_its_map(built_app, tmp_path):
    app, headers, _log, _extra = built_app
    client = app.test_client()
    pdf = client.get("/supervision/annual-report?year=2024&lang=zh&format=pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    refused = client.get("/supervision/annual-report?year=2024&format=docx", headers=headers)
    assert refused.status_code == 406 and "docx" in refused.get_data(as_text=True)
    assert client.get("/supervision/annual-report?year=2024&format=html", headers=headers).mimetype == "text/html"
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.data)
    pages = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                           text=True).stdout.split("\f")
    (page,) = [p for p in pages if "三、年度工作分布图" in p]
    assert "100 km" in page   # the map's scale bar: the map is on the heading's page
    assert "四、" not in page.split("三、年度工作分布图")[0]
    # the map shows the province and its counties (county_context, converted to CGCS2000)
    html = client.get("/supervision/annual-report?year=2024&lang=zh", headers=headers).get_data(as_text=True)
    work_map = html.split('class="work-map"', 1)[1].split("</svg>", 1)[0]
    assert 'class="province-outline"' in work_map and work_map.count("<path d=") == 88
