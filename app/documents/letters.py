"""Invitation letters (A4) and cards (A6), one per invitation, in its language.

All letters of a batch are laid out as one document (shared fonts and stylesheets, one
layout pass) and then written as one combined PDF for the printer and as one PDF per
invitation from its own pages: layout is the expensive part and happens once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import segno
from flask import render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from app.ceremonies.models import Ceremony
from app.ceremonies.services import slugify
from app.documents.services import renderer
from app.extensions import DbSession
from app.i18n import ordinal_commemoration
from app.invitations.models import Invitation, InvitationKind, InvitationStatus
from app.invitations.services import (
    Actor,
    InvitationError,
    invitations_of,
    mark_sent,
    new_link,
    personal_url,
)
from app.types import local_today

LAYOUTS = ("letter", "card")


@dataclass(frozen=True)
class Letter:
    """One invitation and, when it goes out now, its personal address."""

    invitation: Invitation
    url: str | None  # None: a preview; the link is printed when the letter is sent


def _rsvp_line(invitation: Invitation) -> str:
    deadline = invitation.rsvp_deadline
    when = str(format_date(deadline, "long")) if deadline else ""
    if invitation.kind == InvitationKind.REGRETS_ONLY:
        line = _("Regrets only, before %(date)s", date=when) if when else _("Regrets only")
    elif invitation.kind == InvitationKind.PM:
        line = _("p.m.")
    else:
        line = _("R.S.V.P. before %(date)s", date=when) if when else _("R.S.V.P.")
    return str(line)


def letter_context(letter: Letter) -> dict[str, Any]:
    """What one letter says, in the invitation's language."""
    invitation = letter.invitation
    ceremony = invitation.ceremony
    lang = invitation.language if invitation.language in ("nl", "en", "ru") else "en"
    person = invitation.addressee
    with force_locale(lang):
        hosts = invitation.cohosts or ceremony.cohosts or _("The Soviet Field of Honour Foundation")
        start = ceremony.local_start
        return {
            "lang": lang,
            "today": format_date(local_today(), "long"),
            "honorific": person.honorific(lang) if person else "",
            "name": person.full_name if person else "",
            "native_name": " ".join(p for p in (person.native_name, person.patronymic) if p)
            if person and person.native_name
            else "",
            "organisation": invitation.organisation.display_name(lang),
            "address": invitation.organisation.address,
            "title": ceremony.title(lang),
            "anniversary": ordinal_commemoration(ceremony.anniversary, lang)
            if ceremony.anniversary
            else "",
            "when": _(
                "%(date)s at %(time)s",
                date=format_date(start.date(), "full"),
                time=f"{start:%H:%M}",
            ),
            "venue": ", ".join(p for p in (ceremony.venue.name, ceremony.venue.address) if p),
            "url": letter.url,
            # A fixed mask: choosing the best of eight took 90% of a letter's preparation,
            # and every mask gives a valid code. Scale 1: the PDF scales the image up.
            "qr": segno.make(letter.url, error="m", mask=0, micro=False).png_data_uri(
                scale=1, border=2
            )
            if letter.url
            else None,
            "t": {
                "foundation": _("Soviet Field of Honour Foundation"),
                "hosts": hosts,
                "request": _("request the honour of your presence at"),
                "dress": _("Dress: %(dress)s", dress=ceremony.dress_code)
                if ceremony.dress_code
                else "",
                "rsvp": _rsvp_line(invitation),
                "link": _(
                    "Please reply, and name the members of your delegation, on your personal page:"
                ),
                "no_link": _("(your personal link is printed here when the letter is sent)"),
                "qr_alt": _("QR code of your personal page"),
            },
        }


def letters_html(letters: Sequence[Letter], layout: str) -> str:
    return render_template(
        "pdf/letters.html",
        letters=[letter_context(letter) for letter in letters],
        layout=layout if layout in LAYOUTS else "letter",
        title=letters[0].invitation.ceremony.title("nl") if letters else "",
    )


@dataclass
class LetterBatch:
    combined: bytes
    each: list[tuple[str, bytes]]  # file name, PDF


def file_name(letter: Letter, layout: str) -> str:
    invitation = letter.invitation
    name = slugify(invitation.organisation.name)[:40].strip("-") or "organisation"
    return f"{invitation.id or 0:05d}-{name}-{layout}.pdf"


def render_letters(
    letters: Sequence[Letter],
    layout: str = "letter",
    progress: Callable[[int], None] | None = None,
) -> LetterBatch:
    """One layout pass for the whole batch, then the combined PDF and one per letter."""
    pdf = renderer()
    lang = letters[0].invitation.language if letters else "nl"
    document = pdf.layout(letters_html(letters, layout), title="Invitations", lang=lang)
    starts: dict[int, int] = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("letter-"):
                starts[int(anchor.removeprefix("letter-"))] = number
    bounds = [starts[i] for i in range(len(letters))] + [len(document.pages)]
    each = []
    for index, letter in enumerate(letters):
        pages = document.pages[bounds[index] : bounds[index + 1]]
        each.append((file_name(letter, layout), pdf.write(document.copy(pages))))
        if progress is not None:
            progress(index + 1)
    return LetterBatch(pdf.write(document), each)


@dataclass
class Mailing:
    """The letters of one batch, and the invitations that could not go out (and why)."""

    letters: list[Letter]
    skipped: list[tuple[Invitation, str]]


REISSUABLE = (InvitationStatus.SENT, InvitationStatus.VIEWED, InvitationStatus.NO_REPLY)


def send_by_letter(
    session: DbSession, ceremony: Ceremony, actor: Actor, *, reissue: bool = False
) -> Mailing:
    """Letters for an edition's invitations that go out now, each with a fresh link.

    Drafts are marked sent. With ``reissue`` invitations already sent get a letter too,
    with a new link: the link in an earlier letter or email then stops working. Replied
    and proxy invitations get no letter. The tokens exist only in the returned letters:
    the database keeps their hashes.
    """
    letters: list[Letter] = []
    skipped: list[tuple[Invitation, str]] = []
    for invitation in invitations_of(session, ceremony):
        if invitation.kind == InvitationKind.PROXY:
            continue
        try:
            if invitation.status == InvitationStatus.DRAFT:
                token = mark_sent(session, invitation, None, actor)
                if token is None:  # a link was made before it was sent
                    token = new_link(session, invitation, actor)
            elif reissue and invitation.status in REISSUABLE:
                token = new_link(session, invitation, actor)
            else:
                continue
        except InvitationError as error:
            skipped.append((invitation, str(error.message)))
            continue
        letters.append(Letter(invitation, personal_url(token)))
    session.flush()
    return Mailing(letters, skipped)
