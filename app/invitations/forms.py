"""Forms of the invitation pages: policies, new invitations, edits, replies, delegations."""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.contacts.models import OrganisationKind
from app.forms import LongTextField, TextField, choices
from app.invitations.models import (
    InvitationKind,
    InvitationStatus,
    MemberRole,
    PolicyDecision,
    WreathChoice,
)

DECISION_LABELS: dict[PolicyDecision, Any] = {
    PolicyDecision.INVITE: _l("invite"),
    PolicyDecision.PROXY_ONLY: _l("wreath by proxy only"),
    PolicyDecision.DO_NOT_INVITE: _l("do not invite"),
}

KIND_LABELS: dict[InvitationKind, Any] = {
    InvitationKind.RSVP: _l("R.S.V.P."),
    InvitationKind.REGRETS_ONLY: _l("regrets only"),
    InvitationKind.PM: _l("p.m. (agreed by phone)"),
    InvitationKind.PROXY: _l("wreath by proxy"),
}

STATUS_LABELS: dict[InvitationStatus, Any] = {
    InvitationStatus.DRAFT: _l("draft"),
    InvitationStatus.SENT: _l("sent"),
    InvitationStatus.VIEWED: _l("viewed"),
    InvitationStatus.ACCEPTED: _l("accepted"),
    InvitationStatus.DECLINED: _l("declined"),
    InvitationStatus.NO_REPLY: _l("no reply"),
}

WREATH_LABELS: dict[WreathChoice, Any] = {
    WreathChoice.NONE: _l("no wreath"),
    WreathChoice.OWN: _l("brings its own"),
    WreathChoice.ORDER: _l("ordered by the foundation"),
    WreathChoice.PROXY: _l("laid by proxy by staff"),
}

MEMBER_ROLE_LABELS: dict[MemberRole, Any] = {
    MemberRole.WREATH_LAYER: _l("wreath layer"),
    MemberRole.WREATH_BEARER: _l("wreath bearer"),
    MemberRole.SPEAKER: _l("speaker"),
    MemberRole.ATTENDEE: _l("attendee"),
}

LANGUAGE_LABELS: dict[str, Any] = {"nl": _l("Dutch"), "en": _l("English"), "ru": _l("Russian")}

ORGANISATION_KIND_LABELS: dict[OrganisationKind, Any] = {
    OrganisationKind.EMBASSY: _l("embassies"),
    OrganisationKind.CONSULATE: _l("consulates"),
    OrganisationKind.MUNICIPALITY: _l("municipalities"),
    OrganisationKind.PROVINCE: _l("provinces"),
    OrganisationKind.MINISTRY: _l("ministries"),
    OrganisationKind.ARMED_FORCES: _l("armed forces"),
    OrganisationKind.SCHOOL: _l("schools"),
    OrganisationKind.VETERANS: _l("veterans' and remembrance organisations"),
    OrganisationKind.MUSEUM: _l("museums"),
    OrganisationKind.FOUNDATION: _l("foundations"),
    OrganisationKind.FAMILY: _l("families"),
    OrganisationKind.OTHER: _l("other organisations"),
}

# Replies staff record: only these two answers.
ANSWERS = (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED)
MAX_MEMBERS = 40
BLANK_MEMBER_ROWS = 3


def _countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes (Babel also lists regions such as 001, EU and ZZ)."""
    not_countries = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
    return frozenset(
        str(code)
        for code in Locale("en").territories
        if len(str(code)) == 2 and str(code) not in not_countries
    )


COUNTRY_CODES = _countries()


def kind_choices() -> list[Any]:
    return choices((k.value, v) for k, v in KIND_LABELS.items())


class PolicyForm(FlaskForm):
    """A policy for one organisation or one country of an edition."""

    target = RadioField(
        _l("For"),
        choices=choices([("organisation", _l("an organisation")), ("country", _l("a country"))]),
        default="organisation",
        validate_choice=True,
    )
    organisation_id = SelectField(_l("Organisation"), coerce=int, validate_choice=True)
    # No Optional(): it would stop the chain before validate_country when this is empty.
    country = TextField(_l("Country (ISO code, e.g. RU)"), [Length(max=2)])
    decision = SelectField(
        _l("Decision"),
        choices=choices((k.value, v) for k, v in DECISION_LABELS.items()),
        validate_choice=True,
    )
    reason = LongTextField(_l("Internal reason"), [DataRequired(), Length(max=2000)])

    def validate_organisation_id(self, field: SelectField) -> None:
        if self.target.data == "organisation" and not field.data:
            raise ValidationError(_l("Choose an organisation."))

    def validate_country(self, field: TextField) -> None:
        if self.target.data != "country":
            return
        code = (field.data or "").upper()
        if not code:
            raise ValidationError(_l("Give the country's two-letter code."))
        if code not in COUNTRY_CODES:
            raise ValidationError(_l("%(code)s is not a country code.", code=code))
        field.data = code


class BulkForm(FlaskForm):
    """Invite every organisation of some groups and kinds."""

    groups = SelectMultipleField(_l("Groups"), coerce=int, validate_choice=True)
    kinds = SelectMultipleField(
        _l("Kinds of organisation"),
        choices=choices((k.value, v) for k, v in ORGANISATION_KIND_LABELS.items()),
        validate_choice=True,
    )

    def validate_groups(self, field: SelectMultipleField) -> None:
        if not field.data and not self.kinds.data:
            raise ValidationError(_l("Choose at least one group or kind."))


class NewInvitationForm(FlaskForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int, validate_choice=True)
    kind = SelectField(_l("Kind"), choices=kind_choices(), validate_choice=True)
    rsvp_deadline = DateField(_l("Reply deadline (empty: the edition's)"), [Optional()])
    cohosts = TextField(_l("Co-hosts on the letter (empty: the edition's)"), [Length(max=500)])


class EditInvitationForm(FlaskForm):
    """Everything staff may change; ``version`` is the one the form was made from."""

    addressee_id = SelectField(_l("Addressee"), coerce=int, validate_choice=True)
    language = SelectField(
        _l("Language"),
        choices=choices(LANGUAGE_LABELS.items()),
        validate_choice=True,
    )
    kind = SelectField(_l("Kind"), choices=kind_choices(), validate_choice=True)
    rsvp_deadline = DateField(_l("Reply deadline"), [Optional()])
    cohosts = TextField(_l("Co-hosts on the letter"), [Length(max=500)])
    status = SelectField(
        _l("Status"),
        choices=choices((k.value, v) for k, v in STATUS_LABELS.items()),
        validate_choice=True,
    )
    accessibility = LongTextField(_l("Accessibility needs"), [Length(max=2000)])
    remark = LongTextField(_l("Internal remark"), [Length(max=5000)])
    version = HiddenField()


class ReplyForm(FlaskForm):
    """A reply staff record on the delegation's behalf, with its document."""

    answer = RadioField(
        _l("Answer"),
        [InputRequired(message=_l("Choose accepted or declined."))],
        choices=choices((s.value, STATUS_LABELS[s]) for s in ANSWERS),
        validate_choice=True,
    )
    note = LongTextField(_l("Note (phone call, note verbale...)"), [Length(max=5000)])
    document = FileField(_l("Document (PDF, PNG or JPEG, up to 3 MB)"))
    version = HiddenField()


class MemberForm(Form):
    """One row of the delegation; a row without a name is dropped (or refused if filled)."""

    name = TextField(_l("Name"), [Length(max=300)])
    function = TextField(_l("Function"), [Length(max=300)])
    role = SelectField(
        _l("Role"),
        choices=choices((k.value, v) for k, v in MEMBER_ROLE_LABELS.items()),
        default=MemberRole.ATTENDEE.value,
        validate_choice=True,
    )
    car_plate = TextField(_l("Car plate"), [Length(max=20)])

    def validate_name(self, field: TextField) -> None:
        if not field.data and (self.function.data or self.car_plate.data):
            raise ValidationError(_l("Give the member's name (or empty the row)."))


class DelegationForm(FlaskForm):
    members = FieldList(FormField(MemberForm))
    wreath = SelectField(
        _l("Wreath"),
        choices=choices((k.value, v) for k, v in WREATH_LABELS.items()),
        validate_choice=True,
    )
    ribbon_text = TextField(_l("Ribbon text"), [Length(max=300)])
    ribbon_colours = TextField(_l("Ribbon colours"), [Length(max=100)])
    version = HiddenField()

    def validate_members(self, field: FieldList) -> None:
        named = [entry for entry in field.entries if entry.form.name.data]
        if len(named) > MAX_MEMBERS:
            raise ValidationError(
                _l("A delegation has at most %(count)d members.", count=MAX_MEMBERS)
            )
