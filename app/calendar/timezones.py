"""VTIMEZONE definitions that Outlook understands: rules, not lists of dates.

Outlook reads only the offsets and the RRULE of a VTIMEZONE and ignores RDATE lists,
which is what icalendar generates by default. For zones with a yearly rule (Europe/
Amsterdam: last Sunday of March and of October) we derive that rule from the IANA data
and check it against the zone for the years the feed covers; a zone without such a rule
gets each change of those years, found in zoneinfo, as a component of its own.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

RULE_BASE_YEAR = 1970


@dataclass(frozen=True)
class Transition:
    """A yearly change of offset: in ``month``, the ``week``-th (-1: last) ``weekday``."""

    month: int
    week: int
    weekday: int
    local_time: timedelta  # wall-clock time of the change, before it
    offset_from: timedelta
    offset_to: timedelta

    def on(self, year: int) -> date:
        days = [
            d
            for d in calendar.Calendar().itermonthdates(year, self.month)
            if d.month == self.month and d.weekday() == self.weekday
        ]
        return days[-1] if self.week == -1 else days[self.week - 1]


STEP = timedelta(hours=6)  # no zone changes its offset twice within six hours


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    if offset is None:  # pragma: no cover  (a ZoneInfo always has one)
        raise ValueError(f"{zone.key} has no offset at {instant}")
    return offset


def _transitions_in(zone: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) of each change in ``year``, to the second.

    Every six hours, then halving the interval in which the offset changed: changes at
    half past (Tehran, Lord Howe's half-hour steps) are found exactly too.
    """
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    before = _offset(zone, moment)
    while moment < end:
        following = moment + STEP
        after = _offset(zone, following)
        if after != before:
            low, high = moment, following  # offset(low) == before, offset(high) == after
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(zone, middle) == before:
                    low = middle
                else:
                    high = middle
            found.append((high.replace(microsecond=0), before, after))
            before = after
        moment = following
    return found


def _as_rule(instant: datetime, before: timedelta, after: timedelta) -> Transition:
    local = (instant + before).replace(tzinfo=None)
    last_week = local.day + 7 > calendar.monthrange(local.year, local.month)[1]
    week = -1 if last_week else (local.day - 1) // 7 + 1
    return Transition(
        month=local.month,
        week=week,
        weekday=local.weekday(),
        local_time=timedelta(hours=local.hour, minutes=local.minute),
        offset_from=before,
        offset_to=after,
    )


@lru_cache(maxsize=32)
def yearly_rules(tzid: str, first_year: int, last_year: int) -> tuple[Transition, ...] | None:
    """The zone's yearly rules if they hold for every year in the range, else None."""
    zone = ZoneInfo(tzid)
    reference = _transitions_in(zone, first_year)
    if len(reference) not in (0, 2):
        return None
    rules = tuple(_as_rule(*change) for change in reference)
    for year in range(first_year, last_year + 1):
        changes = _transitions_in(zone, year)
        if len(changes) != len(rules):
            return None
        for (instant, before, after), rule in zip(changes, rules, strict=True):
            expected = datetime.combine(rule.on(year), datetime.min.time()) + rule.local_time
            if (instant + before).replace(tzinfo=None) != expected or (before, after) != (
                rule.offset_from,
                rule.offset_to,
            ):
                return None
    return rules


def observed(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE that lists each change of the years given, one STANDARD or DAYLIGHT
    per change, built from zoneinfo: for zones without a yearly rule (Casablanca's
    Ramadan, a zone that changed its rules).

    Not icalendar's ``from_tzid``: it missed Casablanca's changes of 2024 and 2027 (12:00
    local came out as 11:00Z) and wrote a COMMENT line that libical rejects. No RDATE
    lists either (Outlook ignores them): every change is a DTSTART of its own.
    """
    zone = ZoneInfo(tzid)
    timezone = Timezone()
    timezone.add("TZID", tzid)
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    offset = _offset(zone, start)
    initial = TimezoneStandard()
    # VTIMEZONE onsets are local wall-clock times: naive by definition.
    initial.add("DTSTART", datetime(RULE_BASE_YEAR, 1, 1))  # noqa: DTZ001
    initial.add("TZNAME", start.astimezone(zone).tzname())
    initial.add("TZOFFSETFROM", offset)
    initial.add("TZOFFSETTO", offset)
    timezone.add_component(initial)
    for year in range(first_year, last_year + 1):
        for instant, before, after in _transitions_in(zone, year):
            local = instant.astimezone(zone)
            part = TimezoneDaylight() if local.dst() else TimezoneStandard()
            part.add("DTSTART", (instant + before).replace(tzinfo=None))
            part.add("TZNAME", local.tzname())
            part.add("TZOFFSETFROM", before)
            part.add("TZOFFSETTO", after)
            timezone.add_component(part)
    return timezone


def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for ``tzid`` valid for events in the given years: yearly rules where
    the zone has them for all those years, else each change listed (see observed)."""
    rules = yearly_rules(tzid, first_year, last_year)
    if rules is None:
        return observed(tzid, first_year, last_year)
    timezone = Timezone()
    timezone.add("TZID", tzid)
    if not rules:  # no daylight saving: one STANDARD with the fixed offset
        offset = datetime(first_year, 1, 1, tzinfo=ZoneInfo(tzid)).utcoffset()
        standard = TimezoneStandard()
        # VTIMEZONE onsets are local wall-clock times: naive by definition.
        standard.add("DTSTART", datetime(RULE_BASE_YEAR, 1, 1))  # noqa: DTZ001
        standard.add("TZOFFSETFROM", offset)
        standard.add("TZOFFSETTO", offset)
        timezone.add_component(standard)
        return timezone
    for rule in rules:
        part = TimezoneDaylight() if rule.offset_to > rule.offset_from else TimezoneStandard()
        start = datetime.combine(rule.on(RULE_BASE_YEAR), datetime.min.time()) + rule.local_time
        after = datetime.combine(rule.on(first_year), datetime.min.time()) + timedelta(days=1)
        part.add("TZNAME", after.replace(tzinfo=ZoneInfo(tzid)).tzname())
        part.add("DTSTART", start)
        part.add("TZOFFSETFROM", rule.offset_from)
        part.add("TZOFFSETTO", rule.offset_to)
        day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[rule.weekday]
        part.add("RRULE", vRecur(freq="YEARLY", bymonth=rule.month, byday=f"{rule.week}{day}"))
        timezone.add_component(part)
    return timezone
