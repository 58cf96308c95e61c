"""The planner's services: times, editions, statuses, copying, scheduling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from app.ceremonies.errors import CeremonyError, EditConflict
from app.ceremonies.models import Ceremony, CeremonyStatus, ItemKind, ProgrammeItem, Venue
from app.ceremonies.services import (
    CeremonyData,
    ProgrammeItemData,
    add_item,
    copy_to_year,
    create_ceremony,
    move_item,
    save_as_series_default,
    schedule_year,
    set_status,
    slugify,
    update_ceremony,
)
from app.ceremonies.timing import local_datetime
from app.extensions import db
from tests.conftest import series

AMS = ZoneInfo("Europe/Amsterdam")


def test_local_datetime_keeps_the_wall_clock() -> None:
    moment = local_datetime(date(2031, 5, 4), time(20, 0), AMS)
    assert moment.astimezone(UTC) == datetime(2031, 5, 4, 18, 0, tzinfo=UTC)
    winter = local_datetime(date(2026, 12, 24), time(16, 30), AMS)
    assert winter.astimezone(UTC) == datetime(2026, 12, 24, 15, 30, tzinfo=UTC)


def test_local_datetime_refuses_a_skipped_time() -> None:
    with pytest.raises(CeremonyError, match="does not exist"):
        local_datetime(date(2026, 3, 29), time(2, 30), AMS)


def test_local_datetime_refuses_a_repeated_time() -> None:
    with pytest.raises(CeremonyError, match="twice"):
        local_datetime(date(2026, 10, 25), time(2, 30), AMS)


def test_slugify() -> None:
    assert slugify("Dodenherdenking 4 mei") == "dodenherdenking-4-mei"
    assert slugify("Défilé — «Ереве́лд»!") == "defile"
    assert slugify("x" * 200) == "x" * 80


def test_edition_from_series(edition: Callable[..., Ceremony]) -> None:
    koedriest = edition("koedriest", 2026)
    assert koedriest.slug == "2026-koedriest"
    assert koedriest.local_start == datetime(2026, 4, 9, 6, 30, tzinfo=AMS)
    assert koedriest.local_start.utcoffset() == timedelta(hours=2)
    assert koedriest.anniversary == 84
    assert koedriest.status == CeremonyStatus.DRAFT
    assert [i.kind for i in koedriest.items][:2] == [ItemKind.ASSEMBLY, ItemKind.SPEECH]
    assert edition("9-mei", 2026).anniversary == 81
    assert edition("lichtjes-24-december", 2026).anniversary is None


def test_times_round_trip_through_the_database(
    app: Flask, edition: Callable[..., Ceremony]
) -> None:
    slug = edition("4-mei", 2031).slug
    db.session.expunge_all()
    again = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert again is not None
    assert again.starts_at.tzinfo is not None
    assert again.local_start == datetime(2031, 5, 4, 18, 45, tzinfo=AMS)
    assert again.starts_at == datetime(2031, 5, 4, 16, 45, tzinfo=UTC)


def test_naive_datetimes_are_refused(app: Flask, edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("9-mei", 2026)
    ceremony.ends_at = datetime(2026, 5, 9, 13, 0)  # naive on purpose
    with pytest.raises(sa.exc.StatementError, match="naive"):
        db.session.commit()
    db.session.rollback()


def _data(venue: Venue, **changes: object) -> CeremonyData:
    fields: dict[str, object] = {
        "title_nl": "Herdenking",
        "title_en": "Commemoration",
        "title_ru": "",
        "day": date(2028, 11, 18),
        "start_time": time(14, 0),
        "end_time": time(15, 30),
        "venue": venue,
        "base_year": 1948,
    }
    fields.update(changes)
    return CeremonyData(**fields)  # type: ignore[arg-type]


def _venue() -> Venue:
    venue = db.session.scalar(sa.select(Venue).where(Venue.name == "Sovjet Ereveld"))
    assert venue is not None
    return venue


def test_one_off_edition(app: Flask, seeded: None) -> None:
    ceremony = create_ceremony(db.session, _data(_venue(), title_en="80 years of the Field"))
    assert ceremony.slug == "2028-80-years-of-the-field"
    assert ceremony.anniversary == 80
    assert ceremony.series is None
    assert ceremony.uid.endswith("@ereveld")
    with pytest.raises(CeremonyError) as caught:
        create_ceremony(db.session, _data(_venue(), title_en="80 years of the Field"))
    assert caught.value.field == "slug"


def test_end_before_start_is_refused(app: Flask, seeded: None) -> None:
    with pytest.raises(CeremonyError) as caught:
        create_ceremony(db.session, _data(_venue(), end_time=time(13, 0)))
    assert caught.value.field == "end_time"


def test_sequence_rises_on_time_place_and_status_only(
    app: Flask, edition: Callable[..., Ceremony]
) -> None:
    ceremony = edition("9-mei", 2026)
    assert (ceremony.sequence, ceremony.version) == (0, 1)
    data = _data(
        ceremony.venue,
        day=date(2026, 5, 9),
        start_time=time(11, 0),
        end_time=time(12, 30),
        title_en="Victory Day",
    )
    update_ceremony(ceremony, data, expected_version=1)
    assert (ceremony.sequence, ceremony.version) == (0, 2)
    data.start_time = time(10, 30)
    update_ceremony(ceremony, data, expected_version=2)
    assert (ceremony.sequence, ceremony.version) == (1, 3)
    set_status(ceremony, CeremonyStatus.PUBLISHED, 3)
    assert (ceremony.sequence, ceremony.version) == (2, 4)
    db.session.commit()


def test_stale_version_is_refused(app: Flask, edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("9-mei", 2026)
    data = _data(ceremony.venue, day=date(2026, 5, 9))
    update_ceremony(ceremony, data, expected_version=1)
    with pytest.raises(EditConflict):
        update_ceremony(ceremony, data, expected_version=1)
    with pytest.raises(EditConflict):
        set_status(ceremony, CeremonyStatus.PUBLISHED, 1)


def test_status_transitions(app: Flask, edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("9-mei", 2026)
    with pytest.raises(CeremonyError):
        set_status(ceremony, CeremonyStatus.HELD)  # a draft was never announced
    set_status(ceremony, CeremonyStatus.PUBLISHED)
    before = ceremony.starts_at - timedelta(minutes=1)
    with pytest.raises(CeremonyError, match="begun"):
        set_status(ceremony, CeremonyStatus.HELD, now=before)
    set_status(ceremony, CeremonyStatus.HELD, now=ceremony.starts_at)
    assert ceremony.status == CeremonyStatus.HELD
    with pytest.raises(CeremonyError):
        set_status(ceremony, CeremonyStatus.CANCELLED)
    set_status(ceremony, CeremonyStatus.PUBLISHED)
    set_status(ceremony, CeremonyStatus.CANCELLED)
    set_status(ceremony, CeremonyStatus.DRAFT)
    assert ceremony.sequence == 5  # one per change of status


def test_copy_to_next_year(app: Flask, edition: Callable[..., Ceremony]) -> None:
    source = edition("4-mei", 2026)
    add_item(
        source,
        ProgrammeItemData(
            ItemKind.POEM,
            None,
            None,
            3,
            "Pupil",
            "Pupil",
            "Pupil",
            "Gedicht",
            "Poem",
            "Стихотворение",
            True,
        ),
    )
    set_status(source, CeremonyStatus.PUBLISHED)
    copy = copy_to_year(db.session, source, 2027)
    db.session.commit()
    assert copy.slug == "2027-4-mei"
    assert copy.status == CeremonyStatus.DRAFT
    assert copy.uid != source.uid
    assert copy.local_start == datetime(2027, 5, 4, 18, 45, tzinfo=AMS)
    assert [i.as_template() for i in copy.items] == [i.as_template() for i in source.items]
    assert copy.items[-1].text_ru == "Стихотворение"
    with pytest.raises(CeremonyError):
        copy_to_year(db.session, source, 2026)
    with pytest.raises(CeremonyError):
        copy_to_year(db.session, source, 2027)


def test_copy_one_off_keeps_its_day(app: Flask, seeded: None) -> None:
    source = create_ceremony(db.session, _data(_venue()), slug="2028-jubileum")
    copy = copy_to_year(db.session, source, 2033)
    assert copy.slug == "2033-jubileum"
    assert copy.local_start.date() == date(2033, 11, 18)


def test_schedule_year_is_idempotent(app: Flask, seeded: None) -> None:
    first = schedule_year(db.session, 2027)
    db.session.commit()
    assert len(first.created) == 6
    snapshot = {c.slug: (c.version, c.updated_at, len(c.items)) for c in first.created}
    second = schedule_year(db.session, 2027)
    db.session.commit()
    assert (second.created, second.published) == ([], [])
    rows = db.session.scalars(sa.select(Ceremony)).all()
    assert {c.slug: (c.version, c.updated_at, len(c.items)) for c in rows} == snapshot


def test_schedule_publish_publishes_drafts(app: Flask, seeded: None) -> None:
    schedule_year(db.session, 2027)
    result = schedule_year(db.session, 2027, publish=True)
    assert len(result.published) == 6
    assert schedule_year(db.session, 2027, publish=True).published == []


def test_schedule_skips_retired_series(app: Flask, seeded: None) -> None:
    series("bloemen-3-mei").active = False
    result = schedule_year(db.session, 2027)
    assert "2027-bloemen-3-mei" not in {c.slug for c in result.created}


def test_29_february_series_in_a_common_year(app: Flask, seeded: None) -> None:
    leap = series("koedriest")
    leap.month, leap.day = 2, 29
    assert leap.date_in(2027) == date(2027, 2, 28)
    assert leap.date_in(2028) == date(2028, 2, 29)


def test_programme_move_and_series_default(app: Flask, edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("5-mei", 2026)
    texts = [i.text_en for i in ceremony.items]
    move_item(ceremony.items[1], -1)
    db.session.commit()
    db.session.expire_all()
    assert [i.text_en for i in ceremony.items] == [texts[1], texts[0], *texts[2:]]
    move_item(ceremony.items[0], -1)  # already first: nothing happens
    save_as_series_default(ceremony)
    db.session.commit()
    assert [t["text_en"] for t in series("5-mei").default_programme][:2] == texts[1::-1]


def test_deleting_an_edition_deletes_its_programme(
    app: Flask, edition: Callable[..., Ceremony]
) -> None:
    ceremony = edition("9-mei", 2026)
    db.session.delete(ceremony)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProgrammeItem)) == 0


def test_an_item_with_a_clock_time_goes_to_its_place(
    app: Flask, edition: Callable[..., Ceremony]
) -> None:
    ceremony = edition("4-mei", 2026)
    poem = ProgrammeItemData(
        ItemKind.POEM, time(19, 52), None, 3, "", "", "", "Gedicht", "", "", True
    )
    add_item(ceremony, poem)
    db.session.commit()
    db.session.expire_all()
    kinds = [i.kind for i in ceremony.items]
    assert kinds.index(ItemKind.POEM) == kinds.index(ItemKind.BELLS) - 1
    assert [i.position for i in ceremony.items] == list(range(len(kinds)))
    loose = ProgrammeItemData(ItemKind.MUSIC, None, None, 3, "", "", "", "Muziek", "", "", True)
    add_item(ceremony, loose)
    assert ceremony.items[-1].kind == ItemKind.MUSIC  # no clock time: at the end
