"""What the calendar feeds need stored: when anything in them last changed, and the
personal feed links of staff."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base


class CalendarState(Base):
    """One row: the moment any ceremony, programme, venue or series last changed, and the
    moment anything the public feeds show (or showed) last changed.

    Feeds use them as Last-Modified and as their cache key: the staff feed the first, the
    public feeds the second, so that editing a draft does not make every public
    subscriber download an unchanged feed. A deletion or unpublication leaves no row
    behind to carry a timestamp, so it is kept here instead.
    """

    __tablename__ = "calendar_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    changed_at: Mapped[datetime]
    public_changed_at: Mapped[datetime | None]  # None: as changed_at (before 0010)


class StaffFeedLink(Base):
    """A staff member's personal feed (drafts included); only the token's hash is kept."""

    __tablename__ = "staff_feed_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
