"""Bilingual UI (Chinese and English) with Flask-Babel. Chinese for zh browsers, English otherwise; `?lang=zh|en` switches
and is remembered in a cookie."""
from __future__ import annotations

from pathlib import Path

from typing import Any, Mapping

from flask import request
from flask_babel import Babel, get_translations

from .messages import Gettext, Message, from_record, render

LANGUAGES = ("zh", "en")
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
babel = Babel()


def select_locale() -> str:
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def translation_directories() -> list[Path]:
    """One catalog directory per area (translations/<area>/<lang>/LC_MESSAGES/messages.po); Flask-Babel merges them."""
    return sorted({po.parent.parent.parent for po in TRANSLATIONS.glob("*/*/LC_MESSAGES/messages.po")})


def gettext_of_request() -> Gettext:
    """The request's catalog, knowing its language (vocabulary labels carry their own Chinese)."""
    from flask_babel import get_locale
    locale = get_locale()
    return Gettext(get_translations().gettext, locale.language if locale is not None else "en")


def translate(value: Any) -> str:
    """A domain Message (or an exception carrying one) in the request's language; plain text as it is."""
    return render(value, gettext_of_request())


_NUMBERS_ONLY = frozenset({"coordinates", "bbox"})


def localized(value: Any) -> Any:
    """JSON-ready data with every Message in it, and every stored message record (a proposal's warnings:
    message_code, msgid, params), in the request's language; everything else unchanged."""
    if isinstance(value, Message):
        return translate(value)
    if isinstance(value, Mapping):
        found = from_record(value) if "msgid" in value else None
        # a GeoJSON geometry's coordinates (and a bbox) are numbers: not walked (a boundary's are thousands)
        out = {k: v if k in _NUMBERS_ONLY else localized(v) for k, v in value.items()}
        if found is not None:
            out["message"] = translate(found)
        return out
    if isinstance(value, (list, tuple)):
        return [localized(v) for v in value]
    return value


def _finalize(value: Any) -> Any:
    # every {{ expression }} of every template: a domain Message is shown in the reader's language
    return translate(value) if isinstance(value, Message) else value


def init_app(app) -> None:
    app.jinja_env.finalize = _finalize
    app.jinja_env.filters["localized"] = lambda value: translate(from_record(value) or value.get("message", "")) \
        if isinstance(value, Mapping) else translate(value)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(str(d) for d in translation_directories()))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    babel.init_app(app, locale_selector=select_locale)

    @app.after_request
    def _remember_language(response):
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get("lang") != chosen:
            response.set_cookie("lang", chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    @app.context_processor
    def _languages():
        from flask_babel import get_locale
        return {"LANGUAGES": LANGUAGE_NAMES, "current_language": str(get_locale() or "en")}


def compile_catalogs() -> None:
    """Compile .po catalogs to .mo (done at set-up by make; the .mo files are build products, not tracked)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in TRANSLATIONS.glob("*/*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        with mo.open("wb") as fh:
            write_mo(fh, catalog)
