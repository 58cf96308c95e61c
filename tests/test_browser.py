"""A newcomer's first session in a real Chromium against a real HTTP server.

The app runs on the test database behind werkzeug's threaded server, with CSRF
protection on as in production; Playwright drives /usr/bin/chromium through log-in, the
year's ceremonies, an edition's programme, a changed start time and a programme item
that puts the 4 May silence at the wrong minute.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from app.auth.models import Role, User
from app.extensions import db
from app.types import local_today
from tests.conftest import PASSWORD

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LOGIN_URL = re.compile(r"/login(\?|$)")

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="nl-NL", timezone_id="Europe/Amsterdam")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def planner_email(app: Flask, make_user: Callable[..., User]) -> str:
    """The demo instance (this and next year's editions) and a planner to log in with."""
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    email = make_user(Role.PLANNER).email
    db.session.remove()  # the server's threads read the database on their own sessions
    return email


def test_newcomer_plans_4_may(server: str, planner_email: str, page: Page, tmp_path: Path) -> None:
    year = local_today().year

    # The front door leads a stranger to the log-in page: by a redirect, or (once the
    # public pages exist) by the staff log-in link.
    page.goto(f"{server}/")
    if not LOGIN_URL.search(page.url):
        page.locator('a[href^="/login"]').first.click()
    expect(page).to_have_url(LOGIN_URL)
    page.locator("#email").fill(planner_email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button").click()

    # This year's ceremonies; then the newcomer switches the interface to English.
    expect(page).to_have_url(re.compile(r"/staff/ceremonies"))
    expect(page.locator("h1")).to_contain_text(str(year))
    page.locator("a[hreflang=en]").click()
    expect(page.locator("h1")).to_have_text(f"Ceremonies {year}")
    expect(page.locator("main table tbody tr")).not_to_have_count(0)

    # The 4 May edition: its programme and the flag note.
    page.get_by_role("link", name="National Remembrance").click()
    expect(page).to_have_url(re.compile(rf"/staff/ceremonies/{year}-4-mei$"))
    expect(page.locator("h1")).to_contain_text("National Remembrance")
    programme = page.locator("main table")
    expect(programme).to_contain_text("Taptoe")
    expect(programme).to_contain_text("Two minutes' silence")
    expect(page.locator("p.flag")).to_contain_text("half-mast")
    expect(page.locator("[data-code=silence_time]")).to_have_count(0)

    # A later start: edit the details, save, and see the new time.
    page.get_by_role("link", name="Edit details").click()
    page.locator("#start_time").fill("18:30")
    page.locator("main form button").click()
    expect(page).to_have_url(re.compile(rf"/staff/ceremonies/{year}-4-mei$"))
    expect(page.locator("dl.facts")).to_contain_text("18:30–20:30")

    # A silence a minute early: the page warns.
    page.get_by_role("link", name="Add an item").click()
    page.locator("#kind").select_option("silence")
    page.locator("#start_time").fill("19:59")
    page.locator("#duration_minutes").fill("2")
    page.locator("#text_en").fill("Silence at the monument")
    page.locator("main form button").click()
    expect(page).to_have_url(re.compile(rf"/staff/ceremonies/{year}-4-mei#programme$"))
    expect(page.locator("main table")).to_contain_text("Silence at the monument")
    warning = page.locator("section.warnings [data-code=silence_time]")
    expect(warning).to_contain_text("19:59")
    expect(warning).to_contain_text("20:00-20:02")

    # CSRF is really on: a post without the form's token is refused.
    refused = page.request.post(
        f"{server}/staff/ceremonies/{year}-4-mei/items/new",
        form={"kind": "silence", "duration_minutes": "2", "text_en": "forged"},
    )
    try:
        assert refused.status == 400
    finally:
        refused.dispose()
    page.reload()
    expect(page.locator("main table")).not_to_contain_text("forged")

    screenshot = tmp_path / "edition.png"
    page.screenshot(path=screenshot, full_page=True)
    data = screenshot.read_bytes()
    assert len(data) > len(PNG_SIGNATURE)
    assert data.startswith(PNG_SIGNATURE)
