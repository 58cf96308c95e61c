"""Guest texts per language: hosts and their verb, dress, notes, performers; the warning
for a missing translation, and no other language's words in a guest's document."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role, User
from app.ceremonies.guest_texts import hosts_phrase, missing_translations
from app.ceremonies.models import Ceremony, CeremonyStatus, Host, ItemKind, ProgrammeItem
from app.extensions import db
from app.invitations.models import InvitationStatus
from app.invitations.tokens import issue_token
from app.types import local_today
from tests import pdf_tools
from tests.mail_fixtures import Mailbox
from tests.production import own_database
from tests.test_mail import body_of, invite, queued_invitations, send
from tests.test_migrations import in_app_context

MAYOR = Host(
    name="A. Smits",
    function_nl="burgemeester van Leusden",
    function_en="Mayor of Leusden",
    function_ru="мэр Лёйсдена",
)
DIRECTOR = Host(
    name="B. Jansen",
    function_nl="directeur van de Stichting Sovjet Ereveld",
    function_en="Director of the Soviet Field of Honour Foundation",
    function_ru="директор Фонда «Советское военное кладбище»",
)

# --- the hosts' sentence -----------------------------------------------------------------

TWO = {
    "en": "The Mayor of Leusden and the Director of the Soviet Field of Honour Foundation"
    " request the honour of your presence at",
    "nl": "De burgemeester van Leusden en de directeur van de Stichting Sovjet Ereveld"
    " hebben de eer u uit te nodigen voor",
    "ru": "Мэр Лёйсдена и директор Фонда «Советское военное кладбище»"
    " имеют честь пригласить Вас на",
}
ONE = {
    "en": "The Mayor of Leusden requests the honour of your presence at",
    "nl": "De burgemeester van Leusden heeft de eer u uit te nodigen voor",
    "ru": "Мэр Лёйсдена имеет честь пригласить Вас на",
}
NONE = {
    "en": "The Soviet Field of Honour Foundation requests the honour of your presence at",
    "nl": "Stichting Sovjet Ereveld heeft de eer u uit te nodigen voor",
    "ru": "Фонд «Советское военное кладбище» имеет честь пригласить Вас на",
}


@pytest.mark.parametrize("lang", ["en", "nl", "ru"])
def test_the_verb_agrees_with_the_number_of_hosts(app: Flask, lang: str) -> None:
    with app.app_context():
        assert hosts_phrase([MAYOR, DIRECTOR], lang) == TWO[lang]
        assert hosts_phrase([MAYOR], lang) == ONE[lang]
        # No host: the foundation alone invites, in its own name in that language.
        assert hosts_phrase([], lang) == NONE[lang]


def test_a_host_without_a_function_in_the_language_is_named_or_left_out(app: Flask) -> None:
    named = Host(name="A. Smits", function_nl="burgemeester van Leusden")
    nameless = Host(function_nl="directeur van de Stichting Sovjet Ereveld")
    with app.app_context():
        assert hosts_phrase([named, nameless], "nl").startswith(
            "De burgemeester van Leusden en de directeur van de Stichting Sovjet Ereveld hebben"
        )
        # In Russian the Dutch functions never appear: the name stands, the other goes.
        assert hosts_phrase([named, nameless], "ru") == "A. Smits имеет честь пригласить Вас на"


# --- the migration -----------------------------------------------------------------------


@pytest.fixture
def empty_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    with own_database(tmp_path, "guest_texts.sqlite") as url:
        yield from in_app_context(url, tmp_path, monkeypatch)


def _insert(table: str, **values: Any) -> int:
    """A row in a table as the old revision has it; other required columns get a value."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=db.engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    fillers: list[tuple[type, Any]] = [
        (sa.Boolean, True),
        (sa.Integer, 1),
        (sa.DateTime, now),
        (sa.Date, date(2026, 1, 1)),
        (sa.Time, time(10, 0)),
        (sa.JSON, []),
        (sa.String, "x"),
    ]
    for column in reflected.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        if column.server_default is not None:
            continue
        values[column.name] = next(v for kind, v in fillers if isinstance(column.type, kind))
    with db.engine.begin() as connection:
        key = connection.execute(sa.insert(reflected).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _rows(query: str) -> list[tuple[Any, ...]]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(query))]


def test_the_migration_keeps_the_old_hosts_dress_notes_and_performers(empty_app: Flask) -> None:
    flask_migrate.upgrade(revision="0010")
    venue = _insert("venue", name="Sovjet Ereveld", notes="Parking at Rusthof.")
    start = datetime(2027, 5, 9, 9, 0, tzinfo=UTC)
    common = {"venue_id": venue, "starts_at": start, "ends_at": start.replace(hour=10)}
    dutch = _insert(
        "ceremony",
        uid="a",
        slug="2027-9-mei",
        status="draft",
        cohosts="De burgemeester van Leusden en de Stichting Sovjet Ereveld",
        dress_code="Donker kostuum",
        **common,
    )
    russian = _insert(
        "ceremony",
        uid="b",
        slug="2027-other",
        status="draft",
        cohosts="",
        dress_code="Тёмный костюм",
        **common,
    )
    _insert("programme_item", ceremony_id=dutch, kind="music", performer="Harmonie Amersfoort")
    organisation = _insert("organisation", name="Gemeente Leusden", kind="municipality")
    _insert(
        "invitation",
        ceremony_id=dutch,
        organisation_id=organisation,
        kind="rsvp",
        status="draft",
        wreath="none",
        language="nl",
        cohosts="De burgemeester van Leusden en de Stichting Sovjet Ereveld",
    )

    flask_migrate.upgrade(revision="0012_guest_texts")
    assert _rows(
        "SELECT ceremony_id, name, function_nl, function_en, function_ru FROM ceremony_host"
    ) == [(dutch, "", "De burgemeester van Leusden en de Stichting Sovjet Ereveld", "", "")]
    assert _rows(
        "SELECT id, dress_code_nl, dress_code_en, dress_code_ru FROM ceremony ORDER BY id"
    ) == [(dutch, "Donker kostuum", "", ""), (russian, "", "", "Тёмный костюм")]
    assert _rows("SELECT notes, access_notes_nl, access_notes_en FROM venue") == [
        ("Parking at Rusthof.", "", "Parking at Rusthof.")
    ]
    assert _rows("SELECT performer_nl, performer_en, performer_ru FROM programme_item") == [
        ("Harmonie Amersfoort",) * 3
    ]
    # The copy of the edition's text on the invitation is gone: the edition's hosts apply.
    assert _rows("SELECT cohosts FROM invitation") == [("",)]

    flask_migrate.downgrade(revision="0010")
    assert _rows("SELECT cohosts, dress_code FROM ceremony ORDER BY id") == [
        ("De burgemeester van Leusden en de Stichting Sovjet Ereveld", "Donker kostuum"),
        ("", "Тёмный костюм"),
    ]
    assert _rows("SELECT performer FROM programme_item") == [("Harmonie Amersfoort",)]
    assert "ceremony_host" not in sa.inspect(db.engine).get_table_names()


# --- editing through the web -------------------------------------------------------------


@pytest.fixture
def ceremony(edition: Callable[..., Ceremony]) -> Ceremony:
    year = local_today().year + 1
    return edition("9-mei", year, status=CeremonyStatus.PUBLISHED)


def test_hosts_dress_and_notes_are_edited_side_by_side_and_bad_input_keeps_what_was_typed(
    client: FlaskClient, login: Callable[[Role], User], ceremony: Ceremony
) -> None:
    login(Role.PLANNER)
    url = f"/staff/ceremonies/{ceremony.slug}/mail/settings"
    page = client.get(url).text
    # The series' hosts came with the edition, each language in its own field.
    assert 'value="мэр Лёйсдена"' in page
    assert 'name="dress_code_nl"' in page
    assert 'name="dress_code_ru"' in page
    data = {
        "rsvp_deadline": "",
        "hosts-0-name": "A. Smits",
        "hosts-0-function_nl": "burgemeester van Leusden",
        "hosts-0-function_en": "Mayor of Leusden",
        "hosts-0-function_ru": "мэр Лёйсдена",
        "dress_code_nl": "Donker kostuum",
        "dress_code_en": "Dark suit",
        "dress_code_ru": "Тёмный костюм" * 20,  # 260 characters: too long
        "practical_notes_ru": "Просим прибыть к 10:45.",
        "reminder_days": "7",
        "practical_days": "3",
        "version": str(ceremony.version),
    }
    refused = client.post(url, data=data)
    assert refused.status_code == 400
    assert "Тёмный костюм" * 20 in refused.text  # kept as typed
    assert "A. Smits" in refused.text
    assert "Просим прибыть к 10:45." in refused.text
    too_long_function = client.post(
        url, data={**data, "dress_code_ru": "Тёмный костюм", "hosts-1-function_en": "D" * 301}
    )
    assert too_long_function.status_code == 400
    assert "D" * 301 in too_long_function.text
    saved = client.post(url, data={**data, "dress_code_ru": "Тёмный костюм"})
    assert saved.status_code == 302
    db.session.rollback()
    stored = db.session.get(Ceremony, ceremony.id)
    assert stored is not None
    assert [(h.name, h.function_ru) for h in stored.hosts] == [("A. Smits", "мэр Лёйсдена")]
    assert (stored.dress_code_nl, stored.dress_code_en, stored.dress_code_ru) == (
        "Donker kostuum",
        "Dark suit",
        "Тёмный костюм",
    )
    assert stored.practical_notes_ru == "Просим прибыть к 10:45."


def test_venue_access_notes_per_language_and_too_long_keeps_what_was_typed(
    client: FlaskClient, login: Callable[[Role], User], ceremony: Ceremony
) -> None:
    login(Role.PLANNER)
    venue = ceremony.venue
    url = f"/staff/venues/{venue.id}/edit"
    data = {
        "name": venue.name,
        "address": venue.address,
        "latitude": str(venue.latitude),
        "longitude": str(venue.longitude),
        "timezone": venue.timezone,
        "notes": "Key with the caretaker",
        "access_notes_nl": "Parkeren bij Rusthof.",
        "access_notes_en": "Parking at Rusthof.",
        "access_notes_ru": "П" * 1001,
    }
    refused = client.post(url, data=data)
    assert refused.status_code == 400
    assert "П" * 1001 in refused.text
    assert "Parkeren bij Rusthof." in refused.text
    assert (
        client.post(url, data={**data, "access_notes_ru": "Парковка у Рустхофа."}).status_code
        == 302
    )
    db.session.rollback()
    db.session.refresh(venue)
    assert (venue.access_notes_nl, venue.access_notes_ru, venue.notes) == (
        "Parkeren bij Rusthof.",
        "Парковка у Рустхофа.",
        "Key with the caretaker",
    )


# --- the missing-translation warning ------------------------------------------------------


def test_the_warning_lists_exactly_the_missing_translations(
    client: FlaskClient, login: Callable[[Role], User], ceremony: Ceremony
) -> None:
    ceremony.hosts = [MAYOR, Host(name="B. Jansen", function_nl="directeur")]
    ceremony.dress_code_nl = "Donker kostuum"
    ceremony.practical_notes_nl = "Verzamelen bij de poort."
    ceremony.practical_notes_en = "Assemble at the gate."
    ceremony.practical_notes_ru = "Сбор у ворот."
    ceremony.venue.access_notes_nl = ceremony.venue.access_notes_en = ""
    ceremony.venue.access_notes_ru = ""
    ceremony.items = [
        ProgrammeItem(
            kind=ItemKind.MUSIC,
            text_nl="Muziek",
            text_en="Music",
            text_ru="Музыка",
            performer_nl="Harmonie",
            performer_en="Harmonie",
        ),
    ]
    db.session.commit()
    with client.application.test_request_context("/?lang=en"):
        gaps = [(gap.what, gap.missing) for gap in missing_translations(ceremony)]
    assert gaps == [
        ("Host 2 (B. Jansen): function", ("en", "ru")),
        ("Dress", ("en", "ru")),
        ("Programme item 1: performer", ("ru",)),
    ]
    login(Role.VIEWER)
    page = client.get(f"/staff/ceremonies/{ceremony.slug}?lang=en").text
    assert 'id="missing-translations"' in page
    assert "Host 2 (B. Jansen): function: English, Russian" in page
    assert "Dress: English, Russian" in page
    assert "Programme item 1: performer: Russian" in page
    assert "Practical notes of the day" not in page  # given in all three
    ceremony.hosts = [MAYOR]
    ceremony.dress_code_en = ceremony.dress_code_ru = "x"
    ceremony.items[0].performer_ru = "Хармони"
    db.session.commit()
    page = client.get(f"/staff/ceremonies/{ceremony.slug}?lang=en").text
    assert 'id="missing-translations"' not in page


# --- no other language in a guest's document ----------------------------------------------

DUTCH_ONLY = ("Donker", "kostuum", "Verzamelen", "poort", "burgemeester", "Parkeren", "Rusthof")


def dutch_only(ceremony: Ceremony) -> None:
    """Dress, practical notes, access notes and a host given in Dutch alone."""
    ceremony.hosts = [Host(function_nl="burgemeester van Leusden")]
    ceremony.dress_code_nl = "Donker kostuum"
    ceremony.practical_notes_nl = "Verzamelen bij de poort."
    ceremony.venue.access_notes_nl = "Parkeren bij Rusthof."
    ceremony.venue.access_notes_en = ceremony.venue.access_notes_ru = ""
    ceremony.venue.notes = "INTERNAL VENUE NOTE"
    for item in ceremony.items:
        item.performer_nl, item.performer_en, item.performer_ru = "Harmonie", "", ""
    db.session.commit()


def test_letters_print_no_other_language_when_a_translation_is_missing(
    client: FlaskClient, login: Callable[[Role], User], ceremony: Ceremony, tmp_path: Path
) -> None:
    dutch_only(ceremony)
    russian = invite(ceremony, "Embassy A", language="ru", email="a@example.org")
    english = invite(ceremony, "Embassy B", language="en", email="b@example.org")
    dutch = invite(ceremony, "Embassy C", language="nl", email="c@example.org")
    db.session.commit()
    login(Role.VIEWER)

    def letter(invitation_id: int) -> str:
        response = client.get(f"/staff/invitations/{invitation_id}/letter.pdf")
        assert response.status_code == 200
        return " ".join(pdf_tools.text(response.data, tmp_path).split())

    in_dutch = letter(dutch.id)
    # The Dutch letter has them all (so the checks below can fail).
    for words in ("De burgemeester van Leusden heeft de eer", "Donker kostuum", "Verzamelen"):
        assert words in in_dutch, words
    in_russian = letter(russian.id)
    assert "Фонд «Советское военное кладбище» имеет честь пригласить Вас на" in in_russian
    in_english = letter(english.id)
    assert "The Soviet Field of Honour Foundation requests the honour" in in_english
    for text in (in_russian, in_english):
        for word in DUTCH_ONLY:
            assert word not in text, word
        assert "INTERNAL" not in text


def test_emails_print_no_other_language_when_a_translation_is_missing(
    app: Flask, ceremony: Ceremony, smtp: Mailbox
) -> None:
    dutch_only(ceremony)
    invite(ceremony, "Embassy A", language="ru", email="ru@example.org")
    invite(ceremony, "Embassy C", language="nl", email="nl@example.org")
    db.session.commit()
    queued_invitations(ceremony)
    send(app)
    bodies = {r.recipients[0]: body_of(r.message) for r in smtp.received}
    assert "De burgemeester van Leusden heeft de eer u uit te nodigen" in bodies["nl@example.org"]
    assert "Donker kostuum" in bodies["nl@example.org"]
    russian = bodies["ru@example.org"]
    assert "Фонд «Советское военное кладбище» имеет честь пригласить Вас на" in russian
    for word in DUTCH_ONLY:
        assert word not in russian, word


def test_the_rsvp_and_public_pages_show_no_other_language(
    client: FlaskClient, ceremony: Ceremony
) -> None:
    dutch_only(ceremony)
    invitation = invite(ceremony, "Embassy A", language="ru", status=InvitationStatus.SENT)
    token = issue_token(invitation)
    db.session.commit()
    page = client.get(f"/rsvp/{token}").text
    assert '<html lang="ru">' in page
    for word in (*DUTCH_ONLY, "Harmonie", "INTERNAL"):
        assert word not in page, word
    dutch_page = client.get(f"/rsvp/{token}?lang=nl").text
    for words in (
        "Donker kostuum",
        "Parkeren bij Rusthof.",
        "Verzamelen bij de poort.",
        "Harmonie",
    ):
        assert words in dutch_page, words
    public = client.get(f"/ceremonies/{ceremony.slug}?lang=ru").text
    for word in (*DUTCH_ONLY, "Harmonie"):
        assert word not in public, word
    assert "Donker kostuum" in client.get(f"/ceremonies/{ceremony.slug}?lang=nl").text
