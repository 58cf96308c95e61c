"""Personal links of invitations (SECURITY.md): 256-bit tokens stored as SHA-256 hashes.

Unknown, malformed, revoked and expired tokens are all the same to callers: None, which
the views turn into one and the same 404.

A token is not stored, but it can be made again: it is an HMAC of a random nonce (kept on
the invitation) under a key derived from the app's SECRET_KEY, in the manner of Django's
password-reset tokens. A reminder or a queued invitation email can so carry the link the
delegation already has, while a copy of the database alone opens no link. Rotating the
SECRET_KEY leaves issued links working (their hash is stored), but they can no longer be
made again: the next message that needs one issues a new link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import DbSession
from app.invitations.models import Invitation
from app.types import utcnow

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32)
# The link keeps working for the day after the ceremony (thank-you notes, photos), then
# it is gone: the page holds personal data that nobody needs afterwards.
GRACE_AFTER_EVENT = timedelta(days=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _derive(nonce: str) -> str:
    key = hashlib.sha256(b"ereveld invitation link\0" + _secret()).digest()
    digest = hmac.new(key, nonce.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _secret() -> bytes:
    secret = current_app.config.get("SECRET_KEY")
    if not secret:
        raise RuntimeError("SECRET_KEY is needed to make personal links")
    return str(secret).encode("utf-8")


def new_nonce() -> str:
    """The seed of a link not issued yet: a letter can print its link (``token_for``) and
    the invitation takes it (``issue_token``) only once the letter is on disk."""
    return secrets.token_urlsafe(24)


def token_for(nonce: str) -> str:
    return _derive(nonce)


def issue_token(invitation: Invitation, nonce: str | None = None) -> str:
    """A new personal link token (from ``nonce`` when given); the previous one stops
    working at once."""
    nonce = nonce or new_nonce()
    token = _derive(nonce)
    invitation.token_nonce = nonce
    invitation.token_hash = token_hash(token)
    invitation.token_issued_at = utcnow()
    return token


def current_token(invitation: Invitation) -> str | None:
    """The live link's token made again, or None when there is no link or it cannot be
    made again (issued before nonces, or under another SECRET_KEY)."""
    if invitation.token_hash is None or invitation.token_nonce is None:
        return None
    token = _derive(invitation.token_nonce)
    return token if hmac.compare_digest(token_hash(token), invitation.token_hash) else None


def revoke_token(invitation: Invitation) -> None:
    invitation.token_hash = None
    invitation.token_nonce = None


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
