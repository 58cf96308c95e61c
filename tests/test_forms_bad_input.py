"""Bad input gets a clear error, keeps what was typed and saves nothing; good input works.

Every bad-input test checks four things: the status (400, or 409 for a conflict), the
message on the field it concerns, the typed values in the re-rendered form, and a
database that is row for row what it was before the request.

Requests run in a fresh context each, as in production (see test_authorisation.py).
"""

from __future__ import annotations

import html
import re
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.auth.models import Role, User
from app.auth.services import create_user
from app.ceremonies.models import (
    Ceremony,
    CeremonySeries,
    CeremonyStatus,
    ItemKind,
    ProgrammeItem,
    Venue,
)
from app.ceremonies.services import CeremonyData, create_ceremony
from app.ceremonies.timing import timetable
from app.extensions import Base, db
from app.settings.services import get_setting
from tests.conftest import PASSWORD


@pytest.fixture
def planner(client: FlaskClient, login: Callable[[Role], User], seeded: None) -> FlaskClient:
    login(Role.PLANNER)
    return english(client)


@pytest.fixture
def admin(client: FlaskClient, login: Callable[[Role], User], seeded: None) -> FlaskClient:
    login(Role.ADMIN)
    return english(client)


# --- helpers ----------------------------------------------------------------------------


def english(client: FlaskClient) -> FlaskClient:
    """Messages in English whatever the account's language (?lang= is remembered)."""
    response = client.get("/login?lang=en")
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert client.get("/staff/account?lang=en").status_code == 200
    return client


def fingerprint() -> dict[str, list[str]]:
    """Every committed row of every table, read on a connection of its own."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
            for table in Base.metadata.sorted_tables
        }


class Guard:
    """Remembers the database at ``snapshot()``; ``unchanged()`` asserts it still is."""

    def __init__(self) -> None:
        self.before = fingerprint()

    def snapshot(self) -> None:
        self.before = fingerprint()

    def unchanged(self, *, except_: tuple[str, ...] = ()) -> None:
        after = fingerprint()
        changed = [n for n in after if after[n] != self.before[n] and n not in except_]
        assert not changed, f"tables changed by a refused request: {changed}"


@pytest.fixture
def guard(app: Flask) -> Guard:
    return Guard()


def text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_refused(
    response: TestResponse,
    field_id: str | None,
    message: str,
    typed: list[str],
    status: int = 400,
    *,
    marked: bool = True,
) -> None:
    """The status, the message (on the field ``field_id``, or above the form), the input."""
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:3000]
    page = html.unescape(body)
    if field_id is None:
        box = re.search(r'<div class="error-box" role="alert">(.*?)</div>', page, re.S)
        assert box is not None, page[:3000]
        assert message in box.group(1), box.group(1)
    else:
        errors = re.findall(
            rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S
        )
        assert any(message in error for error in errors), (field_id, errors, message)
        if marked:  # the input itself is marked for screen readers
            tag = re.search(
                rf'<(?:input|select|textarea)\b[^>]*\sid="{re.escape(field_id)}"[^>]*>', page
            )
            assert tag is not None, field_id
            assert 'aria-invalid="true"' in tag.group(0), field_id
    for value in typed:
        assert value in page, f"typed value {value[:60]!r} lost"


def version_in(response: TestResponse) -> str:
    found = re.search(r'name="version"[^>]*value="([^"]*)"', response.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def find_edition(slug: str) -> Ceremony:
    db.session.rollback()  # see what is committed now, not what this session cached
    ceremony = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert ceremony is not None, slug
    return ceremony


def find_series(slug: str) -> CeremonySeries:
    db.session.rollback()
    found = db.session.scalar(sa.select(CeremonySeries).where(CeremonySeries.slug == slug))
    assert found is not None, slug
    return found


def count(model: type[Base]) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def field_venue_id() -> int:
    db.session.rollback()
    venue_id = db.session.scalar(sa.select(Venue.id).where(Venue.name == "Sovjet Ereveld"))
    assert venue_id is not None
    return venue_id


def make_edition(
    edition: Callable[..., Ceremony], slug: str = "4-mei", year: int = 2026, **changes: Any
) -> str:
    made = edition(slug, year, **changes)
    return made.slug


def details(ceremony: Ceremony, **changes: str) -> dict[str, str]:
    """The edit form of ``ceremony`` as a browser would send it back."""
    form = {
        "title_nl": ceremony.title_nl,
        "title_en": ceremony.title_en,
        "title_ru": ceremony.title_ru,
        "day": ceremony.local_start.date().isoformat(),
        "start_time": ceremony.local_start.strftime("%H:%M"),
        "end_time": ceremony.local_end.strftime("%H:%M"),
        "venue_id": str(ceremony.venue_id),
        "public": "y",
        "base_year": str(ceremony.base_year or ""),
        "notes": "Bring the wreath stands",
        "version": str(ceremony.version),
    }
    form.update(changes)
    return form


def one_off(venue: int, **changes: str) -> dict[str, str]:
    form = {
        "title_nl": "Herdenking van de ambassade",
        "title_en": "Embassy ceremony",
        "title_ru": "Церемония посольства",
        "day": "2026-06-12",
        "start_time": "10:00",
        "end_time": "11:00",
        "venue_id": str(venue),
        "public": "y",
        "base_year": "",
        "notes": "Bring the wreath stands",
        "slug": "",
    }
    form.update(changes)
    return {"which": "oneoff", **{f"oneoff-{k}": v for k, v in form.items()}}


def item_form(**changes: str) -> dict[str, str]:
    form = {
        "kind": "speech",
        "start_time": "",
        "offset_minutes": "",
        "duration_minutes": "5",
        "performer_nl": "Koor Leusden",
        "text_nl": "Toespraak",
        "text_en": "Address",
        "text_ru": "Речь",
        "printable": "y",
        "version": "1",
    }
    form.update(changes)
    return form


# --- the details form: edit and one-off create ------------------------------------------

LONG = "x" * 201
# (id, changed fields, field to blame, message, values that must be shown again)
BAD_DETAILS: list[tuple[str, dict[str, str], str, str, list[str]]] = [
    ("impossible-date", {"day": "2026-02-30"}, "day", "Not a valid date value", ["2026-02-30"]),
    ("missing-date", {"day": ""}, "day", "This field is required", []),
    ("garbled-date", {"day": "4 mei"}, "day", "Not a valid date value", ["4 mei"]),
    (
        "skipped-start",
        {"day": "2026-03-29", "start_time": "02:30", "end_time": "04:00"},
        "start_time",
        "02:30 does not exist on 2026-03-29 in Europe/Amsterdam",
        ["2026-03-29", "02:30", "04:00"],
    ),
    (
        "skipped-end",
        {"day": "2026-03-29", "start_time": "01:00", "end_time": "02:15"},
        "end_time",
        "02:15 does not exist",
        ["2026-03-29", "01:00", "02:15"],
    ),
    (
        "repeated-start",
        {"day": "2026-10-25", "start_time": "02:30", "end_time": "04:00"},
        "start_time",
        "02:30 happens twice on 2026-10-25",
        ["2026-10-25", "02:30"],
    ),
    (
        "end-before-start",
        {"start_time": "20:00", "end_time": "19:00"},
        "end_time",
        "The end must be after the start",
        ["20:00", "19:00"],
    ),
    (
        "end-at-start",
        {"start_time": "20:00", "end_time": "20:00"},
        "end_time",
        "The end must be after the start",
        ["20:00"],
    ),
    ("garbled-time", {"start_time": "25:61"}, "start_time", "Not a valid time value", ["25:61"]),
    ("missing-time", {"end_time": ""}, "end_time", "This field is required", []),
    (
        "long-title-nl",
        {"title_nl": "Д" * 201},
        "title_nl",
        "Field cannot be longer than 200 characters",
        ["Д" * 201],
    ),
    (
        "long-title-en",
        {"title_en": LONG},
        "title_en",
        "Field cannot be longer than 200 characters",
        [LONG],
    ),
    (
        "long-title-ru",
        {"title_ru": "Я" * 201},
        "title_ru",
        "Field cannot be longer than 200 characters",
        ["Я" * 201],
    ),
    ("blank-title", {"title_en": "   "}, "title_en", "This field is required", []),
    (
        "control-character",
        {"title_en": "Remembrance\x1b[31m"},
        "title_en",
        "Remove control or text-direction characters",
        ["Remembrance\x1b[31m"],
    ),
    (
        "nul-character",
        {"title_nl": "Herdenking\x00"},
        "title_nl",
        "Remove control or text-direction characters",
        [],
    ),
    (
        "bidi-override",
        {"title_nl": "A\u202eexe.live"},
        "title_nl",
        "Remove control or text-direction characters",
        ["A\u202eexe.live"],
    ),
    (
        "bidi-isolate",
        {"title_ru": "\u2066Память\u2069"},
        "title_ru",
        "Remove control or text-direction characters",
        ["\u2066Память\u2069"],
    ),
    (
        "bidi-in-notes",
        {"notes": "Parking\u202e at Rusthof"},
        "notes",
        "Remove control or text-direction characters",
        ["Parking\u202e at Rusthof"],
    ),
    (
        "long-notes",
        {"notes": "n" * 5001},
        "notes",
        "Field cannot be longer than 5000",
        ["n" * 5001],
    ),
    ("unknown-venue", {"venue_id": "9999"}, "venue_id", "Not a valid choice", []),
    ("base-year", {"base_year": "45"}, "base_year", "Number must be between 1800 and 2200", ["45"]),
]


@pytest.mark.parametrize(
    ("changes", "field", "message", "typed"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_DETAILS],
)
def test_edit_refuses_bad_details(
    planner: FlaskClient,
    edition: Callable[..., Ceremony],
    guard: Guard,
    changes: dict[str, str],
    field: str,
    message: str,
    typed: list[str],
) -> None:
    slug = make_edition(edition)
    form = details(find_edition(slug), **changes)
    guard.snapshot()
    response = planner.post(f"/staff/ceremonies/{slug}/edit", data=form)
    # The notes field carries typed text of its own, unless it is the field under test.
    kept = typed if "notes" in changes else [*typed, "Bring the wreath stands"]
    assert_refused(response, field, message, kept)
    guard.unchanged()


@pytest.mark.parametrize(
    ("changes", "field", "message", "typed"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_DETAILS],
)
def test_one_off_create_refuses_bad_details(
    planner: FlaskClient,
    guard: Guard,
    changes: dict[str, str],
    field: str,
    message: str,
    typed: list[str],
) -> None:
    form = one_off(field_venue_id(), **changes)
    guard.snapshot()
    response = planner.post("/staff/ceremonies/new", data=form)
    kept = typed if "notes" in changes else [*typed, "Bring the wreath stands"]
    assert_refused(response, f"oneoff-{field}", message, kept)
    guard.unchanged()


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        pytest.param(
            "2026-4-mei", "An edition with the slug 2026-4-mei exists already", id="duplicate"
        ),
        pytest.param(
            "Bad Slug!",
            "Use lower-case letters, digits and single hyphens only",
            id="bad-characters",
        ),
        pytest.param(
            "double--hyphen",
            "Use lower-case letters, digits and single hyphens",
            id="double-hyphen",
        ),
        pytest.param("s" * 81, "Field cannot be longer than 80 characters", id="too-long"),
    ],
)
def test_one_off_create_refuses_a_bad_slug(
    planner: FlaskClient,
    edition: Callable[..., Ceremony],
    guard: Guard,
    slug: str,
    message: str,
) -> None:
    make_edition(edition)
    guard.snapshot()
    response = planner.post("/staff/ceremonies/new", data=one_off(field_venue_id(), slug=slug))
    assert_refused(
        response,
        "oneoff-slug",
        message,
        [slug, "Embassy ceremony", "Церемония посольства", "2026-06-12"],
    )
    guard.unchanged()


def test_a_made_up_slug_that_exists_is_refused(planner: FlaskClient, guard: Guard) -> None:
    """Without a slug it is made from the title; a second such edition is refused."""
    venue_id = field_venue_id()
    assert planner.post("/staff/ceremonies/new", data=one_off(venue_id)).status_code == 302
    guard.snapshot()
    response = planner.post("/staff/ceremonies/new", data=one_off(venue_id, notes="The second one"))
    assert_refused(
        response,
        "oneoff-slug",
        "2026-embassy-ceremony exists already",
        ["Embassy ceremony", "The second one"],
    )
    guard.unchanged()


def test_create_from_series_refuses_an_existing_edition(
    planner: FlaskClient, edition: Callable[..., Ceremony], guard: Guard
) -> None:
    make_edition(edition)
    series_id = find_series("4-mei").id
    guard.snapshot()
    response = planner.post(
        "/staff/ceremonies/new",
        data={"which": "series", "series-series_id": str(series_id), "series-year": "2026"},
    )
    assert response.status_code == 400
    page = text(response)
    assert "2026-4-mei exists already" in page
    assert re.search(r'name="series-year"[^>]*value="2026"', page)
    guard.unchanged()


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("1900", "Number must be between 1945 and 2200"),
        ("next", "Not a valid integer value"),
        ("", "This field is required"),
    ],
)
def test_create_from_series_refuses_a_bad_year(
    planner: FlaskClient, guard: Guard, year: str, message: str
) -> None:
    series_id = find_series("9-mei").id
    guard.snapshot()
    response = planner.post(
        "/staff/ceremonies/new",
        data={"which": "series", "series-series_id": str(series_id), "series-year": year},
    )
    assert_refused(response, "series-year", message, [year])
    guard.unchanged()


# --- conflicts -------------------------------------------------------------------------


def test_a_stale_edit_gets_the_conflict_page_and_keeps_the_first_change(
    planner: FlaskClient, edition: Callable[..., Ceremony], guard: Guard
) -> None:
    slug = make_edition(edition)
    url = f"/staff/ceremonies/{slug}/edit"
    opened = planner.get(url)  # the first planner opens the form
    assert opened.status_code == 200
    old_version = version_in(opened)
    first = planner.get(url)  # a second one opens it too and saves first
    saved = planner.post(
        url, data=details(find_edition(slug), title_en="First change", version=version_in(first))
    )
    assert saved.status_code == 302
    guard.snapshot()

    stale = details(
        find_edition(slug), title_en="Second change", start_time="19:00", version=old_version
    )
    response = planner.post(url, data=stale)
    assert response.status_code == 409
    page = text(response)
    assert "Someone else saved this edition" in page
    assert "Second change" in page
    assert "19:00" in page
    assert "First change" in page  # beside what is saved now
    guard.unchanged()
    assert find_edition(slug).title_en == "First change"

    # The conflict form carries the current version: saving it again is deliberate.
    assert version_in(response) == str(find_edition(slug).version)
    again = planner.post(url, data={**stale, "version": version_in(response)})
    assert again.status_code == 302
    saved_now = find_edition(slug)
    assert saved_now.title_en == "Second change"
    assert saved_now.local_start.strftime("%H:%M") == "19:00"


@pytest.mark.parametrize("version", ["", "abc", "0"])
def test_an_edit_without_a_valid_version_is_a_conflict(
    planner: FlaskClient,
    edition: Callable[..., Ceremony],
    guard: Guard,
    version: str,
) -> None:
    slug = make_edition(edition)
    form = details(find_edition(slug), title_en="Typed title", version=version)
    guard.snapshot()
    response = planner.post(f"/staff/ceremonies/{slug}/edit", data=form)
    assert response.status_code == 409
    assert "Typed title" in text(response)
    guard.unchanged()


@pytest.mark.parametrize("action", ["publish", "cancel"])
def test_a_stale_status_change_is_a_conflict(
    planner: FlaskClient,
    edition: Callable[..., Ceremony],
    guard: Guard,
    action: str,
) -> None:
    slug = make_edition(edition)
    old_version = str(find_edition(slug).version)
    edit = planner.post(
        f"/staff/ceremonies/{slug}/edit",
        data=details(find_edition(slug), title_en="Changed meanwhile"),
    )
    assert edit.status_code == 302
    guard.snapshot()
    response = planner.post(
        f"/staff/ceremonies/{slug}/status/{action}", data={"version": old_version}
    )
    assert response.status_code == 409
    assert "This edition changed meanwhile" in text(response)
    guard.unchanged()
    assert find_edition(slug).status == CeremonyStatus.DRAFT


# --- statuses -------------------------------------------------------------------------


def status_change(client: FlaskClient, slug: str, action: str) -> TestResponse:
    version = find_edition(slug).version
    return client.post(f"/staff/ceremonies/{slug}/status/{action}", data={"version": str(version)})


def test_status_changes(planner: FlaskClient, edition: Callable[..., Ceremony]) -> None:
    slug = make_edition(edition, "4-mei", 2024)  # begun long ago: it may be marked held
    steps = [
        ("publish", CeremonyStatus.PUBLISHED),
        ("unpublish", CeremonyStatus.DRAFT),
        ("publish", CeremonyStatus.PUBLISHED),
        ("held", CeremonyStatus.HELD),
        ("publish", CeremonyStatus.PUBLISHED),
        ("cancel", CeremonyStatus.CANCELLED),
        ("reinstate", CeremonyStatus.DRAFT),
        ("cancel", CeremonyStatus.CANCELLED),
    ]
    for number, (action, status) in enumerate(steps, start=1):
        response = status_change(planner, slug, action)
        assert response.status_code == 302, (action, text(response)[:2000])
        ceremony = find_edition(slug)
        assert ceremony.status == status, action
        assert ceremony.sequence == number, action  # calendars see every change


def test_held_is_refused_for_a_future_edition(
    planner: FlaskClient, edition: Callable[..., Ceremony], guard: Guard
) -> None:
    slug = make_edition(edition, "4-mei", 2099, status=CeremonyStatus.PUBLISHED)
    guard.snapshot()
    response = status_change(planner, slug, "held")
    assert response.status_code == 400
    assert "once it has begun" in text(response)
    guard.unchanged()


def test_a_draft_cannot_be_marked_held(
    planner: FlaskClient, edition: Callable[..., Ceremony], guard: Guard
) -> None:
    slug = make_edition(edition, "4-mei", 2024)
    guard.snapshot()
    response = status_change(planner, slug, "held")
    assert response.status_code == 400
    assert "A draft edition cannot become held" in text(response)
    guard.unchanged()


# --- copying ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "message"),
    [
        pytest.param(
            "2027", "An edition with the slug 2027-4-mei exists already", id="year-has-it"
        ),
        pytest.param("2026", "Choose another year than the edition's own", id="same-year"),
        pytest.param("1900", "Number must be between 1945 and 2200", id="out-of-range"),
        pytest.param("twenty", "Not a valid integer value", id="not-a-number"),
    ],
)
def test_copy_refuses(
    planner: FlaskClient,
    edition: Callable[..., Ceremony],
    guard: Guard,
    year: str,
    message: str,
) -> None:
    slug = make_edition(edition)
    make_edition(edition, "4-mei", 2027)
    guard.snapshot()
    response = planner.post(f"/staff/ceremonies/{slug}/copy", data={"year": year})
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert re.search(rf'name="year"[^>]*value="{year}"', page), "the typed year is lost"
    guard.unchanged()


def test_copy_to_next_year(planner: FlaskClient, edition: Callable[..., Ceremony]) -> None:
    slug = make_edition(edition, "4-mei", 2026, status=CeremonyStatus.PUBLISHED)
    source = find_edition(slug)
    source_items = [
        (i.kind, i.start_time, i.duration_minutes, i.text_nl, i.text_ru) for i in source.items
    ]
    assert source_items
    response = planner.post(f"/staff/ceremonies/{slug}/copy", data={"year": "2027"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/ceremonies/2027-4-mei")
    copy = find_edition("2027-4-mei")
    assert copy.status == CeremonyStatus.DRAFT
    assert copy.series is not None
    assert copy.series.slug == "4-mei"
    assert copy.local_start.replace(tzinfo=None) == datetime(2027, 5, 4, 18, 45)
    assert copy.uid != source.uid
    assert [
        (i.kind, i.start_time, i.duration_minutes, i.text_nl, i.text_ru) for i in copy.items
    ] == source_items
    assert find_edition(slug).status == CeremonyStatus.PUBLISHED  # the source is untouched


# --- good paths of the details form ---------------------------------------------------


def test_create_a_one_off(planner: FlaskClient) -> None:
    venue_id = field_venue_id()
    response = planner.post("/staff/ceremonies/new", data=one_off(venue_id))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/ceremonies/2026-embassy-ceremony")
    ceremony = find_edition("2026-embassy-ceremony")
    assert ceremony.series is None
    assert ceremony.status == CeremonyStatus.DRAFT
    assert ceremony.title_ru == "Церемония посольства"
    assert ceremony.starts_at == datetime(2026, 6, 12, 8, 0, tzinfo=UTC)
    assert ceremony.ends_at == datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
    assert (ceremony.sequence, ceremony.version) == (0, 1)
    page = planner.get("/staff/ceremonies/2026-embassy-ceremony")
    assert page.status_code == 200
    assert "Embassy ceremony" in text(page)


def test_create_a_one_off_with_its_own_slug(planner: FlaskClient) -> None:
    response = planner.post(
        "/staff/ceremonies/new", data=one_off(field_venue_id(), slug="2026-kazakh-embassy")
    )
    assert response.status_code == 302
    assert find_edition("2026-kazakh-embassy").title_en == "Embassy ceremony"


def test_create_from_series(planner: FlaskClient) -> None:
    series_id = find_series("koedriest").id
    response = planner.post(
        "/staff/ceremonies/new",
        data={"which": "series", "series-series_id": str(series_id), "series-year": "2027"},
    )
    assert response.status_code == 302
    ceremony = find_edition("2027-koedriest")
    assert ceremony.local_start.replace(tzinfo=None) == datetime(2027, 4, 9, 6, 30)
    assert len(ceremony.items) == len(find_series("koedriest").default_programme) > 0


def test_a_time_change_raises_the_sequence_and_a_title_change_does_not(
    planner: FlaskClient, edition: Callable[..., Ceremony]
) -> None:
    slug = make_edition(edition)
    url = f"/staff/ceremonies/{slug}/edit"
    before = find_edition(slug)
    sequence, version = before.sequence, before.version

    response = planner.post(url, data=details(before, title_en="Remembrance at the Field"))
    assert response.status_code == 302
    after_title = find_edition(slug)
    assert after_title.title_en == "Remembrance at the Field"
    assert (after_title.sequence, after_title.version) == (sequence, version + 1)

    response = planner.post(url, data=details(after_title, start_time="18:30"))
    assert response.status_code == 302
    after_time = find_edition(slug)
    assert after_time.local_start.strftime("%H:%M") == "18:30"
    assert (after_time.sequence, after_time.version) == (sequence + 1, version + 2)
    assert after_time.notes == "Bring the wreath stands"


# --- programme items --------------------------------------------------------------------


def dst_edition() -> str:
    """A one-off on the day the clocks go forward (29 March 2026)."""
    venue = db.session.get(Venue, field_venue_id())
    assert venue is not None
    ceremony = create_ceremony(
        db.session,
        CeremonyData(
            title_nl="Voorjaarsherdenking",
            title_en="Spring commemoration",
            title_ru="",
            day=date(2026, 3, 29),
            start_time=time(10, 0),
            end_time=time(11, 0),
            venue=venue,
        ),
    )
    slug = ceremony.slug
    db.session.commit()
    return slug


BAD_ITEMS: list[tuple[str, dict[str, str], str, str, list[str]]] = [
    (
        "offset-too-large",
        {"offset_minutes": "2000"},
        "offset_minutes",
        "Number must be between -720 and 1440",
        ["2000"],
    ),
    (
        "offset-too-early",
        {"offset_minutes": "-721"},
        "offset_minutes",
        "Number must be between -720 and 1440",
        ["-721"],
    ),
    (
        "negative-duration",
        {"duration_minutes": "-5"},
        "duration_minutes",
        "Number must be between 0 and 1440",
        ["-5"],
    ),
    (
        "missing-duration",
        {"duration_minutes": ""},
        "duration_minutes",
        "This field is required",
        [],
    ),
    (
        "no-text",
        {"text_nl": "", "text_en": " ", "text_ru": ""},
        "text_nl",
        "Give the item a text in at least one language",
        [],
    ),
    ("garbled-start", {"start_time": "8 uur"}, "start_time", "Not a valid time value", ["8 uur"]),
    (
        "long-performer",
        {"performer_ru": "p" * 201},
        "performer_ru",
        "Field cannot be longer than 200 characters",
        ["p" * 201],
    ),
    (
        "long-text",
        {"text_en": "t" * 501},
        "text_en",
        "Field cannot be longer than 500 characters",
        ["t" * 501],
    ),
    (
        "bidi-text",
        {"text_ru": "Речь\u202e"},
        "text_ru",
        "Remove control or text-direction characters",
        ["Речь\u202e"],
    ),
    ("unknown-kind", {"kind": "fireworks"}, "kind", "Not a valid choice", []),
]


@pytest.mark.parametrize(
    ("changes", "field", "message", "typed"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_ITEMS],
)
@pytest.mark.parametrize("page", ["new", "edit"])
def test_programme_item_refuses_bad_input(
    planner: FlaskClient,
    edition: Callable[..., Ceremony],
    guard: Guard,
    page: str,
    changes: dict[str, str],
    field: str,
    message: str,
    typed: list[str],
) -> None:
    slug = make_edition(edition)
    item = find_edition(slug).items[0]
    url = (
        f"/staff/ceremonies/{slug}/items/new"
        if page == "new"
        else f"/staff/ceremonies/{slug}/items/{item.id}/edit"
    )
    form = item_form(version=str(item.version), **changes)
    guard.snapshot()
    response = planner.post(url, data=form)
    kept = typed if "performer_ru" in changes else [*typed, "Koor Leusden"]
    assert_refused(response, field, message, kept)
    guard.unchanged()


@pytest.mark.parametrize("page", ["new", "edit"])
@pytest.mark.parametrize("start", ["02:00", "02:30", "02:59"])
def test_programme_item_refuses_a_skipped_start_time(
    planner: FlaskClient,
    guard: Guard,
    page: str,
    start: str,
) -> None:
    slug = dst_edition()
    planner.post(f"/staff/ceremonies/{slug}/items/new", data=item_form(start_time="10:00"))
    item = find_edition(slug).items[0]
    url = (
        f"/staff/ceremonies/{slug}/items/new"
        if page == "new"
        else f"/staff/ceremonies/{slug}/items/{item.id}/edit"
    )
    guard.snapshot()
    response = planner.post(url, data=item_form(start_time=start, version=str(item.version)))
    assert_refused(
        response,
        "start_time",
        f"{start} does not exist on 2026-03-29",
        [start, "Koor Leusden", "Речь"],
    )
    guard.unchanged()


def test_a_stale_item_edit_is_a_conflict(
    planner: FlaskClient, edition: Callable[..., Ceremony], guard: Guard
) -> None:
    slug = make_edition(edition)
    item_id = find_edition(slug).items[0].id
    url = f"/staff/ceremonies/{slug}/items/{item_id}/edit"
    old_version = version_in(planner.get(url))
    assert (
        planner.post(url, data=item_form(text_en="First", version=old_version)).status_code == 302
    )
    guard.snapshot()
    response = planner.post(url, data=item_form(text_en="Second", version=old_version))
    assert_refused(response, None, "Someone else changed this item", ["Second"], status=409)
    guard.unchanged()
    db.session.rollback()
    saved = db.session.get(ProgrammeItem, item_id)
    assert saved is not None
    assert saved.text_en == "First"


def item_order(client: FlaskClient, slug: str) -> list[int]:
    """The item ids in the order the edition's page lists them."""
    response = client.get(f"/staff/ceremonies/{slug}")
    assert response.status_code == 200
    return [
        int(found) for found in re.findall(r'<tr id="item-(\d+)"', response.get_data(as_text=True))
    ]


def test_programme_add_edit_move_and_remove(
    planner: FlaskClient, edition: Callable[..., Ceremony]
) -> None:
    slug = make_edition(edition, "5-mei", 2026)
    base = f"/staff/ceremonies/{slug}"
    start = item_order(planner, slug)
    assert len(start) == 4

    # Add: it follows the last item (neither clock time nor offset).
    response = planner.post(
        f"{base}/items/new",
        data=item_form(
            kind="music", text_nl="Slotlied", text_en="Closing song", duration_minutes="4"
        ),
    )
    assert response.status_code == 302
    ceremony = find_edition(slug)
    added = ceremony.items[-1]
    assert (added.kind, added.text_en, added.position) == (ItemKind.MUSIC, "Closing song", 4)
    order = item_order(planner, slug)
    assert order == [*start, added.id]
    timed = timetable(ceremony)
    assert timed[-1].starts == timed[-2].ends

    # Edit: an offset from the start, no clock time.
    response = planner.post(
        f"{base}/items/{added.id}/edit",
        data=item_form(
            kind="music",
            text_nl="Slotlied",
            text_en="Final song",
            offset_minutes="50",
            duration_minutes="4",
            version=str(added.version),
        ),
    )
    assert response.status_code == 302
    db.session.rollback()
    edited = db.session.get(ProgrammeItem, added.id)
    assert edited is not None
    assert (edited.text_en, edited.offset_minutes, edited.version) == ("Final song", 50, 2)
    entry = next(t for t in timetable(edited.ceremony) if t.item.id == added.id)
    assert entry.starts.strftime("%H:%M") == "12:50"

    # Move up twice, then down once.
    for direction in ("up", "up", "down"):
        response = planner.post(f"{base}/items/{added.id}/move/{direction}")
        assert response.status_code == 302
    assert item_order(planner, slug) == [*start[:3], added.id, start[3]]
    # At the top, up changes nothing.
    first = start[0]
    assert planner.post(f"{base}/items/{first}/move/up").status_code == 302
    assert item_order(planner, slug) == [*start[:3], added.id, start[3]]
    assert [i.position for i in find_edition(slug).items] == [0, 1, 2, 3, 4]

    # Remove: the others close ranks.
    response = planner.post(f"{base}/items/{start[1]}/delete")
    assert response.status_code == 302
    assert item_order(planner, slug) == [start[0], start[2], added.id, start[3]]
    assert [i.position for i in find_edition(slug).items] == [0, 1, 2, 3]
    db.session.rollback()
    assert db.session.get(ProgrammeItem, start[1]) is None


def test_use_as_series_default(planner: FlaskClient, edition: Callable[..., Ceremony]) -> None:
    slug = make_edition(edition, "5-mei", 2026)
    response = planner.post(
        f"/staff/ceremonies/{slug}/items/new",
        data=item_form(kind="anthem", text_nl="Wilhelmus", text_en="National anthem", text_ru=""),
    )
    assert response.status_code == 302
    response = planner.post(f"/staff/ceremonies/{slug}/programme/save-default")
    assert response.status_code == 302
    default = find_series("5-mei").default_programme
    assert len(default) == 5
    assert default[-1]["text_en"] == "National anthem"
    # The next edition made from the series brings the item along.
    series_id = find_series("5-mei").id
    response = planner.post(
        "/staff/ceremonies/new",
        data={"which": "series", "series-series_id": str(series_id), "series-year": "2027"},
    )
    assert response.status_code == 302
    assert [i.text_en for i in find_edition("2027-5-mei").items][-1] == "National anthem"


def test_a_one_off_cannot_be_a_series_default(planner: FlaskClient, guard: Guard) -> None:
    slug = dst_edition()
    guard.snapshot()
    response = planner.post(f"/staff/ceremonies/{slug}/programme/save-default")
    assert response.status_code == 400
    assert "A one-off edition has no series" in text(response)
    guard.unchanged()


# --- series and venues ------------------------------------------------------------------


def series_form(venue_id: int, **changes: str) -> dict[str, str]:
    form = {
        "slug": "embassy-day",
        "title_nl": "Dag van de ambassade",
        "title_en": "Embassy day",
        "title_ru": "День посольства",
        "month": "6",
        "day": "12",
        "start_time": "10:00",
        "duration_minutes": "60",
        "venue_id": str(venue_id),
        "base_year": "",
        "organiser_role": "facilitated",
        "public": "y",
        "active": "y",
    }
    form.update(changes)
    return form


BAD_SERIES: list[tuple[str, dict[str, str], str, str, list[str]]] = [
    ("31-april", {"month": "4", "day": "31"}, "day", "This month has no day 31", ["31"]),
    ("30-february", {"month": "2", "day": "30"}, "day", "This month has no day 30", ["30"]),
    ("day-zero", {"day": "0"}, "day", "Number must be between 1 and 31", ["0"]),
    (
        "duplicate-slug",
        {"slug": "4-mei"},
        "slug",
        "A series with this slug exists already",
        ["4-mei", "Embassy day"],
    ),
    ("bad-slug", {"slug": "Embassy Day"}, "slug", "Use lower-case letters", ["Embassy Day"]),
    (
        "long-title",
        {"title_en": LONG},
        "title_en",
        "Field cannot be longer than 200 characters",
        [LONG],
    ),
    (
        "bidi-title",
        {"title_nl": "Dag\u202e"},
        "title_nl",
        "Remove control or text-direction characters",
        ["Dag\u202e"],
    ),
    (
        "zero-duration",
        {"duration_minutes": "0"},
        "duration_minutes",
        "Number must be between 1 and 1440",
        [],
    ),
    ("unknown-month", {"month": "13"}, "month", "Not a valid choice", []),
    ("unknown-role", {"organiser_role": "owner"}, "organiser_role", "Not a valid choice", []),
]


@pytest.mark.parametrize(
    ("page", "changes", "field", "message", "typed"),
    [
        pytest.param(page, *case[1:], id=f"{page}-{case[0]}")
        for page in ("new", "edit")
        for case in BAD_SERIES
        # A series' slug is fixed at creation: the edit form ignores it (tested below).
        if not (page == "edit" and case[2] == "slug")
    ],
)
def test_series_form_refuses_bad_input(
    planner: FlaskClient,
    guard: Guard,
    page: str,
    changes: dict[str, str],
    field: str,
    message: str,
    typed: list[str],
) -> None:
    venue_id = field_venue_id()
    url = "/staff/series/new" if page == "new" else "/staff/series/9-mei/edit"
    guard.snapshot()
    response = planner.post(url, data=series_form(venue_id, **changes))
    assert_refused(response, field, message, [*typed, "День посольства"])
    guard.unchanged()


def test_a_series_slug_is_fixed_after_creation(
    planner: FlaskClient, edition: Callable[..., Ceremony]
) -> None:
    """Feed URLs and edition slugs are made from it: an edit never changes it."""
    make_edition(edition, "9-mei", 2026)
    response = planner.post(
        "/staff/series/9-mei/edit", data=series_form(field_venue_id(), slug="renamed")
    )
    assert response.status_code == 302
    assert find_series("9-mei").title_en == "Embassy day"
    db.session.rollback()
    assert (
        db.session.scalar(sa.select(CeremonySeries).where(CeremonySeries.slug == "renamed")) is None
    )


def test_create_and_edit_a_series(planner: FlaskClient) -> None:
    venue_id = field_venue_id()
    response = planner.post("/staff/series/new", data=series_form(venue_id))
    assert response.status_code == 302
    made = find_series("embassy-day")
    assert (made.month, made.day, made.start_time) == (6, 12, time(10, 0))
    assert made.default_programme == []
    assert "Embassy day" in text(planner.get("/staff/series"))
    response = planner.post(
        "/staff/series/embassy-day/edit", data=series_form(venue_id, day="13", active="")
    )
    assert response.status_code == 302
    edited = find_series("embassy-day")
    assert (edited.day, edited.active) == (13, False)
    response = planner.post(
        "/staff/ceremonies/new",
        data={"which": "series", "series-series_id": str(edited.id), "series-year": "2027"},
    )
    assert response.status_code == 302
    assert find_edition("2027-embassy-day").local_start.date() == date(2027, 6, 13)


def venue_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Rusthof",
        "address": "Dodeweg 29, Leusden",
        "latitude": "52.1290",
        "longitude": "5.3750",
        "timezone": "Europe/Amsterdam",
        "notes": "Parking at the gate",
    }
    form.update(changes)
    return form


BAD_VENUES: list[tuple[str, dict[str, str], str, str, list[str]]] = [
    (
        "unknown-zone",
        {"timezone": "Mars/Olympus"},
        "timezone",
        "Not a known time zone",
        ["Mars/Olympus"],
    ),
    (
        "latitude-only",
        {"longitude": ""},
        "latitude",
        "Give both latitude and longitude, or neither",
        ["52.1290"],
    ),
    (
        "longitude-only",
        {"latitude": ""},
        "longitude",
        "Give both latitude and longitude, or neither",
        ["5.3750"],
    ),
    ("latitude-range", {"latitude": "91"}, "latitude", "Number must be between -90 and 90", ["91"]),
    ("latitude-nan", {"latitude": "nan"}, "latitude", "Number must be between -90 and 90", ["nan"]),
    ("longitude-garbled", {"longitude": "5,37"}, "longitude", "Not a valid float value", ["5,37"]),
    (
        "duplicate-name",
        {"name": "Monument Koedriest"},
        "name",
        "A venue with this name exists already",
        ["Monument Koedriest"],
    ),
    ("blank-name", {"name": ""}, "name", "This field is required", []),
]


@pytest.mark.parametrize(
    ("changes", "field", "message", "typed"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_VENUES],
)
@pytest.mark.parametrize("page", ["new", "edit"])
def test_venue_form_refuses_bad_input(
    planner: FlaskClient,
    guard: Guard,
    page: str,
    changes: dict[str, str],
    field: str,
    message: str,
    typed: list[str],
) -> None:
    url = "/staff/venues/new" if page == "new" else f"/staff/venues/{field_venue_id()}/edit"
    guard.snapshot()
    response = planner.post(url, data=venue_form(**changes))
    assert_refused(response, field, message, [*typed, "Parking at the gate"])
    guard.unchanged()


def test_create_and_edit_a_venue(planner: FlaskClient) -> None:
    response = planner.post("/staff/venues/new", data=venue_form())
    assert response.status_code == 302
    db.session.rollback()
    venue = db.session.scalar(sa.select(Venue).where(Venue.name == "Rusthof"))
    assert venue is not None
    assert (venue.latitude, venue.longitude, venue.timezone) == (52.129, 5.375, "Europe/Amsterdam")
    venue_id = venue.id
    response = planner.post(
        f"/staff/venues/{venue_id}/edit", data=venue_form(latitude="", longitude="", address="")
    )
    assert response.status_code == 302
    db.session.rollback()
    venue = db.session.get(Venue, venue_id)
    assert venue is not None
    assert (venue.latitude, venue.longitude, venue.address) == (None, None, "")
    assert "Rusthof" in text(planner.get("/staff/venues"))


# --- users ------------------------------------------------------------------------------


def user_form(**changes: str) -> dict[str, str]:
    form = {
        "email": "anna@example.org",
        "name": "Anna de Vries",
        "role": "planner",
        "language": "en",
        "password": "a long enough password",
        "active": "y",
    }
    form.update(changes)
    return form


BAD_USERS: list[tuple[str, dict[str, str], str, str, list[str]]] = [
    (
        "bad-email",
        {"email": "anna at example"},
        "email",
        "Not a valid email address",
        ["anna at example"],
    ),
    (
        "short-password",
        {"password": "short"},
        "password",
        "Field must be between 8 and 1024 characters long",
        [],
    ),
    (
        "long-password",
        {"password": "p" * 1025},
        "password",
        "Field must be between 8 and 1024 characters long",
        [],
    ),
    (
        "duplicate-email",
        {"email": "Admin@Example.org"},
        "email",
        "An account with this email exists already",
        ["Admin@Example.org"],
    ),
    ("unknown-role", {"role": "superuser"}, "role", "Not a valid choice", []),
    (
        "bidi-name",
        {"name": "Anna\u202e"},
        "name",
        "Remove control or text-direction characters",
        ["Anna\u202e"],
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "message", "typed"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_USERS],
)
def test_new_user_refuses_bad_input(
    admin: FlaskClient,
    guard: Guard,
    changes: dict[str, str],
    field: str,
    message: str,
    typed: list[str],
) -> None:
    guard.snapshot()
    response = admin.post("/staff/users/new", data=user_form(**changes))
    kept = typed if "name" in changes else [*typed, "Anna de Vries"]
    assert_refused(response, field, message, kept)
    assert "a long enough password" not in text(response)  # passwords are not echoed
    guard.unchanged()


@pytest.mark.parametrize(
    "changes",
    [pytest.param({"role": "planner"}, id="role"), pytest.param({"active": ""}, id="disable")],
)
def test_an_admin_cannot_take_away_their_own_rights(
    admin: FlaskClient, guard: Guard, changes: dict[str, str]
) -> None:
    db.session.rollback()
    me = db.session.scalar(sa.select(User).where(User.email == "admin@example.org"))
    assert me is not None
    form = {"name": "Typed name", "role": "admin", "language": "en", "active": "y", **changes}
    guard.snapshot()
    response = admin.post(f"/staff/users/{me.id}/edit", data=form)
    assert_refused(response, "role", "You cannot take away your own admin rights", ["Typed name"])
    guard.unchanged()
    assert admin.get("/staff/users").status_code == 200


def log_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    return client.post("/login", data={"email": email, "password": password})


def test_create_edit_and_disable_a_user(app: Flask, admin: FlaskClient) -> None:
    response = admin.post("/staff/users/new", data=user_form(email=" Anna@Example.org "))
    assert response.status_code == 302
    db.session.rollback()
    anna = db.session.scalar(sa.select(User).where(User.email == "anna@example.org"))
    assert anna is not None
    assert (anna.role, anna.name, anna.language, anna.active) == (
        Role.PLANNER,
        "Anna de Vries",
        "en",
        True,
    )
    assert anna.password_hash.startswith("$argon2id$")
    anna_id = anna.id

    browser = english(app.test_client())
    assert log_in(browser, "anna@example.org", "a long enough password").status_code == 302
    assert browser.get("/staff/ceremonies/new").status_code == 200

    response = admin.post(
        f"/staff/users/{anna_id}/edit",
        data={"name": "Anna", "role": "viewer", "language": "nl", "active": "y"},
    )
    assert response.status_code == 302
    assert browser.get("/staff/ceremonies/new").status_code == 403  # now a viewer
    assert browser.get("/staff/ceremonies").status_code == 200

    response = admin.post(
        f"/staff/users/{anna_id}/edit",
        data={"name": "Anna", "role": "viewer", "language": "nl", "active": ""},
    )
    assert response.status_code == 302
    db.session.rollback()
    disabled = db.session.get(User, anna_id)
    assert disabled is not None
    assert not disabled.active
    # Her open session stops working, and she cannot log in again.
    response = browser.get("/staff/ceremonies")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    refused = log_in(browser, "anna@example.org", "a long enough password")
    assert_refused(refused, None, "Unknown email address or wrong password", ["anna@example.org"])


# --- accounts, login and sessions -------------------------------------------------------


def test_password_change_ends_other_sessions(app: Flask, planner: FlaskClient) -> None:
    # Another browser holding this account's session (a second device, or a stolen copy).
    cookie = planner.get_cookie("session")
    assert cookie is not None
    other = app.test_client()
    other.set_cookie("session", cookie.value)
    assert other.get("/staff/ceremonies").status_code == 200

    response = planner.post(
        "/staff/account",
        data={
            "current": PASSWORD,
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/staff/account"
    assert planner.get("/staff/account").status_code == 200  # this browser stays in
    response = other.get("/staff/ceremonies")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    english(other)
    assert log_in(other, "planner@example.org").status_code == 400
    assert log_in(other, "planner@example.org", "a brand new passphrase").status_code == 302


BAD_PASSWORD_CHANGES: list[tuple[str, dict[str, str], str, str]] = [
    (
        "wrong-current",
        {"current": "not my password"},
        "current",
        "This is not your current password",
    ),
    ("differs", {"confirm": "another new passphrase"}, "confirm", "The passwords differ"),
    (
        "short",
        {"password": "short", "confirm": "short"},
        "password",
        "Field must be between 8 and 1024 characters long",
    ),
    ("huge-current", {"current": "c" * 5000}, "current", "Field cannot be longer than 1024"),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_PASSWORD_CHANGES],
)
def test_password_change_refuses_bad_input(
    planner: FlaskClient,
    guard: Guard,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    form = {
        "current": PASSWORD,
        "password": "a brand new passphrase",
        "confirm": "a brand new passphrase",
        **changes,
    }
    guard.snapshot()
    response = planner.post("/staff/account", data=form)
    assert_refused(response, field, message, [])
    # A wrong current password is a counted attempt, like at the login (Security 9).
    guard.unchanged(except_=("login_throttle",))


def test_logout_ends_a_copied_session_cookie(app: Flask, planner: FlaskClient) -> None:
    cookie = planner.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/staff/ceremonies").status_code == 200  # the copy works...
    response = planner.post("/logout")
    assert response.status_code == 302
    response = thief.get("/staff/ceremonies")  # ...until the owner logs out
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert planner.get("/staff/ceremonies").status_code == 302


def test_login_with_a_huge_password_is_refused_quickly(
    app: Flask, client: FlaskClient, seeded: None, guard: Guard
) -> None:
    # An expensive hash, so that hashing the huge password would show in the time.
    costly = PasswordHasher(time_cost=6, memory_cost=64 * 1024, parallelism=1)
    user = create_user(db.session, "slow@example.org", PASSWORD, Role.VIEWER)
    user.password_hash = costly.hash(PASSWORD)
    db.session.commit()
    started = clock.perf_counter()
    costly.verify(user.password_hash, PASSWORD)
    one_hash = clock.perf_counter() - started
    english(client)
    guard.snapshot()

    started = clock.perf_counter()
    response = log_in(client, "slow@example.org", "p" * 5000)
    elapsed = clock.perf_counter() - started
    assert_refused(
        response, "password", "Field cannot be longer than 1024 characters", ["slow@example.org"]
    )
    assert "p" * 100 not in text(response)
    assert elapsed < one_hash / 2, (elapsed, one_hash)
    guard.unchanged()


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: FlaskClient, make_user: Callable[..., User], guard: Guard
) -> None:
    make_user(Role.VIEWER, "known@example.org")
    english(client)
    guard.snapshot()
    unknown = log_in(client, "nobody@example.org", "wrong password")
    wrong = log_in(client, "known@example.org", "wrong password")
    for response, email in ((unknown, "nobody@example.org"), (wrong, "known@example.org")):
        assert_refused(response, None, "Unknown email address or wrong password", [email])
    same = [
        text(r).replace(email, "EMAIL")
        for r, email in ((unknown, "nobody@example.org"), (wrong, "known@example.org"))
    ]
    assert same[0] == same[1]
    guard.unchanged(except_=("login_throttle",))  # attempts are counted, by design


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        pytest.param(
            {"email": "", "password": "x"}, "email", "This field is required", id="no-email"
        ),
        pytest.param(
            {"email": "a@example.org", "password": ""},
            "password",
            "This field is required",
            id="no-password",
        ),
        pytest.param(
            {"email": "e" * 255, "password": "x"},
            "email",
            "Field cannot be longer than 254 characters",
            id="long-email",
        ),
    ],
)
def test_login_refuses_incomplete_input(
    client: FlaskClient,
    seeded: None,
    guard: Guard,
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    english(client)
    guard.snapshot()
    response = client.post("/login", data=form)
    assert_refused(response, field, message, [form["email"]] if form["email"] else [])
    guard.unchanged()


# --- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["noon", "", "18:00\u202e"])
def test_settings_refuse_an_invalid_choice(admin: FlaskClient, guard: Guard, value: str) -> None:
    guard.snapshot()
    response = admin.post("/staff/settings", data={"flag_4_may_from": value})
    assert_refused(response, "flag_4_may_from", "Not a valid choice", [], marked=False)
    guard.unchanged()


def test_settings_save(admin: FlaskClient) -> None:
    response = admin.post(
        "/staff/settings",
        data={
            "flag_4_may_from": "sunrise",
            "programme_paper": "a5",
            "require_totp": "no",
            "seated_minutes": "15",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    assert get_setting(db.session, "flag_4_may_from") == "sunrise"
