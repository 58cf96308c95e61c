"""The Dutch translation: complete, current, compiled, and what staff actually see.

The interface is written in English (gettext msgids) and translated in
translations/nl/LC_MESSAGES/messages.po. After wrapping a new string, run
``make extract-messages``, translate it in the .po and ``make translations``.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
DUTCH_PO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po"
DUTCH_MO = DUTCH_PO.with_suffix(".mo")

# A %-format conversion as Python (and Jinja's newstyle gettext, which %-formats every
# template string) reads it: %(name)s, %(n)d, %d, %%.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")

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


def translation_problems(message: Message, num_plurals: int) -> list[str]:
    """What is wrong with one entry of the .po, as readable lines."""
    problems = []
    if message.fuzzy:
        problems.append("is fuzzy")
    ids = key(message)
    translations = strings(message)
    if isinstance(ids, str):
        sources = [ids]
    else:  # Dutch: form 0 is the singular, form 1 the plural
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


# --- the catalogue --------------------------------------------------------------------


def test_dutch_catalogue_header() -> None:
    catalogue = read_catalogue(DUTCH_PO)
    assert str(catalogue.locale) == "nl"
    assert not catalogue.fuzzy, "the header of the nl catalogue is marked fuzzy"
    assert catalogue.num_plurals == 2
    assert catalogue.plural_expr == "(n != 1)"


def test_every_message_is_translated() -> None:
    """No empty, fuzzy or half-done entry; placeholders exactly as in the msgid."""
    catalogue = read_catalogue(DUTCH_PO)
    found = list(messages(catalogue))
    assert len(found) > 100, "the nl catalogue is (nearly) empty"
    problems = [
        f"{key(message)!r}: {problem}"
        for message in found
        for problem in translation_problems(message, catalogue.num_plurals)
    ]
    # Babel's own checkers (plural count, python-format) as a second opinion.
    problems += [
        f"{key(message)!r}: {error}" for message, errors in catalogue.check() for error in errors
    ]
    assert not problems, "translations/nl/LC_MESSAGES/messages.po:\n" + "\n".join(problems)


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


def test_catalogues_cover_the_code(tmp_path: Path) -> None:
    """Every string wrapped in app/ or templates/ today is in the .pot and translated.

    A newly wrapped string fails here until ``make extract-messages`` has run and the
    string is translated in translations/nl/LC_MESSAGES/messages.po.
    """
    extracted = extract_from_code(tmp_path / "messages.pot")
    wanted = {key(message): message for message in messages(extracted)}
    assert any("templates/" in path for m in wanted.values() for path, _ in m.locations), (
        "no message came from templates/: is the [jinja2: templates/**.html] section of "
        "babel.cfg still right?"
    )
    assert any("app/" in path for m in wanted.values() for path, _ in m.locations)

    template = {key(message) for message in messages(read_catalogue(TEMPLATE))}
    dutch = {key(message) for message in messages(read_catalogue(DUTCH_PO))}

    def where(message: MessageKey) -> str:
        places = ", ".join(f"{path}:{line}" for path, line in wanted[message].locations)
        return f"{message!r} ({places})"

    stale_template = sorted(map(where, wanted.keys() - template))
    assert not stale_template, (
        "translations/messages.pot is stale (run `make extract-messages`); missing:\n"
        + "\n".join(stale_template)
    )
    untranslated = sorted(map(where, wanted.keys() - dutch))
    assert not untranslated, (
        "not in translations/nl/LC_MESSAGES/messages.po (run `make extract-messages` and "
        "translate):\n" + "\n".join(untranslated)
    )


def test_compiled_catalogue_matches_po() -> None:
    """The .mo the app reads says what the .po says (run `make translations` if not)."""
    assert DUTCH_MO.exists(), f"{DUTCH_MO.relative_to(ROOT)} is missing: run `make translations`"
    with DUTCH_MO.open("rb") as file:
        compiled = {key(message): strings(message) for message in messages(read_mo(file))}
    source = {key(message): strings(message) for message in messages(read_catalogue(DUTCH_PO))}
    assert compiled == source, "messages.mo differs from messages.po: run `make translations`"


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
    assert "Dit veld is vereist." in post_login({"email": "", "password": ""})

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
    # Phrases only: single words ("Start", "Status") also occur in markup and data.
    english = sorted(
        message.id
        for message in messages(read_catalogue(DUTCH_PO))
        if isinstance(message.id, str)
        and " " in message.id
        and not PLACEHOLDER.search(message.id)
        and message.string != message.id
        and message.id in text
    )
    assert not english, f"{url} shows untranslated English: {english}"
