"""Fossil site registry: a Flask app over a versioned GeoPackage system of record."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.from_object("fossil_registry.config")
    app.config.from_prefixed_env()
    if config:
        app.config.update(config)

    data_dir = Path(app.config["DATA_DIR"]).resolve()
    app.config["DATA_DIR"] = str(data_dir)
    from .registry import registry_path

    app.config.setdefault("REGISTRY_PATH", str(registry_path(data_dir)))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _persistent_secret(data_dir)
    from . import db, http_errors
    from .api.json_api import bp as api_bp
    from .cli import registry_cli

    db.init_app(app)
    http_errors.init_app(app)
    app.register_blueprint(api_bp)
    app.cli.add_command(registry_cli)
    return app


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
