"""Staff accounts."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import STAFF_DATA, Base, enum_column
from app.types import utcnow


class Role(StrEnum):
    """Viewers read, planners also edit, admins also manage users and settings."""

    VIEWER = "viewer"
    PLANNER = "planner"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(Base):
    """A staff member who logs in."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, info=STAFF_DATA)
    name: Mapped[str] = mapped_column(sa.String(200), default="", info=STAFF_DATA)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.VIEWER)
    language: Mapped[str] = mapped_column(sa.String(2), default="nl")
    active: Mapped[bool] = mapped_column(default=True)
    # The cookie carries this token, not the id: changing it (password change, logout
    # everywhere, disabling) makes every copy of an old cookie worthless.
    session_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=new_session_token
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Optional second factor (RFC 6238 TOTP); the last accepted time step stops a code
    # from being used twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_last_step: Mapped[int | None]

    # Flask-Login's protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def can(self, needed: Role) -> bool:
        return self.active and self.role.allows(needed)

    @property
    def can_edit(self) -> bool:
        return self.can(Role.PLANNER)

    @property
    def is_admin(self) -> bool:
        return self.can(Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginThrottle(Base):
    """One throttle lane (app/auth/throttle.py): attempts counted where every worker sees them.

    Times are seconds since the epoch, so that the one statement that counts and checks
    can do its arithmetic the same way on SQLite and PostgreSQL. Keys name accounts only
    by a hash: attempts name addresses that may not be ours.
    """

    __tablename__ = "login_throttle"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    count: Mapped[int] = mapped_column(default=0)
    # When the lane forgets its count (a fixed window's end, or a quiet period after the
    # last attempt), when the next attempt may come, and the current delay between them.
    reset_at: Mapped[float] = mapped_column(sa.Float, index=True)
    blocked_until: Mapped[float] = mapped_column(sa.Float, default=0.0)
    delay: Mapped[float] = mapped_column(sa.Float, default=0.0)
    last_at: Mapped[float] = mapped_column(sa.Float, default=0.0)


class PendingLogin(Base):
    """A login whose password was right and whose second factor is still to come.

    The browser holds only a random id (its hash is stored here); never the account's
    session token, which would be a full login in a cookie.
    """

    __tablename__ = "pending_login"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256 of the id
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    password_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    next: Mapped[str] = mapped_column(sa.String(2000), default="")
