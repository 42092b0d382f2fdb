"""Every message the code can show, found where it is written: each `msg("code", "template", ...)` call in the package
(and each `term(...)`). Used by the tests (one template per code, a Chinese translation for each, no bare string in a
raise) and by `python -m fossil_registry.message_catalog` which lists the codes for docs/messages.md and writes the
msgids a translator must cover."""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Found:
    code: str
    template: str
    path: str
    line: int


def _literal(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def calls(tree: ast.AST):
    """The msg()/term() calls of a module: (code, template, node); code or template None when not literal."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("msg", "term"):
            if len(node.args) >= 2:
                code, template = _literal(node.args[0]), _literal(node.args[1])
                if node.func.id == "term" and code is not None:
                    code = f"term.{code}"
                yield code, template, node


def modules(root: Path = PACKAGE):
    for path in sorted(root.rglob("*.py")):
        if path.name == "message_catalog.py":
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def collect(root: Path = PACKAGE) -> list[Found]:
    found = []
    for path, tree in modules(root):
        for code, template, node in calls(tree):
            if code is not None and template is not None:
                found.append(Found(code, template, str(path.relative_to(root.parent)), node.lineno))
    return found


def catalog(root: Path = PACKAGE) -> dict[str, str]:
    """code -> English template"""
    return {f.code: f.template for f in collect(root)}


# the separators of messages.msg_list, translated like any msgid
LIST_SEPARATORS = (", ", "; ")
PO = PACKAGE / "translations" / "messages" / "zh" / "LC_MESSAGES" / "messages.po"


def update_po(po_path: Path = PO, translations: dict[str, str] | None = None) -> int:
    """Bring the Chinese catalog of domain messages up to date with the code: one entry per template (its codes as
    comments), existing translations kept, new templates added untranslated (the tests then fail until a translator
    fills them in), templates no longer in the code dropped. `translations` (code -> Chinese) fills in new ones.
    Returns the number of untranslated entries."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    old = {}
    if po_path.exists():
        with po_path.open("rb") as fh:
            old = {m.id: m.string for m in read_po(fh) if m.id}
    out = Catalog(locale="zh", project="fossil-registry", domain="messages", fuzzy=False,
                  creation_date=datetime(2026, 11, 28, tzinfo=timezone.utc),
                  revision_date=datetime(2026, 11, 28, tzinfo=timezone.utc))
    by_template: dict[str, list[Found]] = {}
    for f in collect():
        by_template.setdefault(f.template, []).append(f)
    for template, founds in sorted(by_template.items(), key=lambda kv: kv[1][0].code):
        codes = sorted({f.code for f in founds})
        string = old.get(template) or next((translations[c] for c in codes if translations and c in translations), "")
        out.add(template, string, auto_comments=codes, flags=["python-brace-format"] if "{" in template else [])
    for sep in LIST_SEPARATORS:
        out.add(sep, old.get(sep, ""), auto_comments=["list separator (messages.msg_list)"])
    po_path.parent.mkdir(parents=True, exist_ok=True)
    with po_path.open("wb") as fh:
        write_po(fh, out, width=120, omit_header=False, sort_output=False)
    return sum(1 for m in out if m.id and not m.string)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--update-po"]:
        missing = update_po()
        sys.stdout.write(f"{PO}: {missing} untranslated\n")
    else:
        for code, template in sorted(catalog().items()):
            sys.stdout.write(f"{code}\t{template}\n")
