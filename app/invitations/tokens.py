"""Personal links of invitations (SECURITY.md): 256-bit tokens stored as SHA-256 hashes.

Unknown, malformed, revoked and expired tokens are all the same to callers: None, which
the views turn into one and the same 404.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import DbSession
from app.invitations.models import Invitation
from app.types import utcnow

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32)
# The link keeps working for the day after the ceremony (thank-you notes, photos), then
# it is gone: the page holds personal data that nobody needs afterwards.
GRACE_AFTER_EVENT = timedelta(days=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_token(invitation: Invitation) -> str:
    """A new personal link token; the previous one stops working at once."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.token_issued_at = utcnow()
    return token


def revoke_token(invitation: Invitation) -> None:
    invitation.token_hash = None


def invitation_for_token(session: DbSession, token: str) -> Invitation | None:
    """The invitation behind a live token, else None (whatever the reason)."""
    if not TOKEN_SHAPE.match(token):
        return None
    invitation = session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None:
        return None
    if invitation.ceremony.ends_at + GRACE_AFTER_EVENT < utcnow():
        return None
    return invitation
