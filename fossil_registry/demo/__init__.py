"""Illustrative Guizhou demo registry (not official records): see :mod:`fossil_registry.demo.build`.

Attributes are loaded lazily so that ``python -m fossil_registry.demo.build`` does not import the module twice.
"""
from __future__ import annotations

__all__ = ["DEMO_NOTICE", "DEMO_REASON", "SEED_CSV", "demo_sites", "load_seed_rows"]


def __getattr__(name: str):
    if name in __all__:
        from . import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
