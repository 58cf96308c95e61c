"""Invitation letters (A4) and cards (A6), one per invitation, in its language.

A batch is laid out in chunks of letters, one document per chunk (shared fonts and
stylesheets, one layout pass), by render worker processes on every core (workers.py);
each letter is written as its own PDF from its pages, and the chunks are merged into one
PDF for the printer. Layout is the expensive part and happens once per letter.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import segno
from flask import current_app, render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from pypdf import PdfWriter
from pypdf.generic import NameObject, TextStringObject

from app.ceremonies.models import Ceremony
from app.ceremonies.services import slugify
from app.documents.pdf import Chunk, write_atomically, write_chunk
from app.documents.services import renderer
from app.documents.workers import pool_for
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
    """Where a batch's PDFs are: one per invitation, in order, and the printer's file."""

    combined: Path
    each: list[Path]


def file_name(letter: Letter, layout: str) -> str:
    invitation = letter.invitation
    name = slugify(invitation.organisation.name)[:40].strip("-") or "organisation"
    return f"{invitation.id or 0:05d}-{name}-{layout}.pdf"


def render_worker_count() -> int:
    """Render worker processes for a batch: configured, or one per core (at most four)."""
    configured = current_app.config.get("LETTER_RENDER_WORKERS")
    if configured is None:
        return min(os.cpu_count() or 1, 4)
    return max(int(configured), 0)


def render_letter(letter: Letter, layout: str = "letter") -> bytes:
    """One letter's PDF, rendered here: a preview must not wait behind a batch."""
    return renderer().render_uncached(
        letters_html([letter], layout), title="Invitations", lang=letter.invitation.language
    )


def render_letters(
    letters: Sequence[Letter],
    layout: str,
    out: Path,
    progress: Callable[[int], None] | None = None,
    *,
    keep_workers: bool = True,
) -> LetterBatch:
    """Every letter's PDF and ``combined.pdf`` into the folder ``out``.

    Letters are laid out in chunks (one document each: shared fonts and stylesheets, one
    layout pass), by the render worker processes when there are any; this process
    prepares the next chunk's HTML meanwhile, then merges the chunks into the printer's
    PDF. Files are written as they are made, so a batch of any size stays small in
    memory. A failing or dying worker raises RenderError. Without ``keep_workers`` (a
    command's one batch) the workers end before the merge instead of holding memory.
    """
    out.mkdir(parents=True, exist_ok=True)
    size = max(int(current_app.config.get("LETTER_CHUNK_SIZE", 20)), 1)
    each = [out / file_name(letter, layout) for letter in letters]
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done)

    with tempfile.TemporaryDirectory(dir=out, prefix=".chunks-") as scratch:
        wholes = [Path(scratch) / f"{start:06d}.pdf" for start in range(0, len(letters), size)]

        def chunks() -> Iterator[Chunk]:
            for number, start in enumerate(range(0, len(letters), size)):
                part = letters[start : start + size]
                yield Chunk(
                    html=letters_html(part, layout),
                    title="Invitations",
                    lang=part[0].invitation.language,
                    each=[str(path) for path in each[start : start + size]],
                    whole=str(wholes[number]),
                )

        workers = render_worker_count()
        if workers:
            config = current_app.config
            pool = pool_for(
                renderer().static_root,
                workers,
                int(config.get("LETTER_RENDER_NICE", 0)),
                float(config.get("LETTER_RENDER_TIMEOUT", 120)),
            )
            pool.run(chunks(), tick)
            if not keep_workers:
                pool.close()
        else:
            pdf = renderer()
            for chunk in chunks():
                write_chunk(pdf, chunk, tick)
        combined = out / "combined.pdf"
        lang = letters[0].invitation.language if letters else "nl"
        merge_pdfs(wholes, combined, title="Invitations", lang=lang)
    return LetterBatch(combined, each)


def merge_pdfs(parts: Sequence[Path], target: Path, *, title: str, lang: str) -> None:
    """The parts one after another in one PDF (for the printer: without tags)."""
    writer = PdfWriter()
    for part in parts:
        writer.append(part, import_outline=False)
    writer.add_metadata({"/Title": title, "/Author": "Stichting Sovjet Ereveld"})
    writer.root_object[NameObject("/Lang")] = TextStringObject(lang)
    buffer = io.BytesIO()
    writer.write(buffer)
    write_atomically(target, buffer.getvalue())


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
