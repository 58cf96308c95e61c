"""What staff do with ceremonies: create, edit, publish, copy, schedule, programme.

Services flush but never commit: the view or command that calls them commits once.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import object_session, selectinload

from app.ceremonies.errors import CeremonyError, EditConflict
from app.ceremonies.guest_texts import LANGUAGES, hosts_from_templates
from app.ceremonies.models import (
    Ceremony,
    CeremonySeries,
    CeremonyStatus,
    ItemKind,
    ItemTemplate,
    OrganiserRole,
    ProgrammeItem,
    Venue,
)
from app.ceremonies.signals import edition_republished
from app.ceremonies.timing import add_minutes, local_datetime, timetable, year_bounds
from app.extensions import DbSession
from app.types import utcnow

MAX_SLUG = 80


# --- slugs --------------------------------------------------------------------------


def slugify(text: str) -> str:
    """ASCII slug: 'Dodenherdenking 4 mei' -> 'dodenherdenking-4-mei'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG].strip("-")


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def edition_slug(year: int, base: str) -> str:
    return f"{year}-{base}"[:MAX_SLUG]


def slug_taken(session: DbSession, slug: str) -> bool:
    return session.scalar(sa.select(Ceremony.id).where(Ceremony.slug == slug)) is not None


def new_uid() -> str:
    return f"{uuid.uuid4()}@ereveld"


# --- editions -----------------------------------------------------------------------


@dataclass
class CeremonyData:
    """What a staff member enters for an edition."""

    title_nl: str
    title_en: str
    title_ru: str
    day: date
    start_time: time
    end_time: time
    venue: Venue
    public: bool = True
    base_year: int | None = None
    notes: str = ""

    def times(self) -> tuple[datetime, datetime]:
        zone = self.venue.zone
        try:
            start = local_datetime(self.day, self.start_time, zone)
        except CeremonyError as error:
            error.field = "start_time"
            raise
        try:
            end = local_datetime(self.day, self.end_time, zone)
        except CeremonyError as error:
            error.field = "end_time"
            raise
        if end <= start:
            raise CeremonyError(_l("The end must be after the start."), field="end_time")
        return start, end


def create_ceremony(
    session: DbSession,
    data: CeremonyData,
    *,
    series: CeremonySeries | None = None,
    slug: str | None = None,
    status: CeremonyStatus = CeremonyStatus.DRAFT,
) -> Ceremony:
    """A new edition, from a series (its slug is YEAR-SERIES) or as a one-off."""
    start, end = data.times()
    if not slug:
        base = series.slug if series else slugify(data.title_en or data.title_nl)
        slug = edition_slug(start.astimezone(data.venue.zone).year, base or "ceremony")
    if not SLUG_RE.match(slug):
        raise CeremonyError(
            _l("Use lower-case letters, digits and single hyphens only."), field="slug"
        )
    if slug_taken(session, slug):
        raise CeremonyError(
            _l("An edition with the slug %(slug)s exists already.", slug=slug), field="slug"
        )
    now = utcnow()
    ceremony = Ceremony(
        uid=new_uid(),
        slug=slug,
        series=series,
        title_nl=data.title_nl,
        title_en=data.title_en,
        title_ru=data.title_ru,
        starts_at=start,
        ends_at=end,
        venue=data.venue,
        status=status,
        public=data.public,
        base_year=data.base_year,
        notes=data.notes,
        sequence=0,
        version=1,
        created_at=now,
        updated_at=now,
        published_at=now if status == CeremonyStatus.PUBLISHED else None,
    )
    session.add(ceremony)
    session.flush()
    return ceremony


def edition_by_slug(session: DbSession, slug: str) -> Ceremony | None:
    return session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise EditConflict()


def update_ceremony(ceremony: Ceremony, data: CeremonyData, expected_version: int) -> Ceremony:
    """Save an edited form, unless someone saved another version since it was opened."""
    check_version(ceremony.version, expected_version)
    start, end = data.times()
    moved = (start, end, data.venue.id) != (ceremony.starts_at, ceremony.ends_at, ceremony.venue_id)
    _shift_clock_times(ceremony, start.astimezone(data.venue.zone))
    ceremony.title_nl = data.title_nl
    ceremony.title_en = data.title_en
    ceremony.title_ru = data.title_ru
    ceremony.starts_at = start
    ceremony.ends_at = end
    ceremony.venue = data.venue
    ceremony.public = data.public
    ceremony.base_year = data.base_year
    ceremony.notes = data.notes
    if moved:
        ceremony.sequence += 1
    ceremony.version += 1
    ceremony.updated_at = utcnow()
    return ceremony


def _shift_clock_times(ceremony: Ceremony, new_start: datetime) -> None:
    """Programme items at a clock time move with the edition's start: moved from 10:00 to
    14:00, the wreaths at 10:15 are laid at 14:15, not hours before the edition begins.
    (Items timed by an offset or by the item before follow by themselves.) The silence
    stays: it is kept at the nation's clock time (20:00 on 4 May), whenever the edition
    begins; the silence-time warning says when it no longer fits."""
    old_start = ceremony.local_start
    shift = datetime.combine(date.min, new_start.time()) - datetime.combine(
        date.min, old_start.time()
    )
    if not shift:
        return
    for item in ceremony.items:
        if item.start_time is not None and item.kind != ItemKind.SILENCE:
            moved = datetime.combine(old_start.date(), item.start_time) + shift
            item.start_time = moved.time()
            item.version += 1  # an open form for the item now holds the old time


# Which status may follow which; anything else is refused with a reason.
TRANSITIONS: dict[CeremonyStatus, frozenset[CeremonyStatus]] = {
    CeremonyStatus.DRAFT: frozenset({CeremonyStatus.PUBLISHED, CeremonyStatus.CANCELLED}),
    CeremonyStatus.PUBLISHED: frozenset(
        {CeremonyStatus.DRAFT, CeremonyStatus.CANCELLED, CeremonyStatus.HELD}
    ),
    CeremonyStatus.CANCELLED: frozenset({CeremonyStatus.DRAFT, CeremonyStatus.PUBLISHED}),
    CeremonyStatus.HELD: frozenset({CeremonyStatus.PUBLISHED}),
}


def set_status(
    ceremony: Ceremony,
    status: CeremonyStatus,
    expected_version: int | None = None,
    *,
    now: datetime | None = None,
) -> Ceremony:
    """Publish, unpublish, cancel, reinstate or mark held."""
    check_version(ceremony.version, expected_version)
    if status == ceremony.status:
        return ceremony
    if status not in TRANSITIONS[ceremony.status]:
        raise CeremonyError(
            _l(
                "A %(current)s edition cannot become %(new)s.",
                current=status_label(ceremony.status),
                new=status_label(status),
            )
        )
    if status == CeremonyStatus.HELD and ceremony.starts_at > (now or utcnow()):
        raise CeremonyError(_l("An edition can be marked held once it has begun."))
    republished = status == CeremonyStatus.PUBLISHED and (
        ceremony.published_at is not None or ceremony.status == CeremonyStatus.CANCELLED
    )
    ceremony.status = status
    if status == CeremonyStatus.PUBLISHED and ceremony.published_at is None:
        ceremony.published_at = utcnow()
    ceremony.sequence += 1
    ceremony.version += 1
    ceremony.updated_at = utcnow()
    if republished:  # whoever was told it was cancelled must hear that it is on again
        edition_republished.send(ceremony, session=object_session(ceremony))
    return ceremony


def status_label(status: CeremonyStatus) -> str:
    labels = {
        CeremonyStatus.DRAFT: _l("draft"),
        CeremonyStatus.PUBLISHED: _l("published"),
        CeremonyStatus.CANCELLED: _l("cancelled"),
        CeremonyStatus.HELD: _l("held"),
    }
    return str(labels[status])


def create_from_series(
    session: DbSession,
    series: CeremonySeries,
    year: int,
    status: CeremonyStatus = CeremonyStatus.DRAFT,
) -> Ceremony:
    """The series' edition for ``year`` with its default programme."""
    if series.venue is None:
        raise CeremonyError(_l("The series %(title)s has no default venue.", title=series.title_en))
    day = series.date_in(year)
    start = local_datetime(day, series.start_time, series.venue.zone)
    end = add_minutes(start, series.duration_minutes)
    data = CeremonyData(
        title_nl=series.title_nl,
        title_en=series.title_en,
        title_ru=series.title_ru,
        day=day,
        start_time=start.timetz().replace(tzinfo=None),
        end_time=end.timetz().replace(tzinfo=None),
        venue=series.venue,
        public=series.public,
        base_year=series.base_year,
    )
    ceremony = create_ceremony(session, data, series=series, status=status)
    ceremony.hosts = hosts_from_templates(series.default_hosts or [])
    for position, template in enumerate(series.default_programme):
        ceremony.items.append(item_from_template(template, position))
    session.flush()
    return ceremony


def copy_to_year(session: DbSession, source: Ceremony, year: int) -> Ceremony:
    """A draft of ``source`` in ``year``: same day and times, programme included."""
    if year == source.year:
        raise CeremonyError(_l("Choose another year than the edition's own."), field="year")
    if source.series is not None:
        day = source.series.date_in(year)
        base = source.series.slug
    else:
        local = source.local_start
        day = date(year, local.month, min(local.day, 28 if local.month == 2 else local.day))
        base = re.sub(r"^\d{4}-", "", source.slug)
    data = CeremonyData(
        title_nl=source.title_nl,
        title_en=source.title_en,
        title_ru=source.title_ru,
        day=day,
        start_time=source.local_start.time(),
        end_time=source.local_end.time(),
        venue=source.venue,
        public=source.public,
        base_year=source.base_year,
        notes=source.notes,
    )
    ceremony = create_ceremony(session, data, series=source.series, slug=edition_slug(year, base))
    # What the invitations say carries over; the deadline keeps its distance to the day.
    copy_guest_texts(source, ceremony)
    ceremony.reminder_days = source.reminder_days
    ceremony.practical_days = source.practical_days
    if source.rsvp_deadline is not None:
        ceremony.rsvp_deadline = ceremony.local_start.date() - (
            source.local_start.date() - source.rsvp_deadline
        )
    for position, item in enumerate(source.items):
        ceremony.items.append(item_from_template(item.as_template(), position))
    session.flush()
    return ceremony


@dataclass
class ScheduleResult:
    created: list[Ceremony]
    published: list[Ceremony]
    existing: list[Ceremony]


def schedule_year(session: DbSession, year: int, *, publish: bool = False) -> ScheduleResult:
    """Each active series' edition for ``year``; a second run changes nothing.

    With ``publish`` the drafts of that year's scheduled editions are published too, so
    that scheduling first and publishing later is the same as doing both at once.
    """
    result = ScheduleResult([], [], [])
    all_series = session.scalars(
        sa.select(CeremonySeries)
        .where(CeremonySeries.active.is_(True))
        .order_by(CeremonySeries.month, CeremonySeries.day, CeremonySeries.slug)
    ).all()
    for series in all_series:
        slug = edition_slug(year, series.slug)
        existing = session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
        if existing is None:
            status = CeremonyStatus.PUBLISHED if publish else CeremonyStatus.DRAFT
            result.created.append(create_from_series(session, series, year, status))
        elif publish and existing.status == CeremonyStatus.DRAFT:
            result.published.append(set_status(existing, CeremonyStatus.PUBLISHED))
        else:
            result.existing.append(existing)
    session.flush()
    return result


def editions_in_year(
    session: DbSession, year: int, *, statuses: Sequence[CeremonyStatus] | None = None
) -> list[Ceremony]:
    """The editions starting in ``year`` (Amsterdam time), in date order."""
    start, end = year_bounds(year, ZoneInfo("Europe/Amsterdam"))
    query = (
        sa.select(Ceremony)
        .where(Ceremony.starts_at >= start, Ceremony.starts_at < end)
        .options(
            selectinload(Ceremony.items),
            selectinload(Ceremony.venue),
            selectinload(Ceremony.series),
        )
        .order_by(Ceremony.starts_at, Ceremony.slug)
    )
    if statuses:
        query = query.where(Ceremony.status.in_(list(statuses)))
    return list(session.scalars(query))


def years_with_editions(session: DbSession) -> list[int]:
    """Every year that has an edition, newest first (computed in Amsterdam time)."""
    zone = ZoneInfo("Europe/Amsterdam")
    starts = session.scalars(sa.select(Ceremony.starts_at)).all()
    return sorted({moment.astimezone(zone).year for moment in starts}, reverse=True)


# --- programme ----------------------------------------------------------------------


@dataclass
class ProgrammeItemData:
    """What a staff member enters for a programme item."""

    kind: ItemKind
    start_time: time | None
    offset_minutes: int | None
    duration_minutes: int
    performer_nl: str
    performer_en: str
    performer_ru: str
    text_nl: str
    text_en: str
    text_ru: str
    printable: bool


def copy_guest_texts(source: Ceremony, target: Ceremony) -> None:
    """The hosts, dress and practical notes of ``source``, in every language."""
    target.hosts = hosts_from_templates([host.as_template() for host in source.hosts])
    for lang in LANGUAGES:
        for field in ("dress_code", "practical_notes"):
            setattr(target, f"{field}_{lang}", getattr(source, f"{field}_{lang}"))


def item_from_template(template: ItemTemplate, position: int) -> ProgrammeItem:
    start = template.get("start_time")
    return ProgrammeItem(
        position=position,
        kind=ItemKind(template["kind"]),
        start_time=time.fromisoformat(start) if start else None,
        offset_minutes=template.get("offset_minutes"),
        duration_minutes=template.get("duration_minutes", 0),
        # A default saved before performers were per language holds one name.
        performer_nl=template.get("performer_nl", template.get("performer", "")),
        performer_en=template.get("performer_en", template.get("performer", "")),
        performer_ru=template.get("performer_ru", template.get("performer", "")),
        text_nl=template.get("text_nl", ""),
        text_en=template.get("text_en", ""),
        text_ru=template.get("text_ru", ""),
        printable=template.get("printable", True),
        version=1,
    )


def _check_item_start(ceremony: Ceremony, data: ProgrammeItemData) -> None:
    if data.start_time is not None:
        try:
            local_datetime(ceremony.local_start.date(), data.start_time, ceremony.zone)
        except CeremonyError as error:
            error.field = "start_time"
            raise


def _apply(item: ProgrammeItem, data: ProgrammeItemData) -> None:
    item.kind = data.kind
    item.start_time = data.start_time
    item.offset_minutes = data.offset_minutes if data.start_time is None else None
    item.duration_minutes = data.duration_minutes
    item.performer_nl = data.performer_nl
    item.performer_en = data.performer_en
    item.performer_ru = data.performer_ru
    item.text_nl = data.text_nl
    item.text_en = data.text_en
    item.text_ru = data.text_ru
    item.printable = data.printable


# What makes a venue a place: a change to any of these moves its editions still to come.
PLACE_FIELDS = ("name", "address", "latitude", "longitude", "timezone")


def place_of(venue: Venue) -> tuple[object, ...]:
    return tuple(getattr(venue, name) for name in PLACE_FIELDS)


def venue_moved(session: DbSession, venue: Venue, before: tuple[object, ...]) -> list[Ceremony]:
    """After a venue's place was edited: its editions still to come raise their calendar
    SEQUENCE (their LOCATION changed); returns them. Past editions keep what they were."""
    if venue.id is None or place_of(venue) == before:
        return []
    editions = list(
        session.scalars(
            sa.select(Ceremony).where(Ceremony.venue_id == venue.id, Ceremony.ends_at >= utcnow())
        )
    )
    for ceremony in editions:
        ceremony.sequence += 1
        ceremony.updated_at = utcnow()
    return editions


def _lock_programme(ceremony: Ceremony) -> None:
    """Make concurrent changes to one edition's programme wait for each other.

    Positions are computed from the items read: two requests reading the same list gave
    two items one position. Writing the edition's row first holds its lock until commit
    (PostgreSQL: the row; SQLite: the database), and the items are read after it, so
    each change starts from the one committed before it.
    """
    session = object_session(ceremony)
    if session is None:
        raise RuntimeError("the edition is not attached to a session")
    session.flush()  # a new edition gets its id
    session.execute(
        sa.update(Ceremony).where(Ceremony.id == ceremony.id).values(updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    # Items read before the lock keep their old positions in the session: read them all
    # again (populate_existing), or renumbering compares against stale values.
    session.execute(
        sa.select(ProgrammeItem)
        .where(ProgrammeItem.ceremony_id == ceremony.id)
        .execution_options(populate_existing=True)
    ).all()
    session.expire(ceremony, ["items"])


def add_item(ceremony: Ceremony, data: ProgrammeItemData) -> ProgrammeItem:
    """Add an item: at its clock time's place in the programme, else at the end."""
    _check_item_start(ceremony, data)
    _lock_programme(ceremony)
    item = ProgrammeItem(version=1)
    _apply(item, data)
    position = len(ceremony.items)
    if data.start_time is not None:
        start = ceremony.local_start
        at = datetime.combine(start.date(), data.start_time, start.tzinfo)
        later = [i for i, entry in enumerate(timetable(ceremony)) if entry.starts > at]
        position = later[0] if later else position
    ceremony.items.insert(position, item)
    _renumber(ceremony.items)
    ceremony.updated_at = utcnow()
    return item


def update_item(item: ProgrammeItem, data: ProgrammeItemData, expected_version: int) -> None:
    """Save an edited item, unless it changed since the form was opened."""
    check_version(item.version, expected_version)
    _check_item_start(item.ceremony, data)
    _apply(item, data)
    item.version += 1
    item.ceremony.updated_at = utcnow()


def delete_item(item: ProgrammeItem) -> None:
    """Remove an item; one that another request removed first is simply gone."""
    ceremony = item.ceremony
    _lock_programme(ceremony)
    if item in ceremony.items:
        ceremony.items.remove(item)
    _renumber(ceremony.items)
    ceremony.updated_at = utcnow()


def move_item(item: ProgrammeItem, step: int) -> None:
    """Move an item one place up (-1) or down (+1); at either end nothing happens.

    Like additions, moves and deletions wait for each other (``_lock_programme``): two
    moves computed from one reading of the list gave two items one position.
    """
    ceremony = item.ceremony
    _lock_programme(ceremony)
    items = list(ceremony.items)
    if item not in items:
        return
    index = items.index(item)
    target = index + step
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
        _renumber(items)
        ceremony.updated_at = utcnow()


def _renumber(items: Sequence[ProgrammeItem]) -> None:
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position


@dataclass
class SeriesData:
    """What a staff member enters for a ceremony series."""

    title_nl: str
    title_en: str
    title_ru: str
    month: int
    day: int
    start_time: time
    duration_minutes: int
    venue: Venue | None
    base_year: int | None
    organiser_role: OrganiserRole
    public: bool
    active: bool


def save_series(
    session: DbSession, series: CeremonySeries | None, data: SeriesData, *, slug: str
) -> CeremonySeries:
    """Create a series (its slug must be free) or change one (its slug stays)."""
    if series is None:
        taken = session.scalar(sa.select(CeremonySeries.id).where(CeremonySeries.slug == slug))
        if taken is not None:
            raise CeremonyError(_l("A series with this slug exists already."), field="slug")
        series = CeremonySeries(slug=slug, default_programme=[])
        session.add(series)
    for name, value in vars(data).items():
        setattr(series, name, value)
    session.flush()
    return series


def save_as_series_default(ceremony: Ceremony) -> CeremonySeries:
    """Make this edition's programme the default of its series for future years."""
    if ceremony.series is None:
        raise CeremonyError(_l("A one-off edition has no series."))
    ceremony.series.default_programme = [item.as_template() for item in ceremony.items]
    ceremony.series.default_hosts = [host.as_template() for host in ceremony.hosts]
    return ceremony.series
