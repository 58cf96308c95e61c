"""`flask invitations create | list | link`: the interface scripts rely on."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

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
from app.extensions import db
from app.invitations.models import (
    DelegationMember,
    Invitation,
    InvitationKind,
    InvitationStatus,
    PolicyDecision,
    WreathChoice,
)
from app.invitations.services import Actor, PolicyData, set_policy
from app.invitations.tokens import invitation_for_token


@pytest.fixture
def world(edition: Callable[..., Ceremony], make_user: Callable[..., User]) -> Ceremony:
    """9 May 2027; a diplomatic corps of three embassies (one barred), two municipalities."""
    ceremony = edition("9-mei", 2027)
    kazakhstan = Organisation(name="Embassy of Kazakhstan", kind=OrganisationKind.EMBASSY)
    norway = Organisation(name="Embassy of Norway", kind=OrganisationKind.EMBASSY)
    belarus = Organisation(name="Embassy of Belarus", kind=OrganisationKind.EMBASSY, country="BY")
    leusden = Organisation(name="Gemeente Leusden", kind=OrganisationKind.MUNICIPALITY)
    amersfoort = Organisation(name="Gemeente Amersfoort", kind=OrganisationKind.MUNICIPALITY)
    head = Person(given_name="Marat", family_name="Abenov", language="ru")
    db.session.add_all(
        [
            ContactGroup(name="Diplomatic corps", organisations=[kazakhstan, norway, belarus]),
            leusden,
            amersfoort,
            Appointment(person=head, organisation=kazakhstan, role=AppointmentRole.AMBASSADOR),
        ]
    )
    db.session.flush()
    set_policy(
        db.session,
        ceremony,
        PolicyData(None, "BY", PolicyDecision.DO_NOT_INVITE, "Board decision"),
        make_user(Role.ADMIN),
        Actor(label="test"),
    )
    db.session.commit()
    return ceremony


def test_create_is_idempotent_and_reports_the_refused(
    runner: FlaskCliRunner, world: Ceremony
) -> None:
    args = ["invitations", "create", world.slug, "--group", "Diplomatic corps"]
    result = runner.invoke(args=[*args, "--kind", "municipality"])
    assert result.exit_code == 0, result.output
    assert "not invited   Embassy of Belarus (policy: do not invite)" in result.output
    assert "4 invited, 0 invited already, 1 not to be invited." in result.output
    again = runner.invoke(args=[*args, "--kind", "municipality"])
    assert "0 invited, 4 invited already, 1 not to be invited." in again.output
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Invitation))
    assert count == 4
    labels = set(db.session.scalars(sa.select(AuditEntry.actor_label)))
    assert "command line" in labels


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--group", "Nobody"], "There is no group named Nobody."),
        ([], "Choose at least one group or kind."),
    ],
)
def test_create_refuses_bad_input(
    runner: FlaskCliRunner, world: Ceremony, args: list[str], message: str
) -> None:
    result = runner.invoke(args=["invitations", "create", world.slug, *args])
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_create_refuses_an_unknown_edition_or_kind(runner: FlaskCliRunner, world: Ceremony) -> None:
    result = runner.invoke(args=["invitations", "create", "2027-nowhere", "--kind", "embassy"])
    assert result.exit_code == 1
    assert "No edition with the slug 2027-nowhere." in result.output
    result = runner.invoke(args=["invitations", "create", world.slug, "--kind", "castle"])
    assert result.exit_code == 2


def test_list_json_shape(runner: FlaskCliRunner, world: Ceremony) -> None:
    runner.invoke(args=["invitations", "create", world.slug, "--group", "Diplomatic corps"])
    accepted = db.session.scalar(
        sa.select(Invitation).join(Organisation).where(Organisation.name == "Embassy of Kazakhstan")
    )
    assert accepted is not None
    accepted.status = InvitationStatus.ACCEPTED
    accepted.wreath = WreathChoice.OWN
    accepted.members = [DelegationMember(name="Марат Абенов"), DelegationMember(name="Aide")]
    db.session.commit()

    result = runner.invoke(args=["invitations", "list", world.slug, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows == [
        {
            "id": accepted.id,
            "organisation": "Embassy of Kazakhstan",
            "addressee": "Marat Abenov",
            "status": "accepted",
            "delegation_size": 2,
            "wreath": True,
        },
        {
            "id": rows[1]["id"],
            "organisation": "Embassy of Norway",
            "addressee": None,
            "status": "draft",
            "delegation_size": 0,
            "wreath": False,
        },
    ]
    plain = runner.invoke(args=["invitations", "list", world.slug])
    assert "Embassy of Norway" in plain.output
    assert "accepted" in plain.output


def test_link_prints_a_new_url_and_revokes_the_old(
    runner: FlaskCliRunner, world: Ceremony, app: Flask
) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://ereveld.example"
    runner.invoke(args=["invitations", "create", world.slug, "--kind", "municipality"])
    invitation = db.session.scalars(sa.select(Invitation).order_by(Invitation.id)).first()
    assert invitation is not None
    first = runner.invoke(args=["invitations", "link", str(invitation.id)])
    assert first.exit_code == 0, first.output
    old = first.output.strip()
    assert old.startswith("https://ereveld.example/rsvp/")
    second = runner.invoke(args=["invitations", "link", str(invitation.id)])
    new = second.output.strip()
    db.session.rollback()
    assert new != old
    assert invitation_for_token(db.session, old.rsplit("/", 1)[-1]) is None
    found = invitation_for_token(db.session, new.rsplit("/", 1)[-1])
    assert found is not None
    assert found.id == invitation.id


def test_link_is_refused_for_proxy_and_unknown_invitations(
    runner: FlaskCliRunner, world: Ceremony
) -> None:
    proxy = Invitation(
        ceremony=world,
        organisation=Organisation(name="Embassy of Proxy", kind=OrganisationKind.EMBASSY),
        kind=InvitationKind.PROXY,
        wreath=WreathChoice.PROXY,
    )
    db.session.add(proxy)
    db.session.commit()
    result = runner.invoke(args=["invitations", "link", str(proxy.id)])
    assert result.exit_code == 1
    assert "A wreath by proxy is not sent" in result.output
    db.session.rollback()
    assert db.session.get(Invitation, proxy.id) is not None
    assert proxy.token_hash is None
    assert runner.invoke(args=["invitations", "link", "9999"]).exit_code == 1
