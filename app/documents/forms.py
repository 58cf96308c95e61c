"""The letters form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField

from app.forms import choices


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
    reissue = BooleanField(
        _l("Also print invitations already sent, with a new link (the old one stops working)")
    )
