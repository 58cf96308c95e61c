"""Races on the staff pages: real threads against a real threaded HTTP server.

SECURITY.md "Data safety": two planners saving one form at once must never both win
(lost update), never get a 500, and the loser gets a friendly page that keeps what was
typed. Each test releases THREADS requests at once through a barrier (the pattern of
tests/test_rsvp.py) against the app served by werkzeug on a free loopback port; the
threads share the session cookie of a planner logged in over HTTP.
"""

from __future__ import annotations

import html
import http.client
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.ceremonies.models import Ceremony, CeremonyStatus, ProgrammeItem, Venue
from app.contacts.models import Organisation, OrganisationKind
from app.extensions import db
from app.invitations.models import Invitation
from app.invitations.services import Actor, create_invitation
from tests.conftest import PASSWORD

THREADS = 20
YEAR = 2027
CONFLICT_PAGE = "Someone else saved this edition while you were editing"
STALE_PAGE = "This edition changed meanwhile"
INVITATION_CONFLICT = "Someone else changed this invitation while you were editing it"


# --- a real server and a plain HTTP client ---------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    location: str
    cookie: str

    @property
    def text(self) -> str:
        return html.unescape(self.body)


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app on a real threaded HTTP server on a free loopback port."""
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="concurrency-http", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def fetch(
    host: str, method: str, path: str, data: dict[str, str] | None = None, cookie: str = ""
) -> Answer:
    """One request on its own connection, in English; the connection is always closed."""
    connection = http.client.HTTPConnection(host, timeout=30)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        body = None
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(data).encode()
        separator = "&" if "?" in path else "?"
        connection.request(method, f"{path}{separator}lang=en", body=body, headers=headers)
        response = connection.getresponse()
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return Answer(
            status=response.status,
            body=response.read().decode(),
            location=response.getheader("Location") or "",
            cookie="; ".join(f"{name}={morsel.value}" for name, morsel in jar.items()),
        )
    finally:
        connection.close()


def log_in(host: str, email: str) -> str:
    """Log in over HTTP; the session cookie every thread then sends."""
    answer = fetch(host, "POST", "/login", {"email": email, "password": PASSWORD})
    assert answer.status == 302, answer.body[:2000]
    assert answer.cookie
    return answer.cookie


def run_threads(work: Callable[[int], Answer], count: int = THREADS) -> list[Answer]:
    """``work(i)`` in ``count`` threads released at once; their answers in order."""
    barrier = threading.Barrier(count)
    results: list[Answer | None] = [None] * count
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as error:  # reported below: a thread must not fail silently
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert not failures, failures
    done = [r for r in results if r is not None]
    assert len(done) == count
    return done


def post_each(
    host: str, path: str, forms: list[dict[str, str]], cookies: list[str]
) -> list[Answer]:
    """Form ``k`` posted with cookie ``k``, all at once."""
    return run_threads(lambda k: fetch(host, "POST", path, forms[k], cookies[k]), len(forms))


def statuses(answers: list[Answer]) -> list[int]:
    return [answer.status for answer in answers]


# --- the world -------------------------------------------------------------------------


PLANNER = "planner@example.org"
COLLEAGUE = "colleague@example.org"


@pytest.fixture
def planner(make_user: Callable[..., User], seeded: None) -> str:
    return make_user(Role.PLANNER, PLANNER).email


@pytest.fixture
def cookie(served: str, planner: str) -> str:
    db.session.remove()  # the server's threads use sessions of their own
    return log_in(served, planner)


@pytest.fixture
def ceremony(edition: Callable[..., Ceremony]) -> Ceremony:
    """9 May 2027 (from the seeded series, with its default programme), a draft."""
    return edition("9-mei", YEAR)


@dataclass(frozen=True)
class Snapshot:
    """An edition as committed now, read on a fresh session."""

    id: int
    slug: str
    title_en: str
    notes: str
    start: str
    status: CeremonyStatus
    sequence: int
    version: int


def snapshot(slug: str) -> Snapshot:
    db.session.rollback()
    found = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert found is not None, slug
    made = Snapshot(
        id=found.id,
        slug=found.slug,
        title_en=found.title_en,
        notes=found.notes,
        start=found.local_start.strftime("%H:%M"),
        status=found.status,
        sequence=found.sequence,
        version=found.version,
    )
    db.session.remove()
    return made


def audit_actions(object_type: str, object_id: int) -> list[str]:
    db.session.rollback()
    actions = db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
        .order_by(AuditEntry.id)
    ).all()
    db.session.remove()
    return list(actions)


def details(ceremony: Ceremony, **changes: str) -> dict[str, str]:
    """The edit form of ``ceremony`` as a browser sends it back."""
    return {
        "title_nl": ceremony.title_nl,
        "title_en": ceremony.title_en,
        "title_ru": ceremony.title_ru,
        "day": ceremony.local_start.date().isoformat(),
        "start_time": ceremony.local_start.strftime("%H:%M"),
        "end_time": ceremony.local_end.strftime("%H:%M"),
        "venue_id": str(ceremony.venue_id),
        "public": "y",
        "base_year": str(ceremony.base_year or ""),
        "notes": ceremony.notes,
        "version": str(ceremony.version),
        **changes,
    }


def assert_no_server_error(answers: list[Answer]) -> None:
    errors = [a.body[:2000] for a in answers if a.status >= 500]
    assert not errors, errors


# --- 1. the details form ---------------------------------------------------------------


def test_twenty_saves_of_one_edit_form_leave_one_winner(
    served: str, cookie: str, ceremony: Ceremony
) -> None:
    """Same version in every form: one save, nineteen conflict pages, nothing lost."""
    slug = ceremony.slug
    forms = [
        details(
            ceremony,
            title_en=f"Victory Day, version {i}",
            notes=f"Typed by thread {i}",
            start_time=f"10:{i + 10:02d}",  # a move: the winner raises SEQUENCE
            end_time="12:30",
        )
        for i in range(THREADS)
    ]
    before = snapshot(slug)

    answers = run_threads(
        lambda i: fetch(served, "POST", f"/staff/ceremonies/{slug}/edit", forms[i], cookie)
    )

    assert_no_server_error(answers)
    assert sorted(statuses(answers)) == [302] + [409] * (THREADS - 1), statuses(answers)
    winner = statuses(answers).index(302)
    assert answers[winner].location.endswith(f"/staff/ceremonies/{slug}")
    for i, answer in enumerate(answers):
        if i != winner:  # the conflict page, with what this thread typed kept
            assert CONFLICT_PAGE in answer.text
            assert f"Victory Day, version {i}" in answer.text
            assert f"Typed by thread {i}" in answer.text
    after = snapshot(slug)
    assert after.title_en == f"Victory Day, version {winner}"
    assert after.notes == f"Typed by thread {winner}"
    assert after.start == f"10:{winner + 10:02d}"
    assert after.version == before.version + 1
    assert after.sequence == before.sequence + 1
    assert audit_actions("ceremony", after.id) == ["ceremony.created", "ceremony.changed"]


# --- 2. double submit of the one-off creation form -----------------------------------------


def test_concurrent_one_off_creations_with_one_slug_make_one_edition(
    served: str, cookie: str
) -> None:
    db.session.rollback()
    venue_id = db.session.scalar(sa.select(Venue.id).where(Venue.name == "Sovjet Ereveld"))
    db.session.remove()
    assert venue_id is not None
    slug = f"{YEAR}-embassy-ceremony"

    def create(i: int) -> Answer:
        form = {
            "which": "oneoff",
            "oneoff-title_nl": "Herdenking van de ambassade",
            "oneoff-title_en": "Embassy ceremony",
            "oneoff-title_ru": "Церемония посольства",
            "oneoff-day": f"{YEAR}-06-12",
            "oneoff-start_time": "10:00",
            "oneoff-end_time": "11:00",
            "oneoff-venue_id": str(venue_id),
            "oneoff-public": "y",
            "oneoff-base_year": "",
            "oneoff-notes": f"Submitted by thread {i}",
            "oneoff-slug": slug,
        }
        return fetch(served, "POST", "/staff/ceremonies/new", form, cookie)

    answers = run_threads(create)

    assert_no_server_error(answers)
    assert statuses(answers).count(302) == 1, statuses(answers)
    winner = statuses(answers).index(302)
    for i, answer in enumerate(answers):
        if i == winner:
            continue
        assert answer.status in (400, 409), answer.status
        error = re.search(r'<p class="error" id="oneoff-slug-error">(.*?)</p>', answer.text, re.S)
        assert error is not None, answer.text[:3000]
        assert "exists already" in error.group(1)
        for typed in (f"Submitted by thread {i}", slug, "Церемония посольства", f"{YEAR}-06-12"):
            assert typed in answer.text, typed
    db.session.rollback()
    made = db.session.scalars(sa.select(Ceremony).where(Ceremony.slug == slug)).all()
    assert len(made) == 1
    assert made[0].notes == f"Submitted by thread {winner}"
    created = db.session.scalars(
        sa.select(AuditEntry.changes).where(AuditEntry.action == "ceremony.created")
    ).all()
    db.session.remove()
    assert [c["slug"] for c in created if c["slug"] == [None, slug]] == [[None, slug]]


# --- 3. programme items added at once ----------------------------------------------------


def test_twenty_concurrent_programme_additions_keep_positions_distinct(
    served: str, cookie: str, ceremony: Ceremony
) -> None:
    slug = ceremony.slug
    ceremony_id = ceremony.id
    existing = len(ceremony.items)
    db.session.remove()

    def add(i: int) -> Answer:
        form = {
            "kind": "speech",
            # Some at a clock time (inserted in time order), the rest at the end.
            "start_time": f"11:{i:02d}" if i % 4 == 0 else "",
            "offset_minutes": "",
            "duration_minutes": "2",
            "performer": "",
            "text_nl": f"Toespraak {i}",
            "text_en": f"Address {i}",
            "text_ru": "",
            "printable": "y",
            "version": "",
        }
        return fetch(served, "POST", f"/staff/ceremonies/{slug}/items/new", form, cookie)

    answers = run_threads(add)

    assert_no_server_error(answers)
    assert set(statuses(answers)) <= {302, 400, 409}, statuses(answers)
    for answer in answers:
        if answer.status != 302:  # friendly: the form again, with what was typed
            assert 'class="error-box"' in answer.body, answer.body[:3000]
    db.session.rollback()
    items = db.session.scalars(
        sa.select(ProgrammeItem).where(ProgrammeItem.ceremony_id == ceremony_id)
    ).all()
    positions = sorted(item.position for item in items)
    added = sorted(item.text_nl for item in items if re.fullmatch(r"Toespraak \d+", item.text_nl))
    db.session.remove()
    assert positions == list(range(len(items))), positions
    saved = sorted(f"Toespraak {i}" for i, a in enumerate(answers) if a.status == 302)
    assert added == saved  # every 302 stored, nothing stored without one
    assert len(items) == existing + len(saved)
    # Nothing is refused when nothing is wrong: the additions wait for each other.
    assert statuses(answers) == [302] * THREADS


def test_concurrent_moves_and_deletions_keep_positions_distinct(
    served: str, cookie: str, ceremony: Ceremony
) -> None:
    slug = ceremony.slug
    ceremony_id = ceremony.id
    ids = [item.id for item in ceremony.items]
    assert len(ids) >= 4
    db.session.remove()

    def change(i: int) -> Answer:
        item_id = ids[i % len(ids)]
        if i % 5 == 4:
            url = f"/staff/ceremonies/{slug}/items/{item_id}/delete"
        else:
            url = f"/staff/ceremonies/{slug}/items/{item_id}/move/{'up' if i % 2 else 'down'}"
        return fetch(served, "POST", url, {"version": ""}, cookie)

    answers = run_threads(change)

    assert_no_server_error(answers)
    # An item another request deleted first is not found: a 404, never a 500.
    assert set(statuses(answers)) <= {302, 404}, statuses(answers)
    db.session.rollback()
    positions = sorted(
        db.session.scalars(
            sa.select(ProgrammeItem.position).where(ProgrammeItem.ceremony_id == ceremony_id)
        )
    )
    db.session.remove()
    assert positions == list(range(len(positions))), positions
    assert len(positions) < len(ids)  # the deletions happened


# --- 4. publishing at once -----------------------------------------------------------------


def test_twenty_concurrent_publications_raise_sequence_once(
    served: str, cookie: str, ceremony: Ceremony
) -> None:
    slug = ceremony.slug
    before = snapshot(slug)
    assert before.status == CeremonyStatus.DRAFT
    form = {"version": str(before.version)}

    answers = run_threads(
        lambda i: fetch(served, "POST", f"/staff/ceremonies/{slug}/status/publish", form, cookie)
    )

    assert_no_server_error(answers)
    assert sorted(statuses(answers)) == [302] + [409] * (THREADS - 1), statuses(answers)
    for answer in answers:
        if answer.status == 409:
            assert STALE_PAGE in answer.text
    after = snapshot(slug)
    assert after.status == CeremonyStatus.PUBLISHED
    assert after.sequence == before.sequence + 1
    assert after.version == before.version + 1
    assert audit_actions("ceremony", after.id) == ["ceremony.created", "ceremony.changed"]


# --- 5. two planners, one invitation ------------------------------------------------------


def test_two_planners_editing_one_invitation(
    served: str, planner: str, make_user: Callable[..., User], ceremony: Ceremony
) -> None:
    """Several rounds of two saves of the same version: each round one wins, one 409."""
    embassy = Organisation(name="Embassy of Kazakhstan", kind=OrganisationKind.EMBASSY)
    db.session.add(embassy)
    invitation_id = create_invitation(db.session, ceremony, embassy, Actor(label="test")).id
    db.session.commit()
    make_user(Role.PLANNER, COLLEAGUE)
    db.session.remove()
    cookies = [log_in(served, planner), log_in(served, COLLEAGUE)]
    url = f"/staff/invitations/{invitation_id}/edit"

    for round_ in range(5):
        db.session.rollback()
        current = db.session.get(Invitation, invitation_id)
        assert current is not None
        base = {
            "addressee_id": str(current.addressee_id or 0),
            "language": current.language,
            "kind": current.kind.value,
            "rsvp_deadline": current.rsvp_deadline.isoformat() if current.rsvp_deadline else "",
            "cohosts": current.cohosts,
            "status": current.status.value,
            "accessibility": current.accessibility,
            "version": str(current.version),
        }
        version = current.version
        db.session.remove()
        remarks = [f"Round {round_}: planner {k} phoned the embassy" for k in range(2)]

        answers = post_each(served, url, [{**base, "remark": r} for r in remarks], cookies)

        assert_no_server_error(answers)
        assert sorted(statuses(answers)) == [302, 409], statuses(answers)
        winner = statuses(answers).index(302)
        loser = answers[1 - winner]
        assert INVITATION_CONFLICT in loser.text
        assert remarks[1 - winner] in loser.text  # what the loser typed is kept
        carried = re.search(r'name="version"[^>]*value="(\d+)"', loser.body)
        assert carried is not None
        assert carried.group(1) == str(version + 1)  # saving again is a deliberate overwrite
        db.session.rollback()
        stored = db.session.get(Invitation, invitation_id)
        assert stored is not None
        assert stored.remark == remarks[winner]
        assert stored.version == version + 1
        db.session.remove()
    assert audit_actions("invitation", invitation_id).count("invitation.update") == 5


def test_concurrent_copies_to_one_year_make_one_edition(
    served: str, cookie: str, ceremony: Ceremony
) -> None:
    slug, target = ceremony.slug, ceremony.year + 1
    db.session.remove()

    def copy(i: int) -> Answer:
        return fetch(
            served, "POST", f"/staff/ceremonies/{slug}/copy", {"year": str(target)}, cookie
        )

    answers = run_threads(copy)

    assert_no_server_error(answers)
    assert statuses(answers).count(302) == 1, statuses(answers)
    for answer in answers:
        if answer.status != 302:
            assert answer.status == 400
            assert "already" in answer.text
    db.session.rollback()
    copies = db.session.scalars(sa.select(Ceremony).where(Ceremony.slug == f"{target}-9-mei")).all()
    db.session.remove()
    assert len(copies) == 1
