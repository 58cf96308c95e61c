"""Headers on every response, login throttling, sessions."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.auth import throttle
from app.auth.models import LoginThrottle, Role, User
from app.auth.services import verify_password
from app.extensions import db
from tests.conftest import PASSWORD


@pytest.mark.parametrize("path", ["/", "/calendar", "/login", "/no/such/page"])
def test_security_headers(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP here


def test_hsts_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_staff_pages_are_not_stored(client: FlaskClient, login: Callable[[Role], User]) -> None:
    login(Role.VIEWER)
    response = client.get("/staff/ceremonies")
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "no-store" not in client.get("/calendar").headers.get("Cache-Control", "")


def test_no_inline_styles_or_scripts(
    client: FlaskClient, login: Callable[[Role], User], edition: Callable[..., object]
) -> None:
    edition("4-mei", 2026)
    login(Role.ADMIN)
    for path in [
        "/",
        "/calendar",
        "/staff/ceremonies?year=2026",
        "/staff/ceremonies/2026-4-mei",
        "/staff/venues",
        "/staff/account",
        "/staff/settings",
    ]:
        page = client.get(path).get_data(as_text=True)
        assert "<script" not in page, path
        assert " style=" not in page, path  # the CSP would block it


def lane(key: str) -> LoginThrottle | None:
    db.session.rollback()  # see what the app's requests committed
    return db.session.scalar(sa.select(LoginThrottle).where(LoginThrottle.key == key))


def test_login_is_throttled_per_account_and_address(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.PLANNER)
    client.get("/login?lang=en")  # the messages below are checked in English
    for _ in range(throttle.PAIR.free):
        refused = client.post("/login", data={"email": user.email, "password": "wrong pass"})
        assert refused.status_code == 400
    throttled = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert throttled.status_code == 429
    assert "Too many attempts. Please wait 5 seconds" in throttled.get_data(as_text=True)
    assert throttled.headers["Retry-After"] == "5"
    # An unknown account gets the same treatment, so the answer reveals nothing.
    for _ in range(throttle.PAIR.free):
        client.post("/login", data={"email": "nobody@example.org", "password": "wrong pass"})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "x" * 9})
    assert unknown.status_code == 429
    # A wait, not a lockout: once it has passed, the right password gets in.
    row = lane(throttle.pair_key(user.email, "127.0.0.1"))
    assert row is not None
    row.blocked_until -= 5
    db.session.commit()
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )


def test_the_wait_grows_with_every_guess(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.PLANNER)
    waits = []
    for _ in range(throttle.PAIR.free + 6):
        client.post("/login", data={"email": user.email, "password": "wrong pass"})
        row = lane(throttle.pair_key(user.email, "127.0.0.1"))
        assert row is not None
        waits.append(row.delay)
        row.blocked_until = 0.0  # as if the guesser had waited
        db.session.commit()
    assert waits == [0, 0, 5, 10, 20, 40, 80, 160, 320]


def test_login_is_throttled_per_address(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.PLANNER)
    for number in range(throttle.ADDRESS.free):
        client.post("/login", data={"email": f"guess{number}@example.org", "password": "nope1234"})
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    other = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 302


def test_right_logins_do_not_use_up_the_address(app: Flask, make_user: Callable[..., User]) -> None:
    """Everyone in the office behind one address logs in all day."""
    user = make_user(Role.VIEWER)
    for _ in range(throttle.ADDRESS.free + 5):
        device = app.test_client()
        response = device.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302


def test_success_clears_failures(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.PLANNER)
    for _ in range(throttle.PAIR.free - 1):
        client.post("/login", data={"email": user.email, "password": "wrong pass"})
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )
    assert lane(throttle.pair_key(user.email, "127.0.0.1")) is None


def test_login_on_a_second_device_keeps_the_first(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.VIEWER)
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        device.post("/login", data={"email": user.email, "password": PASSWORD})
    assert laptop.get("/staff/ceremonies").status_code == 200
    assert phone.get("/staff/ceremonies").status_code == 200


# Open redirects after login (issue #12, Security 4): payloads of the outside test and
# variants a browser would turn into another host.
FOREIGN_TARGETS = [
    "/%09/evil.example",
    "/\t/evil.example",
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "/\n/evil.example",
    "/staff/ceremonies\nSet-Cookie: x=1",
    "/%0aSet-Cookie:x=1",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5cevil.example",
    "/%5C%5Cevil.example",
    "/%2f%2fevil.example",
    "/%252f%252fevil.example",
    "/%2509/evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    " //evil.example",
    "\x00//evil.example",
    "/%00/evil.example",
    "/\u0085/evil.example",
    "evil.example",
    "/no/such/page",
    "",
]


@pytest.mark.parametrize("target", FOREIGN_TARGETS)
def test_login_never_redirects_elsewhere(
    client: FlaskClient, make_user: Callable[..., User], target: str
) -> None:
    user = make_user(Role.PLANNER)
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/ceremonies"
    # Already logged in: the same judgement.
    again = client.get("/login", query_string={"next": target})
    assert again.headers["Location"] == "/staff/ceremonies"


@pytest.mark.parametrize(
    "target", ["/staff/venues", "/staff/ceremonies?year=2026", "/staff/account#password"]
)
def test_login_returns_to_a_page_of_this_app(
    client: FlaskClient, make_user: Callable[..., User], target: str
) -> None:
    user = make_user(Role.PLANNER)
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == target


def test_a_raw_newline_in_next_is_no_server_error(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.PLANNER)
    # Sent unencoded on the request line, as the outside test did.
    response = client.post(
        "/login?next=/%0a/evil.example", data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/ceremonies"


def test_an_idle_session_ends(
    app: Flask, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    """Issue #12, Security 8: sessions lasted 31 days with no idle timeout."""
    login(Role.VIEWER)
    idle = app.config["SESSION_IDLE_TIMEOUT"]
    assert idle <= 4 * 3600
    with client.session_transaction() as session:
        session["seen_at"] -= idle - 120  # away for a while, but not too long
    assert client.get("/staff/ceremonies").status_code == 200
    with client.session_transaction() as session:
        assert session["seen_at"] > time.time() - 5  # the request counted as activity
        session["seen_at"] -= idle + 1
    response = client.get("/staff/ceremonies")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_a_busy_session_ends_after_its_lifetime(
    app: Flask, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    login(Role.VIEWER)
    lifetime = app.config["SESSION_LIFETIME"]
    assert lifetime == 12 * 3600
    with client.session_transaction() as session:
        session["auth_at"] -= lifetime - 60
    assert client.get("/staff/ceremonies").status_code == 200
    with client.session_transaction() as session:
        session["auth_at"] -= 61  # active all along, but logged in 12 hours ago
    assert client.get("/staff/ceremonies").status_code == 302


def test_a_session_without_a_login_time_ends(
    client: FlaskClient, login: Callable[[Role], User]
) -> None:
    """Cookies from before the rule (no times in them) do not live on."""
    login(Role.VIEWER)
    with client.session_transaction() as session:
        del session["auth_at"]
    assert client.get("/staff/ceremonies").status_code == 302


def test_password_change_is_throttled_like_the_login(
    client: FlaskClient, login: Callable[[Role], User]
) -> None:
    """Issue #12, Security 9: a stolen session could guess the password without limit."""
    user = login(Role.VIEWER)
    client.get("/staff/account?lang=en")
    new = {"password": "a brand new passphrase", "confirm": "a brand new passphrase"}
    # This browser completed a login, so it has its device lane (the login form's too).
    for number in range(throttle.DEVICE.free):
        wrong = client.post("/staff/account", data={"current": f"guess {number}", **new})
        assert wrong.status_code == 400
    refused = client.post("/staff/account", data={"current": PASSWORD, **new})
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    # The same lane as the login form's: guesses there and here add up.
    assert client.post("/logout").status_code == 302
    login_again = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert login_again.status_code == 429
    db.session.rollback()
    refreshed = db.session.get(User, user.id)
    assert refreshed is not None
    assert verify_password(refreshed, PASSWORD)


def test_a_new_feed_link_is_shown_not_kept_in_the_cookie(
    app: Flask, client: FlaskClient, login: Callable[[Role], User]
) -> None:
    """Issue #12, Security 11: the flash message kept the secret feed URL in the cookie."""
    login(Role.VIEWER)
    response = client.post("/staff/account/feed")
    assert response.status_code == 200
    found = re.search(r"/calendar/staff/([\w-]+)\.ics", response.get_data(as_text=True))
    assert found is not None
    token = found.group(1)
    for header in response.headers.getlist("Set-Cookie"):
        assert token not in header
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert token not in str(serializer.loads(cookie.value))
    # Shown once: the account page does not show it again.
    assert token not in client.get("/staff/account").get_data(as_text=True)


def test_with_redis_down_logins_are_still_counted(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """A Redis that does not answer must neither open the gate nor give a 500."""
    app.config["LOGIN_THROTTLE_REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens
    app.extensions.pop("login_throttle_redis", None)
    user = make_user(Role.PLANNER)
    for _ in range(throttle.PAIR.free):
        assert (
            client.post("/login", data={"email": user.email, "password": "wrong"}).status_code
            == 400
        )
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 429
    )
    row = lane(throttle.pair_key(user.email, "127.0.0.1"))
    assert row is not None
    assert row.count == throttle.PAIR.free
