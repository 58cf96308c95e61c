"""CSRF protection: a POST without the form's token is refused with a friendly page.

The other tests turn CSRF off; here it is on, as in production. Requests run in a fresh
context each, as in production (see test_authorisation.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony, CeremonyStatus
from app.extensions import Base, db
from tests.conftest import PASSWORD


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.fixture
def client(csrf_app: Flask) -> FlaskClient:
    return csrf_app.test_client()


def fingerprint() -> dict[str, list[str]]:
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
            for table in Base.metadata.sorted_tables
        }


def token_in(response: TestResponse, action: str | None = None) -> str:
    """The CSRF token of the page's form (the one posting to ``action``, if given)."""
    page = response.get_data(as_text=True)
    if action is not None:
        form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
        assert form is not None, action
        page = form.group(1)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert found is not None, "no CSRF token in the form"
    return found.group(1)


def assert_csrf_refusal(response: TestResponse) -> None:
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This form has expired" in page  # the friendly page, not a bare 400
    assert "reload the page" in page
    assert "Traceback" not in page


def log_in(client: FlaskClient, email: str) -> None:
    page = client.get("/login?lang=en")
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token_in(page)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert client.get("/staff/account?lang=en").status_code == 200


def test_login_without_a_token_is_refused(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.PLANNER)
    client.get("/login?lang=en")
    before = fingerprint()
    response = client.post("/login", data={"email": "planner@example.org", "password": PASSWORD})
    assert_csrf_refusal(response)
    assert fingerprint() == before  # no login was recorded
    assert client.get("/staff/ceremonies").status_code == 302  # and nobody is logged in


def test_login_with_the_token_of_the_form_works(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.PLANNER)
    log_in(client, "planner@example.org")
    assert client.get("/staff/ceremonies").status_code == 200


def test_a_token_of_another_session_is_refused(
    csrf_app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.PLANNER)
    other = csrf_app.test_client()
    foreign = token_in(other.get("/login?lang=en"))
    client.get("/login?lang=en")
    response = client.post(
        "/login", data={"email": "planner@example.org", "password": PASSWORD, "csrf_token": foreign}
    )
    assert_csrf_refusal(response)
    response = client.post(
        "/login",
        data={"email": "planner@example.org", "password": PASSWORD, "csrf_token": "garbage"},
    )
    assert_csrf_refusal(response)


@pytest.fixture
def planner(client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    make_user(Role.PLANNER)
    log_in(client, "planner@example.org")
    return client


def test_an_edit_without_a_token_is_refused_and_with_it_saved(
    planner: FlaskClient, edition: Callable[..., Ceremony]
) -> None:
    slug = edition("4-mei", 2026).slug
    url = f"/staff/ceremonies/{slug}/edit"
    page = planner.get(url)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page.get_data(as_text=True))
    assert version is not None
    form = {
        "title_nl": "Nationale Dodenherdenking",
        "title_en": "Remembrance, with token",
        "title_ru": "",
        "day": "2026-05-04",
        "start_time": "18:45",
        "end_time": "20:30",
        "venue_id": "1",
        "public": "y",
        "base_year": "1945",
        "notes": "",
        "version": version.group(1),
    }
    db.session.rollback()
    ceremony = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert ceremony is not None
    form["venue_id"] = str(ceremony.venue_id)
    db.session.rollback()

    before = fingerprint()
    assert_csrf_refusal(planner.post(url, data=form))
    assert fingerprint() == before

    response = planner.post(url, data={**form, "csrf_token": token_in(page)})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/staff/ceremonies/{slug}"
    db.session.rollback()
    saved = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert saved is not None
    assert saved.title_en == "Remembrance, with token"


def test_a_button_without_a_token_is_refused_and_with_it_works(
    planner: FlaskClient, edition: Callable[..., Ceremony]
) -> None:
    ceremony = edition("4-mei", 2026)
    slug, version = ceremony.slug, ceremony.version
    action = f"/staff/ceremonies/{slug}/status/publish"
    before = fingerprint()
    assert_csrf_refusal(planner.post(action, data={"version": str(version)}))
    assert fingerprint() == before

    page = planner.get(f"/staff/ceremonies/{slug}")
    response = planner.post(
        action, data={"version": str(version), "csrf_token": token_in(page, action)}
    )
    assert response.status_code == 302
    db.session.rollback()
    saved = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert saved is not None
    assert saved.status == CeremonyStatus.PUBLISHED


def test_logout_needs_the_token(planner: FlaskClient) -> None:
    assert_csrf_refusal(planner.post("/logout"))
    page = planner.get("/staff/ceremonies")
    assert page.status_code == 200  # a forged logout did not log anyone out
    response = planner.post("/logout", data={"csrf_token": token_in(page, "/logout")})
    assert response.status_code == 302
    assert planner.get("/staff/ceremonies").status_code == 302
