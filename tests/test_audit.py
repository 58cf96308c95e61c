"""Every change to the planner's tables lands in the audit log, with who and from where."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.ceremonies.models import Ceremony
from app.extensions import db


def entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def test_an_edit_through_the_web_is_audited(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., Ceremony]
) -> None:
    ceremony = edition("9-mei", 2026)
    client.environ_base["REMOTE_ADDR"] = "198.51.100.4"
    user = login(Role.PLANNER)
    response = client.post(
        f"/staff/ceremonies/{ceremony.slug}/status/publish", data={"version": str(ceremony.version)}
    )
    assert response.status_code == 302
    [entry] = entries("ceremony.changed")
    assert entry.actor_user_id == user.id
    assert entry.address == "198.51.100.4"
    assert entry.object_id == ceremony.id
    assert entry.changes["status"] == ["draft", "published"]
    assert entry.changes["sequence"] == [0, 1]


def test_commands_are_audited_and_secrets_are_not(runner: FlaskCliRunner) -> None:
    runner.invoke(
        args=["users", "create", "a@example.org", "--role", "admin", "--password-stdin"],
        input="long enough pw\n",
    )
    [entry] = entries("user.created")
    assert entry.actor_label == "command line"
    assert entry.changes["email"] == [None, "(personal data)"]  # logged, not copied
    assert "password_hash" not in entry.changes
    assert "session_token" not in entry.changes


def test_programme_changes_and_deletions(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., Ceremony]
) -> None:
    ceremony = edition("5-mei", 2026)
    item_id = ceremony.items[0].id
    login(Role.PLANNER)
    client.post(f"/staff/ceremonies/{ceremony.slug}/items/{item_id}/delete")
    [entry] = entries("programme_item.deleted")
    assert entry.object_id == item_id
    assert entry.changes["text_en"][0] == "Welcome of guests"


def test_audit_log_page(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., Ceremony]
) -> None:
    edition("9-mei", 2026)
    login(Role.ADMIN)
    page = client.get("/staff/audit?object_type=ceremony").get_data(as_text=True)
    assert "ceremony.created" in page
    assert "series.created" not in page
    assert client.get("/staff/audit?since=2026-02-30&object_id=x").status_code == 200


def test_created_entries_name_their_object(edition: Callable[..., Ceremony]) -> None:
    ceremony = edition("9-mei", 2026)
    [entry] = entries("ceremony.created")
    assert entry.object_id == ceremony.id
