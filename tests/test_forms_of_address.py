"""Forms of address (issue #13): address block, salutation and mention per role, language
and gender; the Russian dative; overrides, confirmation and the review before sending."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.ceremonies.models import Ceremony
from app.contacts.addressing import (
    address_block,
    confirmed,
    mention,
    organisation_salutation,
    proposed_dative,
    salutation,
)
from app.contacts.models import (
    AddressRole,
    Appointment,
    AppointmentRole,
    FormOfAddress,
    Gender,
    Organisation,
    OrganisationKind,
    Person,
)
from app.contacts.services import PersonData, update_person
from app.extensions import db
from app.invitations.models import Invitation
from app.mail.compose import values
from app.mail.models import MessageKind
from app.mail.texts import DEFAULTS, fill
from tests import pdf_tools

KAZAKHSTAN = {
    "name": "Embassy of the Republic of Kazakhstan",
    "name_en": "Embassy of the Republic of Kazakhstan",
    "name_nl": "Ambassade van de Republiek Kazachstan",
    "name_ru": "Посольство Республики Казахстан",
    "kind": OrganisationKind.EMBASSY,
    "country": "KZ",
}


def kazakh_embassy() -> Organisation:
    return Organisation(**KAZAKHSTAN)


# --- the Russian dative ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("native", "gender", "dative"),
    [
        ("Иван Петрович Сидоров", Gender.MALE, "Ивану Петровичу Сидорову"),
        ("Анна Сергеевна Иванова", Gender.FEMALE, "Анне Сергеевне Ивановой"),
        # Kazakh: the "-ұлы" patronymic is part of the name and stays as it is.
        ("Нұрлан Әлібекұлы Сәрсенбаев", Gender.MALE, "Нұрлану Әлібекұлы Сәрсенбаеву"),
        ("Рустам Каримов", Gender.MALE, "Рустаму Каримову"),  # Uzbek
        ("Дилноза Каримова", Gender.FEMALE, "Дилнозе Каримовой"),
        ("Тарас Шевченко", Gender.MALE, "Тарасу Шевченко"),  # petrovich leaves it alone
    ],
)
def test_the_proposed_dative(native: str, gender: Gender, dative: str) -> None:
    person = Person(given_name="X", family_name="Y", native_name=native, gender=gender)
    assert proposed_dative(person) == dative
    assert address_block(person, None, AddressRole.OTHER, "ru")[0].endswith(dative)


def test_a_georgian_or_armenian_name_is_never_made_cyrillic() -> None:
    georgian = Person(
        given_name="Tamar",
        family_name="Gelashvili",
        native_name="თამარ გელაშვილი",
        gender=Gender.FEMALE,
    )
    assert proposed_dative(georgian) == ""
    block = address_block(georgian, kazakh_embassy(), AppointmentRole.CHARGE_AD_INTERIM, "ru")
    assert block[0] == "Госпоже Tamar Gelashvili"  # the Latin name, undeclined
    assert salutation(georgian, AppointmentRole.CHARGE_AD_INTERIM, "ru") == (
        "Уважаемая госпожа Временный поверенный!"
    )


def test_a_patronymic_is_printed_once() -> None:
    person = Person(
        given_name="Nurlan",
        family_name="Sarsenbayev",
        native_name="Нұрлан Әлібекұлы Сәрсенбаев",
        patronymic="Әлібекұлы",
        gender=Gender.MALE,
    )
    [line, *_] = address_block(person, kazakh_embassy(), AppointmentRole.AMBASSADOR, "ru")
    assert line.count("Әлібекұлы") == 1
    assert "Nurlan" not in line


# --- the three forms per role and language ----------------------------------------------


@dataclass(frozen=True)
class Case:
    role: AppointmentRole
    gender: Gender
    lang: str
    block: list[str]
    salutation: str
    mention: str


POPESCU = {"given_name": "Ion", "family_name": "Popescu", "native_name": "Ион Попеску"}
CASES = [
    Case(
        AppointmentRole.AMBASSADOR,
        Gender.MALE,
        "en",
        [
            "His Excellency Mr Ion Popescu",
            "Ambassador of Kazakhstan",
            "Embassy of the Republic of Kazakhstan",
        ],
        "Your Excellency,",
        "His Excellency Mr Ion Popescu",
    ),
    Case(
        AppointmentRole.AMBASSADOR,
        Gender.FEMALE,
        "nl",
        [
            "Hare Excellentie mevrouw Ion Popescu",
            "Ambassadeur van Kazachstan",
            "Ambassade van de Republiek Kazachstan",
        ],
        "Excellentie,",
        "Hare Excellentie mevrouw Ion Popescu",
    ),
    Case(
        AppointmentRole.AMBASSADOR,
        Gender.MALE,
        "ru",
        [
            "Его Превосходительству господину Иону Попеску",
            "Чрезвычайному и Полномочному Послу Республики Казахстан",
            "Посольство Республики Казахстан",
        ],
        "Уважаемый господин Посол!",
        "Его Превосходительство господин Ион Попеску",
    ),
    Case(
        AppointmentRole.CHARGE_AD_INTERIM,
        Gender.FEMALE,
        "en",
        [
            "Ms Ion Popescu",
            "Chargé d'Affaires a.i. of Kazakhstan",
            "Embassy of the Republic of Kazakhstan",
        ],
        "Dear Chargé d'Affaires,",
        "Ms Ion Popescu",
    ),
    Case(
        AppointmentRole.CHARGE_EN_PIED,
        Gender.MALE,
        "nl",
        [
            "De heer Ion Popescu",
            "Zaakgelastigde van Kazachstan",
            "Ambassade van de Republiek Kazachstan",
        ],
        "Geachte heer Popescu,",
        "de heer Ion Popescu",
    ),
    Case(
        AppointmentRole.MAYOR,
        Gender.FEMALE,
        "ru",
        [
            "Госпоже Ион Попеску",  # petrovich: a woman's "Ион" and "Попеску" stay
            "мэру г. Лёйсдена",
            "Посольство Республики Казахстан",
        ],
        "Уважаемая госпожа мэр!",
        "госпожа Ион Попеску",
    ),
    Case(
        AppointmentRole.DIRECTOR,  # anyone else
        Gender.MALE,
        "en",
        ["Mr Ion Popescu", "Embassy of the Republic of Kazakhstan"],
        "Dear Mr Popescu,",
        "Mr Ion Popescu",
    ),
    # Gender unknown: neutral forms that still name the person.
    Case(
        AppointmentRole.OTHER,
        Gender.UNKNOWN,
        "en",
        ["Ion Popescu", "Embassy of the Republic of Kazakhstan"],
        "Dear Ion Popescu,",
        "Ion Popescu",
    ),
    Case(
        AppointmentRole.OTHER,
        Gender.UNKNOWN,
        "nl",
        ["Ion Popescu", "Ambassade van de Republiek Kazachstan"],
        "Geachte Ion Popescu,",
        "Ion Popescu",
    ),
    Case(
        AppointmentRole.OTHER,
        Gender.UNKNOWN,
        "ru",
        ["Иону Попеску", "Посольство Республики Казахстан"],
        "Здравствуйте, Ион Попеску!",
        "Ион Попеску",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.role}-{c.gender}-{c.lang}")
def test_block_salutation_and_mention(case: Case) -> None:
    person = Person(**POPESCU, gender=case.gender)
    assert address_block(person, kazakh_embassy(), case.role, case.lang) == case.block
    assert salutation(person, case.role, case.lang) == case.salutation
    assert mention(person, case.role, case.lang) == case.mention


def test_nobody_named_takes_the_organisations_salutation() -> None:
    assert [organisation_salutation(lang) for lang in ("en", "nl", "ru")] == [
        "Dear Sir or Madam,",
        "Geachte heer, mevrouw,",
        "Уважаемые дамы и господа!",
    ]
    assert salutation(None, None, "nl") == "Geachte heer, mevrouw,"
    assert address_block(None, kazakh_embassy(), None, "ru") == ["Посольство Республики Казахстан"]
    assert confirmed(None, "en")


def test_a_dutch_prefix_is_capitalised_without_the_given_name() -> None:
    person = Person(given_name="Anna", family_name="de Vries", gender=Gender.FEMALE)
    assert salutation(person, AppointmentRole.OFFICIAL, "nl") == "Geachte mevrouw De Vries,"
    assert address_block(person, None, AppointmentRole.OFFICIAL, "nl") == ["Mevrouw Anna de Vries"]


# --- letters and mails ------------------------------------------------------------------


@pytest.fixture
def invited(edition: Callable[..., Ceremony]) -> dict[str, Invitation]:
    """An ambassador (ru), a chargée a.i. (en), a mayor (nl), a director whose gender is
    unknown (en), and an embassy with nobody named (nl)."""
    ceremony = edition("9-mei", 2031)
    made: dict[str, Invitation] = {}
    people = [
        ("ambassador", AppointmentRole.AMBASSADOR, Gender.MALE, "ru", "Нұрлан Сәрсенбаев"),
        ("charge", AppointmentRole.CHARGE_AD_INTERIM, Gender.FEMALE, "en", ""),
        ("mayor", AppointmentRole.MAYOR, Gender.MALE, "nl", ""),
        ("director", AppointmentRole.DIRECTOR, Gender.UNKNOWN, "en", ""),
    ]
    for key, role, gender, lang, native in people:
        organisation = Organisation(**{**KAZAKHSTAN, "name": f"{KAZAKHSTAN['name']} {key}"})
        person = Person(
            given_name="Nurlan",
            family_name="Sarsenbayev",
            native_name=native,
            gender=gender,
            email=f"{key}@example.org",
        )
        db.session.add(Appointment(person=person, organisation=organisation, role=role))
        made[key] = Invitation(
            ceremony=ceremony, organisation=organisation, addressee=person, language=lang
        )
    nobody = Organisation(**{**KAZAKHSTAN, "name": "Nobody named", "email": "e@example.org"})
    made["nobody"] = Invitation(ceremony=ceremony, organisation=nobody, language="nl")
    db.session.add_all(made.values())
    db.session.commit()
    return made


EXPECTED = {
    "ambassador": (
        [
            "Его Превосходительству господину Нұрлану Сәрсенбаеву",
            "Чрезвычайному и Полномочному Послу Республики Казахстан",
        ],
        "Уважаемый господин Посол!",
    ),
    "charge": (
        ["Ms Nurlan Sarsenbayev", "Chargé d'Affaires a.i. of Kazakhstan"],
        "Dear Chargé d'Affaires,",
    ),
    "mayor": (
        ["De edelachtbare heer Nurlan Sarsenbayev", "burgemeester van Leusden"],
        "Geachte heer Sarsenbayev,",
    ),
    "director": (["Nurlan Sarsenbayev"], "Dear Nurlan Sarsenbayev,"),
    "nobody": (["Ambassade van de Republiek Kazachstan"], "Geachte heer, mevrouw,"),
}


def test_the_letter_prints_block_and_salutation(
    client: FlaskClient,
    login: Callable[[Role], User],
    invited: dict[str, Invitation],
    tmp_path: Path,
) -> None:
    login(Role.VIEWER)
    for key, (block, opening) in EXPECTED.items():
        pdf = client.get(f"/staff/invitations/{invited[key].id}/letter.pdf").data
        lines = [" ".join(line.split()) for line in pdf_tools.text(pdf, tmp_path).splitlines()]
        lines = [line for line in lines if line]
        start = lines.index(block[0])
        assert lines[start : start + len(block)] == block, key
        assert opening in lines, key
        assert lines.index(opening) > start  # the salutation follows the block
        assert not any(re.match(r"(Dear|Geachte) (His|Her|Zijne|Hare|De heer)", x) for x in lines)
    # A card has the block, and no salutation.
    card = client.get(f"/staff/invitations/{invited['charge'].id}/letter.pdf?layout=card").data
    card_text = " ".join(pdf_tools.text(card, tmp_path).split())
    assert "Ms Nurlan Sarsenbayev" in card_text
    assert "Dear Chargé" not in card_text


@pytest.mark.parametrize("kind", [MessageKind.INVITATION, MessageKind.REMINDER])
def test_every_mail_opens_with_the_salutation(
    app: Flask, invited: dict[str, Invitation], kind: MessageKind
) -> None:
    for key, (_block, opening) in EXPECTED.items():
        invitation = invited[key]
        text = DEFAULTS[kind][invitation.language]
        body = fill(text.body, values(invitation, invitation.language), frozenset({"rsvp_link"}))
        assert body.splitlines()[0] == opening, (key, kind)


def test_no_default_text_glues_a_word_to_the_addressee() -> None:
    for texts in DEFAULTS.values():
        for text in texts.values():
            assert text.body.startswith("{salutation}\n")
            assert not re.search(r"(Dear|Geachte|Уважаем\w*) \{", text.body)


def test_the_address_block_placeholder(invited: dict[str, Invitation]) -> None:
    filled = values(invited["charge"], "en")
    assert filled["address_block"].splitlines() == [
        "Ms Nurlan Sarsenbayev",
        "Chargé d'Affaires a.i. of Kazakhstan",
        "Embassy of the Republic of Kazakhstan",
    ]
    assert filled["addressee"] == "Ms Nurlan Sarsenbayev"


# --- staff: overrides, confirmation, defaults, review -----------------------------------


# Staff pages speak Dutch to the test accounts.
NOT_CONFIRMED = "Aanspreekvorm niet bevestigd"


def page(text: str) -> str:
    return html.unescape(text)


def test_override_and_confirm_through_the_person_page(
    client: FlaskClient, login: Callable[[Role], User], invited: dict[str, Invitation]
) -> None:
    user = login(Role.PLANNER)
    person = invited["ambassador"].addressee
    assert person is not None
    url = f"/staff/contacts/persons/{person.id}"
    shown = page(client.get(url).text)
    assert "Его Превосходительству господину Нұрлану Сәрсенбаеву" in shown
    assert "Уважаемый господин Посол!" in shown
    assert shown.count(NOT_CONFIRMED) == 3

    # Bad input: a placeholder in a person's own text; what was typed stays.
    bad = client.post(
        f"{url}/address/ru",
        data={"ru-salutation": "Уважаемый {surname}!", "ru-name_dative": "Нурлану Сарсенбаеву"},
    )
    assert bad.status_code == 400
    assert "zonder plaatsaanduidingen" in page(bad.text)
    assert 'value="Уважаемый {surname}!"' in page(bad.text)
    assert 'value="Нурлану Сарсенбаеву"' in page(bad.text)
    assert client.post(f"{url}/address/de", data={}).status_code == 404

    good = client.post(
        f"{url}/address/ru",
        data={"ru-salutation": "Ваше Превосходительство!", "ru-name_dative": "Нурлану Сарсенбаеву"},
    )
    assert good.status_code == 302
    db.session.expire_all()
    assert salutation(person, AppointmentRole.AMBASSADOR, "ru") == "Ваше Превосходительство!"
    assert address_block(person, None, AppointmentRole.AMBASSADOR, "ru")[0] == (
        "Его Превосходительству господину Нурлану Сарсенбаеву"
    )
    assert not confirmed(person, "ru")

    # Confirming needs the CSRF token and is recorded.
    client.application.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"{url}/address/ru/confirm").status_code == 400
    client.application.config["WTF_CSRF_ENABLED"] = False
    assert client.post(f"{url}/address/ru/confirm").status_code == 302
    db.session.expire_all()
    assert confirmed(person, "ru")
    assert not confirmed(person, "en")
    own = person.address_in("ru")
    assert own is not None
    assert own.confirmed_by_id == user.id
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.object_id == person.id)
    ).all()
    assert "contacts.person.address_confirm" in actions
    assert page(client.get(url).text).count(NOT_CONFIRMED) == 2

    # A later change undoes the confirmation: it was of the text as it stood.
    client.post(f"{url}/address/ru", data={"ru-salutation": "Уважаемый господин Посол!"})
    db.session.expire_all()
    assert not confirmed(person, "ru")


def test_staff_edit_the_defaults(
    client: FlaskClient, login: Callable[[Role], User], invited: dict[str, Invitation]
) -> None:
    login(Role.PLANNER)
    listing = page(client.get("/staff/contacts/forms-of-address").text)
    assert "Zijne Excellentie de heer" in listing
    assert "Чрезвычайному и Полномочному Послу {country}" in listing
    url = "/staff/contacts/forms-of-address/other/en/unknown"
    assert 'value="Dear {given} {surname},"' in page(client.get(url).text)
    assert client.get("/staff/contacts/forms-of-address/other/de/unknown").status_code == 404
    bad = client.post(url, data={"salutation": "Dear {surnme},", "style": "", "mention": "{name}"})
    assert bad.status_code == 400
    assert "Onbekende plaatsaanduiding {surnme}" in page(bad.text)
    assert 'value="Dear {surnme},"' in page(bad.text)
    empty = client.post(url, data={"salutation": "", "mention": "{name}"})
    assert empty.status_code == 400
    good = client.post(url, data={"salutation": "Dear {name},", "mention": "{name}"})
    assert good.status_code == 302
    row = db.session.scalar(
        sa.select(FormOfAddress).where(FormOfAddress.salutation == "Dear {name},")
    )
    assert row is not None
    assert (row.role, row.language, row.gender) == (AddressRole.OTHER, "en", Gender.UNKNOWN)
    director = invited["director"].addressee
    db.session.expire_all()
    assert salutation(director, AppointmentRole.DIRECTOR, "en") == "Dear Nurlan Sarsenbayev,"


def test_the_previews_flag_unconfirmed_recipients(
    client: FlaskClient, login: Callable[[Role], User], invited: dict[str, Invitation]
) -> None:
    login(Role.PLANNER)
    slug = invited["ambassador"].ceremony.slug
    shown = page(client.get(f"/staff/ceremonies/{slug}/letters").text)
    assert "Его Превосходительству господину Нұрлану Сәрсенбаеву" in shown
    assert "Geachte heer, mevrouw," in shown
    assert shown.count('class="unconfirmed"') == 4  # every named recipient; not "nobody"
    assert "De aanspreekvormen van 4 geadresseerden zijn niet bevestigd." in shown

    person = invited["ambassador"].addressee
    assert person is not None
    client.post(f"/staff/contacts/persons/{person.id}/address/ru/confirm")
    shown = page(client.get(f"/staff/ceremonies/{slug}/letters").text)
    assert shown.count('class="unconfirmed"') == 3

    # The mail preview says the same for its recipient.
    assert client.post(f"/staff/ceremonies/{slug}/mail/draft").status_code == 302
    from app.mail.models import OutboxMessage

    messages = {m.invitation_id: m.id for m in db.session.scalars(sa.select(OutboxMessage))}
    charge = page(client.get(f"/staff/mail/{messages[invited['charge'].id]}").text)
    assert "Dear Chargé d'Affaires," in charge
    assert NOT_CONFIRMED in charge
    ambassador = page(client.get(f"/staff/mail/{messages[invited['ambassador'].id]}").text)
    assert NOT_CONFIRMED not in ambassador
    assert "Уважаемый господин Посол!" in ambassador


def test_the_russian_genitive_is_offered_and_kept(
    client: FlaskClient, login: Callable[[Role], User], invited: dict[str, Invitation]
) -> None:
    login(Role.PLANNER)
    invitation = invited["ambassador"]
    org = invitation.organisation
    url = f"/staff/contacts/organisations/{org.id}/edit"
    form = page(client.get(url).text)
    assert 'value="Республики Казахстан"' in form  # proposed from "Посольство ..."
    version = re.search(r'name="version"[^>]*value="([^"]*)"', form)
    assert version is not None
    saved = client.post(
        url,
        data={
            "name": org.name,
            "name_ru": "Посольство Республики Казахстан",
            "country_genitive_ru": "Республики Казахстан в Королевстве Нидерландов",
            "kind": "embassy",
            "country": "KZ",
            "resident": "y",
            "version": version.group(1),
        },
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert address_block(invitation.addressee, org, AppointmentRole.AMBASSADOR, "ru")[1] == (
        "Чрезвычайному и Полномочному Послу Республики Казахстан в Королевстве Нидерландов"
    )


def test_a_new_name_or_gender_needs_a_new_confirmation(
    client: FlaskClient, login: Callable[[Role], User], invited: dict[str, Invitation]
) -> None:
    login(Role.PLANNER)
    person = invited["ambassador"].addressee
    assert person is not None
    assert client.post(f"/staff/contacts/persons/{person.id}/address/ru/confirm").status_code == 302
    db.session.expire_all()
    own = person.address_in("ru")
    assert own is not None
    assert own.name_dative == "Нұрлану Сәрсенбаеву"  # kept as confirmed
    update_person(
        db.session,
        person,
        PersonData(
            family_name="Sarsenbayev",
            given_name="Nurlan",
            native_name="Нұрлан Әлібекұлы Сәрсенбаев",
            gender=Gender.MALE,
        ),
        actor_user_id=None,
    )
    db.session.commit()
    assert not confirmed(person, "ru")
    assert address_block(person, None, AppointmentRole.AMBASSADOR, "ru")[0] == (
        "Его Превосходительству господину Нұрлану Әлібекұлы Сәрсенбаеву"
    )
