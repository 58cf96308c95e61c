"""The outbox: messages are written here in the transaction of the change that causes
them, reviewed by staff (except confirmations of a delegation's own change), released,
and sent after commit by sender.py.

Like every service here these flush and never commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.audit.services import record
from app.ceremonies import signals
from app.ceremonies.errors import EditConflict
from app.ceremonies.guest_texts import LANGUAGES as GUEST_LANGUAGES
from app.ceremonies.guest_texts import hosts_from_templates
from app.ceremonies.models import Ceremony, HostTemplate
from app.extensions import DbSession
from app.invitations.models import (
    Invitation,
    InvitationKind,
    InvitationStatus,
    PolicyDecision,
)
from app.invitations.services import (
    Actor,
    InvitationError,
    check_deadline,
    decision_for,
    invitations_of,
)
from app.mail.compose import language_of, recipient
from app.mail.models import MailText, MessageKind, MessageStatus, OutboxMessage
from app.mail.texts import LANGUAGES, text_for, unknown_placeholders
from app.refusals import Refusal
from app.types import utcnow

# The personal link's placeholder: filled only when the message leaves (sender.py).
LINK = "rsvp_link"
# Messages still to leave (or leaving): a second one of the same kind is not written.
PENDING = (MessageStatus.DRAFT, MessageStatus.QUEUED, MessageStatus.SENDING)
# An invitation has gone out (or is on its way) to everyone with these statuses.
INVITED = (
    InvitationStatus.SENT,
    InvitationStatus.VIEWED,
    InvitationStatus.ACCEPTED,
    InvitationStatus.DECLINED,
    InvitationStatus.NO_REPLY,
)
CALENDAR_KINDS = {
    MessageKind.INVITATION: "REQUEST",
    MessageKind.UPDATE: "REQUEST",
    MessageKind.CANCELLATION: "CANCEL",
}


class MailError(Refusal):
    """A rule of the outbox refused the change."""


def _message_id() -> str:
    """Made once, when the message is written, so a retry carries the same one. Short
    enough that the header is never folded (some receivers mishandle a folded one)."""
    domain = str(current_app.config["MAIL_FROM_ADDRESS"]).rpartition("@")[2] or "localhost"
    return f"<{secrets.token_hex(12)}.ereveld@{domain}>"


def _may_receive_mail(session: DbSession, invitation: Invitation) -> bool:
    if invitation.kind == InvitationKind.PROXY:
        return False
    return (
        decision_for(session, invitation.ceremony, invitation.organisation)
        != PolicyDecision.DO_NOT_INVITE
    )


def write(
    session: DbSession,
    kind: MessageKind,
    invitation: Invitation,
    status: MessageStatus = MessageStatus.DRAFT,
    *,
    flush: bool = True,
) -> OutboxMessage | None:
    """One message of ``kind`` to the invitation's address, in its language; None when
    there is no address to write to. The text keeps its placeholders: they are filled
    when the message is shown or leaves, so a draft always tells the edition as it is."""
    to = recipient(invitation)
    if to is None:
        return None
    texts = text_for(session, kind, language_of(invitation))
    now = utcnow()
    message = OutboxMessage(
        kind=kind,
        status=status,
        ceremony=invitation.ceremony,
        invitation=invitation,
        language=language_of(invitation),
        to_address=to.address,
        to_name=to.name,
        subject=texts.subject[:300],
        body=texts.body,
        calendar_method=CALENDAR_KINDS.get(kind, ""),
        attach_letter=kind == MessageKind.INVITATION,
        message_id=_message_id(),
        created_at=now,
        updated_at=now,
        queued_at=now if status == MessageStatus.QUEUED else None,
    )
    session.add(message)
    if flush:
        session.flush()
    return message


def _pending(session: DbSession, invitation: Invitation, kind: MessageKind) -> OutboxMessage | None:
    return session.scalar(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.invitation_id == invitation.id,
            OutboxMessage.kind == kind,
            OutboxMessage.status.in_(PENDING),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )


def _ever(session: DbSession, invitation: Invitation, kind: MessageKind) -> bool:
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.invitation_id == invitation.id,
                OutboxMessage.kind == kind,
                OutboxMessage.status != MessageStatus.CANCELLED,
            )
        )
        or 0
    ) > 0


@dataclass
class Drafted:
    written: list[OutboxMessage] = field(default_factory=list)
    without_address: list[Invitation] = field(default_factory=list)


def draft_invitations(session: DbSession, ceremony: Ceremony) -> Drafted:
    """An invitation email for every invitation still in draft that may go out and has
    none yet; those without an address are reported (they need a letter or a phone call)."""
    result = Drafted()
    for invitation in invitations_of(session, ceremony):
        if invitation.status != InvitationStatus.DRAFT:
            continue
        if not _may_receive_mail(session, invitation):
            continue
        if _ever(session, invitation, MessageKind.INVITATION):
            continue
        message = write(session, MessageKind.INVITATION, invitation)
        if message is None:
            result.without_address.append(invitation)
        else:
            result.written.append(message)
    return result


def confirm_reply(session: DbSession, invitation: Invitation) -> OutboxMessage | None:
    """Confirm a delegation's own change (SECURITY.md): queued at once, no review. While
    one is still waiting to leave, no second is added: it tells the latest state."""
    # Called inside another change's transaction: nothing is flushed here, so a lost race
    # surfaces at that change's commit, where its view answers it (409), not in here.
    with session.no_autoflush:
        waiting = session.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.invitation_id == invitation.id,
                OutboxMessage.kind == MessageKind.CONFIRMATION,
                OutboxMessage.status == MessageStatus.QUEUED,
            )
        )
        if waiting is not None:  # it will tell the reply as it stands when it leaves
            return waiting
        return write(
            session, MessageKind.CONFIRMATION, invitation, MessageStatus.QUEUED, flush=False
        )


def edition_moved(session: DbSession, ceremony: Ceremony) -> list[OutboxMessage]:
    """Time or place changed: everyone who accepted gets an update (same UID, the raised
    SEQUENCE) to review and release. Drafts need nothing: they are filled when they
    leave."""
    # Called inside another change's transaction: nothing is flushed here, so a lost race
    # surfaces at that change's commit, where its view answers it (409), not in here.
    with session.no_autoflush:
        written = []
        for invitation in invitations_of(session, ceremony):
            if invitation.status != InvitationStatus.ACCEPTED:
                continue
            waiting = _pending(session, invitation, MessageKind.UPDATE)
            if waiting is not None and waiting.status != MessageStatus.SENDING:
                continue  # it will carry the new time: text and calendar are made as it leaves
            message = write(session, MessageKind.UPDATE, invitation, flush=False)
            if message is not None:
                written.append(message)
        return written


def edition_cancelled(session: DbSession, ceremony: Ceremony) -> list[OutboxMessage]:
    """The edition is cancelled: what has not left is withdrawn, and everyone who was
    invited gets a cancellation (METHOD:CANCEL) to review and release."""
    # Called inside another change's transaction: nothing is flushed here, so a lost race
    # surfaces at that change's commit, where its view answers it (409), not in here.
    with session.no_autoflush:
        withdrawn = session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.ceremony_id == ceremony.id,
                OutboxMessage.status.in_((MessageStatus.DRAFT, MessageStatus.QUEUED)),
                OutboxMessage.kind != MessageKind.CANCELLATION,
            )
        ).all()
        for message in withdrawn:
            message.status = MessageStatus.CANCELLED
            message.last_error = "the edition was cancelled"
            message.updated_at = utcnow()
        written: list[OutboxMessage] = []
        for invitation in invitations_of(session, ceremony):
            if invitation.status not in INVITED or _pending(
                session, invitation, MessageKind.CANCELLATION
            ):
                continue
            notice = write(session, MessageKind.CANCELLATION, invitation, flush=False)
            if notice is not None:
                written.append(notice)
        return written


def edition_republished(session: DbSession, ceremony: Ceremony) -> list[OutboxMessage]:
    """The edition is published again: everyone whose calendar was told it was cancelled
    gets it back, a REQUEST with the raised SEQUENCE (an update), to review and release.
    A cancellation that has not left yet is withdrawn instead: it would tell a falsehood."""
    # Called inside another change's transaction (through a signal): nothing is flushed.
    with session.no_autoflush:
        for notice in session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.ceremony_id == ceremony.id,
                OutboxMessage.kind == MessageKind.CANCELLATION,
                OutboxMessage.status.in_((MessageStatus.DRAFT, MessageStatus.QUEUED)),
            )
        ):
            notice.status = MessageStatus.CANCELLED
            notice.last_error = "the edition was published again"
            notice.updated_at = utcnow()
        written: list[OutboxMessage] = []
        for invitation in invitations_of(session, ceremony):
            if _last_calendar_sent(session, invitation) != MessageKind.CANCELLATION:
                continue
            if _pending(session, invitation, MessageKind.UPDATE) is not None:
                continue  # it carries the edition as it is when it leaves
            message = write(session, MessageKind.UPDATE, invitation, flush=False)
            if message is not None:
                written.append(message)
        return written


def _last_calendar_sent(session: DbSession, invitation: Invitation) -> MessageKind | None:
    """The kind of the last message with a calendar part that left for this invitation."""
    return session.scalar(
        sa.select(OutboxMessage.kind)
        .where(
            OutboxMessage.invitation_id == invitation.id,
            OutboxMessage.kind.in_(list(CALENDAR_KINDS)),
            OutboxMessage.status.in_((MessageStatus.SENT, MessageStatus.SENDING)),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def _republished(ceremony: Ceremony, session: DbSession) -> None:
    edition_republished(session, ceremony)


def connect_signals() -> None:
    """Mail listens to the planner (ARCHITECTURE.md: capabilities meet through signals)."""
    signals.edition_republished.connect(_republished)


def draft_reminders(session: DbSession, ceremony: Ceremony, today: date) -> list[OutboxMessage]:
    """Reminders that are due: to those who have not replied, ``reminder_days`` before
    the deadline, and the practical note to accepted delegations ``practical_days``
    before the ceremony. Each invitation gets each at most once."""
    written: list[OutboxMessage] = []
    day = ceremony.local_start.date()
    if today > day:
        return written
    for invitation in invitations_of(session, ceremony):
        kind = _due(ceremony, invitation, today, day)
        if kind is None or not _may_receive_mail(session, invitation):
            continue
        if _ever(session, invitation, kind):
            continue
        message = write(session, kind, invitation)
        if message is not None:
            written.append(message)
    return written


def _due(ceremony: Ceremony, invitation: Invitation, today: date, day: date) -> MessageKind | None:
    if invitation.status == InvitationStatus.ACCEPTED:
        days = ceremony.practical_days
        if days is not None and today >= day - timedelta(days=days):
            return MessageKind.PRACTICAL
        return None
    if invitation.status not in (InvitationStatus.SENT, InvitationStatus.VIEWED):
        return None
    if invitation.kind != InvitationKind.RSVP or ceremony.reminder_days is None:
        return None
    deadline = invitation.rsvp_deadline or ceremony.rsvp_deadline
    if deadline is None or today > deadline:
        return None
    return (
        MessageKind.REMINDER if today >= deadline - timedelta(days=ceremony.reminder_days) else None
    )


def due_reminders(session: DbSession, today: date) -> list[OutboxMessage]:
    """Reminders for every edition still to come (for `flask mail remind`, daily)."""
    from app.ceremonies.models import CeremonyStatus

    upcoming = session.scalars(
        sa.select(Ceremony)
        .where(Ceremony.ends_at >= utcnow(), Ceremony.status == CeremonyStatus.PUBLISHED)
        .order_by(Ceremony.starts_at)
    ).all()
    written = []
    for ceremony in upcoming:
        written += draft_reminders(session, ceremony, today)
    return written


# --- review --------------------------------------------------------------------------


def check_version(message: OutboxMessage, expected: int | None) -> None:
    if expected is not None and message.version != expected:
        raise EditConflict()


def check_text(subject: str, body: str) -> None:
    """Refuse a text with a placeholder Ereveld does not know (it would go out as is)."""
    for field_name, text in (("subject", subject), ("body", body)):
        unknown = unknown_placeholders(text)
        if unknown:
            raise MailError(
                _l(
                    "Unknown placeholder: %(names)s. Use only the ones listed.",
                    names=", ".join("{" + name + "}" for name in unknown),
                ),
                field=field_name,
            )


def edit_message(
    message: OutboxMessage, subject: str, body: str, expected_version: int | None
) -> OutboxMessage:
    """Staff change one draft's text by hand (placeholders are filled as it leaves)."""
    check_version(message, expected_version)
    if message.status != MessageStatus.DRAFT:
        raise MailError(_l("Only a draft can be edited; this message has left the outbox."))
    check_text(subject, body)
    message.subject = subject
    message.body = body
    message.updated_at = utcnow()
    return message


def release(
    session: DbSession, messages: Iterable[OutboxMessage], actor: Actor
) -> list[OutboxMessage]:
    """Drafts go to the queue; the sender takes them after this commit. A draft whose
    organisation may no longer be written to is withdrawn instead."""
    released = []
    now = utcnow()
    for message in messages:
        if message.status != MessageStatus.DRAFT:
            continue
        if message.invitation is not None and not _may_receive_mail(session, message.invitation):
            message.status = MessageStatus.CANCELLED
            message.last_error = "not to be invited to this edition"
        else:
            message.status = MessageStatus.QUEUED
            message.queued_at = now
            released.append(message)
        message.updated_at = now
    if released:
        record(
            session,
            action="mail.released",
            object_type="ceremony",
            object_id=released[0].ceremony_id,
            changes={"messages": [m.id for m in released]},
            actor_user_id=actor.user_id,
            actor_label=actor.label,
            address=actor.address,
        )
    session.flush()
    return released


def withdraw(message: OutboxMessage, expected_version: int | None) -> OutboxMessage:
    check_version(message, expected_version)
    if message.status not in (MessageStatus.DRAFT, MessageStatus.QUEUED, MessageStatus.FAILED):
        raise MailError(_l("This message has left the outbox; it cannot be withdrawn."))
    message.status = MessageStatus.CANCELLED
    message.updated_at = utcnow()
    return message


def requeue(message: OutboxMessage, expected_version: int | None) -> OutboxMessage:
    """Try a failed message again, or one a dead sender left "sending" once staff have
    checked that it did not arrive."""
    check_version(message, expected_version)
    if message.status not in (MessageStatus.FAILED, MessageStatus.SENDING):
        raise MailError(_l("Only a failed or stuck message can be sent again."))
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = None
    message.queued_at = message.updated_at = utcnow()
    return message


def messages_of(session: DbSession, ceremony: Ceremony) -> Sequence[OutboxMessage]:
    return session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.ceremony_id == ceremony.id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    ).all()


def messages_about(session: DbSession, invitation: Invitation) -> Sequence[OutboxMessage]:
    """Every message written about one invitation, newest first."""
    return session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.invitation_id == invitation.id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    ).all()


def counts_by_status(messages: Iterable[OutboxMessage]) -> dict[MessageStatus, int]:
    counts = dict.fromkeys(MessageStatus, 0)
    for message in messages:
        counts[message.status] += 1
    return counts


# --- texts ---------------------------------------------------------------------------


def save_text(
    session: DbSession,
    kind: MessageKind,
    language: str,
    subject: str,
    body: str,
    actor: Actor,
) -> MailText:
    """Staff's own text for a kind and language; unknown placeholders are refused."""
    if language not in LANGUAGES:
        raise MailError(_l("Choose Dutch, English or Russian."), field="language")
    check_text(subject, body)
    text = session.scalar(
        sa.select(MailText).where(MailText.kind == kind, MailText.language == language)
    )
    if text is None:
        text = MailText(kind=kind, language=language, subject=subject, body=body)
        session.add(text)
    else:  # two saves at once: the row's version makes the second fail at commit
        text.subject, text.body = subject, body
    text.updated_at = utcnow()
    text.updated_by_id = actor.user_id
    session.flush()
    return text


def reset_text(session: DbSession, kind: MessageKind, language: str) -> None:
    """Back to the built-in text."""
    session.execute(sa.delete(MailText).where(MailText.kind == kind, MailText.language == language))


# --- an edition's mail settings -------------------------------------------------------


@dataclass
class MailSettings:
    rsvp_deadline: date | None
    reminder_days: int | None
    practical_days: int | None
    # The hosts in order (rows without a name or any function are dropped), and the
    # dress and practical notes of the day per language ({"nl": ..., "en": ..., "ru": ...}).
    hosts: list[HostTemplate] = field(default_factory=list)
    dress_code: dict[str, str] = field(default_factory=dict)
    practical_notes: dict[str, str] = field(default_factory=dict)


def save_settings(
    session: DbSession, ceremony: Ceremony, data: MailSettings, expected_version: int | None
) -> Ceremony:
    """What the edition's invitations say and when reminders go."""
    if expected_version is not None and ceremony.version != expected_version:
        raise EditConflict()
    if data.rsvp_deadline is not None:
        try:
            check_deadline(ceremony, data.rsvp_deadline, InvitationKind.RSVP)
        except InvitationError as error:
            raise MailError(error.message, field="rsvp_deadline") from error
    ceremony.rsvp_deadline = data.rsvp_deadline
    kept = [h for h in data.hosts if any(str(v).strip() for v in h.values())]
    ceremony.hosts = hosts_from_templates(kept)
    for lang in GUEST_LANGUAGES:
        setattr(ceremony, f"dress_code_{lang}", data.dress_code.get(lang, ""))
        setattr(ceremony, f"practical_notes_{lang}", data.practical_notes.get(lang, ""))
    ceremony.reminder_days = data.reminder_days
    ceremony.practical_days = data.practical_days
    ceremony.version += 1
    ceremony.updated_at = utcnow()
    session.flush()
    return ceremony
