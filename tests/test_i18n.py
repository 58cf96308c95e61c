"""The translations: complete, current, compiled, and what visitors and staff see.

The interface is written in English (gettext msgids) and translated to Dutch
(translations/nl, every page) and Russian (translations/ru, the public pages only).
After wrapping a new string, run ``make extract-messages``, translate it in both .po
files and ``make translations``.
"""

from __future__ import annotations

import gettext
import html
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from email_validator import EmailNotValidError, validate_email
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_babel import format_date

from app.auth.models import Role, User
from app.calendar.services import CALENDAR_NAMES
from app.ceremonies.models import Ceremony, CeremonySeries, CeremonyStatus
from app.ceremonies.services import set_status
from app.extensions import db
from app.forms import email_problem
from app.i18n import (
    clock,
    current_language,
    date_phrase,
    date_time_phrase,
    end_sentence,
    force_locale,
    select_locale,
    stamp_phrase,
    time_phrase,
)
from app.invitations.models import Invitation, InvitationStatus
from app.invitations.tokens import issue_token
from app.mail.compose import build
from app.mail.models import MessageKind
from app.mail.sender import outgoing
from app.mail.services import write
from app.mail.texts import fill
from app.types import local_today
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"


@dataclass(frozen=True)
class Language:
    """A translation of the interface and what its Plural-Forms must say."""

    code: str
    num_plurals: int
    plural_forms: dict[int, int]  # n -> the index of the plural form used for it

    @property
    def po(self) -> Path:
        return TRANSLATIONS / self.code / "LC_MESSAGES" / "messages.po"

    @property
    def mo(self) -> Path:
        return self.po.with_suffix(".mo")


DUTCH = Language("nl", 2, {0: 1, 1: 0, 2: 1, 5: 1, 21: 1})
# Russian: 1, 21, 101 take the first form; 2-4, 22-24 the second; 0, 5-20, 25-30 and
# 111-114 the third.
RUSSIAN = Language(
    "ru",
    3,
    {0: 2, 1: 0, 2: 1, 4: 1, 5: 2, 11: 2, 12: 2, 14: 2, 21: 0, 22: 1, 25: 2, 101: 0, 111: 2},
)
LANGUAGES = [DUTCH, RUSSIAN]
each_language = pytest.mark.parametrize("language", LANGUAGES, ids=lambda lang: lang.code)

# A %-format conversion as Python (and Jinja's newstyle gettext, which %-formats every
# template string) reads it: %(name)s, %(n)d, %d, %%.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")

MessageKey = str | tuple[str, str]


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def key(message: Message) -> MessageKey:
    """A message's identity: its msgid, or (msgid, msgid_plural) for plurals."""
    if isinstance(message.id, str):
        return message.id
    return (message.id[0], message.id[1])  # a tuple from .po files, a list from .mo files


def strings(message: Message) -> tuple[str, ...]:
    """A message's translation, as one string or its plural forms."""
    if isinstance(message.string, str):
        return (message.string,)
    return tuple(message.string or ())


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def stray_percent(text: str) -> bool:
    """A % that is no conversion: Jinja would fail on it ("%" % {} raises)."""
    return "%" in PLACEHOLDER.sub("", text)


def messages(catalogue: Catalog) -> Iterator[Message]:
    """Every real message (not the header entry)."""
    return (message for message in catalogue if message.id)


@cache
def translated(language: str, msgid: str) -> str:
    """The translation of a (singular) msgid, as the catalogue of ``language`` has it."""
    message = read_catalogue(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").get(msgid)
    assert message is not None, f"{msgid!r} is not in the {language} catalogue"
    assert isinstance(message.string, str)
    assert message.string, f"{msgid!r} is untranslated in the {language} catalogue"
    return message.string


def translation_problems(message: Message, num_plurals: int) -> list[str]:
    """What is wrong with one entry of the .po, as readable lines."""
    problems = []
    if message.fuzzy:
        problems.append("is fuzzy")
    ids = key(message)
    translations = strings(message)
    if isinstance(ids, str):
        sources = [ids]
    else:  # form 0 is (at least) the singular; every other form answers the plural
        sources = [ids[0], *[ids[1]] * (num_plurals - 1)]
        if len(translations) != num_plurals:
            problems.append(f"has {len(translations)} plural forms, not {num_plurals}")
    for index, (source, string) in enumerate(zip(sources, translations, strict=False)):
        form = f"form {index} " if len(sources) > 1 else ""
        if not string.strip():
            problems.append(f"{form}is empty")
            continue
        if placeholders(string) != placeholders(source):
            problems.append(
                f"{form}has placeholders {placeholders(string)}, msgid has {placeholders(source)}"
            )
        if stray_percent(string):
            problems.append(f"{form}has a bare % (write %% for a percent sign)")
    return problems


def english_left(text: str, catalogue: Catalog) -> list[str]:
    """Translated msgids (phrases only) that a page shows in English all the same.

    Single words ("Start", "Status") also occur in markup and data, so only msgids with
    a space and without placeholders count.
    """
    return sorted(
        message.id
        for message in messages(catalogue)
        if isinstance(message.id, str)
        and " " in message.id
        and not PLACEHOLDER.search(message.id)
        and message.string != message.id
        and message.id in text
    )


# --- the catalogues -------------------------------------------------------------------


@each_language
def test_catalogue_header(language: Language) -> None:
    catalogue = read_catalogue(language.po)
    assert str(catalogue.locale) == language.code
    assert not catalogue.fuzzy, f"the header of the {language.code} catalogue is marked fuzzy"
    assert catalogue.num_plurals == language.num_plurals
    plural = gettext.c2py(catalogue.plural_expr)
    chosen = {n: plural(n) for n in language.plural_forms}
    assert chosen == language.plural_forms, f"Plural-Forms: {catalogue.plural_expr}"


@each_language
def test_every_message_is_translated(language: Language) -> None:
    """No empty, fuzzy or half-done entry; placeholders exactly as in the msgid."""
    catalogue = read_catalogue(language.po)
    found = list(messages(catalogue))
    assert len(found) > 100, f"the {language.code} catalogue is (nearly) empty"
    problems = [
        f"{key(message)!r}: {problem}"
        for message in found
        for problem in translation_problems(message, catalogue.num_plurals)
    ]
    # Babel's own checkers (plural count, python-format) as a second opinion.
    problems += [
        f"{key(message)!r}: {error}" for message, errors in catalogue.check() for error in errors
    ]
    where = language.po.relative_to(ROOT)
    assert not problems, f"{where}:\n" + "\n".join(problems)


def test_russian_is_russian() -> None:
    """Every Russian entry is written in Cyrillic, apart from names and formats."""
    latin_only = sorted(
        repr(key(message))
        for message in messages(read_catalogue(RUSSIAN.po))
        if not any(CYRILLIC.search(string) for string in strings(message))
    )
    assert not latin_only, "Russian translations without Cyrillic:\n" + "\n".join(latin_only)


def test_placeholder_check_catches_mistakes() -> None:
    """The checker above really refuses what it should (a guard on the guard)."""
    good = Message("%(n)d. commemoration", "%(n)de herdenking")
    assert translation_problems(good, 2) == []
    assert translation_problems(Message("Save", ""), 2) == ["is empty"]
    assert translation_problems(Message("Save", "Opslaan", flags=["fuzzy"]), 2) == ["is fuzzy"]
    renamed = Message("Copied to %(year)d.", "Gekopieerd naar %(jaar)d.")
    assert translation_problems(renamed, 2)
    retyped = Message("Copied to %(year)d.", "Gekopieerd naar %(year)s.")
    assert translation_problems(retyped, 2)
    assert translation_problems(Message("Done", "100% klaar"), 2)
    half = Message(("%(num)d item", "%(num)d items"), ("%(num)d onderdeel", ""))
    assert translation_problems(half, 2) == ["form 1 is empty"]

    plural = ("%(num)d item", "%(num)d items")
    russian = Message(plural, ("%(num)d пункт", "%(num)d пункта", "%(num)d пунктов"))
    assert translation_problems(russian, 3) == []
    two_forms = Message(plural, ("%(num)d пункт", "%(num)d пунктов"))
    assert translation_problems(two_forms, 3) == ["has 2 plural forms, not 3"]
    no_number = Message(plural, ("один пункт", "%(num)d пункта", "%(num)d пунктов"))
    assert translation_problems(no_number, 3)  # form 0 also serves 21, 31, ...
    third_empty = Message(plural, ("%(num)d пункт", "%(num)d пункта", " "))
    assert translation_problems(third_empty, 3) == ["form 2 is empty"]


def extract_from_code(target: Path) -> Catalog:
    """Extract the messages as `make extract-messages` does, into ``target``."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            # pybabel skips folders starting with "_" unless told otherwise (the Makefile
            # says the same): templates/_macros holds the form error box.
            "--ignore-dirs=.* node_modules",
            "-o",
            str(target),
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return read_catalogue(target)


@pytest.fixture(scope="module")
def in_code(tmp_path_factory: pytest.TempPathFactory) -> dict[MessageKey, Message]:
    """Every string wrapped in app/ or templates/ today, by key (extracted once)."""
    extracted = extract_from_code(tmp_path_factory.mktemp("extract") / "messages.pot")
    return {key(message): message for message in messages(extracted)}


def where(message: Message) -> str:
    places = ", ".join(f"{path}:{line}" for path, line in message.locations) or "no location"
    return f"{key(message)!r} ({places})"


def test_template_is_current(in_code: dict[MessageKey, Message]) -> None:
    """translations/messages.pot holds exactly the strings wrapped in the code today.

    A newly wrapped (or unwrapped) string fails here until ``make extract-messages``.
    """
    assert any("templates/" in path for m in in_code.values() for path, _ in m.locations), (
        "no message came from templates/: is the [jinja2: templates/**.html] section of "
        "babel.cfg still right?"
    )
    assert any("app/" in path for m in in_code.values() for path, _ in m.locations)
    assert any(
        path.startswith("templates/_macros/") for m in in_code.values() for path, _ in m.locations
    ), "templates/_macros/ was skipped by extraction"

    template = {key(message): message for message in messages(read_catalogue(TEMPLATE))}
    missing = sorted(where(in_code[k]) for k in in_code.keys() - template.keys())
    assert not missing, (
        "translations/messages.pot is stale (run `make extract-messages`); missing:\n"
        + "\n".join(missing)
    )
    gone = sorted(where(template[k]) for k in template.keys() - in_code.keys())
    assert not gone, (
        "translations/messages.pot has strings the code no longer uses (run "
        "`make extract-messages`):\n" + "\n".join(gone)
    )


@each_language
def test_catalogue_covers_the_code(language: Language, in_code: dict[MessageKey, Message]) -> None:
    """Every wrapped string is in the .po, and the .po has no string the code dropped.

    A newly wrapped string fails here until ``make extract-messages`` has run and the
    string is translated in translations/<language>/LC_MESSAGES/messages.po; strings the
    code dropped are moved to the obsolete (#~) entries by the same command.
    """
    catalogue = {key(message): message for message in messages(read_catalogue(language.po))}
    po = language.po.relative_to(ROOT)
    untranslated = sorted(where(in_code[k]) for k in in_code.keys() - catalogue.keys())
    assert not untranslated, (
        f"not in {po} (run `make extract-messages` and translate):\n" + "\n".join(untranslated)
    )
    stale = sorted(where(catalogue[k]) for k in catalogue.keys() - in_code.keys())
    assert not stale, (
        f"{po} has strings the code no longer uses (run `make extract-messages`):\n"
        + "\n".join(stale)
    )


@each_language
def test_compiled_catalogue_matches_po(language: Language) -> None:
    """The .mo the app reads says what the .po says (run `make translations` if not)."""
    mo = language.mo.relative_to(ROOT)
    assert language.mo.exists(), f"{mo} is missing: run `make translations`"
    with language.mo.open("rb") as file:
        compiled = {key(message): strings(message) for message in messages(read_mo(file))}
    source = {key(message): strings(message) for message in messages(read_catalogue(language.po))}
    assert compiled == source, f"{mo} differs from messages.po: run `make translations`"


@each_language
def test_compiled_plural_forms(language: Language) -> None:
    """gettext, reading the .mo as the app does, picks the right plural form for n."""
    forms = strings(read_catalogue(language.po)[("%(num)d item", "%(num)d items")])
    with language.mo.open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    for n, form in language.plural_forms.items():
        chosen = compiled.ngettext("%(num)d item", "%(num)d items", n)
        assert chosen == forms[form], f"n={n}"


# --- pages ----------------------------------------------------------------------------

Page = Callable[[str], str]


@pytest.fixture
def fresh_context(app: Flask) -> Callable[[], AbstractContextManager[object]]:
    """An application context per request, as in production.

    The ``app`` fixture keeps one application context pushed for the whole test, so
    without this every test-client request would share one ``g``, and with it
    Flask-Babel's cached locale: a ?lang= on a later request would go unheard.
    """
    return app.app_context


@pytest.fixture
def page(client: FlaskClient, fresh_context: Callable[[], AbstractContextManager[object]]) -> Page:
    """GET a page that must answer 200; its text with entities decoded."""

    def text(url: str) -> str:
        with fresh_context():
            response = client.get(url)
        assert response.status_code == 200, url
        return html.unescape(response.get_data(as_text=True))

    return text


def session_language(client: FlaskClient) -> object:
    with client.session_transaction() as session:
        return session.get("lang")


def test_login_page_is_dutch_by_default(page: Page) -> None:
    text = page("/login")
    assert '<html lang="nl">' in text
    assert "<h1>Inloggen</h1>" in text
    assert "E-mailadres" in text
    assert "Wachtwoord" in text
    assert "Log in" not in text
    assert re.search(r'hreflang="en"[^>]*>English</a>', text)


def test_login_messages_are_dutch(
    client: FlaskClient, fresh_context: Callable[[], AbstractContextManager[object]], page: Page
) -> None:
    """Our refusal, WTForms' own messages (its catalogue) and Flask-Login's prompt."""

    def post_login(data: dict[str, str]) -> str:
        with fresh_context():
            response = client.post("/login", data=data)
        assert response.status_code == 400
        return html.unescape(response.get_data(as_text=True))

    assert "Onbekend e-mailadres of onjuist wachtwoord." in post_login(
        {"email": "nobody@example.org", "password": "x"}
    )
    empty = post_login({"email": "", "password": ""})
    assert "Dit veld is vereist." in empty
    assert "Verbeter de gemarkeerde velden." in empty

    with fresh_context():
        response = client.get("/staff/ceremonies")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert "Log in om deze pagina te bekijken." in page(response.headers["Location"])


def test_login_page_in_english_on_request(client: FlaskClient, page: Page) -> None:
    text = page("/login?lang=en")
    assert '<html lang="en">' in text
    assert "<h1>Log in</h1>" in text
    assert "Inloggen" not in text
    assert session_language(client) == "en"
    assert "<h1>Log in</h1>" in page("/login")


def test_staff_pages_dutch_then_english_remembered(
    client: FlaskClient,
    login: Callable[[Role], User],
    edition: Callable[..., Ceremony],
    page: Page,
) -> None:
    edition("4-mei", 2026)
    login(Role.PLANNER)

    dutch = page("/staff/ceremonies?year=2026")
    assert '<html lang="nl">' in dutch
    assert "<h1>Ceremonies 2026</h1>" in dutch
    for word in (
        "Nieuwe editie",
        "Datum",
        "Locatie",
        "Programma",
        "concept",
        "Uitloggen",
        "Locaties",
        "81e herdenking",
    ):
        assert word in dutch, word
    assert re.search(r"\d+ onderdelen", dutch)
    assert "New edition" not in dutch
    assert session_language(client) == "nl"

    english = page("/staff/ceremonies?year=2026&lang=en")
    assert '<html lang="en">' in english
    assert "<h1>Ceremonies 2026</h1>" in english
    for word in ("New edition", "Date", "Venue", "draft", "Log out"):
        assert word in english, word
    assert re.search(r"\d+ items", english)
    assert re.search(r"\b81\S* commemoration", english)
    assert "Nieuwe editie" not in english
    assert session_language(client) == "en"

    # Remembered without ?lang=, on other pages too; a language that staff pages do not
    # offer changes nothing.
    assert "<h1>Venues</h1>" in page("/staff/venues")
    assert "<h1>Venues</h1>" in page("/staff/venues?lang=ru")
    assert session_language(client) == "en"

    assert "<h1>Locaties</h1>" in page("/staff/venues?lang=nl")
    assert "<h1>Locaties</h1>" in page("/staff/venues")
    assert session_language(client) == "nl"


def test_edition_page_is_dutch(
    login: Callable[[Role], User], edition: Callable[..., Ceremony], page: Page
) -> None:
    ceremony = edition("4-mei", 2026)
    login(Role.PLANNER)
    text = page(f"/staff/ceremonies/{ceremony.slug}")
    assert "81e herdenking" in text  # 2026 - 1945
    assert "Vlag halfstok van 18:00 tot zonsondergang" in text
    for word in (
        "Publiceren",
        "Editie annuleren",
        "Kopiëren naar jaar",
        "Stilte",
        "Taptoe",
        "Onderdeel toevoegen",
        "Gebruiken als standaard van de reeks",
    ):
        assert word in text, word


# Form pages show no ceremony texts of their own, so English there means a label that
# escaped translation (say, a lazy string made str at import time).
FORM_PAGES = [
    "/staff/ceremonies/new",
    "/staff/ceremonies/{slug}/edit",
    "/staff/ceremonies/{slug}/items/new",
    "/staff/series/new",
    "/staff/venues/new",
    "/staff/account",
    "/staff/users/new",
    "/staff/settings",
]


@pytest.mark.parametrize("url", FORM_PAGES)
def test_form_pages_have_no_english_left(
    login: Callable[[Role], User], edition: Callable[..., Ceremony], page: Page, url: str
) -> None:
    ceremony = edition("4-mei", 2026)
    login(Role.ADMIN)
    text = page(url.format(slug=ceremony.slug))
    english = english_left(text, read_catalogue(DUTCH.po))
    assert not english, f"{url} shows untranslated English: {english}"


# --- public pages in Russian ------------------------------------------------------------


def russian(msgid: str) -> str:
    text = translated("ru", msgid)
    assert CYRILLIC.search(text), f"{msgid!r} is not translated into Russian"
    return text


def published(ceremony: Ceremony) -> Ceremony:
    set_status(ceremony, CeremonyStatus.PUBLISHED)
    db.session.commit()
    return ceremony


def assert_russian_page(text: str) -> None:
    """A public page in Russian: its lang, its menu, the other languages offered."""
    assert '<html lang="ru">' in text
    assert russian("Calendar") in text
    assert russian("Staff login") in text
    assert 'hreflang="nl"' in text
    assert 'hreflang="en"' in text
    assert 'hreflang="ru"' not in text  # no link to the language the page is in
    english = english_left(text, read_catalogue(RUSSIAN.po))
    assert not english, f"untranslated English: {english}"


def test_start_page_in_russian(
    client: FlaskClient, edition: Callable[..., Ceremony], page: Page
) -> None:
    year = local_today().year + 1  # a coming ceremony, whatever today is
    ceremony = published(edition("4-mei", year))

    text = page("/?lang=ru")
    assert_russian_page(text)
    assert f"<h1>{russian('Commemorations at the Soviet Field of Honour')}</h1>" in text
    assert russian("Coming ceremonies") in text
    assert ceremony.title_ru in text
    assert re.search(rf"\b4 мая {year}\b", text), "the date is not written in Russian"
    assert "Herdenkingen" not in text
    assert "Nationale Dodenherdenking" not in text
    assert session_language(client) == "ru"


def test_start_page_in_russian_without_ceremonies(seeded: None, page: Page) -> None:
    text = page("/?lang=ru")
    assert_russian_page(text)
    assert russian("No ceremonies have been announced yet.") in text


def test_calendar_page_in_russian(seeded: None, page: Page) -> None:
    text = page("/calendar?lang=ru")
    assert_russian_page(text)
    assert f"<h1>{russian('Ceremonies in your calendar')}</h1>" in text
    assert russian("Scan with your phone") in text
    assert russian("Only this ceremony, every year.") in text
    assert CALENDAR_NAMES["ru"] in text
    shown = db.session.scalars(
        sa.select(CeremonySeries.title_ru).where(
            CeremonySeries.active.is_(True), CeremonySeries.public.is_(True)
        )
    ).all()
    assert shown
    for title in shown:
        assert title in text, title
    # The feeds follow the page: their names and descriptions in Russian too.
    assert "lang=ru" in text


def test_edition_page_in_russian(edition: Callable[..., Ceremony], page: Page) -> None:
    year = local_today().year + 1
    ceremony = published(edition("4-mei", year))

    text = page(f"/ceremonies/{ceremony.slug}?lang=ru")
    assert_russian_page(text)
    assert f"<h1>{ceremony.title_ru}</h1>" in text
    assert re.search(rf"\b4 мая {year}\b", text), "the date is not written in Russian"
    assert f"{year - 1945}-я годовщина" in text
    for msgid in ("Date", "Time", "Venue", "Programme", "Add to my calendar"):
        assert russian(msgid) in text, msgid
    assert "Stille tocht" not in text  # the programme in Russian, not Dutch
    assert "Молчаливое шествие" in text


def test_cancelled_edition_in_russian(edition: Callable[..., Ceremony], page: Page) -> None:
    ceremony = published(edition("4-mei", local_today().year + 1))
    set_status(ceremony, CeremonyStatus.CANCELLED)
    db.session.commit()
    badge = f'<span class="badge cancelled">{russian("cancelled")}</span>'
    assert badge in page(f"/ceremonies/{ceremony.slug}?lang=ru")
    assert badge in page("/?lang=ru")


def test_russian_is_remembered_on_public_pages(
    client: FlaskClient, seeded: None, page: Page
) -> None:
    page("/calendar?lang=ru")
    assert session_language(client) == "ru"
    assert '<html lang="ru">' in page("/")
    assert '<html lang="ru">' in page("/calendar")
    assert '<html lang="nl">' in page("/?lang=nl")
    assert '<html lang="nl">' in page("/calendar")


def test_public_error_page_in_russian(
    client: FlaskClient, fresh_context: Callable[[], AbstractContextManager[object]], seeded: None
) -> None:
    with fresh_context():
        response = client.get("/ceremonies/no-such-ceremony?lang=ru")
    assert response.status_code == 404
    text = html.unescape(response.get_data(as_text=True))
    assert '<html lang="ru">' in text
    assert russian("Page not found") in text
    assert russian("To the start page") in text


def test_staff_pages_do_not_speak_russian(
    client: FlaskClient,
    login: Callable[[Role], User],
    edition: Callable[..., Ceremony],
    page: Page,
) -> None:
    edition("4-mei", 2026)
    assert '<html lang="nl">' in page("/login?lang=ru")
    assert session_language(client) is None
    login(Role.PLANNER)

    def staff_page(url: str, lang: str) -> None:
        text = page(url)
        assert f'<html lang="{lang}">' in text, url
        assert 'hreflang="ru"' not in text, url
        for msgid in ("New edition", "Log out", "Venues", "Ceremonies"):
            assert russian(msgid) not in text, (url, msgid)

    staff_page("/staff/ceremonies?year=2026&lang=ru", "nl")
    assert "Nieuwe editie" in page("/staff/ceremonies?year=2026&lang=ru")
    assert session_language(client) == "nl"  # set at login from the account

    staff_page("/staff/venues?lang=en", "en")
    staff_page("/staff/venues?lang=ru", "en")  # the staff member's English stays
    assert session_language(client) == "en"

    # Russian chosen on a public page stays there; staff pages fall back to the account's
    # language, and the public pages are still Russian afterwards.
    assert '<html lang="ru">' in page("/?lang=ru")
    staff_page("/staff/ceremonies?year=2026", "nl")
    assert "Nieuwe editie" in page("/staff/ceremonies?year=2026")
    assert '<html lang="ru">' in page("/calendar")


# --- dates and times (app/i18n.py) ------------------------------------------------------

VICTORY_DAY = datetime(2027, 5, 9, 11, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))  # a Sunday


@pytest.mark.parametrize(
    ("lang", "day", "when"),
    [
        ("en", "Sunday 9 May 2027", "Sunday 9 May 2027 at 11:00"),
        ("nl", "zondag 9 mei 2027", "zondag 9 mei 2027 om 11:00 uur"),
        ("ru", "воскресенье, 9 мая 2027 г.", "в воскресенье, 9 мая 2027 г., в 11:00"),
    ],
)
def test_date_phrases(app: Flask, lang: str, day: str, when: str) -> None:
    assert date_phrase(VICTORY_DAY, lang) == day
    assert date_phrase(VICTORY_DAY.date(), lang) == day
    assert date_time_phrase(VICTORY_DAY, lang) == when


def test_date_without_weekday_and_other_weekdays() -> None:
    assert date_phrase(date(2027, 4, 25), "en", weekday=False) == "25 April 2027"
    assert date_phrase(date(2027, 4, 25), "nl", weekday=False) == "25 april 2027"
    assert date_phrase(date(2027, 4, 25), "ru", weekday=False) == "25 апреля 2027 г."
    # "во вторник", "в среду": the preposition and the accusative follow the weekday.
    tuesday = datetime(2027, 5, 4, 20, 0)
    assert date_time_phrase(tuesday, "ru") == "во вторник, 4 мая 2027 г., в 20:00"
    assert date_time_phrase(tuesday + timedelta(days=1), "ru").startswith("в среду, 5 мая")
    assert date_time_phrase(tuesday, "en") == "Tuesday 4 May 2027 at 20:00"


def test_times_are_24_hour_without_seconds() -> None:
    midnight = datetime(2027, 12, 24, 0, 0)
    assert [time_phrase(midnight, lang) for lang in ("en", "nl", "ru")] == [
        "00:00",
        "00:00 uur",
        "00:00",
    ]
    afternoon = datetime(2027, 5, 9, 15, 45, 10)
    assert clock(afternoon) == "15:45"
    assert date_time_phrase(afternoon, "en") == "Sunday 9 May 2027 at 15:45"
    assert stamp_phrase(afternoon, "en") == "9 May 2027, 15:45"
    assert "PM" not in date_time_phrase(afternoon, "en")
    assert time_phrase(time(9, 5), "nl") == "09:05 uur"


def test_english_is_formatted_as_british(app: Flask) -> None:
    """Flask-Babel's own formatting, as templates and mail use it, is en_GB for English."""
    with app.test_request_context("/?lang=en"), force_locale("en"):
        assert str(format_date(date(2027, 5, 9), "long")) == "9 May 2027"
    with app.test_request_context("/?lang=en"):
        assert select_locale() == "en_GB"
        assert current_language() == "en"


def test_russian_date_at_a_sentence_end_has_one_full_stop() -> None:
    filled = fill("Просим ответить до {deadline}.", {"deadline": "25 апреля 2027 г."})
    assert filled == "Просим ответить до 25 апреля 2027 г."
    # Elsewhere a full stop in a value stays.
    assert fill("до {deadline} и", {"deadline": "25 апреля 2027 г."}) == "до 25 апреля 2027 г. и"
    assert end_sentence("25 апреля 2027 г.") == "25 апреля 2027 г."
    assert end_sentence("25 april 2027") == "25 april 2027."


# --- what reviewers found untranslated --------------------------------------------------


@pytest.fixture
def demo_edition(runner: FlaskCliRunner) -> Ceremony:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    ceremony = db.session.scalar(
        sa.select(Ceremony).where(Ceremony.slug == f"{local_today().year + 1}-9-mei")
    )
    assert ceremony is not None
    return ceremony


def accepted_invitation(ceremony: Ceremony) -> Invitation:
    invitation = db.session.scalars(
        sa.select(Invitation).where(
            Invitation.ceremony_id == ceremony.id,
            Invitation.status == InvitationStatus.ACCEPTED,
        )
    ).first()
    assert invitation is not None
    return invitation


@pytest.mark.parametrize(
    ("lang", "correct", "required"),
    [
        ("nl", "Verbeter de gemarkeerde velden.", "Dit veld is vereist."),
        ("ru", "Исправьте, пожалуйста, отмеченные поля.", "Обязательное поле."),
    ],
)
def test_form_errors_in_the_pages_language(
    client: FlaskClient,
    fresh_context: Callable[[], AbstractContextManager[object]],
    demo_edition: Ceremony,
    lang: str,
    correct: str,
    required: str,
) -> None:
    """Our error box and WTForms' own messages, on the delegation's page; the typed
    function is kept."""
    invitation = accepted_invitation(demo_edition)
    token = issue_token(invitation)
    db.session.commit()
    version = str(invitation.version)
    with fresh_context():
        response = client.post(
            f"/rsvp/{token}/members?lang={lang}",
            data={"name": "", "function": "Attaché X", "version": version},
        )
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert correct in text
    assert required in text
    assert "Please correct" not in text
    assert "This field is required" not in text
    assert "Attaché X" in text
    # The same page, good input: no error box.
    with fresh_context():
        good = client.post(
            f"/rsvp/{token}/members?lang={lang}",
            data={"name": "Anna Petrova", "role": "attendee", "version": version},
        )
    assert good.status_code == 302


def test_email_error_is_wholly_dutch(
    client: FlaskClient,
    fresh_context: Callable[[], AbstractContextManager[object]],
    make_user: Callable[..., User],
) -> None:
    admin = make_user(Role.ADMIN, email="chef@example.org")
    with fresh_context():
        client.post("/login", data={"email": admin.email, "password": PASSWORD})

    def new_user(email: str) -> tuple[int, str]:
        with fresh_context():
            response = client.post(
                "/staff/users/new?lang=nl",
                data={
                    "email": email,
                    "password": "a long enough password",
                    "name": "Anna",
                    "role": "viewer",
                    "language": "nl",
                    "active": "y",
                },
            )
        return response.status_code, html.unescape(response.get_data(as_text=True))

    status, text = new_user("anna at example")
    assert status == 400
    assert "Geen geldig e-mailadres: Een e-mailadres moet een @-teken bevatten." in text
    assert "@-sign" not in text
    assert 'value="anna at example"' in text
    status, text = new_user("anna@")
    assert "Geen geldig e-mailadres: Na het @-teken moet iets staan." in text
    status, _ = new_user("anna@example.org")
    assert status == 302


def test_email_problems_have_our_words(app: Flask) -> None:
    def why(address: str) -> str:
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as error:
            with app.test_request_context(), force_locale("nl"):
                return str(email_problem(error))
        raise AssertionError(address)

    assert why("@example.org") == "Geen geldig e-mailadres: Vóór het @-teken moet iets staan."
    assert why("a..b@example.org").startswith("Geen geldig e-mailadres: Een punt")
    too_long = "Geen geldig e-mailadres: Dit e-mailadres is te lang."
    assert why("a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".org") == too_long
    assert why("a@" + "b" * 64 + ".org") == too_long
    assert why("a b@example.org").startswith("Geen geldig e-mailadres: Dit e-mailadres bevat")


@pytest.mark.parametrize(
    ("lang", "reply", "when", "not_there"),
    [
        ("nl", "Antwoord: ", "op zondag 9 mei", "Reply:"),
        ("ru", "Ответ: ", "г.", "Reply:"),
        ("en", "Reply: ", "on Sunday 9 May", "May 9"),
    ],
)
def test_confirmation_email_in_its_language(
    app: Flask, demo_edition: Ceremony, lang: str, reply: str, when: str, not_there: str
) -> None:
    invitation = accepted_invitation(demo_edition)
    invitation.language = lang
    with app.test_request_context():
        for kind in (MessageKind.CONFIRMATION, MessageKind.INVITATION):
            message = write(db.session, kind, invitation)
            assert message is not None
            email = build(outgoing(message, "https://ereveld.example/r/x", with_letter=False))
            body = email.get_body(("plain",))
            assert body is not None
            text = body.get_content()
            assert not_there not in text
            assert "г.." not in text
            if kind == MessageKind.CONFIRMATION:
                assert reply in text
            else:
                assert when in text
