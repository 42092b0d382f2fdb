"""Limits on what anonymous callers may do often: public reports, shared by the report form (web) and POST /api/reports
(api), one budget per client address and a request size checked before the body is read; and impact screenings, shared
by the screening form and POST /api/impact (each one reads a footprint file and measures it against the registry)."""
from __future__ import annotations

from functools import wraps

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from .security import limiter
from .settings import report_settings


def _staff() -> bool:
    """Signed-in staff are not rate-limited, except where the session is ignored (security.sessionless)."""
    if not current_user.is_authenticated:
        return False
    view = current_app.view_functions.get(request.endpoint)
    return getattr(current_user, "via_token", False) or not getattr(view, "sessionless", False)


submit_limit = limiter.shared_limit(lambda: current_app.config["REPORT_LIMIT"], scope="report-submit",
                                    exempt_when=_staff)


def too_many_message() -> str:
    return _("Too many reports from your network in a short time. Please wait a while and try again, or call the "
             "local natural resources bureau if the matter is urgent.")


def limit_request_size() -> None:
    """Refuse (413) a report body above REPORT_MAX_BYTES before it is read, whatever the global limit allows."""
    request.max_content_length = report_settings().max_request_bytes


def report_sized(view):
    """A report view: limit_request_size() before anything below it (an Idempotency-Key's hash) reads the body."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        limit_request_size()
        return view(*args, **kwargs)
    return wrapped


screen_limit = limiter.shared_limit(lambda: current_app.config["IMPACT_LIMIT"], scope="impact-screen",
                                    exempt_when=_staff)


def too_many_screenings_message() -> str:
    return _("Too many screenings from your network in a short time. Please wait a while and try again, or ask the "
             "museum for an account.")
