"""VTIMEZONEs against the IANA data, read by three parsers (issue #12, calendar 5).

Venues abroad have zones without a yearly rule: Casablanca leaves +01 for Ramadan every
year at other dates (icalendar's definition missed 2024 and 2027: 12:00 local came out
as 11:00Z), and a COMMENT line made libical complain. Every VTIMEZONE the feed carries
must give, for many instants of every year it covers, the UTC time zoneinfo gives:
icalendar (building the zone from the VTIMEZONE, not by its name), libical, ical.js.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from icalendar import Calendar, Timezone

from app.calendar.services import feed_cache
from app.ceremonies.models import Ceremony, CeremonyStatus, Venue
from app.ceremonies.services import CeremonyData, create_ceremony
from app.extensions import db
from app.types import local_today
from tests.calendar_clients import check_wire_rules, ical_js, unfolded

ZONES = (
    "Europe/Amsterdam",
    "Europe/Moscow",
    "Africa/Casablanca",
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour daylight saving
    "Asia/Tehran",  # +03:30, no daylight saving since 2022
    "America/Sao_Paulo",  # no daylight saving since 2019
    "Pacific/Apia",  # +13, none since 2021
    "America/Santiago",  # southern rules that moved more than once
    "Asia/Gaza",  # changes on dates set year by year around Ramadan
)
SYSTEM_PYTHON = "/usr/bin/python3"
LIBICAL = Path(__file__).parent / "libical_parse.py"


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    feed_cache.clear()


def libical(body: bytes) -> dict[str, object]:
    """What libical (Evolution) makes of a calendar, through Debian's GObject bindings."""
    if shutil.which(SYSTEM_PYTHON) is None:
        raise RuntimeError("libical needs /usr/bin/python3 with python3-gi: run `make test`")
    result = subprocess.run(
        [SYSTEM_PYTHON, str(LIBICAL)], input=body, capture_output=True, timeout=120, check=False
    )
    if result.returncode:
        raise RuntimeError(
            "libical could not be run (make test-system installs gir1.2-ical-3.0): "
            + result.stderr.decode()[-2000:]
        )
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def venue_in(zone: str) -> Venue:
    place = Venue(name=f"Embassy garden, {zone}", address="", timezone=zone)
    db.session.add(place)
    return place


def edition_at(place: Venue, day: date, at: time, title: str) -> Ceremony:
    end = (datetime.combine(day, at) + timedelta(hours=1)).time()
    data = CeremonyData(title, title, title, day, at, end, place)
    return create_ceremony(db.session, data, status=CeremonyStatus.PUBLISHED)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def vtimezones(body: bytes) -> str:
    """The feed's VTIMEZONE blocks, as they are on the wire."""
    text = body.decode()
    blocks = []
    start = text.find("BEGIN:VTIMEZONE")
    while start != -1:
        end = text.index("END:VTIMEZONE\r\n", start) + len("END:VTIMEZONE\r\n")
        blocks.append(text[start:end])
        start = text.find("BEGIN:VTIMEZONE", end)
    return "".join(blocks)


def instants(zone: ZoneInfo, first: int, last: int) -> list[datetime]:
    """Local times to check: noon twice a month, and round every change of offset (the
    hours before and after it), leaving out wall-clock times that do not exist or repeat."""
    found = [
        datetime(year, month, day, 12, tzinfo=zone)
        for year in range(first, last + 1)
        for month in range(1, 13)
        for day in (1, 15)
    ]
    moment = datetime(first, 1, 1, tzinfo=UTC)
    end = datetime(last + 1, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment < end:
        offset = moment.astimezone(zone).utcoffset()
        if offset != previous:
            for minutes in (-150, -90, -61, 61, 90, 150):
                found.append((moment + timedelta(minutes=minutes)).astimezone(zone))
            previous = offset
        moment += timedelta(minutes=30)
    unambiguous = []
    for local in found:
        naive = local.replace(tzinfo=None)
        early = naive.replace(tzinfo=zone, fold=0)
        late = naive.replace(tzinfo=zone, fold=1)
        real = early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
        if real and early.utcoffset() == late.utcoffset():
            unambiguous.append(early)
    return unambiguous


def test_every_vtimezone_agrees_with_iana(client: FlaskClient, seeded: None) -> None:
    year = local_today().year
    first, last = year - 2, year + 10  # what the public feed covers
    expected: dict[str, tuple[int, int]] = {}
    for zone in ZONES:
        place = venue_in(zone)
        days = [date(first, 7, 1), date(year + 1, 1, 20), date(last, 12, 30)]
        if zone == "Africa/Casablanca":
            days += [date(2024, 3, 20), date(2027, 2, 20)]  # in Ramadan: +00, not +01
        for day in days:
            if not first <= day.year <= last:
                continue
            ceremony = edition_at(place, day, time(12, 0), f"{zone} {day}")
            expected[ceremony.uid] = (epoch(ceremony.starts_at), epoch(ceremony.ends_at))
    db.session.commit()
    casablanca = [
        c for c in db.session.scalars(db.select(Ceremony)) if "Casablanca 2027-02-20" in c.title_nl
    ]
    assert casablanca[0].starts_at == datetime(2027, 2, 20, 12, tzinfo=UTC)  # zoneinfo: +00

    body = client.get("/calendar.ics").data
    check_wire_rules(body)
    lines = unfolded(body)
    assert not [line for line in lines if line.startswith(("COMMENT", "RDATE"))]
    assert {line[5:] for line in lines if line.startswith("TZID:")} == set(ZONES)

    # libical: no complaint, and every start and end right.
    seen = libical(body)
    assert seen["errors"] == []
    events = seen["events"]
    assert isinstance(events, dict)
    for uid, (start, end) in expected.items():
        assert events[uid] == [start, end], uid
    # ical.js likewise.
    for event in ical_js(body)["events"]:
        if event["uid"] in expected:
            js_start = datetime.fromisoformat(event["start_utc"].replace("Z", "+00:00"))
            assert epoch(js_start) == expected[event["uid"]][0], event["summary"]

    # Many instants: the feed's own VTIMEZONEs, with events at each instant to check.
    zones = vtimezones(body)
    wanted: dict[str, int] = {}
    vevents = []
    for zone_name in ZONES:
        for i, local in enumerate(instants(ZoneInfo(zone_name), first, last)):
            uid = f"{zone_name}-{i}"
            wanted[uid] = epoch(local)
            stamp = f"{local:%Y%m%dT%H%M%S}"
            vevents.append(
                f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\n"
                f"DTSTART;TZID={zone_name}:{stamp}\r\nDTEND;TZID={zone_name}:{stamp}\r\n"
                "END:VEVENT\r\n"
            )
    assert len(wanted) > 3000
    probe = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//probe//EN\r\n"
        + zones
        + "".join(vevents)
        + "END:VCALENDAR\r\n"
    ).encode()
    by_libical = libical(probe)
    assert by_libical["errors"] == []
    libical_events = by_libical["events"]
    assert isinstance(libical_events, dict)
    wrong = {u: (libical_events[u][0], t) for u, t in wanted.items() if libical_events[u][0] != t}
    assert wrong == {}, f"libical: {len(wrong)} wrong, e.g. {sorted(wrong.items())[:5]}"

    # icalendar, with each zone built from the VTIMEZONE (not looked up by its name).
    parsed = Calendar.from_ical(probe)
    built = {
        str(tz["TZID"]): cast(Timezone, tz).to_tz(lookup_tzid=False)
        for tz in parsed.walk("VTIMEZONE")
    }
    wrong_icalendar = {}
    for vevent in parsed.walk("VEVENT"):
        start = vevent.decoded("DTSTART")
        assert isinstance(start, datetime)
        zone_of = built[str(vevent["DTSTART"].params["TZID"])]
        moment = start.replace(tzinfo=None).replace(tzinfo=zone_of)
        uid = str(vevent["UID"])
        if epoch(moment) != wanted[uid]:
            wrong_icalendar[uid] = (epoch(moment), wanted[uid])
    assert wrong_icalendar == {}, f"icalendar: {len(wrong_icalendar)} wrong"
