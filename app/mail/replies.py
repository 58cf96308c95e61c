"""Calendar replies (iTIP REPLY over iMIP): someone pressed Accept or Decline in Outlook or
Gmail, and the REPLY reached the protocol mailbox.

A REPLY is applied to the invitation it answers when its UID is an edition's, its
SEQUENCE is not older than the edition's current one, and its ATTENDEE is an address an
invitation of that edition was sent to (CALENDAR.md). Anything else is reported as
ignored, with the reason. The reply goes through the same path as the delegation's own
page: the deadline holds, the change is audited and confirmed by email.
"""

from __future__ import annotations

import email
import email.policy
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa
from icalendar import Calendar, Component

from app.ceremonies.models import Ceremony
from app.extensions import DbSession
from app.invitations.models import Invitation, InvitationStatus
from app.invitations.rsvp_services import (
    MemberData,
    RsvpClosed,
    RsvpConflict,
    RsvpError,
    reply,
)
from app.mail.compose import header_safe
from app.mail.models import MessageStatus, OutboxMessage

ANSWERS = {"ACCEPTED": True, "DECLINED": False}


@dataclass(frozen=True)
class CalendarReply:
    uid: str
    sequence: int
    attendee: str  # the address, lower case, without mailto:
    name: str
    partstat: str


@dataclass(frozen=True)
class Outcome:
    reply: CalendarReply
    applied: bool
    reason: str  # what was done, or why nothing was
    invitation_id: int | None = None


def parse_message(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # policy.default always makes these
        raise TypeError("not an EmailMessage")
    return message


def calendar_replies(message: EmailMessage) -> list[CalendarReply]:
    """The REPLYs in a message's text/calendar parts (attachments included); none for a
    message that is not a calendar reply, or whose calendar cannot be read."""
    found: list[CalendarReply] = []
    seen: set[tuple[str, str, int]] = set()
    for part in message.walk():
        if part.get_content_type() not in ("text/calendar", "application/ics"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        try:
            calendar = Calendar.from_ical(payload)
        except ValueError:
            continue
        if calendar.name != "VCALENDAR" or str(calendar.get("method", "")).upper() != "REPLY":
            continue
        for event in calendar.walk("VEVENT"):
            for answer in _answers(event):
                key = (answer.uid, answer.attendee, answer.sequence)
                if key not in seen:  # the alternative and the attachment say it twice
                    seen.add(key)
                    found.append(answer)
    return found


def _answers(event: Component) -> list[CalendarReply]:
    attendees = event.get("attendee")
    if attendees is None:
        return []
    if not isinstance(attendees, list):
        attendees = [attendees]
    try:
        sequence = int(event.get("sequence", 0))
    except (TypeError, ValueError):
        return []
    uid = str(event.get("uid", ""))
    answers = []
    for attendee in attendees:
        address = str(attendee)
        if address.lower().startswith("mailto:"):
            address = address[7:]
        params = getattr(attendee, "params", {})
        answers.append(
            CalendarReply(
                uid=uid,
                sequence=sequence,
                attendee=address.strip().lower(),
                name=str(params.get("CN", "")),
                partstat=str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(),
            )
        )
    return answers


def invitation_for(session: DbSession, ceremony: Ceremony, address: str) -> Invitation | None:
    """The invitation of ``ceremony`` whose calendar invitation went to ``address``."""
    messages = session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.ceremony_id == ceremony.id,
            OutboxMessage.calendar_method == "REQUEST",
            OutboxMessage.status == MessageStatus.SENT,
            sa.func.lower(OutboxMessage.to_address) == address,
        )
    ).all()
    invitations = {m.invitation_id: m.invitation for m in messages if m.invitation is not None}
    return next(iter(invitations.values())) if len(invitations) == 1 else None


def apply(session: DbSession, answer: CalendarReply) -> Outcome:
    """Apply one REPLY; flushes, the caller commits."""
    ceremony = session.scalar(sa.select(Ceremony).where(Ceremony.uid == answer.uid))
    if ceremony is None:
        return Outcome(answer, False, "no edition has this UID")
    if answer.sequence < ceremony.sequence:
        return Outcome(
            answer, False, f"answers SEQUENCE {answer.sequence}, now {ceremony.sequence}"
        )
    invitation = invitation_for(session, ceremony, answer.attendee)
    if invitation is None:
        return Outcome(answer, False, "this address was not invited to the edition")
    accept = ANSWERS.get(answer.partstat)
    if accept is None:
        return Outcome(answer, False, f"{answer.partstat} is not an answer", invitation.id)
    wanted = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    if invitation.status == wanted:
        return Outcome(answer, False, f"already {wanted.value}", invitation.id)
    # Accepting names the head of the delegation: the name the calendar gave, else the
    # addressee's; the delegation corrects it on its page (the confirmation links there).
    name = unicodedata.normalize("NFC", header_safe(answer.name))[:300]
    if not name and invitation.addressee is not None:
        name = invitation.addressee.full_name
    try:
        reply(
            invitation,
            accept,
            expected_version=invitation.version,
            address="calendar reply",
            head=MemberData(name=name or invitation.organisation.name),
        )
    except RsvpClosed:
        return Outcome(answer, False, "the deadline has passed", invitation.id)
    except (RsvpConflict, RsvpError) as error:
        return Outcome(answer, False, str(error) or "refused", invitation.id)
    invitation.replied_by = "calendar"
    session.flush()
    return Outcome(answer, True, wanted.value, invitation.id)


def apply_message(session: DbSession, raw: bytes) -> list[Outcome] | None:
    """Every REPLY in one email; None when the email is no calendar reply at all."""
    answers = calendar_replies(parse_message(raw))
    if not answers:
        return None
    return [apply(session, answer) for answer in answers]
