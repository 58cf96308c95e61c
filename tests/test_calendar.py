"""Calendar feeds as calendar clients see them (shared/design/CALENDAR.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role, User
from app.calendar.services import feed_cache
from app.ceremonies.models import Ceremony, CeremonyStatus, ItemKind, Venue
from app.ceremonies.services import (
    CeremonyData,
    ProgrammeItemData,
    add_item,
    create_ceremony,
    schedule_year,
    set_status,
    update_ceremony,
)
from app.extensions import db
from app.types import local_today
from tests.calendar_clients import check_wire_rules, ical_js, parse, unfolded

AMS = ZoneInfo("Europe/Amsterdam")
HOSTILE = 'Foo; bar, "baz" \\ back\nEND:VEVENT\nBEGIN:VEVENT Ж Қ Ң Ө Ү Ұ Һ Ә І 🕯'


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    feed_cache.clear()


def publish_year(year: int) -> list[Ceremony]:
    result = schedule_year(db.session, year, publish=True)
    db.session.commit()
    return result.created


def venue() -> Venue:
    found = db.session.scalar(sa.select(Venue).where(Venue.name == "Sovjet Ereveld"))
    assert found is not None
    return found


def one_off(day: date, start: time, title: str = "Extra", **kwargs: object) -> Ceremony:
    data = CeremonyData(
        title,
        title,
        title,
        day,
        start,
        (datetime.combine(day, start) + timedelta(hours=1)).time(),
        venue(),
    )
    ceremony = create_ceremony(db.session, data, status=CeremonyStatus.PUBLISHED, **kwargs)  # type: ignore[arg-type]
    db.session.commit()
    return ceremony


def event_lines(body: bytes, uid: str) -> list[str]:
    lines = unfolded(body)
    start = lines.index(f"UID:{uid}")
    begin = max(i for i in range(start) if lines[i] == "BEGIN:VEVENT")
    end = lines.index("END:VEVENT", start)
    return lines[begin:end]


def test_public_feed_passes_both_parsers(client: FlaskClient, seeded: None) -> None:
    this_year = local_today().year
    publish_year(this_year)
    publish_year(this_year + 1)
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.data
    check_wire_rules(body)
    calendar = parse(body)
    assert calendar.get("METHOD") is None
    assert len(calendar.walk("VEVENT")) == 12
    seen = ical_js(body)
    assert seen["method"] is None
    assert seen["name"] == seen["calname"] == "Sovjet Ereveld – herdenkingen"
    assert seen["refresh"] == "PT6H"
    assert seen["ttl"] == "PT6H"
    assert seen["timezones"] == ["Europe/Amsterdam"]
    lines = unfolded(body)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT6H" in lines
    assert "X-WR-TIMEZONE:Europe/Amsterdam" in lines
    rows = db.session.scalars(sa.select(Ceremony).order_by(Ceremony.starts_at)).all()
    by_uid = {e["uid"]: e for e in seen["events"]}
    for ceremony in rows:
        event = by_uid[ceremony.uid]
        assert event["summary"] == ceremony.title_nl
        assert event["status"] == "CONFIRMED"
        assert event["tzid"] == "Europe/Amsterdam"
        assert event["start_utc"] == ceremony.starts_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert event["end_utc"] == ceremony.ends_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert event["url"] == f"http://localhost/ceremonies/{ceremony.slug}"


def test_vtimezone_is_rule_based(client: FlaskClient, seeded: None) -> None:
    publish_year(2031)
    lines = unfolded(client.get("/calendar.ics").data)
    zone = lines[lines.index("BEGIN:VTIMEZONE") : lines.index("END:VTIMEZONE") + 1]
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in zone
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in zone
    assert not any(line.startswith("RDATE") for line in zone)


def test_dst_edges_and_years_ahead(client: FlaskClient, seeded: None) -> None:
    publish_year(2031)
    # The last Sundays of March and October 2031, just after each change.
    spring = one_off(date(2031, 3, 30), time(3, 0), "Spring")
    autumn = one_off(date(2031, 10, 26), time(3, 0), "Autumn")
    body = client.get("/calendar.ics").data
    events = {e["uid"]: e for e in ical_js(body)["events"]}
    assert events[spring.uid]["start_utc"] == "2031-03-30T01:00:00.000Z"
    assert events[autumn.uid]["start_utc"] == "2031-10-26T02:00:00.000Z"
    silence = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == "2031-4-mei"))
    assert silence is not None
    assert events[silence.uid]["start_utc"] == "2031-05-04T16:45:00.000Z"
    december = db.session.scalar(
        sa.select(Ceremony).where(Ceremony.slug == "2031-lichtjes-24-december")
    )
    assert december is not None
    assert events[december.uid]["start_utc"] == "2031-12-24T15:30:00.000Z"


def test_four_may_2031_at_eight_is_six_utc(app: Flask, client: FlaskClient, seeded: None) -> None:
    ceremony = one_off(date(2031, 5, 4), time(20, 0), "Stilte")
    body = client.get(f"/ceremonies/{ceremony.slug}.ics").data
    check_wire_rules(body)
    assert ical_js(body)["events"][0]["start_utc"] == "2031-05-04T18:00:00.000Z"
    assert "DTSTART;TZID=Europe/Amsterdam:20310504T200000" in unfolded(body)


def test_hostile_text_comes_back_as_typed(client: FlaskClient, seeded: None) -> None:
    ceremony = one_off(date(2031, 5, 9), time(11, 0), "Victory")
    ceremony.title_nl = HOSTILE
    add_item(
        ceremony,
        ProgrammeItemData(
            ItemKind.SPEECH,
            None,
            None,
            5,
            'Dr. "Ivanov", \\;',
            'Dr. "Ivanov", \\;',
            'Dr. "Ivanov", \\;',
            HOSTILE,
            "",
            "",
            True,
        ),
    )
    venue_row = ceremony.venue
    venue_row.name = 'Veld; "Sovjet", \\ Ереве́лд'
    db.session.commit()
    body = client.get("/calendar.ics").data
    check_wire_rules(body)
    event = next(e for e in ical_js(body)["events"] if e["uid"] == ceremony.uid)
    assert event["summary"] == HOSTILE
    assert HOSTILE + ' (Dr. "Ivanov", \\;)' in event["description"]
    assert event["location"].startswith('Veld; "Sovjet", \\ Ереве́лд, ')
    again = parse(body)
    vevent = next(e for e in again.walk("VEVENT") if str(e["UID"]) == ceremony.uid)
    assert str(vevent["SUMMARY"]) == HOSTILE
    assert sum(1 for line in unfolded(body) if line == "BEGIN:VEVENT") == len(again.walk("VEVENT"))


def test_same_data_same_bytes(client: FlaskClient, seeded: None) -> None:
    publish_year(2027)
    first = client.get("/calendar.ics")
    feed_cache.clear()  # rendered again, from the database
    second = client.get("/calendar.ics")
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]
    assert first.headers["Last-Modified"] == second.headers["Last-Modified"]


def test_an_edit_raises_sequence_and_keeps_uid(client: FlaskClient, seeded: None) -> None:
    ceremony = next(c for c in publish_year(2027) if c.slug == "2027-9-mei")
    before = client.get("/calendar.ics")
    data = CeremonyData(
        ceremony.title_nl,
        ceremony.title_en,
        ceremony.title_ru,
        date(2027, 5, 10),
        time(14, 0),
        time(15, 0),
        ceremony.venue,
    )
    update_ceremony(ceremony, data, ceremony.version)
    db.session.commit()
    after = client.get("/calendar.ics", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    lines = event_lines(after.data, ceremony.uid)
    assert "SEQUENCE:1" in lines
    assert "DTSTART;TZID=Europe/Amsterdam:20270510T140000" in lines
    assert f"UID:{ceremony.uid}" in lines


def test_cancelled_editions_stay_as_cancelled(client: FlaskClient, seeded: None) -> None:
    ceremony = next(c for c in publish_year(2027) if c.slug == "2027-9-mei")
    set_status(ceremony, CeremonyStatus.CANCELLED)
    db.session.commit()
    event = next(
        e for e in ical_js(client.get("/calendar.ics").data)["events"] if e["uid"] == ceremony.uid
    )
    assert event["status"] == "CANCELLED"
    assert event["sequence"] == 1


def test_never_announced_editions_are_not_shown(client: FlaskClient, seeded: None) -> None:
    drafts = schedule_year(db.session, 2027).created
    set_status(drafts[0], CeremonyStatus.CANCELLED)
    drafts[1].public = False
    set_status(drafts[1], CeremonyStatus.PUBLISHED)
    db.session.commit()
    body = client.get("/calendar.ics").data
    assert b"BEGIN:VEVENT" not in body
    assert client.get(f"/ceremonies/{drafts[1].slug}.ics").status_code == 404
    assert client.get(f"/ceremonies/{drafts[2].slug}.ics").status_code == 404


def test_unpublish_and_delete_move_last_modified(client: FlaskClient, seeded: None) -> None:
    editions = publish_year(2027)
    first = client.get("/calendar.ics")
    set_status(editions[0], CeremonyStatus.DRAFT)
    db.session.commit()
    second = client.get(
        "/calendar.ics", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert second.status_code == 200
    assert second.headers["Last-Modified"] != first.headers["Last-Modified"]
    assert editions[0].uid.encode() not in second.data
    db.session.delete(editions[1])
    db.session.commit()
    third = client.get("/calendar.ics", headers={"If-None-Match": second.headers["ETag"]})
    assert third.status_code == 200
    assert third.headers["Last-Modified"] != second.headers["Last-Modified"]


def test_conditional_requests(client: FlaskClient, seeded: None) -> None:
    publish_year(2027)
    first = client.get("/calendar.ics")
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{40}"', etag)  # strong
    renders = feed_cache.renders
    by_etag = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.data == b""
    by_date = client.get(
        "/calendar.ics", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert by_date.status_code == 304
    old = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get("/calendar.ics", headers={"If-Modified-Since": old}).status_code == 200
    assert client.get("/calendar.ics", headers={"If-None-Match": '"other"'}).status_code == 200
    assert feed_cache.renders == renders  # 304s and cache hits rendered nothing


def test_public_feed_has_no_private_details(client: FlaskClient, seeded: None) -> None:
    ceremony = next(c for c in publish_year(2027) if c.slug == "2027-koedriest")
    ceremony.notes = "Sleutel bij de beheerder, tel. 06-12345678"
    db.session.commit()
    body = client.get("/calendar.ics").data
    assert b"06-12345678" not in body
    assert b"Ontbijt" not in body  # an internal programme item
    assert b"/rsvp/" not in body
    assert b"/staff/" not in body


def test_past_two_years_and_the_future(client: FlaskClient, seeded: None) -> None:
    year = local_today().year
    for shown in (year - 2, year + 3):
        publish_year(shown)
    publish_year(year - 3)
    body = client.get("/calendar.ics").data
    slugs = {e["url"].rsplit("/", 1)[1] for e in ical_js(body)["events"]}
    assert f"{year - 2}-9-mei" in slugs
    assert f"{year + 3}-9-mei" in slugs
    assert f"{year - 3}-9-mei" not in slugs


def test_series_feed_and_language(client: FlaskClient, seeded: None) -> None:
    publish_year(2027)
    response = client.get("/calendar/9-mei.ics?lang=ru")
    seen = ical_js(response.data)
    assert [e["summary"] for e in seen["events"]] == ["День Победы и памяти"]
    assert seen["name"].endswith("День Победы и памяти")
    assert client.get("/calendar/nope.ics").status_code == 404
    assert client.get("/calendar.ics?lang=xx").status_code == 200  # falls back to nl


def test_staff_feed_link(client: FlaskClient, login: Callable[[Role], User], seeded: None) -> None:
    drafts = schedule_year(db.session, 2027).created
    db.session.commit()
    login(Role.VIEWER)
    page = client.post("/staff/account/feed", follow_redirects=True).get_data(as_text=True)
    url = re.search(r"http://localhost(/calendar/staff/[\w-]+\.ics)", page)
    assert url is not None
    feed = client.get(url.group(1))
    assert feed.status_code == 200
    assert feed.headers["Cache-Control"] == "private, no-cache"
    events = ical_js(feed.data)["events"]
    assert {e["uid"] for e in events} == {c.uid for c in drafts}
    assert {e["status"] for e in events} == {"TENTATIVE"}
    assert any("Ontbijt" in e["description"] for e in events)  # internal items too
    client.post("/staff/account/feed")  # a new link: the old one dies
    assert client.get(url.group(1)).status_code == 404
    client.post("/staff/account/feed/revoke")
    assert client.get(url.group(1)).status_code == 404
    assert client.get("/calendar/staff/short.ics").status_code == 404
    assert client.get("/calendar/staff/" + "x" * 43 + ".ics").status_code == 404


def test_staff_feed_dies_with_the_account(
    client: FlaskClient, login: Callable[[Role], User]
) -> None:
    user = login(Role.PLANNER)
    page = client.post("/staff/account/feed", follow_redirects=True).get_data(as_text=True)
    url = re.search(r"http://localhost(/calendar/staff/[\w-]+\.ics)", page)
    assert url is not None
    assert client.get(url.group(1)).status_code == 200
    user.active = False
    db.session.commit()
    assert client.get(url.group(1)).status_code == 404


def test_json_api(client: FlaskClient, seeded: None) -> None:
    publish_year(2027)
    publish_year(2028)
    response = client.get("/api/ceremonies.json?year=2027")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    editions = response.get_json()
    assert len(editions) == 6
    koedriest = editions[0]
    assert koedriest["slug"] == "2027-koedriest"
    assert koedriest["title"]["ru"] == "Памятная церемония у Кудрист"
    assert koedriest["starts_at"] == "2027-04-09T06:30:00+02:00"
    assert koedriest["venue"]["latitude"] == pytest.approx(52.1363)
    assert koedriest["url"] == "http://localhost/ceremonies/2027-koedriest"
    assert koedriest["ics_url"] == "http://localhost/ceremonies/2027-koedriest.ics"
    assert koedriest["anniversary"] == 85
    assert len(client.get("/api/ceremonies.json").get_json()) == 12
    bad = client.get("/api/ceremonies.json?year=next")
    assert bad.status_code == 400
    assert "year" in bad.get_json()["error"]


@pytest.mark.parametrize(
    ("lang", "words"), [("nl", "Google"), ("en", "Subscribe once"), ("ru", "Google")]
)
def test_subscribe_page(client: FlaskClient, seeded: None, lang: str, words: str) -> None:
    page = client.get(f"/calendar?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    suffix = "" if lang == "nl" else f"?lang={lang}"
    assert f'href="webcal://localhost/calendar.ics{suffix}"' in page
    assert "https://calendar.google.com/calendar/r?cid=webcal://localhost/calendar.ics" in page
    assert f"<code>http://localhost/calendar.ics{suffix}</code>" in page
    assert "webcal://localhost/calendar/9-mei.ics" in page
    assert page.count("<svg") == 7  # a QR code per feed
    assert words in page


def test_public_edition_page(client: FlaskClient, seeded: None) -> None:
    publish_year(2027)
    page = client.get("/ceremonies/2027-koedriest?lang=en").get_data(as_text=True)
    assert "Koedriest commemoration" in page
    assert "85th commemoration" in page
    assert "Pupils light 77 red and 24 white candles" in page
    assert "Breakfast" not in page  # internal item
    assert "openstreetmap.org/?mlat=52.1363" in page
    assert "/ceremonies/2027-koedriest.ics?lang=en" in page
    russian = client.get("/ceremonies/2027-koedriest?lang=ru").get_data(as_text=True)
    assert "85-я годовщина" in russian
    assert "Памятная церемония у Кудрист" in russian
    assert client.get("/ceremonies/2099-koedriest").status_code == 404


def test_public_front_page(client: FlaskClient, seeded: None) -> None:
    year = local_today().year
    publish_year(year + 1)
    schedule_year(db.session, year + 2)
    db.session.commit()
    page = client.get("/?lang=en").get_data(as_text=True)
    assert f"/ceremonies/{year + 1}-9-mei" in page
    assert f"/ceremonies/{year + 2}-9-mei" not in page  # drafts stay private


def test_first_requester_cannot_poison_the_feed(app: Flask, seeded: None) -> None:
    """Issue #12, security 10: the SOURCE line took the first requester's query string
    (and Host), and every later subscriber got those bytes from the cache."""
    publish_year(2027)
    first = app.test_client().get("/calendar.ics?lang=en&x=evil")
    assert b"evil" not in first.data
    later = app.test_client().get("/calendar.ics?lang=en")
    assert b"evil" not in later.data
    assert "SOURCE;VALUE=URI:http://localhost/calendar.ics?lang=en" in unfolded(later.data)
    feed_cache.clear()
    app.test_client().get("/calendar.ics?x=evil", base_url="http://evil.example")
    assert b"evil" not in app.test_client().get("/calendar.ics").data
    # In production the links are made from PUBLIC_BASE_URL, whatever Host was sent.
    app.config["PUBLIC_BASE_URL"] = "https://ereveld.example"
    for path in ("/calendar.ics?x=evil", "/calendar/9-mei.ics?lang=ru&x=evil"):
        hostile = app.test_client().get(path, base_url="http://evil.example")
        assert hostile.status_code == 200
        assert b"evil" not in hostile.data
        clean = app.test_client().get(path.split("x=")[0].rstrip("?&"))
        assert clean.data == hostile.data
    lines = unfolded(clean.data)
    assert "SOURCE;VALUE=URI:https://ereveld.example/calendar/9-mei.ics?lang=ru" in lines
    json_hostile = app.test_client().get("/api/ceremonies.json", base_url="http://evil.example")
    assert b"evil" not in json_hostile.data


def test_one_edition_download_is_no_calendar_of_its_own(client: FlaskClient, seeded: None) -> None:
    """Issue #12, calendar 3: with a calendar name and refresh hints Outlook desktop
    opened "add to calendar" as a new calendar."""
    ceremony = next(c for c in publish_year(2027) if c.slug == "2027-9-mei")
    body = client.get(f"/ceremonies/{ceremony.slug}.ics?lang=en").data
    check_wire_rules(body)
    names = {line.split(":", 1)[0].split(";", 1)[0] for line in unfolded(body) if line}
    assert not names & {"NAME", "X-WR-CALNAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL", "METHOD"}
    seen = ical_js(body)
    assert [e["uid"] for e in seen["events"]] == [ceremony.uid]
    assert len(parse(body).walk("VEVENT")) == 1
    # The subscription feeds keep them.
    feed = unfolded(client.get("/calendar/9-mei.ics").data)
    assert any(line.startswith("X-WR-CALNAME:") for line in feed)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT6H" in feed


def test_a_withdrawn_edition_answers_as_cancelled_then_404(
    app: Flask, client: FlaskClient, seeded: None
) -> None:
    """Issue #12, calendar 4: an unpublished edition's .ics answered 404 at once, and
    whoever had subscribed to it kept a stale copy that still said it happens."""
    editions = {c.slug: c for c in publish_year(2027)}
    unpublished, private = editions["2027-9-mei"], editions["2027-koedriest"]
    before = {
        c.uid: int(
            next(
                line
                for line in unfolded(client.get(f"/ceremonies/{c.slug}.ics").data)
                if line.startswith("SEQUENCE:")
            ).split(":")[1]
        )
        for c in (unpublished, private)
    }
    set_status(unpublished, CeremonyStatus.DRAFT)
    private.public = False  # unticked on the edit form: no status change at all
    db.session.commit()
    for ceremony in (unpublished, private):
        response = client.get(f"/ceremonies/{ceremony.slug}.ics?lang=en")
        assert response.status_code == 200
        body = response.data
        check_wire_rules(body)
        [event] = parse(body).walk("VEVENT")
        assert str(event["UID"]) == ceremony.uid
        assert str(event["STATUS"]) == "CANCELLED"
        assert str(event["SUMMARY"]) == "Cancelled: " + ceremony.title_en
        assert event.decoded("SEQUENCE") > before[ceremony.uid]  # else clients ignore it
        assert "DESCRIPTION" not in event
        assert "URL" not in event
        [seen] = ical_js(body)["events"]
        assert seen["status"] == "CANCELLED"
        # Not in the public feeds, of course.
        assert ceremony.uid.encode() not in client.get("/calendar.ics").data
    assert client.get(f"/ceremonies/{unpublished.slug}").status_code == 404

    # After the grace period: gone.
    db.session.rollback()
    grace = app.config["CALENDAR_REMOVED_GRACE_DAYS"]
    assert grace == 90
    stored = db.session.get(Ceremony, unpublished.id)
    assert stored is not None
    assert stored.withdrawn_at is not None
    stored.withdrawn_at -= timedelta(days=grace + 1)
    db.session.commit()
    assert client.get(f"/ceremonies/{unpublished.slug}.ics").status_code == 404

    # Published again: itself again, no longer withdrawn.
    set_status(stored, CeremonyStatus.PUBLISHED)
    db.session.commit()
    assert stored.withdrawn_at is None
    again = parse(client.get(f"/ceremonies/{unpublished.slug}.ics").data)
    assert str(again.walk("VEVENT")[0]["STATUS"]) == "CONFIRMED"
