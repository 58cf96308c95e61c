"""Languages: the locale of a request and the per-language fields of models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from enum import StrEnum

import flask_babel
from babel import dates as babel_dates
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
    """The Babel locale of a request: its language, with English as en_GB."""
    return babel_locale(select_language())


def select_language() -> str:
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


# --- Dates and times: the one place where a date or time becomes words ------------------
# English is British (DOMAIN.md): Babel's bare "en" is American ("Sunday, May 9, 2027",
# "3:45:10 PM"), so every English formatting runs under en_GB.
BABEL_LOCALES = {"nl": "nl_NL", "en": "en_GB", "ru": "ru_RU"}


def babel_locale(lang: str) -> str:
    """The Babel locale that formats ``lang``'s dates and numbers ("en" -> "en_GB")."""
    return BABEL_LOCALES.get(lang, lang)


@contextmanager
def force_locale(lang: str) -> Iterator[None]:
    """Flask-Babel's force_locale, with "en" formatted as British English."""
    with flask_babel.force_locale(babel_locale(lang)):
        yield


# Patterns written out rather than Babel's "full": en_GB's is "Sunday, 9 May 2027" and
# DOMAIN.md asks for "Sunday 9 May 2027"; the Russian "г." stays Babel's.
DATE_PATTERNS = {
    "nl": ("EEEE d MMMM y", "d MMMM y"),
    "en": ("EEEE d MMMM y", "d MMMM y"),
    "ru": ("EEEE, d MMMM y 'г'.", "d MMMM y 'г'."),
}
# "в" before a weekday takes the accusative, and "во" before вторник.
RU_ON_WEEKDAY = (
    "в понедельник",
    "во вторник",
    "в среду",
    "в четверг",
    "в пятницу",
    "в субботу",
    "в воскресенье",
)


def _lang(lang: str | None) -> str:
    lang = lang or current_language()
    return lang if lang in DATE_PATTERNS else "en"


def date_phrase(day: date | datetime, lang: str | None = None, *, weekday: bool = True) -> str:
    """A date written out: nl "zondag 9 mei 2027", en "Sunday 9 May 2027",
    ru "воскресенье, 9 мая 2027 г."; ``weekday=False`` drops the day's name.

    A datetime is taken at its own wall clock (ceremony times are in the venue's zone).
    """
    lang = _lang(lang)
    if isinstance(day, datetime):
        day = day.date()
    pattern = DATE_PATTERNS[lang][0 if weekday else 1]
    return str(babel_dates.format_date(day, pattern, locale=babel_locale(lang)))


def clock(moment: datetime | time) -> str:
    """The 24-hour wall clock, without seconds: "09:05", "00:00"."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


def time_phrase(moment: datetime | time, lang: str | None = None) -> str:
    """A time in running text: nl "11:00 uur", en "11:00", ru "11:00".

    Dutch writes "11:00 uur" everywhere (README, "Dates and times"); tables and
    programmes print the bare clock().
    """
    lang = _lang(lang)
    return f"{clock(moment)} uur" if lang == "nl" else clock(moment)


def date_time_phrase(moment: datetime, lang: str | None = None) -> str:
    """When something happens, for running text: nl "zondag 9 mei 2027 om 11:00 uur",
    en "Sunday 9 May 2027 at 11:00", ru "в воскресенье, 9 мая 2027 г., в 11:00"."""
    lang = _lang(lang)
    if lang == "ru":
        day = date_phrase(moment, "ru", weekday=False)
        return f"{RU_ON_WEEKDAY[moment.weekday()]}, {day}, в {clock(moment)}"
    joint = "om" if lang == "nl" else "at"
    return f"{date_phrase(moment, lang)} {joint} {time_phrase(moment, lang)}"


def stamp_phrase(moment: datetime, lang: str | None = None) -> str:
    """When something was recorded, without seconds: "9 May 2027, 15:45"."""
    return f"{date_phrase(moment, lang, weekday=False)}, {clock(moment)}"


def end_sentence(text: str) -> str:
    """``text`` with a full stop, never two: "… 2027 г." stays as it is."""
    return text if text.endswith((".", "!", "?")) else f"{text}."
