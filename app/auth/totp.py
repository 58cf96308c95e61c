"""The optional second factor: time-based one-time codes (RFC 6238) from an app.

A code is accepted for the current 30-second step and one step either side (clock drift),
and only once: the last accepted step is stored per account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time

import pyotp
from flask import current_app

from app.auth.models import User

CODE = re.compile(r"^\d{6}$")
STEP = 30


def new_secret() -> str:
    return pyotp.random_base32()


def new_setup_nonce() -> str:
    return secrets.token_urlsafe(16)


def setup_secret(user: User, nonce: str) -> str:
    """The secret offered while an app is being set up, derived from a nonce.

    The session cookie, signed but readable, holds only the nonce: the secret that will
    become the second factor never sits in a cookie whose copies outlive the setup.
    """
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"totp-setup:{user.id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Ereveld")


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    code = code.strip().replace(" ", "")
    if not CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP)
    for step in (current - 1, current, current + 1):
        if totp.at(step * STEP) == code:
            return step
    return None


def check_code(
    user: User, code: str, *, secret: str | None = None, now: float | None = None
) -> bool:
    """True for a fresh valid code; the step is remembered so it cannot be replayed."""
    key = secret or user.totp_secret
    if not key:
        return False
    step = _matching_step(key, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def enable(user: User, secret: str, code: str) -> bool:
    """Turn the second factor on once the app shows a matching code."""
    user.totp_last_step = None
    if not check_code(user, code, secret=secret):
        return False
    user.totp_secret = secret
    return True


def disable(user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
