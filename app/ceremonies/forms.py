"""Forms of the ceremony planner."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.ceremonies.models import ItemKind, OrganiserRole
from app.forms import LongTextField, TextField, choices

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MESSAGE = _l("Use lower-case letters, digits and single hyphens only.")
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
# WTForms' own message, translated by its catalogue (a name, so Babel leaves it out of ours).
WTFORMS_INVALID_DATE = "Not a valid date value."

ITEM_KIND_LABELS: dict[ItemKind, Any] = {
    ItemKind.ASSEMBLY: _l("Assembly"),
    ItemKind.MARCH: _l("Silent march"),
    ItemKind.BELLS: _l("Bells"),
    ItemKind.SPEECH: _l("Speech"),
    ItemKind.POEM: _l("Poem"),
    ItemKind.MUSIC: _l("Music"),
    ItemKind.TAPTOE: _l("Taptoe"),
    ItemKind.SILENCE: _l("Silence"),
    ItemKind.ANTHEM: _l("Anthem"),
    ItemKind.WREATH_LAYING: _l("Wreath laying"),
    ItemKind.CANDLES: _l("Candles"),
    ItemKind.DEFILE: _l("Defilé"),
    ItemKind.PROCESSION: _l("Procession"),
    ItemKind.RECEPTION: _l("Reception"),
    ItemKind.OTHER: _l("Other"),
}

ORGANISER_ROLE_LABELS: dict[OrganiserRole, Any] = {
    OrganiserRole.ORGANISED: _l("organised by the foundation"),
    OrganiserRole.CO_HOSTED: _l("co-hosted"),
    OrganiserRole.FACILITATED: _l("facilitated"),
}


class TitlesMixin:
    title_nl = TextField(_l("Title (Dutch)"), [DataRequired(), Length(max=200)])
    title_en = TextField(_l("Title (English)"), [DataRequired(), Length(max=200)])
    title_ru = TextField(_l("Title (Russian)"), [Optional(), Length(max=200)])


class CeremonyForm(TitlesMixin, FlaskForm):
    """An edition's details; ``version`` carries the version the form was made from."""

    day = DateField(_l("Date"), [InputRequired()])
    start_time = TimeField(_l("Start"), [InputRequired()], format=TIME_FORMATS)
    end_time = TimeField(_l("End"), [InputRequired()], format=TIME_FORMATS)
    venue_id = SelectField(_l("Venue"), coerce=int, validate_choice=True)
    public = BooleanField(_l("Public (otherwise by invitation only)"), default=True)
    base_year = IntegerField(
        _l("Base year of the anniversary"), [Optional(), NumberRange(min=1800, max=2200)]
    )
    notes = LongTextField(_l("Notes"), [Optional(), Length(max=5000)])
    version = HiddenField()

    def validate_day(self, field: DateField) -> None:
        # The years editions are made for (as in FromSeriesForm and CopyForm): 0001-01-01
        # at 00:00 in Amsterdam is before year 1 in UTC, which was a 500.
        if field.data is not None and not 1945 <= field.data.year <= 2200:
            raise ValidationError(field.gettext(WTFORMS_INVALID_DATE))


class OneOffForm(CeremonyForm):
    """A one-off edition: its slug may be given or is made from the title."""

    slug = TextField(
        _l("Slug"), [Optional(), Length(max=80), Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)]
    )


class FromSeriesForm(FlaskForm):
    series_id = SelectField(_l("Series"), coerce=int, validate_choice=True)
    year = IntegerField(_l("Year"), [InputRequired(), NumberRange(min=1945, max=2200)])


class CopyForm(FlaskForm):
    year = IntegerField(_l("Copy to year"), [InputRequired(), NumberRange(min=1945, max=2200)])


class VersionedActionForm(FlaskForm):
    """A button that changes an edition; it carries the version it was shown with."""

    version = HiddenField()


class ProgrammeItemForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=choices((k.value, v) for k, v in ITEM_KIND_LABELS.items()),
        validate_choice=True,
    )
    start_time = TimeField(_l("Start time"), [Optional()], format=TIME_FORMATS)
    offset_minutes = IntegerField(
        _l("or minutes after the start"), [Optional(), NumberRange(min=-720, max=1440)]
    )
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), [InputRequired(), NumberRange(min=0, max=1440)], default=0
    )
    performer_nl = TextField(_l("Performer (Dutch)"), [Optional(), Length(max=200)])
    performer_en = TextField(_l("Performer (English)"), [Optional(), Length(max=200)])
    performer_ru = TextField(_l("Performer (Russian)"), [Optional(), Length(max=200)])
    # No Optional(): it would stop the chain before validate_text_nl when this is empty.
    text_nl = TextField(_l("Text (Dutch)"), [Length(max=500)])
    text_en = TextField(_l("Text (English)"), [Optional(), Length(max=500)])
    text_ru = TextField(_l("Text (Russian)"), [Optional(), Length(max=500)])
    printable = BooleanField(_l("Printed on the programme"), default=True)
    version = HiddenField()

    def validate_text_nl(self, field: TextField) -> None:
        if not (self.text_nl.data or self.text_en.data or self.text_ru.data):
            raise ValidationError(_l("Give the item a text in at least one language."))


class SeriesForm(TitlesMixin, FlaskForm):
    slug = TextField(
        _l("Slug"), [DataRequired(), Length(max=60), Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)]
    )
    month = SelectField(_l("Month"), coerce=int, choices=choices((m, str(m)) for m in range(1, 13)))
    day = IntegerField(_l("Day"), [InputRequired(), NumberRange(min=1, max=31)])
    start_time = TimeField(_l("Usual start"), [InputRequired()], format=TIME_FORMATS)
    duration_minutes = IntegerField(
        _l("Usual duration (minutes)"), [InputRequired(), NumberRange(min=1, max=1440)]
    )
    venue_id = SelectField(_l("Usual venue"), coerce=int, validate_choice=True)
    base_year = IntegerField(
        _l("Base year of the anniversary"), [Optional(), NumberRange(min=1800, max=2200)]
    )
    organiser_role = SelectField(
        _l("The foundation's role"),
        choices=choices((k.value, v) for k, v in ORGANISER_ROLE_LABELS.items()),
        validate_choice=True,
    )
    public = BooleanField(_l("Public"), default=True)
    active = BooleanField(_l("Active (scheduled every year)"), default=True)

    def validate_day(self, field: IntegerField) -> None:
        days_in_month = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        month = self.month.data  # a forged month outside 1-12 is the month field's error
        if month in range(1, 13) and field.data and field.data > days_in_month[month - 1]:
            raise ValidationError(_l("This month has no day %(day)d.", day=field.data))


class VenueForm(FlaskForm):
    name = TextField(_l("Name"), [DataRequired(), Length(max=200)])
    address = TextField(_l("Address"), [Optional(), Length(max=500)])
    latitude = FloatField(_l("Latitude"), [Optional(), NumberRange(min=-90, max=90)])
    longitude = FloatField(_l("Longitude"), [Optional(), NumberRange(min=-180, max=180)])
    timezone = TextField(
        _l("Time zone"), [DataRequired(), Length(max=64)], default="Europe/Amsterdam"
    )
    notes = LongTextField(
        _l("Internal notes (never shown to guests)"), [Optional(), Length(max=5000)]
    )
    access_notes_nl = LongTextField(
        _l("Access and parking for guests (Dutch)"), [Optional(), Length(max=1000)]
    )
    access_notes_en = LongTextField(
        _l("Access and parking for guests (English)"), [Optional(), Length(max=1000)]
    )
    access_notes_ru = LongTextField(
        _l("Access and parking for guests (Russian)"), [Optional(), Length(max=1000)]
    )

    def validate_timezone(self, field: TextField) -> None:
        if field.data not in available_timezones():
            raise ValidationError(_l("Not a known time zone (e.g. Europe/Amsterdam)."))

    def validate_latitude(self, field: FloatField) -> None:
        # Optional() skips validate_longitude when the longitude is empty: check it here.
        if field.data is not None and not (self.longitude.raw_data or [""])[0].strip():
            raise ValidationError(_l("Give both latitude and longitude, or neither."))

    def validate_longitude(self, field: FloatField) -> None:
        if (field.data is None) != (self.latitude.data is None):
            raise ValidationError(_l("Give both latitude and longitude, or neither."))
