"""Calendar feeds: which editions each feed holds, their iCalendar bytes, and a cache.

Rules from shared/design/CALENDAR.md: CRLF and folding by icalendar; a stable UID per
edition; SEQUENCE stored and raised by the planner; DTSTAMP and LAST-MODIFIED from the
stored change time so unchanged data gives identical bytes; a rule-based VTIMEZONE; no
METHOD on subscription feeds; no personal data or secret links in public feeds.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload
from werkzeug.http import http_date

from app.auth.models import User
from app.calendar import ics
from app.calendar.models import CalendarState, StaffFeedLink
from app.calendar.timezones import vtimezone
from app.ceremonies.guest_texts import text_in
from app.ceremonies.models import Ceremony, CeremonySeries, CeremonyStatus, ProgrammeItem, Venue
from app.ceremonies.timing import ItemLike, timetable
from app.extensions import DbSession
from app.i18n import force_locale, pick
from app.types import utcnow

PRODID = "-//Stichting Sovjet Ereveld//Ereveld//NL"
REFRESH = "PT6H"  # Google ignores it; Apple, Outlook and Thunderbird honour it
NEVER_CHANGED = datetime(2000, 1, 1, tzinfo=UTC)
YEARS_BACK = 2
CALENDAR_NAMES = {
    "nl": "Sovjet Ereveld – herdenkingen",
    "en": "Soviet Field of Honour – commemorations",
    "ru": "Советское военное кладбище – памятные церемонии",
}
STATUS = {
    CeremonyStatus.DRAFT: "TENTATIVE",
    CeremonyStatus.PUBLISHED: "CONFIRMED",
    CeremonyStatus.HELD: "CONFIRMED",
    CeremonyStatus.CANCELLED: "CANCELLED",
}

# --- what changed when ----------------------------------------------------------------

TRACKED = (Ceremony, ProgrammeItem, Venue, CeremonySeries)


STAMPED = "calendar_stamped"


@dataclass(frozen=True)
class Stamps:
    """When feed data last changed: anything at all (the staff feed), and anything the
    public feeds show or showed (public, series and single-edition feeds, the JSON)."""

    everything: datetime
    public: datetime


def _bump(previous: datetime | None, now: datetime) -> datetime:
    """Now, or one second after ``previous`` if that is later: HTTP dates have whole
    seconds, so two changes within one second must still give two stamps."""
    return now if previous is None else max(now, previous + timedelta(seconds=1))


def _before(obj: object, name: str) -> object:
    """An attribute's value before this flush's changes."""
    history = sa.inspect(obj).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return getattr(obj, name)


def _was_public(ceremony: Ceremony) -> bool:
    if not _before(ceremony, "public"):
        return False
    status = _before(ceremony, "status")
    if status in (CeremonyStatus.PUBLISHED, CeremonyStatus.HELD):
        return True
    return status == CeremonyStatus.CANCELLED and _before(ceremony, "published_at") is not None


def _edition_of(session: Session, obj: object) -> Ceremony | None:
    if isinstance(obj, Ceremony):
        return obj
    if isinstance(obj, ProgrammeItem):
        ceremony_id = obj.ceremony_id or _before(obj, "ceremony_id")
        return session.get(Ceremony, ceremony_id) if ceremony_id else None
    return None


def _track_changes(session: Session, flush_context: object, instances: object) -> None:
    """Stamp CalendarState (and each edition touched) when a flush touches anything a
    feed shows.

    The stamps are the feeds' cache keys and Last-Modified, so they must move on every
    such transaction, even two in one second (see _bump). Each moves once per
    transaction, so a burst of flushes does not push it into the future.

    Here too an announced edition that stops being public is marked withdrawn (whatever
    made it so: unpublishing, or unticking "public"), with a raised SEQUENCE, so that its
    own .ics can tell subscribers it is gone.
    """
    deleted = set(session.deleted)
    touched = [obj for obj in (*session.new, *deleted) if isinstance(obj, TRACKED)] + [
        obj for obj in session.dirty if isinstance(obj, TRACKED) and session.is_modified(obj)
    ]
    if not touched:
        return
    done: set[object] = session.info.setdefault(STAMPED, set())
    now = utcnow().replace(microsecond=0)
    with session.no_autoflush:
        public = False
        for obj in touched:
            edition = _edition_of(session, obj)
            if edition is None:  # a venue or a series: public feeds show their names
                public = True
                if isinstance(obj, Venue) and obj.id is not None and obj not in deleted:
                    # Its address and notes are in the personal feeds of its coming editions.
                    for coming in session.scalars(
                        sa.select(Ceremony).where(
                            Ceremony.venue_id == obj.id,
                            Ceremony.ends_at >= now - timedelta(days=2),
                        )
                    ):
                        if coming not in done:
                            coming.calendar_changed_at = _bump(coming.calendar_changed_at, now)
                            done.add(coming)
                continue
            was_public = edition not in session.new and _was_public(edition)
            is_now_public = edition not in deleted and is_public(edition)
            public = public or was_public or is_now_public
            if edition in deleted:
                continue
            if edition not in done:
                edition.calendar_changed_at = _bump(edition.calendar_changed_at, now)
                done.add(edition)
            if is_now_public:
                edition.withdrawn_at = None
            elif was_public and edition.withdrawn_at is None:
                edition.withdrawn_at = now
                if not sa.inspect(edition).attrs.sequence.history.has_changes():
                    edition.sequence += 1
        if "everything" in done and ("public" in done or not public):
            return
        state = session.get(CalendarState, 1)
        if state is None:
            state = CalendarState(id=1, changed_at=now, public_changed_at=now)
            session.add(state)
            done.update(("everything", "public"))
            return
        if state.public_changed_at is None:  # the first change since migration 0010
            state.public_changed_at = state.changed_at
        if "everything" not in done:
            state.changed_at = _bump(state.changed_at, now)
            done.add("everything")
        if public and "public" not in done:
            state.public_changed_at = _bump(state.public_changed_at, now)
            done.add("public")


def _transaction_over(session: Session, *args: object) -> None:
    session.info.pop(STAMPED, None)


_listening = False


def install_change_tracking() -> None:
    """Listen to every session's flushes, once per process."""
    global _listening
    if not _listening:
        sa.event.listen(Session, "before_flush", _track_changes)
        sa.event.listen(Session, "after_commit", _transaction_over)
        sa.event.listen(Session, "after_rollback", _transaction_over)
        _listening = True


_STAMP_QUERY = sa.select(CalendarState.changed_at, CalendarState.public_changed_at).where(
    CalendarState.id == 1
)
_remembered: tuple[float, Stamps] | None = None


def last_change(session: DbSession, ttl: float = 0.0) -> Stamps:
    """When feed data last changed; with ``ttl``, read at most once per ``ttl`` seconds.

    Feeds are polled far more often than anything changes: remembering the stamps for a
    second per process takes the database off the hot path, and a change shows up at
    most that second later.
    """
    global _remembered
    now = time.monotonic()
    if ttl > 0 and _remembered is not None and now - _remembered[0] < ttl:
        return _remembered[1]
    row = session.execute(_STAMP_QUERY).first()
    if row is None:
        stamps = Stamps(NEVER_CHANGED, NEVER_CHANGED)
    else:
        stamps = Stamps(row.changed_at, row.public_changed_at or row.changed_at)
    _remembered = (now, stamps)
    return stamps


# --- which editions a feed holds ---------------------------------------------------


@dataclass(frozen=True)
class FeedScope:
    """Which editions a feed shows and how much of them."""

    key: Hashable
    private: bool = False  # drafts, invitation-only editions, internal items
    series_slug: str | None = None
    edition_slug: str | None = None
    withdrawn: bool = False  # one edition no longer public, shown as cancelled


PUBLIC_FEED = FeedScope("public")


def first_year(today_year: int) -> int:
    return today_year - YEARS_BACK


# The programme columns a feed shows, read as plain rows: loading 800 ORM objects for
# a ten-year feed cost more than rendering it.
ITEM_COLUMNS = (
    ProgrammeItem.id,
    ProgrammeItem.ceremony_id,
    ProgrammeItem.kind,
    ProgrammeItem.start_time,
    ProgrammeItem.offset_minutes,
    ProgrammeItem.duration_minutes,
    ProgrammeItem.performer_nl,
    ProgrammeItem.performer_en,
    ProgrammeItem.performer_ru,
    ProgrammeItem.text_nl,
    ProgrammeItem.text_en,
    ProgrammeItem.text_ru,
    ProgrammeItem.printable,
)


@dataclass(frozen=True)
class FeedData:
    """A feed's editions in date order, and each edition's programme rows."""

    editions: list[Ceremony]
    items: dict[int, list[ItemLike]]


def feed_editions(session: DbSession, scope: FeedScope, today_year: int) -> FeedData:
    """The editions of a feed and their programmes: two queries."""
    query = (
        sa.select(Ceremony)
        .options(joinedload(Ceremony.venue))
        .order_by(Ceremony.starts_at, Ceremony.id)
    )
    if scope.edition_slug is not None:
        query = query.where(Ceremony.slug == scope.edition_slug)
    else:
        start = datetime(first_year(today_year), 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam"))
        query = query.where(Ceremony.starts_at >= start)
    if scope.series_slug is not None:
        query = query.join(Ceremony.series).where(CeremonySeries.slug == scope.series_slug)
    if not (scope.private or scope.withdrawn):
        query = query.where(*public_conditions())
    editions = list(session.scalars(query))
    items: dict[int, list[ItemLike]] = {c.id: [] for c in editions}
    if editions:
        rows = session.execute(
            sa.select(*ITEM_COLUMNS)
            .where(ProgrammeItem.ceremony_id.in_(list(items)))
            .order_by(ProgrammeItem.ceremony_id, ProgrammeItem.position, ProgrammeItem.id)
        )
        for row in rows:
            items[row.ceremony_id].append(row)
    return FeedData(editions, items)


def public_conditions() -> list[sa.ColumnElement[bool]]:
    """Public, and announced: published, held, or cancelled after being published."""
    return [
        Ceremony.public.is_(True),
        sa.or_(
            Ceremony.status.in_([CeremonyStatus.PUBLISHED, CeremonyStatus.HELD]),
            sa.and_(
                Ceremony.status == CeremonyStatus.CANCELLED, Ceremony.published_at.is_not(None)
            ),
        ),
    ]


def withdrawn_shown(ceremony: Ceremony, grace_days: int, now: datetime) -> bool:
    """Whether a withdrawn edition's own .ics still answers, as cancelled: for
    ``grace_days`` after it stopped being public (then 404, as for a never-announced one)."""
    if is_public(ceremony) or ceremony.withdrawn_at is None:
        return False
    return now - ceremony.withdrawn_at <= timedelta(days=grace_days)


def is_public(ceremony: Ceremony) -> bool:
    if not ceremony.public:
        return False
    if ceremony.status in (CeremonyStatus.PUBLISHED, CeremonyStatus.HELD):
        return True
    return ceremony.status == CeremonyStatus.CANCELLED and ceremony.published_at is not None


# --- iCalendar ------------------------------------------------------------------------


def describe(
    ceremony: Ceremony, items: Sequence[ItemLike], lang: str, private: bool, page_url: str | None
) -> str:
    """The plain-text programme that goes into DESCRIPTION."""
    lines = []
    for entry in timetable(ceremony, items):
        if not (entry.item.printable or private):
            continue
        # Not strftime: it is a tenth of the whole feed's cost.
        when = f"{entry.starts.hour:02d}:{entry.starts.minute:02d}"
        if entry.item.duration_minutes:
            when += f"–{entry.ends.hour:02d}:{entry.ends.minute:02d}"
        # The venue's zone by name: the reader's calendar shows the event in its own
        # zone, but a description is plain text that no client converts.
        when += f" ({entry.starts.tzname()})"
        text = pick(entry.item, "text", lang)
        performer = text_in(entry.item, "performer", lang)
        if performer:
            text += f" ({performer})"
        lines.append(f"{when} {text}")
    if private and ceremony.notes:
        lines += ["", ceremony.notes]
    if page_url:
        lines += ["", page_url]
    return "\n".join(lines)


def summary(ceremony: Ceremony, lang: str, *, cancelled: bool | None = None) -> str:
    """The event's title; a cancelled edition's says so in the feed's language.

    Outlook shows a cancelled event in a subscription as if it happens (it ignores
    STATUS:CANCELLED): the word in the title is what its users see.
    """
    title = ceremony.title(lang)
    if cancelled is None:
        cancelled = ceremony.status == CeremonyStatus.CANCELLED
    if not cancelled:
        return title
    with force_locale(lang):
        return str(_("Cancelled: %(title)s", title=title))


def location(venue: Venue) -> str:
    return f"{venue.name}, {venue.address}" if venue.address else venue.name


def edition_event(
    ceremony: Ceremony,
    items: Sequence[ItemLike],
    lang: str,
    private: bool,
    page_url: Callable[[Ceremony], str | None],
    withdrawn: bool = False,
) -> bytes:
    """One VEVENT; everything in it comes from stored data, so the bytes are stable.

    A cancelled edition (or a ``withdrawn`` one, served as cancelled to whoever kept it)
    says so in its title and takes no time in anyone's free/busy.
    """
    url = page_url(ceremony)
    venue = ceremony.venue
    tzid = venue.timezone
    zone = ZoneInfo(tzid)
    cancelled = withdrawn or ceremony.status == CeremonyStatus.CANCELLED
    props = [
        "BEGIN:VEVENT",
        f"UID:{ics.text(ceremony.uid)}",
        f"DTSTAMP:{ics.utc(ceremony.updated_at)}",
        f"CREATED:{ics.utc(ceremony.created_at)}",
        f"LAST-MODIFIED:{ics.utc(ceremony.updated_at)}",
        f"SEQUENCE:{ceremony.sequence}",
        f"STATUS:{'CANCELLED' if cancelled else STATUS[ceremony.status]}",
        f"SUMMARY:{ics.text(summary(ceremony, lang, cancelled=cancelled))}",
        f"DTSTART;TZID={tzid}:{ics.local(ceremony.starts_at.astimezone(zone))}",
        f"DTEND;TZID={tzid}:{ics.local(ceremony.ends_at.astimezone(zone))}",
        f"LOCATION:{ics.text(location(venue))}",
    ]
    if venue.latitude is not None and venue.longitude is not None:
        props.append(f"GEO:{venue.latitude:.6f};{venue.longitude:.6f}")
    if not withdrawn:  # what is no longer public shows no more than subscribers had
        props.append(f"DESCRIPTION:{ics.text(describe(ceremony, items, lang, private, url))}")
    if url:
        props.append(f"URL;VALUE=URI:{url}")
    props += [
        f"CLASS:{'PUBLIC' if ceremony.public else 'PRIVATE'}",
        f"TRANSP:{'TRANSPARENT' if cancelled else 'OPAQUE'}",
        "END:VEVENT",
    ]
    return ics.lines(props)


@lru_cache(maxsize=64)
def vtimezone_bytes(tzid: str, first: int, last: int) -> bytes:
    return bytes(vtimezone(tzid, first, last).to_ical())


def build_calendar(
    feed: FeedData,
    *,
    lang: str,
    name: str,
    source_url: str | None,
    private: bool,
    page_url: Callable[[Ceremony], str | None],
    years: tuple[int, int],
    subscription: bool = True,
    withdrawn: bool = False,
) -> bytes:
    """A complete VCALENDAR for a subscription feed or a download (no METHOD).

    A download (``subscription=False``, one edition's "add to my calendar") carries no
    calendar name and no refresh hints: with them Outlook desktop opens the file as a new
    calendar instead of adding the event to the user's own.
    """
    header = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if subscription:
        header += [f"NAME:{ics.text(name)}", f"X-WR-CALNAME:{ics.text(name)}"]
    header.append("X-WR-TIMEZONE:Europe/Amsterdam")
    if subscription:
        header += [f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}", f"X-PUBLISHED-TTL:{REFRESH}"]
    if source_url:
        header.append(f"SOURCE;VALUE=URI:{source_url}")
    editions = feed.editions
    zones = sorted({c.venue.timezone for c in editions} | {"Europe/Amsterdam"})
    low = min([years[0], *(c.local_start.year for c in editions)])
    high = max([years[1], *(c.local_end.year for c in editions)])
    parts = [ics.lines(header)]
    parts += [vtimezone_bytes(tzid, low, high) for tzid in zones]
    parts += [
        edition_event(c, feed.items[c.id], lang, private, page_url, withdrawn) for c in editions
    ]
    parts.append(b"END:VCALENDAR\r\n")
    return b"".join(parts)


# --- cache ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedFeed:
    """A rendered feed with its response headers, ready to send as often as asked."""

    body: bytes
    etag: str
    last_modified: datetime
    headers: tuple[tuple[str, str], ...]  # for a 200; a 304 sends the same minus type


def rendered(
    body: bytes, last_modified: datetime, headers: Sequence[tuple[str, str]]
) -> RenderedFeed:
    """The feed and its validators: a strong ETag from the bytes, Last-Modified."""
    etag = hashlib.sha256(body).hexdigest()[:40]
    validators = (("ETag", f'"{etag}"'), ("Last-Modified", http_date(last_modified)))
    return RenderedFeed(body, etag, last_modified, (*validators, *headers))


class FeedCache:
    """Rendered feeds by (feed, language, host, data version); a bounded LRU.

    The key holds the data's last change, so an edit makes old entries unreachable and
    they age out; a hit does no query beyond reading that stamp and no rendering.
    """

    def __init__(self, size: int = 256) -> None:
        self._entries: OrderedDict[Hashable, RenderedFeed] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.renders = 0  # for tests and benchmarks: how often we really rendered

    def get_or_render(self, key: Hashable, render: Callable[[], RenderedFeed]) -> RenderedFeed:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit
        feed = render()
        with self._lock:
            self.renders += 1
            self._entries[key] = feed
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return feed

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


feed_cache = FeedCache()


# --- personal staff feeds ------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_staff_feed_link(session: DbSession, user: User) -> str:
    """A new secret feed token for ``user``; an older one stops working."""
    token = secrets.token_urlsafe(32)
    link = session.scalar(sa.select(StaffFeedLink).where(StaffFeedLink.user_id == user.id))
    if link is None:
        session.add(
            StaffFeedLink(user_id=user.id, token_hash=token_hash(token), created_at=utcnow())
        )
    else:
        link.token_hash = token_hash(token)
        link.created_at = utcnow()
    session.flush()
    return token


def revoke_staff_feed_link(session: DbSession, user: User) -> None:
    session.execute(sa.delete(StaffFeedLink).where(StaffFeedLink.user_id == user.id))


def staff_feed_link(session: DbSession, user: User) -> StaffFeedLink | None:
    return session.scalar(sa.select(StaffFeedLink).where(StaffFeedLink.user_id == user.id))


def staff_for_token(session: DbSession, token: str) -> User | None:
    """The active staff member whose feed token this is; None for any other token."""
    if not 20 <= len(token) <= 100:
        return None
    user = session.scalar(
        sa.select(User)
        .join(StaffFeedLink, StaffFeedLink.user_id == User.id)
        .where(StaffFeedLink.token_hash == token_hash(token))
    )
    return user if user is not None and user.active else None
