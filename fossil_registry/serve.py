"""`make run`: serve the app with waitress (production WSGI server, 8 threads) on HOST:PORT (default 127.0.0.1:5000);
with WORKERS=N (N > 1) as N processes under gunicorn (THREADS threads each), which share the database, Redis
(REDIS_URL) and the data directory (docs/scale-out.md). Creates the illustrative demo registry first when there is
none (in the data directory, or in the database of FLASK_DATABASE_URL)."""
from __future__ import annotations

import gc
import importlib
import logging
import os
import threading

from waitress import serve

from . import create_app, store, untrusted
from .registry import sweep_files


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    path = app.config["REGISTRY"]
    if app.config["CREATE_DEMO_IF_MISSING"] and not store.is_registry(path):
        from .cli import print_demo_accounts   # the demo's making: only on a first start (demo.activity: ~0.2 s)
        from .demo.activity import seed_activity, summary_line
        from .inspections import local_today
        from .registry import create_demo_accounts, init_registry

        try:
            count = init_registry(path, demo=True)
            print(f"Created the demo registry with {count} illustrative sites at {path}", flush=True)
            print_demo_accounts(create_demo_accounts(path))
            print(summary_line(seed_activity(path, today=local_today(app.config["TIMEZONE"]))), flush=True)
        except FileExistsError:
            pass  # another process created it first
    if store.is_registry(path):
        conn = store.connect(path)
        try:
            removed = sweep_files(conn, app.config["DATA_DIR"])  # what writes that failed left behind
        finally:
            conn.close()
        if removed:
            print(f"Removed {len(removed)} unreferenced file(s) from {app.config['DATA_DIR']}", flush=True)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    threads, workers = int(os.environ.get("THREADS", "8")), int(os.environ.get("WORKERS", "1"))
    where = store.pg.describe(path) if store.dialect.is_url(path) else app.config["DATA_DIR"]
    print(f"Serving the fossil site registry on http://{host}:{port}/ (registry: {where}"
          + (f", {workers} processes" if workers > 1 else "") + ")", flush=True)
    if workers > 1:
        if not app.config.get("REDIS_URL"):
            print("note: without FLASK_REDIS_URL each process counts rate limits and caches answers on its own",
                  flush=True)
        store.pg.close_pools()  # each worker opens its own connections after the fork
        _gunicorn(f"{host}:{port}", workers, threads)
    else:
        _settled()
        _warm_up(app, readers=True)
        serve(app, host=host, port=port, threads=threads, ident="fossil-registry")


def _gunicorn(bind: str, workers: int, threads: int) -> None:
    """N worker processes, each with its own app (and connection pool), THREADS threads each."""
    from gunicorn.app.base import BaseApplication

    class Registry(BaseApplication):
        def load_config(self):
            for key, value in {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
                               "timeout": 120, "graceful_timeout": 10, "preload_app": False,
                               "proc_name": "fossil-registry"}.items():
                self.cfg.set(key, value)

        def load(self):
            app = create_app()
            _settled()
            _warm_up(app, unanswered_s=WARM_UP_UNANSWERED_S)
            return app

    Registry().run()


def _settled() -> None:
    """What the start made (modules, templates, the app: some 350,000 objects) lives as long as the process: frozen
    out of the garbage collector's reach, so that its full collections, set off now and then by an answer's many
    small objects, no longer walk all of it (a 100-200 ms pause in an answer otherwise: docs/national-scale.md)."""
    gc.collect()
    gc.freeze()


class _Answering:
    """The app's WSGI callable, counting the requests it is answering: the warm-up (_warm_later) waits for the first
    answer, and runs each of its steps while no request is being answered, so that it never slows one down."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.answering = 0
        self.lock = threading.Lock()
        self.idle = threading.Event()
        self.answered = threading.Event()

    def __call__(self, environ, start_response):
        with self.lock:
            self.answering += 1
            self.idle.clear()
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            with self.lock:
                self.answering -= 1
                if not self.answering:
                    self.idle.set()
            self.answered.set()


WARM_UP_WAIT_S = 2.0   # under steady traffic, a warm-up step waits at most this long for a moment without requests
WARM_UP_UNANSWERED_S = 5.0  # a gunicorn worker given no request this long after its start warms up all the same


def _warm_up(app, *, readers: bool = False, unanswered_s: float | None = None) -> None:
    """_warm_later, unless the configuration turns it off (WARM_UP)."""
    if app.config["WARM_UP"]:
        _warm_later(app, readers=readers, unanswered_s=unanswered_s)


def _warm_later(app, *, readers: bool = False, unanswered_s: float | None = None) -> None:
    """What the start leaves to the first request that needs it (issue 24: the start loads what every answer needs,
    docs/national-scale.md), loaded in a background thread once the server has answered its first request, step by step
    while no request is being answered, the likeliest first: folium for map pages and the county seats they draw, the
    OpenAPI document's schemas, pypinyin for the search terms of writes, pandas and GDAL's writers for downloads; then
    frozen out of the garbage collector's reach like the rest (_settled). A request that needs one of them before waits
    for its import (Python's import lock) as it would have imported it itself. ``readers``: the pool of processes that
    read uploaded files (untrusted.py) is started at the first answer too, its fork server's imports (~3 s of CPU) on
    another core while this process answers. ``unanswered_s`` (gunicorn's workers): a process that has answered nothing
    this long after its start warms up all the same: the first requests may all go to another process (one client's
    kept-alive connection), and its warm-up would otherwise fall in the first burst it is given (issue 24's 8 readers
    after an approval: the server's CPU rose from 90 to 100-210 ms, docs/national-scale.md)."""
    answering = app.wsgi_app = _Answering(app.wsgi_app)

    def openapi_schemas() -> None:
        from .http import openapi

        with app.app_context():
            openapi.document("/")

    def pinyin() -> None:
        from .search import pinyin_variants

        pinyin_variants("长顺")  # a name of several readings: pypinyin's phrases too

    def county_seats() -> None:
        from . import county_context

        context = county_context.load(app.config)   # read once per process (0.4 s): every map page asks for it
        if context is not None:
            county_context.web_seats(context)

    def imported(name: str):
        return lambda: importlib.import_module(name)

    steps = [imported("fossil_registry.maps"), imported("folium.plugins"), county_seats, openapi_schemas, pinyin,
             imported("fossil_registry.downloads.writers")]

    def warm() -> None:
        answering.answered.wait(unanswered_s)
        if readers:
            threading.Thread(target=untrusted.warm, name="untrusted-warm", daemon=True).start()
        try:
            for step in steps:
                answering.idle.wait(WARM_UP_WAIT_S)
                step()
        except Exception:  # a warm-up, never a failure: the first request that needs it imports it and says why
            logging.getLogger(__name__).exception("warming up failed")
        gc.freeze()
    answering.idle.set()
    threading.Thread(target=warm, name="warm-up", daemon=True).start()


if __name__ == "__main__":
    main()
