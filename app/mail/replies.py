"""Calendar replies (iTIP REPLY over iMIP): someone pressed Accept or Decline in Outlook or
Gmail, and the REPLY reached the protocol mailbox.

A REPLY is applied on its own only when nothing about it is in doubt (CALENDAR.md): its
UID is an edition's and its SEQUENCE the edition's current one, its ATTENDEE is an
address an invitation of that edition was sent to, the email's From is that very
address, and, where the mailbox's own server stamps Authentication-Results (RFC 8601),
DKIM or DMARC passed for the From domain. Anyone can write any ATTENDEE into a calendar:
a reply from mallory@evil.example naming an embassy's address once put an impostor on
the gate list. Every other reply to an edition waits in "replies to review" with its
reason, for a planner to apply or discard; a reply to no edition at all is reported.

Messages come from strangers: parsing is bounded (size, parts, depth) before the email
package sees them, since a message of 1,500 nested parts made it raise RecursionError,
and whatever is stored is cleaned of NUL bytes and broken encodings.
"""

from __future__ import annotations

import email
import email.policy
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage, Message
from enum import StrEnum
from pathlib import Path
from typing import Any

import authres
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from icalendar import Calendar, Component

from app.audit.services import record
from app.ceremonies.errors import EditConflict
from app.ceremonies.models import Ceremony, CeremonyStatus
from app.extensions import DbSession
from app.invitations.models import Invitation, InvitationStatus
from app.invitations.rsvp_services import (
    MemberData,
    RsvpClosed,
    RsvpConflict,
    RsvpError,
    name_head,
    notify_delegation_changed,
    open_for_changes,
    reply,
)
from app.invitations.services import Actor, InvitationError, record_reply
from app.mail.compose import header_safe
from app.mail.models import (
    MessageStatus,
    OutboxMessage,
    ReplyReview,
    ReviewReason,
    ReviewStatus,
)
from app.refusals import Refusal
from app.types import utcnow

ANSWERS = {"ACCEPTED": True, "DECLINED": False}

# Bounds on a message before and while it is parsed. A calendar reply is a few kB in two
# to five parts, three deep; forwarded with its original attached, twice that.
MAX_MESSAGE_BYTES = 2 * 1024 * 1024
MAX_CONTAINERS = 50  # multipart/* and message/* parts: each is a level of recursion
MAX_PARTS = 200
MAX_DEPTH = 12
# A container's Content-Type line, however it is folded; counted in the raw bytes, before
# the email package (which recurses once per level) reads anything.
CONTAINER = re.compile(rb"^content-type:[ \t]*(?:\r?\n[ \t]+)*(?:multipart|message)/", re.I | re.M)
HEADER_LINE = re.compile(rb"^content-type:", re.I | re.M)
CALENDAR_TYPES = ("text/calendar", "application/ics")
# Calendar clients and forwarding mail programs also send the calendar as one of these.
GENERIC_TYPES = ("text/plain", "application/octet-stream", "text/x-vcalendar")


class Unreadable(StrEnum):
    """Why a message cannot be read at all: it is quarantined, never retried."""

    TOO_LARGE = "too large"
    TOO_MANY_PARTS = "too many parts"
    TOO_DEEP = "nested too deeply"
    BROKEN = "cannot be parsed"


class UnreadableMessage(Exception):
    def __init__(self, reason: Unreadable) -> None:
        super().__init__(reason.value)
        self.reason = reason


class ReplyRefused(Refusal):
    """Staff cannot apply this reply (cancelled edition, no answer to record...)."""


@dataclass(frozen=True)
class CalendarReply:
    uid: str
    sequence: int
    attendee: str  # the address, lower case, without mailto:
    name: str
    partstat: str


@dataclass(frozen=True)
class Sender:
    """Who an email came from, as far as the mailbox can tell."""

    address: str  # the From of the message the calendar came in, lower case
    forwarded_by: str = ""  # the outer From, when the reply came attached to another email
    subject: str = ""
    authenticated: bool = False  # DKIM or DMARC pass for the From domain, by our server


@dataclass(frozen=True)
class FoundReply:
    reply: CalendarReply
    sender: Sender


@dataclass(frozen=True)
class Outcome:
    reply: CalendarReply
    applied: bool
    reason: str  # what was done, or why nothing was
    invitation_id: int | None = None
    review: ReplyReview | None = None  # waiting for staff


# --- reading a message from a stranger -----------------------------------------------


def stored_text(value: object, limit: int) -> str:
    """A value fit for a text column on every database: no NUL or other control
    character, no lone surrogate (what the email package makes of broken bytes), NFC."""
    text = str(value).encode("utf-8", "replace").decode("utf-8")
    return unicodedata.normalize("NFC", header_safe(text))[:limit]


def parse_message(raw: bytes) -> EmailMessage:
    """The email, or UnreadableMessage when it is too large, has too many parts, is
    nested too deeply or cannot be parsed."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise UnreadableMessage(Unreadable.TOO_LARGE)
    if len(CONTAINER.findall(raw)) > MAX_CONTAINERS or len(HEADER_LINE.findall(raw)) > MAX_PARTS:
        raise UnreadableMessage(Unreadable.TOO_MANY_PARTS)
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except (RecursionError, MemoryError):
        raise UnreadableMessage(Unreadable.TOO_DEEP) from None
    except Exception as error:  # the parser is lenient; whatever it still raises, quarantine
        raise UnreadableMessage(Unreadable.BROKEN) from error
    if not isinstance(message, EmailMessage):  # policy.default always makes these
        raise UnreadableMessage(Unreadable.BROKEN)
    _check_shape(message)
    return message


def _walk(message: EmailMessage) -> Iterator[tuple[Message, Message, int]]:
    """Every part with the email it belongs to (an attached message/rfc822 is an email of
    its own) and its depth; without recursion, so depth costs no stack."""
    stack: list[tuple[Message, Message, int]] = [(message, message, 0)]
    while stack:
        part, owner, depth = stack.pop()
        yield part, owner, depth
        if not part.is_multipart():
            continue
        children = part.get_payload()
        if not isinstance(children, list):
            continue
        attached = part.get_content_type() == "message/rfc822"
        for child in reversed(children):
            if isinstance(child, Message):
                stack.append((child, child if attached else owner, depth + 1))


def _check_shape(message: EmailMessage) -> None:
    for parts, (_part, _owner, depth) in enumerate(_walk(message), start=1):
        if depth > MAX_DEPTH:
            raise UnreadableMessage(Unreadable.TOO_DEEP)
        if parts > MAX_PARTS:
            raise UnreadableMessage(Unreadable.TOO_MANY_PARTS)


def from_address(message: Message) -> str:
    """The one From address, lower case; '' when there is none, several, or nonsense."""
    try:
        header = message["From"]
        addresses: tuple[Any, ...] = tuple(getattr(header, "addresses", ()))
        if len(addresses) != 1:
            return ""
        address = str(addresses[0].addr_spec)
    except Exception:  # a hostile header can break the header parser in many ways
        return ""
    return stored_text(address, 254).strip().lower()


def _subject(message: Message) -> str:
    try:
        return stored_text(message.get("Subject", ""), 300)
    except Exception:  # an undecodable encoded word
        return ""


def _calendar_bytes(part: Message) -> bytes | None:
    """The calendar a leaf part carries: by its type, by an .ics name, or a generic part
    (text/plain, application/octet-stream) whose content is a VCALENDAR."""
    try:
        kind = part.get_content_type()
        filename = (part.get_filename() or "").strip().lower()
        named = filename.endswith(".ics")
        if kind not in CALENDAR_TYPES and not named and kind not in GENERIC_TYPES:
            return None
        payload = part.get_payload(decode=True)
    except Exception:  # broken parameters or transfer encoding: not a readable calendar
        return None
    if not isinstance(payload, bytes):
        return None
    if kind in CALENDAR_TYPES or filename.endswith(".ics"):
        return payload
    start = payload.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper()
    return payload if start.startswith(b"BEGIN:VCALENDAR") else None


def calendar_replies(message: EmailMessage, *, authserv_id: str | None = None) -> list[FoundReply]:
    """The REPLYs in a message (attachments and attached emails included), each with who
    sent the email it came in; none for a message that is no calendar reply, or whose
    calendar cannot be read."""
    found: list[FoundReply] = []
    seen: set[tuple[str, str, int]] = set()
    outer = from_address(message)
    outer_authenticated = authenticated(message, outer, authserv_id)
    for part, owner, _depth in _walk(message):
        if part.is_multipart():
            continue
        payload = _calendar_bytes(part)
        if payload is None:
            continue
        answers = _replies_in(payload)
        if owner is message:
            sender = Sender(outer, "", _subject(message), outer_authenticated)
        else:  # a reply forwarded as an attachment: its own From, and who forwarded it
            sender = Sender(from_address(owner), outer, _subject(owner), False)
        for answer in answers:
            key = (answer.uid, answer.attendee, answer.sequence)
            if key not in seen:  # the alternative and the attachment say it twice
                seen.add(key)
                found.append(FoundReply(answer, sender))
    return found


def _replies_in(payload: bytes) -> list[CalendarReply]:
    """The answers of a calendar whose METHOD is REPLY; none for anything else."""
    try:
        calendar = Calendar.from_ical(payload)
        if calendar.name != "VCALENDAR" or str(calendar.get("method", "")).upper() != "REPLY":
            return []
        return [a for event in calendar.walk("VEVENT") for a in _answers(event)]
    except Exception:  # icalendar raises many kinds on hostile input: not a reply
        return []


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
    if not -(2**31) <= sequence < 2**31:  # what an INTEGER column holds
        return []
    uid = stored_text(event.get("uid", ""), 255)
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
                attendee=stored_text(address, 254).strip().lower(),
                name=stored_text(params.get("CN", ""), 300),
                partstat=stored_text(params.get("PARTSTAT", "NEEDS-ACTION"), 20).upper(),
            )
        )
    return answers


# --- is it from whom it says? ---------------------------------------------------------


def authenticated(message: Message, address: str, authserv_id: str | None) -> bool:
    """Whether the mailbox's own server (``authserv_id``) found DKIM or DMARC passing for
    the domain of ``address``. Authentication-Results of any other authserv-id are
    ignored: anyone can write such a header into the message they send."""
    domain = address.rpartition("@")[2]
    if not authserv_id or not domain:
        return False
    trusted = authserv_id.strip().lower()
    for value in message.get_all("Authentication-Results") or []:
        header = _parsed(str(value))
        if header is None or str(header.authserv_id or "").lower() != trusted:
            continue
        for result in header.results:
            if str(result.result).lower() == "pass" and _aligned(result, domain):
                return True
    return False


def _parsed(value: str) -> Any:
    """The header as authres reads it; None when it cannot (then it is not our server's)."""
    try:
        return authres.AuthenticationResultsHeader.parse_value(value)
    except Exception:  # authres.AuthResError, or worse on nonsense
        return None


def _aligned(result: object, domain: str) -> bool:
    """A DKIM signature of the From domain (or a parent of it, relaxed alignment), or a
    DMARC pass for the From domain itself."""
    method = str(getattr(result, "method", "")).lower()
    properties = {
        f"{p.type}.{p.name}".lower(): str(p.value).lower()
        for p in getattr(result, "properties", [])
    }
    if method == "dkim":
        signer = properties.get("header.d", "")
        return bool(signer) and (domain == signer or domain.endswith("." + signer))
    if method == "dmarc":
        return properties.get("header.from", "") == domain
    return False


def authentication_required() -> bool:
    """On in production unless switched off; see REPLY_REQUIRE_AUTHENTICATION."""
    setting = current_app.config.get("REPLY_REQUIRE_AUTHENTICATION")
    if setting is None:
        return bool(current_app.config["ENV_NAME"] == "production")
    return bool(setting)


# --- applying -------------------------------------------------------------------------


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


def edition_for(session: DbSession, uid: str) -> Ceremony | None:
    return session.scalar(sa.select(Ceremony).where(Ceremony.uid == uid)) if uid else None


def doubt(
    ceremony: Ceremony, invitation: Invitation | None, found: FoundReply, *, trust_sender: bool
) -> tuple[ReviewReason, str] | None:
    """Why this reply may not be applied on its own, or None. ``trust_sender``: staff
    looked at who sent it (a forwarded reply dropped by hand)."""
    answer, sender = found.reply, found.sender
    if ceremony.status == CeremonyStatus.CANCELLED:
        return ReviewReason.CANCELLED, ""
    if invitation is None:
        return ReviewReason.NOT_INVITED, ""
    if not trust_sender:
        if sender.forwarded_by or sender.address != answer.attendee:
            return ReviewReason.SENDER_DIFFERS, sender.forwarded_by or sender.address
        if authentication_required() and not sender.authenticated:
            return ReviewReason.NOT_AUTHENTICATED, sender.address.rpartition("@")[2]
    if answer.sequence < ceremony.sequence:
        return ReviewReason.OLDER_SEQUENCE, f"{answer.sequence} < {ceremony.sequence}"
    if answer.sequence > ceremony.sequence:
        return ReviewReason.NEWER_SEQUENCE, f"{answer.sequence} > {ceremony.sequence}"
    if answer.partstat == "TENTATIVE":
        return ReviewReason.TENTATIVE, ""
    if answer.partstat not in ANSWERS:
        return ReviewReason.NOT_AN_ANSWER, answer.partstat
    if not open_for_changes(invitation):
        return ReviewReason.DEADLINE_PASSED, ""
    return None


def _head(invitation: Invitation, answer: CalendarReply) -> MemberData:
    """Accepting names the head of the delegation: the name the calendar gave, else the
    addressee's; the delegation corrects it on its page (the confirmation links there)."""
    name = answer.name
    if not name and invitation.addressee is not None:
        name = invitation.addressee.full_name
    return MemberData(name=name or invitation.organisation.name)


def _to_review(
    session: DbSession,
    ceremony: Ceremony,
    invitation: Invitation | None,
    found: FoundReply,
    reason: ReviewReason,
    detail: str,
) -> ReplyReview:
    answer, sender = found.reply, found.sender
    review = ReplyReview(
        ceremony=ceremony,
        invitation=invitation,
        status=ReviewStatus.PENDING,
        reason=reason,
        detail=stored_text(detail, 500),
        attendee=answer.attendee,
        name=answer.name,
        partstat=answer.partstat,
        sequence=answer.sequence,
        from_address=sender.address,
        forwarded_by=sender.forwarded_by,
        subject=sender.subject,
        received_at=utcnow(),
    )
    session.add(review)
    session.flush()
    return review


def apply(session: DbSession, found: FoundReply) -> Outcome:
    """Apply one REPLY from the mailbox, or keep it for review; flushes, the caller
    commits."""
    answer = found.reply
    ceremony = edition_for(session, answer.uid)
    if ceremony is None:
        return Outcome(answer, False, "no edition has this UID")
    invitation = invitation_for(session, ceremony, answer.attendee)
    reason = doubt(ceremony, invitation, found, trust_sender=False)
    if reason is None and invitation is not None:
        accept = ANSWERS[answer.partstat]
        wanted = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
        if invitation.status == wanted:
            return Outcome(answer, False, f"already {wanted.value}", invitation.id)
        try:
            reply(
                invitation,
                accept,
                expected_version=invitation.version,
                address="calendar reply",
                head=_head(invitation, answer),
            )
        except RsvpClosed:
            reason = (ReviewReason.DEADLINE_PASSED, "")
        except (RsvpConflict, RsvpError) as error:
            reason = (ReviewReason.REFUSED, str(error))
        else:
            invitation.replied_by = "calendar"
            session.flush()
            return Outcome(answer, True, wanted.value, invitation.id)
    # doubt() names a missing invitation, so ``reason`` is set whenever we get here.
    why, detail = reason or (ReviewReason.NOT_INVITED, "")
    review = _to_review(session, ceremony, invitation, found, why, detail)
    invitation_id = invitation.id if invitation is not None else None
    return Outcome(answer, False, f"to review: {why.value}", invitation_id, review)


def apply_message(session: DbSession, raw: bytes) -> list[Outcome] | None:
    """Every REPLY in one email; None when the email is no calendar reply at all. Raises
    UnreadableMessage for an email that cannot be read safely."""
    message = parse_message(raw)
    found = calendar_replies(
        message, authserv_id=current_app.config.get("REPLY_AUTHSERV_ID") or None
    )
    if not found:
        return None
    return [apply(session, one) for one in found]


# --- staff decide -----------------------------------------------------------------------


def pending_reviews(session: DbSession, ceremony: Ceremony) -> list[ReplyReview]:
    return list(
        session.scalars(
            sa.select(ReplyReview)
            .where(ReplyReview.ceremony_id == ceremony.id)
            .order_by(ReplyReview.status != ReviewStatus.PENDING, ReplyReview.id.desc())
        )
    )


def pending_count(session: DbSession, ceremony: Ceremony) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(ReplyReview)
            .where(
                ReplyReview.ceremony_id == ceremony.id,
                ReplyReview.status == ReviewStatus.PENDING,
            )
        )
        or 0
    )


def reviews_of(session: DbSession, invitation: Invitation) -> list[ReplyReview]:
    """An invitation's calendar replies still waiting for staff (a tentative one above
    all: someone should phone them)."""
    return list(
        session.scalars(
            sa.select(ReplyReview)
            .where(
                ReplyReview.invitation_id == invitation.id,
                ReplyReview.status == ReviewStatus.PENDING,
            )
            .order_by(ReplyReview.id.desc())
        )
    )


def record_for_staff(
    session: DbSession,
    invitation: Invitation,
    answer: CalendarReply,
    actor: Actor,
    *,
    how: str,
    sender: Sender,
) -> InvitationStatus:
    """Staff apply a calendar reply they have looked at (from review, or forwarded to
    them): recorded on behalf of the delegation like a phone call, whatever the deadline,
    with the head named as a calendar reply names it, the delegation told by email, and
    the audit log saying who sent it and who applied it."""
    if invitation.ceremony.status == CeremonyStatus.CANCELLED:
        raise ReplyRefused(_l("The ceremony is cancelled: there is no reply to record."))
    accept = ANSWERS.get(answer.partstat)
    if accept is None:
        raise ReplyRefused(
            _l("This reply neither accepts nor declines: phone them and record their answer.")
        )
    wanted = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    documents = Path(current_app.instance_path) / "documents"  # unused: no document
    try:
        record_reply(
            session,
            invitation,
            wanted,
            invitation.reply_note,
            None,
            documents,
            invitation.version,
            actor,
        )
    except InvitationError as error:
        raise ReplyRefused(error.message) from error
    head = None
    if accept and not invitation.members:
        head = name_head(invitation, _head(invitation, answer)).name
    record(
        session,
        action="calendar_reply.applied",
        object_type="invitation",
        object_id=invitation.id,
        changes={
            "how": how,
            "attendee": answer.attendee,
            "partstat": answer.partstat,
            "sequence": answer.sequence,
            "from": sender.address,
            "forwarded_by": sender.forwarded_by,
            "head": head,
        },
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        address=actor.address,
    )
    notify_delegation_changed(invitation)
    session.flush()
    return wanted


def _decide(review: ReplyReview, expected_version: int | None, actor: Actor) -> None:
    if expected_version is not None and review.version != expected_version:
        raise EditConflict()
    if review.status != ReviewStatus.PENDING:
        raise ReplyRefused(_l("This reply has been dealt with already."))
    review.decided_at = utcnow()
    review.decided_by_id = actor.user_id


def apply_review(
    session: DbSession, review: ReplyReview, expected_version: int | None, actor: Actor
) -> InvitationStatus:
    """A planner applies a reply that waited for review."""
    _decide(review, expected_version, actor)
    if not review.can_apply or review.invitation is None:
        raise ReplyRefused(_l("This reply cannot be applied; discard it once dealt with."))
    answer = CalendarReply(
        uid=review.ceremony.uid,
        sequence=review.sequence,
        attendee=review.attendee,
        name=review.name,
        partstat=review.partstat,
    )
    sender = Sender(review.from_address, review.forwarded_by, review.subject)
    status = record_for_staff(
        session, review.invitation, answer, actor, how=f"review {review.id}", sender=sender
    )
    review.status = ReviewStatus.APPLIED
    session.flush()
    return status


def discard_review(
    session: DbSession, review: ReplyReview, expected_version: int | None, actor: Actor
) -> None:
    """A planner discards a reply that waited for review (a forgery, or dealt with by
    phone); the audit log keeps what it said."""
    _decide(review, expected_version, actor)
    review.status = ReviewStatus.DISCARDED
    record(
        session,
        action="calendar_reply.discarded",
        object_type="invitation" if review.invitation_id is not None else "ceremony",
        object_id=review.invitation_id or review.ceremony_id,
        changes={
            "review": review.id,
            "reason": review.reason.value,
            "attendee": review.attendee,
            "partstat": review.partstat,
            "from": review.from_address,
            "forwarded_by": review.forwarded_by,
        },
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        address=actor.address,
    )
    session.flush()
