"""VTIMEZONE definitions that Outlook understands: rules, not lists of dates.

Outlook reads only the offsets and the RRULE of a VTIMEZONE and ignores RDATE lists,
which is what icalendar generates by default. For zones with a yearly rule (Europe/
Amsterdam: last Sunday of March and of October) we derive that rule from the IANA data
and check it against the zone for the years the feed covers; a zone without such a rule
falls back to icalendar's explicit transitions.
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


def _transitions_in(zone: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) of each change in ``year``.

    Day by day, then hour by hour inside a day that changed: about 400 look-ups a year.
    """
    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    before = day.astimezone(zone).utcoffset()
    while day.year == year:
        following = day + timedelta(days=1)
        if following.astimezone(zone).utcoffset() != before:
            hour = day
            while hour < following:
                after = (hour + timedelta(hours=1)).astimezone(zone).utcoffset()
                if after != before and before is not None and after is not None:
                    found.append((hour + timedelta(hours=1), before, after))
                    before = after
                hour += timedelta(hours=1)
        day = following
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


def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for ``tzid`` valid for events in the given years."""
    rules = yearly_rules(tzid, first_year, last_year)
    if rules is None:
        return Timezone.from_tzid(
            tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
        )
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
