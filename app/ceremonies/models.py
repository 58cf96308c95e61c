"""Venues, ceremony series, editions and their programme items."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base, enum_column
from app.i18n import pick
from app.types import utcnow


class OrganiserRole(StrEnum):
    ORGANISED = "organised"
    CO_HOSTED = "co_hosted"
    FACILITATED = "facilitated"


class CeremonyStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    HELD = "held"


class ItemKind(StrEnum):
    ASSEMBLY = "assembly"
    MARCH = "march"
    BELLS = "bells"
    SPEECH = "speech"
    POEM = "poem"
    MUSIC = "music"
    TAPTOE = "taptoe"
    SILENCE = "silence"
    ANTHEM = "anthem"
    WREATH_LAYING = "wreath_laying"
    CANDLES = "candles"
    DEFILE = "defile"
    PROCESSION = "procession"
    RECEPTION = "reception"
    OTHER = "other"


class ItemTemplate(TypedDict, total=False):
    """One item of a series' default programme, as stored in its JSON column.

    Defaults saved before the per-language performer hold one ``performer`` (a name).
    """

    kind: str
    start_time: str | None  # "HH:MM" wall clock in the venue's zone
    offset_minutes: int | None
    duration_minutes: int
    performer: str
    performer_nl: str
    performer_en: str
    performer_ru: str
    text_nl: str
    text_en: str
    text_ru: str
    printable: bool


class HostTemplate(TypedDict):
    """One host of a series' default hosts, as stored in its JSON column."""

    name: str
    function_nl: str
    function_en: str
    function_ru: str


class Venue(Base):
    """A place where ceremonies are held; coordinates feed the sunset computation."""

    __tablename__ = "venue"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    address: Mapped[str] = mapped_column(sa.String(500), default="")
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Amsterdam")
    # Internal to staff: never shown to guests.
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # What guests read about getting there: access and parking, per language.
    access_notes_nl: Mapped[str] = mapped_column(sa.String(1000), default="")
    access_notes_en: Mapped[str] = mapped_column(sa.String(1000), default="")
    access_notes_ru: Mapped[str] = mapped_column(sa.String(1000), default="")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr__(self) -> str:
        return f"<Venue {self.name!r}>"


class CeremonySeries(Base):
    """An annual ceremony (9 April Koedriest, 4 May, 9 May...) that yields editions."""

    __tablename__ = "ceremony_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    title_nl: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_ru: Mapped[str] = mapped_column(sa.String(200), default="")
    month: Mapped[int] = mapped_column(sa.SmallInteger)
    day: Mapped[int] = mapped_column(sa.SmallInteger)
    start_time: Mapped[time] = mapped_column(sa.Time)
    duration_minutes: Mapped[int] = mapped_column(sa.Integer)
    venue_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("venue.id", ondelete="SET NULL"), index=True
    )
    base_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    organiser_role: Mapped[OrganiserRole] = mapped_column(
        enum_column(OrganiserRole), default=OrganiserRole.ORGANISED
    )
    public: Mapped[bool] = mapped_column(default=True)
    default_programme: Mapped[list[ItemTemplate]] = mapped_column(sa.JSON, default=list)
    # Copied into each new edition (HostTemplate dicts, in order).
    default_hosts: Mapped[list[HostTemplate]] = mapped_column(sa.JSON, default=list)
    # The wreath order's default groups (app.wreaths.models.WreathGroupTemplate dicts).
    default_wreath_groups: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    # Days before the ceremony: the RSVP deadline's default for new editions.
    rsvp_days_before: Mapped[int] = mapped_column(default=14)
    active: Mapped[bool] = mapped_column(default=True)

    venue: Mapped[Venue | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
        sa.CheckConstraint("day BETWEEN 1 AND 31", name="day_range"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    def title(self, lang: str) -> str:
        return pick(self, "title", lang)

    def date_in(self, year: int) -> date:
        """The series' date in ``year``; 29 February falls back to 28 in common years."""
        try:
            return date(year, self.month, self.day)
        except ValueError:
            return date(year, self.month, 28)

    def __repr__(self) -> str:
        return f"<CeremonySeries {self.slug}>"


class Ceremony(Base):
    """One edition of a ceremony: a series' yearly occurrence, or a one-off."""

    __tablename__ = "ceremony"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The calendar UID: made once, never derived from anything that can change.
    uid: Mapped[str] = mapped_column(sa.String(100), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    series_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ceremony_series.id", ondelete="SET NULL"), index=True
    )
    title_nl: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_ru: Mapped[str] = mapped_column(sa.String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    venue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("venue.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[CeremonyStatus] = mapped_column(
        enum_column(CeremonyStatus), default=CeremonyStatus.DRAFT, index=True
    )
    public: Mapped[bool] = mapped_column(default=True)
    base_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # For invitations: the reply deadline (before the ceremony and the print deadline),
    # the dress line and the practical notes of the day, per language; the hosts are rows.
    rsvp_deadline: Mapped[date | None] = mapped_column(sa.Date)
    dress_code_nl: Mapped[str] = mapped_column(sa.String(200), default="")
    dress_code_en: Mapped[str] = mapped_column(sa.String(200), default="")
    dress_code_ru: Mapped[str] = mapped_column(sa.String(200), default="")
    practical_notes_nl: Mapped[str] = mapped_column(sa.String(1000), default="")
    practical_notes_en: Mapped[str] = mapped_column(sa.String(1000), default="")
    practical_notes_ru: Mapped[str] = mapped_column(sa.String(1000), default="")
    # Reminders, relative to the edition so that a copy to next year keeps them (None:
    # none): to those who have not replied, days before the RSVP deadline; the practical
    # note to accepted delegations, days before the ceremony.
    reminder_days: Mapped[int | None] = mapped_column(default=7)
    practical_days: Mapped[int | None] = mapped_column(default=3)
    # Raised on every change of time, place or status (calendar clients need it).
    sequence: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # First publication: a cancelled edition stays in public feeds only if it was ever
    # announced there.
    published_at: Mapped[datetime | None]
    # When an announced public edition stopped being public (unpublished, made private):
    # its own .ics answers it as cancelled for a grace period, so that subscribers drop
    # it instead of keeping a stale copy. None while it is public.
    withdrawn_at: Mapped[datetime | None]
    # Whole seconds, raised on every change of what a feed shows of this edition alone
    # (the delegation's personal feed's Last-Modified); set by app.calendar.services.
    calendar_changed_at: Mapped[datetime | None]

    series: Mapped[CeremonySeries | None] = relationship()
    venue: Mapped[Venue] = relationship()
    items: Mapped[list[ProgrammeItem]] = relationship(
        back_populates="ceremony",
        cascade="all, delete-orphan",
        order_by="(ProgrammeItem.position, ProgrammeItem.id)",
    )
    hosts: Mapped[list[Host]] = relationship(
        back_populates="ceremony",
        cascade="all, delete-orphan",
        order_by="(Host.position, Host.id)",
    )

    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)
    # The version guards every UPDATE, but only an edit of the details raises it (the
    # services do): a programme change touching updated_at must not void an open form.
    __mapper_args__: dict[str, Any] = {"version_id_col": version, "version_id_generator": False}

    @property
    def zone(self) -> ZoneInfo:
        return self.venue.zone

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.zone)

    @property
    def year(self) -> int:
        return self.local_start.year

    @property
    def anniversary(self) -> int | None:
        """The ordinal of this commemoration: 2026 - 1942 = the 84th Koedriest."""
        if self.base_year is None:
            return None
        number = self.year - self.base_year
        return number if number > 0 else None

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    def title(self, lang: str) -> str:
        return pick(self, "title", lang)

    def __repr__(self) -> str:
        return f"<Ceremony {self.slug}>"


class ProgrammeItem(Base):
    """One timed item of an edition's programme.

    Its start is a wall-clock time in the venue's zone, or an offset from the edition's
    start, or (neither) the end of the item before it.
    """

    __tablename__ = "programme_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    ceremony_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ceremony.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[ItemKind] = mapped_column(enum_column(ItemKind), default=ItemKind.OTHER)
    start_time: Mapped[time | None] = mapped_column(sa.Time)
    offset_minutes: Mapped[int | None]
    duration_minutes: Mapped[int] = mapped_column(default=0)
    performer_nl: Mapped[str] = mapped_column(sa.String(200), default="")
    performer_en: Mapped[str] = mapped_column(sa.String(200), default="")
    performer_ru: Mapped[str] = mapped_column(sa.String(200), default="")
    text_nl: Mapped[str] = mapped_column(sa.String(500), default="")
    text_en: Mapped[str] = mapped_column(sa.String(500), default="")
    text_ru: Mapped[str] = mapped_column(sa.String(500), default="")
    printable: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    ceremony: Mapped[Ceremony] = relationship(back_populates="items")

    __table_args__ = (sa.CheckConstraint("duration_minutes >= 0", name="duration_not_negative"),)
    __mapper_args__: dict[str, Any] = {"version_id_col": version, "version_id_generator": False}

    def text(self, lang: str) -> str:
        return pick(self, "text", lang)

    def as_template(self) -> ItemTemplate:
        """This item as a default-programme entry of a series."""
        return ItemTemplate(
            kind=self.kind.value,
            start_time=self.start_time.strftime("%H:%M") if self.start_time else None,
            offset_minutes=self.offset_minutes,
            duration_minutes=self.duration_minutes,
            performer_nl=self.performer_nl,
            performer_en=self.performer_en,
            performer_ru=self.performer_ru,
            text_nl=self.text_nl,
            text_en=self.text_en,
            text_ru=self.text_ru,
            printable=self.printable,
        )


class Host(Base):
    """One host of an edition, named on its letters and emails: a name (any script, the
    same in every language) and a function per language, in the order they sign."""

    __tablename__ = "ceremony_host"

    id: Mapped[int] = mapped_column(primary_key=True)
    ceremony_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ceremony.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    function_nl: Mapped[str] = mapped_column(sa.String(300), default="")
    function_en: Mapped[str] = mapped_column(sa.String(300), default="")
    function_ru: Mapped[str] = mapped_column(sa.String(300), default="")

    ceremony: Mapped[Ceremony] = relationship(back_populates="hosts")

    def as_template(self) -> HostTemplate:
        return HostTemplate(
            name=self.name,
            function_nl=self.function_nl,
            function_en=self.function_en,
            function_ru=self.function_ru,
        )
