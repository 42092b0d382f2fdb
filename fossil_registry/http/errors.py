"""One place that turns exceptions into answers: application/problem+json under /api, a plain page elsewhere.
Nothing internal (stack traces, paths, SQL) ever reaches the client."""
from __future__ import annotations

from flask import g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..coords import CoordinateError
from ..errors import RegistryError
from ..geometry import GeometryError
from ..i18n import translate
from ..messages import message_of

PROBLEM_JSON = "application/problem+json"


def wants_problem_json() -> bool:
    if request.path.startswith("/ogcapi"):  # the feature service answers JSON unless a person asked for HTML
        return request.args.get("f") != "html"
    return request.path.startswith("/api/")


def problem(status: int, title: str, detail: str | None = None, **extra):
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def answer(status: int, title: str, detail: str | None, **extra):
    if wants_problem_json():
        return problem(status, title, detail, **extra)
    return render_template("error.html", status=status, title=title, detail=detail), status


def coded(exc: Exception) -> dict:
    """The message code and parameters of a domain error, added to its problem+json next to the translated detail."""
    found = message_of(exc)
    return {"code": found.code, "params": found.json_params()} if found is not None else {}


def init_app(app):
    @app.errorhandler(RegistryError)
    def registry_error(exc: RegistryError):
        extra = dict(exc.extra)
        if exc.location:
            extra["location"] = list(exc.location)
        extra.update(coded(exc))
        if isinstance(extra.get("retry_after"), int):  # a busy resource says when to come back (RFC 9110)
            g.retry_after = extra["retry_after"]
        return answer(exc.status, exc.title, translate(exc), **extra)

    @app.after_request
    def keep_retry_after(response):
        """Registered before the rate limiter's, so it runs after it: the limiter writes its own Retry-After (its
        window) on every answer of a limited route, which would tell a client sent away by a busy resource to come
        back in an hour."""
        if g.get("retry_after") is not None:
            response.headers["Retry-After"] = str(g.retry_after)
        return response

    @app.errorhandler(GeometryError)
    def geometry_error(exc: GeometryError):
        loc = getattr(exc, "location", None)
        return answer(422, "Invalid geometry", translate(exc), location=list(loc) if loc else None, **coded(exc))

    @app.errorhandler(CoordinateError)
    def coordinate_error(exc: CoordinateError):
        return answer(422, "Invalid coordinates", translate(exc), field=getattr(exc, "field", None), **coded(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = answer(exc.code or 500, exc.name, exc.description)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response = app.make_response(response)
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return answer(500, "Internal server error", "Something went wrong on our side; the error has been logged.")


def describe(exc: Exception) -> str:
    """A domain error as the sentence a page shows, in the reader's language."""
    return translate(exc)
