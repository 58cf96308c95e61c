"""The programme's timetable, its self-checks and the flag note of 4 and 5 May."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import pairwise

from astral import LocationInfo
from astral.sun import sun
from flask_babel import lazy_gettext as _l

from app.ceremonies.forms import ITEM_KIND_LABELS
from app.ceremonies.models import Ceremony, ItemKind
from app.ceremonies.timing import TimedItem, add_minutes, local_datetime, timetable
from app.i18n import current_language, pick

REMEMBRANCE = (5, 4)  # 4 May: National Remembrance
LIBERATION = (5, 5)  # 5 May: Liberation Day
SILENCE_START = time(20, 0)
SILENCE_MINUTES = 2


@dataclass(frozen=True)
class PlanWarning:
    """Something in the plan that staff should look at; ``code`` is stable for tests."""

    code: str
    message: str


def commemoration_day(ceremony: Ceremony) -> tuple[int, int]:
    """The (month, day) the edition commemorates: its series' date, else its own.

    A 4 May edition moved to Saturday 3 May still follows the 4 May rules.
    """
    if ceremony.series is not None:
        return ceremony.series.month, ceremony.series.day
    local = ceremony.local_start
    return local.month, local.day


def _label(entry: TimedItem) -> str:
    """ "20:00 Twee minuten stilte": the item as staff know it, in their language."""
    text = pick(entry.item, "text", current_language()) or str(ITEM_KIND_LABELS[entry.item.kind])
    return f"{entry.starts:%H:%M} {text}"


def _warn(code: str, message: object) -> PlanWarning:
    return PlanWarning(code, str(message))


def warnings(ceremony: Ceremony) -> list[PlanWarning]:
    """What the programme gets wrong, in the order staff would fix it."""
    found: list[PlanWarning] = []
    timed = timetable(ceremony)
    end = ceremony.local_end
    start = ceremony.local_start

    for entry in timed:
        # Assembly comes before a ceremony and a reception after it, by nature.
        if entry.ends > end and entry.item.kind != ItemKind.RECEPTION:
            found.append(
                _warn(
                    "past_end",
                    _l(
                        "%(item)s runs past the end of the ceremony (%(end)s).",
                        item=_label(entry),
                        end=f"{end:%H:%M}",
                    ),
                )
            )
        if entry.starts < start and entry.item.kind != ItemKind.ASSEMBLY:
            found.append(
                _warn(
                    "before_start",
                    _l(
                        "%(item)s starts before the ceremony (%(start)s).",
                        item=_label(entry),
                        start=f"{start:%H:%M}",
                    ),
                )
            )

    ordered = sorted(timed, key=lambda entry: entry.starts)
    for before, after in pairwise(ordered):
        if after.starts < before.ends:
            found.append(
                _warn(
                    "overlap",
                    _l(
                        "%(first)s overlaps %(second)s.", first=_label(before), second=_label(after)
                    ),
                )
            )

    if commemoration_day(ceremony) == REMEMBRANCE:
        found.extend(_remembrance_warnings(ceremony, timed))
    return found


def _remembrance_warnings(ceremony: Ceremony, timed: list[TimedItem]) -> list[PlanWarning]:
    found: list[PlanWarning] = []
    day = ceremony.local_start.date()
    silence_start = local_datetime(day, SILENCE_START, ceremony.zone)
    silence_end = add_minutes(silence_start, SILENCE_MINUTES)
    silences = [t for t in timed if t.item.kind == ItemKind.SILENCE]
    if not silences:
        found.append(
            _warn(
                "no_silence",
                _l("The programme of 4 May has no two minutes' silence (20:00-20:02)."),
            )
        )
    for entry in silences:
        if (entry.starts, entry.ends) != (silence_start, silence_end):
            found.append(
                _warn(
                    "silence_time",
                    _l(
                        "The two minutes' silence is %(start)s-%(end)s; "
                        "on 4 May it is 20:00-20:02.",
                        start=f"{entry.starts:%H:%M}",
                        end=f"{entry.ends:%H:%M}",
                    ),
                )
            )
    for entry in timed:
        if entry.item.kind == ItemKind.TAPTOE and entry.ends > silence_start:
            found.append(
                _warn(
                    "taptoe_late",
                    _l(
                        "The Taptoe ends at %(end)s; it must end at or before 20:00.",
                        end=f"{entry.ends:%H:%M}",
                    ),
                )
            )
        if entry.item.kind == ItemKind.ANTHEM and silences and entry.starts < silence_start:
            found.append(
                _warn(
                    "anthem_before_silence",
                    _l(
                        "The Wilhelmus at %(start)s comes before the silence; it should follow it.",
                        start=f"{entry.starts:%H:%M}",
                    ),
                )
            )
    if day.month == 5 and day.day == 4 and day.weekday() == 6:
        found.append(
            _warn(
                "remembrance_sunday",
                _l(
                    "4 May %(year)s is a Sunday. The national commemoration stays on 4 May; some "
                    "places move theirs to Saturday 3 May. Keep the date or move the edition.",
                    year=day.year,
                ),
            )
        )
    return found


# --- flags --------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagNote:
    """Flag instructions of the day, with the computed times."""

    half_mast: bool
    raise_at: datetime | None  # sunrise or 18:00
    lower_at: datetime | None  # sunset
    message: str


def sun_times(ceremony: Ceremony, day: date) -> tuple[datetime, datetime] | None:
    """Sunrise and sunset at the venue, in its zone; None without coordinates."""
    venue = ceremony.venue
    if venue.latitude is None or venue.longitude is None:
        return None
    place = LocationInfo(venue.name, "", venue.timezone, venue.latitude, venue.longitude)
    times = sun(place.observer, date=day, tzinfo=ceremony.zone)
    return times["sunrise"], times["sunset"]


def flag_note(ceremony: Ceremony, half_mast_from: str = "18:00") -> FlagNote | None:
    """The flag note of a 4 or 5 May edition; None on other days.

    4 May: half-mast from 18:00 (government rule) or from sunrise (the national
    committee's advice since 2020; ``half_mast_from="sunrise"``) until sunset, never
    "full mast after the silence". 5 May: full mast from sunrise to sunset.
    """
    which = commemoration_day(ceremony)
    if which not in (REMEMBRANCE, LIBERATION):
        return None
    day = ceremony.local_start.date()
    times = sun_times(ceremony, day)
    if times is None:
        # Without coordinates there are no times to give; the rule itself still holds.
        if which == LIBERATION:
            return FlagNote(
                False,
                None,
                None,
                str(
                    _l(
                        "Flag at full mast from sunrise until sunset (the venue has no coordinates "
                        "to compute them)."
                    )
                ),
            )
        if half_mast_from == "sunrise":
            return FlagNote(
                True,
                None,
                None,
                str(
                    _l(
                        "Flag at half-mast from sunrise until sunset (the venue has no coordinates "
                        "to compute them)."
                    )
                ),
            )
        six = datetime.combine(day, time(18, 0), ceremony.zone)
        return FlagNote(
            True,
            six,
            None,
            str(
                _l(
                    "Flag at half-mast from 18:00 until sunset (the venue has no coordinates to "
                    "compute it)."
                )
            ),
        )
    sunrise, sunset = times
    if which == LIBERATION:
        return FlagNote(
            False,
            sunrise,
            sunset,
            str(
                _l(
                    "Flag at full mast from sunrise (%(sunrise)s) until sunset (%(sunset)s).",
                    sunrise=f"{sunrise:%H:%M}",
                    sunset=f"{sunset:%H:%M}",
                )
            ),
        )
    if half_mast_from == "sunrise":
        return FlagNote(
            True,
            sunrise,
            sunset,
            str(
                _l(
                    "Flag at half-mast from sunrise (%(sunrise)s) until sunset (%(sunset)s).",
                    sunrise=f"{sunrise:%H:%M}",
                    sunset=f"{sunset:%H:%M}",
                )
            ),
        )
    six = datetime.combine(day, time(18, 0), ceremony.zone)
    return FlagNote(
        True,
        six,
        sunset,
        str(
            _l("Flag at half-mast from 18:00 until sunset (%(sunset)s).", sunset=f"{sunset:%H:%M}")
        ),
    )
