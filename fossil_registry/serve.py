"""`make run`: serve the app with waitress (production WSGI server, 8 threads) on HOST:PORT (default 127.0.0.1:5000).
Creates the illustrative demo registry first when the data directory holds none."""
from __future__ import annotations

import logging
import os

from waitress import serve

from . import create_app, store
from .cli import print_demo_accounts
from .demo.activity import seed_activity, summary_line
from .inspections import local_today
from .registry import create_demo_accounts, init_registry, sweep_files


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    path = app.config["REGISTRY"]
    if app.config["CREATE_DEMO_IF_MISSING"] and not store.is_registry(path):
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
    print(f"Serving the fossil site registry on http://{host}:{port}/ (data: {app.config['DATA_DIR']})", flush=True)
    serve(app, host=host, port=port, threads=int(os.environ.get("THREADS", "8")), ident="fossil-registry")


if __name__ == "__main__":
    main()
