"""The optional second factor: setting it up, logging in with it, requiring it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pyotp
from flask.testing import FlaskClient

from app.auth.models import Role, User
from app.auth.totp import check_code
from app.extensions import db
from app.settings.services import set_setting
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
