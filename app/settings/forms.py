"""The settings form, built from the known settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, RadioField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from app.forms import LongTextField, TextField, choices
from app.settings.services import SETTINGS, TEXT_SETTINGS

EMAIL_MESSAGE = _l("Not a valid email address.")


class SettingsForm(FlaskForm):
    flag_4_may_from = RadioField(
        SETTINGS["flag_4_may_from"].label,
        choices=choices(SETTINGS["flag_4_may_from"].choices),
        validate_choice=True,
    )
    require_totp = RadioField(
        SETTINGS["require_totp"].label,
        choices=choices(SETTINGS["require_totp"].choices),
        validate_choice=True,
    )
    programme_paper = RadioField(
        SETTINGS["programme_paper"].label,
        choices=choices(SETTINGS["programme_paper"].choices),
        validate_choice=True,
    )
    letterhead_address = LongTextField(TEXT_SETTINGS["letterhead_address"].label, [Length(max=500)])
    letterhead_phone = TextField(TEXT_SETTINGS["letterhead_phone"].label, [Length(max=100)])
    letterhead_email = TextField(
        TEXT_SETTINGS["letterhead_email"].label,
        [Optional(), Length(max=254), Email(message=EMAIL_MESSAGE)],
    )
    protocol_phone = TextField(TEXT_SETTINGS["protocol_phone"].label, [Length(max=100)])
    protocol_email = TextField(
        TEXT_SETTINGS["protocol_email"].label,
        [Optional(), Length(max=254), Email(message=EMAIL_MESSAGE)],
    )
    seated_minutes = IntegerField(
        TEXT_SETTINGS["seated_minutes"].label, [InputRequired(), NumberRange(min=0, max=120)]
    )
    logo = FileField(_l("Logo on the letterhead (PNG or JPEG, at most 2 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
