"""Invitation letters (A4) and cards (A6), one per invitation, in its language.

A batch is laid out in chunks of letters, one document per chunk (shared fonts and
stylesheets, one layout pass), by render worker processes on every core (workers.py);
each letter is written as its own PDF from its pages, and this process gathers those
files into one PDF for the printer while the workers go on. Layout and drawing are the
expensive part and happen once per letter.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import pikepdf
import zxingcpp
from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy.orm import scoped_session

from app.ceremonies.guest_texts import (
    foundation_name,
    host_signature,
    hosts_subject,
    request_verb,
    shown_hosts,
    text_in,
)
from app.ceremonies.models import Ceremony
from app.ceremonies.services import slugify
from app.contacts.addressing import address_block, confirmed, mention, role_at, salutation
from app.documents.pdf import Chunk, write_chunk
from app.documents.services import renderer
from app.documents.workers import RenderError, pool_for
from app.extensions import DbSession, db
from app.files import sync_folder, write_atomically
from app.i18n import (
    date_phrase,
    date_time_phrase,
    force_locale,
    ordinal_commemoration,
    time_phrase,
)
from app.invitations.models import Invitation, InvitationKind, InvitationStatus
from app.invitations.services import (
    Actor,
    InvitationError,
    check_may_go_out,
    invitations_of,
    mark_sent,
    new_link,
    personal_url,
)
from app.invitations.tokens import new_nonce, token_for
from app.mail.compose import values as mail_values
from app.mail.texts import fill, letter_body
from app.settings.services import Letterhead, letterhead
from app.types import local_today

LAYOUTS = ("letter", "card")


@dataclass(frozen=True)
class Letter:
    """One invitation and, when it goes out now, its personal address."""

    invitation: Invitation
    url: str | None  # None: a preview; the link is printed when the letter is sent


def _rsvp_line(invitation: Invitation) -> str:
    deadline = invitation.rsvp_deadline
    when = date_phrase(deadline, invitation.language, weekday=False) if deadline else ""
    if invitation.kind == InvitationKind.REGRETS_ONLY:
        line = _("Regrets only, before %(date)s", date=when) if when else _("Regrets only")
    elif invitation.kind == InvitationKind.PM:
        line = _("p.m.")
    else:
        line = _("R.S.V.P. before %(date)s", date=when) if when else _("R.S.V.P.")
    return str(line)


def letter_language(invitation: Invitation) -> str:
    """The language a letter is written in: the invitation's, English for any other."""
    return invitation.language if invitation.language in ("nl", "en", "ru") else "en"


def letter_title(letter: Letter) -> str:
    """The PDF title of one letter, in its language: the edition and the organisation
    (a reader's list of open files, or the printer's job list, tells letters apart)."""
    invitation = letter.invitation
    lang = letter_language(invitation)
    with force_locale(lang):
        return str(
            _(
                "Invitation: %(edition)s, %(organisation)s",
                edition=invitation.ceremony.title(lang),
                organisation=invitation.organisation.display_name(lang),
            )
        )


# Protocol wording fixed by DOMAIN.md, kept beside the layout that prints it (as the
# hosts' verb is in app.ceremonies.guest_texts), not in the interface catalogues.
PLACE = {"nl": "Leusden", "en": "Leusden", "ru": "Лёйсден"}
CLOSING = {"nl": "Hoogachtend,", "en": "Yours sincerely,", "ru": "С уважением,"}
# The card: hosts, then the verb agreeing with their number, then the addressee. Russian
# would need the addressee in the accusative ("пригласить господина ..."), which is not
# stored (only the dative is); the card names the addressee on a line of its own above the
# hosts, in the nominative, and the hosts "имеют честь пригласить Вас": no declension.
CARD_REQUEST = {
    "en": ("requests the honour of the company of", "request the honour of the company of"),
    "nl": ("heeft de eer", "hebben de eer"),
    "ru": ("имеет честь пригласить Вас на", "имеют честь пригласить Вас на"),
}
CARD_AFTER = {"en": "at the", "nl": "uit te nodigen voor de", "ru": ""}


def reply_contact(head: Letterhead) -> str:
    """Whom guests reply to: the protocol telephone and email, else the letterhead's,
    else the protocol address of the outgoing mail."""
    phone = head.protocol_phone or head.phone
    email = head.protocol_email or head.email or current_app.config["MAIL_PROTOCOL_ADDRESS"]
    return " / ".join(part for part in (phone, email) if part)


def reference(invitation: Invitation) -> str:
    """The letter's reference: the edition's code and the invitation's number."""
    return f"{invitation.ceremony.slug.upper()}/{invitation.id or 0:05d}"


def _paragraphs(text: str) -> list[str]:
    return [block.strip() for block in text.split("\n\n") if block.strip()]


def letter_context(
    letter: Letter, head: Letterhead | None = None, body: str | None = None
) -> dict[str, Any]:
    """What one letter says, in the invitation's language. ``body`` is the letter's body
    text with its placeholders (letter_body); ``head`` the letterhead (settings)."""
    invitation = letter.invitation
    ceremony = invitation.ceremony
    lang = letter_language(invitation)
    person = invitation.addressee
    start = ceremony.local_start
    role = role_at(person, invitation.organisation, start.date())
    if head is None:
        head = letterhead(db.session, Path(current_app.instance_path))
    if body is None:
        body = letter_body(db.session, invitation.kind.value, lang)
    contact = reply_contact(head)
    with force_locale(lang):
        hosts = ceremony.hosts
        count = 2 if invitation.cohosts else (len(shown_hosts(hosts, lang)) or 1)
        if invitation.cohosts:
            subject, verb = invitation.cohosts, request_verb(lang, 2)
        else:
            subject = hosts_subject(hosts, lang)
            verb = request_verb(lang, count)
        dress = text_in(ceremony, "dress_code", lang)
        values = mail_values(invitation, lang)
        values["reply_contact"] = contact
        seated = start - timedelta(minutes=head.seated_minutes)
        deadline = invitation.rsvp_deadline or ceremony.rsvp_deadline
        return {
            "lang": lang,
            "today": date_phrase(local_today(), lang, weekday=False),
            "place_date": f"{PLACE[lang]}, {date_phrase(local_today(), lang, weekday=False)}",
            "reference": reference(invitation),
            "head": head,
            # The block already ends with the organisation; the postal address follows.
            "address_block": address_block(person, invitation.organisation, role, lang),
            "salutation": salutation(person, role, lang),
            "mention": mention(person, role, lang)
            if person
            else invitation.organisation.display_name(lang),
            "confirmed": confirmed(person, lang),
            "organisation": invitation.organisation.display_name(lang),
            "address": invitation.organisation.address,
            "title": ceremony.title(lang),
            "anniversary": ordinal_commemoration(ceremony.anniversary, lang)
            if ceremony.anniversary
            else "",
            "when": date_time_phrase(start, lang),
            "day": date_phrase(start, lang),
            "time": time_phrase(start, lang),
            "venue": ", ".join(p for p in (ceremony.venue.name, ceremony.venue.address) if p),
            "body": _paragraphs(fill(body, values)),
            "closing": CLOSING[lang],
            # Each host's signature block: name and function in the letter's language.
            "signatures": [host_signature(host, lang) for host in shown_hosts(hosts, lang)],
            "card_hosts": [host_signature(host, lang) for host in shown_hosts(hosts, lang)]
            if not invitation.cohosts
            else [(invitation.cohosts, "")],
            "card_request": CARD_REQUEST[lang][0 if count == 1 else 1],
            "card_after": CARD_AFTER[lang],
            "url": letter.url,
            "url_pieces": link_pieces(letter.url) if letter.url else [],
            "qr": qr_data_uri(letter.url) if letter.url else None,
            "t": {
                "foundation": foundation_name(lang),
                "hosts": subject,
                "request": verb,
                "dress": _("Dress: %(dress)s", dress=dress) if dress else "",
                "practical": text_in(ceremony, "practical_notes", lang),
                "rsvp": _rsvp_line(invitation),
                "rsvp_card": _card_rsvp_line(invitation.kind, deadline, lang, contact),
                "seated": _(
                    "Guests are requested to be seated by %(time)s",
                    time=time_phrase(seated, lang),
                ),
                "present": _("Please present this card at the entrance"),
                "reference": _("Our reference: %(reference)s", reference=reference(invitation)),
                "phone": _("Telephone: %(phone)s", phone=head.phone) if head.phone else "",
                "email": _("Email: %(email)s", email=head.email) if head.email else "",
                "reply_contact": _("Replies: %(contact)s", contact=contact),
                "link": _(
                    "Please reply, and name the members of your delegation, on your personal page:"
                ),
                "no_link": _("(your personal link is printed here when the letter is sent)"),
                "qr_alt": _("QR code of your personal page"),
                "logo_alt": _("Logo of the foundation"),
            },
        }


def _card_rsvp_line(kind: InvitationKind, deadline: date | None, lang: str, contact: str) -> str:
    """The card's reply line: "R.S.V.P. by <date> to <contact>", "Regrets only to
    <contact>" or "p.m.", in the current locale."""
    when = date_phrase(deadline, lang, weekday=False) if deadline else ""
    if kind == InvitationKind.PM:
        return str(_("p.m."))
    if kind == InvitationKind.REGRETS_ONLY:
        return str(_("Regrets only to %(contact)s", contact=contact))
    if when:
        return str(_("R.S.V.P. by %(date)s to %(contact)s", date=when, contact=contact))
    return str(_("R.S.V.P. to %(contact)s", contact=contact))


def link_pieces(url: str) -> list[str]:
    """The personal link in the pieces a line may break between: after the scheme, after
    a dot of the host, after a slash. The token is one piece: a break in it (at one of
    its hyphens above all) reads as another link, and it fits on any line of the card.
    Joined, the pieces are the link."""
    scheme, separator, rest = url.partition("://")
    pieces = re.findall(r"[^/.]*[/.]|[^/.]+$", rest) if separator else [url]
    if separator:
        pieces.insert(0, scheme + separator)
    return [piece for piece in pieces if piece]


def qr_data_uri(url: str) -> str:
    """The personal link as a QR code (error correction M, the standard quiet zone of four
    modules), drawn as one vector path: sharp at any resolution.

    A PNG of one pixel a module, scaled up by the PDF, was smoothed by poppler (and by
    printers) into grey edges at 150 dpi, where two or three dots make a module, and no
    longer read. zxing-cpp encodes in C++ in a tenth of a millisecond (segno, in Python,
    took a millisecond and a half of every letter's preparation).
    """
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    svg = code.to_svg(add_quiet_zones=True)
    # Without a viewBox the drawing keeps its size in CSS pixels instead of filling the box.
    size = re.search(r'<svg width="(\d+)" height="(\d+)"', svg)
    if size is None:
        raise ValueError("zxing-cpp wrote an SVG without a size")
    width, height = size.groups()
    svg = svg.replace(
        size.group(0), f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}"', 1
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def letters_html(letters: Sequence[Letter], layout: str) -> str:
    head = letterhead(db.session, Path(current_app.instance_path))
    return render_template(
        "pdf/letters.html",
        letters=[
            letter_context(
                letter,
                head,
                letter_body(
                    db.session, letter.invitation.kind.value, letter_language(letter.invitation)
                ),
            )
            for letter in letters
        ],
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
        letters_html([letter], layout),
        title=letter_title(letter),
        lang=letter_language(letter.invitation),
    )


def chunk_sizes(total: int, workers: int, largest: int) -> list[int]:
    """How many letters go into each chunk of a batch, in order.

    A chunk is one document: its letters share one set-up (about 3 ms), so chunks are
    as large as ``largest`` (which bounds a worker's memory) until the end of the batch
    comes near. There they shrink with what is left, so that the workers finish together
    instead of one waiting for the other's last full chunk.
    """
    sizes: list[int] = []
    left = total
    while left:
        share = -(-left // (2 * workers)) if workers > 1 else left  # half an even share
        size = min(left, largest, max(share, 3))
        sizes.append(size)
        left -= size
    return sizes


def subset_tag(program: bytes) -> str:
    """Six capitals from the font program's digest: the same subset keeps its name, two
    different subsets get two names."""
    digest = hashlib.sha256(program).digest()
    return "".join(chr(ord("A") + byte % 26) for byte in digest[:6])


def name_subsets_by_content(
    holder: pikepdf.Object, seen: set[tuple[int, int]] | None = None
) -> None:
    """Rename the font subsets that ``holder`` (a page or form) uses after their content.

    WeasyPrint tags a subset (``AKOGYC+Noto-Serif-LGC``) after the font's description,
    not after the glyphs in it: every letter's own subset of a face has the same name,
    and in the printer's PDF sixteen different programs answered to it. A RIP or
    preflight that caches fonts by name may then draw one letter with another's glyphs.
    """
    seen = set() if seen is None else seen
    resources = holder.get("/Resources")
    if not isinstance(resources, pikepdf.Dictionary):
        return
    for font in (resources.get("/Font") or pikepdf.Dictionary()).values():
        if font.is_indirect:
            if font.objgen in seen:
                continue
            seen.add(font.objgen)
        parts = [font, *(font.get("/DescendantFonts") or [])]
        descriptors = [p.FontDescriptor for p in parts if "/FontDescriptor" in p]
        programs = [
            d[key]
            for d in descriptors
            for key in ("/FontFile", "/FontFile2", "/FontFile3")
            if key in d
        ]
        if not programs:
            continue  # not embedded: its name is the installed font's
        tag = subset_tag(b"".join(bytes(program.read_raw_bytes()) for program in programs))
        for part in parts:
            if "/BaseFont" in part:
                part.BaseFont = pikepdf.Name("/" + _retagged(str(part.BaseFont)[1:], tag))
        for descriptor in descriptors:
            descriptor.FontName = pikepdf.Name("/" + _retagged(str(descriptor.FontName)[1:], tag))
    for xobject in (resources.get("/XObject") or pikepdf.Dictionary()).values():
        if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
            if xobject.is_indirect:
                seen.add(xobject.objgen)
            name_subsets_by_content(xobject, seen)


def _retagged(name: str, tag: str) -> str:
    """``ABCDEF+Name`` with a new tag (a name without one gets one: it is a subset)."""
    base = name.split("+", 1)[1] if re.fullmatch(r"[A-Z]{6}\+.+", name) else name
    return f"{tag}+{base}"


class PrinterCopy:
    """The printer's PDF: every letter's pages in the invitations' order, gathered while
    the batch renders.

    pikepdf (qpdf) copies a letter's pages in about a millisecond, a third of what
    drawing them once more into a PDF of each chunk cost the workers. Letters finish out
    of order across workers; each is appended as soon as those before it are. qpdf holds
    about a quarter of a megabyte for every PDF it has open, so every ``part`` letters
    go into a part file in ``scratch`` and are let go; ``save`` joins the parts. Untagged:
    the structure trees of the letters do not carry over into one file (each letter's
    own PDF stays tagged). Each letter keeps its own font subsets, each named after its
    content (name_subsets_by_content).
    """

    def __init__(self, order: Sequence[Path], scratch: Path, part: int = 10) -> None:
        self._position = {str(path): index for index, path in enumerate(order)}
        self._scratch = scratch
        self._part_size = part
        self._waiting: dict[int, pikepdf.Pdf] = {}
        self._next = 0
        self._parts: list[Path] = []
        self._pdf = pikepdf.new()
        self._sources: list[pikepdf.Pdf] = []  # qpdf copies their streams when saving

    def add(self, path: str) -> None:
        """The letter written to ``path`` is finished (read into memory: no open file per
        letter)."""
        self._waiting[self._position[path]] = pikepdf.open(io.BytesIO(Path(path).read_bytes()))
        while self._next in self._waiting:
            source = self._waiting.pop(self._next)
            for page in source.pages:
                if "/StructParents" in page.obj:
                    del page.obj["/StructParents"]  # its structure tree stays behind
                name_subsets_by_content(page.obj)
                self._pdf.pages.append(page)
            self._sources.append(source)
            self._next += 1
            if len(self._sources) == self._part_size:
                self._parts.append(self._save_part())

    def _save_part(self) -> Path:
        path = self._scratch / f"part-{len(self._parts):05d}.pdf"
        self._pdf.save(path)
        self._close()
        self._pdf = pikepdf.new()
        return path

    def _close(self) -> None:
        self._pdf.close()
        for source in self._sources:
            source.close()
        self._sources = []

    def save(self, target: Path, *, title: str, lang: str) -> None:
        if self._next != len(self._position):
            raise RuntimeError(
                f"the printer's PDF lacks letters ({self._next} of {len(self._position)})"
            )
        if self._parts:
            if self._sources:
                self._parts.append(self._save_part())
            # Opened from their files: qpdf reads each page's streams as it writes them.
            self._sources = [pikepdf.open(part) for part in self._parts]
            for source in self._sources:
                self._pdf.pages.extend(source.pages)
        self._pdf.docinfo["/Title"] = title
        self._pdf.docinfo["/Author"] = "Stichting Sovjet Ereveld"
        self._pdf.Root.Lang = pikepdf.String(lang)
        buffer = io.BytesIO()
        self._pdf.save(buffer)
        write_atomically(target, buffer.getvalue())
        self._close()


class LetterSink(Protocol):
    """Told of each letter whose PDF is on disk (by its index in the batch), and once all
    are (before the printer's PDF is written): SendLedger."""

    def written(self, index: int) -> None: ...

    def settle(self) -> None: ...


def clear_scraps(out: Path) -> None:
    """Remove what an interrupted batch left in ``out``: temporary files of letters and
    the printer's scratch folders (a killed process cleans up nothing itself)."""
    if not out.is_dir():
        return
    for path in out.iterdir():
        if path.name.startswith(".printer-") and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.endswith(".tmp") and path.is_file():
            path.unlink(missing_ok=True)


def render_letters(
    letters: Sequence[Letter],
    layout: str,
    out: Path,
    progress: Callable[[int], None] | None = None,
    *,
    keep_workers: bool = True,
    sink: LetterSink | None = None,
) -> LetterBatch:
    """Every letter's PDF and ``combined.pdf`` into the folder ``out``.

    Letters are laid out in chunks (one document each: shared fonts and stylesheets, one
    layout pass), by the render worker processes when there are any; this process
    prepares the next chunk's HTML meanwhile and gathers the finished letters into the
    printer's PDF. Files are written as they are made, so a batch of any size stays
    small in memory. A failing or dying worker raises RenderError. Without
    ``keep_workers`` (a command's one batch) the workers end before the printer's PDF
    is saved instead of holding memory. ``sink`` hears of each letter on disk.
    """
    out.mkdir(parents=True, exist_ok=True)
    clear_scraps(out)
    largest = max(int(current_app.config.get("LETTER_CHUNK_SIZE", 15)), 1)
    each = [out / file_name(letter, layout) for letter in letters]
    workers = render_worker_count()

    def chunks() -> Iterator[Chunk]:
        start = 0
        for size in chunk_sizes(len(letters), workers, largest):
            part = letters[start : start + size]
            yield Chunk(
                html=letters_html(part, layout),
                title="Invitations",
                lang=letter_language(part[0].invitation),
                each=[str(path) for path in each[start : start + size]],
                titles=[letter_title(letter) for letter in part],
                langs=[letter_language(letter.invitation) for letter in part],
            )
            start += size

    combined = out / "combined.pdf"
    with tempfile.TemporaryDirectory(dir=out, prefix=".printer-") as scratch:
        printer = PrinterCopy(each, Path(scratch))
        done = 0
        index_of = {str(path): index for index, path in enumerate(each)}

        def finished(path: str) -> None:
            nonlocal done
            if sink is not None:
                sink.written(index_of[path])
            printer.add(path)
            done += 1
            if progress is not None:
                progress(done)

        if workers:
            config = current_app.config
            pool = pool_for(
                renderer().static_root,
                workers,
                int(config.get("LETTER_RENDER_NICE", 0)),
                float(config.get("LETTER_RENDER_TIMEOUT", 120)),
            )
            pool.run(chunks(), finished)
            if not keep_workers:
                pool.close()
        else:
            pdf = renderer()
            for chunk in chunks():
                write_chunk(pdf, chunk, finished)
        if sink is not None:
            sink.settle()
        lang = letters[0].invitation.language if letters else "nl"
        printer.save(combined, title="Invitations", lang=lang)
    return LetterBatch(combined, each)


@dataclass
class Mailing:
    """The letters of one batch, and the invitations that could not go out (and why).

    When the batch sends, ``nonces`` holds the seed of each letter's new link by
    invitation id: nothing is changed in the database until a letter's PDF is on disk
    (SendLedger).
    """

    letters: list[Letter]
    skipped: list[tuple[Invitation, str]]
    nonces: dict[int, str] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)  # as planned, by invitation id


REISSUABLE = (InvitationStatus.SENT, InvitationStatus.VIEWED, InvitationStatus.NO_REPLY)


def send_by_letter(
    session: DbSession,
    ceremony: Ceremony,
    *,
    reissue: bool | Collection[int] = False,
) -> Mailing:
    """Letters for an edition's invitations that go out now, each with a new link.

    Drafts go out. ``reissue`` (True for all, or invitation ids) gives invitations already
    sent a letter too, with a new link: the link in an earlier letter or email then stops
    working. Replied and proxy invitations get no letter. Nothing changes here: each
    invitation is marked sent, and its link issued, by SendLedger when its own letter is
    on disk, so a batch cut short by a kill or a full disk leaves the others as they
    were, and running it again does the rest. The tokens exist only in the letters: the
    database keeps their hashes.
    """
    letters: list[Letter] = []
    skipped: list[tuple[Invitation, str]] = []
    nonces: dict[int, str] = {}
    versions: dict[int, int] = {}
    for invitation in invitations_of(session, ceremony):
        if invitation.kind == InvitationKind.PROXY:
            continue
        chosen = reissue is True or (not isinstance(reissue, bool) and invitation.id in reissue)
        if invitation.status != InvitationStatus.DRAFT and not (
            chosen and invitation.status in REISSUABLE
        ):
            if chosen:  # asked for by name: say why nothing comes of it
                skipped.append((invitation, _("it has been answered; its link stays.")))
            continue
        try:
            check_may_go_out(session, invitation)
        except InvitationError as error:
            skipped.append((invitation, str(error.message)))
            continue
        nonce = new_nonce()
        nonces[invitation.id] = nonce
        versions[invitation.id] = invitation.version
        letters.append(Letter(invitation, personal_url(token_for(nonce))))
    return Mailing(letters, skipped, nonces, versions)


def chosen_invitations(session: DbSession, ceremony: Ceremony, wanted: Sequence[str]) -> list[int]:
    """The ids of an edition's invitations named by id or by the name of their
    organisation or addressee (any case); raises InvitationError naming what matches no
    invitation, or several."""
    invitations = invitations_of(session, ceremony)
    ids: list[int] = []
    for value in wanted:
        key = value.strip().casefold()
        found = [
            i
            for i in invitations
            if str(i.id) == key
            or i.organisation.name.casefold() == key
            or (i.addressee is not None and i.addressee.full_name.casefold() == key)
        ]
        if len(found) != 1:
            message = (
                _("No invitation of this edition is %(name)s.", name=value)
                if not found
                else _("%(name)s names several invitations: give their ids.", name=value)
            )
            raise InvitationError(message)
        ids.append(found[0].id)
    return ids


class SendLedger:
    """Marks each letter's invitation sent, with the link its letter prints, once the
    letter's PDF is on disk; commits in groups of ``every`` (a commit per letter made a
    batch of 500 twice as slow), after syncing the folder, so that whatever happens to
    the process, an invitation counts as sent only when its letter exists.

    ``commit`` is the caller's (services never commit); ``committed`` hears of the
    indexes of letters each commit made sent.
    """

    def __init__(
        self,
        session: DbSession,
        mailing: Mailing,
        actor: Actor,
        out: Path,
        commit: Callable[[], None],
        *,
        every: int = 20,
        committed: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.session = session
        self.mailing = mailing
        self.actor = actor
        self.out = out
        self.commit = commit
        self.every = max(every, 1)
        self.committed = committed
        self.pending: list[int] = []
        self.sent: list[int] = []
        self.refused: list[tuple[Invitation, str]] = []

    @property
    def total(self) -> int:
        return len(self.mailing.letters)

    def written(self, index: int) -> None:
        invitation = self.mailing.letters[index].invitation
        nonce = self.mailing.nonces[invitation.id]
        try:
            if invitation.status == InvitationStatus.DRAFT:
                mark_sent(self.session, invitation, None, self.actor, nonce=nonce)
            else:
                new_link(self.session, invitation, self.actor, nonce=nonce, flush=False)
        except InvitationError as error:  # changed by someone else meanwhile
            self.refused.append((invitation, str(error.message)))
            return
        self.pending.append(index)
        if len(self.pending) >= self.every:
            self.settle()

    def settle(self) -> None:
        """Commit the letters on disk that are not committed yet."""
        if not self.pending:
            return
        sync_folder(self.out)
        self.commit()
        done, self.pending = self.pending, []
        self.sent.extend(done)
        if self.committed is not None:
            self.committed(done)

    def close(self) -> None:
        """After a failure: keep what is on disk; an error here loses only those marks
        (their letters are made again with new links by the next run)."""
        try:
            self.settle()
        except Exception:
            self.session.rollback()
            self.pending = []
            current_app.logger.exception("letters on disk could not be marked sent")


def commit_keeping_loaded(session: DbSession) -> Callable[[], None]:
    """A commit for SendLedger that leaves the batch's invitations loaded: expired by
    every commit, each later letter reloaded its invitation, organisation, addressee and
    edition one query at a time (a batch of 500 took nearly three times as long)."""
    real = session() if isinstance(session, scoped_session) else session

    def commit() -> None:
        before = real.expire_on_commit
        real.expire_on_commit = False
        try:
            real.commit()
        finally:
            real.expire_on_commit = before

    return commit


def failure_cause(error: BaseException) -> str:
    """What stopped a batch, in the system's words where it gave some."""
    if isinstance(error, RenderError):
        return error.cause
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def outcome(ledger: SendLedger, cause: str) -> str:
    """What a failed sending batch really did, for its error message."""
    sent = len(ledger.sent)
    return str(
        _(
            "%(sent)d of %(total)d letters written and marked sent; %(left)d not sent;"
            " cause: %(cause)s; run again to finish.",
            sent=sent,
            total=ledger.total,
            left=ledger.total - sent,
            cause=cause,
        )
    )


# --- envelope labels -------------------------------------------------------------------

LABELS_ACROSS, LABELS_DOWN = 3, 8  # a common A4 sheet of 24 labels of 70 x 37 mm


@dataclass(frozen=True)
class Label:
    """One envelope's address: the address block in the invitation's language, then
    the organisation's postal address."""

    lang: str
    lines: list[str]


def envelope_labels(session: DbSession, ceremony: Ceremony) -> list[Label]:
    """An address label per invitation that gets a letter (not the proxy ones), in the
    order of the letters.

    Labels are for envelopes without a window. The A4 letter itself needs none: its
    address block begins about 47 mm from the top edge and 25 mm from the left edge,
    inside the address field of DIN 5008 form B (45 mm from the top, 20 mm from the
    left, 85 x 45 mm), the window of a left-window envelope (DL or C5/6).
    """
    labels = []
    for invitation in invitations_of(session, ceremony):
        if invitation.kind == InvitationKind.PROXY:
            continue
        lang = letter_language(invitation)
        person = invitation.addressee
        role = role_at(person, invitation.organisation, ceremony.local_start.date())
        with force_locale(lang):
            block = address_block(person, invitation.organisation, role, lang)
        postal = [line.strip() for line in invitation.organisation.address.splitlines()]
        labels.append(Label(lang, [*block, *(line for line in postal if line)]))
    return labels


def labels_pdf(session: DbSession, ceremony: Ceremony) -> bytes:
    """The edition's envelope labels on A4 sheets of 3 x 8 labels of 70 x 37 mm."""
    labels = envelope_labels(session, ceremony)
    per_sheet = LABELS_ACROSS * LABELS_DOWN
    sheets = [labels[start : start + per_sheet] for start in range(0, len(labels), per_sheet)]
    rows = [
        [sheet[start : start + LABELS_ACROSS] for start in range(0, len(sheet), LABELS_ACROSS)]
        for sheet in sheets
    ]
    title = str(_("Envelope labels: %(edition)s", edition=ceremony.title("nl")))
    html = render_template("pdf/labels.html", sheets=rows, title=title)
    return renderer().render_uncached(html, title=title, lang="nl")
