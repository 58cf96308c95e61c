"""Headers on every response, login throttling, sessions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import LoginFailure, Role, User
from app.auth.throttle import PER_ACCOUNT, PER_ADDRESS
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


def test_login_is_throttled_per_account(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.PLANNER)
    client.get("/login?lang=en")  # the messages below are checked in English
    for _ in range(PER_ACCOUNT):
        refused = client.post("/login", data={"email": user.email, "password": "wrong pass"})
        assert refused.status_code == 400
    throttled = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert throttled.status_code == 429
    assert "Too many failed attempts" in throttled.get_data(as_text=True)
    # An unknown account gets the same treatment, so the answer reveals nothing.
    for _ in range(PER_ACCOUNT):
        client.post("/login", data={"email": "nobody@example.org", "password": "wrong pass"})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "x" * 9})
    assert unknown.status_code == 429


def test_login_is_throttled_per_address(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.PLANNER)
    for number in range(PER_ADDRESS):
        client.post("/login", data={"email": f"guess{number}@example.org", "password": "nope1234"})
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    other = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 302


def test_success_clears_failures(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.PLANNER)
    for _ in range(PER_ACCOUNT - 1):
        client.post("/login", data={"email": user.email, "password": "wrong pass"})
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )
    db.session.rollback()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure))
    assert count == 0


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
