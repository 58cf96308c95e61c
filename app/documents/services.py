"""What goes into printed documents; rendering itself is in pdf.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app, render_template
from flask_babel import gettext as _

from app.ceremonies.checks import flag_note
from app.ceremonies.models import Ceremony
from app.ceremonies.timing import ItemLike, timetable
from app.documents.booklet import impose_booklet
from app.documents.pdf import Renderer, renderer_for
from app.extensions import DbSession
from app.i18n import date_phrase, force_locale, ordinal_commemoration, pick
from app.settings.services import get_setting

# One language, or several for a mixed audience: the first leads (the document's
# language, the larger type), the others follow beneath it, each marked as its own.
PROGRAMME_LANGUAGES = ("nl", "en", "ru", "nl-en", "nl-ru", "en-ru", "nl-en-ru")
# Pages (A5 or A4 as set), or an A5 booklet imposed two-up on A4 for folding.
PROGRAMME_LAYOUTS = ("pages", "booklet")


def renderer() -> Renderer:
    app = current_app
    return renderer_for(Path(str(app.static_folder)), Path(app.instance_path) / "pdf-cache")


def item_text(item: ItemLike, lang: str) -> str:
    return pick(item, "text", lang)


def programme_languages(language: str) -> list[str]:
    """``"nl-ru"`` as ``["nl", "ru"]``; an unknown choice is Dutch."""
    return language.split("-") if language in PROGRAMME_LANGUAGES else ["nl"]


@dataclass(frozen=True)
class ProgrammePart:
    """The cover's and headings' words in one of the programme's languages."""

    lang: str
    org: str
    title: str
    anniversary: str
    long_date: str
    programme: str
    notes: str
    no_items: str
    flag: str


def _part(session: DbSession, ceremony: Ceremony, lang: str) -> ProgrammePart:
    with force_locale(lang):
        flag = flag_note(ceremony, get_setting(session, "flag_4_may_from"))
        return ProgrammePart(
            lang=lang,
            org=_("Soviet Field of Honour Foundation"),
            title=ceremony.title(lang),
            anniversary=ordinal_commemoration(ceremony.anniversary, lang)
            if ceremony.anniversary
            else "",
            long_date=date_phrase(ceremony.local_start, lang),
            programme=_("Programme"),
            notes=_("Practical notes"),
            no_items=_("The programme will be announced later."),
            flag=flag.message if flag else "",
        )


def programme_html(
    session: DbSession, ceremony: Ceremony, language: str, *, booklet: bool = False
) -> str:
    """The programme as HTML for print, in one language or several (``"nl-ru"``).

    Only what guests may read: printable items, the flag note. The venue's and the
    edition's notes are staff's own (seed data marks unverified coordinates there).
    """
    parts = [_part(session, ceremony, lang) for lang in programme_languages(language)]
    with force_locale(parts[0].lang):
        return render_template(
            "pdf/programme.html",
            ceremony=ceremony,
            parts=parts,
            lang=parts[0].lang,
            timed=[t for t in timetable(ceremony) if t.item.printable],
            # A booklet is A5 folded from A4, whatever the paper set for single pages.
            paper="a5" if booklet else get_setting(session, "programme_paper"),
            item_text=item_text,
        )


def programme_pdf(
    session: DbSession, ceremony: Ceremony, language: str, *, booklet: bool = False
) -> bytes:
    """The programme PDF (rendered once per content by the renderer); with ``booklet``,
    its A5 pages imposed two-up on A4 landscape for saddle stitching."""
    html = programme_html(session, ceremony, language, booklet=booklet)
    lang = programme_languages(language)[0]
    pdf = renderer().render(html, title=ceremony.title(lang), lang=lang)
    return impose_booklet(pdf) if booklet else pdf
