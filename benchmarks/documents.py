"""Letters and programmes: our batch against the naive loop, measured in the same run."""

from __future__ import annotations

import statistics
import time
from datetime import date

import sqlalchemy as sa
from flask import Flask
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from app.ceremonies.models import Ceremony
from app.contacts.models import Organisation, OrganisationKind, Person
from app.documents.letters import Letter, letters_html, render_letters
from app.documents.pdf import RefusingFetcher
from app.documents.services import programme_pdf, renderer
from app.extensions import db
from app.invitations.models import Invitation

LETTERS = 150


def make_invitations(slug: str) -> list[Invitation]:
    ceremony = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert ceremony is not None
    invitations = []
    for number in range(LETTERS):
        organisation = Organisation(
            name=f"Bench organisation {number}",
            kind=OrganisationKind.EMBASSY,
            country="KZ",
            address=f"Straat {number}\n2514 AA Den Haag",
        )
        person = Person(
            given_name="Nurlan",
            family_name=f"Sarsenbayev {number}",
            native_name="Нұрлан Сәрсенбаев",
            honorific_ru="Его Превосходительство",
            language="ru",
        )
        invitations.append(
            Invitation(
                ceremony=ceremony,
                organisation=organisation,
                addressee=person,
                language=("nl", "en", "ru")[number % 3],
                rsvp_deadline=date(ceremony.year, 4, 25),
            )
        )
    db.session.add_all(invitations)
    db.session.commit()
    return invitations


def naive(letters: list[Letter], app: Flask) -> float:
    """What one would write first: a new document, fonts and stylesheet per letter."""
    static = renderer().static_root
    started = time.perf_counter()
    for letter in letters:
        fonts = FontConfiguration()
        fetcher = RefusingFetcher(static)
        css = CSS(
            filename=str(static / "pdf" / "print.css"), font_config=fonts, url_fetcher=fetcher
        )
        HTML(
            string=letters_html([letter], "letter"),
            base_url=static.as_uri() + "/",
            url_fetcher=fetcher,
        ).write_pdf(stylesheets=[css], font_config=fonts)
    return time.perf_counter() - started


def run(app: Flask, slug: str) -> dict[str, float]:
    with app.test_request_context():
        invitations = make_invitations(slug)
        letters = [
            Letter(i, f"https://ereveld.example/rsvp/{'A' * 42}{i.id % 10}") for i in invitations
        ]
        render_letters(letters[:2])  # warm the fonts once, as a running worker has them
        started = time.perf_counter()
        batch = render_letters(letters)
        ours = time.perf_counter() - started
        assert len(batch.each) == LETTERS
        slow = naive(letters, app)
        ceremony = invitations[0].ceremony
        programme_pdf(db.session, ceremony, "nl")
        hits = []
        for _ in range(50):
            started = time.perf_counter()
            programme_pdf(db.session, ceremony, "nl")
            hits.append((time.perf_counter() - started) * 1000)
        client = app.test_client()
        url = f"/staff/ceremonies/{slug}/programme.pdf"
        del client, url
    return {"naive": slow, "ours": ours, "programme_hit_ms": statistics.median(hits)}
