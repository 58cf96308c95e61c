"""Fictional contacts and invitations for `flask demo`: the whole invitation flow to explore.

Everything here is invented: real country codes and real municipalities, but nobody's
real name (every organisation says so in its notes). The embassies follow the precedence
example of shared/design/DOMAIN.md (ambassadors I, D, A, C 09:15, B 10:00, E; H chargé
en pied; chargés a.i. G, F; J on behalf of the head of mission), plus an
ambassador-designate who is not ranked. Next year's 9 May edition gets invitations in every
status, a do-not-invite and a wreath-by-proxy-only policy; this year's only while the
ceremony is still ahead.

Like every service this flushes and never commits, and it goes through the real
services (rules and audit apply). A second run creates nothing and changes nothing: an
organisation that exists already keeps its people, appointments and groups as they are,
and an invitation that exists already is left alone. An organisation of the same name
that this module did not make (no demo mark in its notes) is never touched nor invited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.auth.models import Role, User
from app.ceremonies.guest_texts import hosts_from_templates
from app.ceremonies.models import Ceremony
from app.contacts.models import (
    AppointmentRole,
    ContactGroup,
    Gender,
    Organisation,
    OrganisationKind,
    Person,
)
from app.contacts.services import (
    AppointmentData,
    OrganisationData,
    PersonData,
    add_appointment,
    create_group,
    create_organisation,
    create_person,
    day_start,
    group_by_name,
    organisation_by_name,
    seed_forms_of_address,
    set_membership,
    wall_time,
)
from app.extensions import DbSession
from app.invitations import rsvp_services
from app.invitations.models import (
    Invitation,
    InvitationStatus,
    MemberRole,
    PolicyDecision,
    WreathChoice,
)
from app.invitations.services import (
    Actor,
    DelegationData,
    InvitationChanges,
    MemberData,
    PolicyData,
    create_invitation,
    decision_for,
    existing_invitation,
    mark_sent,
    policy_for,
    record_reply,
    set_policy,
    update_delegation,
    update_invitation,
)
from app.types import local_today

DEMO_MARK = "Fictional demo data (flask demo)"
DEMO_NOTE = f"{DEMO_MARK}: the people are invented; no real person is meant."
ACTOR = Actor(label="flask demo")
SERIES_SLUG = "9-mei"

DIPLOMATIC_CORPS = "diplomatic corps, former Soviet republics"
MUNICIPALITIES = "municipalities"
RELATIVES = "relatives"
GROUPS = (DIPLOMATIC_CORPS, MUNICIPALITIES, RELATIVES)

# Forms of address are data per person and language (DOMAIN.md).
# The forms of address follow from role and gender (app/contacts/addressing.py).
HE = MR = Gender.MALE
HER_E = MS = Gender.FEMALE


class DemoError(Exception):
    """The demo data cannot be loaded (e.g. nobody may approve its policies)."""


@dataclass(frozen=True)
class DemoPerson:
    given_name: str
    family_name: str
    role: AppointmentRole
    gender: Gender = Gender.UNKNOWN
    native_name: str = ""
    patronymic: str = ""
    language: str = "en"
    since: date | None = None  # the appointment's first day
    at: time | None = None  # credentials accepted at (same-day tie); None: 00:00
    taken_up: bool = True  # False: an ambassador-designate, or a representative
    relation: str = ""
    email: str = ""


@dataclass(frozen=True)
class DemoOrganisation:
    key: str  # how this module refers to it
    name: str  # English, as `name` and `name_en`
    kind: OrganisationKind
    name_nl: str
    name_ru: str
    people: tuple[DemoPerson, ...]
    country: str = ""
    resident: bool = True
    email: str = ""
    protocol_contact: str = ""
    groups: tuple[str, ...] = ()


@dataclass
class DemoResult:
    """What one run made; all zero on a second run."""

    organisations: int = 0
    persons: int = 0
    appointments: int = 0
    groups: int = 0
    memberships: int = 0
    policies: int = 0
    invitations: int = 0
    editions: list[str] = field(default_factory=list)  # slugs that got invitations
    skipped: list[str] = field(default_factory=list)  # same name, not demo data

    @property
    def created(self) -> int:
        return self.organisations + self.persons + self.groups + self.policies + self.invitations


def _ambassador(
    given: str,
    family: str,
    native: str,
    since: date,
    at: time = time(10, 0),
    *,
    woman: bool = False,
    language: str = "en",
    patronymic: str = "",
) -> DemoPerson:
    return DemoPerson(
        given,
        family,
        AppointmentRole.AMBASSADOR,
        HER_E if woman else HE,
        native,
        patronymic,
        language,
        since,
        at,
    )


EMBASSIES: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        "UZ",
        "Embassy of the Republic of Uzbekistan",
        OrganisationKind.EMBASSY,
        "Ambassade van de Republiek Oezbekistan",
        "Посольство Республики Узбекистан",
        # I: the longest-serving ambassador, the dean.
        (_ambassador("Anvar", "Tursunkhodjaev", "Анвар Турсунхўжаев", date(2018, 3, 14)),),
        country="UZ",
        email="protocol@uz-embassy.example",
        protocol_contact="Protocol department",
    ),
    DemoOrganisation(
        "TM",
        "Embassy of Turkmenistan (Brussels)",
        OrganisationKind.EMBASSY,
        "Ambassade van Turkmenistan (Brussel)",
        "Посольство Туркменистана (Брюссель)",
        # D: non-resident, ranked like a resident.
        (_ambassador("Merdan", "Annaberdiev", "Мердан Аннабердыев", date(2019, 11, 20)),),
        country="TM",
        resident=False,
        email="protocol@tm-embassy.example",
        protocol_contact="Protocol department",
    ),
    DemoOrganisation(
        "KZ",
        "Embassy of the Republic of Kazakhstan",
        OrganisationKind.EMBASSY,
        "Ambassade van de Republiek Kazachstan",
        "Посольство Республики Казахстан",
        (
            _ambassador(  # A
                "Nurlan",
                "Sarsenbayev",
                "Нұрлан Әлібекұлы Сәрсенбаев",
                date(2021, 9, 8),
                # The native name holds the patronymic: it is printed once, in it.
                language="ru",
            ),
        ),
        country="KZ",
        email="protocol@kz-embassy.example",
        protocol_contact="Protocol department",
    ),
    DemoOrganisation(
        "AM",
        "Embassy of the Republic of Armenia",
        OrganisationKind.EMBASSY,
        "Ambassade van de Republiek Armenië",
        "Посольство Республики Армения",
        # C: the same Wednesday morning as B, 45 minutes earlier.
        (
            _ambassador(
                "Anahit", "Melkonyan", "Անահիտ Մելքոնյան", date(2023, 2, 1), time(9, 15), woman=True
            ),
        ),
        country="AM",
        email="protocol@am-embassy.example",
    ),
    DemoOrganisation(
        "AZ",
        "Embassy of the Republic of Azerbaijan",
        OrganisationKind.EMBASSY,
        "Ambassade van de Republiek Azerbeidzjan",
        "Посольство Азербайджанской Республики",
        # B
        (_ambassador("Rashad", "Guliyev", "Рашад Гулиев", date(2023, 2, 1), time(10, 0)),),
        country="AZ",
        email="protocol@az-embassy.example",
    ),
    DemoOrganisation(
        "UA",
        "Embassy of Ukraine",
        OrganisationKind.EMBASSY,
        "Ambassade van Oekraïne",
        "Посольство Украины",
        # E
        (_ambassador("Olena", "Kovalchuk", "Олена Ковальчук", date(2024, 6, 12), woman=True),),
        country="UA",
        email="protocol@ua-embassy.example",
    ),
    DemoOrganisation(
        "KG",
        "Embassy of the Kyrgyz Republic",
        OrganisationKind.EMBASSY,
        "Ambassade van de Kirgizische Republiek",
        "Посольство Кыргызской Республики",
        (
            DemoPerson(  # H: chargé d'affaires en pied since 2020
                "Aibek",
                "Toktogulov",
                AppointmentRole.CHARGE_EN_PIED,
                MR,
                "Айбек Токтогулов",
                language="ru",
                since=date(2020, 6, 3),
            ),
        ),
        country="KG",
        email="protocol@kg-embassy.example",
    ),
    DemoOrganisation(
        "TJ",
        "Embassy of the Republic of Tajikistan",
        OrganisationKind.EMBASSY,
        "Ambassade van de Republiek Tadzjikistan",
        "Посольство Республики Таджикистан",
        (
            DemoPerson(  # G: chargé a.i., assumption notified 3 October 2024
                "Farrukh",
                "Nazarov",
                AppointmentRole.CHARGE_AD_INTERIM,
                MR,
                "Фаррух Назаров",
                language="ru",
                since=date(2024, 10, 3),
            ),
        ),
        country="TJ",
        email="protocol@tj-embassy.example",
    ),
    DemoOrganisation(
        "GE",
        "Embassy of Georgia",
        OrganisationKind.EMBASSY,
        "Ambassade van Georgië",
        "Посольство Грузии",
        (
            DemoPerson(  # F: chargée a.i. since 15 January 2025
                "Tamar",
                "Gelashvili",
                AppointmentRole.CHARGE_AD_INTERIM,
                MS,
                "თამარ გელაშვილი",
                since=date(2025, 1, 15),
            ),
        ),
        country="GE",
        email="protocol@ge-embassy.example",
    ),
    DemoOrganisation(
        "BY",
        "Embassy of the Republic of Belarus",
        OrganisationKind.EMBASSY,
        "Ambassade van de Republiek Belarus",
        "Посольство Республики Беларусь",
        (
            DemoPerson(  # J: the defence attaché, on behalf of the head of mission
                "Andrei",
                "Zhuk",
                AppointmentRole.REPRESENTATIVE,
                MR,
                "Андрэй Жук",
                language="ru",
                since=date(2023, 8, 1),
                taken_up=False,
            ),
        ),
        country="BY",
        email="protocol@by-embassy.example",
    ),
    DemoOrganisation(
        "RU",
        "Embassy of the Russian Federation",
        OrganisationKind.EMBASSY,
        "Ambassade van de Russische Federatie",
        "Посольство Российской Федерации",
        (
            DemoPerson(  # an ambassador-designate: no credentials yet, not ranked
                "Pavel",
                "Orlovsky",
                AppointmentRole.AMBASSADOR,
                HE,
                "Павел Сергеевич Орловский",
                "Sergeyevich",
                "ru",
                since=date(2026, 10, 1),
                taken_up=False,
            ),
        ),
        country="RU",
        email="protocol@ru-embassy.example",
    ),
)

DUTCH: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        "LEUSDEN",
        "Municipality of Leusden",
        OrganisationKind.MUNICIPALITY,
        "Gemeente Leusden",
        "Муниципалитет Лёйсдена",
        (
            DemoPerson(
                "Marieke",
                "van Doorn",
                AppointmentRole.MAYOR,
                MS,
                language="nl",
                since=date(2020, 9, 1),
            ),
        ),
        country="NL",
        email="kabinet@leusden.example",
        protocol_contact="Kabinet van de burgemeester",
        groups=(MUNICIPALITIES,),
    ),
    DemoOrganisation(
        "AMERSFOORT",
        "Municipality of Amersfoort",
        OrganisationKind.MUNICIPALITY,
        "Gemeente Amersfoort",
        "Муниципалитет Амерсфорт",
        (
            DemoPerson(
                "Pieter",
                "Hoogland",
                AppointmentRole.MAYOR,
                MR,
                language="nl",
                since=date(2019, 4, 1),
            ),
            DemoPerson(
                "Sanne",
                "Bakker",
                AppointmentRole.DEPUTY_MAYOR,
                MS,
                language="nl",
                since=date(2022, 6, 1),
            ),
        ),
        country="NL",
        email="protocol@amersfoort.example",
        protocol_contact="Protocol",
        groups=(MUNICIPALITIES,),
    ),
    DemoOrganisation(
        "PROVINCE",
        "Province of Utrecht",
        OrganisationKind.PROVINCE,
        "Provincie Utrecht",
        "Провинция Утрехт",
        (
            DemoPerson(
                "Jeroen",
                "van Wijngaarden",
                AppointmentRole.KINGS_COMMISSIONER,
                MR,
                language="nl",
                since=date(2021, 3, 1),
            ),
        ),
        country="NL",
        email="kabinet@provincie-utrecht.example",
        protocol_contact="Kabinet van de Commissaris van de Koning",
    ),
    DemoOrganisation(
        "DEFENCE",
        "Ministry of Defence",
        OrganisationKind.MINISTRY,
        "Ministerie van Defensie",
        "Министерство обороны Нидерландов",
        (
            DemoPerson(
                "Frank",
                "de Groot",
                AppointmentRole.OFFICIAL,
                MR,
                language="nl",
                since=date(2022, 1, 1),
            ),
        ),
        country="NL",
        email="protocol@defensie.example",
        protocol_contact="Protocol department",
    ),
    DemoOrganisation(
        "SCHOOL1",
        "Primary school Het Heidepad",
        OrganisationKind.SCHOOL,
        "Basisschool Het Heidepad",
        "Начальная школа «Хет Хейдепад»",
        (
            DemoPerson(
                "Esther",
                "Vermeulen",
                AppointmentRole.DIRECTOR,
                MS,
                language="nl",
                since=date(2017, 8, 1),
            ),
        ),
        country="NL",
        email="directie@heidepad.example",
    ),
    DemoOrganisation(
        "SCHOOL2",
        "Eemland Lyceum",
        OrganisationKind.SCHOOL,
        "Eemland Lyceum",
        "Лицей «Эмланд»",
        (
            DemoPerson(
                "Rob",
                "Smits",
                AppointmentRole.DIRECTOR,
                MR,
                language="nl",
                since=date(2019, 8, 1),
            ),
        ),
        country="NL",
        email="directie@eemlandlyceum.example",
    ),
    DemoOrganisation(
        "VETERANS",
        "Veterans Association Eemland",
        OrganisationKind.VETERANS,
        "Veteranenvereniging Eemland",
        "Ассоциация ветеранов Эмланда",
        (
            DemoPerson(
                "Hans",
                "Kuiper",
                AppointmentRole.DIRECTOR,
                MR,
                language="nl",
                since=date(2016, 1, 1),
            ),
        ),
        country="NL",
        email="secretariaat@veteranen-eemland.example",
    ),
)

FAMILIES: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        "SAIDOV",
        "Saidov family",
        OrganisationKind.FAMILY,
        "Familie Saidov",
        "Семья Саидовых",
        (
            DemoPerson(
                "Timur",
                "Saidov",
                AppointmentRole.RELATIVE,
                MR,
                "Тимур Саидов",
                language="ru",
                relation=(
                    "Grandson of Rustam Saidov (1921-1942), prisoner of war from Camp "
                    "Amersfoort, buried at the Field, grave B-3-17 (fictional)."
                ),
                email="timur.saidov@example.net",
            ),
            DemoPerson(
                "Malika",
                "Saidova",
                AppointmentRole.RELATIVE,
                MS,
                "Малика Саидова",
                language="ru",
                relation=(
                    "Great-granddaughter of Rustam Saidov, buried at the Field, "
                    "grave B-3-17 (fictional)."
                ),
            ),
        ),
        country="UZ",
        groups=(RELATIVES,),
    ),
    DemoOrganisation(
        "NURPEISOVA",
        "Nurpeisova family",
        OrganisationKind.FAMILY,
        "Familie Nurpeisova",
        "Семья Нурпеисовых",
        (
            DemoPerson(
                "Aigerim",
                "Nurpeisova",
                AppointmentRole.RELATIVE,
                MS,
                "Айгерім Нұрпейісова",
                language="en",
                relation=(
                    "Granddaughter of Bolat Nurpeisov (1915-1942), reburied from "
                    "Margraten, buried at the Field, grave D-7-04 (fictional)."
                ),
                email="aigerim.nurpeisova@example.net",
            ),
        ),
        country="KZ",
        groups=(RELATIVES,),
    ),
)

ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    *(replace(embassy, groups=(DIPLOMATIC_CORPS,)) for embassy in EMBASSIES),
    *DUTCH,
    *FAMILIES,
)


# --- contacts -------------------------------------------------------------------------


def _person_data(spec: DemoPerson) -> PersonData:
    return PersonData(
        family_name=spec.family_name,
        given_name=spec.given_name,
        native_name=spec.native_name,
        patronymic=spec.patronymic,
        gender=spec.gender,
        email=spec.email,
        language=spec.language,
        relation=spec.relation,
        notes=DEMO_MARK,
    )


def _appointment_data(organisation: Organisation, spec: DemoPerson) -> AppointmentData:
    taken_up_at = None
    if spec.taken_up and spec.since is not None:
        taken_up_at = wall_time(spec.since, spec.at) if spec.at else day_start(spec.since)
    return AppointmentData(
        organisation=organisation,
        role=spec.role,
        taken_up_at=taken_up_at,
        valid_from=spec.since,
    )


def _is_demo(organisation: Organisation) -> bool:
    return organisation.notes.startswith(DEMO_MARK)


class _Loader:
    def __init__(self, session: DbSession, approver: User) -> None:
        self.session = session
        self.approver = approver
        self.result = DemoResult()
        self.organisations: dict[str, Organisation] = {}

    # contacts

    def contacts(self) -> None:
        groups = {name: self._group(name) for name in GROUPS}
        for spec in ORGANISATIONS:
            found = organisation_by_name(self.session, spec.name)
            if found is not None and not _is_demo(found):
                self.result.skipped.append(spec.name)
                continue
            organisation = found or self._organisation(spec)
            self.organisations[spec.key] = organisation
            if found is None:
                for name in spec.groups:
                    self.result.memberships += set_membership(
                        self.session, groups[name], organisation, True, actor_user_id=None
                    )

    def _group(self, name: str) -> ContactGroup:
        group = group_by_name(self.session, name)
        if group is None:
            group = create_group(self.session, name, actor_user_id=None)
            self.result.groups += 1
        return group

    def _organisation(self, spec: DemoOrganisation) -> Organisation:
        organisation = create_organisation(
            self.session,
            OrganisationData(
                name=spec.name,
                kind=spec.kind,
                name_nl=spec.name_nl,
                name_en=spec.name,
                name_ru=spec.name_ru,
                country=spec.country,
                resident=spec.resident,
                email=spec.email,
                protocol_contact=spec.protocol_contact,
                notes=DEMO_NOTE,
            ),
            actor_user_id=None,
        )
        self.result.organisations += 1
        for person_spec in spec.people:
            person = create_person(self.session, _person_data(person_spec), actor_user_id=None)
            add_appointment(
                self.session,
                person,
                _appointment_data(organisation, person_spec),
                actor_user_id=None,
            )
            self.result.persons += 1
            self.result.appointments += 1
        self.session.refresh(organisation, ["appointments"])
        return organisation

    # invitations

    def edition(self, year: int) -> Ceremony | None:
        return self.session.scalar(
            sa.select(Ceremony).where(Ceremony.slug == f"{year}-{SERIES_SLUG}")
        )

    def policy(self, ceremony: Ceremony, key: str, decision: PolicyDecision, reason: str) -> None:
        """Set the organisation's own policy unless the edition has one for it already."""
        organisation = self.organisations.get(key)
        if organisation is None or policy_for(self.session, ceremony, organisation) is not None:
            return
        set_policy(
            self.session,
            ceremony,
            PolicyData(organisation=organisation, country=None, decision=decision, reason=reason),
            self.approver,
            ACTOR,
        )
        self.result.policies += 1

    def invite(self, ceremony: Ceremony, key: str) -> Invitation | None:
        """A new draft invitation; None if the organisation is invited already (or not to
        be invited, or not demo data): then the demo leaves it as it is."""
        organisation = self.organisations.get(key)
        if organisation is None or existing_invitation(self.session, ceremony, organisation):
            return None
        if decision_for(self.session, ceremony, organisation) == PolicyDecision.DO_NOT_INVITE:
            return None
        invitation = create_invitation(self.session, ceremony, organisation, ACTOR)
        self.result.invitations += 1
        if ceremony.slug not in self.result.editions:
            self.result.editions.append(ceremony.slug)
        return invitation

    def send(self, invitation: Invitation) -> None:
        mark_sent(self.session, invitation, invitation.version, ACTOR)

    def edit(
        self,
        invitation: Invitation,
        *,
        status: InvitationStatus | None = None,
        addressee: Person | None = None,
    ) -> None:
        """What staff change in the edit form: the status, or the addressee."""
        update_invitation(
            self.session,
            invitation,
            InvitationChanges(
                addressee=addressee or invitation.addressee,
                language=invitation.language,
                kind=invitation.kind,
                rsvp_deadline=invitation.rsvp_deadline,
                cohosts=invitation.cohosts,
                status=status or invitation.status,
                accessibility=invitation.accessibility,
                remark=invitation.remark,
            ),
            invitation.version,
            ACTOR,
        )

    def by_link(
        self,
        invitation: Invitation,
        members: Sequence[Member],
        wreath: WreathChoice = WreathChoice.NONE,
        ribbon: str = "",
        colours: str = "",
        accessibility: str = "",
    ) -> None:
        """The delegation accepts through its personal link, names its members, and
        chooses its wreath; by staff instead once the link is closed for changes."""
        if not rsvp_services.open_for_changes(invitation):
            self.by_staff(invitation, InvitationStatus.ACCEPTED, "", members, wreath, ribbon)
            return
        head, *others = [rsvp_services.MemberData(*m) for m in members]
        rsvp_services.reply(
            invitation, True, expected_version=invitation.version, address="", head=head
        )
        self.session.flush()
        for member in others:
            rsvp_services.add_member(
                invitation, member, expected_version=invitation.version, address=""
            )
            self.session.flush()
        details = rsvp_services.DetailsData(wreath, ribbon, colours, accessibility)
        rsvp_services.save_details(
            invitation, details, expected_version=invitation.version, address=""
        )
        self.session.flush()

    def decline_by_link(self, invitation: Invitation) -> None:
        if not rsvp_services.open_for_changes(invitation):
            self.by_staff(invitation, InvitationStatus.DECLINED, "", (), WreathChoice.NONE, "")
            return
        rsvp_services.reply(invitation, False, expected_version=invitation.version, address="")
        self.session.flush()

    def by_staff(
        self,
        invitation: Invitation,
        answer: InvitationStatus,
        note: str,
        members: Sequence[Member],
        wreath: WreathChoice,
        ribbon: str,
        colours: str = "",
    ) -> None:
        """Staff record the answer (phone call, note verbale) and the delegation."""
        record_reply(
            self.session,
            invitation,
            answer,
            note,
            None,
            Path(current_app.instance_path) / "documents",
            invitation.version,
            ACTOR,
        )
        if members or wreath != WreathChoice.NONE:
            self.delegation(invitation, members, wreath, ribbon, colours)

    def delegation(
        self,
        invitation: Invitation,
        members: Sequence[Member],
        wreath: WreathChoice,
        ribbon: str,
        colours: str = "",
    ) -> None:
        update_delegation(
            self.session,
            invitation,
            DelegationData([MemberData(*m) for m in members], wreath, ribbon, colours),
            invitation.version,
            ACTOR,
        )

    def next_year(self, ceremony: Ceremony) -> None:
        """Every status, both policies, wreaths of every supplier (see the module doc)."""
        reason = "demo: political decision 2022"
        self.policy(ceremony, "RU", PolicyDecision.DO_NOT_INVITE, reason)
        self.policy(ceremony, "BY", PolicyDecision.PROXY_ONLY, reason)

        if invitation := self.invite(ceremony, "UZ"):  # I, the dean: accepted
            self.send(invitation)
            self.by_link(
                invitation,
                [
                    ("Anvar Tursunkhodjaev", "Ambassador", LAYER, "CD-101-UZ"),
                    ("Dilshod Rakhimov", "First Secretary", BEARER),
                ],
                WreathChoice.OWN,
                "Вечная память героям — от Посольства Республики Узбекистан",
                "white, blue, green",
            )
        if invitation := self.invite(ceremony, "TM"):  # D: sent, no answer yet
            self.send(invitation)
        if invitation := self.invite(ceremony, "KZ"):  # A: accepted, wreath ordered
            self.send(invitation)
            self.by_link(
                invitation,
                [
                    ("Нұрлан Әлібекұлы Сәрсенбаев", "Елші / Ambassador", LAYER, "CD-102-KZ"),
                    ("Айгерім Өтегенқызы", "Кеңесші / Counsellor", LAYER),
                    ("Ерқанат Құдайбергенов", "Әскери атташе / Defence attaché", BEARER),
                    ("Әсел Жұмағұлова", "Үшінші хатшы / Third Secretary", ATTENDEE),
                ],
                WreathChoice.ORDER,
                "Мәңгі есімізде — Қазақстан Республикасының Елшілігі",
                "sky blue, gold",
                "One member uses a wheelchair.",
            )
        if invitation := self.invite(ceremony, "AM"):  # C (09:15): accepted, own wreath
            self.send(invitation)
            self.by_link(
                invitation,
                [("Anahit Melkonyan", "Ambassador", LAYER)],
                WreathChoice.OWN,
                "Помним. Скорбим. — Посольство Республики Армения",
                "red, blue, orange",
            )
        if invitation := self.invite(ceremony, "AZ"):  # B (10:00): note verbale
            self.send(invitation)
            self.by_staff(
                invitation,
                InvitationStatus.ACCEPTED,
                "Note verbale No. 0427 of the embassy (fictional): the ambassador attends.",
                [
                    ("Rashad Guliyev", "Ambassador", LAYER),
                    ("Nigar Hasanova", "Attaché", BEARER),
                ],
                WreathChoice.OWN,
                "Вечная память павшим — Посольство Азербайджанской Республики",
                "blue, red, green",
            )
        if invitation := self.invite(ceremony, "UA"):  # E: declined
            self.send(invitation)
            self.decline_by_link(invitation)
        if invitation := self.invite(ceremony, "KG"):  # H: opened the link, no answer
            self.send(invitation)
            self.edit(invitation, status=InvitationStatus.VIEWED)
        if invitation := self.invite(ceremony, "TJ"):  # G: accepted, wreath ordered
            self.send(invitation)
            self.by_link(
                invitation,
                [("Farrukh Nazarov", "Chargé d'affaires a.i.", LAYER)],
                WreathChoice.ORDER,
                "От Посольства Республики Таджикистан",
                "red, white, green",
            )
        if invitation := self.invite(ceremony, "GE"):  # F: no reply (set by staff)
            self.send(invitation)
            self.edit(invitation, status=InvitationStatus.NO_REPLY)
        if invitation := self.invite(ceremony, "BY"):  # J: a wreath by proxy only
            self.delegation(invitation, (), WreathChoice.PROXY, "От Посольства Республики Беларусь")

        if invitation := self.invite(ceremony, "LEUSDEN"):  # the host: by telephone
            self.send(invitation)
            self.by_staff(
                invitation,
                InvitationStatus.ACCEPTED,
                "Confirmed by telephone with the mayor's office.",
                [
                    ("Marieke van Doorn", "Burgemeester", LAYER),
                    ("Kees Mulder", "Bode", BEARER),
                ],
                WreathChoice.OWN,
                "In dankbare herinnering — Gemeente Leusden",
                "rood, wit, blauw",
            )
        amersfoort = self.organisations.get("AMERSFOORT")
        if (invitation := self.invite(ceremony, "AMERSFOORT")) and amersfoort:
            deputy = _holder(amersfoort, AppointmentRole.DEPUTY_MAYOR)
            if deputy is not None:  # the mayor is away: the deputy mayor comes
                self.edit(invitation, addressee=deputy)
            self.send(invitation)
            self.by_link(
                invitation,
                [("Sanne Bakker", "Locoburgemeester", LAYER)],
                WreathChoice.ORDER,
                "Wij gedenken — Gemeente Amersfoort",
                "rood, wit",
            )
        if invitation := self.invite(ceremony, "PROVINCE"):
            self.send(invitation)
            self.by_link(
                invitation,
                [("Jeroen van Wijngaarden", "Commissaris van de Koning", LAYER)],
                WreathChoice.OWN,
                "Provincie Utrecht gedenkt",
                "rood, geel",
            )
        if invitation := self.invite(ceremony, "DEFENCE"):  # declined, ordered a wreath
            self.send(invitation)
            self.by_staff(
                invitation,
                InvitationStatus.DECLINED,
                "Nobody can attend; please order a wreath on our behalf.",
                (),
                WreathChoice.ORDER,
                "Ministerie van Defensie",
                "rood, wit, blauw",
            )
        if invitation := self.invite(ceremony, "SCHOOL1"):  # accepted, no wreath
            self.send(invitation)
            self.by_link(
                invitation,
                [
                    ("Esther Vermeulen", "Directeur", ATTENDEE),
                    ("Joost Hendriks", "Leerkracht groep 8", ATTENDEE),
                ],
            )
        self.invite(ceremony, "SCHOOL2")  # a draft
        if invitation := self.invite(ceremony, "VETERANS"):
            self.send(invitation)
            self.by_link(
                invitation,
                [
                    ("Hans Kuiper", "Voorzitter", LAYER),
                    ("Wim de Boer", "Vaandeldrager", BEARER),
                ],
                WreathChoice.OWN,
                "Nooit vergeten — Veteranenvereniging Eemland",
                "oranje",
            )
        if invitation := self.invite(ceremony, "SAIDOV"):  # relatives: accepted
            self.send(invitation)
            self.by_link(
                invitation,
                [
                    ("Тимур Саидов", "Внук / grandson", LAYER),
                    ("Малика Саидова", "Правнучка / great-granddaughter", ATTENDEE),
                ],
                WreathChoice.OWN,
                "Дорогому дедушке Рустаму — от внуков и правнуков",
                "red, white",
            )
        if invitation := self.invite(ceremony, "NURPEISOVA"):  # relatives: sent
            self.send(invitation)

    def this_year(self, ceremony: Ceremony) -> None:
        """A few, through staff's services only (the reply deadline may have passed)."""
        if invitation := self.invite(ceremony, "LEUSDEN"):
            self.send(invitation)
            self.by_staff(
                invitation,
                InvitationStatus.ACCEPTED,
                "Confirmed by telephone with the mayor's office.",
                [("Marieke van Doorn", "Burgemeester", LAYER)],
                WreathChoice.OWN,
                "In dankbare herinnering — Gemeente Leusden",
                "rood, wit, blauw",
            )
        if invitation := self.invite(ceremony, "AMERSFOORT"):
            self.send(invitation)
        self.invite(ceremony, "KZ")


Member = tuple[str, str, MemberRole] | tuple[str, str, MemberRole, str]
LAYER = MemberRole.WREATH_LAYER
BEARER = MemberRole.WREATH_BEARER
ATTENDEE = MemberRole.ATTENDEE


def _holder(organisation: Organisation, role: AppointmentRole) -> Person | None:
    return next((a.person for a in organisation.appointments if a.role == role), None)


def demo_approver(session: DbSession) -> User | None:
    """The administrator who approves the demo's invitation policies: the first active one."""
    admins = session.scalars(
        sa.select(User).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id)
    )
    return next(iter(admins), None)


# The dress line of the demo's 9 May, in each language (not "Lounge suit": a dark suit).
DEMO_DRESS = {"nl": "Donker kostuum", "en": "Dark suit", "ru": "Тёмный костюм"}


DEMO_HOST_NAMES = {"Mayor": "Marieke van Doorn", "Director": "Anna Kuipers"}


def _guest_texts(ceremony: Ceremony) -> None:
    """The series' hosts and the dress line, where staff have set none."""
    if not ceremony.hosts and ceremony.series is not None:
        ceremony.hosts = hosts_from_templates(ceremony.series.default_hosts or [])
    # The seed leaves hosts' names to staff; the demo's letters are signed by its people.
    for host in ceremony.hosts:
        if not host.name:
            host.name = next(
                (name for word, name in DEMO_HOST_NAMES.items() if word in host.function_en), ""
            )
    if not any(getattr(ceremony, f"dress_code_{lang}") for lang in DEMO_DRESS):
        for lang, dress in DEMO_DRESS.items():
            setattr(ceremony, f"dress_code_{lang}", dress)


def load_demo_contacts(session: DbSession, *, today: date | None = None) -> DemoResult:
    """Fictional contacts, and invitations to next year's 9 May edition (this year's too
    while it is ahead); idempotent. Flushes, never commits.

    Needs an active administrator to approve the invitation policies (DemoError if none).
    """
    approver = demo_approver(session)
    if approver is None:
        raise DemoError(
            "The demo needs an active admin account to approve its invitation policies."
        )
    today = today or local_today()
    seed_forms_of_address(session)  # the table of defaults, where the migration did not seed it
    loader = _Loader(session, approver)
    loader.contacts()
    this_year = loader.edition(today.year)
    if this_year is not None and this_year.local_start.date() > today:
        _guest_texts(this_year)
        loader.this_year(this_year)
    next_year = loader.edition(today.year + 1)
    if next_year is not None:
        _guest_texts(next_year)
        loader.next_year(next_year)
    session.flush()
    return loader.result
