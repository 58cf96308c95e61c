"""Languages: the locale of a request and the per-language fields of models."""

from __future__ import annotations

from enum import StrEnum

from flask import current_app, g, has_request_context, request, session
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
    if not has_request_context():
        # Commands speak English: their output is read by scripts and by tests.
        return "en"
    allowed = page_languages()
    asked = request.args.get("lang")
    if asked in allowed:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in allowed:
        return str(remembered)
    # Asking who is logged in asks the database; not when it is down (app/errors.py).
    if (
        not g.get("database_unavailable")
        and current_user.is_authenticated
        and current_user.language in allowed
    ):
        return str(current_user.language)
    best = request.accept_languages.best_match(allowed)
    return best or str(current_app.config["BABEL_DEFAULT_LOCALE"])


PUBLIC_BLUEPRINTS = frozenset({"public", "calendar", "privacy", "rsvp"})


def page_languages() -> tuple[str, ...]:
    """Public pages speak nl, en and ru; staff pages nl and en."""
    # No blueprint: an address that matched nothing; its 404 may be a public visitor's.
    if request.blueprint in PUBLIC_BLUEPRINTS or request.blueprint is None:
        return tuple(current_app.config["LANGUAGES"])
    return tuple(current_app.config["STAFF_LANGUAGES"])


def current_language() -> str:
    """The language of the current request's pages ("nl", "en" or "ru")."""
    locale = get_locale()
    return locale.language if locale else str(current_app.config["BABEL_DEFAULT_LOCALE"])


def ordinal(number: int, lang: str) -> str:
    """84 as an ordinal: nl "84e", en "84th", ru "84-я" (годовщина is feminine)."""
    if lang == "nl":
        return f"{number}e"
    if lang == "ru":
        return f"{number}-я"
    if number % 100 in (11, 12, 13):
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


COMMEMORATION = {"nl": "{n} herdenking", "en": "{n} commemoration", "ru": "{n} годовщина"}


def ordinal_commemoration(number: int, lang: str | None = None) -> str:
    """ "84e herdenking", "84th commemoration", "84-я годовщина"."""
    lang = lang or current_language()
    return COMMEMORATION.get(lang, COMMEMORATION["en"]).format(n=ordinal(number, lang))
