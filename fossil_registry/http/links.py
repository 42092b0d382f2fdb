"""Absolute links (the OGC API's links, the OpenAPI document's server, the downloads catalogue, report receipts,
printed pages): built from the address the registry is published at, never from a Host header a client made up.

A link that copies the request's Host can be poisoned (`Host: evil.example` answered with `http://evil.example/...`
in a `next` link) and a shared cache may hand the poisoned answer to GIS clients. So:

* ``PUBLIC_BASE_URL`` set (``https://fossils.example.gov.cn``, a path prefix allowed): every absolute link starts
  with it, whatever the request said;
* not set: the request's own address only where it cannot have been chosen by someone far away: a loopback name
  (``make run`` on the office's own machine, the tests) or a host in Flask's ``TRUSTED_HOSTS`` (Flask refuses every
  other host with 400 before a view runs); behind a proxy, the forwarded host and scheme count only when
  ``PROXY_FIX`` says how many proxies to trust (werkzeug's ProxyFix);
* anything else: links relative to the site's root (``/ogcapi/collections/sites/items?...``), which a client resolves
  against the address it asked: correct, and nothing an attacker's Host header can steer.

docs/security.md ("links follow the request's Host header") and README's configuration table say which to choose.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for

LOOPBACK = ("localhost", "127.0.0.1", "::1")


def checked_base_url(value: str) -> str:
    """The configured PUBLIC_BASE_URL, without a trailing slash; SystemExit naming the setting if it is no
    http(s)://host[:port][/prefix] address."""
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or "@" in parts.netloc:
        raise SystemExit(f"fossil-registry: FLASK_PUBLIC_BASE_URL must look like https://fossils.example.gov.cn "
                         f"(got {str(value)[:60]!r})")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _trusted(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    trusted = current_app.config.get("TRUSTED_HOSTS")
    return name in LOOPBACK or bool(trusted)  # with TRUSTED_HOSTS, Flask has refused any other host already


def base_url() -> str:
    """Where the app's root is published, without a trailing slash; "" when links must stay relative to the root."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:  # checked and normalized once, when the app was made (init_app)
        return configured
    if _trusted(request.host):
        return request.url_root.rstrip("/")
    return ""


def _in_app(path: str) -> str:
    """A path built by url_for, without the prefix the server mounted the app under (the base URL carries it)."""
    root = request.script_root
    return path[len(root):] if root and path.startswith(root) else path


def external_url(endpoint: str, **values) -> str:
    """url_for(..., _external=True), from the published address."""
    return base_url() + _in_app(url_for(endpoint, **values))


def this_url(*, query: bool = False) -> str:
    """This request's URL (request.base_url, or with ``query`` request.url), from the published address."""
    qs = request.query_string.decode("latin-1") if query else ""
    return base_url() + request.path + ("?" + qs if qs else "")


def init_app(app) -> None:
    if app.config.get("PUBLIC_BASE_URL"):
        app.config["PUBLIC_BASE_URL"] = checked_base_url(app.config["PUBLIC_BASE_URL"])
    app.add_template_global(external_url)
