"""Offline in the field (issue 26, docs/offline.md) in headless Chromium with the service worker allowed: the
inspection form opens with no network, an inspection with a photo recorded offline arrives once (its photo byte for
byte) when the connection returns, a retried send changes nothing, a public report made offline arrives once, and
after sign-out nothing of the account is left in IndexedDB, Cache Storage or localStorage."""
from __future__ import annotations

import hashlib
import time

import pytest

from fossil_registry.db import get_conn

from .browser import browser, live_server, sign_in  # noqa: F401  (pytest fixtures)
from .inspection_helpers import jpeg

SITE = "GZ-0001"


@pytest.fixture
def phone(browser):  # noqa: F811
    """A phone-sized context in which the service worker may run (browser.new_page blocks it)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, service_workers="allow",
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    page.console_errors = []
    page.on("pageerror", lambda exc: page.console_errors.append(f"uncaught: {exc}"))
    yield page
    context.close()


def _count(app, sql: str, *args) -> int:
    with app.app_context():
        return get_conn().execute(sql, args).fetchone()[0]


def _controlled(page, url: str) -> None:
    """Open ``url`` online, once, as a person does, until the service worker is there and the page kept."""
    page.goto(url)
    page.wait_for_selector("html[data-offline-ready]", state="attached", timeout=30000)


def _queued(page) -> list[dict]:
    return page.evaluate("""async () => {
        const account = JSON.parse(document.getElementById('offline-config').textContent).account;
        const records = await FossilQueue.list(account);
        return records.map(r => ({key: r.key, state: r.state, url: r.url, message: r.message,
                                  files: r.fields.filter(f => typeof f[1] !== 'string').map(f => f[1].blob.size)}));
    }""")


def _wait_until_sent(page, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _queued(page):
            return
        time.sleep(0.3)
    raise AssertionError(f"still queued: {_queued(page)}")


def test_an_inspection_recorded_offline_arrives_once_with_its_photo(phone, live_server):  # noqa: F811
    app = live_server.app
    photo = jpeg(lon=105.372, lat=25.878, taken="2024:05:01 10:00:00")
    before = _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE)
    sign_in(phone, live_server.url, "expert")
    form_url = f"{live_server.url}/sites/{SITE}/inspections/new"
    _controlled(phone, form_url)

    phone.context.set_offline(True)
    phone.goto(form_url)                       # from the phone's cache: no network
    phone.wait_for_selector("form.record-form")
    assert phone.evaluate("navigator.onLine") is False
    phone.check("input[name=condition][value=good]")
    phone.fill("textarea[name=findings]", "离线巡查：化石层完好。")
    phone.set_input_files("input[name=photos]", files=[{"name": "beds.jpg", "mimeType": "image/jpeg",
                                                        "buffer": photo}])
    phone.click("form.record-form button[type=submit]")
    phone.wait_for_selector("#offline-saved")
    queued = _queued(phone)
    assert len(queued) == 1 and queued[0]["files"] == [len(photo)] and queued[0]["state"] == "waiting"
    assert _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE) == before
    # keep a copy of the record (its photo Blob too) to send it again after it has arrived
    phone.evaluate("""async () => {
        const account = JSON.parse(document.getElementById('offline-config').textContent).account;
        window.__copy = (await FossilQueue.list(account))[0];
    }""")

    phone.context.set_offline(False)           # the "online" event sends the queue
    _wait_until_sent(phone)
    assert _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE) == before + 1
    with app.app_context():
        conn = get_conn()
        fid = conn.execute("SELECT max(fid) FROM inspections WHERE code = ?", (SITE,)).fetchone()[0]
        from fossil_registry import inspections
        rec = inspections.get_inspection(conn, fid)
    assert rec["findings"] == "离线巡查：化石层完好。" and [p["sha256"] for p in rec["photos"]] == \
        [hashlib.sha256(photo).hexdigest()]       # the original bytes, EXIF and all
    assert rec["photos"][0]["gps_lon"] == pytest.approx(105.372, abs=1e-4)

    # a retried send (the answer was lost, the person pressed "send" again) changes nothing
    state = phone.evaluate("""async () => {
        const cfg = JSON.parse(document.getElementById('offline-config').textContent);
        const s = await (await fetch(cfg.urls.csrf, {credentials: 'same-origin'})).json();
        return FossilQueue.sendOne(cfg.account, window.__copy, s.csrf_token);
    }""")
    assert state == "sent"
    assert _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE) == before + 1
    assert phone.console_errors == []


def test_a_report_made_offline_arrives_once(phone, live_server):  # noqa: F811
    app = live_server.app
    before = _count(app, "SELECT count(*) FROM public_reports")
    _controlled(phone, live_server.url + "/report")
    phone.context.set_offline(True)
    phone.goto(live_server.url + "/report")
    phone.wait_for_selector("form.report-form")
    # the map keeps its context offline: the county seats the first visit fetched come from the phone
    phone.wait_for_selector("#pick-map .leaflet-container[data-context-seats]")
    assert int(phone.get_attribute("#pick-map .leaflet-container", "data-context-seats")) > 50
    phone.check("input[name=kind][value=find]")
    phone.fill("#pick-lon", "105.661")
    phone.fill("#pick-lat", "25.507")
    phone.fill("textarea[name=description]", "Bones in the wall of a limestone quarry, seen offline.")
    phone.click("form.report-form button[type=submit]")
    phone.wait_for_selector("#offline-saved")
    assert len(_queued(phone)) == 1
    phone.context.set_offline(False)
    _wait_until_sent(phone)
    # opening the app again (a reload with nothing queued) sends nothing more
    phone.reload()
    phone.wait_for_load_state("load")
    time.sleep(1)
    assert _count(app, "SELECT count(*) FROM public_reports") == before + 1
    assert _count(app, "SELECT count(*) FROM public_reports WHERE description LIKE '%seen offline.'") == 1
    assert phone.console_errors == []


def test_sign_out_leaves_nothing_of_the_account(phone, live_server):  # noqa: F811
    sign_in(phone, live_server.url, "expert")
    _controlled(phone, f"{live_server.url}/sites/{SITE}/inspections/new")
    phone.goto(f"{live_server.url}/sites/{SITE}")
    account = phone.evaluate("JSON.parse(document.getElementById('offline-config').textContent).account")
    assert account != "public"
    # something of the account on the phone: its pages, and a record waiting to send
    phone.context.set_offline(True)
    phone.goto(f"{live_server.url}/sites/{SITE}/inspections/new")
    phone.check("input[name=condition][value=poor]")
    phone.click("form.record-form button[type=submit]")
    phone.wait_for_selector("#offline-saved")
    phone.evaluate("localStorage.setItem('probe', 'x')")
    held = phone.evaluate("""async () => ({dbs: (await indexedDB.databases()).map(d => d.name),
                                           caches: await caches.keys()})""")
    assert f"fossil-offline-{account}" in held["dbs"] and f"fossil-pages-{account}" in held["caches"]
    phone.context.set_offline(False)
    phone.goto(live_server.url + "/account")   # the record may be sent meanwhile: either way it must not stay
    dialogs: list[str] = []
    phone.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    with phone.expect_navigation():
        phone.click("form[data-sign-out] button[type=submit]")
    phone.wait_for_load_state("load")
    left = phone.evaluate("""async () => ({dbs: (await indexedDB.databases()).map(d => d.name),
                                           caches: await caches.keys(), local: localStorage.length})""")
    assert not [d for d in left["dbs"] if account in d], left
    assert not [c for c in left["caches"] if account in c], left
    assert left["local"] == 0
    assert phone.evaluate("JSON.parse(document.getElementById('offline-config').textContent).account") == "public"


def test_a_refused_send_stays_with_the_server_s_message_and_can_be_corrected(phone, live_server):  # noqa: F811
    app = live_server.app
    before = _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE)
    sign_in(phone, live_server.url, "expert")
    form_url = f"{live_server.url}/sites/{SITE}/inspections/new"
    _controlled(phone, form_url)
    _controlled(phone, live_server.url + "/offline")
    phone.context.set_offline(True)
    phone.goto(form_url)
    # a date the server refuses (the form's max= is the browser's check; the server decides at sending)
    phone.evaluate("document.querySelector('input[name=date]').removeAttribute('max')")
    phone.fill("input[name=date]", "2099-01-01")
    phone.check("input[name=condition][value=good]")
    phone.click("form.record-form button[type=submit]")
    phone.wait_for_selector("#offline-saved")
    phone.goto(live_server.url + "/offline")      # the queue page opens offline too
    phone.wait_for_selector("#offline-queue .offline-record.waiting")
    phone.context.set_offline(False)
    phone.click("#offline-send")
    phone.wait_for_selector("#offline-queue .offline-record.refused .server-message")
    message = phone.inner_text("#offline-queue .server-message")
    assert "2099" in message or "未来" in message or "future" in message, message
    assert _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE) == before
    assert [r["state"] for r in _queued(phone)] == ["refused"]   # kept, not dropped
    phone.click("#offline-queue .offline-record.refused button.edit")
    fields = phone.evaluate("""() => Array.from(document.querySelectorAll('#offline-queue .offline-edit label'))
                                .map(l => l.textContent)""")
    phone.fill(f"#offline-queue .offline-edit input >> nth={fields.index('date')}", "2024-05-01")
    phone.click("#offline-queue .offline-edit button[type=submit]")
    _wait_until_sent(phone)
    assert _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE) == before + 1
    phone.wait_for_selector("#offline-empty")


def test_an_area_taken_offline_opens_with_no_network_in_both_languages(phone, live_server):  # noqa: F811
    sign_in(phone, live_server.url, "expert")
    _controlled(phone, live_server.url + "/offline/area")
    phone.fill("#area-sites", SITE)
    phone.click("#offline-area button[type=submit]")
    phone.wait_for_selector("#offline-area-progress[data-done]", timeout=60000)
    assert "0 failed" in phone.inner_text("#offline-area-progress") or "0 个失败" in phone.inner_text(
        "#offline-area-progress")
    phone.context.set_offline(True)
    phone.goto(f"{live_server.url}/sites/{SITE}/inspections/new?lang=en")
    assert phone.locator("html").get_attribute("lang") == "en"
    assert phone.locator("form.record-form").count() == 1
    phone.goto(f"{live_server.url}/sites/{SITE}/inspections/new?lang=zh")
    assert phone.locator("html").get_attribute("lang") == "zh-CN" and phone.locator("form.record-form").count() == 1
    phone.goto(f"{live_server.url}/sites/{SITE}")
    assert SITE in phone.inner_text("main")
    site = phone.evaluate("fetch('/api/sites/%s').then(r => r.json())" % SITE)   # its record, boundary included
    assert site["code"] == SITE and site["boundary"]["type"] in ("Polygon", "MultiPolygon")
    assert phone.evaluate("fetch('/api/sites/%s/markers').then(r => r.status)" % SITE) == 200


def test_online_forms_sent_through_the_worker_behave_as_before_and_carry_a_key(phone, live_server):  # noqa: F811
    """Online, a form of the field is sent by the service worker (with an Idempotency-Key, so that a send whose
    answer is lost can be queued and retried safely): the person sees what they always saw."""
    app = live_server.app
    before = _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE)
    keys = _count(app, "SELECT count(*) FROM idempotency_keys")
    sign_in(phone, live_server.url, "expert")
    _controlled(phone, f"{live_server.url}/sites/{SITE}/inspections/new")
    phone.check("input[name=condition][value=good]")
    with phone.expect_navigation():
        phone.click("form.record-form button[type=submit]")
    assert "/inspections/" in phone.url and phone.locator(".flash.success").count() == 1   # the record's page
    assert _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE) == before + 1
    assert _count(app, "SELECT count(*) FROM idempotency_keys") == keys + 1
    # a refusal comes back as the form with its error, as without the worker
    phone.goto(f"{live_server.url}/sites/{SITE}/inspections/new")
    phone.evaluate("document.querySelector('input[name=date]').removeAttribute('max')")
    phone.fill("input[name=date]", "2099-01-01")
    phone.check("input[name=condition][value=good]")
    with phone.expect_navigation():
        phone.click("form.record-form button[type=submit]")
    assert phone.locator("#form-error").count() == 1
    assert _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE) == before + 1


def test_a_send_the_network_drops_is_queued_by_the_worker_with_its_key(phone, live_server):  # noqa: F811
    """The phone thinks it is online but the request never gets through (a signal that comes and goes): the service
    worker keeps the record with the Idempotency-Key it sent, and opens the "waiting to send" page."""
    app = live_server.app
    before = _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE)
    sign_in(phone, live_server.url, "expert")
    _controlled(phone, f"{live_server.url}/sites/{SITE}/inspections/new")
    phone.check("input[name=condition][value=fair]")
    phone.fill("textarea[name=findings]", "sent into a dead zone")
    # the page's own offline check is out of the way: only the worker sees the failure
    phone.evaluate("document.querySelector('form.record-form').removeAttribute('data-offline')")
    phone.context.set_offline(True)
    with phone.expect_navigation():
        phone.click("form.record-form button[type=submit]")
    assert "/offline" in phone.url
    phone.wait_for_selector("#offline-queue .offline-record.waiting")
    queued = _queued(phone)
    assert len(queued) == 1 and queued[0]["url"] == f"/sites/{SITE}/inspections"
    phone.context.set_offline(False)
    phone.click("#offline-send")
    _wait_until_sent(phone)
    assert _count(app, "SELECT count(*) FROM inspections WHERE code = ?", SITE) == before + 1
    assert _count(app, "SELECT count(*) FROM inspections WHERE findings = 'sent into a dead zone'") == 1
