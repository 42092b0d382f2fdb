"""The registry of feature kinds: every kind module registers its kind once (``register``); everything that works on
"every registered feature" (screening, field kits, downloads, the OGC collections, search, the supervision figures)
iterates over ``kinds()``."""
from __future__ import annotations

from ..errors import InvalidInput
from ..messages import msg
from .kind import FeatureKind

_KINDS: dict[str, FeatureKind] = {}
# What the public view shows of a feature (public_view.public_site, which registers itself on import): the versioned
# store asks it whether a write changed anything an anonymous caller reads, without importing the public view.
_PUBLIC_PROJECTION = None


def set_public_projection(projection) -> None:
    global _PUBLIC_PROJECTION
    _PUBLIC_PROJECTION = projection


def public_projection():
    """The public view's projection of a feature, or None before the public view is imported (then every write counts
    as a public change: a stamp moved too often costs a cache rebuild, one not moved would serve a stale public view)."""
    return _PUBLIC_PROJECTION


# The read model's maintainer (read_model.refresh, which registers itself on import): the versioned store hands it
# every feature it writes, in the write's transaction, without importing it.
_READ_MODEL = None


def set_read_model(refresh) -> None:
    global _READ_MODEL
    _READ_MODEL = refresh


def read_model():
    """read_model.refresh, or None before it is imported (then a write marks the read model for a rebuild)."""
    return _READ_MODEL


def register(kind: FeatureKind) -> FeatureKind:
    """Add a kind (a module's import registers its kind; registering the same kind again changes nothing)."""
    known = _KINDS.setdefault(kind.name, kind)
    if known is not kind:
        raise ValueError(f"a feature kind named {kind.name!r} is registered already")
    return kind


def kinds() -> tuple[FeatureKind, ...]:
    """Every registered kind of feature, in the order they were registered (sites first)."""
    return tuple(_KINDS.values())


def kind(name: str) -> FeatureKind:
    """The kind named ``name`` (as stored with proposals); InvalidInput naming the known ones otherwise."""
    found = _KINDS.get(name)
    if found is None:
        raise InvalidInput(msg("sites.unknown_kind", "unknown kind of feature {name!r}; known kinds are {kinds}",
                               name=name, kinds=', '.join(_KINDS)))
    return found


def kind_of_code(code: str, config=None) -> FeatureKind | None:
    """The kind whose prefix of new codes ``code`` begins with (the longest prefix wins: GZS- before GZ-); None when
    none does. A guess from the code alone: ``versions.kind_of`` asks the store which kind holds it."""
    matches = [k for k in _KINDS.values() if code.startswith(k.code_prefix(config))]
    return max(matches, key=lambda k: len(k.code_prefix(config)), default=None)


def change_stamps(conn) -> tuple:
    """The change stamps of every kind's tables, together: the key of anything built from every registered feature
    (a search index, a map of all kinds)."""
    return tuple(k.stamp(conn) for k in _KINDS.values() if k.stamp is not None)


def collection_kind(collection: str) -> FeatureKind | None:
    """The kind whose OGC collection (and download layer) is ``collection``."""
    return next((k for k in _KINDS.values() if k.collection == collection), None)
