"""Browser-test helpers: the app on a live loopback server and headless Chromium (Debian's package) via Playwright.

Use from a test module::

    from .browser import browser, live_server, page, sign_in  # noqa: F401  (pytest fixtures)

    def test_something(page, live_server):
        page.goto(live_server.url + "/")
        ...
        assert page.console_errors == [] and page.blocked_requests == []

* ``browser`` (session): one Chromium for the whole run, shared by every module that imports it.
* ``live_server``: the ``app`` fixture (a copy of the demo registry; override ``app`` in your module to change it)
  served by werkzeug on 127.0.0.1 with a free port, in a background thread.
* ``page``: a fresh browser context and page (Chinese browser by default) in which every request to anything but
  127.0.0.1 is aborted (and recorded in ``page.blocked_requests``); console errors and uncaught exceptions are recorded
  in ``page.console_errors``; ``page.responses`` lists (url, status, body text) of every loopback response.
Chromium must be installed (/usr/bin/chromium; .ci/run installs it): when it is missing these tests FAIL, never skip.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
# Chromium's new headless mode preloads the address bar's drop-down (two WebUI pages, each in a renderer of its own)
# for every window, so for every test's context: 38 % of Chromium's CPU in the accessibility module (41 -> 25.5 s, two
# runs each). No page the tests open uses it.
NOT_NEEDED_FEATURES = ["WebUIOmniboxPopup", "WebUIOmniboxAimPopup"]
# A second --disable-features replaces the one Playwright passes (Chromium keeps a switch's last value), so Playwright's
# own list is repeated here; test_suite_setup checks it against the installed Playwright's.
PLAYWRIGHT_DISABLED_FEATURES = [
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding", "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect", "TcpPortRandomizationWin", "OptimizationHints", "NetworkTimeServiceQuerying",
    "AimEnabled", "PreconnectToSearch", "msForceBrowserSignIn", "msEdgeUpdateLaunchServicesPreferredVersion",
    "CDPScreenshotNewSurface", "SkipListAccountsWithoutGaiaCookies"]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + NOT_NEEDED_FEATURES)]
LOCAL_HOSTS = {"127.0.0.1"}


@dataclass
class LiveServer:
    app: object
    url: str
    _server: object = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


def start_live_server(app) -> LiveServer:
    """Serve ``app`` on 127.0.0.1 with a free port (threaded, like the real server) until ``stop()``."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    return LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}", _server=server, _thread=thread)


def _launch():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does). "
                    "Browser tests fail rather than skip without it.", pytrace=False)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception:
        playwright.stop()
        raise
    return playwright, chromium


@pytest.fixture(scope="session")
def browser(request):
    """One Chromium per test session, even when several modules import this fixture."""
    state = getattr(request.config, "_registry_chromium", None)
    if state is None:
        state = _launch()
        request.config._registry_chromium = state

        def close():
            playwright, chromium = state
            chromium.close()
            playwright.stop()
        request.config.add_cleanup(close)
    return state[1]


@pytest.fixture
def live_server(app):
    server = start_live_server(app)
    yield server
    server.stop()


def new_page(browser, *, locale: str = "zh-CN", viewport: dict | None = None):
    """A page in a fresh context with all non-local requests blocked and errors/responses recorded."""
    context = browser.new_context(locale=locale, viewport=viewport or {"width": 1280, "height": 800},
                                  extra_http_headers={"Accept-Language": f"{locale},{locale.split('-')[0]};q=0.9"},
                                  service_workers="block")
    blocked: list[str] = []

    def route(r):
        if urlsplit(r.request.url).hostname in LOCAL_HOSTS:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("internetdisconnected")
    context.route("**/*", route)
    page = context.new_page()
    page.blocked_requests = blocked
    page.console_errors = []
    page.responses = []
    page.on("console", lambda msg: page.console_errors.append(f"console: {msg.text} ({msg.location})")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.console_errors.append(f"uncaught: {exc}"))

    def record(response):
        if urlsplit(response.url).hostname not in LOCAL_HOSTS:
            return
        try:
            body = response.text() if response.request.resource_type != "image" else ""
        except Exception:  # redirects and aborted requests have no body
            body = ""
        page.responses.append((response.url, response.status, body))
    page.on("response", record)
    return page


@pytest.fixture
def page(browser):
    p = new_page(browser)
    yield p
    p.context.close()


def sign_in(page, base_url: str, who: str) -> None:
    """Sign in through the real form as one of conftest.ACCOUNTS ('field', 'expert', 'admin', ...)."""
    from .conftest import ACCOUNTS

    username, password = ACCOUNTS[who]
    page.goto(base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
