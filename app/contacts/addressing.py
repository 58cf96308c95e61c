"""How a person is named in a letter or mail: the address block, the salutation and the
mention in running text (DOMAIN.md "Correspondence: forms of address").

The three differ and are never glued together: "Dear " + an honorific is an error.
Each comes from the person's own override in that language, else from the editable
defaults of the role (table form_of_address), else from the built-in defaults below.

A person whose gender is unknown gets neutral forms that still name them ("Dear Anna
Smits,", "Geachte Anna Smits,", "Здравствуйте, Анна Смитс!"): "Dear Sir or Madam," is
only for a letter to an organisation with nobody named (``organisation_salutation``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from babel import Locale
from petrovich.enums import Case
from petrovich.main import Petrovich
from sqlalchemy.orm import object_session

from app.contacts.models import (
    AddressRole,
    AppointmentRole,
    FormOfAddress,
    Gender,
    Organisation,
    Person,
)
from app.types import local_today

LANGUAGES = ("nl", "en", "ru")
PLACEHOLDERS = frozenset({"given", "surname", "name", "country", "organisation"})
FIELD = re.compile(r"\{([^{}\n]*)\}")
# Cyrillic, with the Kazakh, Uzbek and other letters of the same Unicode block.
CYRILLIC = re.compile(r"^[\u0400-\u04ff\u0500-\u052f\s.\-']+$")

ROLE_OF: dict[AppointmentRole, AddressRole] = {
    AppointmentRole.AMBASSADOR: AddressRole.AMBASSADOR,
    AppointmentRole.CHARGE_AD_INTERIM: AddressRole.CHARGE_AD_INTERIM,
    AppointmentRole.CHARGE_EN_PIED: AddressRole.CHARGE_EN_PIED,
    AppointmentRole.MAYOR: AddressRole.MAYOR,
}

# (role, language, gender): (style, function line, salutation, mention). The seed of
# table form_of_address; the migration 0011 holds a frozen copy.
M, F, U = Gender.MALE, Gender.FEMALE, Gender.UNKNOWN
DEFAULTS: dict[tuple[AddressRole, str, Gender], tuple[str, str, str, str]] = {}


def _role(
    role: AddressRole,
    function: tuple[str, str, str],
    rows: dict[str, dict[Gender, tuple[str, str, str]]],
) -> None:
    for lang, line in zip(LANGUAGES, function, strict=True):
        for gender, (style, salutation, mention) in rows[lang].items():
            DEFAULTS[(role, lang, gender)] = (style, line, salutation, mention)


_role(
    AddressRole.AMBASSADOR,
    (
        "Ambassadeur van {country}",
        "Ambassador of {country}",
        "Чрезвычайному и Полномочному Послу {country}",
    ),
    {
        "nl": {
            M: ("Zijne Excellentie de heer", "Excellentie,", "Zijne Excellentie de heer {name}"),
            F: ("Hare Excellentie mevrouw", "Excellentie,", "Hare Excellentie mevrouw {name}"),
            U: ("", "Excellentie,", "{name}"),
        },
        "en": {
            M: ("His Excellency Mr", "Your Excellency,", "His Excellency Mr {name}"),
            F: ("Her Excellency Ms", "Your Excellency,", "Her Excellency Ms {name}"),
            U: ("", "Your Excellency,", "{name}"),
        },
        "ru": {
            M: (
                "Его Превосходительству господину",
                "Уважаемый господин Посол!",
                "Его Превосходительство господин {name}",
            ),
            F: (
                "Её Превосходительству госпоже",
                "Уважаемая госпожа Посол!",
                "Её Превосходительство госпожа {name}",
            ),
            U: ("", "Ваше Превосходительство!", "{name}"),
        },
    },
)
for _which, _function, _ru_title in (
    (
        AddressRole.CHARGE_AD_INTERIM,
        (
            "Zaakgelastigde a.i. van {country}",
            "Chargé d'Affaires a.i. of {country}",
            "Временному поверенному в делах {country}",
        ),
        "Временный поверенный",
    ),
    (
        AddressRole.CHARGE_EN_PIED,
        (
            "Zaakgelastigde van {country}",
            "Chargé d'Affaires of {country}",
            "Поверенному в делах {country}",
        ),
        "Поверенный в делах",
    ),
):
    _role(
        _which,
        _function,
        {
            "nl": {
                M: ("De heer", "Geachte heer {surname},", "de heer {name}"),
                F: ("Mevrouw", "Geachte mevrouw {surname},", "mevrouw {name}"),
                U: ("", "Geachte {given} {surname},", "{name}"),
            },
            "en": {
                M: ("Mr", "Dear Chargé d'Affaires,", "Mr {name}"),
                F: ("Ms", "Dear Chargé d'Affaires,", "Ms {name}"),
                U: ("", "Dear Chargé d'Affaires,", "{name}"),
            },
            "ru": {
                M: ("Господину", f"Уважаемый господин {_ru_title}!", "господин {name}"),
                F: ("Госпоже", f"Уважаемая госпожа {_ru_title}!", "госпожа {name}"),
                U: ("", "Здравствуйте, {name}!", "{name}"),
            },
        },
    )
_role(
    AddressRole.MAYOR,
    ("burgemeester van Leusden", "Mayor of Leusden", "мэру г. Лёйсдена"),
    {
        "nl": {
            M: ("De edelachtbare heer", "Geachte heer {surname},", "de heer {name}"),
            F: ("De edelachtbare vrouwe", "Geachte mevrouw {surname},", "mevrouw {name}"),
            U: ("", "Geachte {given} {surname},", "{name}"),
        },
        "en": {
            M: ("Mr", "Dear Mayor,", "Mr {name}"),
            F: ("Ms", "Dear Mayor,", "Ms {name}"),
            U: ("", "Dear Mayor,", "{name}"),
        },
        "ru": {
            M: ("Господину", "Уважаемый господин мэр!", "господин {name}"),
            F: ("Госпоже", "Уважаемая госпожа мэр!", "госпожа {name}"),
            U: ("", "Здравствуйте, {name}!", "{name}"),
        },
    },
)
_role(
    AddressRole.OTHER,
    ("", "", ""),
    {
        "nl": {
            M: ("De heer", "Geachte heer {surname},", "de heer {name}"),
            F: ("Mevrouw", "Geachte mevrouw {surname},", "mevrouw {name}"),
            U: ("", "Geachte {given} {surname},", "{name}"),
        },
        "en": {
            M: ("Mr", "Dear Mr {surname},", "Mr {name}"),
            F: ("Ms", "Dear Ms {surname},", "Ms {name}"),
            U: ("", "Dear {given} {surname},", "{name}"),
        },
        "ru": {
            M: ("Господину", "Уважаемый господин {surname}!", "господин {name}"),
            F: ("Госпоже", "Уважаемая госпожа {surname}!", "госпожа {name}"),
            U: ("", "Здравствуйте, {name}!", "{name}"),
        },
    },
)

ORGANISATION_SALUTATION = {
    "nl": "Geachte heer, mevrouw,",
    "en": "Dear Sir or Madam,",
    "ru": "Уважаемые дамы и господа!",
}

_petrovich: Petrovich | None = None


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders in a template that are not {given}, {surname}, {name},
    {country} or {organisation}."""
    return [m for m in FIELD.findall(text) if m not in PLACEHOLDERS]


def address_role(role: AppointmentRole | AddressRole | None) -> AddressRole:
    if isinstance(role, AddressRole):
        return role
    return ROLE_OF.get(role, AddressRole.OTHER) if role is not None else AddressRole.OTHER


def role_at(person: Person | None, organisation: Organisation, day: date) -> AppointmentRole | None:
    """The person's role at the organisation on ``day`` (else their latest one there)."""
    if person is None:
        return None
    there = [a for a in person.appointments if a.organisation_id == organisation.id]
    valid = [a for a in there if a.valid_on(day)] or there
    return valid[0].role if valid else None


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else "en"


def defaults(
    person: Person | None, role: AppointmentRole | AddressRole | None, lang: str
) -> tuple[str, str, str, str]:
    """(style, function line, salutation, mention) of the role in ``lang`` for the
    person's gender: staff's table where it has the row, else the built-in one."""
    key = (address_role(role), _lang(lang), person.gender if person else Gender.UNKNOWN)
    session = object_session(person) if person is not None else None
    if session is not None:
        row = session.scalar(
            sa.select(FormOfAddress).where(
                FormOfAddress.role == key[0],
                FormOfAddress.language == key[1],
                FormOfAddress.gender == key[2],
            )
        )
        if row is not None:
            return (row.style, row.function_line, row.salutation, row.mention)
    return DEFAULTS[key]


def cyrillic_name(person: Person) -> str:
    """The native name when it is written in Cyrillic, with the patronymic once."""
    native = " ".join((person.native_name or "").split())
    if not native or not CYRILLIC.match(native):
        return ""
    words = native.split()
    patronymic = (person.patronymic or "").strip()
    if len(words) == 2 and patronymic and CYRILLIC.match(patronymic) and patronymic not in words:
        words.insert(1, patronymic)
    return " ".join(words)


def proposed_dative(person: Person) -> str:
    """The Cyrillic name declined into the dative by petrovich ("Нурлану Сарсенбаеву"),
    for staff to confirm; empty when there is no Cyrillic name.

    The words are read as given name, patronymic, family name; petrovich leaves a word
    it has no rule for (a Kazakh "-ұлы" patronymic, "Шевченко") as it is.
    """
    global _petrovich
    name = cyrillic_name(person)
    if not name:
        return ""
    if _petrovich is None:
        _petrovich = Petrovich()
    gender = {Gender.MALE: "male", Gender.FEMALE: "female"}.get(person.gender)
    words = name.split()
    if len(words) == 1:
        return str(_petrovich.lastname(words[0], Case.DATIVE, gender))
    first = str(_petrovich.firstname(words[0], Case.DATIVE, gender))
    last = str(_petrovich.lastname(words[-1], Case.DATIVE, gender))
    middle = [str(_petrovich.middlename(w, Case.DATIVE, gender)) for w in words[1:-1]]
    return " ".join([first, *middle, last])


def _names(person: Person, lang: str) -> dict[str, str]:
    """{given}, {surname} and {name} as written in ``lang``: in Russian the Cyrillic
    name when stored, else the Latin one (never a Cyrillic one made up)."""
    if lang == "ru":
        cyrillic = cyrillic_name(person)
        if cyrillic:
            words = cyrillic.split()
            given = words[0] if len(words) > 1 else ""
            return {"given": given, "surname": words[-1], "name": cyrillic}
    surname = person.family_name or ""
    # Without the given name a Dutch prefix takes a capital, in every language (the
    # name's own rule, as English style guides keep it): "Geachte mevrouw De Vries",
    # "Dear Mr Van Wijngaarden".
    surname = surname[:1].upper() + surname[1:]
    return {"given": person.given_name or "", "surname": surname, "name": person.full_name}


def proposed_genitive(organisation: Organisation) -> str:
    """The country in the Russian genitive as the embassy's own Russian name has it
    ("Посольство Республики Казахстан" -> "Республики Казахстан"), for staff to keep
    or correct; empty for any other name."""
    name = re.sub(r"\s*\(.*\)\s*$", "", organisation.name_ru).strip()
    prefix = "Посольство "
    return name[len(prefix) :].strip() if name.startswith(prefix) else ""


def _country(organisation: Organisation, lang: str) -> str:
    if lang == "ru":
        genitive = organisation.country_genitive_ru or proposed_genitive(organisation)
        if genitive:
            return genitive
    if organisation.country:
        territory = Locale.parse(lang).territories.get(organisation.country.upper())
        if territory:
            return str(territory)
    return organisation.display_name(lang)


def fill(template: str, values: dict[str, str]) -> str:
    """The template with its placeholders filled; unknown ones stay as written."""
    filled = FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)
    return " ".join(filled.split())


def block_name(person: Person, lang: str) -> str:
    """The name as it stands in the address block: in Russian in the dative."""
    if lang == "ru":
        own = person.address_in("ru")
        if own is not None and own.name_dative:
            return own.name_dative
        dative = proposed_dative(person)
        if dative:
            return dative
    return _names(person, lang)["name"]


def style(person: Person, role: AppointmentRole | AddressRole | None, lang: str) -> str:
    """What stands before the name in the address block ("His Excellency Mr")."""
    return person.style_override(_lang(lang)) or defaults(person, role, lang)[0]


def address_block(
    person: Person | None,
    organisation: Organisation | None,
    role: AppointmentRole | AddressRole | None,
    lang: str,
) -> list[str]:
    """The lines that head a letter or an envelope: style and name, function line, and
    the organisation (only the organisation when nobody is named)."""
    lang = _lang(lang)
    org_line = organisation.display_name(lang) if organisation is not None else ""
    if person is None:
        return [org_line] if org_line else []
    own = person.address_in(lang)
    if own is not None and own.address_block.strip():
        return [line.strip() for line in own.address_block.splitlines() if line.strip()]
    function = defaults(person, role, lang)[1]
    values = {
        **_names(person, lang),
        "country": _country(organisation, lang) if organisation is not None else "",
        "organisation": org_line,
    }
    lines = [
        fill(f"{style(person, role, lang)} {block_name(person, lang)}", values),
        fill(function, values),
    ]
    if org_line and org_line not in lines[1]:
        lines.append(org_line)
    return [line for line in lines if line]


def salutation(person: Person | None, role: AppointmentRole | AddressRole | None, lang: str) -> str:
    """The whole opening line of a letter or mail ("Your Excellency,", "Geachte heer
    Smits,", "Уважаемый господин Посол!")."""
    lang = _lang(lang)
    if person is None:
        return organisation_salutation(lang)
    own = person.address_in(lang)
    if own is not None and own.salutation:
        return own.salutation
    return fill(defaults(person, role, lang)[2], _names(person, lang))


def mention(person: Person, role: AppointmentRole | AddressRole | None, lang: str) -> str:
    """The person named in running text ("His Excellency Mr Ion Popescu")."""
    lang = _lang(lang)
    own = person.address_in(lang)
    if own is not None and own.mention:
        return own.mention
    return fill(defaults(person, role, lang)[3], _names(person, lang))


def organisation_salutation(lang: str) -> str:
    """The opening line when no person is named."""
    return ORGANISATION_SALUTATION[_lang(lang)]


@dataclass(frozen=True)
class Addressed:
    """Everything a page shows of how one recipient is addressed in one language."""

    language: str
    block: list[str]
    salutation: str
    mention: str
    confirmed: bool


def addressed(
    person: Person | None,
    organisation: Organisation | None,
    lang: str,
    day: date | None = None,
) -> Addressed:
    """The three forms and the confirmation of a recipient, for the role they hold at
    the organisation on ``day`` (today by default): what pages and previews show."""
    lang = _lang(lang)
    role = (
        role_at(person, organisation, day or local_today())
        if person is not None and organisation is not None
        else None
    )
    return Addressed(
        language=lang,
        block=address_block(person, organisation, role, lang),
        salutation=salutation(person, role, lang),
        mention=mention(person, role, lang)
        if person is not None
        else (organisation.display_name(lang) if organisation is not None else ""),
        confirmed=confirmed(person, lang),
    )


def current_organisation(person: Person, day: date | None = None) -> Organisation | None:
    """Where the person holds an appointment on ``day`` (else their latest one)."""
    day = day or local_today()
    ordered = sorted(person.appointments, key=lambda a: (a.valid_from or date.min, a.id))
    valid = [a for a in ordered if a.valid_on(day)] or ordered
    return valid[-1].organisation if valid else None


def confirmed(person: Person | None, lang: str) -> bool:
    """Whether staff confirmed this person's forms of address in ``lang``; a letter to
    an organisation with nobody named needs no confirmation."""
    if person is None:
        return True
    own = person.address_in(_lang(lang))
    return own is not None and own.confirmed_at is not None
