"""The layering of docs/architecture.md, checked by reading the imports: blueprints -> http helpers -> domain -> store,
web/ and api/ never import each other, nothing but the store holds SQL, the domain never imports Flask."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fossil_registry import ROOT

PACKAGE = ROOT / "fossil_registry"
# Flask glue outside web/, api/ and http/: the app factory, the request's connection, the CLI, the server, i18n
FLASK_GLUE = {"__init__.py", "db.py", "cli.py", "serve.py", "i18n.py"}


def _modules(folder: str = "") -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imported(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute dotted names of everything a module imports (relative imports resolved), at any depth."""
    package = ".".join(path.relative_to(root).parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            names.add(module)
            names |= {f"{module}.{a.name}" for a in node.names}
    return names


def _offending(paths: list[Path], *forbidden: str, root: Path = ROOT) -> dict[str, list[str]]:
    out = {}
    for path in paths:
        bad = sorted(n for n in _imported(path, root) if any(n == f or n.startswith(f + ".") for f in forbidden))
        if bad:
            out[str(path.relative_to(root))] = bad
    return out


def test_web_and_api_depend_on_http_and_the_domain_never_on_each_other_or_the_store():
    assert _offending(_modules("web"), "fossil_registry.api", "fossil_registry.store") == {}
    assert _offending(_modules("api"), "fossil_registry.web", "fossil_registry.store") == {}
    assert _offending(_modules("http"), "fossil_registry.web", "fossil_registry.api", "fossil_registry.store") == {}


def test_the_domain_never_imports_flask_or_the_blueprints():
    domain = [p for p in _modules() if p.relative_to(PACKAGE).parts[0] not in ("web", "api", "http")
              and str(p.relative_to(PACKAGE)) not in FLASK_GLUE]
    assert len(domain) > 20
    found = _offending(domain, "flask", "flask_login", "flask_wtf", "flask_babel", "flask_limiter",
                       "fossil_registry.web", "fossil_registry.api", "fossil_registry.http")
    # json_input hands Flask a JSON provider with its nesting limit: the one Flask import, inside a function
    assert found == {"fossil_registry/json_input.py": ["flask.json.provider", "flask.json.provider.DefaultJSONProvider"]}


def test_sql_lives_only_in_the_store():
    outside = [p for p in _modules() if p.relative_to(PACKAGE).parts[0] != "store"]
    offenders = [str(p.relative_to(ROOT)) for p in outside
                 if ".execute(" in p.read_text() or "import sqlite3" in p.read_text()]
    assert offenders == []


@pytest.mark.parametrize("source, expected", [
    ("from ..api import sites", {"fossil_registry.api", "fossil_registry.api.sites"}),
    ("from ..store import revisions as rstore", {"fossil_registry.store", "fossil_registry.store.revisions"}),
    ("from .. import store", {"fossil_registry", "fossil_registry.store"}),
    ("import flask", {"flask"}),
])
def test_imports_are_resolved_as_python_resolves_them(tmp_path, source, expected):
    probe = tmp_path / "fossil_registry" / "web" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(source + "\n")
    assert _imported(probe, root=tmp_path) == expected
    assert bool(_offending([probe], "fossil_registry.api", "fossil_registry.store", root=tmp_path)) == \
        ("api" in source or "store" in source)
