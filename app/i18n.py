"""Languages: the locale of a request and the per-language fields of models."""

from __future__ import annotations

from enum import StrEnum

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user


class Language(StrEnum):
    """The three languages of programmes, letters and titles."""

    NL = "nl"
    EN = "en"
    RU = "ru"


def pick(obj: object, field: str, lang: str) -> str:
    """The text of ``field`` in ``lang``, falling back to English, then Dutch.

    A missing Russian programme text should show the English one rather than a gap.
    """
    for code in (lang, "en", "nl", "ru"):
        value = getattr(obj, f"{field}_{code}", None)
        if value:
            return str(value)
    return ""


def select_locale() -> str:
    """The interface language: ?lang=, then the session, the account, the browser."""
    allowed: tuple[str, ...] = current_app.config["STAFF_LANGUAGES"]
    if not has_request_context():  # commands speak the default language
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    asked = request.args.get("lang")
    if asked in allowed:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in allowed:
        return str(remembered)
    if current_user.is_authenticated and current_user.language in allowed:
        return str(current_user.language)
    best = request.accept_languages.best_match(allowed)
    return best or str(current_app.config["BABEL_DEFAULT_LOCALE"])


def current_language() -> str:
    """The language of the current request's pages ("nl", "en" or "ru")."""
    locale = get_locale()
    return locale.language if locale else str(current_app.config["BABEL_DEFAULT_LOCALE"])
