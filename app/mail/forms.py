"""Forms of the outbox: a draft's text, staff's mail texts, an edition's mail settings."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, FieldList, Form, FormField, HiddenField, IntegerField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import LongTextField, TextField

KIND_LABELS: dict[str, Any] = {
    "invitation": _l("Invitation"),
    "reminder": _l("Reminder"),
    "confirmation": _l("Confirmation of a reply"),
    "update": _l("Change notice"),
    "cancellation": _l("Cancellation"),
    "practical": _l("Practical note"),
}
STATUS_LABELS: dict[str, Any] = {
    "draft": _l("draft"),
    "queued": _l("queued"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
    "cancelled": _l("withdrawn"),
}


class TextForm(FlaskForm):
    """Staff's own text for one kind and language."""

    subject = TextField(_l("Subject"), [InputRequired(), Length(max=300)])
    body = LongTextField(_l("Text"), [InputRequired(), Length(max=20000)])


class MessageTextForm(TextForm):
    """One draft's text; ``version`` is the one the form was made from."""

    version = HiddenField()


class HostForm(Form):
    """One host: a name, and the function in each language, side by side. (A plain
    Form: the page's CSRF token covers it.)"""

    name = TextField(_l("Name"), [Length(max=200)])
    function_nl = TextField(_l("Function (Dutch)"), [Length(max=300)])
    function_en = TextField(_l("Function (English)"), [Length(max=300)])
    function_ru = TextField(_l("Function (Russian)"), [Length(max=300)])


# Room for the usual two hosts and a few more; empty rows are not saved.
HOST_ROWS = 4


class MailSettingsForm(FlaskForm):
    """What an edition's invitations say and when its reminders go."""

    rsvp_deadline = DateField(_l("Reply deadline"), [Optional()])
    hosts = FieldList(FormField(HostForm), min_entries=HOST_ROWS, max_entries=8)
    dress_code_nl = TextField(_l("Dress (Dutch)"), [Length(max=200)])
    dress_code_en = TextField(_l("Dress (English)"), [Length(max=200)])
    dress_code_ru = TextField(_l("Dress (Russian)"), [Length(max=200)])
    practical_notes_nl = LongTextField(_l("Practical notes of the day (Dutch)"), [Length(max=1000)])
    practical_notes_en = LongTextField(
        _l("Practical notes of the day (English)"), [Length(max=1000)]
    )
    practical_notes_ru = LongTextField(
        _l("Practical notes of the day (Russian)"), [Length(max=1000)]
    )
    reminder_days = IntegerField(
        _l("Remind those who have not replied, days before the deadline (empty: never)"),
        [Optional(), NumberRange(min=0, max=60)],
    )
    practical_days = IntegerField(
        _l("Practical note to accepted delegations, days before the ceremony (empty: never)"),
        [Optional(), NumberRange(min=0, max=60)],
    )
    version = HiddenField()


class CalendarReplyForm(FlaskForm):
    """A calendar reply someone forwarded, saved as an .eml file."""

    message = FileField(_l("Email with the calendar reply (.eml)"))


class ConfirmReplyForm(FlaskForm):
    """The reply read from a dropped .eml, signed, to apply once staff have looked."""

    reply = HiddenField()


REVIEW_REASON_LABELS: dict[str, Any] = {
    "not_invited": _l("this address was not invited to the edition"),
    "cancelled": _l("the ceremony is cancelled"),
    "sender_differs": _l("the sender is not the invited address"),
    "not_authenticated": _l("the sender's domain was not authenticated (DKIM/DMARC)"),
    "older_sequence": _l("answers an older version of the edition"),
    "newer_sequence": _l("answers a version we never sent"),
    "tentative": _l("tentative: phone them to ask"),
    "not_an_answer": _l("neither accepts nor declines"),
    "deadline_passed": _l("the deadline has passed"),
    "refused": _l("refused by a rule of the reply page"),
}
PARTSTAT_LABELS: dict[str, Any] = {
    "ACCEPTED": _l("accepts"),
    "DECLINED": _l("declines"),
    "TENTATIVE": _l("tentative"),
}
REVIEW_STATUS_LABELS: dict[str, Any] = {
    "pending": _l("to review"),
    "applied": _l("applied"),
    "discarded": _l("discarded"),
}


class LetterBodyForm(FlaskForm):
    """Staff's own body of the invitation letter for one invitation kind and language."""

    body = LongTextField(_l("Text"), [InputRequired(), Length(max=5000)])
