# mypy: disallow-subclassing-any=False
"""Forms of the delegation's RSVP page; each carries the version it was made from."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.forms import LongTextField, TextField, choices
from app.invitations.models import MemberRole, WreathChoice

MEMBER_ROLE_LABELS: dict[MemberRole, Any] = {
    MemberRole.WREATH_LAYER: _l("Wreath layer"),
    MemberRole.WREATH_BEARER: _l("Wreath bearer"),
    MemberRole.SPEAKER: _l("Speaker"),
    MemberRole.ATTENDEE: _l("Attendee"),
}

WREATH_LABELS: dict[WreathChoice, Any] = {
    WreathChoice.OWN: _l("We bring our own wreath"),
    WreathChoice.ORDER: _l("Please order a wreath for us"),
    WreathChoice.NONE: _l("No wreath"),
    WreathChoice.PROXY: _l("Laid by the foundation on your behalf"),
}

# Letters of any script, digits, spaces and hyphens: plates of every country.
CAR_PLATE = r"^[\w -]*$"


class VersionedForm(FlaskForm):
    """A form, or a bare button, that changes the invitation it was shown with."""

    version = HiddenField()


class ReplyForm(VersionedForm):
    """Accept or decline; the head of the delegation when nobody is named yet."""

    answer = HiddenField()  # set by the button pressed: "accept" or "decline"
    head_name = TextField(_l("Head of the delegation"), [Optional(), Length(max=300)])
    head_function = TextField(_l("Function"), [Optional(), Length(max=300)])


class MemberForm(VersionedForm):
    name = TextField(_l("Name"), [DataRequired(), Length(max=300)])
    function = TextField(_l("Function"), [Optional(), Length(max=300)])
    role = SelectField(
        _l("Role in the ceremony"),
        choices=choices((role.value, label) for role, label in MEMBER_ROLE_LABELS.items()),
        default=MemberRole.ATTENDEE.value,
        validate_choice=True,
    )
    car_plate = TextField(
        _l("Car plate (for parking, optional)"),
        [
            Optional(),
            Length(max=20),
            Regexp(CAR_PLATE, message=_l("Use letters, digits, spaces and hyphens only.")),
        ],
        # Checked as stored: upper case can be longer ("ß" is "SS"), over 20 was a 500.
        filters=[lambda plate: plate.upper() if plate else plate],
    )


class DetailsForm(VersionedForm):
    wreath = RadioField(
        _l("Wreath"),
        choices=choices(
            (choice.value, WREATH_LABELS[choice])
            for choice in (WreathChoice.OWN, WreathChoice.ORDER, WreathChoice.NONE)
        ),
        default=WreathChoice.NONE.value,
        validate_choice=True,
    )
    ribbon_text = LongTextField(
        _l("Ribbon text (any script)"), [Optional(), Length(max=300)], render_kw={"rows": 2}
    )
    ribbon_colours = TextField(_l("Ribbon colours"), [Optional(), Length(max=100)])
    accessibility = LongTextField(
        _l("Accessibility needs (wheelchair, seating, ...)"),
        [Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )
    remark = LongTextField(_l("Remark"), [Optional(), Length(max=2000)], render_kw={"rows": 3})
