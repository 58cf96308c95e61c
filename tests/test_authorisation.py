"""Who may open what: an explicit answer for every route x role x method.

The matrix walks ``app.url_map``: a route without an entry below fails
``test_every_route_has_an_entry``, so a new page cannot slip in unguarded. Denied
requests (and every GET) must leave the database exactly as it was.

Requests run in a fresh context each, as in production: the ``app`` fixture keeps an
application context pushed, and a request inside it would share ``g`` (Flask-Login's
cached user) and the database session with every other request of the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask, current_app
from flask.testing import FlaskClient

from app.auth.models import Role, User
from app.auth.services import create_user
from app.ceremonies.models import Ceremony, CeremonySeries, CeremonyStatus, ProgrammeItem, Venue
from app.contacts.models import Organisation, OrganisationKind
from app.extensions import Base, db
from app.invitations.models import Invitation, InvitationStatus, WreathChoice
from app.mail.models import MessageKind, MessageStatus, OutboxMessage
from tests.conftest import PASSWORD
from tests.contacts_data import contacts_world

# --- the world every request is made against ------------------------------------------


@dataclass(frozen=True)
class World:
    slug: str
    version: int
    item_id: int
    other_slug: str
    other_item_id: int
    venue_id: int
    series_slug: str
    new_series_id: int
    user_id: int
    user_email: str
    invitation_id: int = 0  # a draft R.S.V.P. with a document (invitation_world)
    uninvited_organisation_id: int = 0
    wreath_invitation_id: int = 0  # second of two wreaths on the 9 May edition (wreath_world)
    # Contacts (tests.contacts_data.contacts_world).
    contact_organisation_id: int = 0
    contact_duplicate_organisation_id: int = 0
    contact_person_id: int = 0
    contact_duplicate_person_id: int = 0
    contact_appointment_id: int = 0
    contact_group_id: int = 0
    contact_organisation_version: str = ""
    contact_person_version: str = ""
    message_id: int = 0  # a draft reminder in the outbox of the first edition (mail_world)


def build_world(edition: Callable[..., Ceremony]) -> World:
    ceremony = edition("4-mei", 2026)
    other = edition("9-mei", 2026, status=CeremonyStatus.PUBLISHED)
    koedriest = db.session.scalar(
        sa.select(CeremonySeries).where(CeremonySeries.slug == "koedriest")
    )
    assert koedriest is not None
    # The edition's programme differs from its series' default, so saving it as the
    # default is a visible change.
    ceremony.items[-1].performer_nl = "Harmonie Amersfoort"
    target = create_user(db.session, "target@example.org", PASSWORD, Role.VIEWER)
    db.session.commit()
    invitation_id, uninvited_organisation_id = invitation_world(ceremony)
    wreath_invitation_id = wreath_world(other)
    message_id = mail_world(invitation_id)
    contacts = contacts_world()
    world = World(
        slug=ceremony.slug,
        version=ceremony.version,
        item_id=ceremony.items[0].id,
        other_slug=other.slug,
        other_item_id=other.items[0].id,
        venue_id=ceremony.venue_id,
        series_slug="4-mei",
        new_series_id=koedriest.id,
        user_id=target.id,
        user_email=target.email,
        invitation_id=invitation_id,
        uninvited_organisation_id=uninvited_organisation_id,
        wreath_invitation_id=wreath_invitation_id,
        message_id=message_id,
        **contacts,
    )
    db.session.rollback()
    return world


def invitation_world(ceremony: Ceremony) -> tuple[int, int]:
    """An embassy invited (draft, with a note verbale on file) and one not invited yet."""
    invited = Organisation(name="Embassy of Testland", kind=OrganisationKind.EMBASSY)
    other = Organisation(name="Embassy of Otherland", kind=OrganisationKind.EMBASSY)
    invitation = Invitation(
        ceremony=ceremony,
        organisation=invited,
        rsvp_deadline=date(2026, 4, 20),
        document_name="0" * 32 + ".pdf",
    )
    db.session.add_all([invited, other, invitation])
    db.session.commit()
    folder = Path(current_app.instance_path) / "documents" / str(invitation.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / invitation.document_name).write_bytes(b"%PDF-1.4 note verbale")
    return invitation.id, other.id


def mail_world(invitation_id: int) -> int:
    """A draft reminder to the invited embassy, which now has an email address."""
    invitation = db.session.get(Invitation, invitation_id)
    assert invitation is not None
    invitation.organisation.email = "protocol@testland.example"
    message = OutboxMessage(
        kind=MessageKind.REMINDER,
        status=MessageStatus.DRAFT,
        ceremony=invitation.ceremony,
        invitation=invitation,
        language="en",
        to_address="protocol@testland.example",
        to_name="Embassy of Testland",
        subject="Reminder",
        body="Dear {addressee}, {rsvp_link}",
        message_id="<world.ereveld@sovjetereveld.example>",
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def wreath_world(ceremony: Ceremony) -> int:
    """Two accepted invitations with a wreath, one group: the second can move up."""
    invitations = [
        Invitation(
            ceremony=ceremony,
            organisation=Organisation(name=name, kind=OrganisationKind.SCHOOL),
            status=InvitationStatus.ACCEPTED,
            wreath=WreathChoice.OWN,
        )
        for name in ("Wreath school A", "Wreath school B")
    ]
    db.session.add_all(invitations)
    db.session.commit()
    return invitations[1].id


def fingerprint() -> dict[str, list[str]]:
    """Every committed row of every table, read on a connection of its own."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
            for table in Base.metadata.sorted_tables
        }


# --- expected answers -----------------------------------------------------------------


class Answer(NamedTuple):
    status: int
    location: str | None = None  # the path a redirect must point to
    writes: bool = False  # whether the request must change the database


ROLES = ("anonymous", "viewer", "planner", "admin")
OK = Answer(200)
DENIED = Answer(403)
LOGIN = Answer(302, "/login")
DONE = Answer(302, writes=True)
NOT_FOUND = Answer(404)
TO_EDITIONS = Answer(302, "/staff/ceremonies")
TO_ACCOUNT = Answer(302, "/staff/account")
TO_ACCOUNT_SAVED = Answer(302, "/staff/account", writes=True)
SHOWN_SAVED = Answer(200, writes=True)  # saved, and the answer shows what only it may

Answers = dict[str, Answer]


def answers(anonymous: Answer, viewer: Answer, planner: Answer, admin: Answer) -> Answers:
    return {"anonymous": anonymous, "viewer": viewer, "planner": planner, "admin": admin}


PUBLIC = answers(OK, OK, OK, OK)
READ = answers(LOGIN, OK, OK, OK)
EDIT_GET = answers(LOGIN, DENIED, OK, OK)
EDIT_POST = answers(LOGIN, DENIED, DONE, DONE)
ADMIN_GET = answers(LOGIN, DENIED, DENIED, OK)
ADMIN_POST = answers(LOGIN, DENIED, DENIED, DONE)


def no_data(world: World) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Entry:
    endpoint: str
    url: Callable[[World], str]
    get: Answers | None = None
    post: Answers | None = None
    data: Callable[[World], dict[str, str]] = field(default=no_data)


def edition_form(world: World) -> dict[str, str]:
    return {
        "title_nl": "Nationale Dodenherdenking",
        "title_en": "National Remembrance (changed)",
        "title_ru": "",
        "day": "2026-05-04",
        "start_time": "18:30",
        "end_time": "20:30",
        "venue_id": str(world.venue_id),
        "public": "y",
        "base_year": "1945",
        "notes": "",
        "version": str(world.version),
    }


def item_form(world: World) -> dict[str, str]:
    return {
        "kind": "speech",
        "start_time": "",
        "offset_minutes": "",
        "duration_minutes": "5",
        "performer": "",
        "text_nl": "Toespraak",
        "text_en": "Address",
        "text_ru": "",
        "printable": "y",
        "version": "1",
    }


def series_form(slug: str) -> Callable[[World], dict[str, str]]:
    def data(world: World) -> dict[str, str]:
        return {
            "slug": slug,
            "title_nl": "Herdenking",
            "title_en": "Commemoration",
            "title_ru": "",
            "month": "5",
            "day": "4",
            "start_time": "18:45",
            "duration_minutes": "90",
            "venue_id": str(world.venue_id),
            "base_year": "1945",
            "organiser_role": "organised",
            "public": "y",
            "active": "y",
        }

    return data


def venue_form(world: World) -> dict[str, str]:
    return {
        "name": "Rusthof",
        "address": "Dodeweg 29, Leusden",
        "latitude": "52.13",
        "longitude": "5.37",
        "timezone": "Europe/Amsterdam",
        "notes": "",
    }


MATRIX: dict[str, Entry] = {
    # Public pages and feeds: no login, published public editions only.
    "/": Entry("public.index", lambda w: "/", get=PUBLIC),
    "/healthz": Entry("main.healthz", lambda w: "/healthz", get=PUBLIC),
    "/ceremonies/<slug>": Entry(
        "public.edition", lambda w: f"/ceremonies/{w.other_slug}", get=PUBLIC
    ),
    "/ceremonies/<slug>/programme.pdf": Entry(
        "documents.public_programme",
        lambda w: f"/ceremonies/{w.other_slug}/programme.pdf",
        get=PUBLIC,
    ),
    "/staff/ceremonies/<slug>/programme.pdf": Entry(
        "documents.staff_programme", lambda w: f"/staff/ceremonies/{w.slug}/programme.pdf", get=READ
    ),
    "/ceremonies/<slug>.ics": Entry(
        "calendar.edition_file", lambda w: f"/ceremonies/{w.other_slug}.ics", get=PUBLIC
    ),
    "/calendar.ics": Entry("calendar.public_feed", lambda w: "/calendar.ics", get=PUBLIC),
    "/calendar/<series_slug>.ics": Entry(
        "calendar.series_feed", lambda w: "/calendar/9-mei.ics", get=PUBLIC
    ),
    "/calendar": Entry("calendar.subscribe", lambda w: "/calendar", get=PUBLIC),
    "/api/ceremonies.json": Entry(
        "calendar.api_editions", lambda w: "/api/ceremonies.json", get=PUBLIC
    ),
    # The token is the credential: a staff session does not open a feed without one.
    "/calendar/staff/<token>.ics": Entry(
        "calendar.staff_feed",
        lambda w: "/calendar/staff/" + "x" * 43 + ".ics",
        get=answers(NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "/staff/account/feed": Entry(
        "calendar.new_staff_feed",
        lambda w: "/staff/account/feed",
        post=answers(LOGIN, SHOWN_SAVED, SHOWN_SAVED, SHOWN_SAVED),
    ),
    # Nobody has a feed link in this world: revoking is allowed but changes nothing.
    "/staff/account/feed/revoke": Entry(
        "calendar.revoke_staff_feed",
        lambda w: "/staff/account/feed/revoke",
        post=answers(LOGIN, TO_ACCOUNT, TO_ACCOUNT, TO_ACCOUNT),
    ),
    # Without a password step first, the code page sends everyone back to the login.
    "/login/code": Entry(
        "auth.second_factor",
        lambda w: "/login/code",
        get=answers(LOGIN, LOGIN, LOGIN, LOGIN),
        post=answers(LOGIN, LOGIN, LOGIN, LOGIN),
        data=lambda w: {"code": "123456"},
    ),
    "/staff/account/two-factor": Entry(
        "auth.two_factor",
        lambda w: "/staff/account/two-factor",
        get=answers(LOGIN, OK, OK, OK),
        # A wrong code is refused and changes nothing.
        post=answers(LOGIN, Answer(400), Answer(400), Answer(400)),
        data=lambda w: {"action": "enable", "code": "000000"},
    ),
    "/login": Entry(
        "auth.login",
        lambda w: "/login",
        get=answers(OK, TO_EDITIONS, TO_EDITIONS, TO_EDITIONS),
        # A visitor logs in (the session token rotates); staff are sent on.
        post=answers(
            Answer(302, "/staff/ceremonies", writes=True), TO_EDITIONS, TO_EDITIONS, TO_EDITIONS
        ),
        data=lambda w: {"email": w.user_email, "password": PASSWORD},
    ),
    "/logout": Entry(
        "auth.logout",
        lambda w: "/logout",
        post=answers(
            LOGIN,
            Answer(302, "/login", writes=True),
            Answer(302, "/login", writes=True),
            Answer(302, "/login", writes=True),
        ),
    ),
    "/staff/account": Entry(
        "auth.account",
        lambda w: "/staff/account",
        get=READ,
        post=answers(LOGIN, DONE, DONE, DONE),
        data=lambda w: {
            "current": PASSWORD,
            "password": "a new horse battery",
            "confirm": "a new horse battery",
        },
    ),
    "/staff/users": Entry("auth.users", lambda w: "/staff/users", get=ADMIN_GET),
    "/staff/users/new": Entry(
        "auth.new_user",
        lambda w: "/staff/users/new",
        get=ADMIN_GET,
        post=ADMIN_POST,
        data=lambda w: {
            "email": "new@example.org",
            "name": "New",
            "role": "viewer",
            "language": "en",
            "password": "long enough password",
            "active": "y",
        },
    ),
    "/staff/users/<int:user_id>/edit": Entry(
        "auth.edit_user",
        lambda w: f"/staff/users/{w.user_id}/edit",
        get=ADMIN_GET,
        post=ADMIN_POST,
        data=lambda w: {"name": "Renamed", "role": "planner", "language": "en", "active": "y"},
    ),
    "/staff/": Entry(
        "ceremonies.index",
        lambda w: "/staff/",
        get=answers(LOGIN, TO_EDITIONS, TO_EDITIONS, TO_EDITIONS),
    ),
    "/staff/ceremonies": Entry("ceremonies.editions", lambda w: "/staff/ceremonies", get=READ),
    "/staff/ceremonies/new": Entry(
        "ceremonies.new_edition",
        lambda w: "/staff/ceremonies/new",
        get=EDIT_GET,
        post=EDIT_POST,
        data=lambda w: {
            "which": "series",
            "series-series_id": str(w.new_series_id),
            "series-year": "2027",
        },
    ),
    "/staff/ceremonies/<slug>": Entry(
        "ceremonies.edition", lambda w: f"/staff/ceremonies/{w.slug}", get=READ
    ),
    "/staff/ceremonies/<slug>/edit": Entry(
        "ceremonies.edit_edition",
        lambda w: f"/staff/ceremonies/{w.slug}/edit",
        get=EDIT_GET,
        post=EDIT_POST,
        data=edition_form,
    ),
    "/staff/ceremonies/<slug>/status/<action>": Entry(
        "ceremonies.change_status",
        lambda w: f"/staff/ceremonies/{w.slug}/status/publish",
        post=EDIT_POST,
        data=lambda w: {"version": str(w.version)},
    ),
    "/staff/ceremonies/<slug>/copy": Entry(
        "ceremonies.copy_edition",
        lambda w: f"/staff/ceremonies/{w.slug}/copy",
        post=EDIT_POST,
        data=lambda w: {"year": "2027"},
    ),
    "/staff/ceremonies/<slug>/items/new": Entry(
        "ceremonies.new_item",
        lambda w: f"/staff/ceremonies/{w.slug}/items/new",
        get=EDIT_GET,
        post=EDIT_POST,
        data=item_form,
    ),
    "/staff/ceremonies/<slug>/items/<int:item_id>/edit": Entry(
        "ceremonies.edit_item",
        lambda w: f"/staff/ceremonies/{w.slug}/items/{w.item_id}/edit",
        get=EDIT_GET,
        post=EDIT_POST,
        data=item_form,
    ),
    "/staff/ceremonies/<slug>/items/<int:item_id>/delete": Entry(
        "ceremonies.remove_item",
        lambda w: f"/staff/ceremonies/{w.slug}/items/{w.item_id}/delete",
        post=EDIT_POST,
    ),
    "/staff/ceremonies/<slug>/items/<int:item_id>/move/<direction>": Entry(
        "ceremonies.reorder_item",
        lambda w: f"/staff/ceremonies/{w.slug}/items/{w.item_id}/move/down",
        post=EDIT_POST,
    ),
    "/staff/ceremonies/<slug>/programme/save-default": Entry(
        "ceremonies.save_default_programme",
        lambda w: f"/staff/ceremonies/{w.slug}/programme/save-default",
        post=EDIT_POST,
    ),
    "/staff/series": Entry("ceremonies.series_list", lambda w: "/staff/series", get=READ),
    "/staff/series/new": Entry(
        "ceremonies.edit_series",
        lambda w: "/staff/series/new",
        get=EDIT_GET,
        post=EDIT_POST,
        data=series_form("embassy-day"),
    ),
    "/staff/series/<slug>/edit": Entry(
        "ceremonies.edit_series",
        lambda w: f"/staff/series/{w.series_slug}/edit",
        get=EDIT_GET,
        post=EDIT_POST,
        data=series_form("4-mei"),
    ),
    "/staff/venues": Entry("ceremonies.venue_list", lambda w: "/staff/venues", get=READ),
    "/staff/venues/new": Entry(
        "ceremonies.edit_venue",
        lambda w: "/staff/venues/new",
        get=EDIT_GET,
        post=EDIT_POST,
        data=venue_form,
    ),
    "/staff/venues/<int:venue_id>/edit": Entry(
        "ceremonies.edit_venue",
        lambda w: f"/staff/venues/{w.venue_id}/edit",
        get=EDIT_GET,
        post=EDIT_POST,
        data=venue_form,
    ),
    "/staff/audit": Entry("audit.log", lambda w: "/staff/audit", get=ADMIN_GET),
    "/privacy": Entry("privacy.statement", lambda w: "/privacy", get=PUBLIC),
    "/staff/invitations/<int:invitation_id>/letter.pdf": Entry(
        "documents.letter_preview",
        lambda w: f"/staff/invitations/{w.invitation_id}/letter.pdf",
        get=READ,
    ),
    "/staff/ceremonies/<slug>/labels.pdf": Entry(
        "documents.envelope_labels",
        lambda w: f"/staff/ceremonies/{w.slug}/labels.pdf",
        get=READ,
    ),
    "/staff/ceremonies/<slug>/letters": Entry(
        "documents.letters",
        lambda w: f"/staff/ceremonies/{w.slug}/letters",
        get=READ,
        post=answers(LOGIN, DENIED, Answer(302, writes=True), Answer(302, writes=True)),
        data=lambda w: {"layout": "letter", "action": "send"},
    ),
    # Staff's lists: viewers read them; the security list (every guest's name and car
    # plate, to be handed to the gate) is for planners and admins.
    "/staff/ceremonies/<slug>/guest-list.pdf": Entry(
        "documents.guest_list",
        lambda w: f"/staff/ceremonies/{w.other_slug}/guest-list.pdf",
        get=READ,
    ),
    "/staff/ceremonies/<slug>/security-list.pdf": Entry(
        "documents.security_list",
        lambda w: f"/staff/ceremonies/{w.other_slug}/security-list.pdf",
        get=EDIT_GET,
    ),
    "/staff/ceremonies/<slug>/wreath-run-sheet.pdf": Entry(
        "documents.run_sheet",
        lambda w: f"/staff/ceremonies/{w.other_slug}/wreath-run-sheet.pdf",
        get=READ,
    ),
    "/staff/ceremonies/<slug>/name-cards.pdf": Entry(
        "documents.name_cards",
        lambda w: f"/staff/ceremonies/{w.other_slug}/name-cards.pdf?layout=tents",
        get=READ,
    ),
    "/staff/letter-jobs/<job_id>": Entry(
        "documents.letter_job",
        lambda w: "/staff/letter-jobs/" + "x" * 22,
        get=answers(LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "/staff/letter-jobs/<job_id>/<name>": Entry(
        "documents.letter_job_file",
        lambda w: "/staff/letter-jobs/" + "x" * 22 + "/letters.zip",
        get=answers(LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "/staff/privacy/persons/<int:person_id>/export.json": Entry(
        "privacy.export",
        lambda w: f"/staff/privacy/persons/{w.contact_person_id}/export.json",
        get=ADMIN_GET,
    ),
    "/staff/privacy/persons/<int:person_id>/erase": Entry(
        "privacy.erase",
        lambda w: f"/staff/privacy/persons/{w.contact_duplicate_person_id}/erase",
        post=ADMIN_POST,
    ),
    "/staff/settings": Entry(
        "settings.settings",
        lambda w: "/staff/settings",
        get=ADMIN_GET,
        post=ADMIN_POST,
        data=lambda w: {
            "flag_4_may_from": "sunrise",
            "programme_paper": "a4",
            "require_totp": "no",
            "seated_minutes": "15",
        },
    ),
}


# Invitations (app.invitations.views): viewers read, planners edit, admins set policies.
SHOWS_LINK = answers(LOGIN, DENIED, Answer(200, writes=True), Answer(200, writes=True))
MATRIX.update(
    {
        "/staff/ceremonies/<slug>/invitations": Entry(
            "invitations.overview", lambda w: f"/staff/ceremonies/{w.slug}/invitations", get=READ
        ),
        "/staff/ceremonies/<slug>/invitations/bulk": Entry(
            "invitations.bulk_create",
            lambda w: f"/staff/ceremonies/{w.slug}/invitations/bulk",
            post=EDIT_POST,
            data=lambda w: {"bulk-kinds": "embassy"},
        ),
        "/staff/ceremonies/<slug>/invitations/new": Entry(
            "invitations.new_invitation",
            lambda w: f"/staff/ceremonies/{w.slug}/invitations/new",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {
                "organisation_id": str(w.uninvited_organisation_id),
                "kind": "rsvp",
                "rsvp_deadline": "",
                "cohosts": "",
            },
        ),
        "/staff/ceremonies/<slug>/invitations/policies": Entry(
            "invitations.policies",
            lambda w: f"/staff/ceremonies/{w.slug}/invitations/policies",
            get=READ,
            post=ADMIN_POST,
            data=lambda w: {
                "target": "country",
                "organisation_id": "0",
                "country": "RU",
                "decision": "do_not_invite",
                "reason": "Decided by the board",
            },
        ),
        "/staff/invitations/<int:invitation_id>": Entry(
            "invitations.invitation", lambda w: f"/staff/invitations/{w.invitation_id}", get=READ
        ),
        "/staff/invitations/<int:invitation_id>/edit": Entry(
            "invitations.edit",
            lambda w: f"/staff/invitations/{w.invitation_id}/edit",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {
                "addressee_id": "0",
                "language": "ru",
                "kind": "rsvp",
                "rsvp_deadline": "2026-04-21",
                "cohosts": "",
                "status": "draft",
                "accessibility": "",
                "remark": "",
                "version": "1",
            },
        ),
        "/staff/invitations/<int:invitation_id>/delegation": Entry(
            "invitations.delegation",
            lambda w: f"/staff/invitations/{w.invitation_id}/delegation",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {
                "members-0-name": "Anna Petrova",
                "members-0-function": "",
                "members-0-role": "attendee",
                "members-0-car_plate": "",
                "wreath": "own",
                "ribbon_text": "",
                "ribbon_colours": "",
                "version": "1",
            },
        ),
        "/staff/invitations/<int:invitation_id>/reply": Entry(
            "invitations.reply",
            lambda w: f"/staff/invitations/{w.invitation_id}/reply",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {"answer": "accepted", "note": "By phone", "version": "1"},
        ),
        "/staff/invitations/<int:invitation_id>/sent": Entry(
            "invitations.sent",
            lambda w: f"/staff/invitations/{w.invitation_id}/sent",
            post=SHOWS_LINK,
            data=lambda w: {"version": "1"},
        ),
        "/staff/invitations/<int:invitation_id>/link": Entry(
            "invitations.link",
            lambda w: f"/staff/invitations/{w.invitation_id}/link",
            post=SHOWS_LINK,
        ),
        "/staff/invitations/<int:invitation_id>/document": Entry(
            "invitations.document",
            lambda w: f"/staff/invitations/{w.invitation_id}/document",
            get=READ,
        ),
    }
)


# The delegation's RSVP page (app.invitations.rsvp): the token is the credential, and a
# staff session opens nothing without one. The link holder's own answers are in
# tests/test_rsvp.py (test_link_holder_matrix).
NO_LINK = answers(NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)
RSVP = "/rsvp/" + "x" * 43
MATRIX.update(
    {
        "/rsvp/<token>": Entry("rsvp.page", lambda w: RSVP, get=NO_LINK),
        "/rsvp/<token>/reply": Entry(
            "rsvp.answer",
            lambda w: f"{RSVP}/reply",
            post=NO_LINK,
            data=lambda w: {"answer": "accept", "head_name": "Head", "version": "1"},
        ),
        "/rsvp/<token>/members": Entry(
            "rsvp.new_member",
            lambda w: f"{RSVP}/members",
            post=NO_LINK,
            data=lambda w: {"name": "Member", "role": "attendee", "version": "1"},
        ),
        "/rsvp/<token>/members/<int:member_id>": Entry(
            "rsvp.member",
            lambda w: f"{RSVP}/members/1",
            get=NO_LINK,
            post=NO_LINK,
            data=lambda w: {"name": "Member", "role": "attendee", "version": "1"},
        ),
        "/rsvp/<token>/members/<int:member_id>/remove": Entry(
            "rsvp.delete_member",
            lambda w: f"{RSVP}/members/1/remove",
            post=NO_LINK,
            data=lambda w: {"version": "1"},
        ),
        "/rsvp/<token>/details": Entry(
            "rsvp.details",
            lambda w: f"{RSVP}/details",
            post=NO_LINK,
            data=lambda w: {"wreath": "own", "version": "1"},
        ),
        "/rsvp/<token>/calendar.ics": Entry(
            "rsvp.feed", lambda w: f"{RSVP}/calendar.ics", get=NO_LINK
        ),
    }
)

# The wreath order (app.wreaths.views): viewers read, planners move and edit the groups.
MATRIX.update(
    {
        "/staff/ceremonies/<slug>/wreaths": Entry(
            "wreaths.order", lambda w: f"/staff/ceremonies/{w.other_slug}/wreaths", get=READ
        ),
        "/staff/ceremonies/<slug>/wreaths/<int:invitation_id>/move": Entry(
            "wreaths.move",
            lambda w: f"/staff/ceremonies/{w.other_slug}/wreaths/{w.wreath_invitation_id}/move",
            post=EDIT_POST,
            data=lambda w: {"direction": "up", "reason": "Asked by the school"},
        ),
        "/staff/ceremonies/<slug>/wreaths/groups": Entry(
            "wreaths.save_group_list",
            lambda w: f"/staff/ceremonies/{w.other_slug}/wreaths/groups",
            post=EDIT_POST,
            data=lambda w: {
                "groups-0-name_nl": "Alle kransen",
                "groups-0-name_en": "All wreaths",
                "groups-0-sort": "alphabetical",
                "groups-0-kinds": "school",
            },
        ),
        "/staff/ceremonies/<slug>/wreaths/reset": Entry(
            "wreaths.reset",
            lambda w: f"/staff/ceremonies/{w.other_slug}/wreaths/reset",
            post=EDIT_POST,
        ),
        "/staff/ceremonies/<slug>/wreaths/series-default": Entry(
            "wreaths.series_default",
            lambda w: f"/staff/ceremonies/{w.other_slug}/wreaths/series-default",
            post=EDIT_POST,
        ),
    }
)


# Contacts (app.contacts.views): personal data, so staff only; viewers read, planners edit.
CONTACTS = "/staff/contacts"
# Posted without a file: refused with the form's message, nothing saved (see
# tests/test_contacts_import.py for real uploads).
NO_FILE = answers(LOGIN, DENIED, Answer(400), Answer(400))


def contact_organisation_form(w: World) -> dict[str, str]:
    return {
        "name": "Embassy of Contactland",
        "kind": "embassy",
        "country": "KZ",
        "resident": "y",
        "email": "info@contactland.example",
        "version": w.contact_organisation_version,
    }


def contact_person_form(w: World) -> dict[str, str]:
    return {
        "given_name": "Anna",
        "family_name": "Ivanova-Petrova",
        "language": "ru",
        "version": w.contact_person_version,
    }


def contact_appointment_form(w: World) -> dict[str, str]:
    return {
        "organisation_id": str(w.contact_organisation_id),
        "role": "ambassador",
        "taken_up_on": "2023-02-01",
        "taken_up_time": "09:15",
        "valid_from": "2023-02-01",
        "valid_to": "",
        "tie_break": "0",
    }


MATRIX.update(
    {
        f"{CONTACTS}/": Entry("contacts.organisations", lambda w: f"{CONTACTS}/", get=READ),
        f"{CONTACTS}/organisations/<int:organisation_id>": Entry(
            "contacts.organisation",
            lambda w: f"{CONTACTS}/organisations/{w.contact_organisation_id}",
            get=READ,
        ),
        f"{CONTACTS}/organisations/new": Entry(
            "contacts.edit_organisation",
            lambda w: f"{CONTACTS}/organisations/new",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {**contact_organisation_form(w), "name": "Gemeente Leusden"},
        ),
        f"{CONTACTS}/organisations/<int:organisation_id>/edit": Entry(
            "contacts.edit_organisation",
            lambda w: f"{CONTACTS}/organisations/{w.contact_organisation_id}/edit",
            get=EDIT_GET,
            post=EDIT_POST,
            data=contact_organisation_form,
        ),
        f"{CONTACTS}/organisations/<int:organisation_id>/merge": Entry(
            "contacts.merge_organisation",
            lambda w: f"{CONTACTS}/organisations/{w.contact_organisation_id}/merge",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {"other_id": str(w.contact_duplicate_organisation_id)},
        ),
        f"{CONTACTS}/persons": Entry("contacts.persons", lambda w: f"{CONTACTS}/persons", get=READ),
        f"{CONTACTS}/persons/<int:person_id>": Entry(
            "contacts.person", lambda w: f"{CONTACTS}/persons/{w.contact_person_id}", get=READ
        ),
        f"{CONTACTS}/persons/<int:person_id>/address/<lang>": Entry(
            "contacts.person_address",
            lambda w: f"{CONTACTS}/persons/{w.contact_person_id}/address/ru",
            post=EDIT_POST,
            data=lambda w: {"ru-salutation": "Ваше Превосходительство!"},
        ),
        f"{CONTACTS}/persons/<int:person_id>/address/<lang>/confirm": Entry(
            "contacts.confirm_address",
            lambda w: f"{CONTACTS}/persons/{w.contact_person_id}/address/ru/confirm",
            post=EDIT_POST,
        ),
        f"{CONTACTS}/forms-of-address": Entry(
            "contacts.forms_of_address_page", lambda w: f"{CONTACTS}/forms-of-address", get=READ
        ),
        f"{CONTACTS}/forms-of-address/<role>/<lang>/<gender>": Entry(
            "contacts.edit_form_of_address",
            lambda w: f"{CONTACTS}/forms-of-address/ambassador/en/female",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {"salutation": "Excellency,", "mention": "Her Excellency {name}"},
        ),
        f"{CONTACTS}/persons/new": Entry(
            "contacts.edit_person",
            lambda w: f"{CONTACTS}/persons/new",
            get=EDIT_GET,
            post=EDIT_POST,
            data=contact_person_form,
        ),
        f"{CONTACTS}/persons/<int:person_id>/edit": Entry(
            "contacts.edit_person",
            lambda w: f"{CONTACTS}/persons/{w.contact_person_id}/edit",
            get=EDIT_GET,
            post=EDIT_POST,
            data=contact_person_form,
        ),
        f"{CONTACTS}/persons/<int:person_id>/merge": Entry(
            "contacts.merge_person",
            lambda w: f"{CONTACTS}/persons/{w.contact_person_id}/merge",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {"other_id": str(w.contact_duplicate_person_id)},
        ),
        f"{CONTACTS}/persons/<int:person_id>/appointments/new": Entry(
            "contacts.edit_appointment",
            lambda w: f"{CONTACTS}/persons/{w.contact_person_id}/appointments/new",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {**contact_appointment_form(w), "role": "representative"},
        ),
        f"{CONTACTS}/persons/<int:person_id>/appointments/<int:appointment_id>/edit": Entry(
            "contacts.edit_appointment",
            lambda w: (
                f"{CONTACTS}/persons/{w.contact_person_id}/appointments/"
                f"{w.contact_appointment_id}/edit"
            ),
            get=EDIT_GET,
            post=EDIT_POST,
            data=contact_appointment_form,
        ),
        f"{CONTACTS}/persons/<int:person_id>/appointments/<int:appointment_id>/delete": Entry(
            "contacts.remove_appointment",
            lambda w: (
                f"{CONTACTS}/persons/{w.contact_person_id}/appointments/"
                f"{w.contact_appointment_id}/delete"
            ),
            post=EDIT_POST,
        ),
        f"{CONTACTS}/groups": Entry(
            "contacts.groups",
            lambda w: f"{CONTACTS}/groups",
            get=READ,
            post=EDIT_POST,
            data=lambda w: {"name": "Municipalities"},
        ),
        f"{CONTACTS}/groups/<int:group_id>": Entry(
            "contacts.group", lambda w: f"{CONTACTS}/groups/{w.contact_group_id}", get=READ
        ),
        f"{CONTACTS}/groups/<int:group_id>/add": Entry(
            "contacts.add_member",
            lambda w: f"{CONTACTS}/groups/{w.contact_group_id}/add",
            post=EDIT_POST,
            data=lambda w: {"organisation_id": str(w.contact_duplicate_organisation_id)},
        ),
        f"{CONTACTS}/groups/<int:group_id>/remove/<int:organisation_id>": Entry(
            "contacts.remove_member",
            lambda w: f"{CONTACTS}/groups/{w.contact_group_id}/remove/{w.contact_organisation_id}",
            post=EDIT_POST,
        ),
        f"{CONTACTS}/import": Entry(
            "contacts.import_file", lambda w: f"{CONTACTS}/import", get=EDIT_GET, post=NO_FILE
        ),
        f"{CONTACTS}/export.csv": Entry(
            "contacts.export_csv", lambda w: f"{CONTACTS}/export.csv", get=READ
        ),
        f"{CONTACTS}/export.vcf": Entry(
            "contacts.export_vcard", lambda w: f"{CONTACTS}/export.vcf", get=READ
        ),
        f"{CONTACTS}/precedence": Entry(
            "contacts.precedence", lambda w: f"{CONTACTS}/precedence", get=READ
        ),
    }
)


# --- the outbox ------------------------------------------------------------------------

REFUSED = answers(LOGIN, DENIED, Answer(400), Answer(400))
ANSWERED = answers(LOGIN, DENIED, Answer(302), Answer(302))  # nothing was due

MATRIX.update(
    {
        "/staff/ceremonies/<slug>/mail": Entry(
            "mail.outbox", lambda w: f"/staff/ceremonies/{w.slug}/mail", get=READ
        ),
        "/staff/ceremonies/<slug>/mail/draft": Entry(
            "mail.draft", lambda w: f"/staff/ceremonies/{w.slug}/mail/draft", post=EDIT_POST
        ),
        "/staff/ceremonies/<slug>/mail/reminders": Entry(
            "mail.reminders",
            lambda w: f"/staff/ceremonies/{w.slug}/mail/reminders",
            post=ANSWERED,  # the edition is over: no reminder is due
        ),
        "/staff/ceremonies/<slug>/mail/release": Entry(
            "mail.release_all",
            lambda w: f"/staff/ceremonies/{w.slug}/mail/release",
            post=EDIT_POST,
        ),
        "/staff/ceremonies/<slug>/mail/settings": Entry(
            "mail.settings",
            lambda w: f"/staff/ceremonies/{w.slug}/mail/settings",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {
                "rsvp_deadline": "2026-04-20",
                "hosts-0-function_en": "Mayor of Leusden",
                "dress_code_en": "",
                "reminder_days": "7",
                "practical_days": "3",
                "version": str(w.version),
            },
        ),
        "/staff/mail/<int:message_id>": Entry(
            "mail.message",
            lambda w: f"/staff/mail/{w.message_id}",
            get=READ,
            post=EDIT_POST,
            data=lambda w: {"subject": "Reminder!", "body": "Dear {addressee},", "version": "1"},
        ),
        "/staff/mail/<int:message_id>/message.eml": Entry(
            # The live personal link is in it: planners only, and each download is audited.
            "mail.eml",
            lambda w: f"/staff/mail/{w.message_id}/message.eml",
            get=SHOWS_LINK,
        ),
        "/staff/mail/<int:message_id>/release": Entry(
            "mail.release_one",
            lambda w: f"/staff/mail/{w.message_id}/release",
            post=EDIT_POST,
            data=lambda w: {"version": "1"},
        ),
        "/staff/mail/<int:message_id>/withdraw": Entry(
            "mail.withdraw_one",
            lambda w: f"/staff/mail/{w.message_id}/withdraw",
            post=EDIT_POST,
            data=lambda w: {"version": "1"},
        ),
        "/staff/mail/<int:message_id>/requeue": Entry(
            "mail.requeue_one",
            lambda w: f"/staff/mail/{w.message_id}/requeue",
            post=REFUSED,  # a draft is not sent "again"
            data=lambda w: {"version": "1"},
        ),
        "/staff/mail/texts": Entry("mail.texts", lambda w: "/staff/mail/texts", get=READ),
        "/staff/mail/texts/<kind>/<lang>": Entry(
            "mail.edit_text",
            lambda w: "/staff/mail/texts/invitation/nl",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {"subject": "Uitnodiging: {ceremony}", "body": "Geachte {addressee},"},
        ),
        "/staff/mail/letter-texts/<invitation_kind>/<lang>": Entry(
            "mail.edit_letter_body",
            lambda w: "/staff/mail/letter-texts/rsvp/nl",
            get=EDIT_GET,
            post=EDIT_POST,
            data=lambda w: {"body": "{hosts_request} de {ceremony} op {when}."},
        ),
        "/staff/mail/letter-texts/<invitation_kind>/<lang>/reset": Entry(
            "mail.reset_letter",
            lambda w: "/staff/mail/letter-texts/rsvp/nl/reset",
            post=ANSWERED,  # there was no own text to remove
        ),
        "/staff/mail/texts/<kind>/<lang>/reset": Entry(
            "mail.reset",
            lambda w: "/staff/mail/texts/invitation/nl/reset",
            post=ANSWERED,  # there was no own text to remove
        ),
        "/staff/invitations/<int:invitation_id>/calendar-reply": Entry(
            "mail.calendar_reply",
            lambda w: f"/staff/invitations/{w.invitation_id}/calendar-reply",
            get=EDIT_GET,
            post=REFUSED,  # no file
        ),
        "/staff/invitations/<int:invitation_id>/calendar-reply/confirm": Entry(
            "mail.confirm_calendar_reply",
            lambda w: f"/staff/invitations/{w.invitation_id}/calendar-reply/confirm",
            post=REFUSED,  # no signed reply
        ),
        "/staff/ceremonies/<slug>/mail/replies": Entry(
            "mail.replies", lambda w: f"/staff/ceremonies/{w.slug}/mail/replies", get=READ
        ),
        # No reply waits for review in the world: planners get as far as looking it up.
        "/staff/mail/replies/<int:review_id>/apply": Entry(
            "mail.apply_reply",
            lambda w: "/staff/mail/replies/1/apply",
            post=answers(LOGIN, DENIED, NOT_FOUND, NOT_FOUND),
            data=lambda w: {"version": "1"},
        ),
        "/staff/mail/replies/<int:review_id>/discard": Entry(
            "mail.discard_reply",
            lambda w: "/staff/mail/replies/1/discard",
            post=answers(LOGIN, DENIED, NOT_FOUND, NOT_FOUND),
            data=lambda w: {"version": "1"},
        ),
    }
)


def test_every_route_has_an_entry(app: Flask) -> None:
    """A new route fails here until its expected answers are written down above."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    missing = sorted(r.rule for r in rules if r.rule not in MATRIX)
    assert not missing, f"routes without an authorisation entry: {missing}"
    stale = sorted(set(MATRIX) - {r.rule for r in rules})
    assert not stale, f"entries for routes that no longer exist: {stale}"
    for rule in rules:
        entry = MATRIX[rule.rule]
        methods = rule.methods or set()
        assert entry.endpoint == rule.endpoint, rule.rule
        assert ("GET" in methods) == (entry.get is not None), f"GET of {rule.rule}"
        assert ("POST" in methods) == (entry.post is not None), f"POST of {rule.rule}"
        assert methods <= {"GET", "HEAD", "OPTIONS", "POST"}, f"{rule.rule}: {methods}"
        for expected in (entry.get, entry.post):
            assert expected is None or set(expected) == set(ROLES), rule.rule


CASES = [
    pytest.param(rule, method, role, id=f"{method} {rule} {role}")
    for rule, entry in MATRIX.items()
    for method, expected in (("GET", entry.get), ("POST", entry.post))
    if expected is not None
    for role in ROLES
]


@pytest.mark.parametrize(("rule", "method", "role"), CASES)
def test_matrix(
    client: FlaskClient,
    login: Callable[[Role], User],
    edition: Callable[..., Ceremony],
    rule: str,
    method: str,
    role: str,
) -> None:
    entry = MATRIX[rule]
    expected = (entry.get if method == "GET" else entry.post) or {}
    answer = expected[role]
    world = build_world(edition)
    if role != "anonymous":
        login(Role(role))
    before = fingerprint()

    url = entry.url(world)
    response = client.get(url) if method == "GET" else client.post(url, data=entry.data(world))

    assert response.status_code == answer.status, (
        f"{method} {url} as {role}: {response.status_code}\n"
        f"{response.get_data(as_text=True)[:2000]}"
    )
    if answer.location is not None:
        assert urlsplit(response.headers["Location"]).path == answer.location
    if answer == LOGIN and rule.startswith("/staff"):
        # The login page brings staff back where they wanted to go.
        assert "next=" in urlsplit(response.headers["Location"]).query
    after = fingerprint()
    if answer.writes:
        assert after != before, f"{method} {url} as {role} was answered but saved nothing"
    else:
        assert after == before, f"{method} {url} as {role} changed the database"


# --- objects are found through their parent -------------------------------------------


def test_an_item_of_another_edition_is_not_found(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., Ceremony]
) -> None:
    world = build_world(edition)
    login(Role.PLANNER)
    before = fingerprint()
    base = f"/staff/ceremonies/{world.slug}/items/{world.other_item_id}"
    assert client.get(f"{base}/edit").status_code == 404
    assert client.post(f"{base}/edit", data=item_form(world)).status_code == 404
    assert client.post(f"{base}/delete").status_code == 404
    assert client.post(f"{base}/move/up").status_code == 404
    assert client.post(f"{base}/move/down").status_code == 404
    assert fingerprint() == before
    # The same item through its own edition is found.
    own = f"/staff/ceremonies/{world.other_slug}/items/{world.other_item_id}/edit"
    assert client.get(own).status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/staff/ceremonies/2026-nowhere"),
        ("GET", "/staff/ceremonies/2026-nowhere/edit"),
        ("POST", "/staff/ceremonies/2026-nowhere/status/publish"),
        ("POST", "/staff/ceremonies/2026-nowhere/copy"),
        ("GET", "/staff/ceremonies/2026-nowhere/items/new"),
        ("GET", "/staff/series/nowhere/edit"),
        ("GET", "/staff/venues/9999/edit"),
        ("GET", "/staff/users/9999/edit"),
        ("GET", "/staff/ceremonies/{slug}/items/9999/edit"),
    ],
)
def test_unknown_objects_are_not_found(
    client: FlaskClient,
    login: Callable[[Role], User],
    edition: Callable[..., Ceremony],
    method: str,
    url: str,
) -> None:
    world = build_world(edition)
    login(Role.ADMIN)
    before = fingerprint()
    response = client.open(url.format(slug=world.slug), method=method, data={"year": "2027"})
    assert response.status_code == 404
    assert fingerprint() == before


def test_an_unknown_status_action_is_refused(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., Ceremony]
) -> None:
    world = build_world(edition)
    login(Role.PLANNER)
    before = fingerprint()
    response = client.post(
        f"/staff/ceremonies/{world.slug}/status/delete", data={"version": str(world.version)}
    )
    assert response.status_code == 400
    assert fingerprint() == before


# --- extra form fields are ignored ------------------------------------------------------


def test_role_in_the_account_form_is_ignored(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., Ceremony]
) -> None:
    build_world(edition)
    user_id = login(Role.VIEWER).id
    response = client.post(
        "/staff/account",
        data={
            "current": PASSWORD,
            "password": "a new horse battery",
            "confirm": "a new horse battery",
            "role": "admin",
            "active": "y",
            "email": "boss@example.org",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    assert (user.role, user.email) == (Role.VIEWER, "viewer@example.org")
    assert client.get("/staff/users").status_code == 403
    assert client.get("/staff/settings").status_code == 403


def test_status_and_slug_in_the_edit_form_are_ignored(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., Ceremony]
) -> None:
    world = build_world(edition)
    login(Role.PLANNER)
    db.session.rollback()
    ceremony = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == world.slug))
    assert ceremony is not None
    uid, series_id = ceremony.uid, ceremony.series_id
    db.session.rollback()
    response = client.post(
        f"/staff/ceremonies/{world.slug}/edit",
        data={
            **edition_form(world),
            "status": "published",
            "slug": "hijacked",
            "uid": "x@evil",
            "sequence": "99",
            "series_id": "",
            "id": "999",
            "version": str(world.version),
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    saved = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == world.slug))
    assert saved is not None
    assert saved.status == CeremonyStatus.DRAFT
    assert saved.title_en == "National Remembrance (changed)"
    assert (saved.uid, saved.series_id, saved.sequence) == (uid, series_id, 1)
    assert db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == "hijacked")) is None


def test_a_new_item_lands_in_the_edition_of_the_url(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., Ceremony]
) -> None:
    world = build_world(edition)
    login(Role.PLANNER)
    db.session.rollback()
    other = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == world.other_slug))
    assert other is not None
    other_id, other_items = other.id, len(other.items)
    db.session.rollback()
    response = client.post(
        f"/staff/ceremonies/{world.slug}/items/new",
        data={
            **item_form(world),
            "text_nl": "Extra",
            "ceremony_id": str(other_id),
            "position": "0",
            "id": str(world.other_item_id),
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    added = db.session.scalar(sa.select(ProgrammeItem).where(ProgrammeItem.text_nl == "Extra"))
    assert added is not None
    assert added.ceremony.slug == world.slug
    assert added.id != world.other_item_id
    assert added.position == len(added.ceremony.items) - 1
    db.session.rollback()
    other = db.session.get(Ceremony, other_id)
    assert other is not None
    assert len(other.items) == other_items


def test_email_in_the_user_form_and_id_in_the_venue_form_are_ignored(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., Ceremony]
) -> None:
    world = build_world(edition)
    login(Role.ADMIN)
    response = client.post(
        f"/staff/users/{world.user_id}/edit",
        data={
            "name": "Target",
            "role": "viewer",
            "language": "nl",
            "active": "y",
            "email": "admin@example.org",
            "password_hash": "x",
            "session_token": "known",
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"/staff/venues/{world.venue_id}/edit", data={**venue_form(world), "id": "77"}
    )
    assert response.status_code == 302
    db.session.rollback()
    user = db.session.get(User, world.user_id)
    assert user is not None
    assert (user.email, user.name) == (world.user_email, "Target")
    assert user.session_token != "known"
    assert user.password_hash != "x"
    assert db.session.get(Venue, 77) is None
    venue = db.session.get(Venue, world.venue_id)
    assert venue is not None
    assert venue.name == "Rusthof"


# --- the public side shows announced public editions only ------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_drafts_and_private_editions_are_not_public(
    client: FlaskClient,
    login: Callable[[Role], User],
    edition: Callable[..., Ceremony],
    role: str,
) -> None:
    world = build_world(edition)  # world.slug is a draft
    private = edition("koedriest", 2026, status=CeremonyStatus.PUBLISHED, public=False).slug
    if role != "anonymous":
        login(Role(role))
    for slug in (world.slug, private):
        assert client.get(f"/ceremonies/{slug}").status_code == 404
        assert client.get(f"/ceremonies/{slug}.ics").status_code == 404
        for feed in ("/calendar.ics", "/api/ceremonies.json", "/"):
            assert slug not in client.get(feed).get_data(as_text=True), (feed, slug)
    assert world.other_slug in client.get("/api/ceremonies.json").get_data(as_text=True)
