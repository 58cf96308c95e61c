"""Login throttling shared by all workers: failures are rows in the database.

Checked before any password is hashed, so a flood of guesses costs a query each, not
0.15 s of Argon2. The same refusal answers known and unknown accounts alike.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from app.auth.models import LoginFailure
from app.extensions import DbSession
from app.types import utcnow

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 20
KEEP = timedelta(days=1)


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def is_throttled(session: DbSession, email: str, address: str) -> bool:
    """Too many recent failures for this account or from this address."""
    since = utcnow() - WINDOW
    recent = sa.select(sa.func.count()).select_from(LoginFailure).where(LoginFailure.at >= since)
    for_account = session.scalar(recent.where(LoginFailure.account == account_key(email)))
    from_address = session.scalar(recent.where(LoginFailure.address == address))
    return (for_account or 0) >= PER_ACCOUNT or (from_address or 0) >= PER_ADDRESS


def record_failure(session: DbSession, email: str, address: str) -> None:
    now = utcnow()
    session.add(LoginFailure(at=now, account=account_key(email), address=address[:45]))
    session.execute(sa.delete(LoginFailure).where(LoginFailure.at < now - KEEP))


def clear_failures(session: DbSession, email: str) -> None:
    session.execute(sa.delete(LoginFailure).where(LoginFailure.account == account_key(email)))
