"""Every message the UI shows through gettext has a Chinese translation in one of the catalogs."""
from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from fossil_registry import ROOT
from fossil_registry.i18n import TRANSLATIONS

KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2)}


def _messages() -> dict[str, str]:
    found = {}
    for folder, method in (("fossil_registry", "python"), ("templates", "jinja2")):
        for filename, lineno, message, _comments, _context in extract_from_dir(
                ROOT / folder, [(f"**.{'py' if method == 'python' else 'html'}", method)], keywords=KEYWORDS):
            found.setdefault(message if isinstance(message, str) else message[0], f"{folder}/{filename}:{lineno}")
    return found


def test_every_message_has_a_chinese_translation():
    translated = set()
    for po in TRANSLATIONS.glob("*/zh/LC_MESSAGES/messages.po"):
        with po.open("rb") as fh:
            translated |= {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id and m.string}
    messages = _messages()
    assert len(messages) > 400
    missing = {where: message for message, where in messages.items() if message not in translated}
    assert not missing, missing
