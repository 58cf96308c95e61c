"""Property-based tests: arbitrary text and dates in the main forms never hurt (Hypothesis).

SECURITY.md, "Bad input gets a clear error and loses nothing". For every submission of
the edition, programme item, venue, person, appointment and delegation member forms:

- never a 5xx (TESTING propagates exceptions, so a crash fails with its traceback);
- either a 3xx (saved), or a 400 with the form shown again: the error box, every input,
  and what was typed (text fields NFC and trimmed, as the form cleans them);
- refused: every table row for row as it was before the request;
- saved: each text field stored as its NFC-normalised, trimmed input (line breaks as
  \\n in multi-line fields), within the field's length and free of control and
  text-direction characters; dates and times stored as typed. A value that is too long
  is refused, never cut.

Text comes from every code point but surrogates, with control characters, bidi overrides
and isolates, emoji, Cyrillic, Kazakh letters, decomposed letters that NFC composes, and
strings near each field's limit and up to about 5000 characters. Dates and times come
valid, impossible (2026-02-30, 25:61), garbled, and in the hours the clocks skip or
repeat. Runs are bounded and derandomized: the same examples every run, in CI too.
"""

from __future__ import annotations

import html
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo, available_timezones

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony, CeremonyStatus, ItemKind, ProgrammeItem, Venue
from app.ceremonies.services import CeremonyData, create_ceremony
from app.contacts.models import (
    Appointment,
    AppointmentRole,
    Organisation,
    OrganisationKind,
    Person,
)
from app.extensions import Base, db
from app.invitations.models import DelegationMember, Invitation, InvitationStatus
from app.invitations.tokens import issue_token
from app.types import local_today
from tests.test_forms_bad_input import fingerprint, version_in

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI failures reproduce
    database=None,  # nothing written to .hypothesis/
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
Row = TypeVar("Row", bound=Base)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ZONES = sorted(available_timezones())
KAZAKH = "Қайрат Нұрланұлы"


# --- text -------------------------------------------------------------------------------

CONTROL = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))]
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
LETTERS = [
    *"Leusden Ereveld",
    *"Мемориал Памяти",
    *"ӘәҒғҚқҢңӨөҰұҮүҺһІі",
    "e\u0301",  # NFC: é
    "A\u030a",  # NFC: Å
    "\u0438\u0306",  # NFC: й
    "\u0415\u0308",  # NFC: Ё
    "🕯",
    "🌹",
    "🇰🇿",
    "👩🏽\u200d🦳",
    "\ufe0f",
    "ß",
    "ﬁ",
    "&",
    "<b>",
    '"',
    "'",
]
SPACES = [" ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u2028", "\u3000", "\u200b", "\x85"]
SPECIAL = st.sampled_from([*CONTROL, *BIDI, *LETTERS, *SPACES])
ANY_CHARACTER = st.characters(exclude_categories=["Cs"])  # every code point but surrogates

clean_text = st.lists(st.sampled_from([*LETTERS, " "]), min_size=1, max_size=30).map("".join)
# Any code point a form should keep: no surrogates, controls or text-direction marks.
printable_text = st.text(
    st.characters(exclude_categories=["Cs", "Cc"], exclude_characters=BIDI), max_size=40
)
any_text = st.lists(st.one_of(ANY_CHARACTER, SPECIAL), max_size=40).map("".join)
# Long strings are a short unit repeated: a few choices for Hypothesis, not 5000.
long_text = st.builds(
    lambda unit, size: (unit * size)[:size],
    st.lists(st.one_of(SPECIAL, st.sampled_from(LETTERS)), min_size=1, max_size=6).map("".join),
    st.integers(min_value=1000, max_value=5100),
)


def near(limit: int) -> st.SearchStrategy[str]:
    """A run of one letter just under, at and just over ``limit`` once NFC and trimmed."""
    return st.builds(
        lambda pad, letter, size: pad + letter * size + pad,
        st.sampled_from(["", " ", " \n "]),
        st.sampled_from(["x", "Д", "Қ", "🌹", "e\u0301"]),
        st.integers(min_value=limit - 2, max_value=limit + 2),
    )


def text(limit: int) -> st.SearchStrategy[str]:
    """What may be typed into a text field with ``limit``."""
    return st.one_of(clean_text, printable_text, any_text, near(limit), long_text)


@st.composite
def edits(
    draw: st.DrawFn, default: Mapping[str, str], typed: Mapping[str, st.SearchStrategy[str]]
) -> dict[str, str]:
    """The ``default`` form with one to three fields typed anew: a form of nothing but
    random fields would almost never be saved, and saving is half the property."""
    names = draw(st.sets(st.sampled_from(sorted(typed)), min_size=1, max_size=3))
    return {**default, **{name: draw(typed[name]) for name in sorted(names)}}


@dataclass(frozen=True)
class Text:
    """A text field: its length limit, whether it has several lines, whether required."""

    limit: int
    block: bool = False
    required: bool = False
    upper: bool = False  # stored in capitals (car plates)

    def clean(self, typed: str) -> str:
        """What the form makes of ``typed``: line breaks as \\n, NFC, trimmed."""
        if self.block:
            typed = typed.replace("\r\n", "\n").replace("\r", "\n")
        cleaned = unicodedata.normalize("NFC", typed).strip()
        return cleaned.upper() if self.upper else cleaned

    def allowed(self, value: str) -> bool:
        """Within the limit, no control or text-direction characters (tab and line
        breaks are fine in a multi-line field), not empty if required."""
        breaks = "\t\n" if self.block else ""
        return (
            len(value) <= self.limit
            and bool(value or not self.required)
            and not any(
                (unicodedata.category(c) == "Cc" and c not in breaks) or c in BIDI for c in value
            )
        )


# --- dates and times --------------------------------------------------------------------


def parse_date(typed: str) -> date | None:
    """What the form's DateField makes of ``typed`` (None: not a date)."""
    try:
        return datetime.strptime(typed, "%Y-%m-%d").date()
    except ValueError:
        return None


def parse_time(typed: str) -> time | None:
    """What the forms' TimeFields (HH:MM or HH:MM:SS) make of ``typed``."""
    for pattern in ("%H:%M", "%H:%M:%S"):
        try:
            return datetime.strptime(typed, pattern).time()
        except ValueError:
            pass
    return None


def parse_number(typed: str, kind: Callable[[str], float]) -> float | None:
    try:
        return kind(typed)
    except ValueError:
        return None


days = st.one_of(
    st.dates(date(1946, 1, 1), date(2199, 12, 31)).map(date.isoformat),
    st.builds(
        "{:04d}-{:02d}-{:02d}".format,
        st.integers(0, 10000),
        st.integers(0, 13),
        st.integers(0, 32),
    ),
    st.sampled_from(
        [
            "2026-02-30",
            "2026-02-29",
            "2028-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "0001-01-01",
            "9999-12-31",
            "2026-3-29",
            "29-03-2026",
            "2026/03/29",
            "2026-03-29T02:30",
            "2026-03-29 02:30",
            " 2026-05-09",
            "",
            "٢٠٢٦-٠٥-٠٩",  # Arabic-Indic digits
            "２０２６-０５-０９",  # full-width digits
        ]
    ),
    any_text,
)
times = st.one_of(
    st.times().map(lambda t: t.strftime("%H:%M")),
    st.times().map(lambda t: t.strftime("%H:%M:%S")),
    st.builds("{:02d}:{:02d}".format, st.integers(0, 30), st.integers(0, 70)),
    st.sampled_from(
        ["25:61", "24:00", "23:59:60", "02:30", "-1:00", "12:00:00.5", "12h", "noon", "", " "]
    ),
    any_text,
)
# The last Sundays of March and October: the hour the clocks skip, and the one they repeat.
DST_DAYS = ["2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"]
dst_times = st.builds("{:02d}:{:02d}".format, st.integers(1, 3), st.integers(0, 59))


# --- the checks every submission meets ------------------------------------------------


def answer(
    response: TestResponse,
    form: Mapping[str, str],
    texts: Mapping[str, Text],
    before: dict[str, list[str]],
) -> bool:
    """Saved (True), or refused with the form shown again and nothing changed (False)."""
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:2000]
    if 300 <= status < 400:
        return True
    assert status == 400, (status, response.get_data(as_text=True)[:2000])
    page = html.unescape(response.get_data(as_text=True))
    assert 'class="error-box" role="alert"' in page, page[:3000]
    for name, typed in form.items():
        assert f'name="{name}"' in page, f"the form lost its {name} input"
        shown = texts[name].clean(typed) if name in texts else typed
        assert shown in page, f"typed {name} {shown[:80]!r} lost"
    assert fingerprint() == before, "refused, yet the database changed"
    return False


def stored_as_typed(form: Mapping[str, str], texts: Mapping[str, Text], row: object) -> None:
    """Every text field of ``row`` is what was typed, cleaned; nothing cut, nothing bad."""
    for name, spec in texts.items():
        wanted = spec.clean(form[name])
        assert getattr(row, name) == wanted, (name, form[name][:80])
        assert spec.allowed(wanted), f"{name} {wanted[:80]!r} should have been refused"


def reread(model: type[Row], row_id: int) -> Row:
    db.session.rollback()  # what is committed now, not what this session cached
    found = db.session.get(model, row_id)
    assert found is not None
    return found


def both_outcomes(outcomes: Counter[bool]) -> None:
    """The property was tested both ways: some input saved, some refused."""
    assert outcomes[True], outcomes
    assert outcomes[False], outcomes


@pytest.fixture
def planner(client: FlaskClient, login: Callable[[Role], User], seeded: None) -> FlaskClient:
    login(Role.PLANNER)
    return client


# --- the edition's details --------------------------------------------------------------

EDITION_TEXTS = {
    "title_nl": Text(200, required=True),
    "title_en": Text(200, required=True),
    "title_ru": Text(200),
    "notes": Text(5000, block=True),
}
EDITION_DEFAULT = {
    "title_nl": "Dodenherdenking",
    "title_en": "Remembrance",
    "title_ru": "День памяти",
    "notes": "Bring the wreath stands",
    "day": "2026-05-04",
    "start_time": "18:45",
    "end_time": "20:15",
}
edition_forms = st.one_of(
    edits(
        EDITION_DEFAULT,
        {
            **{name: text(spec.limit) for name, spec in EDITION_TEXTS.items()},
            "day": days,
            "start_time": times,
            "end_time": times,
        },
    ),
    st.builds(  # a day the clocks change, around the hour they do
        lambda day, start, end: {
            **EDITION_DEFAULT,
            "day": day,
            "start_time": start,
            "end_time": end,
        },
        st.sampled_from(DST_DAYS),
        dst_times,
        st.one_of(dst_times, st.just("12:00")),
    ),
)


def test_the_edition_form_saves_what_was_typed_or_nothing(
    planner: FlaskClient, edition: Callable[..., Ceremony]
) -> None:
    made = edition("4-mei", 2026)
    ceremony_id, venue_id = made.id, made.venue_id
    url = f"/staff/ceremonies/{made.slug}/edit"
    outcomes: Counter[bool] = Counter()

    @PROPERTY
    @given(form=edition_forms)
    @example(form={**EDITION_DEFAULT, "title_ru": " Қайрат\u0301 🕯 ", "notes": "a\r\nb\rc"})
    @example(form={**EDITION_DEFAULT, "title_nl": "Herdenking\x00"})
    @example(form={**EDITION_DEFAULT, "title_en": "A\u202eexe.live"})
    @example(form={**EDITION_DEFAULT, "title_en": "x" * 200, "notes": "n" * 5000})
    @example(form={**EDITION_DEFAULT, "title_en": "x" * 201})
    @example(form={**EDITION_DEFAULT, "notes": "e\u0301" * 5000})  # 5000 once NFC
    @example(form={**EDITION_DEFAULT, "day": "2026-02-30"})
    @example(form={**EDITION_DEFAULT, "start_time": "25:61"})
    @example(form={**EDITION_DEFAULT, "day": "2026-03-29", "start_time": "02:30"})
    @example(form={**EDITION_DEFAULT, "day": "2026-10-25", "start_time": "02:30"})
    @example(form={**EDITION_DEFAULT, "day": "0001-01-01", "start_time": "00:00"})
    @example(form={**EDITION_DEFAULT, "day": "9999-12-31", "start_time": "23:00"})
    def submit(form: dict[str, str]) -> None:
        version = version_in(planner.get(url))
        before = fingerprint()
        sent = {**form, "venue_id": str(venue_id), "public": "y", "base_year": ""}
        response = planner.post(url, data={**sent, "version": version})
        saved = answer(response, form, EDITION_TEXTS, before)
        outcomes[saved] += 1
        if not saved:
            return
        ceremony = reread(Ceremony, ceremony_id)
        stored_as_typed(form, EDITION_TEXTS, ceremony)
        day, start, end = (
            parse_date(form["day"]),
            parse_time(form["start_time"]),
            parse_time(form["end_time"]),
        )
        assert day is not None, form
        assert start is not None, form
        assert end is not None, form
        assert ceremony.local_start.replace(tzinfo=None) == datetime.combine(day, start)
        assert ceremony.local_end.replace(tzinfo=None) == datetime.combine(day, end)
        assert ceremony.local_start.utcoffset() == ceremony.local_start.replace(fold=1).utcoffset()
        assert planner.get(url).status_code == 200  # what was saved can be shown again

    submit()
    both_outcomes(outcomes)


# --- a programme item -------------------------------------------------------------------

ITEM_TEXTS = {
    "text_nl": Text(500),
    "text_en": Text(500),
    "text_ru": Text(500),
    "performer_nl": Text(200),
    "performer_en": Text(200),
    "performer_ru": Text(200),
}
ITEM_DEFAULT = {
    "text_nl": "Toespraak",
    "text_en": "Address",
    "text_ru": "Речь",
    "performer_nl": KAZAKH,
    "performer_en": KAZAKH,
    "performer_ru": KAZAKH,
    "start_time": "",
    "offset_minutes": "",
    "duration_minutes": "5",
}
minutes = st.one_of(
    st.integers(-800, 1500).map(str),
    st.sampled_from(["", " ", "5.0", "1e3", " 7 ", "1_000", "٣", "-0", "99999999999999999999"]),
    any_text,
)
item_forms = edits(
    ITEM_DEFAULT,
    {
        **{name: text(spec.limit) for name, spec in ITEM_TEXTS.items()},
        "start_time": st.one_of(dst_times, times),
        "offset_minutes": minutes,
        "duration_minutes": minutes,
    },
)


def test_the_programme_item_form_saves_what_was_typed_or_nothing(planner: FlaskClient) -> None:
    # An edition on the day the clocks go forward: 02:00-02:59 does not exist.
    venue = db.session.scalar(sa.select(Venue).where(Venue.name == "Sovjet Ereveld"))
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
    ceremony.items.append(ProgrammeItem(kind=ItemKind.SPEECH, text_en="Address", version=1))
    db.session.commit()
    item_id = ceremony.items[0].id
    url = f"/staff/ceremonies/{ceremony.slug}/items/{item_id}/edit"
    outcomes: Counter[bool] = Counter()

    @PROPERTY
    @given(form=item_forms)
    @example(form={**ITEM_DEFAULT, "text_ru": "Речь\u202e"})
    @example(form={**ITEM_DEFAULT, "performer_ru": "p" * 201})
    @example(form={**ITEM_DEFAULT, "text_en": "e\u0301" * 500, "start_time": "10:30"})
    @example(form={**ITEM_DEFAULT, "start_time": "02:30"})
    @example(form={**ITEM_DEFAULT, "start_time": "25:61", "offset_minutes": "2000"})
    @example(form={**ITEM_DEFAULT, "text_nl": " ", "text_en": "", "text_ru": "\u3000"})
    def submit(form: dict[str, str]) -> None:
        version = version_in(planner.get(url))
        before = fingerprint()
        sent = {**form, "kind": "speech", "printable": "y", "version": version}
        saved = answer(planner.post(url, data=sent), form, ITEM_TEXTS, before)
        outcomes[saved] += 1
        if not saved:
            return
        item = reread(ProgrammeItem, item_id)
        stored_as_typed(form, ITEM_TEXTS, item)
        assert item.text_nl or item.text_en or item.text_ru
        start = parse_time(form["start_time"]) if form["start_time"].strip() else None
        assert item.start_time == start
        if start is not None:
            assert not time(2) <= start < time(3), "a start the clock skips was saved"
            assert item.offset_minutes is None
        else:
            offset = form["offset_minutes"]
            assert item.offset_minutes == (int(offset) if offset.strip() else None)
            assert item.offset_minutes is None or -720 <= item.offset_minutes <= 1440
        assert item.duration_minutes == int(form["duration_minutes"])
        assert 0 <= item.duration_minutes <= 1440

    submit()
    both_outcomes(outcomes)


# --- a venue ----------------------------------------------------------------------------

VENUE_TEXTS = {
    "name": Text(200, required=True),
    "address": Text(500),
    "timezone": Text(64, required=True),
    "notes": Text(5000, block=True),
}
VENUE_DEFAULT = {
    "name": "Rusthof",
    "address": "Dodeweg 29, Leusden",
    "latitude": "52.1290",
    "longitude": "5.3750",
    "timezone": "Europe/Amsterdam",
    "notes": "Parking at the gate",
}
degrees = st.one_of(
    st.floats(-200, 200).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "-inf", "1e-400", "5,37", "52.1 ", "٥٢", "1_0", "0x10"]),
    any_text,
)
venue_forms = edits(
    VENUE_DEFAULT,
    {
        "name": st.one_of(
            text(200),
            st.sampled_from(["Monument Koedriest", "Sovjet Ereveld", " Sovjet Ereveld\u00a0"]),
        ),
        "address": text(500),
        "latitude": degrees,
        "longitude": degrees,
        "timezone": st.one_of(
            st.sampled_from(ZONES),
            st.sampled_from(["europe/amsterdam", " Europe/Amsterdam ", "Mars/Olympus", "UTC"]),
            text(64),
        ),
        "notes": text(5000),
    },
)


def test_the_venue_form_saves_what_was_typed_or_nothing(planner: FlaskClient) -> None:
    venue = Venue(name="Rusthof", timezone="Europe/Amsterdam")
    db.session.add(venue)
    db.session.commit()
    venue_id = venue.id
    url = f"/staff/venues/{venue_id}/edit"
    outcomes: Counter[bool] = Counter()

    @PROPERTY
    @given(form=venue_forms)
    @example(form={**VENUE_DEFAULT, "name": "Монумент 🕯 Қ", "notes": "1\r\n2\t3"})
    @example(form={**VENUE_DEFAULT, "name": "Sovjet Ereveld"})
    @example(form={**VENUE_DEFAULT, "address": "a" * 501})
    @example(form={**VENUE_DEFAULT, "latitude": "nan"})
    @example(form={**VENUE_DEFAULT, "longitude": ""})
    @example(form={**VENUE_DEFAULT, "timezone": "Mars/Olympus"})
    @example(form={**VENUE_DEFAULT, "notes": "\x00"})
    def submit(form: dict[str, str]) -> None:
        assert planner.get(url).status_code == 200
        before = fingerprint()
        saved = answer(planner.post(url, data=form), form, VENUE_TEXTS, before)
        outcomes[saved] += 1
        if not saved:
            return
        stored = reread(Venue, venue_id)
        stored_as_typed(form, VENUE_TEXTS, stored)
        assert stored.timezone in available_timezones()
        latitude, longitude = form["latitude"], form["longitude"]
        if not latitude.strip() and not longitude.strip():
            assert (stored.latitude, stored.longitude) == (None, None)
        else:
            assert stored.latitude == parse_number(latitude, float)
            assert stored.longitude == parse_number(longitude, float)
            assert stored.latitude is not None
            assert stored.longitude is not None
            assert -90 <= stored.latitude <= 90
            assert -180 <= stored.longitude <= 180
        assert planner.get("/staff/venues").status_code == 200

    submit()
    both_outcomes(outcomes)


# --- a person in the contacts -----------------------------------------------------------

PERSON_TEXTS = {
    "given_name": Text(200),
    "family_name": Text(200, required=True),
    "native_name": Text(300),
    "patronymic": Text(200),
    "email": Text(254),
    "phone": Text(50),
    "relation": Text(2000, block=True),
    "notes": Text(5000, block=True),
}
PERSON_DEFAULT = {
    "given_name": "Qairat",
    "family_name": "Nurlanuly",
    "native_name": KAZAKH,
    "patronymic": "",
    "email": "qairat@example.org",
    "phone": "+31 33 123 45 67",
    "relation": "Grandson of Ivan Petrov (grave 12)",
    "notes": "",
}
person_forms = edits(
    PERSON_DEFAULT,
    {
        **{name: text(spec.limit) for name, spec in PERSON_TEXTS.items()},
        "email": st.one_of(
            st.sampled_from(
                ["", " a@example.org ", "аня@пример.рф", "a@b", "a" * 250 + "@example.org", "@"]
            ),
            any_text,
        ),
        "phone": st.one_of(
            st.text(alphabet="+0123456789 ()./-", max_size=55),
            st.sampled_from(["", "+٣١ 33", "+31\n33", "0" * 51]),
            any_text,
        ),
    },
)


def test_the_person_form_saves_what_was_typed_or_nothing(planner: FlaskClient) -> None:
    person = Person(family_name="Nurlanuly", given_name="Qairat")
    db.session.add(person)
    db.session.commit()
    person_id = person.id
    url = f"/staff/contacts/persons/{person_id}/edit"
    outcomes: Counter[bool] = Counter()

    @PROPERTY
    @given(form=person_forms)
    @example(form={**PERSON_DEFAULT, "native_name": "Қайрат\u0301 🇰🇿", "notes": "x\r\ny"})
    @example(form={**PERSON_DEFAULT, "family_name": "\u2066Nurlanuly\u2069"})
    @example(form={**PERSON_DEFAULT, "given_name": "g" * 201})
    @example(form={**PERSON_DEFAULT, "relation": "r" * 2001})
    @example(form={**PERSON_DEFAULT, "email": "not an email"})
    @example(form={**PERSON_DEFAULT, "phone": "call me"})
    def submit(form: dict[str, str]) -> None:
        version = version_in(planner.get(url))
        before = fingerprint()
        sent = {**form, "language": "ru", "version": version}
        saved = answer(planner.post(url, data=sent), form, PERSON_TEXTS, before)
        outcomes[saved] += 1
        if saved:
            stored_as_typed(form, PERSON_TEXTS, reread(Person, person_id))
            assert planner.get(f"/staff/contacts/persons/{person_id}").status_code == 200

    submit()
    both_outcomes(outcomes)


# --- an appointment's dates (functions taken up at an Amsterdam wall time) ------------

APPOINTMENT_DEFAULT = {
    "taken_up_on": "2024-09-03",
    "taken_up_time": "11:00",
    "valid_from": "2024-09-01",
    "valid_to": "",
    "tie_break": "0",
}
appointment_forms = st.one_of(
    edits(
        APPOINTMENT_DEFAULT,
        {
            "taken_up_on": days,
            "taken_up_time": times,
            "valid_from": days,
            "valid_to": days,
            "tie_break": minutes,
        },
    ),
    st.builds(  # a day the clocks change, around the hour they do
        lambda day, at: {**APPOINTMENT_DEFAULT, "taken_up_on": day, "taken_up_time": at},
        st.sampled_from(DST_DAYS),
        dst_times,
    ),
)


def optional_date(typed: str) -> date | None:
    return parse_date(typed) if typed.strip() else None


def test_the_appointment_form_saves_the_dates_typed_or_nothing(planner: FlaskClient) -> None:
    organisation = Organisation(name="Embassy of Kazakhstan", kind=OrganisationKind.EMBASSY)
    person = Person(family_name="Nurlanuly", given_name="Qairat")
    appointment = Appointment(
        person=person, organisation=organisation, role=AppointmentRole.AMBASSADOR
    )
    db.session.add(appointment)
    db.session.commit()
    person_id, appointment_id = person.id, appointment.id
    url = f"/staff/contacts/persons/{person_id}/appointments/{appointment_id}/edit"
    fixed = {"organisation_id": str(organisation.id), "role": "ambassador"}
    outcomes: Counter[bool] = Counter()

    @PROPERTY
    @given(form=appointment_forms)
    @example(form=APPOINTMENT_DEFAULT)
    @example(form={**APPOINTMENT_DEFAULT, "taken_up_on": "0001-01-01", "taken_up_time": "00:00"})
    @example(form={**APPOINTMENT_DEFAULT, "taken_up_on": "2026-03-29", "taken_up_time": "02:30"})
    @example(form={**APPOINTMENT_DEFAULT, "taken_up_on": "2026-02-30"})
    @example(form={**APPOINTMENT_DEFAULT, "taken_up_time": "25:61"})
    @example(form={**APPOINTMENT_DEFAULT, "valid_to": "2024-08-31"})
    def submit(form: dict[str, str]) -> None:
        assert planner.get(url).status_code == 200
        before = fingerprint()
        saved = answer(planner.post(url, data={**form, **fixed}), form, {}, before)
        outcomes[saved] += 1
        if not saved:
            return
        stored = reread(Appointment, appointment_id)
        day, at = optional_date(form["taken_up_on"]), form["taken_up_time"]
        if day is None:
            assert stored.taken_up_at is None
        else:
            wall = parse_time(at) if at.strip() else time(0)
            assert wall is not None, form
            assert stored.taken_up_at is not None
            local = stored.taken_up_at.astimezone(AMSTERDAM)
            assert local.replace(tzinfo=None) == datetime.combine(day, wall)
            assert local.utcoffset() == local.replace(fold=1).utcoffset()  # not a repeat
        assert stored.valid_from == optional_date(form["valid_from"])
        assert stored.valid_to == optional_date(form["valid_to"])
        if stored.valid_from and stored.valid_to:
            assert stored.valid_from <= stored.valid_to
        assert stored.tie_break == int(form["tie_break"])
        assert planner.get(f"/staff/contacts/persons/{person_id}").status_code == 200

    submit()
    both_outcomes(outcomes)


# --- a delegation member on the RSVP page -----------------------------------------------

MEMBER_TEXTS = {
    "name": Text(300, required=True),
    "function": Text(300),
    "car_plate": Text(20, upper=True),
}
MEMBER_DEFAULT = {
    "name": KAZAKH,
    "function": "Ambassador",
    "car_plate": "CD-123-KZ",
    "role": "attendee",
}
member_forms = edits(
    MEMBER_DEFAULT,
    {
        "name": text(300),
        "function": text(300),
        "car_plate": st.one_of(
            st.lists(st.sampled_from([*"AZ09- ", "ß", "ŉ", "ﬁ", "Қ", "ё", "_", "\u0301"]))
            .map("".join)
            .filter(lambda plate: len(plate) <= 25),
            near(20),
            any_text,
        ),
        "role": st.sampled_from(["attendee", "speaker", "wreath_layer", "wreath_bearer"]),
    },
)


@pytest.fixture
def rsvp(app: Flask, client: FlaskClient, edition: Callable[..., Ceremony]) -> tuple[str, int]:
    """An embassy's accepted invitation to next year's 9 May: its link and head's id."""
    app.config["RSVP_RATE_LIMIT"] = 100_000  # 40 examples make more requests than 60
    ceremony = edition("9-mei", local_today().year + 1, status=CeremonyStatus.PUBLISHED)
    invitation = Invitation(
        ceremony=ceremony,
        organisation=Organisation(
            name="Embassy of the Republic of Kazakhstan", kind=OrganisationKind.EMBASSY
        ),
        language="en",
        status=InvitationStatus.SENT,
    )
    db.session.add(invitation)
    token = issue_token(invitation)
    db.session.commit()
    url = f"/rsvp/{token}"
    reply = {"answer": "accept", "head_name": "Marat Abenov", "head_function": "Ambassador"}
    response = client.post(f"{url}/reply", data={**reply, "version": str(invitation.version)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    head = reread(Invitation, invitation.id).members[0]
    return url, head.id


def member_ids() -> set[int]:
    db.session.rollback()
    return set(db.session.scalars(sa.select(DelegationMember.id)))


def test_the_member_form_saves_what_was_typed_or_nothing(
    client: FlaskClient, rsvp: tuple[str, int]
) -> None:
    url, head_id = rsvp
    outcomes: Counter[bool] = Counter()

    @PROPERTY
    @given(form=member_forms, add=st.booleans())
    @example(form={**MEMBER_DEFAULT, "role": "speaker", "name": " Ai\u0301gerim 🌹 "}, add=True)
    @example(form={**MEMBER_DEFAULT, "name": "A\u202eexe.live"}, add=False)
    @example(form={**MEMBER_DEFAULT, "name": "n" * 301}, add=True)
    @example(form={**MEMBER_DEFAULT, "car_plate": "ß" * 20}, add=False)
    @example(form={**MEMBER_DEFAULT, "car_plate": "ß" * 20}, add=True)
    @example(form={**MEMBER_DEFAULT, "car_plate": "x\x00"}, add=False)
    def submit(form: dict[str, str], add: bool) -> None:
        target = f"{url}/members" if add else f"{url}/members/{head_id}"
        version = version_in(client.get(url if add else target))
        members = member_ids()
        before = fingerprint()
        response = client.post(target, data={**form, "version": version})
        saved = answer(response, form, MEMBER_TEXTS, before)
        outcomes[saved] += 1
        if not saved:
            return
        (member_id,) = member_ids() - members if add else {head_id}
        member = reread(DelegationMember, member_id)
        stored_as_typed(form, MEMBER_TEXTS, member)
        assert member.role.value == form["role"]
        assert client.get(url).status_code == 200
        if add:  # keep the delegation below its maximum size
            version = str(reread(Invitation, member.invitation_id).version)
            removed = client.post(f"{url}/members/{member_id}/remove", data={"version": version})
            assert removed.status_code == 302

    submit()
    both_outcomes(outcomes)
