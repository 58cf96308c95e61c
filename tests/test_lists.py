"""Staff's printed lists: guest list, security list, wreath run sheet, badges and cards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony
from app.contacts.models import Appointment, AppointmentRole, Organisation, OrganisationKind, Person
from app.documents.services import renderer
from app.extensions import db
from app.invitations.models import (
    DelegationMember,
    Invitation,
    InvitationKind,
    InvitationStatus,
    MemberRole,
    WreathChoice,
)
from app.wreaths.services import MoveDirection, move_entry, wreath_order
from tests import pdf_tools

AMS = ZoneInfo("Europe/Amsterdam")
KAZAKH_LETTERS = "Қ Ң Ө Ү Ұ Һ Ә І"
HOSTILE = "<link rel=attachment href=file:///etc/hostname><img src=http://127.0.0.1:9/x.png>"
A4 = "595.276 x 841.89"

LISTS = {
    "guests": "guest-list.pdf",
    "security": "security-list.pdf",
    "run sheet": "wreath-run-sheet.pdf",
    "badges": "name-cards.pdf?layout=badges",
    "place cards": "name-cards.pdf?layout=tents",
}


def member(name: str, function: str, role: MemberRole, plate: str = "") -> DelegationMember:
    return DelegationMember(name=name, function=function, role=role, car_plate=plate)


@pytest.fixture
def world(edition: Callable[..., Ceremony]) -> Ceremony:
    """9 May 2031: an accepted embassy (Kazakh names, the dean), an accepted municipality,
    a hostile-named school, and a declined, a sent and a draft invitation with members."""
    ceremony = edition("9-mei", 2031)
    kazakhstan = Organisation(
        name="Embassy of the Republic of Kazakhstan",
        name_nl="Ambassade van de Republiek Kazachstan",
        name_en="Embassy of the Republic of Kazakhstan",
        name_ru="Посольство Республики Казахстан",
        kind=OrganisationKind.EMBASSY,
        country="KZ",
    )
    ambassador = Person(
        given_name="Nurlan", family_name="Sarsenbayev", native_name="Нұрлан Сәрсенбаев"
    )
    leusden = Organisation(name="Gemeente Leusden", kind=OrganisationKind.MUNICIPALITY)
    mayor = Person(given_name="Marieke", family_name="van Doorn")
    ukraine = Organisation(name="Embassy of Ukraine", kind=OrganisationKind.EMBASSY)
    georgia = Organisation(name="Embassy of Georgia", kind=OrganisationKind.EMBASSY)
    school = Organisation(name=f"School {HOSTILE}", kind=OrganisationKind.SCHOOL)
    draft_school = Organisation(name="Eemland Lyceum", kind=OrganisationKind.SCHOOL)
    db.session.add_all(
        [
            Appointment(
                person=ambassador,
                organisation=kazakhstan,
                role=AppointmentRole.AMBASSADOR,
                taken_up_at=datetime(2029, 3, 6, 10, 0, tzinfo=AMS),
            ),
            Appointment(person=mayor, organisation=leusden, role=AppointmentRole.MAYOR),
            Invitation(
                ceremony=ceremony,
                organisation=kazakhstan,
                addressee=ambassador,
                status=InvitationStatus.ACCEPTED,
                wreath=WreathChoice.ORDER,
                ribbon_text="Мәңгі есімізде — Қазақстан Республикасының Елшілігі",
                ribbon_colours="sky blue, gold",
                accessibility="One member uses a wheelchair.",
                members=[
                    member(
                        "Nurlan Sarsenbayev",
                        "Елші / Ambassador",
                        MemberRole.WREATH_LAYER,
                        "CD-102-KZ",
                    ),
                    member("Айгерім Өтегенқызы", "Кеңесші / Counsellor", MemberRole.WREATH_LAYER),
                    member("Ерқанат Құдайбергенов", "Әскери атташе", MemberRole.WREATH_BEARER),
                    member(f"Һәкім Үңгірұлы {KAZAKH_LETTERS}", "Үшінші хатшы", MemberRole.ATTENDEE),
                ],
            ),
            Invitation(
                ceremony=ceremony,
                organisation=leusden,
                addressee=mayor,
                status=InvitationStatus.ACCEPTED,
                wreath=WreathChoice.OWN,
                ribbon_text="In dankbare herinnering — Gemeente Leusden",
                members=[
                    member(
                        "Marieke van Doorn", "Burgemeester", MemberRole.WREATH_LAYER, "XK-12-BZ"
                    ),
                    member("Kees Mulder", "Bode", MemberRole.WREATH_BEARER),
                ],
            ),
            Invitation(
                ceremony=ceremony,
                organisation=school,
                status=InvitationStatus.ACCEPTED,
                wreath=WreathChoice.OWN,
                ribbon_text=HOSTILE,
                accessibility=HOSTILE,
                members=[member(HOSTILE, HOSTILE, MemberRole.WREATH_LAYER, "HOSTILE-1")],
            ),
            Invitation(
                ceremony=ceremony,
                organisation=ukraine,
                status=InvitationStatus.DECLINED,
                members=[member("Olena Declinedova", "Ambassador", MemberRole.ATTENDEE, "DECL-1")],
            ),
            Invitation(
                ceremony=ceremony,
                organisation=georgia,
                status=InvitationStatus.SENT,
                rsvp_deadline=date(2031, 4, 25),
                members=[member("Tamar Pendingashvili", "Chargé", MemberRole.ATTENDEE, "PEND-1")],
            ),
            Invitation(
                ceremony=ceremony,
                organisation=draft_school,
                kind=InvitationKind.RSVP,
                members=[member("Rob Draftsma", "Director", MemberRole.ATTENDEE)],
            ),
        ]
    )
    db.session.commit()
    return ceremony


def flat(text: str) -> str:
    """Without any white space: a long name may wrap anywhere on a narrow card."""
    return "".join(text.split())


def get(client: FlaskClient, ceremony: Ceremony, name: str, query: str = "") -> bytes:
    url = f"/staff/ceremonies/{ceremony.slug}/{LISTS[name]}"
    if query:
        url += ("&" if "?" in url else "?") + query
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]  # personal data: no copies kept
    return response.get_data()


ACCEPTED_NAMES = [
    "Nurlan Sarsenbayev",
    "Нұрлан Сәрсенбаев",  # the addressee's other script, beside the member's name
    "Айгерім Өтегенқызы",
    "Ерқанат Құдайбергенов",
    f"Һәкім Үңгірұлы {KAZAKH_LETTERS}",
    "Marieke van Doorn",
    "Kees Mulder",
]
OTHERS = ["Olena Declinedova", "Tamar Pendingashvili", "Rob Draftsma"]


def test_guest_list(
    client: FlaskClient, login: Callable[[Role], User], world: Ceremony, tmp_path: Path
) -> None:
    login(Role.VIEWER)
    pdf = get(client, world, "guests", "lang=en")
    text = flat(pdf_tools.text(pdf, tmp_path))
    for words in [*ACCEPTED_NAMES, *OTHERS, "Елші / Ambassador", "Әскери атташе", "Burgemeester"]:
        assert flat(words) in text, words
    for words in ("Guest list", "Victory Day and Day of Memory", "Friday 9 May 2031"):
        assert flat(words) in text, words
    # Every invitation's answer, and the totals (6 invitations; 3 accepted, 7 people).
    for words in ("accepted · 4 people", "accepted · 2 people", "declined", "sent", "draft"):
        assert flat(words) in text, words
    assert flat("People expected: 7") in text
    assert "deanofthediplomaticcorps" in text.casefold()  # printed in capitals
    info = pdf_tools.info(pdf, tmp_path)
    assert info["Page size"].startswith(A4)
    assert info["Title"] == "Guest list: Victory Day and Day of Memory"
    assert info["Author"] == "Stichting Sovjet Ereveld"
    assert info["Tagged"] == "yes"
    # Protocol order: host authorities, then heads of mission, then organisations.
    assert text.index("GemeenteLeusden") < text.index("EmbassyoftheRepublicofKazakhstan")
    assert text.index("EmbassyoftheRepublicofKazakhstan") < text.index("EemlandLyceum")


def test_lists_follow_the_staff_language_or_lang(
    client: FlaskClient, login: Callable[[Role], User], world: Ceremony, tmp_path: Path
) -> None:
    login(Role.PLANNER)
    dutch = flat(pdf_tools.text(get(client, world, "guests"), tmp_path))  # staff default: nl
    assert "Gastenlijst" in dutch
    assert "AmbassadevandeRepubliekKazachstan" in dutch
    assert "aangenomen" in dutch
    russian = pdf_tools.text(get(client, world, "run sheet", "lang=ru"), tmp_path)
    assert "Возложение венков" in russian
    assert "Посольство Республики Казахстан" in russian
    security = pdf_tools.text(get(client, world, "security", "lang=ru"), tmp_path)
    assert "КОНФИДЕНЦИАЛЬНО" in security
    assert pdf_tools.info(get(client, world, "badges", "lang=ru"), tmp_path)["Title"].startswith(
        "Бейджи"
    )


def test_security_list_has_only_accepted_delegations(
    client: FlaskClient, login: Callable[[Role], User], world: Ceremony, tmp_path: Path
) -> None:
    login(Role.PLANNER)
    pdf = get(client, world, "security", "lang=en")
    text = flat(pdf_tools.text(pdf, tmp_path))
    for words in [*ACCEPTED_NAMES, "CD-102-KZ", "XK-12-BZ", "One member uses a wheelchair."]:
        assert flat(words) in text, words
    for words in [*OTHERS, "DECL-1", "PEND-1", "EmbassyofUkraine", "EmbassyofGeorgia"]:
        assert flat(words) not in text, words
    # The car park's index: every plate once more, sorted.
    vehicles = text[text.index("Vehiclesbycarplate") :]
    assert vehicles.index("CD-102-KZ") < vehicles.index("HOSTILE-1") < vehicles.index("XK-12-BZ")
    assert pdf_tools.info(pdf, tmp_path)["Page size"].startswith(A4)


def test_viewers_may_not_print_the_security_list(
    client: FlaskClient, login: Callable[[Role], User], world: Ceremony
) -> None:
    login(Role.VIEWER)
    assert client.get(f"/staff/ceremonies/{world.slug}/security-list.pdf").status_code == 403
    page = client.get(f"/staff/ceremonies/{world.slug}").get_data(as_text=True)
    assert "guest-list.pdf" in page
    assert "security-list.pdf" not in page


def test_every_page_of_the_security_list_is_confidential(
    client: FlaskClient, login: Callable[[Role], User], world: Ceremony, tmp_path: Path
) -> None:
    for number in range(40):
        db.session.add(
            Invitation(
                ceremony=world,
                organisation=Organisation(
                    name=f"Veterans' club {number:02d}", kind=OrganisationKind.VETERANS
                ),
                status=InvitationStatus.ACCEPTED,
                members=[
                    member(
                        f"Guest {number:02d}-{k}",
                        "Member",
                        MemberRole.ATTENDEE,
                        f"V-{number:02d}-{k}",
                    )
                    for k in range(3)
                ],
            )
        )
    db.session.commit()
    login(Role.ADMIN)
    pdf = get(client, world, "security", "lang=en")
    pages = pdf_tools.pages(pdf, tmp_path)
    assert len(pages) >= 4
    for number, page in enumerate(pages, start=1):
        assert page.count("CONFIDENTIAL") >= 1 + (number > 1), number  # foot; head after p. 1
        assert f"{number} / {len(pages)}" in page
    text = flat("".join(pages))
    assert all(f"Guest{n:02d}-2" in text for n in range(40))
    bookmarks = pdf_tools.outline(pdf, tmp_path)
    labels = [label for _, label, _ in bookmarks]
    assert "Veterans' club 39" in labels
    assert "Embassy of the Republic of Kazakhstan" in labels
    assert labels[-1] == "Vehicles by car plate"
    assert bookmarks[-1][2] > bookmarks[-2][2]  # the index starts a page of its own


def test_run_sheet_follows_the_final_wreath_order(
    client: FlaskClient, login: Callable[[Role], User], world: Ceremony, tmp_path: Path
) -> None:
    login(Role.VIEWER)
    pdf = get(client, world, "run sheet", "lang=en")
    text = flat(pdf_tools.text(pdf, tmp_path, layout=False))  # cells side by side
    for words in (
        "Мәңгі есімізде — Қазақстан Республикасының Елшілігі",
        "sky blue, gold",
        "In dankbare herinnering — Gemeente Leusden",
        "Laid by: Nurlan Sarsenbayev, Айгерім Өтегенқызы",
        "Bearers: Ерқанат Құдайбергенов",
        "ordered by the foundation",
        "3 wreaths",
    ):
        assert flat(words) in text, words
    assert "deanofthediplomaticcorps" in text.casefold()
    order = [e.organisation.name for e in wreath_order(db.session, world)]
    assert order[0] == "Gemeente Leusden"
    positions = [text.index(flat(name)) for name in order]
    assert positions == sorted(positions)
    assert "EmbassyofUkraine" not in text  # declined without a wreath

    # A manual move (here within a group of two schools) is what the sheet prints.
    other = Invitation(
        ceremony=world,
        organisation=Organisation(name="Aaa school", kind=OrganisationKind.SCHOOL),
        status=InvitationStatus.ACCEPTED,
        wreath=WreathChoice.OWN,
    )
    db.session.add(other)
    db.session.commit()
    hostile_school = f"School {HOSTILE}"
    before = [e.organisation.name for e in wreath_order(db.session, world)]
    assert before.index("Aaa school") < before.index(hostile_school)
    move_entry(
        db.session,
        world,
        other.id,
        MoveDirection.DOWN,
        reason="The school arrives late",
        actor_user_id=None,
    )
    db.session.commit()
    moved = flat(pdf_tools.text(get(client, world, "run sheet", "lang=en"), tmp_path, layout=False))
    assert moved.index(flat(hostile_school)) < moved.index("Aaaschool")
    assert "placedbyhand" in moved
    labels = [
        label
        for _, label, _ in pdf_tools.outline(get(client, world, "run sheet", "lang=nl"), tmp_path)
    ]
    assert "Gastheren: gemeenten en provincie" in labels
    assert "Hoofden van diplomatieke missies" in labels


@pytest.mark.parametrize(("layout", "per_page"), [("badges", 8), ("place cards", 2)])
def test_badges_and_place_cards(
    client: FlaskClient,
    login: Callable[[Role], User],
    world: Ceremony,
    tmp_path: Path,
    layout: str,
    per_page: int,
) -> None:
    login(Role.VIEWER)
    pdf = get(client, world, layout, "lang=en")
    text = flat(pdf_tools.text(pdf, tmp_path, layout=False))
    for words in [*ACCEPTED_NAMES, "Кеңесші / Counsellor", "Embassy of the Republic of Kazakhstan"]:
        assert flat(words) in text, words
    assert flat(KAZAKH_LETTERS) in text
    for words in OTHERS:
        assert flat(words) not in text
    guests = 4 + 2 + 1  # accepted delegations' members
    info = pdf_tools.info(pdf, tmp_path)
    assert info["Page size"].startswith(A4)
    assert int(info["Pages"]) == -(-guests // per_page)


@pytest.mark.parametrize("name", list(LISTS))
def test_fonts_embedded_and_hostile_text_is_text(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    world: Ceremony,
    tmp_path: Path,
    name: str,
) -> None:
    login(Role.PLANNER)
    pdf = get(client, world, name, "lang=en")
    text = flat(pdf_tools.text(pdf, tmp_path))
    assert flat("<link rel=attachment href=file:///etc/hostname>") in text
    assert flat("<img src=http://127.0.0.1:9/x.png>") in text
    assert "0 embedded files" in pdf_tools.attachments(pdf, tmp_path)
    with app.test_request_context():
        assert renderer().last_refused == []
    fonts = pdf_tools.fonts(pdf, tmp_path)
    assert fonts
    for row in fonts:
        assert row[0].split("+", 1)[1].startswith("Noto"), row  # no fallback font
        assert row[-5:-2] == ["yes", "yes", "yes"], row  # embedded, subset, unicode map


@pytest.mark.parametrize("name", ["guests", "security"])
def test_bookmarks_per_organisation(
    client: FlaskClient,
    login: Callable[[Role], User],
    world: Ceremony,
    tmp_path: Path,
    name: str,
) -> None:
    login(Role.PLANNER)
    bookmarks = pdf_tools.outline(get(client, world, name, "lang=en"), tmp_path)
    labels = [label for _, label, _ in bookmarks]
    assert "Embassy of the Republic of Kazakhstan" in labels  # its name only, no status
    assert "Gemeente Leusden" in labels
    if name == "guests":
        assert (1, "Heads of mission", 1) in bookmarks
        kazakhstan = labels.index("Embassy of the Republic of Kazakhstan")
        assert bookmarks[kazakhstan][0] == 2


def test_bad_requests_are_not_found(
    client: FlaskClient, login: Callable[[Role], User], world: Ceremony
) -> None:
    login(Role.ADMIN)
    for path in LISTS.values():
        assert client.get(f"/staff/ceremonies/nope/{path}").status_code == 404
        sep = "&" if "?" in path else "?"
        for lang in ("xx", "de", "nl-en", "../en"):
            url = f"/staff/ceremonies/{world.slug}/{path}{sep}lang={lang}"
            assert client.get(url).status_code == 404, url
    for layout in ("poster", "", "BADGES"):
        url = f"/staff/ceremonies/{world.slug}/name-cards.pdf?layout={layout}"
        assert client.get(url).status_code == (200 if layout == "" else 404), url


def test_nobody_yet(
    client: FlaskClient,
    login: Callable[[Role], User],
    edition: Callable[..., Ceremony],
    tmp_path: Path,
) -> None:
    """An edition without invitations prints empty lists, not errors."""
    ceremony = edition("4-mei", 2031)
    login(Role.PLANNER)
    for name in LISTS:
        pdf = get(client, ceremony, name, "lang=en")
        assert pdf_tools.info(pdf, tmp_path)["Pages"] == "1"
    cards = pdf_tools.text(get(client, ceremony, "badges", "lang=en"), tmp_path)
    assert "Nobody has accepted yet." in cards


def test_lists_command(runner: FlaskCliRunner, world: Ceremony, tmp_path: Path) -> None:
    out = tmp_path / "lists"
    result = runner.invoke(
        args=["documents", "lists", world.slug, "--out", str(out), "--lang", "ru"]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{world.slug}-{kind}-ru.pdf"
        for kind in ("guest-list", "security-list", "run-sheet", "badges", "tents")
    )
    security = pdf_tools.text((out / f"{world.slug}-security-list-ru.pdf").read_bytes(), tmp_path)
    assert "CD-102-KZ" in security
    missing = runner.invoke(args=["documents", "lists", "nope", "--out", str(out)])
    assert missing.exit_code != 0
    assert "No edition with the slug nope." in missing.output
