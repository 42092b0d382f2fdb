"""The few domain exceptions the rest of the code raises; one handler turns them into HTTP answers.

Their detail is a `messages.Message` (a stable code, an English template, parameters): `exc.detail` is the English text,
`exc.message` the Message the HTTP edge translates into the reader's language."""
from __future__ import annotations

from .messages import Message, message_of, msg


class RegistryError(Exception):
    """Base class. ``status`` is the HTTP status it maps to, ``title`` a short generic title."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: Message | str, *, location: tuple[float, float] | None = None, **extra):
        super().__init__(str(detail))
        self.message = message_of(detail)
        self.detail = detail  # a Message is a str: the English text, shown translated by the HTTP edge
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

    def __init__(self, code: str, base_version: int, current_version: int, kind: Message):
        # kind: the feature's kind as a word of messages (sites.FeatureKind.noun), so a section reads as one
        super().__init__(
            msg("sites.stale_version", "{kind} {site} is at version {current_version}, but this change was based on "
                "version {base_version}; reload the {kind} and apply the change again",
                kind=kind, site=code, base_version=base_version, current_version=current_version),
            site=code, base_version=base_version, current_version=current_version,
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


class NotAcceptable(RegistryError):
    """A representation the resource does not have was asked for (``?format=`` it cannot give)."""

    status = 406
    title = "Not acceptable"


class Unavailable(RegistryError):
    """The database cannot be reached (a wrong or unreachable FLASK_DATABASE_URL, a connection lost mid-request):
    nothing of the request was written; the client may try again."""

    status = 503
    title = "Service unavailable"
