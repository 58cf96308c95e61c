"""Feeds over HTTP as clients poll them: one Date header from a real gunicorn, and a
Last-Modified of each feed's own, so an unrelated edit answers If-Modified-Since with 304
(issue #12, calendar 8). Also programme times that name their zone and follow a move."""

from __future__ import annotations

import http.client
import os
import time as clock
from collections.abc import Callable, Iterator
from datetime import date, time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role, User
from app.calendar.services import feed_cache, issue_staff_feed_link
from app.ceremonies.models import Ceremony, CeremonyStatus, ItemKind
from app.ceremonies.services import (
    CeremonyData,
    ProgrammeItemData,
    add_item,
    schedule_year,
    set_status,
    update_ceremony,
)
from app.extensions import db
from tests.calendar_clients import ical_js, parse
from tests.production import gunicorn as serving
from tests.test_calendar import one_off
from tests.test_rsvp import invite

YEAR = 2031


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    feed_cache.clear()


@pytest.fixture
def feeds(seeded: None, make_user: Callable[..., User]) -> dict[str, str]:
    """A published year, next year's drafts, a staff feed and a delegation's feed."""
    published = schedule_year(db.session, YEAR, publish=True).created
    schedule_year(db.session, YEAR + 1)
    db.session.commit()
    staff = issue_staff_feed_link(db.session, make_user(Role.VIEWER))
    db.session.commit()
    nine_may = next(c for c in published if c.slug == f"{YEAR}-9-mei")
    linked = invite(nine_may)
    return {
        "public": "/calendar.ics",
        "series": "/calendar/9-mei.ics",
        "edition": f"/ceremonies/{YEAR}-9-mei.ics",
        "staff": f"/calendar/staff/{staff}.ics",
        "personal": f"{linked.url}/calendar.ics",
    }


def edition(slug: str) -> Ceremony:
    db.session.rollback()
    found = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert found is not None
    return found


def answers(client: FlaskClient, feeds: dict[str, str], since: dict[str, str]) -> dict[str, int]:
    """Each feed's status when asked with only If-Modified-Since (as some clients do)."""
    clock.sleep(1.1)  # HTTP dates have whole seconds; the stamp is remembered for one
    feed_cache.clear()
    return {
        name: client.get(path, headers={"If-Modified-Since": since[name]}).status_code
        for name, path in feeds.items()
    }


def test_each_feed_has_its_own_last_modified(
    app: Flask, client: FlaskClient, feeds: dict[str, str]
) -> None:
    first = {name: client.get(path) for name, path in feeds.items()}
    assert all(r.status_code == 200 for r in first.values())
    since = {name: r.headers["Last-Modified"] for name, r in first.items()}

    # A draft of next year changes: only the staff feed shows drafts.
    draft = edition(f"{YEAR + 1}-9-mei")
    draft.notes = "Ask the mayor"
    draft.title_en = "Victory Day (draft)"
    db.session.commit()
    assert answers(client, feeds, since) == {
        "public": 304,
        "series": 304,
        "edition": 304,
        "staff": 200,
        "personal": 304,
    }

    # Another public edition changes: the public feed, not the 9 May's own files.
    other = edition(f"{YEAR}-koedriest")
    other.title_en = "Koedriest, again"
    db.session.commit()
    assert answers(client, feeds, since) == {
        "public": 200,
        "series": 200,  # one stamp for the public feeds: a series feed may answer 200
        "edition": 200,
        "staff": 200,
        "personal": 304,
    }

    # The 9 May itself: every feed that shows it.
    since = {name: client.get(path).headers["Last-Modified"] for name, path in feeds.items()}
    own = edition(f"{YEAR}-9-mei")
    own.title_en = "Victory and Remembrance Day"
    db.session.commit()
    assert set(answers(client, feeds, since).values()) == {200}

    # Unpublishing moves the public stamp although nothing public is left to carry it.
    since = {name: client.get(path).headers["Last-Modified"] for name, path in feeds.items()}
    set_status(edition(f"{YEAR}-koedriest"), CeremonyStatus.DRAFT)
    db.session.commit()
    assert answers(client, {"public": feeds["public"]}, since) == {"public": 200}


def test_programme_times_name_the_zone_and_follow_a_moved_start(
    client: FlaskClient, seeded: None
) -> None:
    ceremony = one_off(date(YEAR, 5, 20), time(10, 0), "Moved")
    add_item(
        ceremony,
        ProgrammeItemData(
            ItemKind.SPEECH, time(10, 15), None, 10, "", "", "", "Toespraak", "", "", True
        ),
    )
    db.session.commit()
    described = next(
        e["description"]
        for e in ical_js(client.get("/calendar.ics").data)["events"]
        if e["uid"] == ceremony.uid
    )
    assert "10:15–10:25 (CEST) Toespraak" in described
    winter = one_off(date(YEAR, 12, 20), time(10, 0), "Winter")
    add_item(
        winter, ProgrammeItemData(ItemKind.SPEECH, None, 5, 0, "", "", "", "Groet", "", "", True)
    )
    db.session.commit()

    ceremony = edition(ceremony.slug)
    data = CeremonyData(
        "Moved", "Moved", "Moved", date(YEAR, 5, 21), time(14, 0), time(15, 0), ceremony.venue
    )
    update_ceremony(ceremony, data, ceremony.version)
    db.session.commit()
    body = client.get("/calendar.ics").data
    events = {str(e["UID"]): str(e["DESCRIPTION"]) for e in parse(body).walk("VEVENT")}
    assert "14:15–14:25 (CEST) Toespraak" in events[ceremony.uid]
    assert "10:15" not in events[ceremony.uid]
    assert "10:05 (CET) Groet" in events[winter.uid]


@pytest.fixture
def gunicorn(app: Flask, tmp_path: Path) -> Iterator[str]:
    """A real gunicorn serving this test's database (it adds its own Date header)."""
    env = {
        **os.environ,
        "EREVELD_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
    }
    env.pop("TEST_DATABASE_URL", None)
    with serving(env, "-w", "1") as (base, _log):
        yield base.removeprefix("http://")


def test_every_feed_sends_one_date_header(
    client: FlaskClient, feeds: dict[str, str], gunicorn: str
) -> None:
    """The server writes Date; a feed that wrote its own (werkzeug's make_conditional
    does) went out with two behind servers that do not look."""
    for name, path in feeds.items():
        for headers in ({}, {"If-None-Match": "*"}):
            answer = client.get(path, headers=headers)
            assert answer.headers.getlist("Date") == [], name  # the app's own header list
    # The same fault elsewhere: the programme PDF is answered by make_conditional too.
    pdf = client.get(f"/ceremonies/{YEAR}-9-mei/programme.pdf")
    assert pdf.status_code == 200
    assert pdf.headers.getlist("Date") == []
    for name, path in feeds.items():
        for headers in ({}, {"If-None-Match": "*"}):
            connection = http.client.HTTPConnection(gunicorn, timeout=10)
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            assert response.status in (200, 304), (name, response.status)
            assert len(response.msg.get_all("Date") or []) == 1, (name, response.msg.items())
            if response.status == 200:
                assert len(response.msg.get_all("Last-Modified") or []) == 1, name
