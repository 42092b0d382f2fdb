"""Fossil site registry: a Flask app over a versioned GeoPackage system of record."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from flask_compress import Compress
from werkzeug.routing import Rule

ROOT = Path(__file__).resolve().parent.parent

# The read model registers itself with the versioned store on import, so that every write of a feature, by the app,
# a command or a script, keeps it (docs/national-scale.md).
from . import read_model  # noqa: E402,F401


class _CompiledTemplates:
    """Jinja's compiled templates kept for every app this process makes, so a template is parsed once per process, not
    once per app (one app per process in production: no change there; the test suite makes over a thousand apps)."""

    def __init__(self) -> None:
        from jinja2 import BytecodeCache

        codes: dict[str, bytes] = {}

        class Cache(BytecodeCache):
            def load_bytecode(self, bucket) -> None:
                if bucket.key in codes:
                    bucket.bytecode_from_string(codes[bucket.key])

            def dump_bytecode(self, bucket) -> None:
                codes[bucket.key] = bucket.bytecode_to_string()

        self.cache = Cache()


_TEMPLATES = _CompiledTemplates()


class _Rule(Rule):
    """werkzeug's Rule, whose two URL builders per route (Python source made through ast, then compile()) are made when
    the route is first built by url_for instead of when the app is made: 360 compilations, ~0.15 s of the server's
    start (issue 24's cold start), for routes most of which a process rarely links to."""

    def _compile_builder(self, append_unknown: bool = True):
        made = None

        def build(rule, *args, **kwargs):
            nonlocal made
            if made is None:   # two threads may both make it: the same function
                made = Rule._compile_builder(rule, append_unknown)
            return made(rule, *args, **kwargs)
        return build


def create_app(config: dict | None = None) -> Flask:
    from .http.requests import CheckedRequest
    from .json_input import provider_class

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.url_rule_class = _Rule
    app.jinja_options = {**app.jinja_options, "bytecode_cache": _TEMPLATES.cache}
    app.json = provider_class()(app)  # request.get_json() refuses deeply nested bodies (400), never a RecursionError
    app.request_class = CheckedRequest  # form fields and file names pass text_input's character rules (400)
    app.config.from_object("fossil_registry.config")
    app.config.from_prefixed_env()
    if config:
        app.config.update(config)

    data_dir = Path(app.config["DATA_DIR"]).resolve()
    app.config["DATA_DIR"] = str(data_dir)
    from .registry import registry_path

    app.config.setdefault("REGISTRY_PATH", str(registry_path(data_dir)))
    # Where the registry lives: the PostgreSQL URL when one is configured, else the GeoPackage (store/dialect.py).
    app.config["REGISTRY"] = app.config.get("DATABASE_URL") or app.config["REGISTRY_PATH"]
    _shared_state(app)
    _untrusted_limits(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _persistent_secret(data_dir)
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from . import db, i18n, read_model, store
    from .cli import registry_cli, users_cli
    from .http import errors, links, requests, security

    if _registry_exists(app):
        conn = store.connect(app.config["REGISTRY"])
        try:
            store.migrate(conn)
            read_model.ensure(conn)  # built once for a registry from before it (docs/national-scale.md)
        finally:
            conn.close()
    db.init_app(app)
    requests.init_app(app)
    Compress(app)
    errors.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    links.init_app(app)
    _register_areas(app)
    app.cli.add_command(registry_cli)
    app.cli.add_command(users_cli)
    return app


def _untrusted_limits(app: Flask) -> None:
    """The limits of reading uploaded files (a pool of worker processes per app process: untrusted.py)."""
    from . import untrusted

    c = app.config
    untrusted.configure(untrusted.Limits(
        seconds=float(c["UNTRUSTED_READ_SECONDS"]), cpu_seconds=float(c["UNTRUSTED_READ_CPU_SECONDS"]),
        memory_bytes=int(c["UNTRUSTED_READ_MEMORY_MB"]) * 1024 * 1024, workers=int(c["UNTRUSTED_READERS"]),
        queue=int(c["UNTRUSTED_QUEUE"])))


def _registry_exists(app: Flask) -> bool:
    """Whether the configured registry exists. A database that cannot be used (wrong or unreachable URL, wrong
    password, no such database) stops the start with one line naming host, database and what failed."""
    from . import store
    from .errors import Unavailable

    for key in ("DATABASE_URL", "DATABASE_READ_URL"):
        value = app.config.get(key)
        if value and not store.dialect.is_url(value):
            raise SystemExit(f"fossil-registry: FLASK_{key} must be a postgresql:// URL (got {str(value)[:40]!r})")
    if app.config.get("DATABASE_READ_URL") and not app.config.get("DATABASE_URL"):
        raise SystemExit("fossil-registry: FLASK_DATABASE_READ_URL needs FLASK_DATABASE_URL (the primary) too")
    try:
        exists = store.is_registry(app.config["REGISTRY"])
        if app.config.get("DATABASE_READ_URL"):
            store.pg.probe(app.config["DATABASE_READ_URL"])
    except Unavailable as exc:
        raise SystemExit(f"fossil-registry: {exc.detail}") from None
    return exists


def _shared_state(app: Flask) -> None:
    """What several app processes must share besides the database: rate limits (Flask-Limiter) and cached answers in
    Redis when REDIS_URL is set; otherwise each process keeps its own (right for one process)."""
    from . import shared_cache

    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    if redis_url:  # Redis down: count in memory meanwhile rather than refuse every limited request
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    shared_cache.configure(redis_url)


def _persistent_secret(data_dir: Path) -> str:
    """A random session-signing key, created once per data directory (0600) so restarts keep sessions valid."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _register_areas(app: Flask) -> None:
    """Every area of the app, explicitly: web pages (web/) and the JSON API (api/); each registers its blueprints."""
    from .api import downloads as downloads_api
    from .api import fieldkit as fieldkit_api
    from .api import impact as impact_api
    from .api import imports as imports_api
    from .api import inspections as inspections_api
    from .api import ogcapi
    from .api import reports as reports_api
    from .api import rescues as rescues_api
    from .api import revisions as revisions_api
    from .api import sections as sections_api
    from .api import sites as sites_api
    from .api import supervision as supervision_api
    from .web import (account, admin, basemap, downloads, fieldkit, impact, imports, inspections, offline, public,
                      reports, rescues, revisions, sections, supervision)

    for area in (public, sections, basemap, account, admin, revisions, inspections, reports, rescues, supervision,
                 fieldkit, impact, downloads, imports, offline, sites_api, sections_api, revisions_api, inspections_api,
                 reports_api, rescues_api, supervision_api, fieldkit_api, impact_api, downloads_api, imports_api, ogcapi):
        area.init_app(app)
