"""Form fields shared by every capability: text that is clean before it is stored."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, StringField, TextAreaField
from wtforms.form import BaseForm
from wtforms.validators import ValidationError

# Bidi overrides make 'A\u202eexe.live' print reversed; other C0/C1 controls have no
# business in a name. Line breaks are allowed only in multi-line fields.
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_CONTROL_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_BLOCK = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 wants them (tuples are deprecated)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def _normalise(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


class TextField(StringField):
    """One line of text: NFC, trimmed, no control or bidi characters."""

    data: str | None

    def process_formdata(self, valuelist: Sequence[Any]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = _normalise(self.data)

    def pre_validate(self, form: BaseForm) -> None:
        if self.data and _CONTROL_LINE.search(self.data):
            raise ValidationError(_l("Remove control or text-direction characters."))


class LongTextField(TextAreaField):
    """Several lines of text, cleaned like TextField; line breaks become \\n."""

    data: str | None

    def process_formdata(self, valuelist: Sequence[Any]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = _normalise(self.data.replace("\r\n", "\n").replace("\r", "\n"))

    def pre_validate(self, form: BaseForm) -> None:
        if self.data and _CONTROL_BLOCK.search(self.data):
            raise ValidationError(_l("Remove control or text-direction characters."))


# email-validator explains in English only; its explanation, matched by kind, becomes ours
# (translated), so a Dutch page never reads "Geen geldig e-mailadres: An email address
# must have an @-sign.". First match wins; anything unforeseen gets the plain message.
EMAIL_PROBLEMS: tuple[tuple[str, Any], ...] = (
    ("must have an @-sign", _l("An email address needs an @-sign.")),
    ("more than one @", _l("An email address has only one @-sign.")),
    ("something before the @-sign", _l("Something must come before the @-sign.")),
    ("something after the @-sign", _l("Something must come after the @-sign.")),
    ("too long", _l("This email address is too long.")),
    ("so many characters", _l("This email address is too long.")),
    ("period", _l("A full stop is not allowed there in an email address.")),
    ("after the @-sign", _l("The part after the @-sign is not a valid domain name.")),
    ("character", _l("This email address contains characters that are not allowed.")),
)


def email_problem(error: Exception) -> Any:
    """What is wrong with an email address, as a lazy text in the reader's language."""
    explained = str(error)
    for fragment, message in EMAIL_PROBLEMS:
        if fragment in explained:
            return _l("Not a valid email address: %(why)s", why=message)
    return _l("Not a valid email address.")
