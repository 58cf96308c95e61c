"""`flask demo`: fictional contacts and invitations in every state, loaded once."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from app.auth.models import Role
from app.auth.services import create_user
from app.ceremonies.models import Ceremony
from app.ceremonies.seed import seed
from app.ceremonies.services import schedule_year
from app.contacts.addressing import address_block
from app.contacts.models import AppointmentRole, Gender, Organisation, OrganisationKind, Person
from app.demo import DEMO_MARK, load_demo_contacts
from app.extensions import Base, db
from app.invitations.models import (
    Invitation,
    InvitationKind,
    InvitationPolicy,
    InvitationStatus,
    PolicyDecision,
    WreathChoice,
)
from app.types import local_today

KAZAKH_LETTERS = set("ҚқҢңӨөҮүҰұҺһӘәІі")


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def invoke_json(runner: FlaskCliRunner, *args: str) -> Any:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def next_edition() -> Ceremony:
    slug = f"{local_today().year + 1}-9-mei"
    ceremony = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert ceremony is not None
    return ceremony


def invitation_of(ceremony: Ceremony, country: str) -> Invitation | None:
    return db.session.scalar(
        sa.select(Invitation)
        .join(Organisation, Organisation.id == Invitation.organisation_id)
        .where(
            Invitation.ceremony_id == ceremony.id,
            Organisation.country == country,
            Organisation.kind == OrganisationKind.EMBASSY,
        )
    )


@pytest.fixture
def demo(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo contacts: 20 organisation(s)" in result.output


def test_a_second_demo_creates_and_changes_nothing(demo: None, runner: FlaskCliRunner) -> None:
    before = row_counts()
    assert before["organisation"] == 20
    assert before["invitation"] > 0
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "0 organisation(s), 0 person(s), 0 policy(ies) and 0 invitation(s)" in result.output
    db.session.expire_all()
    assert row_counts() == before


def test_every_status_appears_next_year(demo: None) -> None:
    ceremony = next_edition()
    statuses = set(
        db.session.scalars(
            sa.select(Invitation.status).where(Invitation.ceremony_id == ceremony.id)
        )
    )
    assert statuses == set(InvitationStatus)


def test_policies_and_proxy(demo: None) -> None:
    ceremony = next_edition()
    policies = {
        p.organisation.country: p
        for p in db.session.scalars(
            sa.select(InvitationPolicy).where(InvitationPolicy.ceremony_id == ceremony.id)
        )
        if p.organisation is not None
    }
    assert policies["RU"].decision == PolicyDecision.DO_NOT_INVITE
    assert policies["RU"].reason == "demo: political decision 2022"
    assert policies["RU"].approved_by is not None
    assert invitation_of(ceremony, "RU") is None
    assert policies["BY"].decision == PolicyDecision.PROXY_ONLY
    proxy = invitation_of(ceremony, "BY")
    assert proxy is not None
    assert proxy.kind == InvitationKind.PROXY
    assert proxy.wreath == WreathChoice.PROXY
    assert proxy.token_hash is None


def test_kazakh_delegation_and_fictional_marks(demo: None) -> None:
    kazakhstan = invitation_of(next_edition(), "KZ")
    assert kazakhstan is not None
    assert kazakhstan.status == InvitationStatus.ACCEPTED
    assert kazakhstan.wreath == WreathChoice.ORDER
    assert KAZAKH_LETTERS & set(kazakhstan.ribbon_text)
    assert any(KAZAKH_LETTERS & set(m.name) for m in kazakhstan.members)
    assert kazakhstan.addressee is not None
    assert KAZAKH_LETTERS & set(kazakhstan.addressee.native_name)
    assert kazakhstan.addressee.gender == Gender.MALE
    # The patronymic lives in the native name, once; no Latin part beside the Cyrillic.
    assert address_block(
        kazakhstan.addressee, kazakhstan.organisation, AppointmentRole.AMBASSADOR, "ru"
    ) == [
        "Его Превосходительству господину Нұрлану Әлібекұлы Сәрсенбаеву",
        "Чрезвычайному и Полномочному Послу Республики Казахстан",
        "Посольство Республики Казахстан",
    ]
    for organisation in db.session.scalars(sa.select(Organisation)):
        assert organisation.notes.startswith(DEMO_MARK)
    relatives = db.session.scalars(sa.select(Person).where(Person.relation != "")).all()
    assert relatives
    assert all("grave" in p.relation for p in relatives)


def test_wreath_order_follows_precedence(demo: None, runner: FlaskCliRunner) -> None:
    year = local_today().year + 1
    order = invoke_json(runner, "wreaths", "order", f"{year}-9-mei", "--json")
    assert order
    assert [e["position"] for e in order] == list(range(1, len(order) + 1))
    assert order[0]["group"] == "Host authorities"
    corps = invoke_json(runner, "contacts", "precedence", "--date", f"{year}-05-09", "--json")
    rank = {row["organisation"]: row["rank"] for row in corps}
    heads = [e["organisation"] for e in order if e["group"] == "Heads of mission"]
    assert len(heads) >= 4
    assert [rank[name] for name in heads] == sorted(rank[name] for name in heads)
    # Armenia's ambassador presented credentials at 09:15, Azerbaijan's at 10:00 that day.
    assert heads.index("Embassy of the Republic of Armenia") < heads.index(
        "Embassy of the Republic of Azerbaijan"
    )
    assert {e["supplier"] for e in order} >= {"own", "order", "proxy"}
    assert any(KAZAKH_LETTERS & set(e["ribbon_text"]) for e in order)


def test_precedence_names_the_dean(demo: None, runner: FlaskCliRunner) -> None:
    corps = invoke_json(runner, "contacts", "precedence", "--json")
    deans = [row for row in corps if row["dean"]]
    assert len(deans) == 1
    assert deans[0]["rank"] == 1
    assert deans[0]["person"] == "Anvar Tursunkhodjaev"
    assert [row["class"] for row in corps] == sorted(row["class"] for row in corps)
    # The Russian ambassador-designate has not presented credentials: not ranked.
    assert "RU" not in {row["country"] for row in corps}


def test_this_years_edition_while_it_is_ahead(app: Flask) -> None:
    year = local_today().year
    seed(db.session)
    for edition_year in (year, year + 1):
        schedule_year(db.session, edition_year, publish=True)
    create_user(db.session, "admin@example.org", "correct horse battery", Role.ADMIN)
    result = load_demo_contacts(db.session, today=date(year, 1, 15))
    db.session.commit()
    assert result.editions == [f"{year}-9-mei", f"{year + 1}-9-mei"]
    this_year = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == f"{year}-9-mei"))
    assert this_year is not None
    statuses = sorted(
        s.value
        for s in db.session.scalars(
            sa.select(Invitation.status).where(Invitation.ceremony_id == this_year.id)
        )
    )
    assert statuses == ["accepted", "draft", "sent"]
    again = load_demo_contacts(db.session, today=date(year, 1, 15))
    assert again.created == 0


def test_an_organisation_that_is_not_demo_data_is_left_alone(
    app: Flask, runner: FlaskCliRunner
) -> None:
    db.session.add(Organisation(name="Municipality of Leusden", kind=OrganisationKind.MUNICIPALITY))
    db.session.commit()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    leusden = db.session.scalar(
        sa.select(Organisation).where(Organisation.name == "Municipality of Leusden")
    )
    assert leusden is not None
    assert leusden.notes == ""
    assert leusden.appointments == []
    invited = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Invitation)
        .where(Invitation.organisation_id == leusden.id)
    )
    assert invited == 0


def test_demo_needs_an_admin_in_production(app: Flask, runner: FlaskCliRunner) -> None:
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "needs an active admin account" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0
