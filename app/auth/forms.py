"""Login and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from app.auth.models import Role
from app.auth.services import MAX_PASSWORD, MIN_PASSWORD
from app.forms import TextField, choices

ROLE_LABELS = {
    Role.VIEWER: _l("viewer (reads)"),
    Role.PLANNER: _l("planner (edits)"),
    Role.ADMIN: _l("admin (also users and settings)"),
}
LANGUAGE_CHOICES = [("nl", "Nederlands"), ("en", "English")]


class LoginForm(FlaskForm):
    email = TextField(_l("Email"), [DataRequired(), Length(max=254)])
    # The maximum is checked before hashing: a megabyte password must not cost a hash.
    password = PasswordField(_l("Password"), [DataRequired(), Length(max=MAX_PASSWORD)])


def password_field(label: object) -> PasswordField:
    return PasswordField(label, [DataRequired(), Length(min=MIN_PASSWORD, max=MAX_PASSWORD)])


class CodeForm(FlaskForm):
    code = TextField(_l("Code from your authenticator app"), [DataRequired(), Length(max=10)])


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), [DataRequired(), Length(max=MAX_PASSWORD)])
    password = password_field(_l("New password"))
    confirm = PasswordField(
        _l("New password again"), [EqualTo("password", message=_l("The passwords differ."))]
    )


class UserForm(FlaskForm):
    name = TextField(_l("Name"), [Length(max=200)])
    role = SelectField(
        _l("Role"),
        choices=choices((r.value, label) for r, label in ROLE_LABELS.items()),
        validate_choice=True,
    )
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_CHOICES), validate_choice=True)
    active = BooleanField(_l("Active"), default=True)


class NewUserForm(UserForm):
    email = TextField(_l("Email"), [DataRequired(), Length(max=254)])
    password = password_field(_l("Password"))
