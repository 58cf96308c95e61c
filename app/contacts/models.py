"""Organisations, people, their appointments, and groups of organisations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import PERSON_DATA, Base, enum_column
from app.i18n import pick
from app.types import utcnow


class OrganisationKind(StrEnum):
    EMBASSY = "embassy"
    CONSULATE = "consulate"
    MUNICIPALITY = "municipality"
    PROVINCE = "province"
    MINISTRY = "ministry"
    ARMED_FORCES = "armed_forces"
    SCHOOL = "school"
    VETERANS = "veterans"  # veterans' or remembrance organisation
    MUSEUM = "museum"
    FOUNDATION = "foundation"
    FAMILY = "family"
    OTHER = "other"


class Gender(StrEnum):
    """What the forms of address agree with; unknown takes the neutral forms."""

    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class AddressRole(StrEnum):
    """The roles that have their own forms of address (DOMAIN.md); every other
    appointment is addressed as "anyone else"."""

    AMBASSADOR = "ambassador"
    CHARGE_AD_INTERIM = "charge_ad_interim"
    CHARGE_EN_PIED = "charge_en_pied"
    MAYOR = "mayor"
    OTHER = "other"


class AppointmentRole(StrEnum):
    AMBASSADOR = "ambassador"
    ENVOY = "envoy"
    CHARGE_EN_PIED = "charge_en_pied"
    CHARGE_AD_INTERIM = "charge_ad_interim"
    REPRESENTATIVE = "representative"  # on behalf of the head of mission
    CONSUL = "consul"
    MAYOR = "mayor"
    DEPUTY_MAYOR = "deputy_mayor"
    KINGS_COMMISSIONER = "kings_commissioner"
    MINISTER = "minister"
    OFFICIAL = "official"
    DIRECTOR = "director"
    RELATIVE = "relative"
    OTHER = "other"


# Vienna Convention classes: the order of the diplomatic corps (DOMAIN.md).
PRECEDENCE_CLASS: dict[AppointmentRole, int] = {
    AppointmentRole.AMBASSADOR: 1,
    AppointmentRole.ENVOY: 2,
    AppointmentRole.CHARGE_EN_PIED: 3,
    AppointmentRole.CHARGE_AD_INTERIM: 4,
    AppointmentRole.REPRESENTATIVE: 5,
}


organisation_group = sa.Table(
    "organisation_group",
    Base.metadata,
    sa.Column(
        "organisation_id",
        sa.ForeignKey("organisation.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("group_id", sa.ForeignKey("contact_group.id", ondelete="CASCADE"), primary_key=True),
)


class ContactGroup(Base):
    """A named set of organisations ("diplomatic corps, former Soviet republics")."""

    __tablename__ = "contact_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=organisation_group, back_populates="groups"
    )


class Organisation(Base):
    """An embassy, municipality, ministry, school, family...: the invited unit."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300), unique=True)
    # Names per language where they differ from ``name`` ("Embassy of ..." / "Посольство").
    name_nl: Mapped[str] = mapped_column(sa.String(300), default="")
    name_en: Mapped[str] = mapped_column(sa.String(300), default="")
    name_ru: Mapped[str] = mapped_column(sa.String(300), default="")
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind), index=True)
    country: Mapped[str] = mapped_column(sa.String(2), default="", index=True)  # ISO 3166
    resident: Mapped[bool] = mapped_column(default=True)  # False: e.g. Brussels-based
    address: Mapped[str] = mapped_column(sa.Text, default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    # A desk or role ("Protocol department"); people themselves are Person rows.
    protocol_contact: Mapped[str] = mapped_column(sa.String(300), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # Russian letters name the country in the genitive ("Послу Республики Казахстан").
    country_genitive_ru: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    groups: Mapped[list[ContactGroup]] = relationship(
        secondary=organisation_group, back_populates="organisations"
    )
    appointments: Mapped[list[Appointment]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    def display_name(self, lang: str) -> str:
        return pick(self, "name", lang) or self.name

    def __repr__(self) -> str:
        return f"<Organisation {self.name!r}>"


class Person(Base):
    """Someone who is invited, appointed, or related to a person buried at the Field."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(
        sa.String(200), default="", info=PERSON_DATA
    )  # Latin script
    family_name: Mapped[str] = mapped_column(sa.String(200), info=PERSON_DATA)  # Latin script
    native_name: Mapped[str] = mapped_column(
        sa.String(300), default="", info=PERSON_DATA
    )  # e.g. Cyrillic
    patronymic: Mapped[str] = mapped_column(sa.String(200), default="", info=PERSON_DATA)
    gender: Mapped[Gender] = mapped_column(
        enum_column(Gender), default=Gender.UNKNOWN, info=PERSON_DATA
    )
    email: Mapped[str] = mapped_column(sa.String(254), default="", index=True, info=PERSON_DATA)
    phone: Mapped[str] = mapped_column(sa.String(50), default="", info=PERSON_DATA)
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    # For relatives: whom at the Field they are related to (name, grave) where known.
    relation: Mapped[str] = mapped_column(sa.Text, default="", info=PERSON_DATA)
    notes: Mapped[str] = mapped_column(sa.Text, default="", info=PERSON_DATA)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    appointments: Mapped[list[Appointment]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    addresses: Mapped[list[PersonAddress]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)

    def address_in(self, lang: str) -> PersonAddress | None:
        """This person's own forms of address in ``lang``, if staff set or confirmed any."""
        return next((a for a in self.addresses if a.language == lang), None)

    def style_override(self, lang: str) -> str:
        """The style staff gave this person in ``lang`` ("H.E."), else empty."""
        own = self.address_in(lang)
        return own.style if own is not None else ""

    def address_for_edit(self, lang: str) -> PersonAddress:
        found = self.address_in(lang)
        if found is None:
            found = PersonAddress(language=lang)
            self.addresses.append(found)
        return found

    def __repr__(self) -> str:
        return f"<Person {self.full_name!r}>"


class FormOfAddress(Base):
    """The default forms of address of one role, language and gender (DOMAIN.md table).

    Templates take {given}, {surname} and {name} (the name as written in that language)
    and, in the function line, {country} and {organisation}.
    """

    __tablename__ = "form_of_address"
    __table_args__ = (sa.UniqueConstraint("role", "language", "gender"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[AddressRole] = mapped_column(enum_column(AddressRole, 30))
    language: Mapped[str] = mapped_column(sa.String(2))
    gender: Mapped[Gender] = mapped_column(enum_column(Gender))
    style: Mapped[str] = mapped_column(sa.String(200), default="")  # before the name
    function_line: Mapped[str] = mapped_column(sa.String(300), default="")
    salutation: Mapped[str] = mapped_column(sa.String(300), default="")
    mention: Mapped[str] = mapped_column(sa.String(300), default="")


class PersonAddress(Base):
    """One person's own forms of address in one language, and whether staff confirmed
    what will print. Empty texts take the defaults of the role."""

    __tablename__ = "person_address"
    __table_args__ = (sa.UniqueConstraint("person_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(sa.String(2))
    style: Mapped[str] = mapped_column(sa.String(200), default="", info=PERSON_DATA)
    # The whole block, one line a line; replaces style, name and function line.
    address_block: Mapped[str] = mapped_column(sa.Text, default="", info=PERSON_DATA)
    salutation: Mapped[str] = mapped_column(sa.String(300), default="", info=PERSON_DATA)
    mention: Mapped[str] = mapped_column(sa.String(300), default="", info=PERSON_DATA)
    # Russian: the name in the dative as staff confirmed or corrected it.
    name_dative: Mapped[str] = mapped_column(sa.String(300), default="", info=PERSON_DATA)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )

    person: Mapped[Person] = relationship(back_populates="addresses")


class Appointment(Base):
    """A person's role at an organisation, valid from/to (dates, inclusive).

    For heads of mission ``taken_up_at`` is when functions were taken up: the moment the
    King accepted the credentials (several on one morning: the time breaks the tie), or
    for a chargé d'affaires a.i. the notified date.
    """

    __tablename__ = "appointment"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[AppointmentRole] = mapped_column(enum_column(AppointmentRole, 30))
    taken_up_at: Mapped[datetime | None]
    valid_from: Mapped[date | None] = mapped_column(sa.Date)
    valid_to: Mapped[date | None] = mapped_column(sa.Date)
    # Manual tie-break within equal class and moment; lower goes first. Never a rank.
    tie_break: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship(back_populates="appointments")
    organisation: Mapped[Organisation] = relationship(back_populates="appointments")

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    def __repr__(self) -> str:
        return f"<Appointment {self.role} {self.person_id}@{self.organisation_id}>"
