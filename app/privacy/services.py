"""The GDPR duties: export one person's data, erase it, purge delegation details.

Which columns hold personal data is declared on the models (``info={"personal": ...}``,
see app/extensions.py); the functions here read those tags, so a newly tagged column is
exported and erased without anyone remembering to, and a test fails for a category
nobody handles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.models import User, new_session_token
from app.ceremonies.models import Ceremony
from app.contacts.models import Person
from app.extensions import Base, DbSession
from app.invitations.models import DelegationMember, Invitation
from app.mail.models import OutboxMessage, ReplyReview

HANDLED = frozenset({"person", "delegation", "staff", "mail"})
REDACTED = {"redacted": "personal data erased"}


def tagged(category: str) -> dict[type, list[str]]:
    """Model class -> the keys of its columns tagged with ``category``."""
    found: dict[type, list[str]] = {}
    for mapper in Base.registry.mappers:
        for column in mapper.columns:
            if column.info.get("personal") == category:
                found.setdefault(mapper.class_, []).append(column.key)
    return found


def categories() -> set[str]:
    return {
        str(column.info["personal"])
        for mapper in Base.registry.mappers
        for column in mapper.columns
        if "personal" in column.info
    }


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _row(obj: object, category: str, *extra: str) -> dict[str, Any]:
    keys = [*extra, *tagged(category).get(type(obj), [])]
    return {key: _plain(getattr(obj, key)) for key in keys}


def _names(person: Person) -> set[str]:
    names = {person.full_name, person.native_name, f"{person.family_name} {person.given_name}"}
    return {n.strip().casefold() for n in names if n and n.strip()}


def members_named(session: DbSession, person: Person) -> list[DelegationMember]:
    """Delegation members who are this person (members are typed names, not links)."""
    names = _names(person)
    if not names:
        return []
    return [
        m
        for m in session.scalars(sa.select(DelegationMember))
        if m.name.strip().casefold() in names
    ]


def messages_to(session: DbSession, person: Person) -> list[OutboxMessage]:
    """Messages in the outbox addressed to this person's email address."""
    if not person.email.strip():
        return []
    address = person.email.strip().lower()
    return list(
        session.scalars(
            sa.select(OutboxMessage).where(sa.func.lower(OutboxMessage.to_address) == address)
        )
    )


def calendar_replies_of(session: DbSession, person: Person) -> list[ReplyReview]:
    """Calendar replies kept for review that name this person's address (as attendee,
    sender or forwarder)."""
    if not person.email.strip():
        return []
    address = person.email.strip().lower()
    return list(
        session.scalars(
            sa.select(ReplyReview).where(
                sa.or_(
                    ReplyReview.attendee == address,
                    ReplyReview.from_address == address,
                    ReplyReview.forwarded_by == address,
                )
            )
        )
    )


def _person_values(person: Person) -> list[str]:
    values = [str(getattr(person, key)) for key in tagged("person")[Person]]
    return [v for v in values if len(v.strip()) >= 3]


def _audit_about(session: DbSession, person: Person) -> list[AuditEntry]:
    """Entries about this person: on their row, or naming them anywhere in the changes."""
    values = _person_values(person)
    found = []
    for entry in session.scalars(sa.select(AuditEntry)):
        text = json.dumps(entry.changes, ensure_ascii=False) + entry.reason
        if (entry.object_type == "person" and entry.object_id == person.id) or any(
            value in text for value in values
        ):
            found.append(entry)
    return found


def export_person(session: DbSession, person: Person) -> dict[str, Any]:
    """Everything Ereveld holds about one person, as JSON-ready data."""
    invitations = session.scalars(
        sa.select(Invitation).where(Invitation.addressee_id == person.id)
    ).all()
    return {
        "person": _row(person, "person", "id", "language", "created_at", "updated_at"),
        "appointments": [
            {
                "organisation": a.organisation.name,
                "role": a.role.value,
                "taken_up_at": _plain(a.taken_up_at),
                "valid_from": _plain(a.valid_from),
                "valid_to": _plain(a.valid_to),
            }
            for a in person.appointments
        ],
        "forms_of_address": [
            {
                "language": own.language,
                "confirmed_at": _plain(own.confirmed_at),
                **_row(own, "person"),
            }
            for own in person.addresses
        ],
        "invitations": [
            {
                "edition": i.ceremony.slug,
                "organisation": i.organisation.name,
                "status": i.status.value,
                **_row(i, "delegation"),
            }
            for i in invitations
        ],
        "delegation_memberships": [
            {"edition": m.invitation.ceremony.slug, "role": m.role.value, **_row(m, "delegation")}
            for m in members_named(session, person)
        ],
        "messages": [
            {
                "edition": m.ceremony.slug,
                "kind": m.kind.value,
                "status": m.status.value,
                "subject": m.subject,
                "sent_at": _plain(m.sent_at),
                **_row(m, "mail"),
            }
            for m in messages_to(session, person)
        ],
        "calendar_replies": [
            {
                "edition": r.ceremony.slug,
                "reason": r.reason.value,
                "status": r.status.value,
                "partstat": r.partstat,
                "received_at": _plain(r.received_at),
                **_row(r, "mail"),
            }
            for r in calendar_replies_of(session, person)
        ],
        "audit": [
            {"at": _plain(e.at), "action": e.action, "changes": e.changes}
            for e in _audit_about(session, person)
        ],
    }


@dataclass
class Erasure:
    invitations_cleared: int
    members_deleted: int
    audit_redacted: int
    messages_deleted: int = 0
    replies_deleted: int = 0


def _clear_delegation_details(invitation: Invitation) -> None:
    for key in tagged("delegation")[Invitation]:
        setattr(invitation, key, "")


def erase_person(session: DbSession, person: Person) -> Erasure:
    """Remove one person: their row, appointments, what delegations said about them, and
    their name from the audit log. Invitations stay (the organisation was invited), without
    the addressee and without the delegation's personal details."""
    invitations = session.scalars(
        sa.select(Invitation).where(Invitation.addressee_id == person.id)
    ).all()
    for invitation in invitations:
        _clear_delegation_details(invitation)
        invitation.addressee_id = None
    members = members_named(session, person)
    for member in members:
        session.delete(member)
    entries = _audit_about(session, person)
    for entry in entries:
        entry.changes = dict(REDACTED)
        entry.reason = ""
    messages = messages_to(session, person)
    for message in messages:
        session.delete(message)
    replies = calendar_replies_of(session, person)
    for kept in replies:
        session.delete(kept)
    session.delete(person)
    session.flush()
    return Erasure(len(invitations), len(members), len(entries), len(messages), len(replies))


def export_staff(user: User) -> dict[str, Any]:
    return _row(user, "staff", "id", "role", "language", "active", "created_at", "last_login_at")


def erase_staff(user: User) -> None:
    """Anonymise a staff account; its audit entries keep the (now nameless) id, so the log
    still shows that one and the same account acted."""
    for key in tagged("staff")[User]:
        setattr(user, key, "")
    user.email = f"erased-{user.id}@invalid"
    user.active = False
    user.session_token = new_session_token()


def purge_delegations(session: DbSession, before: date) -> int:
    """Delete delegation details of editions that ended before ``before``; returns how many
    invitations were purged. Invitations themselves and wreath facts stay as history."""
    cutoff = datetime.combine(before, time(), ZoneInfo("Europe/Amsterdam"))
    invitations = session.scalars(
        sa.select(Invitation).join(Invitation.ceremony).where(Ceremony.ends_at < cutoff)
    ).all()
    purged = 0
    for invitation in invitations:
        if invitation.members or any(
            getattr(invitation, k) for k in tagged("delegation")[Invitation]
        ):
            invitation.members.clear()
            _clear_delegation_details(invitation)
            purged += 1
    # The outbox of those editions goes too: its messages name people and their replies;
    # so do the calendar replies kept for review.
    ended = sa.select(Ceremony.id).where(Ceremony.ends_at < cutoff).scalar_subquery()
    session.execute(sa.delete(OutboxMessage).where(OutboxMessage.ceremony_id.in_(ended)))
    session.execute(sa.delete(ReplyReview).where(ReplyReview.ceremony_id.in_(ended)))
    session.flush()
    return purged
