"""Wall-clock time at the venue, and the programme's timetable.

Shared by the planner's services, its checks and the calendar feeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from app.ceremonies.errors import CeremonyError
from app.ceremonies.models import ItemKind

if TYPE_CHECKING:
    from app.ceremonies.models import Ceremony


def local_datetime(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``at`` in ``zone``, refusing times the clock skips or repeats.

    02:30 on the last Sunday of March does not exist in Amsterdam, and 02:30 on the last
    Sunday of October happens twice; Python would silently pick one, so we refuse both.
    """
    naive = datetime.combine(day, at.replace(tzinfo=None))
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise CeremonyError(
            _l(
                "%(time)s does not exist on %(day)s in %(zone)s (the clocks go forward).",
                time=at.strftime("%H:%M"),
                day=day.isoformat(),
                zone=zone.key,
            )
        )
    if naive.replace(tzinfo=zone, fold=1).utcoffset() != aware.utcoffset():
        raise CeremonyError(
            _l(
                "%(time)s happens twice on %(day)s in %(zone)s (the clocks go back); "
                "choose another time.",
                time=at.strftime("%H:%M"),
                day=day.isoformat(),
                zone=zone.key,
            )
        )
    return aware


def add_minutes(moment: datetime, minutes: int) -> datetime:
    """Elapsed-time arithmetic in UTC, shown back in the moment's own zone."""
    zone = moment.tzinfo
    return (moment.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(zone)


def year_bounds(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of ``year`` and of the next, in ``zone``."""
    return (
        datetime(year, 1, 1, tzinfo=zone).astimezone(UTC),
        datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC),
    )


class ItemLike(Protocol):
    """What a timetable needs of a programme item: a ProgrammeItem, or a plain row of
    its columns (the calendar feed reads those, ORM objects cost it too much)."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> ItemKind: ...
    @property
    def start_time(self) -> time | None: ...
    @property
    def offset_minutes(self) -> int | None: ...
    @property
    def duration_minutes(self) -> int: ...
    @property
    def performer_nl(self) -> str: ...
    @property
    def performer_en(self) -> str: ...
    @property
    def performer_ru(self) -> str: ...
    @property
    def printable(self) -> bool: ...
    @property
    def text_nl(self) -> str: ...
    @property
    def text_en(self) -> str: ...
    @property
    def text_ru(self) -> str: ...


@dataclass(frozen=True)
class TimedItem:
    """A programme item with its start and end worked out, in the venue's zone."""

    item: ItemLike
    starts: datetime
    ends: datetime


def timetable(ceremony: Ceremony, items: Sequence[ItemLike] | None = None) -> list[TimedItem]:
    """Each item's start: its own clock time, an offset, or the end of the item before.

    ``items`` defaults to the edition's own; the feed passes rows it loaded itself.
    """
    start = ceremony.local_start
    day = start.date()
    cursor = start
    timed = []
    for item in ceremony.items if items is None else items:
        if item.start_time is not None:
            # The forms refuse times the clock skips; one left by a date change is read
            # as zoneinfo reads it, rather than failing the page.
            starts = datetime.combine(day, item.start_time, start.tzinfo)
        elif item.offset_minutes is not None:
            starts = add_minutes(start, item.offset_minutes)
        else:
            starts = cursor
        ends = add_minutes(starts, item.duration_minutes)
        timed.append(TimedItem(item, starts, ends))
        cursor = ends
    return timed
