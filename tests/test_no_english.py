"""No English interface text on a Dutch or Russian page, email or PDF (issue #13, 5).

Everything is rendered for real from `flask demo` data: every staff page (the URL map
walked: every GET rule, its arguments filled from the demo), every public page, every
state of the delegation's page, every email kind through the composer that sends it and
every PDF kind (read back with pdftotext). From what a reader sees, the demo's own data
(names, organisations, addresses, titles...) is taken out; what is left must hold no
English msgid of two words or more and none of the words in NEVER_ENGLISH.

Extend the lists below when a page, state, email or document is added; a GET rule that
is neither rendered nor listed in NOT_PAGES fails test_every_get_rule_is_covered.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app.auth.models import Role, User
from app.ceremonies.models import Ceremony
from app.contacts.models import ContactGroup, Person
from app.extensions import Base, db
from app.invitations.models import Invitation, InvitationStatus
from app.invitations.tokens import issue_token, revoke_token
from app.mail.compose import build
from app.mail.models import MessageKind, OutboxMessage
from app.mail.sender import outgoing
from app.mail.services import write
from app.mail.texts import DEFAULTS
from app.types import local_today
from tests import pdf_tools
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("nl", "ru")

# English words that never belong on a Dutch or Russian page, whatever the catalogue says.
NEVER_ENGLISH = ("Please", "Reply", "Invitation", "Programme", "Dear", "Date", "Time", "Save")

# What may stay English on purpose, with the reason.
ALLOWED = {
    "R.S.V.P.": "French, and the usual abbreviation on Dutch and Russian cards too",
    "Soviet Field of Honour": "the foundation's English name in the language menu/footer",
}

# Rules that are not pages for a reader: files, feeds and data for programs, or pages
# that only exist in a state the demo does not have. Each with its reason.
NOT_PAGES = {
    "static": "files",
    "main.healthz": "a probe for the load balancer",
    "calendar.api_editions": "JSON for programs",
    "calendar.public_feed": "test_feeds",
    "calendar.series_feed": "test_feeds",
    "calendar.staff_feed": "iCalendar data behind a staff member's personal token",
    "calendar.edition_file": "test_feeds",
    "rsvp.feed": "test_feeds",
    "contacts.export_csv": "a spreadsheet of stored data",
    "contacts.export_vcard": "vCards of stored data",
    "privacy.export": "JSON of one person's stored data",
    "mail.eml": "the message as sent: covered by test_emails",
    "auth.second_factor": "only while a login waits for its code",
    "documents.letter_job": "only while a batch of letters is being made",
    "documents.letter_job_file": "only once a batch of letters is made",
    "invitations.document": "the delegation's own file (a note verbale), as uploaded",
    "mail.calendar_reply": "only for a calendar reply waiting in the inbox",
    # The delegation's page and the PDFs have tests of their own below.
    "rsvp.page": "test_rsvp_states",
    "rsvp.member": "test_rsvp_states",
    "documents.public_programme": "test_pdfs",
    "documents.staff_programme": "test_pdfs",
    "documents.letter_preview": "test_pdfs",
    "documents.guest_list": "test_pdfs",
    "documents.security_list": "test_pdfs",
    "documents.run_sheet": "test_pdfs",
    "documents.name_cards": "test_pdfs",
    "documents.envelope_labels": "test_pdfs",
}

PUBLIC_PAGES = ["/", "/calendar", "/privacy", "/ceremonies/{slug}", "/login", "/nowhere"]
PUBLIC_ENDPOINTS = {
    "public.index",
    "public.edition",
    "calendar.subscribe",
    "privacy.statement",
    "auth.login",
}


# --- what a reader sees ----------------------------------------------------------------


class VisibleText(HTMLParser):
    """The text of a page as a reader meets it: no scripts or styles, and of the
    attributes only those shown or read aloud. An element marked with a language other
    than the page's holds data in its own language (an English salutation on a Dutch
    page): it is skipped, so a wrong or missing mark is what this test finds."""

    SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
    HIDDEN = ("script", "style", "template")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.page_language: str | None = None
        self.foreign: list[str] = []  # the open elements in another language

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        found = dict(attrs)
        if tag == "html":
            self.page_language = found.get("lang")
        elif self.foreign and tag == self.foreign[-1]:
            self.foreign.append(tag)  # nested in a foreign one of its kind: count it
        elif found.get("lang") and self.page_language and found["lang"] != self.page_language:
            self.foreign.append(tag)
        if self.foreign:
            return
        for name in self.SHOWN_ATTRIBUTES:
            if found.get(name):
                self.parts.append(str(found[name]))
        if tag == "input" and found.get("type") in ("submit", "button") and found.get("value"):
            self.parts.append(str(found["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        if self.foreign and tag == self.foreign[-1]:
            self.foreign.pop()

    def handle_data(self, data: str) -> None:
        if not self.hidden and not self.foreign:
            self.parts.append(data)


def visible(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return "\n".join(parser.parts)


@cache
def english_msgids(language: str) -> tuple[str, ...]:
    """The catalogue's msgids of two words or more that are translated differently,
    longest first; a msgid with placeholders counts by its longest literal stretch."""
    path = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    found: set[str] = set()
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid in strings:
                continue  # the same in both languages (a name, "E-mail")
            for stretch in re.split(r"%\(\w+\)[sd]|%[sd]|\{\w+\}", str(msgid)):
                stretch = stretch.strip(" :,.;()[]—-\n")
                if len(stretch.split()) >= 2:
                    found.add(stretch)
    return tuple(sorted(found, key=len, reverse=True))


def data_values() -> list[str]:
    """Every stored text of the demo (names, addresses, titles, notes...), longest first:
    data is not interface, and its language is the data's own business."""
    values: set[str] = set()
    for table in Base.metadata.sorted_tables:
        if table.name.startswith(("audit", "outbox", "mail_text")):
            continue
        columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.Enum)]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            for value in row:
                if isinstance(value, str) and len(value.strip()) >= 2:
                    values.add(value.strip())
                    values.update(line.strip() for line in value.splitlines() if line.strip())
    # The built-in mail texts are content in their own language (the texts page lists
    # every language's subject).
    for texts in DEFAULTS.values():
        for text in texts.values():
            values.add(text.subject)
            values.update(line.strip() for line in text.body.splitlines() if line.strip())
    return sorted(values, key=len, reverse=True)


# Set to a folder to keep what each check read (to see what the test sees).
DUMP = os.environ.get("NO_ENGLISH_DUMP")


def english_in(text: str, language: str, data: list[str]) -> list[str]:
    """The English interface text left in ``text`` once the data is taken out."""
    text = html.unescape(text)
    if DUMP:
        name = re.sub(r"\W+", "_", text[:60])
        Path(DUMP, f"{language}-{len(os.listdir(DUMP)):03d}-{name}.txt").write_text(text)
    for value in data:
        text = text.replace(value, " ")
    for allowed in ALLOWED:
        text = text.replace(allowed, " ")
    text = re.sub(r"https?://\S+|\S+@\S+", " ", text)
    flat = " ".join(text.split())
    found = [msgid for msgid in english_msgids(language) if " ".join(msgid.split()) in flat]
    found += [f"word {w!r}" for w in NEVER_ENGLISH if re.search(rf"\b{w}\b", flat)]
    return found


# --- the demo --------------------------------------------------------------------------


@dataclass
class Demo:
    ceremony: Ceremony
    invitation: Invitation
    message: OutboxMessage  # a Dutch one: a message page shows the message in its language
    data: list[str]


@pytest.fixture
def demo(app: Flask, runner: FlaskCliRunner) -> Demo:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    slug = f"{local_today().year + 1}-9-mei"
    ceremony = db.session.scalar(sa.select(Ceremony).where(Ceremony.slug == slug))
    assert ceremony is not None
    accepted = db.session.scalars(
        sa.select(Invitation).where(
            Invitation.ceremony_id == ceremony.id,
            Invitation.status == InvitationStatus.ACCEPTED,
        )
    ).first()
    assert accepted is not None
    accepted.language = "nl"
    message = write(db.session, MessageKind.CONFIRMATION, accepted)
    assert message is not None
    db.session.commit()
    return Demo(ceremony, accepted, message, data_values())


@pytest.fixture
def as_admin(client: FlaskClient, make_user: Callable[..., User]) -> None:
    """Logged in as an admin of our own (the demo made admin@example.org already)."""
    user = make_user(Role.ADMIN, email="i18n-admin@example.org")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def get(app: Flask, client: FlaskClient) -> Callable[[str], tuple[int, str, bytes]]:
    """GET in an application context of its own, as in production."""

    def fetch(url: str) -> tuple[int, str, bytes]:
        with app.app_context():
            response = client.get(url, follow_redirects=True)
        # Logged out, a staff page would send us to the login page: Dutch, and no test.
        assert response.request.path != "/login" or url.startswith("/login"), url
        return response.status_code, response.mimetype or "", response.get_data()

    return fetch


def fail_on(problems: dict[str, list[str]]) -> None:
    problems = {where: found for where, found in problems.items() if found}
    assert not problems, "English left:\n" + "\n".join(
        f"  {where}: {found}" for where, found in problems.items()
    )


# --- staff pages -----------------------------------------------------------------------


def staff_urls(app: Flask, demo: Demo) -> Iterator[tuple[str, str]]:
    """(endpoint, URL) of every GET rule that is a page, arguments from the demo."""
    invitation = demo.invitation
    person = invitation.addressee or db.session.scalars(sa.select(Person)).first()
    assert person is not None
    group = db.session.scalars(sa.select(ContactGroup)).first()
    item = demo.ceremony.items[0] if demo.ceremony.items else None
    appointment = person.appointments[0] if person.appointments else None
    user = db.session.scalars(sa.select(User)).first()
    arguments: dict[str, object] = {
        "slug": demo.ceremony.slug,
        "invitation_id": invitation.id,
        "organisation_id": invitation.organisation_id,
        "person_id": person.id,
        "group_id": group.id if group else None,
        "message_id": demo.message.id,
        "item_id": item.id if item else None,
        "appointment_id": appointment.id if appointment else None,
        "user_id": user.id if user else None,
        "venue_id": demo.ceremony.venue_id,
        "role": "ambassador",
        "gender": "female",
        "kind": MessageKind.INVITATION.value,
        "invitation_kind": "rsvp",
        "lang": "nl",
    }
    for rule in app.url_map.iter_rules():
        if (
            "GET" not in (rule.methods or ())
            or rule.endpoint in NOT_PAGES.keys() | PUBLIC_ENDPOINTS
        ):
            continue
        needed = set(rule.arguments) - set(rule.defaults or {})
        if rule.endpoint == "ceremonies.edit_series":
            series = demo.ceremony.series
            assert series is not None
            values: dict[str, object] = {"slug": series.slug} if needed else {}
        else:
            values = {name: arguments.get(name) for name in needed}
        missing = [name for name, value in values.items() if value is None]
        assert not missing, f"{rule.rule}: no demo value for {missing}"
        url = rule.build(values, append_unknown=False)
        assert url is not None
        yield rule.endpoint, url[1]


def test_every_get_rule_is_covered(app: Flask, demo: Demo) -> None:
    """A new page is rendered by test_staff_pages_in_dutch or named in NOT_PAGES."""
    rendered = {endpoint for endpoint, _ in staff_urls(app, demo)}
    every = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    assert every <= rendered | set(NOT_PAGES) | PUBLIC_ENDPOINTS
    assert len(rendered) > 40


def test_staff_pages_in_dutch(
    app: Flask,
    demo: Demo,
    as_admin: None,
    get: Callable[[str], tuple[int, str, bytes]],
) -> None:
    """Staff pages speak Dutch and English only; the Dutch must hold no English."""
    problems: dict[str, list[str]] = {}
    for _endpoint, url in list(staff_urls(app, demo)):
        status, mimetype, body = get(url + ("&" if "?" in url else "?") + "lang=nl")
        if status != 200:
            problems[url] = [f"status {status}"]
            continue
        if mimetype != "text/html":
            continue
        problems[url] = english_in(visible(body.decode()), "nl", demo.data)
    fail_on(problems)


# --- public pages ----------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages(
    demo: Demo, get: Callable[[str], tuple[int, str, bytes]], language: str
) -> None:
    problems: dict[str, list[str]] = {}
    for page in PUBLIC_PAGES:
        url = page.format(slug=demo.ceremony.slug)
        status, _, body = get(f"{url}?lang={language}")
        assert status in (200, 404), f"{url}: {status}"
        problems[url] = english_in(visible(body.decode()), language, demo.data)
    fail_on(problems)


# --- the delegation's page in each state ----------------------------------------------


def invitation_in(demo: Demo, status: InvitationStatus) -> Invitation:
    found = db.session.scalars(
        sa.select(Invitation).where(
            Invitation.ceremony_id == demo.ceremony.id, Invitation.status == status
        )
    ).first()
    assert found is not None, f"the demo has no {status} invitation"
    return found


RSVP_STATES: dict[str, Callable[[Demo], str | None]] = {
    # Each makes the state and returns the token of its page (None: a dead link).
    "open": lambda demo: issue_token(invitation_in(demo, InvitationStatus.SENT)),
    "accepted": lambda demo: issue_token(invitation_in(demo, InvitationStatus.ACCEPTED)),
    "declined": lambda demo: issue_token(invitation_in(demo, InvitationStatus.DECLINED)),
    "past deadline": lambda demo: past_deadline(invitation_in(demo, InvitationStatus.SENT)),
    "withdrawn link": lambda demo: withdrawn(invitation_in(demo, InvitationStatus.SENT)),
}


def past_deadline(invitation: Invitation) -> str:
    token = issue_token(invitation)
    invitation.rsvp_deadline = local_today() - timedelta(days=1)
    return token


def withdrawn(invitation: Invitation) -> str:
    token = issue_token(invitation)
    revoke_token(invitation)
    return token


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("state", list(RSVP_STATES))
def test_rsvp_states(
    demo: Demo, get: Callable[[str], tuple[int, str, bytes]], state: str, language: str
) -> None:
    token = RSVP_STATES[state](demo)
    db.session.commit()
    status, _, body = get(f"/rsvp/{token}?lang={language}")
    assert status == (404 if state == "withdrawn link" else 200)
    text = visible(body.decode())
    assert re.search("[а-яё]", text) if language == "ru" else " de " in text
    fail_on({state: english_in(text, language, demo.data)})


# --- emails ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_emails(app: Flask, demo: Demo, language: str) -> None:
    """Every kind, as the sender puts it together (subject, text and HTML parts)."""
    invitation = demo.invitation
    invitation.language = language
    problems: dict[str, list[str]] = {}
    with app.test_request_context():
        for kind in MessageKind:
            message = write(db.session, kind, invitation)
            assert message is not None
            email = build(outgoing(message, "https://ereveld.example/rsvp/x", with_letter=False))
            text = f"{email['Subject']}\n"
            for part in email.walk():
                if part.get_content_type() == "text/plain":
                    text += part.get_content()
                elif part.get_content_type() == "text/html":
                    text += visible(part.get_content())
            problems[kind.value] = english_in(text, language, demo.data)
    fail_on(problems)


# --- calendar feeds ----------------------------------------------------------------------

FEEDS = [
    "/calendar.ics?lang={lang}",
    "/calendar/{series}.ics?lang={lang}",
    "/ceremonies/{slug}.ics?lang={lang}",
    "/rsvp/{token}/calendar.ics?lang={lang}",
]
READ_IN_FEEDS = ("SUMMARY", "DESCRIPTION", "LOCATION", "X-WR-CALNAME", "X-WR-CALDESC")


def feed_text(ics: str) -> str:
    """What a calendar shows of a feed: its titles, descriptions and places."""
    unfolded = re.sub(r"\r?\n[ \t]", "", ics)
    shown = []
    for line in unfolded.splitlines():
        name, _, value = line.partition(":")
        if name.split(";")[0] in READ_IN_FEEDS:
            shown.append(value.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";"))
    return "\n".join(shown)


@pytest.mark.parametrize("language", LANGUAGES)
def test_feeds(demo: Demo, get: Callable[[str], tuple[int, str, bytes]], language: str) -> None:
    series = demo.ceremony.series
    assert series is not None
    token = issue_token(demo.invitation)
    db.session.commit()
    problems: dict[str, list[str]] = {}
    for pattern in FEEDS:
        url = pattern.format(
            lang=language, series=series.slug, slug=demo.ceremony.slug, token=token
        )
        status, mimetype, body = get(url)
        assert (status, mimetype) == (200, "text/calendar"), url
        text = feed_text(body.decode())
        assert text.strip(), url
        problems[url] = english_in(text, language, demo.data)
    fail_on(problems)


# --- PDFs ------------------------------------------------------------------------------

PDFS = [
    "/ceremonies/{slug}/programme.pdf?lang={lang}",
    "/staff/ceremonies/{slug}/programme.pdf?lang={lang}",
    "/staff/invitations/{invitation}/letter.pdf?layout=letter",
    "/staff/invitations/{invitation}/letter.pdf?layout=card",
    "/staff/ceremonies/{slug}/guest-list.pdf?lang={lang}",
    "/staff/ceremonies/{slug}/security-list.pdf?lang={lang}",
    "/staff/ceremonies/{slug}/wreath-run-sheet.pdf?lang={lang}",
    "/staff/ceremonies/{slug}/name-cards.pdf?lang={lang}&layout=badges",
    "/staff/ceremonies/{slug}/name-cards.pdf?lang={lang}&layout=tents",
    "/staff/ceremonies/{slug}/labels.pdf",
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdfs(
    demo: Demo,
    as_admin: None,
    get: Callable[[str], tuple[int, str, bytes]],
    tmp_path: Path,
    language: str,
) -> None:
    demo.invitation.language = language  # a letter speaks its invitation's language
    db.session.commit()
    problems: dict[str, list[str]] = {}
    for pattern in PDFS:
        url = pattern.format(slug=demo.ceremony.slug, invitation=demo.invitation.id, lang=language)
        status, mimetype, body = get(url)
        assert (status, mimetype) == (200, "application/pdf"), url
        text = pdf_tools.text(body, tmp_path, layout=False)
        problems[url] = english_in(text, language, demo.data)
    fail_on(problems)


# --- the checker itself ----------------------------------------------------------------


def test_the_checker_finds_english() -> None:
    """A Dutch text with one untranslated sentence and one stray word is caught; the
    same text fully Dutch, with English data taken out, passes."""
    data = ["Embassy of the Republic of Kazakhstan"]
    dutch = "Verbeter de gemarkeerde velden. Embassy of the Republic of Kazakhstan"
    assert english_in(dutch, "nl", data) == []
    assert "Please correct the marked fields" in english_in(
        "Please correct the marked fields.", "nl", data
    )
    assert english_in("Antwoord: Save", "nl", data) == ["word 'Save'"]
    assert english_in("<b>x</b>", "nl", data) == []
    hidden = '<script>var x = "Please correct the marked fields."</script><p title="Save">a</p>'
    assert english_in(visible(hidden), "nl", data) == ["word 'Save'"]
