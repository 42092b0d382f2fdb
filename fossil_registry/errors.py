"""The few domain exceptions the rest of the code raises; one handler turns them into HTTP answers."""
from __future__ import annotations


class RegistryError(Exception):
    """Base class. ``status`` is the HTTP status it maps to, ``title`` a short generic title."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, location: tuple[float, float] | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.location = location
        self.extra = extra


class NotFound(RegistryError):
    status = 404
    title = "Not found"


class InvalidInput(RegistryError):
    """Well-formed request whose content is refused (bad coordinates, invalid geometry, unknown field...)."""

    status = 422
    title = "Invalid input"


class StaleVersion(RegistryError):
    """A write named a base version that is no longer the site's current version."""

    status = 409
    title = "Conflict: the site has changed"

    def __init__(self, code: str, base_version: int, current_version: int):
        super().__init__(
            f"site {code} is at version {current_version}, but this change was based on version {base_version}; "
            "reload the site and apply the change again",
            code=code, base_version=base_version, current_version=current_version,
        )
        self.code = code
        self.base_version = base_version
        self.current_version = current_version


class Conflict(RegistryError):
    status = 409
    title = "Conflict"


class Forbidden(RegistryError):
    """The caller may not do this to this object (e.g. decide on their own proposal)."""

    status = 403
    title = "Forbidden"


MiB = 1024 * 1024


class TooLarge(InvalidInput):
    """An upload or a request beyond a size, count or pixel limit."""

    status = 413
    title = "Upload too large"


class Unavailable(RegistryError):
    """The database cannot be reached (a wrong or unreachable FLASK_DATABASE_URL, a connection lost mid-request):
    nothing of the request was written; the client may try again."""

    status = 503
    title = "Service unavailable"
