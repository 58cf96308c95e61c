"""The outbox (every message Ereveld sends, and its fate) and the staff's mail texts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import MAIL_DATA, Base, enum_column
from app.types import utcnow

if TYPE_CHECKING:
    from app.auth.models import User
    from app.ceremonies.models import Ceremony
    from app.invitations.models import Invitation


class MessageKind(StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"  # to those who have not replied, before the deadline
    CONFIRMATION = "confirmation"  # of a delegation's own reply or change: no review
    UPDATE = "update"  # time or place changed: to those who accepted
    CANCELLATION = "cancellation"  # to everyone invited
    PRACTICAL = "practical"  # the practical note to accepted delegations


class MessageStatus(StrEnum):
    DRAFT = "draft"  # waiting for staff to review and release it
    QUEUED = "queued"  # released: the sender takes it (again, after a temporary failure)
    SENDING = "sending"  # claimed by a sender; stays so if the sender died mid-way
    SENT = "sent"
    FAILED = "failed"  # given up: the error says why
    CANCELLED = "cancelled"  # withdrawn by staff before it left


class OutboxMessage(Base):
    """One message to one recipient, written in the transaction of the change that caused
    it and sent only after that commit (app/mail/sender.py).

    The body keeps ``{rsvp_link}`` as written: the personal link is filled in when the
    message is built for sending, so no live link is ever stored in the database.
    """

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind))
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus), index=True)
    ceremony_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ceremony.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invitation.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(sa.String(2))
    to_address: Mapped[str] = mapped_column(sa.String(254), info=MAIL_DATA)
    to_name: Mapped[str] = mapped_column(sa.String(300), default="", info=MAIL_DATA)
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text, info=MAIL_DATA)
    # "REQUEST" or "CANCEL": the message carries the edition as an iTIP calendar part.
    calendar_method: Mapped[str] = mapped_column(sa.String(10), default="")
    attach_letter: Mapped[bool] = mapped_column(default=False)
    message_id: Mapped[str] = mapped_column(sa.String(250), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    ceremony: Mapped[Ceremony] = relationship()
    invitation: Mapped[Invitation | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"


class MailText(Base):
    """Staff's own subject and body for one kind of message in one language; where none
    is stored, the built-in text of app/mail/texts.py is used."""

    __tablename__ = "mail_text"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind))
    language: Mapped[str] = mapped_column(sa.String(2))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)

    updated_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("kind", "language", name="uq_mail_text_kind_language"),)
    __mapper_args__ = {"version_id_col": version}


class ReviewReason(StrEnum):
    """Why a calendar reply waits for staff instead of being applied on its own."""

    NOT_INVITED = "not_invited"  # its ATTENDEE got no invitation to the edition
    CANCELLED = "cancelled"  # the ceremony is cancelled
    SENDER_DIFFERS = "sender_differs"  # From is not the invited address (or it was forwarded)
    NOT_AUTHENTICATED = "not_authenticated"  # no DKIM or DMARC pass for the From domain
    OLDER_SEQUENCE = "older_sequence"  # answers a version that has changed since
    NEWER_SEQUENCE = "newer_sequence"  # answers a version Ereveld never sent
    TENTATIVE = "tentative"  # no such state here: staff phone them
    NOT_AN_ANSWER = "not_an_answer"  # DELEGATED, NEEDS-ACTION...: staff look at it
    DEADLINE_PASSED = "deadline_passed"
    REFUSED = "refused"  # another rule of the delegation's page refused it


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    DISCARDED = "discarded"


class ReplyReview(Base):
    """A calendar reply that was not applied on its own, kept for planners to apply or
    discard (app/mail/replies.py): nothing that reaches the protocol mailbox is dropped
    silently."""

    __tablename__ = "reply_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    ceremony_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ceremony.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ReviewStatus] = mapped_column(enum_column(ReviewStatus), index=True)
    reason: Mapped[ReviewReason] = mapped_column(enum_column(ReviewReason))
    detail: Mapped[str] = mapped_column(sa.String(500), default="")
    # What the calendar said: its ATTENDEE (address and CN), PARTSTAT and SEQUENCE.
    attendee: Mapped[str] = mapped_column(sa.String(254), info=MAIL_DATA)
    name: Mapped[str] = mapped_column(sa.String(300), default="", info=MAIL_DATA)
    partstat: Mapped[str] = mapped_column(sa.String(20))
    sequence: Mapped[int]
    # Who sent the email; who forwarded it, when the reply came inside another message.
    from_address: Mapped[str] = mapped_column(sa.String(254), default="", info=MAIL_DATA)
    forwarded_by: Mapped[str] = mapped_column(sa.String(254), default="", info=MAIL_DATA)
    subject: Mapped[str] = mapped_column(sa.String(300), default="", info=MAIL_DATA)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)

    ceremony: Mapped[Ceremony] = relationship()
    invitation: Mapped[Invitation | None] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def can_apply(self) -> bool:
        """Whether applying means anything: a known invitation, an edition that takes
        place, and an accept or decline (there is no tentative state to record)."""
        return (
            self.status == ReviewStatus.PENDING
            and self.invitation_id is not None
            and self.reason not in (ReviewReason.CANCELLED, ReviewReason.NOT_INVITED)
            and self.partstat in ("ACCEPTED", "DECLINED")
        )

    def __repr__(self) -> str:
        return f"<ReplyReview {self.id} {self.reason} {self.status}>"
