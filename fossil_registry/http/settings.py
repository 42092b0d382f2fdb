"""The settings and stores a request works with, built from the app configuration (defaults: config.py)."""
from __future__ import annotations

from flask import current_app, url_for

from .. import auth, fieldkit, impact, imports, inspections, markers, reports, rescues, revisions
from ..blobs import BlobStore


def revision_policy() -> revisions.Policy:
    return revisions.Policy.from_config(current_app.config)


def inspection_settings() -> inspections.Settings:
    return inspections.Settings.from_config(current_app.config)


def report_settings() -> reports.ReportSettings:
    return reports.ReportSettings.from_config(current_app.config)


def fieldkit_settings() -> fieldkit.Settings:
    return fieldkit.Settings.from_config(current_app.config)


def impact_settings() -> impact.Settings:
    return impact.Settings.from_config(current_app.config)


def import_settings() -> imports.Settings:
    return imports.Settings.from_config(current_app.config)


def marker_settings() -> markers.Settings:
    return markers.Settings.from_config(current_app.config)


def rescue_settings() -> rescues.Settings:
    return rescues.Settings.from_config(current_app.config)


def photo_link(photo: dict) -> dict:
    """A photo as staff answers list it: its name and the links to its files."""
    return {"sha256": photo["sha256"], "name": photo["original_name"], "url": photo_url("originals", photo),
            "thumbnail_url": photo_url("thumbs", photo)}


def login_throttle() -> auth.LoginThrottle:
    return auth.LoginThrottle.from_config(current_app.config)


def blob_store() -> BlobStore:
    return BlobStore(current_app.config["DATA_DIR"])


def photo_url(kind: str, photo: dict) -> str:
    """Link to one of a photo's files (originals, thumbs, display) for staff."""
    names = {"originals": "original", "thumbs": "thumb", "display": "display"}
    return url_for("inspections.photo_file", sha256=photo["sha256"], kind=names[kind])
