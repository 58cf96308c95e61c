"""Invitations: policies, defaults, deadlines, bulk creation, counts, replies, links.

Services are tested directly with a fixed "today"; the pages through the test client
(in English), each refused request checked for its status, message, typed values and an
untouched database.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.ceremonies.models import Ceremony
from app.contacts.models import (
    Appointment,
    AppointmentRole,
    ContactGroup,
    Organisation,
    OrganisationKind,
    Person,
)
from app.extensions import Base, db
from app.invitations.models import (
    DelegationMember,
    Invitation,
    InvitationKind,
    InvitationPolicy,
    InvitationStatus,
    MemberRole,
    PolicyDecision,
    WreathChoice,
)
from app.invitations.services import (
    DOCUMENT_MAX_BYTES,
    Actor,
    InvitationChanges,
    InvitationError,
    PolicyData,
    counts,
    create_bulk,
    create_invitation,
    decision_for,
    default_addressee,
    delegation_size,
    invitations_of,
    is_overdue,
    mark_sent,
    new_link,
    personal_url,
    set_policy,
    to_phone,
    update_invitation,
    wreath_coming,
)
from app.invitations.tokens import invitation_for_token, issue_token
from app.types import local_today

ACTOR = Actor(label="test")
YEAR = 2027
PDF = b"%PDF-1.4\n% note verbale\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def ceremony(edition: Callable[..., Ceremony]) -> Ceremony:
    """9 May 2027 (a Sunday); its series asks replies 14 days before."""
    return edition("9-mei", YEAR)


def organisation(
    name: str, kind: OrganisationKind = OrganisationKind.EMBASSY, country: str = ""
) -> Organisation:
    made = Organisation(name=name, kind=kind, country=country)
    db.session.add(made)
    db.session.flush()
    return made


def appoint(
    org: Organisation,
    family_name: str,
    role: AppointmentRole,
    *,
    language: str = "en",
    taken_up_at: datetime | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    phone: str = "",
) -> Person:
    person = Person(given_name="A.", family_name=family_name, language=language, phone=phone)
    db.session.add(
        Appointment(
            person=person,
            organisation=org,
            role=role,
            taken_up_at=taken_up_at,
            valid_from=valid_from,
            valid_to=valid_to,
        )
    )
    db.session.flush()
    return person


def group(name: str, *members: Organisation) -> ContactGroup:
    made = ContactGroup(name=name, organisations=list(members))
    db.session.add(made)
    db.session.flush()
    return made


def admin_user(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, "board@example.org")


def policy(
    ceremony: Ceremony,
    approver: User,
    decision: PolicyDecision,
    *,
    org: Organisation | None = None,
    country: str | None = None,
) -> InvitationPolicy:
    data = PolicyData(organisation=org, country=country, decision=decision, reason="Board, 2022")
    return set_policy(db.session, ceremony, data, approver, ACTOR).policy


def fingerprint() -> dict[str, list[str]]:
    """Every committed row of every table, read on a connection of its own."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
            for table in Base.metadata.sorted_tables
        }


def english(client: FlaskClient) -> FlaskClient:
    response = client.get("/staff/account?lang=en")
    assert response.status_code == 200
    return client


@pytest.fixture
def planner(client: FlaskClient, login: Callable[[Role], User]) -> FlaskClient:
    login(Role.PLANNER)
    return english(client)


def page(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def fresh(invitation_id: int) -> Invitation:
    db.session.rollback()
    found = db.session.get(Invitation, invitation_id)
    assert found is not None
    return found


def link_in(response: TestResponse) -> str:
    """The personal address shown on the link page."""
    found = re.search(r'<input[^>]*value="([^"]+)"[^>]*id="personal-link"', page(response))
    assert found is not None, page(response)[:2000]
    return found.group(1)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


# --- policies ---------------------------------------------------------------------------


def test_an_organisations_policy_beats_its_countrys(
    ceremony: Ceremony, make_user: Callable[..., User]
) -> None:
    admin = admin_user(make_user)
    embassy = organisation("Embassy of Belarus", country="BY")
    consulate = organisation("Consulate of Belarus", OrganisationKind.CONSULATE, "BY")
    elsewhere = organisation("Embassy of Norway", country="NO")
    policy(ceremony, admin, PolicyDecision.DO_NOT_INVITE, country="BY")
    policy(ceremony, admin, PolicyDecision.PROXY_ONLY, org=embassy)
    db.session.commit()
    assert decision_for(db.session, ceremony, embassy) == PolicyDecision.PROXY_ONLY
    assert decision_for(db.session, ceremony, consulate) == PolicyDecision.DO_NOT_INVITE
    assert decision_for(db.session, ceremony, elsewhere) == PolicyDecision.INVITE


def test_setting_a_policy_again_replaces_it_and_is_audited(
    ceremony: Ceremony, make_user: Callable[..., User]
) -> None:
    admin = admin_user(make_user)
    policy(ceremony, admin, PolicyDecision.DO_NOT_INVITE, country="RU")
    policy(ceremony, admin, PolicyDecision.PROXY_ONLY, country="RU")
    db.session.commit()
    rows = db.session.scalars(sa.select(InvitationPolicy)).all()
    assert [(p.country, p.decision, p.approved_by_id) for p in rows] == [
        ("RU", PolicyDecision.PROXY_ONLY, admin.id)
    ]
    actions = db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.object_type == "invitation_policy")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["policy.set", "policy.set"]


def test_only_an_admin_approves_a_policy(
    ceremony: Ceremony, make_user: Callable[..., User]
) -> None:
    planner_user = make_user(Role.PLANNER)
    with pytest.raises(InvitationError, match="administrator"):
        policy(ceremony, planner_user, PolicyDecision.DO_NOT_INVITE, country="RU")


def test_do_not_invite_is_refused_by_single_create(
    ceremony: Ceremony, make_user: Callable[..., User]
) -> None:
    org = organisation("Embassy of Belarus", country="BY")
    policy(ceremony, admin_user(make_user), PolicyDecision.DO_NOT_INVITE, country="BY")
    with pytest.raises(InvitationError, match="not to be invited"):
        create_invitation(db.session, ceremony, org, ACTOR)


def test_bulk_create_skips_do_not_invite_and_reports_it(
    ceremony: Ceremony, make_user: Callable[..., User]
) -> None:
    refused = organisation("Embassy of Belarus", country="BY")
    invited = organisation("Embassy of Norway", country="NO")
    policy(ceremony, admin_user(make_user), PolicyDecision.DO_NOT_INVITE, org=refused)
    result = create_bulk(db.session, ceremony, ACTOR, kinds=[OrganisationKind.EMBASSY])
    assert [i.organisation for i in result.created] == [invited]
    assert result.refused == [refused]
    assert existing_for(ceremony) == {"Embassy of Norway"}


def existing_for(ceremony: Ceremony) -> set[str]:
    return {i.organisation.name for i in invitations_of(db.session, ceremony)}


def test_a_draft_of_an_organisation_later_barred_cannot_be_sent(
    ceremony: Ceremony, make_user: Callable[..., User], planner: FlaskClient
) -> None:
    org = organisation("Embassy of Belarus", country="BY")
    invitation = create_invitation(db.session, ceremony, org, ACTOR)
    policy(ceremony, admin_user(make_user), PolicyDecision.DO_NOT_INVITE, country="BY")
    db.session.commit()
    with pytest.raises(InvitationError, match="nothing may be sent"):
        mark_sent(db.session, invitation, invitation.version, ACTOR)
    with pytest.raises(InvitationError, match="nothing may be sent"):
        new_link(db.session, invitation, ACTOR)
    db.session.rollback()

    before = fingerprint()
    response = planner.post(
        f"/staff/invitations/{invitation.id}/sent", data={"version": str(invitation.version)}
    )
    assert response.status_code == 400
    assert "nothing may be sent" in page(response)
    assert planner.post(f"/staff/invitations/{invitation.id}/link").status_code == 400
    # Setting the status by hand is refused as well.
    response = planner.post(
        f"/staff/invitations/{invitation.id}/edit",
        data=edit_form(fresh(invitation.id), status="sent"),
    )
    assert response.status_code == 400
    assert "stays a draft" in page(response)
    assert fingerprint() == before
    assert fresh(invitation.id).status == InvitationStatus.DRAFT


def test_do_not_invite_revokes_live_links(
    ceremony: Ceremony, make_user: Callable[..., User]
) -> None:
    org = organisation("Embassy of Belarus", country="BY")
    invitation = create_invitation(db.session, ceremony, org, ACTOR)
    token = mark_sent(db.session, invitation, None, ACTOR)
    assert token is not None
    db.session.commit()
    assert invitation_for_token(db.session, token) is invitation
    result = set_policy(
        db.session,
        ceremony,
        PolicyData(None, "BY", PolicyDecision.DO_NOT_INVITE, "Board"),
        admin_user(make_user),
        ACTOR,
    )
    db.session.commit()
    assert result.revoked == [invitation]
    assert invitation_for_token(db.session, token) is None


def test_proxy_only_makes_proxy_invitations_without_links(
    ceremony: Ceremony, make_user: Callable[..., User]
) -> None:
    org = organisation("Embassy of Belarus", country="BY")
    appoint(org, "Ambassador", AppointmentRole.AMBASSADOR)
    group("Former Soviet republics", org)
    policy(ceremony, admin_user(make_user), PolicyDecision.PROXY_ONLY, country="BY")
    result = create_bulk(db.session, ceremony, ACTOR, groups=[org.groups[0]])
    (invitation,) = result.created
    assert (invitation.kind, invitation.wreath) == (InvitationKind.PROXY, WreathChoice.PROXY)
    assert invitation.rsvp_deadline is None
    assert invitation.token_hash is None
    assert wreath_coming(invitation)
    assert delegation_size(invitation) == 0
    with pytest.raises(InvitationError, match="not sent"):
        mark_sent(db.session, invitation, None, ACTOR)
    with pytest.raises(InvitationError, match="not sent"):
        new_link(db.session, invitation, ACTOR)


def test_policies_page_admin_sets_and_removes(
    client: FlaskClient, login: Callable[[Role], User], ceremony: Ceremony
) -> None:
    org = organisation("Embassy of Belarus", country="BY")
    db.session.commit()
    admin = login(Role.ADMIN)
    english(client)
    url = f"/staff/ceremonies/{ceremony.slug}/invitations/policies"
    response = client.post(
        url,
        data={
            "target": "organisation",
            "organisation_id": str(org.id),
            "country": "",
            "decision": "proxy_only",
            "reason": "Wreath by proxy, as in 2022",
        },
    )
    assert response.status_code == 302
    shown = page(client.get(url))
    assert "Wreath by proxy, as in 2022" in shown
    assert "wreath by proxy only" in shown
    db.session.rollback()
    saved = db.session.scalars(sa.select(InvitationPolicy)).one()
    assert (saved.organisation_id, saved.approved_by_id) == (org.id, admin.id)
    response = client.post(url, data={"remove": str(saved.id)})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalars(sa.select(InvitationPolicy)).all() == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"target": "country", "country": "XQ"}, "country", "XQ is not a country code."),
        ({"target": "country", "country": ""}, "country", "two-letter code"),
        ({"target": "organisation", "organisation_id": "0"}, "organisation_id", "Choose an"),
        ({"target": "country", "country": "RU", "reason": ""}, "reason", "This field is required"),
    ],
)
def test_bad_policies_are_refused(
    client: FlaskClient,
    login: Callable[[Role], User],
    ceremony: Ceremony,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    login(Role.ADMIN)
    english(client)
    before = fingerprint()
    form = {
        "organisation_id": "0",
        "decision": "do_not_invite",
        "reason": "Typed reason stays",
        **data,
    }
    response = client.post(f"/staff/ceremonies/{ceremony.slug}/invitations/policies", data=form)
    assert response.status_code == 400
    errors = re.findall(rf'id="{field}-error">(.*?)</p>', page(response))
    assert any(message in e for e in errors), errors
    if form["reason"]:
        assert "Typed reason stays" in page(response)
    assert fingerprint() == before


# --- defaults ---------------------------------------------------------------------------


def test_default_addressee_is_the_best_current_appointment(ceremony: Ceremony) -> None:
    day = date(YEAR, 5, 9)
    embassy = organisation("Embassy of Kazakhstan", country="KZ")
    appoint(embassy, "Attache", AppointmentRole.REPRESENTATIVE)
    appoint(embassy, "Consul", AppointmentRole.CONSUL)
    appoint(embassy, "Chargé", AppointmentRole.CHARGE_AD_INTERIM, valid_to=date(YEAR, 5, 8))
    appoint(
        embassy,
        "Abenov",
        AppointmentRole.AMBASSADOR,
        language="ru",
        taken_up_at=datetime(2024, 6, 12, 10, 0, tzinfo=UTC),
        valid_from=date(YEAR, 5, 9),
    )
    appoint(embassy, "Former", AppointmentRole.AMBASSADOR, valid_to=date(YEAR - 1, 12, 31))
    head = default_addressee(embassy, day)
    assert head is not None
    assert head.family_name == "Abenov"
    # The day before, the new ambassador was not yet in office: the chargé a.i. was.
    before = default_addressee(embassy, day - timedelta(days=1))
    assert before is not None
    assert before.family_name == "Chargé"

    municipality = organisation("Gemeente Leusden", OrganisationKind.MUNICIPALITY, "NL")
    appoint(municipality, "Wethouder", AppointmentRole.DEPUTY_MAYOR, language="nl")
    appoint(municipality, "Burgemeester", AppointmentRole.MAYOR, language="nl")
    mayor = default_addressee(municipality, day)
    assert mayor is not None
    assert mayor.family_name == "Burgemeester"

    invitation = create_invitation(db.session, ceremony, embassy, ACTOR)
    assert invitation.addressee is head
    assert invitation.language == "ru"


def test_language_without_an_addressee(ceremony: Ceremony) -> None:
    dutch = create_invitation(
        db.session, ceremony, organisation("Provincie Utrecht", OrganisationKind.PROVINCE), ACTOR
    )
    foreign = create_invitation(
        db.session, ceremony, organisation("Embassy of Norway", country="NO"), ACTOR
    )
    assert (dutch.addressee, dutch.language) == (None, "nl")
    assert (foreign.addressee, foreign.language) == (None, "en")


def test_deadline_defaults_from_the_edition_then_the_series(ceremony: Ceremony) -> None:
    first = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    assert first.rsvp_deadline == date(YEAR, 4, 25)  # 14 days before 9 May
    ceremony.rsvp_deadline = date(YEAR, 4, 20)
    second = create_invitation(db.session, ceremony, organisation("Embassy B"), ACTOR)
    assert second.rsvp_deadline == date(YEAR, 4, 20)
    assert second.cohosts == ""  # the edition's hosts, in the letter's own language
    own = create_invitation(
        db.session,
        ceremony,
        organisation("Embassy C"),
        ACTOR,
        rsvp_deadline=date(YEAR, 5, 1),
        kind=InvitationKind.REGRETS_ONLY,
    )
    assert (own.rsvp_deadline, own.kind) == (date(YEAR, 5, 1), InvitationKind.REGRETS_ONLY)


@pytest.mark.parametrize("deadline", [date(YEAR, 5, 9), date(YEAR, 5, 10)])
def test_a_deadline_on_or_after_the_ceremony_is_refused(ceremony: Ceremony, deadline: date) -> None:
    with pytest.raises(InvitationError, match="before the ceremony") as refused:
        create_invitation(
            db.session, ceremony, organisation("Embassy A"), ACTOR, rsvp_deadline=deadline
        )
    assert refused.value.field == "rsvp_deadline"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2027-05-09", "The reply deadline must fall before the ceremony (2027-05-09)."),
        ("2027-06-01", "The reply deadline must fall before the ceremony (2027-05-09)."),
        ("2027-02-30", "Not a valid date value."),
        ("next week", "Not a valid date value."),
    ],
)
def test_bad_deadlines_in_the_new_invitation_form(
    planner: FlaskClient, ceremony: Ceremony, typed: str, message: str
) -> None:
    org = organisation("Embassy of Norway", country="NO")
    db.session.commit()
    before = fingerprint()
    response = planner.post(
        f"/staff/ceremonies/{ceremony.slug}/invitations/new",
        data={
            "organisation_id": str(org.id),
            "kind": "rsvp",
            "rsvp_deadline": typed,
            "cohosts": "Burgemeester van Leusden",
        },
    )
    assert response.status_code == 400
    shown = page(response)
    errors = re.findall(r'id="rsvp_deadline-error">(.*?)</p>', shown)
    assert message in errors, errors
    assert f'value="{typed}"' in shown
    assert "Burgemeester van Leusden" in shown
    assert fingerprint() == before


def test_bad_deadline_in_the_edit_form_keeps_everything(
    planner: FlaskClient, ceremony: Ceremony
) -> None:
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    db.session.commit()
    before = fingerprint()
    response = planner.post(
        f"/staff/invitations/{invitation.id}/edit",
        data=edit_form(invitation, rsvp_deadline="2027-05-10", remark="Call the protocol desk"),
    )
    assert response.status_code == 400
    assert "must fall before the ceremony" in page(response)
    assert "Call the protocol desk" in page(response)
    assert fingerprint() == before


def test_single_create_through_the_page(planner: FlaskClient, ceremony: Ceremony) -> None:
    org = organisation("Embassy of Kazakhstan", country="KZ")
    appoint(org, "Abenov", AppointmentRole.AMBASSADOR, language="ru")
    db.session.commit()
    url = f"/staff/ceremonies/{ceremony.slug}/invitations/new"
    data = {"organisation_id": str(org.id), "kind": "rsvp", "rsvp_deadline": "", "cohosts": ""}
    response = planner.post(url, data=data)
    assert response.status_code == 302
    invitation = db.session.scalars(sa.select(Invitation)).one()
    assert invitation.addressee is not None
    assert (invitation.language, invitation.rsvp_deadline) == ("ru", date(YEAR, 4, 25))
    assert planner.get(response.headers["Location"]).status_code == 200
    # The organisation is no longer offered; a forged second post is refused.
    before = fingerprint()
    again = planner.post(url, data=data)
    assert again.status_code == 400
    assert fingerprint() == before


# --- bulk -------------------------------------------------------------------------------


def test_bulk_create_is_idempotent(ceremony: Ceremony) -> None:
    a = organisation("Embassy A")
    b = organisation("Gemeente Leusden", OrganisationKind.MUNICIPALITY, "NL")
    organisation("Museum", OrganisationKind.MUSEUM)
    corps = group("Diplomatic corps", a)
    first = create_bulk(
        db.session, ceremony, ACTOR, groups=[corps], kinds=[OrganisationKind.MUNICIPALITY]
    )
    assert sorted(i.organisation.name for i in first.created) == [a.name, b.name]
    second = create_bulk(
        db.session, ceremony, ACTOR, groups=[corps], kinds=[OrganisationKind.MUNICIPALITY]
    )
    assert (second.created, sorted(o.name for o in second.existing)) == ([], [a.name, b.name])
    assert len(invitations_of(db.session, ceremony)) == 2
    with pytest.raises(InvitationError, match="at least one"):
        create_bulk(db.session, ceremony, ACTOR)


def test_bulk_create_through_the_page(
    planner: FlaskClient, ceremony: Ceremony, make_user: Callable[..., User]
) -> None:
    a = organisation("Embassy A")
    barred = organisation("Embassy of Belarus", country="BY")
    corps = group("Diplomatic corps", a, barred)
    policy(ceremony, admin_user(make_user), PolicyDecision.DO_NOT_INVITE, country="BY")
    db.session.commit()
    url = f"/staff/ceremonies/{ceremony.slug}/invitations/bulk"
    response = planner.post(url, data={"bulk-groups": str(corps.id)})
    assert response.status_code == 302
    shown = page(planner.get(response.headers["Location"]))
    assert "1 invited, 0 invited already, 1 not to be invited." in shown
    assert "Not invited (policy): Embassy of Belarus" in shown
    response = planner.post(url, data={"bulk-groups": str(corps.id)})
    assert "0 invited, 1 invited already, 1 not to be invited." in page(
        planner.get(response.headers["Location"])
    )
    db.session.rollback()
    assert existing_for(ceremony) == {"Embassy A"}

    before = fingerprint()
    response = planner.post(url, data={})
    assert response.status_code == 400
    assert "Choose at least one group or kind." in page(response)
    assert planner.post(url, data={"bulk-kinds": "castle"}).status_code == 400
    assert fingerprint() == before


# --- counts and the list to phone ---------------------------------------------------------


def test_counts_and_the_list_to_phone(ceremony: Ceremony) -> None:
    today = date(YEAR, 4, 20)

    def made(
        name: str,
        status: InvitationStatus,
        *,
        kind: InvitationKind = InvitationKind.RSVP,
        deadline: date | None = date(YEAR, 4, 25),
        members: int = 0,
        wreath: WreathChoice = WreathChoice.NONE,
    ) -> Invitation:
        invitation = create_invitation(
            db.session, ceremony, organisation(name), ACTOR, kind=kind, rsvp_deadline=deadline
        )
        invitation.status = status
        invitation.wreath = wreath
        invitation.members = [
            DelegationMember(name=f"{name} {n}", position=n) for n in range(members)
        ]
        return invitation

    accepted = made("A accepted", InvitationStatus.ACCEPTED, members=3, wreath=WreathChoice.OWN)
    head_only = made("B accepted", InvitationStatus.ACCEPTED)
    declined = made("C declined", InvitationStatus.DECLINED, wreath=WreathChoice.ORDER)
    soon = made("D sent", InvitationStatus.SENT)  # deadline in five days: phone
    later = made("E viewed", InvitationStatus.VIEWED, deadline=date(YEAR, 5, 1))  # not yet
    past = made("F viewed", InvitationStatus.VIEWED, deadline=date(YEAR, 4, 19))  # overdue
    made("G draft", InvitationStatus.DRAFT)
    regrets = made("H regrets", InvitationStatus.SENT, kind=InvitationKind.REGRETS_ONLY)
    proxy = create_invitation(
        db.session, ceremony, organisation("I proxy"), ACTOR, kind=InvitationKind.PROXY
    )
    db.session.commit()

    everyone = invitations_of(db.session, ceremony)
    assert [i.organisation.name for i in to_phone(everyone, today)] == ["F viewed", "D sent"]
    assert [is_overdue(i, today) for i in (soon, later, past)] == [False, False, True]
    assert (delegation_size(accepted), delegation_size(head_only)) == (3, 1)
    assert delegation_size(regrets) == 1  # silence means coming
    assert [wreath_coming(i) for i in (accepted, declined, proxy, soon)] == [
        True,
        True,
        True,
        False,
    ]
    found = counts(everyone, today)
    assert (found.invitations, found.drafts, found.invited, found.proxy) == (9, 1, 7, 1)
    assert (found.replied, found.accepted, found.declined, found.no_reply) == (3, 2, 1, 1)
    assert (found.persons, found.wreaths) == (5, 3)


def test_the_overview_page_shows_counts_filters_and_phone_list(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., Ceremony]
) -> None:
    ceremony = edition("9-mei", YEAR)
    today = local_today()
    org = organisation("Embassy to phone")
    appoint(org, "Abenov", AppointmentRole.AMBASSADOR, phone="+31 30 123 45 67")
    waiting = create_invitation(db.session, ceremony, org, ACTOR)
    waiting.rsvp_deadline = today + timedelta(days=3)
    waiting.status = InvitationStatus.SENT
    done = create_invitation(db.session, ceremony, organisation("Embassy done"), ACTOR)
    done.status = InvitationStatus.ACCEPTED
    db.session.commit()
    login(Role.VIEWER)
    english(client)
    url = f"/staff/ceremonies/{ceremony.slug}/invitations"
    shown = page(client.get(url))
    phone = shown.split('id="phone"')[1].split("</section>")[0]
    assert "Embassy to phone" in phone
    assert "+31 30 123 45 67" in phone
    assert "Embassy done" not in phone
    assert re.search(r'data-count="accepted">1<', shown)
    assert re.search(r'data-count="persons">1<', shown)
    assert "Invite in bulk" not in shown  # viewers read only
    accepted_only = page(client.get(url + "?status=accepted")).split('id="list"')[1]
    assert "Embassy done" in accepted_only
    assert "Embassy to phone" not in accepted_only
    assert client.get(url + "?status=nonsense").status_code == 200


# --- replies on behalf, documents -------------------------------------------------------


def post_reply(
    client: FlaskClient, invitation_id: int, fields: dict[str, object], file: tuple[bytes, str]
) -> TestResponse:
    """A multipart reply built in memory: the test client's own encoder spills large
    bodies into a temporary file that it never closes (a ResourceWarning)."""
    content, name = file
    document = FileStorage(stream=io.BytesIO(content), filename=name)
    boundary, body = encode_multipart({**fields, "document": document})
    return client.post(
        f"/staff/invitations/{invitation_id}/reply",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def reply_form(invitation: Invitation, **changes: object) -> dict[str, object]:
    return {
        "answer": "accepted",
        "note": "Note verbale no. 12/2027 of the embassy",
        "version": str(invitation.version),
        **changes,
    }


def test_staff_record_a_reply_with_a_document(
    planner: FlaskClient, ceremony: Ceremony, app: Flask
) -> None:
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    db.session.commit()
    response = post_reply(
        planner, invitation.id, reply_form(invitation), (PDF, "nota verbale 12.PDF")
    )
    assert response.status_code == 302, page(response)[:2000]
    saved = fresh(invitation.id)
    assert saved.status == InvitationStatus.ACCEPTED
    assert (saved.replied_by, saved.reply_note) == (
        "staff",
        "Note verbale no. 12/2027 of the embassy",
    )
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", saved.document_name)
    stored = Path(app.instance_path) / "documents" / str(saved.id) / saved.document_name
    assert stored.read_bytes() == PDF

    download = planner.get(f"/staff/invitations/{invitation.id}/document")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    shown = page(planner.get(f"/staff/invitations/{invitation.id}"))
    assert "invitation.reply" in shown  # the history
    # Personal data is logged as changed, not copied into the log.
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "invitation.reply")
    ).one()
    assert entry.changes["reply_note"] == ["", "(personal data)"]
    assert entry.changes["status"] == ["draft", "accepted"]
    assert "Note verbale no. 12" not in str(entry.changes)

    # A second document replaces the first on disk too.
    response = post_reply(
        planner, invitation.id, reply_form(fresh(invitation.id), answer="declined"), (PNG, "x.png")
    )
    assert response.status_code == 302
    again = fresh(invitation.id)
    assert again.status == InvitationStatus.DECLINED
    assert again.document_name.endswith(".png")
    assert not stored.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00 not a pdf", "note.pdf", "Attach a PDF, PNG or JPEG file."),
        (PDF, "note.exe", "Attach a PDF, PNG or JPEG file."),
        (b"", "empty.pdf", "The file is empty."),
        (PDF + b"0" * DOCUMENT_MAX_BYTES, "big.pdf", "The file is larger than 3 MB"),
    ],
)
def test_a_bad_document_is_refused_and_nothing_saved(
    planner: FlaskClient,
    ceremony: Ceremony,
    app: Flask,
    content: bytes,
    name: str,
    message: str,
) -> None:
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    db.session.commit()
    before = fingerprint()
    response = post_reply(planner, invitation.id, reply_form(invitation), (content, name))
    assert response.status_code == 400
    errors = re.findall(r'id="document-error">(.*?)</p>', page(response))
    assert any(message in e for e in errors), errors
    assert "Note verbale no. 12/2027 of the embassy" in page(response)
    assert fingerprint() == before
    folder = Path(app.instance_path) / "documents"
    assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]


def test_an_upload_over_the_request_limit_gets_a_friendly_413(
    planner: FlaskClient, ceremony: Ceremony, app: Flask
) -> None:
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    db.session.commit()
    before = fingerprint()
    huge = PDF + b"0" * int(app.config["MAX_CONTENT_LENGTH"])
    response = post_reply(planner, invitation.id, reply_form(invitation), (huge, "scan.pdf"))
    assert response.status_code == 413
    assert "at most 4 MB; nothing was saved" in page(response)
    assert fingerprint() == before


def test_a_reply_needs_an_answer(planner: FlaskClient, ceremony: Ceremony) -> None:
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    db.session.commit()
    before = fingerprint()
    for answer in ("", "viewed", "maybe"):
        response = planner.post(
            f"/staff/invitations/{invitation.id}/reply", data=reply_form(invitation, answer=answer)
        )
        assert response.status_code == 400
        assert "Note verbale no. 12/2027" in page(response)
    assert fingerprint() == before


def test_a_document_is_not_served_without_one_or_to_the_public(
    client: FlaskClient, login: Callable[[Role], User], ceremony: Ceremony
) -> None:
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    invitation.document_name = "../../secret_key"
    db.session.commit()
    url = f"/staff/invitations/{invitation.id}/document"
    assert client.get(url).status_code == 302  # to the login page
    login(Role.VIEWER)
    assert client.get(url).status_code == 404


# --- delegation ---------------------------------------------------------------------------


def delegation_form(invitation: Invitation, **changes: str) -> dict[str, str]:
    return {
        "members-0-name": "Марат Абенов",
        "members-0-function": "Ambassador",
        "members-0-role": "wreath_layer",
        "members-0-car_plate": "CD-123-A",
        "members-1-name": "",
        "members-1-function": "",
        "members-1-role": "attendee",
        "members-1-car_plate": "",
        "members-2-name": "Aigerim Sultanova",
        "members-2-function": "Defence attaché",
        "members-2-role": "wreath_bearer",
        "members-2-car_plate": "",
        "wreath": "own",
        "ribbon_text": "От Посольства Республики Казахстан",
        "ribbon_colours": "blue, gold",
        "version": str(invitation.version),
        **changes,
    }


def test_staff_edit_the_delegation_and_wreath(planner: FlaskClient, ceremony: Ceremony) -> None:
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    db.session.commit()
    url = f"/staff/invitations/{invitation.id}/delegation"
    assert planner.get(url).status_code == 200
    response = planner.post(url, data=delegation_form(invitation))
    assert response.status_code == 302
    saved = fresh(invitation.id)
    assert [(m.name, m.role, m.position) for m in saved.members] == [
        ("Марат Абенов", MemberRole.WREATH_LAYER, 0),
        ("Aigerim Sultanova", MemberRole.WREATH_BEARER, 1),
    ]
    assert (saved.wreath, saved.ribbon_colours) == (WreathChoice.OWN, "blue, gold")
    # The page lists them again, plus empty rows to add more.
    shown = page(planner.get(url))
    assert "Aigerim Sultanova" in shown
    assert 'name="members-4-name"' in shown


def test_a_member_row_without_a_name_is_refused(planner: FlaskClient, ceremony: Ceremony) -> None:
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    db.session.commit()
    before = fingerprint()
    response = planner.post(
        f"/staff/invitations/{invitation.id}/delegation",
        data=delegation_form(invitation, **{"members-1-car_plate": "AB-12-CD"}),
    )
    assert response.status_code == 400
    assert "Give the member's name (or empty the row)." in page(response)
    assert "AB-12-CD" in page(response)
    assert "Aigerim Sultanova" in page(response)
    assert fingerprint() == before


# --- links --------------------------------------------------------------------------------


def test_mark_sent_issues_a_link_and_a_new_link_revokes_the_old(
    planner: FlaskClient, ceremony: Ceremony, app: Flask
) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://ereveld.example/"
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    db.session.commit()
    response = planner.post(
        f"/staff/invitations/{invitation.id}/sent", data={"version": str(invitation.version)}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    first = link_in(response)
    assert first.startswith("https://ereveld.example/rsvp/")
    db.session.rollback()
    assert invitation_for_token(db.session, token_of(first)) == fresh(invitation.id)
    assert fresh(invitation.id).status == InvitationStatus.SENT

    second = link_in(planner.post(f"/staff/invitations/{invitation.id}/link"))
    db.session.rollback()
    assert invitation_for_token(db.session, token_of(first)) is None
    assert invitation_for_token(db.session, token_of(second)) == fresh(invitation.id)
    # Sending again is refused: it is no longer a draft.
    response = planner.post(
        f"/staff/invitations/{invitation.id}/sent",
        data={"version": str(fresh(invitation.id).version)},
    )
    assert response.status_code == 400
    # The history names each step, never the token.
    actions = db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.object_type == "invitation", AuditEntry.object_id == invitation.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["invitation.create", "invitation.sent", "invitation.link", "invitation.link"]
    assert token_of(second) not in str(db.session.scalars(sa.select(AuditEntry.changes)).all())


def test_personal_url_follows_the_rsvp_route(app: Flask) -> None:
    with app.test_request_context("/", base_url="http://staff.example:8000"):
        assert personal_url("abc") == "http://staff.example:8000/rsvp/abc"
        app.config["PUBLIC_BASE_URL"] = "https://ereveld.example"
        assert personal_url("abc") == "https://ereveld.example/rsvp/abc"


# --- stale forms --------------------------------------------------------------------------


def edit_form(invitation: Invitation, **changes: str) -> dict[str, str]:
    return {
        "addressee_id": str(invitation.addressee_id or 0),
        "language": invitation.language,
        "kind": invitation.kind.value,
        "rsvp_deadline": invitation.rsvp_deadline.isoformat() if invitation.rsvp_deadline else "",
        "cohosts": invitation.cohosts,
        "status": invitation.status.value,
        "accessibility": invitation.accessibility,
        "remark": invitation.remark,
        "version": str(invitation.version),
        **changes,
    }


def test_stale_forms_get_409_and_save_nothing(planner: FlaskClient, ceremony: Ceremony) -> None:
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    db.session.commit()
    old = fresh(invitation.id)
    stale_edit = edit_form(old, remark="Mine")
    stale_delegation = delegation_form(old)
    stale_reply = reply_form(old)
    stale_version = {"version": str(old.version)}
    # Someone else saves first.
    assert (
        planner.post(
            f"/staff/invitations/{invitation.id}/edit", data=edit_form(old, remark="Theirs")
        ).status_code
        == 302
    )
    before = fingerprint()
    response = planner.post(f"/staff/invitations/{invitation.id}/edit", data=stale_edit)
    assert response.status_code == 409
    assert "Someone else changed this invitation" in page(response)
    assert "Mine" in page(response)
    response = planner.post(f"/staff/invitations/{invitation.id}/delegation", data=stale_delegation)
    assert response.status_code == 409
    response = planner.post(f"/staff/invitations/{invitation.id}/reply", data=stale_reply)
    assert response.status_code == 409
    response = planner.post(f"/staff/invitations/{invitation.id}/sent", data=stale_version)
    assert response.status_code == 409
    assert fingerprint() == before
    assert fresh(invitation.id).remark == "Theirs"
    # The conflict page carries the new version: saving again is a deliberate overwrite.
    again = planner.post(
        f"/staff/invitations/{invitation.id}/edit",
        data={**stale_edit, "version": str(fresh(invitation.id).version)},
    )
    assert again.status_code == 302
    assert fresh(invitation.id).remark == "Mine"


def test_edit_changes_anything_and_is_audited(planner: FlaskClient, ceremony: Ceremony) -> None:
    org = organisation("Embassy A")
    ambassador = appoint(org, "Abenov", AppointmentRole.AMBASSADOR, language="ru")
    consul = appoint(org, "Consul", AppointmentRole.CONSUL)
    stranger = appoint(organisation("Embassy B"), "Stranger", AppointmentRole.AMBASSADOR)
    invitation = create_invitation(db.session, ceremony, org, ACTOR)
    token = issue_token(invitation)
    db.session.commit()
    assert invitation.addressee is ambassador
    url = f"/staff/invitations/{invitation.id}/edit"
    # Someone of another organisation is not a choice.
    before = fingerprint()
    assert (
        planner.post(url, data=edit_form(invitation, addressee_id=str(stranger.id))).status_code
        == 400
    )
    assert fingerprint() == before
    response = planner.post(
        url,
        data=edit_form(
            invitation,
            addressee_id=str(consul.id),
            language="nl",
            kind="pm",
            status="no_reply",
            cohosts="De burgemeester van Leusden",
        ),
    )
    assert response.status_code == 302
    saved = fresh(invitation.id)
    assert (saved.addressee_id, saved.language, saved.kind, saved.status) == (
        consul.id,
        "nl",
        InvitationKind.PM,
        InvitationStatus.NO_REPLY,
    )
    assert is_overdue(saved, date(YEAR, 1, 1))  # set by staff
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "invitation.update")
    ).one()
    assert entry.changes["language"] == ["ru", "nl"]
    assert entry.address == "127.0.0.1"
    # Turning it into a proxy wreath kills its link.
    response = planner.post(url, data=edit_form(saved, kind="proxy", status="draft"))
    assert response.status_code == 302
    db.session.rollback()
    assert invitation_for_token(db.session, token) is None
    assert fresh(invitation.id).wreath == WreathChoice.PROXY


def test_an_invitation_of_another_id_is_not_found(planner: FlaskClient) -> None:
    for suffix in ("", "/edit", "/delegation", "/reply", "/document"):
        assert planner.get(f"/staff/invitations/999{suffix}").status_code == 404
    for suffix in ("/sent", "/link"):
        assert planner.post(f"/staff/invitations/999{suffix}").status_code == 404
    assert planner.get("/staff/ceremonies/2027-nowhere/invitations").status_code == 404


def test_a_change_committed_between_load_and_save_is_caught_at_flush(
    ceremony: Ceremony,
) -> None:
    """The form's version matched what this request loaded, but another request saved
    meanwhile: the version column refuses the UPDATE (the views answer 409)."""
    invitation = create_invitation(db.session, ceremony, organisation("Embassy A"), ACTOR)
    db.session.commit()
    loaded_version = invitation.version
    assert invitation.remark == ""  # loaded now
    with db.engine.begin() as other:
        other.execute(
            sa.update(Invitation)
            .where(Invitation.id == invitation.id)
            .values(version=Invitation.version + 1, remark="Theirs")
        )
    changes = InvitationChanges(
        addressee=None,
        language="en",
        kind=InvitationKind.RSVP,
        rsvp_deadline=date(YEAR, 4, 25),
        cohosts="",
        status=InvitationStatus.DRAFT,
        accessibility="",
        remark="Mine",
    )
    with pytest.raises(StaleDataError):
        update_invitation(db.session, invitation, changes, loaded_version, ACTOR)
    db.session.rollback()
    assert fresh(invitation.id).remark == "Theirs"
