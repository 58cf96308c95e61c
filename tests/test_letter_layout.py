"""The invitation letter (A4) and card (A6) as a protocol officer signs and sends them:
every element DOMAIN.md names, in order, in each language; the letterhead settings."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony, Host
from app.contacts.models import (
    Appointment,
    AppointmentRole,
    Gender,
    Organisation,
    OrganisationKind,
    Person,
)
from app.documents.letters import Letter, render_letter
from app.extensions import db
from app.invitations.models import Invitation, InvitationKind
from app.settings.models import Setting
from app.settings.services import LOGO_FILE, set_text_setting
from tests import pdf_tools

AMS = ZoneInfo("Europe/Amsterdam")
URL = "https://ereveld.example/rsvp/" + "A" * 43

MAYOR = Host(
    name="A. Smits",
    function_nl="burgemeester van Leusden",
    function_en="Mayor of Leusden",
    function_ru="мэр Лёйсдена",
)
DIRECTOR = Host(
    name="P. Jansen",
    function_nl="directeur van de Stichting Sovjet Ereveld",
    function_en="Director of the Soviet Field of Honour Foundation",
    function_ru="директор Фонда «Советское военное кладбище»",
)


@pytest.fixture
def invited(edition: Callable[..., Ceremony]) -> _Languages:
    """One invitation per language to the same ambassador, from two hosts."""
    ceremony = edition("9-mei", 2031)
    ceremony.hosts = [
        Host(
            **{k: getattr(MAYOR, k) for k in ("name", "function_nl", "function_en", "function_ru")}
        ),
        Host(
            **{
                k: getattr(DIRECTOR, k)
                for k in ("name", "function_nl", "function_en", "function_ru")
            }
        ),
    ]
    ceremony.dress_code_nl = "Donker kostuum"
    ceremony.dress_code_en = "Lounge suit"
    ceremony.dress_code_ru = "Тёмный костюм"
    embassy = Organisation(
        name="Embassy of the Republic of Kazakhstan",
        name_ru="Посольство Республики Казахстан",
        kind=OrganisationKind.EMBASSY,
        country="KZ",
        address="Prinsessegracht 1\n2514 AP Den Haag",
    )
    ambassador = Person(
        given_name="Nurlan",
        family_name="Sarsenbayev",
        native_name="Нұрлан Сәрсенбаев",
        gender=Gender.MALE,
        language="ru",
    )
    db.session.add_all(
        [
            embassy,
            ambassador,
            Appointment(
                person=ambassador,
                organisation=embassy,
                role=AppointmentRole.AMBASSADOR,
                taken_up_at=datetime(2024, 3, 6, 10, 0, tzinfo=AMS),
            ),
        ]
    )
    invitation = Invitation(
        ceremony=ceremony,
        organisation=embassy,
        addressee=ambassador,
        language="en",
        rsvp_deadline=date(2031, 4, 25),
    )
    db.session.add(invitation)
    set_text_setting(db.session, "letterhead_phone", "+31 33 000 00 00")
    set_text_setting(db.session, "letterhead_email", "info@ereveld.example")
    set_text_setting(db.session, "protocol_phone", "+31 33 111 11 11")
    set_text_setting(db.session, "protocol_email", "protocol@ereveld.example")
    db.session.commit()
    return _Languages(invitation)


class _Languages:
    """The one invitation, written in the language asked for."""

    def __init__(self, invitation: Invitation) -> None:
        self.invitation = invitation

    def __getitem__(self, lang: str) -> Invitation:
        self.invitation.language = lang
        db.session.commit()
        return self.invitation


def flat(pdf: bytes, tmp_path: Path) -> str:
    return " ".join(pdf_tools.text(pdf, tmp_path, layout=False).split())


def assert_in_order(text: str, parts: list[str]) -> None:
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} missing after position {at}: {text[at : at + 300]!r}"
        at = found + len(part)


LETTER_PARTS = {
    "en": [
        "SOVIET FIELD OF HONOUR FOUNDATION",
        "Dodeweg 31",
        "+31 33 000 00 00",
        "His Excellency",
        "Ambassador",
        "Prinsessegracht 1",
        "Leusden, ",
        "Our reference: 2031-9-MEI/",
        "Victory Day and Day of Memory · 86th commemoration",
        "Your Excellency,",
        "The Mayor of Leusden and the Director of the Soviet Field of Honour Foundation"
        " request the honour of your presence at",
        "Friday 9 May 2031",
        "Lounge suit",
        "25 April 2031",
        "+31 33 111 11 11 / protocol@ereveld.example",
        "Yours sincerely,",
        "Replies: +31 33 111 11 11 / protocol@ereveld.example",
        URL,
    ],
    "nl": [
        "STICHTING SOVJET EREVELD",
        "Dodeweg 31",
        "Zijne Excellentie",
        "Prinsessegracht 1",
        "Leusden, ",
        "Ons kenmerk: 2031-9-MEI/",
        "Excellentie,",
        "De burgemeester van Leusden en de directeur van de Stichting Sovjet Ereveld"
        " hebben de eer u uit te nodigen voor",
        "vrijdag 9 mei 2031",
        "Donker kostuum",
        "25 april 2031",
        "Hoogachtend,",
        "Antwoorden: +31 33 111 11 11 / protocol@ereveld.example",
        URL,
    ],
    "ru": [
        "ФОНД «СОВЕТСКОЕ ВОЕННОЕ КЛАДБИЩЕ»",
        "Dodeweg 31",
        "Его Превосходительству господину Нұрлану Сәрсенбаеву",
        "Prinsessegracht 1",
        "Лёйсден, ",
        "Наш исх. №: 2031-9-MEI/",
        "Уважаемый господин Посол!",
        "Мэр Лёйсдена и директор Фонда «Советское военное кладбище» имеют честь пригласить Вас на",
        "9 мая 2031 г.",
        "Тёмный костюм",
        "25 апреля 2031 г.",
        "С уважением,",
        "Ответы: +31 33 111 11 11 / protocol@ereveld.example",
        URL,
    ],
}


CLOSING_AND_REPLY = {
    "en": ("Yours sincerely,", "Replies:"),
    "nl": ("Hoogachtend,", "Antwoorden:"),
    "ru": ("С уважением,", "Ответы:"),
}
SIGNATURES = {
    "en": ["A. Smits", "Mayor of Leusden", "P. Jansen", "Director of the Soviet Field of Honour"],
    "nl": ["A. Smits", "burgemeester van Leusden", "P. Jansen", "directeur van de Stichting"],
    "ru": ["A. Smits", "мэр Лёйсдена", "P. Jansen", "директор Фонда"],
}


@pytest.mark.parametrize("lang", ["en", "nl", "ru"])
def test_the_letter_has_every_part_in_order_on_one_page(
    app: Flask, invited: _Languages, tmp_path: Path, lang: str
) -> None:
    pdf = render_letter(Letter(invited[lang], URL), "letter")
    (tmp_path / f"letter-{lang}.pdf").write_bytes(pdf)
    assert pdf_tools.info(pdf, tmp_path)["Pages"] == "1"
    text = flat(pdf, tmp_path)
    assert_in_order(text, LETTER_PARTS[lang])
    # Signature blocks stand side by side (their reading order is poppler's choice):
    # each host's name and function between the closing and the reply contact.
    closing, reply = CLOSING_AND_REPLY[lang]
    signatures = text[text.index(closing) : text.index(reply)]
    for part in SIGNATURES[lang]:
        assert part in signatures, part


CARD_PARTS = {
    "en": [
        "A. Smits",
        "Mayor of Leusden",
        "P. Jansen",
        "request the honour of the company of",
        "His Excellency Mr",
        "at the",
        "Friday 9 May 2031 at 11:00",
        "Dress: Lounge suit",
        "R.S.V.P. by 25 April 2031 to +31 33 111 11 11 / protocol@ereveld.example",
        "Guests are requested to be seated by 10:45",
        "Please present this card at the entrance",
    ],
    "nl": [
        "A. Smits",
        "burgemeester van Leusden",
        "P. Jansen",
        "hebben de eer",
        "Zijne Excellentie de heer",
        "uit te nodigen voor de",
        "vrijdag 9 mei 2031 om 11:00 uur",
        "Tenue: Donker kostuum",
        "Antwoord vóór 25 april 2031 aan +31 33 111 11 11 / protocol@ereveld.example",
        "U wordt verzocht om 10:45 uur plaats te nemen",
        "Gelieve deze kaart bij de ingang te tonen",
    ],
    "ru": [
        "Его Превосходительство господин",
        "A. Smits",
        "мэр Лёйсдена",
        "P. Jansen",
        "имеют честь пригласить Вас на",
        "«",
        "в пятницу, 9 мая 2031 г., в 11:00",
        "Тёмный костюм",
        "Просьба ответить до 25 апреля 2031 г.: +31 33 111 11 11 / protocol@ereveld.example",
        "Просьба занять места к 10:45",
        "Просьба предъявить это приглашение при входе",
    ],
}


@pytest.mark.parametrize("lang", ["en", "nl", "ru"])
def test_the_card_has_every_element(
    app: Flask, invited: _Languages, tmp_path: Path, lang: str
) -> None:
    pdf = render_letter(Letter(invited[lang], URL), "card")
    (tmp_path / f"card-{lang}.pdf").write_bytes(pdf)
    assert pdf_tools.info(pdf, tmp_path)["Pages"] == "1"
    assert pdf_tools.info(pdf, tmp_path)["Page size"].startswith("297.638 x 419.528")  # A6
    assert_in_order(flat(pdf, tmp_path), CARD_PARTS[lang])


@pytest.mark.parametrize(
    ("lang", "one", "two"),
    [
        ("en", "requests the honour of the company of", "request the honour of the company of"),
        ("nl", "heeft de eer", "hebben de eer"),
        ("ru", "имеет честь пригласить", "имеют честь пригласить"),
    ],
)
def test_the_cards_verb_agrees_with_the_hosts(
    app: Flask, invited: _Languages, tmp_path: Path, lang: str, one: str, two: str
) -> None:
    invitation = invited[lang]
    assert two in flat(render_letter(Letter(invitation, URL), "card"), tmp_path)
    invitation.ceremony.hosts = [invitation.ceremony.hosts[0]]
    db.session.commit()
    single = flat(render_letter(Letter(invitation, URL), "card"), tmp_path)
    assert one in single
    assert two not in single


def test_regrets_only_and_pm_on_the_card(app: Flask, invited: _Languages, tmp_path: Path) -> None:
    invitation = invited["en"]
    invitation.kind = InvitationKind.REGRETS_ONLY
    db.session.commit()
    text = flat(render_letter(Letter(invitation, URL), "card"), tmp_path)
    assert "Regrets only to +31 33 111 11 11 / protocol@ereveld.example" in text
    assert "R.S.V.P." not in text
    invitation.kind = InvitationKind.PM
    db.session.commit()
    text = flat(render_letter(Letter(invitation, URL), "card"), tmp_path)
    assert "p.m." in text
    assert "R.S.V.P." not in text
    assert "Regrets only" not in text


def test_the_seated_time_follows_the_setting(
    app: Flask, invited: _Languages, tmp_path: Path
) -> None:
    set_text_setting(db.session, "seated_minutes", "30")
    db.session.commit()
    text = flat(render_letter(Letter(invited["en"], URL), "card"), tmp_path)
    assert "seated by 10:30" in text


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (140, 28, 19)).save(buffer, "PNG")
    return buffer.getvalue()


def settings_form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "flag_4_may_from": "18:00",
        "require_totp": "no",
        "programme_paper": "a5",
        "letterhead_address": "Dodeweg 31\n3832 RB Leusden",
        "letterhead_phone": "+31 33 000 00 00",
        "letterhead_email": "info@ereveld.example",
        "protocol_phone": "+31 33 111 11 11",
        "protocol_email": "protocol@ereveld.example",
        "seated_minutes": "15",
    }
    data.update(changes)
    return data


def test_the_logo_refuses_what_is_not_an_image(
    app: Flask, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    login(Role.ADMIN)
    response = client.post(
        "/staff/settings",
        data=settings_form(
            letterhead_phone="+31 33 222 22 22",
            logo=(io.BytesIO(b"%PDF-1.7 not an image"), "logo.png"),
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="logo-error"' in page
    assert "Het logo moet een PNG- of JPEG-afbeelding zijn." in page  # staff read Dutch
    assert 'value="+31 33 222 22 22"' in page  # what was typed stays
    assert db.session.get(Setting, "letterhead_logo") is None
    assert db.session.get(Setting, "letterhead_phone") is None  # nothing saved
    assert not (Path(app.instance_path) / LOGO_FILE).exists()


def test_a_png_logo_is_kept_and_printed(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    invited: _Languages,
    tmp_path: Path,
) -> None:
    login(Role.ADMIN)
    response = client.post(
        "/staff/settings",
        data=settings_form(logo=(io.BytesIO(png()), "logo.png")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert (Path(app.instance_path) / LOGO_FILE).read_bytes() == png()
    pdf = render_letter(Letter(invited["en"], URL), "letter")
    # The QR code is drawn as vectors: the one image on the page is the logo.
    listed = pdf_tools._run(["pdfimages", "-list"], pdf, tmp_path)
    assert re.search(r"^\s*1\s+\d+\s+image\s+40\s+20\b", listed, re.M), listed
    assert pdf_tools.info(pdf, tmp_path)["Pages"] == "1"


def test_bad_settings_keep_what_was_typed(
    app: Flask, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    login(Role.ADMIN)
    response = client.post(
        "/staff/settings",
        data=settings_form(protocol_email="not an address", seated_minutes="many"),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="protocol_email-error"' in page
    assert 'id="seated_minutes-error"' in page
    assert 'value="not an address"' in page
    assert db.session.get(Setting, "protocol_email") is None


def test_staffs_own_letter_body_is_printed(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    invited: _Languages,
    tmp_path: Path,
) -> None:
    login(Role.PLANNER)
    address = "/staff/mail/letter-texts/rsvp/en"
    assert "{hosts_request}" in client.get(address).get_data(as_text=True)
    own = "{hosts_request} the {ceremony}.\n\nKindly reply to {reply_contact} by {deadline}."
    response = client.post(address, data={"body": own})
    assert response.status_code == 302
    text = flat(render_letter(Letter(invited["en"], URL), "letter"), tmp_path)
    assert_in_order(
        text,
        [
            "Your Excellency,",
            "request the honour of your presence at the Victory Day and Day of Memory.",
            "Kindly reply to +31 33 111 11 11 / protocol@ereveld.example by 25 April 2031.",
            "Yours sincerely,",
        ],
    )
    assert "to be held on" not in text  # the built-in body is replaced, not added to
    # Other kinds and languages keep the built-in body.
    dutch = flat(render_letter(Letter(invited["nl"], URL), "letter"), tmp_path)
    assert "die plaatsvindt op" in dutch


def test_an_unknown_placeholder_in_the_letter_body_is_refused(
    app: Flask, client: FlaskClient, login: Callable[[Role], User], invited: _Languages
) -> None:
    login(Role.PLANNER)
    typed = "{hosts_request} the {ceremony} on {weekday}."
    response = client.post("/staff/mail/letter-texts/regrets_only/ru", data={"body": typed})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="body-error"' in page
    assert "{weekday}" in page  # named in the error, and kept in the field
    assert db.session.get(Setting, "letter_body_regrets_only_ru") is None
    assert client.get("/staff/mail/letter-texts/proxy/ru").status_code == 404
    assert client.get("/staff/mail/letter-texts/rsvp/de").status_code == 404


def test_labels_hold_each_address_block(
    app: Flask,
    client: FlaskClient,
    login: Callable[[Role], User],
    invited: _Languages,
    tmp_path: Path,
) -> None:
    """One label per letter, in its language: the address block, then the postal address;
    an A4 sheet of 24; a proxy invitation gets no letter and no label."""
    ru = invited["ru"]
    ceremony = ru.ceremony
    organisations = []
    for number in range(25):
        organisation = Organisation(
            name=f"Gemeente Nummer {number}",
            kind=OrganisationKind.MUNICIPALITY,
            country="NL",
            address=f"Postbus {number}\n3830 AA Leusden",
        )
        organisations.append(organisation)
        db.session.add(
            Invitation(
                ceremony=ceremony,
                organisation=organisation,
                language="nl",
                kind=InvitationKind.PROXY if number == 24 else InvitationKind.RSVP,
            )
        )
    db.session.commit()
    login(Role.VIEWER)
    response = client.get(f"/staff/ceremonies/{ceremony.slug}/labels.pdf")
    assert response.status_code == 200
    pdf = response.data
    assert pdf_tools.info(pdf, tmp_path)["Pages"] == "2"  # 25 labels: 24 and 1
    assert pdf_tools.info(pdf, tmp_path)["Page size"].startswith("595.276 x 841.89")  # A4
    text = " ".join(pdf_tools.text(pdf, tmp_path, layout=False).split())
    assert_in_order(
        text,
        [
            "Его Превосходительству господину Нұрлану Сәрсенбаеву",
            "Чрезвычайному и Полномочному Послу Республики Казахстан",
            "Prinsessegracht 1",
            "2514 AP Den Haag",
        ],
    )
    for number in range(24):
        assert_in_order(text, [f"Gemeente Nummer {number} ", f"Postbus {number} 3830 AA Leusden"])
    assert "Gemeente Nummer 24" not in text
    assert "Postbus 24" not in text
