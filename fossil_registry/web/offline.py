"""The installable web app and the offline side of the forms (docs/offline.md): the service worker at the site's root
(``/sw.js``: Workbox from static/vendor/workbox, the shell precached, pages and data cached as they are visited, per
account), the web manifest, the "waiting to send" page of the queue kept on the phone (static/js/offline-queue.js),
a fresh CSRF token for queued forms, and "take an area offline" (the URLs of a set of sites or a county's, which the
page caches).

Which account the phone's storage belongs to: an opaque name (``offline_account``: an HMAC of the account's id, or
``public``), given to the pages in a meta tag and to the service worker in the ``X-Offline-Account`` header of every
page, so that one account's cached pages and queued records are never shown to another. Sign-out erases them
(web/account.py sends Clear-Site-Data; the page's script clears what it can first)."""
from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import fieldkit, inspections, sites
from ..db import get_conn
from ..errors import RegistryError
from ..http.errors import problem
from ..http.responses import jsonify
from ..http.security import require
from ..http.settings import fieldkit_settings

bp = Blueprint("offline", __name__)
ACCOUNT_HEADER = "X-Offline-Account"
# The shell the service worker precaches: the app's own CSS, scripts and icons, and the map libraries every form uses.
SHELL = ("css", "js", "icons", "favicon.svg", "vendor/leaflet", "vendor/leaflet.markercluster",
         "vendor/leaflet.locatecontrol", "vendor/leaflet-draw", "vendor/jquery/jquery.min.js")
SHELL_SUFFIXES = {".css", ".js", ".png", ".svg", ".woff", ".woff2", ".ttf"}
# builds the pages never link (un-minified, ES-module, UMD and Mapbox variants beside the ones maps.ASSETS names)
_NOT_SERVED = ("-src.", ".esm.", ".umd.", ".mapbox.")
LANGUAGES = ("zh", "en")
MAX_AREA_SITES = 200


def init_app(app) -> None:
    app.register_blueprint(bp)


def offline_account() -> str:
    """The opaque name of the caller's offline storage: never the account's name or id itself."""
    if not current_user.is_authenticated:
        return "public"
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"offline-account:{current_user.user.id}".encode(), hashlib.sha256).hexdigest()[:20]


@bp.app_context_processor
def _offline_globals():
    return {"offline_account": offline_account}


@bp.after_app_request
def _name_the_account(response):
    if response.mimetype == "text/html":
        response.headers[ACCOUNT_HEADER] = offline_account()
    return response


@lru_cache(maxsize=4)
def _shell(static: str) -> tuple[tuple[str, str], ...]:
    """(path under static/, revision) of every shell file: the revision is a hash of its bytes, so a new release
    changes the worker's text and the browser fetches what changed."""
    root, found = Path(static), []
    for entry in SHELL:
        path = root / entry
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        for f in files:
            if f.suffix in SHELL_SUFFIXES and not any(x in f.name for x in _NOT_SERVED):
                found.append((f.relative_to(root).as_posix(), hashlib.sha256(f.read_bytes()).hexdigest()[:16]))
    return tuple(found)


@bp.get("/sw.js")
@require("public.read")
def service_worker():
    """The service worker, from the site's root so that its scope covers every form: the precache list, then
    static/js/service-worker.js."""
    static = current_app.static_folder
    manifest = [{"url": url_for("static", filename=name), "revision": rev} for name, rev in _shell(static)]
    config = {"precache": manifest, "workbox": url_for("static", filename="vendor/workbox/"),
              "queue": url_for("static", filename="js/offline-queue.js"), "offline_page": url_for(".queue_page"),
              "csrf": url_for(".csrf_token"), "header": ACCOUNT_HEADER}
    body = f"self.FOSSIL_OFFLINE = {json.dumps(config)};\n" + (Path(static) / "js" / "service-worker.js").read_text()
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
@require("public.read")
def manifest():
    icon = lambda name, size, purpose="any": {"src": url_for("static", filename=f"icons/{name}"),  # noqa: E731
                                              "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}
    body = {"name": _("Fossil site registry"), "short_name": _("Fossil sites"), "lang": str(get_locale() or "en"),
            "description": _("Protected fossil sites: inspections, marker checks, new finds and reports, also offline."),
            "start_url": "/", "scope": "/", "display": "standalone", "background_color": "#faf7f2",
            "theme_color": "#8a3b12",
            "icons": [icon("icon-192.png", 192), icon("icon-512.png", 512), icon("maskable-512.png", 512, "maskable")]}
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
@require("public.read")
def queue_page():
    """What waits on this phone to be sent (drawn by the script from IndexedDB; the page itself holds no record)."""
    return render_template("offline/queue.html")


@bp.get("/offline/csrf-token")
@require("public.read")
def csrf_token():
    """A CSRF token of this session, for a queued form sent later (its own token may be of an older session), and
    which offline account the session is, so that a record is sent only by the account that made it."""
    response = jsonify({"csrf_token": generate_csrf(), "account": offline_account()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/offline/area")
@require("inspection.write")
def area_page():
    return render_template("offline/area.html", counties=_counties())


def _counties() -> list[str]:
    return sorted({s.properties.get("county") for s in sites.list_current(get_conn()) if s.properties.get("county")})


def _site_urls(conn, code: str) -> list[str]:
    urls = [url_for("public.site_page", code=code), url_for("inspections.new", code=code)]
    latest = inspections.list_for_site(conn, code)
    if latest:
        urls.append(url_for("inspections.record", inspection_id=latest[0]["fid"]))
    return urls


@bp.get("/offline/area/urls")
@require("inspection.write")
def area_urls():
    """What to keep on the phone for an area (``sites``: codes, or ``county``): each site's page, its inspection
    form (with its markers to check) and its last inspection in both languages; its record with the boundary
    (GeoJSON) and its markers; the county context and the forms of new finds and reports."""
    conn = get_conn()
    try:
        area = fieldkit.parse_area({k: request.args.get(k, "") for k in ("sites", "county")})
        chosen = fieldkit.select_sites(conn, area, fieldkit_settings())
    except RegistryError as exc:
        return problem(exc.status, exc.title, str(exc))
    if not chosen:
        return problem(404, "Not found", _("No site in this area."))
    chosen = chosen[:MAX_AREA_SITES]
    pages = [url_for("reports.form"), url_for("rescues.index"), url_for(".queue_page")]
    data = [url_for("public.county_outlines"), url_for("public_map_data.county_seats")]
    for site in chosen:
        pages += _site_urls(conn, site.code)
        data += [url_for("api.get_site", code=site.code), url_for("sections_api.feature_markers", code=site.code)]
    current = str(get_locale() or "en")
    order = [lang for lang in LANGUAGES if lang != current] + [current]  # ?lang= is remembered: the reader's last
    return jsonify({"sites": [s.code for s in chosen],
                    "pages": [f"{u}?lang={lang}" for lang in order for u in pages] + pages, "data": data})
