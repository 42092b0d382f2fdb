"""Entry point for `flask --app app ...`: Flask finds and calls the create_app factory."""
from fossil_registry import create_app  # noqa: F401
