"""The programme's self-checks and the flag note."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from app.ceremonies.checks import flag_note, warnings
from app.ceremonies.models import Ceremony, ItemKind, ProgrammeItem
from app.ceremonies.services import ProgrammeItemData, add_item
from app.ceremonies.timing import timetable
from app.extensions import db

AMS = ZoneInfo("Europe/Amsterdam")


def codes(ceremony: Ceremony) -> list[str]:
    return [w.code for w in warnings(ceremony)]


def first(ceremony: Ceremony, kind: ItemKind) -> ProgrammeItem:
    return next(i for i in ceremony.items if i.kind == kind)


@pytest.mark.parametrize(
    "slug", ["koedriest", "bloemen-3-mei", "4-mei", "5-mei", "9-mei", "lichtjes-24-december"]
)
def test_default_programmes_are_clean(edition: Callable[..., Ceremony], slug: str) -> None:
    assert codes(edition(slug, 2026)) == []


def test_timetable_follows_clock_offset_and_sequence(edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("9-mei", 2026)
    add_item(
        ceremony, ProgrammeItemData(ItemKind.MUSIC, None, 80, 5, "", "", "", "", "Music", "", True)
    )
    timed = timetable(ceremony)
    assert timed[0].starts == datetime(2026, 5, 9, 10, 30, tzinfo=AMS)  # clock time
    assert timed[2].starts == timed[1].ends  # follows the item before
    assert timed[-1].starts == datetime(2026, 5, 9, 12, 20, tzinfo=AMS)  # offset 80 min


def test_silence_must_be_twenty_to_two_past(edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("4-mei", 2026)
    first(ceremony, ItemKind.SILENCE).start_time = time(19, 59)
    assert "silence_time" in codes(ceremony)
    first(ceremony, ItemKind.SILENCE).start_time = time(20, 0)
    first(ceremony, ItemKind.SILENCE).duration_minutes = 1
    assert "silence_time" in codes(ceremony)


def test_taptoe_must_end_by_eight(edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("4-mei", 2026)
    first(ceremony, ItemKind.TAPTOE).start_time = time(19, 59)
    found = codes(ceremony)
    assert "taptoe_late" in found
    assert "overlap" in found  # it now runs into the silence


def test_wilhelmus_follows_the_silence(edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("4-mei", 2026)
    first(ceremony, ItemKind.ANTHEM).start_time = time(19, 30)
    assert "anthem_before_silence" in codes(ceremony)


def test_no_silence_on_4_may(edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("4-mei", 2026)
    ceremony.items.remove(first(ceremony, ItemKind.SILENCE))
    assert "no_silence" in codes(ceremony)


def test_other_days_have_no_silence_rule(edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("9-mei", 2026)
    first(ceremony, ItemKind.SILENCE).start_time = time(11, 40)
    assert "silence_time" not in codes(ceremony)


def test_4_may_on_a_sunday(edition: Callable[..., Ceremony]) -> None:
    assert codes(edition("4-mei", 2031)) == ["remembrance_sunday"]
    assert "remembrance_sunday" not in codes(edition("4-mei", 2030))


def test_items_past_the_end_and_before_the_start(edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("5-mei", 2026)
    ceremony.items[-1].duration_minutes = 90
    assert codes(ceremony) == ["past_end"]
    ceremony.items[-1].duration_minutes = 20
    ceremony.items[-1].start_time = time(11, 0)
    assert codes(ceremony) == ["before_start"]


def test_warning_messages_name_the_item(app: Flask, edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("4-mei", 2026)
    first(ceremony, ItemKind.TAPTOE).start_time = time(19, 59)
    with app.test_request_context("/?lang=en"):
        messages = [w.message for w in warnings(ceremony)]
    assert "The Taptoe ends at 20:01; it must end at or before 20:00." in messages


def test_flag_half_mast_until_sunset_on_4_may(edition: Callable[..., Ceremony]) -> None:
    note = flag_note(edition("4-mei", 2026))
    assert note is not None
    assert note.half_mast
    assert note.raise_at == datetime(2026, 5, 4, 18, 0, tzinfo=AMS)
    assert note.lower_at is not None
    assert note.lower_at.strftime("%H:%M") == "21:08"  # DOMAIN.md: sunset at the cemetery
    assert "21:08" in note.message


def test_flag_from_sunrise_setting(edition: Callable[..., Ceremony]) -> None:
    note = flag_note(edition("4-mei", 2026), half_mast_from="sunrise")
    assert note is not None
    assert note.raise_at is not None
    assert note.raise_at.hour == 6
    assert note.raise_at.strftime("%H:%M") in note.message


def test_flag_full_mast_on_5_may(edition: Callable[..., Ceremony]) -> None:
    note = flag_note(edition("5-mei", 2026))
    assert note is not None
    assert not note.half_mast
    assert note.raise_at is not None
    assert note.lower_at is not None
    assert note.raise_at.hour == 6
    assert note.lower_at.hour == 21


def test_no_flag_note_on_other_days(edition: Callable[..., Ceremony]) -> None:
    assert flag_note(edition("9-mei", 2026)) is None


def test_flag_note_without_coordinates(edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("4-mei", 2026)
    ceremony.venue.latitude = None
    ceremony.venue.longitude = None
    db.session.flush()
    note = flag_note(ceremony)
    assert note is not None
    assert note.lower_at is None
    assert "no coordinates" in note.message
