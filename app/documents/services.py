"""What goes into printed documents; rendering itself is in pdf.py."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template

from app.ceremonies.checks import flag_note
from app.ceremonies.models import Ceremony
from app.ceremonies.timing import ItemLike, timetable
from app.documents.pdf import Renderer, renderer_for
from app.extensions import DbSession
from app.i18n import date_phrase, force_locale, ordinal_commemoration, pick
from app.settings.services import get_setting

# "nl-en": Dutch with the English text beneath, for a mixed audience.
PROGRAMME_LANGUAGES = ("nl", "en", "ru", "nl-en")


def renderer() -> Renderer:
    app = current_app
    return renderer_for(Path(str(app.static_folder)), Path(app.instance_path) / "pdf-cache")


def item_text(item: ItemLike, lang: str) -> str:
    return pick(item, "text", lang)


def programme_html(session: DbSession, ceremony: Ceremony, language: str) -> str:
    """The programme as HTML for print, in one language or bilingual nl/en."""
    lang, _, second = language.partition("-")
    with force_locale(lang):
        flag = flag_note(ceremony, get_setting(session, "flag_4_may_from"))
        return render_template(
            "pdf/programme.html",
            ceremony=ceremony,
            lang=lang,
            second_lang=second or None,
            title=ceremony.title(lang),
            second_title=ceremony.title(second) if second else None,
            anniversary=ordinal_commemoration(ceremony.anniversary, lang)
            if ceremony.anniversary
            else None,
            long_date=date_phrase(ceremony.local_start, lang),
            timed=[t for t in timetable(ceremony) if t.item.printable],
            flag=flag.message if flag else None,
            paper=get_setting(session, "programme_paper"),
            item_text=item_text,
        )


def programme_pdf(session: DbSession, ceremony: Ceremony, language: str) -> bytes:
    """The programme PDF, rendered once per content (cached by the renderer)."""
    html = programme_html(session, ceremony, language)
    lang = language.partition("-")[0]
    return renderer().render(html, title=ceremony.title(lang), lang=lang)
