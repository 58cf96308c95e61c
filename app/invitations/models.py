"""Invitation policies, invitations (one per organisation and edition), delegations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import DELEGATION_DATA, Base, enum_column
from app.types import utcnow

if TYPE_CHECKING:
    from app.auth.models import User
    from app.ceremonies.models import Ceremony
    from app.contacts.models import Organisation, Person


class PolicyDecision(StrEnum):
    INVITE = "invite"
    PROXY_ONLY = "proxy_only"  # not invited; staff may lay a wreath on its behalf
    DO_NOT_INVITE = "do_not_invite"


class InvitationPolicy(Base):
    """Per edition, for one organisation or for every organisation of a country.

    An organisation's own policy wins over its country's. Nothing is ever sent to an
    organisation whose policy is do-not-invite (the services refuse it).
    """

    __tablename__ = "invitation_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    ceremony_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ceremony.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    country: Mapped[str | None] = mapped_column(sa.String(2))
    decision: Mapped[PolicyDecision] = mapped_column(enum_column(PolicyDecision))
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # internal, never shown out
    approved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    approved_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("ceremony_id", "organisation_id", name="uq_policy_organisation"),
        sa.UniqueConstraint("ceremony_id", "country", name="uq_policy_country"),
        sa.CheckConstraint("(organisation_id IS NULL) <> (country IS NULL)", name="one_target"),
    )


class InvitationKind(StrEnum):
    RSVP = "rsvp"  # R.S.V.P. before the deadline
    REGRETS_ONLY = "regrets_only"
    PM = "pm"  # pour mémoire: attendance already agreed by phone
    PROXY = "proxy"  # no attendance: a wreath laid on the organisation's behalf by staff


class InvitationStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    VIEWED = "viewed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NO_REPLY = "no_reply"


class WreathChoice(StrEnum):
    NONE = "none"
    OWN = "own"  # the delegation brings its own
    ORDER = "order"  # please order one for us
    PROXY = "proxy"  # laid by staff on the organisation's behalf


class MemberRole(StrEnum):
    WREATH_LAYER = "wreath_layer"
    WREATH_BEARER = "wreath_bearer"
    SPEAKER = "speaker"
    ATTENDEE = "attendee"


class Invitation(Base):
    """One organisation invited to one edition, addressed to a person, in a language.

    The personal link's token is stored only as its SHA-256 hash; a new link replaces it.
    """

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    ceremony_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ceremony.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    addressee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    kind: Mapped[InvitationKind] = mapped_column(
        enum_column(InvitationKind), default=InvitationKind.RSVP
    )
    rsvp_deadline: Mapped[date | None] = mapped_column(sa.Date)
    cohosts: Mapped[str] = mapped_column(sa.String(500), default="")  # shown on the letter
    status: Mapped[InvitationStatus] = mapped_column(
        enum_column(InvitationStatus), default=InvitationStatus.DRAFT, index=True
    )
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    token_issued_at: Mapped[datetime | None]
    # What the link's token is derived from with the secret key (app/invitations/tokens.py),
    # so that a reminder can carry the same link; never the token itself.
    token_nonce: Mapped[str | None] = mapped_column(sa.String(32))
    sent_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    # "link" (the delegation itself) or "staff" (phone call, note verbale...).
    replied_by: Mapped[str] = mapped_column(sa.String(10), default="")
    reply_note: Mapped[str] = mapped_column(sa.Text, default="", info=DELEGATION_DATA)
    # A note verbale or other document staff attached, stored under instance/.
    document_name: Mapped[str] = mapped_column(sa.String(255), default="")
    wreath: Mapped[WreathChoice] = mapped_column(
        enum_column(WreathChoice), default=WreathChoice.NONE
    )
    ribbon_text: Mapped[str] = mapped_column(sa.String(300), default="")
    ribbon_colours: Mapped[str] = mapped_column(sa.String(100), default="")
    accessibility: Mapped[str] = mapped_column(sa.Text, default="", info=DELEGATION_DATA)
    remark: Mapped[str] = mapped_column(sa.Text, default="", info=DELEGATION_DATA)
    # Staff's manual place in the wreath order within its group (None: the group's sort).
    wreath_position: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    ceremony: Mapped[Ceremony] = relationship()
    organisation: Mapped[Organisation] = relationship()
    addressee: Mapped[Person | None] = relationship()
    members: Mapped[list[DelegationMember]] = relationship(
        back_populates="invitation",
        cascade="all, delete-orphan",
        order_by="(DelegationMember.position, DelegationMember.id)",
    )

    __table_args__ = (
        sa.UniqueConstraint("ceremony_id", "organisation_id", name="uq_invitation_per_edition"),
    )
    __mapper_args__ = {"version_id_col": version}

    @property
    def comes(self) -> bool:
        return self.status == InvitationStatus.ACCEPTED

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.status}>"


class DelegationMember(Base):
    """Someone in a delegation: named by the delegation (or staff) until the deadline."""

    __tablename__ = "delegation_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(300), info=DELEGATION_DATA)
    function: Mapped[str] = mapped_column(sa.String(300), default="", info=DELEGATION_DATA)
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole), default=MemberRole.ATTENDEE)
    car_plate: Mapped[str] = mapped_column(sa.String(20), default="", info=DELEGATION_DATA)

    invitation: Mapped[Invitation] = relationship(back_populates="members")
