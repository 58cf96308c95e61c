"""The letters form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.validators import Length

from app.forms import LongTextField, choices


class LettersForm(FlaskForm):
    layout = RadioField(
        _l("Layout"),
        choices=choices((("letter", _l("A4 letter")), ("card", _l("A6 card")))),
        default="letter",
        validate_choice=True,
    )
    action = RadioField(
        _l("What to print"),
        choices=choices(
            (
                ("preview", _l("A preview of every letter, without personal links")),
                ("send", _l("Send: drafts get their personal link and are marked sent")),
            )
        ),
        default="preview",
        validate_choice=True,
    )
    # Chosen, never all at once: a new link breaks the one in a letter or email that may
    # already have arrived.
    reissue = LongTextField(
        _l(
            "With Send, also these invitations already sent, with a new link (their old link"
            " stops working): one a line, by number or by the name of the organisation or"
            " addressee"
        ),
        validators=[Length(max=5000)],
    )

    def reissue_names(self) -> list[str]:
        return [line.strip() for line in (self.reissue.data or "").splitlines() if line.strip()]


class ProgrammeForm(FlaskForm):
    """Which programme to print: a download (GET), so it changes nothing and needs no
    CSRF token."""

    class Meta:
        csrf = False

    # Not "lang": that would also switch the staff member's pages to the programme's
    # language (app.i18n.select_locale reads ?lang=).
    language = SelectField(
        _l("Language"),
        choices=choices(
            (
                ("nl", _l("Dutch")),
                ("en", _l("English")),
                ("ru", _l("Russian")),
                ("nl-en", _l("Dutch and English")),
                ("nl-ru", _l("Dutch and Russian")),
                ("en-ru", _l("English and Russian")),
                ("nl-en-ru", _l("Dutch, English and Russian")),
            )
        ),
        default="nl",
        validate_choice=True,
    )
    layout = RadioField(
        _l("Print as"),
        choices=choices(
            (
                ("pages", _l("Pages (the paper size set in the settings)")),
                (
                    "booklet",
                    _l(
                        "A5 booklet for printing: two pages on each side of A4, printed"
                        " double-sided (flip on the short edge), folded and stapled"
                    ),
                ),
            )
        ),
        default="pages",
        validate_choice=True,
    )
