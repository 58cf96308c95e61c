"""A delegation answers through its personal link in a real Chromium; staff see it.

A real threaded HTTP server with CSRF protection on, as in production; Playwright drives
/usr/bin/chromium: the embassy opens its link (in Russian, the invitation's language),
switches to English, accepts, names three members (one in Kazakh Cyrillic), orders a
wreath with a Cyrillic ribbon; then a planner logs in and finds the delegation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony, CeremonyStatus
from app.extensions import db
from app.invitations.models import Invitation, InvitationStatus, MemberRole, WreathChoice
from tests.conftest import PASSWORD
from tests.test_rsvp import KAZAKH, YEAR, Linked, invite

pytestmark = pytest.mark.browser
RIBBON = "От народа Казахстана — вечная память"


@pytest.fixture
def world(edition: Callable[..., Ceremony], make_user: Callable[..., User]) -> tuple[Linked, str]:
    ceremony = edition("9-mei", YEAR, status=CeremonyStatus.PUBLISHED)
    linked = invite(ceremony, deadline=date(YEAR, 4, 25))
    email = make_user(Role.PLANNER).email
    db.session.remove()  # the server's threads read the database on their own sessions
    return linked, email


def test_a_delegation_accepts_names_three_members_and_staff_see_them(
    server: str, browser: Browser, world: tuple[Linked, str], app: Flask
) -> None:
    linked, planner = world
    delegation = browser.new_context(locale="ru-RU", timezone_id="Europe/Amsterdam")
    delegation.set_default_timeout(15_000)
    page = delegation.new_page()

    # The link opens in the invitation's language; the delegation switches to English.
    page.goto(f"{server}{linked.url}")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("h1")).to_contain_text("День Победы и памяти")
    page.locator("a[hreflang=en]").click()
    expect(page.locator("h1")).to_contain_text("Victory Day and Day of Memory")
    expect(page.locator("#programme")).to_contain_text("Arrival of guests")

    # Accept, with the head of the delegation (prefilled from the addressee).
    expect(page.locator("#head_name")).to_have_value("Marat Abenov")
    page.locator("#head_function").fill("Ambassador")
    page.locator("#accept").click()
    expect(page.locator("#reply-status")).to_have_attribute("data-status", "accepted")
    expect(page.locator("#members tbody tr")).to_have_count(1)

    # Two more members, one in Kazakh Cyrillic.
    for name, function, role, plate in (
        (KAZAKH, "Советник", "wreath_layer", "CD 123-KZ"),
        ("Aigerim Suleimenova", "Defence attaché", "wreath_bearer", ""),
    ):
        page.locator("#name").fill(name)
        page.locator("#function").fill(function)
        page.locator("#role").select_option(role)
        page.locator("#car_plate").fill(plate)
        page.locator("#add-member").click()
        expect(page.locator("#members")).to_contain_text(name)
    expect(page.locator("#members tbody tr")).to_have_count(3)

    # The wreath: please order one, with a Cyrillic ribbon.
    page.locator("input[name=wreath][value=order]").check()
    page.locator("#ribbon_text").fill(RIBBON)
    page.locator("#ribbon_colours").fill("голубой и жёлтый")
    page.locator("#save-details").click()
    expect(page.locator("p.flash.success")).to_be_visible()
    expect(page.locator("#ribbon_text")).to_have_value(RIBBON)
    delegation.close()

    # The database holds exactly what the delegation typed.
    with app.app_context():
        invitation = db.session.get(Invitation, linked.invitation_id)
        assert invitation is not None
        assert invitation.status == InvitationStatus.ACCEPTED
        assert [(m.name, m.role) for m in invitation.members] == [
            ("Marat Abenov", MemberRole.ATTENDEE),
            (KAZAKH, MemberRole.WREATH_LAYER),
            ("Aigerim Suleimenova", MemberRole.WREATH_BEARER),
        ]
        assert invitation.members[1].car_plate == "CD 123-KZ"
        assert (invitation.wreath, invitation.ribbon_text) == (WreathChoice.ORDER, RIBBON)
        db.session.remove()

    # A planner logs in and finds the delegation on the invitation's staff page.
    staff = browser.new_context(locale="nl-NL", timezone_id="Europe/Amsterdam")
    staff.set_default_timeout(15_000)
    page = staff.new_page()
    page.goto(f"{server}/login")
    page.locator("#email").fill(planner)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button").click()
    expect(page).to_have_url(re.compile(r"/staff/"))
    page.goto(f"{server}/staff/invitations/{linked.invitation_id}")
    main = page.locator("main")
    for name in ("Marat Abenov", KAZAKH, "Aigerim Suleimenova"):
        expect(main).to_contain_text(name)
    staff.close()
