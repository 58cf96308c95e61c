"""The optional second factor: setting it up, logging in with it, requiring it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta

import pyotp
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.auth import throttle
from app.auth.models import LoginThrottle, PendingLogin, Role, User
from app.auth.totp import check_code
from app.extensions import db
from app.settings.services import set_setting
from app.types import utcnow
from tests.conftest import PASSWORD


def log_in(client: FlaskClient, user: User) -> str:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    return response.headers["Location"]


def set_up(client: FlaskClient) -> str:
    page = client.get("/staff/account/two-factor?lang=en").get_data(as_text=True)
    secret = re.search(r"type this key: ([A-Z2-7]+)", page)
    assert secret is not None
    wrong = client.post("/staff/account/two-factor", data={"action": "enable", "code": "000000"})
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret.group(1)).now()
    done = client.post("/staff/account/two-factor", data={"action": "enable", "code": code})
    assert done.status_code == 302
    return secret.group(1)


def test_login_with_a_code(
    app: object, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.PLANNER)
    log_in(client, user)
    secret = set_up(client)
    client.post("/logout")
    assert log_in(client, user) == "/login/code"
    assert client.get("/staff/ceremonies").status_code == 302  # not logged in yet
    assert client.post("/login/code", data={"code": "123456"}).status_code == 400
    previous = pyotp.TOTP(secret).at(time.time() - 30)
    # The code that enabled it was this step's; the next step's (clock drift) is fresh.
    response = client.post("/login/code", data={"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert response.status_code == 302
    assert client.get("/staff/ceremonies").status_code == 200
    db.session.rollback()
    refreshed = db.session.get(User, user.id)
    assert refreshed is not None
    assert not check_code(refreshed, previous)  # an older code is not accepted again


def test_a_code_works_once(make_user: Callable[..., User]) -> None:
    user = make_user(Role.VIEWER)
    user.totp_secret = pyotp.random_base32()
    code = pyotp.TOTP(user.totp_secret).now()
    assert check_code(user, code)
    assert not check_code(user, code)
    assert not check_code(user, "abcdef")


def test_the_code_page_needs_a_password_first(client: FlaskClient) -> None:
    assert client.get("/login/code").status_code == 302
    assert client.post("/login/code", data={"code": "123456"}).status_code == 302


def test_admins_can_require_it(client: FlaskClient, make_user: Callable[..., User]) -> None:
    set_setting(db.session, "require_totp", "yes")
    db.session.commit()
    user = make_user(Role.PLANNER)
    assert log_in(client, user) == "/staff/account/two-factor"
    assert client.get("/staff/ceremonies").headers["Location"] == "/staff/account/two-factor"
    set_up(client)
    assert client.get("/staff/ceremonies").status_code == 200


def test_switching_it_off_needs_a_code(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user(Role.VIEWER)
    log_in(client, user)
    secret = set_up(client)
    refused = client.post("/staff/account/two-factor", data={"action": "disable", "code": "1"})
    assert refused.status_code == 400
    # The same step would be refused as a replay: use the next window.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert (
        client.post(
            "/staff/account/two-factor", data={"action": "disable", "code": code}
        ).status_code
        == 302
    )
    db.session.rollback()
    refreshed = db.session.get(User, user.id)
    assert refreshed is not None
    assert refreshed.totp_secret is None


def with_code(client: FlaskClient, make_user: Callable[..., User]) -> tuple[User, str]:
    user = make_user(Role.PLANNER)
    log_in(client, user)
    secret = set_up(client)
    client.post("/logout")
    return user, secret


def test_a_right_password_does_not_reset_the_codes_limit(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """Issue #12, Security 3: each password login used to wipe the code's failures."""
    user, secret = with_code(client, make_user)
    client.get("/login?lang=en")
    guesses = 0
    for _ in range(4):  # password right, then guess codes, again and again
        assert log_in(client, user) == "/login/code"
        while True:
            answer = client.post("/login/code", data={"code": f"{guesses:06d}"})
            if answer.status_code == 429:
                break
            assert answer.status_code == 400
            guesses += 1
    assert guesses == throttle.CODE.free  # not five per password
    assert int(answer.headers["Retry-After"]) >= throttle.CODE.base
    # Even the right code waits now; the lane is not the password's.
    right = client.post("/login/code", data={"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert right.status_code == 429
    # After the wait a completed login clears the code's count.
    db.session.rollback()
    row = db.session.scalar(
        sa.select(LoginThrottle).where(LoginThrottle.key == throttle.code_key(user.id))
    )
    assert row is not None
    row.blocked_until = 0.0
    key = row.key
    db.session.commit()
    assert log_in(client, user) == "/login/code"
    done = client.post("/login/code", data={"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert done.status_code == 302
    assert db.session.scalar(sa.select(LoginThrottle.count).where(LoginThrottle.key == key)) is None


def test_the_pending_login_cookie_holds_a_random_id(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """Issue #12, Security 11: the cookie held the account's session token, i.e. a login."""
    user, _secret = with_code(client, make_user)
    log_in(client, user)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    data = serializer.loads(cookie.value)
    db.session.rollback()
    token = db.session.get(User, user.id).session_token  # type: ignore[union-attr]
    assert token not in cookie.value
    assert token not in str(data)
    pending_id = data["pending_login"]
    assert isinstance(pending_id, str)
    assert len(pending_id) >= 40
    stored = db.session.scalars(sa.select(PendingLogin)).all()
    assert [row.user_id for row in stored] == [user.id]
    assert stored[0].id != pending_id  # only its hash is kept
    # The id alone, in another browser, is no login.
    other = app.test_client()
    with other.session_transaction() as session:
        session["pending_login"] = pending_id
    assert other.get("/staff/ceremonies").status_code == 302


def test_an_expired_pending_login_asks_for_the_password_again(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user, secret = with_code(client, make_user)
    log_in(client, user)
    db.session.rollback()
    for row in db.session.scalars(sa.select(PendingLogin)):
        row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    code = pyotp.TOTP(secret).at(time.time() + 30)
    response = client.post("/login/code", data={"code": code})
    assert response.headers["Location"] == "/login"


def test_switching_it_off_is_throttled_like_the_login(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """Issue #12, Security 9: re-authentication had no limit."""
    user = make_user(Role.VIEWER)
    log_in(client, user)
    secret = set_up(client)
    for number in range(throttle.CODE.free):
        wrong = client.post(
            "/staff/account/two-factor", data={"action": "disable", "code": f"{number:06d}"}
        )
        assert wrong.status_code == 400
    code = pyotp.TOTP(secret).at(time.time() + 30)
    refused = client.post("/staff/account/two-factor", data={"action": "disable", "code": code})
    assert refused.status_code == 429
    db.session.rollback()
    assert db.session.get(User, user.id).totp_secret is not None  # type: ignore[union-attr]


def test_the_secret_being_set_up_is_not_in_the_cookie(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """The same class as Security 11: the session cookie is signed, not secret."""
    user = make_user(Role.PLANNER)
    log_in(client, user)
    page = client.get("/staff/account/two-factor?lang=en").get_data(as_text=True)
    secret = re.search(r"type this key: ([A-Z2-7]+)", page)
    assert secret is not None
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert secret.group(1) not in str(serializer.loads(cookie.value))
    code = pyotp.TOTP(secret.group(1)).now()
    assert (
        client.post(
            "/staff/account/two-factor", data={"action": "enable", "code": code}
        ).status_code
        == 302
    )
    db.session.rollback()
    assert db.session.get(User, user.id).totp_secret == secret.group(1)  # type: ignore[union-attr]
