"""'Use my position' on a phone: the proposal and inspection forms fill the location from the device's position, with
its stated accuracy (which becomes the proposal's accuracy), only after the user confirms; outside a secure context
the user is told that browsers share the position only over HTTPS (or on localhost)."""
from __future__ import annotations

from fossil_registry import revisions
from fossil_registry.db import get_conn

from .browser import browser, live_server, new_page, sign_in  # noqa: F401  (pytest fixtures)

PHONE = {"width": 390, "height": 844}
HERE = {"latitude": 25.9031, "longitude": 105.5862, "accuracy": 7.5}


def phone_at(browser, live_server, locale="zh-CN", position=HERE):  # noqa: F811
    page = new_page(browser, locale=locale, viewport=PHONE)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation(position)
    return page


def test_the_proposal_takes_the_phones_position_and_accuracy_after_confirmation(browser, live_server, app):  # noqa: F811
    page = phone_at(browser, live_server)
    try:
        sign_in(page, live_server.url, "field")
        page.goto(live_server.url + "/revisions/new?site=GZ-0003")
        box = page.locator(".use-position")
        box.locator(".use-position-button").click()
        page.wait_for_selector(".use-position-confirm:not([hidden])")
        assert "105.586200, 25.903100（经度, 纬度" in box.inner_text() and "±7.5 米" in box.inner_text()
        assert page.input_value("#location_text") == ""  # nothing is filled before the user confirms
        box.locator(".use-position-cancel").click()
        assert page.input_value("#location_text") == "" and page.input_value("#accuracy_m") == ""
        box.locator(".use-position-button").click()
        page.wait_for_selector(".use-position-confirm:not([hidden])")
        box.locator(".use-position-accept").click()
        assert page.input_value("#location_text") == "105.586200E, 25.903100N"
        assert page.input_value("#accuracy_m") == "7.5" and page.input_value("#method") == "handheld_gnss"
        page.fill("#reason", "现场手机定位")
        with page.expect_navigation():
            page.click("#submit-proposal")
        assert "/revisions/" in page.url, page.inner_text("main")[:1000]
        rid = int(page.url.rstrip("/").rsplit("/", 1)[1])
        with app.app_context():
            rev = revisions.get(get_conn(), rid)
        assert rev.accuracy_m == 7.5 and rev.method == "handheld_gnss"
        assert (round(rev.location.x, 6), round(rev.location.y, 6)) == (105.5862, 25.9031)
        assert page.console_errors == [] and page.blocked_requests == []
    finally:
        page.context.close()


def test_the_inspection_form_takes_the_phones_position(browser, live_server):  # noqa: F811
    page = phone_at(browser, live_server, locale="en-US")
    try:
        sign_in(page, live_server.url, "expert")  # inspections are recorded by experts
        page.goto(live_server.url + "/sites/GZ-0003/inspections/new")
        page.click(".use-position-button")
        page.wait_for_selector(".use-position-confirm:not([hidden])")
        assert "within ±7.5 m" in page.inner_text(".use-position")
        page.click(".use-position-accept")
        assert (page.input_value("#pick-lon"), page.input_value("#pick-lat")) == ("105.586200", "25.903100")
        assert "Filled in from the device position (±7.5 m)" in page.inner_text(".use-position")
        assert page.console_errors == []
    finally:
        page.context.close()


def test_outside_a_secure_context_the_user_is_told_why(browser, live_server):  # noqa: F811
    page = phone_at(browser, live_server)
    try:
        # what a plain-HTTP address other than localhost gets: no secure context, so no position
        page.add_init_script("Object.defineProperty(window, 'isSecureContext', {get: () => false})")
        sign_in(page, live_server.url, "field")
        page.goto(live_server.url + "/revisions/new?site=GZ-0003")
        page.click(".use-position-button")
        assert "HTTPS" in page.inner_text(".use-position-status") and "localhost" in page.inner_text(".use-position-status")
        assert page.is_hidden(".use-position-confirm") and page.input_value("#location_text") == ""
    finally:
        page.context.close()
