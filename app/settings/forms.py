"""The settings form, built from the known settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField

from app.forms import choices
from app.settings.services import SETTINGS


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
