"""Forms of the contacts pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, TimeField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.contacts.importer import MAX_IMPORT_BYTES
from app.contacts.services import GENDER_LABELS, KIND_LABELS, LANGUAGE_LABELS, ROLE_LABELS
from app.forms import LongTextField, TextField, choices

TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
EMAIL_MESSAGE = _l("Not a valid email address.")
# WTForms' own message, translated by its catalogue (a name, so Babel leaves it out of ours).
WTFORMS_INVALID_DATE = "Not a valid date value."


class OrganisationForm(FlaskForm):
    """An organisation; ``version`` carries the change time the form was made from."""

    name = TextField(_l("Name"), [DataRequired(), Length(max=300)])
    name_nl = TextField(_l("Name in Dutch (if different)"), [Optional(), Length(max=300)])
    name_en = TextField(_l("Name in English (if different)"), [Optional(), Length(max=300)])
    name_ru = TextField(_l("Name in Russian (if different)"), [Optional(), Length(max=300)])
    country_genitive_ru = TextField(
        _l("Country in the Russian genitive, for letters (e.g. Республики Казахстан)"),
        [Optional(), Length(max=300)],
    )
    kind = SelectField(
        _l("Kind"),
        choices=choices((k.value, v) for k, v in KIND_LABELS.items()),
        validate_choice=True,
    )
    country = SelectField(_l("Country"), validate_choice=True, default="")
    resident = BooleanField(_l("Resident in the Netherlands"), default=True)
    address = LongTextField(_l("Address"), [Optional(), Length(max=2000)])
    email = TextField(
        _l("General email"), [Optional(), Length(max=254), Email(message=EMAIL_MESSAGE)]
    )
    protocol_contact = TextField(_l("Protocol contact"), [Optional(), Length(max=300)])
    notes = LongTextField(_l("Notes"), [Optional(), Length(max=5000)])
    version = HiddenField()


class PersonForm(FlaskForm):
    given_name = TextField(_l("Given name (Latin script)"), [Optional(), Length(max=200)])
    family_name = TextField(_l("Family name (Latin script)"), [DataRequired(), Length(max=200)])
    native_name = TextField(_l("Name in native script"), [Optional(), Length(max=300)])
    patronymic = TextField(_l("Patronymic"), [Optional(), Length(max=200)])
    gender = SelectField(
        _l("Gender (for the forms of address)"),
        choices=choices(GENDER_LABELS.items()),
        validate_choice=True,
        default="unknown",
    )
    email = TextField(_l("Email"), [Optional(), Length(max=254), Email(message=EMAIL_MESSAGE)])
    phone = TextField(_l("Phone"), [Optional(), Length(max=50)])
    language = SelectField(
        _l("Preferred language"),
        choices=choices(LANGUAGE_LABELS.items()),
        validate_choice=True,
        default="en",
    )
    relation = LongTextField(
        _l("Relation to a person buried at the Field (name, grave)"),
        [Optional(), Length(max=2000)],
    )
    notes = LongTextField(_l("Notes"), [Optional(), Length(max=5000)])
    version = HiddenField()


class AppointmentForm(FlaskForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int, validate_choice=True)
    role = SelectField(
        _l("Role"),
        choices=choices((k.value, v) for k, v in ROLE_LABELS.items()),
        validate_choice=True,
    )
    taken_up_on = DateField(
        _l("Functions taken up on (credentials accepted; for a chargé a.i. the notified date)"),
        [Optional()],
    )
    taken_up_time = TimeField(_l("at (time, Amsterdam)"), [Optional()], format=TIME_FORMATS)
    valid_from = DateField(_l("Valid from"), [Optional()])
    valid_to = DateField(_l("Valid to (inclusive)"), [Optional()])
    tie_break = IntegerField(
        _l("Manual tie-break (lower goes first)"),
        [InputRequired(), NumberRange(min=-1000, max=1000)],
        default=0,
    )

    def validate_taken_up_on(self, field: DateField) -> None:
        # It becomes an instant in Amsterdam: 0001-01-01 00:00 there is before year 1 in
        # UTC, which was a 500.
        if field.data is not None and not 1900 <= field.data.year <= 2200:
            raise ValidationError(field.gettext(WTFORMS_INVALID_DATE))

    def validate_taken_up_time(self, field: TimeField) -> None:
        if field.data is not None and self.taken_up_on.data is None:
            raise ValidationError(_l("Give the date as well."))


class GroupForm(FlaskForm):
    name = TextField(_l("Name"), [DataRequired(), Length(max=200)])


class MembershipForm(FlaskForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int, validate_choice=True)


class MergeForm(FlaskForm):
    other_id = SelectField(_l("Duplicate to merge into this one"), coerce=int, validate_choice=True)


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV file (UTF-8, header row)"),
        [
            FileRequired(_l("Choose a file.")),
            FileSize(
                MAX_IMPORT_BYTES,
                message=_l(
                    "The file is larger than %(size)d MB.", size=MAX_IMPORT_BYTES // 1024 // 1024
                ),
            ),
        ],
    )


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class PersonAddressForm(FlaskForm):
    """A person's own forms of address in one language; empty takes the defaults."""

    style = TextField(_l("Style before the name"), [Optional(), Length(max=200)])
    address_block = LongTextField(
        _l("Whole address block (one line a line; replaces style, name and function)"),
        [Optional(), Length(max=2000)],
    )
    salutation = TextField(_l("Salutation"), [Optional(), Length(max=300)])
    mention = TextField(_l("In running text"), [Optional(), Length(max=300)])
    name_dative = TextField(_l("Name in the dative (Russian)"), [Optional(), Length(max=300)])


class FormOfAddressForm(FlaskForm):
    """The defaults of one role, language and gender."""

    style = TextField(_l("Style before the name"), [Optional(), Length(max=200)])
    function_line = TextField(_l("Function line"), [Optional(), Length(max=300)])
    salutation = TextField(_l("Salutation"), [DataRequired(), Length(max=300)])
    mention = TextField(_l("In running text"), [Optional(), Length(max=300)])
