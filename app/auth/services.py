"""Staff accounts: passwords, creation, roles, sessions."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from app.auth.models import PendingLogin, Role, User, new_session_token
from app.extensions import DbSession
from app.forms import email_problem
from app.refusals import Refusal
from app.types import utcnow

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # long enough for any passphrase; longer input is refused unhashed


class AccountError(Refusal):
    """A rule about staff accounts refused the change."""


def hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(_l("Use at least %(n)d characters.", n=MIN_PASSWORD), "password")
    if len(password) > MAX_PASSWORD:
        raise AccountError(_l("Use at most %(n)d characters.", n=MAX_PASSWORD), "password")


def hash_password(password: str) -> str:
    check_password_rules(password)
    return hasher().hash(password)


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise AccountError(email_problem(error), "email") from error


def find_by_email(session: DbSession, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    session: DbSession, email: str, password: str, role: Role, name: str = "", language: str = "nl"
) -> User:
    """A new staff account; the email must be free."""
    address = normalise_email(email)
    if find_by_email(session, address) is not None:
        raise AccountError(_l("An account with this email exists already."), "email")
    user = User(
        email=address,
        name=name,
        password_hash=hash_password(password),
        role=role,
        language=language,
        active=True,
        session_token=new_session_token(),
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


# Verifying against a dummy hash for unknown users keeps the answer time the same.
_DUMMY_HASH: str | None = None


def authenticate(session: DbSession, email: str, password: str) -> User | None:
    """The active account with this email and password, else None (same time either way)."""
    global _DUMMY_HASH
    if len(password) > MAX_PASSWORD:
        return None
    # One line per Argon2 verification, known account or not: how a flood shows in the
    # log (and how tests/test_deployment.py counts what got past the throttle).
    current_app.logger.info("login: password checked")
    user = find_by_email(session, email)
    ph = hasher()
    if user is None or not user.active:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = ph.hash("not a real password")
        with contextlib.suppress(VerificationError):
            ph.verify(_DUMMY_HASH, password)
        return None
    try:
        ph.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if ph.check_needs_rehash(user.password_hash):
        user.password_hash = ph.hash(password)
    user.last_login_at = utcnow()
    # The view starts a fresh session (no fixation); other devices stay logged in.
    return user


def verify_password(user: User, password: str) -> bool:
    current_app.logger.info("login: password checked")
    try:
        return hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(user: User, password: str) -> None:
    """Set a new password and end every other session of this account."""
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()


def update_user(
    session: DbSession,
    user: User,
    *,
    name: str,
    role: Role,
    active: bool,
    language: str,
    acting: User,
) -> None:
    """An admin changes an account; nobody can lock the last admin out."""
    if user.id == acting.id and (role != Role.ADMIN or not active):
        raise AccountError(_l("You cannot take away your own admin rights."), "role")
    user.name = name
    user.role = role
    user.language = language
    if user.active and not active:
        user.session_token = new_session_token()
    user.active = active


def end_sessions(user: User) -> None:
    user.session_token = new_session_token()


def load_user(session: DbSession, token: str) -> User | None:
    user = session.scalar(select(User).where(User.session_token == token))
    return user if user is not None and user.active else None


# --- the step between a right password and a right code ------------------------------

PENDING_SECONDS = 300


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_pending_login(session: DbSession, user: User, target: str) -> str:
    """Remember a right password for a few minutes; the browser gets a random id only."""
    now = utcnow()
    session.execute(delete(PendingLogin).where(PendingLogin.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(
        PendingLogin(
            id=_hash(token),
            user_id=user.id,
            password_at=now,
            expires_at=now + timedelta(seconds=PENDING_SECONDS),
            next=target[:2000],
        )
    )
    return token


def find_pending_login(session: DbSession, token: object) -> PendingLogin | None:
    """The unexpired pending login of an active account this id names, else None."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    pending = session.get(PendingLogin, _hash(token))
    if pending is None or pending.expires_at <= utcnow():
        return None
    user = session.get(User, pending.user_id)
    return pending if user is not None and user.active else None


def end_pending_logins(session: DbSession, user: User) -> None:
    session.execute(delete(PendingLogin).where(PendingLogin.user_id == user.id))


# --- the device cookie: the owner's own lane in the login throttle ---------------------


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def new_device_token(user: User) -> str:
    """A signed mark for a browser that completed a login to this account."""
    return _device_signer().dumps({"u": user.id, "d": secrets.token_urlsafe(12)})


def device_of(token: str | None, user: User | None) -> str | None:
    """This browser's device id if its cookie is valid and was issued to this account."""
    if not token or user is None or len(token) > 500:
        return None
    max_age = int(current_app.config["LOGIN_DEVICE_DAYS"]) * 86400
    try:
        data = _device_signer().loads(token, max_age=max_age)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("d"), str):
        return None
    return str(data["d"])
